// Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET, CLIENT,
// and the transaction commands MULTI/EXEC/DISCARD/WATCH/UNWATCH.
#include <algorithm>

#include "common/log.h"
#include "server/commands/command_util.h"

namespace ragkv::server {
namespace {

// Redis reports its own version in HELLO and INFO; clients gate features on
// it, so we claim the 7.0 line whose behaviour we follow (INFO also carries
// ragkv_version).
constexpr std::string_view kCompatVersion = "7.0.15";

void PingCommand(CommandContext& ctx) {
  if (ctx.argc() > 2) {
    ctx.out.Error(errors::WrongArity("ping"));
  } else if (ctx.argc() == 2) {
    ctx.out.Bulk(ctx.arg(1));
  } else {
    ctx.out.SimpleString("PONG");
  }
}

void EchoCommand(CommandContext& ctx) { ctx.out.Bulk(ctx.arg(1)); }

// Checks a default-user password. With no requirepass the default user is
// "nopass" and any password is accepted for the two-argument form.
bool CheckPassword(CommandContext& ctx, std::string_view user, std::string_view pass) {
  if (user != "default") return false;
  const std::string& required = ctx.engine.config().requirepass;
  return required.empty() || pass == required;
}

void AuthCommand(CommandContext& ctx) {
  if (ctx.argc() > 3) {
    ctx.out.Error(errors::kSyntax);
    return;
  }
  std::string_view user = "default", pass = ctx.arg(1);
  if (ctx.argc() == 3) {
    user = ctx.arg(1);
    pass = ctx.arg(2);
  } else if (ctx.engine.config().requirepass.empty()) {
    ctx.out.Error(errors::kAuthNotConfigured);
    return;
  }
  if (CheckPassword(ctx, user, pass)) {
    ctx.session.authenticated = true;
    ctx.out.Ok();
  } else {
    ctx.out.Error(errors::kWrongPass);
  }
}

bool ValidClientName(std::string_view name) {
  return std::all_of(name.begin(), name.end(), [](char c) { return c >= '!' && c <= '~'; });
}

void HelloCommand(CommandContext& ctx) {
  int64_t version = ctx.session.resp;
  size_t i = 1;
  if (ctx.argc() >= 2) {
    if (!ParseInt(ctx.arg(1), &version)) {
      ctx.out.Error(errors::kProtocolVersionNotInteger);
      return;
    }
    if (version < 2 || version > 3) {
      ctx.out.Error(errors::kNoProto);
      return;
    }
    i = 2;
  }
  std::string_view setname;
  bool has_setname = false;
  for (; i < ctx.argc(); ++i) {
    bool more = i + 1 < ctx.argc();
    if (EqualsIgnoreCase(ctx.arg(i), "AUTH") && i + 2 < ctx.argc()) {
      if (!CheckPassword(ctx, ctx.arg(i + 1), ctx.arg(i + 2))) {
        ctx.out.Error(errors::kWrongPass);
        return;
      }
      ctx.session.authenticated = true;
      i += 2;
    } else if (EqualsIgnoreCase(ctx.arg(i), "SETNAME") && more) {
      setname = ctx.arg(++i);
      has_setname = true;
      if (!ValidClientName(setname)) {
        ctx.out.Error(errors::kClientNameSpaces);
        return;
      }
    } else {
      ctx.out.Error("ERR Syntax error in HELLO option '" + std::string(ctx.arg(i)) + "'");
      return;
    }
  }
  if (!ctx.session.authenticated) {
    ctx.out.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
        "<proto> AUTH <user> <pass> option can be used to authenticate the client and select the "
        "RESP protocol version at the same time");
    return;
  }
  if (has_setname) ctx.session.name.assign(setname);
  ctx.session.resp = static_cast<int>(version);
  ctx.out.set_protocol(ctx.session.resp);
  ctx.out.MapHeader(7);
  ctx.out.Bulk("server");
  ctx.out.Bulk("redis");
  ctx.out.Bulk("version");
  ctx.out.Bulk(kCompatVersion);
  ctx.out.Bulk("proto");
  ctx.out.Integer(version);
  ctx.out.Bulk("id");
  ctx.out.Integer(static_cast<int64_t>(ctx.session.id));
  ctx.out.Bulk("mode");
  ctx.out.Bulk("standalone");
  ctx.out.Bulk("role");
  ctx.out.Bulk("master");
  ctx.out.Bulk("modules");
  ctx.out.ArrayHeader(0);
}

void SelectCommand(CommandContext& ctx) {
  int64_t db;
  if (!ParseInt(ctx.arg(1), &db)) {
    ctx.out.Error(errors::kNotInteger);
    return;
  }
  if (db < 0 || db >= ctx.engine.keyspace().size()) {
    ctx.out.Error(errors::kDbIndexOutOfRange);
    return;
  }
  ctx.session.db = static_cast<int>(db);
  ctx.out.Ok();
}

void QuitCommand(CommandContext& ctx) {
  ctx.session.close_after_reply = true;
  ctx.out.Ok();
}

void ResetCommand(CommandContext& ctx) {
  Session& s = ctx.session;
  s.in_multi = false;
  s.multi_error = false;
  s.queued.clear();
  ctx.engine.Unwatch(s);
  s.db = 0;
  s.resp = 2;
  ctx.out.set_protocol(2);
  s.name.clear();
  s.no_evict = false;
  s.authenticated = ctx.engine.config().requirepass.empty();
  ctx.out.SimpleString("RESET");
}

std::string ClientInfoLine(const Session& s, int64_t now_ms) {
  std::string l;
  l.reserve(256);
  auto kv = [&l](std::string_view k, std::string_view v) {
    l.append(k).append("=").append(v).append(" ");
  };
  kv("id", std::to_string(s.id));
  kv("addr", s.addr);
  kv("laddr", s.laddr);
  kv("fd", std::to_string(s.fd));
  kv("name", s.name);
  kv("age", std::to_string((now_ms - s.created_ms) / 1000));
  kv("idle", std::to_string((now_ms - s.last_interaction_ms) / 1000));
  char flags[4];
  size_t nflags = 0;
  if (s.in_multi) flags[nflags++] = 'x';
  if (s.close_after_reply) flags[nflags++] = 'c';
  if (s.no_evict) flags[nflags++] = 'e';
  if (nflags == 0) flags[nflags++] = 'N';
  kv("flags", std::string_view(flags, nflags));
  kv("db", std::to_string(s.db));
  kv("sub", "0");
  kv("psub", "0");
  kv("ssub", "0");
  kv("multi", s.in_multi ? std::to_string(s.queued.size()) : "-1");
  kv("qbuf", std::to_string(s.query_buffer_bytes));
  kv("qbuf-free", "0");
  kv("argv-mem", "0");
  kv("multi-mem", "0");
  kv("rbs", "16384");
  kv("rbp", "0");
  kv("obl", "0");
  kv("oll", "0");
  kv("omem", std::to_string(s.output_buffer_bytes));
  kv("tot-mem", std::to_string(s.query_buffer_bytes + s.output_buffer_bytes));
  kv("events", "r");
  kv("cmd", s.last_command.empty() ? std::string_view("NULL") : s.last_command);
  kv("user", "default");
  kv("redir", "-1");
  kv("resp", std::to_string(s.resp));
  kv("lib-name", s.lib_name);
  l.append("lib-ver=").append(s.lib_ver);
  return l;
}

void ClientCommand(CommandContext& ctx) {
  std::string_view sub = ctx.arg(1);
  Session& s = ctx.session;
  auto arity = [&](size_t n) {
    if (ctx.argc() != n) {
      ctx.out.Error(errors::UnknownSubcommand(sub, "CLIENT"));
      return false;
    }
    return true;
  };
  if (EqualsIgnoreCase(sub, "ID")) {
    if (arity(2)) ctx.out.Integer(static_cast<int64_t>(s.id));
  } else if (EqualsIgnoreCase(sub, "GETNAME")) {
    if (!arity(2)) return;
    if (s.name.empty()) {
      ctx.out.Null();
    } else {
      ctx.out.Bulk(s.name);
    }
  } else if (EqualsIgnoreCase(sub, "SETNAME")) {
    if (!arity(3)) return;
    if (!ValidClientName(ctx.arg(2))) {
      ctx.out.Error(errors::kClientNameSpaces);
      return;
    }
    s.name.assign(ctx.arg(2));
    ctx.out.Ok();
  } else if (EqualsIgnoreCase(sub, "SETINFO")) {
    if (!arity(4)) return;
    std::string_view attr = ctx.arg(2), value = ctx.arg(3);
    if (!ValidClientName(value)) {
      ctx.out.Error("ERR " + std::string(attr) +
                    " cannot contain spaces, newlines or special characters.");
      return;
    }
    if (EqualsIgnoreCase(attr, "LIB-NAME")) {
      s.lib_name.assign(value);
    } else if (EqualsIgnoreCase(attr, "LIB-VER")) {
      s.lib_ver.assign(value);
    } else {
      ctx.out.Error("ERR Unrecognized option '" + std::string(attr) + "'");
      return;
    }
    ctx.out.Ok();
  } else if (EqualsIgnoreCase(sub, "LIST")) {
    std::string text;
    int64_t now = ctx.engine.Now();
    for (const auto& [id, other] : ctx.engine.sessions()) {
      text += ClientInfoLine(*other, now);
      text += '\n';
    }
    ctx.out.Verbatim("txt", text);
  } else if (EqualsIgnoreCase(sub, "INFO")) {
    if (!arity(2)) return;
    ctx.out.Verbatim("txt", ClientInfoLine(s, ctx.engine.Now()) + "\n");
  } else if (EqualsIgnoreCase(sub, "KILL")) {
    if (ctx.argc() == 3) {
      // Old form: CLIENT KILL ip:port.
      for (const auto& [id, other] : ctx.engine.sessions()) {
        if (other->addr == ctx.arg(2)) {
          ctx.engine.RequestClose(id);
          ctx.out.Ok();
          return;
        }
      }
      ctx.out.Error(errors::kNoSuchClient);
      return;
    }
    if (ctx.argc() % 2 != 0) {
      ctx.out.Error(errors::kSyntax);
      return;
    }
    int64_t id_filter = -1;
    std::string_view addr, laddr, user;
    bool skipme = true;
    for (size_t i = 2; i < ctx.argc(); i += 2) {
      std::string_view f = ctx.arg(i), v = ctx.arg(i + 1);
      if (EqualsIgnoreCase(f, "ID")) {
        if (!ParseInt(v, &id_filter) || id_filter <= 0) {
          ctx.out.Error("ERR client-id should be greater than 0");
          return;
        }
      } else if (EqualsIgnoreCase(f, "ADDR")) {
        addr = v;
      } else if (EqualsIgnoreCase(f, "LADDR")) {
        laddr = v;
      } else if (EqualsIgnoreCase(f, "USER")) {
        user = v;
      } else if (EqualsIgnoreCase(f, "TYPE")) {
        if (!EqualsIgnoreCase(v, "normal") && !EqualsIgnoreCase(v, "master") &&
            !EqualsIgnoreCase(v, "replica") && !EqualsIgnoreCase(v, "slave") &&
            !EqualsIgnoreCase(v, "pubsub")) {
          ctx.out.Error("ERR Unknown client type '" + std::string(v) + "'");
          return;
        }
        if (!EqualsIgnoreCase(v, "normal")) {
          ctx.out.Integer(0);
          return;
        }
      } else if (EqualsIgnoreCase(f, "SKIPME")) {
        if (EqualsIgnoreCase(v, "yes")) {
          skipme = true;
        } else if (EqualsIgnoreCase(v, "no")) {
          skipme = false;
        } else {
          ctx.out.Error(errors::kSyntax);
          return;
        }
      } else {
        ctx.out.Error(errors::kSyntax);
        return;
      }
    }
    int64_t killed = 0;
    for (const auto& [id, other] : ctx.engine.sessions()) {
      if (id_filter > 0 && static_cast<int64_t>(id) != id_filter) continue;
      if (!addr.empty() && other->addr != addr) continue;
      if (!laddr.empty() && other->laddr != laddr) continue;
      if (!user.empty() && user != "default") continue;
      if (skipme && other == &s) continue;
      ctx.engine.RequestClose(id);
      ++killed;
    }
    ctx.out.Integer(killed);
  } else if (EqualsIgnoreCase(sub, "NO-EVICT") || EqualsIgnoreCase(sub, "NO-TOUCH")) {
    if (!arity(3)) return;
    bool on = EqualsIgnoreCase(ctx.arg(2), "ON");
    if (!on && !EqualsIgnoreCase(ctx.arg(2), "OFF")) {
      ctx.out.Error(errors::kSyntax);
      return;
    }
    if (EqualsIgnoreCase(sub, "NO-EVICT")) s.no_evict = on;
    ctx.out.Ok();
  } else if (EqualsIgnoreCase(sub, "HELP")) {
    const char* lines[] = {
        "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "GETNAME", "    Return the name of the current connection.",
        "ID", "    Return the ID of the current connection.",
        "INFO", "    Return information about the current client connection.",
        "KILL <ip:port>", "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are: ID, ADDR, LADDR, TYPE, USER, SKIPME.",
        "LIST", "    Return information about client connections.",
        "SETNAME <name>", "    Assign the name <name> to the current connection.",
        "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
        "NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
        "HELP", "    Print this help."};
    ctx.out.ArrayHeader(std::size(lines));
    for (const char* l : lines) ctx.out.SimpleString(l);
  } else {
    ctx.out.Error(errors::UnknownSubcommand(sub, "CLIENT"));
  }
}

void MultiCommand(CommandContext& ctx) {
  if (ctx.session.in_multi) {
    ctx.out.Error(errors::kMultiNested);
    return;
  }
  ctx.session.in_multi = true;
  ctx.session.multi_error = false;
  ctx.session.queued.clear();
  ctx.out.Ok();
}

void DiscardCommand(CommandContext& ctx) {
  if (!ctx.session.in_multi) {
    ctx.out.Error(errors::kDiscardWithoutMulti);
    return;
  }
  ctx.session.in_multi = false;
  ctx.session.queued.clear();
  ctx.engine.Unwatch(ctx.session);
  ctx.out.Ok();
}

void ExecCommand(CommandContext& ctx) {
  Session& s = ctx.session;
  if (!s.in_multi) {
    ctx.out.Error(errors::kExecWithoutMulti);
    return;
  }
  std::vector<std::vector<std::string>> queued = std::move(s.queued);
  s.queued.clear();
  s.in_multi = false;
  bool aborted = s.multi_error;
  bool dirty = s.watch_dirty;
  s.multi_error = false;
  ctx.engine.Unwatch(s);
  if (aborted) {
    ctx.out.Error(errors::kExecAbort);
    return;
  }
  if (dirty) {
    ctx.out.NullArray();
    return;
  }
  ctx.out.ArrayHeader(queued.size());
  std::vector<std::string_view> argv;
  ctx.engine.BeginTransaction();
  for (const auto& cmd : queued) {
    argv.assign(cmd.begin(), cmd.end());
    const CommandSpec* spec = ctx.engine.commands().Find(argv[0]);
    ctx.engine.keyspace().set_now_ms(ctx.engine.Now());
    ctx.engine.Call(s, *spec, argv, ctx.out);
  }
  ctx.engine.EndTransaction();
}

void WatchCommand(CommandContext& ctx) {
  if (ctx.session.in_multi) {
    ctx.out.Error(errors::kWatchInMulti);
    return;
  }
  for (size_t i = 1; i < ctx.argc(); ++i) ctx.engine.Watch(ctx.session, ctx.arg(i));
  ctx.out.Ok();
}

void UnwatchCommand(CommandContext& ctx) {
  ctx.engine.Unwatch(ctx.session);
  ctx.out.Ok();
}

}  // namespace

void RegisterConnectionCommands(CommandTable& t) {
  const uint32_t kConn = kFast | kNoAuth | kLoading | kStale;
  t.Add({"ping", -1, kFast | kStale, 0, 0, 0, PingCommand, "connection", "Returns the server's liveliness response."});
  t.Add({"echo", 2, kFast, 0, 0, 0, EchoCommand, "connection", "Returns the given string."});
  t.Add({"auth", -2, kConn | kNoMulti, 0, 0, 0, AuthCommand, "connection", "Authenticates the connection."});
  t.Add({"hello", -1, kConn | kNoMulti, 0, 0, 0, HelloCommand, "connection", "Handshakes with the Redis server."});
  t.Add({"select", 2, kFast | kLoading | kStale, 0, 0, 0, SelectCommand, "connection", "Changes the selected database."});
  t.Add({"quit", -1, kConn | kNoMulti, 0, 0, 0, QuitCommand, "connection", "Closes the connection."});
  t.Add({"reset", 1, kConn | kNoMulti, 0, 0, 0, ResetCommand, "connection", "Resets the connection."});
  t.Add({"client", -2, kLoading | kStale, 0, 0, 0, ClientCommand, "connection", "A container for client connection commands."});
}

void RegisterTransactionCommands(CommandTable& t) {
  t.Add({"multi", 1, kFast | kNoMulti | kLoading | kStale, 0, 0, 0, MultiCommand, "transactions", "Starts a transaction."});
  t.Add({"exec", 1, kNoMulti | kLoading | kStale, 0, 0, 0, ExecCommand, "transactions", "Executes all commands in a transaction."});
  t.Add({"discard", 1, kFast | kNoMulti | kLoading | kStale, 0, 0, 0, DiscardCommand, "transactions", "Discards a transaction."});
  t.Add({"watch", -2, kFast | kNoMulti | kLoading | kStale, 1, -1, 1, WatchCommand, "transactions", "Monitors changes to keys to determine the execution of a transaction."});
  t.Add({"unwatch", 1, kFast | kNoMulti | kLoading | kStale, 0, 0, 0, UnwatchCommand, "transactions", "Forgets about watched keys of a transaction."});
}

}  // namespace ragkv::server
