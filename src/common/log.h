// Minimal leveled logging to stderr, Redis-style lines:
//   12345:M 26 Nov 2026 13:20:01.123 * Ready to accept connections
// Thread-safe (one write(2) per line). Level is process-wide and set once at
// startup from the `loglevel` config.
#pragma once

#include <string_view>

namespace ragkv::log {

enum class Level : unsigned char { kDebug = 0, kVerbose, kNotice, kWarning, kNone };

void SetLevel(Level level);
Level GetLevel();
// Parses Redis's names: debug, verbose, notice, warning, nothing.
bool ParseLevel(std::string_view name, Level* out);

void Write(Level level, std::string_view message);

inline void Debug(std::string_view m) { Write(Level::kDebug, m); }
inline void Info(std::string_view m) { Write(Level::kNotice, m); }
inline void Warn(std::string_view m) { Write(Level::kWarning, m); }

}  // namespace ragkv::log
