// A leader that restarts from its own data (AOF + the state saved at a clean
// shutdown, or a snapshot's repl-id/repl-offset aux fields) keeps its
// history as replid2, so a follower that stopped where the leader stopped
// continues partially; one that holds bytes the leader lost full-syncs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cluster.h"
#include "util/resp_matchers.h"

namespace ragkv::testing {
namespace {

void Write(Node& node, int from, int n) {
  for (int i = from; i < from + n; ++i) {
    ASSERT_THAT(node({"SET", "k:" + std::to_string(i), "v" + std::to_string(i)}), IsOk());
  }
  ASSERT_THAT(node({"HSET", "h:" + std::to_string(from), "f", "x"}), IsInt(1));
}

// Restarts `leader` cleanly with `args` and checks that `f` continued.
void ExpectPartialContinueAfterCleanRestart(const std::vector<std::string>& args) {
  Node leader, f;
  ASSERT_TRUE(leader.Start(args)) << leader.server().log();
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg()})) << f.server().log();
  Write(leader, 0, 500);
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  const std::string old_id = leader.Info("master_replid");
  const std::string old_offset = leader.Info("master_repl_offset");
  leader.server().Stop();  // SIGTERM: clean shutdown
  ASSERT_TRUE(leader.Start(args)) << leader.server().log();
  EXPECT_EQ(leader.Info("master_replid2"), old_id);
  EXPECT_EQ(leader.Info("second_repl_offset"), std::to_string(std::stoll(old_offset) + 1));
  EXPECT_EQ(leader.Info("master_repl_offset"), old_offset);
  ASSERT_TRUE(WaitFor([&] { return leader.Info("connected_slaves") == "1"; }, 10000))
      << f.server().log();
  EXPECT_EQ(leader.Info("sync_partial_ok"), "1") << leader.server().log();
  EXPECT_EQ(leader.Info("sync_full"), "0");
  Write(leader, 500, 100);
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  EXPECT_EQ(f.Digest(), leader.Digest());
  EXPECT_EQ(f.Info("master_replid"), leader.Info("master_replid"));
  EXPECT_NE(leader.Info("master_replid"), old_id);
}

TEST(LeaderRestartTest, WithAofFollowerContinuesPartially) {
  ExpectPartialContinueAfterCleanRestart({"--appendonly", "yes"});
}

TEST(LeaderRestartTest, WithSnapshotSavedAtShutdownFollowerContinuesPartially) {
  ExpectPartialContinueAfterCleanRestart({"--save", "3600 1"});
}

// A follower without AOF restarts from the snapshot it saved at shutdown:
// the snapshot's history is the leader's stream up to where it stopped.
TEST(FollowerRestartTest, FromItsShutdownSnapshotContinuesPartially) {
  Node leader, f;
  ASSERT_TRUE(leader.Start()) << leader.server().log();
  const std::vector<std::string> args = {"--replicaof", leader.ReplicaOfArg(), "--save", "3600 1"};
  ASSERT_TRUE(f.Start(args)) << f.server().log();
  Write(leader, 0, 300);
  ASSERT_THAT(leader({"SELECT", "2"}), IsOk());  // the stream's db must survive too
  Write(leader, 300, 10);
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  f.server().Stop();
  Write(leader, 310, 10);  // written in db 2 while the follower is down
  ASSERT_TRUE(f.Start(args)) << f.server().log();
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  EXPECT_EQ(leader.Info("sync_full"), "1");
  EXPECT_EQ(leader.Info("sync_partial_ok"), "1") << f.server().log();
  EXPECT_EQ(f.Digest(), leader.Digest());
  EXPECT_EQ(f.DbSize(2), leader.DbSize(2));
}

// A BGSAVE, more writes, kill -9: the snapshot's history ends before what the
// follower holds, so continuing would keep writes the leader lost. The
// follower full-syncs to the leader's (older) data instead.
TEST(LeaderRestartTest, FromAnOlderSnapshotFollowerFullSyncsInsteadOfDiverging) {
  Node leader, f;
  ASSERT_TRUE(leader.Start()) << leader.server().log();
  ASSERT_TRUE(f.Start({"--replicaof", leader.ReplicaOfArg()})) << f.server().log();
  Write(leader, 0, 300);
  EXPECT_THAT(leader({"SAVE"}), IsOk());
  Write(leader, 300, 300);  // lost with the leader
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  const std::string old_id = leader.Info("master_replid");
  leader.Kill9();
  ASSERT_TRUE(leader.Start()) << leader.server().log();
  EXPECT_EQ(leader.Info("master_replid2"), old_id);
  ASSERT_TRUE(WaitFor([&] { return leader.Info("sync_full") == "1"; }, 10000))
      << f.server().log();
  EXPECT_EQ(leader.Info("sync_partial_ok"), "0");
  EXPECT_EQ(leader.Info("sync_partial_err"), "1");
  EXPECT_THAT(leader({"WAIT", "1", "5000"}), IsInt(1));
  EXPECT_EQ(f.Digest(), leader.Digest());
  EXPECT_THAT(f({"GET", "k:299"}), IsBulk("v299"));
  EXPECT_THAT(f({"GET", "k:300"}), IsNull());
}

}  // namespace
}  // namespace ragkv::testing
