// Replication state machine. Design notes (the full protocol is in
// docs/protocols/replication.md):
//
// * One stream for everyone. The leader encodes each applied write once
//   (SELECT when the db changes) and appends the same bytes to the backlog
//   and to every replica's output buffer; a follower appends the bytes it
//   applies, verbatim, so its offset and backlog equal its leader's and it
//   can serve PSYNC itself (chained replicas, promotion without full syncs).
// * Full sync is forked and diskless (full_sync.h): PSYNC parks the replica,
//   a child forked for every parked replica streams the snapshot to their
//   sockets, and the stream from the fork's offset on is held per replica
//   until the child exits, then sent. The offset in +FULLRESYNC is the
//   stream offset at fork(), so the snapshot and the held stream meet
//   exactly. Rejected: serializing on the loop (a stall of 0.6 s per 1M keys,
//   23 s for 1M vector hashes; docs/benchmarks/replication.md).
// * The follower applies the stream through Engine::Execute on a master
//   session with lazy expiry switched to "keep" (the leader decides what is
//   expired) and back to "hide" for ordinary clients.
// * The link thread (FollowerLink) hands events to the loop with
//   SessionIo::Post; a generation counter drops events of a link that has been
//   replaced, and prepare_psync runs on the loop so the offset offered to the
//   leader counts exactly the commands applied.
//
// * Index definitions (FT.CREATE/FT.ALTER) are not part of the keyspace, so
//   a full sync would leave a new follower without the leader's indexes. The
//   index manager remembers, per index, the commands that defined it
//   (IndexManager::Definitions, also used by snapshots) and the full-sync
//   payload carries them after the keys as a snapshot file does, with each
//   VECTOR field's saved index; the follower drops its own indexes, loads the
//   keys, then applies the sections through the snapshot loader's code
//   (server::LoadSearchSection), so it adopts the leader's HNSW graphs
//   instead of rebuilding them.
//
// Rejected: a per-replica cursor into a shared backlog instead of per-replica
// output copies (Redis 7's shared buffer) — less memory for many replicas,
// but replica outputs would need their own flow control inside the network
// layer; with 1-2 followers copies are cheap.
#include "replication/replication.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <random>
#include <sstream>

#include "common/log.h"
#include "persistence/snapshot.h"
#include "replication/full_sync.h"
#include "search/index_manager.h"
#include "server/commands/command_util.h"
#include "server/errors.h"
#include "server/persistence.h"

namespace ragkv::replication {
namespace {

bool ParseBool(const std::string& v, bool fallback) {
  if (v == "yes") return true;
  if (v == "no") return false;
  return fallback;
}

int64_t ParseInt64(const std::string& v, int64_t fallback) {
  int64_t out;
  return server::ParseInt(v, &out) ? out : fallback;
}

using server::EqualsIgnoreCase;

void AppendCommand(std::string* out, std::span<const std::string_view> argv) {
  out->push_back('*');
  out->append(std::to_string(argv.size()));
  out->append("\r\n");
  for (std::string_view a : argv) {
    out->push_back('$');
    out->append(std::to_string(a.size()));
    out->append("\r\n");
    out->append(a);
    out->append("\r\n");
  }
}

// Loads a verified full-sync snapshot by executing one write per key (SET or
// HSET, then PEXPIREAT) on the master session: the same path as the stream,
// so the AOF records the new data set and secondary indexes see every key.
// Rejected: writing entries straight into the store — faster, but invisible
// to the AOF (a restart would resurrect the old data) and to indexes.
class SyncLoader : public persistence::SnapshotVisitor {
 public:
  SyncLoader(server::Engine& engine, server::Session& session)
      : engine_(engine), session_(session), writer_(&reply_, 2) {}

  Status Run(std::initializer_list<std::string_view> argv) {
    return Run(std::span<const std::string_view>(argv.begin(), argv.size()));
  }
  Status Run(std::span<const std::string_view> argv) {
    reply_.clear();
    engine_.Execute(session_, argv, writer_);
    if (!reply_.empty() && reply_[0] == '-') {
      return Status::Corruption("full sync: " + std::string(argv[0]) + " failed: " + reply_);
    }
    return Status::Ok();
  }

  Status OnEntry(persistence::SnapshotEntry& e) override {
    if (e.db < 0 || e.db >= engine_.keyspace().size()) {
      return Status::OutOfRange("full sync has db " + std::to_string(e.db));
    }
    if (session_.db != e.db) {
      std::string db = std::to_string(e.db);
      RAGKV_RETURN_IF_ERROR(Run({"SELECT", db}));
    }
    switch (e.kind) {
      case persistence::SnapshotEntry::Kind::kString:
        RAGKV_RETURN_IF_ERROR(Run({"SET", e.key, e.value}));
        break;
      case persistence::SnapshotEntry::Kind::kHash: {
        argv_.assign({"HSET", e.key});
        for (const auto& [f, v] : e.fields) {
          argv_.push_back(f);
          argv_.push_back(v);
        }
        RAGKV_RETURN_IF_ERROR(Run(argv_));
        break;
      }
      case persistence::SnapshotEntry::Kind::kZSet: {
        scores_.clear();
        for (const auto& [member, score] : e.members) scores_.push_back(resp::FormatDouble(score));
        argv_.assign({"ZADD", e.key});
        for (size_t i = 0; i < e.members.size(); ++i) {
          argv_.push_back(scores_[i]);
          argv_.push_back(e.members[i].first);
        }
        RAGKV_RETURN_IF_ERROR(Run(argv_));
        break;
      }
    }
    if (e.expire_at_ms >= 0) {
      std::string when = std::to_string(e.expire_at_ms);
      RAGKV_RETURN_IF_ERROR(Run({"PEXPIREAT", e.key, when}));
    }
    return Status::Ok();
  }

  // Index sections (after every key): exactly as the snapshot loader
  // applies them, so a saved vector index is adopted or else rebuilt.
  Status OnSection(std::string_view name, std::string_view blob) override {
    return server::LoadSearchSection(engine_.search(), name, blob,
                                     [this](int db, std::vector<std::string>& argv) {
                                       std::string dbs = std::to_string(db);
                                       RAGKV_RETURN_IF_ERROR(Run({"SELECT", dbs}));
                                       std::vector<std::string_view> args(argv.begin(), argv.end());
                                       return Run(args);
                                     });
  }

  // kIndexAux (earlier leaders): "<db>\n" then the RESP commands that define
  // one index, sent before the keys.
  Status OnAux(std::string_view name, std::string_view value) override {
    if (name != kIndexAux) return Status::Ok();
    size_t nl = value.find('\n');
    int64_t db = -1;
    if (nl == std::string_view::npos || !server::ParseInt(value.substr(0, nl), &db) || db < 0 ||
        db >= engine_.keyspace().size()) {
      return Status::Corruption("full sync: bad index definition record");
    }
    std::string dbs = std::to_string(db);
    RAGKV_RETURN_IF_ERROR(Run({"SELECT", dbs}));
    std::string_view rest = value.substr(nl + 1);
    resp::RequestParser parser;
    while (!rest.empty()) {
      if (parser.Parse(rest) != resp::ParseStatus::kComplete) {
        return Status::Corruption("full sync: bad index definition command");
      }
      std::vector<std::string_view> args = parser.args();
      size_t used = parser.consumed();
      RAGKV_RETURN_IF_ERROR(Run(args));
      rest.remove_prefix(used);
    }
    return Status::Ok();
  }

 private:
  server::Engine& engine_;
  server::Session& session_;
  std::string reply_;
  resp::ReplyWriter writer_;
  std::vector<std::string_view> argv_;
  std::vector<std::string> scores_;
};

}  // namespace

int64_t MonotonicMs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

std::string NewReplicationId() {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<uint64_t>(MonotonicMs()) ^ static_cast<uint64_t>(getpid()));
  const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 40; ++i) id.push_back(hex[rng() % 16]);
  return id;
}

Replication::Replication(server::Engine& engine)
    : engine_(engine), backlog_(1 << 20), replid_(NewReplicationId()) {
  master_session_.authenticated = true;
  master_session_.kind = server::ClientKind::kMaster;
  master_session_.name = "master";
}

Result<std::unique_ptr<Replication>> Replication::Start(server::Engine& engine) {
  if (engine.io == nullptr) {
    return Status::FailedPrecondition("replication needs the network layer (engine.io)");
  }
  std::unique_ptr<Replication> r(new Replication(engine));
  r->ReadSettings();
  r->backlog_.Resize(static_cast<size_t>(r->settings_.backlog_size));
  r->started_empty_ = engine.keyspace().TotalKeys() == 0;
  r->LoadState();
  RegisterReplicationCommands(engine);
  Replication* self = r.get();
  std::shared_ptr<bool> alive = r->alive_;
  engine.AddWriteObserver([self, alive](int db, std::span<const std::string_view> argv) {
    if (*alive) self->OnWrite(db, argv);
  });
  engine.replication = self;
  std::string target = self->ConfiguredLeader();
  if (!target.empty()) {
    std::istringstream in(target);
    std::string host;
    int port = 0;
    if (!(in >> host >> port) || port <= 0 || port > 65535) {
      return Status::InvalidArgument("replicaof: expected '<host> <port>', got '" + target + "'");
    }
    self->Follow(host, port);
  }
  return r;
}

std::string Replication::StatePath() const { return engine_.config().dir + "/replication.state"; }

void Replication::SaveState() {
  // Only when the data set survives the restart exactly as it is now: the
  // AOF holds every applied write and is fsynced by Persistence::Shutdown.
  // (Without an AOF, a snapshot saved at shutdown carries the same history.)
  if (engine_.persistence == nullptr || !engine_.persistence->aof_enabled()) return;
  // An AOF that failed to write holds less than the offset would claim.
  if (!engine_.persistence->WriteRefusal().empty()) return;
  server::ReplicationHistory h = History();
  std::ofstream out(StatePath(), std::ios::trunc);
  out << h.replid << ' ' << h.offset << ' ' << h.stream_db << '\n';
  if (!out) log::Warn("Cannot write " + StatePath() + ": the next start will need a full sync");
}

server::ReplicationHistory Replication::History() const {
  server::ReplicationHistory h;
  h.replid = replid_;
  h.offset = backlog_.offset();
  h.stream_db = following_ ? master_session_.db : std::max(0, last_db_);
  return h;
}

void Replication::LoadState() {
  server::ReplicationHistory h;
  const bool aof = engine_.persistence != nullptr && engine_.persistence->aof_enabled();
  std::ifstream in(StatePath());
  if (in) {
    bool ok = static_cast<bool>(in >> h.replid >> h.offset >> h.stream_db);
    // Used once: after this start the data moves on and the file would lie.
    unlink(StatePath().c_str());
    // It describes an AOF's data set: worthless if the data came from elsewhere.
    if (!ok || !aof) h = server::ReplicationHistory();
  }
  if (h.replid.empty() && engine_.persistence != nullptr) {
    h = engine_.persistence->loaded_history();
  }
  if (h.replid.size() != 40 || h.offset < 0 || h.stream_db < 0 ||
      h.stream_db >= engine_.keyspace().size()) {
    return;
  }
  backlog_.Reset(h.offset);
  if (!ConfiguredLeader().empty()) {
    // A follower's data is a prefix of its leader's stream: offer it as is.
    replid_ = h.replid;
    master_session_.db = h.stream_db;
    log::Info("Replication history loaded: replid " + h.replid + " offset " +
              std::to_string(h.offset) + " (a partial resync is possible)");
    return;
  }
  // A leader keeps the loaded history as its second ID, valid up to the
  // loaded offset, and starts a new one (Redis 7 does the same): followers
  // that stopped exactly there continue, while one that had received bytes
  // this node lost (an unclean stop after the snapshot) offers an offset
  // beyond second_repl_offset and gets a full sync instead of a divergent
  // continuation.
  replid2_ = h.replid;
  second_offset_ = h.offset + 1;
  log::Info("Replication history loaded: replid2 " + h.replid + " up to offset " +
            std::to_string(h.offset) + " (followers at that offset continue partially)");
}

std::string Replication::ConfiguredLeader() const {
  std::string target = engine_.config().Value("replicaof");
  if (target.empty()) target = engine_.config().Value("slaveof");
  if (target == "no one" || target == "NO ONE") target.clear();
  return target;
}

Replication::~Replication() {
  SaveState();
  if (sync_child_.pid > 0) {
    ::kill(sync_child_.pid, SIGKILL);
    ::waitpid(sync_child_.pid, nullptr, 0);
  }
  *alive_ = false;
  StopLink();
  if (engine_.replication == this) engine_.replication = nullptr;
}

void Replication::ReadSettings() {
  const server::Config& c = engine_.config();
  Settings& s = settings_;
  s.read_only =
      ParseBool(c.Value("replica-read-only"), true) && ParseBool(c.Value("slave-read-only"), true);
  s.serve_stale = ParseBool(c.Value("replica-serve-stale-data"), true) &&
                  ParseBool(c.Value("slave-serve-stale-data"), true);
  int64_t size = 0;
  if (server::ParseMemory(c.Value("repl-backlog-size"), &size) && size > 0) s.backlog_size = size;
  s.min_replicas = std::max(ParseInt64(c.Value("min-replicas-to-write"), 0),
                            ParseInt64(c.Value("min-slaves-to-write"), 0));
  int64_t lag = ParseInt64(c.Value("min-replicas-max-lag"), 10);
  int64_t slave_lag = ParseInt64(c.Value("min-slaves-max-lag"), 10);
  s.min_replicas_lag = lag != 10 ? lag : slave_lag;
  s.ping_period_s = std::max<int64_t>(1, ParseInt64(c.Value("repl-ping-replica-period"), 10));
  s.timeout_s = std::max<int64_t>(1, ParseInt64(c.Value("repl-timeout"), 60));
  s.priority = ParseInt64(c.Value("replica-priority"), 100);
  s.allow_empty_leader = ParseBool(c.Value("repl-allow-empty-leader"), false);
  s.diskless_sync_delay_s =
      std::max<int64_t>(0, ParseInt64(c.Value("repl-diskless-sync-delay"), 0));
  // client-output-buffer-limit "... slave <hard> <soft> <secs> ...".
  std::istringstream in(c.Value("client-output-buffer-limit"));
  std::string word;
  while (in >> word) {
    if (word == "slave" || word == "replica") {
      std::string hard;
      int64_t v = 0;
      if (in >> hard && server::ParseMemory(hard, &v)) s.replica_output_limit = v;
    }
  }
}

std::string Replication::Refusal(const server::Session& session, const server::CommandSpec& cmd) {
  if (session.kind == server::ClientKind::kMaster) return "";
  if (following_) {
    if ((cmd.flags & server::kWrite) && settings_.read_only) {
      return "READONLY You can't write against a read only replica.";
    }
    if (!link_up_ && !settings_.serve_stale && !(cmd.flags & server::kStale)) {
      return "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";
    }
    return "";
  }
  if ((cmd.flags & server::kWrite) && settings_.min_replicas > 0 &&
      GoodReplicas() < settings_.min_replicas) {
    return "NOREPLICAS Not enough good replicas to write.";
  }
  return "";
}

int64_t Replication::GoodReplicas() const {
  int64_t now = MonotonicMs();
  int64_t good = 0;
  for (const auto& [id, r] : replicas_) {
    if (r.acked && now - r.last_ack_ms <= settings_.min_replicas_lag * 1000) ++good;
  }
  return good;
}

void Replication::Feed(std::string_view bytes) {
  backlog_.Append(bytes);
  std::vector<uint64_t> overflowed;
  for (auto& [id, r] : replicas_) {
    int64_t pending = 0;
    if (r.state == ReplicaState::kOnline) {
      pending = engine_.io->Send(id, bytes);
    } else if (r.state == ReplicaState::kSyncing) {
      // The child owns the socket until it is done; the stream waits here.
      r.held.append(bytes);
      pending = static_cast<int64_t>(r.held.size());
    }
    if (pending > settings_.replica_output_limit) overflowed.push_back(id);
  }
  for (uint64_t id : overflowed) {
    log::Warn("Client id=" + std::to_string(id) +
              " scheduled to be closed ASAP for overcoming of output buffer limits (replica).");
    KillReplica(id);
  }
}

void Replication::KillReplica(uint64_t id) {
  auto it = replicas_.find(id);
  if (it == replicas_.end()) return;
  if (it->second.state == ReplicaState::kSyncing && it->second.fd >= 0) {
    ::shutdown(it->second.fd, SHUT_RDWR);
  }
  engine_.io->Kill(id);
  replicas_.erase(it);
}

void Replication::ScheduleFullSync() {
  if (sync_start_posted_) return;
  sync_start_posted_ = true;
  std::shared_ptr<bool> alive = alive_;
  engine_.io->Post([this, alive] {
    if (!*alive) return;
    sync_start_posted_ = false;
    StartFullSync();
  });
}

void Replication::StartFullSync() {
  // One child at a time, ours or persistence's: copy-on-write memory is
  // bounded by one extra image (Redis's rule). Cron retries.
  if (sync_child_.pid > 0) return;
  if (engine_.persistence != nullptr && engine_.persistence->child_running()) return;
  const int64_t now = MonotonicMs();
  std::vector<uint64_t> ids;
  FullSyncJob job;
  int64_t longest_wait = -1;
  for (const auto& [id, r] : replicas_) {
    if (r.state != ReplicaState::kWaitFork) continue;
    // Bytes still queued by the loop (a keepalive) would interleave with
    // the child's: such a replica waits for the next child.
    if (engine_.io->Send(id, "") != 0) continue;
    ids.push_back(id);
    job.fds.push_back(r.fd);
    job.legacy_sync.push_back(r.legacy_sync);
    longest_wait = std::max(longest_wait, now - r.wait_since_ms);
  }
  // repl-diskless-sync-delay counts from the first replica's arrival.
  if (ids.empty() || longest_wait < settings_.diskless_sync_delay_s * 1000) return;
  job.replid = replid_;
  job.offset = backlog_.offset();
  job.mark = NewReplicationId();
  job.now_ms = engine_.Now();
  job.timeout_ms = settings_.timeout_s * 1000;
  // With vector-index-snapshot yes the follower adopts the saved vector
  // indexes instead of rebuilding them (the same sections as a snapshot).
  job.search = server::CaptureSearchIndexes(engine_.search(),
                                            server::VectorIndexSnapshotEnabled(engine_.config()));
  auto cow = std::make_shared<cow::Channel>();
  job.cow_fd = cow->child_fd();
  const auto fork_start = std::chrono::steady_clock::now();
  Result<pid_t> pid = ForkFullSync(job, engine_.keyspace());
  if (!pid.ok()) {
    log::Warn("Can't start the full sync child: " + pid.status().ToString());
    for (uint64_t id : ids) KillReplica(id);  // they reconnect and retry
    return;
  }
  cow->CloseChildEnd();
  const int64_t fork_us = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - fork_start)
                              .count();
  for (uint64_t id : ids) {
    Replica& r = replicas_[id];
    r.state = ReplicaState::kSyncing;
    r.held.clear();
  }
  sync_child_ = {*pid, job.offset, now, ids, std::move(cow)};
  // The followers start in db 0: the stream after the snapshot says which db it writes.
  last_db_ = -1;
  log::Info("Starting BGSAVE for SYNC with target: replicas sockets (" +
            std::to_string(ids.size()) + " replicas, offset " + std::to_string(job.offset) +
            ", pid " + std::to_string(*pid) + ", fork took " + std::to_string(fork_us) + " us)");
}

void Replication::ReapSyncChild() {
  if (sync_child_.pid <= 0) return;
  int status = 0;
  pid_t r = ::waitpid(sync_child_.pid, &status, WNOHANG);
  if (r == 0) return;
  const bool ok = r == sync_child_.pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  const std::optional<uint64_t> cow_bytes = sync_child_.cow->Receive();
  if (cow_bytes && engine_.persistence != nullptr) {
    engine_.persistence->RecordSnapshotChildCow(*cow_bytes);
  }
  log::Info(std::string(ok ? "Diskless full sync transferred" : "Diskless full sync failed") +
            " in " + std::to_string(MonotonicMs() - sync_child_.start_ms) + " ms" +
            (cow_bytes ? ", " + std::to_string(*cow_bytes >> 20) + " MB of copy-on-write" : ""));
  const int64_t now = MonotonicMs();
  for (uint64_t id : sync_child_.targets) {
    auto it = replicas_.find(id);
    if (it == replicas_.end() || it->second.state != ReplicaState::kSyncing) continue;
    if (!ok) {
      KillReplica(id);
      continue;
    }
    Replica& rep = it->second;
    rep.state = ReplicaState::kOnline;
    rep.last_ack_ms = now;
    std::string held = std::move(rep.held);
    rep.held.clear();
    engine_.io->Send(id, held);
    engine_.io->Unblock(id);
    log::Info("Synchronization with replica " + rep.ip + ":" + std::to_string(rep.port) +
              " succeeded");
  }
  sync_child_ = SyncChild();
  StartFullSync();  // replicas that arrived meanwhile
}

void Replication::FeedCommand(std::span<const std::string_view> argv) {
  encode_buffer_.clear();
  AppendCommand(&encode_buffer_, argv);
  Feed(encode_buffer_);
}

void Replication::OnWrite(int db, std::span<const std::string_view> argv) {
  if (following_) return;  // a follower feeds the leader's bytes verbatim
  encode_buffer_.clear();
  if (db != last_db_) {
    std::string dbs = std::to_string(db);
    std::string_view select[2] = {"SELECT", dbs};
    AppendCommand(&encode_buffer_, select);
    last_db_ = db;
  }
  AppendCommand(&encode_buffer_, argv);
  Feed(encode_buffer_);
}

void Replication::Cron() {
  ReadSettings();
  if (backlog_.capacity() != static_cast<size_t>(settings_.backlog_size)) {
    backlog_.Resize(static_cast<size_t>(settings_.backlog_size));
  }
  int64_t now = MonotonicMs();
  if (!following_ && !replicas_.empty() && now - last_ping_ms_ >= settings_.ping_period_s * 1000) {
    last_ping_ms_ = now;
    std::string_view ping[1] = {"PING"};
    FeedCommand(ping);
  }
  ReapSyncChild();
  StartFullSync();
  // Replicas that stopped acking are dropped (they reconnect and resync);
  // one still syncing is the child's to time out. One waiting for a fork
  // gets a newline each second so its read timeout does not fire (Redis).
  std::vector<uint64_t> dead;
  for (auto& [id, r] : replicas_) {
    if (r.state == ReplicaState::kOnline && now - r.last_ack_ms > settings_.timeout_s * 1000) {
      dead.push_back(id);
    } else if (r.state == ReplicaState::kWaitFork && now - r.last_ack_ms >= 1000) {
      r.last_ack_ms = now;
      engine_.io->Send(id, "\n");
    }
  }
  for (uint64_t id : dead) {
    log::Warn("Disconnecting timedout replica (streaming sync): id=" + std::to_string(id));
    KillReplica(id);
  }
  ServeWaiters(/*timeouts_only=*/false);
  if (following_ && link_up_) {
    if (now - last_ack_sent_ms_ >= 1000) SendAck();
    if (now - last_io_ms_ > settings_.timeout_s * 1000) {
      log::Warn("MASTER timeout: no data nor PING received...");
      if (link_) link_->Drop();
    }
  }
}

void Replication::OnSessionClosed(server::Session& session) {
  auto replica = replicas_.find(session.id);
  if (replica != replicas_.end()) {
    // The socket is still open here: shutting it down stops the sync child
    // writing to a connection the loop is about to close.
    if (replica->second.state == ReplicaState::kSyncing) ::shutdown(session.fd, SHUT_RDWR);
    replicas_.erase(replica);
    log::Info("Connection with replica " + session.addr + " lost.");
  }
  listening_ports_.erase(session.id);
  announced_ips_.erase(session.id);
  waiters_.erase(std::remove_if(waiters_.begin(), waiters_.end(),
                                [&](const Waiter& w) { return w.session_id == session.id; }),
                 waiters_.end());
}

int64_t Replication::CountAcked(int64_t target, bool fsynced) const {
  int64_t n = 0;
  for (const auto& [id, r] : replicas_) {
    if ((fsynced ? r.fack_offset : r.ack_offset) >= target) ++n;
  }
  return n;
}

int64_t Replication::LocalFsynced(int64_t target) const {
  (void)target;
  // Under appendfsync always every write applied so far is on disk once the
  // group commit ran, which happens before any reply leaves this loop
  // iteration; a waiter is answered after that.
  server::Persistence* p = engine_.persistence;
  if (p == nullptr || !p->aof_enabled()) return 0;
  return engine_.config().Value("appendfsync") == "always" ? 1 : 0;
}

void Replication::ReplyToWaiter(const Waiter& w) {
  std::string reply;
  if (w.aof) {
    reply = "*2\r\n:" + std::to_string(LocalFsynced(w.target)) +
            "\r\n:" + std::to_string(CountAcked(w.target, true)) + "\r\n";
  } else {
    reply = ":" + std::to_string(CountAcked(w.target, false)) + "\r\n";
  }
  engine_.io->Send(w.session_id, reply);
  engine_.io->Unblock(w.session_id);
}

void Replication::ServeWaiters(bool timeouts_only) {
  if (waiters_.empty()) return;
  int64_t now = MonotonicMs();
  std::vector<Waiter> keep;
  for (const Waiter& w : waiters_) {
    bool done = w.deadline_ms > 0 && now >= w.deadline_ms;
    if (!done && !timeouts_only) {
      done = CountAcked(w.target, w.aof) >= w.numreplicas &&
             (!w.aof || LocalFsynced(w.target) >= w.numlocal);
    }
    if (done) {
      ReplyToWaiter(w);
    } else {
      keep.push_back(w);
    }
  }
  waiters_ = std::move(keep);
}

void Replication::DisconnectReplicas() {
  while (!replicas_.empty()) KillReplica(replicas_.begin()->first);
}

void Replication::StopLink() {
  if (link_generation_) ++*link_generation_;
  link_.reset();
  link_generation_.reset();
  link_up_ = false;
}

void Replication::SetConfigReplicaOf(const std::string& value) {
  Status s = engine_.config().Set("replicaof", value);
  if (s.ok()) s = engine_.config().Set("slaveof", value);
  if (!s.ok()) log::Warn("Cannot record replicaof in the config: " + s.ToString());
}

void Replication::Follow(const std::string& host, int port) {
  StopLink();
  DisconnectReplicas();
  // Waiters of a former leader can no longer be satisfied.
  ServeWaiters(/*timeouts_only=*/true);
  for (const Waiter& w : waiters_) ReplyToWaiter(w);
  waiters_.clear();
  following_ = true;
  started_empty_ = false;
  master_host_ = host;
  master_port_ = port;
  link_state_ = LinkState::kConnect;
  link_down_since_ms_ = MonotonicMs();
  engine_.keyspace().set_expiry_mode(store::ExpiryMode::kHide);
  SetConfigReplicaOf(host + " " + std::to_string(port));
  log::Info("Connecting to MASTER " + host + ":" + std::to_string(port));

  LinkOptions options;
  options.host = host;
  options.port = port;
  int64_t announce = ParseInt64(engine_.config().Value("replica-announce-port"), 0);
  options.listening_port = static_cast<int>(announce > 0 ? announce : engine_.tcp_port);
  options.announce_ip = engine_.config().Value("replica-announce-ip");
  options.masterauth = engine_.config().Value("masterauth");
  options.masteruser = engine_.config().Value("masteruser");
  options.dir = engine_.config().dir;
  options.timeout_ms = settings_.timeout_s * 1000;

  auto generation = std::make_shared<std::atomic<uint64_t>>(1);
  link_generation_ = generation;
  const uint64_t gen = generation->load();
  server::SessionIo* io = engine_.io;
  // Runs `fn` on the loop unless this link has been replaced meanwhile.
  auto post = [io, generation, gen](std::function<void()> fn) {
    io->Post([generation, gen, fn = std::move(fn)] {
      if (*generation == gen) fn();
    });
  };
  LinkEvents events;
  events.on_state = [this, post](LinkState st) {
    post([this, st] {
      link_state_ = st;
      bool up = st == LinkState::kConnected;
      if (link_up_ && !up) link_down_since_ms_ = MonotonicMs();
      link_up_ = up;
      if (up) last_io_ms_ = MonotonicMs();
    });
  };
  events.on_error = [](std::string error) { log::Warn(error); };
  events.prepare_psync = [this, io, generation, gen]() -> std::pair<std::string, int64_t> {
    auto promise = std::make_shared<std::promise<std::pair<std::string, int64_t>>>();
    auto future = promise->get_future();
    io->Post([this, promise, generation, gen] {
      if (*generation != gen) {
        promise->set_value({"", 0});
        return;
      }
      // Commands of the previous connection are all applied (FIFO); an
      // incomplete one is dropped and will be resent.
      // The parser too: it keeps offsets into a half-parsed request, and the
      // new connection resends that request from its first byte.
      stream_pending_.clear();
      stream_parser_.Reset();
      stream_broken_ = false;
      // No stream seen and no data: nothing to continue from (and nothing an
      // empty leader could wipe).
      if (backlog_.offset() == 0 && engine_.keyspace().TotalKeys() == 0) {
        promise->set_value({"?", -1});
      } else if (second_offset_ == backlog_.offset() + 1) {
        // Nothing happened under our own ID (a leader restarted from a
        // snapshot, or promoted and re-pointed before any write): our data
        // is exactly the previous history's, which the new leader may know.
        promise->set_value({replid2_, second_offset_});
      } else {
        promise->set_value({replid_, backlog_.offset() + 1});
      }
    });
    while (future.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready) {
      if (*generation != gen) return {"", 0};
    }
    return future.get();
  };
  events.on_full_sync = [this, post](std::string replid, int64_t offset, std::string path) {
    post([this, replid, offset, path] { LoadFullSync(replid, offset, path); });
  };
  events.on_continue = [this, post](std::string replid) {
    post([this, replid] {
      log::Info("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
      if (!replid.empty() && replid != replid_) {
        replid2_ = replid_;
        second_offset_ = backlog_.offset() + 1;
        replid_ = replid;
        DisconnectReplicas();  // they learn the new history from us again
      }
    });
  };
  events.on_stream = [this, post](std::string bytes) {
    post([this, bytes = std::move(bytes)] { ApplyStream(bytes); });
  };
  link_ = std::make_unique<FollowerLink>(std::move(options), std::move(events));
  link_->Start();
}

void Replication::Promote() {
  if (!following_) return;
  StopLink();
  following_ = false;
  engine_.keyspace().set_expiry_mode(store::ExpiryMode::kDelete);
  replid2_ = replid_;
  second_offset_ = backlog_.offset() + 1;
  replid_ = NewReplicationId();
  last_db_ = -1;
  master_host_.clear();
  master_port_ = 0;
  stream_pending_.clear();
  stream_parser_.Reset();
  SetConfigReplicaOf("");
  // Sub-replicas reconnect and continue with +CONTINUE <new id>.
  DisconnectReplicas();
  log::Info("MASTER MODE enabled (user request from 'id=?')");
}

void Replication::LoadFullSync(const std::string& replid, int64_t offset, const std::string& path) {
  log::Info("MASTER <-> REPLICA sync: Flushing old data");
  store::Keyspace& ks = engine_.keyspace();
  ks.set_expiry_mode(store::ExpiryMode::kKeep);
  SyncLoader loader(engine_, master_session_);
  master_session_.db = 0;
  // The payload carries the leader's index definitions: ours go. Loading is
  // one tight loop, so its FT.CREATEs backfill synchronously (as at startup).
  for (const std::string& name : engine_.search().Names()) engine_.search().Drop(name);
  const search::BackfillMode backfill_mode = engine_.search().backfill_mode();
  engine_.search().set_backfill_mode(search::BackfillMode::kSynchronous);
  Status s = loader.Run({"FLUSHALL"});
  if (s.ok()) s = persistence::ReadSnapshot(*persistence::DefaultFileSystem(), path, loader);
  engine_.search().set_backfill_mode(backfill_mode);
  // A payload cut short may leave a saved vector index without its definition.
  (void)engine_.search().DiscardSavedVectorOffers();
  ks.set_expiry_mode(store::ExpiryMode::kHide);
  unlink(path.c_str());
  if (!s.ok()) {
    log::Warn("Failed trying to load the MASTER synchronization DB from disk: " + s.ToString());
    if (!loader.Run({"FLUSHALL"}).ok()) log::Warn("FLUSHALL after a failed full sync failed");
    if (link_) link_->Drop();
    return;
  }
  replid_ = replid;
  replid2_ = std::string(40, '0');
  second_offset_ = -1;
  backlog_.Reset(offset);
  master_session_.db = 0;
  stream_pending_.clear();
  stream_parser_.Reset();
  stream_broken_ = false;
  DisconnectReplicas();
  log::Info("MASTER <-> REPLICA sync: Finished with success, " + std::to_string(ks.TotalKeys()) +
            " keys");
  if (engine_.persistence != nullptr && engine_.persistence->aof_enabled()) {
    // The AOF holds FLUSHALL + the new data as commands; compact it.
    Status rw = engine_.persistence->BackgroundRewriteAof();
    if (!rw.ok()) log::Info("AOF rewrite after full sync not started: " + rw.ToString());
  }
}

void Replication::ApplyStream(std::string_view bytes) {
  if (stream_broken_ || !following_) return;
  last_io_ms_ = MonotonicMs();
  stream_pending_.append(bytes);
  std::string scratch;
  resp::ReplyWriter writer(&scratch, 2);
  store::Keyspace& ks = engine_.keyspace();
  ks.set_expiry_mode(store::ExpiryMode::kKeep);
  size_t pos = 0;
  while (pos < stream_pending_.size()) {
    std::string_view rest(stream_pending_.data() + pos, stream_pending_.size() - pos);
    resp::ParseStatus st = stream_parser_.Parse(rest);
    if (st == resp::ParseStatus::kNeedMore) break;
    if (st == resp::ParseStatus::kError) {
      log::Warn("Protocol error in the replication stream from MASTER (" +
                std::string(stream_parser_.error()) + "): dropping the link to resync");
      stream_broken_ = true;
      stream_pending_.clear();
      stream_parser_.Reset();
      pos = 0;
      if (link_) link_->Drop();
      break;
    }
    const size_t consumed = stream_parser_.consumed();
    const auto& args = stream_parser_.args();
    if (!args.empty()) {
      scratch.clear();
      engine_.Execute(master_session_, std::span<const std::string_view>(args.data(), args.size()),
                      writer);
      if (!scratch.empty() && scratch[0] == '-') {
        log::Debug("Command from MASTER replied with an error: " + scratch.substr(0, 200));
      }
    }
    Feed(std::string_view(stream_pending_.data() + pos, consumed));
    pos += consumed;
  }
  ks.set_expiry_mode(store::ExpiryMode::kHide);
  if (pos > 0) stream_pending_.erase(0, pos);
  if (engine_.persistence != nullptr && engine_.persistence->aof_enabled()) {
    Status s = engine_.persistence->BeforeReply();
    if (s.ok() && LocalFsynced(0) > 0) fsynced_offset_ = backlog_.offset();
  }
  if (getack_requested_) {
    getack_requested_ = false;
    SendAck();
  }
}

void Replication::SendAck() {
  last_ack_sent_ms_ = MonotonicMs();
  if (link_) link_->SendAck(backlog_.offset(), fsynced_offset_);
}

std::string Replication::InfoSection() {
  std::string out = "# Replication\r\n";
  auto line = [&out](std::string_view k, const std::string& v) {
    out.append(k).append(":").append(v).append("\r\n");
  };
  int64_t now = MonotonicMs();
  line("role", following_ ? "slave" : "master");
  if (following_) {
    line("master_host", master_host_);
    line("master_port", std::to_string(master_port_));
    line("master_link_status", link_up_ ? "up" : "down");
    line("master_last_io_seconds_ago",
         link_up_ ? std::to_string((now - last_io_ms_) / 1000) : "-1");
    line("master_sync_in_progress", link_state_ == LinkState::kSync ? "1" : "0");
    line("slave_read_repl_offset", std::to_string(backlog_.offset()));
    line("slave_repl_offset", std::to_string(backlog_.offset()));
    if (!link_up_) {
      line("master_link_down_since_seconds", std::to_string((now - link_down_since_ms_) / 1000));
    }
    line("slave_priority", std::to_string(settings_.priority));
    line("slave_read_only", settings_.read_only ? "1" : "0");
    line("replica_announced", "1");
  }
  line("connected_slaves", std::to_string(replicas_.size()));
  auto state = [](ReplicaState st) -> std::string {
    switch (st) {
      case ReplicaState::kWaitFork:
        return "wait_bgsave";
      case ReplicaState::kSyncing:
        return "send_bulk";
      case ReplicaState::kOnline:
        return "online";
    }
    return "online";
  };
  if (settings_.min_replicas > 0) line("min_slaves_good_slaves", std::to_string(GoodReplicas()));
  int i = 0;
  for (const auto& [id, r] : replicas_) {
    line("slave" + std::to_string(i++), "ip=" + r.ip + ",port=" + std::to_string(r.port) +
                                            ",state=" + state(r.state) +
                                            ",offset=" + std::to_string(r.ack_offset) +
                                            ",lag=" + std::to_string((now - r.last_ack_ms) / 1000));
  }
  line("master_failover_state", "no-failover");
  line("master_replid", replid_);
  line("master_replid2", replid2_);
  line("master_repl_offset", std::to_string(backlog_.offset()));
  line("second_repl_offset", std::to_string(second_offset_));
  line("repl_backlog_active", "1");
  line("repl_backlog_size", std::to_string(backlog_.capacity()));
  line("repl_backlog_first_byte_offset", std::to_string(backlog_.first_byte_offset()));
  line("repl_backlog_histlen", std::to_string(backlog_.histlen()));
  return out;
}

}  // namespace ragkv::replication
