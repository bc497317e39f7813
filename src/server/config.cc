// Config: one table of options, each a name bound to a typed field through a
// parse and a format closure. Everything (file, args, CONFIG GET/SET/REWRITE)
// goes through the table, so an option is declared once.
//
// Rejected: a map<string,string> read with conversions at each use (hot paths
// would parse strings) and code generation (overkill for ~40 options).
#include "server/config.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

#include "protocol/request_parser.h"
#include "store/glob.h"

namespace ragkv::server {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status ParseBool(std::string_view v, bool* out) {
  std::string l = Lower(v);
  if (l == "yes") {
    *out = true;
  } else if (l == "no") {
    *out = false;
  } else {
    return Status::InvalidArgument("argument must be 'yes' or 'no'");
  }
  return Status::Ok();
}

std::string FormatMemory(int64_t v) { return std::to_string(v); }

// Redis's accepted-but-unused options and their defaults (as CONFIG GET shows
// them), so that stock configs and clients work until the features land.
const std::pair<const char*, const char*> kPassthroughDefaults[] = {
    {"save", ""},
    {"appendonly", "no"},
    {"appendfsync", "everysec"},
    {"appendfilename", "appendonly.aof"},
    {"appenddirname", "appendonlydir"},
    {"aof-load-truncated", "yes"},
    {"auto-aof-rewrite-percentage", "100"},
    {"auto-aof-rewrite-min-size", "67108864"},
    {"no-appendfsync-on-rewrite", "no"},
    {"dbfilename", "dump.rks"},  // our snapshot format, not RDB (docs/formats/snapshot.md)
    {"daemonize", "no"},
    {"supervised", "no"},
    {"unixsocket", ""},
    {"unixsocketperm", "0"},
    {"lazyfree-lazy-eviction", "no"},
    {"lazyfree-lazy-expire", "no"},
    {"lazyfree-lazy-server-del", "no"},
    {"lazyfree-lazy-user-del", "no"},
    {"lazyfree-lazy-user-flush", "no"},
    {"replica-read-only", "yes"},
    {"slave-read-only", "yes"},
    {"stop-writes-on-bgsave-error", "yes"},
    // ragkv: snapshots also save each VECTOR field's index (docs/persistence.md).
    {"vector-index-snapshot", "yes"},
    {"rdbcompression", "yes"},
    {"rdbchecksum", "yes"},
    {"activerehashing", "yes"},
    {"latency-tracking", "yes"},
    {"enable-debug-command", "no"},
    {"io-threads", "1"},
    {"always-show-logo", "no"},
    {"set-proc-title", "yes"},
    {"notify-keyspace-events", ""},
    {"hash-max-listpack-entries", "128"},
    {"hash-max-listpack-value", "64"},
    {"hash-max-ziplist-entries", "128"},
    {"hash-max-ziplist-value", "64"},
    {"zset-max-listpack-entries", "128"},
    {"zset-max-listpack-value", "64"},
    {"zset-max-ziplist-entries", "128"},
    {"zset-max-ziplist-value", "64"},
    {"slowlog-log-slower-than", "10000"},
    {"slowlog-max-len", "128"},
    {"lua-time-limit", "5000"},
    {"busy-reply-threshold", "5000"},
    {"list-max-listpack-size", "-2"},
    {"set-max-intset-entries", "512"},
    {"client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"},
    // Replication (read by ragkv_replication; docs/protocols/replication.md).
    {"replicaof", ""},
    {"slaveof", ""},
    {"masterauth", ""},
    {"masteruser", ""},
    {"replica-serve-stale-data", "yes"},
    {"slave-serve-stale-data", "yes"},
    {"repl-backlog-size", "1048576"},
    {"repl-backlog-ttl", "3600"},
    {"repl-ping-replica-period", "10"},
    {"repl-timeout", "60"},
    {"repl-diskless-sync", "yes"},
    {"repl-diskless-sync-delay", "0"},
    {"min-replicas-to-write", "0"},
    {"min-replicas-max-lag", "10"},
    {"min-slaves-to-write", "0"},
    {"min-slaves-max-lag", "10"},
    {"replica-priority", "100"},
    {"slave-priority", "100"},
    {"replica-announce-ip", ""},
    {"replica-announce-port", "0"},
    {"replica-announced", "yes"},
    {"repl-allow-empty-leader", "no"},
};

}  // namespace

bool ParseMemory(std::string_view text, int64_t* out) {
  std::string l = Lower(text);
  size_t digits = 0;
  bool negative = !l.empty() && l[0] == '-';
  if (negative) digits = 1;
  while (digits < l.size() && std::isdigit(static_cast<unsigned char>(l[digits]))) ++digits;
  std::string_view unit = std::string_view(l).substr(digits);
  int64_t mul;
  if (unit.empty() || unit == "b") {
    mul = 1;
  } else if (unit == "k") {
    mul = 1000;
  } else if (unit == "kb") {
    mul = 1024;
  } else if (unit == "m") {
    mul = 1000 * 1000;
  } else if (unit == "mb") {
    mul = 1024 * 1024;
  } else if (unit == "g") {
    mul = 1000LL * 1000 * 1000;
  } else if (unit == "gb") {
    mul = 1024LL * 1024 * 1024;
  } else {
    return false;
  }
  int64_t v;
  if (!resp::ParseInt64(std::string_view(l).substr(0, digits), &v) || v < 0) return false;
  if (v > INT64_MAX / mul) return false;
  *out = v * mul;
  return true;
}

std::string_view Config::PolicyName(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::kNoEviction: return "noeviction";
    case EvictionPolicy::kAllKeysLru: return "allkeys-lru";
    case EvictionPolicy::kAllKeysRandom: return "allkeys-random";
    case EvictionPolicy::kVolatileLru: return "volatile-lru";
    case EvictionPolicy::kVolatileRandom: return "volatile-random";
    case EvictionPolicy::kVolatileTtl: return "volatile-ttl";
  }
  return "noeviction";
}

void Config::Add(std::string name, bool mutable_at_runtime,
                 std::function<Status(std::string_view)> set, std::function<std::string()> get) {
  options_.push_back({std::move(name), mutable_at_runtime, std::move(set), std::move(get)});
}

Config::Config() {
  auto int_opt = [this](const char* name, int64_t* field, int64_t min, int64_t max, bool mut) {
    Add(name, mut,
        [field, min, max](std::string_view v) {
          int64_t n;
          if (!resp::ParseInt64(v, &n)) return Status::InvalidArgument("argument couldn't be parsed into an integer");
          if (n < min || n > max) return Status::OutOfRange("argument must be between " + std::to_string(min) + " and " + std::to_string(max) + " inclusive");
          *field = n;
          return Status::Ok();
        },
        [field] { return std::to_string(*field); });
  };
  auto mem_opt = [this](const char* name, int64_t* field, int64_t min, bool mut) {
    Add(name, mut,
        [field, min](std::string_view v) {
          int64_t n;
          if (!ParseMemory(v, &n)) return Status::InvalidArgument("argument must be a memory value");
          if (n < min) return Status::OutOfRange("argument must be at least " + std::to_string(min));
          *field = n;
          return Status::Ok();
        },
        [field] { return FormatMemory(*field); });
  };
  auto str_opt = [this](const char* name, std::string* field, bool mut) {
    Add(name, mut,
        [field](std::string_view v) {
          field->assign(v);
          return Status::Ok();
        },
        [field] { return *field; });
  };
  auto bool_opt = [this](const char* name, bool* field, bool mut) {
    Add(name, mut, [field](std::string_view v) { return ParseBool(v, field); },
        [field] { return std::string(*field ? "yes" : "no"); });
  };

  str_opt("bind", &bind, false);
  int_opt("port", &port, 0, 65535, false);
  int_opt("tcp-backlog", &tcp_backlog, 0, INT32_MAX, false);
  int_opt("tcp-keepalive", &tcp_keepalive, 0, INT32_MAX, true);
  int_opt("timeout", &timeout, 0, INT32_MAX, true);
  bool_opt("protected-mode", &protected_mode, true);
  str_opt("requirepass", &requirepass, true);
  int_opt("maxclients", &maxclients, 1, 1000000, true);
  mem_opt("maxmemory", &maxmemory, 0, true);
  Add("maxmemory-policy", true,
      [this](std::string_view v) {
        std::string l = Lower(v);
        for (auto p : {EvictionPolicy::kNoEviction, EvictionPolicy::kAllKeysLru,
                       EvictionPolicy::kAllKeysRandom, EvictionPolicy::kVolatileLru,
                       EvictionPolicy::kVolatileRandom, EvictionPolicy::kVolatileTtl}) {
          if (l == PolicyName(p)) {
            maxmemory_policy = p;
            return Status::Ok();
          }
        }
        // LFU policies are accepted as their LRU counterparts.
        if (l == "allkeys-lfu") {
          maxmemory_policy = EvictionPolicy::kAllKeysLru;
          return Status::Ok();
        }
        if (l == "volatile-lfu") {
          maxmemory_policy = EvictionPolicy::kVolatileLru;
          return Status::Ok();
        }
        return Status::InvalidArgument("argument(s) must be one of the following: volatile-lru, "
                                       "volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, "
                                       "allkeys-lfu, allkeys-random, noeviction");
      },
      [this] { return std::string(PolicyName(maxmemory_policy)); });
  int_opt("maxmemory-samples", &maxmemory_samples, 1, 64, true);
  mem_opt("client-query-buffer-limit", &client_query_buffer_limit, 1024 * 1024, true);
  mem_opt("proto-max-bulk-len", &proto_max_bulk_len, 1024 * 1024, true);
  int_opt("databases", &databases, 1, INT32_MAX, false);
  int_opt("hz", &hz, 1, 500, true);
  int_opt("search-inline-max-us", &search_inline_max_us, 0, 1000000, true);
  int_opt("search-inline-solo-max-us", &search_inline_solo_max_us, 0, 1000000, true);
  str_opt("dir", &dir, true);
  Add("loglevel", true,
      [this](std::string_view v) {
        std::string l = Lower(v);
        if (l != "debug" && l != "verbose" && l != "notice" && l != "warning" && l != "nothing") {
          return Status::InvalidArgument("argument(s) must be one of the following: debug, verbose, notice, warning, nothing");
        }
        loglevel = l;
        return Status::Ok();
      },
      [this] { return loglevel; });
  str_opt("logfile", &logfile, false);
  str_opt("pidfile", &pidfile, false);
  for (const auto& [name, value] : kPassthroughDefaults) passthrough_.emplace_back(name, value);
}

const Config::Option* Config::Find(std::string_view name) const {
  for (const Option& o : options_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

Status Config::Set(std::string_view name, std::string_view value, bool startup) {
  std::string l = Lower(name);
  if (const Option* o = Find(l)) {
    if (!startup && !o->mutable_at_runtime) {
      return Status::FailedPrecondition("can't set immutable config");
    }
    return o->set(value);
  }
  for (auto& [pname, pvalue] : passthrough_) {
    if (pname == l) {
      pvalue.assign(value);
      return Status::Ok();
    }
  }
  return Status::NotFound("Unknown option");
}

std::vector<std::pair<std::string, std::string>> Config::Get(std::string_view pattern) const {
  std::vector<std::pair<std::string, std::string>> out;
  std::string l = Lower(pattern);
  for (const Option& o : options_) {
    if (store::GlobMatch(l, o.name)) out.emplace_back(o.name, o.get());
  }
  for (const auto& [name, value] : passthrough_) {
    if (store::GlobMatch(l, name)) out.emplace_back(name, value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string Config::Value(std::string_view name) const {
  std::string l = Lower(name);
  if (const Option* o = Find(l)) return o->get();
  for (const auto& [pname, pvalue] : passthrough_) {
    if (pname == l) return pvalue;
  }
  return "";
}

Status Config::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot open config file '" + path + "'");
  config_file_ = path;
  std::string line;
  int lineno = 0;
  std::vector<std::string> words;
  while (std::getline(in, line)) {
    ++lineno;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    if (!resp::SplitInlineArgs(line, &words) || words.empty()) {
      return Status::InvalidArgument(path + ":" + std::to_string(lineno) + ": unbalanced quotes");
    }
    std::string value;
    for (size_t i = 1; i < words.size(); ++i) {
      if (i > 1) value += ' ';
      value += words[i];
    }
    Status s = Set(words[0], value, /*startup=*/true);
    if (!s.ok()) {
      return Status::InvalidArgument(path + ":" + std::to_string(lineno) + ": '" + words[0] +
                                     "': " + std::string(s.message()));
    }
  }
  return Status::Ok();
}

Status Config::ApplyArgs(const std::vector<std::string>& args) {
  size_t i = 0;
  while (i < args.size()) {
    if (args[i].rfind("--", 0) != 0) {
      return Status::InvalidArgument("expected --option, got '" + args[i] + "'");
    }
    std::string name = args[i].substr(2);
    std::string value;
    ++i;
    bool first = true;
    while (i < args.size() && args[i].rfind("--", 0) != 0) {
      if (!first) value += ' ';
      value += args[i++];
      first = false;
    }
    Status s = Set(name, value, /*startup=*/true);
    if (!s.ok()) return Status::InvalidArgument("--" + name + ": " + std::string(s.message()));
  }
  return Status::Ok();
}

Status Config::Rewrite() const {
  if (config_file_.empty()) {
    return Status::FailedPrecondition("The server is running without a config file");
  }
  std::ostringstream out;
  out << "# Rewritten by ragkv CONFIG REWRITE\n";
  for (const auto& [name, value] : Get("*")) {
    std::string quoted = "\"";
    for (char c : value) {
      if (c == '"' || c == '\\') quoted += '\\';
      quoted += c;
    }
    quoted += '"';
    out << name << ' ' << quoted << '\n';
  }
  std::string tmp = config_file_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    if (!f) return Status::IOError("cannot write '" + tmp + "'");
    f << out.str();
    if (!f) return Status::IOError("short write to '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), config_file_.c_str()) != 0) {
    return Status::IOError("cannot rename '" + tmp + "' over '" + config_file_ + "'");
  }
  return Status::Ok();
}

}  // namespace ragkv::server
