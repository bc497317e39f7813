// SearchIndex: one FT index. It owns the per-field indexes of the documents
// (hash keys) that match its definition and answers parsed queries.
//
//   TAG      exact-match postings per value (lower-cased unless CASESENSITIVE),
//            each a text::PostingList (sorted doc-id vector, tombstones)
//   NUMERIC  avl::NumericIndex, an order-statistic AVL tree of (value, doc id)
//            with pooled nodes: O(log n + hits) ranges, O(log n) counts
//   TEXT     per-field term postings (text::PostingList per stem and per
//            unstemmed word, hashed, plus the ordered terms for prefixes) for
//            matching, one BM25F TextIndex over all TEXT fields for scoring;
//            each text is tokenised once for both
//   VECTOR   a ragkv_vector index (FLAT or HNSW) with the doc id as label
//   GEO      "lon,lat" points: an avl::NumericIndex on latitude, so a radius
//            query scans the latitude band r wide either side of the centre
//            and keeps the points within r by great-circle distance
//
// Documents are keyed by a 64-bit doc id that a key keeps while it stays
// indexed; a re-indexed key replaces its entries (never duplicates them). A
// hash whose vector blob has the wrong size, or whose NUMERIC value does not
// parse, is not indexed at all and counts in hash_indexing_failures, as in
// RediSearch.
//
// Thread safety: every public method may be called from any thread. Writers
// (Upsert, Remove, Clear, AddFields) take the index's lock exclusively and
// readers (Search, Info, TagValues, Keys) share it, so a search sees either
// all or none of a document update.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "index/avl/numeric_index.h"
#include "index/text/posting_list.h"
#include "index/text/text_index.h"
#include "index/text/tokenizer.h"
#include "index/vector/vector_index.h"
#include "search/query.h"
#include "search/schema.h"
#include "search/vector_snapshot.h"
#include "store/object.h"

namespace ragkv::search {

struct SearchHit {
  std::string key;
  double score = 0;  // larger is better (BM25 for text queries, else 1)
  // Yielded distances of this document (KNN alias, $YIELD_DISTANCE_AS),
  // formatted as RediSearch does.
  std::vector<std::pair<std::string, std::string>> yields;
  // The reply's field/value pairs (empty until materialised).
  std::vector<std::pair<std::string, std::string>> fields;
};

struct SearchResult {
  uint64_t total = 0;  // matches before LIMIT
  std::vector<SearchHit> hits;
  // The deadline passed under ON_TIMEOUT RETURN: `hits` and `total` cover
  // only the documents processed until then.
  bool timed_out = false;
};

// A query's time budget: FT.SEARCH/FT.AGGREGATE TIMEOUT, or FT.CONFIG
// TIMEOUT, with FT.CONFIG ON_TIMEOUT. It is checked at a coarse grain: at
// every node of the filter tree, before and after BM25 scoring (one pass over
// the query terms' postings) and the vector search (neither is interrupted),
// and every 256 sorted or loaded candidates.
struct QueryDeadline {
  std::optional<std::chrono::steady_clock::time_point> at;  // nullopt: no limit
  bool fail = false;  // ON_TIMEOUT FAIL: an error; RETURN: partial results

  // A deadline `timeout_ms` from now; 0 means no limit (RediSearch's rule).
  static QueryDeadline After(uint64_t timeout_ms, bool fail) {
    QueryDeadline d;
    d.fail = fail;
    if (timeout_ms > 0) {
      d.at = std::chrono::steady_clock::now() +
             std::chrono::milliseconds(std::min<uint64_t>(timeout_ms, uint64_t{1} << 40));
    }
    return d;
  }
  bool Expired() const { return at.has_value() && std::chrono::steady_clock::now() >= *at; }
};

// Counters for FT.INFO.
struct IndexInfo {
  uint64_t num_docs = 0;
  uint64_t max_doc_id = 0;
  uint64_t num_terms = 0;
  uint64_t num_records = 0;
  uint64_t hash_indexing_failures = 0;
  uint64_t number_of_uses = 0;
  double inverted_sz_mb = 0;
  double vector_index_sz_mb = 0;
  double doc_table_size_mb = 0;
};

// FT.PROFILE: one node of a query's filter tree, with the documents it
// matched and the time its subtree took when evaluated alone.
struct ProfileNode {
  std::string type;   // RediSearch's iterator names: UNION, INTERSECT, NOT, ...
  std::string label;  // the node's canonical query text
  uint64_t counter = 0;
  double time_ms = 0;
  std::vector<ProfileNode> children;
};

// Which plan a KNN with a filter took (exposed for tests and FT.PROFILE-like
// diagnostics).
enum class KnnPlan : uint8_t { kUnfiltered, kExactScan, kFilteredGraph };  // kUnfiltered: '*'

// Reads a hash from the keyspace: nullptr when the key is absent or not a
// hash. Called only while the caller keeps the keyspace unchanged.
using HashLoader = std::function<const store::HashMap*(std::string_view key)>;

// True when `key` starts with one of the schema's prefixes (or it has none).
bool KeyMatches(const IndexSchema& schema, std::string_view key);

// The ragkv_vector spec of a VECTOR field.
vec::IndexSpec ToVectorSpec(const VectorParams& params);

// Fills hit->fields from `hash` (nullptr: the key is gone) and hit->yields
// per the request's RETURN / NOCONTENT.
void MaterializeHit(const IndexSchema& schema, const SearchRequest& request,
                    const store::HashMap* hash, SearchHit* hit);

class SearchIndex {
 public:
  // Builds the per-field indexes. kInvalidArgument if a vector field's spec is
  // rejected by ragkv_vector.
  static Result<std::unique_ptr<SearchIndex>> Create(IndexSchema schema, int db);
  ~SearchIndex();

  const IndexSchema& schema() const { return def_; }
  const std::string& name() const { return def_.name; }
  int db() const { return db_; }

  // Indexes `key` with the contents of `hash`, replacing what was indexed for
  // it; an invalid document is removed instead and counted as a failure.
  // REQUIRES: KeyMatches(schema(), key). O(fields + terms + vector insert).
  void Upsert(std::string_view key, const store::HashMap& hash);
  // Drops `key` if indexed. O(its entries).
  void Remove(std::string_view key);
  // Drops every document (FLUSHDB); failures stay counted.
  void Clear();
  // FT.ALTER SCHEMA ADD: adds fields (empty indexes); the caller re-feeds the
  // documents. kInvalidArgument for a duplicate attribute.
  Status AddFields(std::vector<FieldSpec> fields);

  // Executes `request`. kInvalidArgument with RediSearch's text for an unknown
  // field, a field of the wrong type, or a bad query vector.
  // With a `load`er, hits come with their reply fields. Without one (a worker
  // thread, which must not touch the keyspace) hits carry only keys, scores
  // and yields, to be completed by MaterializeHit on the keyspace's thread;
  // a SORTBY that needs hash values then fails with kFailedPrecondition and
  // the caller runs the query with a loader instead.
  // Past `deadline`: kResourceExhausted errors::kTimeoutReached under FAIL,
  // else the partial result with timed_out set.
  Result<SearchResult> Search(const SearchRequest& request, const HashLoader& load,
                              const QueryDeadline& deadline = {}) const;

  // FT.PROFILE: evaluates every node of `query`'s filter tree on its own
  // (O(depth) times the cost of the filter). The KNN clause is not included.
  // Errors as Search.
  Result<ProfileNode> Profile(const Query& query) const;

  // The plan a KNN query with a filter matching `allowed` of size() documents
  // would take; what Search uses.
  static KnnPlan ChooseKnnPlan(size_t allowed, size_t indexed, size_t k);

  IndexInfo Info() const;
  // Distinct values of a TAG field, sorted; kInvalidArgument if `attribute` is
  // not a TAG field.
  Result<std::vector<std::string>> TagValues(std::string_view attribute) const;
  // Keys of all indexed documents (FT.DROPINDEX DD).
  std::vector<std::string> Keys() const;
  size_t size() const;

  // Snapshot support (search/vector_snapshot.h). Streams one blob per VECTOR
  // field to `sink`. Never blocks: the reader lock is only tried, because a
  // forked child (BGSAVE) inherits locks held by threads that do not exist in
  // it; kUnavailable if a writer holds it (the caller skips the index, whose
  // vectors are then rebuilt at load). Errors of the sink are returned.
  Status SaveVectorFields(SavedFieldSink& sink) const;

  // Adoption of saved VECTOR fields, around the initial scan of a new index:
  // BeginAdoption installs the saved vector indexes and doc-id table (after
  // checking that each field exists with the same vector parameters), then
  // the caller Upserts the documents (in adoption mode a document keeps its
  // saved doc id and an adopted field checks its vector is present instead
  // of inserting it), then FinishAdoption checks that exactly the saved
  // documents and vectors were seen. On any error (from either call) the
  // index is reset to empty with fresh vector indexes, ready for a normal
  // scan; the message names the index and the field.
  // REQUIRES: the index is empty (just created); the keyspace's thread.
  Status BeginAdoption(std::vector<SavedVectorField> saved);
  Status FinishAdoption();
  bool adopting() const { return adoption_ != nullptr; }

  // Checks the cross-structure invariants (every doc's field entries present
  // in the field indexes and nothing else). kInternal naming the first
  // violation. O(total entries).
  Status CheckInvariants() const;

 private:
  // FT.INFO's totals, kept up to date so that FT.INFO is O(fields) rather
  // than a walk over every posting list (the embedded store asks at open).
  struct PostingTotals {
    uint64_t records = 0;     // (term, doc) entries
    uint64_t term_bytes = 0;  // sum of the terms' lengths
  };
  struct TagField {
    std::unordered_map<std::string, text::PostingList> postings;
    PostingTotals totals;
  };
  struct NumericField {
    avl::NumericIndex index;
  };
  struct GeoPoint {
    double lon = 0, lat = 0;
  };
  struct GeoField {
    avl::NumericIndex by_lat;  // (latitude, doc id)
  };
  // A TEXT field's dictionary entry. Unordered-map nodes never move, so
  // documents point at the entries of their terms.
  using TextTerm = std::pair<const std::string, text::PostingList>;
  struct TextField {
    // Hashed for the per-token lookups of indexing and term queries; the
    // ordered view of the dictionary (changed only when a term appears or
    // disappears) serves prefix queries with a lower_bound and a walk. Its
    // views point at the map's keys, which never move; a term leaves both.
    std::unordered_map<std::string, text::PostingList> postings;
    std::set<std::string_view> sorted_terms;
    PostingTotals totals;
    uint8_t text_slot = 0;  // position among TEXT fields in the BM25 index
  };
  struct FieldState {
    const FieldSpec* def = nullptr;  // into def_.fields; re-pointed when it grows
    TagField tag;
    NumericField numeric;
    GeoField geo;
    TextField text;
    std::unique_ptr<vec::VectorIndex> vector;
  };
  // What one document contributed, to remove it exactly.
  struct DocEntry {
    std::string key;
    std::vector<std::vector<std::string>> terms;  // per field: its tags
    // Per field: its distinct text terms (pointers instead of copies of the
    // strings: no allocation per term and document, and a cheap teardown).
    std::vector<std::vector<TextTerm*>> text_terms;
    std::vector<std::optional<double>> numbers;   // per field
    std::vector<bool> has_vector;                 // per field
    std::vector<std::optional<GeoPoint>> points;  // per field
  };
  using DocSet = std::vector<uint64_t>;  // sorted doc ids
  // State of an adoption between BeginAdoption and FinishAdoption.
  struct Adoption {
    std::unordered_map<std::string, uint64_t> ids;  // saved key -> doc id
    std::vector<bool> adopted;                      // per field
    size_t saved_docs = 0;
    uint64_t saved_next_id = 1;  // doc ids below it are saved ones
    uint64_t checked = 0;        // vectors seen, for spot checks of values
    std::string mismatch;        // first problem seen by Upsert; empty if none
  };

  SearchIndex(IndexSchema def, int db);
  Status InitField(size_t i);
  void RemoveLocked(uint64_t id);
  // Drops every document and recreates the vector indexes (no per-vector
  // removal, so it is O(docs) even for a large graph).
  void ResetLocked();
  // Adoption mode of Upsert: the saved doc id of `key`, else a fresh one.
  uint64_t AdoptedIdLocked(const std::string& key);
  // Adoption mode of Upsert for an adopted VECTOR field: true if the saved
  // index holds doc `id`'s vector (spot-checking its value); otherwise notes a
  // mismatch, unless the blob is one Add would reject (NaN, zero under
  // COSINE), which sets *valid = false as the normal path would.
  bool AdoptVectorLocked(FieldState& f, uint64_t id, const std::string& key,
                         std::span<const std::byte> blob, bool* valid);
  void RebuildTextIndexLocked();
  std::vector<std::string> SplitTags(const FieldSpec& f, std::string_view value) const;

  Result<DocSet> Evaluate(const QueryNode& node,
                          std::unordered_map<std::string, std::unordered_map<uint64_t, float>>*
                              yields,
                          const QueryDeadline& deadline) const;
  DocSet AllDocs() const;
  Result<const FieldState*> FieldFor(std::string_view attribute) const;
  Result<DocSet> TermDocs(const QueryNode& node) const;
  Result<DocSet> TagDocs(const QueryNode& node) const;
  Result<DocSet> NumericDocs(std::string_view field, const NumericBound& lo,
                             const NumericBound& hi) const;
  // Documents whose point in GEO field `field` lies within `radius_m` metres
  // of (lon, lat). O(log n + points in the latitude band).
  Result<DocSet> GeoDocs(std::string_view field, double lon, double lat, double radius_m) const;
  // Parses a GEO value "lon,lat"; nullopt if malformed or out of range.
  static std::optional<GeoPoint> ParseGeoPoint(std::string_view value);
  void CollectTextTerms(const QueryNode& node, bool negated, std::vector<std::string>* out) const;
  Result<ProfileNode> ProfileLocked(const QueryNode& node) const;
  Result<std::vector<float>> DecodeQueryVector(const FieldState& f, std::string_view blob) const;

  // Writer-preferring reader/writer lock. glibc's rwlock prefers readers, so
  // a steady stream of overlapping searches on the workers could starve the
  // event loop's updates forever; new readers first pass gate_, which a
  // waiting writer holds.
  class ReadLock {
   public:
    explicit ReadLock(const SearchIndex& index) : mu_(index.mu_) {
      std::lock_guard gate(index.gate_);
      mu_.lock_shared();
    }
    ~ReadLock() { mu_.unlock_shared(); }

   private:
    std::shared_mutex& mu_;
  };
  class WriteLock {
   public:
    explicit WriteLock(const SearchIndex& index) : mu_(index.mu_) {
      std::lock_guard gate(index.gate_);
      mu_.lock();
    }
    ~WriteLock() { mu_.unlock(); }

   private:
    std::shared_mutex& mu_;
  };

  IndexSchema def_;
  int db_;
  mutable std::mutex gate_;
  mutable std::shared_mutex mu_;
  std::vector<FieldState> fields_;
  std::unique_ptr<text::TextIndex> bm25_;  // null when there is no TEXT field
  // Indexing's tokenizer (writers only, under the exclusive lock): yields
  // both the stems and the unstemmed words of a text in one pass.
  text::Tokenizer stem_tokenizer_;
  // Upsert's reused buffers (writers only).
  std::vector<std::string> scratch_words_;
  std::vector<TextTerm*> scratch_entries_;
  std::unordered_map<std::string, uint64_t> key_to_id_;
  std::unordered_map<uint64_t, DocEntry> docs_;
  uint64_t next_id_ = 1;
  uint64_t failures_ = 0;
  mutable std::atomic<uint64_t> uses_{0};
  std::unique_ptr<Adoption> adoption_;
};

}  // namespace ragkv::search
