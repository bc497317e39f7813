// Snapshots: a versioned, checksummed point-in-time image of every database
// (docs/formats/snapshot.md). Used for SAVE/BGSAVE (`dump.rks`) and as the
// base file of a rewritten AOF.
//
// The store is not a dependency: the server walks its keyspace and hands
// SnapshotEntry values to SnapshotWriter::Add one at a time (streaming, no
// whole-database copy), and loading calls a SnapshotVisitor per entry.
//
// Thread safety: a SnapshotWriter is used by one thread at a time (the thread
// that serializes, e.g. a BGSAVE thread or forked child). ReadSnapshot is
// reentrant.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "persistence/file_system.h"

namespace ragkv::persistence {

// One key and its value. Exactly one of value / fields / members is used,
// according to kind. Values are numbered as they appear on disk.
struct SnapshotEntry {
  enum class Kind : uint8_t { kString = 1, kHash = 2, kZSet = 3 };
  int db = 0;
  std::string key;
  int64_t expire_at_ms = -1;  // absolute Unix ms; -1 = no expiry
  Kind kind = Kind::kString;
  std::string value;                                        // kString
  std::vector<std::pair<std::string, std::string>> fields;  // kHash
  std::vector<std::pair<std::string, double>> members;      // kZSet
};

// Receives the contents of a snapshot while it is read. A non-OK return stops
// reading and is returned by ReadSnapshot.
class SnapshotVisitor {
 public:
  virtual ~SnapshotVisitor() = default;
  virtual Status OnEntry(SnapshotEntry& entry) = 0;  // the callee may move from it
  // An opaque section, e.g. "vector-index:<name>". Default: ignored.
  virtual Status OnSection(std::string_view name, std::string_view blob);
  // Metadata such as "ctime-ms". Default: ignored.
  virtual Status OnAux(std::string_view name, std::string_view value);
};

class SnapshotWriter {
 public:
  // Starts writing `path` via `path + ".tmp"`. kIOError/kResourceExhausted if
  // the temp file cannot be created. `fs` must outlive the writer.
  static Result<std::unique_ptr<SnapshotWriter>> Create(FileSystem& fs, const std::string& path);

  // Abandons an unfinished snapshot: removes the temp file; `path` is untouched.
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Adds one entry. REQUIRES: entries come in non-decreasing db order.
  // kInvalidArgument for a negative or decreasing db or a NaN score; I/O
  // errors as Create. After an error the writer is unusable (Finish fails).
  Status Add(const SnapshotEntry& entry);
  Status AddAux(std::string_view name, std::string_view value);
  Status AddSection(std::string_view name, std::string_view blob);
  // A section streamed in pieces, for blobs too large to build in memory (a
  // saved vector index): BeginSection announces the blob's exact size,
  // AppendSection delivers it. Any other call before all `size` bytes have
  // arrived, or an AppendSection past them, fails with kInternal (and the
  // writer becomes unusable).
  Status BeginSection(std::string_view name, uint64_t size);
  Status AppendSection(std::string_view chunk);

  // Writes the footer, fsyncs, closes, renames over `path` and fsyncs the
  // directory. On error `path` keeps its previous content.
  Status Finish();

  uint64_t entries() const { return entries_; }
  uint64_t bytes() const { return bytes_; }  // written so far, including the header

 private:
  SnapshotWriter(FileSystem& fs, std::string path, std::unique_ptr<WritableFile> file);
  Status Emit(std::string_view data);  // checksums, buffers, writes when the buffer is full
  Status FlushBuffer();
  Status CheckNoOpenSection();

  FileSystem& fs_;
  std::string path_;
  std::string tmp_path_;
  std::unique_ptr<WritableFile> file_;
  std::string buffer_;
  uint32_t crc_ = 0;
  uint64_t entries_ = 0;
  uint64_t bytes_ = 0;
  int db_ = 0;
  bool finished_ = false;
  uint64_t section_left_ = 0;  // bytes an open streamed section still expects
  Status error_;
};

struct SnapshotReadStats {
  uint64_t entries = 0;
  std::map<int, uint64_t> entries_per_db;
  uint64_t sections = 0;
  uint64_t file_size = 0;
  // Offset of the item where reading failed; set only when it failed on damage.
  int64_t bad_offset = -1;
};

// Streams `path` into `visitor`. kCorruption (message: file, offset, reason)
// on damage: bad header, unknown opcode, truncation, checksum mismatch.
// Entries are delivered while reading, before the checksum at the end is
// verified, so on any error the caller must discard everything it received.
// `stats`, if non-null, is filled even on failure.
Status ReadSnapshot(FileSystem& fs, const std::string& path, SnapshotVisitor& visitor,
                    SnapshotReadStats* stats = nullptr);

}  // namespace ragkv::persistence
