// search_load: FT.SEARCH KNN load generator against a running `ragkv serve`.
//
//   search_load --port P --base base.fvecs --queries query.fvecs --gt gt.ivecs
//               [--n 20000] [--k 10] [--ef 64] [--seconds 5] [--clients 1,8,32]
//
// 1. Loads the first n base vectors as hashes doc:<i> {v: float32 blob,
//    bucket: i % 100} (pipelined HSETs) after FT.CREATE ... HNSW M 16
//    EF_CONSTRUCTION 200 L2, and builds the same HNSW in-process
//    (ragkv_vector, same parameters and insertion order).
// 2. In-process: single-thread latency of VectorIndex::Search (k, ef) over the
//    queries: the floor the server adds protocol, parsing and reply cost to.
// 3. RESP: for each client count, that many threads each with one connection
//    send FT.SEARCH idx "*=>[KNN k @v $B EF_RUNTIME ef AS d]" SORTBY d
//    RETURN 1 d DIALECT 2 back to back for --seconds; QPS, p50, p99.
// 4. The 1% filtered case: "@bucket:{7}=>[KNN ...]" (600 of 60k docs).
// 5. GET p99 on an idle server vs while 8 clients run FT.SEARCH.
// Recall@k against --gt is printed for both paths (ground truth is over the
// full base set, so it is only meaningful with --n 60000).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "index/vector/vector_index.h"
#include "protocol/resp_client.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Matrix {
  size_t rows = 0, dim = 0;
  std::vector<float> data;
  const float* row(size_t i) const { return data.data() + i * dim; }
};

bool ReadVecs(const std::string& path, bool is_int, Matrix* m, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  int32_t d = 0;
  while (m->rows < limit && in.read(reinterpret_cast<char*>(&d), 4)) {
    m->dim = static_cast<size_t>(d);
    std::vector<int32_t> buf(m->dim);
    if (!in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(4 * m->dim))) {
      return false;
    }
    for (int32_t x : buf) {
      float f;
      if (is_int) {
        f = static_cast<float>(x);
      } else {
        std::memcpy(&f, &x, 4);
      }
      m->data.push_back(f);
    }
    ++m->rows;
  }
  return m->rows > 0;
}

std::string Blob(const float* v, size_t dim) {
  return std::string(reinterpret_cast<const char*>(v), dim * sizeof(float));
}

struct Stats {
  double qps = 0, p50_us = 0, p99_us = 0;
  size_t count = 0;
};

Stats Summarize(std::vector<double>& lat_us, double seconds) {
  Stats s;
  s.count = lat_us.size();
  if (lat_us.empty()) return s;
  std::sort(lat_us.begin(), lat_us.end());
  s.qps = static_cast<double>(lat_us.size()) / seconds;
  s.p50_us = lat_us[lat_us.size() / 2];
  s.p99_us = lat_us[std::min(lat_us.size() - 1, lat_us.size() * 99 / 100)];
  return s;
}

struct Options {
  int port = 6379;
  std::string base, queries, gt;
  size_t n = 20000, k = 10, ef = 64, max_queries = 2000;
  double seconds = 5;
  std::vector<int> clients = {1, 8, 32};
};

std::vector<std::string_view> KnnArgv(const std::string& query, const std::string& blob) {
  return {"FT.SEARCH", "idx", query, "SORTBY", "d", "RETURN", "1", "d", "PARAMS", "2", "B",
          blob, "DIALECT", "2"};
}

// Runs `clients` connections issuing FT.SEARCH for `seconds`.
Stats RunKnnLoad(const Options& o, const Matrix& q, const std::string& query, int clients,
                 double seconds, std::atomic<bool>* external_stop = nullptr) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      ragkv::resp::RespClient cl;
      if (!cl.Connect("127.0.0.1", o.port, 60000).ok()) return;
      size_t i = static_cast<size_t>(c) * 7919;
      while (!stop.load(std::memory_order_relaxed) &&
             (external_stop == nullptr || !external_stop->load())) {
        const size_t qi = i++ % std::min(q.rows, o.max_queries);
        std::string blob = Blob(q.row(qi), q.dim);
        auto t0 = Clock::now();
        auto r = cl.Command(KnnArgv(query, blob));
        auto t1 = Clock::now();
        if (!r.ok() || r->is_error()) {
          std::fprintf(stderr, "FT.SEARCH failed: %s\n",
                       r.ok() ? r->str.c_str() : std::string(r.status().message()).c_str());
          return;
        }
        lat[static_cast<size_t>(c)].push_back(
            std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    });
  }
  if (external_stop == nullptr) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
  }
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  return Summarize(all, elapsed);
}

Stats RunGets(const Options& o, double seconds) {
  ragkv::resp::RespClient cl;
  if (!cl.Connect("127.0.0.1", o.port, 60000).ok()) return {};
  (void)cl.Command({"SET", "probe", "x"});
  std::vector<double> lat;
  const auto start = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
    auto t0 = Clock::now();
    auto r = cl.Command({"GET", "probe"});
    auto t1 = Clock::now();
    if (!r.ok()) break;
    lat.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    // Paced like an interactive client, so the probe itself is not a load.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return Summarize(lat, std::chrono::duration<double>(Clock::now() - start).count());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--port") o.port = std::stoi(v);
    else if (a == "--base") o.base = v;
    else if (a == "--queries") o.queries = v;
    else if (a == "--gt") o.gt = v;
    else if (a == "--n") o.n = std::stoul(v);
    else if (a == "--k") o.k = std::stoul(v);
    else if (a == "--ef") o.ef = std::stoul(v);
    else if (a == "--seconds") o.seconds = std::stod(v);
    else if (a == "--max-queries") o.max_queries = std::stoul(v);
    else if (a == "--clients") {
      o.clients.clear();
      size_t pos = 0;
      while (pos < v.size()) {
        size_t end = v.find(',', pos);
        if (end == std::string::npos) end = v.size();
        o.clients.push_back(std::stoi(v.substr(pos, end - pos)));
        pos = end + 1;
      }
    } else {
      std::fprintf(stderr, "unknown option %s\n", a.c_str());
      return 2;
    }
  }
  Matrix base, q, gt;
  if (!ReadVecs(o.base, false, &base, o.n) || !ReadVecs(o.queries, false, &q, o.max_queries)) {
    std::fprintf(stderr, "cannot read --base/--queries\n");
    return 1;
  }
  const bool have_gt = !o.gt.empty() && ReadVecs(o.gt, true, &gt, o.max_queries);
  const size_t dim = base.dim;

  ragkv::resp::RespClient cl;
  if (!cl.Connect("127.0.0.1", o.port, 600000).ok()) {
    std::fprintf(stderr, "cannot connect to port %d\n", o.port);
    return 1;
  }
  (void)cl.Command({"FLUSHALL"});
  (void)cl.Command({"FT.DROPINDEX", "idx"});
  auto created = cl.Command({"FT.CREATE", "idx", "ON", "HASH", "PREFIX", "1", "doc:", "SCHEMA",
                             "v", "VECTOR", "HNSW", "10", "TYPE", "FLOAT32", "DIM",
                             std::to_string(dim), "DISTANCE_METRIC", "L2", "M", "16",
                             "EF_CONSTRUCTION", "200", "bucket", "TAG"});
  if (!created.ok() || created->is_error()) {
    std::fprintf(stderr, "FT.CREATE failed\n");
    return 1;
  }
  auto t0 = Clock::now();
  constexpr size_t kBatch = 256;
  for (size_t i = 0; i < base.rows; i += kBatch) {
    const size_t end = std::min(base.rows, i + kBatch);
    for (size_t j = i; j < end; ++j) {
      std::string key = "doc:" + std::to_string(j), bucket = std::to_string(j % 100);
      std::string blob = Blob(base.row(j), dim);
      (void)cl.Send({"HSET", key, "v", blob, "bucket", bucket});
    }
    for (size_t j = i; j < end; ++j) (void)cl.ReadReply();
  }
  const double load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("loaded %zu x %zu-d vectors through HSET in %.1f s (%.0f docs/s, indexed inline)\n",
              base.rows, dim, load_s, static_cast<double>(base.rows) / load_s);

  // In-process twin: same parameters, same insertion order, one thread.
  ragkv::vec::IndexSpec spec;
  spec.algorithm = ragkv::vec::Algorithm::kHnsw;
  spec.dim = dim;
  spec.metric = ragkv::vec::Metric::kL2;
  spec.m = 16;
  spec.ef_construction = 200;
  auto index = ragkv::vec::VectorIndex::Create(spec);
  for (size_t i = 0; i < base.rows; ++i) {
    (void)(*index)->Add(i, std::span<const float>(base.row(i), dim));
  }
  std::vector<double> inproc;
  double hits_in = 0, hits_resp = 0;
  const size_t nq = std::min(q.rows, o.max_queries);
  for (size_t i = 0; i < nq; ++i) {
    auto a = Clock::now();
    auto r = (*index)->Search(std::span<const float>(q.row(i), dim), o.k, {.ef = o.ef});
    auto b = Clock::now();
    inproc.push_back(std::chrono::duration<double, std::micro>(b - a).count());
    if (have_gt && r.ok()) {
      for (const auto& nb : *r) {
        for (size_t j = 0; j < o.k; ++j) hits_in += gt.row(i)[j] == static_cast<float>(nb.label);
      }
    }
  }
  double inproc_mean = 0;
  for (double x : inproc) inproc_mean += x;
  inproc_mean /= static_cast<double>(inproc.size());
  Stats in = Summarize(inproc, 1);
  // Recall of the RESP path on the same queries.
  const std::string query = "*=>[KNN " + std::to_string(o.k) + " @v $B EF_RUNTIME " +
                            std::to_string(o.ef) + " AS d]";
  std::vector<double> resp1;
  for (size_t i = 0; i < nq; ++i) {
    std::string blob = Blob(q.row(i), dim);
    auto a = Clock::now();
    auto r = cl.Command(KnnArgv(query, blob));
    auto b = Clock::now();
    resp1.push_back(std::chrono::duration<double, std::micro>(b - a).count());
    if (have_gt && r.ok() && !r->is_error()) {
      for (size_t e = 1; e < r->elements.size(); e += 2) {
        const long id = std::stol(r->elements[e].str.substr(4));
        for (size_t j = 0; j < o.k; ++j) hits_resp += gt.row(i)[j] == static_cast<float>(id);
      }
    }
  }
  double resp_mean = 0;
  for (double x : resp1) resp_mean += x;
  resp_mean /= static_cast<double>(resp1.size());
  Stats r1 = Summarize(resp1, 1);
  std::printf("\nk=%zu ef=%zu, %zu queries, one client, back to back\n", o.k, o.ef, nq);
  std::printf("| path | mean us | p50 us | p99 us | recall@%zu |\n|---|---|---|---|---|\n", o.k);
  const double denom = static_cast<double>(nq * o.k);
  std::printf("| in-process VectorIndex::Search | %.1f | %.1f | %.1f | %s |\n", inproc_mean,
              in.p50_us, in.p99_us,
              have_gt ? std::to_string(hits_in / denom).substr(0, 5).c_str() : "n/a");
  std::printf("| FT.SEARCH over RESP (loopback) | %.1f | %.1f | %.1f | %s |\n", resp_mean,
              r1.p50_us, r1.p99_us,
              have_gt ? std::to_string(hits_resp / denom).substr(0, 5).c_str() : "n/a");
  std::printf("protocol + FT overhead: %.1f us per query = %.1f%% of in-process latency\n",
              resp_mean - inproc_mean, 100.0 * (resp_mean - inproc_mean) / inproc_mean);

  std::printf("\n| clients | query | QPS | p50 us | p99 us |\n|---|---|---|---|---|\n");
  const std::string filtered = "@bucket:{7}=>[KNN " + std::to_string(o.k) + " @v $B AS d]";
  for (int c : o.clients) {
    Stats s = RunKnnLoad(o, q, query, c, o.seconds);
    std::printf("| %d | KNN %zu | %.0f | %.0f | %.0f |\n", c, o.k, s.qps, s.p50_us, s.p99_us);
    std::fflush(stdout);
  }
  for (int c : o.clients) {
    Stats s = RunKnnLoad(o, q, filtered, c, o.seconds);
    std::printf("| %d | 1%% filter + KNN %zu | %.0f | %.0f | %.0f |\n", c, o.k, s.qps, s.p50_us,
                s.p99_us);
    std::fflush(stdout);
  }

  Stats idle = RunGets(o, o.seconds);
  std::atomic<bool> stop{false};
  std::thread load([&] { RunKnnLoad(o, q, query, 8, 0, &stop); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Stats busy = RunGets(o, o.seconds);
  stop = true;
  load.join();
  std::printf("\n| GET | p50 us | p99 us |\n|---|---|---|\n");
  std::printf("| idle | %.0f | %.0f |\n", idle.p50_us, idle.p99_us);
  std::printf("| during 8-client FT.SEARCH load | %.0f | %.0f |\n", busy.p50_us, busy.p99_us);
  std::printf("GET p99 ratio loaded/idle: %.1fx\n", busy.p99_us / idle.p99_us);
  return 0;
}
