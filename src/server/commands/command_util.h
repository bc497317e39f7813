// Helpers shared by the command implementations: argument parsing with
// Redis's rules and error texts, typed key lookup. Internal to server/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "server/command.h"
#include "server/engine.h"
#include "server/errors.h"
#include "store/db.h"

namespace ragkv::server {

// Most replies HRANDFIELD/ZRANDMEMBER with a negative count may produce.
inline constexpr int64_t kMaxRandomRepetitions = 1LL << 24;

// Case-insensitive ASCII comparison for option keywords ("EX", "withscores").
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Integer argument; replies "value is not an integer or out of range" and
// returns false on failure.
bool ParseIntArg(CommandContext& ctx, std::string_view s, int64_t* out);

// Parses the optional `count [keyword]` of HRANDFIELD/ZRANDMEMBER (argv[2],
// argv[3]). Leaves *count and *with_keyword untouched when there is no
// count. Returns false after replying with an error. Negative counts are
// capped at -kMaxRandomRepetitions (a deliberate difference from Redis).
bool ParseRandomCountArgs(CommandContext& ctx, std::string_view keyword, int64_t* count,
                          bool* with_keyword);
// Strict parse without replying.
bool ParseInt(std::string_view s, int64_t* out);
// Redis's string2d: strtod over the whole string, no spaces, no NaN; "inf",
// "+inf", "-inf" accepted.
bool ParseDouble(std::string_view s, double* out);
// Redis's string2ld for INCRBYFLOAT.
bool ParseLongDouble(std::string_view s, long double* out);
// Redis's ld2string(LD_STR_HUMAN): "%.17Lf" without trailing zeros.
std::string FormatLongDouble(long double v);

// Looks `key` up for reading: counts a keyspace hit or miss. If it exists with
// another type, replies WRONGTYPE and sets *wrong_type.
store::Object* LookupRead(CommandContext& ctx, std::string_view key, store::ValueType type,
                          bool* wrong_type);
// Same without hit/miss statistics, for writes.
store::Object* LookupWrite(CommandContext& ctx, std::string_view key, store::ValueType type,
                           bool* wrong_type);

// Parses "cursor [MATCH p] [COUNT n] [TYPE t]" starting at argv[cursor_at]
// (TYPE only when allow_type). Leaves *pattern untouched without MATCH.
// Replies with Redis's error and returns false on bad input.
bool ParseScanArgs(CommandContext& ctx, size_t cursor_at, bool allow_type, uint64_t* cursor,
                   std::string_view* pattern, int64_t* count, std::string_view* type);

// Formats an integer as a string value (INCR results).
std::string IntToString(int64_t v);

}  // namespace ragkv::server
