// FlatIndex: exact k-NN by a linear scan over densely packed codes.
//
// Approach: codes live in one arena in slot order with no holes (Remove
// swaps the last slot into the gap), so the scan is a sequential stream the
// hardware prefetcher follows; a bounded heap keeps the k best. Quantized
// types are compared with the float query against the decoded codes (the
// exact distance to what is stored), so FLAT is the oracle for HNSW at every
// storage type. A filter is checked per slot before the distance.
#include "index/vector/flat_index.h"

#include <algorithm>
#include <mutex>

#include "index/vector/index_io.h"
#include "index/vector/serial.h"
#include "index/vector/top_k.h"

namespace ragkv::vec::internal {

Result<std::unique_ptr<FlatIndex>> FlatIndex::Create(const IndexSpec& spec) {
  RAGKV_ASSIGN_OR_RETURN(Space space, Space::Create(spec));
  std::unique_ptr<FlatIndex> index(new FlatIndex(spec, std::move(space)));
  const size_t cap = std::max<size_t>(spec.initial_cap, 1);
  if (!index->codes_.Reserve(cap * index->space_.code_bytes())) {
    return Status::ResourceExhausted("cannot reserve vector memory for INITIAL_CAP");
  }
  index->labels_.reserve(std::min<size_t>(cap, 1 << 20));
  return index;
}

size_t FlatIndex::size() const {
  std::shared_lock lock(mu_);
  return labels_.size();
}

size_t FlatIndex::MemoryBytes() const {
  std::shared_lock lock(mu_);
  // Hash map: one node (label, slot, next) plus one bucket pointer per entry.
  return sizeof(*this) + codes_.capacity() + labels_.capacity() * sizeof(uint64_t) +
         slots_.size() * (sizeof(void*) + 24) + slots_.bucket_count() * sizeof(void*);
}

Status FlatIndex::AddLocked(uint64_t label, std::span<const float> v) {
  const size_t bytes = space_.code_bytes();
  auto it = slots_.find(label);
  if (it != slots_.end()) {
    return space_.Encode(v, codes_.data() + it->second * bytes);
  }
  if (labels_.size() >= UINT32_MAX) return Status::ResourceExhausted("FLAT index is full");
  std::vector<uint8_t> encoded(bytes);
  RAGKV_RETURN_IF_ERROR(space_.Encode(v, encoded.data()));
  const size_t slot = labels_.size();
  if (!codes_.Reserve((slot + 1) * bytes)) {
    return Status::ResourceExhausted("out of memory growing the FLAT index");
  }
  std::memcpy(codes_.data() + slot * bytes, encoded.data(), bytes);
  labels_.push_back(label);
  slots_.emplace(label, static_cast<uint32_t>(slot));
  return Status::Ok();
}

Status FlatIndex::Add(uint64_t label, std::span<const float> v) {
  std::unique_lock lock(mu_);
  return AddLocked(label, v);
}

Status FlatIndex::AddBatch(std::span<const uint64_t> labels, std::span<const float> vectors,
                           size_t /*threads: encoding is memory-bound; one thread suffices*/) {
  if (vectors.size() != labels.size() * dim()) {
    return Status::InvalidArgument("AddBatch: vectors must hold labels.size() * dim floats");
  }
  std::unique_lock lock(mu_);
  for (size_t i = 0; i < labels.size(); ++i) {
    RAGKV_RETURN_IF_ERROR(AddLocked(labels[i], vectors.subspan(i * dim(), dim())));
  }
  return Status::Ok();
}

Status FlatIndex::Remove(uint64_t label) {
  std::unique_lock lock(mu_);
  auto it = slots_.find(label);
  if (it == slots_.end()) return Status::NotFound("label not in index");
  const uint32_t slot = it->second;
  slots_.erase(it);
  const size_t last = labels_.size() - 1;
  if (slot != last) {
    const size_t bytes = space_.code_bytes();
    std::memcpy(codes_.data() + slot * bytes, codes_.data() + last * bytes, bytes);
    labels_[slot] = labels_[last];
    slots_[labels_[slot]] = slot;
  }
  labels_.pop_back();
  return Status::Ok();
}

bool FlatIndex::Contains(uint64_t label) const {
  std::shared_lock lock(mu_);
  return slots_.count(label) != 0;
}

std::optional<std::vector<float>> FlatIndex::GetVector(uint64_t label) const {
  std::shared_lock lock(mu_);
  auto it = slots_.find(label);
  if (it == slots_.end()) return std::nullopt;
  std::vector<float> out(dim());
  space_.Decode(code(it->second), out.data());
  return out;
}

Result<std::vector<Neighbor>> FlatIndex::Search(std::span<const float> query, size_t k,
                                                const SearchParams& params) const {
  RAGKV_RETURN_IF_ERROR(CheckKnnArgs(k, params));
  QueryForm form;
  RAGKV_RETURN_IF_ERROR(space_.PrepareQuery(query, &form));
  std::shared_lock lock(mu_);
  TopK top(std::min(k, labels_.size()));
  const size_t n = labels_.size();
  const size_t bytes = space_.code_bytes();
  for (size_t slot = 0; slot < n; ++slot) {
    if (params.filter != nullptr && !params.filter->Allows(labels_[slot])) continue;
    if (slot + 4 < n) Prefetch(code(slot + 4), bytes);
    top.Push(labels_[slot], form.ExactDistance(code(slot)));
  }
  if (params.stats != nullptr) params.stats->distances = form.computed;
  return top.Take();
}

Result<std::vector<Neighbor>> FlatIndex::RangeSearch(std::span<const float> query, float radius,
                                                     const SearchParams& params) const {
  RAGKV_RETURN_IF_ERROR(CheckRadius(radius));
  QueryForm form;
  RAGKV_RETURN_IF_ERROR(space_.PrepareQuery(query, &form));
  std::shared_lock lock(mu_);
  std::vector<Neighbor> out;
  for (size_t slot = 0; slot < labels_.size(); ++slot) {
    if (params.filter != nullptr && !params.filter->Allows(labels_[slot])) continue;
    const float d = form.ExactDistance(code(slot));
    if (d <= radius) out.push_back({labels_[slot], d});
  }
  std::sort(out.begin(), out.end(), NeighborLess);
  return out;
}

Status FlatIndex::CheckInvariants() const {
  std::shared_lock lock(mu_);
  if (slots_.size() != labels_.size()) {
    return Status::Internal("FLAT: label map size differs from slot count");
  }
  for (size_t slot = 0; slot < labels_.size(); ++slot) {
    auto it = slots_.find(labels_[slot]);
    if (it == slots_.end() || it->second != slot) {
      return Status::Internal("FLAT: slot " + std::to_string(slot) + " not mapped back");
    }
  }
  if (labels_.size() * space_.code_bytes() > codes_.capacity()) {
    return Status::Internal("FLAT: codes exceed the arena");
  }
  return Status::Ok();
}

IndexStats FlatIndex::Stats() const {
  IndexStats stats;
  stats.memory_bytes = MemoryBytes();
  std::shared_lock lock(mu_);
  stats.live = stats.slots = labels_.size();
  return stats;
}

Status FlatIndex::SaveTo(ByteSink& sink) const {
  std::shared_lock lock(mu_);
  const size_t n = labels_.size();
  const uint64_t total =
      kHeaderBytes + 8 + n * (sizeof(uint64_t) + space_.code_bytes()) + kFooterBytes;
  RAGKV_RETURN_IF_ERROR(sink.Begin(total));
  ChunkedWriter w(sink);
  WriteHeader(spec_, &w);
  w.Put<uint64_t>(n);
  w.PutBytes(labels_.data(), n * sizeof(uint64_t));
  w.PutBytes(codes_.data(), n * space_.code_bytes());
  return w.Finish(total);
}

Result<std::unique_ptr<FlatIndex>> FlatIndex::LoadBody(const IndexSpec& spec, ByteReader& in) {
  uint64_t count = 0;
  if (!in.Get(&count)) return Truncated("FLAT count");
  RAGKV_ASSIGN_OR_RETURN(auto index, Create(spec));
  const size_t bytes = index->space_.code_bytes();
  if (count > in.remaining() / (sizeof(uint64_t) + bytes)) return Truncated("FLAT count too large");
  index->labels_.resize(count);
  if (!in.GetBytes(index->labels_.data(), count * sizeof(uint64_t))) return Truncated("labels");
  if (!index->codes_.Reserve(count * bytes)) {
    return Status::ResourceExhausted("out of memory loading FLAT index");
  }
  if (!in.GetBytes(index->codes_.data(), count * bytes)) return Truncated("codes");
  index->slots_.reserve(count);
  for (size_t slot = 0; slot < count; ++slot) {
    if (!index->slots_.emplace(index->labels_[slot], static_cast<uint32_t>(slot)).second) {
      return Status::Corruption("vector index file has a duplicate label");
    }
  }
  return index;
}

}  // namespace ragkv::vec::internal
