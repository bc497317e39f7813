// Copy-on-write size of a forked child, measured by the child itself at its
// end and sent to the parent over a pipe made before fork().
//
// Approach: the kernel already accounts what we want: a page shared at
// fork() stays "shared" in both processes until one writes it, after which
// each holds a private copy, so the child's Private_Dirty sum is the COW
// growth plus the child's own heap. smaps_rollup gives the sum in one line;
// older kernels only have per-mapping smaps, summed here.
//
// Rejected:
// * the parent reading /proc/<child>/smaps_rollup at reap time: the child is
//   gone by then (a zombie has no mappings); reading it while the child runs
//   is what current_cow_size does instead (Persistence::InfoSection).
// * counting pages the parent writes (a write hook in the store): misses
//   allocator and index pages, and costs every write.
// * the exit status as carrier: 8 bits.
//
// The child side uses open/read/write on stack buffers only: after fork() in
// a multithreaded process only async-signal-safe calls are safe, and malloc
// may be locked by a thread that no longer exists.
#include "common/cow_size.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace ragkv::cow {
namespace {

// Formats "/proc/<pid>/<file>" (or /proc/self) into `out`.
void ProcPath(pid_t pid, const char* file, char* out, size_t size) {
  if (pid == 0) {
    std::snprintf(out, size, "/proc/self/%s", file);
  } else {
    std::snprintf(out, size, "/proc/%d/%s", static_cast<int>(pid), file);
  }
}

// Sums the "Private_Dirty: <n> kB" lines of `path`, streamed through a stack
// buffer; nullopt if it cannot be opened or has no such line.
std::optional<uint64_t> SumPrivateDirty(const char* path) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  static constexpr char kField[] = "Private_Dirty:";
  constexpr size_t kFieldLen = sizeof(kField) - 1;
  char buf[8192];
  size_t have = 0;  // bytes of an unfinished line kept at buf's start
  uint64_t kb = 0;
  bool found = false;
  for (;;) {
    ssize_t n = ::read(fd, buf + have, sizeof(buf) - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    have += static_cast<size_t>(n);
    size_t start = 0;
    for (size_t i = 0; i < have; ++i) {
      if (buf[i] != '\n') continue;
      const char* line = buf + start;
      const size_t len = i - start;
      if (len > kFieldLen && std::memcmp(line, kField, kFieldLen) == 0) {
        size_t j = kFieldLen;
        while (j < len && line[j] == ' ') ++j;
        uint64_t v = 0;
        for (; j < len && line[j] >= '0' && line[j] <= '9'; ++j) {
          v = v * 10 + static_cast<uint64_t>(line[j] - '0');
        }
        kb += v;
        found = true;
      }
      start = i + 1;
    }
    // A line longer than the buffer (a mapping's path) is skipped.
    if (start == 0 && have == sizeof(buf)) start = have;
    std::memmove(buf, buf + start, have - start);
    have -= start;
  }
  ::close(fd);
  if (!found) return std::nullopt;
  return kb * 1024;
}

}  // namespace

std::optional<uint64_t> PrivateDirtyBytes(pid_t pid) {
  char path[64];
  ProcPath(pid, "smaps_rollup", path, sizeof(path));
  if (auto bytes = SumPrivateDirty(path)) return bytes;
  ProcPath(pid, "smaps", path, sizeof(path));
  return SumPrivateDirty(path);
}

void ReportFromChild(int fd) {
  if (fd < 0) return;
  if (auto bytes = PrivateDirtyBytes()) {
    unsigned char out[8];
    for (int i = 0; i < 8; ++i) out[i] = static_cast<unsigned char>(*bytes >> (8 * i));
    // 8 bytes into an empty pipe: written whole or not at all.
    ssize_t n;
    do {
      n = ::write(fd, out, sizeof(out));
    } while (n < 0 && errno == EINTR);
  }
  ::close(fd);
}

Channel::Channel() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  read_fd_ = fds[0];
  write_fd_ = fds[1];
  ::fcntl(read_fd_, F_SETFL, ::fcntl(read_fd_, F_GETFL) | O_NONBLOCK);
}

Channel::~Channel() { CloseAll(); }

Channel::Channel(Channel&& other) noexcept
    : read_fd_(std::exchange(other.read_fd_, -1)), write_fd_(std::exchange(other.write_fd_, -1)) {}

Channel& Channel::operator=(Channel&& other) noexcept {
  if (this != &other) {
    CloseAll();
    read_fd_ = std::exchange(other.read_fd_, -1);
    write_fd_ = std::exchange(other.write_fd_, -1);
  }
  return *this;
}

void Channel::CloseChildEnd() {
  if (write_fd_ >= 0) ::close(write_fd_);
  write_fd_ = -1;
}

std::optional<uint64_t> Channel::Receive() {
  std::optional<uint64_t> result;
  if (read_fd_ >= 0) {
    unsigned char in[8];
    ssize_t n;
    do {
      n = ::read(read_fd_, in, sizeof(in));
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(sizeof(in))) {
      uint64_t v = 0;
      for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(in[i]) << (8 * i);
      result = v;
    }
  }
  CloseAll();
  return result;
}

void Channel::CloseAll() {
  if (read_fd_ >= 0) ::close(read_fd_);
  if (write_fd_ >= 0) ::close(write_fd_);
  read_fd_ = write_fd_ = -1;
}

}  // namespace ragkv::cow
