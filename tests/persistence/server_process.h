// ServerProcess: runs `ragkv serve` (appendonly yes) as a child process on
// an ephemeral port, for the crash and disk-full tests.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ragkv::persistence::testing {

class ServerProcess {
 public:
  // Starts `ragkv serve` on an ephemeral port; returns false on failure.
  bool Start(const std::string& dir, const std::string& fsync) {
    port_ = 0;
    int out[2];
    if (::pipe(out) != 0) return false;
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      const std::string log = dir + "/server.log";
      int err = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (err >= 0) ::dup2(err, 2);
      ::close(out[0]);
      const std::string bin = std::string(RAGKV_BINARY_DIR) + "/ragkv";
      ::execl(bin.c_str(), bin.c_str(), "serve", "--port", "0", "--dir", dir.c_str(),
              "--appendonly", "yes", "--appendfsync", fsync.c_str(), "--save", "",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    std::string line;
    char c;
    pollfd pfd{out[0], POLLIN, 0};
    while (line.find('\n') == std::string::npos) {
      if (::poll(&pfd, 1, 10000) <= 0 || ::read(out[0], &c, 1) != 1) break;
      line.push_back(c);
    }
    ::close(out[0]);
    if (line.rfind("port ", 0) != 0) return false;
    port_ = std::atoi(line.c_str() + 5);
    return port_ > 0;
  }

  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  ~ServerProcess() { Kill(); }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace ragkv::persistence::testing
