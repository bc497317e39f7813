#include <map>
#include <set>

#include "server/engine_fixture.h"

namespace ragkv::server {
namespace {

using namespace ::ragkv::testing;  // NOLINT(build/namespaces): matchers
using ::testing::ElementsAre;

class HashCommandsTest : public EngineTest {};

TEST_F(HashCommandsTest, BasicFieldOperations) {
  EXPECT_THAT(Run({"HSET", "h", "a", "1", "b", "2"}), IsInt(2));
  EXPECT_THAT(Run({"HSET", "h", "a", "10", "c", "3"}), IsInt(1));
  EXPECT_THAT(Run({"HSET", "h", "a"}), IsError("ERR wrong number of arguments for 'hset' command"));
  EXPECT_THAT(Run({"HMSET", "h", "d", "4"}), IsOk());
  EXPECT_THAT(Run({"HSETNX", "h", "a", "x"}), IsInt(0));
  EXPECT_THAT(Run({"HSETNX", "h", "e", "5"}), IsInt(1));
  EXPECT_THAT(Run({"HGET", "h", "a"}), IsBulk("10"));
  EXPECT_THAT(Run({"HGET", "h", "zz"}), IsNull());
  EXPECT_THAT(Run({"HGET", "nope", "a"}), IsNull());
  EXPECT_THAT(Run({"HMGET", "h", "a", "zz", "b"}).elements,
              ElementsAre(IsBulk("10"), IsNull(), IsBulk("2")));
  EXPECT_THAT(Run({"HLEN", "h"}), IsInt(5));
  EXPECT_THAT(Run({"HEXISTS", "h", "c"}), IsInt(1));
  EXPECT_THAT(Run({"HSTRLEN", "h", "a"}), IsInt(2));
  EXPECT_THAT(Run({"HKEYS", "h"}), IsStringSet(std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_THAT(Run({"HVALS", "h"}), IsStringSet(std::vector<std::string>{"10", "2", "3", "4", "5"}));
  EXPECT_EQ(Run({"HGETALL", "h"}).elements.size(), 10u);
  EXPECT_THAT(Run({"HDEL", "h", "a", "b", "zz"}), IsInt(2));
  EXPECT_THAT(Run({"HDEL", "h", "c", "d", "e"}), IsInt(3));
  EXPECT_THAT(Run({"EXISTS", "h"}), IsInt(0));  // empty hashes disappear
}

TEST_F(HashCommandsTest, Resp3HgetallIsAMap) {
  session_.resp = 3;
  Run({"HSET", "h", "a", "1"});
  resp::RespValue v = Run({"HGETALL", "h"});
  EXPECT_EQ(v.type, resp::RespType::kMap);
  EXPECT_THAT(v, IsStrings(std::vector<std::string>{"a", "1"}));
}

TEST_F(HashCommandsTest, Increments) {
  EXPECT_THAT(Run({"HINCRBY", "h", "n", "5"}), IsInt(5));
  EXPECT_THAT(Run({"HINCRBY", "h", "n", "-7"}), IsInt(-2));
  EXPECT_THAT(Run({"HSET", "h", "s", "abc"}), IsInt(1));
  EXPECT_THAT(Run({"HINCRBY", "h", "s", "1"}), IsError("ERR hash value is not an integer"));
  EXPECT_THAT(Run({"HINCRBY", "h", "n", "x"}), IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"HSET", "h", "big", "9223372036854775807"}), IsInt(1));
  EXPECT_THAT(Run({"HINCRBY", "h", "big", "1"}), IsError("ERR increment or decrement would overflow"));
  EXPECT_THAT(Run({"HINCRBYFLOAT", "h", "f", "1.5"}), IsBulk("1.5"));
  EXPECT_THAT(Run({"HINCRBYFLOAT", "h", "f", "1.5"}), IsBulk("3"));
  EXPECT_THAT(Run({"HINCRBYFLOAT", "h", "s", "1"}), IsError("ERR hash value is not a float"));
}

TEST_F(HashCommandsTest, RandField) {
  EXPECT_THAT(Run({"HRANDFIELD", "nope"}), IsNull());
  EXPECT_EQ(Run({"HRANDFIELD", "nope", "3"}).elements.size(), 0u);
  std::set<std::string> fields;
  for (int i = 0; i < 20; ++i) {
    Run({"HSET", "h", "f" + std::to_string(i), "v" + std::to_string(i)});
    fields.insert("f" + std::to_string(i));
  }
  EXPECT_TRUE(fields.count(Run({"HRANDFIELD", "h"}).str));
  for (int count : {1, 5, 7, 19, 20, 100}) {
    resp::RespValue v = Run({"HRANDFIELD", "h", std::to_string(count)});
    std::set<std::string> got;
    for (const auto& e : v.elements) got.insert(e.str);
    EXPECT_EQ(got.size(), std::min<size_t>(static_cast<size_t>(count), 20)) << count;  // distinct
  }
  EXPECT_EQ(Run({"HRANDFIELD", "h", "-50"}).elements.size(), 50u);  // repetitions allowed
  resp::RespValue wv = Run({"HRANDFIELD", "h", "3", "WITHVALUES"});
  ASSERT_EQ(wv.elements.size(), 6u);
  EXPECT_EQ("v" + wv.elements[0].str.substr(1), wv.elements[1].str);
  session_.resp = 3;
  wv = Run({"HRANDFIELD", "h", "3", "WITHVALUES"});
  ASSERT_EQ(wv.elements.size(), 3u);
  EXPECT_EQ(wv.elements[0].elements.size(), 2u);
  EXPECT_THAT(Run({"HRANDFIELD", "h", "3", "FOO"}), IsError("ERR syntax error"));
  EXPECT_THAT(Run({"HRANDFIELD", "h", "-100000000000"}), IsError("ERR value is out of range"));
}

TEST_F(HashCommandsTest, ScanCoversAllFields) {
  std::map<std::string, std::string> want;
  for (int i = 0; i < 500; ++i) {
    std::string f = "field" + std::to_string(i);
    Run({"HSET", "h", f, std::to_string(i)});
    want[f] = std::to_string(i);
  }
  std::map<std::string, std::string> got;
  std::string cursor = "0";
  do {
    resp::RespValue r = Run({"HSCAN", "h", cursor, "COUNT", "13"});
    cursor = r.elements[0].str;
    const auto& items = r.elements[1].elements;
    for (size_t i = 0; i + 1 < items.size(); i += 2) got[items[i].str] = items[i + 1].str;
  } while (cursor != "0");
  EXPECT_EQ(got, want);
  resp::RespValue m = Run({"HSCAN", "h", "0", "MATCH", "field1?", "COUNT", "10000"});
  EXPECT_EQ(m.elements[1].elements.size(), 20u);
  EXPECT_EQ(Run({"HSCAN", "nope", "0"}).elements[1].elements.size(), 0u);
}

}  // namespace
}  // namespace ragkv::server
