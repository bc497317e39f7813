// The append-only log: AofWriter (group commit, fsync policies, sticky
// errors), the multi-part manifest, loading with torn-tail repair, and
// rewrite (BGREWRITEAOF). Format and promises: docs/formats/aof.md.
//
// How the server uses it (one event-loop iteration):
//   for each write command applied:  last = log->Append(db, argv);
//   before sending the replies:      Status s = log->WaitDurable(last);
//                                    if (!s.ok()) reply -MISCONF instead of OK
//   before executing a write:        if (!log->writer().healthy()) reject with -MISCONF
// One WaitDurable per iteration gives Redis's batching; several threads
// calling WaitDurable at once share one write + fsync (group commit).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "persistence/aof_format.h"
#include "persistence/file_system.h"
#include "persistence/snapshot.h"

namespace ragkv::persistence {

enum class FsyncPolicy : uint8_t { kAlways, kEverysec, kNo };
// "always" | "everysec" | "no" (case-insensitive); kInvalidArgument otherwise.
Result<FsyncPolicy> ParseFsyncPolicy(std::string_view name);
std::string_view FsyncPolicyName(FsyncPolicy policy);

struct AofWriterStats {
  uint64_t appended_bytes = 0;  // logical offset of the last Append
  uint64_t written_bytes = 0;   // logical offset written to the OS
  uint64_t synced_bytes = 0;    // logical offset known durable
  uint64_t writes = 0;          // successful write batches
  uint64_t fsyncs = 0;          // successful fsyncs
  uint64_t buffer_length = 0;   // bytes appended, not yet written (aof_buffer_length)
  uint64_t file_size = 0;       // size of the current incr file
  bool ok = true;               // aof_last_write_status
  std::string last_error;
};

// Writes records to one open file at a time.
//
// Thread safety: every method may be called from any thread. Append never
// does I/O; WaitDurable/SyncNow perform it, one caller at a time (the
// "leader"), while later callers wait and are carried by the next batch.
class AofWriter {
 public:
  // Takes `file`, whose current content must be a file header followed by
  // whole records (its size is taken as durable). Replay of that file must
  // end in db `current_db`. Starts the background thread (everysec fsync;
  // error retries under every policy).
  AofWriter(std::unique_ptr<WritableFile> file, FsyncPolicy policy, int current_db = 0);
  // Stops the thread, then writes and fsyncs what is pending (best effort;
  // call SyncNow first to see the error).
  ~AofWriter();
  AofWriter(const AofWriter&) = delete;
  AofWriter& operator=(const AofWriter&) = delete;

  // Buffers one command for database `db` (a SELECT record is added first
  // when db changes). Returns the logical end offset of the record, to pass
  // to WaitDurable. Never fails: errors surface in WaitDurable/status().
  uint64_t Append(int db, std::span<const std::string_view> argv);
  uint64_t Append(int db, std::initializer_list<std::string_view> argv) {
    return Append(db, std::span<const std::string_view>(argv.begin(), argv.size()));
  }

  // Returns once the bytes up to `offset` are as durable as the policy
  // promises: written and fsynced under kAlways, written to the OS otherwise.
  // Returns the sticky error if the write or fsync failed (the records stay
  // buffered and are retried; they are not acknowledged).
  Status WaitDurable(uint64_t offset);
  // Writes and fsyncs everything appended so far, whatever the policy (for
  // shutdown, SAVE-like barriers, tests). Clears the error when it succeeds.
  Status SyncNow();
  // Makes everything so far durable in the current file, then continues in
  // `next` (which must hold just a file header). Replay of `next` starts in
  // db 0. `before_switch`, if set, runs after the old file is durable and
  // before the switch, with appends blocked (used to publish the manifest).
  // On any error nothing is switched and `next` is dropped.
  Status SwitchFile(std::unique_ptr<WritableFile> next,
                    const std::function<Status()>& before_switch = {});

  // OK, or the last write/fsync error until a retry succeeds.
  Status status() const;
  bool healthy() const { return status().ok(); }
  FsyncPolicy policy() const;
  // CONFIG SET appendfsync: applies to commits that start after the call.
  void set_policy(FsyncPolicy policy);
  AofWriterStats stats() const;

  // How often the background thread fsyncs (everysec) and retries errors.
  static constexpr std::chrono::milliseconds kBackgroundPeriod{1000};

 private:
  // Performs one I/O round as leader. REQUIRES: lock held, !io_busy_.
  // Releases the lock during I/O; holds it again on return.
  void RunIo(std::unique_lock<std::mutex>& lock, bool sync);
  uint64_t DurableOffset() const;  // REQUIRES: mu_ held
  // everysec: fsyncs what is written, concurrently with later writes.
  // REQUIRES: lock held, !io_busy_, !sync_busy_, !needs_repair_.
  void BackgroundSync(std::unique_lock<std::mutex>& lock);
  void BackgroundLoop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_.
  FsyncPolicy policy_;
  std::string pending_;  // appended, not yet handed to the leader
  int current_db_;
  uint64_t appended_ = 0;
  uint64_t written_ = 0;
  uint64_t synced_ = 0;
  uint64_t writes_ = 0;
  uint64_t fsyncs_ = 0;
  bool io_busy_ = false;    // a leader is writing
  bool sync_busy_ = false;  // the background thread is fsyncing
  bool stop_ = false;
  Status error_;
  // Guarded by mu_; the file itself is written by the leader and fsynced by
  // the leader or the background thread, outside the mutex.
  std::shared_ptr<WritableFile> file_;
  uint64_t file_good_size_ = 0;  // the file's bytes before this offset never need rewriting
  std::string retained_;         // bytes after file_good_size_ (rewritten after an error)
  bool needs_repair_ = false;
  std::thread background_;
};

// --- Manifest ---

struct AofFileInfo {
  enum class Type : char { kBase = 'b', kIncr = 'i' };
  std::string name;
  uint64_t seq = 0;
  Type type = Type::kIncr;
};

struct AofManifest {
  std::vector<AofFileInfo> files;  // replay order: optional base, then incrs

  // Parses the text form; kCorruption naming the line on any error.
  static Result<AofManifest> Parse(std::string_view text);
  std::string Serialize() const;
  uint64_t max_seq() const;
};

// --- The log directory ---

struct AofOptions {
  std::string dir = ".";                    // `dir`
  std::string dirname = "appendonlydir";    // `appenddirname`
  std::string filename = "appendonly.aof";  // `appendfilename`
  FsyncPolicy fsync = FsyncPolicy::kEverysec;
  bool load_truncated = true;  // `aof-load-truncated`
};

// Receives the log's contents at load time: the base snapshot's entries via
// SnapshotVisitor, then every command. SELECT records are interpreted (not
// delivered); MULTI/EXEC are delivered as recorded, and an unfinished MULTI
// at the end of the log is dropped (and truncated away).
class AofVisitor : public SnapshotVisitor {
 public:
  virtual Status OnCommand(int db, std::vector<std::string>& argv) = 0;
};

struct AofLoadStats {
  uint64_t files = 0;
  uint64_t base_entries = 0;
  uint64_t commands = 0;
  uint64_t truncated_bytes = 0;  // torn tail dropped from the last incr file
  uint64_t base_size = 0;
  uint64_t total_size = 0;  // base + incrs after repair
};

// A multi-part log directory: <dir>/<dirname>/ with its manifest, optional
// base snapshot and incr files (docs/formats/aof.md).
//
// Thread safety: Append, WaitDurable and the size accessors may be called from
// any thread; the rewrite steps must not overlap each other (one rewrite at a
// time, driven by one thread), though WriteBase may run on a different thread
// from the one appending.
class AppendOnlyLog {
 public:
  // Opens (creating if missing) the log in <dir>/<dirname>, replays it into
  // `visitor`, repairs a torn tail of the last incr file (if load_truncated),
  // deletes files the manifest does not name, and starts appending.
  // kCorruption with the file, offset and the repair command if the log is
  // damaged; kFailedPrecondition for a torn tail with load_truncated = false.
  // `fs` must outlive the log. `stats` may be null.
  static Result<std::unique_ptr<AppendOnlyLog>> Open(FileSystem& fs, const AofOptions& options,
                                                     AofVisitor& visitor, AofLoadStats* stats);
  ~AppendOnlyLog();

  uint64_t Append(int db, std::span<const std::string_view> argv) {
    return writer_->Append(db, argv);
  }
  uint64_t Append(int db, std::initializer_list<std::string_view> argv) {
    return writer_->Append(db, argv);
  }
  Status WaitDurable(uint64_t offset) { return writer_->WaitDurable(offset); }
  AofWriter& writer() { return *writer_; }

  // --- Rewrite (BGREWRITEAOF), three steps; see the format doc. ---
  // Step 1: switches appends to a new incr file (exact cut). The caller must
  // capture its point-in-time view of the keyspace at the same moment (e.g.
  // call this and start the snapshot iteration without applying writes in
  // between). kFailedPrecondition if a rewrite is already in progress.
  Status BeginRewrite();
  // Step 2: writes the new base by calling `fill` with a SnapshotWriter (may
  // run on another thread; thread-safe with Append/WaitDurable).
  Status WriteBase(const std::function<Status(SnapshotWriter&)>& fill);
  // Starts appending to a fresh log that replaces whatever is in the
  // directory once its base is committed: CONFIG SET appendonly yes at run
  // time. Nothing is loaded. Returns the log in the state after BeginRewrite:
  // the caller writes the base (WriteBase, or a child + AdoptBase) and calls
  // CommitRewrite; until then the directory's previous manifest stays in
  // force.
  static Result<std::unique_ptr<AppendOnlyLog>> StartFresh(FileSystem& fs,
                                                           const AofOptions& options);
  // Step 2, done elsewhere: a forked child (BGREWRITEAOF) writes the base to
  // pending_base_path() with a SnapshotWriter; the parent then calls
  // AdoptBase, which checks the file exists. kFailedPrecondition otherwise.
  std::string pending_base_path() const;
  Status AdoptBase();
  // Step 3: publishes the new manifest and deletes the old files.
  Status CommitRewrite();
  // Gives up a rewrite after step 1 or 2: the log stays valid as is.
  void AbortRewrite();
  // All three steps in the calling thread.
  Status Rewrite(const std::function<Status(SnapshotWriter&)>& fill);
  bool rewrite_in_progress() const;

  // Sizes for INFO (aof_current_size, aof_base_size) and the auto-rewrite policy.
  uint64_t current_size() const;
  uint64_t base_size() const;
  uint64_t size_at_last_rewrite() const;
  std::string manifest_path() const;
  std::string log_dir() const { return log_dir_; }

 private:
  AppendOnlyLog(FileSystem& fs, AofOptions options);
  std::string FileName(uint64_t seq, AofFileInfo::Type type) const;
  Status PublishManifest(const AofManifest& manifest);
  Result<std::unique_ptr<WritableFile>> CreateIncrFile(const std::string& name);

  FileSystem& fs_;
  AofOptions options_;
  std::string log_dir_;
  std::unique_ptr<AofWriter> writer_;
  mutable std::mutex mu_;  // guards the fields below
  AofManifest manifest_;
  uint64_t base_size_ = 0;
  uint64_t closed_incr_size_ = 0;  // sizes of incr files no longer appended to
  uint64_t size_at_last_rewrite_ = 0;
  enum class RewriteState : uint8_t {
    kIdle,
    kSwitched,
    kBaseWritten
  } rewrite_ = RewriteState::kIdle;
  AofManifest rewrite_manifest_;  // the manifest to publish at commit
  std::string new_base_;
};

// Locks data directory `dir` (file `<dir>/ragkv.lock`) so that a server and
// an embedded engine never use it at once. Hold the result for the process's
// lifetime. kFailedPrecondition if another holder exists: "data directory
// DIR is in use by another ragkv process (pid N)" (the pid as the holder
// wrote it into the lock file), or "... is already open in this process".
Result<std::unique_ptr<FileLock>> LockDataDir(FileSystem& fs, const std::string& dir);

// Scans one incr file or every file of a manifest without loading anything.
// Used by `ragkv check-aof`.
struct AofCheckReport {
  std::string file;
  AofScan scan;
};
Result<std::vector<AofCheckReport>> CheckAof(FileSystem& fs, const std::string& path);

}  // namespace ragkv::persistence
