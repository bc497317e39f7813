// Runs search_compat.py (python3-redis) and search_compat.mjs (LangChain
// RedisVectorStore, node-redis v4 @redis/search, ioredis) against a fresh
// `ragkv serve`. Each script checks its results against a brute-force answer
// and exits non-zero on the first mismatch. The Node packages are installed
// with `npm ci` from the committed package-lock.json when node_modules is
// missing; if the npm registry cannot be reached the Node half is skipped
// with the reason printed.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <array>
#include <cstdio>
#include <string>

#include "util/test_server.h"

namespace ragkv {
namespace {

const std::string kDir = std::string(RAGKV_SOURCE_DIR) + "/tests/compat-search";

// Runs `cmd` through the shell; returns its exit status and output.
int RunCommand(const std::string& cmd, std::string* output) {
  FILE* pipe = popen((cmd + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) output->append(buf.data(), n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

class CompatSearchTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()) << server_.log(); }
  testing::TestServer server_;
};

TEST_F(CompatSearchTest, PythonRedisSearchApi) {
  std::string out;
  int rc = RunCommand("timeout 120 /usr/bin/python3 " + kDir + "/search_compat.py " +
                          std::to_string(server_.port()),
                      &out);
  EXPECT_EQ(rc, 0) << out << "\nserver log:\n" << server_.log();
  EXPECT_NE(out.find("search_compat.py: OK"), std::string::npos) << out;
}

TEST_F(CompatSearchTest, LangChainNodeRedisAndIoredis) {
  if (!Exists(kDir + "/node_modules/@langchain/redis")) {
    std::string install;
    int rc = RunCommand("timeout 240 npm ci --no-audit --no-fund --prefix " + kDir, &install);
    if (rc != 0) {
      GTEST_SKIP() << "npm ci failed (registry unreachable?), skipping the Node clients:\n"
                   << install;
    }
  }
  std::string out;
  int rc = RunCommand("timeout 120 node " + kDir + "/search_compat.mjs " +
                          std::to_string(server_.port()),
                      &out);
  EXPECT_EQ(rc, 0) << out << "\nserver log:\n" << server_.log();
  EXPECT_NE(out.find("search_compat.mjs: OK"), std::string::npos) << out;
}

}  // namespace
}  // namespace ragkv
