// FileSystem: the seam between persistence and the operating system (leveldb's
// Env). Everything the AOF and snapshot code does to disk goes through it, so
// tests can swap in FaultInjectingFileSystem (fault_injecting_file_system.h)
// and simulate power loss, torn writes, ENOSPC and EIO deterministically.
//
// Paths are plain strings; "dir/name" is joined by the caller (JoinPath).
// All methods return kIOError for OS failures (message = path + strerror),
// kResourceExhausted for ENOSPC/EDQUOT, kNotFound for a missing path.
//
// Thread safety: a FileSystem may be used from any number of threads. A
// WritableFile allows one Append/Truncate at a time, but Sync() may run
// concurrently with Append() from another thread (the everysec fsync thread
// does this; POSIX allows it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace ragkv::persistence {

// A file written from its current end. Not buffered: every Append reaches
// the OS (one write(2) loop), so a process crash after Append returns loses
// nothing; only Sync makes the bytes survive a power loss.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends `data`. On error some prefix of `data` may have been written;
  // size() tells how much (callers Truncate back to a known length).
  virtual Status Append(std::string_view data) = 0;
  // Makes every byte appended so far durable (fdatasync).
  virtual Status Sync() = 0;
  // Cuts the file to `size` bytes (ftruncate); later appends go after it.
  virtual Status Truncate(uint64_t size) = 0;
  // Closes the file; further calls are errors. Does not sync.
  virtual Status Close() = 0;
  // Current length in bytes (what the OS holds, synced or not).
  virtual uint64_t size() const = 0;
};

// A file read from start to end.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  // Reads up to `n` bytes into `scratch`; returns the count, 0 at end of file.
  virtual Result<size_t> Read(char* scratch, size_t n) = 0;
};

// Held while a process owns a data directory; released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // Creates `path` empty (truncating an existing file).
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path) = 0;
  // Opens `path` for appending at its end, creating it if missing.
  virtual Result<std::unique_ptr<WritableFile>> NewAppendableFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;

  // Returns true if `path` exists (file or directory).
  virtual bool Exists(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, without "." and "..", unsorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates `dir` if missing (one level); OK if it exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // Atomically replaces `to` with `from` (rename(2)). Durable only after
  // SyncDir on the directory.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Truncate(const std::string& path, uint64_t size) = 0;
  // fsyncs a directory, making creations, renames and removals in it durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  // Takes an exclusive lock on `path` (created if missing). Returns
  // kFailedPrecondition if another process (or another lock in this one)
  // holds it.
  virtual Result<std::unique_ptr<FileLock>> LockFile(const std::string& path) = 0;
};

// The process-wide POSIX implementation. Never null; never destroyed.
FileSystem* DefaultFileSystem();

// Reads the whole of `path` into a string.
Result<std::string> ReadFileToString(FileSystem& fs, const std::string& path);
// Writes `data` to `path` atomically and durably: temp file, fsync, rename,
// directory fsync. A crash leaves either the old content or the new one.
Status WriteFileAtomically(FileSystem& fs, const std::string& path, std::string_view data);

// "dir/name"; returns `name` when `dir` is empty.
std::string JoinPath(std::string_view dir, std::string_view name);
// The directory part of `path` ("." when there is none).
std::string DirName(std::string_view path);
// The last component of `path`.
std::string BaseName(std::string_view path);

}  // namespace ragkv::persistence
