// redis-cli (Debian redis-tools) against `ragkv serve`, RESP2 and RESP3.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "util/test_server.h"

namespace ragkv::testing {
namespace {

using ::testing::HasSubstr;

class RedisCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RunShell("command -v redis-cli").status != 0) GTEST_SKIP() << "redis-cli not installed";
    ASSERT_TRUE(server_.Start()) << server_.log();
  }

  // Runs redis-cli with `args` (already shell-quoted) and returns its stdout.
  std::string Cli(const std::string& args) {
    return RunShell("redis-cli -p " + std::to_string(server_.port()) + " " + args + " 2>&1").output;
  }

  TestServer server_;
};

TEST_F(RedisCliTest, Resp2Basics) {
  EXPECT_EQ(Cli("PING"), "PONG\n");
  EXPECT_EQ(Cli("SET greeting 'hello world'"), "OK\n");
  EXPECT_EQ(Cli("GET greeting"), "hello world\n");
  EXPECT_EQ(Cli("INCRBY counter 5"), "5\n");
  EXPECT_EQ(Cli("--no-raw GET missing"), "(nil)\n");
  EXPECT_EQ(Cli("HSET h a 1"), "1\n");
  EXPECT_EQ(Cli("--no-raw HGETALL h"), "1) \"a\"\n2) \"1\"\n");
  EXPECT_EQ(Cli("--no-raw GET h"),
            "(error) WRONGTYPE Operation against a key holding the wrong kind of value\n");
  EXPECT_EQ(Cli("SET k v EX 100"), "OK\n");
  EXPECT_EQ(Cli("TTL k"), "100\n");
  EXPECT_EQ(Cli("DBSIZE"), "4\n");
  EXPECT_THAT(Cli("INFO server"), HasSubstr("tcp_port:" + std::to_string(server_.port())));
  EXPECT_THAT(Cli("--no-raw FOO"), HasSubstr("(error) ERR unknown command 'FOO'"));
}

TEST_F(RedisCliTest, Resp3Types) {
  EXPECT_EQ(Cli("-3 HSET h a 1"), "1\n");
  EXPECT_EQ(Cli("-3 --no-raw HGETALL h"), "1# \"a\" => \"1\"\n");
  EXPECT_EQ(Cli("-3 --no-raw GET missing"), "(nil)\n");
  EXPECT_THAT(Cli("-3 --no-raw HELLO 3"), HasSubstr("\"proto\" => (integer) 3"));
}

TEST_F(RedisCliTest, PipeMassInsertion) {
  std::string path = "/tmp/ragkv-pipe-" + std::to_string(getpid());
  {
    std::ofstream f(path);
    for (int i = 0; i < 20000; ++i) {
      std::string k = std::to_string(i);
      f << "*3\r\n$3\r\nSET\r\n$" << k.size() + 4 << "\r\nkey:" << k << "\r\n$" << k.size() << "\r\n" << k << "\r\n";
    }
  }
  std::string out = Cli("--pipe < " + path);
  unlink(path.c_str());
  EXPECT_THAT(out, HasSubstr("errors: 0, replies: 20000"));
  EXPECT_EQ(Cli("DBSIZE"), "20000\n");
  EXPECT_EQ(Cli("GET key:19999"), "19999\n");
}

TEST_F(RedisCliTest, AuthRequired) {
  TestServer secured;
  ASSERT_TRUE(secured.Start({"--requirepass", "s3cret"})) << secured.log();
  std::string base = "redis-cli -p " + std::to_string(secured.port());
  EXPECT_THAT(RunShell(base + " --no-raw GET k 2>&1").output,
              HasSubstr("NOAUTH Authentication required."));
  EXPECT_EQ(RunShell(base + " -a s3cret --no-auth-warning SET k v 2>&1").output, "OK\n");
  EXPECT_EQ(RunShell(base + " -3 -a s3cret --no-auth-warning GET k 2>&1").output, "v\n");
}

}  // namespace
}  // namespace ragkv::testing
