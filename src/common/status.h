// Status: the error type that crosses every module boundary in ragkv.
//
// An OK status holds no allocation (leveldb's null-state trick), so the
// success path costs one pointer compare. Errors carry a code from a small,
// fixed set plus a human-readable message; put detail in the message rather
// than adding codes.
//
// Choosing a code (after abseil's guidance):
//  - kInvalidArgument: the caller's input is malformed, regardless of state.
//  - kNotFound: a named thing (index, label, file) does not exist.
//  - kWrongType: a key holds a value of another type (maps to -WRONGTYPE).
//  - kOutOfRange: a value is well-formed but outside the accepted range.
//  - kFailedPrecondition: the system is not in a state to do this; do not
//    retry until the state is fixed (e.g. data dir locked by another process).
//  - kResourceExhausted: a limit was hit (maxmemory, query buffer, disk full).
//  - kUnavailable: a peer (Ollama, a Redis server) cannot be reached; retrying
//    the same call may succeed.
//  - kCorruption: stored data failed a checksum or format check.
//  - kIOError: the operating system reported an I/O failure.
//  - kInternal: a bug; an invariant did not hold.
//
// Thread safety: a Status is a value; distinct objects may be used from
// distinct threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ragkv {

enum class StatusCode : unsigned char {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kWrongType,
  kOutOfRange,
  kFailedPrecondition,
  kResourceExhausted,
  kUnavailable,
  kCorruption,
  kIOError,
  kInternal,
};

// Returns the code's name, e.g. "InvalidArgument". Static storage.
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // OK
  Status(StatusCode code, std::string_view message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string_view msg) { return {StatusCode::kInvalidArgument, msg}; }
  static Status NotFound(std::string_view msg) { return {StatusCode::kNotFound, msg}; }
  static Status WrongType(std::string_view msg) { return {StatusCode::kWrongType, msg}; }
  static Status OutOfRange(std::string_view msg) { return {StatusCode::kOutOfRange, msg}; }
  static Status FailedPrecondition(std::string_view msg) {
    return {StatusCode::kFailedPrecondition, msg};
  }
  static Status ResourceExhausted(std::string_view msg) {
    return {StatusCode::kResourceExhausted, msg};
  }
  static Status Unavailable(std::string_view msg) { return {StatusCode::kUnavailable, msg}; }
  static Status Corruption(std::string_view msg) { return {StatusCode::kCorruption, msg}; }
  static Status IOError(std::string_view msg) { return {StatusCode::kIOError, msg}; }
  static Status Internal(std::string_view msg) { return {StatusCode::kInternal, msg}; }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // The message without the code name; empty for OK.
  std::string_view message() const;
  // "Code: message", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "prefix: <message>"; OK stays OK.
  Status WithPrefix(std::string_view prefix) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

}  // namespace ragkv

// Propagates a non-OK Status from `expr` to the caller.
#define RAGKV_RETURN_IF_ERROR(expr)              \
  do {                                           \
    ::ragkv::Status ragkv_status_ = (expr);      \
    if (!ragkv_status_.ok()) return ragkv_status_; \
  } while (0)
