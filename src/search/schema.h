// IndexSchema and ParseFtCreate: the server-independent front end of
// FT.CREATE. It turns the command's arguments into a validated description of
// an index (key type, prefixes, options and fields); building the index is
// the search engine's job.
//
// Accepted syntax (RediSearch 2.8-8.4, with every client quirk listed in
// docs/search.md and /work/shared/specs/redis-vector-api.md section 1):
//   FT.CREATE idx [ON HASH|JSON] [PREFIX n p...] [FILTER expr] [LANGUAGE l]
//     [LANGUAGE_FIELD f] [SCORE s] [SCORE_FIELD f] [PAYLOAD_FIELD f]
//     [MAXTEXTFIELDS] [TEMPORARY secs] [NOOFFSETS] [NOHL] [NOFIELDS] [NOFREQS]
//     [STOPWORDS n w...] [SKIPINITIALSCAN] [INDEXALL ENABLE|DISABLE]
//     SCHEMA field [AS alias] TYPE [options...] ...
// Index options may come in any order before SCHEMA; field options in any
// order after the type.
//
// Errors are kInvalidArgument whose message is RediSearch's reply text, e.g.
// "Duplicate field in schema - v" or "Bad arguments for algorithm HNSW: FOO".
// RediSearch replies these without an "ERR " prefix (the module API sends
// "-<text>"), and clients compare the text, so the server must send "-" +
// message verbatim.
//
// Thread safety: values only; ParseFtCreate is reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ragkv::search {

enum class FieldType : uint8_t { kText, kTag, kNumeric, kGeo, kVector };
enum class VectorAlgorithm : uint8_t { kFlat, kHnsw };
enum class VectorType : uint8_t { kFloat32, kFloat64, kFloat16, kBFloat16, kInt8, kUint8 };
enum class DistanceMetric : uint8_t { kL2, kIp, kCosine };
enum class KeyType : uint8_t { kHash, kJson };

// RediSearch's spelling of each enum value ("TEXT", "HNSW", "FLOAT32", "L2"...).
std::string_view FieldTypeName(FieldType t);
std::string_view VectorAlgorithmName(VectorAlgorithm a);
std::string_view VectorTypeName(VectorType t);
std::string_view DistanceMetricName(DistanceMetric m);
// Bytes per element of a vector blob: 4, 8, 2, 2, 1, 1.
size_t VectorTypeBytes(VectorType t);

// Caps that protect the server from absurd parameters (docs/search.md).
inline constexpr uint64_t kMaxVectorDim = 32768;
inline constexpr uint64_t kMaxHnswM = 512;
inline constexpr uint64_t kMaxEfConstruction = 4096;
inline constexpr uint64_t kMaxEfRuntime = 1000000;
inline constexpr uint64_t kMaxBlockSize = 1 << 20;
inline constexpr uint64_t kMaxInitialCap = uint64_t{1} << 32;
inline constexpr size_t kMaxFields = 1024;
inline constexpr size_t kMaxTextFields = 128;

struct VectorParams {
  VectorAlgorithm algorithm = VectorAlgorithm::kHnsw;
  VectorType type = VectorType::kFloat32;
  uint32_t dim = 0;
  DistanceMetric metric = DistanceMetric::kL2;
  std::optional<uint64_t> initial_cap;
  uint64_t block_size = 1024;   // FLAT only
  uint32_t m = 16;              // HNSW only
  uint32_t ef_construction = 200;
  uint32_t ef_runtime = 10;
  double epsilon = 0.01;

  // Exact size of a valid blob: dim * VectorTypeBytes(type).
  size_t BlobBytes() const { return static_cast<size_t>(dim) * VectorTypeBytes(type); }
};

struct FieldSpec {
  std::string identifier;  // the hash field (or JSON path)
  std::string alias;       // the attribute name queries use; == identifier without AS
  FieldType type = FieldType::kText;

  bool sortable = false;
  bool unf = false;  // SORTABLE UNF
  bool noindex = false;
  bool index_missing = false;
  bool index_empty = false;
  bool with_suffix_trie = false;

  // TEXT
  double weight = 1.0;
  bool nostem = false;
  std::string phonetic;  // e.g. "dm:en"; empty if none

  // TAG
  char separator = ',';
  bool case_sensitive = false;

  // VECTOR
  VectorParams vector;
};

struct IndexSchema {
  std::string name;
  KeyType on = KeyType::kHash;
  std::vector<std::string> prefixes;  // empty means every key
  std::string filter;                 // FILTER expression, unevaluated
  std::string language = "english";
  std::string language_field;
  std::string score_field;
  std::string payload_field;
  double score = 1.0;
  std::optional<std::vector<std::string>> stopwords;  // nullopt: the default list
  std::optional<uint64_t> temporary_seconds;
  bool max_text_fields = false;
  bool no_offsets = false;
  bool no_highlight = false;
  bool no_fields = false;
  bool no_freqs = false;
  bool skip_initial_scan = false;
  bool index_all = false;
  std::vector<FieldSpec> fields;

  // The field whose alias is `alias` (case-sensitive, as in RediSearch), or
  // nullptr.
  const FieldSpec* FindField(std::string_view alias) const;
};

// FT.INFO building blocks, in RediSearch's order (RESP stays in the server).
struct AttributeDescription {
  // "identifier", "attribute", "type", then per type: WEIGHT (TEXT),
  // SEPARATOR (TAG), algorithm/data_type/dim/distance_metric[/M/
  // ef_construction/ef_runtime/epsilon] (VECTOR).
  std::vector<std::pair<std::string, std::string>> pairs;
  // SORTABLE, UNF, NOSTEM, NOINDEX, CASESENSITIVE, WITHSUFFIXTRIE, INDEXEMPTY,
  // INDEXMISSING as set: bare words in RESP2, a "flags" array in RESP3.
  std::vector<std::string> flags;
};
AttributeDescription DescribeField(const FieldSpec& field);
// The index_definition pairs: key_type, prefixes (joined as one array by the
// caller from `schema.prefixes`), default_score, then filter,
// default_language, language_field, score_field, payload_field when set.
std::vector<std::pair<std::string, std::string>> DescribeDefinition(const IndexSchema& schema);

// Parses FT.CREATE's arguments after the command name: args[0] is the index
// name. Returns the schema, or kInvalidArgument with RediSearch's error text.
// O(number of arguments + fields^2 for duplicate checks on tiny schemas).
Result<IndexSchema> ParseFtCreate(std::span<const std::string_view> args);

// Parses `FT.ALTER idx [SKIPINITIALSCAN] SCHEMA ADD field...` arguments after
// the command name into the new fields, validated against `existing` for
// duplicates. Errors as for ParseFtCreate.
Result<std::vector<FieldSpec>> ParseFtAlter(std::span<const std::string_view> args,
                                            const IndexSchema& existing);

}  // namespace ragkv::search
