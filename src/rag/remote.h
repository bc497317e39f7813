// Remote model clients over HTTP (libcurl): Ollama's native API and
// OpenAI-compatible servers (Ollama /v1, llama.cpp llama-server, vLLM).
//
// Embedders: Ollama POST /api/embed (batched "input" array, "truncate": true,
// nomic-embed-text's "search_document: " / "search_query: " prefixes) and
// POST {openai_url}/embeddings. Generators: Ollama POST /api/chat with
// NDJSON streaming and options.num_ctx sized from the prompt, and
// POST {openai_url}/chat/completions with SSE streaming.
//
// Errors are one line that says what to do: kUnavailable when the server
// cannot be reached, times out (after RemoteOptions::retries retries for
// connection errors and 5xx) or reports an error mid-stream; kNotFound when
// the model is not pulled ("run `ollama pull MODEL`"); kInvalidArgument for
// other 4xx; kCorruption for a reply that is not the documented JSON.
#pragma once

#include <memory>
#include <string>

#include "rag/embedder.h"
#include "rag/generator.h"

namespace ragkv::rag {

std::unique_ptr<Embedder> NewOllamaEmbedder(const std::string& model, const RemoteOptions& o);
std::unique_ptr<Embedder> NewOpenAiEmbedder(const std::string& model, const RemoteOptions& o);
std::unique_ptr<Generator> NewOllamaGenerator(const std::string& model, const RemoteOptions& o);
std::unique_ptr<Generator> NewOpenAiGenerator(const std::string& model, const RemoteOptions& o);

// The grounded prompt shared by the LLM generators: numbered context chunks
// with their sources, the instruction to cite [n] and to say so when the
// context does not contain the answer. Chunks are dropped from the end to fit
// `max_prompt_chars`.
struct Prompt {
  std::string system;
  std::string user;
};
Prompt BuildGroundedPrompt(const AnswerContext& context, size_t max_prompt_chars);

}  // namespace ragkv::rag
