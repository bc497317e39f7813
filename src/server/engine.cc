// Engine::Execute follows Redis's processCommand order: lookup, arity, auth,
// MULTI queueing, maxmemory, then call() with statistics, WATCH invalidation
// and write propagation. The hot path (GET/SET from a connection) does one
// case-folding copy of the command name into a stack buffer, one hash lookup
// and no allocation outside the handler.
#include "server/engine.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "search/index_manager.h"
#include "server/errors.h"
#include "server/memory_usage.h"
#include "server/persistence.h"

namespace ragkv::server {

void CommandTable::Add(CommandSpec spec) {
  std::string name = spec.name;
  commands_.emplace(std::move(name), std::move(spec));
}

const CommandSpec* CommandTable::Find(std::string_view name) const {
  char lower[32] = {};
  if (name.size() > sizeof(lower)) return nullptr;
  for (size_t i = 0; i < name.size(); ++i) {
    lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(name[i])));
  }
  auto it = commands_.find(std::string_view(lower, name.size()));
  return it == commands_.end() ? nullptr : &it->second;
}

std::vector<std::string_view> CommandKeys(const CommandSpec& spec,
                                          std::span<const std::string_view> argv) {
  std::vector<std::string_view> keys;
  if (spec.first_key <= 0) return keys;
  int argc = static_cast<int>(argv.size());
  int last = spec.last_key < 0 ? argc + spec.last_key : spec.last_key;
  int step = spec.key_step > 0 ? spec.key_step : 1;
  for (int i = spec.first_key; i <= last && i < argc; i += step) {
    keys.push_back(argv[static_cast<size_t>(i)]);
  }
  return keys;
}

Engine::Engine(std::unique_ptr<Config> config)
    : config_(std::move(config)),
      keyspace_(static_cast<int>(config_->databases)),
      search_(std::make_unique<search::IndexManager>()),
      clock_(store::UnixTimeMs) {
  RegisterConnectionCommands(commands_);
  RegisterServerCommands(commands_);
  RegisterStringCommands(commands_);
  RegisterKeyCommands(commands_);
  RegisterHashCommands(commands_);
  RegisterTransactionCommands(commands_);
  RegisterZSetCommands(commands_);
  RegisterPersistenceCommands(commands_);
  RegisterPubSubCommands(commands_);
  RegisterSearchCommands(commands_);
  AddWriteObserver([this](int db, std::span<const std::string_view> argv) {
    SearchOnWrite(*this, db, argv);
  });
  watched_keys_.resize(static_cast<size_t>(keyspace_.size()));
  stats_.start_ms = store::UnixTimeMs();
  keyspace_.set_on_expired([this](int db, std::string_view key) {
    ++stats_.expired_keys;
    TouchKey(db, key);
    std::string_view del[2] = {"DEL", key};
    Propagate(db, del);
  });
}

Engine::~Engine() = default;

void Engine::OpenSession(Session& session) {
  session.id = next_session_id_++;
  session.authenticated = config_->requirepass.empty();
  session.created_ms = Now();
  session.last_interaction_ms = session.created_ms;
  sessions_[session.id] = &session;
  ++stats_.total_connections_received;
}

void Engine::CloseSession(Session& session) {
  Unwatch(session);
  pubsub_.RemoveSession(session);
  if (replication != nullptr) replication->OnSessionClosed(session);
  sessions_.erase(session.id);
}

void Engine::Execute(Session& session, const std::vector<std::string>& argv,
                     resp::ReplyWriter& out) {
  std::vector<std::string_view> views(argv.begin(), argv.end());
  Execute(session, views, out);
}

void Engine::Execute(Session& s, std::span<const std::string_view> argv, resp::ReplyWriter& out) {
  if (argv.empty()) return;
  keyspace_.set_now_ms(clock_());
  s.last_interaction_ms = keyspace_.now_ms();
  const CommandSpec* cmd = commands_.Find(argv[0]);
  auto reject = [&](std::string_view error) {
    if (s.in_multi) s.multi_error = true;
    ++stats_.total_error_replies;
    out.Error(error);
  };
  if (cmd == nullptr) {
    size_t nargs = std::min<size_t>(argv.size() - 1, 32);
    reject(errors::UnknownCommand(argv[0], argv.data() + 1, nargs));
    return;
  }
  int argc = static_cast<int>(argv.size());
  if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity)) {
    reject(errors::WrongArity(cmd->name));
    return;
  }
  if (!s.authenticated && !(cmd->flags & kNoAuth)) {
    reject(errors::kNoAuth);
    return;
  }
  if (s.subscriptions > 0 && s.resp == 2 && !PubSub::AllowedWhileSubscribed(cmd->name)) {
    reject(PubSub::NotAllowedError(cmd->name));
    return;
  }
  if (replication != nullptr) {
    std::string refusal = replication->Refusal(s, *cmd);
    if (!refusal.empty()) {
      reject(refusal);
      return;
    }
  }
  if (s.in_multi && !(cmd->flags & kNoMulti)) {
    s.queued.emplace_back(argv.begin(), argv.end());
    out.SimpleString("QUEUED");
    return;
  }
  if ((cmd->flags & kWrite) && persistence != nullptr) {
    std::string refusal = persistence->WriteRefusal();
    if (!refusal.empty()) {
      reject(refusal);
      return;
    }
  }
  if ((cmd->flags & kDenyOom) && config_->maxmemory > 0 && !EnsureMemoryForWrite()) {
    reject(errors::kOom);
    return;
  }
  Call(s, *cmd, argv, out);
}

void Engine::Call(Session& s, const CommandSpec& spec, std::span<const std::string_view> argv,
                  resp::ReplyWriter& out) {
  int db_index = s.db;
  CommandContext ctx{*this, s, argv, out, keyspace_.db(db_index)};
  size_t reply_at = out.buffer()->size();
  ++call_depth_;
  spec.handler(ctx);
  --call_depth_;
  ++stats_.total_commands_processed;
  ++spec.calls;
  s.last_command = spec.name;
  if (out.buffer()->size() > reply_at && (*out.buffer())[reply_at] == '-') {
    ++stats_.total_error_replies;
  }
  if (ctx.dirty > 0) {
    stats_.dirty += ctx.dirty;
    if (watched_count_ > 0) {
      for (std::string_view key : CommandKeys(spec, argv)) TouchKey(db_index, key);
    }
    if (!observers_.empty()) {
      if (in_transaction_ && !transaction_propagated_) {
        transaction_propagated_ = true;
        std::string_view multi[1] = {"MULTI"};
        Propagate(db_index, multi);
      }
      if (ctx.rewritten.empty()) {
        Propagate(db_index, argv);
      } else {
        for (const auto& cmd : ctx.rewritten) {
          std::vector<std::string_view> views(cmd.begin(), cmd.end());
          Propagate(db_index, views);
        }
      }
    }
  }
}

void Engine::EndTransaction() {
  if (transaction_propagated_) {
    std::string_view exec[1] = {"EXEC"};
    Propagate(0, exec);
  }
  in_transaction_ = false;
  transaction_propagated_ = false;
}

void Engine::ResetStats() {
  int64_t start = stats_.start_ms, dirty = stats_.dirty;
  stats_ = Stats();
  stats_.start_ms = start;
  stats_.dirty = dirty;
  for (const auto& [name, spec] : commands_.all()) spec.calls = 0;
}

void Engine::Propagate(int db, std::span<const std::string_view> argv) {
  for (const auto& observer : observers_) observer(db, argv);
}

void Engine::Cron() {
  keyspace_.set_now_ms(clock_());
  if (persistence != nullptr) persistence->Cron();
  int64_t now = keyspace_.now_ms();
  if (now - ops_sample_ms_ >= 1000) {
    if (ops_sample_ms_ > 0) {
      stats_.instantaneous_ops_per_sec =
          (stats_.total_commands_processed - ops_sample_count_) * 1000 / (now - ops_sample_ms_);
    }
    ops_sample_ms_ = now;
    ops_sample_count_ = stats_.total_commands_processed;
  }
  SearchBackfillSlice();
  ScheduleSearchBackfill();
  if (replication != nullptr) {
    replication->Cron();
    // Followers never expire keys themselves: the leader's DEL does.
    if (replication->is_follower()) return;
  }
  // Redis's active expiry: a bounded amount of work per tick, spread across
  // databases round-robin.
  size_t budget = 200;
  for (int i = 0; i < keyspace_.size() && budget > 0; ++i) {
    store::Db& db = keyspace_.db(static_cast<int>(expire_db_cursor_ % static_cast<size_t>(keyspace_.size())));
    ++expire_db_cursor_;
    if (db.volatile_size() == 0) continue;
    db.ActiveExpireCycle(20, budget, rng_);
    budget = budget > 20 ? budget - 20 : 0;
  }
}

// One slice is about 1 ms of CPU: a GET that arrives during a backfill waits
// at most that long when the loop has a core to itself (on an oversubscribed
// machine the busy loop also waits for the scheduler; see
// docs/benchmarks/search.md), and at 1 ms per loop iteration the loop still
// spends nearly all its time backfilling when no client is active.
constexpr std::chrono::microseconds kBackfillSlice{1000};

void Engine::SearchBackfillSlice() {
  if (!search_->backfilling()) return;
  keyspace_.set_now_ms(clock_());  // expiry as of now, as for a command
  search_->BackfillStep(search::BackfillBudget::For(kBackfillSlice));
}

void Engine::ScheduleSearchBackfill() {
  if (io == nullptr) {
    backfill_posted_ = false;  // a network layer that went away took its queue
    return;
  }
  if (backfill_posted_ || !search_->backfilling()) return;
  backfill_posted_ = true;
  io->Post([this] {
    backfill_posted_ = false;
    SearchBackfillSlice();
    ScheduleSearchBackfill();
  });
}

void Engine::Watch(Session& s, std::string_view key) {
  for (const auto& [db, k] : s.watched) {
    if (db == s.db && k == key) return;
  }
  s.watched.emplace_back(s.db, std::string(key));
  auto& map = watched_keys_[static_cast<size_t>(s.db)];
  auto it = map.find(key);
  if (it == map.end()) it = map.emplace(std::string(key), std::vector<Session*>{}).first;
  it->second.push_back(&s);
  ++watched_count_;
}

void Engine::Unwatch(Session& s) {
  for (const auto& [db, key] : s.watched) {
    auto& map = watched_keys_[static_cast<size_t>(db)];
    auto it = map.find(key);
    if (it == map.end()) continue;
    auto& v = it->second;
    v.erase(std::remove(v.begin(), v.end(), &s), v.end());
    if (v.empty()) map.erase(it);
    --watched_count_;
  }
  s.watched.clear();
  s.watch_dirty = false;
}

void Engine::TouchKey(int db, std::string_view key) {
  if (watched_count_ == 0) return;
  auto& map = watched_keys_[static_cast<size_t>(db)];
  auto it = map.find(key);
  if (it == map.end()) return;
  for (Session* s : it->second) s->watch_dirty = true;
}

void Engine::TouchAllWatched(int db) {
  if (watched_count_ == 0) return;
  for (size_t i = 0; i < watched_keys_.size(); ++i) {
    if (db >= 0 && static_cast<size_t>(db) != i) continue;
    for (auto& [key, sessions] : watched_keys_[i]) {
      for (Session* s : sessions) s->watch_dirty = true;
    }
  }
}

int64_t Engine::UsedMemory() const { return AllocatedBytes(); }

bool Engine::EnsureMemoryForWrite() {
  int64_t limit = config_->maxmemory;
  if (limit <= 0 || UsedMemory() <= limit) return true;
  if (config_->maxmemory_policy == EvictionPolicy::kNoEviction) return false;
  // Evict in bounded batches; give up when nothing more can go.
  for (int i = 0; i < 10000 && UsedMemory() > limit; ++i) {
    if (!EvictOne()) return false;
  }
  return UsedMemory() <= limit;
}

bool Engine::EvictOne() {
  // Redis's approximated LRU: sample maxmemory-samples keys, evict the
  // idlest (or the soonest to expire for volatile-ttl, or any for random).
  EvictionPolicy policy = config_->maxmemory_policy;
  bool volatile_only = policy == EvictionPolicy::kVolatileLru ||
                       policy == EvictionPolicy::kVolatileRandom ||
                       policy == EvictionPolicy::kVolatileTtl;
  int best_db = -1;
  std::string best_key;
  int64_t best_score = INT64_MIN;
  int samples = static_cast<int>(config_->maxmemory_samples);
  for (int d = 0; d < keyspace_.size(); ++d) {
    store::Db& db = keyspace_.db(d);
    if ((volatile_only ? db.volatile_size() : db.size()) == 0) continue;
    for (int i = 0; i < samples; ++i) {
      std::string key;
      if (volatile_only) {
        const std::string* k = db.RandomVolatileKey(rng_);
        if (k == nullptr) break;
        key = *k;
      } else {
        auto k = db.RandomKey(rng_);
        if (!k) break;
        key = std::move(*k);
      }
      auto it = db.map().find(key);
      if (it == db.map().end()) continue;
      const store::Db::Entry* e = &it->second;
      int64_t score;
      switch (policy) {
        case EvictionPolicy::kVolatileTtl: score = -e->expire_ms; break;
        case EvictionPolicy::kAllKeysRandom:
        case EvictionPolicy::kVolatileRandom: score = static_cast<int64_t>(rng_() >> 1); break;
        default: score = -static_cast<int64_t>(e->value.lru()); break;
      }
      if (best_db < 0 || score > best_score) {
        best_db = d;
        best_key = key;
        best_score = score;
      }
    }
  }
  if (best_db < 0) return false;
  keyspace_.db(best_db).Delete(best_key);
  ++stats_.evicted_keys;
  TouchKey(best_db, best_key);
  std::string_view del[2] = {"DEL", best_key};
  Propagate(best_db, del);
  return true;
}

}  // namespace ragkv::server
