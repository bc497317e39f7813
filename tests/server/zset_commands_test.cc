#include <cmath>
#include <map>
#include <random>
#include <set>

#include "server/engine_fixture.h"

namespace ragkv::server {
namespace {

using namespace ::ragkv::testing;  // NOLINT(build/namespaces): matchers
using ::testing::ElementsAre;
using Strings = std::vector<std::string>;

class ZSetCommandsTest : public EngineTest {
 protected:
  void Seed() { Run({"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"}); }
};

TEST_F(ZSetCommandsTest, ZaddFlags) {
  EXPECT_THAT(Run({"ZADD", "z", "1", "a", "2", "b"}), IsInt(2));
  EXPECT_THAT(Run({"ZADD", "z", "5", "a", "3", "c"}), IsInt(1));
  EXPECT_THAT(Run({"ZADD", "z", "CH", "6", "a", "3", "c", "1", "d"}), IsInt(2));
  EXPECT_THAT(Run({"ZADD", "z", "NX", "100", "a", "7", "e"}), IsInt(1));
  EXPECT_THAT(Run({"ZSCORE", "z", "a"}), IsBulk("6"));
  EXPECT_THAT(Run({"ZADD", "z", "XX", "CH", "100", "a", "7", "f"}), IsInt(1));
  EXPECT_THAT(Run({"ZSCORE", "z", "f"}), IsNull());
  EXPECT_THAT(Run({"ZADD", "z", "GT", "CH", "50", "a", "1", "c"}), IsInt(0));
  EXPECT_THAT(Run({"ZADD", "z", "LT", "CH", "50", "a"}), IsInt(1));
  EXPECT_THAT(Run({"ZADD", "z", "INCR", "1.5", "a"}), IsBulk("51.5"));
  EXPECT_THAT(Run({"ZADD", "z", "NX", "INCR", "1", "a"}), IsNull());
  EXPECT_THAT(Run({"ZADD", "z", "NX", "XX", "1", "a"}),
              IsError("ERR XX and NX options at the same time are not compatible"));
  EXPECT_THAT(Run({"ZADD", "z", "GT", "LT", "1", "a"}),
              IsError("ERR GT, LT, and/or NX options at the same time are not compatible"));
  EXPECT_THAT(Run({"ZADD", "z", "INCR", "1", "a", "2", "b"}),
              IsError("ERR INCR option supports a single increment-element pair"));
  EXPECT_THAT(Run({"ZADD", "z", "x", "a"}), IsError("ERR value is not a valid float"));
  EXPECT_THAT(Run({"ZADD", "z", "1", "a", "2"}), IsError("ERR syntax error"));
  EXPECT_THAT(Run({"ZADD", "z", "nan", "a"}), IsError("ERR value is not a valid float"));
  EXPECT_THAT(Run({"ZADD", "inf", "inf", "a"}), IsInt(1));
  EXPECT_THAT(Run({"ZINCRBY", "inf", "-inf", "a"}), IsError("ERR resulting score is not a number (NaN)"));
  EXPECT_THAT(Run({"ZADD", "nokey", "XX", "1", "a"}), IsInt(0));
  EXPECT_THAT(Run({"EXISTS", "nokey"}), IsInt(0));
  Run({"SET", "s", "x"});
  EXPECT_THAT(Run({"ZADD", "s", "1", "a"}), ErrorStartsWith("WRONGTYPE"));
}

TEST_F(ZSetCommandsTest, ScoresRanksCounts) {
  Seed();
  EXPECT_THAT(Run({"ZCARD", "z"}), IsInt(4));
  EXPECT_THAT(Run({"ZSCORE", "z", "c"}), IsBulk("3"));
  EXPECT_THAT(Run({"ZMSCORE", "z", "a", "x", "d"}).elements, ElementsAre(IsBulk("1"), IsNull(), IsBulk("4")));
  EXPECT_THAT(Run({"ZRANK", "z", "c"}), IsInt(2));
  EXPECT_THAT(Run({"ZREVRANK", "z", "c"}), IsInt(1));
  EXPECT_THAT(Run({"ZRANK", "z", "x"}), IsNull());
  EXPECT_THAT(Run({"ZCOUNT", "z", "(1", "3"}), IsInt(2));
  EXPECT_THAT(Run({"ZCOUNT", "z", "-inf", "+inf"}), IsInt(4));
  EXPECT_THAT(Run({"ZCOUNT", "z", "x", "3"}), IsError("ERR min or max is not a float"));
  EXPECT_THAT(Run({"ZINCRBY", "z", "0.1", "a"}), IsBulk("1.1000000000000001"));
  session_.resp = 3;
  EXPECT_THAT(Run({"ZSCORE", "z", "b"}), IsDouble("2"));
}

TEST_F(ZSetCommandsTest, RangeForms) {
  Seed();
  EXPECT_THAT(Run({"ZRANGE", "z", "0", "-1"}), IsStrings(Strings{"a", "b", "c", "d"}));
  EXPECT_THAT(Run({"ZRANGE", "z", "1", "2", "WITHSCORES"}), IsStrings(Strings{"b", "2", "c", "3"}));
  EXPECT_THAT(Run({"ZRANGE", "z", "0", "1", "REV"}), IsStrings(Strings{"d", "c"}));
  EXPECT_THAT(Run({"ZREVRANGE", "z", "0", "0", "WITHSCORES"}), IsStrings(Strings{"d", "4"}));
  EXPECT_THAT(Run({"ZRANGE", "z", "(1", "3", "BYSCORE"}), IsStrings(Strings{"b", "c"}));
  EXPECT_THAT(Run({"ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV", "LIMIT", "1", "2"}),
              IsStrings(Strings{"c", "b"}));
  EXPECT_THAT(Run({"ZRANGEBYSCORE", "z", "2", "+inf", "LIMIT", "0", "2"}), IsStrings(Strings{"b", "c"}));
  EXPECT_THAT(Run({"ZREVRANGEBYSCORE", "z", "3", "1", "WITHSCORES"}),
              IsStrings(Strings{"c", "3", "b", "2", "a", "1"}));
  EXPECT_THAT(Run({"ZRANGE", "z", "0", "1", "LIMIT", "0", "1"}),
              IsError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"));
  EXPECT_THAT(Run({"ZRANGE", "z", "0", "-1", "FOO"}), IsError("ERR syntax error"));
  EXPECT_THAT(Run({"ZRANGE", "missing", "0", "-1"}), IsStrings(Strings{}));
  EXPECT_THAT(Run({"ZRANGE", "z", "a", "1"}), IsError("ERR value is not an integer or out of range"));
  session_.resp = 3;
  resp::RespValue pairs = Run({"ZRANGE", "z", "0", "0", "WITHSCORES"});
  ASSERT_EQ(pairs.elements.size(), 1u);
  EXPECT_THAT(pairs.elements[0].elements, ElementsAre(IsBulk("a"), IsDouble("1")));
}

TEST_F(ZSetCommandsTest, LexRanges) {
  Run({"ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e"});
  EXPECT_THAT(Run({"ZRANGEBYLEX", "l", "[b", "(d"}), IsStrings(Strings{"b", "c"}));
  EXPECT_THAT(Run({"ZREVRANGEBYLEX", "l", "+", "[c"}), IsStrings(Strings{"e", "d", "c"}));
  EXPECT_THAT(Run({"ZRANGE", "l", "-", "+", "BYLEX", "LIMIT", "1", "2"}), IsStrings(Strings{"b", "c"}));
  EXPECT_THAT(Run({"ZLEXCOUNT", "l", "-", "(c"}), IsInt(2));
  EXPECT_THAT(Run({"ZLEXCOUNT", "l", "b", "c"}), IsError("ERR min or max not valid string range item"));
  EXPECT_THAT(Run({"ZRANGE", "l", "-", "+", "BYLEX", "WITHSCORES"}),
              IsError("ERR syntax error, WITHSCORES not supported in combination with BYLEX"));
  EXPECT_THAT(Run({"ZREMRANGEBYLEX", "l", "[d", "+"}), IsInt(2));
  EXPECT_THAT(Run({"ZCARD", "l"}), IsInt(3));
}

TEST_F(ZSetCommandsTest, RemovalsAndPops) {
  Seed();
  EXPECT_THAT(Run({"ZREM", "z", "a", "x"}), IsInt(1));
  EXPECT_THAT(Run({"ZREMRANGEBYSCORE", "z", "(2", "3"}), IsInt(1));
  EXPECT_THAT(Run({"ZRANGE", "z", "0", "-1"}), IsStrings(Strings{"b", "d"}));
  Seed();
  EXPECT_THAT(Run({"ZREMRANGEBYRANK", "z", "0", "1"}), IsInt(2));
  EXPECT_THAT(Run({"ZPOPMIN", "z"}), IsStrings(Strings{"c", "3"}));
  EXPECT_THAT(Run({"ZPOPMAX", "z", "5"}), IsStrings(Strings{"d", "4"}));
  EXPECT_THAT(Run({"EXISTS", "z"}), IsInt(0));
  EXPECT_THAT(Run({"ZPOPMIN", "z"}), IsStrings(Strings{}));
  EXPECT_THAT(Run({"ZPOPMIN", "z", "-1"}), IsError("ERR value is out of range, must be positive"));
  Seed();
  session_.resp = 3;
  resp::RespValue v = Run({"ZPOPMAX", "z", "2"});
  ASSERT_EQ(v.elements.size(), 2u);
  EXPECT_THAT(v.elements[0].elements, ElementsAre(IsBulk("d"), IsDouble("4")));
}

TEST_F(ZSetCommandsTest, RandMemberAndScan) {
  EXPECT_THAT(Run({"ZRANDMEMBER", "z"}), IsNull());
  for (int i = 0; i < 300; ++i) Run({"ZADD", "z", std::to_string(i % 17), "m" + std::to_string(i)});
  for (int count : {1, 10, 150, 300, 1000}) {
    resp::RespValue v = Run({"ZRANDMEMBER", "z", std::to_string(count)});
    std::set<std::string> distinct;
    for (const auto& e : v.elements) distinct.insert(e.str);
    EXPECT_EQ(distinct.size(), std::min(count, 300)) << count;
  }
  EXPECT_EQ(Run({"ZRANDMEMBER", "z", "-500", "WITHSCORES"}).elements.size(), 1000u);
  std::set<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    resp::RespValue r = Run({"ZSCAN", "z", cursor, "COUNT", "20"});
    cursor = r.elements[0].str;
    for (size_t i = 0; i < r.elements[1].elements.size(); i += 2) seen.insert(r.elements[1].elements[i].str);
    ++rounds;
  } while (cursor != "0" && rounds < 1000);
  EXPECT_EQ(seen.size(), 300u);
  EXPECT_GT(rounds, 3);
}

// Wire cursors are rounded to stay below 2^53; scores closer together than
// the rounding must still make progress and all be returned.
TEST_F(ZSetCommandsTest, ScanCursorsStaySmallAndProgressOnCloseScores) {
  double s = 1.0;
  for (int i = 0; i < 50; ++i) {
    Run({"ZADD", "z", resp::FormatDouble(s), "m" + std::to_string(i)});
    s = std::nextafter(s, 2.0);
  }
  Run({"ZADD", "z", "-1e300", "low", "1e300", "high"});
  std::set<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    resp::RespValue r = Run({"ZSCAN", "z", cursor, "COUNT", "1"});
    cursor = r.elements[0].str;
    EXPECT_LT(std::stoull(cursor), 1ULL << 53);
    for (size_t i = 0; i < r.elements[1].elements.size(); i += 2) seen.insert(r.elements[1].elements[i].str);
    ++rounds;
  } while (cursor != "0" && rounds < 1000);
  EXPECT_EQ(cursor, "0");
  EXPECT_EQ(seen.size(), 52u);
}

// Reference model: a std::set of (score, member) plus a member map, checked
// against ZRANGE/ZRANK/ZCOUNT after random ZADD/ZREM/ZINCRBY.
TEST_F(ZSetCommandsTest, RandomOperationsMatchSortedModel) {
  std::mt19937 rng(2024);
  std::map<std::string, double> scores;
  for (int step = 0; step < 5000; ++step) {
    std::string m = "m" + std::to_string(rng() % 60);
    double s = static_cast<double>(static_cast<int>(rng() % 21) - 10);
    switch (rng() % 4) {
      case 0:
      case 1:
        Run({"ZADD", "z", std::to_string(static_cast<int>(s)), m});
        scores[m] = s;
        break;
      case 2:
        ASSERT_THAT(Run({"ZREM", "z", m}), IsInt(scores.erase(m)));
        break;
      case 3:
        Run({"ZINCRBY", "z", "1", m});
        scores[m] += 1;
        break;
    }
    if (step % 250 != 0) continue;
    std::set<std::pair<double, std::string>> order;
    for (auto& [mm, ss] : scores) order.emplace(ss, mm);
    Strings want;
    for (auto& [ss, mm] : order) want.push_back(mm);
    ASSERT_THAT(Run({"ZRANGE", "z", "0", "-1"}), IsStrings(want));
    int64_t in_range = 0;
    for (auto& [ss, mm] : order) in_range += ss > -3 && ss <= 4;
    ASSERT_THAT(Run({"ZCOUNT", "z", "(-3", "4"}), IsInt(in_range));
    for (size_t r = 0; r < want.size(); r += 7) ASSERT_THAT(Run({"ZRANK", "z", want[r]}), IsInt(r));
  }
}

}  // namespace
}  // namespace ragkv::server
