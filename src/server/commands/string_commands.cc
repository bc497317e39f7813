// String commands: GET/SET family, counters, ranges. Values are binary-safe
// std::strings; integers are stored as their decimal text like Redis's
// embstr (no int encoding: OBJECT ENCODING reports what Redis would).
#include <charconv>
#include <climits>
#include <cmath>

#include "server/commands/command_util.h"

namespace ragkv::server {
namespace {

using store::Object;
using store::ValueType;

bool StringTooLong(CommandContext& ctx, uint64_t len) {
  if (len > static_cast<uint64_t>(ctx.engine.config().proto_max_bulk_len)) {
    ctx.out.Error(errors::kStringTooLong);
    return true;
  }
  return false;
}

// Parses a relative (EX/PX) or absolute (EXAT/PXAT) expire into absolute unix
// ms, with Redis's checks. Replies and returns false on error.
bool ParseExpire(CommandContext& ctx, std::string_view text, bool seconds, bool absolute,
                 std::string_view command, int64_t* when_ms) {
  int64_t v;
  if (!ParseIntArg(ctx, text, &v)) return false;
  if (v <= 0 || (seconds && v > INT64_MAX / 1000)) {
    ctx.out.Error(errors::InvalidExpire(command));
    return false;
  }
  if (seconds) v *= 1000;
  if (!absolute) {
    if (v > INT64_MAX - ctx.engine.keyspace().now_ms()) {
      ctx.out.Error(errors::InvalidExpire(command));
      return false;
    }
    v += ctx.engine.keyspace().now_ms();
  }
  *when_ms = v;
  return true;
}

void GetCommand(CommandContext& ctx) {
  bool wrong;
  Object* o = LookupRead(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  if (o == nullptr) {
    ctx.out.Null();
  } else {
    ctx.out.Bulk(o->str());
  }
}

// Stores a string value under `key`, whose entry the caller has looked up
// (`e`, nullptr if absent): one hash probe per SET. Reuses the old buffer
// when the key already holds a string.
void StoreString(store::Db& db, store::Db::Entry* e, std::string_view key, std::string_view value,
                 bool keep_ttl) {
  if (e == nullptr) {
    db.InsertNew(key, Object(std::string(value)));
    return;
  }
  if (e->value.type() == ValueType::kString) {
    e->value.str().assign(value);
    e->value.set_raw_string(false);
  } else {
    e->value = Object(std::string(value));
  }
  if (!keep_ttl) db.ClearTtl(*e);
}

void StoreString(store::Db& db, std::string_view key, std::string_view value, bool keep_ttl) {
  StoreString(db, db.FindEntry(key), key, value, keep_ttl);
}

void RewriteAsSetPxat(CommandContext& ctx, std::string_view key, std::string_view value,
                      int64_t when_ms) {
  ctx.rewritten.push_back({"SET", std::string(key), std::string(value), "PXAT", IntToString(when_ms)});
}

void SetCommand(CommandContext& ctx) {
  enum : unsigned { kNx = 1, kXx = 2, kGet = 4, kKeepTtl = 8, kExpire = 16 };
  unsigned flags = 0;
  int64_t when_ms = -1;
  bool relative = false;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    bool has_next = i + 1 < ctx.argc();
    if (EqualsIgnoreCase(a, "NX") && !(flags & kXx)) {
      flags |= kNx;
    } else if (EqualsIgnoreCase(a, "XX") && !(flags & kNx)) {
      flags |= kXx;
    } else if (EqualsIgnoreCase(a, "GET")) {
      flags |= kGet;
    } else if (EqualsIgnoreCase(a, "KEEPTTL") && !(flags & kExpire)) {
      flags |= kKeepTtl;
    } else if (has_next && !(flags & (kExpire | kKeepTtl)) &&
               (EqualsIgnoreCase(a, "EX") || EqualsIgnoreCase(a, "PX") ||
                EqualsIgnoreCase(a, "EXAT") || EqualsIgnoreCase(a, "PXAT"))) {
      bool seconds = a[0] == 'e' || a[0] == 'E';
      bool absolute = a.size() == 4;
      relative = !absolute;
      if (!ParseExpire(ctx, ctx.arg(++i), seconds, absolute, "set", &when_ms)) return;
      flags |= kExpire;
    } else {
      ctx.out.Error(errors::kSyntax);
      return;
    }
  }
  std::string_view key = ctx.arg(1), value = ctx.arg(2);
  store::Db::Entry* e = ctx.db.FindEntry(key);
  if ((flags & kGet) && e != nullptr && e->value.type() != ValueType::kString) {
    ctx.out.Error(errors::kWrongType);
    return;
  }
  bool exists = e != nullptr;
  if (((flags & kNx) && exists) || ((flags & kXx) && !exists)) {
    if (flags & kGet) {
      if (exists) {
        ctx.out.Bulk(e->value.str());
      } else {
        ctx.out.Null();
      }
    } else {
      ctx.out.Null();
    }
    return;
  }
  if (flags & kGet) {
    if (exists) {
      ctx.out.Bulk(e->value.str());
    } else {
      ctx.out.Null();
    }
  }
  StoreString(ctx.db, e, key, value, flags & kKeepTtl);
  if (flags & kExpire) {
    ctx.db.SetExpire(key, when_ms);
    if (relative) RewriteAsSetPxat(ctx, key, value, when_ms);
  }
  ++ctx.dirty;
  if (!(flags & kGet)) ctx.out.Ok();
}

void SetNxCommand(CommandContext& ctx) {
  auto [obj, inserted] = ctx.db.Insert(ctx.arg(1), Object(std::string(ctx.arg(2))));
  (void)obj;
  if (inserted) ++ctx.dirty;
  ctx.out.Integer(inserted ? 1 : 0);
}

void SetExGeneric(CommandContext& ctx, bool seconds) {
  int64_t when_ms;
  if (!ParseExpire(ctx, ctx.arg(2), seconds, false, ctx.arg(0), &when_ms)) return;
  StoreString(ctx.db, ctx.arg(1), ctx.arg(3), false);
  ctx.db.SetExpire(ctx.arg(1), when_ms);
  RewriteAsSetPxat(ctx, ctx.arg(1), ctx.arg(3), when_ms);
  ++ctx.dirty;
  ctx.out.Ok();
}
void SetExCommand(CommandContext& ctx) { SetExGeneric(ctx, true); }
void PSetExCommand(CommandContext& ctx) { SetExGeneric(ctx, false); }

void MGetCommand(CommandContext& ctx) {
  ctx.out.ArrayHeader(ctx.argc() - 1);
  for (size_t i = 1; i < ctx.argc(); ++i) {
    Object* o = ctx.db.Find(ctx.arg(i));
    if (o == nullptr || o->type() != ValueType::kString) {
      ++ctx.engine.stats().keyspace_misses;
      ctx.out.Null();
    } else {
      ++ctx.engine.stats().keyspace_hits;
      ctx.out.Bulk(o->str());
    }
  }
}

void MSetCommand(CommandContext& ctx) {
  if (ctx.argc() % 2 != 1) {
    ctx.out.Error(errors::WrongArity(ctx.arg(0)));
    return;
  }
  for (size_t i = 1; i < ctx.argc(); i += 2) StoreString(ctx.db, ctx.arg(i), ctx.arg(i + 1), false);
  ctx.dirty += static_cast<int64_t>(ctx.argc() / 2);
  ctx.out.Ok();
}

void MSetNxCommand(CommandContext& ctx) {
  if (ctx.argc() % 2 != 1) {
    ctx.out.Error(errors::WrongArity(ctx.arg(0)));
    return;
  }
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    if (ctx.db.Find(ctx.arg(i)) != nullptr) {
      ctx.out.Integer(0);
      return;
    }
  }
  for (size_t i = 1; i < ctx.argc(); i += 2) StoreString(ctx.db, ctx.arg(i), ctx.arg(i + 1), false);
  ctx.dirty += static_cast<int64_t>(ctx.argc() / 2);
  ctx.out.Integer(1);
}

void GetSetCommand(CommandContext& ctx) {
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  if (o == nullptr) {
    ctx.out.Null();
  } else {
    ctx.out.Bulk(o->str());
  }
  StoreString(ctx.db, ctx.arg(1), ctx.arg(2), false);
  ++ctx.dirty;
}

void GetDelCommand(CommandContext& ctx) {
  bool wrong;
  Object* o = LookupRead(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  if (o == nullptr) {
    ctx.out.Null();
    return;
  }
  ctx.out.Bulk(o->str());
  ctx.db.Delete(ctx.arg(1));
  ctx.rewritten.push_back({"DEL", std::string(ctx.arg(1))});
  ++ctx.dirty;
}

void GetExCommand(CommandContext& ctx) {
  int64_t when_ms = -1;
  bool persist = false;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    bool has_next = i + 1 < ctx.argc();
    if (EqualsIgnoreCase(a, "PERSIST") && when_ms < 0 && !persist) {
      persist = true;
    } else if (has_next && when_ms < 0 && !persist &&
               (EqualsIgnoreCase(a, "EX") || EqualsIgnoreCase(a, "PX") ||
                EqualsIgnoreCase(a, "EXAT") || EqualsIgnoreCase(a, "PXAT"))) {
      bool seconds = a[0] == 'e' || a[0] == 'E';
      if (!ParseExpire(ctx, ctx.arg(++i), seconds, a.size() == 4, "getex", &when_ms)) return;
    } else {
      ctx.out.Error(errors::kSyntax);
      return;
    }
  }
  bool wrong;
  Object* o = LookupRead(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  if (o == nullptr) {
    ctx.out.Null();
    return;
  }
  ctx.out.Bulk(o->str());
  if (when_ms >= 0) {
    ctx.db.SetExpire(ctx.arg(1), when_ms);
    ctx.rewritten.push_back({"PEXPIREAT", std::string(ctx.arg(1)), IntToString(when_ms)});
    ++ctx.dirty;
  } else if (persist && ctx.db.Persist(ctx.arg(1))) {
    ctx.rewritten.push_back({"PERSIST", std::string(ctx.arg(1))});
    ++ctx.dirty;
  }
}

void IncrByGeneric(CommandContext& ctx, int64_t delta) {
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  int64_t current = 0;
  if (o != nullptr && !ParseInt(o->str(), &current)) {
    ctx.out.Error(errors::kNotInteger);
    return;
  }
  if ((delta < 0 && current < 0 && delta < INT64_MIN - current) ||
      (delta > 0 && current > 0 && delta > INT64_MAX - current)) {
    ctx.out.Error(errors::kOverflow);
    return;
  }
  int64_t result = current + delta;
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), result);
  (void)ec;
  std::string_view text(buf, static_cast<size_t>(end - buf));
  if (o != nullptr) {
    o->str().assign(text);  // keeps the TTL, like Redis
    o->set_raw_string(false);
  } else {
    ctx.db.Set(ctx.arg(1), Object(std::string(text)));
  }
  ++ctx.dirty;
  ctx.out.Integer(result);
}

void IncrCommand(CommandContext& ctx) { IncrByGeneric(ctx, 1); }
void DecrCommand(CommandContext& ctx) { IncrByGeneric(ctx, -1); }
void IncrByCommand(CommandContext& ctx) {
  int64_t d;
  if (ParseIntArg(ctx, ctx.arg(2), &d)) IncrByGeneric(ctx, d);
}
void DecrByCommand(CommandContext& ctx) {
  int64_t d;
  if (!ParseIntArg(ctx, ctx.arg(2), &d)) return;
  if (d == INT64_MIN) {
    ctx.out.Error("ERR decrement would overflow");
    return;
  }
  IncrByGeneric(ctx, -d);
}

void IncrByFloatCommand(CommandContext& ctx) {
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  long double current = 0, delta;
  if (o != nullptr && !ParseLongDouble(o->str(), &current)) {
    ctx.out.Error(errors::kNotFloat);
    return;
  }
  if (!ParseLongDouble(ctx.arg(2), &delta)) {
    ctx.out.Error(errors::kNotFloat);
    return;
  }
  long double result = current + delta;
  if (std::isnan(result) || std::isinf(result)) {
    ctx.out.Error(errors::kNanOrInfinity);
    return;
  }
  std::string text = FormatLongDouble(result);
  if (o != nullptr) {
    o->str() = text;
    o->set_raw_string(false);
  } else {
    ctx.db.Set(ctx.arg(1), Object(text));
  }
  // Replicas must not redo float math: propagate the result.
  ctx.rewritten.push_back({"SET", std::string(ctx.arg(1)), text, "KEEPTTL"});
  ++ctx.dirty;
  ctx.out.Bulk(text);
}

void AppendCommand(CommandContext& ctx) {
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  if (o == nullptr) {
    if (StringTooLong(ctx, ctx.arg(2).size())) return;
    o = &ctx.db.Set(ctx.arg(1), Object(std::string(ctx.arg(2))));
  } else {
    if (StringTooLong(ctx, o->str().size() + ctx.arg(2).size())) return;
    o->str().append(ctx.arg(2));
  }
  o->set_raw_string(true);
  ++ctx.dirty;
  ctx.out.Integer(static_cast<int64_t>(o->str().size()));
}

void StrlenCommand(CommandContext& ctx) {
  bool wrong;
  Object* o = LookupRead(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  ctx.out.Integer(o == nullptr ? 0 : static_cast<int64_t>(o->str().size()));
}

void GetRangeCommand(CommandContext& ctx) {
  int64_t start, end;
  if (!ParseIntArg(ctx, ctx.arg(2), &start) || !ParseIntArg(ctx, ctx.arg(3), &end)) return;
  bool wrong;
  Object* o = LookupRead(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  if (o == nullptr) {
    ctx.out.Bulk("");
    return;
  }
  const std::string& s = o->str();
  int64_t len = static_cast<int64_t>(s.size());
  if (start < 0 && end < 0 && start > end) {
    ctx.out.Bulk("");
    return;
  }
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (len == 0 || start > end) {
    ctx.out.Bulk("");
    return;
  }
  ctx.out.Bulk(std::string_view(s).substr(static_cast<size_t>(start), static_cast<size_t>(end - start + 1)));
}

void SetRangeCommand(CommandContext& ctx) {
  int64_t offset;
  if (!ParseIntArg(ctx, ctx.arg(2), &offset)) return;
  if (offset < 0) {
    ctx.out.Error(errors::kOffsetOutOfRange);
    return;
  }
  std::string_view value = ctx.arg(3);
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kString, &wrong);
  if (wrong) return;
  if (o == nullptr && value.empty()) {
    ctx.out.Integer(0);
    return;
  }
  if (o != nullptr && value.empty()) {
    ctx.out.Integer(static_cast<int64_t>(o->str().size()));
    return;
  }
  if (StringTooLong(ctx, static_cast<uint64_t>(offset) + value.size())) return;
  if (o == nullptr) o = &ctx.db.Set(ctx.arg(1), Object(std::string()));
  std::string& s = o->str();
  size_t need = static_cast<size_t>(offset) + value.size();
  if (s.size() < need) s.resize(need, '\0');
  s.replace(static_cast<size_t>(offset), value.size(), value);
  o->set_raw_string(true);
  ++ctx.dirty;
  ctx.out.Integer(static_cast<int64_t>(s.size()));
}

}  // namespace

void RegisterStringCommands(CommandTable& t) {
  const uint32_t kW = kWrite | kDenyOom;
  t.Add({"get", 2, kReadOnly | kFast, 1, 1, 1, GetCommand, "string", "Returns the string value of a key."});
  t.Add({"set", -3, kW, 1, 1, 1, SetCommand, "string", "Sets the string value of a key."});
  t.Add({"setnx", 3, kW | kFast, 1, 1, 1, SetNxCommand, "string", "Set the string value of a key only when the key doesn't exist."});
  t.Add({"setex", 4, kW, 1, 1, 1, SetExCommand, "string", "Sets the string value and expiration time of a key."});
  t.Add({"psetex", 4, kW, 1, 1, 1, PSetExCommand, "string", "Sets the string value and expiration time in milliseconds of a key."});
  t.Add({"mget", -2, kReadOnly | kFast, 1, -1, 1, MGetCommand, "string", "Atomically returns the string values of one or more keys."});
  t.Add({"mset", -3, kW, 1, -1, 2, MSetCommand, "string", "Atomically creates or modifies the string values of one or more keys."});
  t.Add({"msetnx", -3, kW, 1, -1, 2, MSetNxCommand, "string", "Atomically sets multiple keys only when none of them exist."});
  t.Add({"getset", 3, kW | kFast, 1, 1, 1, GetSetCommand, "string", "Returns the previous string value of a key after setting it to a new value."});
  t.Add({"getdel", 2, kWrite | kFast, 1, 1, 1, GetDelCommand, "string", "Returns the string value of a key after deleting the key."});
  t.Add({"getex", -2, kWrite | kFast, 1, 1, 1, GetExCommand, "string", "Returns the string value of a key after setting its expiration time."});
  t.Add({"incr", 2, kW | kFast, 1, 1, 1, IncrCommand, "string", "Increments the integer value of a key by one."});
  t.Add({"decr", 2, kW | kFast, 1, 1, 1, DecrCommand, "string", "Decrements the integer value of a key by one."});
  t.Add({"incrby", 3, kW | kFast, 1, 1, 1, IncrByCommand, "string", "Increments the integer value of a key by a number."});
  t.Add({"decrby", 3, kW | kFast, 1, 1, 1, DecrByCommand, "string", "Decrements a number from the integer value of a key."});
  t.Add({"incrbyfloat", 3, kW | kFast, 1, 1, 1, IncrByFloatCommand, "string", "Increment the floating point value of a key by a number."});
  t.Add({"append", 3, kW | kFast, 1, 1, 1, AppendCommand, "string", "Appends a string to the value of a key."});
  t.Add({"strlen", 2, kReadOnly | kFast, 1, 1, 1, StrlenCommand, "string", "Returns the length of a string value."});
  t.Add({"getrange", 4, kReadOnly, 1, 1, 1, GetRangeCommand, "string", "Returns a substring of the string stored at a key."});
  t.Add({"substr", 4, kReadOnly, 1, 1, 1, GetRangeCommand, "string", "Returns a substring from a string value."});
  t.Add({"setrange", 4, kW, 1, 1, 1, SetRangeCommand, "string", "Overwrites a part of a string value with another by an offset."});
}

}  // namespace ragkv::server
