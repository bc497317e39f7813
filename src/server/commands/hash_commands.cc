// Hash commands over store::HashMap (std::unordered_map with heterogeneous
// lookup, so probing with request arguments does not allocate). Fields and
// values are binary safe; vector blobs live in hash fields.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "server/commands/command_util.h"
#include "server/commands/random_element.h"
#include "store/bucket_scan.h"
#include "store/glob.h"

namespace ragkv::server {
namespace {

using store::HashMap;
using store::Object;
using store::ValueType;

// The hash at argv[1] for writing, created when absent. nullptr after a
// WRONGTYPE reply.
HashMap* HashForWrite(CommandContext& ctx) {
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kHash, &wrong);
  if (wrong) return nullptr;
  if (o == nullptr) o = &ctx.db.Set(ctx.arg(1), Object::NewHash());
  return &o->hash();
}

// The hash at argv[1] for reading; *missing when absent. nullptr after a
// WRONGTYPE reply or when missing.
const HashMap* HashForRead(CommandContext& ctx, bool* wrong) {
  Object* o = LookupRead(ctx, ctx.arg(1), ValueType::kHash, wrong);
  return o == nullptr ? nullptr : &o->hash();
}

void SetField(HashMap& h, std::string_view field, std::string_view value, int64_t* created) {
  auto it = h.find(field);
  if (it == h.end()) {
    h.emplace(std::string(field), std::string(value));
    ++*created;
  } else {
    it->second.assign(value);
  }
}

void HSetCommand(CommandContext& ctx) {
  if (ctx.argc() % 2 != 0) {
    ctx.out.Error(errors::WrongArity(ctx.arg(0)));
    return;
  }
  HashMap* h = HashForWrite(ctx);
  if (h == nullptr) return;
  int64_t created = 0;
  for (size_t i = 2; i < ctx.argc(); i += 2) SetField(*h, ctx.arg(i), ctx.arg(i + 1), &created);
  ctx.dirty += static_cast<int64_t>((ctx.argc() - 2) / 2);
  if (EqualsIgnoreCase(ctx.arg(0), "HMSET")) {
    ctx.out.Ok();
  } else {
    ctx.out.Integer(created);
  }
}

void HSetNxCommand(CommandContext& ctx) {
  HashMap* h = HashForWrite(ctx);
  if (h == nullptr) return;
  if (h->find(ctx.arg(2)) != h->end()) {
    ctx.out.Integer(0);
    return;
  }
  h->emplace(std::string(ctx.arg(2)), std::string(ctx.arg(3)));
  ++ctx.dirty;
  ctx.out.Integer(1);
}

void HGetCommand(CommandContext& ctx) {
  bool wrong;
  const HashMap* h = HashForRead(ctx, &wrong);
  if (wrong) return;
  auto it = h ? h->find(ctx.arg(2)) : HashMap::const_iterator();
  if (h == nullptr || it == h->end()) {
    ctx.out.Null();
  } else {
    ctx.out.Bulk(it->second);
  }
}

void HMGetCommand(CommandContext& ctx) {
  bool wrong;
  const HashMap* h = HashForRead(ctx, &wrong);
  if (wrong) return;
  ctx.out.ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    auto it = h ? h->find(ctx.arg(i)) : HashMap::const_iterator();
    if (h == nullptr || it == h->end()) {
      ctx.out.Null();
    } else {
      ctx.out.Bulk(it->second);
    }
  }
}

void HGetAllCommand(CommandContext& ctx) {
  bool wrong;
  const HashMap* h = HashForRead(ctx, &wrong);
  if (wrong) return;
  if (h == nullptr) {
    ctx.out.MapHeader(0);
    return;
  }
  ctx.out.MapHeader(h->size());
  for (const auto& [f, v] : *h) {
    ctx.out.Bulk(f);
    ctx.out.Bulk(v);
  }
}

void HKeysOrValues(CommandContext& ctx, bool keys) {
  bool wrong;
  const HashMap* h = HashForRead(ctx, &wrong);
  if (wrong) return;
  ctx.out.ArrayHeader(h ? h->size() : 0);
  if (h == nullptr) return;
  for (const auto& [f, v] : *h) ctx.out.Bulk(keys ? f : v);
}
void HKeysCommand(CommandContext& ctx) { HKeysOrValues(ctx, true); }
void HValsCommand(CommandContext& ctx) { HKeysOrValues(ctx, false); }

void HDelCommand(CommandContext& ctx) {
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kHash, &wrong);
  if (wrong) return;
  int64_t deleted = 0;
  if (o != nullptr) {
    HashMap& h = o->hash();
    for (size_t i = 2; i < ctx.argc(); ++i) {
      auto it = h.find(ctx.arg(i));
      if (it != h.end()) {
        h.erase(it);
        ++deleted;
      }
    }
    if (h.empty()) ctx.db.Delete(ctx.arg(1));
  }
  ctx.dirty += deleted;
  ctx.out.Integer(deleted);
}

void HExistsCommand(CommandContext& ctx) {
  bool wrong;
  const HashMap* h = HashForRead(ctx, &wrong);
  if (wrong) return;
  ctx.out.Integer(h != nullptr && h->find(ctx.arg(2)) != h->end() ? 1 : 0);
}

void HLenCommand(CommandContext& ctx) {
  bool wrong;
  const HashMap* h = HashForRead(ctx, &wrong);
  if (wrong) return;
  ctx.out.Integer(h ? static_cast<int64_t>(h->size()) : 0);
}

void HStrlenCommand(CommandContext& ctx) {
  bool wrong;
  const HashMap* h = HashForRead(ctx, &wrong);
  if (wrong) return;
  auto it = h ? h->find(ctx.arg(2)) : HashMap::const_iterator();
  ctx.out.Integer(h == nullptr || it == h->end() ? 0 : static_cast<int64_t>(it->second.size()));
}

void HIncrByCommand(CommandContext& ctx) {
  int64_t delta;
  if (!ParseIntArg(ctx, ctx.arg(3), &delta)) return;
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kHash, &wrong);
  if (wrong) return;
  int64_t current = 0;
  if (o != nullptr) {
    auto it = o->hash().find(ctx.arg(2));
    if (it != o->hash().end() && !ParseInt(it->second, &current)) {
      ctx.out.Error(errors::kHashNotInteger);
      return;
    }
  }
  if ((delta < 0 && current < 0 && delta < INT64_MIN - current) ||
      (delta > 0 && current > 0 && delta > INT64_MAX - current)) {
    ctx.out.Error(errors::kOverflow);
    return;
  }
  HashMap* h = HashForWrite(ctx);
  int64_t created = 0;
  SetField(*h, ctx.arg(2), IntToString(current + delta), &created);
  ++ctx.dirty;
  ctx.out.Integer(current + delta);
}

void HIncrByFloatCommand(CommandContext& ctx) {
  long double delta;
  if (!ParseLongDouble(ctx.arg(3), &delta)) {
    ctx.out.Error(errors::kNotFloat);
    return;
  }
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kHash, &wrong);
  if (wrong) return;
  long double current = 0;
  if (o != nullptr) {
    auto it = o->hash().find(ctx.arg(2));
    if (it != o->hash().end() && !ParseLongDouble(it->second, &current)) {
      ctx.out.Error(errors::kHashNotFloat);
      return;
    }
  }
  long double result = current + delta;
  if (std::isnan(result) || std::isinf(result)) {
    ctx.out.Error(errors::kNanOrInfinity);
    return;
  }
  std::string text = FormatLongDouble(result);
  HashMap* h = HashForWrite(ctx);
  int64_t created = 0;
  SetField(*h, ctx.arg(2), text, &created);
  ctx.rewritten.push_back({"HSET", std::string(ctx.arg(1)), std::string(ctx.arg(2)), text});
  ++ctx.dirty;
  ctx.out.Bulk(text);
}

void WriteFieldValue(CommandContext& ctx, const HashMap::value_type& kv, bool with_values) {
  if (with_values && ctx.out.protocol() >= 3) ctx.out.ArrayHeader(2);
  ctx.out.Bulk(kv.first);
  if (with_values) ctx.out.Bulk(kv.second);
}

void HRandFieldCommand(CommandContext& ctx) {
  bool with_values = false;
  int64_t count = 0;
  const bool has_count = ctx.argc() >= 3;
  if (!ParseRandomCountArgs(ctx, "WITHVALUES", &count, &with_values)) return;
  bool wrong;
  const HashMap* h = HashForRead(ctx, &wrong);
  if (wrong) return;
  auto& rng = ctx.engine.rng();
  if (!has_count) {
    if (h == nullptr) {
      ctx.out.Null();
    } else {
      ctx.out.Bulk(RandomElement(*h, rng).first);
    }
    return;
  }
  if (h == nullptr || count == 0) {
    ctx.out.ArrayHeader(0);
    return;
  }
  size_t reply_items = with_values && ctx.out.protocol() < 3 ? 2 : 1;
  if (count < 0) {
    // Repetitions allowed.
    size_t n = static_cast<size_t>(-count);
    ctx.out.ArrayHeader(n * reply_items);
    for (size_t i = 0; i < n; ++i) WriteFieldValue(ctx, RandomElement(*h, rng), with_values);
    return;
  }
  size_t n = std::min(static_cast<size_t>(count), h->size());
  ctx.out.ArrayHeader(n * reply_items);
  if (n == h->size() || n * 3 > h->size()) {
    // Many of the elements: shuffle pointers to all and take a prefix.
    std::vector<const HashMap::value_type*> all;
    all.reserve(h->size());
    for (const auto& kv : *h) all.push_back(&kv);
    std::shuffle(all.begin(), all.end(), rng);
    for (size_t i = 0; i < n; ++i) WriteFieldValue(ctx, *all[i], with_values);
    return;
  }
  std::unordered_set<const HashMap::value_type*> picked;
  while (picked.size() < n) {
    const auto& kv = RandomElement(*h, rng);
    if (picked.insert(&kv).second) WriteFieldValue(ctx, kv, with_values);
  }
}

void HScanCommand(CommandContext& ctx) {
  uint64_t cursor;
  std::string_view pattern = "*", type;
  int64_t count;
  if (!ParseScanArgs(ctx, 2, false, &cursor, &pattern, &count, &type)) return;
  bool wrong;
  const HashMap* h = HashForRead(ctx, &wrong);
  if (wrong) return;
  std::vector<const HashMap::value_type*> items;
  uint64_t next = 0;
  if (h != nullptr) {
    bool all = pattern == "*";
    next = store::ScanBuckets(*h, cursor, static_cast<size_t>(count),
                              [&](const HashMap::value_type& kv) {
                                if (all || store::GlobMatch(pattern, kv.first)) items.push_back(&kv);
                              });
  }
  ctx.out.ArrayHeader(2);
  ctx.out.Bulk(std::to_string(next));
  ctx.out.ArrayHeader(items.size() * 2);
  for (const auto* kv : items) {
    ctx.out.Bulk(kv->first);
    ctx.out.Bulk(kv->second);
  }
}

}  // namespace

void RegisterHashCommands(CommandTable& t) {
  const uint32_t kW = kWrite | kDenyOom;
  t.Add({"hset", -4, kW | kFast, 1, 1, 1, HSetCommand, "hash", "Creates or modifies the value of a field in a hash."});
  t.Add({"hmset", -4, kW | kFast, 1, 1, 1, HSetCommand, "hash", "Sets the values of multiple fields."});
  t.Add({"hsetnx", 4, kW | kFast, 1, 1, 1, HSetNxCommand, "hash", "Sets the value of a field in a hash only when the field doesn't exist."});
  t.Add({"hget", 3, kReadOnly | kFast, 1, 1, 1, HGetCommand, "hash", "Returns the value of a field in a hash."});
  t.Add({"hmget", -3, kReadOnly | kFast, 1, 1, 1, HMGetCommand, "hash", "Returns the values of all fields in a hash."});
  t.Add({"hgetall", 2, kReadOnly, 1, 1, 1, HGetAllCommand, "hash", "Returns all fields and values in a hash."});
  t.Add({"hkeys", 2, kReadOnly, 1, 1, 1, HKeysCommand, "hash", "Returns all fields in a hash."});
  t.Add({"hvals", 2, kReadOnly, 1, 1, 1, HValsCommand, "hash", "Returns all values in a hash."});
  t.Add({"hdel", -3, kWrite | kFast, 1, 1, 1, HDelCommand, "hash", "Deletes one or more fields and their values from a hash."});
  t.Add({"hexists", 3, kReadOnly | kFast, 1, 1, 1, HExistsCommand, "hash", "Determines whether a field exists in a hash."});
  t.Add({"hlen", 2, kReadOnly | kFast, 1, 1, 1, HLenCommand, "hash", "Returns the number of fields in a hash."});
  t.Add({"hstrlen", 3, kReadOnly | kFast, 1, 1, 1, HStrlenCommand, "hash", "Returns the length of the value of a field."});
  t.Add({"hincrby", 4, kW | kFast, 1, 1, 1, HIncrByCommand, "hash", "Increments the integer value of a field in a hash by a number."});
  t.Add({"hincrbyfloat", 4, kW | kFast, 1, 1, 1, HIncrByFloatCommand, "hash", "Increments the floating point value of a field by a number."});
  t.Add({"hrandfield", -2, kReadOnly, 1, 1, 1, HRandFieldCommand, "hash", "Returns one or more random fields from a hash."});
  t.Add({"hscan", -3, kReadOnly, 1, 1, 1, HScanCommand, "hash", "Iterates over fields and values of a hash."});
}

}  // namespace ragkv::server
