#include <set>

#include "server/engine_fixture.h"

namespace ragkv::server {
namespace {

using namespace ::ragkv::testing;  // NOLINT(build/namespaces): matchers

class KeyCommandsTest : public EngineTest {};

TEST_F(KeyCommandsTest, DelExistsTypeRename) {
  Run({"MSET", "a", "1", "b", "2"});
  Run({"HSET", "h", "f", "v"});
  EXPECT_THAT(Run({"EXISTS", "a", "a", "nope"}), IsInt(2));
  EXPECT_THAT(Run({"TYPE", "a"}), IsSimple("string"));
  EXPECT_THAT(Run({"TYPE", "h"}), IsSimple("hash"));
  EXPECT_THAT(Run({"TYPE", "nope"}), IsSimple("none"));
  EXPECT_THAT(Run({"DEL", "a", "nope"}), IsInt(1));
  EXPECT_THAT(Run({"UNLINK", "b"}), IsInt(1));
  EXPECT_THAT(Run({"RENAME", "nope", "x"}), IsError("ERR no such key"));
  Run({"SET", "a", "1"});
  Run({"EXPIRE", "a", "100"});
  EXPECT_THAT(Run({"RENAME", "a", "c"}), IsOk());
  EXPECT_THAT(Run({"TTL", "c"}), IsInt(100));
  EXPECT_THAT(Run({"RENAME", "c", "c"}), IsOk());
  Run({"SET", "d", "4"});
  EXPECT_THAT(Run({"RENAMENX", "c", "d"}), IsInt(0));
  EXPECT_THAT(Run({"RENAMENX", "c", "e"}), IsInt(1));
  EXPECT_THAT(Run({"GET", "e"}), IsBulk("1"));
}

TEST_F(KeyCommandsTest, Copy) {
  Run({"HSET", "h", "f", "v"});
  EXPECT_THAT(Run({"COPY", "h", "h2"}), IsInt(1));
  Run({"HSET", "h2", "f", "changed"});
  EXPECT_THAT(Run({"HGET", "h", "f"}), IsBulk("v"));
  EXPECT_THAT(Run({"COPY", "h", "h2"}), IsInt(0));
  EXPECT_THAT(Run({"COPY", "h", "h2", "REPLACE"}), IsInt(1));
  EXPECT_THAT(Run({"HGET", "h2", "f"}), IsBulk("v"));
  EXPECT_THAT(Run({"COPY", "h", "h", }), IsError("ERR source and destination objects are the same"));
  EXPECT_THAT(Run({"COPY", "h", "h", "DB", "1"}), IsInt(1));
  EXPECT_THAT(Run({"COPY", "h", "x", "DB", "16"}), IsError("ERR DB index is out of range"));
  Run({"SELECT", "1"});
  EXPECT_THAT(Run({"HGET", "h", "f"}), IsBulk("v"));
}

TEST_F(KeyCommandsTest, ExpireFamilyWithFlags) {
  Run({"SET", "k", "v"});
  EXPECT_THAT(Run({"EXPIRE", "missing", "10"}), IsInt(0));
  EXPECT_THAT(Run({"EXPIRE", "k", "10", "XX"}), IsInt(0));
  EXPECT_THAT(Run({"EXPIRE", "k", "10", "GT"}), IsInt(0));  // no TTL counts as infinite
  EXPECT_THAT(Run({"EXPIRE", "k", "10", "NX"}), IsInt(1));
  EXPECT_THAT(Run({"EXPIRE", "k", "20", "NX"}), IsInt(0));
  EXPECT_THAT(Run({"EXPIRE", "k", "5", "GT"}), IsInt(0));
  EXPECT_THAT(Run({"EXPIRE", "k", "50", "GT"}), IsInt(1));
  EXPECT_THAT(Run({"EXPIRE", "k", "60", "LT"}), IsInt(0));
  EXPECT_THAT(Run({"PEXPIRE", "k", "30000", "LT"}), IsInt(1));
  EXPECT_THAT(Run({"PTTL", "k"}), IsInt(30000));
  EXPECT_THAT(Run({"EXPIRE", "k", "1", "NX", "XX"}),
              IsError("ERR NX and XX, GT or LT options at the same time are not compatible"));
  EXPECT_THAT(Run({"EXPIRE", "k", "1", "GT", "LT"}),
              IsError("ERR GT and LT options at the same time are not compatible"));
  EXPECT_THAT(Run({"EXPIRE", "k", "1", "FOO"}), IsError("ERR Unsupported option FOO"));
  EXPECT_THAT(Run({"EXPIRE", "k", "9223372036854775807"}),
              IsError("ERR invalid expire time in 'expire' command"));
  int64_t at = now_ms_ / 1000 + 1000;
  EXPECT_THAT(Run({"EXPIREAT", "k", std::to_string(at)}), IsInt(1));
  EXPECT_THAT(Run({"EXPIRETIME", "k"}), IsInt(at));
  EXPECT_THAT(Run({"PEXPIRETIME", "k"}), IsInt(at * 1000));
  EXPECT_THAT(Run({"PEXPIREAT", "k", "9223372036854775807"}), IsInt(1));
  EXPECT_THAT(Run({"EXPIRETIME", "k"}), IsInt(9223372036854776));
  EXPECT_THAT(Run({"PERSIST", "k"}), IsInt(1));
  EXPECT_THAT(Run({"PERSIST", "k"}), IsInt(0));
  EXPECT_THAT(Run({"TTL", "k"}), IsInt(-1));
  EXPECT_THAT(Run({"TTL", "missing"}), IsInt(-2));
  EXPECT_THAT(Run({"EXPIRE", "k", "-1"}), IsInt(1));  // past: deleted now
  EXPECT_THAT(Run({"EXISTS", "k"}), IsInt(0));
}

TEST_F(KeyCommandsTest, LazyAndActiveExpiry) {
  for (int i = 0; i < 100; ++i) Run({"SET", "v" + std::to_string(i), "x", "PX", "100"});
  Run({"SET", "keep", "x"});
  Advance(101);
  for (int i = 0; i < 50; ++i) engine_.Cron();
  EXPECT_EQ(engine_.keyspace().db(0).size(), 1u);
  EXPECT_EQ(engine_.stats().expired_keys, 100);
}

TEST_F(KeyCommandsTest, KeysAndScan) {
  std::set<std::string> all;
  for (int i = 0; i < 300; ++i) {
    std::string k = (i % 2 ? "user:" : "item:") + std::to_string(i);
    Run({"SET", k, "v"});
    all.insert(k);
  }
  Run({"HSET", "user:hash", "f", "v"});
  EXPECT_EQ(Run({"KEYS", "user:*"}).elements.size(), 151u);
  EXPECT_EQ(Run({"KEYS", "item:1?"}).elements.size(), 5u);  // item:10..18 even
  std::set<std::string> seen;
  std::string cursor = "0";
  int rounds = 0;
  do {
    resp::RespValue r = Run({"SCAN", cursor, "COUNT", "7"});
    ASSERT_EQ(r.elements.size(), 2u);
    cursor = r.elements[0].str;
    for (const auto& k : r.elements[1].elements) seen.insert(k.str);
    ++rounds;
  } while (cursor != "0" && rounds < 10000);
  EXPECT_EQ(seen.size(), 301u);
  seen.clear();
  cursor = "0";
  do {
    resp::RespValue r = Run({"SCAN", cursor, "MATCH", "user:*", "TYPE", "hash"});
    cursor = r.elements[0].str;
    for (const auto& k : r.elements[1].elements) seen.insert(k.str);
  } while (cursor != "0");
  EXPECT_EQ(seen, std::set<std::string>{"user:hash"});
  EXPECT_THAT(Run({"SCAN", "x"}), IsError("ERR invalid cursor"));
  EXPECT_THAT(Run({"SCAN", "0", "COUNT", "0"}), IsError("ERR syntax error"));
  EXPECT_THAT(Run({"SCAN", "0", "FOO", "1"}), IsError("ERR syntax error"));
}

TEST_F(KeyCommandsTest, RandomKeyAndObject) {
  EXPECT_THAT(Run({"RANDOMKEY"}), IsNull());
  Run({"SET", "n", "123"});
  Run({"SET", "s", "short"});
  Run({"SET", "r", std::string(100, 'x')});
  Run({"HSET", "h", "f", "v"});
  EXPECT_EQ(Run({"RANDOMKEY"}).type, resp::RespType::kBulkString);
  EXPECT_THAT(Run({"OBJECT", "ENCODING", "n"}), IsBulk("int"));
  EXPECT_THAT(Run({"OBJECT", "ENCODING", "s"}), IsBulk("embstr"));
  EXPECT_THAT(Run({"OBJECT", "ENCODING", "r"}), IsBulk("raw"));
  EXPECT_THAT(Run({"OBJECT", "ENCODING", "h"}), IsBulk("listpack"));
  EXPECT_THAT(Run({"OBJECT", "ENCODING", "nope"}), IsNull());
  EXPECT_THAT(Run({"OBJECT", "FOO", "n"}), IsError("ERR unknown subcommand 'FOO'. Try OBJECT HELP."));
  EXPECT_THAT(Run({"TOUCH", "n", "s", "nope"}), IsInt(2));
}

}  // namespace
}  // namespace ragkv::server
