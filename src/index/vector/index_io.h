// Header, checksum and file plumbing of the vector index file format
// (docs/formats/vector_index.md); the bodies live with each index (internal).
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "index/vector/serial.h"
#include "index/vector/vector_index.h"

namespace ragkv::vec::internal {

void WriteHeader(const IndexSpec& spec, ByteWriter* w);
// Parses and validates the 64-byte header.
Result<IndexSpec> ReadHeader(ByteReader& in);

// Appends the crc32c footer and writes path.tmp, fsync, rename. kIOError on failure.
Status WriteFileWithChecksum(const std::string& path, ByteWriter* w);

// Reads the whole file and verifies the footer; returns the bytes before it.
Result<std::vector<uint8_t>> ReadFileVerified(const std::string& path);

}  // namespace ragkv::vec::internal
