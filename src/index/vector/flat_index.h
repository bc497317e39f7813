// FlatIndex: exact search by scanning every stored vector (internal; use
// VectorIndex::Create with Algorithm::kFlat). Also the recall oracle in tests.
#pragma once

#include <cstdint>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "index/vector/arena.h"
#include "index/vector/space.h"
#include "index/vector/vector_index.h"

namespace ragkv::vec::internal {

class ByteReader;

// Codes are packed densely in slot order; Remove moves the last slot into the
// hole, so a scan never skips tombstones. Thread safety: see vector_index.h.
class FlatIndex final : public VectorIndex {
 public:
  static Result<std::unique_ptr<FlatIndex>> Create(const IndexSpec& spec);

  size_t size() const override;
  size_t MemoryBytes() const override;
  Status Add(uint64_t label, std::span<const float> v) override;
  Status AddBatch(std::span<const uint64_t> labels, std::span<const float> vectors,
                  size_t threads) override;
  Status Remove(uint64_t label) override;
  bool Contains(uint64_t label) const override;
  std::optional<std::vector<float>> GetVector(uint64_t label) const override;
  Result<std::vector<Neighbor>> Search(std::span<const float> query, size_t k,
                                       const SearchParams& params) const override;
  Result<std::vector<Neighbor>> RangeSearch(std::span<const float> query, float radius,
                                            const SearchParams& params) const override;
  Status SaveTo(ByteSink& sink) const override;
  Status CheckInvariants() const override;
  IndexStats Stats() const override;

  // Body of the saved file after the header (docs/formats/vector_index.md).
  static Result<std::unique_ptr<FlatIndex>> LoadBody(const IndexSpec& spec, ByteReader& in);

 private:
  FlatIndex(const IndexSpec& spec, Space space) : VectorIndex(spec), space_(std::move(space)) {}
  Status AddLocked(uint64_t label, std::span<const float> v);
  const uint8_t* code(size_t slot) const { return codes_.data() + slot * space_.code_bytes(); }

  Space space_;
  mutable std::shared_mutex mu_;
  Arena codes_;
  std::vector<uint64_t> labels_;                   // slot -> label
  std::unordered_map<uint64_t, uint32_t> slots_;   // label -> slot
};

}  // namespace ragkv::vec::internal
