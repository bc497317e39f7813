// SortedSet: Redis ZSET semantics over a hash map plus an order-statistic AVL
// tree (see sorted_set.h for the contract).
//
// Approach: the map (member -> score) answers membership and ZSCORE; the tree
// holds (score, member view) entries for everything ordered. Every range
// command is "bound -> RankWindow -> visit", so ZCOUNT/ZLEXCOUNT are two
// O(log n) partition-point descents and never walk the elements.
//
// Argument parsing mirrors Redis's C code paths (strtod over a NUL-terminated
// copy), so the accepted spellings and the error texts match t_zset.c and
// object.c. Where Redis would accept bytes after an embedded NUL (its C strings
// stop there) we reject them instead.
//
// Rejected alternatives: storing the member a second time in the tree (doubles
// memory for long members); a skip list like Redis (randomised, and ranks need
// per-level spans); a rank-based ZSCAN cursor (misses members when a client
// deletes what it has seen; see SortedSet::Scan).
#include "index/avl/sorted_set.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <bit>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cctype>
#include <random>

namespace ragkv::avl {
namespace {

constexpr std::string_view kNotAFloat = "ERR min or max is not a float";
constexpr std::string_view kBadLexItem = "ERR min or max not valid string range item";

// libstdc++ keeps strings of up to 15 bytes inline (SSO); longer ones own a
// heap block of capacity + 1 bytes, rounded to malloc's 16-byte chunks with an
// 8-byte header.
constexpr size_t kSsoCapacity = 15;
size_t MemberHeapBytes(size_t size) {
  return size <= kSsoCapacity ? 0 : (size + 1 + 8 + 15) / 16 * 16;
}

// strtod over the whole of `text`; false if it stops early (this also rejects
// embedded NULs) or yields NaN.
bool StrtodWhole(std::string_view text, double* value, int* err) {
  const std::string buf(text);
  char* end = nullptr;
  errno = 0;
  *value = std::strtod(buf.c_str(), &end);
  *err = errno;
  return end == buf.c_str() + buf.size() && !std::isnan(*value);
}

uint64_t ProcessHashSeed() {
  static const uint64_t seed = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  return seed;
}

}  // namespace

size_t SortedSet::Hash::operator()(std::string_view s) const {
  return static_cast<size_t>(XXH3_64bits_withSeed(s.data(), s.size(), ProcessHashSeed()));
}

Result<ScoreBound> ParseScoreBound(std::string_view text) {
  ScoreBound bound;
  if (!text.empty() && text.front() == '(') {
    bound.exclusive = true;
    text.remove_prefix(1);
  }
  int err = 0;
  if (!StrtodWhole(text, &bound.value, &err)) return Status::InvalidArgument(kNotAFloat);
  return bound;
}

Result<ScoreRange> ParseScoreRange(std::string_view min, std::string_view max) {
  ScoreRange range;
  RAGKV_ASSIGN_OR_RETURN(range.min, ParseScoreBound(min));
  RAGKV_ASSIGN_OR_RETURN(range.max, ParseScoreBound(max));
  return range;
}

Result<LexBound> ParseLexBound(std::string_view text) {
  LexBound bound;
  if (text.empty()) return Status::InvalidArgument(kBadLexItem);
  switch (text.front()) {
    case '+':
      if (text.size() != 1) return Status::InvalidArgument(kBadLexItem);
      bound.kind = LexBound::Kind::kPositiveInfinity;
      return bound;
    case '-':
      if (text.size() != 1) return Status::InvalidArgument(kBadLexItem);
      bound.kind = LexBound::Kind::kNegativeInfinity;
      return bound;
    case '(':
      bound.kind = LexBound::Kind::kExclusive;
      break;
    case '[':
      bound.kind = LexBound::Kind::kInclusive;
      break;
    default:
      return Status::InvalidArgument(kBadLexItem);
  }
  bound.value.assign(text.substr(1));
  return bound;
}

Result<LexRange> ParseLexRange(std::string_view min, std::string_view max) {
  LexRange range;
  RAGKV_ASSIGN_OR_RETURN(range.min, ParseLexBound(min));
  RAGKV_ASSIGN_OR_RETURN(range.max, ParseLexBound(max));
  return range;
}

std::optional<double> ParseScore(std::string_view text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
  double value = 0;
  int err = 0;
  if (!StrtodWhole(text, &value, &err)) return std::nullopt;
  // Like Redis: overflow to +-HUGE_VAL and underflow to zero are errors, while
  // a literal "inf" (which sets no ERANGE) is fine.
  if (err == ERANGE && (std::isinf(value) || value == 0)) return std::nullopt;
  return value;
}

Status ValidateAddFlags(const AddFlags& flags) {
  if (flags.nx && flags.xx) {
    return Status::InvalidArgument("ERR XX and NX options at the same time are not compatible");
  }
  if ((flags.gt && flags.nx) || (flags.lt && flags.nx) || (flags.gt && flags.lt)) {
    return Status::InvalidArgument(
        "ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  return Status::Ok();
}

RankWindow WindowFromIndexes(int64_t start, int64_t stop, size_t size, bool reverse) {
  const auto len = static_cast<int64_t>(size);
  if (start < 0) start += len;
  if (stop < 0) stop += len;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return {};
  if (stop >= len) stop = len - 1;
  const auto count = static_cast<size_t>(stop - start + 1);
  const auto first = static_cast<size_t>(reverse ? len - 1 - stop : start);
  return {first, count};
}

RankWindow ApplyLimit(RankWindow window, int64_t offset, int64_t count, bool reverse) {
  if (offset < 0) return {};
  const auto skip = static_cast<uint64_t>(offset);
  if (skip >= window.count) return {};
  const size_t remaining = window.count - static_cast<size_t>(skip);
  const size_t take =
      count < 0 ? remaining : static_cast<size_t>(std::min<uint64_t>(remaining, count));
  if (!reverse) return {window.first + static_cast<size_t>(skip), take};
  return {window.end() - static_cast<size_t>(skip) - take, take};
}

SortedSet::SortedSet(const SortedSet& other)
    : scores_(other.scores_), member_heap_bytes_(other.member_heap_bytes_) {
  RebuildTreeFromMap(other.tree_);
}

SortedSet& SortedSet::operator=(const SortedSet& other) {
  if (this != &other) {
    tree_.Clear();  // its entries point into scores_, which is replaced next
    scores_ = other.scores_;
    member_heap_bytes_ = other.member_heap_bytes_;
    RebuildTreeFromMap(other.tree_);
  }
  return *this;
}

void SortedSet::RebuildTreeFromMap(const AvlTree<Entry, EntryLess>& order_source) {
  std::vector<Entry> entries;
  entries.reserve(order_source.size());
  for (const Entry& e : order_source) {
    entries.push_back({e.score, scores_.find(e.member)->first});
  }
  tree_.AssignSorted(entries.begin(), entries.end());
}

AddOutcome SortedSet::Add(std::string_view member, double score, AddFlags flags) {
  if (std::isnan(score)) return {AddResult::kNan, 0};
  auto it = scores_.find(member);
  if (it != scores_.end()) {
    const double current = it->second;
    if (flags.nx) return {AddResult::kNotApplied, current};
    if (flags.incr) {
      score += current;
      if (std::isnan(score)) return {AddResult::kNan, current};
    }
    if ((flags.lt && score >= current) || (flags.gt && score <= current)) {
      return {AddResult::kNotApplied, current};
    }
    if (score == current) return {AddResult::kUnchanged, current};
    auto pos = tree_.LowerBound(Entry{current, it->first});
    if (!tree_.ReplaceInPlace(pos, Entry{score, it->first})) {
      tree_.Erase(pos);
      tree_.Insert(Entry{score, it->first});
    }
    it->second = score;
    return {AddResult::kUpdated, score};
  }
  if (flags.xx) return {AddResult::kNotApplied, 0};
  auto inserted = scores_.emplace(std::string(member), score).first;
  tree_.Insert(Entry{score, inserted->first});
  member_heap_bytes_ += MemberHeapBytes(member.size());
  return {AddResult::kAdded, score};
}

bool SortedSet::Remove(std::string_view member) {
  auto it = scores_.find(member);
  if (it == scores_.end()) return false;
  tree_.Erase(Entry{it->second, it->first});
  OnMemberRemoved(it->first.size());
  scores_.erase(it);
  return true;
}

void SortedSet::OnMemberRemoved(size_t member_size) {
  member_heap_bytes_ -= MemberHeapBytes(member_size);
}

std::optional<double> SortedSet::Score(std::string_view member) const {
  auto it = scores_.find(member);
  if (it == scores_.end()) return std::nullopt;
  return it->second;
}

std::optional<size_t> SortedSet::Rank(std::string_view member, bool reverse) const {
  auto it = scores_.find(member);
  if (it == scores_.end()) return std::nullopt;
  const size_t rank = tree_.Rank(Entry{it->second, it->first});
  return reverse ? size() - 1 - rank : rank;
}

std::optional<SortedSet::Entry> SortedSet::AtRank(size_t rank) const {
  const Entry* e = tree_.Select(rank);
  if (e == nullptr) return std::nullopt;
  return *e;
}

RankWindow SortedSet::ScoreWindow(const ScoreRange& range) const {
  const ScoreBound& lo = range.min;
  const ScoreBound& hi = range.max;
  const size_t first = tree_.PartitionPoint([&](const Entry& e) {
    return e.score < lo.value || (lo.exclusive && e.score == lo.value);
  });
  const size_t last = tree_.PartitionPoint([&](const Entry& e) {
    return e.score < hi.value || (!hi.exclusive && e.score == hi.value);
  });
  return {first, last > first ? last - first : 0};
}

RankWindow SortedSet::LexWindow(const LexRange& range) const {
  using Kind = LexBound::Kind;
  const LexBound& lo = range.min;
  const LexBound& hi = range.max;
  const size_t first = tree_.PartitionPoint([&](const Entry& e) {
    switch (lo.kind) {
      case Kind::kNegativeInfinity: return false;
      case Kind::kPositiveInfinity: return true;
      case Kind::kInclusive: return e.member < lo.value;
      case Kind::kExclusive: return e.member <= lo.value;
    }
    return false;
  });
  const size_t last = tree_.PartitionPoint([&](const Entry& e) {
    switch (hi.kind) {
      case Kind::kNegativeInfinity: return false;
      case Kind::kPositiveInfinity: return true;
      case Kind::kInclusive: return e.member <= hi.value;
      case Kind::kExclusive: return e.member < hi.value;
    }
    return false;
  });
  return {first, last > first ? last - first : 0};
}

RankWindow SortedSet::Clamp(RankWindow w) const {
  const size_t n = size();
  if (w.first >= n) return {n, 0};
  return {w.first, std::min(w.count, n - w.first)};
}

size_t SortedSet::RemoveWindow(RankWindow window) {
  window = Clamp(window);
  return tree_.EraseRange(window.first, window.end(), [&](const Entry& e) {
    auto it = scores_.find(e.member);
    OnMemberRemoved(it->first.size());
    scores_.erase(it);  // frees the string e.member views; the tree won't read it again
  });
}

std::vector<ScoredMember> SortedSet::PopWindow(RankWindow window, bool reverse) {
  std::vector<ScoredMember> popped;
  popped.reserve(window.count);
  Visit(window, reverse, [&](std::string_view member, double score) {
    popped.push_back({std::string(member), score});
  });
  RemoveWindow(window);
  return popped;
}

std::vector<ScoredMember> SortedSet::PopMin(size_t count) {
  return PopWindow({0, std::min(count, size())}, /*reverse=*/false);
}

std::vector<ScoredMember> SortedSet::PopMax(size_t count) {
  const size_t take = std::min(count, size());
  return PopWindow({size() - take, take}, /*reverse=*/true);
}

size_t SortedSet::RankOfScore(double score) const {
  return tree_.PartitionPoint([&](const Entry& e) { return e.score < score; });
}

// Order-preserving map from doubles onto uint64: flip all bits of negatives,
// set the sign bit of non-negatives. Only a NaN with every bit set maps to 0,
// and scores are never NaN, so 0 stays free to mean "start/done".
uint64_t SortedSet::EncodeScore(double score) {
  const auto bits = std::bit_cast<uint64_t>(score);
  return (bits >> 63) != 0 ? ~bits : bits | (uint64_t{1} << 63);
}

double SortedSet::DecodeScore(uint64_t cursor) {
  const uint64_t bits = (cursor >> 63) != 0 ? cursor & ~(uint64_t{1} << 63) : ~cursor;
  return std::bit_cast<double>(bits);
}

void SortedSet::Clear() {
  tree_.Clear();
  scores_.clear();
  member_heap_bytes_ = 0;
}

size_t SortedSet::MemoryUsage() const {
  // A hash node holds the next pointer, the (key, score) pair and the cached
  // hash code, plus malloc's header.
  constexpr size_t kMapNodeBytes =
      (sizeof(void*) + sizeof(Map::value_type) + sizeof(size_t) + 8 + 15) / 16 * 16;
  return sizeof(*this) + scores_.bucket_count() * sizeof(void*) + size() * kMapNodeBytes +
         (tree_.MemoryUsage() - sizeof(tree_)) + member_heap_bytes_;
}

Status SortedSet::CheckInvariants() const {
  RAGKV_RETURN_IF_ERROR(tree_.CheckInvariants());
  if (tree_.size() != scores_.size()) {
    return Status::Internal("tree has " + std::to_string(tree_.size()) + " entries, map has " +
                            std::to_string(scores_.size()));
  }
  size_t heap_bytes = 0;
  for (const Entry& e : tree_) {
    auto it = scores_.find(e.member);
    if (it == scores_.end()) return Status::Internal("tree entry missing from map");
    if (std::bit_cast<uint64_t>(it->second) != std::bit_cast<uint64_t>(e.score)) {
      return Status::Internal("tree and map disagree on a score");
    }
    if (it->first.data() != e.member.data()) {
      return Status::Internal("tree entry does not point at the map's key");
    }
    heap_bytes += MemberHeapBytes(e.member.size());
  }
  if (heap_bytes != member_heap_bytes_) return Status::Internal("member byte count is wrong");
  return Status::Ok();
}

}  // namespace ragkv::avl
