// SortedSet: the value behind a Redis ZSET key. Members are binary-safe
// strings, each with a double score; the set is ordered by (score, member
// bytes), ties broken by memcmp of the member exactly as Redis orders them.
//
// Two structures hold the same elements (Redis's dict + skiplist pairing):
//  - a hash map member -> score for O(1) ZSCORE and membership tests;
//  - an AvlTree of (score, member) entries for ranks, counts and ranges in
//    O(log n). The tree's entries point at the hash map's key strings (node
//    based, so they never move), so each member is stored once.
//
// Range queries work in two steps: a bound (score range, lex range, rank
// indexes, LIMIT) is turned into a RankWindow (a run of ascending ranks) in
// O(log n), then Visit() walks the window forwards or backwards. Everything
// speaks plain C++ values; RESP stays in the server.
//
// Thread safety: none; the owning keyspace serialises access. Members and
// entries handed out as std::string_view stay valid until the next mutation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "index/avl/avl_tree.h"

namespace ragkv::avl {

// ---- Bounds and argument parsing (Redis syntax, Redis error texts) ----------

// One end of a score range: "1.5" (inclusive), "(1.5" (exclusive), "-inf",
// "+inf", "inf".
struct ScoreBound {
  double value = 0;
  bool exclusive = false;
};
struct ScoreRange {
  ScoreBound min;
  ScoreBound max;
};

// Parses one score bound like Redis's zslParseRange (strtod rules: leading
// spaces, hex and "inf"/"infinity" accepted; NaN and trailing bytes rejected).
// Failure: kInvalidArgument "ERR min or max is not a float".
Result<ScoreBound> ParseScoreBound(std::string_view text);
Result<ScoreRange> ParseScoreRange(std::string_view min, std::string_view max);

// One end of a lex range: "-" (below everything), "+" (above everything),
// "[abc" (inclusive) or "(abc" (exclusive).
struct LexBound {
  enum class Kind : uint8_t { kNegativeInfinity, kPositiveInfinity, kInclusive, kExclusive };
  Kind kind = Kind::kNegativeInfinity;
  std::string value;  // empty for the infinities
};
struct LexRange {
  LexBound min;
  LexBound max;
};

// Failure: kInvalidArgument "ERR min or max not valid string range item".
Result<LexBound> ParseLexBound(std::string_view text);
Result<LexRange> ParseLexRange(std::string_view min, std::string_view max);

// Parses a score argument (ZADD, ZINCRBY) like Redis's getDoubleFromObject:
// strtod over the whole text, no leading space, not NaN; "inf" and "-inf" are
// allowed. Returns nullopt when malformed; the command then replies
// "ERR value is not a valid float".
std::optional<double> ParseScore(std::string_view text);

// ---- ZADD ------------------------------------------------------------------

// ZADD's options that change what Add does. CH only changes the reply, so it
// is not here: reply with (added) or (added + updated) counts.
struct AddFlags {
  bool nx = false;    // only add new members
  bool xx = false;    // only update existing members
  bool gt = false;    // update only if the new score is greater
  bool lt = false;    // update only if the new score is less
  bool incr = false;  // `score` is an increment (ZINCRBY, ZADD INCR)
};

// Returns OK or the error ZADD replies for incompatible options, with Redis's
// texts: "ERR XX and NX options at the same time are not compatible",
// "ERR GT, LT, and/or NX options at the same time are not compatible".
Status ValidateAddFlags(const AddFlags& flags);

// Error text for an INCR that produced NaN (e.g. +inf plus -inf).
inline constexpr std::string_view kNanScoreError = "ERR resulting score is not a number (NaN)";

enum class AddResult : uint8_t {
  kAdded,       // a new member was inserted
  kUpdated,     // an existing member's score changed
  kUnchanged,   // the member exists and already had this score
  kNotApplied,  // NX/XX/GT/LT prevented the operation (ZADD INCR replies nil)
  kNan,         // the resulting score would be NaN; nothing changed
};
struct AddOutcome {
  AddResult result = AddResult::kNotApplied;
  // The member's score afterwards; meaningful for kAdded, kUpdated and
  // kUnchanged (what ZADD INCR and ZINCRBY reply).
  double new_score = 0;
};

// ---- Ranges ----------------------------------------------------------------

// A run of ascending ranks [first, first + count). count == 0 means empty.
struct RankWindow {
  size_t first = 0;
  size_t count = 0;
  size_t end() const { return first + count; }
  bool empty() const { return count == 0; }
};

// Converts ZRANGE-style inclusive indexes (negative counts from the end) into
// a window of ascending ranks, exactly like Redis: start < 0 adds size, then
// clamps at 0; stop < 0 adds size; start > stop or start >= size is empty;
// stop is clamped to size - 1. With `reverse` (ZREVRANGE, ZRANGE ... REV) the
// indexes count from the highest score. O(1).
RankWindow WindowFromIndexes(int64_t start, int64_t stop, size_t size, bool reverse);

// Applies LIMIT offset count to `window` as seen in visiting order (from the
// top when `reverse`). Like Redis, a negative offset yields nothing and a
// negative count means "all the rest". O(1).
RankWindow ApplyLimit(RankWindow window, int64_t offset, int64_t count, bool reverse);

// A member and its score, owning the member (ZPOPMIN/ZPOPMAX results).
struct ScoredMember {
  std::string member;
  double score = 0;
};

class SortedSet {
 public:
  // A tree entry. `member` points into the hash map's key.
  struct Entry {
    double score;
    std::string_view member;
  };
  // Redis's order: by score, then by member bytes (memcmp; a prefix sorts
  // first).
  struct EntryLess {
    bool operator()(const Entry& a, const Entry& b) const {
      if (a.score != b.score) return a.score < b.score;
      return a.member < b.member;
    }
  };

  SortedSet() = default;
  // Deep copy (COPY, snapshots): O(n), the copy's tree is perfectly balanced.
  SortedSet(const SortedSet& other);
  SortedSet& operator=(const SortedSet& other);
  SortedSet(SortedSet&&) noexcept = default;
  SortedSet& operator=(SortedSet&&) noexcept = default;

  size_t size() const { return scores_.size(); }
  bool empty() const { return scores_.empty(); }

  // zsetAdd: adds `member` with `score`, or updates it, as restricted by
  // `flags` (see AddResult). With flags.incr, `score` is added to the current
  // score (0 for a new member). A NaN score, given or computed, returns kNan
  // and changes nothing. Flag mixes that ValidateAddFlags rejects are still
  // safe but their outcome is unspecified. REQUIRES: size() <
  // AvlTree::kMaxSize (2^32 - 1 members). O(log n); a score change that keeps
  // the member's position updates in place.
  AddOutcome Add(std::string_view member, double score, AddFlags flags = {});

  // Removes `member`; returns false if absent (ZREM). O(log n).
  bool Remove(std::string_view member);

  // Score of `member`, or nullopt (ZSCORE, ZMSCORE). O(1).
  std::optional<double> Score(std::string_view member) const;

  // Rank of `member` counting from the lowest score (or from the highest when
  // `reverse`), or nullopt if absent (ZRANK, ZREVRANK). O(log n).
  std::optional<size_t> Rank(std::string_view member, bool reverse = false) const;

  // The entry of ascending rank `rank`, or nullopt when rank >= size()
  // (ZRANDMEMBER picks random ranks). O(log n).
  std::optional<Entry> AtRank(size_t rank) const;

  // Ranks of the members inside a score or lex range. Ranges are always
  // (min, max): for ZREVRANGEBYSCORE key max min and ZRANGE ... REV the
  // caller parses the two arguments in swapped order. O(log n).
  // Lex ranges compare members only; as in Redis they are meaningful only
  // when all scores are equal.
  RankWindow ScoreWindow(const ScoreRange& range) const;
  RankWindow LexWindow(const LexRange& range) const;
  // ZCOUNT and ZLEXCOUNT. O(log n).
  size_t Count(const ScoreRange& range) const { return ScoreWindow(range).count; }
  size_t LexCount(const LexRange& range) const { return LexWindow(range).count; }

  // Calls fn(std::string_view member, double score) for each entry of
  // `window` in ascending rank order, or descending when `reverse`.
  // O(log n + window.count). The set must not be modified during the visit.
  template <typename Fn>
  void Visit(RankWindow window, bool reverse, Fn&& fn) const {
    window = Clamp(window);
    if (window.empty()) return;
    if (!reverse) {
      auto it = tree_.IteratorAt(window.first);
      for (size_t i = 0; i < window.count; ++i, ++it) fn(it->member, it->score);
    } else {
      auto it = tree_.IteratorAt(window.end() - 1);
      for (size_t i = 0; i < window.count; ++i, --it) fn(it->member, it->score);
    }
  }
  // Calls fn(member, score) for every entry in ascending order. O(n).
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    for (const Entry& e : tree_) fn(e.member, e.score);
  }

  // Removes the members in `window` (ZREMRANGEBYRANK/SCORE/LEX); returns the
  // number removed. O(k log n), or O(n) when k > n / 2.
  size_t RemoveWindow(RankWindow window);

  // Removes and returns up to `count` members with the lowest (PopMin) or
  // highest (PopMax) scores, in pop order (ZPOPMIN, ZPOPMAX). O(k log n).
  std::vector<ScoredMember> PopMin(size_t count);
  std::vector<ScoredMember> PopMax(size_t count);

  // ZSCAN. Calls fn(member, score) for about `count` entries starting at
  // `cursor` (0 starts a new scan) and returns the next cursor (0 when done).
  //
  // The cursor encodes the score of the next entry to return (an
  // order-preserving map of doubles onto non-zero uint64 values), not a rank:
  // a rank cursor would skip entries whenever a client removes what it has
  // already seen (the common "scan and delete" loop). Each batch ends at a
  // score change, so a scan returns every member that is present, with an
  // unchanged score, from start to end, and returns it once. The cost: a run
  // of equal scores comes back in one batch, however long (a lex set with
  // all scores equal comes back whole). A member whose score changes
  // mid-scan may be missed or returned twice (Redis allows duplicates).
  // O(log n + batch).
  template <typename Fn>
  uint64_t Scan(uint64_t cursor, size_t count, Fn&& fn) const {
    auto it = cursor == 0 ? tree_.begin() : tree_.IteratorAt(RankOfScore(DecodeScore(cursor)));
    size_t emitted = 0;
    while (it != tree_.end()) {
      const double score = it->score;
      if (emitted >= count && emitted > 0) return EncodeScore(score);
      // Emit the whole run of entries sharing this score.
      for (; it != tree_.end() && it->score == score; ++it, ++emitted) fn(it->member, it->score);
    }
    return 0;
  }

  void Clear();

  // Approximate bytes used: hash map buckets and nodes, tree nodes, member
  // strings' heap storage. O(1).
  size_t MemoryUsage() const;

  // Checks the tree's invariants and that the map and the tree hold the same
  // (member, score) pairs, with tree entries pointing at the map's keys.
  // O(n log n); for tests.
  Status CheckInvariants() const;

 private:
  // Seeded XXH3 (seed drawn once per process), so clients cannot precompute
  // colliding members and degrade lookups to O(n), which std::hash's fixed
  // seed would allow (Redis uses seeded SipHash for the same reason).
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  using Map = std::unordered_map<std::string, double, Hash, std::equal_to<>>;

  RankWindow Clamp(RankWindow w) const;
  size_t RankOfScore(double score) const;  // entries with score < `score`
  static uint64_t EncodeScore(double score);
  static double DecodeScore(uint64_t cursor);
  void RebuildTreeFromMap(const AvlTree<Entry, EntryLess>& order_source);
  std::vector<ScoredMember> PopWindow(RankWindow window, bool reverse);
  void OnMemberRemoved(size_t member_size);

  Map scores_;
  AvlTree<Entry, EntryLess> tree_;
  size_t member_heap_bytes_ = 0;  // heap bytes of members too long for SSO
};

}  // namespace ragkv::avl
