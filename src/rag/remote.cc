#include "rag/remote.h"
namespace ragkv::rag {
std::unique_ptr<Embedder> NewOllamaEmbedder(const std::string&, const RemoteOptions&) { return nullptr; }
std::unique_ptr<Embedder> NewOpenAiEmbedder(const std::string&, const RemoteOptions&) { return nullptr; }
std::unique_ptr<Generator> NewOllamaGenerator(const std::string&, const RemoteOptions&) { return nullptr; }
std::unique_ptr<Generator> NewOpenAiGenerator(const std::string&, const RemoteOptions&) { return nullptr; }
}
