// Random access into std::unordered_map by bucket: pick a random non-empty
// bucket, then a random element in it. Not perfectly uniform (elements in
// crowded buckets are less likely), like Redis's dictGetFairRandomKey's
// cheaper sibling; fine for HRANDFIELD/ZRANDMEMBER/RANDOMKEY. O(1) expected
// at the standard load factor.
#pragma once

#include <iterator>
#include <random>

namespace ragkv::server {

// REQUIRES: !map.empty().
template <class Map>
const typename Map::value_type& RandomElement(const Map& map, std::mt19937_64& rng) {
  size_t buckets = map.bucket_count();
  size_t b = rng() % buckets;
  while (map.bucket_size(b) == 0) b = (b + 1) % buckets;
  auto it = map.begin(b);
  std::advance(it, static_cast<long>(rng() % map.bucket_size(b)));
  return *it;
}

}  // namespace ragkv::server
