// LocalClient: runs commands on an in-process Engine with the same shape as
// resp::RespClient (argv in, decoded reply out), for the embedded engine and
// the RAG layer's in-process KvBackend. It owns a Session (its own selected
// db, protocol, MULTI state) and goes through Engine::Execute, the path
// network connections use, so behaviour and write propagation are identical.
//
//   LocalClient kv(&engine);
//   RAGKV_ASSIGN_OR_RETURN(resp::RespValue v, kv.Command({"HSET", "doc:1", "text", t}));
//
// Thread safety: none. The Engine is single-threaded: use a LocalClient only
// where no Server runs the same Engine on another thread.
#pragma once

#include <string_view>
#include <vector>

#include "common/result.h"
#include "protocol/resp_value.h"
#include "server/engine.h"
#include "server/session.h"

namespace ragkv::server {

class LocalClient {
 public:
  // `protocol` is 2 or 3 (as after HELLO). `engine` must outlive the client.
  explicit LocalClient(Engine* engine, int protocol = 2);
  ~LocalClient();
  LocalClient(const LocalClient&) = delete;
  LocalClient& operator=(const LocalClient&) = delete;

  // Executes one command. A Redis error reply is a value of type kError, as
  // with RespClient; a non-OK Result only signals an internal failure.
  Result<resp::RespValue> Command(const std::vector<std::string_view>& argv);

  Session& session() { return session_; }

 private:
  Engine* engine_;
  Session session_;
  std::string buffer_;
};

}  // namespace ragkv::server
