#include "rag/fake_llm_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

namespace ragkv::rag::testing {

FakeLlmServer::FakeLlmServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 16) != 0) {
    std::abort();
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

FakeLlmServer::~FakeLlmServer() {
  stop_ = true;
  thread_.join();
  close(listen_fd_);
}

std::vector<HttpRequest> FakeLlmServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeLlmServer::Serve() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, 50) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    while (true) {
      pollfd rp{fd, POLLIN, 0};
      if (poll(&rp, 1, 2000) <= 0) break;
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
      if (header_end == std::string::npos) {
        header_end = data.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          size_t cl = data.find("Content-Length: ");
          if (cl == std::string::npos) cl = data.find("content-length: ");
          if (cl != std::string::npos && cl < header_end) {
            content_length = std::strtoul(data.c_str() + cl + 16, nullptr, 10);
          }
        }
      }
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) {
        break;
      }
    }
    HttpRequest req;
    size_t sp1 = data.find(' ');
    size_t sp2 = data.find(' ', sp1 + 1);
    if (sp1 != std::string::npos && sp2 != std::string::npos && header_end != std::string::npos) {
      req.method = data.substr(0, sp1);
      req.path = data.substr(sp1 + 1, sp2 - sp1 - 1);
      req.body = data.substr(header_end + 4);
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
      }
      handler_(req, fd);
    }
    close(fd);
  }
}

void FakeLlmServer::SendRaw(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

void FakeLlmServer::SendJson(int fd, int status, const std::string& body) {
  SendRaw(fd, "HTTP/1.1 " + std::to_string(status) +
                  " X\r\nContent-Type: application/json\r\n"
                  "Content-Length: " +
                  std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
}

void FakeLlmServer::StartStream(int fd, const std::string& content_type) {
  SendRaw(fd, "HTTP/1.1 200 OK\r\nContent-Type: " + content_type + "\r\nConnection: close\r\n\r\n");
}

}  // namespace ragkv::rag::testing
