// RediSearch's error texts that depend on server state, so they cannot come
// from the parsers: which index exists, what size a vector blob must have.
// Clients match these byte for byte (redis-om-node compares the DROPINDEX
// text, LangChain JS looks for "unknown command"), so the FT.* commands must
// use these constants rather than retyping them. Texts are RediSearch
// 2.8-8.4's; replies are "-" + text, without an "ERR " prefix.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ragkv::search::errors {

// FT.INFO, FT.ALTER, FT.EXPLAIN, FT.TAGVALS on a missing index.
inline constexpr std::string_view kUnknownIndexName = "Unknown index name";
// FT.DROPINDEX / FT.DROP on a missing index (note the capital I).
inline constexpr std::string_view kUnknownIndexNameDrop = "Unknown Index name";
// FT.CREATE of an existing index.
inline constexpr std::string_view kIndexAlreadyExists = "Index already exists";

// A query over its TIMEOUT under ON_TIMEOUT FAIL (and the RESP3 warning
// under ON_TIMEOUT RETURN).
inline constexpr std::string_view kTimeoutReached = "Timeout limit was reached";

// FT.SEARCH / FT.AGGREGATE on a missing index: "<idx>: no such index".
inline std::string NoSuchIndex(std::string_view index) {
  return std::string(index) + ": no such index";
}

// A query vector blob whose size is not DIM * sizeof(TYPE).
inline std::string BlobSizeMismatch(size_t got, size_t expected) {
  return "Error parsing vector similarity query: query vector blob size (" + std::to_string(got) +
         ") does not match index's expected size (" + std::to_string(expected) + ").";
}

}  // namespace ragkv::search::errors
