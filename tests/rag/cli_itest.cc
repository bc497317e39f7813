// The `ragkv` binary end to end: ingest, search --json, ask --questions (the
// transcript), eval, and the one-line errors that leave stored data as it was.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "rag/fake_llm_server.h"
#include "rag/store_io.h"
#include "rag/test_util.h"

namespace ragkv::rag {
namespace {

using ::testing::HasSubstr;

struct CliRun {
  int exit_code;
  std::string out;  // stdout and stderr
};

CliRun Ragkv(const std::string& args) {
  const std::string cmd = std::string(RAGKV_BINARY_DIR) + "/ragkv " + args + " 2>&1";
  CliRun r{-1, {}};
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Every file of `dir` by name, with its bytes.
std::map<std::string, std::string> FilesIn(const std::string& dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    files[e.path().filename().string()] = ReadWholeFile(e.path().string()).value();
  }
  return files;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(std::string(RAGKV_BINARY_DIR) + "/ragkv")) {
      GTEST_SKIP() << "build the ragkv target first";
    }
    docs_.Write("replication.md",
                "# Replication\nReplication keeps copies of the same data on several servers, "
                "so that another server can take over when one fails.\n");
    docs_.Write("btree.txt", "B-tree\n\nA B-tree is a balanced tree that keeps keys sorted.\n");
    data_ = "--data " + work_.path() + "/data";
  }
  testing::TempDir docs_, work_;
  std::string data_;
};

TEST_F(CliTest, IngestSearchAskEval) {
  CliRun ingest = Ragkv("ingest " + docs_.path() + " " + data_);
  ASSERT_EQ(ingest.exit_code, 0) << ingest.out;
  EXPECT_THAT(ingest.out, HasSubstr("2 new"));

  CliRun search = Ragkv("search 'balanced tree' --json --k 1 " + data_);
  ASSERT_EQ(search.exit_code, 0) << search.out;
  auto j = nlohmann::json::parse(search.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << search.out;
  EXPECT_EQ(j["query"], "balanced tree");
  ASSERT_EQ(j["hits"].size(), 1u);
  for (const char* key : {"rank", "source", "chunk", "score", "text"}) {
    EXPECT_TRUE(j["hits"][0].contains(key)) << key;
  }
  EXPECT_THAT(j["hits"][0]["source"].get<std::string>(), HasSubstr("btree.txt"));

  std::string questions = work_.Write("q.txt",
                                      "What is the purpose of data replication?\n"
                                      "How does the AVL tree maintain balance?\n");
  std::string transcript = work_.path() + "/transcript.txt";
  CliRun ask = Ragkv("ask --questions " + questions + " --out " + transcript + " " + data_);
  ASSERT_EQ(ask.exit_code, 0) << ask.out;
  std::string written = ReadWholeFile(transcript).value();
  EXPECT_EQ(written, ask.out);
  const std::string rule = std::string(50, '=');
  EXPECT_EQ(written.rfind("Question: What is the purpose of data replication?\nResponse:\n", 0),
            0u);
  EXPECT_THAT(written, HasSubstr("[1]"));
  EXPECT_THAT(written, HasSubstr("\nSources:\n[1] " + docs_.path() + "/replication.md"));
  EXPECT_THAT(written, HasSubstr("\n" + rule +
                                 "\nQuestion: How does the AVL tree maintain "
                                 "balance?\nResponse:\nThe documents do not contain the answer"));
  EXPECT_EQ(written.substr(written.size() - rule.size() - 1), rule + "\n");

  // The ingest calibrated the abstention threshold; ask --json reports it.
  EXPECT_THAT(ingest.out, HasSubstr("abstention threshold "));
  CliRun ask_json = Ragkv("ask 'What is a B-tree?' --json " + data_);
  ASSERT_EQ(ask_json.exit_code, 0) << ask_json.out;
  auto answer = nlohmann::json::parse(ask_json.out, nullptr, false);
  ASSERT_FALSE(answer.is_discarded()) << ask_json.out;
  ASSERT_TRUE(answer["threshold"].is_number());
  EXPECT_GE(answer["threshold"].get<double>(), 0.0);
  EXPECT_LE(answer["threshold"].get<double>(), 1.0);
  EXPECT_TRUE(answer["threshold_calibrated"].get<bool>());
  EXPECT_EQ(answer["not_mentioned"], nlohmann::json::array());
  CliRun declined = Ragkv("ask 'How does the AVL tree maintain balance?' --json " + data_);
  ASSERT_EQ(declined.exit_code, 0) << declined.out;
  auto decline = nlohmann::json::parse(declined.out, nullptr, false);
  ASSERT_FALSE(decline.is_discarded()) << declined.out;
  EXPECT_TRUE(decline["abstained"].get<bool>());
  EXPECT_EQ(decline["not_mentioned"][0], "AVL");  // as written, not the stem "avl"

  std::string qrels = work_.Write(
      "qrels.jsonl",
      R"({"id":"q1","question":"copies of data on servers","relevant":{"replication":2}})"
      "\n");
  CliRun eval = Ragkv("eval " + qrels + " --run-out " + work_.path() + "/run.jsonl " + data_);
  ASSERT_EQ(eval.exit_code, 0) << eval.out;
  EXPECT_THAT(eval.out, HasSubstr("all answerable    1   1.000"));
  EXPECT_THAT(eval.out, HasSubstr("abstention threshold: "));
  EXPECT_THAT(ReadWholeFile(work_.path() + "/run.jsonl").value(),
              HasSubstr(R"("ranked":["replication")"));
}

TEST_F(CliTest, AskStreamsAnOllamaAnswerThenItsSources) {
  testing::FakeLlmServer ollama([](const testing::HttpRequest&, int fd) {
    testing::FakeLlmServer::StartStream(fd, "application/x-ndjson");
    for (const char* token : {"Copies on ", "several servers [1]."}) {
      nlohmann::json line = {{"model", "llama3.2"},
                             {"message", {{"role", "assistant"}, {"content", token}}},
                             {"done", false}};
      testing::FakeLlmServer::SendRaw(fd, line.dump() + "\n");
    }
    testing::FakeLlmServer::SendRaw(fd, R"({"model":"llama3.2","done":true,"done_reason":"stop"})"
                                        "\n");
  });
  ASSERT_EQ(Ragkv("ingest " + docs_.path() + " " + data_).exit_code, 0);
  CliRun ask = Ragkv(
      "ask 'What is the purpose of data replication?' --llm ollama:llama3.2 "
      "--ollama-url " +
      ollama.url() + " " + data_);
  ASSERT_EQ(ask.exit_code, 0) << ask.out;
  EXPECT_EQ(ask.out.rfind("Copies on several servers [1].\n\nSources:\n[1] ", 0), 0u) << ask.out;
  EXPECT_THAT(ask.out, ::testing::Not(HasSubstr("Extractive")));
}

TEST_F(CliTest, ErrorsAreOneActionableLineAndLeaveDataAlone) {
  ASSERT_EQ(Ragkv("ingest " + docs_.path() + " " + data_).exit_code, 0);
  const std::string log_dir = work_.path() + "/data/appendonlydir";
  const std::map<std::string, std::string> before = FilesIn(log_dir);
  ASSERT_FALSE(before.empty());

  CliRun missing = Ragkv("ingest " + docs_.path() + "/nope " + data_);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(missing.out, "ragkv: no such file or directory: " + docs_.path() + "/nope\n");

  CliRun other = Ragkv("ask 'x' --embedder ollama:nomic-embed-text " + data_);
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.out, HasSubstr("--embedder builtin-v1"));
  EXPECT_EQ(std::count(other.out.begin(), other.out.end(), '\n'), 1);

  CliRun empty = Ragkv("ask 'x' --data " + work_.path() + "/empty");
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_THAT(empty.out, HasSubstr("run `ragkv ingest PATH` first"));

  CliRun neither = Ragkv("ask " + data_);
  EXPECT_EQ(neither.exit_code, 1);
  EXPECT_THAT(neither.out, HasSubstr("give either a QUESTION or --questions FILE"));

  CliRun down =
      Ragkv("ask 'replication' --llm ollama:llama3.2 --ollama-url http://127.0.0.1:1 " + data_);
  EXPECT_EQ(down.exit_code, 1);
  EXPECT_THAT(down.out, HasSubstr("cannot reach Ollama at http://127.0.0.1:1"));

  EXPECT_EQ(FilesIn(log_dir), before);
  CliRun again = Ragkv("ingest " + docs_.path() + " " + data_);
  EXPECT_THAT(again.out, HasSubstr("2 unchanged"));
}

}  // namespace
}  // namespace ragkv::rag
