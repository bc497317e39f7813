// Small helpers shared by the FT.* argument parsers: a cursor over command
// arguments, case-insensitive keyword matching and strict number parsing.
// Internal to the search module.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ragkv::search {

// RediSearch's ArgsCursor error strings (AC_Strerror), used in
// "Bad arguments for <what>: <why>" errors.
inline constexpr std::string_view kAcParse = "Could not convert argument to expected type";
inline constexpr std::string_view kAcNoArg = "Expected an argument, but none provided";
inline constexpr std::string_view kAcLimit = "Value is outside acceptable bounds";
inline constexpr std::string_view kAcUnknown = "Unknown argument";

// kInvalidArgument "Bad arguments for <what>: <why>".
Status BadArgs(std::string_view what, std::string_view why);

// ASCII case-insensitive equality (RediSearch keywords are ASCII).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
std::string ToUpperAscii(std::string_view s);

// Whole-string unsigned integer (decimal digits only, no sign, no spaces).
std::optional<uint64_t> ParseUint64(std::string_view s);
// Whole-string signed integer.
std::optional<int64_t> ParseInt64(std::string_view s);
// Whole-string double via strtod (accepts "inf", "-inf", "+inf", "1e3");
// rejects NaN, empty and trailing bytes.
std::optional<double> ParseDouble(std::string_view s);

// Formats a double so that ParseDouble gives the same value back:
// "inf"/"-inf", integers without a fraction, otherwise the shortest %g
// form that round-trips.
std::string FormatDouble(double v);

// A read cursor over a command's arguments.
class ArgCursor {
 public:
  explicit ArgCursor(std::span<const std::string_view> args) : args_(args) {}

  bool done() const { return pos_ >= args_.size(); }
  size_t remaining() const { return args_.size() - pos_; }
  size_t position() const { return pos_; }
  std::string_view Peek() const { return args_[pos_]; }
  std::string_view Next() { return args_[pos_++]; }
  // Consumes the next argument if it equals `keyword` (any case).
  bool TryKeyword(std::string_view keyword) {
    if (done() || !EqualsIgnoreCase(Peek(), keyword)) return false;
    ++pos_;
    return true;
  }

 private:
  std::span<const std::string_view> args_;
  size_t pos_ = 0;
};

// Typed reads from a cursor with RediSearch's errors for option `what`.
Result<uint64_t> ReadUint(ArgCursor& ac, std::string_view what, uint64_t lo, uint64_t hi);
Result<double> ReadDouble(ArgCursor& ac, std::string_view what, double lo, double hi);
Result<std::string_view> ReadString(ArgCursor& ac, std::string_view what);
// "n item..." lists (PREFIX, STOPWORDS, INKEYS, INFIELDS).
Result<std::vector<std::string>> ReadList(ArgCursor& ac, std::string_view what);

}  // namespace ragkv::search
