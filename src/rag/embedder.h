// Embedder: text -> unit-length float vectors, behind one interface so the
// pipeline does not care whether vectors come from the offline builtin
// embedder, a local Ollama or an OpenAI-compatible server.
//
// Every embedder has an identity (id(), e.g. "builtin-v1" or
// "ollama:nomic-embed-text") and a dimension; both are stored with a
// collection, and a collection refuses queries from another embedder.
//
// Thread safety: an Embedder is used from one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace ragkv::rag {

// Whether a text is a stored chunk or a user's query: some models (nomic-
// embed-text) need different prefixes, and the builtin embedder applies IDF
// weighting on the query side only.
enum class EmbedPurpose { kDocument, kQuery };

class Embedder {
 public:
  virtual ~Embedder() = default;

  // Stable identity stored with a collection; same id => same vector space.
  virtual std::string id() const = 0;
  // Vector length; 0 for a remote model until its first successful call.
  virtual size_t dim() const = 0;

  // Default RRF weight of this embedder's KNN list relative to BM25 (1.0).
  virtual double fusion_weight() const { return 1.0; }

  // Embeds `texts` in order; each vector has dim() floats and L2 norm 1 (or
  // is all zero for a text without features). Errors: kUnavailable (server
  // down or timed out after retries), kNotFound (model not pulled),
  // kInvalidArgument (rejected input), kCorruption (malformed reply).
  virtual Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts,
                                                        EmbedPurpose purpose) = 0;

  // Corpus statistics for embedders that weight by them (builtin: document
  // frequencies for query-side IDF). Called with +1 for every chunk added to
  // the collection and -1 for every chunk removed. Default: no state.
  virtual void ObserveCorpus(std::string_view /*chunk_text*/, int /*delta*/) {}
  virtual std::string SerializeState() const { return {}; }
  virtual Status RestoreState(std::string_view /*state*/) { return Status::Ok(); }
};

struct RemoteOptions {
  std::string ollama_url = "http://localhost:11434";
  std::string openai_url = "http://localhost:8080/v1";
  std::string openai_api_key;   // sent as a bearer token when set
  double timeout_seconds = 60;  // per HTTP request
  int retries = 2;              // extra attempts on connection errors and 5xx
  size_t batch_size = 32;       // texts per embedding request
};

// "builtin", "ollama:MODEL" or "openai:MODEL"; kInvalidArgument otherwise.
Result<std::unique_ptr<Embedder>> CreateEmbedder(std::string_view spec,
                                                 const RemoteOptions& remote = {});

// The offline default. See builtin_embedder.cc and docs/rag.md for design.
std::unique_ptr<Embedder> NewBuiltinEmbedder(size_t dim = 1024);

}  // namespace ragkv::rag
