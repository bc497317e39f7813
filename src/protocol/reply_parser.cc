// ParseReply: recursive descent over one RESP2/RESP3 reply (see the header for
// why it is not resumable). Lengths are bounded by the buffer before anything
// is reserved, so a hostile "*2000000000" cannot make it allocate.
#include "protocol/reply_parser.h"

#include <cstdlib>
#include <cstring>

namespace ragkv::resp {
namespace {

struct Cursor {
  std::string_view buf;
  size_t pos = 0;
  std::string_view error;
};

enum class Step : uint8_t { kOk, kNeedMore, kError };

Step ReadLine(Cursor& c, std::string_view* line) {
  const void* cr = std::memchr(c.buf.data() + c.pos, '\r', c.buf.size() - c.pos);
  if (cr == nullptr) return Step::kNeedMore;
  size_t at = static_cast<size_t>(static_cast<const char*>(cr) - c.buf.data());
  if (at + 1 >= c.buf.size()) return Step::kNeedMore;
  if (c.buf[at + 1] != '\n') {
    c.error = "missing LF after CR";
    return Step::kError;
  }
  *line = c.buf.substr(c.pos, at - c.pos);
  c.pos = at + 2;
  return Step::kOk;
}

Step ParseValue(Cursor& c, RespValue* out, int depth);

Step ParseAggregate(Cursor& c, RespValue* out, int64_t count, int depth) {
  if (count < 0) {
    c.error = "invalid aggregate length";
    return Step::kError;
  }
  // Each element takes at least 3 bytes; more than that cannot be here yet.
  if (static_cast<uint64_t>(count) > (c.buf.size() - c.pos) / 3 + 1) {
    if (static_cast<uint64_t>(count) > (1ULL << 32)) {
      c.error = "invalid aggregate length";
      return Step::kError;
    }
    return Step::kNeedMore;
  }
  out->elements.resize(static_cast<size_t>(count));
  for (auto& e : out->elements) {
    Step s = ParseValue(c, &e, depth + 1);
    if (s != Step::kOk) return s;
  }
  return Step::kOk;
}

Step ParseValue(Cursor& c, RespValue* out, int depth) {
  if (depth > kMaxReplyDepth) {
    c.error = "reply nested too deeply";
    return Step::kError;
  }
  if (c.pos >= c.buf.size()) return Step::kNeedMore;
  char type = c.buf[c.pos++];
  std::string_view line;
  Step s = ReadLine(c, &line);
  if (s != Step::kOk) return s;
  int64_t n = 0;
  auto need_int = [&]() -> bool {
    if (!ParseInt64(line, &n)) {
      c.error = "invalid length or integer";
      return false;
    }
    return true;
  };
  switch (type) {
    case '+':
      out->type = RespType::kSimpleString;
      out->str.assign(line);
      return Step::kOk;
    case '-':
      out->type = RespType::kError;
      out->str.assign(line);
      return Step::kOk;
    case ':':
      if (!need_int()) return Step::kError;
      out->type = RespType::kInteger;
      out->integer = n;
      return Step::kOk;
    case '_':
      out->type = RespType::kNull;
      return Step::kOk;
    case '#':
      if (line != "t" && line != "f") {
        c.error = "invalid boolean";
        return Step::kError;
      }
      out->type = RespType::kBoolean;
      out->integer = line == "t";
      return Step::kOk;
    case ',': {
      out->type = RespType::kDouble;
      out->str.assign(line);
      std::string tmp(line);
      char* end = nullptr;
      out->number = std::strtod(tmp.c_str(), &end);
      if (tmp.empty() || end != tmp.c_str() + tmp.size()) {
        c.error = "invalid double";
        return Step::kError;
      }
      return Step::kOk;
    }
    case '(':
      out->type = RespType::kBigNumber;
      out->str.assign(line);
      return Step::kOk;
    case '$':
    case '!':
    case '=': {
      if (!need_int()) return Step::kError;
      if (n == -1 && type == '$') {
        out->type = RespType::kNull;
        return Step::kOk;
      }
      if (n < 0) {
        c.error = "invalid bulk length";
        return Step::kError;
      }
      if (c.buf.size() - c.pos < static_cast<uint64_t>(n) + 2) return Step::kNeedMore;
      std::string_view payload = c.buf.substr(c.pos, static_cast<size_t>(n));
      c.pos += static_cast<size_t>(n) + 2;
      out->type = type == '$' ? RespType::kBulkString
                  : type == '!' ? RespType::kError
                                : RespType::kVerbatim;
      if (type == '=') {
        if (payload.size() < 4 || payload[3] != ':') {
          c.error = "invalid verbatim string";
          return Step::kError;
        }
        payload.remove_prefix(4);
      }
      out->str.assign(payload);
      return Step::kOk;
    }
    case '*':
    case '~':
    case '>':
    case '%': {
      if (!need_int()) return Step::kError;
      if (n == -1 && type == '*') {
        out->type = RespType::kNull;
        return Step::kOk;
      }
      out->type = type == '*' ? RespType::kArray
                  : type == '~' ? RespType::kSet
                  : type == '>' ? RespType::kPush
                                : RespType::kMap;
      if (type == '%') {
        if (n < 0 || n > INT32_MAX) {
          c.error = "invalid map length";
          return Step::kError;
        }
        n *= 2;
      }
      return ParseAggregate(c, out, n, depth);
    }
    case '|': {
      // An attribute map precedes the real reply; decode and drop it.
      if (!need_int()) return Step::kError;
      if (n < 0 || n > INT32_MAX) {
        c.error = "invalid attribute length";
        return Step::kError;
      }
      RespValue attributes;
      s = ParseAggregate(c, &attributes, n * 2, depth);
      if (s != Step::kOk) return s;
      return ParseValue(c, out, depth + 1);
    }
    default:
      c.error = "unknown reply type byte";
      return Step::kError;
  }
}

}  // namespace

ReplyParseResult ParseReply(std::string_view buf, RespValue* out) {
  Cursor c{buf, 0, {}};
  *out = RespValue();
  Step s = ParseValue(c, out, 0);
  ReplyParseResult r;
  if (s == Step::kOk) {
    r.status = ParseStatus::kComplete;
    r.consumed = c.pos;
  } else if (s == Step::kNeedMore) {
    r.status = ParseStatus::kNeedMore;
  } else {
    r.status = ParseStatus::kError;
    r.error = c.error;
  }
  return r;
}

}  // namespace ragkv::resp
