// IndexManager: see index_manager.h. Backfill at FT.CREATE is synchronous:
// the event loop indexes every existing key before replying, so FT.INFO
// always shows indexing 0 / percent_indexed 1 and num_docs is exact as soon
// as FT.CREATE returns. A background scan (RediSearch's) would keep the loop
// responsive for huge keyspaces but makes num_docs lag, which LangChain's key
// numbering depends on; see docs/search.md.
//
// Loading a snapshot: saved VECTOR fields are offered before the definition
// is replayed, and the initial scan of that Create adopts them (SearchIndex's
// adoption mode) instead of inserting every vector; on a mismatch the index
// is reset and scanned normally. Offers live in the manager, not in the
// command, so FT.CREATE stays one code path for clients, the AOF and
// snapshots.
#include "search/index_manager.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "common/log.h"
#include "search/errors.h"

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
  Populate(*shared, db, scan);
  std::lock_guard lock(mu_);
  indexes_.emplace(shared->name(), std::move(shared));
  count_.store(indexes_.size());
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

void IndexManager::Populate(SearchIndex& index, store::Db& db, bool scan) {
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
    if (scan) Backfill(index, db);
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
  if (scan) Backfill(index, db);
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
  Backfill(*index, db);
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
    Backfill(*index, index->db() == a ? db_a : db_b);
  }
}

}  // namespace ragkv::search
