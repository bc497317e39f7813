// Automatic failover by Debian's unmodified redis-sentinel 7.0: three
// sentinels watch a leader and two followers; the leader is SIGKILLed under
// write load. Checks: a follower is promoted within 10 s, every write that
// WAIT reported as received by both followers is on the new leader, and the
// old leader, restarted empty on its old port, is turned into a follower and
// converges.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "cluster.h"
#include "util/resp_matchers.h"

namespace ragkv::testing {
namespace {

int SentinelMasterPort(int sentinel_port) {
  resp::RespClient c;
  if (!c.Connect("127.0.0.1", sentinel_port, 1000).ok()) return -1;
  auto v = Cmd(c, {"SENTINEL", "get-master-addr-by-name", "mymaster"});
  if (v.elements.size() != 2) return -1;
  return std::atoi(v.elements[1].str.c_str());
}

int64_t SentinelCount(int sentinel_port, const std::string& what) {
  resp::RespClient c;
  if (!c.Connect("127.0.0.1", sentinel_port, 1000).ok()) return -1;
  auto v = Cmd(c, {"SENTINEL", what, "mymaster"});
  return v.type == resp::RespType::kArray ? static_cast<int64_t>(v.elements.size()) : -1;
}

// Parameter: false = acknowledged means WAIT 2 (received by both followers);
// true = every node runs appendfsync always and acknowledged means WAITAOF
// 0 2 (fsynced by both followers).
class SentinelTest : public ::testing::TestWithParam<bool> {};

TEST_P(SentinelTest, KillNineLeaderFailsOverWithoutLosingAcknowledgedWrites) {
  if (RunShell("command -v redis-sentinel").status != 0) {
    GTEST_SKIP() << "redis-sentinel is not installed";
  }
  const bool aof = GetParam();
  std::vector<std::string> persist;
  if (aof) persist = {"--appendonly", "yes", "--appendfsync", "always"};
  auto with = [&](std::vector<std::string> args) {
    args.insert(args.end(), persist.begin(), persist.end());
    return args;
  };
  Node leader, f1, f2;
  ASSERT_TRUE(leader.Start(with({})));
  ASSERT_TRUE(f1.Start(with({"--replicaof", leader.ReplicaOfArg()})));
  ASSERT_TRUE(f2.Start(with({"--replicaof", leader.ReplicaOfArg()})));
  ASSERT_TRUE(WaitFor([&] { return leader.Info("connected_slaves") == "2"; }, 5000));

  std::vector<int> sentinel_ports;
  std::vector<std::unique_ptr<Process>> sentinels;
  for (int i = 0; i < 3; ++i) {
    int port = FreePort();
    std::string conf = leader.dir() + "/sentinel-" + std::to_string(i) + ".conf";
    std::ofstream(conf) << "port " << port << "\nbind 127.0.0.1\ndaemonize no\n"
                        << "dir " << leader.dir() << "\n"
                        << "sentinel monitor mymaster 127.0.0.1 " << leader.port() << " 2\n"
                        << "sentinel down-after-milliseconds mymaster 1000\n"
                        << "sentinel failover-timeout mymaster 6000\n"
                        << "sentinel parallel-syncs mymaster 2\n";
    auto p = std::make_unique<Process>();
    ASSERT_TRUE(p->Start({"redis-sentinel", conf}, conf + ".log"));
    sentinels.push_back(std::move(p));
    sentinel_ports.push_back(port);
  }
  // Discovery: every sentinel sees both followers and the two other sentinels.
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int p : sentinel_ports) {
          if (SentinelCount(p, "replicas") != 2 || SentinelCount(p, "sentinels") != 2) return false;
        }
        return true;
      },
      30000))
      << RunShell("cat " + leader.dir() + "/sentinel-0.conf.log").output;

  // Writer: SET, then WAIT 2; keys acknowledged by both followers are
  // recorded as "must survive".
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<int> acked;
  std::thread writer([&] {
    resp::RespClient c;
    if (!c.Connect("127.0.0.1", leader.port(), 2000).ok()) return;
    std::vector<int> batch;
    for (int i = 0; !stop.load(); ++i) {
      auto r = Cmd(c, {"SET", "w:" + std::to_string(i), std::to_string(i)});
      if (r.is_error()) return;
      batch.push_back(i);
      if (batch.size() == 20) {
        auto w = aof ? Cmd(c, {"WAITAOF", "0", "2", "1000"}) : Cmd(c, {"WAIT", "2", "1000"});
        if (w.is_error()) return;
        int64_t replicas = aof ? (w.elements.size() == 2 ? w.elements[1].integer : 0) : w.integer;
        if (replicas == 2) {
          std::lock_guard<std::mutex> lock(mu);
          acked.insert(acked.end(), batch.begin(), batch.end());
        }
        batch.clear();
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const int old_port = leader.port();
  leader.Kill9();
  auto killed_at = std::chrono::steady_clock::now();
  stop.store(true);
  writer.join();
  ASSERT_GT(acked.size(), 100u);

  int new_port = -1;
  ASSERT_TRUE(WaitFor(
      [&] {
        new_port = SentinelMasterPort(sentinel_ports[0]);
        return new_port > 0 && new_port != old_port;
      },
      10000))
      << "no promotion within 10 s";
  auto promoted_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - killed_at)
                         .count();
  std::printf("failover: promoted 127.0.0.1:%d %lld ms after kill -9; %zu acknowledged writes\n",
              new_port, static_cast<long long>(promoted_ms), acked.size());
  Node& promoted = new_port == f1.port() ? f1 : f2;
  Node& other = new_port == f1.port() ? f2 : f1;
  ASSERT_EQ(promoted.port(), new_port);
  ASSERT_TRUE(WaitFor([&] { return promoted.Info("role") == "master"; }, 5000));
  for (int i : acked) {
    ASSERT_THAT(promoted({"GET", "w:" + std::to_string(i)}), IsBulk(std::to_string(i))) << i;
  }
  // The other follower is re-pointed, and continues partially.
  ASSERT_TRUE(WaitFor(
      [&] {
        return other.Info("master_port") == std::to_string(new_port) &&
               other.Info("master_link_status") == "up";
      },
      15000))
      << other.server().log();
  // It shared the promoted node's history (replid2), so it continued.
  EXPECT_EQ(promoted.Info("sync_partial_ok"), "1");

  // The old leader comes back empty on its old port; sentinel turns it into a
  // follower, and it converges.
  ASSERT_TRUE(leader.Start(with({}))) << leader.server().log();
  // Sentinel may still run a second failover here (a sentinel that did not
  // vote in the first epoch sees the dead leader as ODOWN and wins the next
  // one before the new configuration reaches it), so the check is against
  // the topology the sentinels settle on: all three name the same leader,
  // which reports both others as replicas, and both report an up link to it.
  std::vector<Node*> nodes = {&leader, &f1, &f2};
  Node* settled = nullptr;
  auto topology = [&] {
    std::string out;
    for (int p : sentinel_ports) out += " sentinel->" + std::to_string(SentinelMasterPort(p));
    for (Node* n : nodes) {
      out += "\n" + std::to_string(n->port()) + ": role=" + n->Info("role") +
             " master_port=" + n->Info("master_port") + " link=" + n->Info("master_link_status") +
             " connected_slaves=" + n->Info("connected_slaves");
    }
    return out;
  };
  ASSERT_TRUE(WaitFor(
      [&] {
        int port = SentinelMasterPort(sentinel_ports[0]);
        for (int p : sentinel_ports) {
          if (SentinelMasterPort(p) != port) return false;
        }
        settled = nullptr;
        for (Node* n : nodes) {
          if (n->port() == port) settled = n;
        }
        if (settled == nullptr || settled->Info("role") != "master" ||
            settled->Info("connected_slaves") != "2") {
          return false;
        }
        for (Node* n : nodes) {
          if (n == settled) continue;
          if (n->Info("role") != "slave" || n->Info("master_port") != std::to_string(port) ||
              n->Info("master_link_status") != "up") {
            return false;
          }
        }
        return true;
      },
      30000))
      << topology() << "\n--- old leader:\n"
      << leader.server().log();
  if (settled != &promoted) {
    std::printf("sentinel settled on 127.0.0.1:%d after a second failover:\n%s\n", settled->port(),
                RunShell("grep -H -E 'elected-leader|selected-slave|vote-for-leader|new-epoch' " +
                         leader.dir() + "/sentinel-*.conf.log")
                    .output.c_str());
  }
  // Acknowledged writes survive whatever failovers followed.
  for (int i : acked) {
    ASSERT_THAT((*settled)({"GET", "w:" + std::to_string(i)}), IsBulk(std::to_string(i))) << i;
  }
  EXPECT_THAT((*settled)({"SET", "after", "1"}), IsOk());
  EXPECT_THAT((*settled)({"WAIT", "2", "5000"}), IsInt(2))
      << topology() << "\n--- promoted:\n"
      << promoted.server().log() << "\n--- old leader:\n"
      << leader.server().log() << "\n--- other:\n"
      << other.server().log() << "\n--- sentinels:\n"
      << RunShell("tail -n 40 " + leader.dir() + "/sentinel-*.conf.log").output;
  for (Node* n : nodes) EXPECT_EQ(n->Digest(), settled->Digest()) << n->port();
}

// What Sentinel sends during a failover, as it sends it: a MULTI with
// SLAVEOF, CONFIG REWRITE and CLIENT KILLs must not abort; the rewritten
// config file must carry the new replicaof; CLIENT KILL TYPE must spare
// replicas and pub/sub links of other types.
TEST(SentinelNeedsTest, FailoverTransactionRewritesConfigAndKillsByType) {
  Node leader, f;
  ASSERT_TRUE(leader.Start());
  std::string conf = f.MakeDir() + "/ragkv.conf";
  std::ofstream(conf) << "replicaof 127.0.0.1 " << leader.port() << "\n";
  ASSERT_TRUE(f.Start({}, conf)) << f.server().log();
  ASSERT_TRUE(WaitFor([&] { return f.Info("master_link_status") == "up"; }, 5000));

  resp::RespClient sub;
  ASSERT_TRUE(sub.Connect("127.0.0.1", leader.port()).ok());
  auto ack = Cmd(sub, {"SUBSCRIBE", "__sentinel__:hello"});
  ASSERT_EQ(ack.elements.size(), 3u);
  EXPECT_EQ(ack.elements[0].str, "subscribe");
  EXPECT_EQ(ack.elements[2].integer, 1);
  EXPECT_THAT(leader({"PUBLISH", "__sentinel__:hello", "hi"}), IsInt(1));
  auto msg = sub.ReadReply();
  ASSERT_TRUE(msg.ok());
  ASSERT_EQ(msg->elements.size(), 3u);
  EXPECT_EQ(msg->elements[0].str, "message");
  EXPECT_EQ(msg->elements[1].str, "__sentinel__:hello");
  EXPECT_EQ(msg->elements[2].str, "hi");
  EXPECT_THAT(Cmd(sub, {"GET", "x"}), ErrorStartsWith("ERR Can't execute 'get'"));

  // On the leader: TYPE normal spares the replica link and the subscriber.
  resp::RespClient other;
  ASSERT_TRUE(other.Connect("127.0.0.1", leader.port()).ok());
  EXPECT_THAT(leader({"CLIENT", "KILL", "TYPE", "normal"}), IsInt(1));
  EXPECT_THAT(leader({"CLIENT", "KILL", "TYPE", "pubsub"}), IsInt(1));
  EXPECT_EQ(leader.Info("connected_slaves"), "1");

  // Promotion the way Sentinel does it.
  EXPECT_THAT(f({"MULTI"}), IsOk());
  EXPECT_THAT(f({"SLAVEOF", "NO", "ONE"}), IsSimple("QUEUED"));
  f({"CONFIG", "REWRITE"});
  EXPECT_THAT(f({"CLIENT", "KILL", "TYPE", "normal"}), IsSimple("QUEUED"));
  EXPECT_THAT(f({"CLIENT", "KILL", "TYPE", "pubsub"}), IsSimple("QUEUED"));
  auto exec = f({"EXEC"});
  EXPECT_EQ(exec.type, resp::RespType::kArray) << exec.DebugString();
  EXPECT_EQ(f.Info("role"), "master");
  // Re-pointing, then CONFIG REWRITE records it.
  EXPECT_THAT(f({"SLAVEOF", "127.0.0.1", std::to_string(leader.port())}), IsOk());
  EXPECT_THAT(f({"CONFIG", "REWRITE"}), IsOk());
  std::ifstream in(conf);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_THAT(text.str(), ::testing::HasSubstr("replicaof \"127.0.0.1 " +
                                               std::to_string(leader.port()) + "\""));
  EXPECT_THAT(f({"ROLE"}).elements[0], IsBulk("slave"));
  // RESET leaves subscribed mode.
  resp::RespClient sub2;
  ASSERT_TRUE(sub2.Connect("127.0.0.1", leader.port()).ok());
  EXPECT_EQ(Cmd(sub2, {"PSUBSCRIBE", "a*"}).elements.size(), 3u);
  EXPECT_THAT(leader({"PUBLISH", "ab", "m"}), IsInt(1));
  auto pmsg = sub2.ReadReply();
  ASSERT_TRUE(pmsg.ok());
  EXPECT_THAT(*pmsg, IsStrings(std::vector<std::string>{"pmessage", "a*", "ab", "m"}));
  EXPECT_THAT(Cmd(sub2, {"RESET"}), IsSimple("RESET"));
  EXPECT_THAT(Cmd(sub2, {"GET", "x"}), IsNull());
  EXPECT_THAT(leader({"PUBLISH", "ab", "m"}), IsInt(0));
}

INSTANTIATE_TEST_SUITE_P(AckedBy, SentinelTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("WaitAofAlways") : std::string("Wait");
                         });

}  // namespace
}  // namespace ragkv::testing
