// Retriever implementation (the design is in retriever.h).
#include "rag/retriever.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "rag/calibration.h"
#include "rag/feedback.h"
#include "rag/store_io.h"

namespace ragkv::rag {

// Terms weigh idf^3 in the confidence: a question's subject is its rarest
// words, and a chunk that misses them but matches the common ones ("how",
// "limit", "memory") must not look like an answer. Chosen from {1, 2, 3} on
// FOLDOC dev half A (docs/rag.md): separation of answerable from
// unanswerable questions grew with the power.
constexpr double kIdfPower = 3;
// Chunks holding every word of a named subject fetched to look for it as a
// phrase; more count as found (ChunkStore::PhraseOccurs).
constexpr size_t kPhraseCandidates = 200;
// A word is taken for a verb when at least kVerbShare of its uses in up to
// kVerbSampleChunks chunks follow "to", a modal or "not" (FOLDOC: verbs such
// as find, detect, prevent 0.5-1.0; the second words of names such as
// filter, list, tree, theorem, hashing 0-0.07; nouns that are also verbs sit
// between, "control" 0.06, "join" 0.19, "work" 0.26). Fewer than
// kVerbMinUses uses cannot tell.
constexpr size_t kVerbSampleChunks = 100;
constexpr double kVerbShare = 0.2;
constexpr size_t kVerbMinUses = 3;

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

std::string NamedSubject(std::string_view question) {
  // Words that end a name: articles, prepositions, conjunctions, pronouns,
  // auxiliaries (a name is a run of content words).
  static const std::unordered_set<std::string> kFunction = {
      "a",     "an",    "the",   "of",    "in",    "on",   "to",    "for",   "and",   "or",
      "with",  "that",  "which", "who",   "whose", "what", "when",  "where", "why",   "how",
      "by",    "from",  "at",    "as",    "into",  "over", "under", "than",  "then",  "so",
      "is",    "are",   "was",   "were",  "be",    "been", "do",    "does",  "did",   "can",
      "could", "would", "should", "will", "may",   "might", "must", "has",   "have",  "had",
      "it",    "its",   "this",  "these", "those", "i",    "you",   "we",    "they",  "he",
      "she",   "my",    "your",  "our",   "their", "his",  "her",   "not",   "no",    "if",
      "each",  "every", "all",   "any",   "some",  "such", "there", "but",   "between"};
  // Tokens as written: words with inner hyphens kept whole, and punctuation.
  struct Token {
    std::string text;
    std::string lower;
    bool word;
  };
  std::vector<Token> tokens;
  for (size_t pos = 0; pos < question.size();) {
    const auto alnum = [&](size_t i) {
      return i < question.size() && (std::isalnum(static_cast<unsigned char>(question[i])) ||
                                     static_cast<unsigned char>(question[i]) >= 0x80);
    };
    if (std::isspace(static_cast<unsigned char>(question[pos]))) {
      ++pos;
      continue;
    }
    size_t end = pos;
    if (alnum(pos)) {
      while (alnum(end) ||
             (end < question.size() && question[end] == '-' && alnum(end + 1) && end > pos)) {
        ++end;
      }
      // A possessive belongs to the name: "Nagle's algorithm", "Amdahl’s law".
      for (std::string_view apostrophe : {"'", "\u2019"}) {
        const size_t s = end + apostrophe.size();
        if (question.substr(end, apostrophe.size()) == apostrophe && s < question.size() &&
            (question[s] == 's' || question[s] == 'S') && !alnum(s + 1)) {
          end = s + 1;
          break;
        }
      }
    } else {
      end = pos + 1;
    }
    Token t{std::string(question.substr(pos, end - pos)), "", alnum(pos)};
    t.lower = t.text;
    for (char& c : t.lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    tokens.push_back(std::move(t));
    pos = end;
  }
  const auto is = [&](size_t i, std::initializer_list<const char*> any) {
    if (i >= tokens.size()) return false;
    for (const char* w : any) {
      if (tokens[i].lower == w) return true;
    }
    return false;
  };
  size_t i = 0;
  if (is(0, {"how"}) && is(1, {"does", "do"})) {
    i = 2;
  } else if (is(0, {"what"}) && is(1, {"is", "are", "does", "do"})) {
    i = 2;
  } else {
    return "";
  }
  if (is(i, {"a", "an", "the"})) ++i;
  const auto name_word = [&](size_t j) {
    return j < tokens.size() && tokens[j].word && kFunction.count(tokens[j].lower) == 0;
  };
  if (!name_word(i)) return "";
  const bool hyphenated = tokens[i].text.find('-') != std::string::npos;
  if (hyphenated) return tokens[i].text;
  if (!name_word(i + 1)) return "";
  return tokens[i].text + " " + tokens[i + 1].text;
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

std::vector<std::string_view> SurfaceWords(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = pos;
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) ||
                                 static_cast<unsigned char>(text[end]) >= 0x80)) {
      ++end;
    }
    if (end > pos) out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

namespace {

// BM25F's weight of the title field (the index's; docs/rag.md "Pipeline").
constexpr double kTitleWeight = 3;

}  // namespace

Result<std::vector<Candidate>> Retriever::ExpandWithFeedback(
    const std::vector<Candidate>& text_hits, size_t k,
    const std::unordered_set<uint64_t>* excluded) {
  auto left_out = [&](uint64_t id) { return excluded && excluded->count(id) > 0; };
  // A chunk's analysed terms, title field and body apart (BM25F counts a
  // title occurrence kTitleWeight times).
  struct Analysed {
    ChunkRecord chunk;
    std::unordered_map<std::string, double> tf;
    double len = 0;
  };
  std::unordered_map<uint64_t, Analysed> analysed;
  auto analyse = [&](uint64_t id) -> Result<Analysed*> {
    auto it = analysed.find(id);
    if (it != analysed.end()) return &it->second;
    Analysed a;
    RAGKV_ASSIGN_OR_RETURN(a.chunk, store_->GetChunk(id));
    for (const std::string& t : store_->Analyze(TitleField(a.chunk))) {
      a.tf[t] += kTitleWeight;
      a.len += kTitleWeight;
    }
    for (const std::string& t : store_->Analyze(a.chunk.text)) {
      a.tf[t] += 1;
      a.len += 1;
    }
    return &analysed.emplace(id, std::move(a)).first->second;
  };

  std::vector<FeedbackDoc> feedback;
  std::vector<uint64_t> feedback_ids;
  for (const Candidate& c : text_hits) {
    if (feedback.size() == options_.rm3_docs) break;
    if (left_out(c.chunk_id)) continue;
    RAGKV_ASSIGN_OR_RETURN(Analysed * a, analyse(c.chunk_id));
    FeedbackDoc d;
    d.score = c.score;
    d.terms = store_->Analyze(TitleField(a->chunk) + "\n" + a->chunk.text);
    feedback.push_back(std::move(d));
    feedback_ids.push_back(c.chunk_id);
  }
  std::vector<WeightedTerm> model = RelevanceModel(feedback, options_.rm3_terms);
  if (model.empty()) return text_hits;

  // Expansion terms are stems; find a word of the feedback chunks that
  // analyses to each, so the store can be asked about it (re-analysing a
  // stem does not always give the stem back).
  std::unordered_map<std::string, std::string> surface;
  for (const WeightedTerm& t : model) surface[t.term];
  size_t found = 0;
  for (uint64_t id : feedback_ids) {
    const ChunkRecord& c = analysed[id].chunk;
    for (const std::string& text : {TitleField(c), c.text}) {
      for (std::string_view w : SurfaceWords(text)) {
        if (found == surface.size()) break;
        std::vector<std::string> a = store_->Analyze(w);
        if (a.size() != 1) continue;
        auto it = surface.find(a[0]);
        if (it != surface.end() && it->second.empty()) {
          it->second = std::string(w);
          ++found;
        }
      }
    }
  }
  std::string expansion;
  for (const WeightedTerm& t : model) {
    if (!surface[t.term].empty()) expansion += surface[t.term] + " ";
  }
  std::unordered_map<std::string, double> idf;
  for (const ChunkStore::TermStat& st : store_->QueryTermStats(expansion)) idf[st.term] = st.idf;

  // Pool: the first list plus the expansion's own BM25 list (recall).
  std::vector<uint64_t> pool;
  std::unordered_map<uint64_t, double> first_score;
  for (const Candidate& c : text_hits) {
    if (left_out(c.chunk_id)) continue;
    first_score[c.chunk_id] = c.score;
    pool.push_back(c.chunk_id);
  }
  RAGKV_ASSIGN_OR_RETURN(std::vector<Candidate> more, store_->TextSearch(expansion, k));
  for (const Candidate& c : more) {
    if (!left_out(c.chunk_id) && first_score.count(c.chunk_id) == 0) {
      first_score[c.chunk_id] = 0;  // below the first list's cut
      pool.push_back(c.chunk_id);
    }
  }
  double avg_len = 0;
  for (uint64_t id : pool) {
    RAGKV_ASSIGN_OR_RETURN(Analysed * a, analyse(id));
    avg_len += a->len;
  }
  avg_len /= static_cast<double>(pool.size());
  std::vector<double> expanded(pool.size(), 0);
  double max_first = 0, max_expanded = 0;
  for (size_t i = 0; i < pool.size(); ++i) {
    const Analysed& a = analysed[pool[i]];
    for (const WeightedTerm& t : model) {
      auto tf = a.tf.find(t.term);
      if (tf == a.tf.end()) continue;
      expanded[i] += t.weight * Bm25Term(idf[t.term], tf->second, a.len, avg_len);
    }
    max_first = std::max(max_first, first_score[pool[i]]);
    max_expanded = std::max(max_expanded, expanded[i]);
  }
  // Each part scaled to [0, 1] so that rm3_weight means the same on every query.
  std::vector<Candidate> out;
  for (size_t i = 0; i < pool.size(); ++i) {
    const double first = max_first > 0 ? first_score[pool[i]] / max_first : 0;
    const double fb = max_expanded > 0 ? expanded[i] / max_expanded : 0;
    out.push_back({pool[i], static_cast<float>((1 - options_.rm3_weight) * first +
                                               options_.rm3_weight * fb)});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  if (out.size() > k) out.resize(k);
  return out;
}

double Retriever::Coverage(std::string_view query, const ChunkRecord& chunk,
                           std::vector<std::string>* unknown) {
  if (cached_stats_query_ != query || cached_stats_.empty()) {
    cached_stats_ = store_->QueryTermStats(query);
    cached_stats_query_ = std::string(query);
  }
  const std::vector<ChunkStore::TermStat>& terms = cached_stats_;
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

Result<bool> Retriever::UsedAsVerb(std::string_view word) {
  // Words an English verb follows in its base form: "to find", "can
  // share", "does not prevent".
  static const std::unordered_set<std::string_view> kBeforeVerb = {
      "to",     "can",    "cannot", "could", "will", "would", "may", "might",
      "must",   "should", "shall",  "do",    "does", "did",   "not", "never"};
  std::string lower(word);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  RAGKV_ASSIGN_OR_RETURN(std::vector<ChunkRecord> chunks,
                         store_->ChunksHolding(word, kVerbSampleChunks));
  size_t uses = 0, as_verb = 0;
  std::string prev, cur;
  for (const ChunkRecord& chunk : chunks) {
    prev.clear();
    for (std::string_view w : SurfaceWords(chunk.text)) {
      cur.assign(w);
      for (char& c : cur) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (cur == lower) {
        ++uses;
        if (kBeforeVerb.count(prev) > 0) ++as_verb;
      }
      prev.swap(cur);
    }
  }
  // Too few uses to tell: assume a verb, so the rule does not decline.
  if (uses < kVerbMinUses) return true;
  return static_cast<double>(as_verb) >= kVerbShare * static_cast<double>(uses);
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
  if (options_.rm3_docs > 0 && !text_hits.empty()) {
    RAGKV_ASSIGN_OR_RETURN(text_hits, ExpandWithFeedback(text_hits, fetch, excluded));
  }
  add_list(text_hits, options_.text_weight, true);
  if (options_.vector_weight > 0) {
    if (cached_vector_.empty() || cached_query_ != query) {
      RAGKV_ASSIGN_OR_RETURN(auto vectors,
                             embedder_->Embed({std::string(query)}, EmbedPurpose::kQuery));
      if (vectors.size() != 1) return Status::Internal("embedder returned no vector");
      cached_query_ = std::string(query);
      cached_vector_ = std::move(vectors[0]);
    }
    RAGKV_ASSIGN_OR_RETURN(std::vector<Candidate> knn, store_->VectorSearch(cached_vector_, fetch));
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
  // A question that names its subject in words the collection has, but never
  // together ("consistent hashing", "Bloom filter"), asks about something
  // the documents do not cover: the near miss the coverage confidence cannot
  // see, since every word matches somewhere (docs/rag.md).
  if (!excluded && out.unknown_terms.empty() && options_.abstain_on_unknown_subject &&
      !out.hits.empty()) {
    const std::string subject = NamedSubject(raw_query);
    if (!subject.empty()) {
      RAGKV_ASSIGN_OR_RETURN(bool occurs, store_->PhraseOccurs(subject, kPhraseCandidates));
      // "How does DHCP assign ...": a one-word name and its verb look like a
      // two-word name that is never written. Two signs of that, either
      // enough: the collection uses the second word as a verb ("assign"
      // mostly follows "to" or a modal, "filter" in "Bloom filter" almost
      // never does), or the best chunk mentions the first word, so the
      // question may well be about it alone ("How does Samba let ...").
      if (const size_t space = subject.find(' '); !occurs && space != std::string::npos) {
        const std::vector<std::string> first = store_->Analyze(subject.substr(0, space));
        const std::vector<std::string> best =
            store_->Analyze(TitleField(out.hits[0].chunk) + "\n" + out.hits[0].chunk.text);
        occurs = first.size() == 1 && std::find(best.begin(), best.end(), first[0]) != best.end();
        if (!occurs) {
          RAGKV_ASSIGN_OR_RETURN(occurs, UsedAsVerb(std::string_view(subject).substr(space + 1)));
        }
      }
      if (!occurs) out.unknown_terms.push_back(subject);
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
