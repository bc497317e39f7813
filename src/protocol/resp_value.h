// RespValue: one decoded RESP2/RESP3 reply as a tree, for clients and tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ragkv::resp {

enum class RespType : uint8_t {
  kSimpleString,  // +OK
  kError,         // -ERR ... (str holds the text without '-')
  kInteger,       // :1
  kBulkString,    // $3 foo
  kNull,          // $-1, *-1 (RESP2) or _ (RESP3)
  kArray,         // *N
  kMap,           // %N; elements hold key, value, key, value...
  kSet,           // ~N
  kPush,          // >N
  kDouble,        // ,1.5 (str keeps the wire text, e.g. "inf")
  kBoolean,       // #t
  kBigNumber,     // (1234... (str)
  kVerbatim,      // =N txt:... (str holds the text without the "txt:" prefix)
};

struct RespValue {
  RespType type = RespType::kNull;
  std::string str;
  int64_t integer = 0;  // kInteger; kBoolean as 0/1
  double number = 0;    // kDouble
  std::vector<RespValue> elements;

  bool is_error() const { return type == RespType::kError; }
  bool is_null() const { return type == RespType::kNull; }

  // A compact one-line rendering for test failure messages, e.g.
  // [bulk:"a", int:1, null].
  std::string DebugString() const;
};

}  // namespace ragkv::resp
