// Spec-string factories for embedders and generators ("builtin",
// "extractive", "ollama:MODEL", "openai:MODEL").
#include <string>

#include "rag/embedder.h"
#include "rag/generator.h"
#include "rag/remote.h"

namespace ragkv::rag {
namespace {

bool SplitSpec(std::string_view spec, std::string_view prefix, std::string* model) {
  if (spec.substr(0, prefix.size()) != prefix) return false;
  *model = std::string(spec.substr(prefix.size()));
  return true;
}

}  // namespace

Result<std::unique_ptr<Embedder>> CreateEmbedder(std::string_view spec,
                                                 const RemoteOptions& remote) {
  std::string model;
  if (spec == "builtin") return NewBuiltinEmbedder();
  if (SplitSpec(spec, "ollama:", &model) && !model.empty()) {
    return NewOllamaEmbedder(model, remote);
  }
  if (SplitSpec(spec, "openai:", &model) && !model.empty()) {
    return NewOpenAiEmbedder(model, remote);
  }
  return Status::InvalidArgument("unknown embedder '" + std::string(spec) +
                                 "'; use builtin, ollama:MODEL or openai:MODEL");
}

Result<std::unique_ptr<Generator>> CreateGenerator(std::string_view spec, const ChunkStore* store,
                                                   const RemoteOptions& remote) {
  std::string model;
  if (spec == "extractive") return NewExtractiveGenerator(store);
  if (SplitSpec(spec, "ollama:", &model) && !model.empty()) {
    return NewOllamaGenerator(model, remote);
  }
  if (SplitSpec(spec, "openai:", &model) && !model.empty()) {
    return NewOpenAiGenerator(model, remote);
  }
  return Status::InvalidArgument("unknown --llm '" + std::string(spec) +
                                 "'; use extractive, ollama:MODEL or openai:MODEL");
}

}  // namespace ragkv::rag
