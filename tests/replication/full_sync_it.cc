// The leader's forked, diskless full sync seen from raw follower sockets:
// followers that arrive together share one child and receive the same
// payload, the stream written during the transfer follows the payload, and a
// follower that leaves, a child that dies or a BGSAVE in progress never
// disturb the leader or the next follower.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstring>
#include <fstream>
#include <random>
#include <regex>

#include "cluster.h"
#include "persistence/file_system.h"
#include "persistence/snapshot.h"
#include "util/resp_matchers.h"

namespace ragkv::testing {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A hand-driven follower connection: sends PSYNC and reads what the leader
// streams, byte for byte.
class RawFollower {
 public:
  ~RawFollower() { Close(); }

  bool Connect(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    return connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  }
  void Send(const std::vector<std::string_view>& argv) {
    std::string bytes = resp::EncodeCommand(argv);
    ASSERT_EQ(send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // One CRLF line, skipping the leader's "\n" keepalives; "" on timeout/EOF.
  std::string ReadLine(int timeout_ms = 10000) {
    int64_t deadline = NowMs() + timeout_ms;
    for (;;) {
      while (!in_.empty() && in_[0] == '\n') in_.erase(0, 1);
      size_t eol = in_.find("\r\n");
      if (eol != std::string::npos) {
        std::string line = in_.substr(0, eol);
        in_.erase(0, eol + 2);
        return line;
      }
      if (!Fill(deadline)) return "";
    }
  }
  // Reads until `mark`; returns what preceded it (false on timeout/EOF).
  bool ReadUntil(const std::string& mark, std::string* before, int timeout_ms = 20000) {
    int64_t deadline = NowMs() + timeout_ms;
    for (;;) {
      size_t at = in_.find(mark);
      if (at != std::string::npos) {
        *before = in_.substr(0, at);
        in_.erase(0, at + mark.size());
        return true;
      }
      if (!Fill(deadline)) return false;
    }
  }
  // Reads at least `n` bytes.
  bool ReadAtLeast(size_t n, int timeout_ms = 10000) {
    int64_t deadline = NowMs() + timeout_ms;
    while (in_.size() < n) {
      if (!Fill(deadline)) return false;
    }
    return true;
  }
  // Drains the socket until the leader closes it; false on timeout.
  bool WaitClosed(int timeout_ms) {
    int64_t deadline = NowMs() + timeout_ms;
    while (NowMs() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 100) != 1) continue;
      char buf[64 * 1024];
      ssize_t n = read(fd_, buf, sizeof(buf));
      if (n <= 0) return true;
    }
    return false;
  }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  std::string& buffered() { return in_; }

 private:
  bool Fill(int64_t deadline) {
    int64_t left = deadline - NowMs();
    if (left <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) != 1) return false;
    char buf[64 * 1024];
    ssize_t n = read(fd_, buf, sizeof(buf));
    if (n <= 0) return false;
    in_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string in_;
};

// `n` string keys of `size` bytes, pipelined.
void Fill(Node& node, int n, size_t size) {
  std::string value(size, 'v');
  resp::RespClient& c = node.client();
  for (int done = 0; done < n;) {
    int batch = std::min(1000, n - done);
    for (int i = 0; i < batch; ++i) {
      std::string key = "key:" + std::to_string(done + i);
      ASSERT_TRUE(c.Send({"SET", key, value}).ok());
    }
    for (int i = 0; i < batch; ++i) ASSERT_TRUE(c.ReadReply().ok());
    done += batch;
  }
}

// Entries in a payload received from the leader (-1 if it does not verify).
int64_t PayloadEntries(const std::string& dir, const std::string& payload) {
  std::string path = dir + "/received.rks";
  std::ofstream(path, std::ios::binary) << payload;
  class Count : public persistence::SnapshotVisitor {
   public:
    Status OnEntry(persistence::SnapshotEntry&) override {
      ++n;
      return Status::Ok();
    }
    int64_t n = 0;
  } count;
  Status s = persistence::ReadSnapshot(*persistence::DefaultFileSystem(), path, count);
  return s.ok() ? count.n : -1;
}

// The pid in the leader's "Starting BGSAVE for SYNC ... pid N" line (0 if none yet).
pid_t SyncChildPid(Node& leader) {
  static const std::regex kPid("Starting BGSAVE for SYNC[^\\n]*pid ([0-9]+)");
  std::smatch m;
  std::string log = leader.server().log();
  return std::regex_search(log, m, kPid) ? static_cast<pid_t>(std::stoi(m[1].str())) : 0;
}

TEST(FullSyncTest, FollowersArrivingTogetherShareOneForkAndGetTheStreamAfterIt) {
  Node leader;
  ASSERT_TRUE(leader.Start({"--repl-diskless-sync-delay", "1"})) << leader.server().log();
  Fill(leader, 1000, 100);
  RawFollower a, b;
  ASSERT_TRUE(a.Connect(leader.port()));
  ASSERT_TRUE(b.Connect(leader.port()));
  a.Send({"PSYNC", "?", "-1"});
  b.Send({"PSYNC", "?", "-1"});
  // Written while both wait for the fork: part of the snapshot.
  EXPECT_THAT(leader({"SET", "before", "1"}), IsOk());
  std::string line_a = a.ReadLine(), line_b = b.ReadLine();
  ASSERT_THAT(line_a, ::testing::StartsWith("+FULLRESYNC ")) << leader.server().log();
  EXPECT_EQ(line_a, line_b);
  std::string eof_a = a.ReadLine(), eof_b = b.ReadLine();
  ASSERT_THAT(eof_a, ::testing::StartsWith("$EOF:"));
  ASSERT_EQ(eof_a.size(), 5u + 40u);
  EXPECT_EQ(eof_a, eof_b);  // one child wrote both
  std::string payload_a, payload_b;
  ASSERT_TRUE(a.ReadUntil(eof_a.substr(5), &payload_a));
  ASSERT_TRUE(b.ReadUntil(eof_b.substr(5), &payload_b));
  EXPECT_EQ(payload_a, payload_b);
  EXPECT_EQ(PayloadEntries(leader.dir(), payload_a), 1001);
  EXPECT_THAT(leader.server().log(), ::testing::HasSubstr("(2 replicas"));
  // A write after the fork reaches both behind the payload.
  EXPECT_THAT(leader({"SET", "after", "2"}), IsOk());
  std::string stream;
  ASSERT_TRUE(a.ReadUntil("after", &stream));
  ASSERT_TRUE(b.ReadUntil("after", &stream));
  EXPECT_EQ(leader.Info("sync_full"), "2");
  EXPECT_THAT(leader({"INFO", "replication"}).str, ::testing::HasSubstr("state=online"));
}

TEST(FullSyncTest, FollowerLeavingMidTransferLeavesTheLeaderServing) {
  Node leader, f;
  ASSERT_TRUE(leader.Start()) << leader.server().log();
  Fill(leader, 20000, 1024);  // ~20 MB: more than the socket buffers hold
  {
    RawFollower quitter;
    ASSERT_TRUE(quitter.Connect(leader.port()));
    quitter.Send({"PSYNC", "?", "-1"});
    ASSERT_THAT(quitter.ReadLine(), ::testing::StartsWith("+FULLRESYNC "));
    ASSERT_TRUE(quitter.ReadAtLeast(4096));
  }  // closed with the payload half read
  EXPECT_TRUE(WaitFor(
      [&] {
        return leader.server().log().find("Diskless full sync failed") != std::string::npos;
      },
      10000))
      << leader.server().log();
  EXPECT_TRUE(WaitFor([&] { return leader.Info("connected_slaves") == "0"; }, 5000));
  EXPECT_THAT(leader({"PING"}), ::testing::Field(&resp::RespValue::str, "PONG"));
  // The next follower syncs as usual.
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg()})) << f.server().log();
  EXPECT_THAT(leader({"WAIT", "1", "20000"}), IsInt(1));
  EXPECT_EQ(f.Digest(), leader.Digest());
}

TEST(FullSyncTest, KilledSyncChildDisconnectsItsFollowersWhichThenResync) {
  Node leader, f;
  ASSERT_TRUE(leader.Start()) << leader.server().log();
  Fill(leader, 20000, 1024);
  RawFollower stuck;
  ASSERT_TRUE(stuck.Connect(leader.port()));
  stuck.Send({"PSYNC", "?", "-1"});  // and never reads: the child blocks on it
  pid_t child = 0;
  ASSERT_TRUE(WaitFor([&] { return (child = SyncChildPid(leader)) > 0; }, 10000))
      << leader.server().log();
  EXPECT_THAT(leader({"INFO", "replication"}).str, ::testing::HasSubstr("state=send_bulk"));
  // The leader keeps serving while the child is stuck.
  EXPECT_THAT(leader({"SET", "during", "1"}), IsOk());
  ASSERT_EQ(kill(child, SIGKILL), 0);
  EXPECT_TRUE(stuck.WaitClosed(10000)) << leader.server().log();
  EXPECT_TRUE(WaitFor([&] { return leader.Info("connected_slaves") == "0"; }, 5000));
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg()})) << f.server().log();
  EXPECT_THAT(leader({"WAIT", "1", "20000"}), IsInt(1));
  EXPECT_EQ(f.Digest(), leader.Digest());
  EXPECT_EQ(leader.Info("sync_full"), "2");
}

TEST(FullSyncTest, SyncWaitsForARunningBgsave) {
  Node leader;
  ASSERT_TRUE(leader.Start()) << leader.server().log();
  Fill(leader, 20000, 1024);
  RawFollower r;
  ASSERT_TRUE(r.Connect(leader.port()));
  EXPECT_THAT(leader({"BGSAVE"}).str, ::testing::HasSubstr("started"));
  r.Send({"PSYNC", "?", "-1"});
  ASSERT_THAT(r.ReadLine(), ::testing::StartsWith("+FULLRESYNC ")) << leader.server().log();
  std::string eof = r.ReadLine();
  std::string payload;
  ASSERT_TRUE(r.ReadUntil(eof.substr(5), &payload));
  EXPECT_EQ(PayloadEntries(leader.dir(), payload), 20000);
  std::string log = leader.server().log();
  size_t saved = log.find("Background saving terminated with success");
  size_t forked = log.find("Starting BGSAVE for SYNC");
  ASSERT_NE(saved, std::string::npos) << log;
  ASSERT_NE(forked, std::string::npos) << log;
  EXPECT_LT(saved, forked) << log;
}

}  // namespace
}  // namespace ragkv::testing

namespace ragkv::testing {
namespace {

// SYNC (the pre-PSYNC protocol that redis-cli --replica speaks) gets the
// payload without a +FULLRESYNC line, then the stream.
TEST(FullSyncTest, SyncGetsThePayloadWithoutFullresyncLine) {
  Node leader;
  ASSERT_TRUE(leader.Start()) << leader.server().log();
  Fill(leader, 100, 10);
  RawFollower r;
  ASSERT_TRUE(r.Connect(leader.port()));
  r.Send({"SYNC"});
  std::string eof = r.ReadLine();
  ASSERT_THAT(eof, ::testing::StartsWith("$EOF:")) << leader.server().log();
  std::string payload;
  ASSERT_TRUE(r.ReadUntil(eof.substr(5), &payload));
  EXPECT_EQ(PayloadEntries(leader.dir(), payload), 100);
  EXPECT_THAT(leader({"SET", "after", "1"}), IsOk());
  std::string stream;
  EXPECT_TRUE(r.ReadUntil("after", &stream));
}

}  // namespace
}  // namespace ragkv::testing

namespace ragkv::testing {
namespace {

// Full sync carries the leader's saved VECTOR indexes: a follower that joins
// adopts the HNSW graph (no rebuild) and answers KNN byte for byte like the
// leader, even at the default EF_RUNTIME where the answer depends on the
// graph; with vector-index-snapshot no it rebuilds, and an exhaustive search
// (EF_RUNTIME above the document count) still answers identically.
class FullSyncVectorTest : public ::testing::TestWithParam<bool> {};

TEST_P(FullSyncVectorTest, FollowerAdoptsOrRebuildsTheLeadersVectorIndex) {
  const bool snapshot_vectors = GetParam();
  constexpr int kDim = 16;
  constexpr int kDocs = 1500;
  std::mt19937_64 rng(11);
  Node leader, follower;
  ASSERT_TRUE(leader.Start());
  ASSERT_THAT(leader({"CONFIG", "SET", "vector-index-snapshot", snapshot_vectors ? "yes" : "no"}),
              IsOk());
  ASSERT_THAT(leader(CreateVectorIndexCommand(kDim)), IsOk());
  for (int i = 0; i < kDocs; ++i) {
    ASSERT_THAT(leader({"HSET", "doc:" + std::to_string(i), "vec", FloatBlob(rng, kDim), "tag",
                        i % 3 == 0 ? "a" : "b"}),
                IsInt(2));
  }
  ASSERT_THAT(leader({"DEL", "doc:7", "doc:8"}), IsInt(2));
  ASSERT_TRUE(follower.Start({"--replicaof", leader.ReplicaOfArg()}));
  ASSERT_THAT(leader({"WAIT", "1", "20000"}), IsInt(1));
  EXPECT_EQ(leader.Info("sync_full"), "1");
  EXPECT_EQ(follower.Info("search_saved_vector_fields_adopted"), snapshot_vectors ? "1" : "0");
  EXPECT_EQ(follower.Info("search_saved_vector_fields_rejected"), "0");
  // The leader's sync child reported its copy-on-write size.
  EXPECT_THAT(leader.Info("rdb_last_cow_size"), ::testing::MatchesRegex("[0-9]+"));

  for (int q = 0; q < 12; ++q) {
    // Exhaustive queries for the rebuilt graph; graph-dependent ones too for
    // the adopted one.
    const bool exhaustive = !snapshot_vectors || q % 2 == 0;
    std::vector<std::string> query = {"FT.SEARCH",
                                      "idx",
                                      std::string(q % 3 == 0 ? "@tag:{a}" : "*") +
                                          "=>[KNN 10 @vec $B" +
                                          (exhaustive ? " EF_RUNTIME 2000" : "") + "]",
                                      "PARAMS",
                                      "2",
                                      "B",
                                      FloatBlob(rng, kDim),
                                      "RETURN",
                                      "1",
                                      "__vec_score",
                                      "DIALECT",
                                      "2"};
    auto expected = leader(query);
    ASSERT_EQ(expected.type, resp::RespType::kArray) << expected.DebugString();
    ASSERT_EQ(expected.elements[0].integer, 10) << expected.DebugString();
    EXPECT_EQ(follower(query).DebugString(), expected.DebugString()) << "query " << q;
  }
}

INSTANTIATE_TEST_SUITE_P(VectorIndexSnapshot, FullSyncVectorTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Saved" : "Rebuilt"; });

}  // namespace
}  // namespace ragkv::testing
