// Crash tests against the real server process: clients write (SET, INCR,
// ZADD, HSET with vector-sized binary blobs) and record every acknowledged reply;
// the server is SIGKILLed at random moments and restarted on the same
// directory; every acknowledged write must be there. Seeded, bounded: about
// 50 kills with appendfsync always, 10 with everysec.
//
// kill -9 does not drop the page cache, so under everysec nothing
// acknowledged may be lost either: the server write()s before it replies.
// (Power loss, which does drop it, is covered by the FaultInjectingFileSystem
// unit tests.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "persistence/server_process.h"
#include "persistence/test_util.h"
#include "protocol/resp_client.h"

namespace ragkv::persistence {
namespace {

using resp::RespClient;
using resp::RespType;
using testing::ServerProcess;

// What the clients know was acknowledged.
struct Acked {
  std::mutex mu;
  std::map<std::string, std::string> strings;                        // SET key -> value
  std::map<std::string, int64_t> counters;                           // INCR key -> highest reply
  std::map<std::string, std::map<std::string, std::string>> hashes;  // HSET key -> fields
  std::map<std::string, std::map<std::string, int64_t>> zsets;       // ZADD key -> member scores
};

// Writes until the connection breaks. Keys embed the round and thread, so no
// two writes touch the same string key and the checks stay exact.
void WriteUntilKilled(int port, int round, int thread, uint64_t seed, Acked* acked,
                      std::atomic<int>* ops) {
  RespClient client;
  if (!client.Connect("127.0.0.1", port, 2000).ok()) return;
  std::mt19937_64 rng(seed);
  const std::string prefix = testing::Key("r", round) + testing::Key(":t", thread) + ":";
  const std::string counter = testing::Key("ctr:t", thread);
  for (int i = 0;; ++i) {
    const int kind = static_cast<int>(rng() % 4);
    if (kind == 0) {
      const std::string key = prefix + testing::Key("s", i);
      const std::string value = testing::Key("v", static_cast<int64_t>(rng() % 1000000));
      auto r = client.Command({"SET", key, value});
      if (!r.ok() || r->type != RespType::kSimpleString) return;
      std::lock_guard<std::mutex> lock(acked->mu);
      acked->strings[key] = value;
    } else if (kind == 1) {
      auto r = client.Command({"INCR", counter});
      if (!r.ok() || r->type != RespType::kInteger) return;
      std::lock_guard<std::mutex> lock(acked->mu);
      int64_t& best = acked->counters[counter];
      best = std::max(best, r->integer);
    } else if (kind == 2) {
      const std::string key = prefix + "z";
      const std::string member = testing::Key("m", i);
      const int64_t score = static_cast<int64_t>(rng() % 100000);
      auto r = client.Command({"ZADD", key, std::to_string(score), member});
      if (!r.ok() || r->type != RespType::kInteger) return;
      std::lock_guard<std::mutex> lock(acked->mu);
      acked->zsets[key][member] = score;
    } else {
      // A 128-dim float32 vector as a binary hash field, as the vector index stores them.
      std::string blob(512, '\0');
      for (char& ch : blob) ch = static_cast<char>(rng() % 256);
      const std::string key = prefix + "h";
      const std::string field = testing::Key("f", i);
      auto r = client.Command({"HSET", key, field, blob});
      if (!r.ok() || r->type != RespType::kInteger) return;
      std::lock_guard<std::mutex> lock(acked->mu);
      acked->hashes[key][field] = blob;
    }
    ++*ops;
  }
}

// Checks every acknowledged write through one pipelined connection.
void VerifyAll(int port, Acked& acked, int round) {
  RespClient client;
  ASSERT_TRUE(client.Connect("127.0.0.1", port, 5000).ok());
  std::lock_guard<std::mutex> lock(acked.mu);
  for (const auto& [key, value] : acked.strings) ASSERT_TRUE(client.Send({"GET", key}).ok());
  for (const auto& [key, value] : acked.strings) {
    auto r = client.ReadReply();
    ASSERT_TRUE(r.ok());
    ASSERT_EQ(r->str, value) << "round " << round << ": acknowledged SET " << key << " lost";
  }
  for (const auto& [key, best] : acked.counters) {
    auto r = client.Command({"GET", key});
    ASSERT_TRUE(r.ok());
    ASSERT_GE(std::atoll(r->str.c_str()), best) << "round " << round << ": INCR " << key;
  }
  for (const auto& [key, members] : acked.zsets) {
    for (const auto& [member, score] : members) {
      auto r = client.Command({"ZSCORE", key, member});
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->str, std::to_string(score))
          << "round " << round << ": ZADD " << key << " " << member;
    }
  }
  for (const auto& [key, fields] : acked.hashes) {
    for (const auto& [field, blob] : fields) ASSERT_TRUE(client.Send({"HGET", key, field}).ok());
    for (const auto& [field, blob] : fields) {
      auto r = client.ReadReply();
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->str, blob) << "round " << round << ": HSET " << key << " " << field;
    }
  }
}

void RunCrashLoop(const std::string& fsync, int kills, uint64_t seed) {
  char tmpl[] = "/tmp/ragkv-crash-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  struct RemoveDir {
    std::string path;
    ~RemoveDir() { std::filesystem::remove_all(path); }
  } cleanup{dir};
  std::mt19937_64 rng(seed);
  Acked acked;
  int total_ops = 0;
  for (int round = 0; round < kills; ++round) {
    ServerProcess server;
    ASSERT_TRUE(server.Start(dir, fsync))
        << "server failed to start in round " << round << "; see " << dir << "/server.log";
    VerifyAll(server.port(), acked, round);
    if (::testing::Test::HasFatalFailure()) return;
    std::atomic<int> ops{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back(WriteUntilKilled, server.port(), round, t, rng(), &acked, &ops);
    }
    // Kill at a random moment of a write stream that has made progress: after
    // a random number of acknowledged writes (bounded wait on a slow disk),
    // plus a random few milliseconds.
    const int target = 1 + static_cast<int>(rng() % 400);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    while (ops.load() < target && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 5000));
    server.Kill();
    for (auto& c : clients) c.join();
    total_ops += ops.load();
  }
  ServerProcess server;
  ASSERT_TRUE(server.Start(dir, fsync));
  VerifyAll(server.port(), acked, kills);
  std::printf("[ crash    ] appendfsync %s: %d kills, %d acknowledged writes, none lost\n",
              fsync.c_str(), kills, total_ops);
  server.Kill();
}

TEST(CrashTest, AlwaysLosesNoAcknowledgedWriteOver50Kills) { RunCrashLoop("always", 50, 42); }

TEST(CrashTest, EverysecLosesNothingAcknowledgedOnProcessKill) { RunCrashLoop("everysec", 10, 7); }

}  // namespace
}  // namespace ragkv::persistence
