// Persistence: the server's side of durability. Connects an Engine to the
// append-only log and snapshots of ragkv_persistence (docs/persistence.md).
//
//   Engine engine(std::move(config));
//   RAGKV_ASSIGN_OR_RETURN(auto persistence, Persistence::Start(engine));  // loads data
//   ... serve ...
//
// What it wires in:
//  * every applied write (Engine's write observer) is appended to the AOF;
//  * BeforeReply() is the group-commit barrier the network layer calls before
//    sending replies: one write (+ fsync under appendfsync always) covers all
//    commands of an event-loop iteration;
//  * WriteRefusal() is checked before write commands: -MISCONF while the AOF
//    cannot be written or the last background save failed;
//  * SAVE, BGSAVE (fork), BGREWRITEAOF (fork), LASTSAVE, save points and
//    automatic rewrites (Cron), INFO persistence.
//
// Config (Redis names): dir, dbfilename, save, appendonly, appendfsync,
// appendfilename, appenddirname, aof-load-truncated,
// auto-aof-rewrite-percentage, auto-aof-rewrite-min-size,
// stop-writes-on-bgsave-error; and ragkv's vector-index-snapshot (yes: a
// snapshot also saves each VECTOR field's index, which loading adopts instead
// of rebuilding). Read at Start; CONFIG SET of the ones
// ApplyConfig lists takes effect at once, the others at the next start.
//
// Thread safety: the event-loop thread only (like Engine).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/cow_size.h"
#include "common/result.h"
#include "persistence/aof.h"
#include "persistence/file_system.h"
#include "persistence/policy.h"
#include "search/index_manager.h"
#include "server/engine.h"
#include "server/extensions.h"

namespace ragkv::server {

// What a snapshot needs of the FT indexes, captured on the event loop (under
// IndexManager's lock) before fork(), so the child takes no locks of it.
struct SearchIndexesToSave {
  std::vector<search::IndexDefinition> definitions;
  // Per definition: the index whose VECTOR fields are saved too, or null
  // (vector-index-snapshot no, or the index is gone).
  std::vector<std::shared_ptr<const search::SearchIndex>> indexes;
};

class Persistence {
 public:
  // Locks the data directory (when appendonly is yes, save points are set or
  // a snapshot is there to load; otherwise at the first write to it), loads
  // the AOF (appendonly yes) or else the snapshot into the engine's keyspace,
  // then installs itself into `engine` (engine.persistence). Errors: kCorruption (damaged files;
  // the message names the file, offset and repair command), kFailedPrecondition (directory locked
  // by another process; torn AOF with aof-load-truncated no), I/O errors. `engine` and `fs` must
  // outlive the result.
  static Result<std::unique_ptr<Persistence>> Start(
      Engine& engine, persistence::FileSystem& fs = *persistence::DefaultFileSystem());
  // Detaches from the engine, waits for a running child, fsyncs the AOF.
  ~Persistence();
  Persistence(const Persistence&) = delete;
  Persistence& operator=(const Persistence&) = delete;

  // Group commit: makes every write applied so far as durable as appendfsync
  // promises. Non-OK means those writes must not be acknowledged.
  Status BeforeReply();
  // Empty, or the full error text ("MISCONF ...") for a write command.
  std::string WriteRefusal() const;

  // SAVE: writes the snapshot in this thread. kFailedPrecondition if a
  // background save is running.
  Status Save();
  // BGSAVE: forks a child that writes the snapshot.
  Status BackgroundSave();
  // BGREWRITEAOF: switches to a new incr file and forks a child that writes
  // the new base. kFailedPrecondition without appendonly or when busy.
  Status BackgroundRewriteAof();
  // Reaps children, applies save points and the auto-rewrite policy. Called
  // from Engine::Cron.
  void Cron();
  // SHUTDOWN: waits for children, fsyncs the AOF, saves if save points are
  // configured (unless `nosave`) or `save`. Only the first call saves; later
  // calls (the serve loop's exit after a SHUTDOWN command) only fsync.
  Status Shutdown(bool save, bool nosave);

  // Called by CONFIG SET after `name` changed: applies save, appendfsync,
  // appendonly (yes: starts a log whose base is written by a child; no:
  // stops it), stop-writes-on-bgsave-error, auto-aof-rewrite-*. On an invalid
  // value the previous one is put back and kInvalidArgument returned. Other
  // names (dir, appendfilename, ...) take effect at the next start.
  Status ApplyConfig(std::string_view name);

  // For the embedded engine (rag/embedded_engine.h), where the caller is the
  // engine's only user and no event loop runs:
  //  * SyncAof: fsyncs every write applied so far, whatever appendfsync says
  //    (a checkpoint). OK without an AOF.
  //  * RewriteAof: BGREWRITEAOF's work in the calling thread, without fork:
  //    the current keyspace and index definitions become the new base, so the
  //    next start loads one snapshot instead of replaying every command.
  //    Durable when it returns. kFailedPrecondition without appendonly or
  //    while a background save or rewrite runs.
  Status SyncAof();
  Status RewriteAof();
  // aof_current_size / aof_base_size of INFO persistence (0 without an AOF).
  uint64_t aof_current_size() const { return aof_ ? aof_->current_size() : 0; }
  uint64_t aof_base_size() const { return aof_ ? aof_->base_size() : 0; }

  int64_t last_save_time() const { return last_save_s_; }         // LASTSAVE
  int64_t latest_fork_usec() const { return latest_fork_usec_; }  // INFO stats latest_fork_usec
  bool aof_enabled() const { return aof_ != nullptr; }
  // The replication history saved in the snapshot the data set was loaded
  // from at Start (replid empty when there was none, or when the data came
  // from the AOF, whose tail a snapshot's offset does not cover).
  const ReplicationHistory& loaded_history() const { return loaded_history_; }
  // A BGSAVE or BGREWRITEAOF child is running (other forks wait for it).
  bool child_running() const { return save_child_ > 0 || rewrite_child_ > 0; }
  // A full-sync child (src/replication) reported its copy-on-write size:
  // rdb_last_cow_size, as Redis counts every RDB child.
  void RecordSnapshotChildCow(uint64_t bytes) { rdb_last_cow_size_ = bytes; }
  uint64_t rdb_last_cow_size() const { return rdb_last_cow_size_; }
  uint64_t aof_last_cow_size() const { return aof_last_cow_size_; }
  // The "# Persistence" section of INFO, CRLF lines.
  std::string InfoSection() const;

 private:
  explicit Persistence(Engine& engine, persistence::FileSystem& fs);
  Status Load();
  void Attach();
  // Takes the data-directory lock if not held yet (kFailedPrecondition if
  // another process or engine holds it).
  Status EnsureLocked();
  Result<persistence::AofOptions> AofOptionsFromConfig() const;
  Status StartAof();
  void StopAof();

  // vector-index-snapshot is yes: snapshots save the VECTOR fields' indexes.
  bool SaveVectorIndexes() const;
  SearchIndexesToSave CaptureSearch() const;

  static constexpr const char* kRuntimeOptions[] = {"vector-index-snapshot",
                                                    "save",
                                                    "appendfsync",
                                                    "appendonly",
                                                    "stop-writes-on-bgsave-error",
                                                    "auto-aof-rewrite-percentage",
                                                    "auto-aof-rewrite-min-size"};
  std::string SnapshotPath() const;
  // What SAVE/BGSAVE record in the snapshot (none without replication).
  ReplicationHistory CurrentHistory() const;
  void ReapChildren();

  Engine& engine_;
  persistence::FileSystem& fs_;
  std::unique_ptr<persistence::FileLock> lock_;
  std::unique_ptr<persistence::AppendOnlyLog> aof_;
  uint64_t last_offset_ = 0;
  std::vector<persistence::SavePoint> save_points_;
  persistence::AutoRewritePolicy auto_rewrite_;
  bool stop_writes_on_bgsave_error_ = true;

  int64_t last_save_s_ = 0;
  int64_t last_save_attempt_s_ = 0;
  int64_t dirty_at_last_save_ = 0;
  int64_t dirty_at_bgsave_start_ = 0;
  bool last_bgsave_ok_ = true;
  int64_t last_bgsave_time_sec_ = -1;
  uint64_t saves_ = 0;
  pid_t save_child_ = -1;
  int64_t save_child_start_ms_ = 0;

  pid_t rewrite_child_ = -1;
  int64_t rewrite_child_start_ms_ = 0;
  bool last_rewrite_ok_ = true;
  int64_t last_rewrite_time_sec_ = -1;
  uint64_t rewrites_ = 0;
  bool rewrite_scheduled_ = false;
  int64_t latest_fork_usec_ = 0;
  // The running children's copy-on-write reports, and the last ones received.
  cow::Channel save_cow_;
  cow::Channel rewrite_cow_;
  uint64_t rdb_last_cow_size_ = 0;
  uint64_t aof_last_cow_size_ = 0;
  bool shut_down_ = false;
  ReplicationHistory loaded_history_;
  bool aof_starting_ = false;  // appendonly turned on; the log's base is being written
  std::map<std::string, std::string> applied_;  // runtime options' values in effect
  // Cleared on destruction; the write observer (which the engine keeps)
  // checks it, since observers cannot be removed.
  std::shared_ptr<bool> alive_;
};

// Writes every live key of `keyspace` (skipping keys expired at `now_ms`)
// through `writer`, db by db. Used by SAVE, BGSAVE and BGREWRITEAOF.
Status WriteKeyspace(store::Keyspace& keyspace, int64_t now_ms,
                     persistence::SnapshotWriter& writer);

// Search index definitions as snapshot sections named
// "search-index:<name>" (docs/formats/snapshot.md). Written after every key.
inline constexpr std::string_view kSearchIndexSection = "search-index:";
Status WriteSearchIndexes(const std::vector<search::IndexDefinition>& indexes,
                          persistence::SnapshotWriter& writer);

// Each VECTOR field's saved index (search/vector_snapshot.h), as a section
// "vector-index:<index>:<field>" written just before its index's
// "search-index:" section, so that replaying the definition finds it.
inline constexpr std::string_view kVectorIndexSection = "vector-index:";

SearchIndexesToSave CaptureSearchIndexes(const search::IndexManager& manager, bool with_vectors);
// Writes the sections above. An index that cannot be read without blocking
// (SearchIndex::SaveVectorFields's kUnavailable) is saved without its vector
// sections, and loading rebuilds those.
Status WriteSearchIndexes(const SearchIndexesToSave& indexes, persistence::SnapshotWriter& writer);
// Loading the sections above, shared by the snapshot loader and a follower's
// full-sync loader: a "vector-index:" section is decoded and offered to
// `manager` (a damaged one is counted as rejected and logged, never an
// error); a "search-index:" section's FT.CREATE/FT.ALTER commands go through
// `run` (db, argv), whose error is returned; other names are ignored. Offers
// left after a definition ran matched nothing and are discarded.
using SearchCommandRunner = std::function<Status(int db, std::vector<std::string>& argv)>;
Status LoadSearchSection(search::IndexManager& manager, std::string_view name,
                         std::string_view blob, const SearchCommandRunner& run);
// vector-index-snapshot is not "no": snapshots and full syncs carry the
// VECTOR fields' saved indexes.
bool VectorIndexSnapshotEnabled(const Config& config);
std::string EncodeSearchIndexSection(const search::IndexDefinition& def);
// kCorruption if `blob` is not a well-formed section `name`.
Result<search::IndexDefinition> DecodeSearchIndexSection(std::string_view name,
                                                         std::string_view blob);

}  // namespace ragkv::server
