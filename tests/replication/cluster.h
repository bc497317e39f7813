// Helpers for replication integration tests: nodes are `ragkv serve`
// processes (TestServer) on loopback, driven with RespClient.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <memory>
#include <random>
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
  // Starts with `args` (after --port 0 --bind 127.0.0.1) and a private dir,
  // optionally from a config file.
  bool Start(std::vector<std::string> args = {}, const std::string& config_file = "") {
    if (dir_.empty()) {
      char tmpl[] = "/tmp/ragkv-repl-XXXXXX";
      if (mkdtemp(tmpl) == nullptr) return false;
      dir_ = tmpl;
    }
    args.insert(args.begin(), {"--dir", dir_});
    if (port_ > 0) args.insert(args.end(), {"--port", std::to_string(port_)});
    server_ = std::make_unique<TestServer>();
    if (!server_->Start(args, 10000, config_file)) return false;
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

  // Runs a command; reconnects once if the connection was closed (Sentinel
  // kills normal clients on reconfiguration).
  resp::RespValue operator()(const std::vector<std::string>& args) {
    resp::RespValue v = Cmd(*client_, args);
    if (v.is_error() && v.str.rfind("CLIENT ", 0) == 0 && Reconnect()) v = Cmd(*client_, args);
    return v;
  }
  resp::RespClient& client() { return *client_; }
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // Creates the private dir before Start (to put a config file in it).
  const std::string& MakeDir() {
    char tmpl[] = "/tmp/ragkv-repl-XXXXXX";
    if (dir_.empty() && mkdtemp(tmpl) != nullptr) dir_ = tmpl;
    return dir_;
  }
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

namespace ragkv::testing {

// A free loopback TCP port (bound and released; fine for tests).
inline int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// A child process (redis-sentinel) with its output in a log file; killed
// (SIGTERM, then SIGKILL) on destruction.
class Process {
 public:
  bool Start(const std::vector<std::string>& argv, const std::string& log_path) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    return pid_ > 0;
  }
  ~Process() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 200; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_ = -1;
};

// A random float32 vector blob of `dim` components in [-1, 1).
inline std::string FloatBlob(std::mt19937_64& rng, int dim) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::string blob(dim * sizeof(float), '\0');
  for (int d = 0; d < dim; ++d) {
    float x = u(rng);
    std::memcpy(blob.data() + d * sizeof(float), &x, sizeof(float));
  }
  return blob;
}

// The FT index the replication tests share: hashes under "doc:" with an HNSW
// L2 float32 field "vec" of `dim` components and a TAG field "tag".
inline std::vector<std::string> CreateVectorIndexCommand(int dim) {
  return {"FT.CREATE", "idx", "ON",   "HASH",  "PREFIX",          "1",  "doc:",
          "SCHEMA",    "vec", "VECTOR", "HNSW", "6",              "TYPE", "FLOAT32",
          "DIM",       std::to_string(dim), "DISTANCE_METRIC", "L2", "tag", "TAG"};
}

}  // namespace ragkv::testing
