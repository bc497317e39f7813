// ReplyParser: decodes server replies (RESP2 and RESP3) into RespValue trees.
// Used by RespClient, by tests, and later by the RAG layer's remote backend.
//
// The parser is a pure function over a buffer: it decodes one complete reply
// starting at the front, or says that more bytes are needed. A client re-runs
// it after each read; replies are small next to the cost of the round trip, so
// the simplicity is worth more than resumability here (RequestParser, on the
// server's hot path, is resumable).
#pragma once

#include <cstddef>
#include <string_view>

#include "protocol/request_parser.h"  // ParseStatus
#include "protocol/resp_value.h"

namespace ragkv::resp {

struct ReplyParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  size_t consumed = 0;         // bytes of the reply on kComplete
  std::string_view error;      // static text on kError
};

// Parses one reply from the front of `buf` into *out. Nesting deeper than
// kMaxReplyDepth, bad lengths or unknown type bytes are errors. RESP3
// attributes ('|') are read and dropped.
ReplyParseResult ParseReply(std::string_view buf, RespValue* out);

inline constexpr int kMaxReplyDepth = 64;

}  // namespace ragkv::resp
