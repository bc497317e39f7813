// Object: a typed value in the keyspace (string, hash or sorted set).
//
// Strings are std::string (binary safe). Hashes own an unordered_map with
// heterogeneous lookup so commands can probe with string_views from the
// request without allocating. Sorted sets are added with the AVL module.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>

#include "index/avl/sorted_set.h"

namespace ragkv::store {

// Serialized in snapshots later: explicit numbers, never reused.
enum class ValueType : uint8_t { kString = 0, kHash = 1, kZSet = 2 };

// Redis's TYPE names: "string", "hash", "zset".
std::string_view TypeName(ValueType type);

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

using HashMap = std::unordered_map<std::string, std::string, StringHash, std::equal_to<>>;

class Object {
 public:
  explicit Object(std::string s) : value_(std::move(s)) {}
  explicit Object(std::unique_ptr<HashMap> h) : value_(std::move(h)) {}
  explicit Object(std::unique_ptr<avl::SortedSet> z) : value_(std::move(z)) {}

  static Object NewHash() { return Object(std::make_unique<HashMap>()); }
  static Object NewZSet() { return Object(std::make_unique<avl::SortedSet>()); }

  ValueType type() const { return static_cast<ValueType>(value_.index()); }

  // REQUIRES: the matching type().
  std::string& str() { return std::get<std::string>(value_); }
  const std::string& str() const { return std::get<std::string>(value_); }
  HashMap& hash() { return *std::get<std::unique_ptr<HashMap>>(value_); }
  const HashMap& hash() const { return *std::get<std::unique_ptr<HashMap>>(value_); }
  avl::SortedSet& zset() { return *std::get<std::unique_ptr<avl::SortedSet>>(value_); }
  const avl::SortedSet& zset() const { return *std::get<std::unique_ptr<avl::SortedSet>>(value_); }

  // Deep copy (COPY command).
  Object Clone() const;

  // Redis turns a string into its "raw" encoding once it is modified in place
  // (APPEND, SETRANGE); tracked only so OBJECT ENCODING answers the same.
  bool raw_string() const { return raw_string_; }
  void set_raw_string(bool raw) { raw_string_ = raw; }

  // LRU clock in seconds (24 bits would do; Redis's shape), for eviction and
  // OBJECT IDLETIME/FREQ.
  uint32_t lru() const { return lru_; }
  void set_lru(uint32_t lru) { lru_ = lru; }

 private:
  // Index order matches ValueType.
  std::variant<std::string, std::unique_ptr<HashMap>, std::unique_ptr<avl::SortedSet>> value_;
  uint32_t lru_ = 0;
  bool raw_string_ = false;
};

}  // namespace ragkv::store
