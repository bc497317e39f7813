// The keyspace: 16 (configurable) databases of typed values with expiry.
//
// Db is one database: key -> Object, plus an optional absolute expiry time per
// key. Expiry is lazy (Find() deletes a key whose time has passed, as Redis's
// expireIfNeeded) and active (ActiveExpireCycle() samples keys with a TTL, as
// Redis's activeExpireCycle). Time comes from Keyspace::now_ms(), which the
// server sets once per command so a command sees one consistent "now" (Redis
// caches mstime the same way) and tests control time exactly.
//
// Pure data structure: no networking, no RESP. Commands (server/) implement
// Redis semantics on top of these primitives.
//
// Thread safety: none. The server touches the keyspace from its one event-loop
// thread only.
//
// Complexity: Find/Set/Delete/expiry ops O(1) average; Scan O(count) amortized;
// RandomKey O(1) expected.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/object.h"

namespace ragkv::store {

class Keyspace;

class Db {
 public:
  struct Entry {
    Object value;
    int64_t expire_ms = -1;          // absolute unix ms; -1: no TTL
    uint32_t volatile_index = 0;     // position in volatile_keys_ when expire_ms >= 0
  };
  using Map = std::unordered_map<std::string, Entry, StringHash, std::equal_to<>>;

  Db(const Keyspace* keyspace, int index) : keyspace_(keyspace), index_(index) {}
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  int index() const { return index_; }

  // The live value of `key`, or nullptr if absent. An expired key is deleted
  // first (lazy expiry) and reported absent.
  Object* Find(std::string_view key);
  // Like Find but also returns the entry (for TTL access).
  Entry* FindEntry(std::string_view key);

  // Stores `value` under `key`, replacing any old value. The TTL is cleared
  // unless `keep_ttl` and the key existed. Returns the stored object.
  Object& Set(std::string_view key, Object value, bool keep_ttl = false);
  // Inserts `value` only when `key` is absent (after lazy expiry). Returns the
  // object now under key and whether it was inserted.
  std::pair<Object*, bool> Insert(std::string_view key, Object value);

  // Inserts a key known to be absent (the caller just looked it up): one
  // hash probe instead of two. REQUIRES: Find(key) == nullptr.
  Object& InsertNew(std::string_view key, Object value);
  // Removes the TTL of an entry obtained from FindEntry (no second lookup).
  void ClearTtl(Entry& entry) { RemoveVolatile(entry); }

  // Removes `key`; returns whether it existed (expired keys count as absent).
  bool Delete(std::string_view key);
  // Moves the value (and TTL) of `from` to `to`, replacing `to`. REQUIRES:
  // `from` exists. Returns the moved object.
  Object& Rename(std::string_view from, std::string_view to);

  // Expiry. SetExpire REQUIRES the key to exist; `when_ms` is absolute.
  void SetExpire(std::string_view key, int64_t when_ms);
  // Removes the TTL; returns whether there was one.
  bool Persist(std::string_view key);
  // Absolute expiry of a live key, or nullopt if it has no TTL or is absent.
  std::optional<int64_t> GetExpire(std::string_view key);

  size_t size() const { return map_.size(); }
  size_t volatile_size() const { return volatile_keys_.size(); }
  // Sum of expiry times left for INFO keyspace avg_ttl (ms); 0 if none.
  int64_t AverageTtlMs() const;

  // Cursor-based iteration over buckets (SCAN). Calls `fn` for each live key
  // in up to ~`count` elements; returns the next cursor, 0 when done. Keys
  // present for the whole scan are returned at least once; a resize during
  // the scan restarts it, so keys may repeat (store/bucket_scan.h).
  uint64_t Scan(uint64_t cursor, size_t count,
                const std::function<void(const std::string& key, Entry& entry)>& fn);

  // A uniformly random bucket's random key, skipping expired keys; nullopt if
  // empty.
  std::optional<std::string> RandomKey(std::mt19937_64& rng);
  // A random key with a TTL (for volatile eviction), or nullptr.
  const std::string* RandomVolatileKey(std::mt19937_64& rng) const;

  // Samples up to `samples` keys with a TTL and deletes expired ones; repeats
  // while more than a quarter of a sample was expired and the number of
  // checked keys stays under `max_checks`. Returns how many keys expired.
  size_t ActiveExpireCycle(size_t samples, size_t max_checks, std::mt19937_64& rng);

  // Called with each key deleted by expiry (lazy or active), so the server
  // can propagate a DEL and count expired_keys.
  void set_on_expired(std::function<void(int db, std::string_view key)> fn) {
    on_expired_ = std::move(fn);
  }

  void Clear();
  // Exchanges contents (SWAPDB); indexes and callbacks stay.
  void SwapContents(Db& other);

  Map& map() { return map_; }

 private:
  bool ExpireIfNeeded(Map::iterator it);
  void EraseIterator(Map::iterator it);
  void AddVolatile(Map::iterator it);
  void RemoveVolatile(Entry& entry);

  const Keyspace* keyspace_;
  int index_;
  Map map_;
  // Keys with a TTL; entries point at the map's node keys, which stay put
  // across rehashing. Lets active expiry and volatile eviction sample
  // uniformly in O(1).
  std::vector<const std::string*> volatile_keys_;
  std::function<void(int, std::string_view)> on_expired_;
};

class Keyspace {
 public:
  explicit Keyspace(int databases = 16);

  int size() const { return static_cast<int>(dbs_.size()); }
  // REQUIRES: 0 <= index < size().
  Db& db(int index) { return *dbs_[static_cast<size_t>(index)]; }

  // The time commands see; the server sets it before each command.
  int64_t now_ms() const { return now_ms_; }
  void set_now_ms(int64_t now) { now_ms_ = now; }

  size_t TotalKeys() const;
  void FlushAll();
  // REQUIRES: valid indexes.
  void Swap(int a, int b);
  void set_on_expired(const std::function<void(int, std::string_view)>& fn);

 private:
  std::vector<std::unique_ptr<Db>> dbs_;
  int64_t now_ms_ = 0;
};

// Wall clock in unix milliseconds.
int64_t UnixTimeMs();

}  // namespace ragkv::store
