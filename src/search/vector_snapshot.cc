// Saving and adopting the VECTOR fields of an FT index (vector_snapshot.h;
// byte layout in docs/formats/snapshot.md, "Vector indexes").
//
// Saving streams: the doc table goes through a 1 MiB buffer and the vector
// index through VectorIndex::SaveTo, whose Begin(size) callback is where the
// blob's total size becomes known and the blob is started; nothing of the
// size of the index is ever built in memory.
//
// Adopting keeps one code path for indexing: the caller scans the keyspace
// as for a rebuild and Upsert runs as usual for TAG/TEXT/NUMERIC fields,
// only the adopted VECTOR fields check for the saved vector instead of
// inserting it (O(1) per document instead of an HNSW insert). Validation is
// what the scan can prove cheaply: every saved document is re-indexed under
// its saved id, no other document is, every vector present in the keyspace
// is in the saved index and the counts agree (so the label sets are equal),
// and one vector in 1024 is compared by value. Rejected: re-checking every
// vector's value (an O(n * dim) decode at every start for a case the
// section's checksum already covers), and repairing a mismatching graph by
// inserting/removing the differences (the keyspace and the section come from
// one point in time, so a mismatch means a bug or a hand-edited file, where
// a clean rebuild is the trustworthy answer).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>

#include "common/crc32c.h"
#include "search/search_index.h"

namespace ragkv::search {
namespace {

constexpr uint32_t kBlobVersion = 1;
constexpr size_t kChunk = 1 << 20;

// Buffers little-endian fields into ~1 MiB chunks for a SavedFieldSink, with
// a running crc32c. Errors are sticky.
class BlobWriter {
 public:
  explicit BlobWriter(SavedFieldSink& sink) : sink_(sink) {}
  template <typename T>
  void Put(T v) {
    PutBytes(&v, sizeof(v));
  }
  void PutStr(std::string_view s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    PutBytes(s.data(), s.size());
  }
  void PutBytes(const void* p, size_t n) {
    buf_.append(static_cast<const char*>(p), n);
    if (buf_.size() >= kChunk) Flush();
  }
  // Passes a chunk through unbuffered (after what is buffered).
  Status Direct(std::string_view chunk) {
    Flush();
    crc_ = crc32c::Extend(crc_, chunk.data(), chunk.size());
    if (status_.ok()) status_ = sink_.Append(chunk);
    return status_;
  }
  Status Finish() {
    Flush();
    const uint32_t crc = crc_;
    buf_.assign(reinterpret_cast<const char*>(&crc), sizeof(crc));
    if (status_.ok()) status_ = sink_.Append(buf_);
    buf_.clear();
    return status_;
  }
  Status status() const { return status_; }

 private:
  void Flush() {
    if (buf_.empty()) return;
    crc_ = crc32c::Extend(crc_, buf_.data(), buf_.size());
    if (status_.ok()) status_ = sink_.Append(buf_);
    buf_.clear();
  }

  SavedFieldSink& sink_;
  std::string buf_;
  uint32_t crc_ = 0;
  Status status_;
};

class Cursor {
 public:
  explicit Cursor(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool GetStr(std::string* s) {
    uint32_t n = 0;
    if (!Get(&n) || n > in_.size()) return false;
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool Take(size_t n, std::string_view* out) {
    if (n > in_.size()) return false;
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  size_t remaining() const { return in_.size(); }

 private:
  std::string_view in_;
};

bool AddWouldReject(const std::vector<float>& v, vec::Metric metric) {
  bool all_zero = true;
  for (float x : v) {
    if (!std::isfinite(x)) return true;
    all_zero = all_zero && x == 0;
  }
  return all_zero && metric == vec::Metric::kCosine;
}

// Whether the saved vector of `id` is the one `blob` holds, up to the
// storage type's rounding. Quantized types are not compared (lossy by design).
bool StoredVectorMatches(const vec::VectorIndex& index, uint64_t id,
                         std::span<const std::byte> blob) {
  const vec::IndexSpec& spec = index.spec();
  if (spec.type == vec::ElementType::kInt8 || spec.type == vec::ElementType::kUint8) return true;
  auto want = vec::DecodeBlob(spec.type, spec.dim, blob);
  auto have = index.GetVector(id);
  if (!want.ok() || !have || have->size() != want->size()) return false;
  if (spec.metric == vec::Metric::kCosine) {
    double norm = 0;
    for (float x : *want) norm += double{x} * x;
    norm = std::sqrt(norm);
    if (norm > 0) {
      for (float& x : *want) x = static_cast<float>(x / norm);
    }
  }
  const bool half =
      spec.type == vec::ElementType::kFloat16 || spec.type == vec::ElementType::kBFloat16;
  for (size_t i = 0; i < want->size(); ++i) {
    const float a = (*want)[i], b = (*have)[i];
    const float tol =
        half ? 8e-3f * std::max(1.0f, std::fabs(a)) : 1e-5f * std::max(1.0f, std::fabs(a));
    if (!(std::fabs(a - b) <= tol)) return false;
  }
  return true;
}

bool SameVectorShape(const vec::IndexSpec& a, const vec::IndexSpec& b) {
  if (a.algorithm != b.algorithm || a.dim != b.dim || a.metric != b.metric || a.type != b.type) {
    return false;
  }
  return a.algorithm == vec::Algorithm::kFlat ||
         (a.m == b.m && a.ef_construction == b.ef_construction);
}

}  // namespace

Status SearchIndex::SaveVectorFields(SavedFieldSink& sink) const {
  if (!mu_.try_lock_shared()) {
    return Status::Unavailable("index " + def_.name + " is being written");
  }
  std::shared_lock lock(mu_, std::adopt_lock);
  bool any_vector = false;
  for (const FieldState& f : fields_) any_vector = any_vector || f.vector != nullptr;
  if (!any_vector) return Status::Ok();

  std::vector<std::pair<uint64_t, const std::string*>> table;
  table.reserve(docs_.size());
  uint64_t table_bytes = 0;
  for (const auto& [id, doc] : docs_) {
    table.emplace_back(id, &doc.key);
    table_bytes += 8 + 4 + doc.key.size();
  }
  std::sort(table.begin(), table.end());

  for (const FieldState& f : fields_) {
    if (f.vector == nullptr) continue;
    const std::string& attribute = f.def->alias;
    BlobWriter out(sink);
    // The vector index announces its size first; that is when the blob,
    // whose header precedes the index bytes, can be started.
    struct IndexSink final : vec::ByteSink {
      Status Begin(uint64_t index_bytes) override {
        const uint64_t total = 4 + 4 + 4 + self->def_.name.size() + 4 + attribute->size() + 8 + 8 +
                               table_bytes + 8 + index_bytes + 4;
        RAGKV_RETURN_IF_ERROR(sink->Begin(*attribute, total));
        out->Put<uint32_t>(kBlobVersion);
        out->Put<uint32_t>(static_cast<uint32_t>(self->db_));
        out->PutStr(self->def_.name);
        out->PutStr(*attribute);
        out->Put<uint64_t>(self->next_id_);
        out->Put<uint64_t>(table->size());
        for (const auto& [id, key] : *table) {
          out->Put<uint64_t>(id);
          out->PutStr(*key);
        }
        out->Put<uint64_t>(index_bytes);
        return out->status();
      }
      Status Append(std::string_view chunk) override { return out->Direct(chunk); }

      const SearchIndex* self;
      const std::string* attribute;
      const std::vector<std::pair<uint64_t, const std::string*>>* table;
      uint64_t table_bytes;
      SavedFieldSink* sink;
      BlobWriter* out;
    } index_sink;
    index_sink.self = this;
    index_sink.attribute = &attribute;
    index_sink.table = &table;
    index_sink.table_bytes = table_bytes;
    index_sink.sink = &sink;
    index_sink.out = &out;
    RAGKV_RETURN_IF_ERROR(f.vector->SaveTo(index_sink));
    RAGKV_RETURN_IF_ERROR(out.Finish());
  }
  return Status::Ok();
}

Result<SavedVectorField> DecodeSavedVectorField(std::string_view blob) {
  const auto bad = [](std::string_view why) {
    return Status::Corruption("saved vector field: " + std::string(why));
  };
  if (blob.size() < 4) return bad("truncated");
  uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, blob.data() + blob.size() - 4, 4);
  blob.remove_suffix(4);
  if (crc32c::Value(blob) != stored_crc) return bad("checksum mismatch");
  Cursor in(blob);
  SavedVectorField out;
  uint32_t version = 0, db = 0;
  uint64_t num_docs = 0, index_bytes = 0;
  if (!in.Get(&version)) return bad("truncated header");
  if (version != kBlobVersion) return bad("unsupported version " + std::to_string(version));
  if (!in.Get(&db) || !in.GetStr(&out.index_name) || !in.GetStr(&out.attribute) ||
      !in.Get(&out.next_doc_id) || !in.Get(&num_docs)) {
    return bad("truncated header");
  }
  if (db > (1u << 20)) return bad("bad db");
  out.db = static_cast<int>(db);
  if (num_docs > in.remaining() / 12) return bad("document count runs past the end");
  out.docs.resize(num_docs);
  uint64_t previous = 0;
  for (auto& [id, key] : out.docs) {
    if (!in.Get(&id) || !in.GetStr(&key)) return bad("truncated document table");
    if (id <= previous || id >= out.next_doc_id) return bad("document ids out of order or range");
    previous = id;
  }
  std::string_view index;
  if (!in.Get(&index_bytes) || !in.Take(index_bytes, &index)) return bad("truncated vector index");
  if (in.remaining() != 0) return bad("trailing bytes");
  auto loaded = vec::VectorIndex::LoadFrom(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(index.data()), index.size()));
  if (!loaded.ok()) return bad(loaded.status().message());
  out.index = std::move(*loaded);
  size_t labelled = 0;
  for (const auto& [id, key] : out.docs) labelled += out.index->Contains(id) ? 1 : 0;
  if (labelled != out.index->size()) return bad("vector labels that are not documents");
  return out;
}

Status SearchIndex::BeginAdoption(std::vector<SavedVectorField> saved) {
  WriteLock lock(*this);
  const auto fail = [this](const std::string& why) {
    ResetLocked();
    adoption_.reset();
    return Status::FailedPrecondition("index " + def_.name + ": " + why);
  };
  if (!docs_.empty() || adoption_) return Status::FailedPrecondition("index is not empty");
  if (saved.empty()) return Status::InvalidArgument("nothing to adopt");
  adoption_ = std::make_unique<Adoption>();
  adoption_->adopted.assign(fields_.size(), false);
  const SavedVectorField& first = saved.front();
  for (SavedVectorField& field : saved) {
    size_t i = 0;
    while (i < fields_.size() && fields_[i].def->alias != field.attribute) ++i;
    if (i == fields_.size() || fields_[i].def->type != FieldType::kVector ||
        fields_[i].def->noindex) {
      return fail("field " + field.attribute + ": not a VECTOR field of the index");
    }
    if (adoption_->adopted[i]) return fail("field " + field.attribute + ": saved twice");
    if (!SameVectorShape(ToVectorSpec(fields_[i].def->vector), field.index->spec())) {
      return fail("field " + field.attribute + ": saved with other vector parameters");
    }
    if (&field != &first && (field.next_doc_id != first.next_doc_id || field.docs != first.docs)) {
      return fail("field " + field.attribute + ": document table differs from field " +
                  first.attribute + "'s");
    }
    fields_[i].vector = std::move(field.index);
    adoption_->adopted[i] = true;
  }
  adoption_->ids.reserve(first.docs.size());
  key_to_id_.reserve(first.docs.size());  // the scan re-indexes about this many
  docs_.reserve(first.docs.size());
  for (const auto& [id, key] : first.docs) {
    if (!adoption_->ids.emplace(key, id).second) return fail("key " + key + " saved twice");
  }
  adoption_->saved_docs = first.docs.size();
  adoption_->saved_next_id = first.next_doc_id;
  next_id_ = first.next_doc_id;
  return Status::Ok();
}

uint64_t SearchIndex::AdoptedIdLocked(const std::string& key) {
  auto it = adoption_->ids.find(key);
  return it != adoption_->ids.end() ? it->second : next_id_++;
}

bool SearchIndex::AdoptVectorLocked(FieldState& f, uint64_t id, const std::string& key,
                                    std::span<const std::byte> blob, bool* valid) {
  Adoption& a = *adoption_;
  if (f.vector->Contains(id)) {
    if (a.checked++ % 1024 == 0 && a.mismatch.empty() &&
        !StoredVectorMatches(*f.vector, id, blob)) {
      a.mismatch = "field " + f.def->alias + ": the saved vector of key " + key +
                   " differs from the keyspace";
    }
    return true;
  }
  auto v = vec::DecodeBlob(f.vector->spec().type, f.vector->spec().dim, blob);
  if (v.ok() && AddWouldReject(*v, f.vector->spec().metric)) {
    *valid = false;  // rejected when saved too
  } else if (a.mismatch.empty()) {
    a.mismatch = "field " + f.def->alias + ": key " + key + " has a vector the saved index lacks";
  }
  return false;
}

Status SearchIndex::FinishAdoption() {
  WriteLock lock(*this);
  if (!adoption_) return Status::FailedPrecondition("no adoption in progress");
  std::string why = adoption_->mismatch;
  if (why.empty() && docs_.size() != adoption_->saved_docs) {
    why = std::to_string(adoption_->saved_docs) + " documents saved, " +
          std::to_string(docs_.size()) + " in the keyspace";
  }
  for (const auto& [id, doc] : docs_) {
    if (!why.empty()) break;
    if (id >= adoption_->saved_next_id) why = "key " + doc.key + " was not indexed when saved";
  }
  for (size_t i = 0; i < fields_.size() && why.empty(); ++i) {
    if (!adoption_->adopted[i]) continue;
    size_t with_vector = 0;
    for (const auto& [id, doc] : docs_) with_vector += doc.has_vector[i] ? 1 : 0;
    if (with_vector != fields_[i].vector->size()) {
      why = "field " + fields_[i].def->alias + ": " + std::to_string(fields_[i].vector->size()) +
            " vectors saved, " + std::to_string(with_vector) + " in the keyspace";
    }
  }
  adoption_.reset();
  if (why.empty()) return Status::Ok();
  ResetLocked();
  return Status::FailedPrecondition("index " + def_.name + ": " + why);
}

void SearchIndex::ResetLocked() {
  docs_.clear();
  key_to_id_.clear();
  for (size_t i = 0; i < fields_.size(); ++i) {
    FieldState& f = fields_[i];
    f.tag.postings.clear();
    f.tag.totals = {};
    f.text.sorted_terms.clear();  // views into the postings' keys: first
    f.text.postings.clear();
    f.text.totals = {};
    f.numeric = NumericField{};
    f.geo = GeoField{};
    // Succeeded when the index was created, with the same spec.
    if (f.vector != nullptr) (void)InitField(i);
  }
  RebuildTextIndexLocked();
  next_id_ = 1;
  failures_ = 0;
}

}  // namespace ragkv::search
