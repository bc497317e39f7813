// The forked full-sync child: the keyspace goes through the ordinary
// SnapshotWriter, whose "file" is a fan-out over the followers' sockets.
//
// Approach: fork() gives the child a copy-on-write view of the keyspace at
// one instant, the same trick BGSAVE uses (src/server/persistence.cc), so
// the parent never pauses to serialize. The child writes each 64 KiB chunk
// the writer produces to every socket before taking the next one (poll +
// non-blocking send: the sockets' O_NONBLOCK flag is shared with the parent
// and must stay set), so the slowest follower paces the others and memory
// stays bounded, as in Redis's rdbPipeWriteHandler. A socket that errors or
// accepts nothing for `timeout_ms` is shut down and dropped; the others go on.
//
// Rejected:
// * the child writes to a pipe and the parent relays it (Redis 7): the
//   payload then crosses the parent's event loop, which needs a write-drained
//   hook from the network layer for flow control; writing the sockets
//   directly needs nothing from it.
// * a temp file written by the child, then sent by the parent: a disk round
//   trip of the whole data set (560 MB for 1M vectors) and a length known
//   only at the end; the EOF-mark format avoids both.
// * a background thread over a consistent copy: the copy is the pause.
#include "replication/full_sync.h"

#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "common/cow_size.h"
#include "persistence/aof_format.h"
#include "persistence/snapshot.h"
#include "server/persistence.h"

namespace ragkv::replication {
namespace {

int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Writes every chunk to every live socket.
class SocketFanout {
 public:
  SocketFanout(const std::vector<int>& fds, int64_t timeout_ms) : timeout_ms_(timeout_ms) {
    for (int fd : fds) targets_.push_back({fd, {}, 0, 0, true});
  }

  // kIOError once no socket is left.
  Status Write(std::string_view data) {
    std::vector<std::string_view> same(targets_.size(), data);
    return WriteEach(same);
  }

  // Writes data[i] to target i (sockets given in the constructor's order).
  Status WriteEach(const std::vector<std::string_view>& data) {
    const int64_t start = NowMs();
    for (size_t i = 0; i < targets_.size(); ++i) {
      targets_[i].data = data[i];
      targets_[i].sent = 0;
      targets_[i].progress_ms = start;
    }
    std::vector<pollfd> pfds;
    std::vector<Target*> waiting;
    for (;;) {
      pfds.clear();
      waiting.clear();
      for (Target& t : targets_) {
        if (t.live && t.sent < t.data.size()) {
          pfds.push_back({t.fd, POLLOUT, 0});
          waiting.push_back(&t);
        }
      }
      if (waiting.empty()) break;
      int n = poll(pfds.data(), pfds.size(), 100);
      if (n < 0 && errno != EINTR) return Status::IOError("poll failed in the full-sync child");
      const int64_t now = NowMs();
      for (size_t i = 0; i < waiting.size(); ++i) {
        Target& t = *waiting[i];
        if (pfds[i].revents & (POLLERR | POLLHUP | POLLNVAL)) {
          Drop(t);
          continue;
        }
        if (pfds[i].revents & POLLOUT) {
          ssize_t w = send(t.fd, t.data.data() + t.sent, t.data.size() - t.sent,
                           MSG_NOSIGNAL | MSG_DONTWAIT);
          if (w > 0) {
            t.sent += static_cast<size_t>(w);
            t.progress_ms = now;
          } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            Drop(t);
            continue;
          }
        }
        if (now - t.progress_ms > timeout_ms_) Drop(t);
      }
    }
    for (const Target& t : targets_) {
      if (t.live) return Status::Ok();
    }
    return Status::IOError("every follower of the full sync is gone");
  }

 private:
  struct Target {
    int fd;
    std::string_view data;  // what the current Write sends it
    size_t sent;
    int64_t progress_ms;
    bool live;
  };

  // The parent sees the connection end (its own descriptor shares the socket).
  static void Drop(Target& t) {
    shutdown(t.fd, SHUT_RDWR);
    close(t.fd);
    t.live = false;
  }

  int64_t timeout_ms_;
  std::vector<Target> targets_;
};

// The SnapshotWriter's file: every Append goes to the sockets. Sync, Close
// and the rename that Finish performs have nothing to do.
class FanoutFile : public persistence::WritableFile {
 public:
  explicit FanoutFile(SocketFanout& out) : out_(out) {}
  Status Append(std::string_view data) override {
    RAGKV_RETURN_IF_ERROR(out_.Write(data));
    size_ += data.size();
    return Status::Ok();
  }
  Status Sync() override { return Status::Ok(); }
  Status Truncate(uint64_t) override { return Status::Internal("full-sync stream: no truncate"); }
  Status Close() override { return Status::Ok(); }
  uint64_t size() const override { return size_; }

 private:
  SocketFanout& out_;
  uint64_t size_ = 0;
};

// A FileSystem whose only file is the fan-out (what SnapshotWriter needs).
class FanoutFileSystem : public persistence::FileSystem {
 public:
  explicit FanoutFileSystem(SocketFanout& out) : out_(out) {}
  Result<std::unique_ptr<persistence::WritableFile>> NewWritableFile(const std::string&) override {
    return std::unique_ptr<persistence::WritableFile>(std::make_unique<FanoutFile>(out_));
  }
  Result<std::unique_ptr<persistence::WritableFile>> NewAppendableFile(
      const std::string&) override {
    return Unsupported();
  }
  Result<std::unique_ptr<persistence::SequentialFile>> NewSequentialFile(
      const std::string&) override {
    return Unsupported();
  }
  bool Exists(const std::string&) override { return false; }
  Result<uint64_t> FileSize(const std::string&) override { return Unsupported(); }
  Result<std::vector<std::string>> ListDir(const std::string&) override { return Unsupported(); }
  Status CreateDir(const std::string&) override { return Unsupported(); }
  Status Remove(const std::string&) override { return Status::Ok(); }
  Status Rename(const std::string&, const std::string&) override { return Status::Ok(); }
  Status Truncate(const std::string&, uint64_t) override { return Unsupported(); }
  Status SyncDir(const std::string&) override { return Status::Ok(); }
  Result<std::unique_ptr<persistence::FileLock>> LockFile(const std::string&) override {
    return Unsupported();
  }

 private:
  static Status Unsupported() { return Status::Internal("not available to the full-sync stream"); }
  SocketFanout& out_;
};

// Closes every inherited descriptor except the followers' sockets (the
// listening socket in particular, so a killed parent frees its port).
void CloseAllBut(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned first = 3;
  for (int fd : keep) {
    if (fd < 3) continue;
    if (static_cast<unsigned>(fd) > first) ::close_range(first, static_cast<unsigned>(fd) - 1, 0);
    first = static_cast<unsigned>(fd) + 1;
  }
  ::close_range(first, ~0U, 0);
}

[[noreturn]] void RunChild(const FullSyncJob& job, store::Keyspace& keyspace, pid_t parent) {
  // A leader killed mid-transfer must not leave a child streaming a
  // snapshot nobody will follow up on.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) ::_exit(2);
  std::vector<int> keep = job.fds;
  if (job.cow_fd >= 0) keep.push_back(job.cow_fd);
  CloseAllBut(keep);
  SocketFanout out(job.fds, job.timeout_ms);
  // SYNC (the pre-PSYNC protocol, redis-cli --replica) gets no +FULLRESYNC.
  const std::string eof = "$EOF:" + job.mark + "\r\n";
  const std::string full =
      "+FULLRESYNC " + job.replid + " " + std::to_string(job.offset) + "\r\n" + eof;
  std::vector<std::string_view> headers;
  for (bool legacy : job.legacy_sync) headers.push_back(legacy ? eof : full);
  Status s = out.WriteEach(headers);
  if (s.ok()) {
    FanoutFileSystem fs(out);
    auto writer = persistence::SnapshotWriter::Create(fs, "full-sync");
    s = writer.status();
    // Index sections after the keys, as in a snapshot file: the follower's
    // FT.CREATE then checks a saved vector index against the loaded keys.
    if (s.ok()) s = server::WriteKeyspace(keyspace, job.now_ms, **writer);
    if (s.ok()) s = server::WriteSearchIndexes(job.search, **writer);
    if (s.ok()) s = (*writer)->Finish();
  }
  if (s.ok()) s = out.Write(job.mark);
  cow::ReportFromChild(job.cow_fd);
  ::_exit(s.ok() ? 0 : 1);
}

}  // namespace

Status WriteIndexDefinitions(const std::vector<search::IndexDefinition>& definitions,
                             persistence::SnapshotWriter& writer) {
  std::string payload;
  for (const search::IndexDefinition& def : definitions) {
    payload = std::to_string(def.db) + "\n";
    for (const auto& command : def.commands) {
      std::vector<std::string_view> argv(command.begin(), command.end());
      persistence::EncodeMultibulk(argv, &payload);
    }
    RAGKV_RETURN_IF_ERROR(writer.AddAux(kIndexAux, payload));
  }
  return Status::Ok();
}

Result<pid_t> ForkFullSync(const FullSyncJob& job, store::Keyspace& keyspace) {
  const pid_t parent = getpid();
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) RunChild(job, keyspace, parent);
  return pid;
}

}  // namespace ragkv::replication
