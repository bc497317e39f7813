// RespClient: a small blocking RESP client (one TCP connection, one request in
// flight, or an explicit pipeline). Used by tests and by the RAG layer's
// remote backend; not meant for the server's hot path.
//
//   RespClient c;
//   RAGKV_RETURN_IF_ERROR(c.Connect("127.0.0.1", 6379));
//   RAGKV_ASSIGN_OR_RETURN(RespValue v, c.Command({"SET", "k", "v"}));
//
// Errors: Connect/Send/Read return kUnavailable when the peer cannot be
// reached or closes, kCorruption when the reply is not valid RESP. A RESP
// error reply (-ERR ...) is a successful read of a value of type kError.
// Thread safety: none; use one client per thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"
#include "protocol/resp_value.h"

namespace ragkv::resp {

class RespClient {
 public:
  RespClient() = default;
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  // Connects over TCP (numeric IPv4/IPv6 or a host name). `timeout_ms` bounds
  // connecting and every later read/write (0: no timeout).
  Status Connect(const std::string& host, int port, int timeout_ms = 5000);
  void Close();
  bool connected() const { return fd_ >= 0; }

  // Encodes argv as a RESP array and writes it (pipelining: call several
  // times, then ReadReply as often).
  Status Send(const std::vector<std::string_view>& argv);
  // Writes raw bytes unchanged (for protocol tests).
  Status SendRaw(std::string_view bytes);
  // Reads exactly one reply.
  Result<RespValue> ReadReply();
  // Send + ReadReply.
  Result<RespValue> Command(const std::vector<std::string_view>& argv);

 private:
  int fd_ = -1;
  std::string in_;
};

// Encodes argv as a RESP array of bulk strings (what every client sends).
std::string EncodeCommand(const std::vector<std::string_view>& argv);

}  // namespace ragkv::resp
