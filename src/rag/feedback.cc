// RM3 relevance model (design and formula in feedback.h).
#include "rag/feedback.h"

#include <algorithm>
#include <cstddef>
#include <unordered_map>

namespace ragkv::rag {

std::vector<WeightedTerm> RelevanceModel(const std::vector<FeedbackDoc>& docs, size_t num_terms) {
  double total_score = 0;
  for (const FeedbackDoc& d : docs) {
    if (!d.terms.empty() && d.score > 0) total_score += d.score;
  }
  if (total_score <= 0 || num_terms == 0) return {};
  std::unordered_map<std::string, double> model;
  for (const FeedbackDoc& d : docs) {
    if (d.terms.empty() || d.score <= 0) continue;
    // Each occurrence adds P(d) * 1/|d|, so a term adds P(d) * tf / |d|.
    const double per_occurrence = d.score / total_score / static_cast<double>(d.terms.size());
    for (const std::string& t : d.terms) model[t] += per_occurrence;
  }
  std::vector<WeightedTerm> terms;
  terms.reserve(model.size());
  for (auto& [term, weight] : model) terms.push_back({term, weight});
  auto heavier = [](const WeightedTerm& a, const WeightedTerm& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.term < b.term;
  };
  if (terms.size() > num_terms) {
    std::partial_sort(terms.begin(), terms.begin() + static_cast<std::ptrdiff_t>(num_terms),
                      terms.end(), heavier);
    terms.resize(num_terms);
  } else {
    std::sort(terms.begin(), terms.end(), heavier);
  }
  double sum = 0;
  for (const WeightedTerm& t : terms) sum += t.weight;
  for (WeightedTerm& t : terms) t.weight /= sum;
  return terms;
}

double Bm25Term(double idf, double tf, double len, double avg_len, double k1, double b) {
  if (tf <= 0) return 0;
  const double norm = avg_len > 0 ? len / avg_len : 1;
  return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * norm));
}

}  // namespace ragkv::rag
