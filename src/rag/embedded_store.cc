// The embedded ChunkStore: a collection in a data directory, no server.
//
// Layout (see docs/rag.md):
//   DATA/LOCK                   flock(2)ed while a process has DATA open
//   DATA/<collection>/CURRENT   name of the live generation, e.g. "gen-000012"
//   DATA/<collection>/gen-N/    meta.json, manifest.json, chunks.bin,
//                               text.idx, vectors.idx, embedder.state
// A commit writes a complete new generation into "gen-N.tmp", fsyncs every
// file and the directory, renames it to "gen-N", then replaces CURRENT by the
// same write-temp/fsync/rename dance and deletes the old generation. Readers
// only ever follow CURRENT, so a crash at any point leaves either the old or
// the new generation live, never a mix; leftovers are removed at open.
// Rejected: an append-only log of chunk records (smaller commits, but needs
// compaction and recovery code that a rebuild-per-commit store does not, and
// collections here are tens of MB); SQLite (another engine under ours).
//
// Everything is held in memory while open: chunk records in an ordered map,
// the BM25 index (index/text) and the vectors in the vector engine's exact
// FLAT index (index/vector, inner-product metric on unit vectors). FLAT, not
// HNSW: a document collection is 10^3-10^5 chunks, where an exact scan takes
// milliseconds and recall is 1 by construction.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "common/crc32c.h"
#include "index/text/byte_codec.h"
#include "index/text/text_index.h"
#include "index/vector/vector_index.h"
#include "rag/chunk_store.h"
#include "rag/store_io.h"

namespace ragkv::rag {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr uint32_t kChunksMagic = 0x43444B52;  // "RKDC"
constexpr int kFormatVersion = 1;
// The title field (document title, heading path, file name) is short and
// names what the chunk is about; weighting it above body text is the usual
// BM25F choice (Robertson et al. 2004 weight titles 2-5x).
constexpr float kTitleWeight = 3.0f;

text::TextIndexOptions IndexOptions() {
  text::TextIndexOptions o;
  o.fields = {{"title", kTitleWeight}, {"body", 1.0f}};
  return o;
}

class EmbeddedStore final : public ChunkStore {
 public:
  EmbeddedStore(std::string dir, std::string name, int lock_fd,
                std::unique_ptr<text::TextIndex> index)
      : dir_(std::move(dir)), lock_fd_(lock_fd), index_(std::move(index)) {
    info_.name = std::move(name);
  }
  ~EmbeddedStore() override {
    if (lock_fd_ >= 0) close(lock_fd_);  // releases the flock
  }

  Status Load();

  const CollectionInfo& info() const override { return info_; }

  Status BindEmbedder(std::string_view embedder_id, size_t dim) override {
    if (info_.embedder_id.empty()) {
      RAGKV_RETURN_IF_ERROR(CreateVectorIndex(dim));
      info_.embedder_id = std::string(embedder_id);
      info_.dim = dim;
      return Status::Ok();
    }
    if (info_.embedder_id != embedder_id || info_.dim != dim) {
      return Status::FailedPrecondition("collection '" + info_.name + "' was built with embedder " +
                                        info_.embedder_id + " (dim " + std::to_string(info_.dim) +
                                        "), not " + std::string(embedder_id) + " (dim " +
                                        std::to_string(dim) + "); use --embedder " +
                                        info_.embedder_id + " or ingest into another --collection");
    }
    return Status::Ok();
  }

  std::optional<FileEntry> FindFile(const std::string& source) const override {
    auto it = manifest_.find(source);
    if (it == manifest_.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> Sources() const override {
    std::vector<std::string> out;
    for (const auto& [s, e] : manifest_) out.push_back(s);
    return out;
  }
  size_t chunk_count() const override { return chunks_.size(); }

  Status PutFile(FileEntry entry, std::vector<ChunkRecord> chunks,
                 const std::vector<std::vector<float>>& vectors) override {
    if (vectors.size() != chunks.size()) {
      return Status::InvalidArgument("PutFile: one vector per chunk is required");
    }
    for (const auto& v : vectors) {
      if (v.size() != info_.dim) {
        return Status::InvalidArgument("PutFile: vector of dimension " + std::to_string(v.size()) +
                                       ", collection has " + std::to_string(info_.dim));
      }
    }
    if (!chunks.empty() && vectors_ == nullptr) {
      return Status::FailedPrecondition("PutFile before BindEmbedder");
    }
    RemoveFile(entry.source);
    entry.chunk_ids.clear();
    for (size_t i = 0; i < chunks.size(); ++i) {
      ChunkRecord& c = chunks[i];
      c.id = next_chunk_id_++;
      c.source = entry.source;
      entry.chunk_ids.push_back(c.id);
      RAGKV_RETURN_IF_ERROR(vectors_->Add(c.id, vectors[i]));
      RAGKV_RETURN_IF_ERROR(IndexChunk(c));
      chunks_.emplace(c.id, std::move(c));
    }
    manifest_[entry.source] = std::move(entry);
    return Status::Ok();
  }

  bool RemoveFile(const std::string& source) override {
    auto it = manifest_.find(source);
    if (it == manifest_.end()) return false;
    for (uint64_t id : it->second.chunk_ids) {
      index_->Remove(id);
      if (vectors_ != nullptr) (void)vectors_->Remove(id);  // kNotFound is fine
      chunks_.erase(id);
    }
    manifest_.erase(it);
    return true;
  }

  const std::string& embedder_state() const override { return embedder_state_; }
  void set_embedder_state(std::string state) override { embedder_state_ = std::move(state); }

  Status Commit() override;

  Result<std::vector<Candidate>> TextSearch(std::string_view query, size_t k) override {
    std::vector<Candidate> out;
    for (const text::TextHit& h : index_->Search(query, k)) out.push_back({h.id, h.score});
    return out;
  }

  Result<std::vector<Candidate>> VectorSearch(std::span<const float> query, size_t k) override {
    if (query.size() != info_.dim) {
      return Status::InvalidArgument("query vector has dimension " + std::to_string(query.size()) +
                                     ", collection has " + std::to_string(info_.dim));
    }
    std::vector<Candidate> out;
    if (vectors_ == nullptr || vectors_->size() == 0 || k == 0) return out;
    RAGKV_ASSIGN_OR_RETURN(std::vector<vec::Neighbor> hits, vectors_->Search(query, k));
    // kIp distance is 1 - dot; report the dot product as the score.
    for (const vec::Neighbor& n : hits) out.push_back({n.label, 1.0f - n.distance});
    return out;
  }

  Result<ChunkRecord> GetChunk(uint64_t id) const override {
    auto it = chunks_.find(id);
    if (it == chunks_.end()) return Status::NotFound("chunk " + std::to_string(id));
    return it->second;
  }

  std::vector<TermStat> QueryTermStats(std::string_view q) const override {
    std::vector<TermStat> out;
    for (std::string& t : index_->tokenizer().Tokenize(q)) {
      TermStat st{t, index_->Idf(t), index_->DocFrequency(t)};
      out.push_back(std::move(st));
    }
    return out;
  }
  std::vector<std::string> Analyze(std::string_view text) const override {
    return index_->tokenizer().Tokenize(text);
  }

 private:
  Status IndexChunk(const ChunkRecord& c) { return index_->Add(c.id, {TitleField(c), c.text}); }
  Status CreateVectorIndex(size_t dim) {
    vec::IndexSpec spec;
    spec.algorithm = vec::Algorithm::kFlat;
    spec.metric = vec::Metric::kIp;
    // Half precision: embeddings carry ~3 significant digits of signal, and
    // it halves memory and the bytes every commit writes and fsyncs.
    spec.type = vec::ElementType::kFloat16;
    spec.dim = dim;
    RAGKV_ASSIGN_OR_RETURN(vectors_, vec::VectorIndex::Create(spec));
    return Status::Ok();
  }

  std::string GenPath(uint64_t gen) const {
    char name[32];
    std::snprintf(name, sizeof name, "gen-%06llu", static_cast<unsigned long long>(gen));
    return dir_ + "/" + name;
  }

  std::string dir_;
  int lock_fd_;
  CollectionInfo info_;
  uint64_t generation_ = 0;
  uint64_t next_chunk_id_ = 1;
  std::map<uint64_t, ChunkRecord> chunks_;
  std::map<std::string, FileEntry> manifest_;
  std::unique_ptr<text::TextIndex> index_;
  std::unique_ptr<vec::VectorIndex> vectors_;  // null until the embedder is bound
  std::string embedder_state_;
};

Status EmbeddedStore::Commit() {
  const uint64_t gen = generation_ + 1;
  const std::string final_dir = GenPath(gen);
  const std::string tmp_dir = final_dir + ".tmp";
  std::error_code ec;
  fs::remove_all(tmp_dir, ec);
  if (!fs::create_directories(tmp_dir, ec) || ec) {
    return Status::IOError("cannot create " + tmp_dir + ": " + ec.message());
  }
  Json meta = {{"format", kFormatVersion},        {"collection", info_.name},
               {"embedder", info_.embedder_id},   {"dim", info_.dim},
               {"next_chunk_id", next_chunk_id_}, {"chunks", chunks_.size()},
               {"files", manifest_.size()}};
  Json manifest = Json::array();
  for (const auto& [source, e] : manifest_) {
    manifest.push_back(
        {{"source", source}, {"hash", e.content_hash}, {"size", e.size}, {"chunks", e.chunk_ids}});
  }
  text::ByteWriter chunks;
  chunks.PutU32(kChunksMagic);
  chunks.PutU64(chunks_.size());
  for (const auto& [id, c] : chunks_) {
    chunks.PutU64(c.id);
    chunks.PutString(c.source);
    chunks.PutString(c.title);
    chunks.PutString(c.heading);
    chunks.PutU32(c.page);
    chunks.PutU64(c.offset);
    chunks.PutU32(c.ordinal);
    chunks.PutString(c.text);
  }
  chunks.PutU32(crc32c::Value(chunks.buffer().data(), chunks.buffer().size()));

  RAGKV_RETURN_IF_ERROR(WriteFileDurably(tmp_dir + "/meta.json", meta.dump(2) + "\n"));
  RAGKV_RETURN_IF_ERROR(WriteFileDurably(tmp_dir + "/manifest.json", manifest.dump() + "\n"));
  RAGKV_RETURN_IF_ERROR(WriteFileDurably(tmp_dir + "/chunks.bin", chunks.buffer()));
  RAGKV_RETURN_IF_ERROR(WriteFileDurably(tmp_dir + "/text.idx", index_->Serialize()));
  if (vectors_ != nullptr) RAGKV_RETURN_IF_ERROR(vectors_->Save(tmp_dir + "/vectors.idx"));
  RAGKV_RETURN_IF_ERROR(WriteFileDurably(tmp_dir + "/embedder.state", embedder_state_));
  RAGKV_RETURN_IF_ERROR(SyncDirectory(tmp_dir));
  if (std::rename(tmp_dir.c_str(), final_dir.c_str()) != 0) {
    return Status::IOError("rename " + tmp_dir + ": " + std::strerror(errno));
  }
  RAGKV_RETURN_IF_ERROR(SyncDirectory(dir_));
  RAGKV_RETURN_IF_ERROR(
      ReplaceFileDurably(dir_ + "/CURRENT", fs::path(final_dir).filename().string() + "\n"));
  if (generation_ > 0) fs::remove_all(GenPath(generation_), ec);
  generation_ = gen;
  return Status::Ok();
}

Status EmbeddedStore::Load() {
  std::error_code ec;
  // Remove leftovers of interrupted commits and superseded generations.
  std::string current;
  if (fs::exists(dir_ + "/CURRENT", ec)) {
    RAGKV_ASSIGN_OR_RETURN(current, ReadWholeFile(dir_ + "/CURRENT"));
    while (!current.empty() && (current.back() == '\n' || current.back() == ' ')) {
      current.pop_back();
    }
  }
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("gen-", 0) == 0 && name != current) fs::remove_all(entry.path(), ec);
  }
  if (current.empty()) return Status::Ok();
  const std::string gen_dir = dir_ + "/" + current;
  auto corrupt = [&](const std::string& file, std::string_view what) {
    return Status::Corruption(gen_dir + "/" + file + ": " + std::string(what) +
                              "; delete the collection directory " + dir_ + " and ingest again");
  };
  generation_ = std::strtoull(current.c_str() + 4, nullptr, 10);

  RAGKV_ASSIGN_OR_RETURN(std::string meta_text, ReadWholeFile(gen_dir + "/meta.json"));
  Json meta = Json::parse(meta_text, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded() || !meta.is_object() || meta.value("format", 0) != kFormatVersion) {
    return corrupt("meta.json", "unreadable or unsupported format");
  }
  info_.embedder_id = meta.value("embedder", std::string());
  info_.dim = meta.value("dim", size_t{0});
  next_chunk_id_ = meta.value("next_chunk_id", uint64_t{1});

  RAGKV_ASSIGN_OR_RETURN(std::string manifest_text, ReadWholeFile(gen_dir + "/manifest.json"));
  Json manifest = Json::parse(manifest_text, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_array()) {
    return corrupt("manifest.json", "unreadable");
  }
  for (const Json& e : manifest) {
    if (!e.is_object() || !e.contains("source") || !e["source"].is_string() ||
        !e.contains("chunks") || !e["chunks"].is_array()) {
      return corrupt("manifest.json", "bad entry");
    }
    FileEntry f;
    f.source = e["source"].get<std::string>();
    f.content_hash = e.value("hash", uint64_t{0});
    f.size = e.value("size", uint64_t{0});
    for (const Json& id : e["chunks"]) {
      if (!id.is_number_unsigned()) return corrupt("manifest.json", "bad chunk id");
      f.chunk_ids.push_back(id.get<uint64_t>());
    }
    manifest_[f.source] = std::move(f);
  }

  RAGKV_ASSIGN_OR_RETURN(std::string chunk_bytes, ReadWholeFile(gen_dir + "/chunks.bin"));
  if (!VerifyTrailingCrc(chunk_bytes)) return corrupt("chunks.bin", "checksum mismatch");
  text::ByteReader r(std::string_view(chunk_bytes).substr(0, chunk_bytes.size() - 4));
  uint32_t magic;
  uint64_t count;
  if (!r.GetU32(&magic) || magic != kChunksMagic || !r.GetU64(&count)) {
    return corrupt("chunks.bin", "bad header");
  }
  for (uint64_t i = 0; i < count; ++i) {
    ChunkRecord c;
    if (!r.GetU64(&c.id) || !r.GetString(&c.source) || !r.GetString(&c.title) ||
        !r.GetString(&c.heading) || !r.GetU32(&c.page) || !r.GetU64(&c.offset) ||
        !r.GetU32(&c.ordinal) || !r.GetString(&c.text)) {
      return corrupt("chunks.bin", "truncated record");
    }
    chunks_.emplace(c.id, std::move(c));
  }

  RAGKV_ASSIGN_OR_RETURN(std::string index_bytes, ReadWholeFile(gen_dir + "/text.idx"));
  auto index = text::TextIndex::Deserialize(index_bytes);
  if (!index.ok()) return corrupt("text.idx", index.status().message());
  index_ = std::move(index).value();

  size_t vector_count = 0;
  if (!info_.embedder_id.empty()) {
    auto vectors = vec::VectorIndex::Load(gen_dir + "/vectors.idx");
    if (!vectors.ok()) return corrupt("vectors.idx", vectors.status().message());
    vectors_ = std::move(vectors).value();
    if (vectors_->dim() != info_.dim) {
      return corrupt("vectors.idx", "dimension differs from meta.json");
    }
    vector_count = vectors_->size();
  }

  RAGKV_ASSIGN_OR_RETURN(embedder_state_, ReadWholeFile(gen_dir + "/embedder.state"));
  if (index_->size() != chunks_.size() || vector_count != chunks_.size()) {
    return corrupt("", "chunk, index and vector counts disagree");
  }
  return Status::Ok();
}

}  // namespace

std::string DefaultDataDir() {
  const char* xdg = std::getenv("XDG_DATA_HOME");
  if (xdg != nullptr && *xdg != '\0') return std::string(xdg) + "/ragkv";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.local/share/ragkv";
}

Result<std::unique_ptr<ChunkStore>> OpenEmbeddedStore(const std::string& data_dir,
                                                      const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name[0] == '.') {
    return Status::InvalidArgument("collection name '" + name +
                                   "' must be non-empty, without '/' and not start with '.'");
  }
  std::error_code ec;
  fs::create_directories(data_dir + "/" + name, ec);
  if (ec) return Status::IOError("cannot create data directory " + data_dir + ": " + ec.message());
  RAGKV_ASSIGN_OR_RETURN(int lock_fd, LockDirectory(data_dir));
  auto index = text::TextIndex::Create(IndexOptions());
  if (!index.ok()) {
    close(lock_fd);
    return index.status();
  }
  auto store = std::make_unique<EmbeddedStore>(data_dir + "/" + name, name, lock_fd,
                                               std::move(index).value());
  RAGKV_RETURN_IF_ERROR(store->Load());
  return std::unique_ptr<ChunkStore>(std::move(store));
}

}  // namespace ragkv::rag
