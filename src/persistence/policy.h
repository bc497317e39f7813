// Pure decision functions for when to snapshot and when to rewrite the AOF,
// and the INFO persistence section. No clocks or I/O inside: the server
// passes the times and counters, so every rule is unit-tested exactly.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ragkv::persistence {

// `save <seconds> <changes>`: snapshot when at least `changes` writes happened
// and at least `seconds` passed since the last successful save.
struct SavePoint {
  int64_t seconds = 0;
  int64_t changes = 0;
  bool operator==(const SavePoint&) const = default;
};

// Parses the `save` config value: pairs of positive integers
// ("3600 1 300 100 60 10000"); "" disables snapshots. kInvalidArgument otherwise.
Result<std::vector<SavePoint>> ParseSavePoints(std::string_view config);
std::string FormatSavePoints(std::span<const SavePoint> points);

// How long to wait after a failed BGSAVE before a save point may trigger again
// (Redis's CONFIG_BGSAVE_RETRY_DELAY).
inline constexpr int64_t kSaveRetryDelaySeconds = 5;

struct SaveState {
  int64_t now_s = 0;
  int64_t last_save_s = 0;     // last successful save (or startup)
  int64_t last_attempt_s = 0;  // last attempt, successful or not
  uint64_t dirty = 0;          // writes since the last successful save
  bool last_save_ok = true;
};

// True if some save point is reached. After a failure, waits
// kSaveRetryDelaySeconds since the last attempt. O(points).
bool ShouldSave(std::span<const SavePoint> points, const SaveState& state);

// auto-aof-rewrite-percentage / auto-aof-rewrite-min-size.
struct AutoRewritePolicy {
  int64_t percentage = 100;         // 0 disables automatic rewrites
  uint64_t min_size = 64ull << 20;  // 64 MiB
};

// True if the log reached min_size and grew by `percentage` percent over its
// size after the last rewrite (a base of 0 counts as 1 byte, as in Redis).
bool ShouldRewrite(const AutoRewritePolicy& policy, uint64_t current_size,
                   uint64_t size_at_last_rewrite);

// The fields of INFO persistence that persistence owns (Redis 7 names).
struct PersistenceInfo {
  bool loading = false;
  uint64_t changes_since_last_save = 0;  // rdb_changes_since_last_save
  bool bgsave_in_progress = false;
  int64_t last_save_time = 0;  // Unix seconds
  bool last_bgsave_ok = true;
  int64_t last_bgsave_time_sec = -1;
  int64_t current_bgsave_time_sec = -1;
  uint64_t saves = 0;
  bool aof_enabled = false;
  bool aof_rewrite_in_progress = false;
  bool aof_rewrite_scheduled = false;
  int64_t aof_last_rewrite_time_sec = -1;
  int64_t aof_current_rewrite_time_sec = -1;
  bool aof_last_bgrewrite_ok = true;
  uint64_t aof_rewrites = 0;
  bool aof_last_write_ok = true;
  uint64_t aof_current_size = 0;
  uint64_t aof_base_size = 0;
  uint64_t aof_buffer_length = 0;
  uint64_t aof_fsyncs = 0;  // ragkv extra: fsyncs performed (group commit effectiveness)
  // Copy-on-write sizes in bytes (common/cow_size.h): of the running child
  // (0 when none), and as reported by the last snapshot child (BGSAVE or
  // full sync) and the last AOF rewrite child.
  uint64_t current_cow_size = 0;
  uint64_t rdb_last_cow_size = 0;
  uint64_t aof_last_cow_size = 0;
};

// "# Persistence\r\nloading:0\r\n..." in Redis's field order.
std::string FormatInfoPersistence(const PersistenceInfo& info);

}  // namespace ragkv::persistence
