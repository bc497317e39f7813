// search_load: FT.SEARCH KNN through RESP next to the same queries on an
// in-process index, built to give stable answers on a noisy shared machine.
//
//   search_load --port P --base base.fvecs --queries query.fvecs --gt gt.ivecs
//               [--n 20000] [--k 10] [--ef 64] [--seconds 5] [--clients 1,8,32]
//               [--max-queries 1000] [--rounds 5] [--block 50]
//
// 1. Loads the first n base vectors as hashes doc:<i> {v: float32 blob,
//    bucket: i % 100} (pipelined HSETs) after FT.CREATE ... HNSW M 16
//    EF_CONSTRUCTION 200 L2, and builds the same HNSW in-process
//    (ragkv_vector, same parameters and insertion order).
// 2. One client, interleaved: for --rounds passes over the queries, each
//    block of --block queries runs as (a) in-process VectorIndex::Search,
//    (b) FT.SEARCH with both inline budgets 0 (always on a worker thread),
//    (c) FT.SEARCH with the server's configured budgets (one client alone:
//    the solo budget applies), and (d) PING (the loopback round-trip
//    floor), rotating which goes first.
//    Background load from other processes then hits all four alike. Besides
//    wall-clock p50/p99 it reports CPU time per query: the bench thread's
//    CLOCK_THREAD_CPUTIME_ID in-process, and the server's CPU (the sum of
//    /proc/<pid>/task/*/schedstat run times, ns resolution) per RESP query,
//    which other load barely disturbs.
// 3. 1, 8 and 32 connections sending back to back for --seconds, unfiltered
//    and with the 1% pre-filter @bucket:{7}: QPS, p50, p99, server CPU per
//    query, next to the in-process index run by min(clients, cores) threads
//    on the same queries (with the same allow-list for the filtered case).
// 4. GET p50/p99 of a paced probe (one GET per 200 us): idle, during 8-client
//    and 1-client FT.SEARCH load with the configured budgets, during 1-client
//    load with search-inline-max-us 1000 (every search inline), and idle
//    again. Sections 3 and 4 otherwise run with the configured budgets.
// Recall@k against --gt is printed for both paths (the ground truth is over
// the full base set, so it is only meaningful with --n 60000).
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
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

double ElapsedUs(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::micro>(b - a).count();
}

int64_t ThreadCpuNs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// CPU time of every thread of process `pid` so far (ns), from schedstat.
int64_t ProcessCpuNs(int pid) {
  int64_t total = 0;
  std::error_code ec;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(entry.path() / "schedstat");
    int64_t run_ns = 0;
    if (in >> run_ns) total += run_ns;
  }
  return total;
}

struct Stats {
  double qps = 0, p50_us = 0, p99_us = 0, mean_us = 0;
  size_t count = 0;
};

Stats Summarize(std::vector<double> lat_us, double seconds) {
  Stats s;
  s.count = lat_us.size();
  if (lat_us.empty()) return s;
  std::sort(lat_us.begin(), lat_us.end());
  s.qps = static_cast<double>(lat_us.size()) / seconds;
  s.p50_us = lat_us[lat_us.size() / 2];
  s.p99_us = lat_us[std::min(lat_us.size() - 1, lat_us.size() * 99 / 100)];
  for (double x : lat_us) s.mean_us += x;
  s.mean_us /= static_cast<double>(lat_us.size());
  return s;
}

struct Options {
  int port = 6379;
  std::string base, queries, gt;
  size_t n = 20000, k = 10, ef = 64, max_queries = 1000, rounds = 5, block = 50;
  double seconds = 5;
  std::vector<int> clients = {1, 8, 32};
};

std::vector<std::string_view> KnnArgv(const std::string& query, const std::string& blob) {
  return {"FT.SEARCH", "idx",    query, "SORTBY", "d",  "RETURN",  "1",
          "d",         "PARAMS", "2",   "B",      blob, "DIALECT", "2"};
}

// A numeric field of INFO stats (0 if missing).
int64_t InfoStat(ragkv::resp::RespClient& cl, const std::string& name) {
  auto info = cl.Command({"INFO", "stats"});
  if (!info.ok()) return 0;
  const size_t at = info->str.find(name + ":");
  return at == std::string::npos ? 0 : std::atoll(info->str.c_str() + at + name.size() + 1);
}

bool ConfigSet(ragkv::resp::RespClient& cl, const std::string& name, const std::string& value) {
  auto r = cl.Command({"CONFIG", "SET", name, value});
  return r.ok() && !r->is_error();
}

// The in-process twin and what both paths search with.
struct Workload {
  const Options* o;
  const Matrix* q;
  const Matrix* gt;
  bool have_gt;
  const ragkv::vec::VectorIndex* index;
  std::unique_ptr<ragkv::vec::BitmapFilter> bucket7;  // labels i with i % 100 == 7
  std::string knn, filtered;                          // FT.SEARCH query texts
  size_t nq() const { return std::min(q->rows, o->max_queries); }
};

// Runs `threads` threads (one connection each, unless in-process) issuing
// queries back to back for `seconds`, or until *external_stop. Fills
// *cpu_us_per_query with the server's CPU per query (RESP) or the threads'
// own (in-process). `nice` > 0 lowers the threads' priority (the GET probe's
// background load: on a shared 2-core host the load generator's own CPU
// would otherwise delay the probe client, which a real deployment's remote
// clients would not).
Stats RunLoad(const Workload& w, bool in_process, bool filter, int threads, double seconds,
              int server_pid, double* cpu_us_per_query, std::atomic<bool>* external_stop = nullptr,
              int nice = 0) {
  std::vector<std::vector<double>> lat(static_cast<size_t>(threads));
  std::atomic<int64_t> own_cpu_ns{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const int64_t cpu0 = server_pid > 0 ? ProcessCpuNs(server_pid) : 0;
  const auto start = Clock::now();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      if (nice > 0) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), nice);
      const int64_t cpu_start = ThreadCpuNs();
      struct AddCpu {
        std::atomic<int64_t>* total;
        int64_t start;
        ~AddCpu() { *total += ThreadCpuNs() - start; }
      } add_cpu{&own_cpu_ns, cpu_start};
      ragkv::resp::RespClient cl;
      if (!in_process && !cl.Connect("127.0.0.1", w.o->port, 60000).ok()) return;
      size_t i = static_cast<size_t>(t) * 7919;
      const std::string& text = filter ? w.filtered : w.knn;
      ragkv::vec::SearchParams params{.ef = w.o->ef};
      if (filter) params.filter = w.bucket7.get();
      while (!stop.load(std::memory_order_relaxed) &&
             (external_stop == nullptr || !external_stop->load())) {
        const size_t qi = i++ % w.nq();
        auto t0 = Clock::now();
        bool ok;
        if (in_process) {
          ok = w.index->Search(std::span<const float>(w.q->row(qi), w.q->dim), w.o->k, params).ok();
        } else {
          auto r = cl.Command(KnnArgv(text, Blob(w.q->row(qi), w.q->dim)));
          ok = r.ok() && !r->is_error();
          if (!ok) {
            std::fprintf(stderr, "FT.SEARCH failed: %s\n",
                         r.ok() ? r->str.c_str() : std::string(r.status().message()).c_str());
          }
        }
        if (!ok) return;
        lat[static_cast<size_t>(t)].push_back(ElapsedUs(t0, Clock::now()));
      }
    });
  }
  if (external_stop == nullptr) {
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
  }
  for (auto& t : pool) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
  Stats s = Summarize(std::move(all), elapsed);
  if (cpu_us_per_query != nullptr && s.count > 0) {
    const int64_t ns = in_process ? own_cpu_ns.load() : ProcessCpuNs(server_pid) - cpu0;
    *cpu_us_per_query = static_cast<double>(ns) / 1000.0 / static_cast<double>(s.count);
  }
  return s;
}

Stats RunGets(int port, double seconds) {
  ragkv::resp::RespClient cl;
  if (!cl.Connect("127.0.0.1", port, 60000).ok()) return {};
  (void)cl.Command({"SET", "probe", "x"});
  std::vector<double> lat;
  const auto start = Clock::now();
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds) {
    auto t0 = Clock::now();
    auto r = cl.Command({"GET", "probe"});
    auto t1 = Clock::now();
    if (!r.ok()) break;
    lat.push_back(ElapsedUs(t0, t1));
    // Paced like an interactive client, so the probe itself is not a load.
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return Summarize(std::move(lat), std::chrono::duration<double>(Clock::now() - start).count());
}

// One client, the four paths interleaved block by block (see the header).
constexpr const char* kInlineWhenIdle = "1000";

// The server's configured inline budgets, restored after each experiment.
struct InlineBudgets {
  std::string max_us, solo_max_us;
};

void SetBudgets(ragkv::resp::RespClient& cl, const InlineBudgets& b) {
  ConfigSet(cl, "search-inline-max-us", b.max_us);
  ConfigSet(cl, "search-inline-solo-max-us", b.solo_max_us);
}

void SingleClientInterleaved(const Workload& w, ragkv::resp::RespClient& cl, int server_pid,
                             const InlineBudgets& configured) {
  enum Path { kInProcess, kWorker, kInline, kPing, kPaths };
  const std::string names[kPaths] = {"in-process VectorIndex::Search",
                                     "FT.SEARCH on a worker (both budgets 0)",
                                     "FT.SEARCH, configured budgets " + configured.max_us + "/" +
                                         configured.solo_max_us + " us (solo: inline)",
                                     "PING (loopback round trip)"};
  std::vector<double> lat[kPaths];
  int64_t cpu_ns[kPaths] = {}, client_cpu_ns[kPaths] = {};
  double hits[kPaths] = {};
  const size_t nq = w.nq(), k = w.o->k;
  int64_t to_worker_us = 0, to_loop_us = 0;  // the worker path's hand-off waits
  auto run_block = [&](Path p, size_t first, size_t end, bool record) {
    if (p == kWorker) SetBudgets(cl, {"0", "0"});
    if (p == kInline) SetBudgets(cl, configured);
    const int64_t to_worker0 = p == kWorker ? InfoStat(cl, "ragkv_deferred_to_worker_us") : 0;
    const int64_t to_loop0 = p == kWorker ? InfoStat(cl, "ragkv_deferred_to_loop_us") : 0;
    const int64_t server0 = ProcessCpuNs(server_pid), self0 = ThreadCpuNs();
    for (size_t i = first; i < end; ++i) {
      auto t0 = Clock::now();
      std::vector<uint64_t> ids;
      if (p == kInProcess) {
        auto r = w.index->Search(std::span<const float>(w.q->row(i), w.q->dim), k, {.ef = w.o->ef});
        if (r.ok()) {
          for (const auto& nb : *r) ids.push_back(nb.label);
        }
      } else if (p == kPing) {
        (void)cl.Command({"PING"});
      } else {
        auto r = cl.Command(KnnArgv(w.knn, Blob(w.q->row(i), w.q->dim)));
        if (r.ok() && !r->is_error()) {
          for (size_t e = 1; e < r->elements.size(); e += 2) {
            ids.push_back(std::stoull(r->elements[e].str.substr(4)));
          }
        }
      }
      const double us = ElapsedUs(t0, Clock::now());
      if (!record) continue;
      lat[p].push_back(us);
      if (w.have_gt) {
        for (uint64_t id : ids) {
          for (size_t j = 0; j < k; ++j) hits[p] += w.gt->row(i)[j] == static_cast<float>(id);
        }
      }
    }
    if (!record) return;
    client_cpu_ns[p] += ThreadCpuNs() - self0;
    if (p == kWorker) {
      to_worker_us += InfoStat(cl, "ragkv_deferred_to_worker_us") - to_worker0;
      to_loop_us += InfoStat(cl, "ragkv_deferred_to_loop_us") - to_loop0;
    }
    cpu_ns[p] += p == kInProcess ? ThreadCpuNs() - self0 : ProcessCpuNs(server_pid) - server0;
  };
  // Warm-up: caches, connections, and the server's learned cost per shape.
  for (int p = 0; p < kPaths; ++p)
    run_block(static_cast<Path>(p), 0, std::min<size_t>(nq, 200), false);
  size_t rotation = 0;
  for (size_t round = 0; round < w.o->rounds; ++round) {
    for (size_t first = 0; first < nq; first += w.o->block) {
      const size_t end = std::min(nq, first + w.o->block);
      for (int j = 0; j < kPaths; ++j)
        run_block(static_cast<Path>((rotation + j) % kPaths), first, end, true);
      ++rotation;
    }
  }
  SetBudgets(cl, configured);
  Stats s[kPaths];
  for (int p = 0; p < kPaths; ++p) s[p] = Summarize(lat[p], 1);
  std::printf(
      "\n### One client, k=%zu ef=%zu: %zu queries x %zu rounds, interleaved in blocks of %zu\n", k,
      w.o->ef, nq, w.o->rounds, w.o->block);
  std::printf("| path | p50 us | p99 us | mean us | CPU us/query | recall@%zu |\n", k);
  std::printf("|---|---|---|---|---|---|\n");
  for (int p = 0; p < kPaths; ++p) {
    const double n = static_cast<double>(s[p].count);
    std::string recall = "-";
    if (w.have_gt && p != kPing)
      recall = std::to_string(hits[p] / (n * static_cast<double>(k))).substr(0, 5);
    std::printf("| %s | %.1f | %.1f | %.1f | %.1f%s | %s |\n", names[p].c_str(), s[p].p50_us,
                s[p].p99_us, s[p].mean_us, static_cast<double>(cpu_ns[p]) / 1000.0 / n,
                p == kInProcess ? "" : " (server)", recall.c_str());
  }
  const double in_cpu =
      static_cast<double>(cpu_ns[kInProcess]) / static_cast<double>(s[kInProcess].count);
  for (Path p : {kWorker, kInline}) {
    const double cpu = static_cast<double>(cpu_ns[p]) / static_cast<double>(s[p].count);
    std::printf(
        "%s: p50 overhead %+.1f us = %+.1f%% of in-process; server CPU overhead %+.1f us = "
        "%+.1f%%; client CPU %.1f us/query\n",
        p == kWorker ? "worker" : "configured", s[p].p50_us - s[kInProcess].p50_us,
        100.0 * (s[p].p50_us - s[kInProcess].p50_us) / s[kInProcess].p50_us,
        (cpu - in_cpu) / 1000.0, 100.0 * (cpu - in_cpu) / in_cpu,
        static_cast<double>(client_cpu_ns[p]) / 1000.0 / static_cast<double>(s[p].count));
  }
  std::printf(
      "worker hand-off waits (server clocks, mean): loop -> worker %.1f us, "
      "worker -> loop %.1f us\n",
      static_cast<double>(to_worker_us) / static_cast<double>(s[kWorker].count),
      static_cast<double>(to_loop_us) / static_cast<double>(s[kWorker].count));
  std::printf("floor: PING p50 %.1f us = %.1f%% of in-process p50\n", s[kPing].p50_us,
              100.0 * s[kPing].p50_us / s[kInProcess].p50_us);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i], v = argv[i + 1];
    if (a == "--port")
      o.port = std::stoi(v);
    else if (a == "--base")
      o.base = v;
    else if (a == "--queries")
      o.queries = v;
    else if (a == "--gt")
      o.gt = v;
    else if (a == "--n")
      o.n = std::stoul(v);
    else if (a == "--k")
      o.k = std::stoul(v);
    else if (a == "--ef")
      o.ef = std::stoul(v);
    else if (a == "--seconds")
      o.seconds = std::stod(v);
    else if (a == "--max-queries")
      o.max_queries = std::stoul(v);
    else if (a == "--rounds")
      o.rounds = std::stoul(v);
    else if (a == "--block")
      o.block = std::max<size_t>(1, std::stoul(v));
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
  auto info = cl.Command({"INFO", "server"});
  int server_pid = 0;
  if (info.ok()) {
    const size_t at = info->str.find("process_id:");
    if (at != std::string::npos) server_pid = std::atoi(info->str.c_str() + at + 11);
  }
  auto inline_cfg = cl.Command({"CONFIG", "GET", "search-inline-*"});
  if (server_pid <= 0 || !inline_cfg.ok() || inline_cfg->elements.size() != 4) {
    std::fprintf(stderr, "needs a local ragkv serve with search-inline-max-us\n");
    return 1;
  }
  // Sorted by name: search-inline-max-us, search-inline-solo-max-us.
  const InlineBudgets configured{inline_cfg->elements[1].str, inline_cfg->elements[3].str};
  (void)cl.Command({"FLUSHALL"});
  (void)cl.Command({"FT.DROPINDEX", "idx"});
  auto created = cl.Command({"FT.CREATE",
                             "idx",
                             "ON",
                             "HASH",
                             "PREFIX",
                             "1",
                             "doc:",
                             "SCHEMA",
                             "v",
                             "VECTOR",
                             "HNSW",
                             "10",
                             "TYPE",
                             "FLOAT32",
                             "DIM",
                             std::to_string(dim),
                             "DISTANCE_METRIC",
                             "L2",
                             "M",
                             "16",
                             "EF_CONSTRUCTION",
                             "200",
                             "bucket",
                             "TAG"});
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
  if (!index.ok()) return 1;
  for (size_t i = 0; i < base.rows; ++i) {
    (void)(*index)->Add(i, std::span<const float>(base.row(i), dim));
  }
  Workload w{
      &o,
      &q,
      &gt,
      have_gt,
      index->get(),
      std::make_unique<ragkv::vec::BitmapFilter>(base.rows),
      "*=>[KNN " + std::to_string(o.k) + " @v $B EF_RUNTIME " + std::to_string(o.ef) + " AS d]",
      "@bucket:{7}=>[KNN " + std::to_string(o.k) + " @v $B EF_RUNTIME " + std::to_string(o.ef) +
          " AS d]"};
  for (size_t i = 7; i < base.rows; i += 100) w.bucket7->Set(i);

  SingleClientInterleaved(w, cl, server_pid, configured);

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::printf(
      "\n### Throughput: %.0f s per point; in-process uses min(clients, %d cores) threads\n",
      o.seconds, cores);
  std::printf(
      "| clients | query | RESP QPS | p50 us | p99 us | server CPU us/query | "
      "in-process QPS | p50 us | p99 us | CPU us/query |\n"
      "|---|---|---|---|---|---|---|---|---|---|\n");
  for (bool filter : {false, true}) {
    for (int c : o.clients) {
      double cpu_us = 0, in_cpu_us = 0;
      Stats r = RunLoad(w, false, filter, c, o.seconds, server_pid, &cpu_us);
      Stats in = RunLoad(w, true, filter, std::min(c, cores), o.seconds, 0, &in_cpu_us);
      std::printf("| %d | %sKNN %zu | %.0f | %.0f | %.0f | %.1f | %.0f | %.0f | %.0f | %.1f |\n", c,
                  filter ? "1% filter + " : "", o.k, r.qps, r.p50_us, r.p99_us, cpu_us, in.qps,
                  in.p50_us, in.p99_us, in_cpu_us);
      std::fflush(stdout);
    }
  }

  // Returns the probe's stats; *search_qps is the background load achieved.
  auto get_under_load = [&](int clients, const InlineBudgets& budgets, double* search_qps) {
    SetBudgets(cl, budgets);
    std::atomic<bool> stop{false};
    Stats load_stats;
    std::thread load(
        [&] { load_stats = RunLoad(w, false, false, clients, 0, 0, nullptr, &stop, /*nice=*/10); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    Stats s = RunGets(o.port, o.seconds);
    stop = true;
    load.join();
    *search_qps = load_stats.qps;
    SetBudgets(cl, configured);
    return s;
  };
  Stats idle1 = RunGets(o.port, o.seconds);
  double qps8 = 0, qps1w = 0, qps1i = 0;
  Stats busy8 = get_under_load(8, configured, &qps8);
  Stats busy1w = get_under_load(1, configured, &qps1w);
  Stats busy1i = get_under_load(1, {kInlineWhenIdle, kInlineWhenIdle}, &qps1i);
  Stats idle2 = RunGets(o.port, o.seconds);
  std::printf(
      "\n### GET probe (one GET per 200 us; load clients at nice 10)\n"
      "| GET | p50 us | p99 us | background FT.SEARCH QPS |\n|---|---|---|---|\n");
  std::printf("| idle (before) | %.0f | %.0f | 0 |\n", idle1.p50_us, idle1.p99_us);
  std::printf("| during 8-client FT.SEARCH load (configured budgets) | %.0f | %.0f | %.0f |\n",
              busy8.p50_us, busy8.p99_us, qps8);
  std::printf("| during 1-client FT.SEARCH load (configured budgets) | %.0f | %.0f | %.0f |\n",
              busy1w.p50_us, busy1w.p99_us, qps1w);
  std::printf("| during 1-client FT.SEARCH load, every search inline (%s) | %.0f | %.0f | %.0f |\n",
              kInlineWhenIdle, busy1i.p50_us, busy1i.p99_us, qps1i);
  std::printf("| idle (after) | %.0f | %.0f | 0 |\n", idle2.p50_us, idle2.p99_us);
  const double idle_p99 = std::max(idle1.p99_us, idle2.p99_us);
  std::printf(
      "GET p99 loaded / worse idle p99: 8 clients %.1fx, 1 client %.1fx, "
      "1 client all inline %.1fx\n",
      busy8.p99_us / idle_p99, busy1w.p99_us / idle_p99, busy1i.p99_us / idle_p99);
  return 0;
}
