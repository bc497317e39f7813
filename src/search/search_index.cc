// SearchIndex: per-field indexes and query execution.
//
// Execution evaluates the filter tree bottom-up into sorted doc-id vectors
// (intersections and unions are linear merges), which keeps every operator
// simple and exact; a lazy iterator tree (RediSearch's design) would save
// memory on huge unions but is not needed at our sizes and is harder to get
// right with negation.
//
// KNN with a pre-filter: the filter is materialised first, so its size s is
// known exactly, and the planner (ChooseKnnPlan) picks
//   - an exact scan of the allowed documents when s is small (cost s
//     distances, and the answer is exact; run by the vector index over its
//     stored codes with an allow-list bitmap, forced by ef >= s), or
//   - the vector index's filtered graph search with an allow-list bitmap when
//     s is large (cost ~ ef / selectivity hops, and it stays approximate like
//     any HNSW query).
// Hybrid queries (text + filters + KNN) are the same path: text clauses are
// filters, so the top-k by distance among matching documents is correct.
//
// Yielded distances (KNN alias, VECTOR_RANGE ... $YIELD_DISTANCE_AS) are kept
// per query in a side map and rendered like RediSearch: "%.12g", integral
// values as integers, always bulk strings.
#include "search/search_index.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include <cinttypes>
#include <cstdio>

#include "search/errors.h"
#include "search/parse_util.h"

namespace ragkv::search {
namespace {

using Yields = std::unordered_map<std::string, std::unordered_map<uint64_t, float>>;

std::vector<uint64_t> Intersect(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  std::vector<uint64_t> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<uint64_t> Union(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  std::vector<uint64_t> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<uint64_t> Difference(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b) {
  std::vector<uint64_t> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// One tokenizer per thread and stemming mode: libstemmer handles are not
// thread-safe, and searches run concurrently under the shared lock.
const text::Tokenizer& QueryTokenizer(bool stem) {
  thread_local text::Tokenizer stemmed(text::TokenizerOptions{.stem = true});
  thread_local text::Tokenizer plain(text::TokenizerOptions{.stem = false});
  return stem ? stemmed : plain;
}

std::string LowerUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    size_t start = pos;
    uint32_t cp = text::DecodeUtf8(s, &pos);
    if (cp == 0xFFFFFFFFu) {
      out.append(s.substr(start, pos - start));
    } else {
      text::AppendUtf8(text::ToLowerCodePoint(cp), &out);
    }
  }
  return out;
}

std::string TrimSpaces(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) --e;
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::string FormatSearchNumber(double v) {
  char buf[64];
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::floor(v) && std::fabs(v) < 9.2e18) {
    std::snprintf(buf, sizeof(buf), "%" PRId64, static_cast<int64_t>(v));
  } else {
    std::snprintf(buf, sizeof(buf), "%.12g", v);
  }
  return buf;
}

bool KeyMatches(const IndexSchema& schema, std::string_view key) {
  if (schema.prefixes.empty()) return true;
  for (const std::string& p : schema.prefixes) {
    if (key.substr(0, p.size()) == p) return true;
  }
  return false;
}

vec::IndexSpec ToVectorSpec(const VectorParams& p) {
  vec::IndexSpec spec;
  spec.algorithm = p.algorithm == VectorAlgorithm::kFlat ? vec::Algorithm::kFlat
                                                         : vec::Algorithm::kHnsw;
  spec.dim = p.dim;
  spec.metric = p.metric == DistanceMetric::kL2   ? vec::Metric::kL2
                : p.metric == DistanceMetric::kIp ? vec::Metric::kIp
                                                  : vec::Metric::kCosine;
  static constexpr vec::ElementType kTypes[] = {
      vec::ElementType::kFloat32, vec::ElementType::kFloat64, vec::ElementType::kFloat16,
      vec::ElementType::kBFloat16, vec::ElementType::kInt8, vec::ElementType::kUint8};
  spec.type = kTypes[static_cast<size_t>(p.type)];
  spec.m = p.m;
  spec.ef_construction = p.ef_construction;
  spec.ef_runtime = p.ef_runtime;
  spec.epsilon = p.epsilon;
  // Slots are reserved lazily beyond this; a huge INITIAL_CAP must not
  // allocate up front.
  spec.initial_cap = static_cast<size_t>(std::min<uint64_t>(p.initial_cap.value_or(1024), 1 << 16));
  return spec;
}

SearchIndex::SearchIndex(IndexSchema def, int db)
    : def_(std::move(def)),
      db_(db),
      stem_tokenizer_(text::TokenizerOptions{.stem = true}) {}

SearchIndex::~SearchIndex() = default;

Result<std::unique_ptr<SearchIndex>> SearchIndex::Create(IndexSchema schema, int db) {
  std::unique_ptr<SearchIndex> index(new SearchIndex(std::move(schema), db));
  index->fields_.resize(index->def_.fields.size());
  for (size_t i = 0; i < index->fields_.size(); ++i) {
    RAGKV_RETURN_IF_ERROR(index->InitField(i));
  }
  index->RebuildTextIndexLocked();
  return index;
}

Status SearchIndex::InitField(size_t i) {
  FieldState& f = fields_[i];
  f.def = &def_.fields[i];
  if (f.def->type == FieldType::kVector) {
    auto v = vec::VectorIndex::Create(ToVectorSpec(f.def->vector));
    if (!v.ok()) {
      return Status::InvalidArgument("Could not create vector index for field `" +
                                     f.def->alias + "`: " + std::string(v.status().message()));
    }
    f.vector = std::move(*v);
  }
  return Status::Ok();
}

void SearchIndex::RebuildTextIndexLocked() {
  text::TextIndexOptions options;
  options.fields.clear();
  uint8_t slot = 0;
  for (FieldState& f : fields_) {
    if (f.def->type != FieldType::kText) continue;
    f.text.text_slot = slot++;
    options.fields.push_back({f.def->alias, static_cast<float>(f.def->weight)});
  }
  bm25_.reset();
  if (options.fields.empty() || options.fields.size() > 255) return;
  auto index = text::TextIndex::Create(std::move(options));
  if (index.ok()) bm25_ = std::move(*index);
}

Status SearchIndex::AddFields(std::vector<FieldSpec> fields) {
  WriteLock lock(*this);
  for (const FieldSpec& f : fields) {
    if (def_.FindField(f.alias) != nullptr) {
      return Status::InvalidArgument("Duplicate field in schema - " + f.alias);
    }
  }
  if (def_.fields.size() + fields.size() > kMaxFields) {
    return Status::InvalidArgument("Too many attributes");
  }
  const size_t first = def_.fields.size();
  for (FieldSpec& f : fields) def_.fields.push_back(std::move(f));
  fields_.resize(def_.fields.size());
  for (size_t i = 0; i < first; ++i) fields_[i].def = &def_.fields[i];  // reallocated
  for (size_t i = first; i < fields_.size(); ++i) {
    Status s = InitField(i);
    if (!s.ok()) {
      def_.fields.resize(first);
      fields_.resize(first);
      for (size_t j = 0; j < first; ++j) fields_[j].def = &def_.fields[j];
      return s;
    }
  }
  for (auto& [id, doc] : docs_) {
    doc.terms.resize(fields_.size());
    doc.text_terms.resize(fields_.size());
    doc.numbers.resize(fields_.size());
    doc.has_vector.resize(fields_.size());
    doc.points.resize(fields_.size());
  }
  // BM25 statistics span all TEXT fields; the caller re-feeds every document.
  RebuildTextIndexLocked();
  return Status::Ok();
}

std::vector<std::string> SearchIndex::SplitTags(const FieldSpec& f, std::string_view value) const {
  std::vector<std::string> tags;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(f.separator, start);
    if (end == std::string_view::npos) end = value.size();
    std::string tag = TrimSpaces(value.substr(start, end - start));
    if (!tag.empty()) tags.push_back(f.case_sensitive ? std::move(tag) : LowerUtf8(tag));
    start = end + 1;
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

void SearchIndex::Upsert(std::string_view key, const store::HashMap& hash) {
  // Validate before touching anything: an invalid document is not indexed.
  std::vector<std::optional<double>> numbers(fields_.size());
  std::vector<std::optional<GeoPoint>> points(fields_.size());
  bool valid = true;
  for (size_t i = 0; i < fields_.size() && valid; ++i) {
    const FieldSpec& fd = def_.fields[i];
    auto it = hash.find(fd.identifier);
    if (it == hash.end() || fd.noindex) continue;
    if (fd.type == FieldType::kVector) {
      valid = it->second.size() == fd.vector.BlobBytes();
    } else if (fd.type == FieldType::kNumeric) {
      numbers[i] = ParseDouble(TrimSpaces(it->second));
      valid = numbers[i].has_value();
    } else if (fd.type == FieldType::kGeo) {
      points[i] = ParseGeoPoint(it->second);
      valid = points[i].has_value();
    }
  }
  WriteLock lock(*this);
  auto found = key_to_id_.find(std::string(key));
  uint64_t id = 0;
  if (found != key_to_id_.end()) {
    id = found->second;
    RemoveLocked(id);
  }
  if (!valid) {
    ++failures_;
    return;
  }
  if (id == 0) id = adoption_ ? AdoptedIdLocked(std::string(key)) : next_id_++;
  DocEntry doc;
  doc.key = std::string(key);
  doc.terms.resize(fields_.size());
  doc.text_terms.resize(fields_.size());
  doc.numbers = std::move(numbers);
  doc.points = std::move(points);
  doc.has_vector.resize(fields_.size());
  // BM25 terms per TEXT field: every text is tokenised once, for both its
  // field postings and the BM25 index.
  std::vector<std::vector<std::string>> bm25_terms;
  bool any_text = false;
  for (size_t i = 0; i < fields_.size(); ++i) {
    FieldState& f = fields_[i];
    const FieldSpec& fd = *f.def;
    auto it = hash.find(fd.identifier);
    const bool present = it != hash.end() && !fd.noindex;
    if (fd.type == FieldType::kText) bm25_terms.emplace_back();
    if (!present) continue;
    switch (fd.type) {
      case FieldType::kText: {
        any_text = true;
        // Stems for term queries plus the unstemmed words for prefix queries
        // ("cherr*" must match "cherry", whose stem is "cherri"), as
        // RediSearch indexes both forms; a NOSTEM field has only the words.
        // The BM25 index scores stems of every field (its own tokenizer).
        std::vector<std::string>& stems = bm25_terms.back();
        std::vector<std::string>& words = scratch_words_;
        words.clear();
        stem_tokenizer_.TokenizeWithWords(it->second, &stems, &words);
        // Add() answers "already there" for a repeated term in O(1) (the id
        // is the list's last), so it doubles as the dedup.
        std::vector<TextTerm*>& entries = scratch_entries_;
        entries.clear();
        auto intern = [&](const std::string& t) {
          auto [p, created] = f.text.postings.try_emplace(t);
          if (created) {
            f.text.sorted_terms.insert(p->first);
            f.text.totals.term_bytes += t.size();
          }
          if (p->second.Add(id)) entries.push_back(&*p);
        };
        for (const std::string& t : words) intern(t);
        if (!fd.nostem) {
          for (const std::string& t : stems) intern(t);
        }
        f.text.totals.records += entries.size();
        doc.text_terms[i].assign(entries.begin(), entries.end());  // one exact allocation
        break;
      }
      case FieldType::kTag: {
        auto tags = SplitTags(fd, it->second);
        for (const auto& t : tags) {
          auto [p, created] = f.tag.postings.try_emplace(t);
          if (created) f.tag.totals.term_bytes += t.size();
          f.tag.totals.records += p->second.Add(id) ? 1 : 0;
        }
        doc.terms[i] = std::move(tags);
        break;
      }
      case FieldType::kGeo:
        f.geo.by_lat.Add(doc.points[i]->lat, id);
        break;
      case FieldType::kNumeric:
        f.numeric.index.Add(*doc.numbers[i], id);
        break;
      case FieldType::kVector: {
        auto bytes = std::as_bytes(std::span<const char>(it->second.data(), it->second.size()));
        if (adoption_ && adoption_->adopted[i]) {
          doc.has_vector[i] = AdoptVectorLocked(f, id, doc.key, bytes, &valid);
          break;
        }
        Status s = f.vector->AddBlob(id, bytes);
        doc.has_vector[i] = s.ok();
        if (!s.ok()) valid = false;  // NaN, or a zero vector under COSINE
        break;
      }
    }
  }
  if (any_text && bm25_ != nullptr) (void)bm25_->AddTerms(id, bm25_terms);
  key_to_id_[doc.key] = id;
  docs_.emplace(id, std::move(doc));
  if (!valid) {
    RemoveLocked(id);
    ++failures_;
  }
}

void SearchIndex::Remove(std::string_view key) {
  WriteLock lock(*this);
  auto it = key_to_id_.find(std::string(key));
  if (it != key_to_id_.end()) RemoveLocked(it->second);
}

void SearchIndex::RemoveLocked(uint64_t id) {
  auto it = docs_.find(id);
  if (it == docs_.end()) return;
  DocEntry& doc = it->second;
  for (size_t i = 0; i < fields_.size() && i < doc.terms.size(); ++i) {
    FieldState& f = fields_[i];
    switch (f.def->type) {
      case FieldType::kText:
        for (TextTerm* t : doc.text_terms[i]) {
          f.text.totals.records -= t->second.Remove(id) ? 1 : 0;
          if (t->second.empty()) {
            // The last document of the term: its entry goes (nothing else
            // points at it).
            f.text.sorted_terms.erase(t->first);
            f.text.totals.term_bytes -= t->first.size();
            f.text.postings.erase(f.text.postings.find(t->first));
          }
        }
        break;
      case FieldType::kGeo:
        if (doc.points[i]) f.geo.by_lat.Remove(doc.points[i]->lat, id);
        break;
      case FieldType::kTag:
        for (const auto& t : doc.terms[i]) {
          auto p = f.tag.postings.find(t);
          if (p == f.tag.postings.end()) continue;
          f.tag.totals.records -= p->second.Remove(id) ? 1 : 0;
          if (p->second.empty()) {
            f.tag.totals.term_bytes -= p->first.size();
            f.tag.postings.erase(p);
          }
        }
        break;
      case FieldType::kNumeric:
        if (doc.numbers[i]) f.numeric.index.Remove(*doc.numbers[i], id);
        break;
      case FieldType::kVector:
        if (doc.has_vector[i]) (void)f.vector->Remove(id);
        break;
    }
  }
  if (bm25_ != nullptr) bm25_->Remove(id);
  key_to_id_.erase(doc.key);
  docs_.erase(it);
}

void SearchIndex::Clear() {
  WriteLock lock(*this);
  std::vector<uint64_t> ids;
  ids.reserve(docs_.size());
  for (const auto& [id, doc] : docs_) ids.push_back(id);
  for (uint64_t id : ids) RemoveLocked(id);
}

size_t SearchIndex::size() const {
  ReadLock lock(*this);
  return docs_.size();
}

std::vector<std::string> SearchIndex::Keys() const {
  ReadLock lock(*this);
  std::vector<std::string> keys;
  keys.reserve(docs_.size());
  for (const auto& [id, doc] : docs_) keys.push_back(doc.key);
  return keys;
}

IndexInfo SearchIndex::Info() const {
  ReadLock lock(*this);
  IndexInfo info;
  info.num_docs = docs_.size();
  info.max_doc_id = next_id_ - 1;
  info.hash_indexing_failures = failures_;
  info.number_of_uses = uses_.load();
  size_t inverted_bytes = 0, vector_bytes = 0;
  for (const FieldState& f : fields_) {
    // Posting bytes are estimated from the live entries (vector capacities
    // would need a walk over every list).
    info.num_terms += f.text.postings.size();
    for (const PostingTotals& t : {f.text.totals, f.tag.totals}) {
      info.num_records += t.records;
      inverted_bytes += t.term_bytes + t.records * sizeof(uint64_t);
    }
    info.num_records += f.numeric.index.size() + f.geo.by_lat.size();
    if (f.vector) vector_bytes += f.vector->MemoryBytes();
  }
  constexpr double kMb = 1024.0 * 1024.0;
  info.inverted_sz_mb = static_cast<double>(inverted_bytes) / kMb;
  info.vector_index_sz_mb = static_cast<double>(vector_bytes) / kMb;
  info.doc_table_size_mb = static_cast<double>(docs_.size() * 96) / kMb;
  return info;
}

Result<std::vector<std::string>> SearchIndex::TagValues(std::string_view attribute) const {
  ReadLock lock(*this);
  auto f = FieldFor(attribute);
  if (!f.ok()) return f.status();
  if ((*f)->def->type != FieldType::kTag) {
    return Status::InvalidArgument("Not a tag field: " + std::string(attribute));
  }
  std::vector<std::string> values;
  for (const auto& [tag, ids] : (*f)->tag.postings) values.push_back(tag);
  std::sort(values.begin(), values.end());
  return values;
}

Result<const SearchIndex::FieldState*> SearchIndex::FieldFor(std::string_view attribute) const {
  for (const FieldState& f : fields_) {
    if (f.def->alias == attribute) return &f;
  }
  return Status::InvalidArgument("Unknown field `" + std::string(attribute) + "`");
}

SearchIndex::DocSet SearchIndex::AllDocs() const {
  DocSet all;
  all.reserve(docs_.size());
  for (const auto& [id, doc] : docs_) all.push_back(id);
  std::sort(all.begin(), all.end());
  return all;
}

namespace {

// The text a text leaf matches: the word, or the phrase's words.
std::string LeafText(const QueryNode& node) {
  if (node.kind != NodeKind::kPhrase) return node.text;
  std::string joined;
  for (const auto& w : node.words) {
    if (!joined.empty()) joined.push_back(' ');
    joined += w;
  }
  return joined;
}

std::vector<uint64_t> SortedUnique(std::vector<uint64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace

Result<SearchIndex::DocSet> SearchIndex::TermDocs(const QueryNode& node) const {
  std::vector<const FieldState*> targets;
  if (node.fields.empty()) {
    for (const FieldState& f : fields_) {
      if (f.def->type == FieldType::kText) targets.push_back(&f);
    }
  } else {
    for (const std::string& name : node.fields) {
      auto f = FieldFor(name);
      if (!f.ok()) return f.status();
      targets.push_back(*f);
    }
  }
  const std::string text = LeafText(node);
  const bool prefix = node.kind == NodeKind::kPrefix;
  DocSet out;
  for (const FieldState* f : targets) {
    const FieldSpec& fd = *f->def;
    if (fd.type == FieldType::kTag) {
      // `@tag:word` and `@tag:pre*` match tag values too.
      std::string value = fd.case_sensitive ? text : LowerUtf8(text);
      DocSet ids;
      for (const auto& [tag, tag_ids] : f->tag.postings) {
        bool match = prefix ? tag.rfind(value, 0) == 0 : tag == value;
        if (match) tag_ids.AppendTo(&ids);
      }
      out = Union(out, SortedUnique(std::move(ids)));
      continue;
    }
    if (fd.type != FieldType::kText) {
      return Status::InvalidArgument("Syntax error: field `" + fd.alias + "` of type " +
                                     std::string(FieldTypeName(fd.type)) +
                                     " does not support text queries");
    }
    if (prefix) {
      std::string lower = LowerUtf8(text);
      DocSet ids;
      for (auto it = f->text.sorted_terms.lower_bound(lower);
           it != f->text.sorted_terms.end() && it->rfind(lower, 0) == 0; ++it) {
        f->text.postings.at(std::string(*it)).AppendTo(&ids);
      }
      out = Union(out, SortedUnique(std::move(ids)));
      continue;
    }
    // Term, fuzzy (matched exactly) or phrase: every token must occur; a stop
    // word restricts nothing.
    std::vector<std::string> terms = QueryTokenizer(!fd.nostem).Tokenize(text);
    if (terms.empty()) {
      out = Union(out, AllDocs());
      continue;
    }
    DocSet ids;
    bool first = true;
    for (const auto& t : terms) {
      auto p = f->text.postings.find(t);
      DocSet term_ids;
      if (p != f->text.postings.end()) p->second.AppendTo(&term_ids);
      ids = first ? std::move(term_ids) : Intersect(ids, term_ids);
      first = false;
    }
    out = Union(out, ids);
  }
  return out;
}

Result<SearchIndex::DocSet> SearchIndex::TagDocs(const QueryNode& node) const {
  DocSet out;
  for (const std::string& name : node.fields) {
    auto f = FieldFor(name);
    if (!f.ok()) return f.status();
    const FieldSpec& fd = *(*f)->def;
    if (fd.type != FieldType::kTag) {
      return Status::InvalidArgument("Syntax error: field `" + fd.alias + "` is not a TAG field");
    }
    DocSet ids;
    for (const TagValue& tv : node.tags) {
      std::string value = fd.case_sensitive ? tv.value : LowerUtf8(tv.value);
      if (tv.prefix) {
        for (const auto& [tag, tag_ids] : (*f)->tag.postings) {
          if (tag.rfind(value, 0) == 0) tag_ids.AppendTo(&ids);
        }
        continue;
      }
      auto p = (*f)->tag.postings.find(value);
      if (p != (*f)->tag.postings.end()) p->second.AppendTo(&ids);
    }
    out = Union(out, SortedUnique(std::move(ids)));
  }
  return out;
}

Result<SearchIndex::DocSet> SearchIndex::NumericDocs(std::string_view field,
                                                     const NumericBound& lo,
                                                     const NumericBound& hi) const {
  auto f = FieldFor(field);
  if (!f.ok()) return f.status();
  if ((*f)->def->type != FieldType::kNumeric) {
    return Status::InvalidArgument("Syntax error: field `" + std::string(field) +
                                   "` is not a NUMERIC field");
  }
  const avl::NumericIndex& index = (*f)->numeric.index;
  const avl::ScoreRange range{{lo.value, lo.exclusive}, {hi.value, hi.exclusive}};
  DocSet ids;
  ids.reserve(index.Count(range));  // O(log n): one allocation
  index.Visit(range, [&](uint64_t doc, double) {
    ids.push_back(doc);
    return true;
  });
  std::sort(ids.begin(), ids.end());
  return ids;
}

namespace {

// Great-circle distance in metres (haversine), with Redis's GEO Earth radius
// so distances agree with GEODIST.
constexpr double kEarthRadiusM = 6372797.560856;
constexpr double kDegToRad = M_PI / 180.0;

double GeoDistanceM(double lon1, double lat1, double lon2, double lat2) {
  const double lat1r = lat1 * kDegToRad, lat2r = lat2 * kDegToRad;
  const double u = std::sin((lat2r - lat1r) / 2);
  const double v = std::sin((lon2 - lon1) * kDegToRad / 2);
  return 2.0 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(u * u + std::cos(lat1r) *
                                                                         std::cos(lat2r) * v * v)));
}

}  // namespace

std::optional<SearchIndex::GeoPoint> SearchIndex::ParseGeoPoint(std::string_view value) {
  const size_t comma = value.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  const auto lon = ParseDouble(TrimSpaces(value.substr(0, comma)));
  const auto lat = ParseDouble(TrimSpaces(value.substr(comma + 1)));
  if (!lon || !lat || !(std::fabs(*lon) <= kGeoMaxLon) || !(std::fabs(*lat) <= kGeoMaxLat)) {
    return std::nullopt;
  }
  return GeoPoint{*lon, *lat};
}

Result<SearchIndex::DocSet> SearchIndex::GeoDocs(std::string_view field, double lon, double lat,
                                                 double radius_m) const {
  auto f = FieldFor(field);
  if (!f.ok()) return f.status();
  if ((*f)->def->type != FieldType::kGeo) {
    return Status::InvalidArgument("Syntax error: field `" + std::string(field) +
                                   "` is not a GEO field");
  }
  const size_t fi = static_cast<size_t>((*f)->def - def_.fields.data());
  // Every point within radius_m has |dlat| <= radius_m / R radians (a
  // meridian is a great circle); the slack absorbs rounding at the edge.
  const double band = radius_m / kEarthRadiusM / kDegToRad + 1e-9;
  const avl::ScoreRange range{{lat - band, false}, {lat + band, false}};
  DocSet ids;
  (*f)->geo.by_lat.Visit(range, [&](uint64_t doc, double) {
    const GeoPoint& p = *docs_.at(doc).points[fi];
    if (GeoDistanceM(lon, lat, p.lon, p.lat) <= radius_m) ids.push_back(doc);
    return true;
  });
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<std::vector<float>> SearchIndex::DecodeQueryVector(const FieldState& f,
                                                          std::string_view blob) const {
  const size_t expected = f.def->vector.BlobBytes();
  if (blob.size() != expected) {
    return Status::InvalidArgument(errors::BlobSizeMismatch(blob.size(), expected));
  }
  auto v = vec::DecodeBlob(f.vector->spec().type, f.vector->spec().dim,
                           std::as_bytes(std::span<const char>(blob.data(), blob.size())));
  if (!v.ok()) {
    return Status::InvalidArgument("Error parsing vector similarity query: " +
                                   std::string(v.status().message()));
  }
  return v;
}

namespace {

Status TimeoutStatus() { return Status::ResourceExhausted(errors::kTimeoutReached); }

bool IsTimeout(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted && s.message() == errors::kTimeoutReached;
}

}  // namespace

Result<SearchIndex::DocSet> SearchIndex::Evaluate(const QueryNode& node, Yields* yields,
                                                  const QueryDeadline& deadline) const {
  if (deadline.Expired()) return TimeoutStatus();
  switch (node.kind) {
    case NodeKind::kMatchAll:
    case NodeKind::kOptional:
      return AllDocs();
    case NodeKind::kTerm:
    case NodeKind::kPrefix:
    case NodeKind::kFuzzy:
    case NodeKind::kPhrase:
      return TermDocs(node);
    case NodeKind::kTag:
      return TagDocs(node);
    case NodeKind::kNumericRange: {
      DocSet out;
      for (const std::string& name : node.fields) {
        auto ids = NumericDocs(name, node.lo, node.hi);
        if (!ids.ok()) return ids.status();
        out = Union(out, *ids);
      }
      return out;
    }
    case NodeKind::kVectorRange: {
      const std::string field = node.fields.empty() ? std::string() : node.fields[0];
      auto f = FieldFor(field);
      if (!f.ok()) return f.status();
      if ((*f)->def->type != FieldType::kVector) {
        return Status::InvalidArgument("Error parsing vector similarity query: field `" + field +
                                       "` is not a VECTOR field");
      }
      auto q = DecodeQueryVector(**f, node.blob);
      if (!q.ok()) return q.status();
      vec::SearchParams range_params;
      auto eps = node.attributes.find("epsilon");
      (void)eps;  // the index's EPSILON applies (per-query epsilon is accepted, not used)
      auto hits = (*f)->vector->RangeSearch(*q, static_cast<float>(node.radius), range_params);
      if (!hits.ok()) {
        return Status::InvalidArgument("Error parsing vector similarity query: " +
                                       std::string(hits.status().message()));
      }
      auto yield = node.attributes.find("yield_distance_as");
      DocSet ids;
      for (const auto& h : *hits) {
        ids.push_back(h.label);
        if (yield != node.attributes.end()) (*yields)[yield->second][h.label] = h.distance;
      }
      std::sort(ids.begin(), ids.end());
      return ids;
    }
    case NodeKind::kGeoRadius: {
      const double radius_m = node.radius * GeoUnitMetres(node.unit).value_or(1);
      DocSet out;
      for (const std::string& name : node.fields) {
        auto ids = GeoDocs(name, node.lon, node.lat, radius_m);
        if (!ids.ok()) return ids.status();
        out = Union(out, *ids);
      }
      return out;
    }
    case NodeKind::kAnd: {
      DocSet acc;
      bool first = true;
      for (const auto& c : node.children) {
        if (c->kind == NodeKind::kOptional) continue;
        auto ids = Evaluate(*c, yields, deadline);
        if (!ids.ok()) return ids.status();
        acc = first ? std::move(*ids) : Intersect(acc, *ids);
        first = false;
      }
      if (first) return AllDocs();
      return acc;
    }
    case NodeKind::kOr: {
      DocSet acc;
      for (const auto& c : node.children) {
        auto ids = Evaluate(*c, yields, deadline);
        if (!ids.ok()) return ids.status();
        acc = Union(acc, *ids);
      }
      return acc;
    }
    case NodeKind::kNot: {
      auto ids = Evaluate(*node.children[0], yields, deadline);
      if (!ids.ok()) return ids.status();
      return Difference(AllDocs(), *ids);
    }
  }
  return DocSet{};
}

void SearchIndex::CollectTextTerms(const QueryNode& node, bool negated,
                                   std::vector<std::string>* out) const {
  if (node.kind == NodeKind::kNot) negated = !negated;
  if (!negated && (node.kind == NodeKind::kTerm || node.kind == NodeKind::kPhrase ||
                   node.kind == NodeKind::kFuzzy)) {
    const FieldSpec* fd = node.fields.empty() ? nullptr : def_.FindField(node.fields[0]);
    if (fd == nullptr || fd->type == FieldType::kText) {
      for (auto& t : QueryTokenizer(fd == nullptr || !fd->nostem).Tokenize(LeafText(node))) {
        out->push_back(std::move(t));
      }
    }
  }
  for (const auto& c : node.children) CollectTextTerms(*c, negated, out);
}

Result<ProfileNode> SearchIndex::Profile(const Query& query) const {
  ReadLock lock(*this);
  return ProfileLocked(*query.root);
}

Result<ProfileNode> SearchIndex::ProfileLocked(const QueryNode& node) const {
  ProfileNode out;
  switch (node.kind) {
    case NodeKind::kMatchAll: out.type = "WILDCARD"; break;
    case NodeKind::kTerm:
    case NodeKind::kPrefix:
    case NodeKind::kFuzzy:
    case NodeKind::kPhrase: out.type = "TEXT"; break;
    case NodeKind::kTag: out.type = "TAG"; break;
    case NodeKind::kNumericRange: out.type = "NUMERIC"; break;
    case NodeKind::kVectorRange: out.type = "VECTOR"; break;
    case NodeKind::kGeoRadius: out.type = "GEO"; break;
    case NodeKind::kAnd: out.type = "INTERSECT"; break;
    case NodeKind::kOr: out.type = "UNION"; break;
    case NodeKind::kNot: out.type = "NOT"; break;
    case NodeKind::kOptional: out.type = "OPTIONAL"; break;
  }
  out.label = ToString(node);
  Yields yields;
  const auto t0 = std::chrono::steady_clock::now();
  auto ids = Evaluate(node, &yields, QueryDeadline{});
  if (!ids.ok()) return ids.status();
  out.time_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count();
  out.counter = ids->size();
  for (const auto& child : node.children) {
    RAGKV_ASSIGN_OR_RETURN(ProfileNode c, ProfileLocked(*child));
    out.children.push_back(std::move(c));
  }
  return out;
}

KnnPlan SearchIndex::ChooseKnnPlan(size_t allowed, size_t indexed, size_t k) {
  // The exact scan costs `allowed` distance computations. A filtered graph
  // search visits roughly ef / selectivity nodes and scores ~m neighbours per
  // hop, i.e. at least a few thousand distances even for a wide filter; below
  // that size (or when the filter keeps under 2% of the index, where the graph
  // walk degenerates) the scan is both cheaper and exact.
  constexpr size_t kExactScanMax = 4096;
  if (allowed <= std::max(kExactScanMax, k * 4) || allowed * 50 < indexed) {
    return KnnPlan::kExactScan;
  }
  return KnnPlan::kFilteredGraph;
}

Result<SearchResult> SearchIndex::Search(const SearchRequest& request, const HashLoader& load,
                                         const QueryDeadline& deadline) const {
  ReadLock lock(*this);
  // Under ON_TIMEOUT RETURN a query stopped before any document was complete
  // returns an empty partial result; later stops keep what was processed.
  bool timed_out = false;
  auto on_timeout = [&]() -> Result<SearchResult> {
    if (deadline.fail) return TimeoutStatus();
    SearchResult partial;
    partial.timed_out = true;
    return partial;
  };
  constexpr size_t kDeadlineStride = 256;  // candidates between clock reads
  uses_.fetch_add(1, std::memory_order_relaxed);
  const Query& query = request.query;
  Yields yields;

  struct Candidate {
    uint64_t id;
    double score;
    float distance;
  };
  std::vector<Candidate> candidates;
  std::string distance_alias;

  // Legacy FILTER arguments intersect with the query's filter.
  const bool filtered = query.root->kind != NodeKind::kMatchAll ||
                        !request.numeric_filters.empty() || !request.geo_filters.empty();
  DocSet filter_ids;
  if (filtered || !query.knn) {
    auto ids = Evaluate(*query.root, &yields, deadline);
    if (!ids.ok()) return IsTimeout(ids.status()) ? on_timeout() : ids.status();
    filter_ids = std::move(*ids);
    for (const NumericFilter& nf : request.numeric_filters) {
      auto more = NumericDocs(nf.field, nf.lo, nf.hi);
      if (!more.ok()) return more.status();
      filter_ids = Intersect(filter_ids, *more);
    }
    for (const GeoFilter& gf : request.geo_filters) {
      auto more = GeoDocs(gf.field, gf.lon, gf.lat, gf.radius * GeoUnitMetres(gf.unit).value_or(1));
      if (!more.ok()) return more.status();
      filter_ids = Intersect(filter_ids, *more);
    }
  }

  if (query.knn) {
    const KnnClause& knn = *query.knn;
    auto fs = FieldFor(knn.field);
    if (!fs.ok()) return fs.status();
    const FieldState& f = **fs;
    if (f.def->type != FieldType::kVector) {
      return Status::InvalidArgument("Error parsing vector similarity query: field `" + knn.field +
                                     "` is not a VECTOR field");
    }
    distance_alias = knn.score_alias;
    auto q = DecodeQueryVector(f, knn.blob);
    if (!q.ok()) return q.status();
    if (deadline.Expired()) return on_timeout();
    std::vector<vec::Neighbor> hits;
    const size_t k = static_cast<size_t>(knn.k);
    if (k > 0 && f.vector->size() > 0) {
      vec::SearchParams params;
      if (knn.ef_runtime) params.ef = std::max<size_t>(*knn.ef_runtime, k);
      KnnPlan plan = filtered ? ChooseKnnPlan(filter_ids.size(), f.vector->size(), k)
                              : KnnPlan::kUnfiltered;
      std::optional<vec::BitmapFilter> bitmap;
      if (plan != KnnPlan::kUnfiltered) {
        bitmap.emplace(next_id_);
        for (uint64_t id : filter_ids) bitmap->Set(id);
        params.filter = &*bitmap;
      }
      if (plan == KnnPlan::kExactScan) {
        // An ef of at least the allowed count makes the vector index take its
        // exact scan of the allowed labels (SIMD kernels on the stored codes,
        // no per-document decoding), so the answer is exact.
        params.ef = std::max({params.ef, k, filter_ids.size()});
      }
      {
        auto r = f.vector->Search(*q, k, params);
        if (!r.ok()) {
          return Status::InvalidArgument("Error parsing vector similarity query: " +
                                         std::string(r.status().message()));
        }
        hits = std::move(*r);
      }
      // The search itself ran to completion, so its hits are a complete
      // answer; only FAIL turns a late finish into an error.
      if (deadline.fail && deadline.Expired()) return TimeoutStatus();
    }
    for (const auto& h : hits) {
      candidates.push_back({h.label, 1.0, h.distance});
      yields[distance_alias][h.label] = h.distance;
    }
  } else {
    std::vector<std::string> terms;
    CollectTextTerms(*query.root, false, &terms);
    // A count (LIMIT 0 0 without SORTBY) returns no hit, so nothing is scored.
    const bool count_only = request.limit == 0 && !request.sort_by;
    const bool scored = !terms.empty() && bm25_ != nullptr && !count_only;
    candidates.reserve(filter_ids.size());
    if (!scored) {
      for (uint64_t id : filter_ids) candidates.push_back({id, 1.0, 0.0f});
    } else {
      // One pass (ScoreDocuments walks the query terms' postings when the
      // candidates are many), between two deadline checks.
      if (deadline.Expired()) {
        if (deadline.fail) return TimeoutStatus();
        timed_out = true;  // nothing scored: an empty partial result
      } else {
        std::vector<float> scores;
        bm25_->ScoreDocuments(filter_ids, terms, &scores);
        for (size_t i = 0; i < filter_ids.size(); ++i) {
          candidates.push_back({filter_ids[i], scores[i], 0.0f});
        }
        if (deadline.fail && deadline.Expired()) return TimeoutStatus();
      }
      // Best score first, ties in doc-id order (candidates are in id order, so
      // this is the stable sort by score). Without SORTBY only the requested
      // page needs ordering.
      auto better = [](const Candidate& a, const Candidate& b) {
        return a.score != b.score ? a.score > b.score : a.id < b.id;
      };
      const uint64_t n = candidates.size();
      const size_t page = static_cast<size_t>(
          std::min(n, std::min(request.offset, n) + std::min(request.limit, n)));
      if (request.sort_by || page >= candidates.size()) {
        std::sort(candidates.begin(), candidates.end(), better);
      } else {
        const auto page_end = candidates.begin() + static_cast<std::ptrdiff_t>(page);
        std::partial_sort(candidates.begin(), page_end, candidates.end(), better);
      }
    }
  }

  SearchResult result;
  result.total = candidates.size();
  result.timed_out = timed_out;

  auto key_of = [&](uint64_t id) -> const std::string& { return docs_.at(id).key; };

  // SORTBY: a yielded distance, a NUMERIC field (from the index), or any other
  // field loaded from the hash. Missing values sort last either way.
  if (request.sort_by) {
    const std::string& by = request.sort_by->field;
    const bool asc = request.sort_by->ascending;
    auto yield_it = yields.find(by);
    const FieldSpec* fd = def_.FindField(by);
    if (by == distance_alias && yield_it == yields.end()) {
      // No hits, nothing to order.
    } else if (yield_it != yields.end()) {
      const auto& values = yield_it->second;
      std::stable_sort(candidates.begin(), candidates.end(),
                       [&](const Candidate& a, const Candidate& b) {
                         float x = values.at(a.id), y = values.at(b.id);
                         return asc ? x < y : x > y;
                       });
    } else if (fd != nullptr && fd->type == FieldType::kNumeric) {
      const size_t fi = static_cast<size_t>(fd - def_.fields.data());
      auto value = [&](uint64_t id) { return docs_.at(id).numbers[fi]; };
      std::stable_sort(candidates.begin(), candidates.end(),
                       [&](const Candidate& a, const Candidate& b) {
                         auto x = value(a.id), y = value(b.id);
                         if (!x || !y) return x.has_value() && !y.has_value();
                         return asc ? *x < *y : *x > *y;
                       });
    } else if (fd != nullptr && !load) {
      return Status::FailedPrecondition("SORTBY on a hash field needs the keyspace");
    } else if (fd != nullptr) {
      const std::string& hash_field = fd != nullptr ? fd->identifier : by;
      using Keyed = std::pair<std::optional<std::string>, Candidate>;
      std::vector<Keyed> keyed;
      keyed.reserve(candidates.size());
      for (const Candidate& c : candidates) {
        if (keyed.size() % kDeadlineStride == kDeadlineStride - 1 && deadline.Expired()) {
          if (deadline.fail) return TimeoutStatus();
          // The partial result is what was loaded, in order.
          result.timed_out = true;
          break;
        }
        const store::HashMap* h = load(key_of(c.id));
        std::optional<std::string> v;
        if (h != nullptr) {
          auto it = h->find(hash_field);
          if (it != h->end()) v = it->second;
        }
        keyed.emplace_back(std::move(v), c);
      }
      std::stable_sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
        if (!a.first || !b.first) return a.first.has_value() && !b.first.has_value();
        return asc ? *a.first < *b.first : *a.first > *b.first;
      });
      for (size_t i = 0; i < keyed.size(); ++i) candidates[i] = keyed[i].second;
      if (result.timed_out) {
        candidates.resize(keyed.size());
        result.total = candidates.size();
      }
    } else {
      return Status::InvalidArgument("Property `" + by + "` not loaded nor in schema");
    }
  }

  const uint64_t begin = std::min<uint64_t>(request.offset, candidates.size());
  const uint64_t end = std::min<uint64_t>(candidates.size(), begin + request.limit);
  for (uint64_t i = begin; i < end; ++i) {
    // Loading every hash of a big page (FT.AGGREGATE asks for all rows) is
    // the slow part of such a query.
    if (load && (i - begin) % kDeadlineStride == kDeadlineStride - 1 && deadline.Expired()) {
      if (deadline.fail) return TimeoutStatus();
      result.timed_out = true;
      break;
    }
    const Candidate& c = candidates[i];
    SearchHit hit;
    hit.key = key_of(c.id);
    hit.score = c.score;
    for (const auto& [name, values] : yields) {
      auto v = values.find(c.id);
      if (v != values.end()) {
        hit.yields.emplace_back(name, FormatSearchNumber(static_cast<double>(v->second)));
      }
    }
    if (load) MaterializeHit(def_, request, load(hit.key), &hit);
    result.hits.push_back(std::move(hit));
  }
  return result;
}

void MaterializeHit(const IndexSchema& schema, const SearchRequest& request,
                    const store::HashMap* hash, SearchHit* hit) {
  hit->fields.clear();
  if (request.no_content ||
      (request.return_fields.has_value() && request.return_fields->empty())) {
    return;
  }
  auto yielded = [&](const std::string& name) -> const std::string* {
    for (const auto& [k, v] : hit->yields) {
      if (k == name) return &v;
    }
    return nullptr;
  };
  if (request.return_fields) {
    for (const ReturnField& r : *request.return_fields) {
      if (const std::string* y = yielded(r.name)) {
        hit->fields.emplace_back(r.alias, *y);
        continue;
      }
      if (hash == nullptr) continue;
      const FieldSpec* fd = schema.FindField(r.name);
      auto it = hash->find(fd != nullptr ? fd->identifier : r.name);
      if (it != hash->end()) hit->fields.emplace_back(r.alias, it->second);
    }
    return;
  }
  hit->fields = hit->yields;
  if (hash != nullptr) {
    for (const auto& [field, value] : *hash) hit->fields.emplace_back(field, value);
  }
}

Status SearchIndex::CheckInvariants() const {
  ReadLock lock(*this);
  size_t tag_entries = 0, text_entries = 0, numeric_entries = 0;
  std::vector<size_t> vectors(fields_.size(), 0);
  for (const auto& [id, doc] : docs_) {
    auto k = key_to_id_.find(doc.key);
    if (k == key_to_id_.end() || k->second != id) {
      return Status::Internal("doc " + std::to_string(id) + " missing from the key map");
    }
    for (size_t i = 0; i < fields_.size(); ++i) {
      const FieldState& f = fields_[i];
      for (const auto& t : doc.terms[i]) {
        auto post = f.tag.postings.find(t);
        if (post == f.tag.postings.end() || !post->second.Contains(id)) {
          return Status::Internal("tag '" + t + "' of doc " + std::to_string(id) +
                                  " missing in field " + f.def->alias);
        }
        ++tag_entries;
      }
      for (const TextTerm* t : doc.text_terms[i]) {
        auto post = f.text.postings.find(t->first);
        if (post == f.text.postings.end() || &*post != t || !t->second.Contains(id)) {
          return Status::Internal("term '" + t->first + "' of doc " + std::to_string(id) +
                                  " missing in field " + f.def->alias);
        }
        ++text_entries;
      }
      if (doc.numbers[i]) {
        if (!f.numeric.index.Contains(*doc.numbers[i], id)) {
          return Status::Internal("numeric value of doc " + std::to_string(id) + " missing");
        }
        ++numeric_entries;
      }
      if (doc.points[i]) {
        if (!f.geo.by_lat.Contains(doc.points[i]->lat, id)) {
          return Status::Internal("geo point of doc " + std::to_string(id) + " missing");
        }
        ++numeric_entries;
      }
      if (doc.has_vector[i]) {
        if (!f.vector->Contains(id)) {
          return Status::Internal("vector of doc " + std::to_string(id) + " missing");
        }
        ++vectors[i];
      }
    }
  }
  if (key_to_id_.size() != docs_.size()) return Status::Internal("key map size mismatch");
  size_t tag_total = 0, text_total = 0, numeric_total = 0;
  for (size_t i = 0; i < fields_.size(); ++i) {
    const FieldState& f = fields_[i];
    for (const auto& [t, ids] : f.tag.postings) tag_total += ids.size();
    for (const auto& [t, ids] : f.text.postings) {
      if (ids.empty() || f.text.sorted_terms.count(t) == 0) {
        return Status::Internal("text term '" + t + "' is empty or not in the term order");
      }
      text_total += ids.size();
    }
    if (f.text.sorted_terms.size() != f.text.postings.size()) {
      return Status::Internal("the term order of " + f.def->alias + " holds removed terms");
    }
    numeric_total += f.numeric.index.size() + f.geo.by_lat.size();
    RAGKV_RETURN_IF_ERROR(f.numeric.index.CheckInvariants());
    RAGKV_RETURN_IF_ERROR(f.geo.by_lat.CheckInvariants());
    if (f.vector && f.vector->size() != vectors[i]) {
      return Status::Internal("vector index of " + f.def->alias + " holds stale labels");
    }
  }
  uint64_t counted_records = 0, counted_bytes = 0;
  for (const FieldState& f : fields_) {
    counted_records += f.text.totals.records + f.tag.totals.records;
    counted_bytes += f.text.totals.term_bytes + f.tag.totals.term_bytes;
    for (const auto& [t, ids] : f.text.postings) counted_bytes -= t.size();
    for (const auto& [t, ids] : f.tag.postings) counted_bytes -= t.size();
  }
  if (counted_records != tag_total + text_total || counted_bytes != 0) {
    return Status::Internal("FT.INFO posting totals disagree with the postings");
  }
  if (tag_total != tag_entries || text_total != text_entries || numeric_total != numeric_entries) {
    return Status::Internal("postings hold entries of removed documents");
  }
  return Status::Ok();
}

}  // namespace ragkv::search
