// The embedded engine as processes: an ingest killed with SIGKILL at random
// moments resumes to the same collection as an uninterrupted one, and a
// `ragkv serve` and an embedded process never hold one data directory at
// once (whichever comes second gets a clear error naming the first's pid).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <regex>
#include <thread>

#include "common/log.h"
#include "rag/calibration.h"
#include "rag/chunk_store.h"
#include "rag/embedded_engine.h"
#include "rag/test_util.h"
#include "util/test_server.h"

namespace ragkv::rag {
namespace {

using ::testing::HasSubstr;

std::string Binary() { return std::string(RAGKV_BINARY_DIR) + "/ragkv"; }

struct CliRun {
  int exit_code;
  std::string out;  // stdout and stderr
};

CliRun Ragkv(const std::string& args) {
  CliRun r{-1, {}};
  FILE* p = popen((Binary() + " " + args + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  for (size_t n; (n = fread(buf.data(), 1, buf.size(), p)) > 0;) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// "N new" / "N unchanged" from ingest's summary line; -1 if absent.
int SummaryCount(const std::string& out, const std::string& what) {
  std::smatch m;
  if (!std::regex_search(out, m, std::regex("([0-9]+) " + what + "\\b"))) return -1;
  return std::stoi(m[1]);
}

class EmbeddedEngineProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(Binary())) GTEST_SKIP() << "build the ragkv target first";
    log::SetLevel(log::Level::kWarning);
  }
  void TearDown() override { log::SetLevel(log::Level::kNotice); }
  testing::TempDir docs_, work_;
};

// Made-up words from syllables ("bakito"), so that stemming leaves them alone.
std::vector<std::string> Vocabulary(size_t n) {
  const char* syllables[] = {"ba", "ke", "ti", "mo", "ru", "sa",
                             "de", "fi", "lo", "nu", "pe", "zo"};
  std::vector<std::string> words;
  std::mt19937 rng(11);
  while (words.size() < n) {
    std::string w;
    for (int i = 0; i < 3; ++i) w += syllables[rng() % 12];
    words.push_back(w);
  }
  return words;
}

// Enough files that an ingest takes a noticeable fraction of a second, of
// varied lengths and words, so that no two score the same for a query (ties
// are broken by chunk id, which a resumed ingest assigns differently).
void WriteCorpus(const testing::TempDir& docs, int files, const std::vector<std::string>& vocab) {
  std::mt19937 rng(7);
  for (int i = 0; i < files; ++i) {
    std::string text = "Entry " + std::to_string(i) + "\n\n";
    const int sentences = 3 + static_cast<int>(rng() % 10);
    for (int s = 0; s < sentences; ++s) {
      text += "The " + vocab[rng() % vocab.size()] + " of item" + std::to_string(i) + " uses " +
              vocab[rng() % vocab.size()] + " and " + vocab[rng() % vocab.size()] + ". ";
    }
    docs.Write("d" + std::to_string(i) + ".txt", text + "\n");
  }
}

// What a collection holds, read through the store: every file's chunks in
// order, the embedder statistics, and the number of keys (orphans included).
struct Contents {
  std::map<std::string, std::vector<std::string>> chunks_by_source;
  std::string embedder_state;  // the embedder's statistics, without the calibration
  bool calibrated = false;
  bool stale = true;
  int64_t keys = -1;
};

Contents ReadCollection(const std::string& dir) {
  Contents c;
  {
    auto store = OpenEmbeddedStore(dir, "default");
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return c;
    for (const std::string& source : (*store)->Sources()) {
      const FileEntry file = (*store)->FindFile(source).value();
      for (uint64_t id : file.chunk_ids) {
        c.chunks_by_source[source].push_back((*store)->GetChunk(id).value().text);
      }
    }
    // The calibrated threshold samples chunks by id, and a resumed ingest
    // assigns new ids to the files it redoes, so only its presence is
    // compared; the statistics must match exactly.
    auto state = DecodeCollectionState((*store)->embedder_state());
    EXPECT_TRUE(state.ok()) << state.status().ToString();
    if (state.ok()) {
      c.embedder_state = state->embedder_state;
      c.calibrated = state->calibration.has_value();
    }
    c.stale = (*store)->embedder_state_stale();
  }
  auto engine = OpenEmbeddedEngine(dir);
  EXPECT_TRUE(engine.ok());
  if (engine.ok()) c.keys = (*engine)->Call({"DBSIZE"}).value().integer;
  return c;
}

TEST_F(EmbeddedEngineProcessTest, AnIngestKilledAtRandomMomentsResumesToTheSameCollection) {
  constexpr int kFiles = 3000;
  WriteCorpus(docs_, kFiles, Vocabulary(300));
  const std::string ref = work_.path() + "/ref";
  const auto start = std::chrono::steady_clock::now();
  CliRun clean = Ragkv("ingest " + docs_.path() + " --data " + ref);
  const double clean_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(clean.exit_code, 0) << clean.out;
  const Contents expected = ReadCollection(ref);
  ASSERT_EQ(expected.chunks_by_source.size(), static_cast<size_t>(kFiles));
  EXPECT_FALSE(expected.stale);

  // Kill at several moments of a run; a kill that lands mid-ingest shows as a
  // resume that finds some files already there and adds the rest. Rankings
  // are compared only for queries with one clear answer: among tied scores
  // the order follows chunk ids, which a resumed ingest assigns differently.
  int landed_mid_ingest = 0;
  for (double fraction : {0.25, 0.5, 0.75}) {
    const std::string dir = work_.path() + "/killed-" + std::to_string(fraction);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int null_fd = ::open("/dev/null", O_WRONLY);
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
      execl(Binary().c_str(), Binary().c_str(), "ingest", docs_.path().c_str(), "--data",
            dir.c_str(), nullptr);
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(clean_s * fraction));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);

    CliRun resumed = Ragkv("ingest " + docs_.path() + " --data " + dir);
    ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
    const int added = SummaryCount(resumed.out, "new");
    const int unchanged = SummaryCount(resumed.out, "unchanged");
    ASSERT_EQ(added + unchanged, kFiles) << resumed.out;
    if (added > 0 && unchanged > 0) ++landed_mid_ingest;
    const Contents got = ReadCollection(dir);
    SCOPED_TRACE("killed at " + std::to_string(fraction) + " of the ingest");
    EXPECT_TRUE(got.chunks_by_source == expected.chunks_by_source);
    EXPECT_TRUE(got.embedder_state == expected.embedder_state);
    EXPECT_EQ(got.calibrated, expected.calibrated);
    EXPECT_FALSE(got.stale);
    EXPECT_EQ(got.keys, expected.keys);  // no orphan chunk left behind
    for (const char* q : {"item42", "item2999"}) {
      CliRun r = Ragkv(std::string("search ") + q + " --k 1 --data " + dir);
      EXPECT_THAT(r.out, HasSubstr("/d" + std::string(q + 4) + ".txt")) << r.out;
    }
  }
  EXPECT_GE(landed_mid_ingest, 1) << "no kill landed mid-ingest; a clean ingest took " << clean_s
                                  << " s";
}

TEST_F(EmbeddedEngineProcessTest, ServeAndAnEmbeddedProcessNeverShareADataDirectory) {
  docs_.Write("replication.md", "# Replication\nReplication keeps copies of the data.\n");
  const std::string data = work_.path() + "/data";
  ASSERT_EQ(Ragkv("ingest " + docs_.path() + " --data " + data).exit_code, 0);

  {
    // The server loads what the embedded process wrote ...
    ragkv::testing::TestServer server;
    ASSERT_TRUE(server.Start({"--dir", data, "--appendonly", "yes"})) << server.log();
    const std::string url = "--server redis://127.0.0.1:" + std::to_string(server.port());
    CliRun search = Ragkv("search replication --k 1 " + url);
    EXPECT_EQ(search.exit_code, 0) << search.out;
    EXPECT_THAT(search.out, HasSubstr("replication.md"));
    // ... and keeps embedded processes out while it runs.
    CliRun refused = Ragkv("ask 'What is replication?' --data " + data);
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_THAT(refused.out,
                HasSubstr("data directory " + data + " is in use by another ragkv process (pid " +
                          std::to_string(server.pid()) + ")"));
    EXPECT_EQ(std::count(refused.out.begin(), refused.out.end(), '\n'), 1) << refused.out;
  }
  {
    // An embedded store holding the directory keeps a server from starting.
    auto store = OpenEmbeddedStore(data, "default");
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ragkv::testing::TestServer server;
    EXPECT_FALSE(server.Start({"--dir", data, "--appendonly", "yes"}, 5000));
    EXPECT_THAT(server.log(),
                HasSubstr("data directory " + data + " is in use by another ragkv process (pid " +
                          std::to_string(::getpid()) + ")"));
  }
  // Once nobody holds it, the embedded process opens it again.
  EXPECT_EQ(Ragkv("search replication --k 1 --data " + data).exit_code, 0);
}

}  // namespace
}  // namespace ragkv::rag
