// Sorted set commands over avl::SortedSet (member -> score hash plus an
// order-statistic AVL tree): every range form is "bound -> RankWindow ->
// Visit", so ZRANGE, the legacy ZRANGEBY* commands, ZCOUNT and the
// ZREMRANGEBY* family share one path and cost O(log n + returned).
#include <algorithm>
#include <unordered_set>

#include "server/commands/command_util.h"
#include "store/glob.h"

namespace ragkv::server {
namespace {

using avl::RankWindow;
using avl::SortedSet;
using store::Object;
using store::ValueType;

SortedSet* ZSetForRead(CommandContext& ctx, bool* wrong) {
  Object* o = LookupRead(ctx, ctx.arg(1), ValueType::kZSet, wrong);
  return o == nullptr ? nullptr : &o->zset();
}

// Deletes the key when the set became empty, as Redis does.
void DeleteIfEmpty(CommandContext& ctx, const SortedSet& z) {
  if (z.empty()) ctx.db.Delete(ctx.arg(1));
}

void ZAddGeneric(CommandContext& ctx, bool zincrby) {
  avl::AddFlags flags;
  bool ch = false;
  size_t i = 2;
  if (zincrby) {
    flags.incr = true;
  } else {
    for (; i < ctx.argc(); ++i) {
      std::string_view a = ctx.arg(i);
      if (EqualsIgnoreCase(a, "NX")) {
        flags.nx = true;
      } else if (EqualsIgnoreCase(a, "XX")) {
        flags.xx = true;
      } else if (EqualsIgnoreCase(a, "GT")) {
        flags.gt = true;
      } else if (EqualsIgnoreCase(a, "LT")) {
        flags.lt = true;
      } else if (EqualsIgnoreCase(a, "CH")) {
        ch = true;
      } else if (EqualsIgnoreCase(a, "INCR")) {
        flags.incr = true;
      } else {
        break;
      }
    }
  }
  size_t pairs_args = ctx.argc() - i;
  if (pairs_args == 0 || pairs_args % 2 != 0) {
    ctx.out.Error(errors::kSyntax);
    return;
  }
  if (flags.incr && pairs_args > 2) {
    ctx.out.Error(errors::kZaddIncrPair);
    return;
  }
  if (Status s = avl::ValidateAddFlags(flags); !s.ok()) {
    ctx.out.Error(s.message());
    return;
  }
  // All scores are validated before anything changes; most ZADDs carry one
  // pair, so small batches avoid the heap.
  double inline_scores[16];
  std::vector<double> heap_scores;
  double* scores = inline_scores;
  if (pairs_args / 2 > std::size(inline_scores)) {
    heap_scores.resize(pairs_args / 2);
    scores = heap_scores.data();
  }
  for (size_t j = i, k = 0; j < ctx.argc(); j += 2, ++k) {
    std::optional<double> score = avl::ParseScore(ctx.arg(j));
    if (!score) {
      ctx.out.Error(errors::kNotFloat);
      return;
    }
    scores[k] = *score;
  }
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kZSet, &wrong);
  if (wrong) return;
  if (o == nullptr) {
    if (flags.xx) {
      if (flags.incr) {
        ctx.out.Null();
      } else {
        ctx.out.Integer(0);
      }
      return;
    }
    o = &ctx.db.Set(ctx.arg(1), Object::NewZSet());
  }
  SortedSet& z = o->zset();
  int64_t added = 0, updated = 0;
  avl::AddOutcome last;
  for (size_t j = i, k = 0; j < ctx.argc(); j += 2, ++k) {
    last = z.Add(ctx.arg(j + 1), scores[k], flags);
    if (last.result == avl::AddResult::kNan) {
      DeleteIfEmpty(ctx, z);
      ctx.out.Error(errors::kZsetNan);
      return;
    }
    if (last.result == avl::AddResult::kAdded) ++added;
    if (last.result == avl::AddResult::kUpdated) ++updated;
  }
  ctx.dirty += added + updated;
  DeleteIfEmpty(ctx, z);
  if (flags.incr) {
    if (last.result == avl::AddResult::kNotApplied) {
      ctx.out.Null();
    } else {
      ctx.out.Double(last.new_score);
    }
  } else {
    ctx.out.Integer(ch ? added + updated : added);
  }
}
void ZAddCommand(CommandContext& ctx) { ZAddGeneric(ctx, false); }
void ZIncrByCommand(CommandContext& ctx) { ZAddGeneric(ctx, true); }

void ZRemCommand(CommandContext& ctx) {
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kZSet, &wrong);
  if (wrong) return;
  int64_t removed = 0;
  if (o != nullptr) {
    for (size_t i = 2; i < ctx.argc(); ++i) removed += o->zset().Remove(ctx.arg(i)) ? 1 : 0;
    DeleteIfEmpty(ctx, o->zset());
  }
  ctx.dirty += removed;
  ctx.out.Integer(removed);
}

void ZScoreCommand(CommandContext& ctx) {
  bool wrong;
  SortedSet* z = ZSetForRead(ctx, &wrong);
  if (wrong) return;
  std::optional<double> s = z ? z->Score(ctx.arg(2)) : std::nullopt;
  if (s) {
    ctx.out.Double(*s);
  } else {
    ctx.out.Null();
  }
}

void ZMScoreCommand(CommandContext& ctx) {
  bool wrong;
  SortedSet* z = ZSetForRead(ctx, &wrong);
  if (wrong) return;
  ctx.out.ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    std::optional<double> s = z ? z->Score(ctx.arg(i)) : std::nullopt;
    if (s) {
      ctx.out.Double(*s);
    } else {
      ctx.out.Null();
    }
  }
}

void ZCardCommand(CommandContext& ctx) {
  bool wrong;
  SortedSet* z = ZSetForRead(ctx, &wrong);
  if (wrong) return;
  ctx.out.Integer(z ? static_cast<int64_t>(z->size()) : 0);
}

void ZCountCommand(CommandContext& ctx) {
  auto range = avl::ParseScoreRange(ctx.arg(2), ctx.arg(3));
  if (!range.ok()) {
    ctx.out.Error(errors::kMinMaxNotFloat);
    return;
  }
  bool wrong;
  SortedSet* z = ZSetForRead(ctx, &wrong);
  if (wrong) return;
  ctx.out.Integer(z ? static_cast<int64_t>(z->Count(*range)) : 0);
}

void ZLexCountCommand(CommandContext& ctx) {
  auto range = avl::ParseLexRange(ctx.arg(2), ctx.arg(3));
  if (!range.ok()) {
    ctx.out.Error(errors::kMinMaxNotLex);
    return;
  }
  bool wrong;
  SortedSet* z = ZSetForRead(ctx, &wrong);
  if (wrong) return;
  ctx.out.Integer(z ? static_cast<int64_t>(z->LexCount(*range)) : 0);
}

void ZRankGeneric(CommandContext& ctx, bool reverse) {
  bool wrong;
  SortedSet* z = ZSetForRead(ctx, &wrong);
  if (wrong) return;
  std::optional<size_t> r = z ? z->Rank(ctx.arg(2), reverse) : std::nullopt;
  if (r) {
    ctx.out.Integer(static_cast<int64_t>(*r));
  } else {
    ctx.out.Null();
  }
}
void ZRankCommand(CommandContext& ctx) { ZRankGeneric(ctx, false); }
void ZRevRankCommand(CommandContext& ctx) { ZRankGeneric(ctx, true); }

// Writes the members of `window` (with scores: RESP2 flat, RESP3 pairs).
void ReplyWindow(CommandContext& ctx, const SortedSet* z, RankWindow window, bool reverse,
                 bool with_scores) {
  if (z == nullptr) window = {};
  bool pairs = with_scores && ctx.out.protocol() >= 3;
  ctx.out.ArrayHeader(with_scores && !pairs ? window.count * 2 : window.count);
  if (window.empty()) return;
  z->Visit(window, reverse, [&](std::string_view member, double score) {
    if (pairs) ctx.out.ArrayHeader(2);
    ctx.out.Bulk(member);
    if (with_scores) ctx.out.Double(score);
  });
}

enum class RangeKind : uint8_t { kRank, kScore, kLex };

// The shared core of ZRANGE and the legacy range commands. `min_arg` and
// `max_arg` are the two bound arguments as the user wrote them (for REV score
// and lex ranges the user writes max first; callers pass them swapped back).
// `opts_from` is the index of the first option argument. With `remove`, the
// window is deleted instead of returned (ZREMRANGEBY*).
void RangeGeneric(CommandContext& ctx, RangeKind kind, bool reverse, std::string_view min_arg,
                  std::string_view max_arg, size_t opts_from, bool allow_options) {
  bool with_scores = false, has_limit = false;
  int64_t offset = 0, limit = -1;
  if (allow_options) {
    for (size_t i = opts_from; i < ctx.argc(); ++i) {
      std::string_view a = ctx.arg(i);
      if (EqualsIgnoreCase(a, "WITHSCORES")) {
        with_scores = true;
      } else if (EqualsIgnoreCase(a, "LIMIT") && i + 2 < ctx.argc()) {
        if (!ParseIntArg(ctx, ctx.arg(i + 1), &offset) || !ParseIntArg(ctx, ctx.arg(i + 2), &limit)) {
          return;
        }
        has_limit = true;
        i += 2;
      } else {
        ctx.out.Error(errors::kSyntax);
        return;
      }
    }
  }
  if (has_limit && kind == RangeKind::kRank) {
    ctx.out.Error("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
    return;
  }
  if (with_scores && kind == RangeKind::kLex) {
    ctx.out.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
    return;
  }
  std::optional<avl::ScoreRange> score_range;
  std::optional<avl::LexRange> lex_range;
  int64_t start = 0, stop = 0;
  switch (kind) {
    case RangeKind::kRank:
      if (!ParseIntArg(ctx, min_arg, &start) || !ParseIntArg(ctx, max_arg, &stop)) return;
      break;
    case RangeKind::kScore: {
      auto r = avl::ParseScoreRange(min_arg, max_arg);
      if (!r.ok()) {
        ctx.out.Error(errors::kMinMaxNotFloat);
        return;
      }
      score_range = *r;
      break;
    }
    case RangeKind::kLex: {
      auto r = avl::ParseLexRange(min_arg, max_arg);
      if (!r.ok()) {
        ctx.out.Error(errors::kMinMaxNotLex);
        return;
      }
      lex_range = *r;
      break;
    }
  }
  bool wrong;
  SortedSet* z = ZSetForRead(ctx, &wrong);
  if (wrong) return;
  RankWindow window;
  if (z != nullptr) {
    if (kind == RangeKind::kRank) {
      window = avl::WindowFromIndexes(start, stop, z->size(), reverse);
    } else {
      window = kind == RangeKind::kScore ? z->ScoreWindow(*score_range) : z->LexWindow(*lex_range);
      if (has_limit) window = avl::ApplyLimit(window, offset, limit, reverse);
    }
  }
  ReplyWindow(ctx, z, window, reverse, with_scores);
}

void ZRangeCommand(CommandContext& ctx) {
  RangeKind kind = RangeKind::kRank;
  bool reverse = false;
  // Separate BYSCORE/BYLEX/REV from the options RangeGeneric parses.
  std::vector<std::string_view> rest(ctx.argv.begin(), ctx.argv.begin() + 4);
  for (size_t i = 4; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (EqualsIgnoreCase(a, "BYSCORE") && kind == RangeKind::kRank) {
      kind = RangeKind::kScore;
    } else if (EqualsIgnoreCase(a, "BYLEX") && kind == RangeKind::kRank) {
      kind = RangeKind::kLex;
    } else if (EqualsIgnoreCase(a, "REV")) {
      reverse = true;
    } else {
      rest.push_back(a);
    }
  }
  CommandContext sub{ctx.engine, ctx.session, rest, ctx.out, ctx.db};
  std::string_view a = ctx.arg(2), b = ctx.arg(3);
  if (reverse && kind != RangeKind::kRank) std::swap(a, b);
  RangeGeneric(sub, kind, reverse, a, b, 4, true);
}

void ZRevRangeCommand(CommandContext& ctx) {
  if (ctx.argc() > 5 || (ctx.argc() == 5 && !EqualsIgnoreCase(ctx.arg(4), "WITHSCORES"))) {
    ctx.out.Error(errors::kSyntax);
    return;
  }
  RangeGeneric(ctx, RangeKind::kRank, true, ctx.arg(2), ctx.arg(3), 4, true);
}
void ZRangeByScoreCommand(CommandContext& ctx) {
  RangeGeneric(ctx, RangeKind::kScore, false, ctx.arg(2), ctx.arg(3), 4, true);
}
void ZRevRangeByScoreCommand(CommandContext& ctx) {
  RangeGeneric(ctx, RangeKind::kScore, true, ctx.arg(3), ctx.arg(2), 4, true);
}
void ZRangeByLexCommand(CommandContext& ctx) {
  RangeGeneric(ctx, RangeKind::kLex, false, ctx.arg(2), ctx.arg(3), 4, true);
}
void ZRevRangeByLexCommand(CommandContext& ctx) {
  RangeGeneric(ctx, RangeKind::kLex, true, ctx.arg(3), ctx.arg(2), 4, true);
}

void ZRemRangeGeneric(CommandContext& ctx, RangeKind kind) {
  RankWindow window;
  std::optional<avl::ScoreRange> score_range;
  std::optional<avl::LexRange> lex_range;
  int64_t start = 0, stop = 0;
  if (kind == RangeKind::kRank) {
    if (!ParseIntArg(ctx, ctx.arg(2), &start) || !ParseIntArg(ctx, ctx.arg(3), &stop)) return;
  } else if (kind == RangeKind::kScore) {
    auto r = avl::ParseScoreRange(ctx.arg(2), ctx.arg(3));
    if (!r.ok()) {
      ctx.out.Error(errors::kMinMaxNotFloat);
      return;
    }
    score_range = *r;
  } else {
    auto r = avl::ParseLexRange(ctx.arg(2), ctx.arg(3));
    if (!r.ok()) {
      ctx.out.Error(errors::kMinMaxNotLex);
      return;
    }
    lex_range = *r;
  }
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kZSet, &wrong);
  if (wrong) return;
  if (o == nullptr) {
    ctx.out.Integer(0);
    return;
  }
  SortedSet& z = o->zset();
  if (kind == RangeKind::kRank) {
    window = avl::WindowFromIndexes(start, stop, z.size(), false);
  } else if (kind == RangeKind::kScore) {
    window = z.ScoreWindow(*score_range);
  } else {
    window = z.LexWindow(*lex_range);
  }
  size_t removed = z.RemoveWindow(window);
  DeleteIfEmpty(ctx, z);
  ctx.dirty += static_cast<int64_t>(removed);
  ctx.out.Integer(static_cast<int64_t>(removed));
}
void ZRemRangeByRankCommand(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeKind::kRank); }
void ZRemRangeByScoreCommand(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeKind::kScore); }
void ZRemRangeByLexCommand(CommandContext& ctx) { ZRemRangeGeneric(ctx, RangeKind::kLex); }

void ZPopGeneric(CommandContext& ctx, bool max) {
  int64_t count = 1;
  bool has_count = ctx.argc() == 3;
  if (ctx.argc() > 3) {
    ctx.out.Error(errors::kSyntax);
    return;
  }
  if (has_count) {
    if (!ParseIntArg(ctx, ctx.arg(2), &count)) return;
    if (count < 0) {
      ctx.out.Error(errors::kOutOfRangePositive);
      return;
    }
  }
  bool wrong;
  Object* o = LookupWrite(ctx, ctx.arg(1), ValueType::kZSet, &wrong);
  if (wrong) return;
  if (o == nullptr || count == 0) {
    ctx.out.ArrayHeader(0);
    return;
  }
  SortedSet& z = o->zset();
  std::vector<avl::ScoredMember> popped =
      max ? z.PopMax(static_cast<size_t>(count)) : z.PopMin(static_cast<size_t>(count));
  bool pairs = has_count && ctx.out.protocol() >= 3;
  ctx.out.ArrayHeader(pairs ? popped.size() : popped.size() * 2);
  for (const auto& p : popped) {
    if (pairs) ctx.out.ArrayHeader(2);
    ctx.out.Bulk(p.member);
    ctx.out.Double(p.score);
  }
  DeleteIfEmpty(ctx, z);
  ctx.dirty += static_cast<int64_t>(popped.size());
  // Replicas must pop exactly these members.
  std::vector<std::string> zrem = {"ZREM", std::string(ctx.arg(1))};
  for (const auto& p : popped) zrem.push_back(p.member);
  ctx.rewritten.push_back(std::move(zrem));
}
void ZPopMinCommand(CommandContext& ctx) { ZPopGeneric(ctx, false); }
void ZPopMaxCommand(CommandContext& ctx) { ZPopGeneric(ctx, true); }

void ZRandMemberCommand(CommandContext& ctx) {
  bool with_scores = false;
  int64_t count = 0;
  const bool has_count = ctx.argc() >= 3;
  if (!ParseRandomCountArgs(ctx, "WITHSCORES", &count, &with_scores)) return;
  bool wrong;
  SortedSet* z = ZSetForRead(ctx, &wrong);
  if (wrong) return;
  auto& rng = ctx.engine.rng();
  if (!has_count) {
    if (z == nullptr) {
      ctx.out.Null();
    } else {
      ctx.out.Bulk(z->AtRank(rng() % z->size())->member);
    }
    return;
  }
  if (z == nullptr || count == 0) {
    ctx.out.ArrayHeader(0);
    return;
  }
  bool pairs = with_scores && ctx.out.protocol() >= 3;
  auto emit = [&](size_t rank) {
    SortedSet::Entry e = *z->AtRank(rank);
    if (pairs) ctx.out.ArrayHeader(2);
    ctx.out.Bulk(e.member);
    if (with_scores) ctx.out.Double(e.score);
  };
  size_t per = with_scores && !pairs ? 2 : 1;
  if (count < 0) {
    size_t n = static_cast<size_t>(-count);
    ctx.out.ArrayHeader(n * per);
    for (size_t i = 0; i < n; ++i) emit(rng() % z->size());
    return;
  }
  size_t n = std::min(static_cast<size_t>(count), z->size());
  ctx.out.ArrayHeader(n * per);
  if (n * 3 > z->size()) {
    std::vector<size_t> ranks(z->size());
    for (size_t i = 0; i < ranks.size(); ++i) ranks[i] = i;
    std::shuffle(ranks.begin(), ranks.end(), rng);
    for (size_t i = 0; i < n; ++i) emit(ranks[i]);
    return;
  }
  std::unordered_set<size_t> picked;
  while (picked.size() < n) {
    size_t r = rng() % z->size();
    if (picked.insert(r).second) emit(r);
  }
}

void ZScanCommand(CommandContext& ctx) {
  uint64_t cursor;
  std::string_view pattern = "*", type;
  int64_t count;
  if (!ParseScanArgs(ctx, 2, false, &cursor, &pattern, &count, &type)) return;
  bool wrong;
  SortedSet* z = ZSetForRead(ctx, &wrong);
  if (wrong) return;
  // SortedSet::Scan's cursor is a 64-bit order-preserving encoding of a
  // score; clients such as node-redis parse cursors as JavaScript numbers,
  // exact only below 2^53. So the wire cursor drops the low kDroppedBits:
  // resuming from the rounded-down cursor starts at or before the exact
  // position (a few duplicates, allowed by SCAN; never a miss), and the scan
  // continues here until the rounded cursor moves forward, so every call
  // makes progress.
  constexpr int kDroppedBits = 11;
  std::vector<std::pair<std::string_view, double>> items;
  uint64_t next = 0;
  if (z != nullptr) {
    bool all = pattern == "*";
    auto collect = [&](std::string_view m, double s) {
      if (all || store::GlobMatch(pattern, m)) items.emplace_back(m, s);
    };
    uint64_t exact = z->Scan(cursor << kDroppedBits, static_cast<size_t>(count), collect);
    while (exact != 0 && (exact >> kDroppedBits) <= cursor) {
      exact = z->Scan(exact, static_cast<size_t>(count), collect);
    }
    next = exact == 0 ? 0 : std::max<uint64_t>(1, exact >> kDroppedBits);
  }
  ctx.out.ArrayHeader(2);
  ctx.out.Bulk(std::to_string(next));
  ctx.out.ArrayHeader(items.size() * 2);
  for (const auto& [m, s] : items) {
    ctx.out.Bulk(m);
    ctx.out.Bulk(resp::FormatDouble(s));
  }
}

}  // namespace

void RegisterZSetCommands(CommandTable& t) {
  const uint32_t kW = kWrite | kDenyOom;
  t.Add({"zadd", -4, kW | kFast, 1, 1, 1, ZAddCommand, "sorted_set", "Adds one or more members to a sorted set, or updates their scores."});
  t.Add({"zincrby", 4, kW | kFast, 1, 1, 1, ZIncrByCommand, "sorted_set", "Increments the score of a member in a sorted set."});
  t.Add({"zrem", -3, kWrite | kFast, 1, 1, 1, ZRemCommand, "sorted_set", "Removes one or more members from a sorted set."});
  t.Add({"zscore", 3, kReadOnly | kFast, 1, 1, 1, ZScoreCommand, "sorted_set", "Returns the score of a member in a sorted set."});
  t.Add({"zmscore", -3, kReadOnly | kFast, 1, 1, 1, ZMScoreCommand, "sorted_set", "Returns the score of one or more members in a sorted set."});
  t.Add({"zcard", 2, kReadOnly | kFast, 1, 1, 1, ZCardCommand, "sorted_set", "Returns the number of members in a sorted set."});
  t.Add({"zcount", 4, kReadOnly | kFast, 1, 1, 1, ZCountCommand, "sorted_set", "Returns the count of members in a sorted set that have scores within a range."});
  t.Add({"zlexcount", 4, kReadOnly | kFast, 1, 1, 1, ZLexCountCommand, "sorted_set", "Returns the number of members in a sorted set within a lexicographical range."});
  t.Add({"zrank", 3, kReadOnly | kFast, 1, 1, 1, ZRankCommand, "sorted_set", "Returns the index of a member in a sorted set ordered by ascending scores."});
  t.Add({"zrevrank", 3, kReadOnly | kFast, 1, 1, 1, ZRevRankCommand, "sorted_set", "Returns the index of a member in a sorted set ordered by descending scores."});
  t.Add({"zrange", -4, kReadOnly, 1, 1, 1, ZRangeCommand, "sorted_set", "Returns members in a sorted set within a range of indexes."});
  t.Add({"zrevrange", -4, kReadOnly, 1, 1, 1, ZRevRangeCommand, "sorted_set", "Returns members in a sorted set within a range of indexes in reverse order."});
  t.Add({"zrangebyscore", -4, kReadOnly, 1, 1, 1, ZRangeByScoreCommand, "sorted_set", "Returns members in a sorted set within a range of scores."});
  t.Add({"zrevrangebyscore", -4, kReadOnly, 1, 1, 1, ZRevRangeByScoreCommand, "sorted_set", "Returns members in a sorted set within a range of scores in reverse order."});
  t.Add({"zrangebylex", -4, kReadOnly, 1, 1, 1, ZRangeByLexCommand, "sorted_set", "Returns members in a sorted set within a lexicographical range."});
  t.Add({"zrevrangebylex", -4, kReadOnly, 1, 1, 1, ZRevRangeByLexCommand, "sorted_set", "Returns members in a sorted set within a lexicographical range in reverse order."});
  t.Add({"zremrangebyrank", 4, kWrite, 1, 1, 1, ZRemRangeByRankCommand, "sorted_set", "Removes members in a sorted set within a range of indexes."});
  t.Add({"zremrangebyscore", 4, kWrite, 1, 1, 1, ZRemRangeByScoreCommand, "sorted_set", "Removes members in a sorted set within a range of scores."});
  t.Add({"zremrangebylex", 4, kWrite, 1, 1, 1, ZRemRangeByLexCommand, "sorted_set", "Removes members in a sorted set within a lexicographical range."});
  t.Add({"zpopmin", -2, kWrite | kFast, 1, 1, 1, ZPopMinCommand, "sorted_set", "Returns the lowest-scoring members from a sorted set after removing them."});
  t.Add({"zpopmax", -2, kWrite | kFast, 1, 1, 1, ZPopMaxCommand, "sorted_set", "Returns the highest-scoring members from a sorted set after removing them."});
  t.Add({"zrandmember", -2, kReadOnly, 1, 1, 1, ZRandMemberCommand, "sorted_set", "Returns one or more random members from a sorted set."});
  t.Add({"zscan", -3, kReadOnly, 1, 1, 1, ZScanCommand, "sorted_set", "Iterates over members and scores of a sorted set."});
}

}  // namespace ragkv::server
