// libFuzzer target for the FT.* front end. The first input byte picks the
// entry point; the rest is the query text (ParseQuery) or NUL-separated
// command arguments (ParseFtSearch, ParseFtAggregate, ParseFtCreate).
//
// Besides "no crash, no sanitizer report", it checks the printer's contract:
// whatever parses must print to text that parses again to the same text.
//
// Built and run for a bounded time by run_query_fuzz.sh (ctest
// search_query_parser_fuzz, label integration) when clang++ is installed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "search/query.h"
#include "search/schema.h"

namespace {

using ragkv::search::QueryParams;

const QueryParams& Params() {
  static const QueryParams params = {
      {"B", std::string("\x00\x01\x02\x03", 4)}, {"K", "3"}, {"lo", "(1"}, {"t", "tag value"},
      {"R", "0.5"}};
  return params;
}

std::vector<std::string_view> SplitArgs(std::string_view s) {
  std::vector<std::string_view> args;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '\0') {
      args.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return args;
}

void CheckRoundTrip(const ragkv::search::Query& q) {
  const std::string text = q.ToString();
  auto again = ragkv::search::ParseQuery(text, Params());
  if (!again.ok()) {
    // The canonical form adds grouping parentheses, so a query within a few
    // levels of the nesting cap can print past it: that is the cap at work.
    if (again.status().message().find("too deeply nested") != std::string_view::npos) return;
    std::abort();
  }
  if (again->ToString() != text) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      auto q = ragkv::search::ParseQuery(input, Params());
      if (q.ok()) CheckRoundTrip(*q);
      break;
    }
    case 1: {
      auto r = ragkv::search::ParseFtSearch(SplitArgs(input));
      if (r.ok()) CheckRoundTrip(r->query);
      break;
    }
    case 2: {
      auto r = ragkv::search::ParseFtAggregate(SplitArgs(input));
      if (r.ok()) CheckRoundTrip(r->query);
      break;
    }
    default: {
      auto r = ragkv::search::ParseFtCreate(SplitArgs(input));
      (void)r;
      break;
    }
  }
  return 0;
}
