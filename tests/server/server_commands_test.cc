#include "server/engine_fixture.h"

namespace ragkv::server {
namespace {

using namespace ::ragkv::testing;  // NOLINT(build/namespaces): matchers
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class ServerCommandsTest : public EngineTest {};

TEST_F(ServerCommandsTest, UnknownCommandAndArity) {
  EXPECT_THAT(Run({"FOO", "a", "b"}),
              IsError("ERR unknown command 'FOO', with args beginning with: 'a' 'b' "));
  EXPECT_THAT(Run({"GeT"}), IsError("ERR wrong number of arguments for 'get' command"));
  EXPECT_THAT(Run({"ping"}), IsSimple("PONG"));
  EXPECT_THAT(Run({"PING", "hi"}), IsBulk("hi"));
  EXPECT_THAT(Run({"ECHO", "x"}), IsBulk("x"));
}

TEST_F(ServerCommandsTest, SelectSwapFlush) {
  Run({"SET", "a", "0"});
  EXPECT_THAT(Run({"SELECT", "1"}), IsOk());
  EXPECT_THAT(Run({"GET", "a"}), IsNull());
  Run({"SET", "b", "1"});
  EXPECT_THAT(Run({"SELECT", "16"}), IsError("ERR DB index is out of range"));
  EXPECT_THAT(Run({"SELECT", "x"}), IsError("ERR value is not an integer or out of range"));
  EXPECT_THAT(Run({"SWAPDB", "0", "1"}), IsOk());
  EXPECT_THAT(Run({"GET", "a"}), IsBulk("0"));
  EXPECT_THAT(Run({"SWAPDB", "0", "x"}), IsError("ERR invalid second DB index"));
  EXPECT_THAT(Run({"DBSIZE"}), IsInt(1));
  EXPECT_THAT(Run({"FLUSHDB", "ASYNC"}), IsOk());
  EXPECT_THAT(Run({"DBSIZE"}), IsInt(0));
  EXPECT_THAT(Run({"FLUSHALL", "BAD"}), IsError("ERR syntax error"));
  EXPECT_THAT(Run({"FLUSHALL", "SYNC"}), IsOk());
  EXPECT_EQ(engine_.keyspace().TotalKeys(), 0u);
}

TEST_F(ServerCommandsTest, AuthAndRequirepass) {
  EXPECT_THAT(Run({"AUTH", "x"}), ErrorStartsWith("ERR AUTH <password> called without any password"));
  EXPECT_THAT(Run({"CONFIG", "SET", "requirepass", "secret"}), IsOk());
  Session other;
  engine_.OpenSession(other);
  EXPECT_THAT(RunAs(other, {"GET", "k"}), IsError("NOAUTH Authentication required."));
  EXPECT_THAT(RunAs(other, {"AUTH", "wrong"}),
              IsError("WRONGPASS invalid username-password pair or user is disabled."));
  EXPECT_THAT(RunAs(other, {"HELLO", "3"}), ErrorStartsWith("NOAUTH HELLO must be called"));
  EXPECT_THAT(RunAs(other, {"AUTH", "default", "secret"}), IsOk());
  EXPECT_THAT(RunAs(other, {"GET", "k"}), IsNull());
  EXPECT_THAT(RunAs(other, {"RESET"}), IsSimple("RESET"));
  EXPECT_THAT(RunAs(other, {"GET", "k"}), IsError("NOAUTH Authentication required."));
  engine_.CloseSession(other);
}

TEST_F(ServerCommandsTest, HelloNegotiatesProtocol) {
  resp::RespValue v = Run({"HELLO", "3", "SETNAME", "me"});
  ASSERT_EQ(v.type, resp::RespType::kMap);
  EXPECT_EQ(v.elements[0].str, "server");
  EXPECT_EQ(v.elements[4].str, "proto");
  EXPECT_THAT(v.elements[5], IsInt(3));
  EXPECT_EQ(session_.resp, 3);
  EXPECT_THAT(Run({"CLIENT", "GETNAME"}), IsBulk("me"));
  EXPECT_THAT(Run({"GET", "nope"}), IsNull());
  EXPECT_THAT(Run({"HELLO", "4"}), IsError("NOPROTO unsupported protocol version"));
  EXPECT_THAT(Run({"HELLO", "x"}), IsError("ERR Protocol version is not an integer or out of range"));
  EXPECT_THAT(Run({"HELLO", "3", "BOGUS"}), IsError("ERR Syntax error in HELLO option 'BOGUS'"));
  EXPECT_EQ(Run({"HELLO", "2"}).type, resp::RespType::kArray);
  EXPECT_EQ(session_.resp, 2);
}

TEST_F(ServerCommandsTest, ClientSubcommands) {
  EXPECT_THAT(Run({"CLIENT", "ID"}), IsInt(session_.id));
  EXPECT_THAT(Run({"CLIENT", "GETNAME"}), IsNull());
  EXPECT_THAT(Run({"CLIENT", "SETNAME", "has space"}),
              IsError("ERR Client names cannot contain spaces, newlines or special characters."));
  EXPECT_THAT(Run({"CLIENT", "SETNAME", "worker"}), IsOk());
  EXPECT_THAT(Run({"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}), IsOk());
  EXPECT_THAT(Run({"CLIENT", "SETINFO", "BAD", "x"}), IsError("ERR Unrecognized option 'BAD'"));
  EXPECT_THAT(Run({"CLIENT", "LIST"}).str, HasSubstr("name=worker"));
  EXPECT_THAT(Run({"CLIENT", "INFO"}).str, HasSubstr("lib-name=redis-py"));
  EXPECT_THAT(Run({"CLIENT", "NO-EVICT", "on"}), IsOk());
  EXPECT_THAT(Run({"CLIENT", "KILL", "1.2.3.4:5"}), IsError("ERR No such client"));
  Session other;
  engine_.OpenSession(other);
  EXPECT_THAT(Run({"CLIENT", "KILL", "ID", std::to_string(other.id)}), IsInt(1));
  EXPECT_EQ(engine_.TakeCloseRequests(), std::vector<uint64_t>{other.id});
  engine_.CloseSession(other);
  EXPECT_THAT(Run({"CLIENT", "BOGUS"}), IsError("ERR unknown subcommand 'BOGUS'. Try CLIENT HELP."));
}

TEST_F(ServerCommandsTest, ConfigGetSetRewriteErrors) {
  EXPECT_THAT(Run({"CONFIG", "GET", "maxmemory"}), IsStrings(std::vector<std::string>{"maxmemory", "0"}));
  EXPECT_THAT(Run({"CONFIG", "SET", "maxmemory", "1mb"}), IsOk());
  EXPECT_THAT(Run({"CONFIG", "GET", "maxmem*"}),
              IsStrings(std::vector<std::string>{"maxmemory", "1048576", "maxmemory-policy",
                                                 "noeviction", "maxmemory-samples", "5"}));
  EXPECT_THAT(Run({"CONFIG", "SET", "maxmemory", "lots"}),
              ErrorStartsWith("ERR CONFIG SET failed (possibly related to argument 'maxmemory')"));
  EXPECT_THAT(Run({"CONFIG", "SET", "nosuch", "1"}),
              IsError("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"));
  EXPECT_THAT(Run({"CONFIG", "SET", "port", "1"}), ErrorStartsWith("ERR CONFIG SET failed"));
  EXPECT_THAT(Run({"CONFIG", "GET", "save"}), IsStrings(std::vector<std::string>{"save", ""}));
  EXPECT_THAT(Run({"CONFIG", "REWRITE"}), IsError("ERR The server is running without a config file"));
  EXPECT_THAT(Run({"CONFIG", "RESETSTAT"}), IsOk());
}

TEST_F(ServerCommandsTest, InfoHasRedisFieldNames) {
  Run({"SET", "k", "v", "EX", "100"});
  std::string info = Run({"INFO"}).str;
  for (const char* field :
       {"# Server", "redis_version:", "tcp_port:", "# Clients", "connected_clients:", "# Memory",
        "used_memory:", "maxmemory_policy:noeviction", "# Persistence", "# Stats",
        "total_commands_processed:", "keyspace_hits:", "# Replication", "role:master",
        "# Keyspace", "db0:keys=1,expires=1,avg_ttl="}) {
    EXPECT_THAT(info, HasSubstr(field));
  }
  EXPECT_THAT(Run({"INFO", "keyspace"}).str, ::testing::Not(HasSubstr("# Server")));
  EXPECT_THAT(Run({"INFO", "commandstats"}).str, HasSubstr("cmdstat_set:calls=1"));
}

TEST_F(ServerCommandsTest, CommandIntrospection) {
  EXPECT_GT(Run({"COMMAND", "COUNT"}).integer, 80);
  resp::RespValue info = Run({"COMMAND", "INFO", "get", "nosuch"});
  ASSERT_EQ(info.elements.size(), 2u);
  EXPECT_EQ(info.elements[0].elements.size(), 10u);
  EXPECT_THAT(info.elements[0].elements[0], IsBulk("get"));
  EXPECT_THAT(info.elements[0].elements[1], IsInt(2));
  EXPECT_THAT(info.elements[1], IsNull());
  EXPECT_EQ(Run({"COMMAND", "DOCS", "set"}).elements.size(), 2u);
  EXPECT_THAT(Run({"COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2"}),
              IsStrings(std::vector<std::string>{"a", "b"}));
  EXPECT_THAT(Run({"FUNCTION", "FLUSH"}), IsOk());
  EXPECT_EQ(Run({"TIME"}).elements.size(), 2u);
}

TEST_F(ServerCommandsTest, MultiExecDiscard) {
  EXPECT_THAT(Run({"EXEC"}), IsError("ERR EXEC without MULTI"));
  EXPECT_THAT(Run({"DISCARD"}), IsError("ERR DISCARD without MULTI"));
  EXPECT_THAT(Run({"MULTI"}), IsOk());
  EXPECT_THAT(Run({"MULTI"}), IsError("ERR MULTI calls can not be nested"));
  EXPECT_THAT(Run({"SET", "a", "1"}), IsSimple("QUEUED"));
  EXPECT_THAT(Run({"INCR", "a"}), IsSimple("QUEUED"));
  EXPECT_THAT(Run({"HSET", "a", "f", "v"}), IsSimple("QUEUED"));
  resp::RespValue r = Run({"EXEC"});
  ASSERT_EQ(r.elements.size(), 3u);
  EXPECT_THAT(r.elements[0], IsOk());
  EXPECT_THAT(r.elements[1], IsInt(2));
  EXPECT_THAT(r.elements[2], ErrorStartsWith("WRONGTYPE"));  // runtime errors do not abort

  Run({"MULTI"});
  Run({"SET", "b", "1"});
  EXPECT_THAT(Run({"GET"}), IsError("ERR wrong number of arguments for 'get' command"));
  EXPECT_THAT(Run({"EXEC"}), IsError("EXECABORT Transaction discarded because of previous errors."));
  EXPECT_THAT(Run({"EXISTS", "b"}), IsInt(0));

  Run({"MULTI"});
  Run({"SET", "b", "1"});
  EXPECT_THAT(Run({"DISCARD"}), IsOk());
  EXPECT_THAT(Run({"EXISTS", "b"}), IsInt(0));
}

TEST_F(ServerCommandsTest, WatchAbortsOnConcurrentWrite) {
  Session other;
  engine_.OpenSession(other);
  Run({"SET", "k", "1"});
  EXPECT_THAT(Run({"WATCH", "k"}), IsOk());
  RunAs(other, {"SET", "k", "2"});
  Run({"MULTI"});
  EXPECT_THAT(Run({"WATCH", "x"}), IsError("ERR WATCH inside MULTI is not allowed"));
  Run({"SET", "k", "3"});
  EXPECT_THAT(Run({"EXEC"}), IsNull());
  EXPECT_THAT(Run({"GET", "k"}), IsBulk("2"));

  // Untouched watch: EXEC runs. UNWATCH forgets.
  Run({"WATCH", "k"});
  RunAs(other, {"SET", "unrelated", "1"});
  Run({"MULTI"});
  Run({"SET", "k", "4"});
  EXPECT_EQ(Run({"EXEC"}).elements.size(), 1u);
  Run({"WATCH", "k"});
  RunAs(other, {"SET", "k", "5"});
  Run({"UNWATCH"});
  Run({"MULTI"});
  Run({"GET", "k"});
  EXPECT_EQ(Run({"EXEC"}).elements.size(), 1u);

  // Expiry and FLUSHALL count as modifications.
  Run({"SET", "t", "1", "PX", "10"});
  Run({"WATCH", "t"});
  Advance(20);
  RunAs(other, {"GET", "t"});  // lazy expiry deletes it
  Run({"MULTI"});
  EXPECT_THAT(Run({"EXEC"}), IsNull());
  Run({"WATCH", "k"});
  RunAs(other, {"FLUSHALL"});
  Run({"MULTI"});
  EXPECT_THAT(Run({"EXEC"}), IsNull());
  engine_.CloseSession(other);
}

TEST_F(ServerCommandsTest, WriteObserverSeesEffectiveCommands) {
  std::vector<std::string> log;
  engine_.AddWriteObserver([&](int db, std::span<const std::string_view> argv) {
    std::string line = std::to_string(db);
    for (auto a : argv) line.append(" ").append(a);
    log.push_back(line);
  });
  Run({"SET", "a", "1"});
  Run({"GET", "a"});                 // read: not propagated
  Run({"SET", "a", "1", "NX"});      // no change: not propagated
  Run({"SET", "b", "1", "EX", "10"});
  Run({"INCRBYFLOAT", "f", "1.5"});
  Run({"EXPIRE", "a", "5"});
  Run({"SELECT", "2"});
  Run({"DEL", "zz"});                // nothing deleted
  Run({"HSET", "h", "f", "v"});
  Run({"SELECT", "0"});
  Advance(6000);
  Run({"GET", "a"});                 // lazy expiry: DEL
  std::string b_at = std::to_string(now_ms_ - 6000 + 10000);
  std::string a_at = std::to_string(now_ms_ - 6000 + 5000);
  EXPECT_THAT(log, ElementsAre("0 SET a 1", "0 SET b 1 PXAT " + b_at, "0 SET f 1.5 KEEPTTL",
                               "0 PEXPIREAT a " + a_at, "2 HSET h f v", "0 DEL a"));
}

TEST_F(ServerCommandsTest, TransactionsReachObserversWrappedInMultiExec) {
  std::vector<std::string> log;
  engine_.AddWriteObserver([&](int, std::span<const std::string_view> argv) {
    std::string line;
    for (auto a : argv) line.append(a).append(" ");
    log.push_back(line);
  });
  Run({"MULTI"});
  Run({"GET", "a"});
  Run({"EXEC"});  // read-only transaction: nothing propagated
  Run({"MULTI"});
  Run({"SET", "a", "1"});
  Run({"GET", "a"});
  Run({"INCR", "a"});
  Run({"EXEC"});
  EXPECT_THAT(log, ElementsAre("MULTI ", "SET a 1 ", "INCR a ", "EXEC "));
}

TEST_F(ServerCommandsTest, MaxmemoryNoevictionRefusesWrites) {
  Run({"CONFIG", "SET", "maxmemory", "1"});
  EXPECT_THAT(Run({"SET", "k", "v"}), IsError("OOM command not allowed when used memory > 'maxmemory'."));
  EXPECT_THAT(Run({"GET", "k"}), IsNull());   // reads still work
  EXPECT_THAT(Run({"DEL", "k"}), IsInt(0));   // DEL is not denyoom
  Run({"CONFIG", "SET", "maxmemory", "0"});
  EXPECT_THAT(Run({"SET", "k", "v"}), IsOk());
}

TEST_F(ServerCommandsTest, MaxmemoryAllkeysEvictionMakesRoom) {
  std::string big(100000, 'x');
  for (int i = 0; i < 50; ++i) Run({"SET", "k" + std::to_string(i), big});
  int64_t used = engine_.UsedMemory();
  Run({"CONFIG", "SET", "maxmemory", std::to_string(used - 1000000)});
  Run({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"});
  EXPECT_THAT(Run({"SET", "new", "v"}), IsOk());
  EXPECT_GE(engine_.stats().evicted_keys, 5);
  EXPECT_LE(engine_.UsedMemory(), used - 1000000 + 1000);
  Run({"CONFIG", "SET", "maxmemory", "0"});
}

}  // namespace
}  // namespace ragkv::server
