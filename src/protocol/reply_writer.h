// ReplyWriter: appends RESP2 or RESP3 replies to a byte buffer.
//
// Callers write the RESP3 shape (maps, sets, doubles, booleans) and the writer
// downgrades it for RESP2 clients the way Redis does: a map becomes a flat
// array of 2N items, a set an array, a double a bulk string, a boolean 1/0,
// null a "$-1" (or "*-1" for NullArray).
//
// The writer owns nothing: it appends to a std::string the caller owns (a
// connection's output buffer, a test's capture, an AOF record). Not
// thread-safe; cheap to construct.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ragkv::resp {

class ReplyWriter {
 public:
  // `out` must outlive the writer. `protocol` is 2 or 3.
  explicit ReplyWriter(std::string* out, int protocol = 2) : out_(out), protocol_(protocol) {}

  int protocol() const { return protocol_; }
  void set_protocol(int protocol) { protocol_ = protocol; }
  std::string* buffer() { return out_; }

  void SimpleString(std::string_view s);  // "+s": s must not contain CR/LF
  void Ok() { out_->append("+OK\r\n"); }
  // `message` is the full text after '-', e.g. "ERR syntax error" or
  // "WRONGTYPE Operation against ..."; CR/LF in it are replaced by spaces.
  void Error(std::string_view message);
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  void Null();       // "$-1" in RESP2, "_" in RESP3
  void NullArray();  // "*-1" in RESP2, "_" in RESP3
  void ArrayHeader(size_t n);
  void MapHeader(size_t pairs);  // RESP2: array of 2*pairs
  void SetHeader(size_t n);      // RESP2: array
  void PushHeader(size_t n);     // RESP2: array
  // Redis 7.0's format: "%.17g", "inf"/"-inf"; bulk string in RESP2.
  void Double(double v);
  void Bool(bool v);                 // RESP2: integer 1/0
  void BigNumber(std::string_view digits);  // RESP2: bulk string
  // `format` is three bytes such as "txt"; RESP2: plain bulk string.
  void Verbatim(std::string_view format, std::string_view text);
  // Raw bytes, e.g. a reply cached in wire form.
  void Raw(std::string_view bytes) { out_->append(bytes); }

 private:
  void Header(char type, int64_t n);
  std::string* out_;
  int protocol_;
};

// Formats `v` as Redis replies with it ("%.17g"; "inf", "-inf", "nan").
std::string FormatDouble(double v);

}  // namespace ragkv::resp
