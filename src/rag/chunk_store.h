// ChunkStore: where a collection's chunks, their text index and their vectors
// live. One implementation, the server store (server_store.cc: keys and FT.*
// commands), runs over two connections: any Redis-compatible server with
// FT.* (OpenServerStore), or the embedded engine, the server's engine in this
// process on a data directory (OpenEmbeddedStore, rag/embedded_engine.h).
//
// Mutations (PutFile, RemoveFile) are applied at once, file by file: a crash
// or an interrupted ingest leaves each file's old entry or its new one, never
// a mix (the readers skip, and the next writer deletes, the chunks of a file
// whose write was cut short). Commit() makes everything so far durable
// (embedded: fsync, and a compacted log when it has grown); an ingest
// commits every 30 s and at the end.
//
// Thread safety: one thread at a time. Process safety: the embedded store
// holds an exclusive lock on its data directory while open.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "rag/document.h"

namespace ragkv::rag {

// Stored with the collection when it is created; fixed afterwards.
struct CollectionInfo {
  std::string name = "default";
  std::string embedder_id;  // Embedder::id() of the vectors stored
  size_t dim = 0;           // vector length
};

// The manifest entry for one ingested file.
struct FileEntry {
  std::string source;         // absolute path
  uint64_t content_hash = 0;  // XXH3-64 of the bytes
  uint64_t size = 0;
  std::vector<uint64_t> chunk_ids;
};

struct Candidate {
  uint64_t chunk_id = 0;
  float score = 0;  // larger is better; scale depends on the search kind
};

class ChunkStore {
 public:
  virtual ~ChunkStore() = default;

  // Info of the collection; embedder_id is empty for a new, empty one.
  virtual const CollectionInfo& info() const = 0;
  // Fixes the embedder of a new collection. kFailedPrecondition if it holds
  // vectors from another embedder or dimension.
  virtual Status BindEmbedder(std::string_view embedder_id, size_t dim) = 0;

  virtual std::optional<FileEntry> FindFile(const std::string& source) const = 0;
  virtual std::vector<std::string> Sources() const = 0;
  virtual size_t chunk_count() const = 0;

  // Replaces every chunk of `entry.source` with `chunks` (ids are assigned
  // here and written back into entry.chunk_ids); vectors[i] belongs to
  // chunks[i]. kInvalidArgument on a size or dimension mismatch.
  virtual Status PutFile(FileEntry entry, std::vector<ChunkRecord> chunks,
                         const std::vector<std::vector<float>>& vectors) = 0;
  // Removes a file and its chunks; false if it was not in the manifest.
  virtual bool RemoveFile(const std::string& source) = 0;

  // Opaque embedder statistics persisted with the collection (at Commit).
  virtual const std::string& embedder_state() const = 0;
  virtual void set_embedder_state(std::string state) = 0;
  // True when files were written or removed after the last Commit() (a
  // process stopped mid-ingest): embedder_state() then lags the collection,
  // and the next writer rebuilds it from the stored chunks (Ingest does).
  virtual bool embedder_state_stale() const = 0;

  // Stores the embedder state and makes every mutation so far durable.
  virtual Status Commit() = 0;

  // BM25 over chunk text and headings; best first.
  virtual Result<std::vector<Candidate>> TextSearch(std::string_view query, size_t k) = 0;
  // Inner-product nearest neighbours (vectors are unit length); best first.
  virtual Result<std::vector<Candidate>> VectorSearch(std::span<const float> query, size_t k) = 0;
  virtual Result<ChunkRecord> GetChunk(uint64_t id) const = 0;
  // Each analysed term of `text`, in order, with its BM25 idf and document
  // frequency in the collection.
  struct TermStat {
    std::string term;
    double idf = 0;
    uint32_t df = 0;
  };
  virtual std::vector<TermStat> QueryTermStats(std::string_view text) const = 0;
  // Whether the words of `phrase` occur next to each other, in this order,
  // in some chunk's title, heading or text, compared after analysis (so
  // "copy-on-write" matches "copy on write", "clocks" matches "clock").
  // Asks the index for the chunks holding every word and checks adjacency
  // here, because FT.* phrase matching differs between servers; more than
  // `limit` such chunks counts as found (a pair of words that common
  // together is not a name the collection lacks).
  virtual Result<bool> PhraseOccurs(std::string_view phrase, size_t limit) = 0;
  // Up to `limit` chunks whose title or text holds `word` (index order).
  virtual Result<std::vector<ChunkRecord>> ChunksHolding(std::string_view word, size_t limit) = 0;
  // Analysed terms of `text` (the index's tokenizer).
  virtual std::vector<std::string> Analyze(std::string_view text) const = 0;
};

// Opens (creating if needed) collection `name` in the embedded engine on
// `data_dir`, locking the directory for as long as the store lives.
// kFailedPrecondition if another process (embedded or `ragkv serve`) holds
// it, naming its pid, or if the directory holds the collection in the
// pre-engine format (the message says to re-ingest); kCorruption if the log
// fails its checks (the message names the file, offset and repair command).
Result<std::unique_ptr<ChunkStore>> OpenEmbeddedStore(const std::string& data_dir,
                                                      const std::string& name);

class RespConnection;

// A collection on a Redis-compatible server with the FT.* commands (ragkv
// serve, Redis 8 / Redis Stack, Valkey + valkey-search), through HSET /
// HGETALL / HINCRBY / HDEL / DEL / SCAN plus FT.CREATE / FT.SEARCH / FT.INFO
// only (server_store.cc has the key layout). The server persists on its own:
// Commit() only saves the embedder state. Each file is written as reserve
// ids -> note them as pending -> chunks -> manifest entry -> clear the note,
// so an interrupted ingest leaves at most one pending range: readers skip its
// chunks, the next writer deletes them, and the file (not in the manifest)
// is ingested again. `connection` comes from ConnectToServers
// (server_connection.h): the leader for ingest, any server for queries.
// kFailedPrecondition when the server has no FT.* commands.
Result<std::unique_ptr<ChunkStore>> OpenServerStore(std::unique_ptr<RespConnection> connection,
                                                    const std::string& collection);

// $XDG_DATA_HOME/ragkv, else ~/.local/share/ragkv.
std::string DefaultDataDir();

}  // namespace ragkv::rag
