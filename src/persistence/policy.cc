// Save-point and auto-rewrite rules, and INFO persistence formatting. The
// rules are Redis's (serverCron in server.c), restated as pure functions.
#include "persistence/policy.h"

#include <charconv>
#include <sstream>

namespace ragkv::persistence {

Result<std::vector<SavePoint>> ParseSavePoints(std::string_view config) {
  std::vector<int64_t> numbers;
  std::istringstream in{std::string(config)};
  std::string token;
  while (in >> token) {
    if (token == "\"\"") continue;  // `save ""` from a config file
    int64_t v = 0;
    auto res = std::from_chars(token.data(), token.data() + token.size(), v);
    if (res.ec != std::errc() || res.ptr != token.data() + token.size() || v <= 0) {
      return Status::InvalidArgument("Invalid save parameters: '" + token +
                                     "' is not a positive integer");
    }
    numbers.push_back(v);
  }
  if (numbers.size() % 2 != 0) {
    return Status::InvalidArgument("Invalid save parameters: expected <seconds> <changes> pairs");
  }
  std::vector<SavePoint> points;
  for (size_t i = 0; i < numbers.size(); i += 2) points.push_back({numbers[i], numbers[i + 1]});
  return points;
}

std::string FormatSavePoints(std::span<const SavePoint> points) {
  std::string out;
  for (const auto& p : points) {
    if (!out.empty()) out += ' ';
    out += std::to_string(p.seconds) + ' ' + std::to_string(p.changes);
  }
  return out;
}

bool ShouldSave(std::span<const SavePoint> points, const SaveState& s) {
  if (!s.last_save_ok && s.now_s - s.last_attempt_s < kSaveRetryDelaySeconds) return false;
  for (const auto& p : points) {
    if (s.dirty >= static_cast<uint64_t>(p.changes) && s.now_s - s.last_save_s >= p.seconds) {
      return true;
    }
  }
  return false;
}

bool ShouldRewrite(const AutoRewritePolicy& policy, uint64_t current_size,
                   uint64_t size_at_last_rewrite) {
  if (policy.percentage <= 0 || current_size < policy.min_size) return false;
  const uint64_t base = size_at_last_rewrite == 0 ? 1 : size_at_last_rewrite;
  if (current_size <= base) return false;
  // Growth in percent, computed without overflow for sizes near 2^64.
  const long double growth = (static_cast<long double>(current_size - base) * 100.0L) / base;
  return growth >= static_cast<long double>(policy.percentage);
}

std::string FormatInfoPersistence(const PersistenceInfo& i) {
  std::string out = "# Persistence\r\n";
  auto add = [&](std::string_view k, const std::string& v) {
    out.append(k);
    out += ':';
    out += v;
    out += "\r\n";
  };
  auto num = [](auto v) { return std::to_string(v); };
  auto okerr = [](bool ok) { return std::string(ok ? "ok" : "err"); };
  add("loading", num(i.loading ? 1 : 0));
  add("async_loading", "0");
  add("current_cow_size", num(i.current_cow_size));
  add("rdb_changes_since_last_save", num(i.changes_since_last_save));
  add("rdb_bgsave_in_progress", num(i.bgsave_in_progress ? 1 : 0));
  add("rdb_last_save_time", num(i.last_save_time));
  add("rdb_last_bgsave_status", okerr(i.last_bgsave_ok));
  add("rdb_last_bgsave_time_sec", num(i.last_bgsave_time_sec));
  add("rdb_current_bgsave_time_sec", num(i.current_bgsave_time_sec));
  add("rdb_saves", num(i.saves));
  add("rdb_last_cow_size", num(i.rdb_last_cow_size));
  add("aof_enabled", num(i.aof_enabled ? 1 : 0));
  add("aof_rewrite_in_progress", num(i.aof_rewrite_in_progress ? 1 : 0));
  add("aof_rewrite_scheduled", num(i.aof_rewrite_scheduled ? 1 : 0));
  add("aof_last_rewrite_time_sec", num(i.aof_last_rewrite_time_sec));
  add("aof_current_rewrite_time_sec", num(i.aof_current_rewrite_time_sec));
  add("aof_last_bgrewrite_status", okerr(i.aof_last_bgrewrite_ok));
  add("aof_rewrites", num(i.aof_rewrites));
  add("aof_last_write_status", okerr(i.aof_last_write_ok));
  add("aof_last_cow_size", num(i.aof_last_cow_size));
  if (i.aof_enabled) {
    add("aof_current_size", num(i.aof_current_size));
    add("aof_base_size", num(i.aof_base_size));
    add("aof_pending_rewrite", num(i.aof_rewrite_scheduled ? 1 : 0));
    add("aof_buffer_length", num(i.aof_buffer_length));
    add("aof_pending_bio_fsync", "0");
    add("aof_delayed_fsync", "0");
    add("aof_fsyncs", num(i.aof_fsyncs));
  }
  return out;
}

}  // namespace ragkv::persistence
