// Retriever implementation (the design is in retriever.h).
#include "rag/retriever.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "rag/calibration.h"
#include "rag/store_io.h"

namespace ragkv::rag {

// Terms weigh idf^3 in the confidence: a question's subject is its rarest
// words, and a chunk that misses them but matches the common ones ("how",
// "limit", "memory") must not look like an answer. Chosen from {1, 2, 3} on
// FOLDOC dev half A (docs/rag.md): separation of answerable from
// unanswerable questions grew with the power.
constexpr double kIdfPower = 3;

std::string StripQuestionFraming(std::string_view query) {
  static const std::unordered_set<std::string> kFraming = {
      "explain", "explains", "describe", "describes", "define",  "example", "examples", "tell",
      "show",    "give",     "list",     "please",    "briefly", "me",      "purpose"};
  std::string out;
  bool kept_any = false;
  size_t pos = 0;
  while (pos < query.size()) {
    size_t end = pos;
    while (end < query.size() && (std::isalnum(static_cast<unsigned char>(query[end])) ||
                                  static_cast<unsigned char>(query[end]) >= 0x80)) {
      ++end;
    }
    if (end == pos) {
      out.push_back(query[pos++]);
      continue;
    }
    std::string word(query.substr(pos, end - pos));
    std::string lower = word;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (kFraming.count(lower) == 0) {
      out += word;
      kept_any = true;
    }
    pos = end;
  }
  return kept_any ? out : std::string(query);
}

Result<Retriever> Retriever::Create(ChunkStore* store, Embedder* embedder,
                                    RetrievalOptions options) {
  const CollectionInfo& info = store->info();
  if (info.embedder_id.empty() || store->chunk_count() == 0) {
    return Status::FailedPrecondition("collection '" + info.name +
                                      "' is empty; run `ragkv ingest PATH` first");
  }
  if (info.embedder_id != embedder->id()) {
    return Status::FailedPrecondition("collection '" + info.name + "' was built with embedder " +
                                      info.embedder_id + ", not " + embedder->id() +
                                      "; pass --embedder " + info.embedder_id);
  }
  RAGKV_ASSIGN_OR_RETURN(CollectionState state, DecodeCollectionState(store->embedder_state()));
  RAGKV_RETURN_IF_ERROR(embedder->RestoreState(state.embedder_state));
  if (options.vector_weight < 0) options.vector_weight = embedder->fusion_weight();
  bool calibrated = false;
  if (options.abstain_threshold < 0) {
    calibrated = state.calibration.has_value();
    options.abstain_threshold = calibrated ? state.calibration->threshold : kFallbackThreshold;
  }
  return Retriever(store, embedder, options, calibrated);
}

double Retriever::Coverage(std::string_view query, const ChunkRecord& chunk,
                           std::vector<std::string>* unknown) const {
  std::vector<ChunkStore::TermStat> terms = store_->QueryTermStats(query);
  std::vector<std::string> chunk_terms = store_->Analyze(TitleField(chunk) + "\n" + chunk.text);
  std::unordered_set<std::string> present(chunk_terms.begin(), chunk_terms.end());
  std::unordered_set<std::string> seen;
  double total = 0, matched = 0;
  for (const auto& [term, idf, df] : terms) {
    if (!seen.insert(term).second) continue;
    if (df == 0) unknown->push_back(term);
    const double w = std::pow(idf, kIdfPower);
    total += w;
    if (present.count(term) > 0) matched += w;
  }
  return total > 0 ? matched / total : 0;
}

Result<Retrieval> Retriever::Retrieve(std::string_view query, size_t k) {
  return RetrieveImpl(query, k, nullptr);
}

Result<Retrieval> Retriever::RetrieveWithout(std::string_view query, size_t k,
                                             const std::unordered_set<uint64_t>& excluded) {
  return RetrieveImpl(query, k, &excluded);
}

Result<Retrieval> Retriever::RetrieveImpl(std::string_view raw_query, size_t k,
                                          const std::unordered_set<uint64_t>* excluded) {
  const std::string stripped =
      options_.strip_framing ? StripQuestionFraming(raw_query) : std::string(raw_query);
  const std::string_view query = stripped;
  std::unordered_map<uint64_t, RetrievedChunk> fused;
  // Leaving chunks out: ask each list for that many more, then drop them.
  const size_t fetch = options_.candidates + (excluded ? excluded->size() : 0);
  auto add_list = [&](const std::vector<Candidate>& list, double weight, bool is_text) {
    size_t rank = 0;
    for (size_t i = 0; i < list.size() && rank < options_.candidates; ++i) {
      if (excluded && excluded->count(list[i].chunk_id) > 0) continue;
      ++rank;
      RetrievedChunk& r = fused[list[i].chunk_id];
      r.chunk.id = list[i].chunk_id;
      r.score += weight / (options_.rrf_k + static_cast<double>(rank));
      (is_text ? r.text_rank : r.vector_rank) = static_cast<int>(rank);
    }
  };
  RAGKV_ASSIGN_OR_RETURN(std::vector<Candidate> text_hits, store_->TextSearch(query, fetch));
  add_list(text_hits, options_.text_weight, true);
  if (options_.vector_weight > 0) {
    RAGKV_ASSIGN_OR_RETURN(auto vectors,
                           embedder_->Embed({std::string(query)}, EmbedPurpose::kQuery));
    if (vectors.size() != 1) return Status::Internal("embedder returned no vector");
    RAGKV_ASSIGN_OR_RETURN(std::vector<Candidate> knn,
                           store_->VectorSearch(vectors[0], fetch));
    add_list(knn, options_.vector_weight, false);
  }
  std::vector<RetrievedChunk> ranked;
  ranked.reserve(fused.size());
  for (auto& [id, r] : fused) ranked.push_back(std::move(r));
  std::sort(ranked.begin(), ranked.end(), [](const RetrievedChunk& a, const RetrievedChunk& b) {
    return a.score != b.score ? a.score > b.score : a.chunk.id < b.chunk.id;
  });
  if (ranked.size() > k) ranked.resize(k);
  Retrieval out;
  for (RetrievedChunk& r : ranked) {
    RAGKV_ASSIGN_OR_RETURN(r.chunk, store_->GetChunk(r.chunk.id));
    out.hits.push_back(std::move(r));
  }
  out.confidence = out.hits.empty() ? 0 : Coverage(query, out.hits[0].chunk, &out.unknown_terms);
  if (excluded) out.unknown_terms.clear();  // df counts the left-out chunks too
  // Report unknown terms as the user wrote them ("AVL", not the stem "avl").
  for (std::string& term : out.unknown_terms) {
    size_t pos = 0;
    while (pos < query.size()) {
      size_t end = pos;
      while (end < query.size() && (std::isalnum(static_cast<unsigned char>(query[end])) ||
                                    static_cast<unsigned char>(query[end]) >= 0x80)) {
        ++end;
      }
      if (end > pos) {
        std::string_view word = query.substr(pos, end - pos);
        std::vector<std::string> analyzed = store_->Analyze(word);
        if (analyzed.size() == 1 && analyzed[0] == term) {
          term = std::string(word);
          break;
        }
      }
      pos = end + 1;
    }
  }
  // A question whose term occurs nowhere in the collection asks about
  // something the documents never mention (FOLDOC dev half A: true of 3/3
  // unanswerable questions and 0/17 answerable ones).
  out.abstain = out.hits.empty() || out.confidence < options_.abstain_threshold ||
                (options_.abstain_on_unknown_terms && !out.unknown_terms.empty());
  return out;
}

}  // namespace ragkv::rag
