// The AOF record format (docs/formats/aof.md): framing, the RESP multibulk
// payload, and a streaming scanner that classifies how a file ends.
//
// Thread safety: free functions over caller-owned data; reentrant.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "persistence/file_system.h"

namespace ragkv::persistence {

inline constexpr std::string_view kAofMagic = "RAGKVAOF";
inline constexpr uint32_t kAofVersion = 1;
inline constexpr size_t kAofFileHeaderSize = 12;
inline constexpr size_t kAofRecordHeaderSize = 12;
// proto-max-bulk-len (512 MiB) plus room for the multibulk framing.
inline constexpr uint32_t kAofMaxPayload = (512u << 20) + (64u << 10);

// The 12-byte header every record file starts with.
std::string AofFileHeader();

// leveldb's CRC masking (see the format doc).
uint32_t MaskCrc(uint32_t crc);
uint32_t UnmaskCrc(uint32_t masked);

// Appends argv as a RESP multibulk ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") to *out.
void EncodeMultibulk(std::span<const std::string_view> argv, std::string* out);
// Appends one framed record whose payload is the multibulk of argv.
// REQUIRES: the encoded payload is at most kAofMaxPayload bytes.
void AppendCommandRecord(std::span<const std::string_view> argv, std::string* out);
// Parses a payload that must be exactly one multibulk of bulk strings.
// kCorruption (with the reason) otherwise.
Result<std::vector<std::string>> DecodeMultibulk(std::string_view payload);

// How a record file ends.
enum class AofFileEnd : uint8_t {
  kClean,       // every byte belongs to a whole, valid record
  kTornTail,    // whole records, then an incomplete (or all-zero) tail
  kCorruption,  // a checksum or structure error with data after it
};

struct AofScan {
  uint64_t records = 0;      // valid records before the end
  uint64_t valid_bytes = 0;  // offset just past the last valid record (or the header)
  uint64_t file_size = 0;
  AofFileEnd end = AofFileEnd::kClean;
  std::string detail;  // why the scan stopped, for messages; empty when kClean
};

// Called for each valid record with its decoded argv (the callee may move
// from it) and the record's offset. A non-OK return stops the scan and is
// returned.
using AofRecordFn = std::function<Status(std::vector<std::string>& argv, uint64_t offset)>;

// Streams `path` (constant memory plus the largest record) and classifies its
// end. Returns a non-OK Status only for I/O errors or a callback error; damage
// is reported in AofScan. Payloads that fail DecodeMultibulk count as
// corruption (the callback is not called for them).
Result<AofScan> ScanAofFile(FileSystem& fs, const std::string& path, const AofRecordFn& on_record);

}  // namespace ragkv::persistence
