// A minimal RESP2 client for the server-mode ChunkStore: command encoding, an
// incremental reply parser and a blocking TCP connection (redis://URL, AUTH).
// Kept inside rag until the shared protocol module (src/server/protocol)
// exists; the parser has the three outcomes of the team's parsers: a complete
// value, "need more bytes", or a protocol error.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ragkv::rag {

struct RespValue {
  enum class Type { kSimple, kError, kInteger, kBulk, kNull, kArray };
  Type type = Type::kNull;
  std::string str;  // kSimple, kError, kBulk
  int64_t integer = 0;
  std::vector<RespValue> elements;  // kArray

  bool is_error() const { return type == Type::kError; }
  // "OK", "-ERR x", 3, "bulk", (nil), [a, b]: for messages and tests.
  std::string DebugString() const;
};

// "*N\r\n$len\r\narg\r\n..." (binary-safe).
std::string EncodeCommand(const std::vector<std::string>& args);

enum class ParseOutcome { kComplete, kNeedMore, kError };

// Parses one reply from the front of `in`. On kComplete sets *out and
// *consumed; on kNeedMore nothing is consumed; on kError *error says why.
// Nesting is limited to 16 levels and lengths to 512 MiB.
ParseOutcome ParseReply(std::string_view in, RespValue* out, size_t* consumed, std::string* error);

class RespConnection {
 public:
  virtual ~RespConnection() = default;
  // Sends one command and returns its reply (an error reply is a value, not
  // a failed Result). kUnavailable on network failure or timeout,
  // kCorruption on a protocol error.
  virtual Result<RespValue> Call(const std::vector<std::string>& args) = 0;
};

// Connects to redis://[user:pass@]host:port (default port 6379) and
// authenticates. kInvalidArgument for a bad URL, kUnavailable when the server
// cannot be reached, kFailedPrecondition when AUTH is refused.
Result<std::unique_ptr<RespConnection>> ConnectResp(std::string_view url, double timeout_seconds);

}  // namespace ragkv::rag
