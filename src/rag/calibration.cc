// Self-calibrated abstention (the contract is in calibration.h).
//
// Why pseudo-questions from the collection: the fixed threshold of session 1
// was the middle of a gap between 17 answerable and 3 unanswerable FOLDOC
// questions, and all 3 were caught by the unknown-term rule anyway, so it
// held no example of the failure that matters: a question about a subject
// the corpus does not cover, written in words it does ("consistent
// hashing"). Leaving a file out and asking for its subject makes exactly that
// case, as often as we like, for any corpus and without a question set.
//
// Why subject + context words: a question is its subject plus words about
// what is asked ("... when memory runs low"), and those words are often not
// in the answering chunk; a pseudo-question made of the subject alone would
// score a perfect 1.0 whenever it finds its source, and the fitted threshold
// would decline real questions. Context words are tokens drawn uniformly
// from another random chunk, so they follow the corpus's word frequencies.
//
// Rejected: fitting on a question set (the collection has none, and FOLDOC's
// had 3 unanswerable questions); a fixed quantile of the answerable
// confidences (ignores where the unanswerable ones lie).
#include "rag/calibration.h"

#include <algorithm>
#include <cctype>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "index/text/byte_codec.h"
#include "rag/store_io.h"

namespace ragkv::rag {
namespace {

constexpr uint32_t kStateMagic = 0x53434B52;  // "RKCS"
constexpr uint32_t kStateVersion = 1;
// At most this many chunks holding a subject are left out; a subject held by
// more is too common to make an unanswerable question of.
constexpr size_t kMaxLeftOut = 50;

// The name a chunk is about: its innermost heading, else its document's
// title, else its file name.
std::string Subject(const ChunkRecord& chunk) {
  if (!chunk.heading.empty()) {
    size_t cut = chunk.heading.rfind(" > ");
    return cut == std::string::npos ? chunk.heading : chunk.heading.substr(cut + 3);
  }
  if (!chunk.title.empty()) return chunk.title;
  return DocIdFromSource(chunk.source);
}

// Runs of lower-case ASCII letters of length >= 3 between non-letters: the
// ordinary words a question is phrased in. Capitalised words are left out:
// names and acronyms ("Rapin", "SUPERMAC") are rare, dominate the
// idf^3-weighted confidence and make pseudo-questions no one would ask.
std::vector<std::string> Words(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && std::isalpha(static_cast<unsigned char>(text[j]))) ++j;
    const bool lower = std::all_of(text.begin() + i, text.begin() + j, [](char c) {
      return std::islower(static_cast<unsigned char>(c));
    });
    if (j - i >= 3 && lower) out.emplace_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}


}  // namespace

AbstentionCalibration ChooseThreshold(const std::vector<CalibrationExample>& examples,
                                      double min_answered) {
  AbstentionCalibration best;
  std::vector<std::pair<double, bool>> points;
  for (const CalibrationExample& e : examples) {
    points.emplace_back(e.confidence, e.answerable);
    ++(e.answerable ? best.answerable : best.unanswerable);
  }
  if (best.answerable == 0 || best.unanswerable == 0) {
    best.threshold = kFallbackThreshold;
    return best;
  }
  std::sort(points.begin(), points.end());
  const double a_total = best.answerable, u_total = best.unanswerable;
  // Sweep thresholds from below everything upwards: at each step every
  // example below the threshold is declined.
  size_t below_a = 0, below_u = 0;
  double best_score = -1;
  size_t i = 0;
  double threshold = 0;
  while (true) {
    const double answered = 1 - below_a / a_total, declined = below_u / u_total;
    const double score = (answered + declined) / 2;
    if (answered + 1e-12 >= min_answered && score > best_score + 1e-12) {
      best_score = score;
      best.threshold = threshold;
      best.answered = answered;
      best.declined = declined;
    }
    if (i == points.size()) break;
    const double v = points[i].first;
    while (i < points.size() && points[i].first == v) ++(points[i++].second ? below_a : below_u);
    threshold = i < points.size() ? (v + points[i].first) / 2 : v + 1e-9;
  }
  return best;
}

Result<AbstentionCalibration> CalibrateAbstention(ChunkStore* store, Embedder* embedder,
                                                  const RetrievalOptions& retrieval,
                                                  const CalibrationOptions& options,
                                                  std::vector<CalibrationExample>* examples) {
  RetrievalOptions ro = retrieval;
  ro.abstain_threshold = 0;  // decisions are made here, not by the retriever
  RAGKV_ASSIGN_OR_RETURN(Retriever retriever, Retriever::Create(store, embedder, ro));

  // Every chunk id with the index of its file, in a fixed order.
  std::vector<std::string> sources = store->Sources();
  std::sort(sources.begin(), sources.end());
  std::vector<std::pair<uint64_t, uint32_t>> chunks;
  for (uint32_t s = 0; s < sources.size(); ++s) {
    std::optional<FileEntry> entry = store->FindFile(sources[s]);
    if (!entry) continue;
    for (uint64_t id : entry->chunk_ids) chunks.emplace_back(id, s);
  }
  if (chunks.empty()) return Status::FailedPrecondition("cannot calibrate an empty collection");

  std::mt19937_64 rng(options.seed);
  std::vector<size_t> order(chunks.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);

  std::vector<CalibrationExample> fitted;
  uint32_t caught = 0;
  size_t drawn = 0;
  for (size_t pick : order) {
    if (drawn == options.samples) break;
    const auto [chunk_id, source_index] = chunks[pick];
    RAGKV_ASSIGN_OR_RETURN(ChunkRecord chunk, store->GetChunk(chunk_id));
    std::string query = Subject(chunk);
    if (store->Analyze(query).empty()) continue;  // "(())", a bare number's stop word...
    ++drawn;
    // Context words, each from another random chunk: taken from one chunk,
    // they would make that chunk the best match of every such question.
    for (size_t w = 0, tries = 0; w < options.context_words && tries < 20 * options.context_words;
         ++tries) {
      const uint64_t other_id =
          chunks[std::uniform_int_distribution<size_t>(0, chunks.size() - 1)(rng)].first;
      RAGKV_ASSIGN_OR_RETURN(ChunkRecord other, store->GetChunk(other_id));
      std::vector<std::string> words = Words(other.text);
      if (words.empty()) continue;
      const std::string& word =
          words[std::uniform_int_distribution<size_t>(0, words.size() - 1)(rng)];
      if (store->Analyze(word).empty()) continue;  // a stop word adds nothing
      query += " " + word;
      ++w;
    }

    RAGKV_ASSIGN_OR_RETURN(Retrieval with, retriever.Retrieve(query, 1));
    fitted.push_back({query, with.confidence, true});

    // The same question on the collection without its subject: its file is
    // left out, and so is every other chunk that holds all of the subject's
    // terms (an entry that mentions it), so that the best remaining chunk has
    // at most part of the subject. Holders are found lazily: only those that
    // would be the top hit matter, so retrieve, and while the top hit holds
    // the subject, leave it out and retrieve again.
    const std::string subject_text = Subject(chunk);
    std::vector<std::string> subject_terms = store->Analyze(subject_text);
    const std::unordered_set<std::string> subject(subject_terms.begin(), subject_terms.end());
    auto holds_subject = [&](const ChunkRecord& c) {
      std::vector<std::string> terms = store->Analyze(TitleField(c) + "\n" + c.text);
      std::unordered_set<std::string> distinct(terms.begin(), terms.end());
      return std::all_of(subject.begin(), subject.end(),
                         [&](const std::string& t) { return distinct.count(t) > 0; });
    };
    std::optional<FileEntry> file = store->FindFile(sources[source_index]);
    if (!file) continue;
    std::unordered_set<uint64_t> excluded(file->chunk_ids.begin(), file->chunk_ids.end());
    // A subject term that only holders contain makes the question one the
    // unknown-term rule declines whatever the threshold: count it, do not fit
    // it. Checked for terms in at most kMaxLeftOut chunks (a commoner one is
    // taken to occur elsewhere).
    bool only_in_holders = false;
    for (std::string_view word : SurfaceWords(subject_text)) {
      std::vector<ChunkStore::TermStat> stats = store->QueryTermStats(word);
      if (only_in_holders || stats.size() != 1 || stats[0].df > kMaxLeftOut) continue;
      RAGKV_ASSIGN_OR_RETURN(std::vector<Candidate> with_term,
                             store->TextSearch(word, stats[0].df));
      bool elsewhere = false;
      for (const Candidate& h : with_term) {
        if (excluded.count(h.chunk_id) > 0) continue;
        RAGKV_ASSIGN_OR_RETURN(ChunkRecord c, store->GetChunk(h.chunk_id));
        if (!holds_subject(c)) {
          elsewhere = true;
          break;
        }
      }
      only_in_holders = !elsewhere;
    }
    if (only_in_holders) {
      ++caught;
      continue;
    }
    std::optional<Retrieval> without;
    size_t left_out = 0;
    for (; left_out < kMaxLeftOut; ++left_out) {
      RAGKV_ASSIGN_OR_RETURN(without, retriever.RetrieveWithout(query, 1, excluded));
      if (without->hits.empty() || !holds_subject(without->hits[0].chunk)) break;
      excluded.insert(without->hits[0].chunk.id);
    }
    // A subject so common that it is everywhere: no unanswerable question in it.
    if (left_out == kMaxLeftOut) continue;
    fitted.push_back({query, without->confidence, false});
  }
  AbstentionCalibration out = ChooseThreshold(fitted, options.min_answered);
  out.caught_by_unknown = caught;
  out.seed = options.seed;
  if (examples) *examples = std::move(fitted);
  return out;
}

std::string EncodeCollectionState(const CollectionState& state) {
  text::ByteWriter w;
  w.PutU32(kStateMagic);
  w.PutU32(kStateVersion);
  w.PutString(state.embedder_state);
  w.PutU8(state.calibration ? 1 : 0);
  if (state.calibration) {
    const AbstentionCalibration& c = *state.calibration;
    w.PutRaw(&c.threshold, sizeof c.threshold);
    w.PutU32(c.answerable);
    w.PutU32(c.unanswerable);
    w.PutU32(c.caught_by_unknown);
    w.PutRaw(&c.answered, sizeof c.answered);
    w.PutRaw(&c.declined, sizeof c.declined);
    w.PutU64(c.seed);
  }
  return std::move(w.buffer());
}

Result<CollectionState> DecodeCollectionState(std::string_view blob) {
  CollectionState out;
  text::ByteReader r(blob);
  uint32_t magic = 0;
  if (blob.size() < 4 || !r.GetU32(&magic) || magic != kStateMagic) {
    out.embedder_state = std::string(blob);  // from before calibration existed
    return out;
  }
  auto bad = [] {
    return Status::Corruption(
        "collection state: malformed; delete the collection directory and ingest again");
  };
  uint32_t version = 0;
  uint8_t has = 0;
  if (!r.GetU32(&version) || version != kStateVersion || !r.GetString(&out.embedder_state) ||
      !r.GetU8(&has) || has > 1) {
    return bad();
  }
  if (has) {
    AbstentionCalibration c;
    if (!r.GetRaw(&c.threshold, sizeof c.threshold) || !r.GetU32(&c.answerable) ||
        !r.GetU32(&c.unanswerable) || !r.GetU32(&c.caught_by_unknown) ||
        !r.GetRaw(&c.answered, sizeof c.answered) || !r.GetRaw(&c.declined, sizeof c.declined) ||
        !r.GetU64(&c.seed) || !(c.threshold >= 0 && c.threshold <= 2)) {
      return bad();
    }
    out.calibration = c;
  }
  if (r.remaining() != 0) return bad();
  return out;
}

}  // namespace ragkv::rag
