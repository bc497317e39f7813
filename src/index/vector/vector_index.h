// The vector index engine: exact (FLAT) and approximate (HNSW) nearest-neighbour
// search over fixed-dimension vectors keyed by 64-bit labels.
//
// Start here. One interface, two algorithms, chosen per index in IndexSpec:
//
//   IndexSpec spec;
//   spec.algorithm = Algorithm::kHnsw;
//   spec.dim = 768;
//   spec.metric = Metric::kCosine;
//   RAGKV_ASSIGN_OR_RETURN(auto index, VectorIndex::Create(spec));
//   RAGKV_RETURN_IF_ERROR(index->Add(/*label=*/42, embedding));
//   RAGKV_ASSIGN_OR_RETURN(auto hits, index->Search(query, /*k=*/10, {.ef = 64}));
//
// Distances are smaller-is-better and match what RediSearch reports:
//   kL2     squared euclidean distance,
//   kIp     1 - dot(q, v),
//   kCosine 1 - cos(q, v)  (vectors are normalised at insert and at query time).
//
// Storage types: vectors always arrive as float32 (or as a little-endian blob of
// the index's element type, see AddBlob) and are stored as spec.type:
//   kFloat32 / kFloat64 / kFloat16 / kBFloat16: stored as that type; distances
//     are computed in float32 arithmetic.
//   kInt8 / kUint8: scalar quantization x ~ quant_min + code * step, with
//     step = (quant_max - quant_min) / 255. HNSW traverses in code space and
//     re-ranks its final candidates with the float query against the decoded
//     codes ("float re-ranking"); FLAT always uses the float-query distance.
//
// Thread safety: every method may be called concurrently from many threads.
// Readers (Search, RangeSearch, Contains, size, Save, ...) share the index;
// writers (Add, AddBatch, Remove) are exclusive: a search never observes a
// half-inserted vector, and waits for at most one insert. AddBatch builds with
// several threads internally (fine-grained per-node locks) while holding the
// writer side.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace ragkv::vec {

// Serialized (docs/formats/vector_index.md): numbers are fixed forever.
enum class Algorithm : uint8_t { kFlat = 0, kHnsw = 1 };
enum class Metric : uint8_t { kL2 = 0, kIp = 1, kCosine = 2 };
enum class ElementType : uint8_t {
  kFloat32 = 0,
  kFloat64 = 1,
  kFloat16 = 2,   // IEEE 754 binary16
  kBFloat16 = 3,  // upper half of a float32
  kInt8 = 4,
  kUint8 = 5,
};

// Bytes of one component of `type` (4, 8, 2, 2, 1, 1).
size_t ElementSize(ElementType type);
// "FLOAT32", "L2", "HNSW", ...: RediSearch's spelling. Static storage.
std::string_view ElementTypeName(ElementType type);
std::string_view MetricName(Metric metric);
std::string_view AlgorithmName(Algorithm algorithm);
// Parses the names above (case-insensitive); nullopt if unknown.
std::optional<ElementType> ParseElementType(std::string_view name);
std::optional<Metric> ParseMetric(std::string_view name);
std::optional<Algorithm> ParseAlgorithm(std::string_view name);

struct IndexSpec {
  Algorithm algorithm = Algorithm::kHnsw;
  size_t dim = 0;  // REQUIRED: 1 .. 65536
  Metric metric = Metric::kL2;
  ElementType type = ElementType::kFloat32;
  // HNSW only. m: links per node on upper levels (2m on level 0), 2 .. 512.
  size_t m = 16;
  size_t ef_construction = 200;
  // Default search breadth when SearchParams::ef is 0.
  size_t ef_runtime = 10;
  // RangeSearch: relative slack of the HNSW boundary search (RediSearch's EPSILON).
  double epsilon = 0.01;
  // Slots reserved up front; the index grows past it on demand.
  size_t initial_cap = 1024;
  // Seeds level generation, so builds with the same inputs are reproducible.
  uint64_t seed = 100;
  // kInt8 / kUint8: the float range mapped onto the 256 codes; values outside
  // are clamped. When both are unset (NaN) the natural range is used: [0, 255]
  // for kUint8, [-128, 127] for kInt8, so integer data is stored exactly;
  // under kCosine the default is [-1, 1] (components of a unit vector).
  float quant_min = __builtin_nanf("");
  float quant_max = __builtin_nanf("");
};

struct Neighbor {
  uint64_t label;
  float distance;
  friend bool operator==(const Neighbor&, const Neighbor&) = default;
};

// An allow-list over labels for filtered search. Implementations must be
// safe to call concurrently and cheap (it runs once per visited node).
class Filter {
 public:
  virtual ~Filter() = default;
  virtual bool Allows(uint64_t label) const = 0;
  // The number of labels allowed, if known cheaply; the planner otherwise
  // estimates selectivity by sampling.
  virtual std::optional<size_t> AllowedCount() const { return std::nullopt; }
};

// Allows labels whose bit is set; labels past the bitmap are rejected.
class BitmapFilter final : public Filter {
 public:
  explicit BitmapFilter(size_t num_labels) : words_((num_labels + 63) / 64, 0) {}
  void Set(uint64_t label);
  bool Allows(uint64_t label) const override {
    const uint64_t w = label >> 6;
    return w < words_.size() && ((words_[w] >> (label & 63)) & 1) != 0;
  }
  std::optional<size_t> AllowedCount() const override { return count_; }

 private:
  std::vector<uint64_t> words_;
  size_t count_ = 0;
};

// Wraps any predicate.
class PredicateFilter final : public Filter {
 public:
  explicit PredicateFilter(std::function<bool(uint64_t)> allows) : allows_(std::move(allows)) {}
  bool Allows(uint64_t label) const override { return allows_(label); }

 private:
  std::function<bool(uint64_t)> allows_;
};

// Receives a serialized index in chunks (VectorIndex::SaveTo), so that an
// index can be streamed into a larger file (a snapshot section) without a
// whole in-memory copy.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Called once, before any Append, with the exact number of bytes the
  // Appends will deliver.
  virtual Status Begin(uint64_t total_bytes) = 0;
  virtual Status Append(std::string_view chunk) = 0;
};

// What one search did, for benchmarks and EXPLAIN-style output.
struct SearchStats {
  size_t distances = 0;  // distance computations (including re-ranking)
};

// Per-query knobs; they never change the index.
struct SearchParams {
  // Search breadth (HNSW); 0 means max(spec.ef_runtime, k). An explicit ef
  // smaller than k is an error.
  size_t ef = 0;
  // Only labels the filter allows are returned; nullptr allows all.
  const Filter* filter = nullptr;
  // When set, filled in by Search (not by RangeSearch).
  SearchStats* stats = nullptr;
};

// Shape of an index, for INFO / FT.INFO and tests.
struct IndexStats {
  size_t live = 0;          // labels stored
  size_t slots = 0;         // live + deleted slots awaiting reuse (HNSW)
  size_t memory_bytes = 0;  // as MemoryBytes()
  int max_level = -1;       // HNSW: level of the entry point; -1 when empty or FLAT
  size_t edges = 0;         // HNSW: directed links on all levels
  size_t unreachable = 0;   // HNSW: live nodes not reachable from the entry point on level 0
};

class VectorIndex {
 public:
  // Returns an empty index, or kInvalidArgument naming the bad field
  // (dim 0 or > 65536, m < 2 or > 512, ef_construction 0, quant_min >= quant_max, ...).
  static Result<std::unique_ptr<VectorIndex>> Create(const IndexSpec& spec);

  // Loads a file written by Save. kIOError if it cannot be read, kCorruption
  // if it is truncated, fails its checksum or is structurally invalid.
  static Result<std::unique_ptr<VectorIndex>> Load(const std::string& path);
  // Load for the bytes of a whole file already in memory (e.g. a snapshot
  // section). Same errors, except kIOError.
  static Result<std::unique_ptr<VectorIndex>> LoadFrom(std::span<const uint8_t> bytes);

  virtual ~VectorIndex() = default;
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  const IndexSpec& spec() const { return spec_; }
  size_t dim() const { return spec_.dim; }
  // Number of live labels.
  virtual size_t size() const = 0;
  // Bytes of heap and arena memory the index holds (for INFO / FT.INFO).
  virtual size_t MemoryBytes() const = 0;

  // Inserts `v` under `label`, replacing the vector if the label exists (never
  // a duplicate). kInvalidArgument on wrong dimension, NaN/Inf components, or
  // a zero vector under kCosine; the index is unchanged on error.
  // Cost: HNSW O(ef_construction * m * log n) distances; FLAT O(dim).
  virtual Status Add(uint64_t label, std::span<const float> v) = 0;

  // Add for a little-endian blob of spec().type (dim * ElementSize bytes), the
  // form FT.* hash fields hold. kInvalidArgument if the size is wrong.
  Status AddBlob(uint64_t label, std::span<const std::byte> blob);

  // Adds labels[i] -> vectors[i*dim, (i+1)*dim) for all i using `threads`
  // threads (0: hardware concurrency). On error, vectors added so far stay.
  virtual Status AddBatch(std::span<const uint64_t> labels, std::span<const float> vectors,
                          size_t threads) = 0;

  // Removes `label`. kNotFound if absent. HNSW repairs the neighbours' links
  // and reuses the slot for a later insert.
  virtual Status Remove(uint64_t label) = 0;

  virtual bool Contains(uint64_t label) const = 0;

  // The stored vector of `label`, decoded to float32 (normalised under cosine,
  // quantized for int8/uint8); nullopt if absent.
  virtual std::optional<std::vector<float>> GetVector(uint64_t label) const = 0;

  // The k nearest labels to `query`, sorted by distance ascending then label,
  // unique; fewer than k when fewer are stored (or pass the filter).
  // kInvalidArgument on wrong dimension, NaN/Inf, zero query under cosine,
  // k == 0, or an explicit ef < k.
  virtual Result<std::vector<Neighbor>> Search(std::span<const float> query, size_t k,
                                               const SearchParams& params = {}) const = 0;

  // Search for a query given as a blob of spec().type.
  Result<std::vector<Neighbor>> SearchBlob(std::span<const std::byte> query, size_t k,
                                           const SearchParams& params = {}) const;

  // All labels within `radius` (distance <= radius), sorted as Search. Exact
  // for FLAT; HNSW widens its search until the boundary is passed, so it may
  // miss far-flung points like any approximate search.
  virtual Result<std::vector<Neighbor>> RangeSearch(std::span<const float> query, float radius,
                                                    const SearchParams& params = {}) const = 0;

  // Writes the index to `path` (docs/formats/vector_index.md), atomically
  // (temp file + rename). kIOError on failure.
  Status Save(const std::string& path) const;

  // Streams the same bytes as Save to `sink`, in chunks of about 1 MiB:
  // memory stays O(chunk) however large the index. Holds the reader lock
  // throughout (writers wait). Returns the first error of the sink.
  virtual Status SaveTo(ByteSink& sink) const = 0;

  // Verifies the structure (label map, slot accounting; HNSW: link bounds,
  // level bounds, no self/duplicate links, neighbours present on the link's
  // level, entry point live and on the top level). kInternal describing the
  // first violation. O(n * m). Reachability is not an HNSW invariant (pruning
  // may orphan a node); Stats().unreachable measures it.
  virtual Status CheckInvariants() const = 0;

  // Counts for INFO and tests. O(n * m) for HNSW (walks the graph).
  virtual IndexStats Stats() const = 0;

 protected:
  explicit VectorIndex(const IndexSpec& spec) : spec_(spec) {}
  IndexSpec spec_;
};

// Decodes a little-endian blob of `type` into float32. kInvalidArgument if its
// size is not dim * ElementSize(type).
Result<std::vector<float>> DecodeBlob(ElementType type, size_t dim,
                                      std::span<const std::byte> blob);

// The SIMD level the distance kernels run at on this CPU: "avx512", "avx2" or "scalar".
std::string_view KernelLevel();

}  // namespace ragkv::vec
