// File plumbing for vector index files: header, crc32c footer, atomic write.
// The whole file is read and checksummed before parsing (simplest way to
// guarantee a corrupt file is rejected before any field is trusted); indexes
// are at most a few GiB, and loading needs that memory anyway. Writing
// streams (ChunkedWriter): the sink sees ~1 MiB chunks, never the whole file.
#include "index/vector/index_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/crc32c.h"

namespace ragkv::vec::internal {
namespace {

constexpr char kMagic[8] = {'R', 'K', 'V', 'V', 'E', 'C', 'I', 'X'};
constexpr uint32_t kVersion = 1;

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

void WriteHeader(const IndexSpec& spec, ChunkedWriter* w) {
  w->PutBytes(kMagic, sizeof(kMagic));
  w->Put<uint32_t>(kVersion);
  w->Put<uint8_t>(static_cast<uint8_t>(spec.algorithm));
  w->Put<uint8_t>(static_cast<uint8_t>(spec.metric));
  w->Put<uint8_t>(static_cast<uint8_t>(spec.type));
  w->Put<uint8_t>(0);
  w->Put<uint32_t>(static_cast<uint32_t>(spec.dim));
  w->Put<uint32_t>(static_cast<uint32_t>(spec.m));
  w->Put<uint32_t>(static_cast<uint32_t>(spec.ef_construction));
  w->Put<uint32_t>(static_cast<uint32_t>(spec.ef_runtime));
  w->Put<double>(spec.epsilon);
  w->Put<uint64_t>(spec.seed);
  w->Put<float>(spec.quant_min);
  w->Put<float>(spec.quant_max);
  w->Put<uint64_t>(spec.initial_cap);
}

Result<IndexSpec> ReadHeader(ByteReader& in) {
  char magic[8];
  if (!in.GetBytes(magic, sizeof(magic))) return Truncated("header");
  if (std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption("not a ragkv vector index file (bad magic)");
  }
  uint32_t version = 0;
  uint8_t algorithm = 0, metric = 0, type = 0, reserved = 0;
  uint32_t dim = 0, m = 0, efc = 0, efr = 0;
  IndexSpec spec;
  uint64_t initial_cap = 0;
  if (!in.Get(&version)) return Truncated("header");
  if (version != kVersion) {
    return Status::Corruption("unsupported vector index file version " + std::to_string(version));
  }
  if (!in.Get(&algorithm) || !in.Get(&metric) || !in.Get(&type) || !in.Get(&reserved) ||
      !in.Get(&dim) || !in.Get(&m) || !in.Get(&efc) || !in.Get(&efr) || !in.Get(&spec.epsilon) ||
      !in.Get(&spec.seed) || !in.Get(&spec.quant_min) || !in.Get(&spec.quant_max) ||
      !in.Get(&initial_cap)) {
    return Truncated("header");
  }
  if (algorithm > 1 || metric > 2 || type > 5) {
    return Status::Corruption("vector index header has an unknown enum value");
  }
  if (dim == 0 || dim > 65536 || m < 2 || m > 512 || efc == 0 || efr == 0 ||
      !std::isfinite(spec.epsilon)) {
    return Status::Corruption("vector index header has an out-of-range parameter");
  }
  spec.algorithm = static_cast<Algorithm>(algorithm);
  spec.metric = static_cast<Metric>(metric);
  spec.type = static_cast<ElementType>(type);
  spec.dim = dim;
  spec.m = m;
  spec.ef_construction = efc;
  spec.ef_runtime = efr;
  // The loader sizes the arenas from the body, not from this hint.
  spec.initial_cap = std::min<uint64_t>(initial_cap, 1024);
  return spec;
}

void ChunkedWriter::Flush() {
  if (buf_.empty()) return;
  crc_ = crc32c::Extend(crc_, buf_.data(), buf_.size());
  written_ += buf_.size();
  if (status_.ok()) status_ = sink_.Append(buf_);
  buf_.clear();
}

Status ChunkedWriter::Finish(uint64_t expected) {
  Flush();
  const uint32_t crc = crc_;
  buf_.append(reinterpret_cast<const char*>(&crc), sizeof(crc));
  Flush();
  if (!status_.ok()) return status_;
  if (written_ != expected) {
    return Status::Internal("vector index serialised to " + std::to_string(written_) +
                            " bytes, announced " + std::to_string(expected));
  }
  return Status::Ok();
}

namespace {

// Writes to an open descriptor; Begin is only a size hint.
class FdSink final : public ByteSink {
 public:
  FdSink(int fd, const std::string& path) : fd_(fd), path_(path) {}
  Status Begin(uint64_t) override { return Status::Ok(); }
  Status Append(std::string_view chunk) override {
    size_t done = 0;
    while (done < chunk.size()) {
      const ssize_t n = ::write(fd_, chunk.data() + done, chunk.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Errno("cannot write", path_);
      }
      done += static_cast<size_t>(n);
    }
    return Status::Ok();
  }

 private:
  int fd_;
  const std::string& path_;
};

}  // namespace

Status WriteFileAtomically(const VectorIndex& index, const std::string& path) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  FdSink sink(fd, tmp);
  Status s = index.SaveTo(sink);
  if (s.ok() && ::fsync(fd) != 0) s = Errno("cannot fsync", tmp);
  ::close(fd);
  if (s.ok() && std::rename(tmp.c_str(), path.c_str()) != 0) s = Errno("cannot rename onto", path);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

Result<std::vector<uint8_t>> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::vector<uint8_t> data;
  uint8_t chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0) {
      if (errno == EINTR) continue;
      Status s = Errno("cannot read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    data.insert(data.end(), chunk, chunk + n);
  }
  ::close(fd);
  return data;
}

Result<std::span<const uint8_t>> VerifyChecksum(std::span<const uint8_t> file) {
  if (file.size() < kHeaderBytes + kFooterBytes) return Truncated("shorter than header and footer");
  uint32_t stored;
  std::memcpy(&stored, file.data() + file.size() - kFooterBytes, kFooterBytes);
  std::span<const uint8_t> body = file.first(file.size() - kFooterBytes);
  if (crc32c::Value(body.data(), body.size()) != stored) {
    return Status::Corruption("vector index file checksum mismatch (file damaged or truncated)");
  }
  return body;
}

}  // namespace ragkv::vec::internal
