// Persistence: loading at startup, the AOF write path, and Redis-style
// snapshots and rewrites by fork().
//
// Why fork for BGSAVE/BGREWRITEAOF: the keyspace is single-threaded and not
// versioned, so a point-in-time view without stopping the event loop needs
// either copy-on-write pages (fork, Redis's way) or versioned entries with a
// write hook (Dragonfly's way). Fork needs no change to the store and its cost
// (page-table copy, COW growth under writes) is measured in
// docs/benchmarks/persistence.md. The child only serialises and _exit()s; it
// never logs or touches locks other threads may hold.
//
// Why replay through Engine::Execute: the log holds commands exactly as the
// engine applied them (absolute expiry times, DEL for expired keys), so
// running them through the same path guarantees the same result, and no
// second implementation of any command exists.
//
// FT indexes: a snapshot stores each index's definition (its FT.CREATE and
// FT.ALTER commands) as a section after the keys, and loading replays them
// through Execute, so TAG/TEXT/NUMERIC fields are rebuilt from the loaded
// keyspace (fast). VECTOR fields are not: rebuilding an HNSW graph costs
// ~500 s per million vectors against ~3 s to load it
// (docs/benchmarks/persistence.md), so with vector-index-snapshot yes (the
// default) each VECTOR field's index is streamed into a "vector-index:"
// section just before its definition, the loader offers it to the index
// manager, and replaying FT.CREATE adopts it after checking it against the
// keyspace (falling back to a rebuild with a warning). The definitions and
// index pointers are captured before fork(), since IndexManager has a mutex.
#include "server/persistence.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/cow_size.h"
#include "common/log.h"
#include "persistence/aof_format.h"
#include "protocol/reply_writer.h"
#include "protocol/request_parser.h"
#include "server/session.h"

namespace ragkv::server {
namespace {

using persistence::AofOptions;
using persistence::SnapshotEntry;

std::string ConfigValue(const Config& cfg, std::string_view name) {
  for (const auto& [k, v] : cfg.Get(name)) {
    if (k == name) return v;
  }
  return "";
}

void AppendU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

bool ReadU32(std::string_view* in, uint32_t* v) {
  if (in->size() < 4) return false;
  *v = 0;
  for (int i = 0; i < 4; ++i) *v |= uint32_t{static_cast<uint8_t>((*in)[i])} << (8 * i);
  in->remove_prefix(4);
  return true;
}

int64_t NowSeconds() { return store::UnixTimeMs() / 1000; }

// In a forked child: drops every inherited descriptor (listening and client
// sockets, the AOF, the directory lock's file) so that a parent killed while
// the child runs leaves nothing held, the port in particular, as Redis's
// closeChildUnusedResourceAfterFork does. stdin/out/err stay.
// `keep` (the copy-on-write report's pipe, or -1) stays open.
void CloseInheritedFds(int keep) {
  if (keep < 3) {
    ::close_range(3, ~0U, 0);
    return;
  }
  if (keep > 3) ::close_range(3, static_cast<unsigned>(keep) - 1, 0);
  ::close_range(static_cast<unsigned>(keep) + 1, ~0U, 0);
}

// Snapshot aux fields holding a ReplicationHistory (Redis's names).
constexpr std::string_view kAuxReplId = "repl-id";
constexpr std::string_view kAuxReplOffset = "repl-offset";
constexpr std::string_view kAuxReplStreamDb = "repl-stream-db";

Status WriteHistory(const ReplicationHistory& history, persistence::SnapshotWriter& writer) {
  if (history.replid.empty()) return Status::Ok();
  RAGKV_RETURN_IF_ERROR(writer.AddAux(kAuxReplId, history.replid));
  RAGKV_RETURN_IF_ERROR(writer.AddAux(kAuxReplOffset, std::to_string(history.offset)));
  return writer.AddAux(kAuxReplStreamDb, std::to_string(history.stream_db));
}

// The body of a BGSAVE/BGREWRITEAOF child: writes the keyspace to `path`.
// `indexes` is copied by the parent before fork(): the child takes no locks.
[[noreturn]] void RunSnapshotChild(persistence::FileSystem& fs, const std::string& path,
                                   store::Keyspace& keyspace, int64_t now_ms,
                                   const SearchIndexesToSave& indexes, int cow_fd,
                                   const ReplicationHistory& history = {}) {
  CloseInheritedFds(cow_fd);
  auto w = persistence::SnapshotWriter::Create(fs, path);
  Status s = w.ok() ? WriteHistory(history, **w) : w.status();
  if (s.ok()) s = WriteKeyspace(keyspace, now_ms, **w);
  if (s.ok()) s = WriteSearchIndexes(indexes, **w);
  if (s.ok()) s = (*w)->Finish();
  cow::ReportFromChild(cow_fd);
  ::_exit(s.ok() ? 0 : 1);
}

int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Applies snapshot entries to the keyspace and commands through the engine.
class KeyspaceLoader : public persistence::AofVisitor {
 public:
  explicit KeyspaceLoader(Engine& engine) : engine_(engine), writer_(&reply_) {
    session_.authenticated = true;
    now_ = engine.Now();
  }

  Status OnEntry(SnapshotEntry& e) override {
    store::Keyspace& ks = engine_.keyspace();
    if (e.db >= ks.size()) {
      return Status::OutOfRange("snapshot has db " + std::to_string(e.db) + " but databases is " +
                                std::to_string(ks.size()));
    }
    if (e.expire_at_ms >= 0 && e.expire_at_ms <= now_) return Status::Ok();  // already expired
    store::Db& db = ks.db(e.db);
    switch (e.kind) {
      case SnapshotEntry::Kind::kString:
        db.Set(e.key, store::Object(std::move(e.value)));
        break;
      case SnapshotEntry::Kind::kHash: {
        store::Object obj = store::Object::NewHash();
        for (auto& [f, v] : e.fields) obj.hash().emplace(std::move(f), std::move(v));
        db.Set(e.key, std::move(obj));
        break;
      }
      case SnapshotEntry::Kind::kZSet: {
        store::Object obj = store::Object::NewZSet();
        for (const auto& [member, score] : e.members) obj.zset().Add(member, score);
        db.Set(e.key, std::move(obj));
        break;
      }
    }
    if (e.expire_at_ms >= 0) db.SetExpire(e.key, e.expire_at_ms);
    return Status::Ok();
  }

  Status OnCommand(int db, std::vector<std::string>& argv) override {
    if (db >= engine_.keyspace().size()) {
      return Status::OutOfRange("AOF selects db " + std::to_string(db) + " but databases is " +
                                std::to_string(engine_.keyspace().size()));
    }
    // The log reader delivers a MULTI ... EXEC block only once it is
    // complete, so replaying its commands one by one is already all or
    // nothing; running MULTI here would instead queue them and run them all
    // in the db selected at EXEC.
    if (argv[0] == "MULTI" || argv[0] == "EXEC") return Status::Ok();
    session_.db = db;
    reply_.clear();
    engine_.Execute(session_, argv, writer_);
    if (!reply_.empty() && reply_[0] == '-') {
      if (reply_.rfind("-ERR unknown command", 0) == 0) {
        return Status::Corruption("unknown command in AOF: " + argv[0]);
      }
      ++errors_;
    }
    return Status::Ok();
  }

  // A search index definition: replayed once the keyspace it indexes is
  // loaded (sections follow every entry of their snapshot), so FT.CREATE's
  // initial scan rebuilds the index from the loaded keys.
  //
  // A saved vector index precedes its definition: it is decoded (checksum,
  // structure, graph invariants) and offered to the index manager, which
  // adopts it when FT.CREATE is replayed. A damaged one is only a warning:
  // the index is derived state, rebuilt from the keyspace.
  Status OnSection(std::string_view name, std::string_view blob) override {
    return LoadSearchSection(
        engine_.search(), name, blob,
        [this](int db, std::vector<std::string>& argv) { return OnCommand(db, argv); });
  }

  // Only while loading a snapshot that is the whole data set: an AOF
  // base's history is not the history of the log's tail.
  Status OnAux(std::string_view name, std::string_view value) override {
    if (history_ == nullptr) return Status::Ok();
    if (name == kAuxReplId) {
      history_->replid = std::string(value);
      return Status::Ok();
    }
    if (name != kAuxReplOffset && name != kAuxReplStreamDb) return Status::Ok();
    int64_t n = 0;
    if (!resp::ParseInt64(value, &n) || n < 0) {
      return Status::Corruption("snapshot aux field " + std::string(name) + " is not a count");
    }
    if (name == kAuxReplOffset) {
      history_->offset = n;
    } else {
      history_->stream_db = static_cast<int>(n);
    }
    return Status::Ok();
  }
  void CaptureHistory(ReplicationHistory* history) { history_ = history; }

  uint64_t errors() const { return errors_; }

 private:
  Engine& engine_;
  Session session_;
  std::string reply_;
  resp::ReplyWriter writer_;
  int64_t now_ = 0;
  uint64_t errors_ = 0;
  ReplicationHistory* history_ = nullptr;
};

}  // namespace

// A saved vector index precedes its definition: it is decoded (checksum,
// structure, graph invariants) and offered to the index manager, which adopts
// it when the definition's FT.CREATE runs. A damaged one is only a warning:
// the index is derived state, rebuilt from the keyspace.
Status LoadSearchSection(search::IndexManager& manager, std::string_view name,
                         std::string_view blob, const SearchCommandRunner& run) {
  if (name.substr(0, kVectorIndexSection.size()) == kVectorIndexSection) {
    auto saved = search::DecodeSavedVectorField(blob);
    if (!saved.ok()) {
      manager.CountRejectedSavedVector();
      log::Warn("Snapshot section " + std::string(name) +
                " not used, rebuilding it: " + std::string(saved.status().message()));
    } else {
      manager.OfferSavedVectorField(std::move(*saved));
    }
    return Status::Ok();
  }
  if (name.substr(0, kSearchIndexSection.size()) != kSearchIndexSection) return Status::Ok();
  RAGKV_ASSIGN_OR_RETURN(search::IndexDefinition def, DecodeSearchIndexSection(name, blob));
  for (auto& command : def.commands) {
    RAGKV_RETURN_IF_ERROR(run(def.db, command));
  }
  for (const std::string& unused : manager.DiscardSavedVectorOffers()) {
    log::Warn("Saved vector index " + unused + " matched no index definition; ignored");
  }
  return Status::Ok();
}

bool VectorIndexSnapshotEnabled(const Config& config) {
  return ConfigValue(config, "vector-index-snapshot") != "no";
}

std::string EncodeSearchIndexSection(const search::IndexDefinition& def) {
  std::string blob;
  AppendU32(static_cast<uint32_t>(def.db), &blob);
  std::string command;
  for (const auto& argv : def.commands) {
    std::vector<std::string_view> views(argv.begin(), argv.end());
    command.clear();
    persistence::EncodeMultibulk(views, &command);
    AppendU32(static_cast<uint32_t>(command.size()), &blob);
    blob += command;
  }
  return blob;
}

Result<search::IndexDefinition> DecodeSearchIndexSection(std::string_view name,
                                                         std::string_view blob) {
  const auto bad = [name](std::string_view why) {
    return Status::Corruption("snapshot section " + std::string(name) + ": " + std::string(why));
  };
  search::IndexDefinition def;
  def.name = std::string(name.substr(kSearchIndexSection.size()));
  uint32_t db = 0;
  if (!ReadU32(&blob, &db) || db > 1u << 20) return bad("bad db");
  def.db = static_cast<int>(db);
  while (!blob.empty()) {
    uint32_t len = 0;
    if (!ReadU32(&blob, &len) || len > blob.size()) return bad("truncated command");
    auto argv = persistence::DecodeMultibulk(blob.substr(0, len));
    if (!argv.ok()) return bad(argv.status().message());
    if (argv->empty()) return bad("empty command");
    def.commands.push_back(std::move(*argv));
    blob.remove_prefix(len);
  }
  if (def.commands.empty()) return bad("no commands");
  return def;
}

Status WriteSearchIndexes(const std::vector<search::IndexDefinition>& indexes,
                          persistence::SnapshotWriter& writer) {
  for (const auto& def : indexes) {
    RAGKV_RETURN_IF_ERROR(writer.AddSection(std::string(kSearchIndexSection) + def.name,
                                            EncodeSearchIndexSection(def)));
  }
  return Status::Ok();
}

SearchIndexesToSave CaptureSearchIndexes(const search::IndexManager& manager, bool with_vectors) {
  SearchIndexesToSave out;
  out.definitions = manager.Definitions();
  for (const auto& def : out.definitions) {
    out.indexes.push_back(with_vectors ? manager.Find(def.name) : nullptr);
  }
  return out;
}

Status WriteSearchIndexes(const SearchIndexesToSave& indexes, persistence::SnapshotWriter& writer) {
  // Frames each saved field as one streamed section.
  class SectionSink final : public search::SavedFieldSink {
   public:
    SectionSink(persistence::SnapshotWriter& writer, const std::string& index)
        : writer_(writer), index_(index) {}
    Status Begin(std::string_view attribute, uint64_t bytes) override {
      std::string name(kVectorIndexSection);
      name += index_;
      name += ':';
      name += attribute;
      return writer_.BeginSection(name, bytes);
    }
    Status Append(std::string_view chunk) override { return writer_.AppendSection(chunk); }

   private:
    persistence::SnapshotWriter& writer_;
    const std::string& index_;
  };
  for (size_t i = 0; i < indexes.definitions.size(); ++i) {
    const search::IndexDefinition& def = indexes.definitions[i];
    const auto& index = i < indexes.indexes.size() ? indexes.indexes[i] : nullptr;
    if (index != nullptr && index->db() == def.db) {
      SectionSink sink(writer, def.name);
      Status s = index->SaveVectorFields(sink);
      if (s.code() == StatusCode::kUnavailable) {
        // Nothing was written for this index; loading rebuilds its vectors.
      } else {
        RAGKV_RETURN_IF_ERROR(s);
      }
    }
    RAGKV_RETURN_IF_ERROR(writer.AddSection(std::string(kSearchIndexSection) + def.name,
                                            EncodeSearchIndexSection(def)));
  }
  return Status::Ok();
}

Status WriteKeyspace(store::Keyspace& keyspace, int64_t now_ms,
                     persistence::SnapshotWriter& writer) {
  SnapshotEntry e;
  for (int i = 0; i < keyspace.size(); ++i) {
    for (const auto& [key, entry] : keyspace.db(i).map()) {
      if (entry.expire_ms >= 0 && entry.expire_ms <= now_ms) continue;
      e.db = i;
      e.key = key;
      e.expire_at_ms = entry.expire_ms;
      e.fields.clear();
      e.members.clear();
      if (entry.value.type() == store::ValueType::kString) {
        e.kind = SnapshotEntry::Kind::kString;
        e.value = entry.value.str();
      } else if (entry.value.type() == store::ValueType::kHash) {
        e.kind = SnapshotEntry::Kind::kHash;
        e.value.clear();
        for (const auto& [f, v] : entry.value.hash()) e.fields.emplace_back(f, v);
      } else if (entry.value.type() == store::ValueType::kZSet) {
        e.kind = SnapshotEntry::Kind::kZSet;
        e.value.clear();
        entry.value.zset().ForEach([&e](std::string_view member, double score) {
          e.members.emplace_back(std::string(member), score);
        });
      } else {
        return Status::Internal("unknown value type in keyspace");
      }
      RAGKV_RETURN_IF_ERROR(writer.Add(e));
    }
  }
  return Status::Ok();
}

Persistence::Persistence(Engine& engine, persistence::FileSystem& fs)
    : engine_(engine), fs_(fs), alive_(std::make_shared<bool>(true)) {}

Result<std::unique_ptr<Persistence>> Persistence::Start(Engine& engine,
                                                        persistence::FileSystem& fs) {
  std::unique_ptr<Persistence> p(new Persistence(engine, fs));
  const Config& cfg = engine.config();
  auto points = persistence::ParseSavePoints(ConfigValue(cfg, "save"));
  if (!points.ok()) return points.status();
  p->save_points_ = std::move(*points);
  p->stop_writes_on_bgsave_error_ = ConfigValue(cfg, "stop-writes-on-bgsave-error") != "no";
  int64_t pct = 100;
  if (!ParseMemory(ConfigValue(cfg, "auto-aof-rewrite-percentage"), &pct) || pct < 0) pct = 100;
  int64_t min_size = 64 << 20;
  if (!ParseMemory(ConfigValue(cfg, "auto-aof-rewrite-min-size"), &min_size)) min_size = 64 << 20;
  p->auto_rewrite_ = {pct, static_cast<uint64_t>(std::max<int64_t>(min_size, 0))};
  const std::string vectors = ConfigValue(cfg, "vector-index-snapshot");
  if (vectors != "yes" && vectors != "no") {
    return Status::InvalidArgument("vector-index-snapshot must be 'yes' or 'no'");
  }

  // A server that neither reads nor writes the directory (no AOF, no save
  // points, no snapshot to load) does not lock it, so several such servers
  // may share a working directory (as Redis allows, and as the tests start
  // servers); it locks on its first SAVE/BGSAVE/CONFIG SET appendonly. One
  // that loads data from it does, so that it never loads a directory that an
  // embedded engine (ragkv ingest) is writing.
  if (ConfigValue(cfg, "appendonly") == "yes" || !p->save_points_.empty() ||
      fs.Exists(p->SnapshotPath())) {
    RAGKV_RETURN_IF_ERROR(p->EnsureLocked());
  }
  RAGKV_RETURN_IF_ERROR(p->Load());
  p->Attach();
  return p;
}

ReplicationHistory Persistence::CurrentHistory() const {
  return engine_.replication != nullptr ? engine_.replication->History() : ReplicationHistory();
}

std::string Persistence::SnapshotPath() const {
  return persistence::JoinPath(engine_.config().dir, ConfigValue(engine_.config(), "dbfilename"));
}

Status Persistence::Load() {
  const Config& cfg = engine_.config();
  const int64_t start = MonotonicMs();
  KeyspaceLoader loader(engine_);
  const bool appendonly = ConfigValue(cfg, "appendonly") == "yes";
  const std::string snapshot = SnapshotPath();
  RAGKV_ASSIGN_OR_RETURN(AofOptions options, AofOptionsFromConfig());
  const bool have_aof = fs_.Exists(persistence::JoinPath(
      persistence::JoinPath(options.dir, options.dirname), options.filename + ".manifest"));

  // Without an AOF yet, the snapshot is the data (also when appendonly was
  // just switched on: Redis 7 would start empty here; we seed the new AOF
  // from the snapshot instead).
  bool seeded_from_snapshot = false;
  if ((!appendonly || !have_aof) && fs_.Exists(snapshot)) {
    persistence::SnapshotReadStats st;
    ReplicationHistory history;
    loader.CaptureHistory(&history);
    Status s = persistence::ReadSnapshot(fs_, snapshot, loader, &st);
    loader.CaptureHistory(nullptr);
    if (!s.ok()) {
      engine_.keyspace().FlushAll();
      return s.code() == StatusCode::kCorruption
                 ? Status::Corruption(std::string(s.message()) +
                                      ": refusing to start. Inspect it with \"ragkv "
                                      "check-snapshot " +
                                      snapshot + "\"")
                 : s;
    }
    seeded_from_snapshot = appendonly;
    loaded_history_ = std::move(history);
    log::Info("DB loaded from snapshot " + snapshot + ": " + std::to_string(st.entries) +
              " keys in " + std::to_string(MonotonicMs() - start) + " ms");
  }
  if (appendonly) {
    persistence::AofLoadStats stats;
    auto aof = persistence::AppendOnlyLog::Open(fs_, options, loader, &stats);
    if (!aof.ok()) {
      engine_.keyspace().FlushAll();
      return aof.status();
    }
    aof_ = std::move(*aof);
    log::Info("DB loaded from append only file: " + std::to_string(stats.base_entries) +
              " base keys, " + std::to_string(stats.commands) + " commands in " +
              std::to_string(MonotonicMs() - start) + " ms");
    if (loader.errors() > 0) {
      log::Warn(std::to_string(loader.errors()) + " commands in the AOF replied with an error");
    }
    if (seeded_from_snapshot) {
      RAGKV_RETURN_IF_ERROR(aof_->Rewrite([this](persistence::SnapshotWriter& w) {
        RAGKV_RETURN_IF_ERROR(WriteKeyspace(engine_.keyspace(), engine_.Now(), w));
        return WriteSearchIndexes(CaptureSearch(), w);
      }));
    }
  }
  // Sections always precede their definition, so an offer left now had no
  // definition in the file (not something this server wrote).
  for (const std::string& unused : engine_.search().DiscardSavedVectorOffers()) {
    log::Warn("Saved vector index " + unused + " matched no index definition; ignored");
  }
  last_save_s_ = NowSeconds();
  dirty_at_last_save_ = engine_.stats().dirty;
  return Status::Ok();
}

bool Persistence::SaveVectorIndexes() const { return VectorIndexSnapshotEnabled(engine_.config()); }

SearchIndexesToSave Persistence::CaptureSearch() const {
  return CaptureSearchIndexes(engine_.search(), SaveVectorIndexes());
}

Result<AofOptions> Persistence::AofOptionsFromConfig() const {
  const Config& cfg = engine_.config();
  AofOptions options;
  options.dir = cfg.dir;
  options.dirname = ConfigValue(cfg, "appenddirname");
  options.filename = ConfigValue(cfg, "appendfilename");
  RAGKV_ASSIGN_OR_RETURN(options.fsync,
                         persistence::ParseFsyncPolicy(ConfigValue(cfg, "appendfsync")));
  options.load_truncated = ConfigValue(cfg, "aof-load-truncated") != "no";
  return options;
}

void Persistence::Attach() {
  engine_.persistence = this;
  // Registered even without an AOF: CONFIG SET appendonly yes may start one.
  std::shared_ptr<bool> alive = alive_;
  engine_.AddWriteObserver([this, alive](int db, std::span<const std::string_view> argv) {
    if (*alive && aof_) last_offset_ = aof_->Append(db, argv);
  });
  for (const char* name : kRuntimeOptions) applied_[name] = ConfigValue(engine_.config(), name);
}

Status Persistence::ApplyConfig(std::string_view raw_name) {
  std::string name(raw_name);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto known = applied_.find(name);
  if (known == applied_.end()) return Status::Ok();  // not ours
  Config& cfg = engine_.config();
  const std::string value = ConfigValue(cfg, name);
  Status s = [&]() -> Status {
    if (name == "save") {
      RAGKV_ASSIGN_OR_RETURN(save_points_, persistence::ParseSavePoints(value));
    } else if (name == "appendfsync") {
      RAGKV_ASSIGN_OR_RETURN(auto policy, persistence::ParseFsyncPolicy(value));
      if (aof_) aof_->writer().set_policy(policy);
    } else if (name == "vector-index-snapshot") {
      if (value != "yes" && value != "no")
        return Status::InvalidArgument("argument must be 'yes' or 'no'");
    } else if (name == "stop-writes-on-bgsave-error") {
      if (value != "yes" && value != "no")
        return Status::InvalidArgument("argument must be 'yes' or 'no'");
      stop_writes_on_bgsave_error_ = value == "yes";
    } else if (name == "auto-aof-rewrite-percentage" || name == "auto-aof-rewrite-min-size") {
      int64_t v = 0;
      if (!ParseMemory(value, &v) || v < 0) {
        return Status::InvalidArgument("argument must be a non-negative number");
      }
      if (name == "auto-aof-rewrite-percentage") {
        auto_rewrite_.percentage = v;
      } else {
        auto_rewrite_.min_size = static_cast<uint64_t>(v);
      }
    } else if (name == "appendonly") {
      if (value == "yes") return aof_ ? Status::Ok() : StartAof();
      if (value == "no") {
        StopAof();
        return Status::Ok();
      }
      return Status::InvalidArgument("argument must be 'yes' or 'no'");
    }
    return Status::Ok();
  }();
  if (!s.ok()) {
    (void)cfg.Set(name, known->second);  // keep what is in effect
    return s;
  }
  known->second = value;
  return Status::Ok();
}

Status Persistence::StartAof() {
  if (save_child_ > 0 || rewrite_child_ > 0) {
    return Status::FailedPrecondition("a background save is in progress; try again later");
  }
  RAGKV_RETURN_IF_ERROR(EnsureLocked());
  RAGKV_ASSIGN_OR_RETURN(AofOptions options, AofOptionsFromConfig());
  RAGKV_ASSIGN_OR_RETURN(aof_, persistence::AppendOnlyLog::StartFresh(fs_, options));
  last_offset_ = 0;
  // The new log takes over once its base, the current data set, is written.
  const std::string path = aof_->pending_base_path();
  const int64_t now = engine_.Now();
  const SearchIndexesToSave indexes = CaptureSearch();
  cow::Channel cow;
  pid_t pid = ::fork();
  if (pid < 0) {
    aof_->AbortRewrite();
    aof_.reset();
    return Status::IOError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) RunSnapshotChild(fs_, path, engine_.keyspace(), now, indexes, cow.child_fd());
  cow.CloseChildEnd();
  rewrite_cow_ = std::move(cow);
  rewrite_child_ = pid;
  rewrite_child_start_ms_ = MonotonicMs();
  aof_starting_ = true;
  log::Info("AOF enabled: writing its base in pid " + std::to_string(pid));
  return Status::Ok();
}

void Persistence::StopAof() {
  if (!aof_) return;
  if (rewrite_child_ > 0) {
    ::kill(rewrite_child_, SIGKILL);
    ::waitpid(rewrite_child_, nullptr, 0);
    rewrite_child_ = -1;
    aof_->AbortRewrite();
  }
  Status s = aof_->writer().SyncNow();
  if (!s.ok()) log::Warn("Final AOF fsync failed: " + s.ToString());
  aof_.reset();
  aof_starting_ = false;
  log::Info("AOF disabled");
}

Persistence::~Persistence() {
  *alive_ = false;
  if (engine_.persistence == this) engine_.persistence = nullptr;
  for (pid_t child : {save_child_, rewrite_child_}) {
    if (child > 0) ::waitpid(child, nullptr, 0);
  }
  if (rewrite_child_ > 0 && aof_) aof_->AbortRewrite();
  if (aof_) {
    Status s = aof_->writer().SyncNow();
    if (!s.ok()) log::Warn("Final AOF fsync failed: " + s.ToString());
  }
}

Status Persistence::SyncAof() {
  if (!aof_) return Status::Ok();
  return aof_->writer().SyncNow();
}

Status Persistence::RewriteAof() {
  if (!aof_) return Status::FailedPrecondition("appendonly is no: there is no AOF to rewrite");
  if (save_child_ > 0 || rewrite_child_ > 0) {
    return Status::FailedPrecondition("a background save or rewrite is in progress");
  }
  const int64_t start = MonotonicMs();
  Status s = aof_->Rewrite([this](persistence::SnapshotWriter& w) {
    RAGKV_RETURN_IF_ERROR(WriteKeyspace(engine_.keyspace(), engine_.Now(), w));
    return WriteSearchIndexes(CaptureSearch(), w);
  });
  last_rewrite_ok_ = s.ok();
  last_rewrite_time_sec_ = (MonotonicMs() - start) / 1000;
  if (!s.ok()) return s;
  ++rewrites_;
  return Status::Ok();
}

Status Persistence::BeforeReply() {
  if (!aof_) return Status::Ok();
  return aof_->WaitDurable(last_offset_);
}

std::string Persistence::WriteRefusal() const {
  if (aof_) {
    Status s = aof_->writer().status();
    if (!s.ok()) return "MISCONF Errors writing to the AOF file: " + std::string(s.message());
  }
  if (stop_writes_on_bgsave_error_ && !save_points_.empty() && !last_bgsave_ok_) {
    return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
           "persist to disk. Commands that may modify the data set are disabled, because this "
           "instance is configured to report errors during writes if RDB snapshotting fails "
           "(stop-writes-on-bgsave-error option). Please check the Redis logs for details about "
           "the RDB error.";
  }
  return "";
}

Status Persistence::EnsureLocked() {
  if (lock_) return Status::Ok();
  RAGKV_ASSIGN_OR_RETURN(lock_, persistence::LockDataDir(fs_, engine_.config().dir));
  return Status::Ok();
}

Status Persistence::Save() {
  if (save_child_ > 0) return Status::FailedPrecondition("Background save already in progress");
  RAGKV_RETURN_IF_ERROR(EnsureLocked());
  const int64_t start = MonotonicMs();
  last_save_attempt_s_ = NowSeconds();
  Status s = [&]() -> Status {
    RAGKV_ASSIGN_OR_RETURN(auto w, persistence::SnapshotWriter::Create(fs_, SnapshotPath()));
    RAGKV_RETURN_IF_ERROR(WriteHistory(CurrentHistory(), *w));
    RAGKV_RETURN_IF_ERROR(WriteKeyspace(engine_.keyspace(), engine_.Now(), *w));
    RAGKV_RETURN_IF_ERROR(WriteSearchIndexes(CaptureSearch(), *w));
    return w->Finish();
  }();
  last_bgsave_ok_ = s.ok();
  if (!s.ok()) {
    log::Warn("Error saving DB on disk: " + s.ToString());
    return s;
  }
  last_save_s_ = NowSeconds();
  dirty_at_last_save_ = engine_.stats().dirty;
  ++saves_;
  log::Info("DB saved on disk in " + std::to_string(MonotonicMs() - start) + " ms");
  return Status::Ok();
}

Status Persistence::BackgroundSave() {
  if (save_child_ > 0) return Status::FailedPrecondition("Background save already in progress");
  if (rewrite_child_ > 0) {
    return Status::FailedPrecondition(
        "Another child process is active (AOF?): can't BGSAVE right now");
  }
  RAGKV_RETURN_IF_ERROR(EnsureLocked());
  last_save_attempt_s_ = NowSeconds();
  const std::string path = SnapshotPath();
  const int64_t now = engine_.Now();
  const auto fork_start = std::chrono::steady_clock::now();
  const SearchIndexesToSave indexes = CaptureSearch();
  const ReplicationHistory history = CurrentHistory();
  cow::Channel cow;
  pid_t pid = ::fork();
  if (pid < 0) return Status::IOError(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    RunSnapshotChild(fs_, path, engine_.keyspace(), now, indexes, cow.child_fd(), history);
  }
  cow.CloseChildEnd();
  save_cow_ = std::move(cow);
  latest_fork_usec_ = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - fork_start)
                          .count();
  save_child_ = pid;
  save_child_start_ms_ = MonotonicMs();
  dirty_at_bgsave_start_ = engine_.stats().dirty;
  log::Info("Background saving started by pid " + std::to_string(pid) + " (fork took " +
            std::to_string(latest_fork_usec_) + " us)");
  return Status::Ok();
}

Status Persistence::BackgroundRewriteAof() {
  if (!aof_) return Status::FailedPrecondition("appendonly is no: there is no AOF to rewrite");
  if (rewrite_child_ > 0) {
    return Status::FailedPrecondition("Background append only file rewriting already in progress");
  }
  if (save_child_ > 0) {
    rewrite_scheduled_ = true;
    return Status::Ok();
  }
  rewrite_scheduled_ = false;
  // The switch to a new incr file and the fork happen in the same event-loop
  // turn, so the child's view is exactly the state at the cut.
  RAGKV_RETURN_IF_ERROR(aof_->BeginRewrite());
  const std::string path = aof_->pending_base_path();
  const int64_t now = engine_.Now();
  const auto fork_start = std::chrono::steady_clock::now();
  const SearchIndexesToSave indexes = CaptureSearch();
  cow::Channel cow;
  pid_t pid = ::fork();
  if (pid < 0) {
    aof_->AbortRewrite();
    return Status::IOError(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) RunSnapshotChild(fs_, path, engine_.keyspace(), now, indexes, cow.child_fd());
  cow.CloseChildEnd();
  rewrite_cow_ = std::move(cow);
  latest_fork_usec_ = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - fork_start)
                          .count();
  rewrite_child_ = pid;
  rewrite_child_start_ms_ = MonotonicMs();
  log::Info("Background append only file rewriting started by pid " + std::to_string(pid) +
            " (fork took " + std::to_string(latest_fork_usec_) + " us)");
  return Status::Ok();
}

void Persistence::ReapChildren() {
  int status = 0;
  if (save_child_ > 0 && ::waitpid(save_child_, &status, WNOHANG) == save_child_) {
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    last_bgsave_ok_ = ok;
    last_bgsave_time_sec_ = (MonotonicMs() - save_child_start_ms_) / 1000;
    save_child_ = -1;
    if (auto bytes = save_cow_.Receive()) rdb_last_cow_size_ = *bytes;
    if (ok) {
      last_save_s_ = NowSeconds();
      dirty_at_last_save_ = dirty_at_bgsave_start_;
      ++saves_;
      log::Info("Background saving terminated with success");
    } else {
      log::Warn("Background saving error");
    }
  }
  if (rewrite_child_ > 0 && ::waitpid(rewrite_child_, &status, WNOHANG) == rewrite_child_) {
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    rewrite_child_ = -1;
    last_rewrite_time_sec_ = (MonotonicMs() - rewrite_child_start_ms_) / 1000;
    if (auto bytes = rewrite_cow_.Receive()) aof_last_cow_size_ = *bytes;
    Status s = ok ? aof_->AdoptBase() : Status::IOError("rewrite child failed");
    if (s.ok()) s = aof_->CommitRewrite();
    last_rewrite_ok_ = s.ok();
    if (s.ok()) {
      ++rewrites_;
      aof_starting_ = false;
      log::Info("Background AOF rewrite finished successfully");
    } else {
      aof_->AbortRewrite();
      log::Warn("Background AOF rewrite failed: " + s.ToString());
      if (aof_starting_) {
        // The new log never took over: appendonly stays off.
        aof_.reset();
        aof_starting_ = false;
        (void)engine_.config().Set("appendonly", "no");
        applied_["appendonly"] = "no";
      }
    }
  }
}

void Persistence::Cron() {
  ReapChildren();
  if (save_child_ > 0 || rewrite_child_ > 0) return;
  if (rewrite_scheduled_) {
    Status s = BackgroundRewriteAof();
    if (!s.ok()) log::Warn("Scheduled AOF rewrite failed to start: " + s.ToString());
    return;
  }
  persistence::SaveState st;
  st.now_s = NowSeconds();
  st.last_save_s = last_save_s_;
  st.last_attempt_s = last_save_attempt_s_;
  st.dirty =
      static_cast<uint64_t>(std::max<int64_t>(0, engine_.stats().dirty - dirty_at_last_save_));
  st.last_save_ok = last_bgsave_ok_;
  if (persistence::ShouldSave(save_points_, st)) {
    Status s = BackgroundSave();
    if (!s.ok()) log::Warn("Save point reached but BGSAVE failed: " + s.ToString());
    return;
  }
  if (aof_ && persistence::ShouldRewrite(auto_rewrite_, aof_->current_size(),
                                         aof_->size_at_last_rewrite())) {
    log::Info("Starting automatic rewriting of AOF");
    Status s = BackgroundRewriteAof();
    if (!s.ok()) log::Warn("Automatic AOF rewrite failed to start: " + s.ToString());
  }
}

Status Persistence::Shutdown(bool save, bool nosave) {
  for (pid_t* child : {&save_child_, &rewrite_child_}) {
    if (*child > 0) ::waitpid(*child, nullptr, 0);
  }
  if (rewrite_child_ > 0 && aof_) aof_->AbortRewrite();
  save_child_ = rewrite_child_ = -1;
  Status result;
  if (aof_) result = aof_->writer().SyncNow();
  if (!shut_down_ && (save || (!save_points_.empty() && !nosave))) {
    Status s = Save();
    if (result.ok()) result = s;
  }
  // A failed save leaves the server running (SHUTDOWN replies an error), so
  // only a successful one counts as done.
  shut_down_ = result.ok();
  return result;
}

std::string Persistence::InfoSection() const {
  persistence::PersistenceInfo info;
  const Stats& st = engine_.stats();
  info.changes_since_last_save =
      static_cast<uint64_t>(std::max<int64_t>(0, st.dirty - dirty_at_last_save_));
  info.bgsave_in_progress = save_child_ > 0;
  info.last_save_time = last_save_s_;
  info.last_bgsave_ok = last_bgsave_ok_;
  info.last_bgsave_time_sec = last_bgsave_time_sec_;
  info.current_bgsave_time_sec =
      save_child_ > 0 ? (MonotonicMs() - save_child_start_ms_) / 1000 : -1;
  info.saves = saves_;
  info.aof_enabled = aof_ != nullptr;
  info.aof_rewrite_in_progress = rewrite_child_ > 0;
  info.aof_rewrite_scheduled = rewrite_scheduled_;
  info.aof_last_rewrite_time_sec = last_rewrite_time_sec_;
  info.aof_current_rewrite_time_sec =
      rewrite_child_ > 0 ? (MonotonicMs() - rewrite_child_start_ms_) / 1000 : -1;
  info.aof_last_bgrewrite_ok = last_rewrite_ok_;
  info.aof_rewrites = rewrites_;
  // Read from the running child's /proc entry (~1 ms per GiB it maps).
  for (pid_t child : {save_child_, rewrite_child_}) {
    if (child > 0) info.current_cow_size += cow::PrivateDirtyBytes(child).value_or(0);
  }
  info.rdb_last_cow_size = rdb_last_cow_size_;
  info.aof_last_cow_size = aof_last_cow_size_;
  if (aof_) {
    const auto ws = aof_->writer().stats();
    info.aof_last_write_ok = ws.ok;
    info.aof_current_size = aof_->current_size();
    info.aof_base_size = aof_->base_size();
    info.aof_buffer_length = ws.buffer_length;
    info.aof_fsyncs = ws.fsyncs;
  }
  std::string out = persistence::FormatInfoPersistence(info);
  // ragkv extra: saved VECTOR indexes (of a snapshot or a full sync) that
  // loading adopted, and those it rebuilt instead.
  const search::IndexManager::SavedVectorStats saved = engine_.search().saved_vector_stats();
  out += "search_saved_vector_fields_adopted:" + std::to_string(saved.adopted) + "\r\n";
  out += "search_saved_vector_fields_rejected:" + std::to_string(saved.rejected) + "\r\n";
  return out;
}

}  // namespace ragkv::server
