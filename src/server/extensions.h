// Seams between the engine and the layers built on top of it that need more
// than a write observer: replication (write refusals on followers, cron work,
// replica sessions) and anything that answers a client later than the command
// that asked (WAIT, pub/sub messages).
//
// The engine only holds pointers to these interfaces; the network layer
// implements SessionIo, ragkv_replication implements ReplicationHooks.
// Thread safety: the event-loop thread, except SessionIo::Post.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace ragkv::server {

struct CommandSpec;
struct Session;

// Where a data set stands in a replication history: it is the result of
// applying the stream named `replid` up to byte `offset`, whose last SELECT
// chose `stream_db`. Snapshots carry it as the aux fields repl-id,
// repl-offset and repl-stream-db (Redis's names).
struct ReplicationHistory {
  std::string replid;  // empty: none known
  int64_t offset = 0;
  int stream_db = 0;
};

class ReplicationHooks {
 public:
  virtual ~ReplicationHooks() = default;
  // Empty when `cmd` may run for `session`, else the full error text
  // (READONLY, NOREPLICAS, MASTERDOWN). Checked before queueing in MULTI.
  virtual std::string Refusal(const Session& session, const CommandSpec& cmd) = 0;
  // Called from Engine::Cron (config hz times per second).
  virtual void Cron() = 0;
  // Called when any session closes (replica links, blocked WAIT clients).
  virtual void OnSessionClosed(Session& session) = 0;
  // True on a follower: keys are expired by the leader's DEL only.
  virtual bool is_follower() const = 0;
  // The "# Replication" section of INFO, CRLF lines.
  virtual std::string InfoSection() = 0;
  // The history the data set is at now, for a snapshot taken now.
  virtual ReplicationHistory History() const { return {}; }
};

class SessionIo {
 public:
  virtual ~SessionIo() = default;
  // Appends `bytes` to the output of session `id`; returns the bytes now
  // pending for it, or -1 when there is no such connected session.
  virtual int64_t Send(uint64_t id, std::string_view bytes) = 0;
  // Clears session `id`'s `blocked` flag and resumes its pipelined input.
  virtual void Unblock(uint64_t id) = 0;
  // Closes session `id` now, dropping unsent output.
  virtual void Kill(uint64_t id) = 0;
  // Runs `fn` on the event-loop thread soon. Thread-safe.
  virtual void Post(std::function<void()> fn) = 0;
};

}  // namespace ragkv::server
