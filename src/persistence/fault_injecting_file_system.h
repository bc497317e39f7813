// FaultInjectingFileSystem: an in-memory FileSystem for tests that knows which
// bytes and which directory entries a real disk would still hold after a power
// cut (leveldb's fault_injection_test Env, Jepsen's lazyfs).
//
// Model, per file: `data` is the page cache (what reads see), `durable` is the
// platter. Sync copies the dirty range to `durable`. A failed Sync behaves as
// Linux does ("fsyncgate"): the dirty pages are marked clean without reaching
// the disk, so a later successful Sync does NOT write them; only rewriting the
// bytes does. Per directory, entries (creations, renames, removals) become
// durable on SyncDir. Directories themselves are durable when created.
//
// PowerLoss() rolls the whole tree back to its durable state (optionally
// keeping a torn or zero-filled piece of the unsynced tail) and invalidates
// every open handle. Faults can be armed: a capacity (ENOSPC with a short
// write), failing Appends/Syncs (EIO), and a crash point after N mutating
// operations, after which every mutation fails as if the process had died.
//
// Thread safety: all methods, and the files it hands out, may be used from any
// thread (one internal mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>

#include "persistence/file_system.h"

namespace ragkv::persistence {

class FaultInjectingFileSystem : public FileSystem {
 public:
  enum class PowerLossMode {
    kDropUnsynced,  // every unsynced byte is lost
    kTearUnsynced,  // a random prefix of each file's unsynced tail survives
    kZeroUnsynced,  // the file keeps its length but the unsynced tail reads as zeros
  };

  explicit FaultInjectingFileSystem(uint64_t seed = 1);
  ~FaultInjectingFileSystem() override;

  // --- FileSystem ---
  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) override;
  Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) override;
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  bool Exists(const std::string& path) override;
  Result<uint64_t> FileSize(const std::string& path) override;
  Result<std::vector<std::string>> ListDir(const std::string& dir) override;
  Status CreateDir(const std::string& dir) override;
  Status Remove(const std::string& path) override;
  Status Rename(const std::string& from, const std::string& to) override;
  Status Truncate(const std::string& path, uint64_t size) override;
  Status SyncDir(const std::string& dir) override;
  Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) override;

  // --- Faults ---
  // Simulates a power cut (see the file comment). Clears the crash point and
  // armed errors and releases all locks.
  void PowerLoss(PowerLossMode mode = PowerLossMode::kDropUnsynced);
  // Total bytes all files may hold; an Append beyond it writes what fits and
  // fails with kResourceExhausted (ENOSPC). UINT64_MAX = unlimited.
  void SetCapacity(uint64_t bytes);
  // The next `n` Syncs (file or directory) fail with kIOError (EIO).
  void FailNextSyncs(int n);
  // The next `n` Appends fail with kIOError before writing anything.
  void FailNextAppends(int n);
  // After `n` more mutating operations (create, append, sync, truncate,
  // rename, remove, sync dir), every mutation fails with kIOError "crashed".
  // A negative value disarms it.
  void CrashAfterOps(int64_t n);
  // Number of mutating operations performed so far (to enumerate crash points).
  uint64_t mutation_count() const;

  // --- Inspection and damage, for tests ---
  // Page-cache contents; empty if missing.
  std::string Contents(const std::string& path) const;
  // Replaces `path` with `data`, durably (as if written and synced long ago).
  void SetContents(const std::string& path, const std::string& data);
  // Flips bit `bit` (0-7) of byte `offset` of `path`, in cache and on disk.
  void FlipBit(const std::string& path, uint64_t offset, int bit);

 private:
  struct Node {
    std::string data;         // what the page cache holds
    std::string durable;      // what the disk holds
    uint64_t dirty_from = 0;  // data[dirty_from, end) has not reached the disk
  };
  class File;
  class Reader;
  class Lock;
  friend class File;
  friend class Lock;

  // REQUIRES: mu_ held. Returns non-OK if the crash point has been reached;
  // otherwise counts one mutation.
  Status BeginMutation();
  Result<std::unique_ptr<WritableFile>> Open(const std::string& path, bool truncate);
  uint64_t UsedBytes() const;  // REQUIRES: mu_ held
  static void SyncNode(Node& node);

  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  std::map<std::string, std::shared_ptr<Node>> live_;     // current namespace
  std::map<std::string, std::shared_ptr<Node>> durable_;  // namespace as of the last SyncDir
  std::set<std::string> dirs_;
  std::set<std::string> locks_;
  uint64_t generation_ = 0;  // bumped by PowerLoss; stale handles fail
  uint64_t capacity_ = UINT64_MAX;
  int fail_syncs_ = 0;
  int fail_appends_ = 0;
  int64_t ops_until_crash_ = -1;
  uint64_t mutations_ = 0;
};

}  // namespace ragkv::persistence
