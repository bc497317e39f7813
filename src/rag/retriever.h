// Retriever: hybrid search over a ChunkStore plus a retrieval confidence.
//
// BM25 (title + body) and vector KNN each return `candidates` chunks; the two
// rankings are fused by reciprocal rank fusion (Cormack et al. 2009):
//   fused(c) = sum over lists L containing c of  w_L / (rrf_k + rank_L(c))
// RRF needs no score calibration between BM25 and cosine, which live on
// unrelated scales.
//
// Confidence is the share of the question's information the best chunk
// explains: the idf^3-weighted fraction of the question's distinct terms that
// occur in the top fused chunk (title or text), where unknown terms count
// with the idf of an unseen term. A question about something the corpus never
// mentions ("CRDT") loses its rarest, heaviest terms and scores low even when
// its common words match well, which a raw BM25 score cannot tell apart
// (fts5_baseline.txt: 5 of 6 unanswerable questions outscore an answerable
// one). Abstain when confidence < threshold, when a question term occurs
// in no document at all, or when the subject the question names occurs in
// none as a phrase (NamedSubject: "consistent hashing" is two words FOLDOC
// has, never together). The threshold is the collection's own calibration
// (calibration.h: fitted at ingest on pseudo-questions from the collection)
// unless the caller fixes one; collections ingested before calibration
// existed fall back to kFallbackThreshold.
//
// Thread safety: one thread at a time (it uses the store and the embedder).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/result.h"
#include "rag/chunk_store.h"
#include "rag/document.h"
#include "rag/embedder.h"

namespace ragkv::rag {

struct RetrievalOptions {
  size_t candidates = 50;     // per list, before fusion
  double rrf_k = 60;          // the constant from Cormack et al.
  double text_weight = 1.0;   // w_L for BM25
  double vector_weight = -1;  // w_L for the vector list; 0 disables KNN; < 0: the
                              // embedder's fusion_weight()
  // Abstain below this confidence; < 0: the collection's calibrated threshold
  // (kFallbackThreshold when it has none).
  double abstain_threshold = -1;
  bool strip_framing = true;  // apply StripQuestionFraming to queries
  // Abstain when a question term occurs in no document at all, or when the
  // subject the question names (NamedSubject) occurs in none as a phrase.
  bool abstain_on_unknown_terms = true;
  bool abstain_on_unknown_subject = true;
  // Pseudo-relevance feedback (RM3, feedback.h) on the BM25 list: the top
  // rm3_docs chunks give rm3_terms expansion terms, interpolated with the
  // question at weight rm3_weight (1 - lambda). 0 docs: off, the default: no
  // setting chosen on FOLDOC dev half A held on the other sets (docs/rag.md).
  size_t rm3_docs = 0;
  size_t rm3_terms = 10;
  double rm3_weight = 0.5;
};

// The fixed threshold of session 1 (the middle of FOLDOC dev half A's gap),
// used for collections without a calibration.
constexpr double kFallbackThreshold = 0.18;

struct RetrievedChunk {
  ChunkRecord chunk;
  double score = 0;     // fused
  int text_rank = 0;    // 1-based rank in the BM25 list, 0 if absent
  int vector_rank = 0;  // 1-based rank in the vector list, 0 if absent
};

struct Retrieval {
  std::vector<RetrievedChunk> hits;        // best first
  double confidence = 0;                   // in [0, 1]
  bool abstain = true;                     // no hits, confidence < threshold, or unknown terms
  // Question terms no document contains, as written, or the named subject
  // (NamedSubject) when no document holds it as a phrase.
  std::vector<std::string> unknown_terms;
};

// Removes instruction words that frame a question rather than name its
// subject ("explain", "describe", "example(s)", "tell me"...), so that a
// corpus about the EXPLAIN command does not answer "Explain key-value
// stores". Returns the query unchanged if nothing else would remain.
std::string StripQuestionFraming(std::string_view query);

// The thing a question names as its subject, as written, when it asks
// "How does/do [a|an|the] X ..." or "What is/are/does/do [a|an|the] X ...":
// X's first two words (a hyphenated word counts as one and, first, stands
// alone; a possessive "'s" stays with its word), ending early at a function
// word or punctuation. "How does consistent hashing limit ..." ->
// "consistent hashing"; "How does a log-structured merge tree ..." ->
// "log-structured". Empty for other forms ("Which ...", "Why ...", "How can
// I ..."), which describe a subject rather than name it, and for a one-word
// name (the unknown-term rule covers those). The retriever declines a name
// no chunk holds as a phrase, unless the best chunk mentions its first word
// or the collection uses its second word as a verb: either way "How does
// DHCP assign ..." may name DHCP alone.
std::string NamedSubject(std::string_view question);

// The words of `text` as written: runs of ASCII letters and digits and of
// non-ASCII bytes (how a store must be asked about them; a stem analysed
// again is not always itself).
std::vector<std::string_view> SurfaceWords(std::string_view text);

class Retriever {
 public:
  // kFailedPrecondition if the store was built with another embedder
  // (the message says which one to use). Both pointers must outlive this.
  static Result<Retriever> Create(ChunkStore* store, Embedder* embedder,
                                  RetrievalOptions options = {});

  // The `k` best chunks for `query`. Errors only from the embedder (remote).
  Result<Retrieval> Retrieve(std::string_view query, size_t k);
  // The same as if the chunks in `excluded` were not in the collection's
  // candidate lists (term statistics stay those of the whole collection, and
  // unknown_terms is left empty): leave-one-out retrieval for calibration.
  Result<Retrieval> RetrieveWithout(std::string_view query, size_t k,
                                    const std::unordered_set<uint64_t>& excluded);

  const RetrievalOptions& options() const { return options_; }
  // The threshold in force, and whether it came from the collection's
  // calibration (otherwise the caller's, or kFallbackThreshold).
  double threshold() const { return options_.abstain_threshold; }
  bool calibrated() const { return calibrated_; }

 private:
  Retriever(ChunkStore* store, Embedder* embedder, RetrievalOptions options, bool calibrated)
      : store_(store), embedder_(embedder), options_(options), calibrated_(calibrated) {}
  Result<Retrieval> RetrieveImpl(std::string_view query, size_t k,
                                 const std::unordered_set<uint64_t>* excluded);
  // The BM25 list re-ranked by the RM3-expanded query (see feedback.h),
  // at most `k` long.
  Result<std::vector<Candidate>> ExpandWithFeedback(const std::vector<Candidate>& text_hits,
                                                    size_t k,
                                                    const std::unordered_set<uint64_t>* excluded);
  double Coverage(std::string_view query, const ChunkRecord& chunk,
                  std::vector<std::string>* unknown);
  // Whether the collection mostly uses `word` as a verb (after "to", a modal
  // or "not"), or holds too few uses of it to tell.
  Result<bool> UsedAsVerb(std::string_view word);

  ChunkStore* store_;
  Embedder* embedder_;
  RetrievalOptions options_;
  bool calibrated_ = false;
  // The last query's vector and term statistics: calibration asks the same
  // question several times, and a remote embedder or a server store costs a
  // request (per term) each.
  std::string cached_query_;
  std::vector<float> cached_vector_;
  std::string cached_stats_query_;
  std::vector<ChunkStore::TermStat> cached_stats_;
};

}  // namespace ragkv::rag
