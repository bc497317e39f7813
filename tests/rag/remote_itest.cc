// The Ollama and OpenAI-compatible clients against a fake server that speaks
// the documented wire formats (shared/specs/rag.md §1): batching and model
// prefixes for embeddings, NDJSON and SSE streaming, errors in the middle of
// a stream, 404 for unknown models, retries, timeouts and refused connections.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "rag/chunk_store.h"
#include "rag/fake_llm_server.h"
#include "rag/ingest.h"
#include "rag/remote.h"
#include "rag/retriever.h"
#include "rag/server_connection.h"
#include "rag/test_util.h"

namespace ragkv::rag {
namespace {

using testing::FakeLlmServer;
using ::testing::HasSubstr;
using testing::HttpRequest;
using Json = nlohmann::json;

std::string Line(const Json& j) { return j.dump() + "\n"; }

// Answers /api/embed with a 3-d vector per input whose first component is the
// input length (so order can be checked), unnormalised; 404 for other models.
void OllamaEmbed(const HttpRequest& req, int fd) {
  Json body = Json::parse(req.body);
  if (body["model"] != "nomic-embed-text") {
    FakeLlmServer::SendJson(fd, 404, R"({"error":"model 'x' not found, try pulling it first"})");
    return;
  }
  Json out = Json::array();
  for (const Json& in : body["input"]) {
    out.push_back({static_cast<double>(in.get<std::string>().size()), 0.0, 0.0});
  }
  FakeLlmServer::SendJson(fd, 200,
                          Json({{"model", "nomic-embed-text"}, {"embeddings", out}}).dump());
}

RemoteOptions Options(const FakeLlmServer& s) {
  RemoteOptions o;
  o.ollama_url = s.url();
  o.openai_url = s.url() + "/v1";
  o.timeout_seconds = 2;
  o.retries = 1;
  o.batch_size = 2;
  return o;
}

TEST(OllamaEmbedderTest, BatchesPrefixesAndNormalises) {
  FakeLlmServer server(OllamaEmbed);
  auto e = NewOllamaEmbedder("nomic-embed-text", Options(server));
  auto v = e->Embed({"a", "bb", "ccc", "dddd", "eeeee"}, EmbedPurpose::kDocument);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 5u);
  EXPECT_EQ(e->dim(), 3u);
  EXPECT_FLOAT_EQ((*v)[0][0], 1.0f);  // normalised
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);  // batches of 2, 2, 1
  Json first = Json::parse(requests[0].body);
  EXPECT_EQ(requests[0].path, "/api/embed");
  EXPECT_EQ(first["input"][0], "search_document: a");
  EXPECT_EQ(first["truncate"], true);
  auto q = e->Embed({"why"}, EmbedPurpose::kQuery);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(Json::parse(server.requests().back().body)["input"][0], "search_query: why");
  EXPECT_EQ(e->id(), "ollama:nomic-embed-text");
}

TEST(OllamaEmbedderTest, UnknownModelSaysToPullIt) {
  FakeLlmServer server(OllamaEmbed);
  auto e = NewOllamaEmbedder("all-minilm", Options(server));
  auto v = e->Embed({"a"}, EmbedPurpose::kDocument);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("run `ollama pull all-minilm`"));
}

TEST(OllamaEmbedderTest, RefusedConnectionIsUnavailable) {
  int port;
  {
    FakeLlmServer server(OllamaEmbed);
    port = server.port();
  }  // closed: nothing listens there now
  RemoteOptions o;
  o.ollama_url = "http://127.0.0.1:" + std::to_string(port);
  o.retries = 0;
  auto v = NewOllamaEmbedder("nomic-embed-text", o)->Embed({"a"}, EmbedPurpose::kDocument);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("is it running? set --ollama-url"));
}

TEST(OllamaEmbedderTest, ServerErrorsAreRetried) {
  int calls = 0;
  FakeLlmServer server([&](const HttpRequest& req, int fd) {
    if (++calls == 1) {
      FakeLlmServer::SendJson(fd, 503, R"({"error":"server busy, please try again."})");
    } else {
      OllamaEmbed(req, fd);
    }
  });
  auto v =
      NewOllamaEmbedder("nomic-embed-text", Options(server))->Embed({"a"}, EmbedPurpose::kQuery);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(calls, 2);
}

TEST(OllamaEmbedderTest, SlowServerTimesOut) {
  FakeLlmServer server([](const HttpRequest&, int) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  });
  RemoteOptions o = Options(server);
  o.timeout_seconds = 0.5;
  o.retries = 0;
  auto v = NewOllamaEmbedder("nomic-embed-text", o)->Embed({"a"}, EmbedPurpose::kQuery);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(v.status().message()), HasSubstr("did not answer within"));
}

AnswerContext Context() {
  AnswerContext ctx;
  ctx.question = "What is replication?";
  RetrievedChunk c;
  c.chunk.source = "/d/replication.md";
  c.chunk.title = "Replication";
  c.chunk.text = "Replication keeps copies of data on several servers.";
  ctx.chunks.push_back(c);
  return ctx;
}

void OllamaChatStream(int fd, const std::vector<std::string>& tokens, bool finish) {
  FakeLlmServer::StartStream(fd, "application/x-ndjson");
  for (const std::string& t : tokens) {
    // Split a line across two writes to exercise partial-line buffering.
    std::string line = Line({{"model", "llama3.2"},
                             {"created_at", "2023-08-04T08:52:19Z"},
                             {"message", {{"role", "assistant"}, {"content", t}}},
                             {"done", false}});
    FakeLlmServer::SendRaw(fd, line.substr(0, 7));
    FakeLlmServer::SendRaw(fd, line.substr(7));
  }
  if (finish) {
    FakeLlmServer::SendRaw(fd, Line({{"model", "llama3.2"},
                                     {"message", {{"role", "assistant"}, {"content", ""}}},
                                     {"done", true},
                                     {"done_reason", "stop"},
                                     {"eval_count", 3}}));
  }
}

TEST(OllamaGeneratorTest, StreamsNdjsonTokensWithGroundedPrompt) {
  FakeLlmServer server([](const HttpRequest&, int fd) {
    OllamaChatStream(fd, {"Copies", " of data", " [1]."}, true);
  });
  auto g = NewOllamaGenerator("llama3.2", Options(server));
  std::vector<std::string> tokens;
  auto answer = g->Generate(Context(), [&](std::string_view t) { tokens.emplace_back(t); });
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(*answer, "Copies of data [1].");
  EXPECT_EQ(tokens.size(), 3u);
  Json req = Json::parse(server.requests().at(0).body);
  EXPECT_EQ(server.requests()[0].path, "/api/chat");
  EXPECT_EQ(req["stream"], true);
  EXPECT_GE(req["options"]["num_ctx"].get<int>(), 2048);
  EXPECT_EQ(req["messages"][0]["role"], "system");
  EXPECT_THAT(req["messages"][0]["content"].get<std::string>(), HasSubstr("Cite"));
  std::string user = req["messages"][1]["content"];
  EXPECT_THAT(user, HasSubstr("[1] (/d/replication.md (Replication))"));
  EXPECT_THAT(user, HasSubstr("Question: What is replication?"));
}

TEST(OllamaGeneratorTest, ErrorLineMidStreamFails) {
  FakeLlmServer server([](const HttpRequest&, int fd) {
    OllamaChatStream(fd, {"Partial"}, false);
    FakeLlmServer::SendRaw(fd, R"({"error":"an error was encountered while running the model"})"
                               "\n");
  });
  auto answer = NewOllamaGenerator("llama3.2", Options(server))->Generate(Context(), nullptr);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(answer.status().message()),
              HasSubstr("an error was encountered while running the model"));
  EXPECT_EQ(server.requests().size(), 1u);  // a started stream is never retried
}

TEST(OllamaGeneratorTest, TruncatedStreamAndUnknownModelFail) {
  FakeLlmServer server([](const HttpRequest& req, int fd) {
    if (Json::parse(req.body)["model"] == "missing") {
      FakeLlmServer::SendJson(fd, 404, R"({"error":"model 'missing' not found"})");
    } else {
      OllamaChatStream(fd, {"half an answ"}, false);  // connection closes, no done:true
    }
  });
  auto cut = NewOllamaGenerator("llama3.2", Options(server))->Generate(Context(), nullptr);
  EXPECT_EQ(cut.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(cut.status().message()), HasSubstr("closed the stream"));
  auto missing = NewOllamaGenerator("missing", Options(server))->Generate(Context(), nullptr);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("ollama pull missing"));
}

TEST(OpenAiGeneratorTest, StreamsSseWithCommentsAndDone) {
  FakeLlmServer server([](const HttpRequest&, int fd) {
    FakeLlmServer::StartStream(fd, "text/event-stream");
    auto chunk = [](const Json& delta, const Json& finish) {
      return "data: " +
             Json({{"id", "chatcmpl-1"},
                   {"object", "chat.completion.chunk"},
                   {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}})
                 .dump() +
             "\n\n";
    };
    FakeLlmServer::SendRaw(fd, chunk({{"role", "assistant"}, {"content", "This"}}, nullptr));
    FakeLlmServer::SendRaw(fd, ": ping\n\n");
    FakeLlmServer::SendRaw(fd, chunk({{"content", " is [1]."}}, nullptr));
    FakeLlmServer::SendRaw(fd, chunk(Json::object(), "stop"));
    FakeLlmServer::SendRaw(fd, "data: [DONE]\n\n");
  });
  RemoteOptions o = Options(server);
  o.openai_api_key = "sk-test";
  auto answer = NewOpenAiGenerator("llama3.2", o)->Generate(Context(), nullptr);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(*answer, "This is [1].");
  EXPECT_EQ(server.requests()[0].path, "/v1/chat/completions");
}

TEST(OpenAiGeneratorTest, ErrorEventMidStreamFails) {
  FakeLlmServer server([](const HttpRequest&, int fd) {
    FakeLlmServer::StartStream(fd, "text/event-stream");
    FakeLlmServer::SendRaw(fd,
                           "data: {\"error\":{\"message\":\"boom\",\"type\":\"api_error\"}}\n\n");
  });
  auto answer = NewOpenAiGenerator("m", Options(server))->Generate(Context(), nullptr);
  EXPECT_EQ(answer.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(std::string(answer.status().message()), HasSubstr("boom"));
}

TEST(OpenAiEmbedderTest, ReordersByIndexAndMapsErrors) {
  FakeLlmServer server([](const HttpRequest& req, int fd) {
    Json body = Json::parse(req.body);
    if (body["model"] != "emb") {
      FakeLlmServer::SendJson(
          fd, 404,
          R"({"error":{"message":"model \"x\" not found, try pulling it first",)"
          R"("type":"not_found_error"}})");
      return;
    }
    Json data = Json::array();
    for (size_t i = body["input"].size(); i-- > 0;) {  // reversed order
      data.push_back({{"object", "embedding"},
                      {"index", i},
                      {"embedding", {0.0, static_cast<double>(i + 1)}}});
    }
    FakeLlmServer::SendJson(fd, 200, Json({{"object", "list"}, {"data", data}}).dump());
  });
  auto v = NewOpenAiEmbedder("emb", Options(server))->Embed({"x", "y"}, EmbedPurpose::kDocument);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(server.requests()[0].path, "/v1/embeddings");
  EXPECT_FLOAT_EQ((*v)[0][1], 1.0f);
  auto bad = NewOpenAiEmbedder("nope", Options(server))->Embed({"x"}, EmbedPurpose::kDocument);
  EXPECT_EQ(bad.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("not found"));
}

TEST(OllamaEmbedderTest, IngestAndRetrieveThroughTheFakeServer) {
  FakeLlmServer server(OllamaEmbed);
  testing::TempDir docs, data;
  docs.Write("a.txt", "Alpha\n\nReplication keeps copies.");
  docs.Write("b.txt", "Bravo\n\nA B-tree keeps keys sorted and balanced.");
  auto store = OpenEmbeddedStore(data.path(), "c").value();
  auto embedder = NewOllamaEmbedder("nomic-embed-text", Options(server));
  auto summary = Ingest({docs.path()}, store.get(), embedder.get(), {});
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(store->info().embedder_id, "ollama:nomic-embed-text");
  EXPECT_EQ(store->info().dim, 3u);
  auto query_embedder = NewOllamaEmbedder("nomic-embed-text", Options(server));
  auto retriever = Retriever::Create(store.get(), query_embedder.get());
  ASSERT_TRUE(retriever.ok()) << retriever.status().ToString();
  auto r = retriever->Retrieve("Why are keys sorted in a B-tree?", 2);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_FALSE(r->hits.empty());
  EXPECT_NE(r->hits[0].chunk.source.find("b.txt"), std::string::npos);
  EXPECT_GT(r->hits[0].vector_rank, 0);
  EXPECT_EQ(Json::parse(server.requests().back().body)["input"][0].get<std::string>().rfind(
                "search_query: ", 0),
            0u);
  auto builtin = NewBuiltinEmbedder();
  EXPECT_EQ(Retriever::Create(store.get(), builtin.get()).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(ServerConnectTest, UnreachableServersAreNamed) {
  auto servers = ParseServerList("redis://127.0.0.1:1");
  ASSERT_TRUE(servers.ok());
  for (ServerRole role : {ServerRole::kAny, ServerRole::kLeader}) {
    auto r = ConnectToServers(*servers, role, 1);
    EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("127.0.0.1:1"));
  }
}

TEST(GroundedPromptTest, DropsChunksToFitTheLimit) {
  AnswerContext ctx = Context();
  for (int i = 0; i < 50; ++i) ctx.chunks.push_back(ctx.chunks[0]);
  Prompt p = BuildGroundedPrompt(ctx, 2000);
  EXPECT_LE(p.system.size() + p.user.size(), 2000u);
  EXPECT_THAT(p.user, HasSubstr("[2] "));
  EXPECT_THAT(p.user, ::testing::Not(HasSubstr("[40] ")));
  EXPECT_THAT(p.user, ::testing::EndsWith("Question: What is replication?\n"));
}

}  // namespace
}  // namespace ragkv::rag
