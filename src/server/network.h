// Server: the network front of an Engine. One thread runs an epoll event
// loop over non-blocking TCP sockets (Redis's ae model): read what arrived,
// parse and execute every complete request in the buffer (pipelining), and
// write all replies produced in one loop iteration with one write() per
// client before waiting again.
//
//   Engine engine(std::move(config));
//   Server server(&engine);
//   RAGKV_RETURN_IF_ERROR(server.Listen());
//   Server::InstallSignalHandlers(&server);  // SIGTERM/SIGINT -> graceful stop
//   return server.Run();
//
// Limits enforced here: maxclients, protected mode, client-query-buffer-limit,
// proto-max-bulk-len and the small-request rule for unauthenticated clients
// (through the parser), idle timeout, and output back-pressure (a client with
// more than client_output_pause bytes of unread replies is not read from until
// it drains them, so a pipelining client that never reads cannot grow the
// server's memory without bound).
//
// Thread safety: Run() on one thread; Stop() from any thread or a signal
// handler.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "server/engine.h"

namespace ragkv::server {

class Server : public SessionIo {
 public:
  explicit Server(Engine* engine);
  ~Server() override;
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every address in config "bind" ("-addr" = skip if unavailable) on
  // config "port" (0 = an ephemeral port, the same one for all addresses).
  Status Listen();
  // The bound port (after Listen).
  int port() const { return port_; }

  // Serves until Stop(), a SHUTDOWN command or a signal. Closes every
  // connection (after a last attempt to flush replies) before returning.
  Status Run();
  // Async-signal-safe and thread-safe.
  void Stop();

  // Routes SIGTERM and SIGINT to server->Stop(); ignores SIGPIPE.
  static void InstallSignalHandlers(Server* server);

  // SessionIo (installed as engine->io): replies sent later (WAIT, pub/sub
  // messages, replica streams) and tasks from other threads (FT.SEARCH
  // completions from the worker pool, the replication link). Every way into
  // the loop from another thread goes through Post: one queue, one eventfd.
  int64_t Send(uint64_t id, std::string_view bytes) override;
  void Unblock(uint64_t id) override;
  void Kill(uint64_t id) override;
  void Post(std::function<void()> fn) override;

 private:
  struct Connection;

  void Accept(int listen_fd);
  void HandleReadable(Connection* c);
  void ProcessInput(Connection* c);
  void QueueWrite(Connection* c);
  // Writes as much as the socket takes; returns false if the connection died.
  bool Flush(Connection* c);
  void UpdateInterest(Connection* c);
  void MarkDead(Connection* c);
  void Reap();
  void FlushPendingWrites();
  void HandleCloseRequests();
  void CheckIdleClients();
  void Shutdown();
  // Runs a bounded batch of posted tasks; sets more_posted_ when some remain.
  void RunPosted();
  // The one way a parked session gets its later reply: appends what `finish`
  // writes (if any), clears `blocked` and runs its pipelined input. A session
  // that closed meanwhile is skipped (session ids are never reused).
  void Resume(uint64_t id, const Engine::ReplyFinisher* finish);

  Engine* engine_;
  // The deferrer (Engine::Defer): runs `work` inline or on a worker.
  void Defer(Session& session, resp::ReplyWriter& out, Engine::DeferredWork work,
             std::string_view cost_key);
  // True when `cost_key`'s learned cost fits search-inline-max-us and nothing
  // else is waiting for the loop (see the design comment in network.cc).
  bool ShouldRunInline(std::string_view cost_key) const;
  void RecordCost(std::string_view cost_key, int64_t ns);

  // Deferred commands: the connection whose command is executing (for the
  // deferrer) and the worker pool. Finished work comes back through Post.
  Connection* executing_ = nullptr;
  std::unique_ptr<class WorkerPool> workers_;
  size_t deferred_in_flight_ = 0;  // submitted, completion not yet run
  int ready_events_ = 0;           // epoll events of the current iteration
  int64_t inline_spent_ns_ = 0;    // inline deferred work this iteration
  int64_t iteration_ns_ = 0;       // monotonic time the iteration started
  // Solo detection: the session that ran the last command, and when a
  // command last came from a different session than the one before it.
  uint64_t last_command_session_ = 0;
  int64_t last_interleave_ns_ = 0;
  // Learned wall time (ns) of deferred work by cost key; loop thread only.
  std::unordered_map<std::string, int64_t, store::StringHash, std::equal_to<>> cost_ns_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::vector<int> listen_fds_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::unordered_map<uint64_t, Connection*> by_session_id_;
  std::vector<Connection*> pending_writes_;
  std::vector<Connection*> dead_;
  std::atomic<bool> stop_{false};
  // The loop's inbox. wake_pending_ (guarded by posted_mu_) is true from the
  // first Post after a drain until the next drain: later Posts add to the
  // batch without another eventfd write (one syscall per wake-up, not per
  // completion).
  std::mutex posted_mu_;
  std::deque<std::function<void()>> posted_;
  bool wake_pending_ = false;
  bool more_posted_ = false;  // loop thread only: RunPosted left tasks queued
};

}  // namespace ragkv::server
