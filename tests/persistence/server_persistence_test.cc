// The server glue (server/persistence.h) driven in-process through
// Engine::Execute: restarts, transactions in the log, MISCONF, fork-based
// BGSAVE/BGREWRITEAOF, and switching appendonly on over an existing snapshot.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "persistence/engine_instance.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/test_util.h"
#include "server/persistence.h"

namespace ragkv::server {
namespace {

using persistence::FaultInjectingFileSystem;
using testing::Instance;

TEST(ServerPersistenceTest, WritesSurviveAPowerCutThroughTheEngine) {
  FaultInjectingFileSystem fs;
  {
    Instance a(fs, "data", "yes");
    ASSERT_TRUE(a.status().ok()) << a.status().ToString();
    EXPECT_EQ(a.Run({"SET", "s", "v"}), "+OK\r\n");
    EXPECT_EQ(a.Run({"INCR", "n"}), ":1\r\n");
    EXPECT_EQ(a.Run({"HSET", "h", "f", std::string(512, '\x01')}), ":1\r\n");
    EXPECT_EQ(a.Run({"SET", "ttl", "x", "EX", "1000"}), "+OK\r\n");
    EXPECT_EQ(a.Run({"ZADD", "z", "1.5", "a", "-2", "b"}), ":2\r\n");
    EXPECT_EQ(a.Run({"SELECT", "3"}), "+OK\r\n");
    EXPECT_EQ(a.Run({"SET", "in3", "y"}), "+OK\r\n");
    fs.PowerLoss();  // nothing unsynced may matter under always
  }
  Instance b(fs, "data", "yes");
  ASSERT_TRUE(b.status().ok()) << b.status().ToString();
  EXPECT_EQ(b.Run({"GET", "s"}), "$1\r\nv\r\n");
  EXPECT_EQ(b.Run({"GET", "n"}), "$1\r\n1\r\n");
  EXPECT_EQ(b.Run({"HSTRLEN", "h", "f"}), ":512\r\n");
  EXPECT_EQ(b.Run({"ZRANGE", "z", "0", "-1", "WITHSCORES"}),
            "*4\r\n$1\r\nb\r\n$2\r\n-2\r\n$1\r\na\r\n$3\r\n1.5\r\n");
  const std::string ttl = b.Run({"TTL", "ttl"});
  EXPECT_TRUE(ttl == ":1000\r\n" || ttl == ":999\r\n") << ttl;  // absolute time was logged
  EXPECT_EQ(b.Run({"SELECT", "3"}), "+OK\r\n");
  EXPECT_EQ(b.Run({"GET", "in3"}), "$1\r\ny\r\n");
}

TEST(ServerPersistenceTest, TransactionIsReplayedAllOrNothing) {
  FaultInjectingFileSystem fs;
  const std::string incr = "data/appendonlydir/appendonly.aof.1.incr.aof";
  {
    Instance a(fs, "data", "yes");
    ASSERT_TRUE(a.status().ok());
    a.Run({"MULTI"});
    a.Run({"SET", "a", "1"});
    a.Run({"SET", "b", "2"});
    EXPECT_EQ(a.Run({"EXEC"}), "*2\r\n+OK\r\n+OK\r\n");
    a.Crash();
  }
  const std::string whole = fs.Contents(incr);
  {
    Instance b(fs, "data", "yes");
    EXPECT_EQ(b.Run({"MGET", "a", "b"}), "*2\r\n$1\r\n1\r\n$1\r\n2\r\n");
  }
  // A crash that tore the EXEC record: neither write may come back.
  fs.SetContents(incr, whole.substr(0, whole.size() - 5));
  Instance c(fs, "data", "yes");
  ASSERT_TRUE(c.status().ok()) << c.status().ToString();
  EXPECT_EQ(c.Run({"MGET", "a", "b"}), "*2\r\n$-1\r\n$-1\r\n");
}

TEST(ServerPersistenceTest, DiskFullRefusesWritesWithMisconfAndServesReads) {
  FaultInjectingFileSystem fs;
  Instance a(fs, "data", "yes");
  ASSERT_TRUE(a.status().ok());
  EXPECT_EQ(a.Run({"SET", "before", "v"}), "+OK\r\n");
  fs.SetCapacity(fs.Contents("data/appendonlydir/appendonly.aof.1.incr.aof").size() + 2000);
  std::string reply;
  for (int i = 0; i < 100 && reply != "<connection closed>"; ++i) {
    reply = a.Run({"SET", persistence::testing::Key("k", i), std::string(100, 'x')});
  }
  ASSERT_EQ(reply, "<connection closed>");  // never +OK for a write that is not stored
  EXPECT_EQ(a.Run({"SET", "x", "y"}).rfind("-MISCONF Errors writing to the AOF file", 0), 0u);
  EXPECT_EQ(a.Run({"GET", "before"}), "$1\r\nv\r\n");
  EXPECT_NE(a.persistence().InfoSection().find("aof_last_write_status:err"), std::string::npos);
  fs.SetCapacity(UINT64_MAX);
  std::string after;
  for (int i = 0; i < 40 && after != "+OK\r\n"; ++i) {  // background retry, once a second
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    after = a.Run({"SET", "after", "v"});
  }
  EXPECT_EQ(after, "+OK\r\n");
}

TEST(ServerPersistenceTest, DamagedLogRefusesToStartWithTheRepairCommand) {
  FaultInjectingFileSystem fs;
  const std::string incr = "data/appendonlydir/appendonly.aof.1.incr.aof";
  {
    Instance a(fs, "data", "yes");
    for (int i = 0; i < 10; ++i) a.Run({"SET", persistence::testing::Key("k", i), "v"});
  }
  fs.FlipBit(incr, fs.Contents(incr).size() / 2, 2);
  Instance b(fs, "data", "yes");
  ASSERT_FALSE(b.status().ok());
  EXPECT_EQ(b.status().code(), StatusCode::kCorruption);
  EXPECT_NE(b.status().message().find("ragkv check-aof"), std::string_view::npos);
}

TEST(ServerPersistenceTest, SecondWriterOfTheSameDirectoryIsRefused) {
  FaultInjectingFileSystem fs;
  Instance a(fs, "data", "yes");
  ASSERT_TRUE(a.status().ok());
  Instance b(fs, "data", "yes");
  EXPECT_EQ(b.status().code(), StatusCode::kFailedPrecondition);
  // Without an AOF or save points nothing is written, so no lock is needed
  // to start; the first SAVE needs it.
  Instance c(fs, "data", "no");
  ASSERT_TRUE(c.status().ok());
  EXPECT_EQ(c.Run({"SAVE"}).rfind("-ERR data directory data is in use", 0), 0u) << c.Run({"SAVE"});
}

// The embedded engine's checkpoints (rag/embedded_engine.h): SyncAof makes
// what was applied durable under any appendfsync; RewriteAof compacts the log
// into a base in this thread, durably, index definitions included.
TEST(ServerPersistenceTest, EmbeddedCheckpointsSurvivePowerLoss) {
  FaultInjectingFileSystem fs;
  const std::string manifest = "data/appendonlydir/appendonly.aof.manifest";
  {
    Instance a(fs, "data", "yes", "no");
    ASSERT_TRUE(a.status().ok());
    a.Run({"SET", "k1", "v1"});
    ASSERT_TRUE(a.persistence().SyncAof().ok());
    a.Run({"SET", "k2", "v2"});  // written, never fsynced under "no"
    fs.PowerLoss();
  }
  {
    Instance b(fs, "data", "yes", "no");
    ASSERT_TRUE(b.status().ok());
    EXPECT_EQ(b.Run({"GET", "k1"}), "$2\r\nv1\r\n");
    EXPECT_EQ(b.Run({"GET", "k2"}), "$-1\r\n");
    b.Run({"FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "d:", "SCHEMA", "t", "TEXT"});
    b.Run({"HSET", "d:1", "t", "hello world"});
    EXPECT_EQ(fs.Contents(manifest).find("type b"), std::string::npos);
    ASSERT_TRUE(b.persistence().RewriteAof().ok());
    EXPECT_NE(fs.Contents(manifest).find("type b"), std::string::npos);
    EXPECT_EQ(b.persistence().aof_current_size() - b.persistence().aof_base_size(),
              fs.Contents("data/appendonlydir/appendonly.aof.2.incr.aof").size());
    fs.PowerLoss();
  }
  Instance c(fs, "data", "yes", "no");
  ASSERT_TRUE(c.status().ok()) << c.status().ToString();
  EXPECT_EQ(c.Run({"GET", "k1"}), "$2\r\nv1\r\n");
  EXPECT_EQ(c.Run({"FT.SEARCH", "idx", "hello", "NOCONTENT"}), "*2\r\n:1\r\n$3\r\nd:1\r\n");
  Instance no_aof(fs, "other", "no");
  EXPECT_EQ(no_aof.persistence().RewriteAof().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(no_aof.persistence().SyncAof().ok());
}

TEST(ServerPersistenceTest, AServerThatLoadsASnapshotHoldsTheDirectory) {
  FaultInjectingFileSystem fs;
  {
    Instance a(fs, "data", "no");
    a.Run({"SET", "k", "v"});
    EXPECT_EQ(a.Run({"SAVE"}), "+OK\r\n");
  }
  // It reads the directory, so an embedded engine must not write it meanwhile.
  Instance b(fs, "data", "no");
  ASSERT_TRUE(b.status().ok());
  EXPECT_EQ(b.Run({"GET", "k"}), "$1\r\nv\r\n");
  Instance c(fs, "data", "no");
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.status().message(), "data directory data is in use by another ragkv process");
}

TEST(ServerPersistenceTest, ShutdownSavesUnlessNosaveAndRefusesWhenTheSaveFails) {
  FaultInjectingFileSystem fs;
  {
    Instance a(fs, "data", "no");
    ASSERT_TRUE(a.status().ok());
    a.Run({"SET", "k", "v"});
    EXPECT_EQ(a.Run({"SHUTDOWN", "NOSAVE"}), "");  // no reply: the connection closes
  }
  EXPECT_FALSE(fs.Exists("data/dump.rks"));
  {
    Instance b(fs, "data", "no");
    b.Run({"SET", "k", "v"});
    fs.SetCapacity(0);  // the save cannot be written
    EXPECT_EQ(b.Run({"SHUTDOWN", "SAVE"}), "-ERR Errors trying to SHUTDOWN. Check logs.\r\n");
    fs.SetCapacity(UINT64_MAX);
    EXPECT_EQ(b.Run({"SHUTDOWN", "SAVE"}), "");
  }
  Instance c(fs, "data", "no");
  EXPECT_EQ(c.Run({"GET", "k"}), "$1\r\nv\r\n");
}

// Replication stand-in that only reports a fixed history.
class FixedHistory : public ReplicationHooks {
 public:
  explicit FixedHistory(ReplicationHistory h) : history_(std::move(h)) {}
  std::string Refusal(const Session&, const CommandSpec&) override { return ""; }
  void Cron() override {}
  void OnSessionClosed(Session&) override {}
  bool is_follower() const override { return false; }
  std::string InfoSection() override { return ""; }
  ReplicationHistory History() const override { return history_; }

 private:
  ReplicationHistory history_;
};

TEST(ServerPersistenceTest, SnapshotCarriesTheReplicationHistoryButTheAofDoesNot) {
  FaultInjectingFileSystem fs;
  FixedHistory hooks({std::string(40, 'a'), 12345, 3});
  {
    Instance a(fs, "data", "no");
    ASSERT_TRUE(a.status().ok());
    a.engine().replication = &hooks;
    a.Run({"SET", "k", "v"});
    EXPECT_EQ(a.Run({"SAVE"}), "+OK\r\n");
    a.engine().replication = nullptr;
  }
  {
    Instance b(fs, "data", "no");
    ASSERT_TRUE(b.status().ok()) << b.status().ToString();
    const ReplicationHistory& h = b.persistence().loaded_history();
    EXPECT_EQ(h.replid, std::string(40, 'a'));
    EXPECT_EQ(h.offset, 12345);
    EXPECT_EQ(h.stream_db, 3);
    EXPECT_EQ(b.Run({"GET", "k"}), "$1\r\nv\r\n");
  }
  {
    // Switching appendonly on seeds the AOF from that snapshot: the data is
    // still the snapshot's, so its history holds.
    Instance c(fs, "data", "yes");
    ASSERT_TRUE(c.status().ok());
    EXPECT_EQ(c.persistence().loaded_history().offset, 12345);
    c.Run({"SET", "k2", "v2"});
  }
  // Now the data comes from the AOF, which a snapshot's offset does not cover.
  Instance d(fs, "data", "yes");
  ASSERT_TRUE(d.status().ok());
  EXPECT_TRUE(d.persistence().loaded_history().replid.empty());
  EXPECT_EQ(d.Run({"GET", "k2"}), "$2\r\nv2\r\n");
}

TEST(ServerPersistenceTest, SnapshotWithoutReplicationHasNoHistoryAndBadOffsetIsCorruption) {
  FaultInjectingFileSystem fs;
  {
    Instance a(fs, "data", "no");
    a.Run({"SET", "k", "v"});
    EXPECT_EQ(a.Run({"SAVE"}), "+OK\r\n");
  }
  {
    Instance b(fs, "data", "no");
    ASSERT_TRUE(b.status().ok());
    EXPECT_TRUE(b.persistence().loaded_history().replid.empty());
  }
  {
    auto w = persistence::SnapshotWriter::Create(fs, "data/dump.rks");
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->AddAux("repl-id", std::string(40, 'b')).ok());
    ASSERT_TRUE((*w)->AddAux("repl-offset", "12x").ok());
    ASSERT_TRUE((*w)->Finish().ok());
  }
  Instance c(fs, "data", "no");
  EXPECT_EQ(c.status().code(), StatusCode::kCorruption) << c.status().ToString();
}

class ForkingPersistenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
#if defined(__SANITIZE_ADDRESS__)
    // GCC 12's ASan allocator has no fork handlers: a child forked while
    // another thread (the everysec fsync thread) holds an allocator lock
    // deadlocks on its first malloc. glibc's malloc is fork-safe, so these
    // tests run in the Release suite of `make test`.
    GTEST_SKIP() << "fork() under ASan can deadlock in the sanitizer allocator; "
                    "covered by the Release run";
#endif
    char tmpl[] = "/tmp/ragkv-fork-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs the cron until INFO persistence contains `field`, at most ~5 s.
  static bool WaitFor(Instance& inst, const std::string& field) {
    for (int i = 0; i < 500; ++i) {
      inst.persistence().Cron();
      if (inst.persistence().InfoSection().find(field) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  persistence::FileSystem& fs_ = *persistence::DefaultFileSystem();
  std::string dir_;
};

TEST_F(ForkingPersistenceTest, BgsaveAndBgrewriteaofProduceLoadableFiles) {
  {
    Instance a(fs_, dir_, "yes", "everysec");
    ASSERT_TRUE(a.status().ok()) << a.status().ToString();
    for (int i = 0; i < 200; ++i) a.Run({"SET", persistence::testing::Key("k", i), "v"});
    a.Run({"HSET", "h", "f", "v"});
    EXPECT_EQ(a.Run({"BGSAVE"}), "+Background saving started\r\n");
    ASSERT_TRUE(WaitFor(a, "rdb_saves:1\r\n"));
    EXPECT_EQ(a.Run({"BGREWRITEAOF"}), "+Background append only file rewriting started\r\n");
    a.Run({"SET", "during", "rewrite"});
    ASSERT_TRUE(WaitFor(a, "aof_rewrites:1\r\n"));
    EXPECT_NE(a.persistence().InfoSection().find("aof_last_bgrewrite_status:ok"),
              std::string::npos);
    a.Run({"SET", "after", "rewrite"});
  }
  {
    Instance b(fs_, dir_, "yes");
    ASSERT_TRUE(b.status().ok()) << b.status().ToString();
    EXPECT_EQ(b.Run({"DBSIZE"}), ":203\r\n");
    EXPECT_EQ(b.Run({"GET", "during"}), "$7\r\nrewrite\r\n");
  }
  // The BGSAVE snapshot on its own (appendonly no loads dump.rks).
  Instance c(fs_, dir_, "no");
  ASSERT_TRUE(c.status().ok()) << c.status().ToString();
  EXPECT_EQ(c.Run({"DBSIZE"}), ":201\r\n");
}

// An in-memory file system whose files' Sync waits (at most 10 s) until a
// gate file exists on the real disk: a forked BGSAVE child then stays alive,
// holding its copy-on-write view, for as long as the test needs.
class GatedFileSystem : public FaultInjectingFileSystem {
 public:
  explicit GatedFileSystem(std::string gate) : gate_(std::move(gate)) {}
  Result<std::unique_ptr<persistence::WritableFile>> NewWritableFile(
      const std::string& path) override {
    RAGKV_ASSIGN_OR_RETURN(auto file, FaultInjectingFileSystem::NewWritableFile(path));
    return std::unique_ptr<persistence::WritableFile>(
        std::make_unique<GatedFile>(std::move(file), gate_));
  }

 private:
  class GatedFile : public persistence::WritableFile {
   public:
    GatedFile(std::unique_ptr<persistence::WritableFile> file, const std::string& gate)
        : file_(std::move(file)), gate_(gate) {}
    Status Append(std::string_view data) override { return file_->Append(data); }
    Status Sync() override {
      for (int i = 0; i < 1000 && ::access(gate_.c_str(), F_OK) != 0; ++i) ::usleep(10000);
      return file_->Sync();
    }
    Status Truncate(uint64_t size) override { return file_->Truncate(size); }
    Status Close() override { return file_->Close(); }
    uint64_t size() const override { return file_->size(); }

   private:
    std::unique_ptr<persistence::WritableFile> file_;
    std::string gate_;
  };
  std::string gate_;
};

// rdb_last_cow_size is what the BGSAVE child reported at its end: its own
// heap when the parent stays idle, plus every page the parent rewrote while
// the child ran (here ~16 MB of values overwritten).
TEST_F(ForkingPersistenceTest, BgsaveReportsCopyOnWriteGrowthOfWritesDuringTheSave) {
  const std::string gate = dir_ + "/gate";
  GatedFileSystem fs(gate);
  Instance a(fs, "data", "no");
  ASSERT_TRUE(a.status().ok()) << a.status().ToString();
  constexpr int kKeys = 4000;
  const std::string value(4096, 'x');
  const std::string other(4096, 'y');
  for (int i = 0; i < kKeys; ++i) a.Run({"SET", persistence::testing::Key("k", i), value});
  const std::string before = a.persistence().InfoSection();
  EXPECT_NE(before.find("\r\nrdb_last_cow_size:0\r\n"), std::string::npos) << before;
  EXPECT_NE(before.find("\r\ncurrent_cow_size:0\r\n"), std::string::npos) << before;
  EXPECT_NE(before.find("\r\naof_last_cow_size:0\r\n"), std::string::npos) << before;

  int saves = 0;
  auto cow_after_save = [&](bool write_during) -> uint64_t {
    std::filesystem::remove(gate);
    ++saves;
    EXPECT_EQ(a.Run({"BGSAVE"}), "+Background saving started\r\n");
    if (write_during) {
      for (int i = 0; i < kKeys; ++i) a.Run({"SET", persistence::testing::Key("k", i), other});
    }
    std::ofstream(gate).put('1');
    EXPECT_TRUE(WaitFor(a, "rdb_saves:" + std::to_string(saves) + "\r\n"));
    return a.persistence().rdb_last_cow_size();
  };
  const uint64_t idle = cow_after_save(false);
  const uint64_t busy = cow_after_save(true);
  EXPECT_GT(idle, 0u);
  EXPECT_GT(busy, idle + (8u << 20)) << "idle " << idle << " busy " << busy;
}

TEST_F(ForkingPersistenceTest, TurningAppendonlyOnKeepsTheSnapshotData) {
  {
    Instance a(fs_, dir_, "no");
    ASSERT_TRUE(a.status().ok());
    a.Run({"SET", "k", "v"});
    a.Run({"ZADD", "z", "3", "m"});
    a.Run({"HSET", "h", "f", "v"});
    EXPECT_EQ(a.Run({"SAVE"}), "+OK\r\n");
    EXPECT_EQ(a.Run({"BGREWRITEAOF"}).rfind("-ERR appendonly is no", 0), 0u);
  }
  {
    Instance b(fs_, dir_, "yes");
    ASSERT_TRUE(b.status().ok()) << b.status().ToString();
    EXPECT_EQ(b.Run({"GET", "k"}), "$1\r\nv\r\n");
    EXPECT_EQ(b.Run({"ZSCORE", "z", "m"}), "$1\r\n3\r\n");
    EXPECT_EQ(b.Run({"HGET", "h", "f"}), "$1\r\nv\r\n");
  }
  std::filesystem::remove(dir_ + "/dump.rks");  // now the AOF alone must hold it
  Instance c(fs_, dir_, "yes");
  EXPECT_EQ(c.Run({"GET", "k"}), "$1\r\nv\r\n");
  EXPECT_EQ(c.Run({"ZSCORE", "z", "m"}), "$1\r\n3\r\n");
}

TEST_F(ForkingPersistenceTest, ConfigSetAppliesAppendonlyFsyncAndSavePointsAtRunTime) {
  {
    Instance a(fs_, dir_, "no");
    ASSERT_TRUE(a.status().ok());
    a.Run({"SET", "before", "1"});
    EXPECT_EQ(a.Run({"CONFIG", "SET", "appendonly", "yes"}), "+OK\r\n");
    a.Run({"SET", "during", "2"});  // goes to the new log while its base is written
    ASSERT_TRUE(WaitFor(a, "aof_rewrites:1\r\n"));
    EXPECT_NE(a.persistence().InfoSection().find("aof_enabled:1"), std::string::npos);
    a.Run({"SET", "after", "3"});
    EXPECT_EQ(a.Run({"CONFIG", "SET", "appendfsync", "always"}), "+OK\r\n");
    EXPECT_EQ(
        a.Run({"CONFIG", "SET", "appendfsync", "sometimes"}).rfind("-ERR CONFIG SET failed", 0),
        0u);
    EXPECT_EQ(a.Run({"CONFIG", "GET", "appendfsync"}),
              "*2\r\n$11\r\nappendfsync\r\n$6\r\nalways\r\n");
    EXPECT_EQ(a.Run({"CONFIG", "SET", "save", "3600 1 300 100"}), "+OK\r\n");
    EXPECT_EQ(a.Run({"CONFIG", "SET", "save", "3600"}).rfind("-ERR CONFIG SET failed", 0), 0u);
    EXPECT_EQ(a.Run({"CONFIG", "GET", "save"}), "*2\r\n$4\r\nsave\r\n$14\r\n3600 1 300 100\r\n");
  }
  {
    Instance b(fs_, dir_, "yes");
    ASSERT_TRUE(b.status().ok()) << b.status().ToString();
    EXPECT_EQ(b.Run({"MGET", "before", "during", "after"}),
              "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n");
    EXPECT_EQ(b.Run({"CONFIG", "SET", "appendonly", "no"}), "+OK\r\n");
    b.Run({"SET", "unlogged", "4"});
  }
  Instance c(fs_, dir_, "yes");
  EXPECT_EQ(c.Run({"GET", "unlogged"}), "$-1\r\n");
  EXPECT_EQ(c.Run({"GET", "after"}), "$1\r\n3\r\n");
}

}  // namespace
}  // namespace ragkv::server

namespace ragkv::server {
namespace {

TEST(SearchIndexSectionTest, RoundTripsAndRejectsEveryTruncation) {
  search::IndexDefinition def;
  def.name = "idx";
  def.db = 3;
  def.commands = {{"FT.CREATE", "idx", "SCHEMA", "v", "VECTOR", "HNSW", "6", "TYPE", "FLOAT32",
                   "DIM", "4", "DISTANCE_METRIC", "L2", std::string("bin\0\r\n", 6)},
                  {"FT.ALTER", "idx", "SCHEMA", "ADD", "n", "NUMERIC"}};
  const std::string blob = EncodeSearchIndexSection(def);
  const std::string name = std::string(kSearchIndexSection) + def.name;
  auto back = DecodeSearchIndexSection(name, blob);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->name, def.name);
  EXPECT_EQ(back->db, def.db);
  EXPECT_EQ(back->commands, def.commands);
  // Every proper prefix either fails cleanly or (at a command boundary)
  // decodes to a prefix of the commands, never more.
  for (size_t len = 0; len < blob.size(); ++len) {
    auto part = DecodeSearchIndexSection(name, std::string_view(blob).substr(0, len));
    if (part.ok()) {
      ASSERT_LT(part->commands.size(), def.commands.size()) << len;
      EXPECT_EQ(part->commands[0], def.commands[0]);
    } else {
      EXPECT_EQ(part.status().code(), StatusCode::kCorruption) << len;
    }
  }
}

}  // namespace
}  // namespace ragkv::server
