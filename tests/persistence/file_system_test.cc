// The POSIX FileSystem on a real temporary directory, and the AOF end to end
// on it. Small and fast (a few fsyncs), so it is a unit test.
#include "persistence/file_system.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "persistence/aof.h"
#include "persistence/test_util.h"

namespace ragkv::persistence {
namespace {

class PosixFileSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ragkv-fs-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  FileSystem& fs_ = *DefaultFileSystem();
  std::string dir_;
};

TEST_F(PosixFileSystemTest, WriteSyncReadRenameListRemove) {
  const std::string a = JoinPath(dir_, "a");
  auto f = fs_.NewWritableFile(a);
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE((*f)->Append("hello ").ok());
  ASSERT_TRUE((*f)->Append("world").ok());
  ASSERT_TRUE((*f)->Sync().ok());
  EXPECT_EQ((*f)->size(), 11u);
  ASSERT_TRUE((*f)->Truncate(5).ok());
  ASSERT_TRUE((*f)->Append("!").ok());
  ASSERT_TRUE((*f)->Close().ok());
  EXPECT_EQ(*ReadFileToString(fs_, a), "hello!");

  auto app = fs_.NewAppendableFile(a);
  ASSERT_TRUE(app.ok());
  EXPECT_EQ((*app)->size(), 6u);
  ASSERT_TRUE((*app)->Append("?").ok());
  app->reset();
  EXPECT_EQ(*fs_.FileSize(a), 7u);

  const std::string b = JoinPath(dir_, "b");
  ASSERT_TRUE(fs_.Rename(a, b).ok());
  ASSERT_TRUE(fs_.SyncDir(dir_).ok());
  auto names = fs_.ListDir(dir_);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, std::vector<std::string>{"b"});
  ASSERT_TRUE(fs_.Truncate(b, 2).ok());
  EXPECT_EQ(*ReadFileToString(fs_, b), "he");
  ASSERT_TRUE(fs_.Remove(b).ok());
  EXPECT_FALSE(fs_.Exists(b));
  EXPECT_EQ(fs_.Remove(b).code(), StatusCode::kNotFound);
  EXPECT_EQ(fs_.NewSequentialFile(b).status().code(), StatusCode::kNotFound);
}

TEST_F(PosixFileSystemTest, WriteFileAtomicallyReplacesContent) {
  const std::string p = JoinPath(dir_, "m");
  ASSERT_TRUE(WriteFileAtomically(fs_, p, "one").ok());
  ASSERT_TRUE(WriteFileAtomically(fs_, p, "two").ok());
  EXPECT_EQ(*ReadFileToString(fs_, p), "two");
  EXPECT_FALSE(fs_.Exists(p + ".tmp"));
}

TEST_F(PosixFileSystemTest, LockIsExclusiveAndReleased) {
  auto first = LockDataDir(fs_, dir_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = LockDataDir(fs_, dir_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  // The holder's pid is in the lock file and in the message.
  const std::string pid = std::to_string(::getpid());
  EXPECT_EQ(*ReadFileToString(fs_, JoinPath(dir_, "ragkv.lock")), pid + "\n");
  EXPECT_EQ(second.status().message(),
            "data directory " + dir_ + " is already open in this process (pid " + pid + ")");
  first->reset();
  EXPECT_TRUE(LockDataDir(fs_, dir_).ok());
}

TEST_F(PosixFileSystemTest, AofRoundTripOnRealDisk) {
  AofOptions o;
  o.dir = dir_;
  o.fsync = FsyncPolicy::kAlways;
  {
    testing::CollectingVisitor v;
    auto log = AppendOnlyLog::Open(fs_, o, v, nullptr);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(
          (*log)->WaitDurable((*log)->Append(i % 2, {"SET", testing::Key("k", i), "v"})).ok());
    }
  }
  testing::CollectingVisitor v;
  auto log = AppendOnlyLog::Open(fs_, o, v, nullptr);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(v.commands.size(), 20u);
  EXPECT_EQ(v.commands[3].first, 1);
}

TEST(PathTest, JoinDirBase) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(JoinPath("", "b"), "b");
  EXPECT_EQ(DirName("a/b/c"), "a/b");
  EXPECT_EQ(DirName("c"), ".");
  EXPECT_EQ(DirName("/c"), "/");
  EXPECT_EQ(BaseName("a/b/c"), "c");
  EXPECT_EQ(BaseName("c"), "c");
}

}  // namespace
}  // namespace ragkv::persistence
