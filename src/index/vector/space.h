// Space: how one index turns float vectors into stored codes and measures
// distances between a prepared query and a stored code (internal).
//
// A stored code is dim components of spec.type. Queries are prepared once per
// search into a QueryForm that holds two distance functions:
//   Distance()      used while traversing; for L2 over int8/uint8 it works in
//                   code space (the query is quantized too: 2x fewer bytes
//                   converted per step, exact integer arithmetic);
//   ExactDistance() the float query against the decoded stored code; used for
//                   re-ranking and by FLAT. For float storage both are equal.
// Each is `a + b * raw(q, x, dim)` with a raw kernel from distance.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "index/vector/distance.h"
#include "index/vector/vector_index.h"

namespace ragkv::vec::internal {

// Holds pointers into its own buffers: not copyable.
struct QueryForm {
  QueryForm() = default;
  QueryForm(const QueryForm&) = delete;
  QueryForm& operator=(const QueryForm&) = delete;

  size_t dim = 0;
  RawKernel fn = nullptr;
  const void* q = nullptr;
  float a = 0, b = 1;
  RawKernel exact_fn = nullptr;
  const void* exact_q = nullptr;
  float ea = 0, eb = 1;
  std::vector<float> f;          // the float query, transformed for exact_fn
  std::vector<uint8_t> codes;    // the quantized query (code-space traversal)
  // False when the quantized query decodes back to the float query exactly
  // (integer data), so Distance() is already exact and re-ranking is moot.
  bool codes_inexact = true;

  // Distances computed with this form so far (SearchStats).
  mutable size_t computed = 0;

  float Distance(const void* x) const {
    ++computed;
    return a + b * fn(q, x, dim);
  }
  float ExactDistance(const void* x) const {
    ++computed;
    return ea + eb * exact_fn(exact_q, x, dim);
  }
};

class Space {
 public:
  // kInvalidArgument if the spec's dim, type or quantization range is unusable.
  static Result<Space> Create(const IndexSpec& spec);

  size_t dim() const { return dim_; }
  size_t code_bytes() const { return code_bytes_; }
  bool quantized() const { return quantized_; }
  // True when Distance and ExactDistance differ (re-ranking pays off).
  bool needs_rerank() const { return needs_rerank_; }

  // Validates `v` (dimension, finite, non-zero under cosine), normalises it
  // under cosine and writes code_bytes() bytes to `out`.
  Status Encode(std::span<const float> v, uint8_t* out) const;

  // Decodes a stored code into dim floats.
  void Decode(const uint8_t* code, float* out) const;

  // Validates and prepares a query (same checks as Encode).
  Status PrepareQuery(std::span<const float> q, QueryForm* out) const;

  // Prepares a stored code as a query (HNSW insertion); never fails.
  void PrepareStoredQuery(const uint8_t* code, QueryForm* out) const;

  // Traversal-space distance between two stored codes (HNSW neighbour
  // selection). Thread-safe.
  float CodeDistance(const uint8_t* a, const uint8_t* b) const;

 private:
  Status Validate(std::span<const float> v) const;
  void Normalize(std::span<const float> v, float* out) const;
  void EncodeNormalized(const float* v, uint8_t* out) const;
  void FormFromFloat(std::vector<float> f, QueryForm* out) const;

  size_t dim_ = 0;
  Metric metric_ = Metric::kL2;
  ElementType type_ = ElementType::kFloat32;
  size_t code_bytes_ = 0;
  bool quantized_ = false;
  bool needs_rerank_ = false;
  // Quantized: x ~ zero_ + step_ * c, c the stored (signed or unsigned) code.
  float zero_ = 0, step_ = 1;
  RawKernel l2_ = nullptr, dot_ = nullptr;    // float query x stored code
  RawKernel code_l2_ = nullptr;               // stored code x stored code (quantized)
};

}  // namespace ragkv::vec::internal
