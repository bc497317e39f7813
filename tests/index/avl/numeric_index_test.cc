#include "index/avl/numeric_index.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <utility>
#include <vector>

#include "index/avl/test_scale.h"

namespace ragkv::avl {
namespace {

using testing::Scaled;
constexpr double kInf = std::numeric_limits<double>::infinity();

bool InRange(double v, const ScoreRange& r) {
  const bool above = r.min.exclusive ? v > r.min.value : v >= r.min.value;
  const bool below = r.max.exclusive ? v < r.max.value : v <= r.max.value;
  return above && below;
}

std::vector<uint64_t> Docs(const NumericIndex& index, const ScoreRange& r) {
  std::vector<uint64_t> docs;
  index.Visit(r, [&](uint64_t doc, double) {
    docs.push_back(doc);
    return true;
  });
  return docs;
}

TEST(NumericIndexTest, RangesWithExclusiveAndInfiniteBounds) {
  NumericIndex index;
  EXPECT_TRUE(index.Add(1, 10));
  EXPECT_TRUE(index.Add(2, 20));
  EXPECT_TRUE(index.Add(2, 21));
  EXPECT_TRUE(index.Add(-kInf, 30));
  EXPECT_TRUE(index.Add(0.0, 40));
  EXPECT_FALSE(index.Add(2, 20));  // the same pair twice
  EXPECT_FALSE(index.Add(std::nan(""), 50));
  EXPECT_EQ(index.size(), 5u);
  EXPECT_EQ(Docs(index, *ParseScoreRange("-inf", "+inf")),
            (std::vector<uint64_t>{30, 40, 10, 20, 21}));
  EXPECT_EQ(Docs(index, *ParseScoreRange("(1", "2")), (std::vector<uint64_t>{20, 21}));
  EXPECT_EQ(index.Count(*ParseScoreRange("(-inf", "(2")), 2u);
  EXPECT_EQ(index.Count(*ParseScoreRange("3", "1")), 0u);
  // -0.0 and 0.0 are one value.
  EXPECT_EQ(index.Count(*ParseScoreRange("-0", "0")), 1u);
  EXPECT_TRUE(index.Remove(-0.0, 40));
  EXPECT_FALSE(index.Remove(2, 99));
  // Early stop.
  size_t seen = 0;
  index.Visit(*ParseScoreRange("-inf", "inf"), [&](uint64_t, double) { return ++seen < 2; });
  EXPECT_EQ(seen, 2u);
  EXPECT_GT(index.MemoryUsage(), 0u);
  EXPECT_TRUE(index.CheckInvariants().ok());
}

TEST(NumericIndexTest, RandomOperationsMatchBruteForce) {
  std::mt19937_64 rng(17);
  NumericIndex index;
  std::set<std::pair<double, uint64_t>> ref;
  const double values[] = {-kInf, -3, -1.5, 0, 0.5, 1, 2, 2, 7, 1e9, kInf};
  for (size_t i = 0; i < Scaled(200000); ++i) {
    const double v = values[rng() % std::size(values)];
    const uint64_t doc = rng() % 500;
    if (rng() % 3 != 0) {
      ASSERT_EQ(index.Add(v, doc), ref.emplace(v, doc).second);
    } else {
      ASSERT_EQ(index.Remove(v, doc), ref.erase({v, doc}) == 1);
    }
    if (i % 97 == 0) {
      const ScoreRange r{{values[rng() % std::size(values)], rng() % 2 == 0},
                         {values[rng() % std::size(values)], rng() % 2 == 0}};
      std::vector<uint64_t> want;
      for (const auto& [value, d] : ref) {
        if (InRange(value, r)) want.push_back(d);
      }
      ASSERT_EQ(index.Count(r), want.size());
      ASSERT_EQ(Docs(index, r), want);
    }
  }
  EXPECT_TRUE(index.CheckInvariants().ok());
  EXPECT_EQ(index.size(), ref.size());
  NumericIndex moved(std::move(index));
  EXPECT_EQ(moved.size(), ref.size());
  EXPECT_TRUE(moved.CheckInvariants().ok());
}

}  // namespace
}  // namespace ragkv::avl
