// Self-calibrated abstention: the retrieval-confidence threshold below which
// `ragkv ask` says the documents do not contain the answer, chosen from the
// collection itself instead of from a question set.
//
// At the end of an ingest, CalibrateAbstention samples chunks (seeded), turns
// each one's subject (last heading, else document title, else file name) plus
// a few context words drawn from another random chunk into a pseudo-question,
// and retrieves it twice:
//   - with the collection as it is: an "answerable" example;
//   - with every chunk of that chunk's file left out of both candidate lists:
//     an "unanswerable" example, where the corpus still has the words but no
//     longer the subject (the "consistent hashing" / "Bloom filter" failure).
// Unanswerable examples whose subject has a term that only the left-out file
// contains are declined by the unknown-term rule anyway and are counted, not
// fitted. The threshold is the one that maximises balanced accuracy on the
// rest while still answering at least `min_answered` of the answerable ones.
//
// The result travels inside the collection's embedder-state blob
// (EncodeCollectionState), so no store layout changes: old blobs (no envelope)
// decode as "embedder state, not calibrated".
//
// Thread safety: CalibrateAbstention uses the store and the embedder from the
// calling thread only, like Retriever; the other functions are pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "rag/chunk_store.h"
#include "rag/embedder.h"
#include "rag/retriever.h"

namespace ragkv::rag {

// Defaults chosen on FOLDOC dev half A only (docs/rag.md): 3 context words
// and 97% answered keep all 17 of its answerable questions answered for every
// seed tried (0.95 declined one); 400 samples keep the threshold within
// about +-0.01 across seeds (200: 0.17-0.24) for ~1 s of ingest on FOLDOC.
struct CalibrationOptions {
  size_t samples = 400;        // pseudo-questions drawn (fewer if the collection is smaller)
  size_t context_words = 3;    // words from other chunks added to each subject
  double min_answered = 0.97;  // share of answerable examples that must stay answered
  uint64_t seed = 42;
};

struct AbstentionCalibration {
  double threshold = 0;
  uint32_t answerable = 0;         // answerable pseudo-questions
  uint32_t unanswerable = 0;       // unanswerable ones the threshold was fitted on
  uint32_t caught_by_unknown = 0;  // unanswerable ones the unknown-term rule declines
  double answered = 0;             // share of answerable ones answered at `threshold`
  double declined = 0;             // share of the fitted unanswerable ones declined
  uint64_t seed = 0;
};

// One labelled pseudo-example (exposed for tests and for `ragkv eval`).
struct CalibrationExample {
  std::string query;
  double confidence = 0;
  bool answerable = false;
};

// The threshold maximising (answered + declined) / 2 over `examples` subject
// to answered >= min_answered (ties: the lowest threshold, which answers
// more); a midpoint between neighbouring confidences. Without examples of
// both kinds there is nothing to fit: kFallbackThreshold. O(n log n).
AbstentionCalibration ChooseThreshold(const std::vector<CalibrationExample>& examples,
                                      double min_answered);

// Runs the procedure above on `store` (which must hold the chunks, committed
// or buffered) through a Retriever over `embedder` with `retrieval`'s fusion
// settings. Fills `examples` when non-null. kFailedPrecondition for an empty
// collection; embedder errors otherwise. Deterministic for a given seed and
// collection.
Result<AbstentionCalibration> CalibrateAbstention(
    ChunkStore* store, Embedder* embedder, const RetrievalOptions& retrieval,
    const CalibrationOptions& options, std::vector<CalibrationExample>* examples = nullptr);

// The embedder-state blob with an optional calibration:
//   u32 magic "RKCS", u32 version 1, string embedder_state, u8 has_calibration,
//   [f64 threshold, u32 answerable, u32 unanswerable, u32 caught_by_unknown,
//    f64 answered, f64 declined, u64 seed]   (little-endian)
// A blob without the magic is a bare embedder state (collections from before
// calibration).
struct CollectionState {
  std::string embedder_state;
  std::optional<AbstentionCalibration> calibration;
};
std::string EncodeCollectionState(const CollectionState& state);
// kCorruption for a blob that has the magic but does not parse.
Result<CollectionState> DecodeCollectionState(std::string_view blob);

}  // namespace ragkv::rag
