// PostingList against std::set under seeded random adds and removes: mostly
// increasing ids (how FT indexes assign them), some re-added old ids (a key
// re-indexed under its id), and removals heavy enough to force compactions.
#include "index/text/posting_list.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

namespace ragkv::text {
namespace {

void ExpectSame(const PostingList& list, const std::set<uint64_t>& ref) {
  ASSERT_EQ(list.size(), ref.size());
  EXPECT_EQ(list.empty(), ref.empty());
  std::vector<uint64_t> got;
  list.AppendTo(&got);
  EXPECT_EQ(got, std::vector<uint64_t>(ref.begin(), ref.end()));
  std::vector<uint64_t> each;
  list.ForEach([&](uint64_t id) { each.push_back(id); });
  EXPECT_EQ(each, got);
}

TEST(PostingListTest, RandomOpsMatchStdSet) {
  for (uint64_t seed : {1, 2, 3}) {
    std::mt19937_64 rng(seed);
    PostingList list;
    std::set<uint64_t> ref;
    uint64_t next = 1;
    for (int step = 0; step < 20000; ++step) {
      const uint64_t roll = rng() % 10;
      if (roll < 5) {
        const uint64_t id = next;
        next += 1 + rng() % 3;
        EXPECT_EQ(list.Add(id), ref.insert(id).second);
      } else if (roll < 7) {
        const uint64_t id = 1 + rng() % next;  // old, possibly removed or present
        EXPECT_EQ(list.Add(id), ref.insert(id).second) << "re-add " << id;
      } else {
        const uint64_t id = 1 + rng() % next;
        EXPECT_EQ(list.Remove(id), ref.erase(id) == 1) << "remove " << id;
      }
      const uint64_t probe = rng() % (next + 1);
      ASSERT_EQ(list.Contains(probe), ref.count(probe) == 1) << "probe " << probe;
      if (step % 997 == 0) ExpectSame(list, ref);
    }
    ExpectSame(list, ref);
  }
}

TEST(PostingListTest, RemoveEverythingThenReAdd) {
  PostingList list;
  for (uint64_t id = 1; id <= 1000; ++id) ASSERT_TRUE(list.Add(id));
  EXPECT_FALSE(list.Add(500));
  for (uint64_t id = 1000; id >= 1; --id) ASSERT_TRUE(list.Remove(id));
  EXPECT_TRUE(list.empty());
  EXPECT_FALSE(list.Remove(7));
  EXPECT_FALSE(list.Contains(7));
  ASSERT_TRUE(list.Add(7));
  ASSERT_TRUE(list.Add(3));
  std::vector<uint64_t> got;
  list.AppendTo(&got);
  EXPECT_EQ(got, (std::vector<uint64_t>{3, 7}));
}

}  // namespace
}  // namespace ragkv::text
