// Server mode for real: `ragkv serve` (TestServer) as the store of `ragkv
// ingest|search|ask --server`, checked against the embedded store on the same
// corpus; --server lists (read fallback when a server is down, writes to the
// leader); an ingest interrupted mid-file resumes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "rag/server_connection.h"
#include "rag/test_util.h"
#include "util/test_server.h"

namespace ragkv::rag {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

struct CliOutput {
  int exit_code = -1;
  std::string out;  // stdout only
};

CliOutput Ragkv(const std::string& args) {
  const std::string cmd = std::string(RAGKV_BINARY_DIR) + "/ragkv " + args + " 2>/dev/null";
  CliOutput r;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Url(const ragkv::testing::TestServer& s) {
  return "redis://127.0.0.1:" + std::to_string(s.port());
}

// A small corpus with overlapping vocabulary, so rankings have real ties to
// break and real competitors.
void WriteCorpus(const testing::TempDir& docs) {
  docs.Write("replication.md",
             "# Replication\nReplication keeps copies of the same data on several servers, so "
             "that a replica can take over when the leader fails. Replicas also serve reads.\n");
  docs.Write("avl.md",
             "# AVL tree\nAn AVL tree is a self-balancing binary search tree. After an insertion "
             "or deletion it restores balance with rotations, so heights of sibling subtrees "
             "differ by at most one.\n");
  docs.Write("btree.txt",
             "B-tree\n\nA B-tree is a balanced tree with many keys per node, used by databases "
             "and file systems to keep keys sorted on disk.\n");
  docs.Write("hash_table.txt",
             "Hash table\n\nA hash table maps keys to values through a hash function; "
             "collisions are resolved by chaining or open addressing.\n");
  docs.Write("kv.md",
             "# Key-value database\nA key-value database stores values under keys. Redis and "
             "LevelDB are examples; lookups by key are fast.\n");
  docs.Write("wal.txt",
             "Write-ahead log\n\nA write-ahead log records changes before they are applied, so "
             "a database can recover after a crash by replaying the log.\n");
  docs.Write("bm25.txt",
             "BM25\n\nBM25 ranks documents by term frequency and inverse document frequency, "
             "with document length normalisation.\n");
  docs.Write("raft.md",
             "# Raft\nRaft is a consensus algorithm: servers elect a leader, and the leader "
             "replicates its log to followers.\n");
}

class ServerModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(ragkv::testing::TestServer::BinaryPath())) {
      GTEST_SKIP() << "build the ragkv target first";
    }
    WriteCorpus(docs_);
    ASSERT_TRUE(server_.Start()) << server_.log();
  }
  testing::TempDir docs_, work_;
  ragkv::testing::TestServer server_;
};

std::vector<std::string> Sources(const Json& hits) {
  std::vector<std::string> out;
  for (const Json& h : hits) {
    out.push_back(std::filesystem::path(h["source"].get<std::string>()).filename());
  }
  return out;
}

TEST_F(ServerModeTest, IngestSearchAskAgreeWithTheEmbeddedStore) {
  const std::string server = "--server " + Url(server_);
  const std::string data = "--data " + work_.path() + "/data";
  CliOutput ingest = Ragkv("ingest " + docs_.path() + " " + server);
  ASSERT_EQ(ingest.exit_code, 0) << server_.log();
  EXPECT_THAT(ingest.out, HasSubstr("8 new"));
  ASSERT_EQ(Ragkv("ingest " + docs_.path() + " " + data).exit_code, 0);

  // Incremental on the server too: nothing changed, nothing rewritten.
  CliOutput again = Ragkv("ingest " + docs_.path() + " " + server);
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("8 unchanged"));

  for (const char* query :
       {"balanced tree rotations", "leader replicates log to followers", "recover after a crash",
        "hash function collisions", "term frequency ranking", "replica serves reads"}) {
    SCOPED_TRACE(query);
    CliOutput remote = Ragkv(std::string("search '") + query + "' --json --k 3 " + server);
    CliOutput local = Ragkv(std::string("search '") + query + "' --json --k 3 " + data);
    ASSERT_EQ(remote.exit_code, 0);
    ASSERT_EQ(local.exit_code, 0);
    Json r = Json::parse(remote.out, nullptr, false), l = Json::parse(local.out, nullptr, false);
    ASSERT_FALSE(r.is_discarded()) << remote.out;
    ASSERT_FALSE(l.is_discarded()) << local.out;
    std::vector<std::string> rs = Sources(r["hits"]), ls = Sources(l["hits"]);
    ASSERT_FALSE(rs.empty());
    ASSERT_FALSE(ls.empty());
    // The same best hit; below it, BM25 and the vector list are fused by rank,
    // so near-ties may order differently: most of the top 3 must agree.
    EXPECT_EQ(rs[0], ls[0]);
    std::set<std::string> common(rs.begin(), rs.end());
    size_t shared = 0;
    for (const std::string& s : ls) shared += common.count(s);
    EXPECT_GE(shared, 2u);
  }

  for (const char* question : {"How does an AVL tree restore balance?", "What is a quaternion?"}) {
    SCOPED_TRACE(question);
    CliOutput remote = Ragkv(std::string("ask '") + question + "' --json " + server);
    CliOutput local = Ragkv(std::string("ask '") + question + "' --json " + data);
    ASSERT_EQ(remote.exit_code, 0);
    ASSERT_EQ(local.exit_code, 0);
    Json r = Json::parse(remote.out, nullptr, false), l = Json::parse(local.out, nullptr, false);
    ASSERT_FALSE(r.is_discarded()) << remote.out;
    EXPECT_EQ(r["abstained"], l["abstained"]);
    EXPECT_EQ(Sources(r["sources"])[0], Sources(l["sources"])[0]);
  }
}

TEST_F(ServerModeTest, ChangedAndDeletedFilesAreReplacedOnTheServer) {
  const std::string server = "--server " + Url(server_);
  ASSERT_EQ(Ragkv("ingest " + docs_.path() + " " + server).exit_code, 0);
  docs_.Write("wal.txt", "Write-ahead log\n\nA journal of quaternion rotations.\n");
  std::filesystem::remove(docs_.path() + "/raft.md");
  CliOutput again = Ragkv("ingest " + docs_.path() + " " + server);
  ASSERT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.out, HasSubstr("1 changed"));
  EXPECT_THAT(again.out, HasSubstr("1 removed"));
  CliOutput search = Ragkv("search 'quaternion' --json --k 1 " + server);
  Json j = Json::parse(search.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << search.out;
  ASSERT_EQ(j["hits"].size(), 1u);
  EXPECT_EQ(Sources(j["hits"])[0], "wal.txt");
  CliOutput gone = Ragkv("search 'consensus algorithm' --json --k 8 " + server);
  EXPECT_THAT(gone.out, ::testing::Not(HasSubstr("raft.md")));
}

TEST_F(ServerModeTest, AFileOfManyChunksIsWrittenInPipelinedBatches) {
  // Over 64 chunks (one pipeline batch), each with a word of its own.
  std::string big;
  for (int i = 0; i < 150; ++i) {
    big += "Paragraph " + std::to_string(i) + " is about zyxmarker" + std::to_string(i) + ". ";
    big += std::string(40, 'x') + " filler text that keeps the chunk near its size limit. ";
    for (int j = 0; j < 30; ++j) big += "More words for this paragraph follow here. ";
    big += "\n\n";
  }
  docs_.Write("big.txt", big);
  CliOutput ingest = Ragkv("ingest " + docs_.path() + " --server " + Url(server_));
  ASSERT_EQ(ingest.exit_code, 0) << server_.log();
  EXPECT_THAT(ingest.out, HasSubstr("+126 -0 chunks"));  // 118 for big.txt, 1 per other file
  for (const char* word : {"zyxmarker0", "zyxmarker77", "zyxmarker149"}) {
    CliOutput search =
        Ragkv(std::string("search ") + word + " --json --k 1 --server " + Url(server_));
    Json j = Json::parse(search.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << search.out;
    ASSERT_EQ(j["hits"].size(), 1u) << word;
    EXPECT_EQ(Sources(j["hits"])[0], "big.txt");
    EXPECT_THAT(j["hits"][0]["text"].get<std::string>(), HasSubstr(word));
  }
}

TEST_F(ServerModeTest, ReadsFallBackAlongTheServerListWritesNeedAReachableLeader) {
  ragkv::testing::TestServer second;
  ASSERT_TRUE(second.Start()) << second.log();
  // Both hold the collection (two standalone servers stand in for a leader
  // and its replica: ragkv serve has no ROLE yet, so each is its own leader).
  ASSERT_EQ(Ragkv("ingest " + docs_.path() + " --server " + Url(server_)).exit_code, 0);
  ASSERT_EQ(Ragkv("ingest " + docs_.path() + " --server " + Url(second)).exit_code, 0);

  // A session reading through the list survives its server going away.
  auto servers = ParseServerList(Url(server_) + "," + Url(second));
  ASSERT_TRUE(servers.ok());
  auto conn = ConnectToServers(*servers, ServerRole::kAny, 2);
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  auto before = (*conn)->Call({"HGETALL", "ragkv:default:meta"});
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before->elements.empty());
  const int first_port = server_.port();
  server_.Stop();
  auto batch = (*conn)->CallPipelined({{"HGETALL", "ragkv:default:meta"}, {"PING"}});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0].DebugString(), before->DebugString());
  auto after = (*conn)->Call({"HGETALL", "ragkv:default:meta"});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->DebugString(), before->DebugString());

  // The CLI: the first server in the list is down, the second answers.
  const std::string list = "--server redis://127.0.0.1:" + std::to_string(first_port) + "," +
                           "127.0.0.1:" + std::to_string(second.port());
  CliOutput search = Ragkv("search 'AVL tree' --json --k 1 " + list);
  ASSERT_EQ(search.exit_code, 0);
  EXPECT_THAT(search.out, HasSubstr("avl.md"));
  // Writes go to a reachable leader (here the second server) ...
  CliOutput ingest = Ragkv("ingest " + docs_.path() + " " + list);
  ASSERT_EQ(ingest.exit_code, 0);
  EXPECT_THAT(ingest.out, HasSubstr("8 unchanged"));
  // ... and fail with one line naming what was tried when none is up.
  second.Stop();
  CliOutput down = Ragkv("search 'AVL tree' " + list);
  EXPECT_NE(down.exit_code, 0);
  auto none = ConnectToServers(*servers, ServerRole::kLeader, 1);
  EXPECT_EQ(none.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(none.status().message()), HasSubstr(std::to_string(first_port)));
}

}  // namespace
}  // namespace ragkv::rag
