// Cursor iteration over a std::unordered_map by bucket (SCAN, HSCAN).
//
// The cursor is (bucket << 6) | tag, where tag = 1 + floor(log2(bucket
// count)) when the cursor was issued; cursors stay far below 2^53, so
// JavaScript clients that parse them as numbers (node-redis) keep them
// exact. Guarantee (Redis's): every element present from the first to the
// last call is returned at least once. libstdc++ tables use prime bucket
// counts, so Redis's reverse-binary cursor trick does not apply; instead,
// when the table has been resized since the cursor was issued (tables only
// grow, and by at least 2x, so the tag changes) the scan restarts at bucket
// 0 of the new table. That returns duplicates (allowed by the SCAN contract)
// but never misses an element. Like Redis's SCAN, a full iteration
// terminates once the collection stops growing; a collection that keeps
// doubling faster than the client scans may never finish, which Redis's
// contract allows. (SWAPDB mid-scan swaps whole tables; if both have the
// same tag the scan continues in the other table, as if it were the same.)
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>

namespace ragkv::store {

inline constexpr int kScanTagBits = 6;

inline uint64_t ScanTag(size_t bucket_count) {
  return static_cast<uint64_t>(std::bit_width(bucket_count));  // 1 + floor(log2), never 0
}

// Visits the elements of roughly `count` elements' worth of buckets starting
// at `cursor` (0 = start), calling fn(element) with the map's value_type. Returns the next cursor,
// 0 when the scan is complete.
template <class Map, class Fn>
uint64_t ScanBuckets(Map& map, uint64_t cursor, size_t count, Fn&& fn) {
  const size_t buckets = map.bucket_count();
  const uint64_t tag = ScanTag(buckets);
  size_t b = 0;
  if (cursor != 0 && (cursor & ((1ULL << kScanTagBits) - 1)) == tag) {
    b = static_cast<size_t>(cursor >> kScanTagBits);
  }
  if (map.empty() || b >= buckets) return 0;
  size_t seen = 0;
  for (; b < buckets && seen < count; ++b) {
    for (auto it = map.begin(b); it != map.end(b); ++it) {
      ++seen;
      fn(*it);
    }
  }
  return b >= buckets ? 0 : (static_cast<uint64_t>(b) << kScanTagBits) | tag;
}

}  // namespace ragkv::store
