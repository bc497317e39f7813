// FT.* commands (RediSearch-compatible vector and hybrid search) and the
// keyspace hook that keeps the indexes in step with writes.
//
// Handlers only parse arguments and shape replies; schema and query parsing,
// indexing and execution live in search/ (IndexManager, SearchIndex). Reply
// shapes follow shared/specs/redis-vector-api.md: FT.SEARCH is a flat array
// in RESP2 and the 5-key map in RESP3, FT.INFO is RediSearch's exact key
// order (node-redis v4 reads it by position), errors are RediSearch's texts
// without an "ERR" prefix, and distances are bulk strings.
//
// Index maintenance: SearchOnWrite is a write observer. For every applied
// write it re-syncs the command's keys (from the command table's key specs)
// and handles the whole-db commands (FLUSHDB, FLUSHALL, SWAPDB) and the
// cross-db ones (MOVE, COPY ... DB n) explicitly. Expired keys arrive as DEL.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

#include "search/aggregate.h"
#include "search/errors.h"
#include "search/index_manager.h"
#include "search/parse_util.h"
#include "server/commands/command_util.h"

namespace ragkv::server {
namespace {

using search::FieldType;
using search::IndexManager;

bool IEquals(std::string_view a, std::string_view b) { return search::EqualsIgnoreCase(a, b); }

constexpr std::string_view kModuleName = "search";
constexpr int64_t kModuleVersion = 21005;  // clients require >= 20600

IndexManager& Manager(CommandContext& ctx) { return ctx.engine.search(); }

using search::errors::NoSuchIndex;

void ReplyStatus(CommandContext& ctx, const Status& s) { ctx.out.Error(s.message()); }

// ---- FT.CREATE / FT.ALTER / FT.DROPINDEX / FT.DROP / FT._LIST ----

void FtCreateCommand(CommandContext& ctx) {
  auto def = search::ParseFtCreate(ctx.argv.subspan(1));
  if (!def.ok()) return ReplyStatus(ctx, def.status());
  Status s = Manager(ctx).Create(std::move(*def), ctx.session.db, ctx.db);
  if (!s.ok()) return ReplyStatus(ctx, s);
  Manager(ctx).RecordCommand(ctx.arg(1), ctx.argv);
  ctx.engine.ScheduleSearchBackfill();
  ctx.dirty = 1;  // replicated and logged like a write
  ctx.out.Ok();
}

void FtAlterCommand(CommandContext& ctx) {
  auto index = Manager(ctx).Find(ctx.arg(1));
  if (index == nullptr) return ctx.out.Error(search::errors::kUnknownIndexName);
  auto fields = search::ParseFtAlter(ctx.argv.subspan(1), index->schema());
  if (!fields.ok()) return ReplyStatus(ctx, fields.status());
  Status s = Manager(ctx).AddFields(ctx.arg(1), std::move(*fields),
                                    ctx.engine.keyspace().db(index->db()));
  if (!s.ok()) return ReplyStatus(ctx, s);
  Manager(ctx).RecordCommand(ctx.arg(1), ctx.argv);
  ctx.engine.ScheduleSearchBackfill();
  ctx.dirty = 1;
  ctx.out.Ok();
}

void DropIndex(CommandContext& ctx, bool delete_docs) {
  auto index = Manager(ctx).Find(ctx.arg(1));
  if (index == nullptr) return ctx.out.Error(search::errors::kUnknownIndexNameDrop);
  std::vector<std::string> keys;
  if (delete_docs) keys = index->Keys();
  Manager(ctx).Drop(ctx.arg(1));
  store::Db& db = ctx.engine.keyspace().db(index->db());
  for (const std::string& key : keys) {
    if (db.Delete(key)) ctx.engine.TouchKey(index->db(), key);
  }
  ctx.dirty = 1;
  ctx.out.Ok();
}

void FtDropIndexCommand(CommandContext& ctx) {
  // Any third argument other than DD is ignored (redis-py sends "").
  bool dd = ctx.argc() >= 3 && IEquals(ctx.arg(2), "DD");
  DropIndex(ctx, dd);
}

void FtDropCommand(CommandContext& ctx) {
  // Legacy: deletes the documents unless KEEPDOCS.
  bool keep = ctx.argc() >= 3 && IEquals(ctx.arg(2), "KEEPDOCS");
  DropIndex(ctx, !keep);
}

void FtListCommand(CommandContext& ctx) {
  auto names = Manager(ctx).Names();
  ctx.out.SetHeader(names.size());
  for (const auto& n : names) ctx.out.Bulk(n);
}

// ---- FT.SEARCH ----

// RESP3's "warning" array: the timeout notice of a partial result.
void WriteWarnings(resp::ReplyWriter& out, bool timed_out) {
  out.Bulk("warning");
  out.ArrayHeader(timed_out ? 1 : 0);
  if (timed_out) out.Bulk(search::errors::kTimeoutReached);
}

// A query's budget: its TIMEOUT, else FT.CONFIG's. The clock starts when the
// query starts executing (on a worker, after any wait in the queue), so a
// burst of queries on a busy machine does not turn into empty results.
struct QueryBudget {
  uint64_t timeout_ms = 0;
  bool fail = false;
  search::QueryDeadline StartNow() const {
    return search::QueryDeadline::After(timeout_ms, fail);
  }
};
QueryBudget BudgetFor(CommandContext& ctx, std::optional<uint64_t> timeout_ms) {
  const search::SearchConfig& cfg = Manager(ctx).config();
  return {timeout_ms.value_or(cfg.timeout_ms), cfg.on_timeout_fail};
}

void WriteSearchReply(resp::ReplyWriter& out, const search::SearchRequest& req,
                      const search::SearchResult& result) {
  if (out.protocol() < 3) {
    const size_t per_hit = 1 + (req.with_scores ? 1 : 0) + (req.no_content ? 0 : 1);
    out.ArrayHeader(1 + per_hit * result.hits.size());
    out.Integer(static_cast<int64_t>(result.total));
    for (const auto& hit : result.hits) {
      out.Bulk(hit.key);
      if (req.with_scores) out.Bulk(search::FormatSearchNumber(hit.score));
      if (req.no_content) continue;
      out.ArrayHeader(hit.fields.size() * 2);
      for (const auto& [k, v] : hit.fields) {
        out.Bulk(k);
        out.Bulk(v);
      }
    }
    return;
  }
  out.MapHeader(5);
  out.Bulk("attributes");
  out.ArrayHeader(0);
  out.Bulk("format");
  out.SimpleString("STRING");
  out.Bulk("results");
  out.ArrayHeader(result.hits.size());
  for (const auto& hit : result.hits) {
    out.MapHeader(2 + (req.with_scores ? 1 : 0) + (req.no_content ? 0 : 1));
    out.Bulk("id");
    out.Bulk(hit.key);
    if (req.with_scores) {
      out.Bulk("score");
      out.Double(hit.score);
    }
    if (!req.no_content) {
      out.Bulk("extra_attributes");
      out.MapHeader(hit.fields.size());
      for (const auto& [k, v] : hit.fields) {
        out.Bulk(k);
        out.Bulk(v);
      }
    }
    out.Bulk("values");
    out.ArrayHeader(0);
  }
  out.Bulk("total_results");
  out.Integer(static_cast<int64_t>(result.total));
  WriteWarnings(out, result.timed_out);
}

// True when materializing `hit` reads its hash: a RETURN of only yielded
// values (the KNN distance alias) or NOCONTENT does not, and MaterializeHit
// gives the same fields with a null hash, so the keyspace probe (a few cache
// misses per hit, ~7% of a 60k x 784-d KNN's server CPU) is skipped.
bool NeedsHash(const search::SearchRequest& req, const search::SearchHit& hit) {
  if (req.no_content) return false;
  if (!req.return_fields) return true;
  for (const search::ReturnField& r : *req.return_fields) {
    bool yielded = false;
    for (const auto& [name, value] : hit.yields) yielded = yielded || name == r.name;
    if (!yielded) return true;
  }
  return false;
}

// The shape of an FT.SEARCH for the deferrer's cost estimate: its arguments
// with the KNN vector's PARAMS value, and any long one (other vector blobs),
// replaced by its length, so queries that differ only in the vector share one
// key and one learned cost. Called after ParseFtSearch accepted `argv`.
std::string SearchCostKey(std::span<const std::string_view> argv,
                          const search::SearchRequest& req) {
  constexpr size_t kLongValue = 64;
  // Not `knn ? blob_param : ""`: that conditional is a temporary std::string.
  std::string_view knn_blob;
  if (req.query.knn) knn_blob = req.query.knn->blob_param;
  std::string key;
  key.reserve(256);
  size_t params_end = 0;  // one past the last PARAMS argument
  for (size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    // PARAMS n name value ...: values sit an odd distance before params_end.
    const bool value = i < params_end && (params_end - i) % 2 == 1;
    if (value && (a.size() > kLongValue || (!knn_blob.empty() && argv[i - 1] == knn_blob))) {
      key.append("\x01").append(std::to_string(a.size()));
    } else {
      key.append(a);
    }
    key.push_back('\0');
    if (params_end == 0 && i + 1 < argv.size() && IEquals(a, "PARAMS")) {
      auto n = search::ParseUint64(argv[i + 1]);
      if (n) params_end = i + 2 + static_cast<size_t>(std::min<uint64_t>(*n, argv.size()));
    }
  }
  return key;
}

void FtSearchCommand(CommandContext& ctx) {
  auto index = Manager(ctx).Find(ctx.arg(1));
  if (index == nullptr) return ctx.out.Error(NoSuchIndex(ctx.arg(1)));
  auto parsed = search::ParseFtSearch(ctx.argv.subspan(1));
  if (!parsed.ok()) return ReplyStatus(ctx, parsed.status());
  auto req = std::make_shared<search::SearchRequest>(std::move(*parsed));
  const uint64_t cap = Manager(ctx).config().max_search_results;
  if (req->limit > 0 && req->offset + req->limit > cap) {
    return ctx.out.Error("LIMIT exceeds maximum of " + std::to_string(cap));
  }
  if (req->return_fields && req->return_fields->empty()) req->no_content = true;
  Engine* engine = &ctx.engine;
  const QueryBudget budget = BudgetFor(ctx, req->timeout_ms);
  // Runs on the event loop: the keyspace is read only here.
  auto run_here = [engine, index, req, budget](resp::ReplyWriter& out) {
    store::Db& db = engine->keyspace().db(index->db());
    const int64_t now = engine->Now();
    auto result = index->Search(
        *req, [&](std::string_view key) { return search::PeekHash(db, key, now); },
        budget.StartNow());
    if (!result.ok()) return out.Error(result.status().message());
    WriteSearchReply(out, *req, *result);
  };
  if (!ctx.engine.CanDefer(ctx.session)) return run_here(ctx.out);
  // The query runs on a worker under the index's shared lock; the page's
  // fields are read from the keyspace when the reply is written on the loop.
  const std::string cost_key = SearchCostKey(ctx.argv, *req);
  ctx.engine.Defer(ctx.session, ctx.out,
                   [engine, index, req, run_here, budget]() -> Engine::ReplyFinisher {
    auto result = std::make_shared<Result<search::SearchResult>>(
        index->Search(*req, nullptr, budget.StartNow()));
    return [engine, index, req, run_here, result](resp::ReplyWriter& out) {
      if (!result->ok()) {
        if (result->status().code() == StatusCode::kFailedPrecondition) return run_here(out);
        return out.Error(result->status().message());
      }
      store::Db& db = engine->keyspace().db(index->db());
      const int64_t now = engine->Now();
      for (search::SearchHit& hit : (*result)->hits) {
        const store::HashMap* hash =
            NeedsHash(*req, hit) ? search::PeekHash(db, hit.key, now) : nullptr;
        search::MaterializeHit(index->schema(), *req, hash, &hit);
      }
      WriteSearchReply(out, *req, **result);
    };
  }, cost_key);
}

void WriteAggregateReply(resp::ReplyWriter& out, const search::AggregateResult& result) {
  if (out.protocol() < 3) {
    out.ArrayHeader(1 + result.rows.size());
    out.Integer(static_cast<int64_t>(result.total));
    for (const auto& row : result.rows) {
      out.ArrayHeader(row.size() * 2);
      for (const auto& [k, v] : row) {
        out.Bulk(k);
        out.Bulk(v);
      }
    }
    return;
  }
  out.MapHeader(5);
  out.Bulk("attributes");
  out.ArrayHeader(0);
  out.Bulk("format");
  out.SimpleString("STRING");
  out.Bulk("results");
  out.ArrayHeader(result.rows.size());
  for (const auto& row : result.rows) {
    out.MapHeader(2);
    out.Bulk("extra_attributes");
    out.MapHeader(row.size());
    for (const auto& [k, v] : row) {
      out.Bulk(k);
      out.Bulk(v);
    }
    out.Bulk("values");
    out.ArrayHeader(0);
  }
  out.Bulk("total_results");
  out.Integer(static_cast<int64_t>(result.total));
  WriteWarnings(out, result.timed_out);
}

void FtAggregateCommand(CommandContext& ctx) {
  auto index = Manager(ctx).Find(ctx.arg(1));
  if (index == nullptr) return ctx.out.Error(NoSuchIndex(ctx.arg(1)));
  auto req = search::ParseFtAggregate(ctx.argv.subspan(1));
  if (!req.ok()) return ReplyStatus(ctx, req.status());
  store::Db& db = ctx.engine.keyspace().db(index->db());
  const int64_t now = ctx.engine.keyspace().now_ms();
  const search::QueryDeadline deadline = BudgetFor(ctx, req->timeout_ms).StartNow();
  auto result = search::RunAggregate(
      *index, std::move(*req), [&](std::string_view key) { return search::PeekHash(db, key, now); },
      Manager(ctx).config().max_aggregate_results, deadline);
  if (!result.ok()) return ReplyStatus(ctx, result.status());
  WriteAggregateReply(ctx.out, *result);
}

// ---- FT.PROFILE ----
// FT.PROFILE idx SEARCH|AGGREGATE [LIMITED] QUERY query [args...]: the
// command's normal reply, then the profile in RediSearch 2.8's RESP2 layout
// ([label, value] pairs; the iterator tree as Type/Query/Time/Counter/
// Child iterators). It runs on the event loop, never on a worker: it is a
// diagnostic, and its timings should not include a queue wait. RESP3 gets a
// map {Results, Profile} with the same entries as maps.

std::string FormatMs(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.3f", ms);
  return buf;
}

void WriteProfileNode(resp::ReplyWriter& out, const search::ProfileNode& n) {
  const bool resp3 = out.protocol() >= 3;
  const size_t pairs = 4 + (n.children.empty() ? 0 : 1);
  if (resp3) {
    out.MapHeader(pairs);
  } else {
    out.ArrayHeader(8 + (n.children.empty() ? 0 : 1 + n.children.size()));
  }
  out.Bulk("Type");
  out.Bulk(n.type);
  out.Bulk("Query");
  out.Bulk(n.label);
  out.Bulk("Time");
  out.Bulk(FormatMs(n.time_ms));
  out.Bulk("Counter");
  out.Integer(static_cast<int64_t>(n.counter));
  if (n.children.empty()) return;
  out.Bulk("Child iterators");
  if (resp3) out.ArrayHeader(n.children.size());
  for (const auto& c : n.children) WriteProfileNode(out, c);
}

struct ProfileTimes {
  double total_ms = 0;
  double parse_ms = 0;
  double run_ms = 0;
  uint64_t counter = 0;  // documents the query produced
};

void WriteProfile(resp::ReplyWriter& out, const ProfileTimes& t, const search::ProfileNode& root) {
  auto entry = [&](std::string_view label, const std::string& value) {
    if (out.protocol() < 3) out.ArrayHeader(2);
    out.Bulk(label);
    out.Bulk(value);
  };
  if (out.protocol() >= 3) {
    out.MapHeader(5);
  } else {
    out.ArrayHeader(5);
  }
  entry("Total profile time", FormatMs(t.total_ms));
  entry("Parsing time", FormatMs(t.parse_ms));
  entry("Pipeline creation time", FormatMs(0));
  if (out.protocol() < 3) out.ArrayHeader(2);
  out.Bulk("Iterators profile");
  WriteProfileNode(out, root);
  if (out.protocol() < 3) out.ArrayHeader(2);
  out.Bulk("Result processors profile");
  if (out.protocol() >= 3) {
    out.ArrayHeader(1);
    out.MapHeader(3);
  } else {
    out.ArrayHeader(6);
  }
  out.Bulk("Type");
  out.Bulk("Index");
  out.Bulk("Time");
  out.Bulk(FormatMs(t.run_ms));
  out.Bulk("Counter");
  out.Integer(static_cast<int64_t>(t.counter));
}

double MsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void FtProfileCommand(CommandContext& ctx) {
  auto index = Manager(ctx).Find(ctx.arg(1));
  if (index == nullptr) return ctx.out.Error(NoSuchIndex(ctx.arg(1)));
  const bool search_cmd = IEquals(ctx.arg(2), "SEARCH");
  if (!search_cmd && !IEquals(ctx.arg(2), "AGGREGATE")) {
    return ctx.out.Error("No `SEARCH` or `AGGREGATE` provided");
  }
  size_t i = 3;
  if (i < ctx.argc() && IEquals(ctx.arg(i), "LIMITED")) ++i;
  if (i >= ctx.argc() || !IEquals(ctx.arg(i), "QUERY")) {
    return ctx.out.Error("The QUERY keyword is expected");
  }
  std::vector<std::string_view> args = {ctx.argv[1]};
  args.insert(args.end(), ctx.argv.begin() + static_cast<std::ptrdiff_t>(i) + 1, ctx.argv.end());
  if (args.size() < 2) return ctx.out.Error("The QUERY keyword is expected");
  store::Db& db = ctx.engine.keyspace().db(index->db());
  const int64_t now = ctx.engine.Now();
  auto load = [&](std::string_view key) { return search::PeekHash(db, key, now); };
  const auto t0 = std::chrono::steady_clock::now();
  ProfileTimes times;
  resp::ReplyWriter& out = ctx.out;
  auto begin_reply = [&] {
    if (out.protocol() >= 3) {
      out.MapHeader(2);
      out.Bulk("Results");
    } else {
      out.ArrayHeader(2);
    }
  };
  auto end_reply = [&](const search::ProfileNode& root) {
    times.total_ms = MsSince(t0);
    if (out.protocol() >= 3) out.Bulk("Profile");
    WriteProfile(out, times, root);
  };
  if (search_cmd) {
    auto req = search::ParseFtSearch(args);
    if (!req.ok()) return ReplyStatus(ctx, req.status());
    if (req->return_fields && req->return_fields->empty()) req->no_content = true;
    times.parse_ms = MsSince(t0);
    const auto run0 = std::chrono::steady_clock::now();
    auto result = index->Search(*req, load, BudgetFor(ctx, req->timeout_ms).StartNow());
    if (!result.ok()) return ReplyStatus(ctx, result.status());
    times.run_ms = MsSince(run0);
    times.counter = result->total;
    auto root = index->Profile(req->query);
    if (!root.ok()) return ReplyStatus(ctx, root.status());
    if (req->query.knn) {
      search::ProfileNode knn;
      knn.type = "VECTOR";
      knn.label = req->query.ToString();
      knn.counter = result->total;
      knn.time_ms = times.run_ms;
      knn.children.push_back(std::move(*root));
      *root = std::move(knn);
    }
    begin_reply();
    WriteSearchReply(out, *req, *result);
    return end_reply(*root);
  }
  auto req = search::ParseFtAggregate(args);
  if (!req.ok()) return ReplyStatus(ctx, req.status());
  times.parse_ms = MsSince(t0);
  auto root = index->Profile(req->query);
  if (!root.ok()) return ReplyStatus(ctx, root.status());
  const auto run0 = std::chrono::steady_clock::now();
  const search::QueryDeadline deadline = BudgetFor(ctx, req->timeout_ms).StartNow();
  auto result = search::RunAggregate(*index, std::move(*req), load,
                                     Manager(ctx).config().max_aggregate_results, deadline);
  if (!result.ok()) return ReplyStatus(ctx, result.status());
  times.run_ms = MsSince(run0);
  times.counter = result->total;
  begin_reply();
  WriteAggregateReply(out, *result);
  end_reply(*root);
}

// ---- FT.INFO ----

void WriteAttribute(resp::ReplyWriter& out, const search::FieldSpec& f) {
  const search::AttributeDescription d = search::DescribeField(f);
  if (out.protocol() < 3) {
    out.ArrayHeader(d.pairs.size() * 2 + d.flags.size());
  } else {
    out.MapHeader(d.pairs.size() + 1);
  }
  for (const auto& [k, v] : d.pairs) {
    out.Bulk(k);
    out.Bulk(v);
  }
  if (out.protocol() < 3) {
    for (const auto& flag : d.flags) out.Bulk(flag);
  } else {
    out.Bulk("flags");
    out.ArrayHeader(d.flags.size());
    for (const auto& flag : d.flags) out.SimpleString(flag);
  }
}

void FtInfoCommand(CommandContext& ctx) {
  auto index = Manager(ctx).Find(ctx.arg(1));
  if (index == nullptr) return ctx.out.Error(search::errors::kUnknownIndexName);
  const search::IndexSchema& def = index->schema();
  const search::IndexInfo info = index->Info();
  // A pending background backfill: indexing 1 and the scanned fraction.
  const std::optional<double> backfill = Manager(ctx).BackfillProgress(def.name);
  resp::ReplyWriter& out = ctx.out;
  auto mb = [&](double v) { out.Bulk(search::FormatSearchNumber(v)); };
  auto pairs = [&](std::initializer_list<std::pair<const char*, int64_t>> kv) {
    out.MapHeader(kv.size());
    for (const auto& [k, v] : kv) {
      out.Bulk(k);
      out.Integer(v);
    }
  };
  const bool custom_stopwords = def.stopwords.has_value();
  out.MapHeader(34 + (custom_stopwords ? 1 : 0));
  out.Bulk("index_name");
  out.Bulk(def.name);
  out.Bulk("index_options");
  std::vector<std::string_view> options;
  if (def.no_offsets) options.push_back("NOOFFSETS");
  if (def.no_highlight) options.push_back("NOHL");
  if (def.no_fields) options.push_back("NOFIELDS");
  if (def.no_freqs) options.push_back("NOFREQS");
  if (def.max_text_fields) options.push_back("MAXTEXTFIELDS");
  out.ArrayHeader(options.size());
  for (const auto& o : options) out.Bulk(o);
  out.Bulk("index_definition");
  const auto definition = search::DescribeDefinition(def);
  out.MapHeader(definition.size() + 1);
  for (const auto& [k, v] : definition) {
    out.Bulk(k);
    out.Bulk(v);
    if (k == "key_type") {
      out.Bulk("prefixes");
      if (def.prefixes.empty()) {
        out.ArrayHeader(1);
        out.Bulk("");
      } else {
        out.ArrayHeader(def.prefixes.size());
        for (const auto& p : def.prefixes) out.Bulk(p);
      }
    }
  }
  out.Bulk("attributes");
  out.ArrayHeader(def.fields.size());
  for (const auto& f : def.fields) WriteAttribute(out, f);
  const double records = static_cast<double>(info.num_records);
  const double docs = static_cast<double>(info.num_docs);
  out.Bulk("num_docs");
  out.Integer(static_cast<int64_t>(info.num_docs));
  out.Bulk("max_doc_id");
  out.Integer(static_cast<int64_t>(info.max_doc_id));
  out.Bulk("num_terms");
  out.Integer(static_cast<int64_t>(info.num_terms));
  out.Bulk("num_records");
  out.Integer(static_cast<int64_t>(info.num_records));
  out.Bulk("inverted_sz_mb");
  mb(info.inverted_sz_mb);
  out.Bulk("vector_index_sz_mb");
  mb(info.vector_index_sz_mb);
  out.Bulk("total_inverted_index_blocks");
  out.Integer(static_cast<int64_t>(info.num_terms));
  out.Bulk("offset_vectors_sz_mb");
  mb(0);
  out.Bulk("doc_table_size_mb");
  mb(info.doc_table_size_mb);
  out.Bulk("sortable_values_size_mb");
  mb(0);
  out.Bulk("key_table_size_mb");
  mb(info.doc_table_size_mb / 2);
  out.Bulk("tag_overhead_sz_mb");
  mb(0);
  out.Bulk("text_overhead_sz_mb");
  mb(0);
  out.Bulk("total_index_memory_sz_mb");
  mb(info.inverted_sz_mb + info.vector_index_sz_mb + info.doc_table_size_mb);
  out.Bulk("geoshapes_sz_mb");
  mb(0);
  out.Bulk("records_per_doc_avg");
  mb(docs > 0 ? records / docs : 0);
  out.Bulk("bytes_per_record_avg");
  mb(records > 0 ? info.inverted_sz_mb * 1024 * 1024 / records : 0);
  out.Bulk("offsets_per_term_avg");
  mb(0);
  out.Bulk("offset_bits_per_record_avg");
  mb(0);
  out.Bulk("hash_indexing_failures");
  out.Integer(static_cast<int64_t>(info.hash_indexing_failures));
  out.Bulk("total_indexing_time");
  mb(0);
  out.Bulk("indexing");
  out.Integer(backfill.has_value() ? 1 : 0);
  out.Bulk("percent_indexed");
  mb(backfill.value_or(1));
  out.Bulk("number_of_uses");
  out.Integer(static_cast<int64_t>(info.number_of_uses));
  out.Bulk("cleaning");
  out.Integer(0);
  out.Bulk("gc_stats");
  pairs({{"bytes_collected", 0},
         {"total_ms_run", 0},
         {"total_cycles", 0},
         {"average_cycle_time_ms", 0},
         {"last_run_time_ms", 0},
         {"gc_numeric_trees_missed", 0},
         {"gc_blocks_denied", 0}});
  out.Bulk("cursor_stats");
  pairs({{"global_idle", 0}, {"global_total", 0}, {"index_capacity", 128}, {"index_total", 0}});
  if (custom_stopwords) {
    out.Bulk("stopwords_list");
    out.ArrayHeader(def.stopwords->size());
    for (const auto& w : *def.stopwords) out.Bulk(w);
  }
  out.Bulk("dialect_stats");
  pairs({{"dialect_1", 0}, {"dialect_2", 0}, {"dialect_3", 0}, {"dialect_4", 0}});
  out.Bulk("Index Errors");
  out.MapHeader(3);
  out.Bulk("indexing failures");
  out.Integer(static_cast<int64_t>(info.hash_indexing_failures));
  out.Bulk("last indexing error");
  out.Bulk(info.hash_indexing_failures > 0 ? "Could not index document" : "N/A");
  out.Bulk("last indexing error key");
  out.Bulk("N/A");
  out.Bulk("field statistics");
  out.ArrayHeader(def.fields.size());
  for (const auto& f : def.fields) {
    out.MapHeader(3);
    out.Bulk("identifier");
    out.Bulk(f.identifier);
    out.Bulk("attribute");
    out.Bulk(f.alias);
    out.Bulk("Index Errors");
    out.MapHeader(1);
    out.Bulk("indexing failures");
    out.Integer(0);
  }
}

// ---- FT.TAGVALS / FT.EXPLAIN / FT.CONFIG / MODULE ----

void FtTagValsCommand(CommandContext& ctx) {
  auto index = Manager(ctx).Find(ctx.arg(1));
  if (index == nullptr) return ctx.out.Error(search::errors::kUnknownIndexNameDrop);
  auto values = index->TagValues(ctx.arg(2));
  if (!values.ok()) return ReplyStatus(ctx, values.status());
  ctx.out.SetHeader(values->size());
  for (const auto& v : *values) ctx.out.Bulk(v);
}

void FtExplainCommand(CommandContext& ctx) {
  auto index = Manager(ctx).Find(ctx.arg(1));
  if (index == nullptr) return ctx.out.Error(NoSuchIndex(ctx.arg(1)));
  auto req = search::ParseFtSearch(ctx.argv.subspan(1));
  if (!req.ok()) return ReplyStatus(ctx, req.status());
  ctx.out.Bulk(search::Explain(req->query));
}

struct ConfigOption {
  const char* name;
  uint64_t search::SearchConfig::*value;
};
constexpr ConfigOption kConfigOptions[] = {
    {"MAXSEARCHRESULTS", &search::SearchConfig::max_search_results},
    {"MAXAGGREGATERESULTS", &search::SearchConfig::max_aggregate_results},
    {"TIMEOUT", &search::SearchConfig::timeout_ms},
};

void FtConfigCommand(CommandContext& ctx) {
  auto& cfg = Manager(ctx).config();
  std::string_view sub = ctx.arg(1);
  if (IEquals(sub, "GET") && ctx.argc() == 3) {
    std::vector<std::pair<std::string, std::string>> rows;
    for (const auto& o : kConfigOptions) {
      if (ctx.arg(2) == "*" || IEquals(ctx.arg(2), o.name)) {
        rows.emplace_back(o.name, std::to_string(cfg.*(o.value)));
      }
    }
    if (ctx.arg(2) == "*" || IEquals(ctx.arg(2), "DEFAULT_DIALECT")) {
      rows.emplace_back("DEFAULT_DIALECT", std::to_string(cfg.default_dialect));
    }
    if (ctx.arg(2) == "*" || IEquals(ctx.arg(2), "ON_TIMEOUT")) {
      rows.emplace_back("ON_TIMEOUT", cfg.on_timeout_fail ? "fail" : "return");
    }
    if (ctx.out.protocol() >= 3) {
      ctx.out.MapHeader(rows.size());
      for (const auto& [k, v] : rows) {
        ctx.out.Bulk(k);
        ctx.out.Bulk(v);
      }
      return;
    }
    ctx.out.ArrayHeader(rows.size());
    for (const auto& [k, v] : rows) {
      ctx.out.ArrayHeader(2);
      ctx.out.Bulk(k);
      ctx.out.Bulk(v);
    }
    return;
  }
  if (IEquals(sub, "SET") && ctx.argc() == 4) {
    for (const auto& o : kConfigOptions) {
      if (!IEquals(ctx.arg(2), o.name)) continue;
      auto parsed = search::ParseUint64(ctx.arg(3));
      // TIMEOUT 0 means no limit; a zero result cap would reject every query.
      const bool zero_ok = o.value == &search::SearchConfig::timeout_ms;
      if (!parsed || (*parsed == 0 && !zero_ok)) {
        return ctx.out.Error("Invalid value for `" + std::string(o.name) + "`");
      }
      cfg.*(o.value) = *parsed;
      return ctx.out.Ok();
    }
    if (IEquals(ctx.arg(2), "ON_TIMEOUT")) {
      if (IEquals(ctx.arg(3), "RETURN") || IEquals(ctx.arg(3), "FAIL")) {
        cfg.on_timeout_fail = IEquals(ctx.arg(3), "FAIL");
        return ctx.out.Ok();
      }
      return ctx.out.Error("Invalid value for `ON_TIMEOUT`");
    }
    if (IEquals(ctx.arg(2), "DEFAULT_DIALECT")) {
      auto parsed = search::ParseUint64(ctx.arg(3));
      if (!parsed || *parsed < 1 || *parsed > 4) {
        return ctx.out.Error("Invalid value for `DEFAULT_DIALECT`");
      }
      cfg.default_dialect = static_cast<int64_t>(*parsed);
      return ctx.out.Ok();
    }
    return ctx.out.Error("Invalid option");
  }
  if (IEquals(sub, "HELP")) {
    ctx.out.ArrayHeader(2);
    ctx.out.Bulk("FT.CONFIG GET <option|*>");
    ctx.out.Bulk("FT.CONFIG SET <option> <value>");
    return;
  }
  ctx.out.Error("Unknown subcommand or wrong number of arguments for '" + std::string(sub) +
                "'");
}

void ModuleCommand(CommandContext& ctx) {
  if (IEquals(ctx.arg(1), "LIST") && ctx.argc() == 2) {
    ctx.out.ArrayHeader(1);
    ctx.out.MapHeader(4);
    ctx.out.Bulk("name");
    ctx.out.Bulk(kModuleName);
    ctx.out.Bulk("ver");
    ctx.out.Integer(kModuleVersion);
    ctx.out.Bulk("path");
    ctx.out.Bulk("");
    ctx.out.Bulk("args");
    ctx.out.ArrayHeader(0);
    return;
  }
  if (IEquals(ctx.arg(1), "LOAD") || IEquals(ctx.arg(1), "LOADEX") ||
      IEquals(ctx.arg(1), "UNLOAD")) {
    return ctx.out.Error("ERR Error loading the extension. Please check the server logs.");
  }
  ctx.out.Error("ERR unknown subcommand '" + std::string(ctx.arg(1)) +
                "'. Try MODULE HELP.");
}

}  // namespace

void SearchOnWrite(Engine& engine, int db, std::span<const std::string_view> argv) {
  IndexManager& mgr = engine.search();
  if (argv.empty() || !mgr.has_indexes()) return;
  store::Keyspace& ks = engine.keyspace();
  const int64_t now = ks.now_ms();
  std::string_view name = argv[0];
  auto parse_db = [&](std::string_view s, int* out) {
    auto v = search::ParseInt64(s);
    if (!v || *v < 0 || *v >= ks.size()) return false;
    *out = static_cast<int>(*v);
    return true;
  };
  if (IEquals(name, "FLUSHDB")) return mgr.OnFlush(db);
  if (IEquals(name, "FLUSHALL")) return mgr.OnFlush(-1);
  if (IEquals(name, "SWAPDB")) {
    int a = 0, b = 0;
    if (argv.size() >= 3 && parse_db(argv[1], &a) && parse_db(argv[2], &b)) {
      mgr.OnSwap(a, ks.db(a), b, ks.db(b));
      engine.ScheduleSearchBackfill();
    }
    return;
  }
  if (IEquals(name, "MOVE") && argv.size() >= 3) {
    int to = 0;
    mgr.SyncKey(db, ks.db(db), argv[1], now);
    if (parse_db(argv[2], &to)) mgr.SyncKey(to, ks.db(to), argv[1], now);
    return;
  }
  if (IEquals(name, "COPY") && argv.size() >= 3) {
    int to = db;
    for (size_t i = 3; i + 1 < argv.size(); ++i) {
      if (IEquals(argv[i], "DB")) parse_db(argv[i + 1], &to);
    }
    mgr.SyncKey(to, ks.db(to), argv[2], now);
    return;
  }
  const CommandSpec* spec = engine.commands().Find(name);
  if (spec == nullptr) return;
  for (std::string_view key : CommandKeys(*spec, argv)) mgr.SyncKey(db, ks.db(db), key, now);
}

std::string SearchModuleInfoLine() {
  return "module:name=" + std::string(kModuleName) + ",ver=" + std::to_string(kModuleVersion) +
         ",api=1,filters=0,usedby=[],using=[],options=[]\r\n";
}

std::string SearchInfoSections(Engine& engine) {
  IndexManager& mgr = engine.search();
  uint64_t docs = 0, failures = 0, indexing = 0;
  double memory_mb = 0;
  const std::vector<std::string> names = mgr.Names();
  for (const std::string& name : names) {
    auto index = mgr.Find(name);
    if (index == nullptr) continue;
    const search::IndexInfo info = index->Info();
    docs += info.num_docs;
    failures += info.hash_indexing_failures;
    memory_mb += info.inverted_sz_mb + info.vector_index_sz_mb + info.doc_table_size_mb;
    if (mgr.BackfillProgress(name).has_value()) ++indexing;
  }
  // 21005 -> 2.10.5, RediSearch's encoding of its version.
  const std::string version = std::to_string(kModuleVersion / 10000) + "." +
                              std::to_string(kModuleVersion / 100 % 100) + "." +
                              std::to_string(kModuleVersion % 100);
  const search::SearchConfig& cfg = mgr.config();
  std::string out;
  auto line = [&out](std::string_view k, const std::string& value) {
    out.append(k).append(":").append(value).append("\r\n");
  };
  out += "# search_version\r\n";
  line("search_version", version);
  out += "\r\n# search_indexes\r\n";
  line("search_number_of_indexes", std::to_string(names.size()));
  line("search_number_of_indexes_being_indexed", std::to_string(indexing));
  line("search_total_num_docs", std::to_string(docs));
  line("search_total_indexing_failures", std::to_string(failures));
  out += "\r\n# search_memory\r\n";
  line("search_used_memory_indexes",
       std::to_string(static_cast<int64_t>(memory_mb * 1024 * 1024)));
  out += "\r\n# search_runtime_configurations\r\n";
  line("search_timeout", std::to_string(cfg.timeout_ms));
  line("search_on_timeout", cfg.on_timeout_fail ? "fail" : "return");
  line("search_max_search_results", std::to_string(cfg.max_search_results));
  line("search_max_aggregate_results", std::to_string(cfg.max_aggregate_results));
  return out;
}

void RegisterSearchCommands(CommandTable& t) {
  const uint32_t kW = kWrite | kDenyOom;
  t.Add({"ft.create", -2, kW, 0, 0, 0, FtCreateCommand, "search", "Creates an index with the given spec."});
  t.Add({"ft.alter", -5, kW, 0, 0, 0, FtAlterCommand, "search", "Adds a new field to the index."});
  t.Add({"ft.dropindex", -2, kWrite, 0, 0, 0, FtDropIndexCommand, "search", "Deletes the index."});
  t.Add({"ft.drop", -2, kWrite, 0, 0, 0, FtDropCommand, "search", "Deletes the index (legacy)."});
  t.Add({"ft._list", 1, kReadOnly, 0, 0, 0, FtListCommand, "search", "Returns a list of all existing indexes."});
  t.Add({"ft.search", -3, kReadOnly, 0, 0, 0, FtSearchCommand, "search", "Searches the index with a textual query."});
  t.Add({"ft.aggregate", -3, kReadOnly, 0, 0, 0, FtAggregateCommand, "search", "Runs a search query and performs aggregate transformations."});
  t.Add({"ft.info", 2, kReadOnly, 0, 0, 0, FtInfoCommand, "search", "Returns information and statistics on the index."});
  t.Add({"ft.tagvals", 3, kReadOnly, 0, 0, 0, FtTagValsCommand, "search", "Returns the distinct tags indexed in a Tag field."});
  t.Add({"ft.profile", -5, kReadOnly, 0, 0, 0, FtProfileCommand, "search", "Runs FT.SEARCH or FT.AGGREGATE and reports execution details."});
  t.Add({"ft.explain", -3, kReadOnly, 0, 0, 0, FtExplainCommand, "search", "Returns the execution plan for a complex query."});
  t.Add({"ft.config", -2, kAdmin, 0, 0, 0, FtConfigCommand, "search", "Gets or sets runtime configuration options."});
  t.Add({"module", -2, kAdmin | kNoMulti, 0, 0, 0, ModuleCommand, "server", "A container for module commands."});
}

}  // namespace ragkv::server
