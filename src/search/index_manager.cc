// IndexManager: see index_manager.h.
//
// Backfill. A serving server scans in the background, as RediSearch does: a
// synchronous scan of a million hashes with HNSW vectors keeps the event loop
// busy for minutes. The scan is store::Db::Scan's bucket cursor (the one SCAN
// uses), so it needs no copy of the key list and survives any write between
// slices: keys present for the whole scan are visited at least once, a
// rehash restarts it (visiting keys twice, which re-indexing tolerates), and
// keys written meanwhile are indexed by SyncKey anyway. Rejected: copying
// the matching keys up front (O(n) memory and a pause of its own), and a
// snapshot-isolated scan (the keyspace is not versioned).
//
// Each command that starts a backfill first runs an inline slice, so a db of
// a few hundred keys is complete before the reply and num_docs is exact
// (LangChain numbers new keys from num_docs right after FT.CREATE).
//
// Loading a snapshot: saved VECTOR fields are offered before the definition
// is replayed, and the initial scan of that Create adopts them (SearchIndex's
// adoption mode) instead of inserting every vector; on a mismatch the index
// is reset and scanned normally. Offers live in the manager, not in the
// command, so FT.CREATE stays one code path for clients, the AOF and
// snapshots. Loading is synchronous, so adoption never meets a background
// scan.
#include "search/index_manager.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "common/log.h"
#include "search/errors.h"
#include "store/bucket_scan.h"

namespace ragkv::search {

const store::HashMap* PeekHash(store::Db& db, std::string_view key, int64_t now_ms) {
  auto it = db.map().find(key);
  if (it == db.map().end()) return nullptr;
  const store::Db::Entry& e = it->second;
  if (e.expire_ms >= 0 && e.expire_ms <= now_ms) return nullptr;
  if (e.value.type() != store::ValueType::kHash) return nullptr;
  return &e.value.hash();
}

void IndexManager::Backfill(SearchIndex& index, store::Db& db) {
  for (auto& [key, entry] : db.map()) {
    if (entry.value.type() != store::ValueType::kHash) continue;
    if (!KeyMatches(index.schema(), key)) continue;
    index.Upsert(key, entry.value.hash());
  }
}

void IndexManager::StartBackfill(const std::shared_ptr<SearchIndex>& index, store::Db& db) {
  auto it = std::find_if(backfills_.begin(), backfills_.end(),
                         [&](const BackfillJob& j) { return j.index == index; });
  if (backfill_mode_ == BackfillMode::kSynchronous) {
    if (it != backfills_.end()) backfills_.erase(it);
    Backfill(*index, db);
    return;
  }
  if (it == backfills_.end()) {
    backfills_.push_back(BackfillJob{index, &db, 0});
    it = backfills_.end() - 1;
  } else {
    *it = BackfillJob{index, &db, 0};  // restart: earlier progress is stale
  }
  bool done = false;
  RunJob(*it, BackfillBudget{std::chrono::steady_clock::now() + inline_slice_, inline_max_keys_},
         &done);
  if (done) backfills_.erase(it);
}

size_t IndexManager::RunJob(BackfillJob& job, const BackfillBudget& budget, bool* done) {
  SearchIndex& index = *job.index;
  const IndexSchema& schema = index.schema();
  size_t visited = 0;
  *done = false;
  // One bucket per Scan call (about one key at load factor <= 1), so the
  // budget is checked between keys: a single HNSW insert can take ~0.5 ms.
  do {
    job.cursor = job.db->Scan(job.cursor, 1, [&](const std::string& key, store::Db::Entry& e) {
      ++visited;
      if (e.value.type() == store::ValueType::kHash && KeyMatches(schema, key)) {
        index.Upsert(key, e.value.hash());
      }
    });
    if (job.cursor == 0) {
      *done = true;
      break;
    }
  } while (visited < budget.max_keys && std::chrono::steady_clock::now() < budget.deadline);
  return visited;
}

size_t IndexManager::BackfillStep(const BackfillBudget& budget) {
  size_t visited = 0;
  while (!backfills_.empty() && visited < budget.max_keys) {
    BackfillBudget rest = budget;
    rest.max_keys = budget.max_keys - visited;
    bool done = false;
    visited += RunJob(backfills_.front(), rest, &done);
    if (!done) break;
    backfills_.erase(backfills_.begin());
    if (std::chrono::steady_clock::now() >= budget.deadline) break;
  }
  return visited;
}

std::optional<double> IndexManager::BackfillProgress(std::string_view name) const {
  for (const BackfillJob& job : backfills_) {
    if (job.index->name() != name) continue;
    const size_t buckets = job.db->map().bucket_count();
    const uint64_t tag = job.cursor & ((uint64_t{1} << store::kScanTagBits) - 1);
    if (job.cursor == 0 || buckets == 0 || tag != store::ScanTag(buckets)) return 0.0;
    const double bucket = static_cast<double>(job.cursor >> store::kScanTagBits);
    return std::min(bucket / static_cast<double>(buckets), 0.999);
  }
  return std::nullopt;
}

Status IndexManager::Create(IndexSchema schema, int db_index, store::Db& db) {
  {
    std::lock_guard lock(mu_);
    if (indexes_.count(schema.name) != 0) return Status::InvalidArgument(errors::kIndexAlreadyExists);
  }
  if (schema.on != KeyType::kHash) {
    return Status::InvalidArgument("JSON indexes are not supported (ON HASH only)");
  }
  const bool scan = !schema.skip_initial_scan;
  auto index = SearchIndex::Create(std::move(schema), db_index);
  if (!index.ok()) return index.status();
  std::shared_ptr<SearchIndex> shared = std::move(*index);
  {
    std::lock_guard lock(mu_);
    indexes_.emplace(shared->name(), shared);
    count_.store(indexes_.size());
  }
  Populate(shared, db, scan);
  return Status::Ok();
}

Status IndexManager::Adopt(SearchIndex& index, std::vector<SavedVectorField> saved,
                           store::Db& db, bool scan) {
  std::vector<std::string> members;  // SKIPINITIALSCAN: the saved documents
  if (!scan) {
    for (const auto& [id, key] : saved.front().docs) members.push_back(key);
  }
  RAGKV_RETURN_IF_ERROR(index.BeginAdoption(std::move(saved)));
  if (scan) {
    Backfill(index, db);
  } else {
    for (const std::string& key : members) {
      auto it = db.map().find(key);
      if (it == db.map().end() || it->second.value.type() != store::ValueType::kHash ||
          !KeyMatches(index.schema(), key)) {
        continue;  // FinishAdoption reports the missing document
      }
      index.Upsert(key, it->second.value.hash());
    }
  }
  return index.FinishAdoption();
}

void IndexManager::Populate(const std::shared_ptr<SearchIndex>& shared, store::Db& db,
                            bool scan) {
  SearchIndex& index = *shared;
  std::vector<SavedVectorField> saved;
  {
    std::lock_guard lock(mu_);
    auto mine = std::stable_partition(offers_.begin(), offers_.end(), [&](const auto& o) {
      return o.index_name != index.name() || o.db != index.db();
    });
    std::move(mine, offers_.end(), std::back_inserter(saved));
    offers_.erase(mine, offers_.end());
  }
  // A saved field the new index does not have yet (a VECTOR field that a
  // later FT.ALTER adds) is dropped: that FT.ALTER's re-scan builds it.
  for (auto it = saved.begin(); it != saved.end();) {
    if (index.schema().FindField(it->attribute) != nullptr) {
      ++it;
      continue;
    }
    log::Info("Index " + index.name() + ": saved vector field " + it->attribute +
              " is not in FT.CREATE's schema; it is rebuilt when FT.ALTER adds it");
    it = saved.erase(it);
    CountRejectedSavedVector();
  }
  if (saved.empty()) {
    if (scan) StartBackfill(shared, db);
    return;
  }
  const uint64_t fields = saved.size();
  const auto start = std::chrono::steady_clock::now();
  Status s = Adopt(index, std::move(saved), db, scan);
  {
    std::lock_guard lock(mu_);
    (s.ok() ? saved_stats_.adopted : saved_stats_.rejected) += fields;
  }
  if (s.ok()) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - start)
                        .count();
    log::Info("Index " + index.name() + ": adopted " + std::to_string(fields) +
              " saved vector field(s), " + std::to_string(index.size()) + " documents in " +
              std::to_string(ms) + " ms");
    return;
  }
  log::Warn("Saved vector index not used, rebuilding it from the keyspace: " +
            std::string(s.message()));
  if (scan) StartBackfill(shared, db);
}

IndexManager::SavedVectorStats IndexManager::saved_vector_stats() const {
  std::lock_guard lock(mu_);
  return saved_stats_;
}

void IndexManager::CountRejectedSavedVector() {
  std::lock_guard lock(mu_);
  ++saved_stats_.rejected;
}

void IndexManager::OfferSavedVectorField(SavedVectorField saved) {
  std::lock_guard lock(mu_);
  offers_.push_back(std::move(saved));
}

std::vector<std::string> IndexManager::DiscardSavedVectorOffers() {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& o : offers_) names.push_back(o.index_name + "/" + o.attribute);
  saved_stats_.rejected += offers_.size();
  offers_.clear();
  return names;
}

bool IndexManager::Drop(std::string_view name) {
  std::lock_guard lock(mu_);
  auto it = indexes_.find(name);
  if (it == indexes_.end()) return false;
  std::erase_if(backfills_, [&](const BackfillJob& j) { return j.index == it->second; });
  indexes_.erase(it);
  commands_.erase(std::string(name));
  count_.store(indexes_.size());
  return true;
}

void IndexManager::RecordCommand(std::string_view name, std::span<const std::string_view> argv) {
  std::lock_guard lock(mu_);
  auto& commands = commands_[std::string(name)];
  commands.emplace_back(argv.begin(), argv.end());
}

std::vector<IndexDefinition> IndexManager::Definitions() const {
  std::lock_guard lock(mu_);
  std::vector<IndexDefinition> out;
  for (const auto& [name, index] : indexes_) {
    auto it = commands_.find(name);
    if (it == commands_.end()) continue;
    out.push_back(IndexDefinition{name, index->db(), it->second});
  }
  return out;
}

std::shared_ptr<SearchIndex> IndexManager::Find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = indexes_.find(name);
  return it == indexes_.end() ? nullptr : it->second;
}

std::vector<std::string> IndexManager::Names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& [name, index] : indexes_) names.push_back(name);
  return names;
}

Status IndexManager::AddFields(std::string_view name, std::vector<FieldSpec> fields,
                               store::Db& db) {
  auto index = Find(name);
  if (index == nullptr) return Status::NotFound(errors::kUnknownIndexName);
  RAGKV_RETURN_IF_ERROR(index->AddFields(std::move(fields)));
  StartBackfill(index, db);
  return Status::Ok();
}

void IndexManager::SyncKey(int db_index, store::Db& db, std::string_view key, int64_t now_ms) {
  std::vector<std::shared_ptr<SearchIndex>> targets;
  {
    std::lock_guard lock(mu_);
    if (indexes_.empty()) return;
    for (const auto& [name, index] : indexes_) {
      if (index->db() == db_index && KeyMatches(index->schema(), key)) targets.push_back(index);
    }
  }
  if (targets.empty()) return;
  const store::HashMap* hash = PeekHash(db, key, now_ms);
  for (const auto& index : targets) {
    if (hash != nullptr) {
      index->Upsert(key, *hash);
    } else {
      index->Remove(key);
    }
  }
}

void IndexManager::OnFlush(int db_index) {
  // A flushed db has nothing left to backfill: later keys arrive by SyncKey.
  std::erase_if(backfills_, [&](const BackfillJob& j) {
    return db_index < 0 || j.index->db() == db_index;
  });
  std::lock_guard lock(mu_);
  for (const auto& [name, index] : indexes_) {
    if (db_index < 0 || index->db() == db_index) index->Clear();
  }
}

void IndexManager::OnSwap(int a, store::Db& db_a, int b, store::Db& db_b) {
  std::vector<std::shared_ptr<SearchIndex>> targets;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, index] : indexes_) {
      if (index->db() == a || index->db() == b) targets.push_back(index);
    }
  }
  for (const auto& index : targets) {
    index->Clear();
    StartBackfill(index, index->db() == a ? db_a : db_b);
  }
}

}  // namespace ragkv::search
