// AppendOnlyLog: the manifest, recovery rules at load, and rewrite crash safety.
#include <gtest/gtest.h>

#include "persistence/aof.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/test_util.h"

namespace ragkv::persistence {
namespace {

using testing::CollectingVisitor;
using testing::Command;
using testing::Model;

constexpr char kIncr1[] = "data/appendonlydir/appendonly.aof.1.incr.aof";

AofOptions Options() {
  AofOptions o;
  o.dir = "data";
  o.fsync = FsyncPolicy::kAlways;
  return o;
}

Result<std::unique_ptr<AppendOnlyLog>> Open(FaultInjectingFileSystem& fs, CollectingVisitor& v,
                                            AofLoadStats* stats = nullptr,
                                            AofOptions options = Options()) {
  return AppendOnlyLog::Open(fs, options, v, stats);
}

void Set(AppendOnlyLog& log, int db, const std::string& k, const std::string& v) {
  ASSERT_TRUE(log.WaitDurable(log.Append(db, {"SET", k, v})).ok());
}

// Writes `n` SETs to a fresh log and returns the record file's bytes.
std::string WriteLog(FaultInjectingFileSystem& fs, int n) {
  CollectingVisitor v;
  auto log = Open(fs, v);
  EXPECT_TRUE(log.ok());
  for (int i = 0; i < n; ++i) Set(**log, 0, testing::Key("k", i), "v");
  log->reset();
  return fs.Contents(kIncr1);
}

TEST(AofManifestTest, ParsesAndSerializes) {
  const std::string text =
      "file appendonly.aof.3.base.rks seq 3 type b\n"
      "file appendonly.aof.3.incr.aof seq 3 type i\n"
      "file appendonly.aof.4.incr.aof seq 4 type i\n";
  auto m = AofManifest::Parse(text);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->files.size(), 3u);
  EXPECT_EQ(m->files[0].type, AofFileInfo::Type::kBase);
  EXPECT_EQ(m->max_seq(), 4u);
  EXPECT_EQ(m->Serialize(), text);
}

TEST(AofManifestTest, RejectsMalformedManifests) {
  for (const char* bad :
       {"", "file a seq 1 type i extra\n", "file a seq x type i\n", "file ../a seq 1 type i\n",
        "file a seq 1 type q\n", "file a seq 1 type i\nfile b seq 2 type b\n",
        "file a seq 1 type b\n", "nonsense\n"}) {
    auto m = AofManifest::Parse(bad);
    EXPECT_FALSE(m.ok()) << bad;
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), StatusCode::kCorruption);
    }
  }
}

TEST(AofLogTest, FreshDirectoryGetsManifestAndFirstIncrFile) {
  FaultInjectingFileSystem fs;
  CollectingVisitor v;
  auto log = Open(fs, v);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(fs.Contents("data/appendonlydir/appendonly.aof.manifest"),
            "file appendonly.aof.1.incr.aof seq 1 type i\n");
  EXPECT_EQ(fs.Contents(kIncr1), AofFileHeader());
  // Durable from the start: survives an immediate power cut.
  fs.PowerLoss();
  CollectingVisitor v2;
  EXPECT_TRUE(Open(fs, v2).ok());
}

TEST(AofLogTest, TornTailIsTruncatedReportedAndAppendContinuesCleanly) {
  FaultInjectingFileSystem fs;
  const std::string full = WriteLog(fs, 10);
  fs.SetContents(kIncr1, full.substr(0, full.size() - 5));
  CollectingVisitor v;
  AofLoadStats stats;
  auto log = Open(fs, v, &stats);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(v.commands.size(), 9u);
  EXPECT_GT(stats.truncated_bytes, 0u);
  // Redis's "Append a new command after loading an incomplete AOF".
  Set(**log, 0, "after", "repair");
  log->reset();
  CollectingVisitor v2;
  ASSERT_TRUE(Open(fs, v2, &stats).ok());
  ASSERT_EQ(v2.commands.size(), 10u);
  EXPECT_EQ(v2.commands.back().second[1], "after");
  EXPECT_EQ(stats.truncated_bytes, 0u);
}

TEST(AofLogTest, TornTailWithLoadTruncatedNoRefusesAndNamesTheFix) {
  FaultInjectingFileSystem fs;
  const std::string full = WriteLog(fs, 3);
  fs.SetContents(kIncr1, full.substr(0, full.size() - 1));
  AofOptions o = Options();
  o.load_truncated = false;
  CollectingVisitor v;
  auto log = Open(fs, v, nullptr, o);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(log.status().message().find("ragkv check-aof --fix"), std::string_view::npos);
}

TEST(AofLogTest, CorruptionInTheMiddleRefusesToStartWithFileOffsetAndRepairCommand) {
  FaultInjectingFileSystem fs;
  const std::string full = WriteLog(fs, 10);
  fs.FlipBit(kIncr1, full.size() / 2, 3);
  CollectingVisitor v;
  auto log = Open(fs, v);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
  const std::string msg(log.status().message());
  EXPECT_NE(msg.find(kIncr1), std::string::npos) << msg;
  EXPECT_NE(msg.find("at offset "), std::string::npos) << msg;
  EXPECT_NE(msg.find("ragkv check-aof"), std::string::npos) << msg;
  // Nothing was modified: the damaged file is left for the operator.
  EXPECT_EQ(fs.Contents(kIncr1).size(), full.size());
}

TEST(AofLogTest, ARedisAofIsRecognisedAsForeignNotOfferedForTruncation) {
  FaultInjectingFileSystem fs;
  WriteLog(fs, 1);
  fs.SetContents(kIncr1,
                 "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
  CollectingVisitor v;
  auto log = Open(fs, v);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
  EXPECT_NE(log.status().message().find("is not a ragkv AOF"), std::string_view::npos)
      << log.status().ToString();
  EXPECT_EQ(log.status().message().find("truncate-to-last-good"), std::string_view::npos);
}

TEST(AofLogTest, TornTailInAnEarlierFileIsCorruption) {
  FaultInjectingFileSystem fs;
  {
    CollectingVisitor v;
    auto log = Open(fs, v);
    Set(**log, 0, "a", "1");
    ASSERT_TRUE((*log)->BeginRewrite().ok());  // now incr 1 is not the last file
    Set(**log, 0, "b", "2");
  }
  const std::string first = fs.Contents(kIncr1);
  fs.SetContents(kIncr1, first.substr(0, first.size() - 2));
  CollectingVisitor v;
  auto log = Open(fs, v);
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), StatusCode::kCorruption);
}

TEST(AofLogTest, MissingFileNamedByManifestRefusesToStart) {
  FaultInjectingFileSystem fs;
  WriteLog(fs, 1);
  ASSERT_TRUE(fs.Remove(kIncr1).ok());
  CollectingVisitor v;
  auto log = Open(fs, v);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("missing file"), std::string_view::npos);
}

TEST(AofLogTest, UnfinishedMultiAtTheEndIsDroppedCompletedOneIsKept) {
  FaultInjectingFileSystem fs;
  {
    CollectingVisitor v;
    auto log = Open(fs, v);
    auto& l = **log;
    l.Append(0, {"MULTI"});
    l.Append(0, {"SET", "a", "1"});
    l.Append(0, {"EXEC"});
    l.Append(0, {"SET", "b", "2"});
    l.Append(0, {"MULTI"});
    ASSERT_TRUE(l.WaitDurable(l.Append(0, {"SET", "c", "3"})).ok());
  }
  CollectingVisitor v;
  auto log = Open(fs, v);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(v.commands.size(), 4u);
  EXPECT_EQ(v.commands[1].second[1], "a");
  EXPECT_EQ(v.commands[3].second[1], "b");
  // The partial transaction is gone from the file too.
  Set(**log, 0, "d", "4");
  log->reset();
  CollectingVisitor v2;
  ASSERT_TRUE(Open(fs, v2).ok());
  ASSERT_EQ(v2.commands.size(), 5u);
  EXPECT_EQ(v2.commands.back().second[1], "d");
}

// Writes the model's state as a base snapshot (what the server's keyspace
// walk does).
Status FillFromModel(const Model& m, SnapshotWriter& w) {
  for (const auto& [dk, value] : m) {
    SnapshotEntry e;
    e.db = dk.first;
    e.key = dk.second;
    e.value = value;
    RAGKV_RETURN_IF_ERROR(w.Add(e));
  }
  return Status::Ok();
}

TEST(AofLogTest, RewriteCompactsAndKeepsWritesMadeDuringIt) {
  FaultInjectingFileSystem fs;
  Model truth;
  {
    CollectingVisitor v;
    auto log = Open(fs, v);
    ASSERT_TRUE(log.ok());
    auto& l = **log;
    for (int i = 0; i < 50; ++i) {
      const std::string k = testing::Key("k", i % 5);
      Set(l, i % 2, k, std::to_string(i));
      truth[{i % 2, k}] = std::to_string(i);
    }
    const uint64_t before = l.current_size();
    ASSERT_TRUE(l.BeginRewrite().ok());
    EXPECT_TRUE(l.rewrite_in_progress());
    EXPECT_EQ(l.BeginRewrite().code(), StatusCode::kFailedPrecondition);
    const Model at_cut = truth;
    Set(l, 1, "during", "rewrite");  // goes to the new incr file
    truth[{1, "during"}] = "rewrite";
    ASSERT_TRUE(l.WriteBase([&](SnapshotWriter& w) { return FillFromModel(at_cut, w); }).ok());
    ASSERT_TRUE(l.CommitRewrite().ok());
    EXPECT_FALSE(l.rewrite_in_progress());
    EXPECT_LT(l.current_size(), before);
    EXPECT_EQ(l.size_at_last_rewrite(), l.current_size());
    Set(l, 0, "after", "x");
    truth[{0, "after"}] = "x";
  }
  EXPECT_EQ(fs.Contents("data/appendonlydir/appendonly.aof.manifest"),
            "file appendonly.aof.2.base.rks seq 2 type b\n"
            "file appendonly.aof.2.incr.aof seq 2 type i\n");
  EXPECT_FALSE(fs.Exists(kIncr1));
  CollectingVisitor v;
  AofLoadStats stats;
  auto log = Open(fs, v, &stats);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  EXPECT_EQ(stats.base_entries, 10u);
  EXPECT_EQ(v.commands.size(), 2u);
  EXPECT_EQ(testing::ModelFrom(v), truth);
}

// Crash at every filesystem operation of a rewrite (and of writes made during
// it), lose unsynced data, reopen: the log must load and hold every
// acknowledged write.
TEST(AofLogTest, CrashAtEveryStepOfARewriteLeavesALoadableCompleteLog) {
  for (int crash_at = 0; crash_at < 40; ++crash_at) {
    FaultInjectingFileSystem fs;
    Model acked;
    {
      CollectingVisitor v;
      auto log = Open(fs, v);
      ASSERT_TRUE(log.ok());
      auto& l = **log;
      for (int i = 0; i < 8; ++i) {
        const std::string k = testing::Key("k", i % 3);
        Set(l, 0, k, std::to_string(i));
        acked[{0, k}] = std::to_string(i);
      }
      fs.CrashAfterOps(crash_at);
      Model at_cut = acked;
      Status s = l.BeginRewrite();
      for (int i = 0; s.ok() && i < 3; ++i) {
        const std::string k = testing::Key("during", i);
        if (!l.WaitDurable(l.Append(0, {"SET", k, "d"})).ok()) break;
        acked[{0, k}] = "d";
      }
      if (s.ok()) s = l.WriteBase([&](SnapshotWriter& w) { return FillFromModel(at_cut, w); });
      if (s.ok()) s = l.CommitRewrite();
      if (s.ok()) {
        if (l.WaitDurable(l.Append(0, {"SET", "after", "a"})).ok()) acked[{0, "after"}] = "a";
      }
      fs.PowerLoss(FaultInjectingFileSystem::PowerLossMode::kTearUnsynced);
    }
    CollectingVisitor v;
    auto log = Open(fs, v);
    ASSERT_TRUE(log.ok()) << "crash_at=" << crash_at << ": " << log.status().ToString();
    Model loaded = testing::ModelFrom(v);
    for (const auto& [k, val] : acked) {
      ASSERT_TRUE(loaded.count(k)) << "crash_at=" << crash_at << " lost " << k.second;
      EXPECT_EQ(loaded[k], val) << "crash_at=" << crash_at;
    }
    // And the reopened log works: one more write, one more reopen.
    Set(**log, 0, "post", "p");
    log->reset();
    CollectingVisitor v2;
    ASSERT_TRUE(Open(fs, v2).ok()) << "crash_at=" << crash_at;
  }
}

TEST(AofLogTest, LeftoverFilesFromAnInterruptedRewriteAreRemoved) {
  FaultInjectingFileSystem fs;
  WriteLog(fs, 2);
  fs.SetContents("data/appendonlydir/appendonly.aof.7.base.rks.tmp", "partial");
  fs.SetContents("data/appendonlydir/appendonly.aof.7.incr.aof", AofFileHeader());
  fs.SetContents("data/appendonlydir/unrelated.txt", "keep me");
  CollectingVisitor v;
  ASSERT_TRUE(Open(fs, v).ok());
  EXPECT_FALSE(fs.Exists("data/appendonlydir/appendonly.aof.7.base.rks.tmp"));
  EXPECT_FALSE(fs.Exists("data/appendonlydir/appendonly.aof.7.incr.aof"));
  EXPECT_TRUE(fs.Exists("data/appendonlydir/unrelated.txt"));
  EXPECT_EQ(v.commands.size(), 2u);
}

TEST(AofLogTest, CheckAofReportsEachFileOfAManifest) {
  FaultInjectingFileSystem fs;
  {
    CollectingVisitor v;
    auto log = Open(fs, v);
    Set(**log, 0, "a", "1");
    ASSERT_TRUE((*log)
                    ->Rewrite([](SnapshotWriter& w) {
                      SnapshotEntry e;
                      e.key = "a";
                      e.value = "1";
                      return w.Add(e);
                    })
                    .ok());
    Set(**log, 0, "b", "2");
  }
  auto reports = CheckAof(fs, "data/appendonlydir/appendonly.aof.manifest");
  ASSERT_TRUE(reports.ok()) << reports.status().ToString();
  ASSERT_EQ(reports->size(), 2u);
  EXPECT_EQ((*reports)[0].scan.records, 1u);  // base entries
  EXPECT_EQ((*reports)[1].scan.records, 1u);
  EXPECT_EQ((*reports)[1].scan.end, AofFileEnd::kClean);
}

TEST(AofLogTest, DataDirLockExcludesASecondOwner) {
  FaultInjectingFileSystem fs;
  auto first = LockDataDir(fs, "data");
  ASSERT_TRUE(first.ok());
  auto second = LockDataDir(fs, "data");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  first->reset();
  EXPECT_TRUE(LockDataDir(fs, "data").ok());
}

}  // namespace
}  // namespace ragkv::persistence
