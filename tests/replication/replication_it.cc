// Replication between real `ragkv serve` processes on loopback: convergence
// under 100k writes, partial resync, WAIT/WAITAOF, read-only followers, a
// fake leader feeding corrupt payloads and streams, the empty-restart rule.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "cluster.h"
#include "persistence/file_system.h"
#include "persistence/snapshot.h"
#include "protocol/request_parser.h"
#include "util/resp_matchers.h"

namespace ragkv::testing {
namespace {

using resp::RespClient;

// A pipelined mixed workload: strings, counters, deletes, keys with absolute
// TTLs and hashes holding 128-float vector blobs, across db 0 and db 1.
void WriteWorkload(RespClient& c, int total, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string blob(512, '\0');
  const int kBatch = 1000;
  int db = 0;
  for (int done = 0; done < total;) {
    int n = std::min(kBatch, total - done);
    int sent = 0;
    for (int j = 0; j < n; ++j, ++done) {
      int i = done;
      std::vector<std::string> cmd;
      if (i % 10 == 9) {
        db = 1 - db;
        cmd = {"SELECT", std::to_string(db)};
      } else if (i % 4 == 0) {
        for (char& ch : blob) ch = static_cast<char>(rng() & 0xff);
        cmd = {"HSET",  "doc:" + std::to_string(i % 20000),
               "vec",   blob,
               "title", "t" + std::to_string(i)};
      } else if (i % 4 == 1) {
        cmd = {"SET", "k:" + std::to_string(rng() % 30000), "v" + std::to_string(i)};
      } else if (i % 4 == 2) {
        cmd = {"INCR", "ctr:" + std::to_string(i % 100)};
      } else if (i % 3 == 0) {
        cmd = {"DEL", "k:" + std::to_string(rng() % 30000)};
      } else if (i % 3 == 2) {
        cmd = {"ZADD", "z:" + std::to_string(i % 500), std::to_string(rng() % 1000) + ".5",
               "m" + std::to_string(rng() % 100)};
      } else {
        cmd = {"SET", "tmp:" + std::to_string(i % 5000), "x", "PX", "60000"};
      }
      std::vector<std::string_view> views(cmd.begin(), cmd.end());
      ASSERT_TRUE(c.Send(views).ok());
      ++sent;
    }
    for (int j = 0; j < sent; ++j) {
      auto r = c.ReadReply();
      ASSERT_TRUE(r.ok());
      ASSERT_FALSE(r->is_error()) << r->str;
    }
  }
  Cmd(c, {"SELECT", "0"});
}

TEST(ReplicationTest, ThreeNodesConvergeAfter100kWrites) {
  Node leader, f1, f2;
  ASSERT_TRUE(leader.Start()) << leader.server().log();
  ASSERT_TRUE(f1.Start({"--replicaof", leader.ReplicaOfArg()})) << f1.server().log();
  WriteWorkload(leader.client(), 50000, 1);
  // The second follower joins under load: full sync, then the stream.
  ASSERT_TRUE(f2.Start({"--replicaof", leader.ReplicaOfArg()})) << f2.server().log();
  WriteWorkload(leader.client(), 50000, 2);
  EXPECT_THAT(leader({"WAIT", "2", "20000"}), IsInt(2));
  std::string digest = leader.Digest();
  ASSERT_EQ(digest.size(), 40u);
  ASSERT_NE(digest, std::string(40, '0'));
  for (Node* f : {&f1, &f2}) {
    EXPECT_EQ(f->Info("master_link_status"), "up");
    EXPECT_EQ(f->DbSize(0), leader.DbSize(0));
    EXPECT_EQ(f->DbSize(1), leader.DbSize(1));
    EXPECT_EQ(f->Digest(), digest);
    EXPECT_EQ(f->Info("slave_repl_offset"), leader.Info("master_repl_offset"));
  }
  EXPECT_EQ(leader.Info("connected_slaves"), "2");
  EXPECT_EQ(leader.Info("sync_full"), "2");
  // A follower serves reads of the vector hashes.
  auto blob = f1({"HGET", "doc:0", "vec"});
  EXPECT_EQ(blob.str, leader({"HGET", "doc:0", "vec"}).str);
  EXPECT_EQ(blob.str.size(), 512u);
}

// FT.* on followers: FT.CREATE travels in the stream to a follower that is
// already there, and in the full-sync payload to one that joins later; both
// answer HNSW KNN queries exactly as the leader does (EF_RUNTIME above the
// document count makes the search exhaustive, so the graph's build order
// cannot change the answer).
int64_t FtNumDocs(Node& node, const std::string& index) {
  auto info = node({"FT.INFO", index});
  for (size_t i = 0; i + 1 < info.elements.size(); i += 2) {
    if (info.elements[i].str == "num_docs") {
      const auto& v = info.elements[i + 1];
      return v.type == resp::RespType::kInteger ? v.integer : std::atoll(v.str.c_str());
    }
  }
  return -1;
}

TEST(ReplicationTest, FollowersAnswerFtSearchLikeTheLeader) {
  constexpr int kDim = 8;
  constexpr int kDocs = 400;
  std::mt19937_64 rng(7);
  Node leader, f1, f2;
  ASSERT_TRUE(leader.Start());
  ASSERT_TRUE(f1.Start({"--replicaof", leader.ReplicaOfArg()}));
  ASSERT_TRUE(WaitFor([&] { return f1.Info("master_link_status") == "up"; }, 5000));
  ASSERT_THAT(leader(CreateVectorIndexCommand(kDim)), IsOk());
  auto write_docs = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      ASSERT_THAT(leader({"HSET", "doc:" + std::to_string(i), "vec", FloatBlob(rng, kDim), "tag",
                          i % 2 == 0 ? "even" : "odd"}),
                  IsInt(2));
    }
  };
  write_docs(0, kDocs / 2);
  // Updates and deletes must reach the followers' indexes too.
  ASSERT_THAT(leader({"HSET", "doc:3", "vec", FloatBlob(rng, kDim)}), IsInt(0));
  ASSERT_THAT(leader({"DEL", "doc:5", "doc:6"}), IsInt(2));
  // The second follower joins now: the index definition comes with the
  // full-sync payload, then the stream.
  ASSERT_TRUE(f2.Start({"--replicaof", leader.ReplicaOfArg()}));
  write_docs(kDocs / 2, kDocs);
  ASSERT_THAT(leader({"DEL", "doc:250"}), IsInt(1));
  ASSERT_THAT(leader({"WAIT", "2", "10000"}), IsInt(2));
  EXPECT_EQ(leader.Info("sync_full"), "2");

  const int64_t num_docs = FtNumDocs(leader, "idx");
  EXPECT_EQ(num_docs, kDocs - 3);
  for (Node* f : {&f1, &f2}) EXPECT_EQ(FtNumDocs(*f, "idx"), num_docs);
  for (int q = 0; q < 10; ++q) {
    std::string blob = FloatBlob(rng, kDim);
    std::vector<std::string> query = {"FT.SEARCH",
                                      "idx",
                                      q % 2 == 0 ? "*=>[KNN 10 @vec $B EF_RUNTIME 1000]"
                                                 : "@tag:{odd}=>[KNN 5 @vec $B EF_RUNTIME 1000]",
                                      "PARAMS",
                                      "2",
                                      "B",
                                      blob,
                                      "RETURN",
                                      "1",
                                      "__vec_score",
                                      "DIALECT",
                                      "2"};
    auto expected = leader(query);
    ASSERT_EQ(expected.type, resp::RespType::kArray) << expected.DebugString();
    ASSERT_EQ(expected.elements[0].integer, q % 2 == 0 ? 10 : 5) << expected.DebugString();
    for (Node* f : {&f1, &f2}) {
      EXPECT_EQ(f->operator()(query).DebugString(), expected.DebugString()) << "query " << q;
    }
  }
  // Dropping the index is replicated as well.
  EXPECT_THAT(leader({"FT.DROPINDEX", "idx"}), IsOk());
  EXPECT_THAT(leader({"WAIT", "2", "5000"}), IsInt(2));
  for (Node* f : {&f1, &f2}) EXPECT_TRUE((*f)({"FT.INFO", "idx"}).is_error());
}

TEST(ReplicationTest, FollowersAreReadOnlyAndReportTheirRole) {
  Node leader, f;
  ASSERT_TRUE(leader.Start());
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg(), "--replica-announce-ip", "10.9.8.7"}));
  ASSERT_TRUE(WaitFor([&] { return f.Info("master_link_status") == "up"; }, 5000));
  EXPECT_THAT(f({"SET", "a", "1"}),
              IsError("READONLY You can't write against a read only replica."));
  auto role = f({"ROLE"});
  ASSERT_EQ(role.elements.size(), 5u);
  EXPECT_EQ(role.elements[0].str, "slave");
  EXPECT_EQ(role.elements[2].integer, leader.port());
  EXPECT_EQ(role.elements[3].str, "connected");
  auto lrole = leader({"ROLE"});
  ASSERT_EQ(lrole.elements.size(), 3u);
  EXPECT_EQ(lrole.elements[0].str, "master");
  ASSERT_EQ(lrole.elements[2].elements.size(), 1u);
  EXPECT_EQ(lrole.elements[2].elements[0].elements[0].str, "10.9.8.7");  // announced
  EXPECT_EQ(lrole.elements[2].elements[0].elements[1].str, std::to_string(f.port()));
  EXPECT_EQ(leader.Info("run_id").size(), 40u);
  EXPECT_EQ(f.Info("role"), "slave");
  EXPECT_EQ(f.Info("master_replid"), leader.Info("master_replid"));
  // Logically expired keys are hidden on the follower but removed only by
  // the leader's DEL.
  EXPECT_THAT(leader({"SET", "t", "v", "PX", "100"}), IsOk());
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_THAT(f({"GET", "t"}), IsNull());
  // Promotion: the follower becomes writable and keeps the old history.
  std::string old_id = leader.Info("master_replid");
  EXPECT_THAT(f({"REPLICAOF", "NO", "ONE"}), IsOk());
  EXPECT_EQ(f.Info("role"), "master");
  EXPECT_EQ(f.Info("master_replid2"), old_id);
  EXPECT_NE(f.Info("master_replid"), old_id);
  EXPECT_THAT(f({"SET", "a", "1"}), IsOk());
}

TEST(ReplicationTest, LinkDropResumesWithPartialResync) {
  Node leader, f;
  ASSERT_TRUE(leader.Start());
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg()}));
  WriteWorkload(leader.client(), 5000, 3);
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  EXPECT_EQ(leader.Info("sync_full"), "1");
  EXPECT_THAT(leader({"CLIENT", "KILL", "TYPE", "replica"}), IsInt(1));
  WriteWorkload(leader.client(), 2000, 4);  // written while the link is down
  ASSERT_TRUE(WaitFor([&] { return leader.Info("sync_partial_ok") == "1"; }, 5000))
      << f.server().log();
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  EXPECT_EQ(leader.Info("sync_full"), "1");
  EXPECT_EQ(leader.Info("sync_partial_err"), "0");
  EXPECT_EQ(f.Digest(), leader.Digest());
  // Redis prints the sync counters under Stats, not Replication.
  EXPECT_THAT(leader({"INFO", "stats"}).str, ::testing::HasSubstr("\r\nsync_partial_ok:1\r\n"));
  EXPECT_THAT(leader({"INFO", "replication"}).str,
              ::testing::Not(::testing::HasSubstr("\r\nsync_")));
}

TEST(ReplicationTest, WaitCountsAcknowledgingReplicasAndTimesOut) {
  Node leader, f1, f2;
  ASSERT_TRUE(leader.Start());
  ASSERT_TRUE(f1.Start({"--replicaof", leader.ReplicaOfArg()}));
  ASSERT_TRUE(f2.Start({"--replicaof", leader.ReplicaOfArg()}));
  ASSERT_TRUE(WaitFor([&] { return leader.Info("connected_slaves") == "2"; }, 5000));
  EXPECT_THAT(leader({"SET", "a", "1"}), IsOk());
  EXPECT_THAT(leader({"WAIT", "2", "0"}), IsInt(2));
  // Asking for more replicas than exist: blocks until the timeout, then
  // reports how many acknowledged.
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(leader({"WAIT", "3", "300"}), IsInt(2));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_GE(ms, 250);
  EXPECT_LT(ms, 3000);
  // A stopped follower does not acknowledge.
  kill(f2.server().pid(), SIGSTOP);
  EXPECT_THAT(leader({"SET", "b", "2"}), IsOk());
  EXPECT_THAT(leader({"WAIT", "2", "300"}), IsInt(1));
  kill(f2.server().pid(), SIGCONT);
  EXPECT_THAT(leader({"WAIT", "2", "5000"}), IsInt(2));
  // Pipelined commands behind a blocked WAIT run after it, in order.
  ASSERT_TRUE(leader.client().Send({"WAIT", "5", "100"}).ok());
  ASSERT_TRUE(leader.client().Send({"GET", "b"}).ok());
  EXPECT_THAT(*leader.client().ReadReply(), IsInt(2));
  EXPECT_THAT(*leader.client().ReadReply(), IsBulk("2"));
  // Followers refuse WAIT; WAITAOF without an AOF counts no fsyncs.
  EXPECT_THAT(f1({"WAIT", "1", "10"}), ErrorStartsWith("ERR WAIT cannot be used with replica"));
  EXPECT_THAT(leader({"WAITAOF", "1", "0", "10"}), ErrorStartsWith("ERR WAITAOF cannot be used"));
}

TEST(ReplicationTest, WaitAofCountsFollowersThatFsynced) {
  Node leader, f1, f2;
  ASSERT_TRUE(leader.Start({"--appendonly", "yes", "--appendfsync", "always"}));
  ASSERT_TRUE(f1.Start(
      {"--replicaof", leader.ReplicaOfArg(), "--appendonly", "yes", "--appendfsync", "always"}));
  ASSERT_TRUE(f2.Start({"--replicaof", leader.ReplicaOfArg()}));  // no AOF
  ASSERT_TRUE(WaitFor([&] { return leader.Info("connected_slaves") == "2"; }, 5000));
  EXPECT_THAT(leader({"SET", "a", "1"}), IsOk());
  auto r = leader({"WAITAOF", "1", "1", "5000"});
  ASSERT_EQ(r.elements.size(), 2u) << r.DebugString();
  EXPECT_EQ(r.elements[0].integer, 1);
  EXPECT_EQ(r.elements[1].integer, 1);
  r = leader({"WAITAOF", "0", "2", "300"});
  ASSERT_EQ(r.elements.size(), 2u);
  EXPECT_EQ(r.elements[1].integer, 1);  // the follower without AOF never fsyncs
}

TEST(ReplicationTest, MinReplicasToWriteRefusesWritesWithoutGoodReplicas) {
  Node leader, f;
  ASSERT_TRUE(leader.Start({"--min-replicas-to-write", "1", "--min-replicas-max-lag", "2"}));
  EXPECT_THAT(leader({"SET", "a", "1"}), IsError("NOREPLICAS Not enough good replicas to write."));
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg()}));
  ASSERT_TRUE(WaitFor([&] { return !leader({"SET", "a", "1"}).is_error(); }, 5000));
  kill(f.server().pid(), SIGSTOP);
  EXPECT_TRUE(WaitFor([&] { return leader({"SET", "a", "2"}).is_error(); }, 6000));
  kill(f.server().pid(), SIGCONT);
}

// --- A fake leader, to feed a follower exactly the bytes we choose. ---

class FakeLeader {
 public:
  FakeLeader() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    listen(listen_fd_, 4);
    socklen_t len = sizeof(a);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~FakeLeader() {
    if (fd_ >= 0) close(fd_);
    close(listen_fd_);
  }
  int port() const { return port_; }

  // Accepts the next follower connection and answers its handshake up to
  // PSYNC; returns PSYNC's arguments ("" on timeout).
  std::vector<std::string> AcceptUntilPsync(int timeout_ms = 10000) {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    pollfd p{listen_fd_, POLLIN, 0};
    if (poll(&p, 1, timeout_ms) != 1) return {};
    fd_ = accept(listen_fd_, nullptr, nullptr);
    std::string in;
    resp::RequestParser parser;
    for (;;) {
      std::vector<std::string> args;
      while (args.empty()) {
        auto st = parser.Parse(in);
        if (st == resp::ParseStatus::kComplete) {
          args.assign(parser.args().begin(), parser.args().end());
          in.erase(0, parser.consumed());
          continue;
        }
        pollfd q{fd_, POLLIN, 0};
        if (poll(&q, 1, timeout_ms) != 1) return {};
        char buf[4096];
        ssize_t n = read(fd_, buf, sizeof(buf));
        if (n <= 0) return {};
        in.append(buf, static_cast<size_t>(n));
      }
      if (args[0] == "PSYNC") return args;
      Write(args[0] == "PING" ? "+PONG\r\n" : "+OK\r\n");
    }
  }
  void Write(std::string_view bytes) {
    ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    (void)n;
  }

 private:
  int listen_fd_ = -1;
  int fd_ = -1;
  int port_ = 0;
};

std::string SnapshotPayload(const std::string& dir, const std::string& key, const std::string& v) {
  auto& fs = *persistence::DefaultFileSystem();
  std::string path = dir + "/fake.rks";
  auto w = persistence::SnapshotWriter::Create(fs, path);
  EXPECT_TRUE(w.ok());
  persistence::SnapshotEntry e;
  e.key = key;
  e.value = v;
  EXPECT_TRUE((*w)->Add(e).ok());
  EXPECT_TRUE((*w)->Finish().ok());
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Encode(const std::vector<std::string_view>& argv) { return resp::EncodeCommand(argv); }

TEST(ReplicationTest, CorruptStreamOrPayloadIsNeverApplied) {
  FakeLeader fake;
  Node f;
  ASSERT_TRUE(f.Start({"--replicaof", "127.0.0.1 " + std::to_string(fake.port())}));
  auto psync = fake.AcceptUntilPsync();
  ASSERT_EQ(psync.size(), 3u);
  EXPECT_EQ(psync[1], "?");
  const std::string id(40, 'a');
  std::string payload = SnapshotPayload(f.dir(), "a", "1");
  fake.Write("+FULLRESYNC " + id + " 100\r\n$" + std::to_string(payload.size()) + "\r\n" + payload);
  std::string good = Encode({"SET", "b", "2"});
  // A valid command, then bytes that are not RESP: the follower must apply
  // the first, drop the link at the second and ask to continue after the first.
  fake.Write(good + "*1\r\n$abc\r\n" + Encode({"SET", "evil", "1"}));
  psync = fake.AcceptUntilPsync();
  ASSERT_EQ(psync.size(), 3u) << f.server().log();
  EXPECT_EQ(psync[1], id);
  EXPECT_EQ(psync[2], std::to_string(100 + good.size() + 1));
  EXPECT_THAT(f({"GET", "a"}), IsBulk("1"));
  EXPECT_THAT(f({"GET", "b"}), IsBulk("2"));
  EXPECT_THAT(f({"GET", "evil"}), IsNull());
  // A full sync whose payload is damaged: discarded, old data kept, retried.
  std::string bad = SnapshotPayload(f.dir(), "a", "999");
  bad[bad.size() / 2] ^= 0x5a;
  fake.Write("+FULLRESYNC " + std::string(40, 'b') + " 0\r\n$" + std::to_string(bad.size()) +
             "\r\n" + bad);
  psync = fake.AcceptUntilPsync();
  ASSERT_EQ(psync.size(), 3u) << f.server().log();
  EXPECT_EQ(psync[1], id);  // still the history it has
  EXPECT_THAT(f({"GET", "a"}), IsBulk("1"));
  // Continuing works after all that.
  fake.Write("+CONTINUE\r\n" + Encode({"SET", "c", "3"}));
  EXPECT_TRUE(WaitFor([&] { return f({"GET", "c"}).str == "3"; }, 5000));
  EXPECT_THAT(f({"GET", "evil"}), IsNull());
}

// A diskless leader's payload ends at a 40-character mark instead of
// having a length; the follower must find the mark wherever the reads split
// it, and apply what follows it as stream.
TEST(ReplicationTest, FollowerReadsAnEofMarkedPayloadHoweverItIsSplit) {
  FakeLeader fake;
  Node f;
  ASSERT_TRUE(f.Start({"--replicaof", "127.0.0.1 " + std::to_string(fake.port())}));
  const std::string id(40, 'c');
  const std::string mark = "0123456789abcdef0123456789abcdef01234567";
  for (int round = 0; round < 4; ++round) {
    auto psync = fake.AcceptUntilPsync();
    ASSERT_EQ(psync.size(), 3u) << f.server().log();
    std::string v = std::to_string(round);
    std::string head = "+FULLRESYNC " + id + " 100\r\n$EOF:" + mark + "\r\n";
    std::string payload = SnapshotPayload(f.dir(), "a", v);
    std::string bytes = head + payload + mark + Encode({"SET", "b", v});
    // Split inside the header line, the payload, the mark, and right after it.
    const size_t splits[] = {head.size() - 10, head.size() + payload.size() / 2,
                             head.size() + payload.size() + 17,
                             head.size() + payload.size() + mark.size()};
    fake.Write(std::string_view(bytes).substr(0, splits[round]));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    fake.Write(std::string_view(bytes).substr(splits[round]));
    EXPECT_TRUE(WaitFor([&] { return f({"GET", "b"}).str == v; }, 5000))
        << "round " << round << "\n" << f.server().log();
    EXPECT_THAT(f({"GET", "a"}), IsBulk(v));
  }
}

TEST(ReplicationTest, EmptyRestartedLeaderDoesNotWipeItsFollower) {
  Node leader, f;
  ASSERT_TRUE(leader.Start());
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg()}));
  WriteWorkload(leader.client(), 2000, 5);
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  std::string digest = leader.Digest();
  leader.Kill9();
  ASSERT_TRUE(leader.Start()) << leader.server().log();  // same port, no persistence: empty
  ASSERT_TRUE(WaitFor(
      [&] {
        return leader.server().log().find("refusing to wipe") != std::string::npos ||
               f.server().log().find("refusing to wipe") != std::string::npos;
      },
      5000));
  EXPECT_EQ(f.Digest(), digest);
  EXPECT_EQ(f.Info("master_link_status"), "down");
  // The operator confirms: the follower then syncs the (empty) data set.
  EXPECT_THAT(leader({"CONFIG", "SET", "repl-allow-empty-leader", "yes"}), IsOk());
  EXPECT_TRUE(WaitFor([&] { return f.Info("master_link_status") == "up"; }, 8000));
  EXPECT_EQ(f.DbSize(0), 0);
}

}  // namespace
}  // namespace ragkv::testing

namespace ragkv::testing {
namespace {

TEST(ReplicationTest, RestartedFollowerWithAofResumesWithPartialResync) {
  Node leader, f;
  ASSERT_TRUE(leader.Start());
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg(), "--appendonly", "yes"}));
  WriteWorkload(leader.client(), 5000, 6);  // switches dbs: the stream db must survive too
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  f.server().Stop();  // SIGTERM: clean shutdown
  WriteWorkload(leader.client(), 1000, 7);
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg(), "--appendonly", "yes"}))
      << f.server().log();
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  EXPECT_EQ(leader.Info("sync_full"), "1");
  EXPECT_EQ(leader.Info("sync_partial_ok"), "1");
  EXPECT_EQ(f.Digest(), leader.Digest());
  // Killed instead of stopped: no saved history, so a full sync (and still
  // the same data).
  f.Kill9();
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg(), "--appendonly", "yes"}));
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  EXPECT_EQ(leader.Info("sync_full"), "2");
  EXPECT_EQ(f.Digest(), leader.Digest());
}

}  // namespace
}  // namespace ragkv::testing
