// TextIndex implementation.
//
// Layout: a term dictionary (string -> dense term id) whose entries own their
// posting lists (slot, weighted tf), and a slot array holding each document's
// forward entries (term, field, raw tf). The forward entries make Remove
// O(distinct terms) and make the serialised image a plain forward index from
// which postings are rebuilt on load, so the on-disk format does not depend on
// the in-memory posting layout.
//
// Removal tombstones the slot: postings that point at a dead slot are skipped
// by Search and dropped by a compaction that runs once dead slots outnumber
// live ones (amortised O(1) per removal). Rejected: erasing from each posting
// list on removal, which is O(df) per term and quadratic for re-ingests that
// replace many documents; and roaring-style compressed postings, which pay off
// only at corpus sizes far beyond a document collection on one machine.
//
// Search accumulates scores in a dense array indexed by slot (one pass per
// query term), then selects the top k with a partial sort. ScoreDocuments
// (FT.SEARCH scoring the candidates its filter found) does the same when the
// candidates are many and reads forward entries when they are few; one
// Bm25Term keeps every path's floats identical.
//
// Indexing counts a document's (term, field) occurrences by sorting a flat
// vector rather than with a map node per token, and AddTerms takes tokens
// from a caller that tokenised the text already (SearchIndex needs the
// tokens for its own postings too).
#include "index/text/text_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_set>

#include "common/crc32c.h"
#include "index/text/byte_codec.h"

namespace ragkv::text {
namespace {

constexpr uint32_t kMagic = 0x58544B52;  // "RKTX"
constexpr uint32_t kFormatVersion = 1;

bool Better(const TextHit& a, const TextHit& b) {
  if (a.score != b.score) return a.score > b.score;
  return a.id < b.id;
}

}  // namespace

TextIndex::TextIndex(TextIndexOptions options)
    : options_(std::move(options)), tokenizer_(options_.tokenizer) {}

Result<std::unique_ptr<TextIndex>> TextIndex::Create(TextIndexOptions options) {
  if (options.fields.empty() || options.fields.size() > 255) {
    return Status::InvalidArgument("a text index needs between 1 and 255 fields");
  }
  for (const FieldSpec& f : options.fields) {
    if (!(f.weight > 0) || !std::isfinite(f.weight)) {
      return Status::InvalidArgument("field '" + f.name + "' needs a positive weight");
    }
  }
  if (!(options.bm25.k1 >= 0) || !(options.bm25.b >= 0 && options.bm25.b <= 1)) {
    return Status::InvalidArgument("BM25 needs k1 >= 0 and 0 <= b <= 1");
  }
  return std::unique_ptr<TextIndex>(new TextIndex(std::move(options)));
}

uint32_t TextIndex::InternTerm(const std::string& term) {
  auto [it, inserted] = term_ids_.try_emplace(term, static_cast<uint32_t>(terms_.size()));
  if (inserted) terms_.push_back(TermInfo{term, 0, {}});
  return it->second;
}

Status TextIndex::Add(uint64_t id, const std::vector<std::string_view>& field_texts) {
  if (field_texts.size() != options_.fields.size()) {
    return Status::InvalidArgument("expected " + std::to_string(options_.fields.size()) +
                                   " field texts, got " + std::to_string(field_texts.size()));
  }
  std::vector<std::vector<std::string>> field_terms(field_texts.size());
  for (size_t f = 0; f < field_texts.size(); ++f) {
    tokenizer_.Tokenize(field_texts[f], &field_terms[f]);
  }
  AddTokens(id, field_terms);
  return Status::Ok();
}

Status TextIndex::AddTerms(uint64_t id, const std::vector<std::vector<std::string>>& field_terms) {
  if (field_terms.size() != options_.fields.size()) {
    return Status::InvalidArgument("expected " + std::to_string(options_.fields.size()) +
                                   " field term lists, got " + std::to_string(field_terms.size()));
  }
  AddTokens(id, field_terms);
  return Status::Ok();
}

void TextIndex::AddTokens(uint64_t id, const std::vector<std::vector<std::string>>& field_terms) {
  Remove(id);
  DocSlot doc;
  doc.id = id;
  doc.live = true;
  doc.field_lengths.resize(field_terms.size());
  // (term, field) pairs sorted, then run-length counted: one flat vector
  // instead of a map node per token.
  std::vector<std::pair<uint32_t, uint8_t>> occurrences;
  size_t total = 0;
  for (const auto& terms : field_terms) total += terms.size();
  occurrences.reserve(total);
  for (size_t f = 0; f < field_terms.size(); ++f) {
    doc.field_lengths[f] = static_cast<uint32_t>(field_terms[f].size());
    for (const std::string& t : field_terms[f]) {
      occurrences.emplace_back(InternTerm(t), static_cast<uint8_t>(f));
    }
  }
  std::sort(occurrences.begin(), occurrences.end());
  for (size_t i = 0; i < occurrences.size();) {
    size_t j = i + 1;
    while (j < occurrences.size() && occurrences[j] == occurrences[i]) ++j;
    doc.entries.push_back(
        {occurrences[i].first, occurrences[i].second, static_cast<uint32_t>(j - i)});
    i = j;
  }
  uint32_t slot = static_cast<uint32_t>(slots_.size());
  slots_.push_back(std::move(doc));
  id_to_slot_[id] = slot;
  IndexSlot(slot);
}

// Computes the slot's weighted length and appends its postings (entries are
// sorted by term, so each term's fields are adjacent).
void TextIndex::IndexSlot(uint32_t slot) {
  DocSlot& doc = slots_[slot];
  double length = 0;
  for (size_t f = 0; f < doc.field_lengths.size(); ++f) {
    length += options_.fields[f].weight * doc.field_lengths[f];
  }
  doc.length = static_cast<float>(length);
  total_length_ += length;
  for (size_t i = 0; i < doc.entries.size();) {
    uint32_t term = doc.entries[i].term;
    float tf = 0;
    for (; i < doc.entries.size() && doc.entries[i].term == term; ++i) {
      tf += options_.fields[doc.entries[i].field].weight * static_cast<float>(doc.entries[i].tf);
    }
    terms_[term].postings.push_back({slot, tf});
    ++terms_[term].df;
  }
}

bool TextIndex::Remove(uint64_t id) {
  auto it = id_to_slot_.find(id);
  if (it == id_to_slot_.end()) return false;
  DocSlot& doc = slots_[it->second];
  uint32_t last_term = UINT32_MAX;
  for (const TermEntry& e : doc.entries) {
    if (e.term != last_term) --terms_[e.term].df;
    last_term = e.term;
  }
  total_length_ -= doc.length;
  doc.live = false;
  doc.entries.clear();
  doc.entries.shrink_to_fit();
  id_to_slot_.erase(it);
  ++dead_slots_;
  MaybeCompact();
  return true;
}

void TextIndex::MaybeCompact() {
  if (dead_slots_ < 64 || dead_slots_ < id_to_slot_.size()) return;
  std::vector<DocSlot> live;
  live.reserve(id_to_slot_.size());
  for (DocSlot& s : slots_) {
    if (s.live) live.push_back(std::move(s));
  }
  slots_ = std::move(live);
  for (TermInfo& t : terms_) {
    t.postings.clear();
    t.df = 0;
  }
  total_length_ = 0;
  id_to_slot_.clear();
  for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
    id_to_slot_[slots_[slot].id] = slot;
    IndexSlot(slot);
  }
  for (TermInfo& t : terms_) t.postings.shrink_to_fit();
  dead_slots_ = 0;
}

double TextIndex::IdfFromDf(uint32_t df) const {
  double n = static_cast<double>(id_to_slot_.size());
  return std::log(1.0 + (n - df + 0.5) / (df + 0.5));
}

uint32_t TextIndex::DocFrequency(std::string_view term) const {
  auto it = term_ids_.find(std::string(term));
  return it == term_ids_.end() ? 0 : terms_[it->second].df;
}

double TextIndex::Idf(std::string_view term) const { return IdfFromDf(DocFrequency(term)); }

std::vector<TextHit> TextIndex::Search(std::string_view query, size_t k,
                                       const Filter& filter) const {
  return SearchTerms(tokenizer_.Tokenize(query), k, filter);
}

std::vector<TextHit> TextIndex::SearchTerms(const std::vector<std::string>& terms, size_t k,
                                            const Filter& filter) const {
  std::vector<std::pair<std::string, float>> weighted;
  weighted.reserve(terms.size());
  for (const std::string& t : terms) weighted.emplace_back(t, 1.0f);
  return SearchWeighted(weighted, k, filter);
}

std::vector<TextHit> TextIndex::SearchWeighted(
    const std::vector<std::pair<std::string, float>>& terms, size_t k, const Filter& filter) const {
  std::vector<TextHit> hits;
  if (k == 0 || id_to_slot_.empty()) return hits;
  const float avg_len = static_cast<float>(total_length_ / id_to_slot_.size());
  std::vector<float> acc(slots_.size(), 0.0f);
  std::vector<uint32_t> touched;
  std::unordered_set<std::string_view> seen;
  for (const auto& [t, weight] : terms) {
    if (!seen.insert(t).second) continue;
    auto it = term_ids_.find(t);
    if (it == term_ids_.end()) continue;
    const TermInfo& info = terms_[it->second];
    if (info.df == 0) continue;
    const float idf = weight * static_cast<float>(IdfFromDf(info.df));
    for (const Posting& p : info.postings) {
      const DocSlot& doc = slots_[p.slot];
      if (!doc.live) continue;
      float norm = avg_len > 0 ? doc.length / avg_len : 1.0f;
      float s = Bm25Term(idf, p.tf, norm);
      if (acc[p.slot] == 0.0f) touched.push_back(p.slot);
      acc[p.slot] += s;
    }
  }
  hits.reserve(touched.size());
  for (uint32_t slot : touched) {
    uint64_t id = slots_[slot].id;
    if (filter && !filter(id)) continue;
    hits.push_back({id, acc[slot]});
  }
  size_t n = std::min(k, hits.size());
  std::partial_sort(hits.begin(), hits.begin() + n, hits.end(), Better);
  hits.resize(n);
  return hits;
}

// From the document's forward entries (sorted by term, field), not the
// postings: O(|terms| log |doc|) instead of a scan of every posting of every
// term, which FT.SEARCH paid once per candidate. The arithmetic (weighted tf
// summed in field order, then the BM25 formula) is SearchWeighted's, so the
// scores agree exactly.
float TextIndex::ScoreDocument(uint64_t id, const std::vector<std::string>& terms) const {
  auto slot_it = id_to_slot_.find(id);
  if (slot_it == id_to_slot_.end()) return 0;
  const DocSlot& doc = slots_[slot_it->second];
  if (!doc.live) return 0;
  return ScoreSlot(doc, ScoringTerms(terms));
}

// Two ways to the same numbers: per document (binary searches in its forward
// entries: cheap for a few candidates) or, when the candidates are many, one
// walk over the query terms' postings into a dense per-slot accumulator (the
// way SearchWeighted scores), which touches each posting once instead of
// |terms| log |doc| entries per candidate. Both add the same per-term
// contributions (Bm25Term) in the same term order starting from 0, so the
// sums are bit-identical.
void TextIndex::ScoreDocuments(const std::vector<uint64_t>& ids,
                               const std::vector<std::string>& terms,
                               std::vector<float>* scores) const {
  scores->assign(ids.size(), 0.0f);
  const std::vector<ScoringTerm> scoring = ScoringTerms(terms);
  if (scoring.empty()) return;
  size_t postings = 0;
  for (const ScoringTerm& st : scoring) postings += terms_[st.term].postings.size();
  // A per-document score costs ~|terms| binary searches of ~8 steps each.
  const bool accumulate = ids.size() * scoring.size() * 8 > postings;
  if (!accumulate) {
    for (size_t i = 0; i < ids.size(); ++i) {
      auto slot_it = id_to_slot_.find(ids[i]);
      if (slot_it == id_to_slot_.end()) continue;
      const DocSlot& doc = slots_[slot_it->second];
      if (doc.live) (*scores)[i] = ScoreSlot(doc, scoring);
    }
    return;
  }
  const float avg_len = static_cast<float>(total_length_ / id_to_slot_.size());
  std::vector<float> acc(slots_.size(), 0.0f);
  for (const ScoringTerm& st : scoring) {
    for (const Posting& p : terms_[st.term].postings) {
      const DocSlot& doc = slots_[p.slot];
      if (!doc.live) continue;
      const float norm = avg_len > 0 ? doc.length / avg_len : 1.0f;
      acc[p.slot] += Bm25Term(st.idf, p.tf, norm);
    }
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    auto slot_it = id_to_slot_.find(ids[i]);
    if (slot_it != id_to_slot_.end()) (*scores)[i] = acc[slot_it->second];
  }
}

// Distinct known terms with live documents, in first-occurrence order (the
// order the score is summed in).
std::vector<TextIndex::ScoringTerm> TextIndex::ScoringTerms(
    const std::vector<std::string>& terms) const {
  std::vector<ScoringTerm> out;
  std::unordered_set<std::string_view> seen;
  for (const std::string& t : terms) {
    if (!seen.insert(t).second) continue;
    auto term_it = term_ids_.find(t);
    if (term_it == term_ids_.end()) continue;
    const TermInfo& info = terms_[term_it->second];
    if (info.df == 0) continue;
    out.push_back({term_it->second, static_cast<float>(IdfFromDf(info.df))});
  }
  return out;
}

// From the document's forward entries (sorted by term, field), not the
// postings: O(|terms| log |doc|) instead of a scan of every posting of every
// term, which FT.SEARCH paid once per candidate. The arithmetic (weighted tf
// summed in field order, then the BM25 formula) is SearchWeighted's, so the
// scores agree exactly.
float TextIndex::ScoreSlot(const DocSlot& doc, const std::vector<ScoringTerm>& terms) const {
  const float avg_len = static_cast<float>(total_length_ / id_to_slot_.size());
  const float norm = avg_len > 0 ? doc.length / avg_len : 1.0f;
  float score = 0;
  for (const ScoringTerm& st : terms) {
    auto e = std::lower_bound(doc.entries.begin(), doc.entries.end(), st.term,
                              [](const TermEntry& entry, uint32_t x) { return entry.term < x; });
    float tf = 0;
    for (; e != doc.entries.end() && e->term == st.term; ++e) {
      tf += options_.fields[e->field].weight * static_cast<float>(e->tf);
    }
    if (tf == 0) continue;
    score += Bm25Term(st.idf, tf, norm);
  }
  return score;
}

size_t TextIndex::MemoryUsage() const {
  size_t bytes = sizeof(*this);
  for (const TermInfo& t : terms_) {
    bytes += sizeof(TermInfo) + t.text.capacity() + t.postings.capacity() * sizeof(Posting);
  }
  // Hash-map nodes: key + value + next pointer + cached hash, plus buckets.
  bytes += term_ids_.size() * (sizeof(std::string) + 3 * sizeof(void*)) +
           term_ids_.bucket_count() * sizeof(void*);
  for (const DocSlot& s : slots_) {
    bytes += sizeof(DocSlot) + s.entries.capacity() * sizeof(TermEntry) +
             s.field_lengths.capacity() * sizeof(uint32_t);
  }
  bytes += id_to_slot_.size() * (sizeof(uint64_t) + 3 * sizeof(void*)) +
           id_to_slot_.bucket_count() * sizeof(void*);
  return bytes;
}

// Image: magic, version, k1, b, tokenizer flags, fields, live terms, live
// documents (id, field lengths, entries), CRC32C of everything before it.
std::string TextIndex::Serialize() const {
  ByteWriter w;
  w.PutU32(kMagic);
  w.PutU32(kFormatVersion);
  w.PutF32(options_.bm25.k1);
  w.PutF32(options_.bm25.b);
  w.PutU8(options_.tokenizer.stem ? 1 : 0);
  w.PutU8(options_.tokenizer.drop_stop_words ? 1 : 0);
  w.PutU32(static_cast<uint32_t>(options_.tokenizer.max_token_bytes));
  w.PutU8(static_cast<uint8_t>(options_.fields.size()));
  for (const FieldSpec& f : options_.fields) {
    w.PutString(f.name);
    w.PutF32(f.weight);
  }
  // Renumber to the terms still referenced so dead terms are not persisted.
  std::vector<uint32_t> remap(terms_.size(), UINT32_MAX);
  std::vector<uint32_t> order;
  for (uint32_t t = 0; t < terms_.size(); ++t) {
    if (terms_[t].df > 0) {
      remap[t] = static_cast<uint32_t>(order.size());
      order.push_back(t);
    }
  }
  w.PutU32(static_cast<uint32_t>(order.size()));
  for (uint32_t t : order) w.PutString(terms_[t].text);
  w.PutU64(id_to_slot_.size());
  for (const DocSlot& s : slots_) {
    if (!s.live) continue;
    w.PutU64(s.id);
    for (uint32_t len : s.field_lengths) w.PutU32(len);
    w.PutU32(static_cast<uint32_t>(s.entries.size()));
    for (const TermEntry& e : s.entries) {
      w.PutU32(remap[e.term]);
      w.PutU8(e.field);
      w.PutU32(e.tf);
    }
  }
  w.PutU32(crc32c::Value(w.buffer().data(), w.buffer().size()));
  return std::move(w.buffer());
}

Result<std::unique_ptr<TextIndex>> TextIndex::Deserialize(std::string_view image) {
  auto corrupt = [](std::string_view what) {
    return Status::Corruption("text index image: " + std::string(what));
  };
  if (image.size() < 8) return corrupt("too short");
  uint32_t stored_crc;
  std::memcpy(&stored_crc, image.data() + image.size() - 4, 4);
  if (crc32c::Value(image.data(), image.size() - 4) != stored_crc) {
    return corrupt("checksum mismatch");
  }
  ByteReader r(image.substr(0, image.size() - 4));
  uint32_t magic, version, max_token;
  TextIndexOptions options;
  uint8_t stem, stop, nfields;
  if (!r.GetU32(&magic) || magic != kMagic) return corrupt("bad magic");
  if (!r.GetU32(&version) || version != kFormatVersion) return corrupt("unsupported version");
  if (!r.GetF32(&options.bm25.k1) || !r.GetF32(&options.bm25.b) || !r.GetU8(&stem) ||
      !r.GetU8(&stop) || !r.GetU32(&max_token) || !r.GetU8(&nfields)) {
    return corrupt("truncated header");
  }
  options.tokenizer.stem = stem != 0;
  options.tokenizer.drop_stop_words = stop != 0;
  options.tokenizer.max_token_bytes = max_token;
  options.fields.resize(nfields);
  for (FieldSpec& f : options.fields) {
    if (!r.GetString(&f.name) || !r.GetF32(&f.weight)) return corrupt("truncated fields");
  }
  auto created = Create(options);
  if (!created.ok()) return corrupt(created.status().message());
  std::unique_ptr<TextIndex> index = std::move(created).value();
  uint32_t nterms;
  if (!r.GetU32(&nterms) || nterms > r.remaining() / 4) return corrupt("bad term count");
  std::vector<std::string> term_texts(nterms);
  for (std::string& t : term_texts) {
    if (!r.GetString(&t)) return corrupt("truncated terms");
  }
  for (const std::string& t : term_texts) index->InternTerm(t);
  if (index->terms_.size() != nterms) return corrupt("duplicate terms");
  uint64_t ndocs;
  if (!r.GetU64(&ndocs) || ndocs > r.remaining() / 12) return corrupt("bad document count");
  index->slots_.reserve(ndocs);
  for (uint64_t d = 0; d < ndocs; ++d) {
    DocSlot doc;
    doc.live = true;
    doc.field_lengths.resize(nfields);
    uint32_t nentries;
    if (!r.GetU64(&doc.id)) return corrupt("truncated document");
    for (uint32_t& len : doc.field_lengths) {
      if (!r.GetU32(&len)) return corrupt("truncated document");
    }
    if (!r.GetU32(&nentries) || nentries > r.remaining() / 9) return corrupt("bad entry count");
    doc.entries.resize(nentries);
    for (size_t i = 0; i < doc.entries.size(); ++i) {
      TermEntry& e = doc.entries[i];
      if (!r.GetU32(&e.term) || !r.GetU8(&e.field) || !r.GetU32(&e.tf)) {
        return corrupt("truncated entries");
      }
      if (e.term >= nterms || e.field >= nfields) return corrupt("entry out of range");
      // IndexSlot and Remove rely on entries sorted by (term, field).
      if (i > 0 && std::pair(e.term, e.field) <=
                       std::pair(doc.entries[i - 1].term, doc.entries[i - 1].field)) {
        return corrupt("entries out of order");
      }
    }
    if (index->id_to_slot_.count(doc.id) > 0) return corrupt("duplicate document id");
    uint32_t slot = static_cast<uint32_t>(index->slots_.size());
    index->id_to_slot_[doc.id] = slot;
    index->slots_.push_back(std::move(doc));
    index->IndexSlot(slot);
  }
  if (r.remaining() != 0) return corrupt("trailing bytes");
  return index;
}

}  // namespace ragkv::text
