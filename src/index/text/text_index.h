// TextIndex: an in-memory BM25 inverted index over documents with weighted
// fields, keyed by caller-chosen 64-bit ids. Used by the RAG layer (chunk
// text + headings) and meant for FT.* TEXT fields.
//
// Scoring is BM25F in its common simplified form: a term's frequency in a
// document is the weighted sum of its per-field frequencies, the document
// length is the weighted sum of field lengths, and one (k1, b) pair applies:
//   score(d, q) = sum over distinct query terms t of
//       idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * len(d) / avglen))
//   idf(t) = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))   (never negative)
//
// Thread safety: none. Concurrent const calls (Search, Idf, Serialize) are
// safe with each other; anything else needs external synchronisation.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "index/text/tokenizer.h"

namespace ragkv::text {

struct Bm25Params {
  float k1 = 1.2f;
  float b = 0.75f;
};

struct FieldSpec {
  std::string name;
  float weight = 1.0f;  // > 0
};

struct TextIndexOptions {
  std::vector<FieldSpec> fields = {{"body", 1.0f}};  // 1..255 fields
  Bm25Params bm25;
  TokenizerOptions tokenizer;
};

struct TextHit {
  uint64_t id = 0;
  float score = 0;  // larger is better
};

class TextIndex {
 public:
  // Returns kInvalidArgument for no fields, more than 255, a non-positive
  // weight, or k1 < 0 / b outside [0, 1].
  static Result<std::unique_ptr<TextIndex>> Create(TextIndexOptions options);

  // Indexes `field_texts` (one per field, in FieldSpec order) under `id`,
  // replacing any previous document with that id. Returns kInvalidArgument
  // if the number of texts differs from the number of fields.
  // O(tokens + distinct terms).
  Status Add(uint64_t id, const std::vector<std::string_view>& field_texts);
  // Same with texts the caller already tokenised with tokenizer() (one term
  // vector per field, duplicates kept: they are the term frequencies), so a
  // caller that also needs the terms tokenises each text once.
  // O(terms log terms).
  Status AddTerms(uint64_t id, const std::vector<std::vector<std::string>>& field_terms);

  // Removes `id`; returns false if it was not indexed. O(distinct terms of
  // the document) amortised (postings are tombstoned and compacted lazily).
  bool Remove(uint64_t id);

  bool Contains(uint64_t id) const { return id_to_slot_.count(id) > 0; }
  size_t size() const { return id_to_slot_.size(); }

  using Filter = std::function<bool(uint64_t id)>;

  // Top `k` documents for `query` (tokenised like documents), best first;
  // ties broken by smaller id. `filter`, when set, must return true for an id
  // to be eligible. O(sum of posting lengths of the query terms + m log k).
  std::vector<TextHit> Search(std::string_view query, size_t k,
                              const Filter& filter = nullptr) const;
  // Same with already-normalised terms (duplicates count once).
  std::vector<TextHit> SearchTerms(const std::vector<std::string>& terms, size_t k,
                                   const Filter& filter = nullptr) const;

  // Same with a weight per term (query-term weighting, e.g. for
  // pseudo-relevance feedback): each term's BM25 contribution is multiplied
  // by its weight. A repeated term keeps its first weight.
  std::vector<TextHit> SearchWeighted(const std::vector<std::pair<std::string, float>>& terms,
                                      size_t k, const Filter& filter = nullptr) const;

  // BM25 score of one indexed document for normalised `terms`; 0 if absent
  // (FT.SEARCH scores documents its planner found by other means).
  float ScoreDocument(uint64_t id, const std::vector<std::string>& terms) const;
  // ScoreDocument for many documents with the terms looked up once: writes
  // ScoreDocument(ids[i], terms) to (*scores)[i], bit for bit.
  // O(|terms| + |ids| * |terms| log |doc|).
  void ScoreDocuments(const std::vector<uint64_t>& ids, const std::vector<std::string>& terms,
                      std::vector<float>* scores) const;

  // Number of live documents containing the normalised term.
  uint32_t DocFrequency(std::string_view term) const;
  // idf as in the file comment; for an unknown term, the idf of df = 0.
  double Idf(std::string_view term) const;

  // Bytes held by the index (approximate: container capacities).
  size_t MemoryUsage() const;

  // A self-contained, checksummed binary image; Deserialize(Serialize())
  // yields an index that scores identically. Deserialize returns
  // kCorruption for a damaged or foreign image.
  std::string Serialize() const;
  static Result<std::unique_ptr<TextIndex>> Deserialize(std::string_view image);

  const Tokenizer& tokenizer() const { return tokenizer_; }
  const TextIndexOptions& options() const { return options_; }

 private:
  struct Posting {
    uint32_t slot;
    float tf;  // weighted term frequency
  };
  struct TermInfo {
    std::string text;
    uint32_t df = 0;  // live documents
    std::vector<Posting> postings;
  };
  struct TermEntry {
    uint32_t term;
    uint8_t field;
    uint32_t tf;
  };
  struct DocSlot {
    uint64_t id = 0;
    bool live = false;
    float length = 0;  // weighted
    std::vector<uint32_t> field_lengths;
    std::vector<TermEntry> entries;
  };

  // A query term resolved once: its id and idf.
  struct ScoringTerm {
    uint32_t term;
    float idf;
  };

  explicit TextIndex(TextIndexOptions options);
  std::vector<ScoringTerm> ScoringTerms(const std::vector<std::string>& terms) const;
  float ScoreSlot(const DocSlot& doc, const std::vector<ScoringTerm>& terms) const;
  // One term's BM25 contribution; every scoring path goes through it so their
  // float results agree bit for bit.
  float Bm25Term(float idf, float tf, float norm) const {
    const float k1 = options_.bm25.k1;
    const float b = options_.bm25.b;
    return idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * norm));
  }
  void AddTokens(uint64_t id, const std::vector<std::vector<std::string>>& field_terms);
  void IndexSlot(uint32_t slot);
  uint32_t InternTerm(const std::string& term);
  void MaybeCompact();
  double IdfFromDf(uint32_t df) const;

  TextIndexOptions options_;
  Tokenizer tokenizer_;
  std::unordered_map<std::string, uint32_t> term_ids_;
  std::vector<TermInfo> terms_;
  std::vector<DocSlot> slots_;
  std::unordered_map<uint64_t, uint32_t> id_to_slot_;
  double total_length_ = 0;  // over live documents
  size_t dead_slots_ = 0;
};

}  // namespace ragkv::text
