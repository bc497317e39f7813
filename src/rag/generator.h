// Generator: writes the answer to a question from retrieved chunks.
//
// Implementations: the offline extractive answerer (default), and LLMs
// through Ollama's /api/chat (NDJSON streaming) or an OpenAI-compatible
// /v1/chat/completions (SSE streaming). All of them cite chunks as [n], where
// n is the 1-based position in AnswerContext::chunks. The pipeline, not the
// generator, decides to abstain (Retrieval::abstain) and renders sources.
//
// Thread safety: one thread at a time.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "rag/chunk_store.h"
#include "rag/embedder.h"
#include "rag/retriever.h"

namespace ragkv::rag {

struct AnswerContext {
  std::string question;
  std::vector<RetrievedChunk> chunks;  // numbered [1], [2], ... in this order
};

// Receives answer text as it is produced (tokens for LLMs).
using TokenSink = std::function<void(std::string_view)>;

class Generator {
 public:
  virtual ~Generator() = default;
  // "extractive", "ollama:llama3.2", ...
  virtual std::string name() const = 0;
  // The answer body with [n] citations (no sources list). Errors from remote
  // generators: kUnavailable (server down, timeout, error mid-stream),
  // kNotFound (model not pulled), kInvalidArgument (prompt rejected).
  virtual Result<std::string> Generate(const AnswerContext& context, const TokenSink& sink) = 0;
};

struct ExtractiveOptions {
  size_t max_sentences = 3;
  size_t max_chars = 700;
  double lambda = 0.7;  // MMR: relevance vs. novelty
};

// `store` is used for term statistics; it must outlive the generator.
std::unique_ptr<Generator> NewExtractiveGenerator(const ChunkStore* store,
                                                  ExtractiveOptions options = {});

// "extractive", "ollama:MODEL" or "openai:MODEL"; kInvalidArgument otherwise.
Result<std::unique_ptr<Generator>> CreateGenerator(std::string_view spec, const ChunkStore* store,
                                                   const RemoteOptions& remote = {});

// Renders a chunk's citation line: "path (title > heading, p. 3)".
std::string CitationLabel(const ChunkRecord& chunk);

// The full response for one question: answer with citations, then the
// "Sources:" list of the chunks it cites; or, when retrieval.abstain, a plain
// statement that the documents do not contain the answer and why (unknown
// terms, or confidence below `threshold`), with the closest matches listed as
// such. `generator_note` is appended when non-empty.
std::string FormatResponse(std::string_view answer, const Retrieval& retrieval, double threshold,
                           std::string_view generator_note);

// One transcript entry: "Question: q\nResponse:\n<response>\n" + 50 '=' + "\n".
std::string FormatTranscriptEntry(std::string_view question, std::string_view response);

}  // namespace ragkv::rag
