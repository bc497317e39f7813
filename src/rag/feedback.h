// Pseudo-relevance feedback: RM3 (Abdul-Jaleel et al. 2004, "UMass at TREC
// 2004"; the variant Anserini ships for BM25).
//
// The top m chunks of the first BM25 ranking are taken as relevant. Each
// chunk's terms become a maximum-likelihood distribution P(w|d) = tf / |d|,
// weighted by the chunk's share of the feedback scores; the sum is the
// relevance model P(w|R), cut to its n heaviest terms and renormalised. The
// expanded query is  lambda * P(w|Q) + (1 - lambda) * P(w|R).  BM25 is linear
// in query term weights, so the expanded score of a chunk is
//   lambda * BM25(Q, d) / |Q|  +  (1 - lambda) * sum_w P(w|R) * bm25(w, d),
// which the retriever computes with the index's own BM25F for the first part
// and local per-term BM25 for the second (retriever.cc).
#pragma once

#include <string>
#include <vector>

namespace ragkv::rag {

struct FeedbackDoc {
  std::vector<std::string> terms;  // analysed terms, in order, repeats kept
  double score = 0;                // first-pass retrieval score (> 0)
};

struct WeightedTerm {
  std::string term;
  double weight = 0;
};

// P(w|R) over `docs`, its `num_terms` heaviest terms (ties by term), weights
// summing to 1; heaviest first. Documents with no terms or a non-positive
// score contribute nothing; empty if none contributes. O(total terms +
// V log V).
std::vector<WeightedTerm> RelevanceModel(const std::vector<FeedbackDoc>& docs, size_t num_terms);

// One term's BM25 contribution: idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len / avg_len)).
double Bm25Term(double idf, double tf, double len, double avg_len, double k1 = 1.2,
                double b = 0.75);

}  // namespace ragkv::rag
