// Replication: leader/follower replication for the server, Redis 7's model
// and wire protocol (docs/protocols/replication.md).
//
//   server::Engine engine(...);
//   server::Server srv(&engine);                       // installs engine.io
//   RAGKV_ASSIGN_OR_RETURN(auto repl, replication::Replication::Start(engine));
//   srv.Run();
//
// Start installs itself as engine.replication, adds the commands (REPLICAOF,
// SLAVEOF, REPLCONF, PSYNC, SYNC, WAIT, WAITAOF, ROLE) and a write observer
// that feeds the replication stream, and follows config `replicaof` if set.
//
// Leader side: every applied write becomes RESP in the backlog (ring buffer of
// repl-backlog-size) and in each online replica's output; PSYNC is answered
// with +CONTINUE from the backlog or, by a forked child that streams a
// snapshot to the replicas' sockets (full_sync.h), +FULLRESYNC; REPLCONF ACK
// offsets drive WAIT, WAITAOF and min-replicas-to-write. History() is what
// snapshots record so that a restart can continue it.
// Follower side: a FollowerLink thread talks to the leader; the stream is
// applied on the event-loop thread through Engine::Execute on a master
// session, so observers (AOF) and indexes see every write.
//
// Thread safety: every method on the event-loop thread. REQUIRES: engine.io is
// set (a Server exists) before Start, and the Replication is destroyed before
// the Server.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/cow_size.h"
#include "common/result.h"
#include "protocol/request_parser.h"
#include "replication/backlog.h"
#include "replication/follower_link.h"
#include "server/engine.h"
#include "server/extensions.h"

namespace ragkv::replication {

// A new random 40-hex-character replication ID.
std::string NewReplicationId();
// CLOCK_MONOTONIC in ms: ack ages, WAIT deadlines, timeouts.
int64_t MonotonicMs();

class Replication : public server::ReplicationHooks {
 public:
  static Result<std::unique_ptr<Replication>> Start(server::Engine& engine);
  ~Replication() override;
  Replication(const Replication&) = delete;
  Replication& operator=(const Replication&) = delete;

  // server::ReplicationHooks.
  std::string Refusal(const server::Session& session, const server::CommandSpec& cmd) override;
  void Cron() override;
  void OnSessionClosed(server::Session& session) override;
  bool is_follower() const override { return following_; }
  std::string InfoSection() override;
  // (replid, offset, stream db) of the data set now.
  server::ReplicationHistory History() const override;

  // REPLICAOF host port. Closes the link to any previous leader and this
  // node's replicas, then follows `host:port`.
  void Follow(const std::string& host, int port);
  // REPLICAOF NO ONE: promotion. Keeps the data and the old history as
  // replid2 so the old leader's followers can continue partially.
  void Promote();

  // Commands (replication_commands.cc).
  void Psync(server::CommandContext& ctx);
  void Replconf(server::CommandContext& ctx);
  void Wait(server::CommandContext& ctx, bool aof);
  void Role(server::CommandContext& ctx);
  void ReplicaOf(server::CommandContext& ctx);

  // Accessors for tests and INFO.
  const std::string& replid() const { return replid_; }
  int64_t offset() const { return backlog_.offset(); }

 private:
  // A replica's place in its sync (INFO's slaveN state=): waiting for a
  // fork to share, receiving the forked child's snapshot, or streaming.
  enum class ReplicaState : uint8_t { kWaitFork, kSyncing, kOnline };
  struct Replica {
    uint64_t session_id = 0;
    ReplicaState state = ReplicaState::kOnline;
    int fd = -1;              // its socket, written by the sync child while kSyncing
    bool legacy_sync = false;  // asked with SYNC: no +FULLRESYNC line
    int64_t wait_since_ms = 0;
    // kSyncing: the stream since the fork, sent once the child is done.
    std::string held;
    std::string ip;
    int port = 0;
    int64_t ack_offset = 0;
    int64_t fack_offset = 0;
    int64_t last_ack_ms = 0;  // since PSYNC until the first ACK (timeouts)
    bool acked = false;       // sent an ACK yet: only then it counts as good
  };
  struct Waiter {
    uint64_t session_id = 0;
    int64_t target = 0;
    int64_t numreplicas = 0;
    int64_t numlocal = 0;
    int64_t deadline_ms = 0;  // 0: none
    bool aof = false;         // WAITAOF
  };

  explicit Replication(server::Engine& engine);
  void ReadSettings();
  // The (replid, offset, stream db) saved at a clean shutdown with AOF on,
  // so that the node or its followers can PSYNC partially after a restart.
  std::string StatePath() const;
  void SaveState();
  // Adopts the history the data set was loaded with: this state file (AOF)
  // or the snapshot's aux fields. A follower continues it; a leader keeps it
  // as replid2 (docs/protocols/replication.md, "Restarts").
  void LoadState();
  // `replicaof` from the config ("host port"), empty when none.
  std::string ConfiguredLeader() const;
  // Appends raw stream bytes: backlog, offset, every online replica.
  void Feed(std::string_view bytes);
  void FeedCommand(std::span<const std::string_view> argv);
  // Leader: a write applied by the engine.
  void OnWrite(int db, std::span<const std::string_view> argv);
  // Full sync (docs/replication.md): forks one child for every replica in
  // kWaitFork once none is running (ours or a BGSAVE/BGREWRITEAOF) and
  // repl-diskless-sync-delay has passed; retried from Cron.
  void StartFullSync();
  // Posts StartFullSync to run after this loop iteration's commands, so
  // PSYNCs that arrive together share one fork.
  void ScheduleFullSync();
  // Cron: when the child exited, puts its replicas online (their held
  // stream first) or, if it failed, disconnects them so they retry.
  void ReapSyncChild();
  // Disconnects replica `id`; a socket the sync child writes is shut down
  // too, so the follower sees the end at once.
  void KillReplica(uint64_t id);
  int64_t CountAcked(int64_t target, bool fsynced) const;
  int64_t LocalFsynced(int64_t target) const;
  void ServeWaiters(bool timeouts_only);
  void ReplyToWaiter(const Waiter& w);
  int64_t GoodReplicas() const;
  void DisconnectReplicas();
  void StopLink();
  void SetConfigReplicaOf(const std::string& value);

  // Follower: events from the link, run on the loop thread.
  void ApplyStream(std::string_view bytes);
  void LoadFullSync(const std::string& replid, int64_t offset, const std::string& path);
  void SendAck();

  server::Engine& engine_;
  Backlog backlog_;
  std::string replid_;
  std::string replid2_ = std::string(40, '0');
  int64_t second_offset_ = -1;
  int last_db_ = -1;  // the db the stream last SELECTed
  std::string encode_buffer_;


  std::map<uint64_t, Replica> replicas_;
  struct SyncChild {
    pid_t pid = -1;
    int64_t offset = 0;
    int64_t start_ms = 0;
    std::vector<uint64_t> targets;
    std::shared_ptr<cow::Channel> cow;  // the child's copy-on-write report
  } sync_child_;
  bool sync_start_posted_ = false;
  std::map<uint64_t, int> listening_ports_;        // REPLCONF listening-port before PSYNC
  std::map<uint64_t, std::string> announced_ips_;  // REPLCONF ip-address
  std::vector<Waiter> waiters_;
  int64_t last_ping_ms_ = 0;
  bool started_empty_ = false;

  // Settings read from the config each cron tick.
  struct Settings {
    bool read_only = true;
    bool serve_stale = true;
    int64_t backlog_size = 1 << 20;
    int64_t min_replicas = 0;
    int64_t min_replicas_lag = 10;
    int64_t ping_period_s = 10;
    int64_t timeout_s = 60;
    int64_t priority = 100;
    int64_t replica_output_limit = 256LL << 20;
    int64_t diskless_sync_delay_s = 0;
    bool allow_empty_leader = false;
  } settings_;

  // Follower state.
  bool following_ = false;
  std::string master_host_;
  int master_port_ = 0;
  std::unique_ptr<FollowerLink> link_;
  // Shared with the link's events so posted tasks from an old link are dropped.
  std::shared_ptr<std::atomic<uint64_t>> link_generation_;
  LinkState link_state_ = LinkState::kConnect;
  bool link_up_ = false;
  int64_t link_down_since_ms_ = 0;
  int64_t last_io_ms_ = 0;
  server::Session master_session_;
  std::string stream_pending_;
  resp::RequestParser stream_parser_;
  bool stream_broken_ = false;
  bool getack_requested_ = false;
  int64_t fsynced_offset_ = 0;
  int64_t last_ack_sent_ms_ = 0;
  // Cleared on destruction; the engine keeps our write observer.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Registers the replication commands on `engine` (called by Start).
void RegisterReplicationCommands(server::Engine& engine);

}  // namespace ragkv::replication
