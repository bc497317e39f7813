// An in-process server "process" for persistence tests: an Engine, a session
// and its Persistence, started over a FileSystem (in memory or real).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "server/persistence.h"
#include "server/session.h"

namespace ragkv::server::testing {

// One server "process": an engine, a session and its persistence.
class Instance {
 public:
  Instance(persistence::FileSystem& fs, const std::string& dir, const std::string& appendonly,
           const std::string& fsync = "always",
           const std::vector<std::pair<std::string, std::string>>& more_config = {}) {
    auto config = std::make_unique<Config>();
    EXPECT_TRUE(config->Set("dir", dir, true).ok());
    EXPECT_TRUE(config->Set("appendonly", appendonly, true).ok());
    EXPECT_TRUE(config->Set("appendfsync", fsync, true).ok());
    for (const auto& [name, value] : more_config) EXPECT_TRUE(config->Set(name, value, true).ok());
    engine_ = std::make_unique<Engine>(std::move(config));
    session_.authenticated = true;
    auto p = Persistence::Start(*engine_, fs);
    status_ = p.ok() ? Status::Ok() : p.status();
    if (p.ok()) persistence_ = std::move(*p);
  }

  // Runs one command; returns the raw RESP reply. As in the network layer,
  // the reply is "sent" only after the durability barrier, and a reply to a
  // write that could not be persisted is replaced by a closed connection.
  std::string Run(std::vector<std::string> argv) {
    std::string out;
    resp::ReplyWriter writer(&out);
    const int64_t dirty_before = engine_->stats().dirty;
    engine_->Execute(session_, argv, writer);
    const bool wrote = engine_->stats().dirty != dirty_before;
    if (persistence_ && !persistence_->BeforeReply().ok() && wrote) return "<connection closed>";
    return out;
  }

  const Status& status() const { return status_; }
  Persistence& persistence() { return *persistence_; }
  Engine& engine() { return *engine_; }
  void Crash() { persistence_.reset(); }

 private:
  std::unique_ptr<Engine> engine_;
  Session session_;
  std::unique_ptr<Persistence> persistence_;
  Status status_;
};

}  // namespace ragkv::server::testing
