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
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "server/engine.h"

namespace ragkv::server {

class Server {
 public:
  explicit Server(Engine* engine);
  ~Server();
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
  // Runs the finishers of deferred commands (FT.SEARCH) that workers posted,
  // then resumes their connections' input.
  void DrainCompletions();

  Engine* engine_;
  // Deferred commands: the connection whose command is executing (for the
  // deferrer), the worker pool, and finished work posted back to the loop.
  struct Completion {
    int fd;
    uint64_t session_id;
    Engine::ReplyFinisher finish;
  };
  Connection* executing_ = nullptr;
  std::unique_ptr<class WorkerPool> workers_;
  std::mutex completions_mu_;
  std::vector<Completion> completions_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int port_ = 0;
  std::vector<int> listen_fds_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::unordered_map<uint64_t, Connection*> by_session_id_;
  std::vector<Connection*> pending_writes_;
  std::vector<Connection*> dead_;
  std::atomic<bool> stop_{false};
};

}  // namespace ragkv::server
