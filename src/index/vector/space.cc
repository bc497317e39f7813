// Space: encoding, decoding and query preparation for one index.
//
// Scalar quantization is one affine map per index (x ~ zero + step * code),
// fixed at creation from IndexSpec::quant_min/max. The natural ranges make
// integer data exact (Fashion-MNIST pixels are uint8), so code-space L2 is the
// true L2 there. Per-dimension ranges or trained ranges were rejected for now:
// they need a training pass before the first insert, which an incrementally
// built Redis index does not have.
//
// Under IP/cosine the traversal distance over int8/uint8 uses the float query
// against the codes (dot products do not survive the affine offset in code
// space); the bytes read per distance are the same, which is what matters.
#include "index/vector/space.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace ragkv::vec::internal {
namespace {

Pair PairFor(ElementType type) {
  switch (type) {
    case ElementType::kFloat32: return Pair::kF32;
    case ElementType::kFloat64: return Pair::kF64;
    case ElementType::kFloat16: return Pair::kF16;
    case ElementType::kBFloat16: return Pair::kBF16;
    case ElementType::kInt8: return Pair::kI8F;
    case ElementType::kUint8: return Pair::kU8F;
  }
  return Pair::kF32;
}

}  // namespace

Result<Space> Space::Create(const IndexSpec& spec) {
  constexpr size_t kMaxDim = 65536;
  if (spec.dim == 0 || spec.dim > kMaxDim) {
    return Status::InvalidArgument("vector dimension must be in [1, 65536], got " +
                                   std::to_string(spec.dim));
  }
  if (static_cast<uint8_t>(spec.type) > static_cast<uint8_t>(ElementType::kUint8)) {
    return Status::InvalidArgument("unknown element type");
  }
  if (static_cast<uint8_t>(spec.metric) > static_cast<uint8_t>(Metric::kCosine)) {
    return Status::InvalidArgument("unknown metric");
  }
  Space s;
  s.dim_ = spec.dim;
  s.metric_ = spec.metric;
  s.type_ = spec.type;
  s.code_bytes_ = spec.dim * ElementSize(spec.type);
  s.quantized_ = spec.type == ElementType::kInt8 || spec.type == ElementType::kUint8;
  const KernelTable& k = Kernels();
  s.l2_ = k.l2[static_cast<int>(PairFor(spec.type))];
  s.dot_ = k.dot[static_cast<int>(PairFor(spec.type))];
  if (s.quantized_) {
    float lo = spec.quant_min, hi = spec.quant_max;
    if (std::isnan(lo) && std::isnan(hi)) {
      if (spec.metric == Metric::kCosine) {
        lo = -1.0f, hi = 1.0f;
      } else if (spec.type == ElementType::kUint8) {
        lo = 0.0f, hi = 255.0f;
      } else {
        lo = -128.0f, hi = 127.0f;
      }
    }
    if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo < hi)) {
      return Status::InvalidArgument("quantization range needs finite quant_min < quant_max");
    }
    s.step_ = (hi - lo) / 255.0f;
    // int8 codes are the unsigned code minus 128.
    s.zero_ = spec.type == ElementType::kUint8 ? lo : lo + 128.0f * s.step_;
    s.code_l2_ = spec.type == ElementType::kUint8 ? k.l2[static_cast<int>(Pair::kU8U8)]
                                                  : k.l2[static_cast<int>(Pair::kI8I8)];
    s.needs_rerank_ = spec.metric == Metric::kL2;
  }
  return s;
}

Status Space::Validate(std::span<const float> v) const {
  if (v.size() != dim_) {
    return Status::InvalidArgument("vector has dimension " + std::to_string(v.size()) +
                                   ", index expects " + std::to_string(dim_));
  }
  double norm2 = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      return Status::InvalidArgument("vector component " + std::to_string(i) +
                                     " is NaN or infinite");
    }
    norm2 += static_cast<double>(v[i]) * v[i];
  }
  if (metric_ == Metric::kCosine && norm2 == 0) {
    return Status::InvalidArgument("zero vector has no direction under the COSINE metric");
  }
  return Status::Ok();
}

void Space::Normalize(std::span<const float> v, float* out) const {
  if (metric_ != Metric::kCosine) {
    std::copy(v.begin(), v.end(), out);
    return;
  }
  double norm2 = 0;
  for (float x : v) norm2 += static_cast<double>(x) * x;
  const double inv = 1.0 / std::sqrt(norm2);
  for (size_t i = 0; i < v.size(); ++i) out[i] = static_cast<float>(v[i] * inv);
}

void Space::EncodeNormalized(const float* v, uint8_t* out) const {
  switch (type_) {
    case ElementType::kFloat32:
      std::memcpy(out, v, dim_ * 4);
      return;
    case ElementType::kFloat64:
      for (size_t i = 0; i < dim_; ++i) {
        const double d = v[i];
        std::memcpy(out + 8 * i, &d, 8);
      }
      return;
    case ElementType::kFloat16:
    case ElementType::kBFloat16:
      for (size_t i = 0; i < dim_; ++i) {
        const uint16_t h =
            type_ == ElementType::kFloat16 ? FloatToHalf(v[i]) : FloatToBFloat16(v[i]);
        std::memcpy(out + 2 * i, &h, 2);
      }
      return;
    case ElementType::kInt8:
    case ElementType::kUint8: {
      const float lo = type_ == ElementType::kUint8 ? zero_ : zero_ - 128.0f * step_;
      const float inv = 1.0f / step_;
      for (size_t i = 0; i < dim_; ++i) {
        const float c = std::clamp(std::nearbyint((v[i] - lo) * inv), 0.0f, 255.0f);
        const int code = static_cast<int>(c);
        out[i] = type_ == ElementType::kUint8 ? static_cast<uint8_t>(code)
                                              : static_cast<uint8_t>(static_cast<int8_t>(code - 128));
      }
      return;
    }
  }
}

Status Space::Encode(std::span<const float> v, uint8_t* out) const {
  RAGKV_RETURN_IF_ERROR(Validate(v));
  std::vector<float> tmp(dim_);
  Normalize(v, tmp.data());
  EncodeNormalized(tmp.data(), out);
  return Status::Ok();
}

void Space::Decode(const uint8_t* code, float* out) const {
  switch (type_) {
    case ElementType::kFloat32:
      std::memcpy(out, code, dim_ * 4);
      return;
    case ElementType::kFloat64:
      for (size_t i = 0; i < dim_; ++i) {
        double d;
        std::memcpy(&d, code + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return;
    case ElementType::kFloat16:
    case ElementType::kBFloat16:
      for (size_t i = 0; i < dim_; ++i) {
        uint16_t h;
        std::memcpy(&h, code + 2 * i, 2);
        out[i] = type_ == ElementType::kFloat16 ? HalfToFloat(h) : BFloat16ToFloat(h);
      }
      return;
    case ElementType::kUint8:
      for (size_t i = 0; i < dim_; ++i) out[i] = zero_ + step_ * code[i];
      return;
    case ElementType::kInt8:
      for (size_t i = 0; i < dim_; ++i) out[i] = zero_ + step_ * static_cast<int8_t>(code[i]);
      return;
  }
}

// `f` is the (normalised) float query.
void Space::FormFromFloat(std::vector<float> f, QueryForm* out) const {
  out->dim = dim_;
  if (!quantized_) {
    out->f = std::move(f);
    out->exact_fn = metric_ == Metric::kL2 ? l2_ : dot_;
    out->exact_q = out->f.data();
    out->ea = metric_ == Metric::kL2 ? 0.0f : 1.0f;
    out->eb = metric_ == Metric::kL2 ? 1.0f : -1.0f;
    out->fn = out->exact_fn, out->q = out->exact_q, out->a = out->ea, out->b = out->eb;
    return;
  }
  if (metric_ == Metric::kL2) {
    out->codes.resize(code_bytes_);
    EncodeNormalized(f.data(), out->codes.data());
    out->fn = code_l2_;
    out->q = out->codes.data();
    {
      std::vector<float> back(dim_);
      Decode(out->codes.data(), back.data());
      out->codes_inexact = back != f;
    }
    out->a = 0.0f;
    out->b = step_ * step_;
    // |q - (z + s c)|^2 = s^2 |(q - z) / s - c|^2
    for (float& x : f) x = (x - zero_) / step_;
    out->f = std::move(f);
    out->exact_fn = l2_;
    out->exact_q = out->f.data();
    out->ea = 0.0f;
    out->eb = step_ * step_;
    return;
  }
  // 1 - q.(z + s c) = (1 - z sum(q)) - s (q.c)
  double sum = 0;
  for (float x : f) sum += x;
  out->f = std::move(f);
  out->exact_fn = dot_;
  out->exact_q = out->f.data();
  out->ea = static_cast<float>(1.0 - zero_ * sum);
  out->eb = -step_;
  out->fn = out->exact_fn, out->q = out->exact_q, out->a = out->ea, out->b = out->eb;
}

Status Space::PrepareQuery(std::span<const float> q, QueryForm* out) const {
  RAGKV_RETURN_IF_ERROR(Validate(q));
  std::vector<float> f(dim_);
  Normalize(q, f.data());
  FormFromFloat(std::move(f), out);
  return Status::Ok();
}

void Space::PrepareStoredQuery(const uint8_t* code, QueryForm* out) const {
  std::vector<float> f(dim_);
  Decode(code, f.data());
  FormFromFloat(std::move(f), out);
  if (quantized_ && metric_ == Metric::kL2) {
    // The stored code itself, not a re-quantized decode (no rounding drift).
    std::memcpy(out->codes.data(), code, code_bytes_);
    out->codes_inexact = false;
  }
}

float Space::CodeDistance(const uint8_t* a, const uint8_t* b) const {
  if (quantized_ && metric_ == Metric::kL2) return step_ * step_ * code_l2_(a, b, dim_);
  if (type_ == ElementType::kFloat32) {
    return metric_ == Metric::kL2 ? l2_(a, b, dim_) : 1.0f - dot_(a, b, dim_);
  }
  thread_local std::vector<float> scratch;
  scratch.resize(dim_);
  Decode(a, scratch.data());
  if (metric_ == Metric::kL2) {
    if (quantized_) {
      for (float& x : scratch) x = (x - zero_) / step_;
      return step_ * step_ * l2_(scratch.data(), b, dim_);
    }
    return l2_(scratch.data(), b, dim_);
  }
  if (quantized_) {
    double sum = 0;
    for (float x : scratch) sum += x;
    return static_cast<float>(1.0 - zero_ * sum) - step_ * dot_(scratch.data(), b, dim_);
  }
  return 1.0f - dot_(scratch.data(), b, dim_);
}

}  // namespace ragkv::vec::internal
