// AofWriter under the fault-injecting filesystem: what each fsync policy
// promises after a power cut, group commit, and sticky, self-healing errors.
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "persistence/aof.h"
#include "persistence/fault_injecting_file_system.h"
#include "persistence/test_util.h"

namespace ragkv::persistence {
namespace {

using testing::CollectingVisitor;
using testing::Command;
using PowerLossMode = FaultInjectingFileSystem::PowerLossMode;

AofOptions Options(FsyncPolicy policy) {
  AofOptions o;
  o.dir = "data";
  o.fsync = policy;
  return o;
}

std::unique_ptr<AppendOnlyLog> OpenLog(FaultInjectingFileSystem& fs, FsyncPolicy policy,
                                       CollectingVisitor* visitor, AofLoadStats* stats = nullptr) {
  CollectingVisitor ignored;
  auto log = AppendOnlyLog::Open(fs, Options(policy), visitor ? *visitor : ignored, stats);
  EXPECT_TRUE(log.ok()) << log.status().ToString();
  return log.ok() ? std::move(*log) : nullptr;
}

Command Cmd(int db, int i) { return {db, {"SET", testing::Key("k", i), testing::Key("v", i)}}; }

uint64_t AppendCmd(AppendOnlyLog& log, const Command& c) {
  auto views = testing::Views(c.second);
  return log.Append(c.first, views);
}

// `loaded` must be exactly the first loaded.size() commands of `appended`
// (never torn, never reordered) and must include the first `acked` of them.
void ExpectPrefixWithAcked(const std::vector<Command>& loaded, const std::vector<Command>& appended,
                           size_t acked) {
  ASSERT_LE(loaded.size(), appended.size());
  ASSERT_GE(loaded.size(), acked) << "an acknowledged write was lost";
  for (size_t i = 0; i < loaded.size(); ++i) ASSERT_EQ(loaded[i], appended[i]) << "at " << i;
}

TEST(AofWriterTest, PolicyNamesParse) {
  EXPECT_EQ(*ParseFsyncPolicy("Always"), FsyncPolicy::kAlways);
  EXPECT_EQ(*ParseFsyncPolicy("everysec"), FsyncPolicy::kEverysec);
  EXPECT_EQ(*ParseFsyncPolicy("no"), FsyncPolicy::kNo);
  EXPECT_FALSE(ParseFsyncPolicy("sometimes").ok());
  EXPECT_EQ(FsyncPolicyName(FsyncPolicy::kEverysec), "everysec");
}

TEST(AofWriterTest, RoundTripAcrossDatabases) {
  FaultInjectingFileSystem fs;
  std::vector<Command> appended;
  {
    auto log = OpenLog(fs, FsyncPolicy::kAlways, nullptr);
    for (int i = 0; i < 30; ++i) {
      appended.push_back(Cmd(i % 3 == 0 ? 0 : i % 5, i));
      ASSERT_TRUE(log->WaitDurable(AppendCmd(*log, appended.back())).ok());
    }
  }
  CollectingVisitor v;
  auto log = OpenLog(fs, FsyncPolicy::kAlways, &v);
  EXPECT_EQ(v.commands, appended);  // SELECT records are interpreted, not delivered
  // Appending after a reopen continues in the right database.
  appended.push_back(Cmd(4, 100));
  ASSERT_TRUE(log->WaitDurable(AppendCmd(*log, appended.back())).ok());
  log.reset();
  CollectingVisitor v2;
  OpenLog(fs, FsyncPolicy::kAlways, &v2);
  EXPECT_EQ(v2.commands, appended);
}

// The central promise of appendfsync always: crash at every mutating
// operation of the filesystem, lose every unsynced byte (or keep a torn or
// zeroed piece of it), and every acknowledged write is still there.
TEST(AofWriterTest, AlwaysLosesNothingAcknowledgedAtAnyCrashPoint) {
  for (PowerLossMode mode :
       {PowerLossMode::kDropUnsynced, PowerLossMode::kTearUnsynced, PowerLossMode::kZeroUnsynced}) {
    for (int crash_at = 0; crash_at < 60; ++crash_at) {
      FaultInjectingFileSystem fs(crash_at + 1);
      std::vector<Command> appended;
      size_t acked = 0;
      {
        auto log = OpenLog(fs, FsyncPolicy::kAlways, nullptr);
        fs.CrashAfterOps(crash_at);
        for (int i = 0; i < 40; ++i) {
          // Batches of 1-3 commands share one WaitDurable, as one event-loop
          // iteration of the server would.
          uint64_t last = 0;
          const int batch = 1 + i % 3;
          for (int b = 0; b < batch; ++b) {
            appended.push_back(Cmd(i % 2, static_cast<int>(appended.size())));
            last = AppendCmd(*log, appended.back());
          }
          if (!log->WaitDurable(last).ok()) break;
          acked = appended.size();
        }
        fs.PowerLoss(mode);
      }
      CollectingVisitor v;
      auto log = OpenLog(fs, FsyncPolicy::kAlways, &v);
      ASSERT_NE(log, nullptr);
      SCOPED_TRACE(::testing::Message()
                   << "crash_at=" << crash_at << " mode=" << static_cast<int>(mode));
      ExpectPrefixWithAcked(v.commands, appended, acked);
    }
  }
}

// everysec/no: writes acknowledged after the last fsync may be lost on power
// loss, but what survives is always a prefix (no torn or reordered state), and
// everything before the last completed fsync survives.
TEST(AofWriterTest, EverysecLosesOnlyTheUnsyncedWindowAndNeverTearsState) {
  for (FsyncPolicy policy : {FsyncPolicy::kEverysec, FsyncPolicy::kNo}) {
    for (PowerLossMode mode : {PowerLossMode::kDropUnsynced, PowerLossMode::kTearUnsynced,
                               PowerLossMode::kZeroUnsynced}) {
      for (uint64_t seed = 1; seed <= 20; ++seed) {
        FaultInjectingFileSystem fs(seed);
        std::mt19937_64 rng(seed);
        std::vector<Command> appended;
        size_t synced = 0;
        {
          auto log = OpenLog(fs, policy, nullptr);
          for (int i = 0; i < 60; ++i) {
            appended.push_back(Cmd(static_cast<int>(rng() % 3), i));
            ASSERT_TRUE(log->WaitDurable(AppendCmd(*log, appended.back())).ok());
            // Stand-in for the background fsync, at deterministic moments.
            if (rng() % 10 == 0) {
              ASSERT_TRUE(log->writer().SyncNow().ok());
              synced = appended.size();
            }
          }
          // Power is cut while the log object is alive: its destructor's
          // final fsync must not count.
          fs.PowerLoss(mode);
        }
        CollectingVisitor v;
        auto log = OpenLog(fs, policy, &v);
        ASSERT_NE(log, nullptr);
        ExpectPrefixWithAcked(v.commands, appended, synced);
      }
    }
  }
}

TEST(AofWriterTest, EverysecBackgroundThreadFsyncsWithinAboutASecond) {
  FaultInjectingFileSystem fs;
  auto log = OpenLog(fs, FsyncPolicy::kEverysec, nullptr);
  const uint64_t base = log->writer().stats().fsyncs;
  ASSERT_TRUE(log->WaitDurable(AppendCmd(*log, Cmd(0, 1))).ok());
  EXPECT_EQ(log->writer().stats().fsyncs, base);  // the reply did not wait for an fsync
  // Bounded wait: the thread runs every 1000 ms.
  for (int i = 0; i < 50 && log->writer().stats().synced_bytes == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GT(log->writer().stats().synced_bytes, 0u);
  EXPECT_GT(log->writer().stats().fsyncs, base);
}

// The real background thread (not SyncNow stand-ins): writes keep flowing
// while it fsyncs; after a power cut everything up to the last completed
// background fsync is there, and what survives is a prefix. A failed
// background fsync is repaired by rewriting, not trusted.
TEST(AofWriterTest, EverysecBackgroundFsyncBoundsTheLossWindow) {
  for (bool fail_one_sync : {false, true}) {
    FaultInjectingFileSystem fs(fail_one_sync ? 2 : 1);
    std::vector<Command> appended;
    std::vector<uint64_t> end_offsets;
    uint64_t synced = 0;
    {
      auto log = OpenLog(fs, FsyncPolicy::kEverysec, nullptr);
      const auto start = std::chrono::steady_clock::now();
      bool armed = false;
      // The thread fsyncs once a second; with one failure, the second try counts.
      const auto run_for = std::chrono::milliseconds(fail_one_sync ? 2300 : 1300);
      while (std::chrono::steady_clock::now() - start < run_for) {
        if (fail_one_sync && !armed &&
            std::chrono::steady_clock::now() - start > std::chrono::milliseconds(500)) {
          fs.FailNextSyncs(1);  // the first background fsync fails
          armed = true;
        }
        appended.push_back(Cmd(0, static_cast<int>(appended.size())));
        end_offsets.push_back(AppendCmd(*log, appended.back()));
        (void)log->WaitDurable(end_offsets.back());
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      const AofWriterStats st = log->writer().stats();
      EXPECT_GT(st.fsyncs, 0u) << "the background thread never fsynced";
      if (fail_one_sync) {
        EXPECT_TRUE(st.ok) << "the failed fsync was not repaired: " << st.last_error;
      }
      synced = st.synced_bytes;
      fs.PowerLoss(PowerLossMode::kTearUnsynced);
    }
    size_t must_survive = 0;
    while (must_survive < end_offsets.size() && end_offsets[must_survive] <= synced) {
      ++must_survive;
    }
    EXPECT_GT(must_survive, 0u);
    CollectingVisitor v;
    auto log = OpenLog(fs, FsyncPolicy::kEverysec, &v);
    ASSERT_NE(log, nullptr);
    ExpectPrefixWithAcked(v.commands, appended, must_survive);
  }
}

// A file wrapper whose Sync takes 2 ms, so that concurrent committers pile up
// behind the leader the way they do on a real disk.
class SlowSyncFs : public FaultInjectingFileSystem {
 public:
  class File : public WritableFile {
   public:
    explicit File(std::unique_ptr<WritableFile> f) : f_(std::move(f)) {}
    Status Append(std::string_view d) override { return f_->Append(d); }
    Status Sync() override {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      return f_->Sync();
    }
    Status Truncate(uint64_t s) override { return f_->Truncate(s); }
    Status Close() override { return f_->Close(); }
    uint64_t size() const override { return f_->size(); }

   private:
    std::unique_ptr<WritableFile> f_;
  };
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override {
    RAGKV_ASSIGN_OR_RETURN(auto f, FaultInjectingFileSystem::NewAppendableFile(path));
    return std::unique_ptr<WritableFile>(new File(std::move(f)));
  }
};

TEST(AofWriterTest, GroupCommitSharesFsyncsAcrossConcurrentCommitters) {
  SlowSyncFs fs;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  {
    CollectingVisitor empty;
    auto log = AppendOnlyLog::Open(fs, Options(FsyncPolicy::kAlways), empty, nullptr);
    ASSERT_TRUE(log.ok());
    const uint64_t fsyncs_before = (*log)->writer().stats().fsyncs;
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string key = testing::Key("t", t) + testing::Key("-", i);
          const uint64_t off = (*log)->Append(t, {"SET", key, "v"});
          if (!(*log)->WaitDurable(off).ok()) ++failures;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    const uint64_t fsyncs = (*log)->writer().stats().fsyncs - fsyncs_before;
    // One fsync per commit would be 200; sharing must cut that substantially.
    EXPECT_LT(fsyncs, static_cast<uint64_t>(kThreads * kPerThread) / 2) << fsyncs << " fsyncs";
    fs.PowerLoss();
  }
  CollectingVisitor v;
  auto log = AppendOnlyLog::Open(fs, Options(FsyncPolicy::kAlways), v, nullptr);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(v.commands.size(), static_cast<size_t>(kThreads * kPerThread));
  // Per thread, commands are in program order and in the right database.
  std::vector<int> next(kThreads, 0);
  for (const auto& [db, argv] : v.commands) {
    ASSERT_EQ(argv[1], testing::Key("t", db) + testing::Key("-", next[db]));
    ++next[db];
  }
}

TEST(AofWriterTest, DiskFullIsStickyNothingUnstoredIsAcknowledgedAndItRecovers) {
  for (FsyncPolicy policy : {FsyncPolicy::kAlways, FsyncPolicy::kEverysec, FsyncPolicy::kNo}) {
    FaultInjectingFileSystem fs;
    std::vector<Command> appended;
    size_t acked = 0;
    auto log = OpenLog(fs, policy, nullptr);
    fs.SetCapacity(fs.Contents("data/appendonlydir/appendonly.aof.manifest").size() +
                   kAofFileHeaderSize + 1000);
    Status first_error;
    for (int i = 0; i < 100; ++i) {
      appended.push_back(Cmd(0, i));
      Status s = log->WaitDurable(AppendCmd(*log, appended.back()));
      if (!s.ok()) {
        first_error = s;
        break;
      }
      acked = appended.size();
    }
    ASSERT_FALSE(first_error.ok()) << "the disk never filled up";
    EXPECT_EQ(first_error.code(), StatusCode::kResourceExhausted);
    EXPECT_FALSE(log->writer().healthy());  // the server now answers -MISCONF to writes
    // Still failing while the disk is full; the failed command is retained.
    EXPECT_FALSE(log->writer().SyncNow().ok());
    EXPECT_FALSE(log->writer().healthy());

    // Space returns: the next attempt rewrites what failed and clears the error.
    fs.SetCapacity(UINT64_MAX);
    appended.push_back(Cmd(0, 1000));
    ASSERT_TRUE(log->WaitDurable(AppendCmd(*log, appended.back())).ok());
    EXPECT_TRUE(log->writer().healthy());
    ASSERT_TRUE(log->writer().SyncNow().ok());
    acked = appended.size();
    fs.PowerLoss();
    log.reset();

    CollectingVisitor v;
    auto reopened = OpenLog(fs, policy, &v);
    ASSERT_NE(reopened, nullptr);
    ExpectPrefixWithAcked(v.commands, appended, acked);
  }
}

TEST(AofWriterTest, PowerLossWhileDiskFullKeepsAcknowledgedWrites) {
  FaultInjectingFileSystem fs;
  std::vector<Command> appended;
  size_t acked = 0;
  {
    auto log = OpenLog(fs, FsyncPolicy::kAlways, nullptr);
    fs.SetCapacity(700);
    for (int i = 0; i < 100; ++i) {
      appended.push_back(Cmd(0, i));
      if (!log->WaitDurable(AppendCmd(*log, appended.back())).ok()) break;
      acked = appended.size();
    }
    fs.PowerLoss(PowerLossMode::kTearUnsynced);
    fs.SetCapacity(UINT64_MAX);
  }
  CollectingVisitor v;
  auto log = OpenLog(fs, FsyncPolicy::kAlways, &v);
  ASSERT_NE(log, nullptr);
  ExpectPrefixWithAcked(v.commands, appended, acked);
}

// fsyncgate: after a failed fsync the kernel may have dropped the dirty pages
// while marking them clean. Retrying fsync would then "succeed" and the bytes
// would be lost at the next power cut. The writer rewrites them instead.
TEST(AofWriterTest, FailedFsyncIsRepairedByRewritingNotByRetrying) {
  // First, the model itself: retrying fsync alone loses the data.
  {
    FaultInjectingFileSystem fs;
    ASSERT_TRUE(fs.CreateDir("d").ok());
    auto f = *fs.NewWritableFile("d/x");
    ASSERT_TRUE(f->Append("hello").ok());
    ASSERT_TRUE(fs.SyncDir("d").ok());
    fs.FailNextSyncs(1);
    EXPECT_FALSE(f->Sync().ok());
    EXPECT_TRUE(f->Sync().ok());  // "succeeds"
    fs.PowerLoss();
    // ...but the bytes never reached the disk: the length did, the data is a hole.
    EXPECT_EQ(fs.Contents("d/x"), std::string(5, '\0'));
  }
  FaultInjectingFileSystem fs;
  std::vector<Command> appended;
  {
    auto log = OpenLog(fs, FsyncPolicy::kAlways, nullptr);
    for (int i = 0; i < 5; ++i) {
      appended.push_back(Cmd(0, i));
      ASSERT_TRUE(log->WaitDurable(AppendCmd(*log, appended.back())).ok());
    }
    fs.FailNextSyncs(1);
    appended.push_back(Cmd(0, 5));
    const uint64_t off = AppendCmd(*log, appended.back());
    Status s = log->WaitDurable(off);
    EXPECT_EQ(s.code(), StatusCode::kIOError);
    EXPECT_FALSE(log->writer().healthy());
    // The retry (by the next committer) rewrites the lost bytes.
    appended.push_back(Cmd(0, 6));
    ASSERT_TRUE(log->WaitDurable(AppendCmd(*log, appended.back())).ok());
    EXPECT_TRUE(log->writer().healthy());
    fs.PowerLoss();
  }
  CollectingVisitor v;
  auto log = OpenLog(fs, FsyncPolicy::kAlways, &v);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(v.commands, appended);
}

TEST(AofWriterTest, FailedWriteIsRetriedByTheBackgroundThread) {
  FaultInjectingFileSystem fs;
  auto log = OpenLog(fs, FsyncPolicy::kEverysec, nullptr);
  fs.FailNextAppends(1);
  EXPECT_FALSE(log->WaitDurable(AppendCmd(*log, Cmd(0, 1))).ok());
  EXPECT_FALSE(log->writer().healthy());
  for (int i = 0; i < 60 && !log->writer().healthy(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(log->writer().healthy()) << "no retry within 3 s";
  EXPECT_EQ(log->writer().stats().written_bytes, log->writer().stats().appended_bytes);
}

}  // namespace
}  // namespace ragkv::persistence
