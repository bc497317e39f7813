// Connections from the RAG layer to Redis-compatible servers: `--server`
// URL lists, AUTH, picking the leader for writes and any reachable server for
// reads, with fallback. The wire protocol itself is ragkv_protocol's
// resp::RespClient; this header only adds what a RAG command needs on top.
//
//   RAGKV_ASSIGN_OR_RETURN(auto servers, ParseServerList("redis://a:6379,b:6380"));
//   RAGKV_ASSIGN_OR_RETURN(auto conn, ConnectToServers(servers, ServerRole::kAny, 5.0));
//   RAGKV_ASSIGN_OR_RETURN(resp::RespValue v, conn->Call({"HGETALL", "k"}));
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "protocol/resp_value.h"

namespace ragkv::rag {

struct ServerAddress {
  std::string host;
  int port = 6379;
  std::string user;      // empty: AUTH with the password only (or no AUTH)
  std::string password;  // empty: no AUTH

  // "host:port", for messages.
  std::string ToString() const;
};

// Parses `--server`: one or more comma-separated
// `redis://[user:pass@]host[:port]` URLs. Entries after the first may omit
// the scheme and the credentials ("redis://:pw@a:7000,b:7001"); they then
// inherit the first entry's credentials. kInvalidArgument, naming the bad
// entry, for anything else.
Result<std::vector<ServerAddress>> ParseServerList(std::string_view spec);

// One logical connection that sends a command and returns its reply. A RESP
// error reply (-ERR ...) is a value, not a failed Result. kUnavailable when no
// server can be reached, kCorruption on a protocol error.
// Thread safety: none; one connection per thread.
class RespConnection {
 public:
  virtual ~RespConnection() = default;
  virtual Result<resp::RespValue> Call(const std::vector<std::string>& args) = 0;

  // Sends all `commands`, then reads their replies, in order (pipelining: one
  // round trip instead of one per command). On a failed Result some commands
  // may have run; never retried on another server. This default calls Call()
  // in a loop (for fakes).
  virtual Result<std::vector<resp::RespValue>> CallPipelined(
      const std::vector<std::vector<std::string>>& commands);

  // Makes every write sent so far durable and quick to load, where the
  // connection can: ChunkStore::Commit calls it. This default does nothing,
  // which is right for a network server (it persists under its own
  // appendfsync/save settings); the embedded engine fsyncs and compacts its
  // log (rag/embedded_engine.h).
  virtual Status Checkpoint() { return Status::Ok(); }
};

enum class ServerRole : uint8_t {
  // Reads: the first reachable server in list order. When the server in use
  // stops answering, a call is retried on the next reachable one (reads are
  // idempotent), wrapping around the list once.
  kAny,
  // Writes: the server whose ROLE says "master" (a replica's ROLE names its
  // leader, which is tried too, even when not in the list). A server without
  // the ROLE command is taken to be a standalone leader. Never retried
  // elsewhere: a write must not land on two servers.
  kLeader,
};

// Connects (and AUTHs) as described for `role`. `timeout_seconds` bounds
// connecting and each reply. kUnavailable naming every server tried and why
// when none fits; kFailedPrecondition when a server refuses AUTH.
Result<std::unique_ptr<RespConnection>> ConnectToServers(std::vector<ServerAddress> servers,
                                                         ServerRole role, double timeout_seconds);

}  // namespace ragkv::rag
