// Disk full on a real filesystem: a 1 MiB tmpfs is mounted for the test,
// filled by the AOF until writes fail with ENOSPC, then space is freed and
// writes must resume; every acknowledged write must load afterwards. Needs
// root (mount); otherwise skipped with the reason printed.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include "persistence/aof.h"
#include "persistence/server_process.h"
#include "persistence/test_util.h"
#include "protocol/resp_client.h"

namespace ragkv::persistence {
namespace {

class DiskFullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a tmpfs; skipped";
    char tmpl[] = "/tmp/ragkv-diskfull-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=1m") != 0) {
      const std::string why = std::strerror(errno);
      ::rmdir(dir_.c_str());
      dir_.clear();
      GTEST_SKIP() << "cannot mount tmpfs (" << why << "); skipped";
    }
    mounted_ = true;
  }
  void TearDown() override {
    if (mounted_) ::umount(dir_.c_str());
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  bool mounted_ = false;
};

TEST_F(DiskFullTest, WritesFailWhenFullNothingAcknowledgedIsLostAndWritesResume) {
  FileSystem& fs = *DefaultFileSystem();
  // A filler file we can delete later to make room.
  const std::string filler = JoinPath(dir_, "filler");
  {
    auto f = fs.NewWritableFile(filler);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(std::string(256 * 1024, 'f')).ok());
  }
  AofOptions o;
  o.dir = dir_;
  o.fsync = FsyncPolicy::kAlways;
  size_t acked = 0;
  size_t appended = 0;
  {
    testing::CollectingVisitor v;
    auto log = AppendOnlyLog::Open(fs, o, v, nullptr);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    const std::string value(1000, 'v');
    Status error;
    for (int i = 0; i < 5000; ++i) {
      ++appended;
      error = (*log)->WaitDurable((*log)->Append(0, {"SET", testing::Key("k", i), value}));
      if (!error.ok()) break;
      acked = appended;
    }
    ASSERT_FALSE(error.ok()) << "1 MiB tmpfs never filled";
    EXPECT_EQ(error.code(), StatusCode::kResourceExhausted) << error.ToString();
    EXPECT_FALSE((*log)->writer().healthy());
    EXPECT_FALSE((*log)->writer().SyncNow().ok());  // still full

    ASSERT_TRUE(fs.Remove(filler).ok());  // space returns
    ++appended;
    Status resumed = (*log)->WaitDurable((*log)->Append(0, {"SET", "after", "space"}));
    ASSERT_TRUE(resumed.ok()) << resumed.ToString();
    EXPECT_TRUE((*log)->writer().healthy());
    acked = appended;
  }
  testing::CollectingVisitor v;
  auto log = AppendOnlyLog::Open(fs, o, v, nullptr);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  // The write that failed was retained and written on recovery, so the log
  // holds every command in order.
  ASSERT_EQ(v.commands.size(), appended);
  EXPECT_GE(v.commands.size(), acked);
  EXPECT_EQ(v.commands.back().second[1], "after");
}

// The server on a full disk: writes fail with -MISCONF (or, for a write
// whose fsync failed, a dropped connection: never an OK), reads keep working,
// and writes resume once space is freed.
TEST_F(DiskFullTest, ServerRefusesWritesServesReadsAndResumes) {
  FileSystem& fs = *DefaultFileSystem();
  const std::string filler = JoinPath(dir_, "filler");
  {
    auto f = fs.NewWritableFile(filler);
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE((*f)->Append(std::string(256 * 1024, 'f')).ok());
  }
  testing::ServerProcess server;
  ASSERT_TRUE(server.Start(dir_, "always")) << "see " << dir_ << "/server.log";
  resp::RespClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", server.port(), 5000).ok());
  std::vector<std::string> acked;
  const std::string value(1000, 'v');
  bool failed = false;
  for (int i = 0; i < 5000 && !failed; ++i) {
    const std::string key = testing::Key("k", i);
    auto r = client.Command({"SET", key, value});
    if (r.ok() && r->type == resp::RespType::kSimpleString) {
      acked.push_back(key);
    } else {
      failed = true;
      if (r.ok()) {
        EXPECT_EQ(r->str.rfind("MISCONF", 0), 0u) << r->str;
      }
    }
  }
  ASSERT_TRUE(failed) << "the disk never filled up";
  ASSERT_FALSE(acked.empty());

  resp::RespClient again;
  ASSERT_TRUE(again.Connect("127.0.0.1", server.port(), 5000).ok());
  auto w = again.Command({"SET", "refused", "x"});
  ASSERT_TRUE(w.ok());
  EXPECT_TRUE(w->is_error());
  EXPECT_EQ(w->str.rfind("MISCONF Errors writing to the AOF file", 0), 0u) << w->str;
  auto r = again.Command({"GET", acked.front()});  // reads still served
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->str, value);
  auto info = again.Command({"INFO", "persistence"});
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->str.find("aof_last_write_status:err"), std::string::npos);

  ASSERT_TRUE(fs.Remove(filler).ok());
  // The writer retries once a second in the background.
  bool resumed = false;
  for (int i = 0; i < 40 && !resumed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto s = again.Command({"SET", "after", "space"});
    resumed = s.ok() && s->type == resp::RespType::kSimpleString;
  }
  ASSERT_TRUE(resumed) << "writes did not resume within 4 s of freeing space";
  acked.push_back("after");
  server.Kill();

  testing::ServerProcess restarted;
  ASSERT_TRUE(restarted.Start(dir_, "always"));
  resp::RespClient check;
  ASSERT_TRUE(check.Connect("127.0.0.1", restarted.port(), 5000).ok());
  for (const auto& key : acked) {
    auto g = check.Command({"EXISTS", key});
    ASSERT_TRUE(g.ok());
    ASSERT_EQ(g->integer, 1) << "acknowledged " << key << " lost";
  }
}

}  // namespace
}  // namespace ragkv::persistence
