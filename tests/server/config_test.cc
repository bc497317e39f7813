#include "server/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace ragkv::server {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;

TEST(ParseMemoryTest, RedisUnits) {
  const std::pair<const char*, int64_t> cases[] = {
      {"0", 0}, {"100", 100}, {"1k", 1000}, {"1kb", 1024}, {"1KB", 1024}, {"2m", 2000000},
      {"2mb", 2 * 1024 * 1024}, {"1g", 1000000000}, {"1gb", 1LL << 30}, {"10b", 10}};
  for (const auto& [text, want] : cases) {
    int64_t got = -1;
    EXPECT_TRUE(ParseMemory(text, &got)) << text;
    EXPECT_EQ(got, want) << text;
  }
  int64_t v;
  for (const char* bad : {"", "k", "1x", "-1", "1.5mb", "99999999999999999999", "9000000000gb"}) {
    EXPECT_FALSE(ParseMemory(bad, &v)) << bad;
  }
}

TEST(ConfigTest, SetGetAndErrors) {
  Config c;
  EXPECT_TRUE(c.Set("MaxMemory", "10mb").ok());
  EXPECT_EQ(c.maxmemory, 10 * 1024 * 1024);
  EXPECT_EQ(c.Set("nosuch", "1").code(), StatusCode::kNotFound);
  EXPECT_EQ(c.Set("maxclients", "0").code(), StatusCode::kOutOfRange);
  EXPECT_EQ(c.Set("protected-mode", "maybe").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c.Set("port", "7000").code(), StatusCode::kFailedPrecondition);  // immutable at runtime
  EXPECT_TRUE(c.Set("port", "7000", /*startup=*/true).ok());
  EXPECT_TRUE(c.Set("maxmemory-policy", "allkeys-lru").ok());
  EXPECT_EQ(c.maxmemory_policy, EvictionPolicy::kAllKeysLru);
  EXPECT_THAT(c.Get("port"), ::testing::ElementsAre(Pair("port", "7000")));
  EXPECT_THAT(c.Get("maxmemory*"), ::testing::SizeIs(3));
  EXPECT_TRUE(c.Set("appendonly", "yes").ok());  // accepted for the persistence layer
  EXPECT_THAT(c.Get("appendonly"), ::testing::ElementsAre(Pair("appendonly", "yes")));
}

TEST(ConfigTest, ArgsRunUntilNextOption) {
  Config c;
  ASSERT_TRUE(c.ApplyArgs({"--port", "0", "--bind", "127.0.0.1", "::1", "--save", ""}).ok());
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.bind, "127.0.0.1 ::1");
  Status s = c.ApplyArgs({"port", "1"});
  EXPECT_FALSE(s.ok());
  s = c.ApplyArgs({"--maxclients", "x"});
  EXPECT_THAT(std::string(s.message()), HasSubstr("--maxclients"));
}

TEST(ConfigTest, FileLoadAndRewriteRoundTrip) {
  std::string path = "/tmp/ragkv-config-test-" + std::to_string(getpid()) + ".conf";
  {
    std::ofstream f(path);
    f << "# comment\n\nport 7777\nrequirepass \"a b\"\nmaxmemory 2mb\nsave \"\"\n";
  }
  Config c;
  ASSERT_TRUE(c.LoadFile(path).ok());
  EXPECT_EQ(c.port, 7777);
  EXPECT_EQ(c.requirepass, "a b");
  EXPECT_EQ(c.maxmemory, 2 * 1024 * 1024);
  ASSERT_TRUE(c.Set("maxmemory", "3mb").ok());
  ASSERT_TRUE(c.Rewrite().ok());
  Config d;
  ASSERT_TRUE(d.LoadFile(path).ok());
  EXPECT_EQ(d.maxmemory, 3 * 1024 * 1024);
  EXPECT_EQ(d.requirepass, "a b");
  {
    std::ofstream f(path);
    f << "port 1\nbogus-option 1\n";
  }
  Config e;
  Status s = e.LoadFile(path);
  EXPECT_THAT(std::string(s.message()), HasSubstr(":2: 'bogus-option'"));
  unlink(path.c_str());
  EXPECT_EQ(e.LoadFile(path).code(), StatusCode::kIOError);
}

}  // namespace
}  // namespace ragkv::server
