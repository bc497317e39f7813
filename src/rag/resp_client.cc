// RESP2 encoding, parsing and a blocking socket connection (see resp_client.h).
// The parser is a recursive descent over a string_view that never reads past
// its end: a reply split anywhere yields kNeedMore until the rest arrives.
#include "rag/resp_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <cstring>

namespace ragkv::rag {
namespace {

constexpr int64_t kMaxBulk = int64_t{512} << 20;
constexpr int kMaxDepth = 16;

// Reads "<int>\r\n" at in[*pos]; kNeedMore if the line is incomplete.
ParseOutcome ReadLine(std::string_view in, size_t* pos, std::string_view* line,
                      std::string* error) {
  size_t end = in.find("\r\n", *pos);
  if (end == std::string_view::npos) {
    if (in.size() - *pos > 64 * 1024) {
      *error = "line too long";
      return ParseOutcome::kError;
    }
    return ParseOutcome::kNeedMore;
  }
  *line = in.substr(*pos, end - *pos);
  *pos = end + 2;
  return ParseOutcome::kComplete;
}

bool ToInt(std::string_view s, int64_t* v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *v);
  return ec == std::errc() && p == s.data() + s.size() && !s.empty();
}

ParseOutcome Parse(std::string_view in, size_t* pos, RespValue* out, std::string* error,
                   int depth) {
  if (depth > kMaxDepth) {
    *error = "nesting too deep";
    return ParseOutcome::kError;
  }
  if (*pos >= in.size()) return ParseOutcome::kNeedMore;
  const char kind = in[*pos];
  size_t p = *pos + 1;
  std::string_view line;
  ParseOutcome o = ReadLine(in, &p, &line, error);
  if (o != ParseOutcome::kComplete) return o;
  switch (kind) {
    case '+':
    case '-':
      out->type = kind == '+' ? RespValue::Type::kSimple : RespValue::Type::kError;
      out->str.assign(line);
      break;
    case ':':
      out->type = RespValue::Type::kInteger;
      if (!ToInt(line, &out->integer)) {
        *error = "bad integer";
        return ParseOutcome::kError;
      }
      break;
    case '$': {
      int64_t len;
      if (!ToInt(line, &len) || len < -1 || len > kMaxBulk) {
        *error = "bad bulk length";
        return ParseOutcome::kError;
      }
      if (len == -1) {
        out->type = RespValue::Type::kNull;
        break;
      }
      if (in.size() - p < static_cast<size_t>(len) + 2) return ParseOutcome::kNeedMore;
      if (in.substr(p + len, 2) != "\r\n") {
        *error = "bulk string not terminated by CRLF";
        return ParseOutcome::kError;
      }
      out->type = RespValue::Type::kBulk;
      out->str.assign(in.substr(p, len));
      p += len + 2;
      break;
    }
    case '*': {
      int64_t n;
      if (!ToInt(line, &n) || n < -1 || n > (int64_t{1} << 24)) {
        *error = "bad array length";
        return ParseOutcome::kError;
      }
      if (n == -1) {
        out->type = RespValue::Type::kNull;
        break;
      }
      out->type = RespValue::Type::kArray;
      out->elements.clear();
      for (int64_t i = 0; i < n; ++i) {
        RespValue v;
        o = Parse(in, &p, &v, error, depth + 1);
        if (o != ParseOutcome::kComplete) return o;
        out->elements.push_back(std::move(v));
      }
      break;
    }
    default:
      *error = std::string("unknown reply type '") + kind + "'";
      return ParseOutcome::kError;
  }
  *pos = p;
  return ParseOutcome::kComplete;
}

class TcpConnection final : public RespConnection {
 public:
  TcpConnection(int fd, int timeout_ms, std::string where)
      : fd_(fd), timeout_ms_(timeout_ms), where_(std::move(where)) {}
  ~TcpConnection() override { close(fd_); }

  Result<RespValue> Call(const std::vector<std::string>& args) override {
    const std::string request = EncodeCommand(args);
    size_t sent = 0;
    while (sent < request.size()) {
      ssize_t n = send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return Status::Unavailable("lost the connection to " + where_);
      sent += static_cast<size_t>(n);
    }
    while (true) {
      RespValue v;
      size_t consumed = 0;
      std::string error;
      switch (ParseReply(buffer_, &v, &consumed, &error)) {
        case ParseOutcome::kComplete:
          buffer_.erase(0, consumed);
          return v;
        case ParseOutcome::kError:
          return Status::Corruption("protocol error from " + where_ + ": " + error);
        case ParseOutcome::kNeedMore:
          break;
      }
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, timeout_ms_) <= 0) {
        return Status::Unavailable(where_ + " did not answer " + args[0] + " in time");
      }
      char buf[64 * 1024];
      ssize_t n = read(fd_, buf, sizeof buf);
      if (n <= 0) return Status::Unavailable("lost the connection to " + where_);
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  int timeout_ms_;
  std::string where_;
  std::string buffer_;
};

}  // namespace

std::string RespValue::DebugString() const {
  switch (type) {
    case Type::kSimple:
    case Type::kBulk:
      return str;
    case Type::kError:
      return std::string(1, '-').append(str);
    case Type::kInteger:
      return std::to_string(integer);
    case Type::kNull:
      return "(nil)";
    case Type::kArray: {
      std::string s = "[";
      for (size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) s += ", ";
        s += elements[i].DebugString();
      }
      return s + "]";
    }
  }
  return {};
}

std::string EncodeCommand(const std::vector<std::string>& args) {
  // Appends only: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string.
  std::string out(1, '*');
  out += std::to_string(args.size());
  out += "\r\n";
  for (const std::string& a : args) {
    out += '$';
    out += std::to_string(a.size());
    out += "\r\n";
    out += a;
    out += "\r\n";
  }
  return out;
}

ParseOutcome ParseReply(std::string_view in, RespValue* out, size_t* consumed, std::string* error) {
  size_t pos = 0;
  RespValue v;
  ParseOutcome o = Parse(in, &pos, &v, error, 0);
  if (o == ParseOutcome::kComplete) {
    *out = std::move(v);
    *consumed = pos;
  }
  return o;
}

Result<std::unique_ptr<RespConnection>> ConnectResp(std::string_view url, double timeout_seconds) {
  constexpr std::string_view kScheme = "redis://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument("--server must look like redis://[user:pass@]host:port, not '" +
                                   std::string(url) + "'");
  }
  std::string_view rest = url.substr(kScheme.size());
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  std::string user, password;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = cred.find(':');
    if (colon == std::string_view::npos) {
      password = std::string(cred);
    } else {
      user = std::string(cred.substr(0, colon));
      password = std::string(cred.substr(colon + 1));
    }
  }
  std::string host(rest), port = "6379";
  if (size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = std::string(rest.substr(0, colon));
    port = std::string(rest.substr(colon + 1));
  }
  if (host.empty()) return Status::InvalidArgument("--server URL has no host");
  const std::string where = "server " + host + ":" + port;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Status::Unavailable("cannot resolve " + where);
  }
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) {
    return Status::Unavailable("cannot connect to " + where + " (" + std::strerror(errno) +
                               "); is it running?");
  }
  auto conn = std::make_unique<TcpConnection>(fd, static_cast<int>(timeout_seconds * 1000), where);
  if (!password.empty()) {
    std::vector<std::string> auth = {"AUTH"};
    if (!user.empty()) auth.push_back(user);
    auth.push_back(password);
    RAGKV_ASSIGN_OR_RETURN(RespValue r, conn->Call(auth));
    if (r.is_error()) {
      return Status::FailedPrecondition(where + " refused AUTH: " + r.str);
    }
  }
  return std::unique_ptr<RespConnection>(std::move(conn));
}

}  // namespace ragkv::rag
