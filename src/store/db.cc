// Db: std::unordered_map keyed by std::string with heterogeneous lookup, the
// TTL stored in the entry (one probe answers "value and is it expired?"), and
// a vector of pointers to the keys that have a TTL for O(1) uniform sampling.
//
// Rejected: Redis's separate expires dict (a second probe on every access to
// a volatile key) and a min-heap of deadlines (exact, but O(log n) per TTL
// change and needs erase-by-key bookkeeping; sampling is what Redis does and
// is good enough). SCAN walks buckets; see db.h for the growth caveat.
#include "store/db.h"

#include "store/bucket_scan.h"

#include <chrono>

namespace ragkv::store {

std::string_view TypeName(ValueType type) {
  switch (type) {
    case ValueType::kString: return "string";
    case ValueType::kHash: return "hash";
    case ValueType::kZSet: return "zset";
  }
  return "none";
}

Object Object::Clone() const {
  switch (type()) {
    case ValueType::kString: {
      Object o(str());
      o.lru_ = lru_;
      o.raw_string_ = raw_string_;
      return o;
    }
    case ValueType::kHash: {
      Object o(std::make_unique<HashMap>(hash()));
      o.lru_ = lru_;
      return o;
    }
    case ValueType::kZSet:
    default: {
      Object o(std::make_unique<avl::SortedSet>(zset()));
      o.lru_ = lru_;
      return o;
    }
  }
}

int64_t UnixTimeMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Db::ExpireIfNeeded(Map::iterator it) {
  const Entry& e = it->second;
  if (e.expire_ms < 0 || e.expire_ms > keyspace_->now_ms()) return false;
  std::string key = it->first;
  EraseIterator(it);
  if (on_expired_) on_expired_(index_, key);
  return true;
}

void Db::EraseIterator(Map::iterator it) {
  RemoveVolatile(it->second);
  map_.erase(it);
}

void Db::AddVolatile(Map::iterator it) {
  it->second.volatile_index = static_cast<uint32_t>(volatile_keys_.size());
  volatile_keys_.push_back(&it->first);
}

void Db::RemoveVolatile(Entry& entry) {
  if (entry.expire_ms < 0) return;
  uint32_t idx = entry.volatile_index;
  const std::string* last = volatile_keys_.back();
  volatile_keys_[idx] = last;
  volatile_keys_.pop_back();
  if (idx < volatile_keys_.size()) {
    map_.find(*last)->second.volatile_index = idx;
  }
  entry.expire_ms = -1;
}

Db::Entry* Db::FindEntry(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  if (ExpireIfNeeded(it)) return nullptr;
  it->second.value.set_lru(static_cast<uint32_t>(keyspace_->now_ms() / 1000));
  return &it->second;
}

Object* Db::Find(std::string_view key) {
  Entry* e = FindEntry(key);
  return e ? &e->value : nullptr;
}

Object& Db::Set(std::string_view key, Object value, bool keep_ttl) {
  auto it = map_.find(key);
  if (it != map_.end() && !ExpireIfNeeded(it)) {
    it->second.value = std::move(value);
    if (!keep_ttl) RemoveVolatile(it->second);
    return it->second.value;
  }
  auto [ins, inserted] = map_.emplace(std::string(key), Entry{std::move(value)});
  (void)inserted;
  return ins->second.value;
}

Object& Db::InsertNew(std::string_view key, Object value) {
  return map_.emplace(std::string(key), Entry{std::move(value)}).first->second.value;
}

std::pair<Object*, bool> Db::Insert(std::string_view key, Object value) {
  auto it = map_.find(key);
  if (it != map_.end() && !ExpireIfNeeded(it)) return {&it->second.value, false};
  auto [ins, inserted] = map_.emplace(std::string(key), Entry{std::move(value)});
  (void)inserted;
  return {&ins->second.value, true};
}

bool Db::Delete(std::string_view key) {
  auto it = map_.find(key);
  if (it == map_.end() || ExpireIfNeeded(it)) return false;
  EraseIterator(it);
  return true;
}

Object& Db::Rename(std::string_view from, std::string_view to) {
  auto it = map_.find(from);
  Object value = std::move(it->second.value);
  int64_t expire = it->second.expire_ms;
  EraseIterator(it);
  Object& stored = Set(to, std::move(value));
  if (expire >= 0) SetExpire(to, expire);
  return stored;
}

void Db::SetExpire(std::string_view key, int64_t when_ms) {
  auto it = map_.find(key);
  if (it == map_.end()) return;
  if (it->second.expire_ms < 0) AddVolatile(it);
  it->second.expire_ms = when_ms;
}

bool Db::Persist(std::string_view key) {
  Entry* e = FindEntry(key);
  if (e == nullptr || e->expire_ms < 0) return false;
  RemoveVolatile(*e);
  return true;
}

std::optional<int64_t> Db::GetExpire(std::string_view key) {
  Entry* e = FindEntry(key);
  if (e == nullptr || e->expire_ms < 0) return std::nullopt;
  return e->expire_ms;
}

int64_t Db::AverageTtlMs() const {
  if (volatile_keys_.empty()) return 0;
  // Exact average over a bounded sample keeps INFO O(1)-ish on huge dbs.
  size_t n = std::min<size_t>(volatile_keys_.size(), 64);
  int64_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    auto it = map_.find(*volatile_keys_[i]);
    sum += std::max<int64_t>(0, it->second.expire_ms - keyspace_->now_ms());
  }
  return sum / static_cast<int64_t>(n);
}

uint64_t Db::Scan(uint64_t cursor, size_t count,
                  const std::function<void(const std::string&, Entry&)>& fn) {
  const int64_t now = keyspace_->now_ms();
  return ScanBuckets(map_, cursor, count, [&](Map::value_type& kv) {
    if (kv.second.expire_ms >= 0 && kv.second.expire_ms <= now) return;  // logically gone
    fn(kv.first, kv.second);
  });
}

std::optional<std::string> Db::RandomKey(std::mt19937_64& rng) {
  for (int attempt = 0; attempt < 100 && !map_.empty(); ++attempt) {
    size_t buckets = map_.bucket_count();
    size_t b = rng() % buckets;
    // Sparse tables: walk forward to the next non-empty bucket.
    size_t probes = 0;
    while (map_.bucket_size(b) == 0 && probes++ < buckets) b = (b + 1) % buckets;
    size_t k = rng() % map_.bucket_size(b);
    auto it = map_.begin(b);
    std::advance(it, static_cast<long>(k));
    const Entry& e = it->second;
    if (e.expire_ms >= 0 && e.expire_ms <= keyspace_->now_ms()) {
      std::string key = it->first;
      Delete(key);  // lazy expiry of the sampled key
      continue;
    }
    return it->first;
  }
  return std::nullopt;
}

const std::string* Db::RandomVolatileKey(std::mt19937_64& rng) const {
  if (volatile_keys_.empty()) return nullptr;
  return volatile_keys_[rng() % volatile_keys_.size()];
}

size_t Db::ActiveExpireCycle(size_t samples, size_t max_checks, std::mt19937_64& rng) {
  size_t expired_total = 0;
  size_t checked = 0;
  const int64_t now = keyspace_->now_ms();
  while (!volatile_keys_.empty() && checked < max_checks) {
    size_t n = std::min(samples, volatile_keys_.size());
    size_t expired = 0;
    for (size_t i = 0; i < n && !volatile_keys_.empty(); ++i) {
      const std::string* key = volatile_keys_[rng() % volatile_keys_.size()];
      auto it = map_.find(*key);
      ++checked;
      if (it->second.expire_ms <= now) {
        std::string copy = it->first;
        EraseIterator(it);
        if (on_expired_) on_expired_(index_, copy);
        ++expired;
      }
    }
    expired_total += expired;
    if (expired * 4 <= n) break;
  }
  return expired_total;
}

void Db::Clear() {
  map_.clear();
  volatile_keys_.clear();
}

void Db::SwapContents(Db& other) {
  map_.swap(other.map_);
  volatile_keys_.swap(other.volatile_keys_);
}

Keyspace::Keyspace(int databases) {
  for (int i = 0; i < databases; ++i) dbs_.push_back(std::make_unique<Db>(this, i));
  now_ms_ = UnixTimeMs();
}

size_t Keyspace::TotalKeys() const {
  size_t n = 0;
  for (const auto& db : dbs_) n += db->size();
  return n;
}

void Keyspace::FlushAll() {
  for (auto& db : dbs_) db->Clear();
}

void Keyspace::Swap(int a, int b) { dbs_[static_cast<size_t>(a)]->SwapContents(*dbs_[static_cast<size_t>(b)]); }

void Keyspace::set_on_expired(const std::function<void(int, std::string_view)>& fn) {
  for (auto& db : dbs_) db->set_on_expired(fn);
}

}  // namespace ragkv::store
