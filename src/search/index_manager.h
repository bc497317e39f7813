// IndexManager: the FT indexes of one server, and the bridge from keyspace
// changes to index updates.
//
// The server reports every key a write touched (SyncKey), and whole-db events
// (flush, swap); the manager re-reads the key from the keyspace and upserts
// or removes it in each index of that db whose prefixes match. Re-reading
// instead of interpreting each command keeps one code path for HSET, HDEL,
// DEL, UNLINK, EXPIRE (expired keys arrive as DEL), RENAME, MOVE, COPY,
// RESTORE and anything added later.
//
// Initial indexing (backfill) of the keys already in the db, after FT.CREATE,
// FT.ALTER SCHEMA ADD or SWAPDB, runs in one of two modes:
//   - kSynchronous: the whole scan before the command returns. Used while
//     loading (snapshot, AOF, replication full sync: nobody is being served
//     yet, and one tight loop is the fastest way) and by in-process callers.
//   - kBackground (a serving server): the command indexes one slice inline,
//     so a small db is complete before the reply, and the rest is done by
//     BackfillStep, called by the engine between client events in slices of
//     ~1 ms. The scan is a resumable SCAN cursor over the db's hash table.
//     Writes keep reaching SyncKey meanwhile; re-reading a key is idempotent,
//     so a key written during the scan is at worst indexed twice, and a key
//     deleted before the cursor reaches it is never indexed.
//
// Thread safety: the mutating methods (Create, Drop, Sync*, On*, Backfill*)
// are called from the thread that owns the keyspace. Find/Names may be called
// from any thread; indexes are shared_ptr so a search on a worker keeps a
// dropped index alive until it finishes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "search/search_index.h"
#include "store/db.h"

namespace ragkv::search {

// The commands that recreate an index, as they were accepted: FT.CREATE, then
// each FT.ALTER. Snapshots store these (not the index structures), and loading
// replays them over the loaded keyspace, which rebuilds the index
// (docs/formats/snapshot.md, "Search indexes").
struct IndexDefinition {
  std::string name;
  int db = 0;
  std::vector<std::vector<std::string>> commands;
};

// Engine-wide FT.CONFIG values.
struct SearchConfig {
  uint64_t max_search_results = 1000000;  // MAXSEARCHRESULTS: LIMIT cap
  uint64_t max_aggregate_results = 1000000;
  uint64_t timeout_ms = 500;  // TIMEOUT: a query's default budget; 0 = none
  bool on_timeout_fail = false;  // ON_TIMEOUT FAIL (error) vs RETURN (partial)
  int64_t default_dialect = 1;
};

enum class BackfillMode : uint8_t { kSynchronous, kBackground };

// How much one backfill slice may do: it stops at whichever limit comes
// first. The time limit is checked after every key.
struct BackfillBudget {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  size_t max_keys = SIZE_MAX;  // keys visited (matching or not)

  static BackfillBudget For(std::chrono::microseconds slice) {
    return {std::chrono::steady_clock::now() + slice, SIZE_MAX};
  }
};

class IndexManager {
 public:
  // Creates `def` over db `db_index` and indexes the existing keys of `db`
  // (unless SKIPINITIALSCAN) as backfill_mode() says. kInvalidArgument
  // "Index already exists", or a schema error.
  Status Create(IndexSchema schema, int db_index, store::Db& db);
  // Removes an index (and its pending backfill); false if unknown.
  bool Drop(std::string_view name);
  std::shared_ptr<SearchIndex> Find(std::string_view name) const;
  std::vector<std::string> Names() const;
  // Appends an accepted FT.CREATE/FT.ALTER argv to the definition of index
  // `name` (which must exist); Drop forgets it.
  void RecordCommand(std::string_view name, std::span<const std::string_view> argv);
  // Every index's definition, by name. Copies, so the result may be handed to
  // a forked child without the lock.
  std::vector<IndexDefinition> Definitions() const;

  // Snapshot loading (search/vector_snapshot.h): a saved VECTOR field that
  // the next Create of index `saved.index_name` over db `saved.db` adopts
  // instead of inserting every vector, if it matches the keyspace; otherwise
  // that Create logs a warning naming the index and field and rebuilds. An
  // index created with SKIPINITIALSCAN re-indexes exactly the saved
  // documents. Offers are consumed by that Create, adopted or not.
  void OfferSavedVectorField(SavedVectorField saved);
  // Drops offers no Create consumed; returns "index/field" of each.
  std::vector<std::string> DiscardSavedVectorOffers();
  // Saved VECTOR fields adopted, and rejected (by Create's checks, or counted
  // here by a loader that could not decode one), since startup.
  struct SavedVectorStats {
    uint64_t adopted = 0;
    uint64_t rejected = 0;
  };
  SavedVectorStats saved_vector_stats() const;
  void CountRejectedSavedVector();

  // Cheap check for the write hook's fast path.
  bool has_indexes() const { return count_.load(std::memory_order_relaxed) > 0; }

  // FT.ALTER SCHEMA ADD: adds fields and re-indexes the db's matching keys.
  Status AddFields(std::string_view name, std::vector<FieldSpec> fields, store::Db& db);

  // Re-reads `key` in `db` (as live at `now_ms`) and updates every index over
  // that db whose prefixes match.
  void SyncKey(int db_index, store::Db& db, std::string_view key, int64_t now_ms);
  // FLUSHDB (db_index >= 0) / FLUSHALL (-1).
  void OnFlush(int db_index);
  // SWAPDB a b: indexes over either db are rebuilt from their db's new data.
  void OnSwap(int a, store::Db& db_a, int b, store::Db& db_b);

  SearchConfig& config() { return config_; }

  // Background backfill. The mode applies to backfills started later; the
  // default is kSynchronous. The inline limits bound the part of a backfill
  // that the starting command does before it replies in kBackground mode
  // (default 1 ms, any number of keys; tests shrink it to stay
  // deterministic).
  void set_backfill_mode(BackfillMode mode) { backfill_mode_ = mode; }
  BackfillMode backfill_mode() const { return backfill_mode_; }
  void set_inline_limits(std::chrono::microseconds slice, size_t max_keys) {
    inline_slice_ = slice;
    inline_max_keys_ = max_keys;
  }
  // True while some index has keys left to backfill.
  bool backfilling() const { return !backfills_.empty(); }
  // Advances the pending backfills (oldest first) within `budget`. Returns
  // the number of keys visited. O(keys visited + empty buckets skipped).
  size_t BackfillStep(const BackfillBudget& budget);
  // The fraction of index `name`'s backfill scan done, in [0, 1), while one
  // is pending; nullopt when it is complete (or the index is unknown). A
  // rehash of the db during the scan restarts it, so the fraction can drop.
  std::optional<double> BackfillProgress(std::string_view name) const;

 private:
  // A pending background scan of one index's db.
  struct BackfillJob {
    std::shared_ptr<SearchIndex> index;
    store::Db* db = nullptr;
    uint64_t cursor = 0;  // store::Db::Scan cursor; 0 = not started
  };

  static void Backfill(SearchIndex& index, store::Db& db);
  // Backfills `index` over `db` per the mode: all now, or queues a job (one
  // started earlier for the same index restarts) and runs an inline slice.
  void StartBackfill(const std::shared_ptr<SearchIndex>& index, store::Db& db);
  // Runs `job` within `budget`; returns keys visited and sets *done.
  static size_t RunJob(BackfillJob& job, const BackfillBudget& budget, bool* done);
  // The initial indexing of a new index: adopts offered saved vector fields
  // (falling back to Backfill), else Backfill unless SKIPINITIALSCAN.
  void Populate(const std::shared_ptr<SearchIndex>& index, store::Db& db, bool scan);
  // Adoption around the initial scan (or, for SKIPINITIALSCAN, a pass over
  // the saved documents); non-OK leaves the index empty.
  static Status Adopt(SearchIndex& index, std::vector<SavedVectorField> saved, store::Db& db,
                      bool scan);

  mutable std::mutex mu_;  // guards the map (not the indexes)
  std::map<std::string, std::shared_ptr<SearchIndex>, std::less<>> indexes_;
  std::map<std::string, std::vector<std::vector<std::string>>, std::less<>> commands_;
  std::atomic<size_t> count_{0};
  std::vector<SavedVectorField> offers_;  // guarded by mu_
  SavedVectorStats saved_stats_;          // guarded by mu_
  SearchConfig config_;
  BackfillMode backfill_mode_ = BackfillMode::kSynchronous;
  // Owner thread only. Oldest first; at most one job per index.
  std::vector<BackfillJob> backfills_;
  // The inline slice: short enough that FT.CREATE's reply is not delayed
  // noticeably, long enough to finish a small db (a few hundred keys).
  std::chrono::microseconds inline_slice_{1000};
  size_t inline_max_keys_ = SIZE_MAX;
};

// The hash under `key` if it is live and a hash; nullptr otherwise. Does not
// delete expired keys (safe inside expiry callbacks).
const store::HashMap* PeekHash(store::Db& db, std::string_view key, int64_t now_ms);

}  // namespace ragkv::search
