// `ragkv check-aof` / `ragkv check-snapshot` run as the operator would, on
// files made by the library in a temp directory.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "persistence/aof.h"
#include "persistence/test_util.h"
#include "search/schema.h"
#include "search/search_index.h"

namespace ragkv::persistence {
namespace {

struct RunResult {
  int exit_code = -1;
  std::string output;
};

RunResult RunRagkv(const std::string& args) {
  const std::string cmd = std::string(RAGKV_BINARY_DIR) + "/ragkv " + args + " 2>&1";
  RunResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class CheckCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ragkv-check-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    AofOptions o;
    o.dir = dir_;
    o.fsync = FsyncPolicy::kNo;
    testing::CollectingVisitor v;
    auto log = AppendOnlyLog::Open(fs_, o, v, nullptr);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 10; ++i) (*log)->Append(0, {"SET", testing::Key("k", i), "value"});
    ASSERT_TRUE((*log)->writer().SyncNow().ok());
    incr_ = JoinPath(dir_, "appendonlydir/appendonly.aof.1.incr.aof");
    manifest_ = JoinPath(dir_, "appendonlydir/appendonly.aof.manifest");
    size_ = *fs_.FileSize(incr_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Damage(uint64_t offset) {
    std::string data = *ReadFileToString(fs_, incr_);
    data[offset] ^= 0x10;
    ASSERT_TRUE(WriteFileAtomically(fs_, incr_, data).ok());
  }

  FileSystem& fs_ = *DefaultFileSystem();
  std::string dir_, incr_, manifest_;
  uint64_t size_ = 0;
};

TEST_F(CheckCommandTest, CleanLogPasses) {
  RunResult r = RunRagkv("check-aof " + manifest_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("10 records"), std::string::npos) << r.output;
}

TEST_F(CheckCommandTest, TornTailIsReportedThenFixed) {
  ASSERT_TRUE(fs_.Truncate(incr_, size_ - 3).ok());
  RunResult r = RunRagkv("check-aof " + incr_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("torn tail"), std::string::npos) << r.output;
  r = RunRagkv("check-aof --fix " + manifest_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = RunRagkv("check-aof " + incr_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("9 records"), std::string::npos) << r.output;
}

TEST_F(CheckCommandTest, MidFileCorruptionNeedsTheExplicitFlag) {
  Damage(size_ / 2);
  RunResult r = RunRagkv("check-aof --fix " + incr_);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("CORRUPTION at offset"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--truncate-to-last-good"), std::string::npos) << r.output;
  EXPECT_EQ(*fs_.FileSize(incr_), size_);  // untouched
  r = RunRagkv("check-aof --fix --truncate-to-last-good " + incr_);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LT(*fs_.FileSize(incr_), size_);
  EXPECT_EQ(RunRagkv("check-aof " + incr_).exit_code, 0);
}

TEST_F(CheckCommandTest, SnapshotCheckReportsCountsAndDamage) {
  const std::string path = JoinPath(dir_, "dump.rks");
  {
    auto w = SnapshotWriter::Create(fs_, path);
    ASSERT_TRUE(w.ok());
    for (int db : {0, 0, 3}) {
      SnapshotEntry e;
      e.db = db;
      e.key = testing::Key("k", db);
      ASSERT_TRUE((*w)->Add(e).ok());
    }
    ASSERT_TRUE((*w)->Finish().ok());
  }
  RunResult r = RunRagkv("check-snapshot " + path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("3 entries"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("db3: 1 entries"), std::string::npos) << r.output;
  std::string data = *ReadFileToString(fs_, path);
  data[data.size() / 2] ^= 1;
  ASSERT_TRUE(WriteFileAtomically(fs_, path, data).ok());
  r = RunRagkv("check-snapshot " + path);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("CORRUPTION"), std::string::npos) << r.output;
  EXPECT_EQ(RunRagkv("check-snapshot " + path + ".missing").exit_code, 2);
}

TEST_F(CheckCommandTest, SnapshotCheckVerifiesSavedVectorIndexes) {
  // A saved vector field as the server writes it (search/vector_snapshot.h).
  std::vector<std::string> args = {"idx", "SCHEMA", "v", "VECTOR", "HNSW", "6", "TYPE",
                                   "FLOAT32", "DIM", "4", "DISTANCE_METRIC", "L2"};
  auto schema = search::ParseFtCreate(testing::Views(args));
  ASSERT_TRUE(schema.ok());
  auto index = search::SearchIndex::Create(std::move(*schema), 0);
  ASSERT_TRUE(index.ok());
  for (int i = 0; i < 50; ++i) {
    const float v[4] = {static_cast<float>(i), 1, 2, static_cast<float>(i % 7)};
    store::HashMap hash;
    hash.emplace("v", std::string(reinterpret_cast<const char*>(v), sizeof(v)));
    (*index)->Upsert(testing::Key("doc:", i), hash);
  }
  struct Sink : search::SavedFieldSink {
    Status Begin(std::string_view, uint64_t) override { return Status::Ok(); }
    Status Append(std::string_view chunk) override {
      blob.append(chunk);
      return Status::Ok();
    }
    std::string blob;
  } sink;
  ASSERT_TRUE((*index)->SaveVectorFields(sink).ok());
  const std::string path = JoinPath(dir_, "dump.rks");
  const auto write = [&](const std::string& blob) {
    auto w = SnapshotWriter::Create(fs_, path);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->AddSection("vector-index:idx:v", blob).ok());
    ASSERT_TRUE((*w)->Finish().ok());
  };
  write(sink.blob);
  RunResult r = RunRagkv("check-snapshot " + path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("vector-index:idx:v: HNSW FLOAT32 dim 4, 50 vectors, 50 documents"),
            std::string::npos)
      << r.output;
  // Damage inside the section under a valid file checksum: only the
  // section's own verification can see it.
  std::string damaged = sink.blob;
  damaged[damaged.size() / 2] ^= 0x20;
  write(damaged);
  r = RunRagkv("check-snapshot " + path);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("vector-index:idx:v: DAMAGED"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ragkv::persistence
