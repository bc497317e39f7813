// CRC-32C (Castagnoli), the checksum of every on-disk record and file footer
// in ragkv. Uses the SSE4.2 crc32 instruction when the CPU has it, a
// slicing table otherwise; both give identical results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ragkv::crc32c {

// Returns the CRC-32C of data[0, n) continuing from `init` (0 to start).
uint32_t Extend(uint32_t init, const void* data, size_t n);
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }
inline uint32_t Value(std::string_view s) { return Extend(0, s.data(), s.size()); }

}  // namespace ragkv::crc32c
