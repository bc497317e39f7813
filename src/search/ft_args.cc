// FT.SEARCH and FT.AGGREGATE argument parsing (contracts in query.h).
//
// Both commands are "index query option...", where the options come in any
// order and any case, and every client orders them differently (redis-py puts
// a lowercase `params` last, node-redis v4 puts TIMEOUT after DIALECT). So
// one loop dispatches on the keyword, and the query is parsed only at the
// end, once PARAMS is known.
//
// Caps (query.h): LIMIT offset + num <= kMaxResultWindow, with RediSearch's
// "LIMIT exceeds maximum of N" error; KNN k and EF_RUNTIME are checked by the
// query parser. Together they bound every per-query allocation of the
// executor, which is the class of bug behind CVE-2024-51737.
#include <utility>

#include "search/arg_parsing.h"
#include "search/query.h"

namespace ragkv::search {
namespace {

Status Bad(std::string msg) { return Status::InvalidArgument(msg); }

std::string StripAt(std::string_view s) {
  if (!s.empty() && s.front() == '@') s.remove_prefix(1);
  return std::string(s);
}

Status UnknownArgument(std::string_view arg) {
  return Bad("Unknown argument `" + std::string(arg) + "`");
}

// LIMIT offset num.
Status ParseLimit(ArgCursor& ac, uint64_t* offset, uint64_t* num) {
  RAGKV_ASSIGN_OR_RETURN(*offset, ReadUint(ac, "LIMIT", 0, UINT64_MAX));
  RAGKV_ASSIGN_OR_RETURN(*num, ReadUint(ac, "LIMIT", 0, UINT64_MAX));
  if (*num > kMaxResultWindow || *offset > kMaxResultWindow - *num) {
    return Bad("LIMIT exceeds maximum of " + std::to_string(kMaxResultWindow));
  }
  return Status::Ok();
}

// PARAMS nargs name value ...
Status ParseParams(ArgCursor& ac, QueryParams* params) {
  RAGKV_ASSIGN_OR_RETURN(const uint64_t n, ReadUint(ac, "PARAMS", 0, UINT32_MAX));
  if (n % 2 != 0) return Bad("Parameters must be specified in PARAM VALUE pairs");
  if (n > ac.remaining()) return BadArgs("PARAMS", kAcNoArg);
  for (uint64_t i = 0; i < n; i += 2) {
    std::string name(ac.Next());
    std::string value(ac.Next());
    if (!params->emplace(name, std::move(value)).second) {
      return Bad("Duplicate parameter `" + name + "`");
    }
  }
  return Status::Ok();
}

Status ParseDialect(ArgCursor& ac, int* dialect) {
  if (ac.done()) return BadArgs("DIALECT", kAcNoArg);
  const auto d = ParseUint64(ac.Next());
  if (!d || *d < 1 || *d > 4) return Bad("DIALECT requires a non negative integer >=1 and <= 4");
  *dialect = static_cast<int>(*d);
  return Status::Ok();
}

// "n name [AS alias] ..." where n counts every argument, AS included
// (RETURN 3 title AS t).
Result<std::vector<ReturnField>> ParseFieldList(ArgCursor& ac, std::string_view what) {
  RAGKV_ASSIGN_OR_RETURN(const uint64_t n, ReadUint(ac, what, 0, UINT32_MAX));
  if (n > ac.remaining()) return BadArgs(what, kAcNoArg);
  std::vector<ReturnField> fields;
  for (uint64_t i = 0; i < n;) {
    ReturnField f;
    f.name = StripAt(ac.Next());
    ++i;
    if (i < n && EqualsIgnoreCase(ac.Peek(), "AS")) {
      if (i + 1 >= n) return BadArgs(what, kAcNoArg);
      ac.Next();
      f.alias = std::string(ac.Next());
      i += 2;
    } else {
      f.alias = f.name;
    }
    fields.push_back(std::move(f));
  }
  return fields;
}

Result<NumericBound> ParseFilterBound(std::string_view s) {
  NumericBound b;
  if (!s.empty() && s.front() == '(') {
    b.exclusive = true;
    s.remove_prefix(1);
  }
  const auto v = ParseDouble(s);
  if (!v) return BadArgs("FILTER", kAcParse);
  b.value = *v;
  return b;
}

// SUMMARIZE [FIELDS n f...] [FRAGS n] [LEN n] [SEPARATOR s] and
// HIGHLIGHT [FIELDS n f...] [TAGS open close]: accepted, not yet honoured.
Status SkipSummarizeOrHighlight(ArgCursor& ac, bool highlight) {
  const std::string_view what = highlight ? "HIGHLIGHT" : "SUMMARIZE";
  for (;;) {
    if (ac.TryKeyword("FIELDS")) {
      RAGKV_ASSIGN_OR_RETURN(auto ignored, ReadList(ac, what));
      (void)ignored;
    } else if (highlight && ac.TryKeyword("TAGS")) {
      RAGKV_RETURN_IF_ERROR(ReadString(ac, what).status());
      RAGKV_RETURN_IF_ERROR(ReadString(ac, what).status());
    } else if (!highlight && (ac.TryKeyword("FRAGS") || ac.TryKeyword("LEN"))) {
      RAGKV_RETURN_IF_ERROR(ReadUint(ac, what, 0, UINT32_MAX).status());
    } else if (!highlight && ac.TryKeyword("SEPARATOR")) {
      RAGKV_RETURN_IF_ERROR(ReadString(ac, what).status());
    } else {
      return Status::Ok();
    }
  }
}

// Names RediSearch generates for a reducer without AS, e.g.
// "__generated_aliascount", "__generated_aliassumprice".
std::string GeneratedAlias(std::string_view fn, const std::vector<std::string>& args) {
  std::string alias = "__generated_alias";
  for (char c : fn) alias += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  for (const std::string& a : args) alias += a;
  return alias;
}

Result<Reducer> ParseReducer(ArgCursor& ac) {
  RAGKV_ASSIGN_OR_RETURN(const std::string_view fn, ReadString(ac, "REDUCE"));
  struct Spec {
    std::string_view name;
    ReducerKind kind;
    uint64_t nargs;
  };
  static constexpr Spec kReducers[] = {
      {"COUNT", ReducerKind::kCount, 0},  {"COUNT_DISTINCT", ReducerKind::kCountDistinct, 1},
      {"SUM", ReducerKind::kSum, 1},      {"AVG", ReducerKind::kAvg, 1},
      {"MIN", ReducerKind::kMin, 1},      {"MAX", ReducerKind::kMax, 1},
      {"TOLIST", ReducerKind::kToList, 1}};
  const Spec* spec = nullptr;
  for (const Spec& s : kReducers) {
    if (EqualsIgnoreCase(s.name, fn)) spec = &s;
  }
  if (spec == nullptr) return Bad("No such reducer: " + std::string(fn));
  RAGKV_ASSIGN_OR_RETURN(const uint64_t nargs, ReadUint(ac, "REDUCE", 0, UINT32_MAX));
  if (nargs != spec->nargs) {
    return BadArgs(spec->name, "expected " + std::to_string(spec->nargs) + " argument(s)");
  }
  if (nargs > ac.remaining()) return BadArgs(spec->name, kAcNoArg);
  Reducer r;
  r.kind = spec->kind;
  for (uint64_t i = 0; i < nargs; ++i) r.args.push_back(StripAt(ac.Next()));
  if (ac.TryKeyword("AS")) {
    RAGKV_ASSIGN_OR_RETURN(const std::string_view alias, ReadString(ac, "AS"));
    r.alias = std::string(alias);
  } else {
    r.alias = GeneratedAlias(spec->name, r.args);
  }
  return r;
}

// SORTBY nargs (@p [ASC|DESC])... [MAX m] [WITHCOUNT|WITHOUTCOUNT]
Status ParseAggregateSortBy(ArgCursor& ac, AggregateStep* step) {
  RAGKV_ASSIGN_OR_RETURN(const uint64_t n, ReadUint(ac, "SORTBY", 0, UINT32_MAX));
  if (n > ac.remaining()) return BadArgs("SORTBY", kAcNoArg);
  for (uint64_t i = 0; i < n; ++i) {
    const std::string_view arg = ac.Next();
    if (EqualsIgnoreCase(arg, "ASC") || EqualsIgnoreCase(arg, "DESC")) {
      if (step->sort_by.empty()) return BadArgs("SORTBY", "direction without a property");
      step->sort_by.back().ascending = EqualsIgnoreCase(arg, "ASC");
    } else {
      step->sort_by.push_back({StripAt(arg), true});
    }
  }
  if (ac.TryKeyword("MAX")) {
    RAGKV_ASSIGN_OR_RETURN(step->sort_max, ReadUint(ac, "MAX", 0, kMaxResultWindow));
  }
  if (!ac.TryKeyword("WITHCOUNT")) ac.TryKeyword("WITHOUTCOUNT");
  return Status::Ok();
}

}  // namespace

Result<SearchRequest> ParseFtSearch(std::span<const std::string_view> args) {
  if (args.size() < 2) return BadArgs("FT.SEARCH", kAcNoArg);
  SearchRequest r;
  r.index = std::string(args[0]);
  r.query_text = std::string(args[1]);
  ArgCursor ac(args.subspan(2));
  while (!ac.done()) {
    const std::string_view kw = ac.Next();
    if (EqualsIgnoreCase(kw, "NOCONTENT")) {
      r.no_content = true;
    } else if (EqualsIgnoreCase(kw, "VERBATIM")) {
      r.verbatim = true;
    } else if (EqualsIgnoreCase(kw, "NOSTOPWORDS")) {
      r.no_stopwords = true;
    } else if (EqualsIgnoreCase(kw, "WITHSCORES")) {
      r.with_scores = true;
    } else if (EqualsIgnoreCase(kw, "WITHPAYLOADS")) {
      r.with_payloads = true;
    } else if (EqualsIgnoreCase(kw, "WITHSORTKEYS")) {
      r.with_sort_keys = true;
    } else if (EqualsIgnoreCase(kw, "INORDER")) {
      r.in_order = true;
    } else if (EqualsIgnoreCase(kw, "EXPLAINSCORE")) {
      r.explain_score = true;
    } else if (EqualsIgnoreCase(kw, "RETURN")) {
      RAGKV_ASSIGN_OR_RETURN(r.return_fields, ParseFieldList(ac, "RETURN"));
      if (r.return_fields->empty()) r.no_content = true;  // RETURN 0 == NOCONTENT
    } else if (EqualsIgnoreCase(kw, "SORTBY")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view field, ReadString(ac, "SORTBY"));
      SortBy sort{StripAt(field), true};
      if (ac.TryKeyword("DESC")) {
        sort.ascending = false;
      } else {
        ac.TryKeyword("ASC");
      }
      ac.TryKeyword("WITHCOUNT");
      r.sort_by = std::move(sort);
    } else if (EqualsIgnoreCase(kw, "LIMIT")) {
      RAGKV_RETURN_IF_ERROR(ParseLimit(ac, &r.offset, &r.limit));
    } else if (EqualsIgnoreCase(kw, "PARAMS")) {
      RAGKV_RETURN_IF_ERROR(ParseParams(ac, &r.params));
    } else if (EqualsIgnoreCase(kw, "DIALECT")) {
      RAGKV_RETURN_IF_ERROR(ParseDialect(ac, &r.dialect));
    } else if (EqualsIgnoreCase(kw, "TIMEOUT")) {
      RAGKV_ASSIGN_OR_RETURN(r.timeout_ms, ReadUint(ac, "TIMEOUT", 0, INT64_MAX));
    } else if (EqualsIgnoreCase(kw, "SLOP")) {
      RAGKV_ASSIGN_OR_RETURN(r.slop, ReadUint(ac, "SLOP", 0, INT32_MAX));
    } else if (EqualsIgnoreCase(kw, "INKEYS")) {
      RAGKV_ASSIGN_OR_RETURN(r.in_keys, ReadList(ac, "INKEYS"));
    } else if (EqualsIgnoreCase(kw, "INFIELDS")) {
      RAGKV_ASSIGN_OR_RETURN(r.in_fields, ReadList(ac, "INFIELDS"));
    } else if (EqualsIgnoreCase(kw, "LANGUAGE")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view v, ReadString(ac, "LANGUAGE"));
      r.language = std::string(v);
    } else if (EqualsIgnoreCase(kw, "SCORER")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view v, ReadString(ac, "SCORER"));
      r.scorer = std::string(v);
    } else if (EqualsIgnoreCase(kw, "EXPANDER")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view v, ReadString(ac, "EXPANDER"));
      r.expander = std::string(v);
    } else if (EqualsIgnoreCase(kw, "PAYLOAD")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view v, ReadString(ac, "PAYLOAD"));
      r.payload = std::string(v);
    } else if (EqualsIgnoreCase(kw, "FILTER")) {
      NumericFilter f;
      RAGKV_ASSIGN_OR_RETURN(const std::string_view field, ReadString(ac, "FILTER"));
      f.field = StripAt(field);
      RAGKV_ASSIGN_OR_RETURN(const std::string_view lo, ReadString(ac, "FILTER"));
      RAGKV_ASSIGN_OR_RETURN(const std::string_view hi, ReadString(ac, "FILTER"));
      RAGKV_ASSIGN_OR_RETURN(f.lo, ParseFilterBound(lo));
      RAGKV_ASSIGN_OR_RETURN(f.hi, ParseFilterBound(hi));
      r.numeric_filters.push_back(std::move(f));
    } else if (EqualsIgnoreCase(kw, "GEOFILTER")) {
      GeoFilter g;
      RAGKV_ASSIGN_OR_RETURN(const std::string_view field, ReadString(ac, "GEOFILTER"));
      g.field = StripAt(field);
      RAGKV_ASSIGN_OR_RETURN(g.lon, ReadDouble(ac, "GEOFILTER", -180, 180));
      RAGKV_ASSIGN_OR_RETURN(g.lat, ReadDouble(ac, "GEOFILTER", -90, 90));
      RAGKV_ASSIGN_OR_RETURN(g.radius, ReadDouble(ac, "GEOFILTER", 0, 1e12));
      RAGKV_ASSIGN_OR_RETURN(const std::string_view unit, ReadString(ac, "GEOFILTER"));
      bool known = false;
      for (std::string_view u : {"m", "km", "mi", "ft"}) known |= EqualsIgnoreCase(u, unit);
      if (!known) return BadArgs("GEOFILTER", kAcUnknown);
      g.unit = std::string(unit);
      r.geo_filters.push_back(std::move(g));
    } else if (EqualsIgnoreCase(kw, "SUMMARIZE")) {
      RAGKV_RETURN_IF_ERROR(SkipSummarizeOrHighlight(ac, /*highlight=*/false));
    } else if (EqualsIgnoreCase(kw, "HIGHLIGHT")) {
      RAGKV_RETURN_IF_ERROR(SkipSummarizeOrHighlight(ac, /*highlight=*/true));
    } else {
      return UnknownArgument(kw);
    }
  }
  RAGKV_ASSIGN_OR_RETURN(r.query, ParseQuery(r.query_text, r.params));
  return r;
}

Result<AggregateRequest> ParseFtAggregate(std::span<const std::string_view> args) {
  if (args.size() < 2) return BadArgs("FT.AGGREGATE", kAcNoArg);
  AggregateRequest r;
  r.index = std::string(args[0]);
  r.query_text = std::string(args[1]);
  ArgCursor ac(args.subspan(2));
  while (!ac.done()) {
    const std::string_view kw = ac.Next();
    if (EqualsIgnoreCase(kw, "VERBATIM")) {
      r.verbatim = true;
    } else if (EqualsIgnoreCase(kw, "LOAD")) {
      if (ac.TryKeyword("*")) {
        r.load_all = true;
      } else {
        RAGKV_ASSIGN_OR_RETURN(auto fields, ParseFieldList(ac, "LOAD"));
        for (auto& f : fields) r.load.push_back(std::move(f));
      }
    } else if (EqualsIgnoreCase(kw, "GROUPBY")) {
      AggregateStep step;
      step.kind = AggregateStep::Kind::kGroupBy;
      RAGKV_ASSIGN_OR_RETURN(step.group_by.properties, ReadList(ac, "GROUPBY"));
      for (std::string& p : step.group_by.properties) p = StripAt(p);
      while (ac.TryKeyword("REDUCE")) {
        RAGKV_ASSIGN_OR_RETURN(Reducer reducer, ParseReducer(ac));
        step.group_by.reducers.push_back(std::move(reducer));
      }
      r.steps.push_back(std::move(step));
    } else if (EqualsIgnoreCase(kw, "SORTBY")) {
      AggregateStep step;
      step.kind = AggregateStep::Kind::kSortBy;
      RAGKV_RETURN_IF_ERROR(ParseAggregateSortBy(ac, &step));
      r.steps.push_back(std::move(step));
    } else if (EqualsIgnoreCase(kw, "APPLY")) {
      AggregateStep step;
      step.kind = AggregateStep::Kind::kApply;
      RAGKV_ASSIGN_OR_RETURN(const std::string_view expr, ReadString(ac, "APPLY"));
      step.apply.expression = std::string(expr);
      step.apply.alias = step.apply.expression;
      if (ac.TryKeyword("AS")) {
        RAGKV_ASSIGN_OR_RETURN(const std::string_view alias, ReadString(ac, "AS"));
        step.apply.alias = std::string(alias);
      }
      r.steps.push_back(std::move(step));
    } else if (EqualsIgnoreCase(kw, "LIMIT")) {
      AggregateStep step;
      step.kind = AggregateStep::Kind::kLimit;
      RAGKV_RETURN_IF_ERROR(ParseLimit(ac, &step.offset, &step.limit));
      r.steps.push_back(std::move(step));
    } else if (EqualsIgnoreCase(kw, "FILTER")) {
      AggregateStep step;
      step.kind = AggregateStep::Kind::kFilter;
      RAGKV_ASSIGN_OR_RETURN(const std::string_view expr, ReadString(ac, "FILTER"));
      step.filter = std::string(expr);
      r.steps.push_back(std::move(step));
    } else if (EqualsIgnoreCase(kw, "WITHCURSOR")) {
      r.with_cursor = true;
      for (;;) {
        if (ac.TryKeyword("COUNT")) {
          RAGKV_ASSIGN_OR_RETURN(r.cursor_count, ReadUint(ac, "COUNT", 1, kMaxResultWindow));
        } else if (ac.TryKeyword("MAXIDLE")) {
          RAGKV_ASSIGN_OR_RETURN(r.cursor_max_idle_ms, ReadUint(ac, "MAXIDLE", 0, INT64_MAX));
        } else {
          break;
        }
      }
    } else if (EqualsIgnoreCase(kw, "PARAMS")) {
      RAGKV_RETURN_IF_ERROR(ParseParams(ac, &r.params));
    } else if (EqualsIgnoreCase(kw, "DIALECT")) {
      RAGKV_RETURN_IF_ERROR(ParseDialect(ac, &r.dialect));
    } else if (EqualsIgnoreCase(kw, "TIMEOUT")) {
      RAGKV_ASSIGN_OR_RETURN(r.timeout_ms, ReadUint(ac, "TIMEOUT", 0, INT64_MAX));
    } else if (EqualsIgnoreCase(kw, "SCORER")) {
      RAGKV_RETURN_IF_ERROR(ReadString(ac, "SCORER").status());
    } else if (EqualsIgnoreCase(kw, "ADDSCORES")) {
      // Accepted; scores are not part of aggregate rows yet.
    } else {
      return UnknownArgument(kw);
    }
  }
  RAGKV_ASSIGN_OR_RETURN(r.query, ParseQuery(r.query_text, r.params));
  return r;
}

}  // namespace ragkv::search
