#include "index/avl/sorted_set.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "index/avl/test_scale.h"

namespace ragkv::avl {
namespace {

using testing::Scaled;
using Pairs = std::vector<std::pair<std::string, double>>;
constexpr double kInf = std::numeric_limits<double>::infinity();

// "prefix<n>". (Not `"m" + std::to_string(i)`: g++ 12 warns falsely about it
// under -Wrestrict, GCC bug 105329.)
std::string Name(std::string_view prefix, uint64_t n) {
  std::string s(prefix);
  s += std::to_string(n);
  return s;
}

// ---- Naive model: std::map member -> score, sorted vector built on demand ----

class NaiveZSet {
 public:
  AddOutcome Add(const std::string& member, double score, AddFlags flags) {
    auto it = m_.find(member);
    if (it == m_.end()) {
      if (flags.xx) return {AddResult::kNotApplied, 0};
      m_[member] = score;
      return {AddResult::kAdded, score};
    }
    const double current = it->second;
    if (flags.nx) return {AddResult::kNotApplied, current};
    const double wanted = flags.incr ? current + score : score;
    if (std::isnan(wanted)) return {AddResult::kNan, current};
    if (flags.gt && !(wanted > current)) return {AddResult::kNotApplied, current};
    if (flags.lt && !(wanted < current)) return {AddResult::kNotApplied, current};
    if (wanted == current) return {AddResult::kUnchanged, current};
    it->second = wanted;
    return {AddResult::kUpdated, wanted};
  }
  bool Remove(const std::string& member) { return m_.erase(member) == 1; }
  const std::map<std::string, double>& map() const { return m_; }

  // All (member, score) pairs in Redis order: score, then member bytes.
  Pairs Sorted() const {
    Pairs v(m_.begin(), m_.end());
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      if (a.second != b.second) return a.second < b.second;
      return a.first < b.first;  // std::string compares bytes as unsigned char
    });
    return v;
  }
  void Erase(const Pairs& gone) {
    for (const auto& [member, score] : gone) m_.erase(member);
  }

 private:
  std::map<std::string, double> m_;
};

bool InScoreRange(double s, const ScoreRange& r) {
  const bool above_min = r.min.exclusive ? s > r.min.value : s >= r.min.value;
  const bool below_max = r.max.exclusive ? s < r.max.value : s <= r.max.value;
  return above_min && below_max;
}

bool InLexRange(const std::string& m, const LexRange& r) {
  using Kind = LexBound::Kind;
  bool above_min = false;
  switch (r.min.kind) {
    case Kind::kNegativeInfinity: above_min = true; break;
    case Kind::kPositiveInfinity: above_min = false; break;
    case Kind::kInclusive: above_min = m >= r.min.value; break;
    case Kind::kExclusive: above_min = m > r.min.value; break;
  }
  bool below_max = false;
  switch (r.max.kind) {
    case Kind::kNegativeInfinity: below_max = false; break;
    case Kind::kPositiveInfinity: below_max = true; break;
    case Kind::kInclusive: below_max = m <= r.max.value; break;
    case Kind::kExclusive: below_max = m < r.max.value; break;
  }
  return above_min && below_max;
}

// Visiting order, then LIMIT offset count, the way ZRANGE describes it.
Pairs ModelLimit(Pairs in_order, bool reverse, int64_t offset, int64_t count) {
  if (reverse) std::reverse(in_order.begin(), in_order.end());
  if (offset < 0) return {};
  Pairs out;
  for (size_t i = static_cast<size_t>(offset); i < in_order.size(); ++i) {
    if (count >= 0 && out.size() == static_cast<size_t>(count)) break;
    out.push_back(in_order[i]);
  }
  return out;
}

Pairs VisitAll(const SortedSet& z, RankWindow w, bool reverse) {
  Pairs out;
  z.Visit(w, reverse, [&](std::string_view m, double s) { out.emplace_back(std::string(m), s); });
  return out;
}

Pairs Everything(const SortedSet& z) {
  Pairs out;
  z.ForEach([&](std::string_view m, double s) { out.emplace_back(std::string(m), s); });
  return out;
}

// A full ZSCAN with the given batch size; returns every member seen, in order.
std::vector<std::string> FullScan(const SortedSet& z, size_t count) {
  std::vector<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = z.Scan(cursor, count, [&](std::string_view m, double) { seen.emplace_back(m); });
  } while (cursor != 0);
  return seen;
}

// ---- Parsing ----------------------------------------------------------------

TEST(SortedSetParseTest, ScoreBounds) {
  struct Case {
    const char* text;
    double value;
    bool exclusive;
  };
  for (const Case& c : std::vector<Case>{{"1.5", 1.5, false},
                                         {"(1.5", 1.5, true},
                                         {"-inf", -kInf, false},
                                         {"+inf", kInf, false},
                                         {"inf", kInf, false},
                                         {"(-inf", -kInf, true},
                                         {"-3", -3, false},
                                         {"1e3", 1000, false},
                                         {" 2", 2, false},  // strtod skips spaces
                                         {"", 0, false},    // Redis quirk: strtod("") == 0
                                         {"(", 0, true}}) {
    auto b = ParseScoreBound(c.text);
    ASSERT_TRUE(b.ok()) << c.text;
    EXPECT_EQ(b->value, c.value) << c.text;
    EXPECT_EQ(b->exclusive, c.exclusive) << c.text;
  }
  for (const char* bad : {"abc", "1.5x", "nan", "(nan", "((1", "[1", "1 ", "--1"}) {
    auto b = ParseScoreBound(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(b.status().message(), "ERR min or max is not a float");
  }
  EXPECT_FALSE(ParseScoreBound(std::string_view("1\0x", 3)).ok());
  EXPECT_FALSE(ParseScoreRange("1", "x").ok());
  auto r = ParseScoreRange("(1", "+inf");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->min.exclusive);
  EXPECT_EQ(r->max.value, kInf);
}

TEST(SortedSetParseTest, LexBounds) {
  using Kind = LexBound::Kind;
  struct Case {
    std::string text;
    Kind kind;
    std::string value;
  };
  for (const Case& c : std::vector<Case>{{"-", Kind::kNegativeInfinity, ""},
                                         {"+", Kind::kPositiveInfinity, ""},
                                         {"[a", Kind::kInclusive, "a"},
                                         {"(abc", Kind::kExclusive, "abc"},
                                         {"[", Kind::kInclusive, ""},
                                         {std::string("[\0\xff", 3), Kind::kInclusive,
                                          std::string("\0\xff", 2)}}) {
    auto b = ParseLexBound(c.text);
    ASSERT_TRUE(b.ok()) << c.text;
    EXPECT_EQ(b->kind, c.kind);
    EXPECT_EQ(b->value, c.value);
  }
  for (const char* bad : {"", "a", "+a", "-a", "1", "{a"}) {
    auto b = ParseLexBound(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().message(), "ERR min or max not valid string range item");
  }
  EXPECT_FALSE(ParseLexRange("-", "x").ok());
  EXPECT_TRUE(ParseLexRange("-", "+").ok());
}

TEST(SortedSetParseTest, ScoreArguments) {
  EXPECT_EQ(ParseScore("1.5"), 1.5);
  EXPECT_EQ(ParseScore("-inf"), -kInf);
  EXPECT_EQ(ParseScore("+inf"), kInf);
  EXPECT_EQ(ParseScore("0x10"), 16.0);
  for (const char* bad : {"", " 1", "1 ", "nan", "abc", "1e400", "-1e400", "1e-400", "(1"}) {
    EXPECT_EQ(ParseScore(bad), std::nullopt) << bad;
  }
}

TEST(SortedSetParseTest, AddFlagCombinations) {
  EXPECT_TRUE(ValidateAddFlags({}).ok());
  EXPECT_TRUE(ValidateAddFlags({.xx = true, .gt = true}).ok());
  EXPECT_TRUE(ValidateAddFlags({.nx = true, .incr = true}).ok());
  EXPECT_EQ(ValidateAddFlags({.nx = true, .xx = true}).message(),
            "ERR XX and NX options at the same time are not compatible");
  for (AddFlags f : {AddFlags{.nx = true, .gt = true}, AddFlags{.nx = true, .lt = true},
                     AddFlags{.gt = true, .lt = true}}) {
    EXPECT_EQ(ValidateAddFlags(f).message(),
              "ERR GT, LT, and/or NX options at the same time are not compatible");
  }
}

TEST(SortedSetParseTest, WindowFromIndexesFollowsRedis) {
  auto w = [](int64_t a, int64_t b, size_t n, bool rev) {
    RankWindow r = WindowFromIndexes(a, b, n, rev);
    return std::make_pair(r.first, r.count);
  };
  using P = std::pair<size_t, size_t>;
  EXPECT_EQ(w(0, -1, 5, false), P(0, 5));
  EXPECT_EQ(w(-2, -1, 5, false), P(3, 2));
  EXPECT_EQ(w(1, 1, 5, false), P(1, 1));
  EXPECT_EQ(w(-100, 2, 5, false), P(0, 3));
  EXPECT_EQ(w(2, 100, 5, false), P(2, 3));
  EXPECT_EQ(w(0, 0, 5, true), P(4, 1));
  EXPECT_EQ(w(1, 2, 5, true), P(2, 2));
  EXPECT_EQ(w(0, -1, 5, true), P(0, 5));
  EXPECT_EQ(w(3, 1, 5, false).second, 0u);
  EXPECT_EQ(w(5, 10, 5, false).second, 0u);
  EXPECT_EQ(w(0, -1, 0, false).second, 0u);
  EXPECT_EQ(w(-1, -10, 5, false).second, 0u);
  EXPECT_EQ(w(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), 5, false),
            P(0, 5));
}

TEST(SortedSetParseTest, ApplyLimitCountsInVisitingOrder) {
  const RankWindow w{10, 6};  // ranks 10..15
  auto lim = [&](int64_t off, int64_t cnt, bool rev) {
    RankWindow r = ApplyLimit(w, off, cnt, rev);
    return std::make_pair(r.first, r.count);
  };
  using P = std::pair<size_t, size_t>;
  EXPECT_EQ(lim(0, -1, false), P(10, 6));
  EXPECT_EQ(lim(2, 3, false), P(12, 3));
  EXPECT_EQ(lim(2, 3, true), P(11, 3));  // from the top: skips 15, 14; takes 13, 12, 11
  EXPECT_EQ(lim(4, 100, true), P(10, 2));
  EXPECT_EQ(lim(6, 1, false).second, 0u);
  EXPECT_EQ(lim(-1, 5, false).second, 0u);
  EXPECT_EQ(lim(0, 0, false).second, 0u);
  EXPECT_EQ(lim(std::numeric_limits<int64_t>::max(), 1, true).second, 0u);
}

// ---- Semantics ---------------------------------------------------------------

TEST(SortedSetTest, OrdersByScoreThenMemberBytes) {
  SortedSet z;
  for (const std::string& m : {std::string("b"), std::string("a"), std::string("ab"),
                               std::string("\xff"), std::string("\0", 1), std::string("")}) {
    EXPECT_EQ(z.Add(m, 1).result, AddResult::kAdded);
  }
  z.Add("low", -kInf);
  z.Add("high", kInf);
  Pairs expected = {{"low", -kInf},     {"", 1},   {std::string("\0", 1), 1}, {"a", 1},
                    {"ab", 1},          {"b", 1},  {"\xff", 1},               {"high", kInf}};
  EXPECT_EQ(Everything(z), expected);
  EXPECT_EQ(z.Rank("ab"), 4u);
  EXPECT_EQ(z.Rank("ab", /*reverse=*/true), 3u);
  EXPECT_EQ(z.Rank("missing"), std::nullopt);
  EXPECT_TRUE(z.CheckInvariants().ok());
}

TEST(SortedSetTest, AddHonoursRedisFlags) {
  SortedSet z;
  EXPECT_EQ(z.Add("a", 5).result, AddResult::kAdded);
  EXPECT_EQ(z.Add("a", 5).result, AddResult::kUnchanged);
  EXPECT_EQ(z.Add("a", 6, {.nx = true}).result, AddResult::kNotApplied);
  EXPECT_EQ(z.Add("b", 6, {.xx = true}).result, AddResult::kNotApplied);
  EXPECT_FALSE(z.Score("b").has_value());
  EXPECT_EQ(z.Add("a", 4, {.gt = true}).result, AddResult::kNotApplied);
  EXPECT_EQ(z.Add("a", 5, {.gt = true}).result, AddResult::kNotApplied);
  EXPECT_EQ(z.Add("a", 7, {.gt = true}).result, AddResult::kUpdated);
  EXPECT_EQ(z.Add("a", 9, {.lt = true}).result, AddResult::kNotApplied);
  EXPECT_EQ(z.Add("a", 3, {.xx = true, .lt = true}).result, AddResult::kUpdated);
  EXPECT_EQ(z.Score("a"), 3.0);
  // GT/LT never stop new members.
  EXPECT_EQ(z.Add("c", 1, {.gt = true}).result, AddResult::kAdded);
  // INCR: new members start at 0.
  AddOutcome o = z.Add("d", 2.5, {.incr = true});
  EXPECT_EQ(o.result, AddResult::kAdded);
  EXPECT_EQ(o.new_score, 2.5);
  o = z.Add("d", 1, {.incr = true});
  EXPECT_EQ(o.result, AddResult::kUpdated);
  EXPECT_EQ(o.new_score, 3.5);
  o = z.Add("d", 0, {.incr = true});
  EXPECT_EQ(o.result, AddResult::kUnchanged);
  EXPECT_EQ(o.new_score, 3.5);
  EXPECT_EQ(z.Add("d", -1, {.gt = true, .incr = true}).result, AddResult::kNotApplied);
  // INCR reaching NaN changes nothing.
  z.Add("e", kInf);
  o = z.Add("e", -kInf, {.incr = true});
  EXPECT_EQ(o.result, AddResult::kNan);
  EXPECT_EQ(z.Score("e"), kInf);
  EXPECT_EQ(z.Add("f", std::nan(""), {}).result, AddResult::kNan);
  EXPECT_EQ(z.size(), 4u);
  // -0.0 equals 0.0: no update, as in Redis.
  z.Add("zero", 0.0);
  EXPECT_EQ(z.Add("zero", -0.0).result, AddResult::kUnchanged);
  EXPECT_TRUE(z.CheckInvariants().ok()) << z.CheckInvariants().ToString();
}

TEST(SortedSetTest, CountsAndRangesWithExclusiveAndInfiniteBounds) {
  SortedSet z;
  z.Add("a", 1);
  z.Add("b", 2);
  z.Add("c", 2);
  z.Add("d", 3);
  z.Add("e", kInf);
  auto count = [&](const char* lo, const char* hi) { return z.Count(*ParseScoreRange(lo, hi)); };
  EXPECT_EQ(count("-inf", "+inf"), 5u);
  EXPECT_EQ(count("2", "2"), 2u);
  EXPECT_EQ(count("(2", "2"), 0u);
  EXPECT_EQ(count("(1", "(3"), 2u);
  EXPECT_EQ(count("(1", "3"), 3u);
  EXPECT_EQ(count("3", "1"), 0u);
  EXPECT_EQ(count("(3", "inf"), 1u);
  EXPECT_EQ(count("(3", "(inf"), 0u);
  const RankWindow w = z.ScoreWindow(*ParseScoreRange("(1", "+inf"));
  EXPECT_EQ(VisitAll(z, ApplyLimit(w, 1, 2, /*reverse=*/true), true),
            (Pairs{{"d", 3}, {"c", 2}}));
}

TEST(SortedSetTest, PopMinAndPopMax) {
  SortedSet z;
  for (int i = 0; i < 10; ++i) z.Add(Name("m", i), i);
  auto low = z.PopMin(3);
  ASSERT_EQ(low.size(), 3u);
  EXPECT_EQ(low[0].member, "m0");
  EXPECT_EQ(low[2].member, "m2");
  auto high = z.PopMax(2);
  ASSERT_EQ(high.size(), 2u);
  EXPECT_EQ(high[0].member, "m9");
  EXPECT_EQ(high[0].score, 9);
  EXPECT_EQ(high[1].member, "m8");
  EXPECT_EQ(z.size(), 5u);
  EXPECT_EQ(z.PopMax(100).size(), 5u);
  EXPECT_TRUE(z.empty());
  EXPECT_TRUE(z.PopMin(1).empty());
  EXPECT_TRUE(z.CheckInvariants().ok());
}

TEST(SortedSetTest, RemoveWindowAndClear) {
  SortedSet z;
  for (int i = 0; i < 100; ++i) z.Add(Name("member-with-a-long-name-", i), i % 7);
  const size_t before = z.MemoryUsage();
  EXPECT_EQ(z.RemoveWindow(z.ScoreWindow(*ParseScoreRange("2", "(4"))), 28u);
  EXPECT_EQ(z.Count(*ParseScoreRange("2", "(4")), 0u);
  EXPECT_EQ(z.RemoveWindow({60, 1000}), 12u);  // clamped to size
  EXPECT_EQ(z.RemoveWindow({1000, 5}), 0u);
  EXPECT_EQ(z.size(), 60u);
  EXPECT_LT(z.MemoryUsage(), before);
  EXPECT_TRUE(z.CheckInvariants().ok()) << z.CheckInvariants().ToString();
  z.Clear();
  EXPECT_TRUE(z.empty());
  EXPECT_TRUE(z.CheckInvariants().ok());
}

TEST(SortedSetTest, CopyIsDeepAndIndependent) {
  SortedSet a;
  for (int i = 0; i < 50; ++i) a.Add(Name("k", i) + std::string(20, 'x'), i / 3);
  SortedSet b(a);
  ASSERT_TRUE(b.CheckInvariants().ok()) << b.CheckInvariants().ToString();
  EXPECT_EQ(Everything(a), Everything(b));
  a.Remove("k1" + std::string(20, 'x'));
  a.Add("new", 100);
  EXPECT_EQ(b.size(), 50u);
  EXPECT_FALSE(b.Score("new").has_value());
  SortedSet c;
  c.Add("old", 1);
  c = a;
  EXPECT_EQ(Everything(c), Everything(a));
  EXPECT_TRUE(c.CheckInvariants().ok()) << c.CheckInvariants().ToString();
  SortedSet d(std::move(c));
  EXPECT_EQ(Everything(d), Everything(a));
  EXPECT_TRUE(d.CheckInvariants().ok());
}

TEST(SortedSetTest, ScanReturnsEveryMemberOnce) {
  SortedSet z;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 500; ++i) z.Add(Name("m", i), static_cast<double>(rng() % 50));
  std::set<std::string> all;
  z.ForEach([&](std::string_view m, double) { all.emplace(m); });
  for (size_t count : {1u, 3u, 10u, 1000u}) {
    auto seen = FullScan(z, count);
    EXPECT_EQ(seen.size(), all.size()) << "count " << count;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), all);
  }
}

TEST(SortedSetTest, ScanSurvivesDeletingWhatWasSeen) {
  SortedSet z;
  for (int i = 0; i < 300; ++i) z.Add(Name("m", i), i % 37);
  std::set<std::string> expected;
  z.ForEach([&](std::string_view m, double) { expected.emplace(m); });
  std::set<std::string> seen;
  uint64_t cursor = 0;
  do {
    std::vector<std::string> batch;
    cursor = z.Scan(cursor, 5, [&](std::string_view m, double) { batch.emplace_back(m); });
    for (const auto& m : batch) {
      EXPECT_TRUE(seen.insert(m).second) << "duplicate " << m;
      z.Remove(m);  // the "scan and delete" loop that breaks rank cursors
    }
    z.Add(Name("late", cursor), -1);  // added below the cursor: may be missed
  } while (cursor != 0);
  for (const auto& m : expected) EXPECT_TRUE(seen.count(m)) << m;
}

TEST(SortedSetTest, ScanReturnsRunsOfEqualScoresTogether) {
  SortedSet z;
  for (int i = 0; i < 100; ++i) z.Add(Name("m", i), 0);
  size_t batch = 0;
  const uint64_t next = z.Scan(0, 10, [&](std::string_view, double) { ++batch; });
  EXPECT_EQ(next, 0u);
  EXPECT_EQ(batch, 100u);
  // Arbitrary cursors from a client never crash and stay in bounds.
  for (uint64_t cursor : {uint64_t{1}, ~uint64_t{0}, uint64_t{1} << 63, uint64_t{12345}}) {
    size_t n = 0;
    z.Scan(cursor, 10, [&](std::string_view, double) { ++n; });
    EXPECT_LE(n, 100u);
  }
}

// ---- Randomised comparison against the naive model ---------------------------

std::string RandomMember(std::mt19937_64& rng) {
  // A small universe (so adds hit existing members) with binary bytes, and
  // some members long enough to leave the small-string buffer.
  const int id = static_cast<int>(rng() % 300);
  std::string m = std::to_string(id);
  if (id % 5 == 0) m += std::string("\0\xff", 2);
  if (id % 7 == 0) m += std::string(20, static_cast<char>('a' + id % 26));
  return m;
}

double RandomScore(std::mt19937_64& rng) {
  static const double kScores[] = {-kInf, -2.5, -1, -0.0, 0, 0.5, 1, 2, 3.25, 1e300, kInf};
  if (rng() % 2 == 0) return kScores[rng() % std::size(kScores)];
  return static_cast<double>(static_cast<int64_t>(rng() % 21) - 10);
}

ScoreRange RandomScoreRange(std::mt19937_64& rng) {
  ScoreRange r;
  r.min = {RandomScore(rng), rng() % 2 == 0};
  r.max = {RandomScore(rng), rng() % 2 == 0};
  return r;
}

AddFlags RandomFlags(std::mt19937_64& rng) {
  AddFlags f;
  switch (rng() % 8) {
    case 0: f.nx = true; break;
    case 1: f.xx = true; break;
    case 2: f.gt = true; break;
    case 3: f.lt = true; break;
    case 4: f.xx = true; f.gt = true; break;
    default: break;
  }
  f.incr = rng() % 4 == 0;
  return f;
}

TEST(SortedSetTest, RandomOperationsMatchNaiveModel) {
  std::mt19937_64 rng(2024);
  SortedSet z;
  NaiveZSet model;
  const size_t ops = Scaled(1000000);
  for (size_t i = 0; i < ops; ++i) {
    const auto op = rng() % 100;
    if (op < 45) {
      const std::string m = RandomMember(rng);
      const double s = RandomScore(rng);
      const AddFlags f = RandomFlags(rng);
      const AddOutcome got = z.Add(m, s, f);
      const AddOutcome want = model.Add(m, s, f);
      ASSERT_EQ(got.result, want.result) << "op " << i;
      if (want.result != AddResult::kNotApplied && want.result != AddResult::kNan) {
        ASSERT_EQ(got.new_score, want.new_score);
      }
    } else if (op < 60) {
      const std::string m = RandomMember(rng);
      ASSERT_EQ(z.Remove(m), model.Remove(m));
    } else if (op < 66) {
      const std::string m = RandomMember(rng);
      auto it = model.map().find(m);
      ASSERT_EQ(z.Score(m).has_value(), it != model.map().end());
      const Pairs sorted = model.Sorted();
      std::optional<size_t> want_rank;
      for (size_t r = 0; r < sorted.size(); ++r) {
        if (sorted[r].first == m) want_rank = r;
      }
      ASSERT_EQ(z.Rank(m), want_rank);
      if (want_rank) {
        ASSERT_EQ(z.Rank(m, true), sorted.size() - 1 - *want_rank);
      }
    } else if (op < 76) {
      // ZCOUNT and ZRANGE BYSCORE [REV] [LIMIT].
      const ScoreRange r = RandomScoreRange(rng);
      Pairs in_range;
      for (const auto& p : model.Sorted()) {
        if (InScoreRange(p.second, r)) in_range.push_back(p);
      }
      ASSERT_EQ(z.Count(r), in_range.size());
      const bool reverse = rng() % 2 == 0;
      const int64_t offset = static_cast<int64_t>(rng() % 12) - 1;
      const int64_t count = static_cast<int64_t>(rng() % 12) - 2;
      ASSERT_EQ(VisitAll(z, ApplyLimit(z.ScoreWindow(r), offset, count, reverse), reverse),
                ModelLimit(in_range, reverse, offset, count))
          << "op " << i;
    } else if (op < 86) {
      // ZRANGE by index [REV].
      const Pairs sorted = model.Sorted();
      const auto n = static_cast<int64_t>(sorted.size());
      const int64_t start = static_cast<int64_t>(rng() % (2 * n + 5)) - n - 2;
      const int64_t stop = static_cast<int64_t>(rng() % (2 * n + 5)) - n - 2;
      const bool reverse = rng() % 2 == 0;
      Pairs visiting = sorted;
      if (reverse) std::reverse(visiting.begin(), visiting.end());
      Pairs want;
      for (int64_t idx = 0; idx < n; ++idx) {
        // Index idx matches [start, stop] if it equals one of them after adding n to negatives.
        const int64_t s = start < 0 ? start + n : start;
        const int64_t e = stop < 0 ? stop + n : stop;
        if (idx >= s && idx <= e) want.push_back(visiting[static_cast<size_t>(idx)]);
      }
      ASSERT_EQ(VisitAll(z, WindowFromIndexes(start, stop, z.size(), reverse), reverse), want)
          << "start " << start << " stop " << stop << " n " << n;
    } else if (op < 89) {
      // ZREMRANGEBYSCORE.
      const ScoreRange r = RandomScoreRange(rng);
      Pairs gone;
      for (const auto& p : model.Sorted()) {
        if (InScoreRange(p.second, r)) gone.push_back(p);
      }
      ASSERT_EQ(z.RemoveWindow(z.ScoreWindow(r)), gone.size());
      model.Erase(gone);
    } else if (op < 92) {
      // ZREMRANGEBYRANK.
      const Pairs sorted = model.Sorted();
      const auto n = static_cast<int64_t>(sorted.size());
      const int64_t start = static_cast<int64_t>(rng() % (n + 3)) - 1;
      const int64_t stop = start + static_cast<int64_t>(rng() % 6);
      const RankWindow w = WindowFromIndexes(start, stop, z.size(), false);
      Pairs gone(sorted.begin() + static_cast<ptrdiff_t>(std::min(w.first, sorted.size())),
                 sorted.begin() + static_cast<ptrdiff_t>(std::min(w.end(), sorted.size())));
      ASSERT_EQ(z.RemoveWindow(w), gone.size());
      model.Erase(gone);
    } else if (op < 95) {
      const size_t k = rng() % 4;
      const bool max = rng() % 2 == 0;
      Pairs sorted = model.Sorted();
      if (max) std::reverse(sorted.begin(), sorted.end());
      sorted.resize(std::min(k, sorted.size()));
      const auto popped = max ? z.PopMax(k) : z.PopMin(k);
      Pairs got;
      for (const auto& p : popped) got.emplace_back(p.member, p.score);
      ASSERT_EQ(got, sorted);
      model.Erase(sorted);
    } else if (op < 97) {
      const Pairs sorted = model.Sorted();
      const size_t r = rng() % (sorted.size() + 1);
      const auto e = z.AtRank(r);
      if (r == sorted.size()) {
        ASSERT_FALSE(e.has_value());
      } else {
        ASSERT_TRUE(e.has_value());
        ASSERT_EQ(std::string(e->member), sorted[r].first);
      }
    } else {
      const auto seen = FullScan(z, 1 + rng() % 20);
      std::set<std::string> unique(seen.begin(), seen.end());
      ASSERT_EQ(unique.size(), seen.size()) << "duplicates in a quiet scan";
      ASSERT_EQ(unique.size(), model.map().size());
    }
    ASSERT_EQ(z.size(), model.map().size());
    if (i % 500 == 0) {
      const Status s = z.CheckInvariants();
      ASSERT_TRUE(s.ok()) << "op " << i << ": " << s.ToString();
      ASSERT_EQ(Everything(z), model.Sorted());
    }
  }
  ASSERT_TRUE(z.CheckInvariants().ok());
  EXPECT_EQ(Everything(z), model.Sorted());
}

LexBound RandomLexBound(std::mt19937_64& rng) {
  LexBound b;
  switch (rng() % 6) {
    case 0: b.kind = LexBound::Kind::kNegativeInfinity; break;
    case 1: b.kind = LexBound::Kind::kPositiveInfinity; break;
    case 2:
    case 3: b.kind = LexBound::Kind::kInclusive; b.value = RandomMember(rng); break;
    default: b.kind = LexBound::Kind::kExclusive; b.value = RandomMember(rng); break;
  }
  if (rng() % 8 == 0 && !b.value.empty()) b.value.pop_back();  // a bound that is no member
  return b;
}

// ZLEXCOUNT / ZRANGE BYLEX / ZREMRANGEBYLEX, meaningful when all scores are equal.
TEST(SortedSetTest, LexRangesMatchNaiveModel) {
  std::mt19937_64 rng(99);
  SortedSet z;
  NaiveZSet model;
  const size_t ops = Scaled(100000);
  for (size_t i = 0; i < ops; ++i) {
    const auto op = rng() % 10;
    if (op < 5) {
      const std::string m = RandomMember(rng);
      ASSERT_EQ(z.Add(m, 0).result, model.Add(m, 0, {}).result);
      continue;
    }
    const LexRange r{RandomLexBound(rng), RandomLexBound(rng)};
    Pairs in_range;
    for (const auto& p : model.Sorted()) {
      if (InLexRange(p.first, r)) in_range.push_back(p);
    }
    if (op < 9) {
      ASSERT_EQ(z.LexCount(r), in_range.size());
      const bool reverse = rng() % 2 == 0;
      const int64_t offset = static_cast<int64_t>(rng() % 8) - 1;
      const int64_t count = static_cast<int64_t>(rng() % 8) - 2;
      ASSERT_EQ(VisitAll(z, ApplyLimit(z.LexWindow(r), offset, count, reverse), reverse),
                ModelLimit(in_range, reverse, offset, count));
    } else {
      ASSERT_EQ(z.RemoveWindow(z.LexWindow(r)), in_range.size());
      model.Erase(in_range);
    }
    if (i % 500 == 0) {
      ASSERT_TRUE(z.CheckInvariants().ok());
    }
  }
  EXPECT_EQ(Everything(z), model.Sorted());
}

}  // namespace
}  // namespace ragkv::avl
