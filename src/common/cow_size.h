// Copy-on-write growth of a forked child (Redis's rdb_last_cow_size,
// aof_last_cow_size, current_cow_size): the memory the child holds privately
// because one of the two processes wrote to a page they shared after fork().
//
//   cow::Channel channel;                        // before fork(): a pipe
//   pid = fork();
//   child:  ... work ...; cow::ReportFromChild(channel.child_fd()); _exit(..)
//   parent: channel.CloseChildEnd(); ... reap ...; bytes = channel.Receive();
//
// The figure is the sum of Private_Dirty of the child's mappings, read from
// /proc/<pid>/smaps_rollup (one line per field; Linux 4.14+) or else summed
// over /proc/<pid>/smaps. Pages the parent modified since fork() are the
// child's private copies; so are the pages the child wrote itself (its heap),
// which Redis counts too.
//
// Thread safety: a Channel belongs to the thread that forks and reaps.
// ReportFromChild is async-signal-safe enough for a forked child of a
// multithreaded process: it allocates nothing (stack buffers, open/read/write).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace ragkv::cow {

// Private_Dirty of process `pid` (0: the calling process) in bytes, or
// nullopt when /proc cannot be read (no procfs, the process is gone).
// Cost: a walk of the process's page tables by the kernel, ~1 ms per GiB.
std::optional<uint64_t> PrivateDirtyBytes(pid_t pid = 0);

// In a forked child, just before _exit: measures PrivateDirtyBytes() and
// writes it, 8 bytes, to `fd` (the Channel's child end), then closes it.
// Does nothing when fd < 0 or /proc cannot be read.
void ReportFromChild(int fd);

// A one-shot pipe from a forked child to its parent. Move-only; closes what
// it still holds on destruction.
class Channel {
 public:
  // Opens the pipe (O_CLOEXEC, the parent's end O_NONBLOCK). When pipe()
  // fails the channel is inert: child_fd() is -1 and Receive() nullopt.
  Channel();
  ~Channel();
  Channel(Channel&& other) noexcept;
  Channel& operator=(Channel&& other) noexcept;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  // The end the child writes to (keep it open in the child), or -1.
  int child_fd() const { return write_fd_; }
  // In the parent, right after fork(): so that a dead child reads as EOF.
  void CloseChildEnd();
  // In the parent, after the child was reaped: the reported size, or nullopt
  // if the child reported nothing (killed, /proc unreadable). Closes the pipe.
  std::optional<uint64_t> Receive();

 private:
  void CloseAll();
  int read_fd_ = -1;
  int write_fd_ = -1;
};

}  // namespace ragkv::cow
