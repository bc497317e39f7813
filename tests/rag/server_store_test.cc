// The server-mode ChunkStore against an in-memory fake of the hash/set
// commands, checking the exact FT.CREATE / FT.SEARCH commands it sends and
// how it reads their replies; plus the RESP codec it speaks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>

#include "rag/chunk_store.h"
#include "rag/resp_client.h"

namespace ragkv::rag {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

RespValue Bulk(std::string s) {
  RespValue v;
  v.type = RespValue::Type::kBulk;
  v.str = std::move(s);
  return v;
}
RespValue Int(int64_t i) {
  RespValue v;
  v.type = RespValue::Type::kInteger;
  v.integer = i;
  return v;
}
RespValue Err(std::string s) {
  RespValue v;
  v.type = RespValue::Type::kError;
  v.str = std::move(s);
  return v;
}
RespValue Arr(std::vector<RespValue> e) {
  RespValue v;
  v.type = RespValue::Type::kArray;
  v.elements = std::move(e);
  return v;
}

// Hashes and sets in memory; FT.* answered from `ft_replies` (by command
// name) and recorded.
struct FakeServer {
  std::map<std::string, std::map<std::string, std::string>> hashes;
  std::map<std::string, std::set<std::string>> sets;
  std::vector<std::vector<std::string>> ft_calls;
  std::map<std::string, RespValue> ft_replies;
  bool has_ft = true;
  bool index_exists = false;
};

class FakeConnection : public RespConnection {
 public:
  explicit FakeConnection(FakeServer* s) : s_(s) {}
  Result<RespValue> Call(const std::vector<std::string>& a) override {
    const std::string& cmd = a[0];
    if (cmd.rfind("FT.", 0) == 0) {
      if (!s_->has_ft) return Err("ERR unknown command '" + cmd + "'");
      s_->ft_calls.push_back(a);
      if (cmd == "FT.CREATE") {
        s_->index_exists = true;
        return RespValue{RespValue::Type::kSimple, "OK", 0, {}};
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
    if (cmd == "SADD") return Int(s_->sets[a[1]].insert(a[2]).second);
    if (cmd == "SREM") return Int(static_cast<int64_t>(s_->sets[a[1]].erase(a[2])));
    if (cmd == "SMEMBERS") {
      std::vector<RespValue> out;
      for (const auto& m : s_->sets[a[1]]) out.push_back(Bulk(m));
      return Arr(out);
    }
    if (cmd == "DEL") {
      int64_t n = 0;
      for (size_t i = 1; i < a.size(); ++i) n += static_cast<int64_t>(s_->hashes.erase(a[i]));
      return Int(n);
    }
    return Err("ERR unexpected command " + cmd);
  }

 private:
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
  EXPECT_TRUE(server.sets["ragkv:docs:files"].empty());
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

TEST(RespCodecTest, EncodesBinarySafeCommands) {
  EXPECT_EQ(EncodeCommand({"HSET", "k", std::string("a\0b", 3)}),
            std::string("*3\r\n$4\r\nHSET\r\n$1\r\nk\r\n$3\r\na\0b\r\n", 30));
}

TEST(RespCodecTest, ParsesWholeByteByByteAndSplitAnywhere) {
  const std::string reply =
      "*5\r\n:2\r\n$18\r\nragkv:docs:chunk:7\r\n+OK\r\n*2\r\n$4\r\ndist\r\n$-1\r\n-ERR x\r\n";
  RespValue v;
  size_t consumed = 0;
  std::string error;
  ASSERT_EQ(ParseReply(reply, &v, &consumed, &error), ParseOutcome::kComplete);
  EXPECT_EQ(consumed, reply.size());
  EXPECT_EQ(v.DebugString(), "[2, ragkv:docs:chunk:7, OK, [dist, (nil)], -ERR x]");
  for (size_t cut = 0; cut < reply.size(); ++cut) {
    RespValue part;
    size_t c = 0;
    ASSERT_EQ(ParseReply(reply.substr(0, cut), &part, &c, &error), ParseOutcome::kNeedMore)
        << "cut at " << cut;
  }
  // Two replies back to back: the first is consumed exactly.
  std::string two = ":1\r\n:2\r\n";
  ASSERT_EQ(ParseReply(two, &v, &consumed, &error), ParseOutcome::kComplete);
  EXPECT_EQ(consumed, 4u);
}

TEST(RespCodecTest, ProtocolErrorsAreErrors) {
  RespValue v;
  size_t consumed;
  std::string error;
  const std::vector<std::string> bad_replies = {"?x\r\n",      ":12a\r\n", "$-5\r\n",
                                                "$3\r\nabcXY", "*-9\r\n",  "*1x\r\n"};
  for (const std::string& bad : bad_replies) {
    EXPECT_EQ(ParseReply(bad, &v, &consumed, &error), ParseOutcome::kError) << bad;
  }
}

}  // namespace
}  // namespace ragkv::rag
