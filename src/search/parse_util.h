// Small parsing helpers shared by the search parsers (internal to search/).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ragkv::search {

inline bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

inline std::string ToLowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Whole-string base-10 integer.
inline bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

inline bool ParseUint64(std::string_view s, uint64_t* out) {
  int64_t v;
  if (!ParseInt64(s, &v) || v < 0) return false;
  *out = static_cast<uint64_t>(v);
  return true;
}

// Whole-string double; accepts "inf", "+inf", "-inf"; rejects NaN.
inline bool ParseDoubleStrict(std::string_view s, double* out) {
  if (s.empty() || s.size() > 256) return false;
  std::string buf(s);
  if (IEquals(s, "inf") || IEquals(s, "+inf")) {
    *out = INFINITY;
    return true;
  }
  if (IEquals(s, "-inf")) {
    *out = -INFINITY;
    return true;
  }
  if (buf.front() == ' ' || buf.front() == '\t') return false;
  char* end = nullptr;
  double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || std::isnan(v)) return false;
  *out = v;
  return true;
}

// RediSearch's rendering of numbers: "%lld" when integral, else "%.12g".
std::string FormatSearchNumber(double v);

}  // namespace ragkv::search
