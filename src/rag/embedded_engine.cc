// The embedded engine: server::Engine + server::Persistence + LocalClient in
// this process, as a RespConnection (design and layout in embedded_engine.h).
//
// Why the server's engine and not a store of our own: one storage code path.
// The server store's commands (HSET, FT.CREATE, FT.SEARCH, ...) run through
// Engine::Execute exactly as they do for a network client, writes reach the
// AOF through the same write observer, and loading replays the same log. The
// generation directories this replaced (a whole copy of the collection
// written per commit) needed their own format, checks and recovery code.
//
// Why appendfsync everysec and not always: an ingest issues about five
// commands per file (docs/rag.md, "writing a file"); an fsync for each would
// cost milliseconds apiece on a busy disk, for a collection whose source
// documents are still on disk. A killed process loses nothing (every call
// write()s its records before returning, as the server does before it
// replies); a power loss loses at most the last second, and the write
// protocol makes any prefix of the log a consistent collection. Commit
// (Checkpoint) fsyncs, so a finished ingest is on disk.
//
// Why compact at a checkpoint only when the incr part is as large as the
// base: a rewrite writes the whole collection (tens of MB), so doing it at
// every 30 s checkpoint of a long ingest, or after re-ingesting one changed
// file, would cost more than it saves; the doubling rule keeps the total
// rewrite work linear in what was written (Redis's auto-aof-rewrite rule at
// 100%), and no open replays more than the base's size in commands.
#include "rag/embedded_engine.h"

#include <filesystem>
#include <string_view>

#include "server/engine.h"
#include "server/local_client.h"
#include "server/persistence.h"

namespace ragkv::rag {
namespace {

// Below this much incr log, replaying it takes milliseconds: never compact.
constexpr uint64_t kMinCompactBytes = 1 << 20;

class EmbeddedEngine final : public RespConnection {
 public:
  explicit EmbeddedEngine(std::string dir) : dir_(std::move(dir)) {}

  Status Open() {
    auto config = std::make_unique<server::Config>();
    for (const auto& [name, value] : std::initializer_list<std::pair<const char*, std::string>>{
             {"dir", dir_},
             {"appendonly", "yes"},
             {"appendfsync", "everysec"},
             {"aof-load-truncated", "yes"},
             {"save", ""},  // the AOF alone; no dump.rks next to it
             // Rewrites happen at Checkpoint (above), never behind our back.
             {"auto-aof-rewrite-percentage", "0"}}) {
      RAGKV_RETURN_IF_ERROR(config->Set(name, value, /*startup=*/true));
    }
    engine_ = std::make_unique<server::Engine>(std::move(config));
    RAGKV_ASSIGN_OR_RETURN(persistence_, server::Persistence::Start(*engine_));
    // Loading replayed FT.CREATE over the loaded keys synchronously (the
    // IndexManager's default mode; only `ragkv serve` switches to background
    // backfill once it serves), so every index is complete here.
    client_ = std::make_unique<server::LocalClient>(engine_.get());
    return Status::Ok();
  }

  Result<resp::RespValue> Call(const std::vector<std::string>& args) override {
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue reply, Run(args));
    RAGKV_RETURN_IF_ERROR(Durable());
    return reply;
  }

  Result<std::vector<resp::RespValue>> CallPipelined(
      const std::vector<std::vector<std::string>>& commands) override {
    std::vector<resp::RespValue> replies;
    replies.reserve(commands.size());
    for (const auto& args : commands) {
      RAGKV_ASSIGN_OR_RETURN(resp::RespValue reply, Run(args));
      replies.push_back(std::move(reply));
    }
    // One barrier for the batch, as the server has one per event-loop turn.
    RAGKV_RETURN_IF_ERROR(Durable());
    return replies;
  }

  Status Checkpoint() override {
    const uint64_t base = persistence_->aof_base_size();
    const uint64_t incr = persistence_->aof_current_size() - base;
    Status s = incr >= kMinCompactBytes && incr >= base ? persistence_->RewriteAof()
                                                        : persistence_->SyncAof();
    if (!s.ok()) {
      return Status(s.code(),
                    "cannot make the log in " + dir_ + " durable: " + std::string(s.message()));
    }
    return Status::Ok();
  }

 private:
  Result<resp::RespValue> Run(const std::vector<std::string>& args) {
    std::vector<std::string_view> argv(args.begin(), args.end());
    return client_->Command(argv);
  }

  // The server's reply barrier: the records of every write so far are
  // handed to the OS (and fsynced under appendfsync always) before the
  // caller learns that they succeeded.
  Status Durable() {
    Status s = persistence_->BeforeReply();
    if (!s.ok()) {
      return Status(s.code(), "cannot write the log in " + dir_ + ": " + std::string(s.message()));
    }
    return Status::Ok();
  }

  std::string dir_;
  // Destroyed in reverse: the client's session closes, then persistence
  // fsyncs the log and releases the lock, then the engine goes.
  std::unique_ptr<server::Engine> engine_;
  std::unique_ptr<server::Persistence> persistence_;
  std::unique_ptr<server::LocalClient> client_;
};

}  // namespace

Result<std::unique_ptr<RespConnection>> OpenEmbeddedEngine(const std::string& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::IOError("cannot create data directory " + data_dir + ": " + ec.message());
  auto engine = std::make_unique<EmbeddedEngine>(data_dir);
  RAGKV_RETURN_IF_ERROR(engine->Open());
  return std::unique_ptr<RespConnection>(std::move(engine));
}

}  // namespace ragkv::rag
