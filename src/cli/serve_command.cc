// `ragkv serve [config-file] [--name value ...]`: the Redis-compatible server.
// Arguments follow redis-server: an optional config file, then any config
// option as --name value (values run until the next --option).
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/subcommand.h"
#include "common/log.h"
#include "replication/replication.h"
#include "search/index_manager.h"
#include "server/engine.h"
#include "server/network.h"
#include "server/persistence.h"

namespace ragkv::cli {
namespace {

int RunServe(const std::vector<std::string>& raw_args, const std::string& argv0) {
  auto config = std::make_unique<server::Config>();
  std::vector<std::string> args = raw_args;
  if (!args.empty() && args[0].rfind("--", 0) != 0) {
    Status s = config->LoadFile(args[0]);
    if (!s.ok()) {
      std::fprintf(stderr, "ragkv serve: %s\n", s.ToString().c_str());
      return 1;
    }
    args.erase(args.begin());
  }
  Status s = config->ApplyArgs(args);
  if (!s.ok()) {
    std::fprintf(stderr, "ragkv serve: %s\n", s.ToString().c_str());
    return 1;
  }
  log::Level level;
  if (log::ParseLevel(config->loglevel, &level)) log::SetLevel(level);
  // Redis's logfile: log lines go to stderr, so point stderr at the file.
  if (!config->logfile.empty() && std::freopen(config->logfile.c_str(), "a", stderr) == nullptr) {
    std::fprintf(stdout, "ragkv serve: cannot open logfile '%s'\n", config->logfile.c_str());
    return 1;
  }
  if (!config->pidfile.empty()) {
    if (FILE* f = std::fopen(config->pidfile.c_str(), "w")) {
      std::fprintf(f, "%d\n", static_cast<int>(getpid()));
      std::fclose(f);
    } else {
      log::Warn("Failed to write PID file: " + config->pidfile);
    }
  }
  const std::string pidfile = config->pidfile;
  server::Engine engine(std::move(config));
  engine.executable = argv0;
  // Loads the data set (AOF or snapshot) before accepting connections.
  auto persistence = server::Persistence::Start(engine);
  if (!persistence.ok()) {
    log::Warn(persistence.status().ToString());
    return 1;
  }
  server::Server srv(&engine);
  s = srv.Listen();
  if (!s.ok()) {
    log::Warn(s.ToString());
    return 1;
  }
  server::Server::InstallSignalHandlers(&srv);
  // After Listen (the replica announces its port) and before serving.
  auto replication = replication::Replication::Start(engine);
  if (!replication.ok()) {
    log::Warn(replication.status().ToString());
    return 1;
  }
  // Loading is done: from here an FT.CREATE over existing keys indexes them
  // in the background between client events (docs/search.md).
  engine.search().set_backfill_mode(search::BackfillMode::kBackground);
  log::Info("ragkv " RAGKV_VERSION " started, port " + std::to_string(srv.port()));
  // Machine-readable for scripts that start us on port 0.
  std::printf("port %d\n", srv.port());
  std::fflush(stdout);
  s = srv.Run();
  // Saves (save points) while replication still reports its history for
  // the snapshot; replication then records it for the AOF.
  Status saved = (*persistence)->Shutdown(/*save=*/false, /*nosave=*/false);
  replication->reset();
  if (!saved.ok()) log::Warn("Error persisting data at shutdown: " + saved.ToString());
  if (!pidfile.empty()) std::remove(pidfile.c_str());
  if (!s.ok()) {
    log::Warn(s.ToString());
    return 1;
  }
  return saved.ok() ? 0 : 1;
}

std::function<int()> SetupServe(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "serve",
      "Run the Redis-compatible server: ragkv serve [config-file] [--name value ...] with any "
      "Redis config name (port, bind, requirepass, maxmemory, maxclients, protected-mode, ...)");
  sub->allow_extras();
  sub->prefix_command();
  return [sub] {
    std::vector<std::string> args = sub->remaining();
    return RunServe(args, "ragkv");
  };
}

}  // namespace
RAGKV_REGISTER_SUBCOMMAND("serve", SetupServe);
}  // namespace ragkv::cli
