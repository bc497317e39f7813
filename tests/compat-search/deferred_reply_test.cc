// The server's one deferred-reply path (docs/server.md, "Deferred replies"):
// FT.SEARCH parks its connection, runs on a worker or inline on the event
// loop, and its completion comes back through the loop's inbox. Checked on a
// real `ragkv serve`, with searches forced onto the workers (both inline
// budgets 0) and allowed inline (1000 us), through the
// ragkv_deferred_on_workers / ragkv_deferred_inline INFO counters.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "protocol/resp_client.h"
#include "util/test_server.h"

namespace ragkv {
namespace {

std::string FloatBlob(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

int64_t InfoCounter(resp::RespClient& c, const std::string& name) {
  auto info = c.Command({"INFO", "stats"});
  if (!info.ok()) return -1;
  const size_t at = info->str.find(name + ":");
  if (at == std::string::npos) return -1;
  return std::atoll(info->str.c_str() + at + name.size() + 1);
}

class DeferredReplyTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override {
    const std::string budget = std::to_string(GetParam());
    ASSERT_TRUE(
        server_.Start({"--search-inline-max-us", budget, "--search-inline-solo-max-us", budget}))
        << server_.log();
  }

  // Index `p` over 1-d vectors k<i> = i, so the nearest neighbour of x is
  // k<round(x)>.
  void LoadLine(resp::RespClient& c, int n) {
    auto created = c.Command({"FT.CREATE", "p", "SCHEMA", "v", "VECTOR", "FLAT", "6", "TYPE",
                              "FLOAT32", "DIM", "1", "DISTANCE_METRIC", "L2"});
    ASSERT_TRUE(created.ok() && !created->is_error());
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(c.Send({"HSET", "k" + std::to_string(i), "v", FloatBlob({float(i)})}).ok());
    }
    for (int i = 0; i < n; ++i) ASSERT_TRUE(c.ReadReply().ok());
  }

  testing::TestServer server_;
};

// Several connections pipeline SET / FT.SEARCH / GET / PING at once; every
// connection gets its replies in request order, each search its own answer.
TEST_P(DeferredReplyTest, RepliesKeepRequestOrderOnEveryPipeliningConnection) {
  resp::RespClient admin;
  ASSERT_TRUE(admin.Connect("127.0.0.1", server_.port()).ok());
  LoadLine(admin, 64);
  constexpr int kConnections = 4, kRounds = 40;
  std::vector<std::string> failures(kConnections);
  std::vector<std::thread> threads;
  for (int t = 0; t < kConnections; ++t) {
    threads.emplace_back([&, t] {
      resp::RespClient c;
      if (!c.Connect("127.0.0.1", server_.port()).ok()) {
        failures[t] = "connect failed";
        return;
      }
      const std::string x = "x" + std::to_string(t);
      for (int r = 0; r < kRounds; ++r) {
        const float target = static_cast<float>((r * 7 + t * 13) % 64) + 0.1f;
        (void)c.Send({"SET", x, std::to_string(r)});
        (void)c.Send({"FT.SEARCH", "p", "*=>[KNN 1 @v $B AS d]", "PARAMS", "2", "B",
                      FloatBlob({target}), "NOCONTENT"});
        (void)c.Send({"GET", x});
        (void)c.Send({"PING"});
      }
      for (int r = 0; r < kRounds && failures[t].empty(); ++r) {
        const std::string want = "k" + std::to_string((r * 7 + t * 13) % 64);
        auto set = c.ReadReply();
        auto search = c.ReadReply();
        auto get = c.ReadReply();
        auto pong = c.ReadReply();
        if (!set.ok() || !search.ok() || !get.ok() || !pong.ok()) {
          failures[t] = "read failed in round " + std::to_string(r);
        } else if (set->str != "OK" || search->elements.size() != 2 ||
                   search->elements[1].str != want || get->str != std::to_string(r) ||
                   pong->str != "PONG") {
          failures[t] = "round " + std::to_string(r) + ": " + set->DebugString() + " " +
                        search->DebugString() + " " + get->DebugString() + " " +
                        pong->DebugString() + ", wanted " + want;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kConnections; ++t) EXPECT_EQ(failures[t], "") << "connection " << t;
  // One more pipeline on a now quiet server: with inline allowed, searches
  // of the learned (cheap) shape run on the loop.
  for (int r = 0; r < 20; ++r) {
    ASSERT_TRUE(admin
                    .Send({"FT.SEARCH", "p", "*=>[KNN 1 @v $B AS d]", "PARAMS", "2", "B",
                           FloatBlob({float(r)}), "NOCONTENT"})
                    .ok());
    ASSERT_TRUE(admin.Send({"ECHO", std::to_string(r)}).ok());
  }
  for (int r = 0; r < 20; ++r) {
    auto search = admin.ReadReply();
    auto echo = admin.ReadReply();
    ASSERT_TRUE(search.ok() && echo.ok());
    ASSERT_EQ(search->elements.size(), 2u) << search->DebugString();
    EXPECT_EQ(search->elements[1].str, "k" + std::to_string(r));
    EXPECT_EQ(echo->str, std::to_string(r));
  }
  const int64_t on_workers = InfoCounter(admin, "ragkv_deferred_on_workers");
  const int64_t inlined = InfoCounter(admin, "ragkv_deferred_inline");
  EXPECT_EQ(on_workers + inlined, kConnections * kRounds + 20);
  if (GetParam() == 0) {
    EXPECT_EQ(inlined, 0);
  } else {
    // The first search of a shape always runs on a worker (it is measured
    // there); on a quiet loop the following ones run inline.
    EXPECT_GE(on_workers, 1);
    EXPECT_GT(inlined, 0);
  }
}

// Clients that disconnect while their search is queued or running: the
// completion finds no connection and is dropped; everybody else is served.
TEST_P(DeferredReplyTest, ClientsClosingWhileTheirSearchRunsDoNotDisturbOthers) {
  resp::RespClient busy;
  ASSERT_TRUE(busy.Connect("127.0.0.1", server_.port(), 60000).ok());
  // An exact (FLAT) index big enough that each search takes a while.
  constexpr int kDocs = 4000, kDim = 128;
  auto created = busy.Command({"FT.CREATE", "f", "SCHEMA", "v", "VECTOR", "FLAT", "6", "TYPE",
                               "FLOAT32", "DIM", std::to_string(kDim), "DISTANCE_METRIC", "L2"});
  ASSERT_TRUE(created.ok() && !created->is_error());
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<std::vector<float>> docs(kDocs, std::vector<float>(kDim));
  for (int i = 0; i < kDocs; ++i) {
    for (float& x : docs[i]) x = u(rng);
    ASSERT_TRUE(busy.Send({"HSET", "d" + std::to_string(i), "v", FloatBlob(docs[i])}).ok());
  }
  for (int i = 0; i < kDocs; ++i) ASSERT_TRUE(busy.ReadReply().ok());
  auto search = [&](int doc) -> std::vector<std::string_view> {
    static thread_local std::string blob;
    blob = FloatBlob(docs[doc]);
    return {"FT.SEARCH", "f", "*=>[KNN 1 @v $B AS d]", "PARAMS", "2", "B", blob, "NOCONTENT"};
  };
  constexpr int kBusySearches = 40, kQuitters = 20;
  for (int i = 0; i < kBusySearches; ++i) ASSERT_TRUE(busy.Send(search(i)).ok());
  for (int q = 0; q < kQuitters; ++q) {
    resp::RespClient quitter;
    ASSERT_TRUE(quitter.Connect("127.0.0.1", server_.port()).ok());
    ASSERT_TRUE(quitter.Send(search(q)).ok());
    quitter.Close();  // before the reply: the search is queued or running
  }
  for (int i = 0; i < kBusySearches; ++i) {
    auto r = busy.ReadReply();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->elements.size(), 2u) << r->DebugString();
    EXPECT_EQ(r->elements[1].str, "d" + std::to_string(i));  // each doc is its own nearest
  }
  resp::RespClient late;
  ASSERT_TRUE(late.Connect("127.0.0.1", server_.port()).ok());
  auto r = late.Command(search(7));
  ASSERT_TRUE(r.ok() && r->elements.size() == 2) << server_.log();
  EXPECT_EQ(r->elements[1].str, "d7");
  // The quitters are gone (their closes are noticed within a loop iteration).
  bool gone = false;
  for (int attempt = 0; attempt < 100 && !gone; ++attempt) {
    auto clients = late.Command({"CLIENT", "LIST"});
    ASSERT_TRUE(clients.ok());
    size_t lines = 0;
    for (char ch : clients->str) lines += ch == '\n';
    gone = lines == 2;  // busy and late
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone);
}

// Default budgets: a connection alone on the server gets its searches run
// inline (solo budget, 1 ms); once another client sends commands, searches
// costlier than the shared budget (25 us) go back to the workers.
TEST(DeferredReplySoloTest, SearchesRunInlineOnlyWhileOneClientIsAlone) {
  testing::TestServer server;
  ASSERT_TRUE(server.Start()) << server.log();
  resp::RespClient a;
  ASSERT_TRUE(a.Connect("127.0.0.1", server.port(), 60000).ok());
  // Exact search over 10k x 256-d: ~0.1-0.3 ms, above 25 us, below 1 ms.
  constexpr int kDocs = 10000, kDim = 256;
  auto created = a.Command({"FT.CREATE", "f", "SCHEMA", "v", "VECTOR", "FLAT", "6", "TYPE",
                            "FLOAT32", "DIM", std::to_string(kDim), "DISTANCE_METRIC", "L2"});
  ASSERT_TRUE(created.ok() && !created->is_error());
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(0, 1);
  std::vector<float> doc(kDim);
  for (int i = 0; i < kDocs; ++i) {
    for (float& x : doc) x = u(rng);
    ASSERT_TRUE(a.Send({"HSET", "d" + std::to_string(i), "v", FloatBlob(doc)}).ok());
  }
  for (int i = 0; i < kDocs; ++i) ASSERT_TRUE(a.ReadReply().ok());
  const std::string blob = FloatBlob(doc);  // the last document: its own nearest
  // Solo mode starts once `a` has been the only client for 100 ms (the test
  // server's readiness probe was another connection).
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  auto search_30 = [&] {
    for (int i = 0; i < 30; ++i) {
      auto r = a.Command(
          {"FT.SEARCH", "f", "*=>[KNN 1 @v $B AS d]", "PARAMS", "2", "B", blob, "NOCONTENT"});
      ASSERT_TRUE(r.ok() && r->elements.size() == 2) << (r.ok() ? r->DebugString() : "");
      EXPECT_EQ(r->elements[1].str, "d" + std::to_string(kDocs - 1));
    }
  };
  search_30();
  const int64_t solo_inline = InfoCounter(a, "ragkv_deferred_inline");
  EXPECT_GT(solo_inline, 0);
  std::atomic<bool> stop{false};
  std::thread other([&] {
    resp::RespClient b;
    if (!b.Connect("127.0.0.1", server.port()).ok()) return;
    while (!stop.load()) {
      (void)b.Command({"PING"});
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  search_30();
  stop = true;
  other.join();
  EXPECT_EQ(InfoCounter(a, "ragkv_deferred_inline"), solo_inline);
}

INSTANTIATE_TEST_SUITE_P(InlineBudget, DeferredReplyTest, ::testing::Values(0, 1000),
                         [](const auto& info) {
                           return info.param == 0 ? std::string("AlwaysOnWorkers")
                                                  : std::string("InlineWhenIdle");
                         });

}  // namespace
}  // namespace ragkv
