// gmock matchers over resp::RespValue, shared by server and integration
// tests: EXPECT_THAT(Run({"GET", "k"}), IsBulk("v")).
#pragma once

#include <gmock/gmock.h>

#include <string>
#include <vector>

#include "protocol/resp_value.h"

namespace ragkv::testing {

MATCHER(IsOk, "is +OK") { return arg.type == resp::RespType::kSimpleString && arg.str == "OK"; }
MATCHER_P(IsSimple, s, "is +" + std::string(s)) {
  return arg.type == resp::RespType::kSimpleString && arg.str == s;
}
MATCHER_P(IsBulk, s, "is bulk \"" + std::string(s) + "\"") {
  return arg.type == resp::RespType::kBulkString && arg.str == s;
}
MATCHER_P(IsInt, n, "is integer " + std::to_string(n)) {
  return arg.type == resp::RespType::kInteger && arg.integer == static_cast<int64_t>(n);
}
MATCHER(IsNull, "is null") { return arg.type == resp::RespType::kNull; }
MATCHER_P(IsError, s, "is error -" + std::string(s)) {
  return arg.type == resp::RespType::kError && arg.str == s;
}
MATCHER_P(ErrorStartsWith, s, "is an error starting with -" + std::string(s)) {
  return arg.type == resp::RespType::kError && arg.str.rfind(s, 0) == 0;
}
MATCHER_P(IsDouble, s, "is double " + std::string(s)) {
  return arg.type == resp::RespType::kDouble && arg.str == s;
}
// An aggregate (array/set/map/push) whose elements are bulk/simple strings
// equal to `strings`, in order.
MATCHER_P(IsStrings, strings, "is aggregate of strings " + ::testing::PrintToString(strings)) {
  if (arg.type != resp::RespType::kArray && arg.type != resp::RespType::kSet &&
      arg.type != resp::RespType::kMap && arg.type != resp::RespType::kPush) {
    return false;
  }
  std::vector<std::string> got;
  for (const auto& e : arg.elements) got.push_back(e.str);
  return got == std::vector<std::string>(strings);
}
// Same, ignoring order.
MATCHER_P(IsStringSet, strings, "is aggregate of strings in any order " + ::testing::PrintToString(strings)) {
  std::vector<std::string> got;
  for (const auto& e : arg.elements) got.push_back(e.str);
  std::vector<std::string> want(strings);
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  return got == want;
}

}  // namespace ragkv::testing

namespace ragkv::resp {
// Lets gtest print replies in failure messages.
inline void PrintTo(const RespValue& v, std::ostream* os) { *os << v.DebugString(); }
}  // namespace ragkv::resp
