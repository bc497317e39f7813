#include <map>
#include <random>

#include "protocol/request_parser.h"
#include "server/engine_fixture.h"

namespace ragkv::server {
namespace {

using namespace ::ragkv::testing;  // NOLINT(build/namespaces): matchers
using ::testing::ElementsAre;

class StringCommandsTest : public EngineTest {};

TEST_F(StringCommandsTest, SetGetAndOptions) {
  EXPECT_THAT(Run({"SET", "k", "v"}), IsOk());
  EXPECT_THAT(Run({"GET", "k"}), IsBulk("v"));
  EXPECT_THAT(Run({"GET", "missing"}), IsNull());
  EXPECT_THAT(Run({"SET", "k", "w", "NX"}), IsNull());
  EXPECT_THAT(Run({"SET", "k", "w", "XX", "GET"}), IsBulk("v"));
  EXPECT_THAT(Run({"SET", "new", "x", "XX"}), IsNull());
  EXPECT_THAT(Run({"SET", "new", "x", "NX", "GET"}), IsNull());
  EXPECT_THAT(Run({"GET", "new"}), IsBulk("x"));
  EXPECT_THAT(Run({"SET", "k", "v", "NX", "XX"}), IsError("ERR syntax error"));
  EXPECT_THAT(Run({"SET", "k", "v", "EX", "10", "PX", "5"}), IsError("ERR syntax error"));
  EXPECT_THAT(Run({"SET", "k", "v", "EX"}), IsError("ERR syntax error"));
  EXPECT_THAT(Run({"SET", "k", "v", "EX", "0"}), IsError("ERR invalid expire time in 'set' command"));
  EXPECT_THAT(Run({"SET", "k", "v", "EX", "x"}), IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"SET", "k", "v", "EX", "9223372036854775807"}),
              IsError("ERR invalid expire time in 'set' command"));
  EXPECT_THAT(Run({"SET"}), IsError("ERR wrong number of arguments for 'set' command"));
}

TEST_F(StringCommandsTest, ExpiryOptionsAndKeepTtl) {
  EXPECT_THAT(Run({"SET", "k", "v", "PX", "1500"}), IsOk());
  EXPECT_THAT(Run({"PTTL", "k"}), IsInt(1500));
  EXPECT_THAT(Run({"SET", "k", "v2", "KEEPTTL"}), IsOk());
  EXPECT_THAT(Run({"PTTL", "k"}), IsInt(1500));
  EXPECT_THAT(Run({"SET", "k", "v3"}), IsOk());
  EXPECT_THAT(Run({"PTTL", "k"}), IsInt(-1));
  EXPECT_THAT(Run({"SET", "k", "v", "EXAT", std::to_string(now_ms_ / 1000 + 100)}), IsOk());
  EXPECT_THAT(Run({"TTL", "k"}), IsInt(100));
  EXPECT_THAT(Run({"SETEX", "s", "10", "v"}), IsOk());
  EXPECT_THAT(Run({"PSETEX", "p", "10", "v"}), IsOk());
  EXPECT_THAT(Run({"SETEX", "s", "-1", "v"}), IsError("ERR invalid expire time in 'setex' command"));
  Advance(10);
  EXPECT_THAT(Run({"GET", "p"}), IsNull());
  EXPECT_THAT(Run({"GET", "s"}), IsBulk("v"));
  Advance(10000);
  EXPECT_THAT(Run({"GET", "s"}), IsNull());
}

TEST_F(StringCommandsTest, Counters) {
  EXPECT_THAT(Run({"INCR", "n"}), IsInt(1));
  EXPECT_THAT(Run({"INCRBY", "n", "41"}), IsInt(42));
  EXPECT_THAT(Run({"DECRBY", "n", "2"}), IsInt(40));
  EXPECT_THAT(Run({"DECR", "n"}), IsInt(39));
  EXPECT_THAT(Run({"SET", "big", "9223372036854775807"}), IsOk());
  EXPECT_THAT(Run({"INCR", "big"}), IsError("ERR increment or decrement would overflow"));
  EXPECT_THAT(Run({"SET", "s", " 1"}), IsOk());
  EXPECT_THAT(Run({"INCR", "s"}), IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"INCRBY", "n", "1.5"}), IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"DECRBY", "n", "-9223372036854775808"}), IsError("ERR decrement would overflow"));
}

TEST_F(StringCommandsTest, IncrByFloatFormatsLikeRedis) {
  EXPECT_THAT(Run({"INCRBYFLOAT", "f", "10.5"}), IsBulk("10.5"));
  EXPECT_THAT(Run({"INCRBYFLOAT", "f", "0.1"}), IsBulk("10.6"));
  EXPECT_THAT(Run({"INCRBYFLOAT", "f", "-10.6"}), IsBulk("0"));
  EXPECT_THAT(Run({"INCRBYFLOAT", "f", "5.0e3"}), IsBulk("5000"));
  EXPECT_THAT(Run({"INCRBYFLOAT", "f", "abc"}), IsError("ERR value is not a valid float"));
  EXPECT_THAT(Run({"INCRBYFLOAT", "f", "inf"}), IsError("ERR increment would produce NaN or Infinity"));
  EXPECT_THAT(Run({"SET", "s", "x"}), IsOk());
  EXPECT_THAT(Run({"INCRBYFLOAT", "s", "1"}), IsError("ERR value is not a valid float"));
}

TEST_F(StringCommandsTest, AppendStrlenRanges) {
  EXPECT_THAT(Run({"APPEND", "k", "Hello"}), IsInt(5));
  EXPECT_THAT(Run({"APPEND", "k", " World"}), IsInt(11));
  EXPECT_THAT(Run({"STRLEN", "k"}), IsInt(11));
  EXPECT_THAT(Run({"GETRANGE", "k", "0", "4"}), IsBulk("Hello"));
  EXPECT_THAT(Run({"GETRANGE", "k", "-5", "-1"}), IsBulk("World"));
  EXPECT_THAT(Run({"GETRANGE", "k", "5", "1"}), IsBulk(""));
  EXPECT_THAT(Run({"GETRANGE", "k", "-1", "-5"}), IsBulk(""));
  EXPECT_THAT(Run({"GETRANGE", "k", "0", "100"}), IsBulk("Hello World"));
  EXPECT_THAT(Run({"GETRANGE", "missing", "0", "-1"}), IsBulk(""));
  EXPECT_THAT(Run({"SETRANGE", "k", "6", "Redis"}), IsInt(11));
  EXPECT_THAT(Run({"GET", "k"}), IsBulk("Hello Redis"));
  EXPECT_THAT(Run({"SETRANGE", "z", "3", "ab"}), IsInt(5));
  EXPECT_THAT(Run({"GET", "z"}), IsBulk(std::string("\0\0\0ab", 5)));
  EXPECT_THAT(Run({"SETRANGE", "z", "-1", "ab"}), IsError("ERR offset is out of range"));
  EXPECT_THAT(Run({"SETRANGE", "empty", "0", ""}), IsInt(0));
  EXPECT_THAT(Run({"EXISTS", "empty"}), IsInt(0));
  EXPECT_THAT(Run({"SETRANGE", "z", "536870912", "x"}),
              IsError("ERR string exceeds maximum allowed size (proto-max-bulk-len)"));
}

TEST_F(StringCommandsTest, MultiKeyAndGetVariants) {
  EXPECT_THAT(Run({"MSET", "a", "1", "b", "2"}), IsOk());
  EXPECT_THAT(Run({"MSET", "a", "1", "b"}), IsError("ERR wrong number of arguments for 'mset' command"));
  EXPECT_THAT(Run({"MGET", "a", "nope", "b"}).elements,
              ElementsAre(IsBulk("1"), IsNull(), IsBulk("2")));
  EXPECT_THAT(Run({"MSETNX", "a", "x", "c", "3"}), IsInt(0));
  EXPECT_THAT(Run({"MSETNX", "c", "3", "d", "4"}), IsInt(1));
  EXPECT_THAT(Run({"GETSET", "a", "new"}), IsBulk("1"));
  EXPECT_THAT(Run({"GETDEL", "a"}), IsBulk("new"));
  EXPECT_THAT(Run({"GETDEL", "a"}), IsNull());
  EXPECT_THAT(Run({"SETNX", "a", "1"}), IsInt(1));
  EXPECT_THAT(Run({"SETNX", "a", "2"}), IsInt(0));
  EXPECT_THAT(Run({"GETEX", "a", "EX", "100"}), IsBulk("1"));
  EXPECT_THAT(Run({"TTL", "a"}), IsInt(100));
  EXPECT_THAT(Run({"GETEX", "a", "PERSIST"}), IsBulk("1"));
  EXPECT_THAT(Run({"TTL", "a"}), IsInt(-1));
  EXPECT_THAT(Run({"GETEX", "a", "EX", "1", "PERSIST"}), IsError("ERR syntax error"));
}

TEST_F(StringCommandsTest, WrongTypeErrors) {
  EXPECT_THAT(Run({"HSET", "h", "f", "v"}), IsInt(1));
  const char* kWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value";
  EXPECT_THAT(Run({"GET", "h"}), IsError(kWrongType));
  EXPECT_THAT(Run({"INCR", "h"}), IsError(kWrongType));
  EXPECT_THAT(Run({"APPEND", "h", "x"}), IsError(kWrongType));
  EXPECT_THAT(Run({"SET", "h", "x", "GET"}), IsError(kWrongType));
  EXPECT_THAT(Run({"SET", "h", "x"}), IsOk());  // plain SET overwrites any type
  EXPECT_THAT(Run({"GET", "h"}), IsBulk("x"));
}

TEST_F(StringCommandsTest, BinarySafe) {
  std::string v("\0\r\n\xff", 4);
  EXPECT_THAT(Run({"SET", std::string("k\0", 2), v}), IsOk());
  EXPECT_THAT(Run({"GET", std::string("k\0", 2)}), IsBulk(v));
  EXPECT_THAT(Run({"GET", "k"}), IsNull());
}

// Reference model: random string operations against std::map, through the
// same Execute path a connection uses.
TEST_F(StringCommandsTest, RandomOperationsMatchModel) {
  std::mt19937 rng(99);
  std::map<std::string, std::string> model;
  for (int i = 0; i < 20000; ++i) {
    std::string key = "k" + std::to_string(rng() % 20);
    std::string val = std::to_string(rng() % 1000);
    switch (rng() % 6) {
      case 0:
        ASSERT_THAT(Run({"SET", key, val}), IsOk());
        model[key] = val;
        break;
      case 1: {
        auto it = model.find(key);
        if (it == model.end()) {
          ASSERT_THAT(Run({"GET", key}), IsNull());
        } else {
          ASSERT_THAT(Run({"GET", key}), IsBulk(it->second));
        }
        break;
      }
      case 2:
        ASSERT_THAT(Run({"DEL", key}), IsInt(model.erase(key)));
        break;
      case 3:
        model[key] += val;
        ASSERT_THAT(Run({"APPEND", key, val}), IsInt(model[key].size()));
        break;
      case 4: {
        auto it = model.find(key);
        int64_t n;
        bool numeric = it == model.end() || resp::ParseInt64(it->second, &n);
        if (it == model.end()) n = 0;
        if (numeric && n < INT64_MAX - 5) {
          model[key] = std::to_string(n + 5);
          ASSERT_THAT(Run({"INCRBY", key, "5"}), IsInt(n + 5));
        } else if (!numeric) {
          ASSERT_THAT(Run({"INCRBY", key, "5"}),
                      IsError("ERR value is not an integer or out of range"));
        }
        break;
      }
      case 5:
        ASSERT_THAT(Run({"EXISTS", key}), IsInt(model.count(key)));
        break;
    }
  }
  EXPECT_THAT(Run({"DBSIZE"}), IsInt(model.size()));
}

}  // namespace
}  // namespace ragkv::server
