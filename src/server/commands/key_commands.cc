// Keyspace commands: DEL, EXISTS, TYPE, RENAME, COPY, KEYS, SCAN, RANDOMKEY,
// the EXPIRE family, TTL family, PERSIST, OBJECT, TOUCH.
#include <climits>

#include "server/commands/command_util.h"
#include "store/glob.h"

namespace ragkv::server {
namespace {

using store::Object;
using store::ValueType;

void DelCommand(CommandContext& ctx) {
  int64_t deleted = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) deleted += ctx.db.Delete(ctx.arg(i)) ? 1 : 0;
  ctx.dirty += deleted;
  ctx.out.Integer(deleted);
}

void ExistsCommand(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) n += ctx.db.Find(ctx.arg(i)) != nullptr;
  ctx.out.Integer(n);
}

void TypeCommand(CommandContext& ctx) {
  Object* o = ctx.db.Find(ctx.arg(1));
  ctx.out.SimpleString(o == nullptr ? "none" : store::TypeName(o->type()));
}

void RenameGeneric(CommandContext& ctx, bool nx) {
  std::string_view from = ctx.arg(1), to = ctx.arg(2);
  if (ctx.db.Find(from) == nullptr) {
    ctx.out.Error(errors::kNoSuchKey);
    return;
  }
  if (from == to) {
    if (nx) {
      ctx.out.Integer(0);
    } else {
      ctx.out.Ok();
    }
    return;
  }
  if (nx && ctx.db.Find(to) != nullptr) {
    ctx.out.Integer(0);
    return;
  }
  ctx.db.Rename(from, to);
  ++ctx.dirty;
  if (nx) {
    ctx.out.Integer(1);
  } else {
    ctx.out.Ok();
  }
}
void RenameCommand(CommandContext& ctx) { RenameGeneric(ctx, false); }
void RenameNxCommand(CommandContext& ctx) { RenameGeneric(ctx, true); }

void CopyCommand(CommandContext& ctx) {
  int64_t dbid = ctx.session.db;
  bool replace = false;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "REPLACE")) {
      replace = true;
    } else if (EqualsIgnoreCase(ctx.arg(i), "DB") && i + 1 < ctx.argc()) {
      if (!ParseInt(ctx.arg(++i), &dbid)) {
        ctx.out.Error(errors::kNotInteger);
        return;
      }
      if (dbid < 0 || dbid >= ctx.engine.keyspace().size()) {
        ctx.out.Error(errors::kDbIndexOutOfRange);
        return;
      }
    } else {
      ctx.out.Error(errors::kSyntax);
      return;
    }
  }
  std::string_view from = ctx.arg(1), to = ctx.arg(2);
  if (dbid == ctx.session.db && from == to) {
    ctx.out.Error(errors::kSourceDestSame);
    return;
  }
  store::Db::Entry* src = ctx.db.FindEntry(from);
  if (src == nullptr) {
    ctx.out.Integer(0);
    return;
  }
  store::Db& dst = ctx.engine.keyspace().db(static_cast<int>(dbid));
  if (dst.Find(to) != nullptr && !replace) {
    ctx.out.Integer(0);
    return;
  }
  int64_t expire = src->expire_ms;
  dst.Set(to, src->value.Clone());
  if (expire >= 0) dst.SetExpire(to, expire);
  if (dbid != ctx.session.db) ctx.engine.TouchKey(static_cast<int>(dbid), to);
  ++ctx.dirty;
  ctx.out.Integer(1);
}

void KeysCommand(CommandContext& ctx) {
  std::string_view pattern = ctx.arg(1);
  bool all = pattern == "*";
  std::vector<const std::string*> keys;
  const int64_t now = ctx.engine.keyspace().now_ms();
  for (auto& [key, entry] : ctx.db.map()) {
    if (entry.expire_ms >= 0 && entry.expire_ms <= now) continue;
    if (all || store::GlobMatch(pattern, key)) keys.push_back(&key);
  }
  ctx.out.ArrayHeader(keys.size());
  for (const std::string* k : keys) ctx.out.Bulk(*k);
}

void ScanCommand(CommandContext& ctx) {
  uint64_t cursor;
  std::string_view pattern = "*", type;
  int64_t count;
  if (!ParseScanArgs(ctx, 1, true, &cursor, &pattern, &count, &type)) return;
  bool all = pattern == "*";
  std::vector<std::string> keys;
  uint64_t next = ctx.db.Scan(cursor, static_cast<size_t>(count),
                              [&](const std::string& key, store::Db::Entry& e) {
                                if (!type.empty() && !EqualsIgnoreCase(type, store::TypeName(e.value.type()))) return;
                                if (all || store::GlobMatch(pattern, key)) keys.push_back(key);
                              });
  ctx.out.ArrayHeader(2);
  ctx.out.Bulk(std::to_string(next));
  ctx.out.ArrayHeader(keys.size());
  for (const std::string& k : keys) ctx.out.Bulk(k);
}

void RandomKeyCommand(CommandContext& ctx) {
  auto k = ctx.db.RandomKey(ctx.engine.rng());
  if (k) {
    ctx.out.Bulk(*k);
  } else {
    ctx.out.Null();
  }
}

// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX/XX/GT/LT (Redis 7).
void ExpireGeneric(CommandContext& ctx, bool seconds, bool absolute) {
  int64_t v;
  if (!ParseIntArg(ctx, ctx.arg(2), &v)) return;
  bool nx = false, xx = false, gt = false, lt = false;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (EqualsIgnoreCase(a, "NX")) {
      nx = true;
    } else if (EqualsIgnoreCase(a, "XX")) {
      xx = true;
    } else if (EqualsIgnoreCase(a, "GT")) {
      gt = true;
    } else if (EqualsIgnoreCase(a, "LT")) {
      lt = true;
    } else {
      ctx.out.Error("ERR Unsupported option " + std::string(a));
      return;
    }
  }
  if (nx && (xx || gt || lt)) {
    ctx.out.Error(errors::kExpireNxXxGtLt);
    return;
  }
  if (gt && lt) {
    ctx.out.Error(errors::kExpireGtLt);
    return;
  }
  int64_t now = ctx.engine.keyspace().now_ms();
  if (seconds) {
    if (v > INT64_MAX / 1000 || v < INT64_MIN / 1000) {
      ctx.out.Error(errors::InvalidExpire(ctx.arg(0)));
      return;
    }
    v *= 1000;
  }
  if (!absolute) {
    if ((v > 0 && v > INT64_MAX - now) || (v < 0 && v < INT64_MIN + now)) {
      ctx.out.Error(errors::InvalidExpire(ctx.arg(0)));
      return;
    }
    v += now;
  }
  store::Db::Entry* e = ctx.db.FindEntry(ctx.arg(1));
  if (e == nullptr) {
    ctx.out.Integer(0);
    return;
  }
  int64_t current = e->expire_ms;  // -1: persistent, i.e. infinite
  if ((nx && current >= 0) || (xx && current < 0) || (gt && (current < 0 || v <= current)) ||
      (lt && current >= 0 && v >= current)) {
    ctx.out.Integer(0);
    return;
  }
  if (v <= now) {
    ctx.db.Delete(ctx.arg(1));
    ctx.rewritten.push_back({"DEL", std::string(ctx.arg(1))});
  } else {
    ctx.db.SetExpire(ctx.arg(1), v);
    ctx.rewritten.push_back({"PEXPIREAT", std::string(ctx.arg(1)), IntToString(v)});
  }
  ++ctx.dirty;
  ctx.out.Integer(1);
}
void ExpireCommand(CommandContext& ctx) { ExpireGeneric(ctx, true, false); }
void PExpireCommand(CommandContext& ctx) { ExpireGeneric(ctx, false, false); }
void ExpireAtCommand(CommandContext& ctx) { ExpireGeneric(ctx, true, true); }
void PExpireAtCommand(CommandContext& ctx) { ExpireGeneric(ctx, false, true); }

enum class TtlKind { kTtl, kPTtl, kExpireTime, kPExpireTime };
void TtlGeneric(CommandContext& ctx, TtlKind kind) {
  store::Db::Entry* e = ctx.db.FindEntry(ctx.arg(1));
  if (e == nullptr) {
    ctx.out.Integer(-2);
    return;
  }
  if (e->expire_ms < 0) {
    ctx.out.Integer(-1);
    return;
  }
  int64_t left = std::max<int64_t>(0, e->expire_ms - ctx.engine.keyspace().now_ms());
  switch (kind) {
    case TtlKind::kTtl: ctx.out.Integer((left + 500) / 1000); break;
    case TtlKind::kPTtl: ctx.out.Integer(left); break;
    case TtlKind::kExpireTime:  // rounded like TTL, without overflowing near INT64_MAX
      ctx.out.Integer(e->expire_ms / 1000 + (e->expire_ms % 1000 >= 500 ? 1 : 0));
      break;
    case TtlKind::kPExpireTime: ctx.out.Integer(e->expire_ms); break;
  }
}
void TtlCommand(CommandContext& ctx) { TtlGeneric(ctx, TtlKind::kTtl); }
void PTtlCommand(CommandContext& ctx) { TtlGeneric(ctx, TtlKind::kPTtl); }
void ExpireTimeCommand(CommandContext& ctx) { TtlGeneric(ctx, TtlKind::kExpireTime); }
void PExpireTimeCommand(CommandContext& ctx) { TtlGeneric(ctx, TtlKind::kPExpireTime); }

void PersistCommand(CommandContext& ctx) {
  bool removed = ctx.db.Persist(ctx.arg(1));
  if (removed) ++ctx.dirty;
  ctx.out.Integer(removed ? 1 : 0);
}

void TouchCommand(CommandContext& ctx) {
  int64_t n = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) n += ctx.db.Find(ctx.arg(i)) != nullptr;
  ctx.out.Integer(n);
}

std::string_view Encoding(const Object& o) {
  switch (o.type()) {
    case ValueType::kString: {
      if (o.raw_string()) return "raw";
      int64_t v;
      if (o.str().size() <= 20 && ParseInt(o.str(), &v)) return "int";
      return o.str().size() <= 44 ? "embstr" : "raw";
    }
    case ValueType::kHash: {
      if (o.hash().size() > 128) return "hashtable";
      for (const auto& [f, v] : o.hash()) {
        if (f.size() > 64 || v.size() > 64) return "hashtable";
      }
      return "listpack";
    }
    case ValueType::kZSet: {
      const avl::SortedSet& z = o.zset();
      if (z.size() > 128) return "skiplist";
      bool small = true;
      z.ForEach([&small](std::string_view m, double) { small = small && m.size() <= 64; });
      return small ? "listpack" : "skiplist";
    }
  }
  return "raw";
}

void ObjectCommand(CommandContext& ctx) {
  std::string_view sub = ctx.arg(1);
  if (EqualsIgnoreCase(sub, "HELP")) {
    const char* lines[] = {
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>", "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>", "    Return the access frequency index of the <key>.",
        "IDLETIME <key>", "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>", "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP", "    Print this help."};
    ctx.out.ArrayHeader(std::size(lines));
    for (const char* l : lines) ctx.out.SimpleString(l);
    return;
  }
  if (ctx.argc() != 3) {
    ctx.out.Error(errors::UnknownSubcommand(sub, "OBJECT"));
    return;
  }
  store::Db::Entry* e = ctx.db.FindEntry(ctx.arg(2));
  bool known = EqualsIgnoreCase(sub, "ENCODING") || EqualsIgnoreCase(sub, "FREQ") ||
               EqualsIgnoreCase(sub, "IDLETIME") || EqualsIgnoreCase(sub, "REFCOUNT");
  if (!known) {
    ctx.out.Error(errors::UnknownSubcommand(sub, "OBJECT"));
    return;
  }
  if (e == nullptr) {
    ctx.out.Null();
    return;
  }
  if (EqualsIgnoreCase(sub, "ENCODING")) {
    ctx.out.Bulk(Encoding(e->value));
  } else if (EqualsIgnoreCase(sub, "REFCOUNT")) {
    ctx.out.Integer(1);
  } else if (EqualsIgnoreCase(sub, "IDLETIME")) {
    int64_t now_s = ctx.engine.keyspace().now_ms() / 1000;
    ctx.out.Integer(std::max<int64_t>(0, now_s - e->value.lru()));
  } else {
    // Frequencies are not tracked (LFU policies run as LRU); report the
    // logarithmic counter's initial value, as a fresh key in Redis has.
    ctx.out.Integer(5);
  }
}

}  // namespace

void RegisterKeyCommands(CommandTable& t) {
  t.Add({"del", -2, kWrite, 1, -1, 1, DelCommand, "generic", "Deletes one or more keys."});
  t.Add({"unlink", -2, kWrite | kFast, 1, -1, 1, DelCommand, "generic", "Asynchronously deletes one or more keys."});
  t.Add({"exists", -2, kReadOnly | kFast, 1, -1, 1, ExistsCommand, "generic", "Determines whether one or more keys exist."});
  t.Add({"type", 2, kReadOnly | kFast, 1, 1, 1, TypeCommand, "generic", "Determines the type of value stored at a key."});
  t.Add({"rename", 3, kWrite, 1, 2, 1, RenameCommand, "generic", "Renames a key and overwrites the destination."});
  t.Add({"renamenx", 3, kWrite | kFast, 1, 2, 1, RenameNxCommand, "generic", "Renames a key only when the target key name doesn't exist."});
  t.Add({"copy", -3, kWrite | kDenyOom, 1, 2, 1, CopyCommand, "generic", "Copies the value of a key to a new key."});
  t.Add({"keys", 2, kReadOnly, 0, 0, 0, KeysCommand, "generic", "Returns all key names that match a pattern."});
  t.Add({"scan", -2, kReadOnly, 0, 0, 0, ScanCommand, "generic", "Iterates over the key names in the database."});
  t.Add({"randomkey", 1, kReadOnly, 0, 0, 0, RandomKeyCommand, "generic", "Returns a random key name from the database."});
  t.Add({"expire", -3, kWrite | kFast, 1, 1, 1, ExpireCommand, "generic", "Sets the expiration time of a key in seconds."});
  t.Add({"pexpire", -3, kWrite | kFast, 1, 1, 1, PExpireCommand, "generic", "Sets the expiration time of a key in milliseconds."});
  t.Add({"expireat", -3, kWrite | kFast, 1, 1, 1, ExpireAtCommand, "generic", "Sets the expiration time of a key to a Unix timestamp."});
  t.Add({"pexpireat", -3, kWrite | kFast, 1, 1, 1, PExpireAtCommand, "generic", "Sets the expiration time of a key to a Unix milliseconds timestamp."});
  t.Add({"ttl", 2, kReadOnly | kFast, 1, 1, 1, TtlCommand, "generic", "Returns the expiration time in seconds of a key."});
  t.Add({"pttl", 2, kReadOnly | kFast, 1, 1, 1, PTtlCommand, "generic", "Returns the expiration time in milliseconds of a key."});
  t.Add({"expiretime", 2, kReadOnly | kFast, 1, 1, 1, ExpireTimeCommand, "generic", "Returns the expiration time of a key as a Unix timestamp."});
  t.Add({"pexpiretime", 2, kReadOnly | kFast, 1, 1, 1, PExpireTimeCommand, "generic", "Returns the expiration time of a key as a Unix milliseconds timestamp."});
  t.Add({"persist", 2, kWrite | kFast, 1, 1, 1, PersistCommand, "generic", "Removes the expiration time of a key."});
  t.Add({"touch", -2, kReadOnly | kFast, 1, -1, 1, TouchCommand, "generic", "Returns the number of existing keys out of those specified after updating the time they were last accessed."});
  t.Add({"object", -2, kReadOnly, 2, 2, 1, ObjectCommand, "generic", "A container for object introspection commands."});
}

}  // namespace ragkv::server
