// The FT.SEARCH query language (RediSearch DIALECT 2) as an AST.
//
//   query   := ( '*' | union ) [ '=>' '[' KNN k @field $blob attrs* [AS name] ']'
//                                [ '=>' '{' $attr: value; ... '}' ] ]
//   union   := intersect ( '|' intersect )*
//   intersect := unary+
//   unary   := '-' unary | '~' unary | atom
//   atom    := '(' union ')' | '*' | word | word* | "phrase" | %fuzzy% | $param
//            | '@' attr ':' ( '{' tag ( '|' tag )* '}' | '[' lo hi ']'
//                           | '[' VECTOR_RANGE r $blob ']' [ '=>' '{' ... '}' ]
//                           | '(' union ')' | word | "phrase" )
//            | '@' attr ( '==' | '!=' | '>' | '>=' | '<' | '<=' ) number
//
// `$name` values are resolved from PARAMS while parsing. DIALECT 1 queries are
// parsed the same way (KNN works regardless, as the spec asks). Errors are
// RediSearch's texts ("Syntax error at offset N near X", "No such parameter
// `x`", ...).
//
// Thread safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ragkv::search {

enum class NodeKind : uint8_t {
  kAll,          // '*': every document
  kTerm,         // words[0] in field (or every TEXT field when field is empty)
  kPrefix,       // terms starting with words[0]
  kPhrase,       // all of words (adjacency is not checked; see docs/search.md)
  kTag,          // any of words in TAG field
  kNumeric,      // lo..hi in NUMERIC field
  kVectorRange,  // distance <= radius from blob in VECTOR field
  kAnd,
  kOr,
  kNot,
  kOptional,  // '~x': does not restrict the result set
};

struct QueryNode {
  NodeKind kind = NodeKind::kAll;
  std::string field;               // attribute name; empty: all TEXT fields
  std::vector<std::string> words;  // raw (unescaped) words or tag values
  double lo = 0, hi = 0;
  bool lo_exclusive = false, hi_exclusive = false;
  double radius = 0;
  double epsilon = 0;      // 0: index default
  std::string blob;        // resolved PARAMS value
  std::string yield_as;    // VECTOR_RANGE distance alias
  std::vector<std::unique_ptr<QueryNode>> children;
};

struct KnnClause {
  uint64_t k = 0;
  std::string field;
  std::string blob;   // resolved PARAMS value
  std::string alias;  // distance field name; "__<field>_score" by default
  uint64_t ef_runtime = 0;  // 0: index default
};

struct ParsedQuery {
  std::unique_ptr<QueryNode> root;  // the filter (kAll for '*')
  std::optional<KnnClause> knn;
};

using QueryParams = std::map<std::string, std::string, std::less<>>;

// Limits that keep hostile queries bounded (CVE-2024-51737 was an unchecked K).
inline constexpr uint64_t kMaxKnnK = 100000;
inline constexpr uint64_t kMaxEfRuntime = 100000;
inline constexpr size_t kMaxQueryDepth = 64;

// Parses `query` resolving $params from `params`. Returns kInvalidArgument
// with RediSearch's error text on bad syntax or an unknown parameter.
// O(query length).
Result<ParsedQuery> ParseQuery(std::string_view query, const QueryParams& params);

// A readable tree for FT.EXPLAIN.
std::string ExplainQuery(const ParsedQuery& query);

}  // namespace ragkv::search
