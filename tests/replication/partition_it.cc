// Network partition with Linux network namespaces (Jepsen-style, on one
// machine): the leader runs in its own namespace joined to the host by a veth
// pair (10.200.K.1 <-> 10.200.K.2); the followers run in the host namespace.
// Taking the veth down isolates the leader from its followers while a writer
// thread that entered the leader's namespace keeps talking to it over that
// namespace's loopback.
//
// Checks: the isolated leader stops accepting writes within
// min-replicas-max-lag (+ cron slack) — min-replicas-to-write bounds the
// split-brain window; a follower is promoted; no write acknowledged by
// SET + WAIT 1 is lost; after healing, the old leader is re-pointed and all
// three nodes converge (writes it accepted alone are discarded: last failover
// wins).
//
// Needs root and iproute2; otherwise skipped with the reason printed.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "cluster.h"
#include "util/resp_matchers.h"

namespace ragkv::testing {
namespace {

class NetnsPair {
 public:
  // Creates namespace `name` with a veth pair; false (and `why`) on failure.
  bool Create(std::string* why) {
    int k = 20 + getpid() % 200;
    name_ = "rkv" + std::to_string(getpid() % 100000);
    host_if_ = name_ + "h";
    ns_if_ = name_ + "n";
    ns_ip_ = "10.200." + std::to_string(k) + ".1";
    host_ip_ = "10.200." + std::to_string(k) + ".2";
    if (geteuid() != 0) {
      *why = "not root: cannot create network namespaces";
      return false;
    }
    std::string script =
        "set -e; ip netns add " + name_ + "; ip link add " + host_if_ + " type veth peer name " +
        ns_if_ + "; ip link set " + ns_if_ + " netns " + name_ + "; ip addr add " + host_ip_ +
        "/24 dev " + host_if_ + "; ip link set " + host_if_ + " up; ip netns exec " + name_ +
        " ip addr add " + ns_ip_ + "/24 dev " + ns_if_ + "; ip netns exec " + name_ +
        " ip link set " + ns_if_ + " up; ip netns exec " + name_ + " ip link set lo up 2>&1";
    CommandResult r = RunShell("(" + script + ") 2>&1");
    created_ = true;
    if (r.status != 0) {
      *why = "ip netns/veth setup failed: " + r.output;
      return false;
    }
    return true;
  }
  ~NetnsPair() {
    if (created_)
      RunShell("ip netns del " + name_ + " 2>/dev/null; ip link del " + host_if_ + " 2>/dev/null");
  }
  bool SetLink(bool up) {
    return RunShell("ip link set " + host_if_ + (up ? " up" : " down")).status == 0;
  }
  // Moves the calling thread into the namespace.
  bool Enter() {
    int fd = open(("/var/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = setns(fd, CLONE_NEWNET) == 0;
    close(fd);
    return ok;
  }
  const std::string& name() const { return name_; }
  const std::string& ns_ip() const { return ns_ip_; }
  const std::string& host_ip() const { return host_ip_; }

 private:
  bool created_ = false;
  std::string name_, host_if_, ns_if_, ns_ip_, host_ip_;
};

TEST(PartitionTest, IsolatedLeaderLosesNoAcknowledgedWriteAndConverges) {
  NetnsPair net;
  std::string why;
  if (!net.Create(&why)) {
    std::printf("PartitionTest skipped: %s\n", why.c_str());
    GTEST_SKIP() << why;
  }
  const std::vector<std::string> fast = {
      "--repl-timeout", "3", "--protected-mode", "no", "--repl-ping-replica-period", "1"};
  char tmpl[] = "/tmp/ragkv-part-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  std::string leader_dir = tmpl;
  const int leader_port = 7400 + getpid() % 500;
  const std::string leader_addr = net.ns_ip() + " " + std::to_string(leader_port);
  std::vector<std::string> argv = {"ip",
                                   "netns",
                                   "exec",
                                   net.name(),
                                   TestServer::BinaryPath(),
                                   "serve",
                                   "--port",
                                   std::to_string(leader_port),
                                   "--bind",
                                   "127.0.0.1 " + net.ns_ip(),
                                   "--dir",
                                   leader_dir,
                                   "--min-replicas-to-write",
                                   "1",
                                   "--min-replicas-max-lag",
                                   "2"};
  argv.insert(argv.end(), fast.begin(), fast.end());
  auto leader = std::make_unique<Process>();
  ASSERT_TRUE(leader->Start(argv, leader_dir + "/log"));
  resp::RespClient lc;  // from the host, over the veth
  ASSERT_TRUE(WaitFor([&] { return lc.Connect(net.ns_ip(), leader_port, 500).ok(); }, 10000));

  auto follower_args = [&] {
    std::vector<std::string> a = {"--replicaof", leader_addr, "--bind",
                                  "127.0.0.1 " + net.host_ip()};
    a.insert(a.end(), fast.begin(), fast.end());
    return a;
  };
  Node f1, f2;
  ASSERT_TRUE(f1.Start(follower_args())) << f1.server().log();
  ASSERT_TRUE(f2.Start(follower_args())) << f2.server().log();
  ASSERT_TRUE(WaitFor([&] { return Cmd(lc, {"SET", "probe", "1"}).str == "OK"; }, 10000));

  // Writer inside the leader's namespace.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> refused{0};
  std::mutex mu;
  std::vector<int> acked;
  std::vector<int> accepted_unacked;
  std::thread writer([&] {
    ASSERT_TRUE(net.Enter());
    resp::RespClient c;
    ASSERT_TRUE(c.Connect("127.0.0.1", leader_port, 2000).ok());
    for (int i = 0; !stop.load(); ++i) {
      auto r = Cmd(c, {"SET", "p:" + std::to_string(i), std::to_string(i)});
      if (r.is_error()) {
        ++refused;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        continue;
      }
      auto w = Cmd(c, {"WAIT", "1", "200"});
      std::lock_guard<std::mutex> lock(mu);
      (w.integer >= 1 ? acked : accepted_unacked).push_back(i);
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ASSERT_TRUE(net.SetLink(false));
  auto cut_at = std::chrono::steady_clock::now();
  // min-replicas-to-write: the isolated leader refuses writes after the lag.
  ASSERT_TRUE(WaitFor([&] { return refused.load() > 0; }, 6000));
  auto refused_after = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - cut_at)
                           .count();
  EXPECT_LE(refused_after, 4000);
  // Failover on the majority side (what Sentinel would do).
  EXPECT_THAT(f1({"REPLICAOF", "NO", "ONE"}), IsOk());
  EXPECT_THAT(f2({"REPLICAOF", "127.0.0.1", std::to_string(f1.port())}), IsOk());
  EXPECT_THAT(f1({"SET", "after-failover", "1"}), IsOk());
  stop.store(true);
  writer.join();
  std::printf(
      "partition: %zu writes acknowledged, %zu accepted without ack, %lld refused; "
      "isolated leader refused writes %lld ms after the cut\n",
      acked.size(), accepted_unacked.size(), static_cast<long long>(refused.load()),
      static_cast<long long>(refused_after));
  ASSERT_GT(acked.size(), 10u);
  for (int i : acked) {
    ASSERT_THAT(f1({"GET", "p:" + std::to_string(i)}), IsBulk(std::to_string(i))) << i;
  }
  // Heal; the old leader is re-pointed (over the veth, to f1's host address).
  ASSERT_TRUE(net.SetLink(true));
  resp::RespClient lc2;
  ASSERT_TRUE(WaitFor([&] { return lc2.Connect(net.ns_ip(), leader_port, 500).ok(); }, 5000));
  EXPECT_EQ(Cmd(lc2, {"REPLICAOF", net.host_ip(), std::to_string(f1.port())}).str, "OK");
  EXPECT_THAT(f1({"WAIT", "2", "15000"}), IsInt(2));
  std::string digest = f1.Digest();
  EXPECT_EQ(f2.Digest(), digest);
  EXPECT_TRUE(WaitFor([&] { return Cmd(lc2, {"DEBUG", "DIGEST"}).str == digest; }, 10000));
  leader.reset();
  RunShell("rm -rf '" + leader_dir + "'");
}

}  // namespace
}  // namespace ragkv::testing
