#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace ragkv::log {
namespace {
std::atomic<Level> g_level{Level::kNotice};
}  // namespace

void SetLevel(Level level) { g_level.store(level, std::memory_order_relaxed); }
Level GetLevel() { return g_level.load(std::memory_order_relaxed); }

bool ParseLevel(std::string_view name, Level* out) {
  if (name == "debug") *out = Level::kDebug;
  else if (name == "verbose") *out = Level::kVerbose;
  else if (name == "notice") *out = Level::kNotice;
  else if (name == "warning") *out = Level::kWarning;
  else if (name == "nothing") *out = Level::kNone;
  else return false;
  return true;
}

void Write(Level level, std::string_view message) {
  if (level < GetLevel() || level == Level::kNone) return;
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  const int millis = static_cast<int>(duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "%d %b %Y %H:%M:%S", &tm);
  static constexpr char kMarks[] = {'.', '-', '*', '#'};
  char prefix[128];
  const int n = std::snprintf(prefix, sizeof(prefix), "%d:M %s.%03d %c ", static_cast<int>(getpid()),
                              stamp, millis, kMarks[static_cast<int>(level)]);
  std::string line(prefix, static_cast<size_t>(n));
  line.append(message);
  line.push_back('\n');
  [[maybe_unused]] ssize_t w = ::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace ragkv::log
