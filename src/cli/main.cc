// The `ragkv` binary: the composition root. Subcommands (serve, ingest, ask,
// search, eval, bench, check-aof, ...) register themselves; see subcommand.h.
#include <algorithm>
#include <cstdio>
#include <map>

#include "cli/subcommand.h"

namespace ragkv::cli {

std::vector<SubcommandEntry>& SubcommandRegistry() {
  static std::vector<SubcommandEntry> registry;
  return registry;
}

}  // namespace ragkv::cli

int main(int argc, char** argv) {
  using namespace ragkv::cli;
  CLI::App app{"ragkv: a Redis-compatible vector key-value database with built-in question answering"};
  app.set_version_flag("--version", std::string("ragkv ") + RAGKV_VERSION);
  app.require_subcommand(1);

  auto& registry = SubcommandRegistry();
  std::sort(registry.begin(), registry.end(),
            [](const SubcommandEntry& a, const SubcommandEntry& b) { return a.name < b.name; });
  std::map<std::string, std::function<int()>> runners;
  for (auto& entry : registry) runners[entry.name] = entry.setup(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  for (CLI::App* sub : app.get_subcommands()) {
    auto it = runners.find(sub->get_name());
    if (it != runners.end()) return it->second();
  }
  std::fprintf(stderr, "ragkv: no subcommand given; see `ragkv --help`\n");
  return 2;
}
