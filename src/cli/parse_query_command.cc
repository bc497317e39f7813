// `ragkv parse-query`: parses an FT.SEARCH query (DIALECT 2) offline and
// prints its canonical form, or RediSearch's error text. A debugging aid for
// the query language (docs/search.md); it needs no server.
//
//   ragkv parse-query '(@tag:{a|b})=>[KNN $K @v $B AS score]' -p K=5 -p B=xyz
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/subcommand.h"
#include "search/query.h"

namespace ragkv::cli {
namespace {

struct ParseQueryOptions {
  std::string query;
  std::vector<std::string> params;  // name=value
};

std::function<int()> SetupParseQuery(CLI::App& app) {
  auto opts = std::make_shared<ParseQueryOptions>();
  auto* sub = app.add_subcommand(
      "parse-query", "Parse an FT.SEARCH query and print its canonical form (no server needed)");
  sub->add_option("query", opts->query, "The query text, e.g. '@title:hello =>[KNN 3 @v $B]'")
      ->required();
  sub->add_option("-p,--param", opts->params, "A PARAMS value as name=value (repeatable)");
  return [opts] {
    search::QueryParams params;
    for (const std::string& p : opts->params) {
      const size_t eq = p.find('=');
      if (eq == std::string::npos) {
        std::fprintf(stderr, "--param expects name=value, got '%s'\n", p.c_str());
        return 2;
      }
      params[p.substr(0, eq)] = p.substr(eq + 1);
    }
    auto q = search::ParseQuery(opts->query, params);
    if (!q.ok()) {
      std::fprintf(stderr, "%s\n", std::string(q.status().message()).c_str());
      return 1;
    }
    std::printf("%s\n", q->ToString().c_str());
    return 0;
  };
}

}  // namespace
RAGKV_REGISTER_SUBCOMMAND("parse-query", SetupParseQuery);
}  // namespace ragkv::cli
