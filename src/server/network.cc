// Server: level-triggered epoll, one read() per readable socket per
// iteration (fairness: a client blasting a pipeline cannot starve others),
// replies appended to a per-connection std::string and written once per
// iteration (Redis's handleClientsWithPendingWrites), EPOLLOUT only while a
// socket's buffer is full. Connections are closed at the end of an iteration
// ("reaped") so no pointer into a dead connection survives the loop body.
//
// Other threads reach the loop only through Post(): one mutex-guarded queue
// and one eventfd, written once per wake-up however many tasks arrive before
// the loop drains (wake_pending_). FT.SEARCH completions from the worker pool,
// the replication link's tasks and SessionIo::Unblock all use it, and every
// parked session resumes through Resume(): append the late reply, clear
// `blocked`, run the pipelined input behind it. Session ids are never reused,
// so a completion for a client that left finds nothing and is dropped.
//
// Deferred work (Engine::Defer) runs on a worker, with the connection parked,
// unless it can run inline without stalling anyone: search-inline-max-us > 0,
// no other socket or posted task ready this iteration, nothing on the workers,
// and this command shape's learned wall time (measured on every run, rising
// at once and decaying slowly) plus the inline time already spent this
// iteration fits the budget. A request arriving meanwhile waits at most that
// budget (default 25 us, about one loopback round trip here); in exchange an
// inline search saves two thread wake-ups (~25 us of CPU on this VM). Unknown
// shapes go to a worker first, so a slow query is never run inline blind.
// While a single connection has been the only one sending commands for 100
// ms there is nobody to stall, and the larger solo budget applies (default 1
// ms): a client that shows up then waits behind at most one inline search,
// and its first command ends solo mode.
//
// Rejected: edge-triggered epoll (needs read-until-EAGAIN, which lets one
// client monopolize the loop, or extra bookkeeping to be fair), a reply list
// of small buffers with writev (one contiguous string is simpler; the
// per-iteration batching already gives one syscall per client), Asio/libuv
// (not needed for one thread on Linux), spinning workers or a spinning loop to
// avoid wake-ups (burns a core of a 2-core host that other work needs), and a
// lock-free inbox (the mutex is uncontended next to the eventfd syscall).
#include "server/network.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "common/log.h"
#include "protocol/reply_writer.h"
#include "protocol/request_parser.h"
#include "server/errors.h"
#include "server/persistence.h"
#include "server/worker_pool.h"

namespace ragkv::server {
namespace {

constexpr size_t kReadChunk = 16 * 1024;
constexpr int kMaxEvents = 1024;

int64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

std::string FormatAddr(const sockaddr_storage& ss, bool* loopback) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  *loopback = false;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
    *loopback = (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  } else if (ss.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    port = ntohs(a->sin6_port);
    *loopback = IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) ||
                (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr) && a->sin6_addr.s6_addr[12] == 127);
  }
  return std::string(host) + ":" + std::to_string(port);
}

Server* g_signal_server = nullptr;

void OnSignal(int sig) {
  const char* msg = sig == SIGINT ? "Received SIGINT scheduling shutdown...\n"
                                  : "Received SIGTERM scheduling shutdown...\n";
  ssize_t ignored = write(STDERR_FILENO, msg, std::strlen(msg));
  (void)ignored;
  if (g_signal_server != nullptr) g_signal_server->Stop();
}

}  // namespace

struct Server::Connection {
  int fd = -1;
  Session session;
  // Query buffer: bytes [in_pos, in_len) are unprocessed; in.size() is the
  // allocated capacity (grown, never shrunk per read, so reads do not pay
  // for zero-filling a fresh chunk each time).
  std::string in;
  size_t in_len = 0;
  size_t in_pos = 0;  // start of the first unprocessed request
  resp::RequestParser parser;
  std::string out;
  size_t out_pos = 0;
  bool write_queued = false;
  bool want_write = false;     // EPOLLOUT registered
  bool read_paused = false;    // back-pressure: EPOLLIN removed
  bool registered_in = true;
  bool dead = false;
  bool close_after_flush = false;
  bool awaiting_durability = false;  // has replies to writes not yet known durable
};

Server::Server(Engine* engine) : engine_(engine) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  // One core stays with the event loop; workers run at nice +5 so key-value
  // commands are served first when searches saturate the CPU.
  const size_t cores = std::thread::hardware_concurrency();
  workers_ = std::make_unique<WorkerPool>(std::clamp<size_t>(cores > 1 ? cores - 1 : 1, 1, 16),
                                          /*nice=*/5);
  engine_->set_deferrer([this](Session& session, resp::ReplyWriter& out, Engine::DeferredWork work,
                               std::string_view cost_key) {
    Defer(session, out, std::move(work), cost_key);
  });
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  engine_->io = this;
}

Server::~Server() {
  engine_->set_deferrer(nullptr);
  workers_.reset();  // joins; finished work still queued is dropped
  if (engine_->io == this) engine_->io = nullptr;
  for (auto& [fd, c] : connections_) {
    engine_->CloseSession(c->session);
    close(fd);
  }
  for (int fd : listen_fds_) close(fd);
  if (wake_fd_ >= 0) close(wake_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (g_signal_server == this) g_signal_server = nullptr;
}

void Server::Defer(Session& session, resp::ReplyWriter& out, Engine::DeferredWork work,
                   std::string_view cost_key) {
  Connection* c = executing_;
  // Only a command this loop is executing for a connection can be parked.
  if (c == nullptr || &c->session != &session) return work()(out);
  if (ShouldRunInline(cost_key)) {
    const int64_t start = MonotonicNs();
    Engine::ReplyFinisher finish = work();
    const int64_t spent = MonotonicNs() - start;
    inline_spent_ns_ += spent;
    RecordCost(cost_key, spent);
    ++engine_->stats().deferred_inline;
    return finish(out);
  }
  session.blocked = true;
  ++deferred_in_flight_;
  ++engine_->stats().deferred_on_workers;
  workers_->Submit([this, id = session.id, key = std::string(cost_key), work = std::move(work),
                    submitted = MonotonicNs()]() mutable {
    const int64_t start = MonotonicNs();
    Engine::ReplyFinisher finish = work();
    const int64_t done = MonotonicNs();
    Post([this, id, key = std::move(key), to_worker = start - submitted, spent = done - start,
          done, finish = std::move(finish)] {
      Stats& stats = engine_->stats();
      stats.deferred_to_worker_ns += to_worker;
      stats.deferred_to_loop_ns += MonotonicNs() - done;
      --deferred_in_flight_;
      RecordCost(key, spent);
      Resume(id, &finish);
    });
  });
}

bool Server::ShouldRunInline(std::string_view cost_key) const {
  constexpr int64_t kSoloNs = 100'000'000;
  const Config& cfg = engine_->config();
  const bool solo = iteration_ns_ - last_interleave_ns_ >= kSoloNs;
  const int64_t budget_ns =
      (solo ? cfg.search_inline_solo_max_us : cfg.search_inline_max_us) * 1000;
  if (budget_ns <= 0 || cost_key.empty()) return false;
  // Someone else is waiting for the loop: another ready socket or posted
  // task this iteration, or work on the workers whose completion is due.
  if (ready_events_ > 1 || more_posted_ || deferred_in_flight_ > 0) return false;
  auto it = cost_ns_.find(cost_key);
  // Unknown shapes run on a worker first, which measures them.
  return it != cost_ns_.end() && inline_spent_ns_ + it->second <= budget_ns;
}

void Server::RecordCost(std::string_view cost_key, int64_t ns) {
  if (cost_key.empty()) return;
  auto it = cost_ns_.find(cost_key);
  if (it == cost_ns_.end()) {
    // Bounded: shapes are few in practice; a client generating endless new
    // ones only resets what was learned.
    constexpr size_t kMaxShapes = 1024;
    if (cost_ns_.size() >= kMaxShapes) cost_ns_.clear();
    cost_ns_.emplace(std::string(cost_key), ns);
    return;
  }
  // Rises at once, decays slowly: one slow run sends the next ones of that
  // shape to the workers until it has proven cheap again.
  it->second = ns >= it->second ? ns : (3 * it->second + ns) / 4;
}

void Server::InstallSignalHandlers(Server* server) {
  g_signal_server = server;
  struct sigaction sa{};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void Server::Stop() {
  stop_.store(true);
  uint64_t one = 1;
  ssize_t ignored = write(wake_fd_, &one, sizeof(one));
  (void)ignored;
}

Status Server::Listen() {
  const Config& cfg = engine_->config();
  std::istringstream addrs(cfg.bind);
  std::string addr;
  int port = static_cast<int>(cfg.port);
  while (addrs >> addr) {
    bool optional = addr[0] == '-';
    if (optional) addr.erase(0, 1);
    if (addr == "*") addr = "0.0.0.0";
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST;
    addrinfo* res = nullptr;
    std::string port_str = std::to_string(port);
    if (getaddrinfo(addr.c_str(), port_str.c_str(), &hints, &res) != 0) {
      if (optional) continue;
      return Status::InvalidArgument("invalid bind address '" + addr + "'");
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    bool ok = fd >= 0;
    if (ok) {
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
      if (res->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      ok = bind(fd, res->ai_addr, res->ai_addrlen) == 0 &&
           listen(fd, static_cast<int>(cfg.tcp_backlog)) == 0;
    }
    int err = errno;
    freeaddrinfo(res);
    if (!ok) {
      if (fd >= 0) close(fd);
      if (optional) continue;
      return Status::IOError("could not create server TCP listening socket " + addr + ":" +
                             port_str + ": " + std::strerror(err));
    }
    if (port == 0) {
      sockaddr_storage ss{};
      socklen_t len = sizeof(ss);
      getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
      port = ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                     : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    listen_fds_.push_back(fd);
  }
  if (listen_fds_.empty()) return Status::IOError("no address to listen on (bind '" + cfg.bind + "')");
  port_ = port;
  engine_->tcp_port = port;
  return Status::Ok();
}

void Server::Accept(int listen_fd) {
  Config& cfg = engine_->config();
  // Bounded per iteration so a connection storm cannot starve clients.
  for (int i = 0; i < 1000; ++i) {
    sockaddr_storage ss{};
    socklen_t len = sizeof(ss);
    int fd = accept4(listen_fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        log::Warn(std::string("Accepting client connection: ") + std::strerror(errno));
      }
      return;
    }
    bool loopback;
    std::string addr = FormatAddr(ss, &loopback);
    auto refuse = [&](std::string_view error) {
      std::string msg = "-";
      msg.append(error).append("\r\n");
      ssize_t ignored = send(fd, msg.data(), msg.size(), MSG_NOSIGNAL);
      (void)ignored;
      close(fd);
      ++engine_->stats().rejected_connections;
    };
    if (static_cast<int64_t>(connections_.size()) >= cfg.maxclients) {
      refuse(errors::kMaxClients);
      continue;
    }
    if (cfg.protected_mode && cfg.requirepass.empty() && !loopback) {
      refuse(errors::kProtectedMode);
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (cfg.tcp_keepalive > 0) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
    auto conn = std::make_unique<Connection>();
    Connection* c = conn.get();
    c->fd = fd;
    c->session.fd = fd;
    c->session.addr = addr;
    c->session.loopback = loopback;
    sockaddr_storage local{};
    socklen_t llen = sizeof(local);
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen);
    bool ignored_loopback;
    c->session.laddr = FormatAddr(local, &ignored_loopback);
    engine_->OpenSession(c->session);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    by_session_id_[c->session.id] = c;
    connections_[fd] = std::move(conn);
  }
}

void Server::UpdateInterest(Connection* c) {
  bool want_in = !c->read_paused && !c->close_after_flush;
  epoll_event ev{};
  ev.events = (want_in ? EPOLLIN : 0u) | (c->want_write ? EPOLLOUT : 0u);
  ev.data.fd = c->fd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
  c->registered_in = want_in;
}

void Server::HandleReadable(Connection* c) {
  if (c->in.size() - c->in_len < kReadChunk) {
    c->in.resize(std::max(c->in.size() * 2, c->in_len + kReadChunk));
  }
  size_t room = c->in.size() - c->in_len;
  ssize_t n = read(c->fd, c->in.data() + c->in_len, room);
  if (n <= 0) {
    if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) MarkDead(c);
    return;
  }
  c->in_len += static_cast<size_t>(n);
  engine_->stats().total_net_input_bytes += n;
  if (static_cast<int64_t>(c->in_len - c->in_pos) > engine_->config().client_query_buffer_limit) {
    log::Warn("Closing client that reached max query buffer length: addr=" + c->session.addr);
    MarkDead(c);
    return;
  }
  ProcessInput(c);
}

void Server::ProcessInput(Connection* c) {
  const Config& cfg = engine_->config();
  resp::RequestLimits limits;
  limits.max_bulk_len = cfg.proto_max_bulk_len;
  size_t out_before = c->out.size();
  while (!c->dead && !c->close_after_flush && !c->session.blocked) {
    // A replica's output is the replication stream: its ACKs must still be
    // read however much stream is queued.
    if (c->session.kind != ClientKind::kReplica &&
        static_cast<int64_t>(c->out.size() - c->out_pos) > cfg.client_output_pause) {
      c->read_paused = true;  // resumes when the client reads its replies
      break;
    }
    limits.unauthenticated = !c->session.authenticated;
    c->parser.set_limits(limits);
    std::string_view pending(c->in.data() + c->in_pos, c->in_len - c->in_pos);
    resp::ParseStatus st = c->parser.Parse(pending);
    if (st == resp::ParseStatus::kNeedMore) break;
    if (st == resp::ParseStatus::kError) {
      c->out.append("-ERR ").append(c->parser.error()).append("\r\n");
      log::Debug("Protocol error from client " + c->session.addr + ": " + std::string(c->parser.error()));
      c->close_after_flush = true;
      break;
    }
    const auto& args = c->parser.args();
    size_t consumed = c->parser.consumed();
    if (!args.empty()) {
      if (c->session.id != last_command_session_) {
        last_command_session_ = c->session.id;
        last_interleave_ns_ = iteration_ns_;
      }
      resp::ReplyWriter writer(&c->out, c->session.resp);
      const int64_t dirty_before = engine_->stats().dirty;
      executing_ = c;
      engine_->Execute(c->session, std::span<const std::string_view>(args.data(), args.size()), writer);
      executing_ = nullptr;
      if (engine_->stats().dirty != dirty_before) c->awaiting_durability = true;
      if (c->session.close_after_reply) c->close_after_flush = true;
    }
    c->in_pos += consumed;
  }
  // Drop consumed bytes: cheap when all is consumed (the common case);
  // otherwise only once the dead prefix is large.
  if (c->in_pos == c->in_len) {
    c->in_pos = c->in_len = 0;
    if (c->in.size() > 1024 * 1024) {
      c->in.clear();
      c->in.shrink_to_fit();
    }
  } else if (c->in_pos > 64 * 1024) {
    std::memmove(c->in.data(), c->in.data() + c->in_pos, c->in_len - c->in_pos);
    c->in_len -= c->in_pos;
    c->in_pos = 0;
  }
  c->session.query_buffer_bytes = c->in_len - c->in_pos;
  if (c->out.size() != out_before || c->close_after_flush) QueueWrite(c);
  if (c->read_paused && c->registered_in) UpdateInterest(c);
}

void Server::QueueWrite(Connection* c) {
  if (!c->write_queued) {
    c->write_queued = true;
    pending_writes_.push_back(c);
  }
}

bool Server::Flush(Connection* c) {
  // Group commit: replies leave only after the writes applied so far are as
  // durable as appendfsync promises; the first Flush of an event-loop
  // iteration pays one write (+ fsync) for all of them, the rest find it done.
  if (engine_->persistence != nullptr && c->out_pos < c->out.size()) {
    Status s = engine_->persistence->BeforeReply();
    if (s.ok()) {
      c->awaiting_durability = false;
    } else if (c->awaiting_durability) {
      // Never acknowledge what is not stored: the client sees a dropped
      // connection (outcome unknown), not an OK.
      log::Warn("Closing client " + c->session.addr +
                " without replying: its writes could not be persisted: " + s.ToString());
      MarkDead(c);
      return false;
    }
  }
  while (c->out_pos < c->out.size()) {
    ssize_t n = send(c->fd, c->out.data() + c->out_pos, c->out.size() - c->out_pos, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      MarkDead(c);
      return false;
    }
    c->out_pos += static_cast<size_t>(n);
    engine_->stats().total_net_output_bytes += n;
  }
  if (c->out_pos == c->out.size()) {
    c->out.clear();
    c->out_pos = 0;
    if (c->out.capacity() > 1024 * 1024) c->out.shrink_to_fit();
  } else if (c->out_pos > 1024 * 1024 && c->out_pos * 2 > c->out.size()) {
    // Only once the sent prefix is at least half the buffer: a large output
    // (a replica's full sync) is then moved O(1) times per byte, not once
    // per send().
    c->out.erase(0, c->out_pos);
    c->out_pos = 0;
  }
  c->session.output_buffer_bytes = c->out.size() - c->out_pos;
  bool pending = c->out_pos < c->out.size();
  if (!pending && c->close_after_flush) {
    MarkDead(c);
    return false;
  }
  bool resume = c->read_paused &&
                static_cast<int64_t>(c->out.size() - c->out_pos) <= engine_->config().client_output_pause / 2;
  if (resume) c->read_paused = false;
  if (pending != c->want_write || resume) {
    c->want_write = pending;
    UpdateInterest(c);
  }
  // Requests left in the buffer while paused are processed now.
  if (resume && c->in_pos < c->in_len) ProcessInput(c);
  return true;
}

void Server::FlushPendingWrites() {
  // ProcessInput inside Flush may queue more; iterate by index.
  for (size_t i = 0; i < pending_writes_.size(); ++i) {
    Connection* c = pending_writes_[i];
    c->write_queued = false;
    if (!c->dead) Flush(c);
  }
  pending_writes_.clear();
}

void Server::MarkDead(Connection* c) {
  if (c->dead) return;
  c->dead = true;
  dead_.push_back(c);
}

void Server::Reap() {
  for (Connection* c : dead_) {
    int fd = c->fd;
    engine_->CloseSession(c->session);
    by_session_id_.erase(c->session.id);
    // Explicitly: a forked child (a replica's full sync) may still hold the
    // socket, and epoll forgets a descriptor only when every copy is closed.
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    close(fd);
    connections_.erase(fd);  // destroys c
  }
  dead_.clear();
}

void Server::HandleCloseRequests() {
  for (uint64_t id : engine_->TakeCloseRequests()) {
    auto it = by_session_id_.find(id);
    if (it == by_session_id_.end()) continue;
    Connection* c = it->second;
    // Let the killer's own reply (if it killed itself) go out first.
    c->close_after_flush = true;
    QueueWrite(c);
  }
}

void Server::CheckIdleClients() {
  int64_t timeout = engine_->config().timeout;
  if (timeout <= 0) return;
  int64_t now = engine_->Now();
  for (auto& [fd, c] : connections_) {
    if (!c->dead && !c->session.in_multi && !c->session.blocked &&
        c->session.kind != ClientKind::kReplica && c->session.subscriptions == 0 &&
        now - c->session.last_interaction_ms > timeout * 1000) {
      MarkDead(c.get());
    }
  }
}

Status Server::Run() {
  log::Info("Ready to accept connections tcp");
  epoll_event events[kMaxEvents];
  int64_t next_cron = MonotonicMs();
  while (!stop_.load() && !engine_->shutdown_requested()) {
    int64_t now = MonotonicMs();
    int timeout = more_posted_ ? 0 : static_cast<int>(std::max<int64_t>(0, next_cron - now));
    int n = epoll_wait(epoll_fd_, events, kMaxEvents, timeout);
    bool posted_ready = false;
    ready_events_ = n;
    inline_spent_ns_ = 0;
    iteration_ns_ = MonotonicNs();
    if (n < 0 && errno != EINTR) return Status::IOError(std::string("epoll_wait: ") + std::strerror(errno));
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t v;
        ssize_t ignored = read(wake_fd_, &v, sizeof(v));
        (void)ignored;
        posted_ready = true;
        continue;
      }
      if (std::find(listen_fds_.begin(), listen_fds_.end(), fd) != listen_fds_.end()) {
        Accept(fd);
        continue;
      }
      auto it = connections_.find(fd);
      if (it == connections_.end()) continue;
      Connection* c = it->second.get();
      if (c->dead) continue;
      uint32_t ev = events[i].events;
      if ((ev & EPOLLOUT) && !c->write_queued) Flush(c);
      if (c->dead) continue;
      if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (c->registered_in || (ev & (EPOLLHUP | EPOLLERR))) HandleReadable(c);
      }
    }
    // One batch per iteration, including what a full batch left behind
    // (whose eventfd write was absorbed by the previous wake-up).
    if (posted_ready || more_posted_) RunPosted();
    HandleCloseRequests();
    FlushPendingWrites();
    Reap();
    if (MonotonicMs() >= next_cron) {
      engine_->Cron();
      CheckIdleClients();
      Reap();
      next_cron = MonotonicMs() + 1000 / std::max<int64_t>(1, engine_->config().hz);
    }
  }
  Shutdown();
  return Status::Ok();
}

int64_t Server::Send(uint64_t id, std::string_view bytes) {
  auto it = by_session_id_.find(id);
  if (it == by_session_id_.end() || it->second->dead) return -1;
  Connection* c = it->second;
  c->out.append(bytes);
  QueueWrite(c);
  return static_cast<int64_t>(c->out.size() - c->out_pos);
}

void Server::Unblock(uint64_t id) {
  // Resumed from the loop, not from inside the command that unblocked it.
  Post([this, id] { Resume(id, nullptr); });
}

void Server::Resume(uint64_t id, const Engine::ReplyFinisher* finish) {
  auto it = by_session_id_.find(id);
  if (it == by_session_id_.end()) return;
  Connection* c = it->second;
  if (c->dead) return;
  if (finish != nullptr) {
    resp::ReplyWriter writer(&c->out, c->session.resp);
    (*finish)(writer);
    QueueWrite(c);
  }
  c->session.blocked = false;
  if (c->in_pos < c->in_len) ProcessInput(c);  // commands pipelined behind it
}

void Server::Kill(uint64_t id) {
  auto it = by_session_id_.find(id);
  if (it != by_session_id_.end()) MarkDead(it->second);
}

void Server::Post(std::function<void()> fn) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    posted_.push_back(std::move(fn));
    wake = !wake_pending_;
    wake_pending_ = true;
  }
  if (wake) {
    uint64_t one = 1;
    ssize_t ignored = write(wake_fd_, &one, sizeof(one));
    (void)ignored;
  }
}

void Server::RunPosted() {
  // A bounded batch per loop iteration: a follower that fell behind applies
  // its backlog of stream chunks in slices and keeps serving its clients.
  // What is left is run in the next iteration, which then does not block in
  // epoll_wait (more_posted_).
  constexpr size_t kMaxTasksPerIteration = 16;
  std::vector<std::function<void()>> tasks;
  {
    std::lock_guard<std::mutex> lock(posted_mu_);
    while (!posted_.empty() && tasks.size() < kMaxTasksPerIteration) {
      tasks.push_back(std::move(posted_.front()));
      posted_.pop_front();
    }
    more_posted_ = !posted_.empty();
    wake_pending_ = more_posted_;
  }
  for (auto& task : tasks) task();
}

void Server::Shutdown() {
  log::Warn("Closing " + std::to_string(connections_.size()) + " client connections");
  // Last chance for replies already produced (e.g. to pipelines in flight).
  for (auto& [fd, c] : connections_) {
    if (!c->dead && c->out_pos < c->out.size()) {
      ssize_t ignored = send(fd, c->out.data() + c->out_pos, c->out.size() - c->out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
      (void)ignored;
    }
    MarkDead(c.get());
  }
  Reap();
  for (int fd : listen_fds_) close(fd);
  listen_fds_.clear();
  log::Warn("ragkv is now ready to exit, bye bye...");
}

}  // namespace ragkv::server
