// The command table as data: each command is a CommandSpec (name, arity,
// flags, key positions, handler), as in Redis's commands.def. Handlers get a
// CommandContext and write exactly one reply through it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "protocol/reply_writer.h"
#include "store/db.h"

namespace ragkv::server {

class Engine;
struct Session;

// Flags, Redis's names in COMMAND INFO.
enum CommandFlag : uint32_t {
  kWrite = 1u << 0,     // may modify the keyspace ("write")
  kReadOnly = 1u << 1,  // "readonly"
  kFast = 1u << 2,      // O(1) or O(log n) ("fast")
  kAdmin = 1u << 3,     // "admin"
  kDenyOom = 1u << 4,   // refused above maxmemory ("denyoom")
  kNoAuth = 1u << 5,    // allowed before AUTH ("no_auth")
  kNoMulti = 1u << 6,   // runs immediately even inside MULTI ("no_multi")
  kLoading = 1u << 7,   // "loading"
  kStale = 1u << 8,     // "stale"
};

struct CommandContext {
  Engine& engine;
  Session& session;
  std::span<const std::string_view> argv;
  resp::ReplyWriter& out;
  store::Db& db;
  // Number of changes made (Redis's server.dirty delta). The write observer
  // is called only when it is > 0.
  int64_t dirty = 0;
  // When non-empty, what the write observer sees instead of argv (e.g. SET
  // with EX rewritten to an absolute PXAT so replay is deterministic). Each
  // entry is one command; several are allowed (MSETNX would need one).
  std::vector<std::vector<std::string>> rewritten;

  size_t argc() const { return argv.size(); }
  std::string_view arg(size_t i) const { return argv[i]; }
};

using CommandHandler = void (*)(CommandContext& ctx);

struct CommandSpec {
  std::string name;  // lowercase
  int arity;         // >0 exact argc, <0 at least -arity
  uint32_t flags;
  int first_key;     // 0: no keys
  int last_key;      // negative: counted from the end (-1 = last argument)
  int key_step;
  CommandHandler handler;
  std::string group;  // COMMAND DOCS "group": string, hash, keyspace...
  std::string summary;
  // INFO commandstats; counted here rather than in a name-keyed map so the
  // hot path does no extra hashing.
  mutable int64_t calls = 0;
};

class CommandTable {
 public:
  void Add(CommandSpec spec);
  // Case-insensitive lookup; nullptr if unknown.
  const CommandSpec* Find(std::string_view name) const;
  const std::unordered_map<std::string, CommandSpec, store::StringHash, std::equal_to<>>& all()
      const {
    return commands_;
  }

 private:
  std::unordered_map<std::string, CommandSpec, store::StringHash, std::equal_to<>> commands_;
};

// The keys of a command according to its spec (for WATCH invalidation and
// COMMAND GETKEYS).
std::vector<std::string_view> CommandKeys(const CommandSpec& spec,
                                          std::span<const std::string_view> argv);

// Registration, one function per command family (server/commands/*.cc).
void RegisterConnectionCommands(CommandTable& table);
void RegisterServerCommands(CommandTable& table);
void RegisterStringCommands(CommandTable& table);
void RegisterKeyCommands(CommandTable& table);
void RegisterHashCommands(CommandTable& table);
void RegisterTransactionCommands(CommandTable& table);
void RegisterZSetCommands(CommandTable& table);
void RegisterPersistenceCommands(CommandTable& table);  // SAVE, BGSAVE, BGREWRITEAOF
// FT.* and MODULE (commands/ft_commands.cc).
void RegisterSearchCommands(CommandTable& table);
// The write observer that keeps FT indexes in step with the keyspace.
void SearchOnWrite(Engine& engine, int db, std::span<const std::string_view> argv);
// INFO: the search module's line of "# Modules" (what MODULE LIST reports,
// in Redis's "module:name=...,ver=..." form, CRLF-terminated), and the
// module's own sections for "INFO search" / "INFO everything".
std::string SearchModuleInfoLine();
std::string SearchInfoSections(Engine& engine);
void RegisterPubSubCommands(CommandTable& table);  // SUBSCRIBE, PUBLISH, PSUBSCRIBE...

}  // namespace ragkv::server
