// FT.AGGREGATE pipeline (see aggregate.h). Rows are small vectors of
// (name, value) pairs: aggregations here are over thousands of rows, where a
// linear probe beats hashing, and the order of fields is the reply order.
#include "search/aggregate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "search/errors.h"
#include "search/parse_util.h"

namespace ragkv::search {
namespace {

const std::string* Get(const AggregateRow& row, std::string_view name) {
  for (const auto& [k, v] : row) {
    if (k == name) return &v;
  }
  return nullptr;
}

std::string_view StripAt(std::string_view s) {
  if (!s.empty() && s[0] == '@') s.remove_prefix(1);
  return s;
}

// Numbers compare numerically, anything else as bytes; missing sorts last.
bool Less(const std::string* a, const std::string* b) {
  if (a == nullptr || b == nullptr) return a != nullptr && b == nullptr;
  auto x = ParseDouble(*a), y = ParseDouble(*b);
  if (x && y) return *x < *y;
  return *a < *b;
}

Result<std::vector<AggregateRow>> GroupRows(const std::vector<AggregateRow>& rows,
                                            const GroupBy& group) {
  struct Acc {
    AggregateRow keys;
    std::vector<double> sum, min, max;
    std::vector<uint64_t> count;
    std::vector<std::set<std::string>> distinct;
    std::vector<std::vector<std::string>> list;
  };
  const size_t nr = group.reducers.size();
  std::map<std::vector<std::string>, Acc> groups;
  for (const AggregateRow& row : rows) {
    std::vector<std::string> key;
    for (const auto& p : group.properties) {
      const std::string* v = Get(row, StripAt(p));
      key.push_back(v != nullptr ? *v : "");
    }
    auto [it, inserted] = groups.try_emplace(key);
    Acc& acc = it->second;
    if (inserted) {
      for (size_t i = 0; i < group.properties.size(); ++i) {
        acc.keys.emplace_back(std::string(StripAt(group.properties[i])), key[i]);
      }
      acc.sum.assign(nr, 0);
      acc.min.assign(nr, INFINITY);
      acc.max.assign(nr, -INFINITY);
      acc.count.assign(nr, 0);
      acc.distinct.resize(nr);
      acc.list.resize(nr);
    }
    for (size_t r = 0; r < nr; ++r) {
      const Reducer& red = group.reducers[r];
      if (red.kind == ReducerKind::kCount) {
        ++acc.count[r];
        continue;
      }
      if (red.args.empty()) continue;
      const std::string* v = Get(row, StripAt(red.args[0]));
      if (v == nullptr) continue;
      if (red.kind == ReducerKind::kCountDistinct) {
        acc.distinct[r].insert(*v);
      } else if (red.kind == ReducerKind::kToList) {
        acc.list[r].push_back(*v);
      } else if (auto x = ParseDouble(*v)) {
        acc.sum[r] += *x;
        acc.min[r] = std::min(acc.min[r], *x);
        acc.max[r] = std::max(acc.max[r], *x);
        ++acc.count[r];
      }
    }
  }
  std::vector<AggregateRow> out;
  out.reserve(groups.size());
  for (auto& [key, acc] : groups) {
    AggregateRow row = std::move(acc.keys);
    for (size_t r = 0; r < nr; ++r) {
      const Reducer& red = group.reducers[r];
      std::string value;
      switch (red.kind) {
        case ReducerKind::kCount: value = FormatSearchNumber(static_cast<double>(acc.count[r])); break;
        case ReducerKind::kCountDistinct:
          value = FormatSearchNumber(static_cast<double>(acc.distinct[r].size()));
          break;
        case ReducerKind::kSum: value = FormatSearchNumber(acc.sum[r]); break;
        case ReducerKind::kAvg:
          value = FormatSearchNumber(acc.count[r] > 0 ? acc.sum[r] / static_cast<double>(acc.count[r]) : 0);
          break;
        case ReducerKind::kMin: value = FormatSearchNumber(acc.count[r] > 0 ? acc.min[r] : 0); break;
        case ReducerKind::kMax: value = FormatSearchNumber(acc.count[r] > 0 ? acc.max[r] : 0); break;
        case ReducerKind::kToList: {
          for (const auto& item : acc.list[r]) {
            if (!value.empty()) value.push_back(',');
            value += item;
          }
          break;
        }
      }
      row.emplace_back(red.alias, std::move(value));
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

Result<AggregateResult> RunAggregate(const SearchIndex& index, AggregateRequest request,
                                     const HashLoader& load, uint64_t max_results,
                                     const QueryDeadline& deadline) {
  if (request.with_cursor) {
    return Status::InvalidArgument("WITHCURSOR is not supported by ragkv (see docs/search.md)");
  }
  SearchRequest search;
  search.query = std::move(request.query);
  search.offset = 0;
  search.limit = max_results;
  auto matched = index.Search(search, load, deadline);
  if (!matched.ok()) return matched.status();
  bool timed_out = matched->timed_out;

  std::vector<AggregateRow> rows;
  rows.reserve(matched->hits.size());
  for (auto& hit : matched->hits) rows.push_back(std::move(hit.fields));
  bool grouped = false;
  uint64_t total = rows.size();
  for (const AggregateStep& step : request.steps) {
    if (!timed_out && deadline.Expired()) {
      if (deadline.fail) return Status::ResourceExhausted(errors::kTimeoutReached);
      timed_out = true;
    }
    switch (step.kind) {
      case AggregateStep::Kind::kGroupBy: {
        auto g = GroupRows(rows, step.group_by);
        if (!g.ok()) return g.status();
        rows = std::move(*g);
        grouped = true;
        total = rows.size();
        break;
      }
      case AggregateStep::Kind::kSortBy: {
        std::stable_sort(rows.begin(), rows.end(), [&](const AggregateRow& a, const AggregateRow& b) {
          for (const SortBy& s : step.sort_by) {
            const std::string_view f = StripAt(s.field);
            const std::string* x = Get(a, f);
            const std::string* y = Get(b, f);
            if (Less(x, y)) return s.ascending;
            if (Less(y, x)) return !s.ascending;
          }
          return false;
        });
        if (step.sort_max && rows.size() > *step.sort_max) rows.resize(*step.sort_max);
        break;
      }
      case AggregateStep::Kind::kLimit: {
        const size_t begin = std::min<size_t>(step.offset, rows.size());
        const size_t end = std::min<size_t>(rows.size(), begin + step.limit);
        rows = std::vector<AggregateRow>(rows.begin() + static_cast<std::ptrdiff_t>(begin),
                                         rows.begin() + static_cast<std::ptrdiff_t>(end));
        break;
      }
      case AggregateStep::Kind::kApply:
        return Status::InvalidArgument("APPLY is not supported by ragkv (see docs/search.md)");
      case AggregateStep::Kind::kFilter:
        return Status::InvalidArgument("FILTER is not supported by ragkv (see docs/search.md)");
    }
  }
  if (!grouped && !request.load_all) {
    // Only LOADed properties are shown (RediSearch semantics).
    for (AggregateRow& row : rows) {
      AggregateRow shown;
      for (const ReturnField& f : request.load) {
        if (const std::string* v = Get(row, StripAt(f.name))) {
          shown.emplace_back(f.alias.empty() ? std::string(StripAt(f.name)) : std::string(StripAt(f.alias)), *v);
        }
      }
      row = std::move(shown);
    }
  }
  AggregateResult result;
  result.total = total;
  result.rows = std::move(rows);
  result.timed_out = timed_out;
  return result;
}

}  // namespace ragkv::search
