// The FT.SEARCH front end: the DIALECT 2 query language parsed into an AST
// (ParseQuery), and the FT.SEARCH / FT.AGGREGATE argument lists parsed into
// requests (ParseFtSearch, ParseFtAggregate). Nothing here executes a query;
// the planner/executor consumes these values.
//
// Query language (RediSearch DIALECT 2, see docs/search.md for the grammar):
//   *                          every document
//   hello  hel*  %hello%       term, prefix, fuzzy (1-3 '%' = distance)
//   "hello world"              exact phrase
//   @title:hello  @title|body:(a | b)  @f:("phrase")  @f:(pre*)
//   @tag:{a | b c | pre*}      tag alternatives (spaces inside tags allowed)
//   @num:[lo hi]  @num:[(1 +inf]  @num:[-inf (5]  @num:[$lo $hi]
//   a b  (implicit AND)   a | b  (OR)   -a  (NOT)   ~a  (optional)   ( ... )
//   @vec:[VECTOR_RANGE r $BLOB]=>{$YIELD_DISTANCE_AS: d; $EPSILON: 0.1}
//   <filter> => [KNN k @vec $BLOB [EF_RUNTIME n] [EPSILON e]
//                [HYBRID_POLICY p] [BATCH_SIZE n] [AS name]] [=>{$attr: v; ...}]
// `$name` anywhere a value goes is replaced from PARAMS. KNN is accepted
// whatever the DIALECT (as Dragonfly and valkey-search do).
//
// Errors are kInvalidArgument carrying RediSearch's texts: "Syntax error at
// offset N near X", "No such parameter `x`", "LIMIT exceeds maximum of
// 1000000", ... (the server replies "-" + message, no "ERR " prefix).
//
// Thread safety: values only; the parse functions are reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ragkv::search {

// Caps on client-supplied sizes (cf. CVE-2024-51737, a heap overflow from
// huge LIMIT/KNN values in RediSearch). Each keeps the executor's per-query
// heap at most a few tens of MB.
inline constexpr uint64_t kMaxKnnK = 1000000;
inline constexpr uint64_t kMaxResultWindow = 1000000;  // LIMIT offset + num
inline constexpr uint64_t kMaxQueryEfRuntime = 1000000;
inline constexpr size_t kMaxQueryLength = 1 << 20;     // bytes of query text
inline constexpr size_t kMaxQueryDepth = 128;          // nesting of ( ), @f: and -

enum class NodeKind : uint8_t {
  kMatchAll,     // *
  kTerm,         // text: a word
  kPrefix,       // text: word*
  kFuzzy,        // text: %word%
  kPhrase,       // text: "w1 w2"
  kTag,          // @f:{a | b}
  kNumericRange, // @f:[lo hi]
  kVectorRange,  // @f:[VECTOR_RANGE r $B]
  kGeoRadius,    // @f:[lon lat radius m|km|mi|ft]
  kAnd,
  kOr,
  kNot,
  kOptional,     // ~x: affects scoring only
};

struct TagValue {
  std::string value;  // unescaped; case is kept (the index folds it)
  bool prefix = false;
};

struct NumericBound {
  double value = 0;
  bool exclusive = false;
};

struct QueryNode {
  NodeKind kind = NodeKind::kMatchAll;
  // Attribute names this node is restricted to (@a|b:...); empty means every
  // TEXT field. Set on text leaves, tags, ranges.
  std::vector<std::string> fields;
  std::string text;                // kTerm, kPrefix, kFuzzy
  int fuzzy_distance = 0;          // kFuzzy: 1..3
  std::vector<std::string> words;  // kPhrase
  std::vector<TagValue> tags;      // kTag
  NumericBound lo, hi;             // kNumericRange
  double radius = 0;               // kVectorRange; kGeoRadius (in `unit`)
  double lon = 0, lat = 0;         // kGeoRadius: the centre, degrees
  std::string unit;                // kGeoRadius: m, km, mi or ft (lower case)
  std::string blob_param;          // kVectorRange: parameter name of the vector
  std::string blob;                // kVectorRange: the parameter's bytes
  // Query attributes from "=>{$name: value; ...}" (names lower-cased without
  // '$'), e.g. yield_distance_as, epsilon, weight.
  std::map<std::string, std::string> attributes;
  std::vector<std::unique_ptr<QueryNode>> children;  // kAnd, kOr, kNot, kOptional
};

struct KnnClause {
  uint64_t k = 0;
  std::string field;       // vector attribute, without '@'
  std::string blob_param;  // parameter name, without '$'
  std::string blob;        // the parameter's bytes
  std::string score_alias; // AS name, or "__<field>_score"
  std::optional<uint64_t> ef_runtime;
  std::optional<double> epsilon;
  std::string hybrid_policy;  // "", "ADHOC_BF" or "BATCHES"
  std::optional<uint64_t> batch_size;
  std::optional<double> shard_k_ratio;
};

using QueryParams = std::map<std::string, std::string, std::less<>>;

struct Query {
  std::unique_ptr<QueryNode> root;  // the filter; kMatchAll for "*"
  std::optional<KnnClause> knn;

  // Canonical query text: parsing it again (with the same params) yields an
  // equal AST. Params appear resolved, except blobs, which print as $name.
  std::string ToString() const;
};

// FT.EXPLAIN's plan text in RediSearch's layout: one node per line, two
// spaces of indent per level, e.g.
//   INTERSECT {
//     @title:hello
//     NUMERIC {1.000000 <= @n <= inf}
//   }
std::string Explain(const Query& query);

// Parses a DIALECT 2 query. `params` supplies $name values.
Result<Query> ParseQuery(std::string_view text, const QueryParams& params);
std::string ToString(const QueryNode& node);

struct ReturnField {
  std::string name;   // attribute, identifier or the KNN score alias
  std::string alias;  // AS name; == name without AS
};

struct SortBy {
  std::string field;  // without '@'
  bool ascending = true;
};

// Legacy FT.SEARCH filters (FILTER / GEOFILTER arguments).
struct NumericFilter {
  std::string field;
  NumericBound lo, hi;
};
struct GeoFilter {
  std::string field;
  double lon = 0;
  double lat = 0;
  double radius = 0;
  std::string unit;  // m, km, mi, ft
};

// GEO: metres per unit of a radius ("m", "km", "mi", "ft", any case), or
// nullopt for an unknown unit.
std::optional<double> GeoUnitMetres(std::string_view unit);
// GEO coordinate limits (Redis's GEO limits: the Web Mercator latitude range).
inline constexpr double kGeoMaxLat = 85.05112878;
inline constexpr double kGeoMaxLon = 180;

struct SearchRequest {
  std::string index;
  std::string query_text;
  Query query;
  bool no_content = false;
  bool verbatim = false;
  bool no_stopwords = false;
  bool with_scores = false;
  bool with_payloads = false;
  bool with_sort_keys = false;
  bool in_order = false;
  bool explain_score = false;
  // nullopt: return every field; empty (RETURN 0): ids only, like NOCONTENT.
  std::optional<std::vector<ReturnField>> return_fields;
  std::optional<SortBy> sort_by;
  uint64_t offset = 0;
  uint64_t limit = 10;
  QueryParams params;
  std::optional<uint64_t> timeout_ms;
  int dialect = 1;  // recorded; KNN and $params work in every dialect
  std::vector<NumericFilter> numeric_filters;
  std::vector<GeoFilter> geo_filters;
  std::vector<std::string> in_keys;
  std::vector<std::string> in_fields;
  std::optional<uint64_t> slop;
  std::string language;
  std::string scorer;
  std::string expander;
  std::string payload;
};

// Parses FT.SEARCH's arguments after the command name: args[0] is the index,
// args[1] the query, then options in any order and any case. Validates the
// caps above and parses the query with the PARAMS it found (PARAMS may come
// after the query, as every client sends it).
Result<SearchRequest> ParseFtSearch(std::span<const std::string_view> args);

// FT.AGGREGATE ---------------------------------------------------------------

enum class ReducerKind : uint8_t { kCount, kCountDistinct, kSum, kAvg, kMin, kMax, kToList };

struct Reducer {
  ReducerKind kind = ReducerKind::kCount;
  std::vector<std::string> args;  // property names without '@' (or literal args)
  std::string alias;              // AS name, or a generated one ("count", "sum(x)")
};

struct GroupBy {
  std::vector<std::string> properties;  // without '@'
  std::vector<Reducer> reducers;
};

struct Apply {
  std::string expression;  // unevaluated
  std::string alias;
};

// One step of the aggregation pipeline, in command order.
struct AggregateStep {
  enum class Kind : uint8_t { kGroupBy, kSortBy, kApply, kLimit, kFilter } kind = Kind::kGroupBy;
  GroupBy group_by;
  std::vector<SortBy> sort_by;
  std::optional<uint64_t> sort_max;
  Apply apply;
  uint64_t offset = 0;
  uint64_t limit = 0;
  std::string filter;  // FILTER expression, unevaluated
};

struct AggregateRequest {
  std::string index;
  std::string query_text;
  Query query;
  bool verbatim = false;
  bool load_all = false;          // LOAD *
  std::vector<ReturnField> load;  // LOAD n @f [AS a]
  std::vector<AggregateStep> steps;
  QueryParams params;
  std::optional<uint64_t> timeout_ms;
  int dialect = 1;
  bool with_cursor = false;
  std::optional<uint64_t> cursor_count;
  std::optional<uint64_t> cursor_max_idle_ms;
};

// Parses FT.AGGREGATE's arguments after the command name (args[0] = index).
Result<AggregateRequest> ParseFtAggregate(std::span<const std::string_view> args);

}  // namespace ragkv::search
