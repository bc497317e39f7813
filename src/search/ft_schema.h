// The definition of an FT index (FT.CREATE's arguments) and its parser.
//
// ParseCreateArgs accepts RediSearch's FT.CREATE syntax with options in any
// order and the defaults clients send explicitly (SCORE 1.0, WEIGHT 1.0,
// SEPARATOR ,). Errors carry RediSearch's texts, which clients match on; the
// server sends Status::message() verbatim as the RESP error.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "index/vector/vector_index.h"

namespace ragkv::search {

enum class FieldType : uint8_t { kText, kTag, kNumeric, kGeo, kVector };

// "TEXT", "TAG", ...: RediSearch's spelling.
std::string_view FieldTypeName(FieldType type);

struct FieldDef {
  std::string identifier;  // the hash field
  std::string attribute;   // the name queries use (AS); == identifier by default
  FieldType type = FieldType::kText;
  bool sortable = false;
  bool unf = false;
  bool noindex = false;
  // TEXT
  double weight = 1.0;
  bool nostem = false;
  // TAG
  char separator = ',';
  bool case_sensitive = false;
  // VECTOR
  vec::IndexSpec vector;
  size_t block_size = 1024;
};

struct IndexDef {
  std::string name;
  // Byte prefixes of indexed keys; empty means every key.
  std::vector<std::string> prefixes;
  std::string filter;  // accepted and reported, not evaluated
  std::string language = "english";
  double score = 1.0;
  // Custom stop words (STOPWORDS n ...); nullopt keeps the default list.
  std::optional<std::vector<std::string>> stopwords;
  bool skip_initial_scan = false;
  std::vector<std::string> options;  // flags echoed in FT.INFO index_options
  std::vector<FieldDef> fields;

  // The field queried as `attribute` (case-sensitive, like RediSearch), or
  // nullptr.
  const FieldDef* FindAttribute(std::string_view attribute) const;
  // True when `key` starts with one of the prefixes (or there are none).
  bool MatchesKey(std::string_view key) const;
};

// Largest accepted values, so that hostile schemas cannot allocate without
// bound (RediSearch's limits where it has them).
inline constexpr size_t kMaxFields = 1024;
inline constexpr size_t kMaxVectorDim = 32768;
inline constexpr size_t kMaxInitialCap = 1u << 24;

// Parses FT.CREATE's arguments: `args` = {index, options..., SCHEMA, fields...}.
// Returns the definition or kInvalidArgument with RediSearch's error text.
Result<IndexDef> ParseCreateArgs(std::span<const std::string_view> args);

// Parses `identifier [AS attr] TYPE [options]` field definitions from
// args[pos...] until the end, appending to `def` (FT.CREATE's SCHEMA part and
// FT.ALTER ... SCHEMA ADD). Rejects duplicate attributes.
Status ParseSchemaFields(std::span<const std::string_view> args, size_t pos, IndexDef* def);

}  // namespace ragkv::search
