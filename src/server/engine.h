// Engine: the server minus the network. It owns the configuration, the
// keyspace, the command table, statistics and the registry of sessions, and
// executes commands: Execute(session, argv, reply writer).
//
// Every path that runs a command goes through Execute: network connections,
// in-process tests, and later the embedded engine, AOF replay and replicas.
// Every applied write (a command that changed the keyspace) is reported once
// to each WriteObserver with the db it ran in and its effective argv
// (relative times made absolute, expiry deletions as DEL), which is what a
// persistence or replication layer appends. See docs/server.md.
//
// Thread safety: none; one event-loop thread owns the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocol/reply_writer.h"
#include "server/command.h"
#include "server/config.h"
#include "server/extensions.h"
#include "server/pubsub.h"
#include "server/session.h"
#include "store/db.h"

namespace ragkv::search {
class IndexManager;
}  // namespace ragkv::search

namespace ragkv::server {

class Persistence;  // server/persistence.h

// Counters under their INFO names.
struct Stats {
  int64_t start_ms = 0;
  int64_t total_connections_received = 0;
  int64_t total_commands_processed = 0;
  int64_t rejected_connections = 0;
  int64_t expired_keys = 0;
  int64_t evicted_keys = 0;
  int64_t keyspace_hits = 0;
  int64_t keyspace_misses = 0;
  int64_t total_net_input_bytes = 0;
  int64_t total_net_output_bytes = 0;
  int64_t total_error_replies = 0;
  int64_t unexpected_error_replies = 0;
  int64_t dirty = 0;  // changes since start (rdb_changes_since_last_save)
  // Replication (counted by the leader side of ragkv_replication).
  int64_t sync_full = 0;         // full resyncs served
  int64_t sync_partial_ok = 0;   // PSYNCs answered +CONTINUE
  int64_t sync_partial_err = 0;  // PSYNCs that asked to continue but got a full resync
  int64_t instantaneous_ops_per_sec = 0;
  // Deferred commands (FT.SEARCH): run on a worker vs inline on the loop,
  // and the hand-off waits of the worker runs (ns, summed): submitted until
  // a worker started it, and posted back until the loop ran the completion.
  int64_t deferred_on_workers = 0;
  int64_t deferred_inline = 0;
  int64_t deferred_to_worker_ns = 0;
  int64_t deferred_to_loop_ns = 0;
};

class Engine {
 public:
  using WriteObserver = std::function<void(int db, std::span<const std::string_view> argv)>;

  // Takes the configuration as loaded; `databases` is fixed from here on.
  explicit Engine(std::unique_ptr<Config> config = std::make_unique<Config>());
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  Config& config() { return *config_; }
  store::Keyspace& keyspace() { return keyspace_; }
  Stats& stats() { return stats_; }
  const CommandTable& commands() const { return commands_; }
  // Zeroes statistics (CONFIG RESETSTAT), keeping start time and dirty count.
  void ResetStats();
  std::mt19937_64& rng() { return rng_; }
  // FT.* indexes over this engine's keyspace.
  search::IndexManager& search() { return *search_; }

  // Registers a session (assigns its id; authenticates it when no password
  // is configured). Sessions must be closed before they are destroyed.
  void OpenSession(Session& session);
  void CloseSession(Session& session);

  // Runs one command and appends exactly one reply to `out` (written in the
  // session's protocol). Never fails: errors are replies.
  void Execute(Session& session, std::span<const std::string_view> argv,
               resp::ReplyWriter& out);
  // Convenience for in-process callers (tests, embedded use).
  void Execute(Session& session, const std::vector<std::string>& argv, resp::ReplyWriter& out);

  void AddWriteObserver(WriteObserver observer) { observers_.push_back(std::move(observer)); }
  // Reports `argv` to every write observer as if a command had written it
  // (EXEC uses it to wrap a transaction's writes in MULTI ... EXEC, so the
  // AOF replays them all or none).
  void Propagate(int db, std::span<const std::string_view> argv);

  // Deferred replies (FT.SEARCH on worker threads, docs/search.md). A handler
  // that calls Defer() writes no reply itself: `work` (which must not touch
  // the keyspace) returns the finisher, which appends the reply on the event
  // loop. The deferrer decides where `work` runs: on a worker thread, the
  // session parked until the finisher ran (so pipelined replies keep their
  // order), or inline when that is cheap and stalls nobody. `cost_key` names
  // the command's shape (same key, similar cost) so the deferrer can learn
  // what it costs; empty means unknown. Without a deferrer (tests, embedded
  // use), or inside MULTI/EXEC (CanDefer() is false), the handler runs
  // synchronously.
  using ReplyFinisher = std::function<void(resp::ReplyWriter&)>;
  using DeferredWork = std::function<ReplyFinisher()>;
  // Runs or schedules `work`; exactly one reply reaches the session, in
  // `out` or later through the network layer.
  using Deferrer =
      std::function<void(Session&, resp::ReplyWriter& out, DeferredWork work, std::string_view)>;
  void set_deferrer(Deferrer deferrer) { deferrer_ = std::move(deferrer); }
  bool CanDefer(const Session& s) const {
    return deferrer_ != nullptr && call_depth_ == 1 && !s.in_multi;
  }
  void Defer(Session& s, resp::ReplyWriter& out, DeferredWork work,
             std::string_view cost_key = {}) {
    if (!CanDefer(s)) return work()(out);
    deferrer_(s, out, std::move(work), cost_key);
  }

  // Source of "now" (unix ms); tests substitute a fake clock.
  void set_clock(std::function<int64_t()> clock) { clock_ = std::move(clock); }
  int64_t Now() const { return clock_(); }

  // Periodic work, called config().hz times per second: active expiry, and a
  // slice of any pending FT backfill.
  void Cron();
  // Background FT backfill (docs/search.md): with a network layer, runs one
  // slice of ~1 ms per event-loop iteration (through SessionIo::Post, so
  // clients are served between slices) until no backfill is pending; without
  // one, Cron's slices do it. Call after starting a backfill; idempotent.
  void ScheduleSearchBackfill();

  // WATCH support.
  void Watch(Session& session, std::string_view key);
  void Unwatch(Session& session);
  // Marks sessions watching (db, key) dirty.
  void TouchKey(int db, std::string_view key);
  // Marks every session watching any key in `db` (-1: all dbs) dirty.
  void TouchAllWatched(int db);

  // Sessions by id (ordered, for CLIENT LIST).
  const std::map<uint64_t, Session*>& sessions() const { return sessions_; }
  // Asks the network layer to close a session after the current command.
  void RequestClose(uint64_t id) { close_requests_.push_back(id); }
  std::vector<uint64_t> TakeCloseRequests() { return std::move(close_requests_); }
  bool shutdown_requested() const { return shutdown_requested_; }
  void RequestShutdown() { shutdown_requested_ = true; }

  // Bytes currently allocated through operator new (Redis's used_memory).
  int64_t UsedMemory() const;
  // True when a write may proceed; evicts keys first under an eviction
  // policy. False means: reply OOM.
  bool EnsureMemoryForWrite();

  // The durability layer, set by Persistence::Start; null when there is none.
  // Execute refuses write commands while it reports a write refusal (MISCONF),
  // Cron drives its save points and child processes, and the network layer
  // calls its BeforeReply barrier before sending replies.
  Persistence* persistence = nullptr;
  // Replication (null: a plain leader with no replication layer) and the
  // network's deferred-output seam (null for in-process use).
  ReplicationHooks* replication = nullptr;
  SessionIo* io = nullptr;
  PubSub& pubsub() { return pubsub_; }

  // Adds a command from a layer above the engine (replication).
  void AddCommand(CommandSpec spec) { commands_.Add(std::move(spec)); }

  // Set by the network layer for INFO.
  int64_t tcp_port = 0;
  std::string executable;
  int64_t connected_clients() const { return static_cast<int64_t>(sessions_.size()); }

  // EXEC brackets its queued commands with these so that write observers see
  // the transaction's writes wrapped in MULTI ... EXEC (emitted only when at
  // least one queued command wrote), as Redis propagates them.
  void BeginTransaction() { in_transaction_ = true; }
  void EndTransaction();

  // Runs a command spec directly (EXEC uses it for queued commands).
  void Call(Session& session, const CommandSpec& spec, std::span<const std::string_view> argv,
            resp::ReplyWriter& out);

 private:
  bool EvictOne();
  void SearchBackfillSlice();

  std::unique_ptr<Config> config_;
  store::Keyspace keyspace_;
  std::unique_ptr<search::IndexManager> search_;
  CommandTable commands_;
  PubSub pubsub_;
  Stats stats_;
  std::mt19937_64 rng_{0x5eed};
  std::function<int64_t()> clock_;
  std::vector<WriteObserver> observers_;
  Deferrer deferrer_;
  int call_depth_ = 0;  // nesting of Call (EXEC runs its commands inside)
  std::map<uint64_t, Session*> sessions_;
  uint64_t next_session_id_ = 1;
  std::vector<uint64_t> close_requests_;
  bool shutdown_requested_ = false;
  // Per db: watched key -> sessions watching it.
  std::vector<std::unordered_map<std::string, std::vector<Session*>, store::StringHash,
                                 std::equal_to<>>>
      watched_keys_;
  size_t watched_count_ = 0;
  size_t expire_db_cursor_ = 0;
  bool backfill_posted_ = false;  // a ScheduleSearchBackfill slice is queued
  bool in_transaction_ = false;
  bool transaction_propagated_ = false;  // MULTI already sent to observers
  // Sample for instantaneous_ops_per_sec.
  int64_t ops_sample_ms_ = 0;
  int64_t ops_sample_count_ = 0;
};

}  // namespace ragkv::server
