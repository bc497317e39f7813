// Subcommand registry for the `ragkv` binary.
//
// Each subcommand lives in its own src/cli/<name>_command.cc and registers
// itself with RAGKV_REGISTER_SUBCOMMAND; main.cc never changes when one is
// added. The cli sources are compiled straight into the executable (not a
// static library), so the registrars are never dropped by the linker.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace ragkv::cli {

// Adds a subcommand (with its options and --help) to `app` and returns the
// function that runs it once parsed; that function returns the exit code.
using SubcommandSetup = std::function<std::function<int()>(CLI::App& app)>;

struct SubcommandEntry {
  std::string name;
  SubcommandSetup setup;
};

std::vector<SubcommandEntry>& SubcommandRegistry();

struct SubcommandRegistrar {
  SubcommandRegistrar(std::string name, SubcommandSetup setup) {
    SubcommandRegistry().push_back({std::move(name), std::move(setup)});
  }
};

}  // namespace ragkv::cli

#define RAGKV_REGISTER_SUBCOMMAND(name, setup_fn) \
  static ::ragkv::cli::SubcommandRegistrar ragkv_registrar_##setup_fn(name, setup_fn)
