// VectorIndex: the factory, file loading, blob decoding and names shared by
// both algorithms. Validation of build parameters lives here so FLAT and HNSW
// reject the same specs with the same messages.
#include "index/vector/vector_index.h"

#include <cctype>
#include <cstring>

#include "index/vector/distance.h"
#include "index/vector/flat_index.h"
#include "index/vector/hnsw_index.h"
#include "index/vector/index_io.h"
#include "index/vector/serial.h"

namespace ragkv::vec {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) !=
        std::toupper(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

Status ValidateSpec(const IndexSpec& spec) {
  if (spec.algorithm != Algorithm::kFlat && spec.algorithm != Algorithm::kHnsw) {
    return Status::InvalidArgument("unknown algorithm");
  }
  if (spec.dim == 0 || spec.dim > 65536) {
    return Status::InvalidArgument("vector dimension must be in [1, 65536], got " +
                                   std::to_string(spec.dim));
  }
  if (spec.algorithm == Algorithm::kHnsw) {
    if (spec.m < 2 || spec.m > 512) return Status::InvalidArgument("M must be in [2, 512]");
    if (spec.ef_construction == 0) return Status::InvalidArgument("EF_CONSTRUCTION must be >= 1");
  }
  if (spec.ef_runtime == 0) return Status::InvalidArgument("EF_RUNTIME must be >= 1");
  if (!(spec.epsilon >= 0) || spec.epsilon > 1e6) {
    return Status::InvalidArgument("EPSILON must be a finite number >= 0");
  }
  return Status::Ok();
}

}  // namespace

size_t ElementSize(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return 4;
    case ElementType::kFloat64: return 8;
    case ElementType::kFloat16:
    case ElementType::kBFloat16: return 2;
    case ElementType::kInt8:
    case ElementType::kUint8: return 1;
  }
  return 4;
}

std::string_view ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return "FLOAT32";
    case ElementType::kFloat64: return "FLOAT64";
    case ElementType::kFloat16: return "FLOAT16";
    case ElementType::kBFloat16: return "BFLOAT16";
    case ElementType::kInt8: return "INT8";
    case ElementType::kUint8: return "UINT8";
  }
  return "?";
}

std::string_view MetricName(Metric metric) {
  switch (metric) {
    case Metric::kL2: return "L2";
    case Metric::kIp: return "IP";
    case Metric::kCosine: return "COSINE";
  }
  return "?";
}

std::string_view AlgorithmName(Algorithm algorithm) {
  return algorithm == Algorithm::kFlat ? "FLAT" : "HNSW";
}

std::optional<ElementType> ParseElementType(std::string_view name) {
  for (uint8_t i = 0; i <= static_cast<uint8_t>(ElementType::kUint8); ++i) {
    const auto t = static_cast<ElementType>(i);
    if (EqualsIgnoreCase(name, ElementTypeName(t))) return t;
  }
  return std::nullopt;
}

std::optional<Metric> ParseMetric(std::string_view name) {
  for (uint8_t i = 0; i <= static_cast<uint8_t>(Metric::kCosine); ++i) {
    const auto m = static_cast<Metric>(i);
    if (EqualsIgnoreCase(name, MetricName(m))) return m;
  }
  return std::nullopt;
}

std::optional<Algorithm> ParseAlgorithm(std::string_view name) {
  if (EqualsIgnoreCase(name, "FLAT")) return Algorithm::kFlat;
  if (EqualsIgnoreCase(name, "HNSW")) return Algorithm::kHnsw;
  return std::nullopt;
}

void BitmapFilter::Set(uint64_t label) {
  const uint64_t w = label >> 6;
  if (w >= words_.size()) return;
  const uint64_t bit = uint64_t{1} << (label & 63);
  if ((words_[w] & bit) == 0) ++count_;
  words_[w] |= bit;
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Create(const IndexSpec& spec) {
  RAGKV_RETURN_IF_ERROR(ValidateSpec(spec));
  if (spec.algorithm == Algorithm::kFlat) {
    RAGKV_ASSIGN_OR_RETURN(auto flat, internal::FlatIndex::Create(spec));
    return std::unique_ptr<VectorIndex>(std::move(flat));
  }
  RAGKV_ASSIGN_OR_RETURN(auto hnsw, internal::HnswIndex::Create(spec));
  return std::unique_ptr<VectorIndex>(std::move(hnsw));
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::Load(const std::string& path) {
  RAGKV_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, internal::ReadWholeFile(path));
  return LoadFrom(bytes);
}

Status VectorIndex::Save(const std::string& path) const {
  return internal::WriteFileAtomically(*this, path);
}

Result<std::unique_ptr<VectorIndex>> VectorIndex::LoadFrom(std::span<const uint8_t> file) {
  RAGKV_ASSIGN_OR_RETURN(std::span<const uint8_t> bytes, internal::VerifyChecksum(file));
  internal::ByteReader in(bytes.data(), bytes.size());
  RAGKV_ASSIGN_OR_RETURN(IndexSpec spec, internal::ReadHeader(in));
  Status valid = ValidateSpec(spec);
  if (!valid.ok()) return Status::Corruption(valid.message());
  std::unique_ptr<VectorIndex> index;
  if (spec.algorithm == Algorithm::kFlat) {
    RAGKV_ASSIGN_OR_RETURN(auto flat, internal::FlatIndex::LoadBody(spec, in));
    index = std::move(flat);
  } else {
    RAGKV_ASSIGN_OR_RETURN(auto hnsw, internal::HnswIndex::LoadBody(spec, in));
    index = std::move(hnsw);
  }
  if (in.remaining() != 0) return Status::Corruption("trailing bytes after the index body");
  Status ok = index->CheckInvariants();
  if (!ok.ok()) return Status::Corruption(ok.message());
  return index;
}

Result<std::vector<float>> DecodeBlob(ElementType type, size_t dim,
                                      std::span<const std::byte> blob) {
  const size_t esize = ElementSize(type);
  if (blob.size() != dim * esize) {
    return Status::InvalidArgument("vector blob has " + std::to_string(blob.size()) +
                                   " bytes, expected " + std::to_string(dim * esize) + " (" +
                                   std::to_string(dim) + " x " +
                                   std::string(ElementTypeName(type)) + ")");
  }
  std::vector<float> out(dim);
  const auto* p = reinterpret_cast<const uint8_t*>(blob.data());
  for (size_t i = 0; i < dim; ++i) {
    const uint8_t* e = p + i * esize;
    switch (type) {
      case ElementType::kFloat32: std::memcpy(&out[i], e, 4); break;
      case ElementType::kFloat64: {
        double d;
        std::memcpy(&d, e, 8);
        out[i] = static_cast<float>(d);
        break;
      }
      case ElementType::kFloat16:
      case ElementType::kBFloat16: {
        uint16_t h;
        std::memcpy(&h, e, 2);
        out[i] = type == ElementType::kFloat16 ? internal::HalfToFloat(h)
                                               : internal::BFloat16ToFloat(h);
        break;
      }
      case ElementType::kInt8: out[i] = static_cast<float>(static_cast<int8_t>(*e)); break;
      case ElementType::kUint8: out[i] = static_cast<float>(*e); break;
    }
  }
  return out;
}

Status VectorIndex::AddBlob(uint64_t label, std::span<const std::byte> blob) {
  RAGKV_ASSIGN_OR_RETURN(std::vector<float> v, DecodeBlob(spec_.type, spec_.dim, blob));
  return Add(label, v);
}

Result<std::vector<Neighbor>> VectorIndex::SearchBlob(std::span<const std::byte> query, size_t k,
                                                      const SearchParams& params) const {
  RAGKV_ASSIGN_OR_RETURN(std::vector<float> q, DecodeBlob(spec_.type, spec_.dim, query));
  return Search(q, k, params);
}

std::string_view KernelLevel() { return internal::Kernels().level; }

}  // namespace ragkv::vec
