// The link thread is a plain blocking loop: connect (non-blocking connect +
// poll so it can be stopped), handshake with line replies, then recv() in a
// loop with a short SO_RCVTIMEO so the stop flag and repl-timeout are checked
// a few times per second. A full-sync payload is written to a temporary file
// and read back once through the snapshot reader (which checks the CRC)
// before it is reported, so the event loop only ever loads verified data.
//
// Rejected: driving the follower from the event loop with non-blocking state
// machines (Redis's approach). It saves a thread but makes connect timeouts,
// the handshake and the payload download a state machine spread over
// callbacks; the thread confines all blocking I/O, and the loop sees only
// whole events.
#include "replication/follower_link.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "persistence/file_system.h"
#include "persistence/snapshot.h"
#include "protocol/resp_client.h"

namespace ragkv::replication {
namespace {

// Length of the random mark that ends a diskless payload (Redis's
// RDB_EOF_MARK_SIZE).
constexpr size_t kEofMarkLength = 40;

int64_t NowMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// Accepts every entry: used to verify a payload before it is applied.
class NullVisitor : public persistence::SnapshotVisitor {
 public:
  Status OnEntry(persistence::SnapshotEntry&) override { return Status::Ok(); }
};

int ConnectWithTimeout(const std::string& host, int port, int timeout_ms, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_str = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_str.c_str(), &hints, &res); rc != 0) {
    *error = gai_strerror(rc);
    return -1;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::strerror(errno);
    freeaddrinfo(res);
    return -1;
  }
  int rc = connect(fd, res->ai_addr, res->ai_addrlen);
  freeaddrinfo(res);
  if (rc != 0 && errno != EINPROGRESS) {
    *error = std::strerror(errno);
    close(fd);
    return -1;
  }
  if (rc != 0) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof(err);
    if (poll(&p, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 ||
        err != 0) {
      *error = err != 0 ? std::strerror(err) : "connect timeout";
      close(fd);
      return -1;
    }
  }
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{0, 100 * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  timeval send_tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_tv, sizeof(send_tv));
  return fd;
}

// Buffered reads from the leader with the stop flag and an idle deadline.
class Reader {
 public:
  Reader(int fd, const std::atomic<bool>& stop, int64_t timeout_ms)
      : fd_(fd), stop_(stop), timeout_ms_(timeout_ms) {}

  // Reads more bytes into buf_; false on EOF, error, stop or idle timeout.
  bool Fill() {
    int64_t deadline = NowMs() + timeout_ms_;
    char chunk[64 * 1024];
    while (!stop_.load()) {
      ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<size_t>(n));
        return true;
      }
      if (n == 0) return false;
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
      if (NowMs() > deadline) return false;
    }
    return false;
  }

  // One CRLF-terminated line without the CRLF; skips bare "\n" keepalives.
  bool ReadLine(std::string* line) {
    for (;;) {
      while (!buf_.empty() && buf_[0] == '\n') buf_.erase(0, 1);
      size_t eol = buf_.find("\r\n");
      if (eol != std::string::npos) {
        line->assign(buf_, 0, eol);
        buf_.erase(0, eol + 2);
        return true;
      }
      if (buf_.size() > 64 * 1024 || !Fill()) return false;
    }
  }

  std::string& buffer() { return buf_; }

 private:
  int fd_;
  const std::atomic<bool>& stop_;
  int64_t timeout_ms_;
  std::string buf_;
};

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::string_view LinkStateName(LinkState state) {
  switch (state) {
    case LinkState::kConnect:
      return "connect";
    case LinkState::kConnecting:
      return "connecting";
    case LinkState::kHandshake:
      return "handshake";
    case LinkState::kSync:
      return "sync";
    case LinkState::kConnected:
      return "connected";
  }
  return "none";
}

FollowerLink::FollowerLink(LinkOptions options, LinkEvents events)
    : options_(std::move(options)), events_(std::move(events)) {}

FollowerLink::~FollowerLink() {
  stop_.store(true);
  Drop();
  if (thread_.joinable()) thread_.join();
}

void FollowerLink::Start() {
  thread_ = std::thread([this] { Run(); });
}

void FollowerLink::SendAck(int64_t offset, int64_t fack) {
  std::string off = std::to_string(offset), f = std::to_string(fack);
  std::string cmd = resp::EncodeCommand({"REPLCONF", "ACK", off, "FACK", f});
  std::lock_guard<std::mutex> lock(fd_mu_);
  if (fd_ < 0 || !streaming_) return;
  ssize_t ignored = send(fd_, cmd.data(), cmd.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
}

void FollowerLink::Drop() {
  std::lock_guard<std::mutex> lock(fd_mu_);
  if (fd_ >= 0) shutdown(fd_, SHUT_RDWR);
}

bool FollowerLink::SleepInterruptible(int64_t ms) {
  int64_t end = NowMs() + ms;
  while (!stop_.load() && NowMs() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(20, ms)));
  }
  return !stop_.load();
}

void FollowerLink::Run() {
  int64_t backoff_ms = 100;
  while (!stop_.load()) {
    events_.on_state(LinkState::kConnecting);
    std::string error;
    int fd = ConnectWithTimeout(options_.host, options_.port, 2000, &error);
    if (fd < 0) {
      log::Debug("Error condition on socket for SYNC: " + error);
    } else {
      {
        std::lock_guard<std::mutex> lock(fd_mu_);
        fd_ = fd;
        streaming_ = false;
      }
      int64_t started = NowMs();
      RunConnection(fd);
      {
        std::lock_guard<std::mutex> lock(fd_mu_);
        fd_ = -1;
        streaming_ = false;
      }
      close(fd);
      // A link that worked for a while reconnects fast.
      if (NowMs() - started > 5000) backoff_ms = 100;
    }
    events_.on_state(LinkState::kConnect);
    if (!SleepInterruptible(backoff_ms)) break;
    backoff_ms = std::min<int64_t>(backoff_ms * 2, 2000);
  }
}

void FollowerLink::RunConnection(int fd) {
  Reader reader(fd, stop_, options_.timeout_ms);
  std::string line;
  auto command = [&](const std::vector<std::string_view>& argv) {
    return SendAll(fd, resp::EncodeCommand(argv)) && reader.ReadLine(&line);
  };
  events_.on_state(LinkState::kHandshake);
  if (!command({"PING"})) return;
  if (line[0] == '-' && line.rfind("-NOAUTH", 0) != 0 && line.rfind("-NOPERM", 0) != 0 &&
      line.rfind("-ERR operation not permitted", 0) != 0) {
    events_.on_error("Error reply to PING from master: '" + line + "'");
    return;
  }
  if (!options_.masterauth.empty()) {
    bool ok = options_.masteruser.empty()
                  ? command({"AUTH", options_.masterauth})
                  : command({"AUTH", options_.masteruser, options_.masterauth});
    if (!ok) return;
    if (line[0] == '-') {
      events_.on_error("Unable to AUTH to MASTER: " + line);
      return;
    }
  }
  std::string port = std::to_string(options_.listening_port);
  if (!command({"REPLCONF", "listening-port", port})) return;
  if (!options_.announce_ip.empty() && !command({"REPLCONF", "ip-address", options_.announce_ip})) {
    return;
  }
  if (!command({"REPLCONF", "capa", "eof", "capa", "psync2"})) return;
  auto [replid, offset] = events_.prepare_psync();
  if (replid.empty()) return;
  std::string off = std::to_string(offset);
  if (!command({"PSYNC", replid, off})) return;
  if (line.rfind("+FULLRESYNC ", 0) == 0) {
    char id[41] = {};
    long long start = 0;
    if (std::sscanf(line.c_str() + 12, "%40s %lld", id, &start) != 2) {
      events_.on_error("Bad +FULLRESYNC reply: " + line);
      return;
    }
    events_.on_state(LinkState::kSync);
    std::string header;
    if (!reader.ReadLine(&header)) return;
    // "$<len>" or, from a diskless leader, "$EOF:<40-char mark>": the
    // payload ends where the mark appears.
    std::string mark;
    long long len = -1;
    if (header.rfind("$EOF:", 0) == 0) {
      mark = header.substr(5);
      if (mark.size() != kEofMarkLength) {
        events_.on_error("Bad full sync EOF mark: " + header.substr(0, 64));
        return;
      }
    } else if (header.size() < 2 || header[0] != '$' ||
               std::sscanf(header.c_str() + 1, "%lld", &len) != 1 || len < 0) {
      events_.on_error("Bad full sync payload header: " + header.substr(0, 64));
      return;
    }
    std::string path = options_.dir + "/temp-repl-" + std::to_string(getpid()) + "-" +
                       std::to_string(NowMs()) + ".rks";
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr) {
      events_.on_error("Opening the temp file needed for MASTER <-> REPLICA synchronization: " +
                       std::string(std::strerror(errno)));
      return;
    }
    std::string& buf = reader.buffer();
    bool ok = true;
    auto write = [&](size_t n) {
      if (std::fwrite(buf.data(), 1, n, f) != n) ok = false;
      buf.erase(0, n);
    };
    if (!mark.empty()) {
      // Everything before the mark is payload; what follows it is stream.
      // Up to mark-length - 1 bytes are held back: the mark may straddle reads.
      for (;;) {
        size_t at = buf.find(mark);
        if (at != std::string::npos) {
          write(at);
          buf.erase(0, mark.size());
          break;
        }
        if (buf.size() >= mark.size()) write(buf.size() - (mark.size() - 1));
        if (!ok || !reader.Fill()) {
          ok = false;
          break;
        }
      }
    } else {
      auto left = static_cast<size_t>(len);
      while (left > 0 && ok) {
        if (buf.empty() && !reader.Fill()) {
          ok = false;
          break;
        }
        size_t n = std::min(left, buf.size());
        write(n);
        left -= n;
      }
    }
    if (std::fclose(f) != 0) ok = false;
    NullVisitor verify;
    if (ok) {
      Status s = persistence::ReadSnapshot(*persistence::DefaultFileSystem(), path, verify);
      if (!s.ok()) {
        events_.on_error("Corrupt full sync payload, resyncing: " + s.ToString());
        ok = false;
      }
    }
    if (!ok) {
      unlink(path.c_str());
      return;
    }
    events_.on_full_sync(id, start, path);
  } else if (line.rfind("+CONTINUE", 0) == 0) {
    std::string id = line.size() > 10 ? line.substr(10) : "";
    events_.on_continue(id);
  } else {
    events_.on_error("Unexpected reply to PSYNC from master: " + line);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(fd_mu_);
    streaming_ = true;
  }
  events_.on_state(LinkState::kConnected);
  if (!reader.buffer().empty()) {
    events_.on_stream(std::move(reader.buffer()));
    reader.buffer().clear();
  }
  while (reader.Fill()) {
    events_.on_stream(std::move(reader.buffer()));
    reader.buffer().clear();
  }
}

}  // namespace ragkv::replication
