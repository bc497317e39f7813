// The server-mode ChunkStore against an in-memory fake of the hash/set
// commands, checking the exact FT.CREATE / FT.SEARCH commands it sends and
// how it reads their replies, how an interrupted write is cleaned up; plus
// parsing of --server lists. (The RESP codec is ragkv_protocol's, tested in
// tests/protocol.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>

#include "rag/chunk_store.h"
#include "rag/server_connection.h"

namespace ragkv::rag {
namespace {

using resp::RespType;
using resp::RespValue;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

RespValue Bulk(std::string s) {
  RespValue v;
  v.type = RespType::kBulkString;
  v.str = std::move(s);
  return v;
}
RespValue Int(int64_t i) {
  RespValue v;
  v.type = RespType::kInteger;
  v.integer = i;
  return v;
}
RespValue Err(std::string s) {
  RespValue v;
  v.type = RespType::kError;
  v.str = std::move(s);
  return v;
}
RespValue Arr(std::vector<RespValue> e) {
  RespValue v;
  v.type = RespType::kArray;
  v.elements = std::move(e);
  return v;
}

// Hashes in memory; FT.* answered from `ft_replies` (by command
// name) and recorded.
struct FakeServer {
  std::map<std::string, std::map<std::string, std::string>> hashes;
  std::vector<std::vector<std::string>> ft_calls;
  std::map<std::string, RespValue> ft_replies;
  bool has_ft = true;
  bool index_exists = false;
};

class FakeConnection : public RespConnection {
 public:
  // HSETs of keys starting with `fail_on` fail as if the server went away.
  explicit FakeConnection(FakeServer* s, std::string fail_on = "")
      : fail_on_(std::move(fail_on)), s_(s) {}
  Result<RespValue> Call(const std::vector<std::string>& a) override {
    const std::string& cmd = a[0];
    if (cmd == "HSET" && !fail_on_.empty() && a[1].rfind(fail_on_, 0) == 0) {
      return Status::Unavailable("connection reset (injected)");
    }
    if (cmd.rfind("FT.", 0) == 0) {
      if (!s_->has_ft) return Err("ERR unknown command '" + cmd + "'");
      s_->ft_calls.push_back(a);
      if (cmd == "FT.CREATE") {
        s_->index_exists = true;
        return RespValue{RespType::kSimpleString, "OK", 0, 0, {}};
      }
      if (cmd == "FT.INFO" && !s_->index_exists) return Err("Unknown index name");
      auto it = s_->ft_replies.find(cmd);
      return it != s_->ft_replies.end() ? it->second : Arr({Int(0)});
    }
    if (cmd == "HSET") {
      for (size_t i = 2; i + 1 < a.size(); i += 2) s_->hashes[a[1]][a[i]] = a[i + 1];
      return Int(1);
    }
    if (cmd == "HGETALL") {
      std::vector<RespValue> out;
      for (const auto& [k, v] : s_->hashes[a[1]]) {
        out.push_back(Bulk(k));
        out.push_back(Bulk(v));
      }
      return Arr(out);
    }
    if (cmd == "HINCRBY") {
      int64_t v = std::atoll(s_->hashes[a[1]][a[2]].c_str()) + std::atoll(a[3].c_str());
      s_->hashes[a[1]][a[2]] = std::to_string(v);
      return Int(v);
    }
    if (cmd == "HDEL") {
      int64_t n = 0;
      for (size_t i = 2; i < a.size(); ++i) n += static_cast<int64_t>(s_->hashes[a[1]].erase(a[i]));
      return Int(n);
    }
    if (cmd == "SCAN") {  // one key per call, to exercise the cursor loop
      std::string prefix = a[3].substr(0, a[3].size() - 1);
      std::vector<RespValue> keys;
      size_t cursor = std::stoul(a[1]), i = 0, next = 0;
      for (const auto& [k, h] : s_->hashes) {
        if (i++ == cursor) {
          if (k.rfind(prefix, 0) == 0 && !h.empty()) keys.push_back(Bulk(k));
          next = i < s_->hashes.size() ? i : 0;
        }
      }
      return Arr({Bulk(std::to_string(next)), Arr(keys)});
    }
    if (cmd == "DEL") {
      int64_t n = 0;
      for (size_t i = 1; i < a.size(); ++i) n += static_cast<int64_t>(s_->hashes.erase(a[i]));
      return Int(n);
    }
    return Err("ERR unexpected command " + cmd);
  }

 private:
  std::string fail_on_;
  FakeServer* s_;
};

std::unique_ptr<ChunkStore> Open(FakeServer* s) {
  auto store = OpenServerStore(std::make_unique<FakeConnection>(s), "docs");
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

ChunkRecord Chunk(std::string text) {
  ChunkRecord c;
  c.title = "Guide";
  c.heading = "Guide > Install";
  c.text = std::move(text);
  return c;
}

TEST(ServerStoreTest, CreatesTheIndexAndWritesChunkHashes) {
  FakeServer server;
  auto store = Open(&server);
  ASSERT_TRUE(store->BindEmbedder("builtin-v1", 2).ok());
  ASSERT_EQ(server.ft_calls.size(), 2u);  // FT.INFO at open, then FT.CREATE
  EXPECT_THAT(server.ft_calls[1],
              ElementsAre("FT.CREATE", "ragkv:docs", "ON", "HASH", "PREFIX", "1",
                          "ragkv:docs:chunk:", "SCHEMA", "title", "TEXT", "WEIGHT", "3", "text",
                          "TEXT", "embedding", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32", "DIM", "2",
                          "DISTANCE_METRIC", "IP"));
  ASSERT_TRUE(store
                  ->PutFile({"/d/guide.md", 7, 30, {}}, {Chunk("Run make."), Chunk("Then test.")},
                            {{1.0f, 0.0f}, {0.0f, 1.0f}})
                  .ok());
  const auto& h = server.hashes["ragkv:docs:chunk:2"];
  EXPECT_EQ(h.at("text"), "Then test.");
  EXPECT_EQ(h.at("source"), "/d/guide.md");
  EXPECT_EQ(h.at("title"), "Guide | Guide > Install | guide");
  float v[2];
  ASSERT_EQ(h.at("embedding").size(), sizeof v);
  std::memcpy(v, h.at("embedding").data(), sizeof v);
  EXPECT_EQ(v[1], 1.0f);
  EXPECT_EQ(server.hashes["ragkv:docs:file:/d/guide.md"]["chunks"], "1 2 ");
  store->set_embedder_state("df");
  ASSERT_TRUE(store->Commit().ok());

  // Reopen: manifest and metadata come back from the server.
  auto again = Open(&server);
  EXPECT_EQ(again->info().embedder_id, "builtin-v1");
  EXPECT_EQ(again->info().dim, 2u);
  EXPECT_EQ(again->embedder_state(), "df");
  EXPECT_EQ(again->chunk_count(), 2u);
  ASSERT_TRUE(again->FindFile("/d/guide.md").has_value());
  auto chunk = again->GetChunk(1);
  ASSERT_TRUE(chunk.ok());
  EXPECT_EQ(chunk->text, "Run make.");
  EXPECT_EQ(chunk->heading, "Guide > Install");
  EXPECT_EQ(again->BindEmbedder("ollama:x", 768).code(), StatusCode::kFailedPrecondition);

  // Replacing the file deletes the old chunk hashes.
  ASSERT_TRUE(again->PutFile({"/d/guide.md", 8, 10, {}}, {Chunk("New.")}, {{1.0f, 0.0f}}).ok());
  EXPECT_EQ(server.hashes.count("ragkv:docs:chunk:1"), 0u);
  EXPECT_EQ(again->chunk_count(), 1u);
  EXPECT_TRUE(again->RemoveFile("/d/guide.md"));
  EXPECT_EQ(server.hashes.count("ragkv:docs:file:/d/guide.md"), 0u);
}

TEST(ServerStoreTest, SearchCommandsAndReplies) {
  FakeServer server;
  auto store = Open(&server);
  ASSERT_TRUE(store->BindEmbedder("builtin-v1", 2).ok());
  server.ft_replies["FT.SEARCH"] = Arr(
      {Int(2), Bulk("ragkv:docs:chunk:7"), Bulk("3.5"), Bulk("ragkv:docs:chunk:3"), Bulk("1.25")});
  auto text = store->TextSearch("What is the B-tree's fan-out?", 10);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_THAT(server.ft_calls.back(),
              ElementsAre("FT.SEARCH", "ragkv:docs", "b | tree | fan", "NOCONTENT", "WITHSCORES",
                          "SCORER", "BM25", "LIMIT", "0", "10", "DIALECT", "2"));
  ASSERT_EQ(text->size(), 2u);
  EXPECT_EQ((*text)[0].chunk_id, 7u);
  EXPECT_FLOAT_EQ((*text)[1].score, 1.25f);

  server.ft_replies["FT.SEARCH"] =
      Arr({Int(1), Bulk("ragkv:docs:chunk:9"), Arr({Bulk("dist"), Bulk("0.25")})});
  std::vector<float> q = {0.6f, 0.8f};
  auto knn = store->VectorSearch(q, 4);
  ASSERT_TRUE(knn.ok()) << knn.status().ToString();
  const auto& call = server.ft_calls.back();
  EXPECT_EQ(call[2], "*=>[KNN 4 @embedding $vec AS dist]");
  EXPECT_EQ(call[3], "PARAMS");
  EXPECT_EQ(call[6].size(), 2 * sizeof(float));
  ASSERT_EQ(knn->size(), 1u);
  EXPECT_EQ((*knn)[0].chunk_id, 9u);
  EXPECT_FLOAT_EQ((*knn)[0].score, 0.75f);

  server.ft_replies["FT.SEARCH"] = Err("ragkv:docs: no such index");
  EXPECT_EQ(store->TextSearch("x", 1).status().code(), StatusCode::kFailedPrecondition);
}

TEST(ServerStoreTest, ServerWithoutFtCommandsIsAClearError) {
  FakeServer server;
  server.has_ft = false;
  auto store = OpenServerStore(std::make_unique<FakeConnection>(&server), "docs");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("no FT.* commands"));
  EXPECT_EQ(OpenServerStore(std::make_unique<FakeConnection>(&server), "a:b").status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ServerStoreTest, AnInterruptedFileWriteLeavesOrphansThatReadersSkipAndWritersDelete) {
  FakeServer server;
  {
    auto store = Open(&server);
    ASSERT_TRUE(store->BindEmbedder("builtin-v1", 2).ok());
    ASSERT_TRUE(store->PutFile({"/d/a.md", 1, 5, {}}, {Chunk("Kept.")}, {{1.0f, 0.0f}}).ok());
  }
  {
    // The connection dies after the chunk hashes, at the manifest entry.
    auto store =
        OpenServerStore(std::make_unique<FakeConnection>(&server, "ragkv:docs:file:"), "docs");
    ASSERT_TRUE(store.ok());
    EXPECT_FALSE((*store)
                     ->PutFile({"/d/b.md", 2, 9, {}}, {Chunk("Half."), Chunk("Written.")},
                               {{0.0f, 1.0f}, {0.0f, 1.0f}})
                     .ok());
  }
  EXPECT_EQ(server.hashes.count("ragkv:docs:chunk:2"), 1u);  // the orphans exist
  EXPECT_EQ(server.hashes["ragkv:docs:pending"].at("/d/b.md"), "2 2");

  auto reader = Open(&server);
  EXPECT_FALSE(reader->FindFile("/d/b.md").has_value());  // so the next ingest redoes it
  server.ft_replies["FT.SEARCH"] = Arr(
      {Int(2), Bulk("ragkv:docs:chunk:2"), Bulk("2.0"), Bulk("ragkv:docs:chunk:1"), Bulk("1.0")});
  auto hits = reader->TextSearch("written kept", 10);
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ((*hits)[0].chunk_id, 1u);
  EXPECT_EQ(server.hashes.count("ragkv:docs:chunk:2"), 1u);  // reading wrote nothing

  ASSERT_TRUE(reader->PutFile({"/d/b.md", 2, 9, {}}, {Chunk("Whole.")}, {{0.0f, 1.0f}}).ok());
  EXPECT_EQ(server.hashes.count("ragkv:docs:chunk:2"), 0u);
  EXPECT_EQ(server.hashes.count("ragkv:docs:chunk:3"), 0u);
  EXPECT_TRUE(server.hashes["ragkv:docs:pending"].empty());
  EXPECT_EQ(server.hashes["ragkv:docs:file:/d/b.md"]["chunks"], "4 ");
}

TEST(ServerListTest, ParsesUrlListsAndInheritsCredentials) {
  auto one = ParseServerList("redis://localhost");
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].ToString(), "localhost:6379");
  auto list = ParseServerList("redis://u:p@a:7000/,b:7001,redis://:q@c");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 3u);
  EXPECT_EQ((*list)[0].user, "u");
  EXPECT_EQ((*list)[0].password, "p");
  EXPECT_EQ((*list)[1].ToString(), "b:7001");
  EXPECT_EQ((*list)[1].password, "p");
  EXPECT_EQ((*list)[2].user, "");
  EXPECT_EQ((*list)[2].password, "q");
  auto v6 = ParseServerList("redis://[::1]:7002");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ((*v6)[0].host, "::1");
  EXPECT_EQ((*v6)[0].port, 7002);
  for (const char* bad : {"http://x", "redis://", "redis://a:0", "redis://a:99999", "redis://a:1x",
                          "redis://a,", "b:1,redis://a"}) {
    EXPECT_EQ(ParseServerList(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ragkv::rag
