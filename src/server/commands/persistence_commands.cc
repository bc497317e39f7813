// SAVE, BGSAVE and BGREWRITEAOF: thin command wrappers over Persistence
// (server/persistence.h). LASTSAVE and INFO persistence live with the other
// server commands and ask Persistence when it is attached.
#include "server/commands/command_util.h"
#include "server/persistence.h"

namespace ragkv::server {
namespace {

constexpr char kNoPersistence[] = "ERR persistence is not configured on this server";

void SaveCommand(CommandContext& ctx) {
  if (ctx.engine.persistence == nullptr) {
    ctx.out.Error(kNoPersistence);
    return;
  }
  Status s = ctx.engine.persistence->Save();
  if (s.ok()) {
    ctx.out.Ok();
  } else {
    ctx.out.Error("ERR " + std::string(s.message()));
  }
}

void BgSaveCommand(CommandContext& ctx) {
  if (ctx.argc() == 2 && !EqualsIgnoreCase(ctx.arg(1), "SCHEDULE")) {
    ctx.out.Error(errors::kSyntax);
    return;
  }
  if (ctx.engine.persistence == nullptr) {
    ctx.out.Error(kNoPersistence);
    return;
  }
  Status s = ctx.engine.persistence->BackgroundSave();
  if (s.ok()) {
    ctx.out.SimpleString("Background saving started");
  } else {
    ctx.out.Error("ERR " + std::string(s.message()));
  }
}

void BgRewriteAofCommand(CommandContext& ctx) {
  if (ctx.engine.persistence == nullptr) {
    ctx.out.Error(kNoPersistence);
    return;
  }
  Status s = ctx.engine.persistence->BackgroundRewriteAof();
  if (s.ok()) {
    ctx.out.SimpleString("Background append only file rewriting started");
  } else {
    ctx.out.Error("ERR " + std::string(s.message()));
  }
}

}  // namespace

void RegisterPersistenceCommands(CommandTable& t) {
  const uint32_t kAdm = kAdmin | kNoMulti;
  t.Add({"save", 1, kAdm, 0, 0, 0, SaveCommand, "server",
         "Synchronously saves the database(s) to disk."});
  t.Add({"bgsave", -1, kAdm, 0, 0, 0, BgSaveCommand, "server",
         "Asynchronously saves the database(s) to disk."});
  t.Add({"bgrewriteaof", 1, kAdm, 0, 0, 0, BgRewriteAofCommand, "server",
         "Asynchronously rewrites the append-only file to disk."});
}

}  // namespace ragkv::server
