// Helpers for replication integration tests: nodes are `ragkv serve`
// processes (TestServer) on loopback, driven with RespClient.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "protocol/resp_client.h"
#include "util/test_server.h"

namespace ragkv::testing {

inline resp::RespValue Cmd(resp::RespClient& c, const std::vector<std::string>& args) {
  std::vector<std::string_view> views(args.begin(), args.end());
  auto r = c.Command(views);
  if (!r.ok()) {
    resp::RespValue v;
    v.type = resp::RespType::kError;
    v.str = "CLIENT " + r.status().ToString();
    return v;
  }
  return std::move(*r);
}

// Polls `pred` every 20 ms until it holds or `timeout_ms` passes.
inline bool WaitFor(const std::function<bool()>& pred, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

// One server process plus a client connection to it.
class Node {
 public:
  // Starts with `args` (after --port 0 --bind 127.0.0.1) and a private dir.
  bool Start(std::vector<std::string> args = {}) {
    if (dir_.empty()) {
      char tmpl[] = "/tmp/ragkv-repl-XXXXXX";
      if (mkdtemp(tmpl) == nullptr) return false;
      dir_ = tmpl;
    }
    args.insert(args.begin(), {"--dir", dir_});
    if (port_ > 0) args.insert(args.end(), {"--port", std::to_string(port_)});
    server_ = std::make_unique<TestServer>();
    if (!server_->Start(args)) return false;
    port_ = server_->port();
    return Reconnect();
  }
  bool Reconnect() {
    client_ = std::make_unique<resp::RespClient>();
    return client_->Connect("127.0.0.1", port_, 10000).ok();
  }
  ~Node() {
    if (server_) server_->Stop();
    if (!dir_.empty()) RunShell("rm -rf '" + dir_ + "'");
  }

  resp::RespValue operator()(const std::vector<std::string>& args) { return Cmd(*client_, args); }
  resp::RespClient& client() { return *client_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  TestServer& server() { return *server_; }
  void Kill9() {
    kill(server_->pid(), SIGKILL);
    server_->Stop();
  }

  // One field of INFO ("" if absent).
  std::string Info(const std::string& field) {
    resp::RespValue v = (*this)({"INFO"});
    std::string key = field + ":";
    size_t at = v.str.find("\r\n" + key);
    if (at == std::string::npos) return "";
    at += 2 + key.size();
    return v.str.substr(at, v.str.find("\r\n", at) - at);
  }
  std::string Digest() { return (*this)({"DEBUG", "DIGEST"}).str; }
  int64_t DbSize(int db) {
    (*this)({"SELECT", std::to_string(db)});
    int64_t n = (*this)({"DBSIZE"}).integer;
    (*this)({"SELECT", "0"});
    return n;
  }
  std::string ReplicaOfArg() const { return "127.0.0.1 " + std::to_string(port_); }

 private:
  std::unique_ptr<TestServer> server_;
  std::unique_ptr<resp::RespClient> client_;
  std::string dir_;
  int port_ = 0;
};

}  // namespace ragkv::testing
