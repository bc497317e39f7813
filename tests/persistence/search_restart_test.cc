// FT indexes survive a restart: an index (HNSW vector + TAG + NUMERIC + TEXT,
// then one field added by FT.ALTER) over hashes with vector blobs is created
// in a `ragkv serve` with appendonly yes; the server is SIGKILLed and
// restarted (1) from the AOF, where FT.CREATE is a logged write, (2) from a
// rewritten AOF whose base snapshot carries the index definition as a
// section, and (3) from a SAVEd snapshot alone (the AOF directory removed).
// Each time FT.INFO num_docs and the replies of KNN, hybrid and text queries
// must equal those before the restart, and writes after it must be indexed.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <random>
#include <thread>

#include "persistence/server_process.h"
#include "protocol/resp_client.h"

namespace ragkv::persistence {
namespace {

using resp::RespClient;
using resp::RespValue;
using testing::ServerProcess;

constexpr int kDim = 8;
constexpr int kDocs = 400;

std::string VectorBlob(std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::string blob(kDim * sizeof(float), '\0');
  for (int i = 0; i < kDim; ++i) {
    float x = u(rng);
    std::memcpy(blob.data() + i * sizeof(float), &x, sizeof(float));
  }
  return blob;
}

RespValue Must(RespClient& c, const std::vector<std::string_view>& argv) {
  auto r = c.Command(argv);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return RespValue{};
  EXPECT_FALSE(r->is_error()) << argv[0] << ": " << r->str;
  return *r;
}

int64_t NumDocs(RespClient& c) {
  RespValue info = Must(c, {"FT.INFO", "idx"});
  for (size_t i = 0; i + 1 < info.elements.size(); i += 2) {
    if (info.elements[i].str != "num_docs") continue;
    const RespValue& v = info.elements[i + 1];
    return v.type == resp::RespType::kInteger ? v.integer
                                              : std::strtoll(v.str.c_str(), nullptr, 10);
  }
  ADD_FAILURE() << "no num_docs in FT.INFO: " << info.DebugString();
  return -1;
}

// A hit's fields as sorted "name=value" pairs: a hash's field order is not
// part of its value (as in Redis), and a reload may change it.
std::string Canonical(const RespValue& reply) {
  std::string out;
  for (const RespValue& e : reply.elements) {
    if (e.type != resp::RespType::kArray) {
      out += e.DebugString() + " ";
      continue;
    }
    std::vector<std::string> pairs;
    for (size_t i = 0; i + 1 < e.elements.size(); i += 2) {
      pairs.push_back(e.elements[i].str + "=" + e.elements[i + 1].DebugString());
    }
    std::sort(pairs.begin(), pairs.end());
    out += "{";
    for (const auto& p : pairs) out += p + " ";
    out += "} ";
  }
  return out;
}

// Waits (bounded) until FT.INFO reports no background backfill: a live
// FT.CREATE/FT.ALTER over existing keys indexes them in the background
// (docs/search.md), while loading at startup indexes synchronously.
void WaitIndexed(RespClient& c) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    RespValue info = Must(c, {"FT.INFO", "idx"});
    for (size_t i = 0; i + 1 < info.elements.size(); i += 2) {
      if (info.elements[i].str == "indexing" && info.elements[i + 1].integer == 0) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "backfill did not finish";
}

// The replies that must not change across a restart, as one string.
std::string Observe(RespClient& c, const std::string& query_blob) {
  WaitIndexed(c);
  std::string out = "num_docs=" + std::to_string(NumDocs(c)) + "\n";
  const std::vector<std::vector<std::string_view>> queries = {
      {"FT.SEARCH", "idx", "*=>[KNN 10 @v $q]", "PARAMS", "2", "q", query_blob, "SORTBY",
       "__v_score", "DIALECT", "2"},
      {"FT.SEARCH", "idx", "(@tag:{red} @n:[100 300])=>[KNN 5 @v $q]", "PARAMS", "2", "q",
       query_blob, "SORTBY", "__v_score", "DIALECT", "2"},
      {"FT.SEARCH", "idx", "@t:apple", "SORTBY", "n", "LIMIT", "0", "20"},
      {"FT.SEARCH", "idx", "@extra:[5 7]", "SORTBY", "n", "NOCONTENT"},
  };
  for (const auto& q : queries) out += Canonical(Must(c, q)) + "\n";
  return out;
}

class SearchRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ragkv_search_restart_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    server_.Kill();
    std::filesystem::remove_all(dir_);
  }

  void Restart(RespClient& c) {
    c.Close();
    server_.Kill();
    ASSERT_TRUE(server_.Start(dir_, "always")) << "see " << dir_ << "/server.log";
    ASSERT_TRUE(c.Connect("127.0.0.1", server_.port()).ok());
  }

  // Waits (bounded) until no BGSAVE/BGREWRITEAOF child runs.
  void WaitForChildren(RespClient& c) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      std::string info = Must(c, {"INFO", "persistence"}).str;
      if (info.find("aof_rewrite_in_progress:0") != std::string::npos &&
          info.find("rdb_bgsave_in_progress:0") != std::string::npos) {
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "background child did not finish";
  }

  std::string dir_;
  ServerProcess server_;
};

TEST_F(SearchRestartTest, IndexesSurviveAofRewriteAndSnapshotRestarts) {
  ASSERT_TRUE(server_.Start(dir_, "always")) << "see " << dir_ << "/server.log";
  RespClient c;
  ASSERT_TRUE(c.Connect("127.0.0.1", server_.port()).ok());

  std::mt19937 rng(20261126);
  // Half the documents exist before FT.CREATE (its initial scan), half after.
  auto write_docs = [&](int from, int to) {
    const char* tags[] = {"red", "green", "blue"};
    const char* words[] = {"apple pie", "banana bread", "cherry apple tart", "plain"};
    for (int i = from; i < to; ++i) {
      const std::string key = "doc:" + std::to_string(i);
      const std::string blob = VectorBlob(rng);
      const std::string n = std::to_string(i);
      const std::string extra = std::to_string(i % 10);
      Must(c,
           {"HSET", key, "v", blob, "tag", tags[i % 3], "n", n, "t", words[i % 4], "extra", extra});
    }
  };
  write_docs(0, kDocs / 2);
  Must(c, {"FT.CREATE",
           "idx",
           "ON",
           "HASH",
           "PREFIX",
           "1",
           "doc:",
           "SCHEMA",
           "v",
           "VECTOR",
           "HNSW",
           "10",
           "TYPE",
           "FLOAT32",
           "DIM",
           std::to_string(kDim),
           "DISTANCE_METRIC",
           "L2",
           "EF_CONSTRUCTION",
           "200",
           "EF_RUNTIME",
           "400",
           "tag",
           "TAG",
           "n",
           "NUMERIC",
           "SORTABLE",
           "t",
           "TEXT"});
  write_docs(kDocs / 2, kDocs);
  Must(c, {"FT.ALTER", "idx", "SCHEMA", "ADD", "extra", "NUMERIC"});
  Must(c, {"DEL", "doc:7", "doc:8"});
  Must(c, {"HSET", "other:1", "v", VectorBlob(rng)});  // outside the prefix

  const std::string query = VectorBlob(rng);
  const std::string before = Observe(c, query);
  ASSERT_NE(before.find("num_docs=" + std::to_string(kDocs - 2)), std::string::npos) << before;

  // (1) From the AOF: FT.CREATE and FT.ALTER are replayed as logged.
  Restart(c);
  EXPECT_EQ(Observe(c, query), before) << "after restart from the AOF";

  // (2) From a rewritten AOF: the index definition is in the base snapshot.
  Must(c, {"BGREWRITEAOF"});
  WaitForChildren(c);
  Restart(c);
  EXPECT_EQ(Observe(c, query), before) << "after restart from a rewritten AOF";

  // (3) From a snapshot alone: SAVE, remove the AOF; the server loads
  // dump.rks and seeds a new AOF from it.
  Must(c, {"SAVE"});
  c.Close();
  server_.Kill();
  std::filesystem::remove_all(dir_ + "/appendonlydir");
  ASSERT_TRUE(server_.Start(dir_, "always")) << "see " << dir_ << "/server.log";
  ASSERT_TRUE(c.Connect("127.0.0.1", server_.port()).ok());
  EXPECT_EQ(Observe(c, query), before) << "after restart from a snapshot";

  // ... and that new AOF (seeded from the snapshot) carries the index too.
  Restart(c);
  EXPECT_EQ(Observe(c, query), before) << "after restart from the seeded AOF";

  // The restored index keeps following writes.
  Must(c, {"HSET", "doc:9999", "v", query, "tag", "red", "n", "200", "t", "apple", "extra", "6"});
  RespValue knn = Must(c, {"FT.SEARCH", "idx", "*=>[KNN 1 @v $q]", "PARAMS", "2", "q", query,
                           "NOCONTENT", "DIALECT", "2"});
  ASSERT_EQ(knn.elements.size(), 2u) << knn.DebugString();
  EXPECT_EQ(knn.elements[1].str, "doc:9999");
  EXPECT_EQ(NumDocs(c), kDocs - 1);
  // Dropping the index is durable too.
  Must(c, {"FT.DROPINDEX", "idx"});
  Restart(c);
  RespValue list = Must(c, {"FT._LIST"});
  EXPECT_TRUE(list.elements.empty()) << list.DebugString();
}

}  // namespace
}  // namespace ragkv::persistence
