// Config: the server's settings under Redis's names, with a table of options
// that drives parsing (config file and --name value arguments), CONFIG GET
// (glob), CONFIG SET and CONFIG REWRITE.
//
// Values live in typed public fields (read directly on hot paths); the option
// table binds each name to its field with a parser and a formatter. Memory
// sizes accept Redis's units (1k = 1000, 1kb = 1024, m/mb, g/gb).
// Options for settings this server does not implement yet (save,
// appendonly...) are accepted and reported so that stock redis.conf files and
// client libraries that CONFIG GET them keep working.
//
// Thread safety: none; owned by the event-loop thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ragkv::server {

enum class EvictionPolicy : uint8_t {
  kNoEviction,
  kAllKeysLru,
  kAllKeysRandom,
  kVolatileLru,
  kVolatileRandom,
  kVolatileTtl,
};

class Config {
 public:
  Config();
  Config(const Config&) = delete;  // the option table points into this object
  Config& operator=(const Config&) = delete;

  // Network.
  std::string bind = "127.0.0.1 -::1";
  int64_t port = 6379;
  int64_t tcp_backlog = 511;
  int64_t tcp_keepalive = 300;
  int64_t timeout = 0;  // idle client timeout in seconds; 0 = never
  bool protected_mode = true;
  // Security and limits.
  std::string requirepass;
  int64_t maxclients = 10000;
  int64_t maxmemory = 0;
  EvictionPolicy maxmemory_policy = EvictionPolicy::kNoEviction;
  int64_t maxmemory_samples = 5;
  int64_t client_query_buffer_limit = 1LL << 30;
  int64_t proto_max_bulk_len = 512LL << 20;
  // Output bytes pending per client above which it stops being read (ours;
  // Redis would disconnect at client-output-buffer-limit).
  int64_t client_output_pause = 1LL << 20;
  // FT.SEARCH runs on the event loop instead of a worker thread when nothing
  // else is waiting for the loop and the query's learned cost is at most
  // this many microseconds (ours; docs/server.md). The solo budget applies
  // instead while one connection has been the only one sending commands for
  // 100 ms (nobody to stall). 0 disables either.
  int64_t search_inline_max_us = 25;
  int64_t search_inline_solo_max_us = 1000;
  // Server.
  int64_t databases = 16;
  int64_t hz = 10;
  std::string dir = ".";
  std::string loglevel = "notice";
  std::string logfile;
  std::string pidfile;

  // Sets one option from its textual value. Errors: kNotFound for an unknown
  // name, kInvalidArgument for a bad value, kFailedPrecondition when the
  // option cannot change at run time and `startup` is false.
  Status Set(std::string_view name, std::string_view value, bool startup = false);
  // (name, value) for every option whose name matches the glob, sorted.
  std::vector<std::pair<std::string, std::string>> Get(std::string_view pattern) const;

  // Parses a redis.conf-style file (one "name value..." per line, # comments,
  // quoted values). Errors name the file and line.
  Status LoadFile(const std::string& path);
  // Applies "--name value [value...]" arguments (values run until the next
  // "--"), as redis-server does.
  Status ApplyArgs(const std::vector<std::string>& args);
  // Writes all options back to the file it was loaded from (CONFIG REWRITE).
  Status Rewrite() const;
  const std::string& config_file() const { return config_file_; }

  // The value of one option ("" if unknown). Not for hot paths.
  std::string Value(std::string_view name) const;

  static std::string_view PolicyName(EvictionPolicy p);

 private:
  struct Option {
    std::string name;
    bool mutable_at_runtime;
    std::function<Status(std::string_view)> set;
    std::function<std::string()> get;
  };
  void Add(std::string name, bool mutable_at_runtime, std::function<Status(std::string_view)> set,
           std::function<std::string()> get);
  const Option* Find(std::string_view name) const;

  std::vector<Option> options_;
  std::vector<std::pair<std::string, std::string>> passthrough_;  // accepted, unused
  std::string config_file_;
};

// Parses "100", "1k", "1kb", "2mb", "1gb" (case-insensitive) to bytes.
bool ParseMemory(std::string_view text, int64_t* out);

}  // namespace ragkv::server
