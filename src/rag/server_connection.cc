// Server lists, leader discovery and read fallback for the RAG layer's
// server store (server_connection.h).
//
// Approach: one resp::RespClient at a time. A read connection walks the list
// in order and keeps the first server that answers; when a call fails with
// kUnavailable (server stopped, connection reset, timeout) the call is
// repeated on the next reachable server, at most once around the list. A write
// connection asks each server ROLE and keeps the one that says "master",
// following a replica's pointer to its leader if needed.
// Rejected: connecting to every server up front (wasted sockets and a slow
// start when most are down) and load-balancing reads round-robin (replicas lag;
// sticking to one server keeps a session's reads consistent with each other).
#include "rag/server_connection.h"

#include <charconv>

#include "protocol/resp_client.h"

namespace ragkv::rag {
namespace {

constexpr std::string_view kScheme = "redis://";

Result<ServerAddress> ParseOne(std::string_view url, bool scheme_required) {
  const std::string original(url);
  if (url.substr(0, kScheme.size()) == kScheme) {
    url.remove_prefix(kScheme.size());
  } else if (scheme_required) {
    return Status::InvalidArgument("--server must look like redis://[user:pass@]host:port, not '" +
                                   original + "'");
  }
  while (!url.empty() && url.back() == '/') url.remove_suffix(1);
  ServerAddress a;
  if (size_t at = url.rfind('@'); at != std::string_view::npos) {
    std::string_view cred = url.substr(0, at);
    url.remove_prefix(at + 1);
    size_t colon = cred.find(':');
    if (colon == std::string_view::npos) {
      a.password = std::string(cred);
    } else {
      a.user = std::string(cred.substr(0, colon));
      a.password = std::string(cred.substr(colon + 1));
    }
  }
  std::string_view host = url;
  if (size_t colon = url.rfind(':'); colon != std::string_view::npos) {
    host = url.substr(0, colon);
    std::string_view port = url.substr(colon + 1);
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), a.port);
    if (ec != std::errc() || end != port.data() + port.size() || a.port <= 0 || a.port > 65535) {
      return Status::InvalidArgument("bad port in --server entry '" + original + "'");
    }
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {  // [::1]:6379
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return Status::InvalidArgument("--server entry '" + original + "' has no host");
  a.host = std::string(host);
  return a;
}

// One server, connected and authenticated; kUnavailable names it.
Result<std::unique_ptr<resp::RespClient>> Dial(const ServerAddress& a, int timeout_ms) {
  auto client = std::make_unique<resp::RespClient>();
  Status s = client->Connect(a.host, a.port, timeout_ms);
  if (!s.ok()) {
    return Status::Unavailable("cannot connect to server " + a.ToString() + " (" +
                               std::string(s.message()) + "); is it running?");
  }
  if (!a.password.empty()) {
    std::vector<std::string_view> auth = {"AUTH"};
    if (!a.user.empty()) auth.push_back(a.user);
    auth.push_back(a.password);
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue r, client->Command(auth));
    if (r.is_error()) {
      return Status::FailedPrecondition("server " + a.ToString() + " refused AUTH: " + r.str);
    }
  }
  return client;
}

Result<resp::RespValue> Send(resp::RespClient& client, const std::vector<std::string>& args) {
  std::vector<std::string_view> argv(args.begin(), args.end());
  return client.Command(argv);
}

Result<std::vector<resp::RespValue>> Pipeline(resp::RespClient& client,
                                              const std::vector<std::vector<std::string>>& cmds) {
  for (const auto& args : cmds) {
    std::vector<std::string_view> argv(args.begin(), args.end());
    RAGKV_RETURN_IF_ERROR(client.Send(argv));
  }
  std::vector<resp::RespValue> replies;
  replies.reserve(cmds.size());
  for (size_t i = 0; i < cmds.size(); ++i) {
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue v, client.ReadReply());
    replies.push_back(std::move(v));
  }
  return replies;
}

class ReadConnection final : public RespConnection {
 public:
  ReadConnection(std::vector<ServerAddress> servers, int timeout_ms)
      : servers_(std::move(servers)), timeout_ms_(timeout_ms) {}

  // Connects to the first reachable server at or after `start` (wrapping).
  Status ConnectFrom(size_t start) {
    client_.reset();
    std::string tried;
    for (size_t n = 0; n < servers_.size(); ++n) {
      size_t i = (start + n) % servers_.size();
      auto c = Dial(servers_[i], timeout_ms_);
      if (c.ok()) {
        client_ = std::move(*c);
        current_ = i;
        return Status::Ok();
      }
      if (c.status().code() != StatusCode::kUnavailable) return c.status();
      tried += (tried.empty() ? "" : "; ") + std::string(c.status().message());
    }
    return Status::Unavailable(servers_.size() == 1 ? tried : "no server reachable: " + tried);
  }

  Result<resp::RespValue> Call(const std::vector<std::string>& args) override {
    if (client_ != nullptr) {
      auto r = Send(*client_, args);
      if (r.ok() || r.status().code() != StatusCode::kUnavailable) return r;
      if (servers_.size() == 1) return r;
    }
    RAGKV_RETURN_IF_ERROR(ConnectFrom(client_ == nullptr ? current_ : current_ + 1));
    return Send(*client_, args);
  }

  // Reads only, so a batch cut short by a lost server is simply sent again
  // to the next one.
  Result<std::vector<resp::RespValue>> CallPipelined(
      const std::vector<std::vector<std::string>>& commands) override {
    if (client_ != nullptr) {
      auto r = Pipeline(*client_, commands);
      if (r.ok() || r.status().code() != StatusCode::kUnavailable) return r;
      if (servers_.size() == 1) return r;
    }
    RAGKV_RETURN_IF_ERROR(ConnectFrom(client_ == nullptr ? current_ : current_ + 1));
    return Pipeline(*client_, commands);
  }

 private:
  std::vector<ServerAddress> servers_;
  int timeout_ms_;
  size_t current_ = 0;
  std::unique_ptr<resp::RespClient> client_;
};

class LeaderConnection final : public RespConnection {
 public:
  explicit LeaderConnection(std::unique_ptr<resp::RespClient> client)
      : client_(std::move(client)) {}
  Result<resp::RespValue> Call(const std::vector<std::string>& args) override {
    return Send(*client_, args);
  }
  Result<std::vector<resp::RespValue>> CallPipelined(
      const std::vector<std::vector<std::string>>& commands) override {
    return Pipeline(*client_, commands);
  }

 private:
  std::unique_ptr<resp::RespClient> client_;
};

}  // namespace

Result<std::vector<resp::RespValue>> RespConnection::CallPipelined(
    const std::vector<std::vector<std::string>>& commands) {
  std::vector<resp::RespValue> replies;
  replies.reserve(commands.size());
  for (const auto& args : commands) {
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue v, Call(args));
    replies.push_back(std::move(v));
  }
  return replies;
}

std::string ServerAddress::ToString() const { return host + ":" + std::to_string(port); }

Result<std::vector<ServerAddress>> ParseServerList(std::string_view spec) {
  std::vector<ServerAddress> out;
  while (true) {
    size_t comma = spec.find(',');
    std::string_view entry = spec.substr(0, comma);
    RAGKV_ASSIGN_OR_RETURN(ServerAddress a, ParseOne(entry, /*scheme_required=*/out.empty()));
    if (!out.empty() && a.password.empty()) {
      a.user = out.front().user;
      a.password = out.front().password;
    }
    out.push_back(std::move(a));
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return out;
}

Result<std::unique_ptr<RespConnection>> ConnectToServers(std::vector<ServerAddress> servers,
                                                         ServerRole role, double timeout_seconds) {
  if (servers.empty()) return Status::InvalidArgument("no server given");
  const int timeout_ms = static_cast<int>(timeout_seconds * 1000);
  if (role == ServerRole::kAny) {
    auto conn = std::make_unique<ReadConnection>(std::move(servers), timeout_ms);
    RAGKV_RETURN_IF_ERROR(conn->ConnectFrom(0));
    return std::unique_ptr<RespConnection>(std::move(conn));
  }
  std::string tried;
  // A replica may point at a leader outside the list; follow such pointers a
  // few times at most, so two misconfigured replicas cannot loop forever.
  for (size_t i = 0; i < servers.size() && i < 16; ++i) {
    const ServerAddress a = servers[i];
    auto client = Dial(a, timeout_ms);
    if (!client.ok()) {
      if (client.status().code() != StatusCode::kUnavailable) return client.status();
      tried += (tried.empty() ? "" : "; ") + std::string(client.status().message());
      continue;
    }
    RAGKV_ASSIGN_OR_RETURN(resp::RespValue role_reply, Send(**client, {"ROLE"}));
    if (role_reply.is_error()) {  // no ROLE command: a standalone server
      return std::unique_ptr<RespConnection>(
          std::make_unique<LeaderConnection>(std::move(*client)));
    }
    const auto& e = role_reply.elements;
    if (!e.empty() && e[0].str == "master") {
      return std::unique_ptr<RespConnection>(
          std::make_unique<LeaderConnection>(std::move(*client)));
    }
    tried += (tried.empty() ? "" : "; ") + a.ToString() + " is a replica";
    if (e.size() >= 3 && e[0].str == "slave") {
      ServerAddress leader = a;
      leader.host = e[1].str;
      leader.port = static_cast<int>(
          e[2].type == resp::RespType::kInteger ? e[2].integer : std::atoi(e[2].str.c_str()));
      bool known = false;
      for (const ServerAddress& s : servers) {
        known = known || (s.host == leader.host && s.port == leader.port);
      }
      if (!known) servers.push_back(leader);
    }
  }
  return Status::Unavailable("writes need the leader, and none was found (" + tried +
                             "); list the leader in --server");
}

}  // namespace ragkv::rag
