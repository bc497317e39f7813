// AofWriter under appendfsync always on the real disk: N threads each commit
// one SET at a time (Append + WaitDurable, as a server replying to N clients),
// with group commit (the writer) versus the naive baseline that does
// write + fdatasync per record under a mutex. Reports commits/s and fsyncs.
//
//   cmake -S . -B build/release -DRAGKV_BUILD_BENCH=ON
//   cmake --build build/release -j2 --target aof_writer_bench
//   build/release/bench/persistence/aof_writer_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <string>

#include "persistence/aof.h"

namespace ragkv::persistence {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/ragkv-aofbench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) std::abort();
  return tmpl;
}

struct Shared {
  std::string dir;
  std::unique_ptr<WritableFile> naive_file;
  std::unique_ptr<AofWriter> writer;
  std::mutex naive_mu;
};
Shared* g_shared = nullptr;

void Setup(const benchmark::State& state, bool group) {
  g_shared = new Shared;
  g_shared->dir = TempDir();
  auto file = DefaultFileSystem()->NewWritableFile(g_shared->dir + "/a.aof");
  if (!file.ok() || !(*file)->Append(AofFileHeader()).ok()) std::abort();
  if (group) {
    g_shared->writer = std::make_unique<AofWriter>(std::move(*file), FsyncPolicy::kAlways);
  } else {
    g_shared->naive_file = std::move(*file);
  }
  (void)state;
}

void Teardown(const benchmark::State&) {
  g_shared->writer.reset();
  std::filesystem::remove_all(g_shared->dir);
  delete g_shared;
  g_shared = nullptr;
}

void BM_GroupCommit(benchmark::State& state) {
  const std::string key = "key:" + std::to_string(state.thread_index());
  for (auto _ : state) {
    const uint64_t off = g_shared->writer->Append(0, {"SET", key, "value-of-16-bytes"});
    if (!g_shared->writer->WaitDurable(off).ok()) state.SkipWithError("write failed");
  }
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    state.counters["fsyncs"] = static_cast<double>(g_shared->writer->stats().fsyncs);
  }
}

void BM_FsyncPerRecord(benchmark::State& state) {
  const std::string key = "key:" + std::to_string(state.thread_index());
  const std::string_view argv[] = {"SET", key, "value-of-16-bytes"};
  std::string record;
  for (auto _ : state) {
    record.clear();
    AppendCommandRecord(argv, &record);
    std::lock_guard<std::mutex> lock(g_shared->naive_mu);
    if (!g_shared->naive_file->Append(record).ok() || !g_shared->naive_file->Sync().ok()) {
      state.SkipWithError("write failed");
    }
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_GroupCommit)
    ->Setup([](const benchmark::State& s) { Setup(s, true); })
    ->Teardown(Teardown)
    ->ThreadRange(1, 32)
    ->UseRealTime();
BENCHMARK(BM_FsyncPerRecord)
    ->Setup([](const benchmark::State& s) { Setup(s, false); })
    ->Teardown(Teardown)
    ->ThreadRange(1, 32)
    ->UseRealTime();

}  // namespace
}  // namespace ragkv::persistence

BENCHMARK_MAIN();
