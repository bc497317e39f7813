// Header, checksum and file plumbing of the vector index file format
// (docs/formats/vector_index.md); the bodies live with each index (internal).
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/result.h"
#include "index/vector/serial.h"
#include "index/vector/vector_index.h"

namespace ragkv::vec::internal {

inline constexpr size_t kHeaderBytes = 64;
inline constexpr size_t kFooterBytes = 4;

void WriteHeader(const IndexSpec& spec, ChunkedWriter* w);
// Parses and validates the 64-byte header.
Result<IndexSpec> ReadHeader(ByteReader& in);

// Writes `index` to path.tmp through SaveTo, fsyncs, renames. kIOError on failure.
Status WriteFileAtomically(const VectorIndex& index, const std::string& path);

// Reads the whole file.
Result<std::vector<uint8_t>> ReadWholeFile(const std::string& path);

// Verifies the footer of a whole file in memory; returns the bytes before it.
Result<std::span<const uint8_t>> VerifyChecksum(std::span<const uint8_t> file);

}  // namespace ragkv::vec::internal
