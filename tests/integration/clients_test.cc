// Real client libraries against `ragkv serve`: redis-py (Debian
// python3-redis) and the Node clients node-redis v4 (RESP2) and v5 (RESP3)
// and ioredis v5 (npm,
// installed from tests/compat/package-lock.json on first run).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "util/test_server.h"

namespace ragkv::testing {
namespace {

using ::testing::HasSubstr;

bool Exists(const std::string& path) {
  struct stat st{};
  return stat(path.c_str(), &st) == 0;
}

TEST(ClientsTest, RedisPy) {
  if (RunShell("/usr/bin/python3 -c 'import redis' 2>&1").status != 0) {
    GTEST_SKIP() << "python3-redis is not installed";
  }
  TestServer server;
  ASSERT_TRUE(server.Start()) << server.log();
  CommandResult r = RunShell("/usr/bin/python3 " RAGKV_SOURCE_DIR "/tests/integration/redis_py_check.py " +
                             std::to_string(server.port()) + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("redis-py ok"));
}

TEST(ClientsTest, NodeRedisAndIoredis) {
  if (RunShell("command -v node >/dev/null && command -v npm >/dev/null").status != 0) {
    GTEST_SKIP() << "node/npm not installed";
  }
  const std::string compat = RAGKV_SOURCE_DIR "/tests/compat";
  if (!Exists(compat + "/node_modules/ioredis") || !Exists(compat + "/node_modules/redis") ||
      !Exists(compat + "/node_modules/redis-v5")) {
    CommandResult install = RunShell("npm ci --prefix " + compat + " --no-audit --no-fund 2>&1");
    if (install.status != 0) {
      GTEST_SKIP() << "npm could not install the Node clients (registry unreachable?):\n"
                   << install.output;
    }
  }
  TestServer server;
  ASSERT_TRUE(server.Start()) << server.log();
  CommandResult r = RunShell("node " + compat + "/node_clients.js " + std::to_string(server.port()) + " 2>&1");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("node-redis ok"));
  EXPECT_THAT(r.output, HasSubstr("node-redis v5 resp3 ok"));
  EXPECT_THAT(r.output, HasSubstr("ioredis ok"));
}

}  // namespace
}  // namespace ragkv::testing
