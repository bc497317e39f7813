// Backlog against a reference model: the whole stream kept in a std::string.
// Random appends (tiny to larger than the capacity), resizes and resets; after
// each step every servable offset must return exactly the model's suffix and
// every other offset must be refused.
#include "replication/backlog.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "store/db.h"

namespace ragkv::replication {
namespace {

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Checks `b` against the model stream `all` whose first byte has offset
// `base` + 1.
void CheckAgainstModel(const Backlog& b, const std::string& all, int64_t base) {
  const int64_t end = base + static_cast<int64_t>(all.size());
  ASSERT_EQ(b.offset(), end);
  ASSERT_LE(b.histlen(), b.capacity());
  ASSERT_EQ(b.first_byte_offset(), end - static_cast<int64_t>(b.histlen()) + 1);
  EXPECT_FALSE(b.CanServe(b.first_byte_offset() - 1));
  EXPECT_FALSE(b.CanServe(end + 2));
  for (int64_t from = b.first_byte_offset(); from <= end + 1; ++from) {
    ASSERT_TRUE(b.CanServe(from)) << from;
    std::string got;
    b.CopyFrom(from, &got);
    ASSERT_EQ(got, all.substr(static_cast<size_t>(from - base - 1))) << "from " << from;
  }
}

TEST(BacklogTest, EmptyServesOnlyTheNextByte) {
  Backlog b(16);
  EXPECT_EQ(b.offset(), 0);
  EXPECT_EQ(b.histlen(), 0u);
  EXPECT_EQ(b.first_byte_offset(), 1);
  EXPECT_TRUE(b.CanServe(1));
  EXPECT_FALSE(b.CanServe(0));
  EXPECT_FALSE(b.CanServe(2));
  std::string out;
  b.CopyFrom(1, &out);
  EXPECT_EQ(out, "");
}

TEST(BacklogTest, KeepsTheNewestBytesAcrossWraps) {
  Backlog b(8);
  b.Append("abcdef");
  b.Append("ghij");  // wraps: holds "cdefghij"
  EXPECT_EQ(b.offset(), 10);
  EXPECT_EQ(b.first_byte_offset(), 3);
  std::string out;
  b.CopyFrom(3, &out);
  EXPECT_EQ(out, "cdefghij");
  EXPECT_FALSE(b.CanServe(2));
}

TEST(BacklogTest, AppendLargerThanCapacityKeepsItsTail) {
  Backlog b(4);
  b.Append("xy");
  b.Append("0123456789");
  std::string out;
  b.CopyFrom(b.first_byte_offset(), &out);
  EXPECT_EQ(out, "6789");
  EXPECT_EQ(b.offset(), 12);
}

TEST(BacklogTest, MatchesModelUnderRandomOperations) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    Backlog b(1 + rng() % 64);
    std::string all;
    int64_t base = 0;
    for (int step = 0; step < 300; ++step) {
      int op = static_cast<int>(rng() % 20);
      if (op == 0) {
        b.Resize(1 + rng() % 64);
      } else if (op == 1) {
        base += static_cast<int64_t>(all.size()) + static_cast<int64_t>(rng() % 1000);
        all.clear();
        b.Reset(base);
      } else {
        size_t n = rng() % 3 == 0 ? rng() % 150 : rng() % 10;
        std::string bytes = RandomBytes(rng, n);
        b.Append(bytes);
        all += bytes;
      }
      ASSERT_NO_FATAL_FAILURE(CheckAgainstModel(b, all, base))
          << "seed " << seed << " step " << step;
    }
  }
}

TEST(BacklogTest, ResizeKeepsTheNewestBytesThatFit) {
  Backlog b(10);
  b.Append("0123456789");
  b.Resize(4);
  std::string out;
  b.CopyFrom(b.first_byte_offset(), &out);
  EXPECT_EQ(out, "6789");
  b.Resize(20);
  b.Append("ab");
  out.clear();
  b.CopyFrom(b.first_byte_offset(), &out);
  EXPECT_EQ(out, "6789ab");
  EXPECT_EQ(b.offset(), 12);
}

}  // namespace
}  // namespace ragkv::replication

namespace ragkv::replication {
namespace {

// The follower's expiry rule in the store: hidden for clients, present for
// the leader's stream, deleted only in the default mode.
TEST(ExpiryModeTest, FollowersHideButKeepExpiredKeys) {
  store::Keyspace ks(1);
  ks.set_now_ms(1000);
  store::Db& db = ks.db(0);
  db.Set("k", store::Object(std::string("v")));
  db.SetExpire("k", 1500);
  ks.set_now_ms(2000);
  ks.set_expiry_mode(store::ExpiryMode::kHide);
  EXPECT_EQ(db.Find("k"), nullptr);
  EXPECT_EQ(db.size(), 1u);
  ks.set_expiry_mode(store::ExpiryMode::kKeep);
  ASSERT_NE(db.Find("k"), nullptr);
  EXPECT_EQ(db.Find("k")->str(), "v");
  ks.set_expiry_mode(store::ExpiryMode::kDelete);
  EXPECT_EQ(db.Find("k"), nullptr);
  EXPECT_EQ(db.size(), 0u);
}

}  // namespace
}  // namespace ragkv::replication
