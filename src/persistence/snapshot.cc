// Snapshot writer and reader (docs/formats/snapshot.md).
//
// The writer streams items through a 64 KiB buffer and keeps a running
// CRC32C, so memory stays constant however large the keyspace; the footer's
// CRC covers every byte before it. Rejected: per-entry checksums (they would
// locate damage more precisely but a snapshot is never partially loaded, so
// one file CRC plus structural checks with offsets is enough) and mmap (a
// SequentialFile works with the fault-injecting test filesystem).
//
// The reader bounds every length by the file size before allocating, so a
// corrupt length can never make it allocate gigabytes.
#include "persistence/snapshot.h"

#include <cmath>
#include <cstring>

#include "common/crc32c.h"

namespace ragkv::persistence {
namespace {

constexpr std::string_view kMagic = "RAGKVSNP";
constexpr uint32_t kVersion = 1;
constexpr size_t kBufferSize = 64 * 1024;

enum Op : uint8_t {
  kOpString = 0x01,
  kOpHash = 0x02,
  kOpZSet = 0x03,
  kOpSection = 0x10,
  kOpAux = 0xFA,
  kOpSelectDb = 0xFE,
  kOpFooter = 0xFF,
};

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutStr(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void PutU64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

std::string Header() {
  std::string h(kMagic);
  PutU32(&h, kVersion);
  return h;
}

// Sequential input with position tracking, a running CRC over consumed
// bytes, and lengths bounded by the file size. The CRC is folded in lazily,
// a buffer at a time, so reading a varint costs a few instructions.
class Input {
 public:
  Input(SequentialFile& file, std::string path, uint64_t file_size)
      : file_(file), path_(std::move(path)), file_size_(file_size) {}

  uint64_t offset() const { return offset_; }
  // CRC of every byte consumed so far.
  uint32_t crc() {
    FoldCrc();
    return crc_;
  }

  Status Corrupt(uint64_t at, std::string_view why) const {
    return Status::Corruption("snapshot " + path_ + " at offset " + std::to_string(at) + ": " +
                              std::string(why));
  }

  // Appends the next n bytes to *out.
  Status Bytes(size_t n, std::string* out) {
    if (n > file_size_ - offset_) return Corrupt(offset_, "truncated (item runs past end of file)");
    while (n > 0) {
      if (pos_ == buf_.size()) RAGKV_RETURN_IF_ERROR(Refill());
      const size_t k = std::min(n, buf_.size() - pos_);
      out->append(buf_.data() + pos_, k);
      pos_ += k;
      offset_ += k;
      n -= k;
    }
    return Status::Ok();
  }

  Result<uint8_t> Byte() {
    if (pos_ == buf_.size()) {
      if (offset_ >= file_size_) return Corrupt(offset_, "truncated (item runs past end of file)");
      RAGKV_RETURN_IF_ERROR(Refill());
    }
    ++offset_;
    return static_cast<uint8_t>(buf_[pos_++]);
  }

  Result<uint64_t> Varint() {
    const uint64_t at = offset_;
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      RAGKV_ASSIGN_OR_RETURN(uint8_t b, Byte());
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Corrupt(at, "varint longer than 10 bytes");
  }

  Result<uint64_t> Fixed(int width) {
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      RAGKV_ASSIGN_OR_RETURN(uint8_t b, Byte());
      v |= static_cast<uint64_t>(b) << (8 * i);
    }
    return v;
  }

  Status Str(std::string* out) {
    const uint64_t at = offset_;
    RAGKV_ASSIGN_OR_RETURN(uint64_t len, Varint());
    if (len > file_size_ - offset_) return Corrupt(at, "string length runs past end of file");
    out->clear();
    return Bytes(len, out);
  }

  // A count of items each at least `min_item` bytes long, bounded by the file.
  Result<uint64_t> Count(size_t min_item) {
    const uint64_t at = offset_;
    RAGKV_ASSIGN_OR_RETURN(uint64_t n, Varint());
    if (n > (file_size_ - offset_) / min_item) {
      return Corrupt(at, "element count runs past end of file");
    }
    return n;
  }

 private:
  void FoldCrc() {
    crc_ = crc32c::Extend(crc_, buf_.data() + crc_from_, pos_ - crc_from_);
    crc_from_ = pos_;
  }

  Status Refill() {
    FoldCrc();
    buf_.resize(kBufferSize);
    RAGKV_ASSIGN_OR_RETURN(size_t got, file_.Read(buf_.data(), buf_.size()));
    buf_.resize(got);
    pos_ = crc_from_ = 0;
    if (got == 0) return Corrupt(offset_, "file shorter than its size");
    return Status::Ok();
  }

  SequentialFile& file_;
  std::string path_;
  uint64_t file_size_;
  std::string buf_;
  size_t pos_ = 0;
  size_t crc_from_ = 0;  // buf_[crc_from_, pos_) is consumed but not yet in crc_
  uint64_t offset_ = 0;
  uint32_t crc_ = 0;
};

}  // namespace

Status SnapshotVisitor::OnSection(std::string_view, std::string_view) { return Status::Ok(); }
Status SnapshotVisitor::OnAux(std::string_view, std::string_view) { return Status::Ok(); }

Result<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Create(FileSystem& fs,
                                                               const std::string& path) {
  RAGKV_ASSIGN_OR_RETURN(auto file, fs.NewWritableFile(path + ".tmp"));
  std::unique_ptr<SnapshotWriter> w(new SnapshotWriter(fs, path, std::move(file)));
  RAGKV_RETURN_IF_ERROR(w->Emit(Header()));
  return w;
}

SnapshotWriter::SnapshotWriter(FileSystem& fs, std::string path, std::unique_ptr<WritableFile> file)
    : fs_(fs), path_(std::move(path)), tmp_path_(path_ + ".tmp"), file_(std::move(file)) {
  buffer_.reserve(kBufferSize);
}

SnapshotWriter::~SnapshotWriter() {
  if (!finished_) {
    if (file_) (void)file_->Close();
    (void)fs_.Remove(tmp_path_);
  }
}

Status SnapshotWriter::FlushBuffer() {
  if (buffer_.empty()) return Status::Ok();
  Status s = file_->Append(buffer_);
  buffer_.clear();
  return s;
}

Status SnapshotWriter::Emit(std::string_view data) {
  if (!error_.ok()) return error_;
  crc_ = crc32c::Extend(crc_, data.data(), data.size());
  bytes_ += data.size();
  if (buffer_.size() + data.size() > kBufferSize) {
    error_ = FlushBuffer();
    if (!error_.ok()) return error_;
  }
  if (data.size() >= kBufferSize) {
    error_ = file_->Append(data);
  } else {
    buffer_.append(data);
  }
  return error_;
}

Status SnapshotWriter::CheckNoOpenSection() {
  if (section_left_ != 0 && error_.ok()) {
    error_ = Status::Internal("snapshot section is " + std::to_string(section_left_) +
                              " bytes short of its announced size");
  }
  return error_;
}

Status SnapshotWriter::Add(const SnapshotEntry& e) {
  if (finished_) return Status::FailedPrecondition("snapshot already finished");
  RAGKV_RETURN_IF_ERROR(CheckNoOpenSection());
  if (e.db < 0 || e.db < db_) {
    return Status::InvalidArgument("snapshot entries must come in non-decreasing db order");
  }
  std::string item;
  if (e.db != db_ || entries_ == 0) {
    item.push_back(static_cast<char>(kOpSelectDb));
    PutVarint(&item, static_cast<uint64_t>(e.db));
    db_ = e.db;
  }
  const uint64_t expire = e.expire_at_ms < 0 ? 0 : static_cast<uint64_t>(e.expire_at_ms) + 1;
  switch (e.kind) {
    case SnapshotEntry::Kind::kString:
      item.push_back(static_cast<char>(kOpString));
      PutVarint(&item, expire);
      PutStr(&item, e.key);
      PutStr(&item, e.value);
      break;
    case SnapshotEntry::Kind::kHash:
      item.push_back(static_cast<char>(kOpHash));
      PutVarint(&item, expire);
      PutStr(&item, e.key);
      PutVarint(&item, e.fields.size());
      for (const auto& [f, v] : e.fields) {
        PutStr(&item, f);
        PutStr(&item, v);
      }
      break;
    case SnapshotEntry::Kind::kZSet:
      item.push_back(static_cast<char>(kOpZSet));
      PutVarint(&item, expire);
      PutStr(&item, e.key);
      PutVarint(&item, e.members.size());
      for (const auto& [m, score] : e.members) {
        if (std::isnan(score)) return Status::InvalidArgument("NaN score in zset " + e.key);
        uint64_t bits;
        std::memcpy(&bits, &score, sizeof(bits));
        PutStr(&item, m);
        PutU64(&item, bits);
      }
      break;
    default:
      return Status::InvalidArgument("unknown snapshot entry kind");
  }
  RAGKV_RETURN_IF_ERROR(Emit(item));
  ++entries_;
  return Status::Ok();
}

Status SnapshotWriter::AddAux(std::string_view name, std::string_view value) {
  RAGKV_RETURN_IF_ERROR(CheckNoOpenSection());
  std::string item(1, static_cast<char>(kOpAux));
  PutStr(&item, name);
  PutStr(&item, value);
  return Emit(item);
}

Status SnapshotWriter::AddSection(std::string_view name, std::string_view blob) {
  RAGKV_RETURN_IF_ERROR(BeginSection(name, blob.size()));
  return AppendSection(blob);
}

Status SnapshotWriter::BeginSection(std::string_view name, uint64_t size) {
  RAGKV_RETURN_IF_ERROR(CheckNoOpenSection());
  std::string head(1, static_cast<char>(kOpSection));
  PutStr(&head, name);
  PutVarint(&head, size);
  RAGKV_RETURN_IF_ERROR(Emit(head));
  section_left_ = size;
  return Status::Ok();
}

Status SnapshotWriter::AppendSection(std::string_view chunk) {
  if (chunk.size() > section_left_) {
    if (error_.ok()) error_ = Status::Internal("snapshot section longer than announced");
    return error_;
  }
  section_left_ -= chunk.size();
  return Emit(chunk);
}

Status SnapshotWriter::Finish() {
  if (finished_) return Status::FailedPrecondition("snapshot already finished");
  RAGKV_RETURN_IF_ERROR(CheckNoOpenSection());
  std::string footer(1, static_cast<char>(kOpFooter));
  PutVarint(&footer, entries_);
  RAGKV_RETURN_IF_ERROR(Emit(footer));
  std::string crc;
  PutU32(&crc, crc_);
  bytes_ += crc.size();
  buffer_.append(crc);
  Status s = FlushBuffer();
  if (s.ok()) s = file_->Sync();
  Status c = file_->Close();
  if (s.ok()) s = std::move(c);
  if (s.ok()) s = fs_.Rename(tmp_path_, path_);
  if (!s.ok()) {
    error_ = s;
    return s;  // the destructor removes the temp file
  }
  finished_ = true;
  return fs_.SyncDir(DirName(path_));
}

Status ReadSnapshot(FileSystem& fs, const std::string& path, SnapshotVisitor& visitor,
                    SnapshotReadStats* stats) {
  SnapshotReadStats local;
  SnapshotReadStats& st = stats ? *stats : local;
  st = SnapshotReadStats{};
  RAGKV_ASSIGN_OR_RETURN(uint64_t size, fs.FileSize(path));
  st.file_size = size;
  RAGKV_ASSIGN_OR_RETURN(auto file, fs.NewSequentialFile(path));
  Input in(*file, path, size);
  uint64_t item_at = 0;
  auto fail = [&](Status s) {
    if (s.code() == StatusCode::kCorruption) st.bad_offset = static_cast<int64_t>(item_at);
    return s;
  };

  std::string header;
  if (size < Header().size()) return fail(in.Corrupt(0, "file too short for a header"));
  Status s = in.Bytes(Header().size(), &header);
  if (!s.ok()) return fail(std::move(s));
  if (header != Header()) return fail(in.Corrupt(0, "bad header (not a ragkv snapshot v1)"));

  int db = 0;
  SnapshotEntry e;
  std::string name, blob;
  while (true) {
    item_at = in.offset();
    auto op = in.Byte();
    if (!op.ok()) return fail(op.status());
    switch (*op) {
      case kOpSelectDb: {
        auto v = in.Varint();
        if (!v.ok()) return fail(v.status());
        if (*v > 1'000'000 || static_cast<int>(*v) < db) {
          return fail(in.Corrupt(item_at, "bad or decreasing db number"));
        }
        db = static_cast<int>(*v);
        break;
      }
      case kOpString:
      case kOpHash:
      case kOpZSet: {
        e = SnapshotEntry{};
        e.db = db;
        e.kind = static_cast<SnapshotEntry::Kind>(*op);
        auto expire = in.Varint();
        if (!expire.ok()) return fail(expire.status());
        if (*expire > static_cast<uint64_t>(INT64_MAX))
          return fail(in.Corrupt(item_at, "bad expiry"));
        e.expire_at_ms = static_cast<int64_t>(*expire) - 1;
        if (Status ks = in.Str(&e.key); !ks.ok()) return fail(std::move(ks));
        if (*op == kOpString) {
          if (Status vs = in.Str(&e.value); !vs.ok()) return fail(std::move(vs));
        } else if (*op == kOpHash) {
          auto n = in.Count(2);
          if (!n.ok()) return fail(n.status());
          e.fields.resize(*n);
          for (auto& [f, v] : e.fields) {
            if (Status fs2 = in.Str(&f); !fs2.ok()) return fail(std::move(fs2));
            if (Status vs = in.Str(&v); !vs.ok()) return fail(std::move(vs));
          }
        } else {
          auto n = in.Count(9);
          if (!n.ok()) return fail(n.status());
          e.members.resize(*n);
          for (auto& [m, score] : e.members) {
            if (Status ms = in.Str(&m); !ms.ok()) return fail(std::move(ms));
            auto bits = in.Fixed(8);
            if (!bits.ok()) return fail(bits.status());
            std::memcpy(&score, &*bits, sizeof(score));
            if (std::isnan(score)) return fail(in.Corrupt(item_at, "NaN score"));
          }
        }
        ++st.entries;
        ++st.entries_per_db[db];
        RAGKV_RETURN_IF_ERROR(visitor.OnEntry(e));
        break;
      }
      case kOpAux:
      case kOpSection: {
        if (Status ns = in.Str(&name); !ns.ok()) return fail(std::move(ns));
        if (Status bs = in.Str(&blob); !bs.ok()) return fail(std::move(bs));
        if (*op == kOpAux) {
          RAGKV_RETURN_IF_ERROR(visitor.OnAux(name, blob));
        } else {
          ++st.sections;
          RAGKV_RETURN_IF_ERROR(visitor.OnSection(name, blob));
        }
        // A saved vector index can be hundreds of MiB: do not keep its
        // buffer while the visitor works on later items.
        if (blob.capacity() > kBufferSize) std::string().swap(blob);
        break;
      }
      case kOpFooter: {
        auto count = in.Varint();
        if (!count.ok()) return fail(count.status());
        const uint32_t expected = in.crc();
        auto crc = in.Fixed(4);
        if (!crc.ok()) return fail(crc.status());
        if (*count != st.entries)
          return fail(in.Corrupt(item_at, "entry count mismatch in footer"));
        if (static_cast<uint32_t>(*crc) != expected) {
          return fail(in.Corrupt(item_at, "checksum mismatch (file damaged)"));
        }
        if (in.offset() != size) {
          item_at = in.offset();
          return fail(in.Corrupt(item_at, "trailing bytes after footer"));
        }
        return Status::Ok();
      }
      default:
        return fail(in.Corrupt(item_at, "unknown opcode " + std::to_string(*op)));
    }
  }
}

}  // namespace ragkv::persistence
