// RespClient: blocking sockets with SO_RCVTIMEO/SO_SNDTIMEO for bounded waits.
#include "protocol/resp_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "protocol/reply_parser.h"

namespace ragkv::resp {

std::string EncodeCommand(const std::vector<std::string_view>& argv) {
  std::string out;
  out.push_back('*');
  out.append(std::to_string(argv.size())).append("\r\n");
  for (std::string_view a : argv) {
    out.push_back('$');
    out.append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  }
  return out;
}

RespClient::~RespClient() { Close(); }

void RespClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
}

Status RespClient::Connect(const std::string& host, int port, int timeout_ms) {
  Close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port_str = std::to_string(port);
  int rc = ::getaddrinfo(host.c_str(), port_str.c_str(), &hints, &res);
  if (rc != 0) return Status::Unavailable("resolve " + host + ": " + gai_strerror(rc));
  Status last = Status::Unavailable("no address for " + host);
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (timeout_ms > 0) {
      timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      fd_ = fd;
      break;
    }
    last = Status::Unavailable("connect " + host + ":" + port_str + ": " + std::strerror(errno));
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return fd_ >= 0 ? Status::Ok() : last;
}

Status RespClient::SendRaw(std::string_view bytes) {
  if (fd_ < 0) return Status::Unavailable("not connected");
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable(std::string("send: ") + std::strerror(errno));
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status RespClient::Send(const std::vector<std::string_view>& argv) {
  return SendRaw(EncodeCommand(argv));
}

Result<RespValue> RespClient::ReadReply() {
  if (fd_ < 0) return Status::Unavailable("not connected");
  while (true) {
    RespValue v;
    ReplyParseResult r = ParseReply(in_, &v);
    if (r.status == ParseStatus::kComplete) {
      in_.erase(0, r.consumed);
      return v;
    }
    if (r.status == ParseStatus::kError) {
      return Status::Corruption(std::string("bad reply: ") + std::string(r.error));
    }
    char buf[16384];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n == 0) return Status::Unavailable("connection closed by peer");
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::Unavailable(std::string("recv: ") + std::strerror(errno));
    }
    in_.append(buf, static_cast<size_t>(n));
  }
}

Result<RespValue> RespClient::Command(const std::vector<std::string_view>& argv) {
  RAGKV_RETURN_IF_ERROR(Send(argv));
  return ReadReply();
}

}  // namespace ragkv::resp
