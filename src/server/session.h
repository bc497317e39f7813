// Session: the per-client state a command can see and change (selected db,
// protocol version, authentication, name, MULTI queue, WATCHed keys). A
// network connection owns one; an in-process caller (tests, the embedded
// engine, AOF replay) creates one without a socket and drives the same
// Engine::Execute path.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ragkv::server {

struct Session {
  uint64_t id = 0;
  int db = 0;
  int resp = 2;  // 2 or 3 (HELLO)
  bool authenticated = false;
  std::string name;      // CLIENT SETNAME
  std::string lib_name;  // CLIENT SETINFO lib-name
  std::string lib_ver;   // CLIENT SETINFO lib-ver

  // Filled by the network layer; empty for in-process sessions.
  std::string addr;   // "ip:port" of the peer
  std::string laddr;  // "ip:port" of our end
  int fd = -1;
  bool loopback = true;
  int64_t created_ms = 0;
  int64_t last_interaction_ms = 0;
  std::string_view last_command;  // command table name, for CLIENT LIST "cmd="
  size_t query_buffer_bytes = 0;
  size_t output_buffer_bytes = 0;

  // MULTI/EXEC.
  bool in_multi = false;
  bool multi_error = false;  // a command failed to queue: EXEC aborts
  std::vector<std::vector<std::string>> queued;
  // WATCH: (db, key) pairs; watch_dirty is set when one of them is modified.
  std::vector<std::pair<int, std::string>> watched;
  bool watch_dirty = false;

  bool close_after_reply = false;  // QUIT, CLIENT KILL, protocol errors
  bool no_evict = false;           // CLIENT NO-EVICT (accepted; clients are never evicted)
};

}  // namespace ragkv::server
