// AOF framing and scanning (docs/formats/aof.md).
//
// The scanner reads the file through a sliding buffer: it keeps only the
// bytes of the record being decoded, so a multi-GiB log loads in constant
// memory. Classification follows the doc's three rules; the subtle one is a
// bad header CRC, which is a torn tail only if every byte from there to the
// end of the file is zero (an extent the filesystem allocated but never
// wrote), so the scanner keeps reading to prove that before it decides.
#include "persistence/aof_format.h"

#include <charconv>
#include <cstring>

#include "common/crc32c.h"

namespace ragkv::persistence {
namespace {

constexpr uint32_t kMaskDelta = 0xa282ead8u;

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

void AppendDecimal(size_t v, std::string* out) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, res.ptr);
}

// Parses "<digits>\r\n" at payload[*pos]; advances *pos past it.
bool ParseLength(std::string_view payload, size_t* pos, uint64_t* out) {
  size_t end = payload.find("\r\n", *pos);
  if (end == std::string_view::npos || end == *pos || end - *pos > 19) return false;
  uint64_t v = 0;
  auto res = std::from_chars(payload.data() + *pos, payload.data() + end, v);
  if (res.ec != std::errc() || res.ptr != payload.data() + end) return false;
  *out = v;
  *pos = end + 2;
  return true;
}

bool AllZero(std::string_view s) {
  for (char c : s) {
    if (c != 0) return false;
  }
  return true;
}

}  // namespace

std::string AofFileHeader() {
  std::string h(kAofMagic);
  char v[4];
  PutU32(v, kAofVersion);
  h.append(v, 4);
  return h;
}

uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kMaskDelta; }

uint32_t UnmaskCrc(uint32_t masked) {
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

void EncodeMultibulk(std::span<const std::string_view> argv, std::string* out) {
  out->push_back('*');
  AppendDecimal(argv.size(), out);
  out->append("\r\n");
  for (std::string_view arg : argv) {
    out->push_back('$');
    AppendDecimal(arg.size(), out);
    out->append("\r\n");
    out->append(arg);
    out->append("\r\n");
  }
}

void AppendCommandRecord(std::span<const std::string_view> argv, std::string* out) {
  const size_t header_at = out->size();
  out->append(kAofRecordHeaderSize, '\0');
  EncodeMultibulk(argv, out);
  const size_t len = out->size() - header_at - kAofRecordHeaderSize;
  char* h = out->data() + header_at;
  PutU32(h, static_cast<uint32_t>(len));
  PutU32(h + 4, MaskCrc(crc32c::Value(h + kAofRecordHeaderSize, len)));
  PutU32(h + 8, MaskCrc(crc32c::Value(h, 8)));
}

Result<std::vector<std::string>> DecodeMultibulk(std::string_view payload) {
  size_t pos = 0;
  uint64_t count = 0;
  if (payload.empty() || payload[0] != '*') return Status::Corruption("payload is not a multibulk");
  pos = 1;
  if (!ParseLength(payload, &pos, &count) || count == 0) {
    return Status::Corruption("bad multibulk count");
  }
  // Each argument takes at least 6 bytes ("$0\r\n\r\n"), which bounds count
  // before anything is allocated for it.
  if (count > payload.size() / 6) return Status::Corruption("multibulk count exceeds payload");
  std::vector<std::string> argv;
  argv.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t len = 0;
    if (pos >= payload.size() || payload[pos] != '$') return Status::Corruption("expected '$'");
    ++pos;
    if (!ParseLength(payload, &pos, &len)) return Status::Corruption("bad bulk length");
    if (len > payload.size() - pos || payload.size() - pos - len < 2 ||
        payload.substr(pos + len, 2) != "\r\n") {
      return Status::Corruption("bulk string overruns payload");
    }
    argv.emplace_back(payload.substr(pos, len));
    pos += len + 2;
  }
  if (pos != payload.size()) return Status::Corruption("trailing bytes after multibulk");
  return argv;
}

Result<AofScan> ScanAofFile(FileSystem& fs, const std::string& path, const AofRecordFn& on_record) {
  RAGKV_ASSIGN_OR_RETURN(auto file, fs.NewSequentialFile(path));
  AofScan scan;
  std::string buf;  // buf[pos, end) are the unconsumed bytes
  size_t pos = 0;
  uint64_t base = 0;  // file offset of buf[pos]
  bool eof = false;
  constexpr size_t kChunk = 256 * 1024;
  std::string chunk(kChunk, '\0');

  auto avail = [&] { return buf.size() - pos; };
  auto view = [&] { return std::string_view(buf).substr(pos); };
  auto consume = [&](size_t n) {
    pos += n;
    base += n;
  };
  // Ensures at least `n` unconsumed bytes unless the file ends first.
  auto fill = [&](size_t n) -> Status {
    if (avail() >= n) return Status::Ok();
    buf.erase(0, pos);  // compact once per refill, not once per record
    pos = 0;
    while (buf.size() < n && !eof) {
      RAGKV_ASSIGN_OR_RETURN(size_t got, file->Read(chunk.data(), chunk.size()));
      if (got == 0) {
        eof = true;
      } else {
        buf.append(chunk.data(), got);
      }
    }
    return Status::Ok();
  };
  // Reads to the end of the file; returns true if every byte from the current
  // position on is zero. Leaves base == file size.
  auto rest_is_zero = [&]() -> Result<bool> {
    bool zero = AllZero(view());
    consume(avail());
    while (!eof) {
      RAGKV_ASSIGN_OR_RETURN(size_t got, file->Read(chunk.data(), chunk.size()));
      if (got == 0) {
        eof = true;
      } else {
        zero = zero && AllZero(std::string_view(chunk.data(), got));
        base += got;
      }
    }
    return zero;
  };
  // Ends the scan at the current position with `end`, or, if `zero_is_torn`
  // and the rest of the file is zeros, as a torn tail.
  auto finish = [&](AofFileEnd end, std::string detail, bool zero_is_torn) -> Result<AofScan> {
    RAGKV_ASSIGN_OR_RETURN(bool zero, rest_is_zero());
    scan.file_size = base;
    scan.end = end;
    scan.detail = std::move(detail);
    if (end != AofFileEnd::kClean && zero_is_torn && zero) {
      scan.end = AofFileEnd::kTornTail;
      scan.detail = "zero-filled tail";
    }
    return scan;
  };

  RAGKV_RETURN_IF_ERROR(fill(kAofFileHeaderSize));
  if (avail() < kAofFileHeaderSize) {
    // A crash while the header itself was being written leaves a prefix of it.
    const bool prefix = AofFileHeader().starts_with(view());
    return finish(prefix ? AofFileEnd::kTornTail : AofFileEnd::kCorruption,
                  "incomplete file header", true);
  }
  if (view().substr(0, kAofFileHeaderSize) != AofFileHeader()) {
    return finish(AofFileEnd::kCorruption, "bad file header (not a ragkv AOF v1)", true);
  }
  consume(kAofFileHeaderSize);
  scan.valid_bytes = base;

  while (true) {
    RAGKV_RETURN_IF_ERROR(fill(kAofRecordHeaderSize));
    if (avail() == 0) return finish(AofFileEnd::kClean, "", false);
    if (avail() < kAofRecordHeaderSize) {
      return finish(AofFileEnd::kTornTail, "incomplete record header", false);
    }
    const uint64_t offset = base;
    const char* h = buf.data() + pos;
    const uint32_t len = GetU32(h);
    const uint32_t payload_crc = UnmaskCrc(GetU32(h + 4));
    const uint32_t header_crc = UnmaskCrc(GetU32(h + 8));
    if (crc32c::Value(h, 8) != header_crc) {
      return finish(AofFileEnd::kCorruption, "bad record header checksum", true);
    }
    if (len > kAofMaxPayload) {
      return finish(AofFileEnd::kCorruption, "record length too large", false);
    }
    RAGKV_RETURN_IF_ERROR(fill(kAofRecordHeaderSize + len));
    if (avail() < kAofRecordHeaderSize + len) {
      return finish(AofFileEnd::kTornTail, "incomplete record payload", false);
    }
    std::string_view payload = view().substr(kAofRecordHeaderSize, len);
    if (crc32c::Value(payload) != payload_crc) {
      return finish(AofFileEnd::kCorruption, "bad record payload checksum", false);
    }
    auto argv = DecodeMultibulk(payload);
    if (!argv.ok()) {
      return finish(
          AofFileEnd::kCorruption,
          "record payload is not a RESP multibulk: " + std::string(argv.status().message()), false);
    }
    if (on_record) RAGKV_RETURN_IF_ERROR(on_record(*argv, offset));
    ++scan.records;
    consume(kAofRecordHeaderSize + len);
    scan.valid_bytes = base;
  }
}

}  // namespace ragkv::persistence
