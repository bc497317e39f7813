// Background backfill slices in process: how much CPU one 1 ms slice really
// takes (the budget is checked between keys, so one slow HNSW insert can
// overshoot it), and the total backfill rate, next to the same index built
// synchronously in one pass over the same keyspace.
//
// Usage: backfill_slices [n_docs] [dim]   (HNSW M 16, EF_CONSTRUCTION 200, L2)
// Every figure is thread CPU time (CLOCK_THREAD_CPUTIME_ID), so a busy shared
// machine's preemptions count neither as slice time nor as backfill time.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "search/index_manager.h"
#include "search/schema.h"

namespace {

double ThreadCpuUs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}


}  // namespace

int main(int argc, char** argv) {
  using namespace ragkv;
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const int dim = argc > 2 ? std::atoi(argv[2]) : 128;
  store::Keyspace keyspace(1);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform;
  std::vector<float> v(static_cast<size_t>(dim));
  for (int i = 0; i < n; ++i) {
    for (float& x : v) x = uniform(rng);
    store::Object hash = store::Object::NewHash();
    hash.hash().emplace("v", std::string(reinterpret_cast<const char*>(v.data()),
                                         v.size() * sizeof(float)));
    keyspace.db(0).Set("d:" + std::to_string(i), std::move(hash));
  }
  const std::vector<std::string> args = {"idx", "PREFIX", "1", "d:", "SCHEMA", "v", "VECTOR",
                                         "HNSW", "6", "TYPE", "FLOAT32", "DIM",
                                         std::to_string(dim), "DISTANCE_METRIC", "L2"};
  const std::vector<std::string_view> views(args.begin(), args.end());

  search::IndexManager sync;
  double t0 = ThreadCpuUs();
  if (!sync.Create(*search::ParseFtCreate(views), 0, keyspace.db(0)).ok()) return 1;
  const double sync_s = (ThreadCpuUs() - t0) / 1e6;

  search::IndexManager background;
  background.set_backfill_mode(search::BackfillMode::kBackground);
  t0 = ThreadCpuUs();
  double cpu = t0;
  if (!background.Create(*search::ParseFtCreate(views), 0, keyspace.db(0)).ok()) return 1;
  const double create_us = ThreadCpuUs() - cpu;
  std::vector<double> slices;
  while (background.backfilling()) {
    cpu = ThreadCpuUs();
    background.BackfillStep(search::BackfillBudget::For(std::chrono::microseconds(1000)));
    slices.push_back(ThreadCpuUs() - cpu);
  }
  const double background_s = (ThreadCpuUs() - t0) / 1e6;
  std::sort(slices.begin(), slices.end());
  auto pct = [&](double p) { return slices[std::min(slices.size() - 1, size_t(p * slices.size()))]; };
  std::printf("%d docs, dim %d: synchronous %.2f s (%.0f docs/s), background %.2f s (%.0f docs/s, "
              "x%.2f)\n",
              n, dim, sync_s, n / sync_s, background_s, n / background_s, background_s / sync_s);
  std::printf("FT.CREATE inline slice %.0f us CPU; %zu slices of 1 ms: CPU p50 %.0f p99 %.0f "
              "max %.0f us\n",
              create_us, slices.size(), pct(0.5), pct(0.99), slices.back());
  return 0;
}
