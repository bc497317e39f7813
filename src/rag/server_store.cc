// The server ChunkStore: a collection kept on a Redis-compatible server.
//
// Keys (C = collection name):
//   ragkv:C:meta            hash   embedder, dim, next_chunk_id, embedder_state,
//                                  state_stale (1 from the first write after a
//                                  commit until the next commit stores the state)
//   ragkv:C:file:<source>   hash   hash, size, chunks ("id id id"); the manifest is
//                                  the set of these keys (found by SCAN)
//   ragkv:C:pending         hash   source -> "first_id count" while a file is being written
//   ragkv:C:chunk:<id>      hash   text, title (the BM25 title field), doc_title,
//                                  source, heading, page, offset, ordinal,
//                                  embedding (little-endian FLOAT32 blob)
//   index "ragkv:C"         FT.CREATE ON HASH PREFIX 1 ragkv:C:chunk: SCHEMA
//                           title TEXT WEIGHT 3 text TEXT
//                           embedding VECTOR FLAT 6 TYPE FLOAT32 DIM d DISTANCE_METRIC IP
// BM25 runs on the server (FT.SEARCH ... SCORER BM25 WITHSCORES), KNN too
// (*=>[KNN k @embedding $vec AS dist]); the retriever above fuses them as it
// does for the embedded store. Term statistics for the confidence come from
// FT.SEARCH counts (LIMIT 0 0) and FT.INFO num_docs. Analysis for those uses
// our own tokenizer, which approximates the server's (both Snowball English).
// Only HSET/HGETALL/HINCRBY/HDEL/DEL/SCAN and FT.* are used, so any server with RediSearch's
// FT.* API works; nothing depends on ragkv internals.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>
#include <sstream>

#include "index/text/tokenizer.h"
#include "rag/chunk_store.h"
#include "rag/server_connection.h"
#include "rag/store_io.h"

namespace ragkv::rag {
namespace {

std::string Escape(std::string_view word) {
  std::string out;
  for (char c : word) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && static_cast<unsigned char>(c) < 0x80) {
      out.push_back('\\');
    }
    out.push_back(c);
  }
  return out;
}

std::map<std::string, std::string> HashFields(const resp::RespValue& v) {
  std::map<std::string, std::string> out;
  if (v.type != resp::RespType::kArray) return out;
  for (size_t i = 0; i + 1 < v.elements.size(); i += 2) {
    out[v.elements[i].str] = v.elements[i + 1].str;
  }
  return out;
}

uint64_t ToU64(const std::string& s) { return std::strtoull(s.c_str(), nullptr, 10); }

class ServerStore final : public ChunkStore {
 public:
  ServerStore(std::unique_ptr<RespConnection> conn, std::string name)
      : conn_(std::move(conn)), prefix_("ragkv:" + name + ":"), index_("ragkv:" + name) {
    info_.name = std::move(name);
  }

  Status Load() {
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue info, Call({"FT.INFO", index_}));
    if (info.is_error() && info.str.find("nknown command") != std::string::npos) {
      return Status::FailedPrecondition(
          "the server has no FT.* commands; use `ragkv serve`, Redis Stack / Redis 8, or "
          "Valkey with valkey-search");
    }
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue meta, Call({"HGETALL", prefix_ + "meta"}));
    auto fields = HashFields(meta);
    info_.embedder_id = fields["embedder"];
    info_.dim = ToU64(fields["dim"]);
    embedder_state_ = fields["embedder_state"];
    state_stale_ = fields["state_stale"] == "1";
    if (!info_.embedder_id.empty() && info.is_error()) {
      return Status::Corruption("collection '" + info_.name + "' has metadata but no index " +
                                index_ + " on the server; delete the ragkv:" + info_.name +
                                ":* keys and ingest again");
    }
    // The manifest is the set of file:<source> hashes; SCAN may return a key
    // twice, HGETALL of a key deleted meanwhile is empty.
    RAGKV_ASSIGN_OR_RETURN(std::vector<std::string> file_keys, ScanKeys(prefix_ + "file:"));
    // HGETALLs pipelined in batches: one round trip per batch, not per file.
    constexpr size_t kBatch = 512;
    for (size_t b = 0; b < file_keys.size(); b += kBatch) {
      std::vector<std::vector<std::string>> batch;
      for (size_t i = b; i < std::min(file_keys.size(), b + kBatch); ++i) {
        batch.push_back({"HGETALL", file_keys[i]});
      }
      RAGKV_ASSIGN_OR_RETURN(std::vector<resp::RespValue> replies, conn_->CallPipelined(batch));
      for (size_t i = 0; i < replies.size(); ++i) {
        const std::string source = file_keys[b + i].substr(prefix_.size() + 5);
        auto e = HashFields(replies[i]);
        if (e.empty() || manifest_.count(source) != 0) continue;
        FileEntry fe;
        fe.source = source;
        fe.content_hash = ToU64(e["hash"]);
        fe.size = ToU64(e["size"]);
        std::istringstream ids(e["chunks"]);
        for (uint64_t id; ids >> id;) fe.chunk_ids.push_back(id);
        chunk_count_ += fe.chunk_ids.size();
        manifest_[fe.source] = std::move(fe);
      }
    }
    // Ranges of an ingest that stopped between reserving ids and writing the
    // manifest entry: ids no manifest entry owns are orphans.
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue pending, Call({"HGETALL", PendingKey()}));
    for (const auto& [source, range] : HashFields(pending)) {
      pending_sources_.push_back(source);
      std::istringstream in(range);
      uint64_t first = 0, n = 0;
      in >> first >> n;
      std::set<uint64_t> owned;
      if (auto it = manifest_.find(source); it != manifest_.end()) {
        owned.insert(it->second.chunk_ids.begin(), it->second.chunk_ids.end());
      }
      for (uint64_t id = first; id < first + n && n < (1u << 24); ++id) {
        if (owned.count(id) == 0) orphans_.insert(id);
      }
    }
    return Status::Ok();
  }

  const CollectionInfo& info() const override { return info_; }

  Status BindEmbedder(std::string_view embedder_id, size_t dim) override {
    if (!info_.embedder_id.empty()) {
      if (info_.embedder_id == embedder_id && info_.dim == dim) return Status::Ok();
      return Status::FailedPrecondition("collection '" + info_.name + "' was built with embedder " +
                                        info_.embedder_id + " (dim " + std::to_string(info_.dim) +
                                        "); use --embedder " + info_.embedder_id);
    }
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue created, Call({"FT.CREATE",
                                                          index_,
                                                          "ON",
                                                          "HASH",
                                                          "PREFIX",
                                                          "1",
                                                          prefix_ + "chunk:",
                                                          "SCHEMA",
                                                          "title",
                                                          "TEXT",
                                                          "WEIGHT",
                                                          "3",
                                                          "text",
                                                          "TEXT",
                                                          "embedding",
                                                          "VECTOR",
                                                          "FLAT",
                                                          "6",
                                                          "TYPE",
                                                          "FLOAT32",
                                                          "DIM",
                                                          std::to_string(dim),
                                                          "DISTANCE_METRIC",
                                                          "IP"}));
    if (created.is_error() && created.str.find("already exists") == std::string::npos) {
      return Status::FailedPrecondition("FT.CREATE " + index_ + " failed: " + created.str);
    }
    RAGKV_RETURN_IF_ERROR(Expect({"HSET", prefix_ + "meta", "embedder", std::string(embedder_id),
                                  "dim", std::to_string(dim)}));
    info_.embedder_id = std::string(embedder_id);
    info_.dim = dim;
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
  size_t chunk_count() const override { return chunk_count_; }

  Status PutFile(FileEntry entry, std::vector<ChunkRecord> chunks,
                 const std::vector<std::vector<float>>& vectors) override {
    if (vectors.size() != chunks.size()) {
      return Status::InvalidArgument("PutFile: one vector per chunk is required");
    }
    for (const auto& v : vectors) {
      if (v.size() != info_.dim) {
        return Status::InvalidArgument("PutFile: vector dimension differs from the collection's");
      }
    }
    RAGKV_RETURN_IF_ERROR(CleanPending());
    RAGKV_RETURN_IF_ERROR(MarkStateStale());
    num_docs_ = -1;
    // The write protocol (docs/rag.md, "server store"): reserve ids, note them
    // as pending, replace the file's chunks, write its manifest entry, clear
    // the note. A crash anywhere leaves either the old entry or the new one
    // in the manifest, plus at most one pending range that the next writer
    // deletes (and that readers skip meanwhile).
    const uint64_t n = chunks.size();
    uint64_t first = 0;
    if (n > 0) {
      RAGKV_ASSIGN_OR_RETURN(resp::RespValue last, Call({"HINCRBY", prefix_ + "meta",
                                                         "next_chunk_id", std::to_string(n)}));
      if (last.type != resp::RespType::kInteger || last.integer < static_cast<int64_t>(n)) {
        return Status::Corruption("HINCRBY next_chunk_id: " + last.DebugString());
      }
      first = static_cast<uint64_t>(last.integer) - n + 1;
      RAGKV_RETURN_IF_ERROR(Expect(
          {"HSET", PendingKey(), entry.source, std::to_string(first) + " " + std::to_string(n)}));
    }
    RAGKV_RETURN_IF_ERROR(RemoveFileStatus(entry.source));
    entry.chunk_ids.clear();
    // The chunk HSETs go out pipelined, at most kPipelineDepth at a time: one
    // round trip per batch instead of per chunk, with bounded buffering.
    constexpr size_t kPipelineDepth = 64;
    std::vector<std::vector<std::string>> batch;
    for (size_t i = 0; i < chunks.size(); ++i) {
      ChunkRecord& c = chunks[i];
      c.id = first + i;
      c.source = entry.source;
      std::string blob(vectors[i].size() * sizeof(float), '\0');
      std::memcpy(blob.data(), vectors[i].data(), blob.size());  // little-endian hosts
      batch.push_back({"HSET",      ChunkKey(c.id),
                       "text",      c.text,
                       "title",     TitleField(c),
                       "doc_title", c.title,
                       "source",    c.source,
                       "heading",   c.heading,
                       "page",      std::to_string(c.page),
                       "offset",    std::to_string(c.offset),
                       "ordinal",   std::to_string(c.ordinal),
                       "embedding", std::move(blob)});
      entry.chunk_ids.push_back(c.id);
      if (batch.size() == kPipelineDepth || i + 1 == chunks.size()) {
        RAGKV_ASSIGN_OR_RETURN(std::vector<resp::RespValue> replies, conn_->CallPipelined(batch));
        for (const resp::RespValue& r : replies) {
          if (r.is_error()) return Status::FailedPrecondition("HSET failed: " + r.str);
        }
        batch.clear();
      }
    }
    std::string ids;
    for (uint64_t id : entry.chunk_ids) ids += std::to_string(id) + " ";
    RAGKV_RETURN_IF_ERROR(
        Expect({"HSET", FileKey(entry.source), "hash", std::to_string(entry.content_hash), "size",
                std::to_string(entry.size), "chunks", ids}));
    if (n > 0) RAGKV_RETURN_IF_ERROR(Expect({"HDEL", PendingKey(), entry.source}));
    chunk_count_ += entry.chunk_ids.size();
    manifest_[entry.source] = std::move(entry);
    return Status::Ok();
  }

  bool RemoveFile(const std::string& source) override {
    bool present = manifest_.count(source) > 0;
    if (!present) return false;
    return CleanPending().ok() && MarkStateStale().ok() && RemoveFileStatus(source).ok();
  }

  const std::string& embedder_state() const override { return embedder_state_; }
  void set_embedder_state(std::string state) override { embedder_state_ = std::move(state); }
  bool embedder_state_stale() const override { return state_stale_; }

  Status Commit() override {
    if (info_.embedder_id.empty()) return Status::Ok();
    RAGKV_RETURN_IF_ERROR(CleanPending());
    // State and flag in one HSET: atomic on every server.
    RAGKV_RETURN_IF_ERROR(
        Expect({"HSET", prefix_ + "meta", "embedder_state", embedder_state_, "state_stale", "0"}));
    state_stale_ = false;
    stale_marked_ = false;
    return conn_->Checkpoint();
  }

  Result<std::vector<Candidate>> TextSearch(std::string_view query, size_t k) override {
    std::vector<std::string> words;
    text::Tokenizer::SplitWords(query, &words);
    std::string q;
    std::set<std::string> seen;
    for (const std::string& w : words) {
      if (text::Tokenizer::IsStopWord(w) || !seen.insert(w).second) continue;
      if (!q.empty()) q += " | ";
      q += Escape(w);
    }
    if (q.empty()) return std::vector<Candidate>{};
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue r,
                           Call({"FT.SEARCH", index_, q, "NOCONTENT", "WITHSCORES", "SCORER",
                                 "BM25", "LIMIT", "0", std::to_string(k), "DIALECT", "2"}));
    return ParseScoredIds(r, /*distance=*/false);
  }

  Result<std::vector<Candidate>> VectorSearch(std::span<const float> query, size_t k) override {
    if (query.size() != info_.dim) {
      return Status::InvalidArgument("query vector has dimension " + std::to_string(query.size()) +
                                     ", collection has " + std::to_string(info_.dim));
    }
    std::string blob(query.size() * sizeof(float), '\0');
    std::memcpy(blob.data(), query.data(), blob.size());
    RAGKV_ASSIGN_OR_RETURN(
        resp::RespValue r,
        Call({"FT.SEARCH", index_, "*=>[KNN " + std::to_string(k) + " @embedding $vec AS dist]",
              "PARAMS", "2", "vec", blob, "SORTBY", "dist", "RETURN", "1", "dist", "LIMIT", "0",
              std::to_string(k), "DIALECT", "2"}));
    return ParseScoredIds(r, /*distance=*/true);
  }

  Result<ChunkRecord> GetChunk(uint64_t id) const override {
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue r, Call({"HGETALL", ChunkKey(id)}));
    auto f = HashFields(r);
    if (f.empty()) return Status::NotFound("chunk " + std::to_string(id));
    ChunkRecord c;
    c.id = id;
    c.text = f["text"];
    c.title = f["doc_title"];
    c.source = f["source"];
    c.heading = f["heading"];
    c.page = static_cast<uint32_t>(ToU64(f["page"]));
    c.offset = ToU64(f["offset"]);
    c.ordinal = static_cast<uint32_t>(ToU64(f["ordinal"]));
    return c;
  }

  std::vector<TermStat> QueryTermStats(std::string_view text) const override {
    std::vector<TermStat> out;
    // num_docs is asked once per session (FT.INFO is not cheap on every
    // server) and forgotten when this session writes.
    if (num_docs_ < 0) {
      auto info = Call({"FT.INFO", index_});
      if (info.ok() && info->type == resp::RespType::kArray) {
        for (size_t i = 0; i + 1 < info->elements.size(); i += 2) {
          if (info->elements[i].str == "num_docs") {
            const resp::RespValue& v = info->elements[i + 1];
            num_docs_ = v.type == resp::RespType::kInteger ? static_cast<double>(v.integer)
                                                           : std::atof(v.str.c_str());
          }
        }
      }
    }
    const double n = std::max(num_docs_, 0.0);
    // Each word is sent as written, not as our stem: the server analyses it
    // itself, and our stems are not guaranteed to survive a second stemming
    // (sending stems made some known terms look absent, and the FOLDOC dev
    // set abstained on 8/34 answerable questions instead of 3/34).
    std::vector<std::string> words;
    text::Tokenizer::SplitWords(text, &words);
    std::map<std::string, uint32_t> df_by_term;
    for (const std::string& word : words) {
      std::vector<std::string> terms = tokenizer_.Tokenize(word);
      if (terms.size() != 1) continue;  // a stop word (or an over-long one)
      std::string& t = terms[0];
      auto known = df_by_term.find(t);
      uint32_t df = known != df_by_term.end() ? known->second : 0;
      if (known != df_by_term.end()) {
        out.push_back({std::move(t), std::log(1.0 + (n - df + 0.5) / (df + 0.5)), df});
        continue;
      }
      auto r = Call({"FT.SEARCH", index_, "@title|text:" + Escape(word), "NOCONTENT", "LIMIT", "0",
                     "0", "DIALECT", "2"});
      if (r.ok() && r->type == resp::RespType::kArray && !r->elements.empty()) {
        df = static_cast<uint32_t>(r->elements[0].integer);
      }
      df_by_term[t] = df;
      double idf = std::log(1.0 + (n - df + 0.5) / (df + 0.5));
      out.push_back({std::move(t), idf, df});
    }
    return out;
  }

  Result<bool> PhraseOccurs(std::string_view phrase, size_t limit) override {
    const std::vector<std::string> target = tokenizer_.Tokenize(phrase);
    if (target.size() < 2) return true;  // nothing to be adjacent
    std::vector<std::string> words;
    text::Tokenizer::SplitWords(phrase, &words);
    std::string q;
    for (const std::string& w : words) {
      if (text::Tokenizer::IsStopWord(w)) continue;
      q += (q.empty() ? "@title|text:(" : " ") + Escape(w);
    }
    q += ")";
    size_t total = 0;
    RAGKV_ASSIGN_OR_RETURN(std::vector<uint64_t> ids, MatchingIds(q, limit, &total));
    if (total > limit) return true;
    auto holds = [&](std::string_view field) {
      const std::vector<std::string> terms = tokenizer_.Tokenize(field);
      return std::search(terms.begin(), terms.end(), target.begin(), target.end()) != terms.end();
    };
    for (uint64_t id : ids) {
      RAGKV_ASSIGN_OR_RETURN(ChunkRecord chunk, GetChunk(id));
      if (holds(chunk.title) || holds(chunk.heading) || holds(chunk.text)) return true;
    }
    return false;
  }

  Result<std::vector<ChunkRecord>> ChunksHolding(std::string_view word, size_t limit) override {
    std::vector<ChunkRecord> out;
    if (tokenizer_.Tokenize(word).empty()) return out;  // a stop word
    size_t total = 0;
    RAGKV_ASSIGN_OR_RETURN(std::vector<uint64_t> ids,
                           MatchingIds("@title|text:" + Escape(word), limit, &total));
    for (uint64_t id : ids) {
      RAGKV_ASSIGN_OR_RETURN(ChunkRecord chunk, GetChunk(id));
      out.push_back(std::move(chunk));
    }
    return out;
  }

  std::vector<std::string> Analyze(std::string_view text) const override {
    return tokenizer_.Tokenize(text);
  }

 private:
  Result<resp::RespValue> Call(const std::vector<std::string>& args) const {
    return conn_->Call(args);
  }
  Status Expect(const std::vector<std::string>& args) {
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue r, Call(args));
    if (r.is_error()) return Status::FailedPrecondition(args[0] + " failed: " + r.str);
    return Status::Ok();
  }
  std::string ChunkKey(uint64_t id) const { return prefix_ + "chunk:" + std::to_string(id); }
  std::string FileKey(const std::string& source) const { return prefix_ + "file:" + source; }
  std::string PendingKey() const { return prefix_ + "pending"; }

  // Every key starting with `prefix` (SCAN MATCH, glob characters escaped).
  Result<std::vector<std::string>> ScanKeys(const std::string& prefix) const {
    std::string pattern;
    for (char c : prefix) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern.push_back('\\');
      pattern.push_back(c);
    }
    pattern.push_back('*');
    std::vector<std::string> keys;
    std::string cursor = "0";
    do {
      RAGKV_ASSIGN_OR_RETURN(resp::RespValue r,
                             Call({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"}));
      if (r.type != resp::RespType::kArray || r.elements.size() != 2) {
        return Status::Corruption("SCAN reply: " + r.DebugString());
      }
      cursor = r.elements[0].str;
      for (const resp::RespValue& k : r.elements[1].elements) {
        if (k.str.rfind(prefix, 0) == 0) keys.push_back(k.str);
      }
    } while (cursor != "0");
    return keys;
  }

  // Notes, before the first write since the last commit, that the stored
  // embedder state no longer matches the files: a writer that dies before
  // the next Commit leaves the flag for the next one (embedder_state_stale).
  Status MarkStateStale() {
    if (stale_marked_) return Status::Ok();
    RAGKV_RETURN_IF_ERROR(Expect({"HSET", prefix_ + "meta", "state_stale", "1"}));
    stale_marked_ = true;
    return Status::Ok();
  }

  // Deletes the orphans found at Load (only writers call this: a read-only
  // session on a replica must not write, and skips orphans instead).
  Status CleanPending() {
    if (pending_sources_.empty()) return Status::Ok();
    std::vector<std::string> del = {"DEL"};
    for (uint64_t id : orphans_) del.push_back(ChunkKey(id));
    if (del.size() > 1) RAGKV_RETURN_IF_ERROR(Expect(del));
    std::vector<std::string> hdel = {"HDEL", PendingKey()};
    hdel.insert(hdel.end(), pending_sources_.begin(), pending_sources_.end());
    RAGKV_RETURN_IF_ERROR(Expect(hdel));
    orphans_.clear();
    pending_sources_.clear();
    return Status::Ok();
  }

  Status RemoveFileStatus(const std::string& source) {
    auto it = manifest_.find(source);
    if (it == manifest_.end()) return Status::Ok();
    num_docs_ = -1;
    std::vector<std::string> del = {"DEL", FileKey(source)};
    for (uint64_t id : it->second.chunk_ids) del.push_back(ChunkKey(id));
    RAGKV_RETURN_IF_ERROR(Expect(del));
    chunk_count_ -= it->second.chunk_ids.size();
    manifest_.erase(it);
    return Status::Ok();
  }

  // The ids of the first `limit` chunks matching `query` (NOCONTENT), and
  // how many match in all.
  Result<std::vector<uint64_t>> MatchingIds(const std::string& query, size_t limit,
                                            size_t* total) const {
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue r, Call({"FT.SEARCH", index_, query, "NOCONTENT",
                                                    "LIMIT", "0", std::to_string(limit),
                                                    "DIALECT", "2"}));
    if (r.is_error()) return Status::FailedPrecondition("FT.SEARCH " + index_ + ": " + r.str);
    if (r.type != resp::RespType::kArray || r.elements.empty()) {
      return Status::Corruption("FT.SEARCH reply is not an array: " + r.DebugString());
    }
    *total = static_cast<size_t>(std::max<int64_t>(r.elements[0].integer, 0));
    std::vector<uint64_t> ids;
    const std::string key_prefix = prefix_ + "chunk:";
    for (size_t i = 1; i < r.elements.size(); ++i) {
      const std::string& key = r.elements[i].str;
      if (key.rfind(key_prefix, 0) != 0) continue;
      const uint64_t id = ToU64(key.substr(key_prefix.size()));
      if (orphans_.count(id) == 0) ids.push_back(id);
    }
    return ids;
  }

  // [total, key, score, key, score, ...] (WITHSCORES NOCONTENT) or
  // [total, key, [dist, value], ...] (RETURN 1 dist); ids parsed from keys.
  Result<std::vector<Candidate>> ParseScoredIds(const resp::RespValue& r, bool distance) const {
    if (r.is_error()) return Status::FailedPrecondition("FT.SEARCH " + index_ + ": " + r.str);
    if (r.type != resp::RespType::kArray || r.elements.empty()) {
      return Status::Corruption("FT.SEARCH reply is not an array: " + r.DebugString());
    }
    std::vector<Candidate> out;
    const std::string key_prefix = prefix_ + "chunk:";
    for (size_t i = 1; i + 1 < r.elements.size(); i += 2) {
      const std::string& key = r.elements[i].str;
      if (key.rfind(key_prefix, 0) != 0) continue;
      Candidate c;
      c.chunk_id = ToU64(key.substr(key_prefix.size()));
      if (orphans_.count(c.chunk_id) != 0) continue;
      const resp::RespValue& s = r.elements[i + 1];
      if (distance) {
        auto f = HashFields(s);
        c.score = 1.0f - static_cast<float>(std::atof(f["dist"].c_str()));
      } else {
        c.score = static_cast<float>(std::atof(s.str.c_str()));
      }
      out.push_back(c);
    }
    return out;
  }

  std::unique_ptr<RespConnection> conn_;
  std::string prefix_;
  std::string index_;
  CollectionInfo info_;
  std::map<std::string, FileEntry> manifest_;
  size_t chunk_count_ = 0;
  mutable double num_docs_ = -1;  // < 0: not asked yet
  std::vector<std::string> pending_sources_;
  std::set<uint64_t> orphans_;
  std::string embedder_state_;
  bool state_stale_ = false;   // as loaded: the last writer stopped before committing
  bool stale_marked_ = false;  // this session has set state_stale since its last commit
  text::Tokenizer tokenizer_;
};

}  // namespace

Result<std::unique_ptr<ChunkStore>> OpenServerStore(std::unique_ptr<RespConnection> connection,
                                                    const std::string& collection) {
  if (collection.empty() || collection.find_first_of(":{} ") != std::string::npos) {
    return Status::InvalidArgument("collection name '" + collection +
                                   "' must be non-empty, without ':', '{', '}' or spaces");
  }
  auto store = std::make_unique<ServerStore>(std::move(connection), collection);
  RAGKV_RETURN_IF_ERROR(store->Load());
  return std::unique_ptr<ChunkStore>(std::move(store));
}

}  // namespace ragkv::rag
