// Server commands: DBSIZE, FLUSHDB, FLUSHALL, SWAPDB, INFO, COMMAND, TIME,
// CONFIG, FUNCTION FLUSH, SHUTDOWN, LASTSAVE.
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>

#include "common/log.h"
#include "server/commands/command_util.h"
#include "server/persistence.h"
#include "store/glob.h"

namespace ragkv::server {
namespace {

void DbSizeCommand(CommandContext& ctx) { ctx.out.Integer(static_cast<int64_t>(ctx.db.size())); }

bool ParseFlushMode(CommandContext& ctx) {
  if (ctx.argc() == 1) return true;
  if (ctx.argc() == 2 && (EqualsIgnoreCase(ctx.arg(1), "ASYNC") || EqualsIgnoreCase(ctx.arg(1), "SYNC"))) {
    return true;
  }
  ctx.out.Error(errors::kSyntax);
  return false;
}

void FlushDbCommand(CommandContext& ctx) {
  if (!ParseFlushMode(ctx)) return;
  ctx.dirty += static_cast<int64_t>(ctx.db.size()) + 1;
  ctx.db.Clear();
  ctx.engine.TouchAllWatched(ctx.session.db);
  ctx.out.Ok();
}

void FlushAllCommand(CommandContext& ctx) {
  if (!ParseFlushMode(ctx)) return;
  ctx.dirty += static_cast<int64_t>(ctx.engine.keyspace().TotalKeys()) + 1;
  ctx.engine.keyspace().FlushAll();
  ctx.engine.TouchAllWatched(-1);
  ctx.out.Ok();
}

void SwapDbCommand(CommandContext& ctx) {
  int64_t a, b;
  if (!ParseInt(ctx.arg(1), &a)) {
    ctx.out.Error("ERR invalid first DB index");
    return;
  }
  if (!ParseInt(ctx.arg(2), &b)) {
    ctx.out.Error("ERR invalid second DB index");
    return;
  }
  int n = ctx.engine.keyspace().size();
  if (a < 0 || a >= n || b < 0 || b >= n) {
    ctx.out.Error(errors::kDbIndexOutOfRange);
    return;
  }
  ctx.engine.keyspace().Swap(static_cast<int>(a), static_cast<int>(b));
  ctx.engine.TouchAllWatched(static_cast<int>(a));
  ctx.engine.TouchAllWatched(static_cast<int>(b));
  ++ctx.dirty;
  ctx.out.Ok();
}

std::string HumanBytes(int64_t n) {
  char buf[32];
  double d = static_cast<double>(n);
  if (n < 1024) {
    std::snprintf(buf, sizeof(buf), "%" PRId64 "B", n);
  } else if (n < 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fK", d / 1024);
  } else if (n < 1024LL * 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.2fM", d / (1024 * 1024));
  } else {
    std::snprintf(buf, sizeof(buf), "%.2fG", d / (1024.0 * 1024 * 1024));
  }
  return buf;
}

int64_t RssBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0, rss = 0;
  if (std::fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
  std::fclose(f);
  return static_cast<int64_t>(rss) * sysconf(_SC_PAGESIZE);
}

const std::string& RunId() {
  static const std::string id = [] {
    std::random_device rd;
    std::string s;
    const char* hex = "0123456789abcdef";
    for (int i = 0; i < 40; ++i) s.push_back(hex[rd() % 16]);
    return s;
  }();
  return id;
}

std::string InfoText(Engine& engine, const std::vector<std::string>& wanted) {
  auto want = [&](std::string_view section, bool in_default) {
    if (wanted.empty()) return in_default;
    for (const std::string& w : wanted) {
      if (EqualsIgnoreCase(w, section) || EqualsIgnoreCase(w, "all") ||
          EqualsIgnoreCase(w, "everything") || (in_default && EqualsIgnoreCase(w, "default"))) {
        return true;
      }
    }
    return false;
  };
  std::string out;
  auto line = [&out](std::string_view k, const std::string& v) {
    out.append(k).append(":").append(v).append("\r\n");
  };
  auto header = [&out](std::string_view title) {
    if (!out.empty()) out.append("\r\n");
    out.append("# ").append(title).append("\r\n");
  };
  Stats& st = engine.stats();
  Config& cfg = engine.config();
  int64_t now = engine.Now();
  if (want("server", true)) {
    header("Server");
    utsname u{};
    uname(&u);
    line("redis_version", "7.0.15");
    line("ragkv_version", RAGKV_SERVER_VERSION);
    line("redis_git_sha1", "00000000");
    line("redis_git_dirty", "0");
    line("redis_mode", "standalone");
    line("os", std::string(u.sysname) + " " + u.release + " " + u.machine);
    line("arch_bits", "64");
    line("multiplexing_api", "epoll");
    line("process_id", std::to_string(getpid()));
    line("run_id", RunId());
    line("tcp_port", std::to_string(engine.tcp_port));
    line("server_time_usec", std::to_string(now * 1000));
    line("uptime_in_seconds", std::to_string((now - st.start_ms) / 1000));
    line("uptime_in_days", std::to_string((now - st.start_ms) / 86400000));
    line("hz", std::to_string(cfg.hz));
    line("configured_hz", std::to_string(cfg.hz));
    line("executable", engine.executable);
    line("config_file", cfg.config_file());
    line("io_threads_active", "0");
  }
  if (want("clients", true)) {
    header("Clients");
    line("connected_clients", std::to_string(engine.connected_clients()));
    line("cluster_connections", "0");
    line("maxclients", std::to_string(cfg.maxclients));
    line("client_recent_max_input_buffer", "0");
    line("client_recent_max_output_buffer", "0");
    line("blocked_clients", "0");
    line("tracking_clients", "0");
    line("clients_in_timeout_table", "0");
  }
  if (want("memory", true)) {
    header("Memory");
    int64_t used = engine.UsedMemory();
    int64_t rss = RssBytes();
    line("used_memory", std::to_string(used));
    line("used_memory_human", HumanBytes(used));
    line("used_memory_rss", std::to_string(rss));
    line("used_memory_rss_human", HumanBytes(rss));
    line("maxmemory", std::to_string(cfg.maxmemory));
    line("maxmemory_human", HumanBytes(cfg.maxmemory));
    line("maxmemory_policy", std::string(Config::PolicyName(cfg.maxmemory_policy)));
    char ratio[32];
    std::snprintf(ratio, sizeof(ratio), "%.2f", used > 0 ? static_cast<double>(rss) / static_cast<double>(used) : 0.0);
    line("mem_fragmentation_ratio", ratio);
    line("mem_allocator", "libc");
  }
  if (want("persistence", true) && engine.persistence != nullptr) {
    if (!out.empty()) out.append("\r\n");
    out.append(engine.persistence->InfoSection());
  } else if (want("persistence", true)) {
    header("Persistence");
    line("loading", "0");
    line("async_loading", "0");
    line("rdb_changes_since_last_save", std::to_string(st.dirty));
    line("rdb_bgsave_in_progress", "0");
    line("rdb_last_save_time", std::to_string(st.start_ms / 1000));
    line("rdb_last_bgsave_status", "ok");
    line("aof_enabled", "0");
    line("aof_rewrite_in_progress", "0");
    line("aof_last_write_status", "ok");
  }
  if (want("stats", true)) {
    header("Stats");
    line("total_connections_received", std::to_string(st.total_connections_received));
    line("total_commands_processed", std::to_string(st.total_commands_processed));
    line("instantaneous_ops_per_sec", std::to_string(st.instantaneous_ops_per_sec));
    line("total_net_input_bytes", std::to_string(st.total_net_input_bytes));
    line("total_net_output_bytes", std::to_string(st.total_net_output_bytes));
    line("rejected_connections", std::to_string(st.rejected_connections));
    line("sync_full", std::to_string(st.sync_full));
    line("sync_partial_ok", std::to_string(st.sync_partial_ok));
    line("sync_partial_err", std::to_string(st.sync_partial_err));
    line("expired_keys", std::to_string(st.expired_keys));
    line("evicted_keys", std::to_string(st.evicted_keys));
    line("keyspace_hits", std::to_string(st.keyspace_hits));
    line("keyspace_misses", std::to_string(st.keyspace_misses));
    line("pubsub_channels", "0");
    line("pubsub_patterns", "0");
    line("total_error_replies", std::to_string(st.total_error_replies));
    line("ragkv_deferred_on_workers", std::to_string(st.deferred_on_workers));
    line("ragkv_deferred_inline", std::to_string(st.deferred_inline));
    line("ragkv_deferred_to_worker_us", std::to_string(st.deferred_to_worker_ns / 1000));
    line("ragkv_deferred_to_loop_us", std::to_string(st.deferred_to_loop_ns / 1000));
  }
  if (want("replication", true) && engine.replication != nullptr) {
    if (!out.empty()) out.append("\r\n");
    out.append(engine.replication->InfoSection());
  } else if (want("replication", true)) {
    header("Replication");
    line("role", "master");
    line("connected_slaves", "0");
    line("master_failover_state", "no-failover");
    line("master_replid", RunId());
    line("master_replid2", std::string(40, '0'));
    line("master_repl_offset", "0");
    line("second_repl_offset", "-1");
    line("repl_backlog_active", "0");
    line("repl_backlog_size", "1048576");
    line("repl_backlog_first_byte_offset", "0");
    line("repl_backlog_histlen", "0");
  }
  if (want("cpu", true)) {
    header("CPU");
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(ru.ru_stime.tv_sec), static_cast<long>(ru.ru_stime.tv_usec));
    line("used_cpu_sys", buf);
    std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(ru.ru_utime.tv_sec), static_cast<long>(ru.ru_utime.tv_usec));
    line("used_cpu_user", buf);
  }
  if (want("modules", true)) {
    header("Modules");
    out.append(SearchModuleInfoLine());
  }
  if (want("commandstats", false)) {
    header("Commandstats");
    std::vector<std::pair<std::string, int64_t>> calls;
    for (const auto& [name, spec] : engine.commands().all()) {
      if (spec.calls > 0) calls.emplace_back(name, spec.calls);
    }
    std::sort(calls.begin(), calls.end());
    for (const auto& [name, n] : calls) {
      line("cmdstat_" + name, "calls=" + std::to_string(n) +
                                  ",usec=0,usec_per_call=0.00,rejected_calls=0,failed_calls=0");
    }
  }
  if (want("cluster", true)) {
    header("Cluster");
    line("cluster_enabled", "0");
  }
  if (want("keyspace", true)) {
    header("Keyspace");
    for (int i = 0; i < engine.keyspace().size(); ++i) {
      store::Db& db = engine.keyspace().db(i);
      if (db.size() == 0) continue;
      line("db" + std::to_string(i), "keys=" + std::to_string(db.size()) +
                                         ",expires=" + std::to_string(db.volatile_size()) +
                                         ",avg_ttl=" + std::to_string(db.AverageTtlMs()));
    }
  }
  // Module-generated sections come last and only when named or with
  // "everything" ("all" leaves them out, as in Redis).
  bool search_sections = false;
  for (const std::string& w : wanted) {
    search_sections |= EqualsIgnoreCase(w, "everything") || EqualsIgnoreCase(w, "search");
  }
  if (search_sections) {
    if (!out.empty()) out.append("\r\n");
    out.append(SearchInfoSections(engine));
  }
  return out;
}

void InfoCommand(CommandContext& ctx) {
  std::vector<std::string> wanted(ctx.argv.begin() + 1, ctx.argv.end());
  ctx.out.Verbatim("txt", InfoText(ctx.engine, wanted));
}

void TimeCommand(CommandContext& ctx) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  ctx.out.ArrayHeader(2);
  ctx.out.Bulk(std::to_string(ts.tv_sec));
  ctx.out.Bulk(std::to_string(ts.tv_nsec / 1000));
}

void LastSaveCommand(CommandContext& ctx) {
  ctx.out.Integer(ctx.engine.persistence != nullptr ? ctx.engine.persistence->last_save_time()
                                                    : ctx.engine.stats().start_ms / 1000);
}

void WriteCommandInfo(CommandContext& ctx, const CommandSpec& spec) {
  ctx.out.ArrayHeader(10);
  ctx.out.Bulk(spec.name);
  ctx.out.Integer(spec.arity);
  std::vector<std::string_view> flags;
  if (spec.flags & kWrite) flags.push_back("write");
  if (spec.flags & kReadOnly) flags.push_back("readonly");
  if (spec.flags & kDenyOom) flags.push_back("denyoom");
  if (spec.flags & kAdmin) flags.push_back("admin");
  if (spec.flags & kNoAuth) flags.push_back("no_auth");
  if (spec.flags & kNoMulti) flags.push_back("no_multi");
  if (spec.flags & kLoading) flags.push_back("loading");
  if (spec.flags & kStale) flags.push_back("stale");
  if (spec.flags & kFast) flags.push_back("fast");
  ctx.out.SetHeader(flags.size());
  for (std::string_view f : flags) ctx.out.SimpleString(f);
  ctx.out.Integer(spec.first_key);
  ctx.out.Integer(spec.last_key);
  ctx.out.Integer(spec.key_step);
  ctx.out.SetHeader(1);
  ctx.out.SimpleString("@" + spec.group);
  ctx.out.SetHeader(0);
  ctx.out.ArrayHeader(0);
  ctx.out.ArrayHeader(0);
}

void WriteCommandDocs(CommandContext& ctx, const CommandSpec& spec) {
  ctx.out.Bulk(spec.name);
  ctx.out.MapHeader(3);
  ctx.out.Bulk("summary");
  ctx.out.Bulk(spec.summary);
  ctx.out.Bulk("since");
  ctx.out.Bulk("1.0.0");
  ctx.out.Bulk("group");
  ctx.out.Bulk(spec.group);
}

void CommandCommand(CommandContext& ctx) {
  const auto& all = ctx.engine.commands().all();
  if (ctx.argc() == 1) {
    ctx.out.ArrayHeader(all.size());
    for (const auto& [name, spec] : all) WriteCommandInfo(ctx, spec);
    return;
  }
  std::string_view sub = ctx.arg(1);
  if (EqualsIgnoreCase(sub, "COUNT") && ctx.argc() == 2) {
    ctx.out.Integer(static_cast<int64_t>(all.size()));
  } else if (EqualsIgnoreCase(sub, "INFO")) {
    if (ctx.argc() == 2) {
      ctx.out.ArrayHeader(all.size());
      for (const auto& [name, spec] : all) WriteCommandInfo(ctx, spec);
      return;
    }
    ctx.out.ArrayHeader(ctx.argc() - 2);
    for (size_t i = 2; i < ctx.argc(); ++i) {
      const CommandSpec* spec = ctx.engine.commands().Find(ctx.arg(i));
      if (spec == nullptr) {
        ctx.out.NullArray();
      } else {
        WriteCommandInfo(ctx, *spec);
      }
    }
  } else if (EqualsIgnoreCase(sub, "DOCS")) {
    if (ctx.argc() == 2) {
      ctx.out.MapHeader(all.size());
      for (const auto& [name, spec] : all) WriteCommandDocs(ctx, spec);
      return;
    }
    std::vector<const CommandSpec*> found;
    for (size_t i = 2; i < ctx.argc(); ++i) {
      if (const CommandSpec* spec = ctx.engine.commands().Find(ctx.arg(i))) found.push_back(spec);
    }
    ctx.out.MapHeader(found.size());
    for (const CommandSpec* spec : found) WriteCommandDocs(ctx, *spec);
  } else if (EqualsIgnoreCase(sub, "LIST") && ctx.argc() == 2) {
    ctx.out.ArrayHeader(all.size());
    for (const auto& [name, spec] : all) ctx.out.Bulk(name);
  } else if (EqualsIgnoreCase(sub, "GETKEYS") && ctx.argc() >= 3) {
    const CommandSpec* spec = ctx.engine.commands().Find(ctx.arg(2));
    if (spec == nullptr) {
      ctx.out.Error("ERR Invalid command specified");
      return;
    }
    auto keys = CommandKeys(*spec, ctx.argv.subspan(2));
    if (keys.empty()) {
      ctx.out.Error("ERR The command has no key arguments");
      return;
    }
    ctx.out.ArrayHeader(keys.size());
    for (std::string_view k : keys) ctx.out.Bulk(k);
  } else {
    ctx.out.Error(errors::UnknownSubcommand(sub, "COMMAND"));
  }
}

void ConfigCommand(CommandContext& ctx) {
  std::string_view sub = ctx.arg(1);
  Config& cfg = ctx.engine.config();
  if (EqualsIgnoreCase(sub, "GET") && ctx.argc() >= 3) {
    std::vector<std::pair<std::string, std::string>> items;
    for (size_t i = 2; i < ctx.argc(); ++i) {
      for (auto& kv : cfg.Get(ctx.arg(i))) {
        if (std::find(items.begin(), items.end(), kv) == items.end()) items.push_back(std::move(kv));
      }
    }
    ctx.out.MapHeader(items.size());
    for (const auto& [k, v] : items) {
      ctx.out.Bulk(k);
      ctx.out.Bulk(v);
    }
  } else if (EqualsIgnoreCase(sub, "SET") && ctx.argc() >= 4 && ctx.argc() % 2 == 0) {
    for (size_t i = 2; i < ctx.argc(); i += 2) {
      Status s = cfg.Set(ctx.arg(i), ctx.arg(i + 1));
      if (s.code() == StatusCode::kNotFound) {
        ctx.out.Error("ERR Unknown option or number of arguments for CONFIG SET - '" +
                      std::string(ctx.arg(i)) + "'");
        return;
      }
      if (!s.ok()) {
        ctx.out.Error("ERR CONFIG SET failed (possibly related to argument '" +
                      std::string(ctx.arg(i)) + "') - " + std::string(s.message()));
        return;
      }
      if (ctx.engine.persistence != nullptr) {
        s = ctx.engine.persistence->ApplyConfig(ctx.arg(i));
        if (!s.ok()) {
          ctx.out.Error("ERR CONFIG SET failed (possibly related to argument '" +
                        std::string(ctx.arg(i)) + "') - " + std::string(s.message()));
          return;
        }
      }
      if (EqualsIgnoreCase(ctx.arg(i), "loglevel")) {
        log::Level level;
        if (log::ParseLevel(cfg.loglevel, &level)) log::SetLevel(level);
      }
    }
    ctx.out.Ok();
  } else if (EqualsIgnoreCase(sub, "RESETSTAT") && ctx.argc() == 2) {
    ctx.engine.ResetStats();
    ctx.out.Ok();
  } else if (EqualsIgnoreCase(sub, "REWRITE") && ctx.argc() == 2) {
    Status s = cfg.Rewrite();
    if (!s.ok()) {
      ctx.out.Error("ERR " + std::string(s.message()));
      return;
    }
    ctx.out.Ok();
  } else if (EqualsIgnoreCase(sub, "HELP")) {
    const char* lines[] = {
        "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>", "    Set the configuration <directive> to <value>.",
        "RESETSTAT", "    Reset statistics reported by the INFO command.",
        "REWRITE", "    Rewrite the configuration file.",
        "HELP", "    Print this help."};
    ctx.out.ArrayHeader(std::size(lines));
    for (const char* l : lines) ctx.out.SimpleString(l);
  } else if (EqualsIgnoreCase(sub, "GET") || EqualsIgnoreCase(sub, "SET") ||
             EqualsIgnoreCase(sub, "RESETSTAT") || EqualsIgnoreCase(sub, "REWRITE")) {
    std::string name = "config|";
    for (char c : sub) name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    ctx.out.Error(errors::WrongArity(name));
  } else {
    ctx.out.Error(errors::UnknownSubcommand(sub, "CONFIG"));
  }
}

void FunctionCommand(CommandContext& ctx) {
  if (EqualsIgnoreCase(ctx.arg(1), "FLUSH") && ctx.argc() <= 3) {
    ctx.out.Ok();
  } else {
    ctx.out.Error(errors::UnknownSubcommand(ctx.arg(1), "FUNCTION"));
  }
}

void ShutdownCommand(CommandContext& ctx) {
  for (size_t i = 1; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (!EqualsIgnoreCase(a, "NOSAVE") && !EqualsIgnoreCase(a, "SAVE") &&
        !EqualsIgnoreCase(a, "NOW") && !EqualsIgnoreCase(a, "FORCE")) {
      ctx.out.Error(errors::kSyntax);
      return;
    }
  }
  log::Warn("User requested shutdown...");
  if (ctx.engine.persistence != nullptr) {
    bool save = false, nosave = false, force = false;
    for (size_t i = 1; i < ctx.argc(); ++i) {
      save = save || EqualsIgnoreCase(ctx.arg(i), "SAVE");
      nosave = nosave || EqualsIgnoreCase(ctx.arg(i), "NOSAVE");
      force = force || EqualsIgnoreCase(ctx.arg(i), "FORCE");
    }
    Status s = ctx.engine.persistence->Shutdown(save, nosave);
    if (!s.ok() && !force) {
      log::Warn("Errors trying to shut down the server: " + s.ToString());
      ctx.out.Error("ERR Errors trying to SHUTDOWN. Check logs.");
      return;
    }
  }
  ctx.engine.RequestShutdown();
  ctx.session.close_after_reply = true;
  // Redis closes the connection without a reply on success.
}

}  // namespace

void RegisterServerCommands(CommandTable& t) {
  const uint32_t kAdm = kAdmin | kNoMulti | kLoading | kStale;
  t.Add({"dbsize", 1, kReadOnly | kFast, 0, 0, 0, DbSizeCommand, "server", "Returns the number of keys in the database."});
  t.Add({"flushdb", -1, kWrite, 0, 0, 0, FlushDbCommand, "server", "Remove all keys from the current database."});
  t.Add({"flushall", -1, kWrite, 0, 0, 0, FlushAllCommand, "server", "Removes all keys from all databases."});
  t.Add({"swapdb", 3, kWrite | kFast, 0, 0, 0, SwapDbCommand, "server", "Swaps two Redis databases."});
  t.Add({"info", -1, kLoading | kStale, 0, 0, 0, InfoCommand, "server", "Returns information and statistics about the server."});
  t.Add({"time", 1, kFast | kLoading | kStale, 0, 0, 0, TimeCommand, "server", "Returns the server time."});
  t.Add({"lastsave", 1, kFast | kLoading | kStale, 0, 0, 0, LastSaveCommand, "server", "Returns the Unix timestamp of the last successful save to disk."});
  t.Add({"command", -1, kLoading | kStale, 0, 0, 0, CommandCommand, "server", "Returns detailed information about all commands."});
  t.Add({"config", -2, kAdm, 0, 0, 0, ConfigCommand, "server", "A container for server configuration commands."});
  t.Add({"function", -2, kNoMulti, 0, 0, 0, FunctionCommand, "scripting", "A container for function commands."});
  t.Add({"shutdown", -1, kAdm, 0, 0, 0, ShutdownCommand, "server", "Synchronously saves the database(s) to disk and shuts down the Redis server."});
}

}  // namespace ragkv::server
