// Differential test: the same command script against Debian's redis-server
// and `ragkv serve`, comparing raw reply bytes in RESP2 and RESP3. The script
// sticks to deterministic commands (no INFO, ids, timestamps, random picks or
// multi-element hash/keyspace iteration, whose order legitimately differs).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

#include "protocol/reply_writer.h"
#include "protocol/resp_client.h"
#include "util/test_server.h"

namespace ragkv::testing {
namespace {

using Script = std::vector<std::vector<std::string>>;

const Script& CommandScript() {
  static const Script script = {
      {"PING"}, {"PING", "x"}, {"ECHO", "hello"}, {"NOSUCHCMD", "a", "b"}, {"GET"},
      {"SET", "s", "v"}, {"GET", "s"}, {"SET", "s", "w", "NX"}, {"SET", "s", "w", "XX", "GET"},
      {"SET", "s", "v", "EX", "0"}, {"SET", "s", "v", "EX", "abc"}, {"SET", "s", "v", "NX", "XX"},
      {"SET", "s", "v", "KEEPTTL", "EX", "10"}, {"SET", "s", "v", "PX", "9223372036854775807"},
      {"SETNX", "s", "x"}, {"SETEX", "s", "-5", "x"}, {"MSET", "a", "1", "b"}, {"MSET", "a", "1", "b", "2"},
      {"MGET", "a", "nope", "b"}, {"MSETNX", "a", "1", "c", "3"}, {"GETSET", "a", "9"}, {"GETDEL", "a"},
      {"GETDEL", "a"}, {"GETEX", "b", "PERSIST"}, {"GETEX", "b", "EX", "1", "PX", "1"},
      {"INCR", "n"}, {"INCRBY", "n", "41"}, {"DECRBY", "n", "2"}, {"DECR", "n"}, {"INCRBY", "n", "x"},
      {"SET", "big", "9223372036854775807"}, {"INCR", "big"}, {"DECRBY", "n", "-9223372036854775808"},
      {"INCRBYFLOAT", "f", "10.5"}, {"INCRBYFLOAT", "f", "0.1"}, {"INCRBYFLOAT", "f", "-10.6"},
      {"INCRBYFLOAT", "f", "1e3"}, {"INCRBYFLOAT", "f", "abc"}, {"INCRBYFLOAT", "s", "1"},
      {"APPEND", "ap", "Hello"}, {"APPEND", "ap", " World"}, {"STRLEN", "ap"}, {"GETRANGE", "ap", "0", "4"},
      {"GETRANGE", "ap", "-5", "-1"}, {"GETRANGE", "ap", "5", "1"}, {"GETRANGE", "ap", "-1", "-5"},
      {"GETRANGE", "ap", "0", "100"}, {"SETRANGE", "ap", "6", "Redis"}, {"GET", "ap"},
      {"SETRANGE", "sr", "3", "ab"}, {"GET", "sr"}, {"SETRANGE", "sr", "-1", "x"}, {"SETRANGE", "e", "0", ""},
      {"EXISTS", "e"}, {"SETRANGE", "sr", "536870912", "x"},
      {"HSET", "h", "a", "1"}, {"HSET", "h", "a"}, {"HSET", "h", "b", "2", "c", "3"}, {"HGET", "h", "a"},
      {"HGET", "h", "zz"}, {"HMGET", "h", "a", "zz", "b"}, {"HLEN", "h"}, {"HEXISTS", "h", "c"},
      {"HSTRLEN", "h", "a"}, {"HSETNX", "h", "a", "x"}, {"HINCRBY", "h", "a", "5"}, {"HINCRBY", "h", "a", "x"},
      {"HSET", "h", "s", "abc"}, {"HINCRBY", "h", "s", "1"}, {"HINCRBYFLOAT", "h", "s", "1"},
      {"HINCRBYFLOAT", "h", "fl", "1.5"}, {"HDEL", "h", "a", "zz"}, {"HRANDFIELD", "nope"},
      {"HRANDFIELD", "h", "1", "FOO"}, {"HGETALL", "nope"}, {"HMSET", "h1", "f", "v"}, {"HGETALL", "h1"},
      {"GET", "h"}, {"HGET", "s", "f"},
      {"DEL", "h1", "nope"}, {"EXISTS", "s", "s", "nope"}, {"TYPE", "s"}, {"TYPE", "h"}, {"TYPE", "nope"},
      {"RENAME", "nope", "x"}, {"RENAME", "s", "s2"}, {"RENAMENX", "s2", "b"}, {"RENAMENX", "s2", "s3"},
      {"COPY", "s3", "s3"}, {"COPY", "s3", "s4"}, {"COPY", "s3", "s4"}, {"COPY", "s3", "x", "DB", "99"},
      {"EXPIRE", "s3", "100", "XX"}, {"EXPIRE", "s3", "100", "NX"}, {"EXPIRE", "s3", "50", "GT"},
      {"EXPIRE", "s3", "200", "GT"}, {"TTL", "s3"}, {"EXPIRE", "s3", "1", "NX", "XX"},
      {"EXPIRE", "s3", "1", "GT", "LT"}, {"EXPIRE", "s3", "1", "FOO"}, {"EXPIRE", "s3", "9223372036854775807"},
      {"PERSIST", "s3"}, {"PERSIST", "s3"}, {"TTL", "s3"}, {"TTL", "nope"}, {"PTTL", "nope"},
      {"EXPIRE", "s4", "-1"}, {"EXISTS", "s4"}, {"OBJECT", "ENCODING", "n"}, {"OBJECT", "ENCODING", "ap"},
      {"OBJECT", "ENCODING", "h"}, {"OBJECT", "ENCODING", "nope"}, {"SCAN", "x"}, {"SCAN", "0", "COUNT", "0"},
      {"SELECT", "16"}, {"SELECT", "x"}, {"SELECT", "1"}, {"GET", "n"}, {"SELECT", "0"},
      {"SWAPDB", "0", "x"}, {"SWAPDB", "0", "99"},
      {"ZADD", "z", "1", "a", "2", "b", "3", "c"}, {"ZADD", "z", "NX", "XX", "1", "a"},
      {"ZADD", "z", "GT", "LT", "1", "a"}, {"ZADD", "z", "INCR", "1", "a", "2", "b"}, {"ZADD", "z", "x", "a"},
      {"ZADD", "z", "1", "a", "2"}, {"ZADD", "z", "CH", "5", "a", "4", "d"}, {"ZADD", "z", "INCR", "0.1", "a"},
      {"ZADD", "z", "NX", "INCR", "1", "a"}, {"ZSCORE", "z", "a"}, {"ZMSCORE", "z", "a", "x", "b"},
      {"ZINCRBY", "z", "2.5", "b"}, {"ZCARD", "z"}, {"ZCOUNT", "z", "(1", "3"}, {"ZCOUNT", "z", "x", "1"},
      {"ZRANK", "z", "c"}, {"ZREVRANK", "z", "c"}, {"ZRANK", "z", "nope"}, {"ZRANGE", "z", "0", "-1"},
      {"ZRANGE", "z", "0", "-1", "WITHSCORES"}, {"ZRANGE", "z", "0", "1", "REV"},
      {"ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", "1", "2"}, {"ZRANGE", "z", "+inf", "-inf", "BYSCORE", "REV"},
      {"ZRANGE", "z", "0", "1", "LIMIT", "0", "1"}, {"ZRANGE", "z", "0", "-1", "FOO"}, {"ZRANGE", "z", "a", "1"},
      {"ZRANGEBYSCORE", "z", "2", "+inf", "WITHSCORES", "LIMIT", "0", "2"}, {"ZREVRANGEBYSCORE", "z", "5", "(2"},
      {"ZREVRANGE", "z", "0", "0", "WITHSCORES"}, {"ZADD", "lx", "0", "a", "0", "b", "0", "c", "0", "d"},
      {"ZRANGEBYLEX", "lx", "[b", "(d"}, {"ZREVRANGEBYLEX", "lx", "+", "[c"}, {"ZLEXCOUNT", "lx", "-", "(c"},
      {"ZLEXCOUNT", "lx", "b", "c"}, {"ZRANGE", "lx", "-", "+", "BYLEX", "WITHSCORES"},
      {"ZRANGE", "lx", "-", "+", "BYLEX", "LIMIT", "1", "2"}, {"ZREMRANGEBYLEX", "lx", "[d", "+"},
      {"ZREMRANGEBYRANK", "lx", "0", "0"}, {"ZREMRANGEBYSCORE", "z", "(3", "4"}, {"ZREM", "z", "c", "x"},
      {"ZPOPMIN", "z"}, {"ZPOPMAX", "z", "2"}, {"ZPOPMIN", "z", "-1"}, {"ZPOPMIN", "nope"},
      {"ZADD", "inf", "inf", "a"}, {"ZINCRBY", "inf", "-inf", "a"}, {"ZSCORE", "inf", "a"},
      {"ZADD", "s3", "1", "a"}, {"ZRANDMEMBER", "nope"}, {"ZRANDMEMBER", "z", "1", "FOO"},
      {"MULTI"}, {"SET", "t", "1"}, {"INCR", "t"}, {"HSET", "t", "f", "v"}, {"EXEC"},
      {"MULTI"}, {"MULTI"}, {"GET"}, {"EXEC"}, {"EXEC"}, {"DISCARD"},
      {"WATCH", "t"}, {"MULTI"}, {"WATCH", "x"}, {"DISCARD"}, {"UNWATCH"},
      {"CLIENT", "SETNAME", "has space"}, {"CLIENT", "SETNAME", "ok"}, {"CLIENT", "GETNAME"},
      {"CLIENT", "BOGUS"}, {"CLIENT", "KILL", "1.2.3.4:5"}, {"AUTH", "x"}, {"HELLO", "4"}, {"HELLO", "x"},
      {"CONFIG", "SET", "nosuch", "1"}, {"CONFIG", "GET", "maxmemory"}, {"CONFIG", "GET", "maxmemory-policy"},
      {"FUNCTION", "FLUSH"}, {"FLUSHALL", "BAD"}, {"DBSIZE"},
  };
  return script;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// Sends one command on a raw connection and returns the raw reply bytes
// (one complete reply, decoded only to find its end).
std::string RawReply(resp::RespClient& c, const std::vector<std::string>& argv) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  if (!c.Send(views).ok()) return "<send failed>";
  auto v = c.ReadReply();
  if (!v.ok()) return "<" + v.status().ToString() + ">";
  // Re-encode canonically so the comparison covers types and contents.
  return v->DebugString();
}

class DifferentialTest : public ::testing::TestWithParam<int> {};

TEST_P(DifferentialTest, SameRepliesAsRedisServer) {
  if (RunShell("command -v redis-server").status != 0) GTEST_SKIP() << "redis-server not installed";
  int protocol = GetParam();
  int redis_port = FreePort();
  pid_t redis = fork();
  if (redis == 0) {
    execlp("redis-server", "redis-server", "--port", std::to_string(redis_port).c_str(), "--bind",
           "127.0.0.1", "--save", "", "--appendonly", "no", "--logfile", "/dev/null", nullptr);
    _exit(127);
  }
  TestServer ragkv;
  ASSERT_TRUE(ragkv.Start()) << ragkv.log();
  resp::RespClient theirs, ours;
  bool connected = false;
  for (int i = 0; i < 100 && !connected; ++i) {
    connected = theirs.Connect("127.0.0.1", redis_port).ok();
    if (!connected) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(connected);
  ASSERT_TRUE(ours.Connect("127.0.0.1", ragkv.port()).ok());
  if (protocol == 3) {
    ASSERT_TRUE(theirs.Command({"HELLO", "3"}).ok());
    ASSERT_TRUE(ours.Command({"HELLO", "3"}).ok());
  }
  int mismatches = 0;
  for (const auto& cmd : CommandScript()) {
    std::string want = RawReply(theirs, cmd);
    std::string got = RawReply(ours, cmd);
    std::string line;
    for (const auto& a : cmd) line += a + " ";
    EXPECT_EQ(got, want) << "command: " << line;
    mismatches += got != want;
  }
  EXPECT_EQ(mismatches, 0);
  // The resulting keyspaces hold the same keys (order-insensitive).
  auto sorted_keys = [](resp::RespClient& c) {
    std::vector<std::string> keys;
    auto v = c.Command({"KEYS", "*"});
    if (v.ok()) {
      for (const auto& e : v->elements) keys.push_back(e.str);
    }
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  EXPECT_EQ(sorted_keys(ours), sorted_keys(theirs));
  kill(redis, SIGTERM);
  waitpid(redis, nullptr, 0);
}

INSTANTIATE_TEST_SUITE_P(Resp, DifferentialTest, ::testing::Values(2, 3),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "Resp" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace ragkv::testing
