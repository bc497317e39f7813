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
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "protocol/resp_client.h"
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

// FT.SEARCH runs on a worker thread; replies must still come back in request
// order when commands are pipelined behind and in front of it, and other
// connections are served meanwhile.
TEST_F(CompatSearchTest, DeferredSearchKeepsPipelineOrder) {
  resp::RespClient c;
  ASSERT_TRUE(c.Connect("127.0.0.1", server_.port()).ok());
  auto created = c.Command({"FT.CREATE", "p", "SCHEMA", "v", "VECTOR", "FLAT", "6", "TYPE",
                            "FLOAT32", "DIM", "1", "DISTANCE_METRIC", "L2", "t", "TAG"});
  ASSERT_TRUE(created.ok() && !created->is_error());
  for (int i = 0; i < 50; ++i) {
    float x = static_cast<float>(i);
    std::string blob(reinterpret_cast<const char*>(&x), sizeof(x));
    ASSERT_TRUE(c.Command({"HSET", "k" + std::to_string(i), "v", blob, "t", "a"}).ok());
  }
  float q = 10.2f;
  std::string blob(reinterpret_cast<const char*>(&q), sizeof(q));
  for (int round = 0; round < 20; ++round) {
    ASSERT_TRUE(c.Send({"SET", "x", std::to_string(round)}).ok());
    ASSERT_TRUE(c.Send({"FT.SEARCH", "p", "@t:{a}=>[KNN 2 @v $B AS d]", "PARAMS", "2", "B", blob,
                        "SORTBY", "d", "NOCONTENT"}).ok());
    ASSERT_TRUE(c.Send({"GET", "x"}).ok());
    ASSERT_TRUE(c.Send({"FT.SEARCH", "missing", "*"}).ok());
    ASSERT_TRUE(c.Send({"PING"}).ok());
  }
  for (int round = 0; round < 20; ++round) {
    auto set = c.ReadReply();
    ASSERT_TRUE(set.ok());
    EXPECT_EQ(set->str, "OK");
    auto search = c.ReadReply();
    ASSERT_TRUE(search.ok());
    ASSERT_EQ(search->elements.size(), 3u) << search->DebugString();
    EXPECT_EQ(search->elements[1].str, "k10");
    EXPECT_EQ(search->elements[2].str, "k11");
    auto get = c.ReadReply();
    ASSERT_TRUE(get.ok());
    EXPECT_EQ(get->str, std::to_string(round));
    auto err = c.ReadReply();
    ASSERT_TRUE(err.ok());
    EXPECT_EQ(err->str, "missing: no such index");
    auto pong = c.ReadReply();
    ASSERT_TRUE(pong.ok());
    EXPECT_EQ(pong->str, "PONG");
  }
  // Inside MULTI the search runs synchronously as part of EXEC.
  ASSERT_TRUE(c.Command({"MULTI"}).ok());
  ASSERT_TRUE(c.Command({"FT.SEARCH", "p", "*", "NOCONTENT", "LIMIT", "0", "1"}).ok());
  auto exec = c.Command({"EXEC"});
  ASSERT_TRUE(exec.ok());
  ASSERT_EQ(exec->elements.size(), 1u) << exec->DebugString();
  EXPECT_EQ(exec->elements[0].elements[0].integer, 50);
}

// FT.CREATE over a big existing keyspace returns at once and indexes in the
// background; GET is answered meanwhile (functional, not timed: the GET's
// reply arrives while FT.INFO still reports indexing 1), and the backfill
// ends with every document indexed.
TEST_F(CompatSearchTest, GetIsAnsweredDuringBackgroundBackfill) {
  resp::RespClient c;
  ASSERT_TRUE(c.Connect("127.0.0.1", server_.port(), 60000).ok());
  constexpr int kDocs = 30000;
  constexpr int kDim = 128;
  std::vector<float> v(kDim);
  uint32_t seed = 1;
  for (int i = 0; i < kDocs; ++i) {
    for (float& x : v) {
      seed = seed * 1664525u + 1013904223u;
      x = static_cast<float>(seed >> 8) / 16777216.0f;
    }
    std::string blob(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
    ASSERT_TRUE(c.Send({"HSET", "d:" + std::to_string(i), "v", blob}).ok());
    if (i % 1000 == 999) {
      for (int j = 0; j < 1000; ++j) ASSERT_TRUE(c.ReadReply().ok());
    }
  }
  ASSERT_TRUE(c.Command({"SET", "plain", "value"}).ok());
  auto info_value = [&](const std::string& key) -> resp::RespValue {
    auto info = c.Command({"FT.INFO", "big"});
    if (!info.ok()) return {};
    for (size_t i = 0; i + 1 < info->elements.size(); i += 2) {
      if (info->elements[i].str == key) return info->elements[i + 1];
    }
    return {};
  };
  auto created = c.Command({"FT.CREATE", "big", "PREFIX", "1", "d:", "SCHEMA", "v", "VECTOR",
                            "HNSW", "6", "TYPE", "FLOAT32", "DIM", std::to_string(kDim),
                            "DISTANCE_METRIC", "L2"});
  ASSERT_TRUE(created.ok() && !created->is_error()) << created->DebugString();
  auto get = c.Command({"GET", "plain"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->str, "value");
  EXPECT_EQ(info_value("indexing").integer, 1);
  EXPECT_LT(info_value("num_docs").integer, kDocs);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (info_value("indexing").integer == 1 && std::chrono::steady_clock::now() < deadline) {
    auto again = c.Command({"GET", "plain"});
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->str, "value");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(info_value("indexing").integer, 0);
  EXPECT_EQ(info_value("percent_indexed").str, "1");
  EXPECT_EQ(info_value("num_docs").integer, kDocs);
}

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
