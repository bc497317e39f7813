// Replication commands: REPLICAOF/SLAVEOF, REPLCONF, PSYNC/SYNC, WAIT,
// WAITAOF, ROLE. Thin parsers over Replication's methods; the handlers find
// the Replication through Engine::replication.
#include <cstdio>

#include "common/log.h"
#include "replication/replication.h"
#include "server/commands/command_util.h"
#include "server/errors.h"
#include "server/persistence.h"

namespace ragkv::replication {

using server::CommandContext;
using server::EqualsIgnoreCase;

namespace {

Replication& Repl(CommandContext& ctx) {
  return *static_cast<Replication*>(ctx.engine.replication);
}

void ReplicaOfCommand(CommandContext& ctx) { Repl(ctx).ReplicaOf(ctx); }
void ReplconfCommand(CommandContext& ctx) { Repl(ctx).Replconf(ctx); }
void PsyncCommand(CommandContext& ctx) { Repl(ctx).Psync(ctx); }
void WaitCommand(CommandContext& ctx) { Repl(ctx).Wait(ctx, false); }
void WaitAofCommand(CommandContext& ctx) { Repl(ctx).Wait(ctx, true); }
void RoleCommand(CommandContext& ctx) { Repl(ctx).Role(ctx); }

// FNV-1a, 64 bits, continued from `h`.
uint64_t Fnv(std::string_view s, uint64_t h = 1469598103934665603ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

// DEBUG DIGEST: an order-independent digest of every key, its type, value
// and expiry, so two nodes can be compared in one round trip (Redis's DEBUG
// DIGEST has the same purpose; the value differs). 40 hex chars, all zeros
// for an empty dataset.
void DebugCommand(CommandContext& ctx) {
  if (!EqualsIgnoreCase(ctx.arg(1), "DIGEST") || ctx.argc() != 2) {
    ctx.out.Error(server::errors::UnknownSubcommand(ctx.arg(1), "DEBUG"));
    return;
  }
  uint64_t acc_xor = 0, acc_sum = 0;
  store::Keyspace& ks = ctx.engine.keyspace();
  for (int d = 0; d < ks.size(); ++d) {
    for (const auto& [key, entry] : ks.db(d).map()) {
      uint64_t h = Fnv(key, Fnv(std::to_string(d)));
      h = Fnv(std::to_string(entry.expire_ms), h);
      if (entry.value.type() == store::ValueType::kString) {
        h = Fnv(entry.value.str(), Fnv("s", h));
      } else if (entry.value.type() == store::ValueType::kHash) {
        uint64_t fields = 0;
        for (const auto& [f, v] : entry.value.hash()) fields ^= Mix(Fnv(v, Fnv(f) * 31));
        h = Mix(h ^ Mix(fields)) ^ 0x68;
      } else if (entry.value.type() == store::ValueType::kZSet) {
        uint64_t members = 0;
        entry.value.zset().ForEach([&members](std::string_view m, double score) {
          members ^= Mix(Fnv(resp::FormatDouble(score), Fnv(m) * 31));
        });
        h = Mix(h ^ Mix(members)) ^ 0x7a;
      } else {
        h = Fnv("other", h);
      }
      acc_xor ^= Mix(h);
      acc_sum += Mix(h ^ 0x9e3779b97f4a7c15ULL);
    }
  }
  char buf[48];
  if (acc_xor == 0 && acc_sum == 0) {
    ctx.out.Bulk(std::string(40, '0'));
    return;
  }
  std::snprintf(buf, sizeof(buf), "%016llx%016llx%08llx", static_cast<unsigned long long>(acc_xor),
                static_cast<unsigned long long>(acc_sum),
                static_cast<unsigned long long>(Mix(acc_xor ^ acc_sum) & 0xffffffffULL));
  ctx.out.Bulk(std::string(buf, 40));
}

}  // namespace

void Replication::ReplicaOf(CommandContext& ctx) {
  if (ctx.argc() != 3) {
    ctx.out.Error(server::errors::WrongArity(ctx.arg(0)));
    return;
  }
  if (EqualsIgnoreCase(ctx.arg(1), "NO") && EqualsIgnoreCase(ctx.arg(2), "ONE")) {
    Promote();
    ctx.out.Ok();
    return;
  }
  int64_t port = 0;
  if (!server::ParseInt(ctx.arg(2), &port) || port <= 0 || port > 65535) {
    ctx.out.Error("ERR Invalid master port");
    return;
  }
  std::string host(ctx.arg(1));
  if (following_ && host == master_host_ && port == master_port_) {
    ctx.out.SimpleString("OK Already connected to specified master");
    return;
  }
  Follow(host, static_cast<int>(port));
  ctx.out.Ok();
}

void Replication::Replconf(CommandContext& ctx) {
  if (ctx.argc() % 2 == 0) {
    ctx.out.Error(server::errors::kSyntax);
    return;
  }
  server::Session& s = ctx.session;
  for (size_t i = 1; i + 1 < ctx.argc(); i += 2) {
    std::string_view opt = ctx.arg(i), val = ctx.arg(i + 1);
    if (EqualsIgnoreCase(opt, "ACK")) {
      // No reply, ever: the replica parses our output as its stream.
      auto it = replicas_.find(s.id);
      if (it == replicas_.end()) return;
      int64_t off = 0;
      if (server::ParseInt(val, &off) && off > it->second.ack_offset) it->second.ack_offset = off;
      for (size_t j = i + 2; j + 1 < ctx.argc(); j += 2) {
        int64_t fack = 0;
        if (EqualsIgnoreCase(ctx.arg(j), "FACK") && server::ParseInt(ctx.arg(j + 1), &fack) &&
            fack > it->second.fack_offset) {
          it->second.fack_offset = fack;
        }
      }
      it->second.last_ack_ms = MonotonicMs();
      it->second.acked = true;
      ServeWaiters(/*timeouts_only=*/false);
      return;
    }
    if (EqualsIgnoreCase(opt, "GETACK")) {
      if (s.kind == server::ClientKind::kMaster) getack_requested_ = true;
      return;
    }
    if (EqualsIgnoreCase(opt, "LISTENING-PORT")) {
      int64_t port = 0;
      if (!server::ParseInt(val, &port) || port < 0 || port > 65535) {
        ctx.out.Error("ERR Invalid listening-port");
        return;
      }
      listening_ports_[s.id] = static_cast<int>(port);
    } else if (EqualsIgnoreCase(opt, "IP-ADDRESS")) {
      announced_ips_[s.id] = std::string(val);
    } else if (!EqualsIgnoreCase(opt, "CAPA")) {
      ctx.out.Error("ERR Unrecognized REPLCONF option: " + std::string(opt));
      return;
    }
  }
  ctx.out.Ok();
}

void Replication::Psync(CommandContext& ctx) {
  server::Session& s = ctx.session;
  if (s.kind == server::ClientKind::kReplica) return;  // already a replica: ignore
  if (following_ && !link_up_) {
    ctx.out.Error("NOMASTERLINK Can't SYNC while not connected with my master");
    return;
  }
  std::string_view want_id = "?";
  int64_t want_offset = -1;
  if (EqualsIgnoreCase(ctx.arg(0), "PSYNC")) {
    if (ctx.argc() != 3) {
      ctx.out.Error(server::errors::WrongArity("psync"));
      return;
    }
    want_id = ctx.arg(1);
    if (!server::ParseInt(ctx.arg(2), &want_offset)) want_offset = -1;
  }
  if (s.fd < 0) {
    ctx.out.Error("ERR PSYNC needs a network connection");
    return;
  }
  const bool same_history =
      want_id == replid_ || (want_id == replid2_ && want_offset <= second_offset_);
  Replica r;
  r.session_id = s.id;
  auto ip = announced_ips_.find(s.id);
  r.ip = ip != announced_ips_.end() ? ip->second : s.addr.substr(0, s.addr.rfind(':'));
  auto lp = listening_ports_.find(s.id);
  r.port = lp != listening_ports_.end() ? lp->second : 0;
  r.last_ack_ms = MonotonicMs();
  if (same_history && backlog_.CanServe(want_offset)) {
    ++engine_.stats().sync_partial_ok;
    std::string reply = "+CONTINUE " + replid_ + "\r\n";
    backlog_.CopyFrom(want_offset, &reply);
    ctx.out.Raw(reply);
    r.ack_offset = want_offset - 1;
    log::Info("Partial resynchronization request from " + s.addr + " accepted. Sending " +
              std::to_string(backlog_.offset() - want_offset + 1) +
              " bytes of backlog starting from offset " + std::to_string(want_offset) + ".");
  } else {
    // The empty-restart rule: a node that came up without data must not
    // replace a replica's longer, unrelated history with its own.
    if (want_id != "?" && started_empty_ && want_offset - 1 > backlog_.offset() &&
        !settings_.allow_empty_leader) {
      ctx.out.Error(
          "ERR empty leader after restart: refusing to wipe a replica with history (set "
          "repl-allow-empty-leader yes)");
      return;
    }
    if (want_id != "?") ++engine_.stats().sync_partial_err;
    ++engine_.stats().sync_full;
    // The snapshot is taken by a forked child (StartFullSync), which writes
    // +FULLRESYNC and the payload itself; until it is done the loop writes
    // nothing to this socket and runs nothing this client pipelined.
    r.state = ReplicaState::kWaitFork;
    r.fd = s.fd;
    r.legacy_sync = !EqualsIgnoreCase(ctx.arg(0), "PSYNC");
    r.wait_since_ms = r.last_ack_ms;
    s.blocked = true;
    log::Info("Replica " + s.addr + " asks for synchronization: full resync");
    ScheduleFullSync();
  }
  s.kind = server::ClientKind::kReplica;
  replicas_[s.id] = r;
  listening_ports_.erase(s.id);
  announced_ips_.erase(s.id);
}

void Replication::Wait(CommandContext& ctx, bool aof) {
  if (following_) {
    ctx.out.Error(std::string("ERR ") + (aof ? "WAITAOF" : "WAIT") +
                  " cannot be used with replica instances. Please also note that writes to "
                  "replicas are just local and are not propagated.");
    return;
  }
  Waiter w;
  w.session_id = ctx.session.id;
  w.aof = aof;
  w.target = backlog_.offset();
  size_t a = 1;
  if (aof) {
    if (!server::ParseInt(ctx.arg(1), &w.numlocal) || w.numlocal < 0) {
      ctx.out.Error(server::errors::kNotInteger);
      return;
    }
    if (w.numlocal > 0 && LocalFsynced(0) == 0 &&
        !(engine_.persistence != nullptr && engine_.persistence->aof_enabled())) {
      ctx.out.Error("ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.");
      return;
    }
    a = 2;
  }
  int64_t timeout = 0;
  if (!server::ParseInt(ctx.arg(a), &w.numreplicas) || w.numreplicas < 0 ||
      !server::ParseInt(ctx.arg(a + 1), &timeout)) {
    ctx.out.Error(server::errors::kNotInteger);
    return;
  }
  if (timeout < 0) {
    ctx.out.Error("ERR timeout is negative");
    return;
  }
  auto satisfied = [&] {
    return CountAcked(w.target, aof) >= w.numreplicas &&
           (!aof || LocalFsynced(w.target) >= w.numlocal);
  };
  if (satisfied() || ctx.engine.io == nullptr || ctx.session.fd < 0) {
    if (aof) {
      ctx.out.ArrayHeader(2);
      ctx.out.Integer(LocalFsynced(w.target));
      ctx.out.Integer(CountAcked(w.target, true));
    } else {
      ctx.out.Integer(CountAcked(w.target, false));
    }
    return;
  }
  w.deadline_ms = timeout > 0 ? MonotonicMs() + timeout : 0;
  ctx.session.blocked = true;
  waiters_.push_back(w);
  // Ask the replicas for an ACK now instead of within a second.
  std::string_view getack[3] = {"REPLCONF", "GETACK", "*"};
  FeedCommand(getack);
}

void Replication::Role(CommandContext& ctx) {
  if (following_) {
    ctx.out.ArrayHeader(5);
    ctx.out.Bulk("slave");
    ctx.out.Bulk(master_host_);
    ctx.out.Integer(master_port_);
    ctx.out.Bulk(LinkStateName(link_state_));
    ctx.out.Integer(link_up_ ? backlog_.offset() : -1);
    return;
  }
  ctx.out.ArrayHeader(3);
  ctx.out.Bulk("master");
  ctx.out.Integer(backlog_.offset());
  ctx.out.ArrayHeader(replicas_.size());
  for (const auto& [id, r] : replicas_) {
    ctx.out.ArrayHeader(3);
    ctx.out.Bulk(r.ip);
    ctx.out.Bulk(std::to_string(r.port));
    ctx.out.Bulk(std::to_string(r.ack_offset));
  }
}

void RegisterReplicationCommands(server::Engine& engine) {
  using namespace server;  // flags
  engine.AddCommand({"replicaof", 3, kAdmin | kStale, 0, 0, 0, ReplicaOfCommand, "server",
                     "Configures a server as replica of another, or promotes it to a master."});
  engine.AddCommand(
      {"slaveof", 3, kAdmin | kStale, 0, 0, 0, ReplicaOfCommand, "server",
       "Sets a Redis server as a replica of another, or promotes it to being a master."});
  engine.AddCommand({"replconf", -1, kAdmin | kNoMulti | kLoading | kStale, 0, 0, 0,
                     ReplconfCommand, "server",
                     "An internal command for configuring the replication stream."});
  engine.AddCommand({"psync", -3, kAdmin | kNoMulti | kStale, 0, 0, 0, PsyncCommand, "server",
                     "An internal command used in replication."});
  engine.AddCommand({"sync", 1, kAdmin | kNoMulti | kStale, 0, 0, 0, PsyncCommand, "server",
                     "An internal command used in replication."});
  engine.AddCommand({"wait", 3, kNoMulti, 0, 0, 0, WaitCommand, "generic",
                     "Blocks until the asynchronous replication of all preceding write commands "
                     "sent by the connection is completed."});
  engine.AddCommand({"waitaof", 4, kNoMulti, 0, 0, 0, WaitAofCommand, "generic",
                     "Blocks until all of the preceding write commands sent by the connection are "
                     "written to the append-only file of the master and/or replicas."});
  if (engine.commands().Find("debug") == nullptr) {
    engine.AddCommand({"debug", -2, kAdmin | kNoMulti | kLoading | kStale, 0, 0, 0, DebugCommand,
                       "server", "A container for debugging commands (DIGEST)."});
  }
  engine.AddCommand({"role", 1, kFast | kNoMulti | kLoading | kStale, 0, 0, 0, RoleCommand,
                     "server", "Returns the replication role."});
}

}  // namespace ragkv::replication
