// Strict number parsing and keyword matching for the FT.* parsers. Numbers go
// through std::from_chars for integers and strtod over a NUL-terminated copy
// for doubles (from_chars<double> would reject "+inf", which clients send).
#include "search/arg_parsing.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace ragkv::search {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

std::string ToUpperAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::optional<uint64_t> ParseUint64(std::string_view s) {
  if (s.empty() || s.front() < '0' || s.front() > '9') return std::nullopt;
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<double> ParseDouble(std::string_view s) {
  if (s.empty() || s.size() > 256) return std::nullopt;
  const std::string buf(s);
  if (buf.front() == ' ' || buf.front() == '\t') return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || std::isnan(v)) return std::nullopt;
  return v;
}

std::string FormatDouble(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%lld", static_cast<long long>(v));
    return buf;
  }
  // The shortest of %.15g..%.17g that reads back exactly: "0.1", not
  // "0.10000000000000001".
  char buf[32];
  for (int precision = 15; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

Status BadArgs(std::string_view what, std::string_view why) {
  std::string msg = "Bad arguments for ";
  msg += what;
  msg += ": ";
  msg += why;
  return Status::InvalidArgument(msg);
}

Result<uint64_t> ReadUint(ArgCursor& ac, std::string_view what, uint64_t lo, uint64_t hi) {
  if (ac.done()) return BadArgs(what, kAcNoArg);
  const auto v = ParseUint64(ac.Next());
  if (!v) return BadArgs(what, kAcParse);
  if (*v < lo || *v > hi) return BadArgs(what, kAcLimit);
  return *v;
}

Result<double> ReadDouble(ArgCursor& ac, std::string_view what, double lo, double hi) {
  if (ac.done()) return BadArgs(what, kAcNoArg);
  const auto v = ParseDouble(ac.Next());
  if (!v) return BadArgs(what, kAcParse);
  if (*v < lo || *v > hi) return BadArgs(what, kAcLimit);
  return *v;
}

Result<std::string_view> ReadString(ArgCursor& ac, std::string_view what) {
  if (ac.done()) return BadArgs(what, kAcNoArg);
  return ac.Next();
}

Result<std::vector<std::string>> ReadList(ArgCursor& ac, std::string_view what) {
  RAGKV_ASSIGN_OR_RETURN(const uint64_t n, ReadUint(ac, what, 0, UINT32_MAX));
  if (n > ac.remaining()) return BadArgs(what, kAcNoArg);
  std::vector<std::string> items;
  items.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) items.emplace_back(ac.Next());
  return items;
}

}  // namespace ragkv::search
