// Disk full on a real filesystem: a 1 MiB tmpfs is mounted for the test,
// filled by the AOF until writes fail with ENOSPC, then space is freed and
// writes must resume; every acknowledged write must load afterwards. Needs
// root (mount); otherwise skipped with the reason printed.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "persistence/aof.h"
#include "persistence/test_util.h"

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

}  // namespace
}  // namespace ragkv::persistence
