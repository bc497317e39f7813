#include "server/commands/command_util.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "protocol/request_parser.h"

namespace ragkv::server {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool ParseInt(std::string_view s, int64_t* out) { return resp::ParseInt64(s, out); }

bool ParseIntArg(CommandContext& ctx, std::string_view s, int64_t* out) {
  if (ParseInt(s, out)) return true;
  ctx.out.Error(errors::kNotInteger);
  return false;
}

bool ParseRandomCountArgs(CommandContext& ctx, std::string_view keyword, int64_t* count,
                          bool* with_keyword) {
  if (ctx.argc() < 3) return true;
  if (!ParseIntArg(ctx, ctx.arg(2), count)) return false;
  if (ctx.argc() == 4) {
    if (!EqualsIgnoreCase(ctx.arg(3), keyword)) {
      ctx.out.Error(errors::kSyntax);
      return false;
    }
    *with_keyword = true;
  } else if (ctx.argc() > 4) {
    ctx.out.Error(errors::kSyntax);
    return false;
  }
  // Redis accepts up to LONG_MAX/2 here; a negative count that large asks
  // for billions of replies from one command and would exhaust memory
  // before back-pressure can act, so we cap repetitions (docs/server.md).
  if (*count < -kMaxRandomRepetitions || *count > INT64_MAX / 2) {
    ctx.out.Error("ERR value is out of range");
    return false;
  }
  return true;
}

bool ParseDouble(std::string_view s, double* out) {
  if (s.empty() || s.size() > 5000 || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string tmp(s);
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size() || std::isnan(v)) return false;
  if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || std::fpclassify(v) == FP_ZERO)) {
    return false;
  }
  *out = v;
  return true;
}

bool ParseLongDouble(std::string_view s, long double* out) {
  if (s.empty() || s.size() > 5000 || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string tmp(s);
  char* end = nullptr;
  errno = 0;
  long double v = std::strtold(tmp.c_str(), &end);
  if (end != tmp.c_str() + tmp.size() || std::isnan(v) || errno == ERANGE) return false;
  *out = v;
  return true;
}

std::string FormatLongDouble(long double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[5600];
  int n = std::snprintf(buf, sizeof(buf), "%.17Lf", v);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof(buf)) return "0";
  std::string s(buf, static_cast<size_t>(n));
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

store::Object* LookupWrite(CommandContext& ctx, std::string_view key, store::ValueType type,
                           bool* wrong_type) {
  *wrong_type = false;
  store::Object* o = ctx.db.Find(key);
  if (o != nullptr && o->type() != type) {
    *wrong_type = true;
    ctx.out.Error(errors::kWrongType);
    return nullptr;
  }
  return o;
}

store::Object* LookupRead(CommandContext& ctx, std::string_view key, store::ValueType type,
                          bool* wrong_type) {
  store::Object* o = LookupWrite(ctx, key, type, wrong_type);
  if (o != nullptr) {
    ++ctx.engine.stats().keyspace_hits;
  } else if (!*wrong_type) {
    ++ctx.engine.stats().keyspace_misses;
  }
  return o;
}

bool ParseScanArgs(CommandContext& ctx, size_t cursor_at, bool allow_type, uint64_t* cursor,
                   std::string_view* pattern, int64_t* count, std::string_view* type) {
  std::string_view c = ctx.arg(cursor_at);
  uint64_t v = 0;
  if (c.empty() || c.size() > 20) {
    ctx.out.Error(errors::kInvalidCursor);
    return false;
  }
  for (char ch : c) {
    if (ch < '0' || ch > '9' || v > (UINT64_MAX - static_cast<uint64_t>(ch - '0')) / 10) {
      ctx.out.Error(errors::kInvalidCursor);
      return false;
    }
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  *cursor = v;
  *count = 10;
  for (size_t i = cursor_at + 1; i < ctx.argc(); i += 2) {
    std::string_view opt = ctx.arg(i);
    if (i + 1 >= ctx.argc()) {
      ctx.out.Error(errors::kSyntax);
      return false;
    }
    if (EqualsIgnoreCase(opt, "COUNT")) {
      if (!ParseIntArg(ctx, ctx.arg(i + 1), count)) return false;
      if (*count < 1) {
        ctx.out.Error(errors::kSyntax);
        return false;
      }
    } else if (EqualsIgnoreCase(opt, "MATCH")) {
      *pattern = ctx.arg(i + 1);
    } else if (allow_type && EqualsIgnoreCase(opt, "TYPE")) {
      *type = ctx.arg(i + 1);
    } else {
      ctx.out.Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

std::string IntToString(int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;
  return std::string(buf, static_cast<size_t>(end - buf));
}

}  // namespace ragkv::server
