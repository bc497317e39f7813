// HnswIndex: hierarchical navigable small world graph (Malkov & Yashunin)
// (internal; use VectorIndex::Create with Algorithm::kHnsw).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "index/vector/arena.h"
#include "index/vector/space.h"
#include "index/vector/vector_index.h"

namespace ragkv::vec::internal {

class ByteReader;

// Layout: one level-0 record per slot in a single huge-page arena,
//   [code: code_bytes][u32 count][u32 links[2m]] padded to 64 bytes,
// so a hop reads a node's vector and its links from one place. Upper-level
// link lists ([u32 count][u32 links[m]] per level) are allocated per node.
// Slots are never moved; a removed label leaves a tombstone that still routes
// searches, its neighbours are re-linked around it, and the slot is reused by
// the next insert. Thread safety: see vector_index.h.
class HnswIndex final : public VectorIndex {
 public:
  static Result<std::unique_ptr<HnswIndex>> Create(const IndexSpec& spec);

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

  static Result<std::unique_ptr<HnswIndex>> LoadBody(const IndexSpec& spec, ByteReader& in);

  // A pool entry: distance and slot (high bit: already expanded).
  struct Candidate {
    float distance;
    uint32_t slot;
  };

 private:
  static constexpr uint32_t kNone = 0xffffffffu;
  static constexpr int kMaxLevel = 63;

  HnswIndex(const IndexSpec& spec, Space space);

  size_t max_links(int level) const { return level == 0 ? m0_ : m_; }
  uint8_t* record(uint32_t slot) { return records_.data() + size_t{slot} * record_bytes_; }
  const uint8_t* record(uint32_t slot) const {
    return records_.data() + size_t{slot} * record_bytes_;
  }
  const uint8_t* code(uint32_t slot) const { return record(slot); }
  // [count, links...] of `slot` on `level`.
  uint32_t* links(uint32_t slot, int level);
  const uint32_t* links(uint32_t slot, int level) const;

  Status Grow(size_t slots);
  int RandomLevel();
  // Takes a slot for a new label (reusing a tombstone when `reuse`); the
  // caller holds the writer lock or alloc_mu_.
  Result<uint32_t> AllocateSlot(uint64_t label, bool reuse);
  // Links an encoded slot into the graph. kLocked: per-node locks (AddBatch).
  template <bool kLocked>
  void Insert(uint32_t slot);
  Status AddLocked(uint64_t label, std::span<const float> v);
  void RemoveLocked(uint32_t slot);
  void ChooseNewEntryPoint();

  // Greedy descent on one upper level.
  template <bool kLocked>
  uint32_t Greedy(const QueryForm& q, uint32_t ep, float* ep_distance, int level) const;
  // Beam search of width ef on `level`; fills `pool` sorted by distance.
  template <bool kLocked>
  void SearchLevel(const QueryForm& q, uint32_t ep, float ep_distance, size_t ef, int level,
                   std::vector<Candidate>* pool) const;
  // Filtered beam search on level 0: traverses all nodes, returns the ef
  // best allowed ones sorted.
  void SearchFiltered(const QueryForm& q, uint32_t ep, float ep_distance, size_t ef,
                      const Filter& filter, std::vector<Candidate>* out) const;
  // Heuristic neighbour selection (paper's algorithm 4) over `cands` sorted
  // ascending; keeps at most `m`.
  void SelectNeighbors(std::vector<Candidate>* cands, size_t m) const;
  // Adds a back link from `to` to `from` on `level`, pruning when full.
  template <bool kLocked>
  void Connect(uint32_t to, uint32_t from, float distance, int level);
  uint32_t EntryForSearch(const QueryForm& q, float* distance) const;
  std::vector<Neighbor> Finish(const QueryForm& q, std::vector<Candidate>& pool, size_t k,
                               const Filter* filter) const;
  std::mutex& NodeLock(uint32_t slot) const { return node_locks_[slot & (kNodeLocks - 1)]; }

  Space space_;
  size_t m_, m0_;
  size_t record_bytes_;
  size_t links_offset_;
  double level_mult_;

  mutable std::shared_mutex mu_;  // readers vs writers (see vector_index.h)
  Arena records_;
  size_t capacity_ = 0;
  std::atomic<uint32_t> num_slots_{0};
  std::vector<uint64_t> labels_;
  std::vector<uint8_t> levels_;
  std::vector<uint8_t> deleted_;
  std::vector<std::unique_ptr<uint32_t[]>> upper_;
  std::unordered_map<uint64_t, uint32_t> slots_;
  std::vector<uint32_t> free_slots_;
  uint32_t entry_point_ = kNone;
  int max_level_ = -1;
  std::mt19937_64 rng_;

  // AddBatch only: slot allocation, entry point, per-node link lists.
  std::mutex alloc_mu_;
  std::mutex entry_mu_;
  static constexpr size_t kNodeLocks = 4096;
  mutable std::unique_ptr<std::mutex[]> node_locks_;
};

}  // namespace ragkv::vec::internal
