// Result<T>: a value of type T or a non-OK Status (absl::StatusOr's shape, so a
// later move to std::expected is mechanical). g++ 12 has no std::expected.
//
//   Result<std::unique_ptr<AofWriter>> w = AofWriter::Open(fs, path);
//   if (!w.ok()) return w.status();
//   RAGKV_ASSIGN_OR_RETURN(auto index, HnswIndex::Create(params));
#pragma once

#include <cstdlib>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/status.h"

namespace ragkv {

template <class T>
class [[nodiscard]] Result {
 public:
  // A Result made from an OK Status is a programming error; it becomes
  // kInternal so that it is never mistaken for a value.
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Status::Internal("Result constructed from OK status without value");
  }
  Result(const T& value) : value_(value) {}        // NOLINT(google-explicit-constructor)
  Result(T&& value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  template <class U, std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                          !std::is_same_v<std::decay_t<U>, Status> &&
                                          !std::is_same_v<std::decay_t<U>, Result<T>> &&
                                          !std::is_same_v<std::decay_t<U>, T>,
                                      int> = 0>
  Result(U&& value) : value_(std::forward<U>(value)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return value_.has_value(); }
  const Status& status() const& { return status_; }
  Status status() && { return std::move(status_); }

  // REQUIRES: ok(). Aborts otherwise (a programmer error, never user input).
  T& value() & { CheckOk(); return *value_; }
  const T& value() const& { CheckOk(); return *value_; }
  T&& value() && { CheckOk(); return std::move(*value_); }
  T value_or(T fallback) const& { return ok() ? *value_ : std::move(fallback); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  void CheckOk() const {
    if (!value_.has_value()) std::abort();
  }
  Status status_;  // OK iff value_ holds a value
  std::optional<T> value_;
};

}  // namespace ragkv

#define RAGKV_CONCAT_INNER_(a, b) a##b
#define RAGKV_CONCAT_(a, b) RAGKV_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (a Result<T>); on error returns its Status, otherwise
// moves the value into `lhs` (which may be a declaration: `auto x`).
#define RAGKV_ASSIGN_OR_RETURN(lhs, rexpr) \
  RAGKV_ASSIGN_OR_RETURN_IMPL_(RAGKV_CONCAT_(ragkv_result_, __LINE__), lhs, rexpr)
#define RAGKV_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                 \
  if (!tmp.ok()) return std::move(tmp).status();      \
  lhs = std::move(tmp).value()
