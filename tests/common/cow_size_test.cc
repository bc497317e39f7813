// common/cow_size.h: the Private_Dirty reader against memory this process
// dirties itself, and the child-to-parent channel across a real fork().
#include "common/cow_size.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace ragkv::cow {
namespace {

constexpr size_t kMiB = 1 << 20;

TEST(CowSizeTest, PrivateDirtyGrowsByTheAnonymousMemoryWeWrite) {
  auto before = PrivateDirtyBytes();
  ASSERT_TRUE(before.has_value()) << "/proc/self/smaps(_rollup) unreadable";
  const size_t size = 32 * kMiB;
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(p, MAP_FAILED);
  std::memset(p, 1, size);
  auto after = PrivateDirtyBytes();
  ::munmap(p, size);
  ASSERT_TRUE(after.has_value());
  // Other threads of the test binary may allocate meanwhile: a lower bound.
  EXPECT_GE(*after, *before + size - kMiB) << *before << " -> " << *after;
}

TEST(CowSizeTest, UnknownProcessHasNoFigure) { EXPECT_FALSE(PrivateDirtyBytes(-1).has_value()); }

TEST(CowSizeTest, ForkedChildReportsWhatItDirtiedAndTheParentReceivesItOnce) {
  Channel channel;
  ASSERT_GE(channel.child_fd(), 0);
  const size_t size = 16 * kMiB;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) std::memset(p, 1, size);
    ReportFromChild(channel.child_fd());
    ::_exit(0);
  }
  channel.CloseChildEnd();
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  auto bytes = channel.Receive();
  ASSERT_TRUE(bytes.has_value());
  EXPECT_GE(*bytes, size);
  EXPECT_FALSE(channel.Receive().has_value());  // closed after the first
}

TEST(CowSizeTest, ChildThatReportsNothingGivesNoFigure) {
  Channel channel;
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) ::_exit(1);
  channel.CloseChildEnd();
  ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
  EXPECT_FALSE(channel.Receive().has_value());
  EXPECT_FALSE(Channel().Receive().has_value());  // never forked: nothing written
}

}  // namespace
}  // namespace ragkv::cow
