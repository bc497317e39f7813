// TestServer: starts the built `ragkv serve` binary on a free loopback port
// (--port 0; the server prints "port N") and stops it with SIGTERM (SIGKILL
// after a timeout) when destroyed. Header-only so any integration test can
// use it.
//
//   TestServer server;
//   ASSERT_TRUE(server.Start({"--requirepass", "pw"})) << server.log();
//   RespClient c; c.Connect("127.0.0.1", server.port());
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ragkv::testing {

class TestServer {
 public:
  TestServer() = default;
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;
  ~TestServer() {
    Stop();
    if (!log_path_.empty()) unlink(log_path_.c_str());
  }

  static std::string BinaryPath() { return std::string(RAGKV_BINARY_DIR) + "/ragkv"; }

  // Starts the server with extra config arguments (after an optional config
  // file, as redis-server takes them); returns false (see log()) if it does
  // not report a port within `timeout_ms`.
  bool Start(const std::vector<std::string>& extra = {}, int timeout_ms = 10000,
             const std::string& config_file = "") {
    char tmpl[] = "/tmp/ragkv-test-XXXXXX";
    int log_fd = mkstemp(tmpl);
    if (log_fd < 0) return false;
    log_path_ = tmpl;
    int out_pipe[2];
    if (pipe(out_pipe) != 0) return false;
    std::vector<std::string> args = {BinaryPath(), "serve"};
    if (!config_file.empty()) args.push_back(config_file);
    for (const char* a : {"--port", "0", "--bind", "127.0.0.1"}) args.push_back(a);
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out_pipe[1], STDOUT_FILENO);
      dup2(log_fd, STDERR_FILENO);
      close(out_pipe[0]);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out_pipe[1]);
    close(log_fd);
    out_fd_ = out_pipe[0];
    std::string line;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char ch;
      if (read(out_fd_, &ch, 1) != 1) break;
      if (ch == '\n') {
        if (line.rfind("port ", 0) == 0) {
          port_ = std::stoi(line.substr(5));
          return true;
        }
        line.clear();
      } else {
        line.push_back(ch);
      }
    }
    Stop();
    return false;
  }

  // Waits up to `timeout_ms` for the server to exit on its own (no signal).
  // Returns the exit status, or -1 if it is still running.
  int WaitExit(int timeout_ms) {
    if (pid_ <= 0) return -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    int status = -1;
    while (std::chrono::steady_clock::now() < deadline) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        if (out_fd_ >= 0) close(out_fd_);
        out_fd_ = -1;
        return status;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

  // SIGTERM, wait up to `timeout_ms`, then SIGKILL. Returns the exit status
  // (as from waitpid) or -1 if it was not running.
  int Stop(int timeout_ms = 5000) {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = -1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() > deadline) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    if (out_fd_ >= 0) close(out_fd_);
    out_fd_ = -1;
    return status;
  }

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }

  // The server's log so far (stderr).
  std::string log() const {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  int out_fd_ = -1;
  std::string log_path_;
};

// Runs a shell command, returning its stdout (stderr merged when asked) and
// exit status.
struct CommandResult {
  std::string output;
  int status = -1;
};

inline CommandResult RunShell(const std::string& command) {
  CommandResult r;
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace ragkv::testing
