// FollowerLink: the follower's connection to its leader, run on its own
// thread with blocking sockets: connect with backoff, the PSYNC handshake,
// receiving a full-sync payload into a file (verified before it is handed
// over), then reading the stream. Everything it learns is reported through
// LinkEvents; the Replication object posts those to the event-loop thread,
// which alone touches the keyspace.
//
// Thread safety: the constructor, Start and the destructor on one thread (the
// event loop); SendAck and Drop from any thread. Events are invoked on the
// link thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ragkv::replication {

// Redis's master_link states as ROLE reports them.
enum class LinkState : uint8_t { kConnect, kConnecting, kHandshake, kSync, kConnected };
std::string_view LinkStateName(LinkState state);

struct LinkOptions {
  std::string host;
  int port = 0;
  int listening_port = 0;   // REPLCONF listening-port
  std::string announce_ip;  // REPLCONF ip-address, when set (replica-announce-ip)
  std::string masteruser;
  std::string masterauth;
  std::string dir = ".";       // where the full-sync payload is received
  int64_t timeout_ms = 60000;  // repl-timeout: no byte from the leader for this long drops the link
};

struct LinkEvents {
  std::function<void(LinkState)> on_state;
  // Asked right before PSYNC: the (replid, offset) to offer, i.e. "?" and -1
  // or our history's id and next wanted byte. Blocks until answered; an
  // empty replid means "stop" (the link is being destroyed).
  std::function<std::pair<std::string, int64_t>()> prepare_psync;
  // A verified snapshot at `path` (the receiver deletes it) for (replid, offset).
  std::function<void(std::string replid, int64_t offset, std::string path)> on_full_sync;
  // +CONTINUE; `replid` empty when unchanged.
  std::function<void(std::string replid)> on_continue;
  std::function<void(std::string bytes)> on_stream;
  // Handshake refused by the leader (its error text), for logs and INFO.
  std::function<void(std::string error)> on_error;
};

class FollowerLink {
 public:
  FollowerLink(LinkOptions options, LinkEvents events);
  // Stops the thread (closing the socket) and joins it.
  ~FollowerLink();
  FollowerLink(const FollowerLink&) = delete;
  FollowerLink& operator=(const FollowerLink&) = delete;

  void Start();
  // Writes "REPLCONF ACK <offset> FACK <fack>" if connected; never blocks
  // for long (dropped when the socket buffer is full).
  void SendAck(int64_t offset, int64_t fack);
  // Closes the current connection; the thread reconnects after a backoff.
  void Drop();

 private:
  void Run();
  // One connection's life; returns when it ends.
  void RunConnection(int fd);
  bool SleepInterruptible(int64_t ms);

  LinkOptions options_;
  LinkEvents events_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex fd_mu_;
  int fd_ = -1;
  bool streaming_ = false;  // guarded by fd_mu_: ACKs only once streaming
};

}  // namespace ragkv::replication
