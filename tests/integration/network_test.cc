// Socket-level behaviour of `ragkv serve`: pipelining, byte-by-byte input,
// slow readers (partial writes), malformed RESP, limits, thousands of
// concurrent connections, graceful shutdown.
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "protocol/resp_client.h"
#include "util/resp_matchers.h"
#include "util/test_server.h"

namespace ragkv::testing {
namespace {

using ::testing::HasSubstr;
using resp::RespClient;
using resp::RespValue;

class NetworkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()) << server_.log(); }

  void Connect(RespClient& c) { ASSERT_TRUE(c.Connect("127.0.0.1", server_.port()).ok()); }

  RespValue Must(Result<RespValue> r) {
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RespValue();
  }

  // Reads until the server closes the connection; returns everything read.
  static std::string ReadUntilClosed(int fd) {
    std::string all;
    char buf[4096];
    while (true) {
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      all.append(buf, static_cast<size_t>(n));
    }
    return all;
  }

  static int RawConnect(int port, const char* ip = "127.0.0.1") {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, ip, &a.sin_addr);
    timeval tv{5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }

  TestServer server_;
};

TEST_F(NetworkTest, PipelinedCommandsAnsweredInOrder) {
  RespClient c;
  Connect(c);
  std::string batch;
  const int n = 10000;
  for (int i = 0; i < n; ++i) {
    batch += resp::EncodeCommand({"INCR", "counter"});
  }
  ASSERT_TRUE(c.SendRaw(batch).ok());
  for (int i = 1; i <= n; ++i) {
    RespValue v = Must(c.ReadReply());
    ASSERT_EQ(v.integer, i);
  }
}

TEST_F(NetworkTest, ByteByByteInputAndInlineCommands) {
  RespClient c;
  Connect(c);
  std::string cmd = resp::EncodeCommand({"SET", "k", "hello"}) + "GET k\r\n" + "PING\n";
  for (char ch : cmd) {
    ASSERT_TRUE(c.SendRaw(std::string(1, ch)).ok());
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  EXPECT_THAT(Must(c.ReadReply()), IsOk());
  EXPECT_THAT(Must(c.ReadReply()), IsBulk("hello"));
  EXPECT_THAT(Must(c.ReadReply()), IsSimple("PONG"));
}

TEST_F(NetworkTest, SlowReaderGetsLargeRepliesIntact) {
  RespClient c;
  Connect(c);
  std::string big(8 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  ASSERT_THAT(Must(c.Command({"SET", "big", big})), IsOk());
  // Ask for it many times without reading: replies exceed socket buffers, so
  // the server must write partially, park, and resume (and pause reading).
  std::string batch;
  for (int i = 0; i < 8; ++i) batch += resp::EncodeCommand({"GET", "big"});
  ASSERT_TRUE(c.SendRaw(batch).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  for (int i = 0; i < 8; ++i) {
    RespValue v = Must(c.ReadReply());
    ASSERT_EQ(v.str.size(), big.size());
    ASSERT_TRUE(v.str == big);
  }
  // Other clients were served meanwhile.
  RespClient other;
  Connect(other);
  EXPECT_THAT(Must(other.Command({"PING"})), IsSimple("PONG"));
}

TEST_F(NetworkTest, MalformedRespGetsRedisErrorAndClose) {
  struct Case {
    std::string input;
    std::string reply;
  };
  const Case cases[] = {
      {"*3000000000\r\n", "-ERR Protocol error: invalid multibulk length\r\n"},
      {"*1\r\n$-10\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"*1\r\n$blabla\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
      {"*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n"},
      {"set \"\"\"test-key\"\"\" test-value\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
  };
  for (const Case& tc : cases) {
    int fd = RawConnect(server_.port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(send(fd, tc.input.data(), tc.input.size(), 0), static_cast<ssize_t>(tc.input.size()));
    EXPECT_EQ(ReadUntilClosed(fd), tc.reply) << tc.input;
    close(fd);
  }
  RespClient c;
  Connect(c);
  EXPECT_THAT(Must(c.Command({"PING"})), IsSimple("PONG"));  // still serving
}

TEST_F(NetworkTest, ThousandsOfConcurrentConnections) {
  const int n = 3000;
  std::vector<std::unique_ptr<RespClient>> clients;
  for (int i = 0; i < n; ++i) {
    auto c = std::make_unique<RespClient>();
    ASSERT_TRUE(c->Connect("127.0.0.1", server_.port()).ok()) << i;
    clients.push_back(std::move(c));
  }
  for (int i = 0; i < n; ++i) {
    ASSERT_TRUE(clients[static_cast<size_t>(i)]->Send({"SET", "k" + std::to_string(i), std::to_string(i)}).ok());
  }
  for (int i = 0; i < n; ++i) ASSERT_THAT(Must(clients[static_cast<size_t>(i)]->ReadReply()), IsOk());
  RespValue info = Must(clients[0]->Command({"INFO", "clients"}));
  EXPECT_THAT(info.str, HasSubstr("connected_clients:" + std::to_string(n)));
  EXPECT_THAT(Must(clients[n - 1]->Command({"DBSIZE"})), IsInt(n));
}

TEST_F(NetworkTest, ClientKillAndQuit) {
  RespClient a, b;
  Connect(a);
  Connect(b);
  int64_t b_id = Must(b.Command({"CLIENT", "ID"})).integer;
  EXPECT_THAT(Must(a.Command({"CLIENT", "KILL", "ID", std::to_string(b_id)})), IsInt(1));
  EXPECT_FALSE(b.Command({"PING"}).ok());
  EXPECT_THAT(Must(a.Command({"QUIT"})), IsOk());
  EXPECT_FALSE(a.ReadReply().ok());
}

TEST(NetworkLimitsTest, MaxClients) {
  TestServer server;
  ASSERT_TRUE(server.Start({"--maxclients", "2"})) << server.log();
  RespClient a, b, c;
  ASSERT_TRUE(a.Connect("127.0.0.1", server.port()).ok());
  ASSERT_TRUE(b.Connect("127.0.0.1", server.port()).ok());
  ASSERT_TRUE(a.Command({"PING"}).ok());
  ASSERT_TRUE(b.Command({"PING"}).ok());
  ASSERT_TRUE(c.Connect("127.0.0.1", server.port()).ok());
  auto r = c.ReadReply();
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, IsError("ERR max number of clients reached"));
}

TEST(NetworkLimitsTest, QueryBufferLimitClosesClient) {
  TestServer server;
  ASSERT_TRUE(server.Start({"--client-query-buffer-limit", "1mb"})) << server.log();
  RespClient c;
  ASSERT_TRUE(c.Connect("127.0.0.1", server.port()).ok());
  std::string huge = "*2\r\n$3\r\nGET\r\n$3000000\r\n" + std::string(2000000, 'x');
  (void)c.SendRaw(huge);  // may fail midway once the server closes
  EXPECT_FALSE(c.ReadReply().ok());
  RespClient d;
  ASSERT_TRUE(d.Connect("127.0.0.1", server.port()).ok());
  EXPECT_TRUE(d.Command({"PING"}).ok());
}

TEST(NetworkLimitsTest, UnauthenticatedClientsLimitedToSmallRequests) {
  TestServer server;
  ASSERT_TRUE(server.Start({"--requirepass", "pw"})) << server.log();
  RespClient c;
  ASSERT_TRUE(c.Connect("127.0.0.1", server.port()).ok());
  ASSERT_TRUE(c.SendRaw("*1\r\n$100000\r\n").ok());
  auto r = c.ReadReply();
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, IsError("ERR Protocol error: invalid bulk length"));
  RespClient d;
  ASSERT_TRUE(d.Connect("127.0.0.1", server.port()).ok());
  EXPECT_THAT(*d.Command({"AUTH", "pw"}), IsOk());
  std::string big(100000, 'v');
  EXPECT_THAT(*d.Command({"SET", "k", big}), IsOk());
}

// Protected mode: without a password, connections from a non-loopback address
// are refused. Needs a non-loopback IPv4 address on this machine.
TEST(NetworkLimitsTest, ProtectedModeRefusesNonLoopback) {
  std::string ip;
  ifaddrs* ifs = nullptr;
  if (getifaddrs(&ifs) == 0) {
    for (ifaddrs* i = ifs; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof(buf));
      if (std::string(buf).rfind("127.", 0) != 0) {
        ip = buf;
        break;
      }
    }
    freeifaddrs(ifs);
  }
  if (ip.empty()) GTEST_SKIP() << "no non-loopback IPv4 address";
  TestServer server;
  ASSERT_TRUE(server.Start({"--bind", "127.0.0.1 " + ip})) << server.log();
  RespClient c;
  ASSERT_TRUE(c.Connect(ip, server.port()).ok());
  auto r = c.ReadReply();
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ErrorStartsWith("DENIED Redis is running in protected mode"));
  RespClient local;
  ASSERT_TRUE(local.Connect("127.0.0.1", server.port()).ok());
  EXPECT_THAT(*local.Command({"PING"}), IsSimple("PONG"));

  TestServer open;
  ASSERT_TRUE(open.Start({"--bind", ip, "--protected-mode", "no"})) << open.log();
  RespClient remote;
  ASSERT_TRUE(remote.Connect(ip, open.port()).ok());
  EXPECT_THAT(*remote.Command({"PING"}), IsSimple("PONG"));
}

TEST(NetworkLimitsTest, IdleClientsTimeOut) {
  TestServer server;
  ASSERT_TRUE(server.Start({"--timeout", "1", "--hz", "50"})) << server.log();
  RespClient idle, busy;
  ASSERT_TRUE(idle.Connect("127.0.0.1", server.port()).ok());
  ASSERT_TRUE(busy.Connect("127.0.0.1", server.port()).ok());
  ASSERT_TRUE(idle.Command({"PING"}).ok());
  for (int i = 0; i < 15; ++i) {
    ASSERT_TRUE(busy.Command({"PING"}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  EXPECT_FALSE(idle.Command({"PING"}).ok());  // closed after > 1 s idle
  EXPECT_TRUE(busy.Command({"PING"}).ok());
}

TEST(ConfigFileTest, LoadedAtStartupAndRewritten) {
  std::string path = "/tmp/ragkv-serve-test-" + std::to_string(getpid()) + ".conf";
  {
    std::ofstream f(path);
    f << "maxmemory 5mb\nmaxmemory-policy allkeys-lru\nrequirepass pw\n";
  }
  TestServer server;
  ASSERT_TRUE(server.Start({"--maxclients", "77"}, 10000, path)) << server.log();
  RespClient c;
  ASSERT_TRUE(c.Connect("127.0.0.1", server.port()).ok());
  EXPECT_THAT(*c.Command({"AUTH", "pw"}), IsOk());
  EXPECT_THAT(*c.Command({"CONFIG", "GET", "maxmemory"}),
              IsStrings(std::vector<std::string>{"maxmemory", "5242880"}));
  EXPECT_THAT(*c.Command({"CONFIG", "GET", "maxclients"}),
              IsStrings(std::vector<std::string>{"maxclients", "77"}));
  EXPECT_THAT(*c.Command({"CONFIG", "SET", "maxmemory", "6mb"}), IsOk());
  EXPECT_THAT(*c.Command({"CONFIG", "REWRITE"}), IsOk());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), HasSubstr("maxmemory \"6291456\""));
  unlink(path.c_str());
}

TEST(ConfigFileTest, PidfileAndLogfile) {
  std::string base = "/tmp/ragkv-serve-test-" + std::to_string(getpid());
  TestServer server;
  ASSERT_TRUE(server.Start({"--pidfile", base + ".pid", "--logfile", base + ".log"})) << server.log();
  std::ifstream pid_in(base + ".pid");
  int pid = 0;
  pid_in >> pid;
  EXPECT_EQ(pid, server.pid());
  int status = server.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  std::ifstream log_in(base + ".log");
  std::stringstream log_text;
  log_text << log_in.rdbuf();
  EXPECT_THAT(log_text.str(), HasSubstr("Ready to accept connections"));
  EXPECT_NE(access((base + ".pid").c_str(), F_OK), 0);  // removed on exit
  unlink((base + ".log").c_str());
}

TEST(ShutdownTest, SigtermIsGraceful) {
  TestServer server;
  ASSERT_TRUE(server.Start()) << server.log();
  RespClient c;
  ASSERT_TRUE(c.Connect("127.0.0.1", server.port()).ok());
  ASSERT_TRUE(c.Command({"SET", "k", "v"}).ok());
  int status = server.Stop();
  ASSERT_TRUE(WIFEXITED(status)) << server.log();
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_THAT(server.log(), HasSubstr("Received SIGTERM scheduling shutdown"));
  EXPECT_THAT(server.log(), HasSubstr("bye bye"));
}

TEST(ShutdownTest, ShutdownCommand) {
  TestServer server;
  ASSERT_TRUE(server.Start()) << server.log();
  RespClient c;
  ASSERT_TRUE(c.Connect("127.0.0.1", server.port()).ok());
  ASSERT_TRUE(c.Send({"SHUTDOWN", "NOSAVE"}).ok());
  EXPECT_FALSE(c.ReadReply().ok());  // closed without a reply, like Redis
  int status = server.WaitExit(5000);
  ASSERT_TRUE(WIFEXITED(status)) << server.log();
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace ragkv::testing
