// Restarting a vector index two ways, in one process on the same vectors:
// rebuild it (insert every vector one at a time, as FT.CREATE's initial scan
// does at startup) vs save it in the vector engine's own format
// (VectorIndex::Save, docs/formats/vector_index.md) and load it back.
//
// Usage: vector_load_bench [N=100000] [DIM=128] [M=16] [EF_CONSTRUCTION=200]
// Prints one line of key=value timings; the vectors are uniform in [-1, 1]
// from a fixed seed. The end-to-end server restart is bench/persistence/
// vector_restart.sh.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "index/vector/vector_index.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int Fail(const ragkv::Status& s) {
  std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const size_t dim = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 128;
  ragkv::vec::IndexSpec spec;
  spec.dim = dim;
  spec.m = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 16;
  spec.ef_construction = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 200;

  std::mt19937_64 rng(42);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> data(n * dim);
  for (float& x : data) x = u(rng);

  auto index = ragkv::vec::VectorIndex::Create(spec);
  if (!index.ok()) return Fail(index.status());
  const auto build_start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; ++i) {
    ragkv::Status s = (*index)->Add(i, std::span<const float>(data.data() + i * dim, dim));
    if (!s.ok()) return Fail(s);
  }
  const double build_s = Seconds(build_start);

  const std::string path = "/tmp/vector_load_bench." + std::to_string(::getpid()) + ".rkv";
  const auto save_start = std::chrono::steady_clock::now();
  ragkv::Status saved = (*index)->Save(path);
  if (!saved.ok()) return Fail(saved);
  const double save_s = Seconds(save_start);
  FILE* f = std::fopen(path.c_str(), "rb");
  long bytes = -1;
  if (f != nullptr) {
    std::fseek(f, 0, SEEK_END);
    bytes = std::ftell(f);
    std::fclose(f);
  }

  const auto load_start = std::chrono::steady_clock::now();
  auto loaded = ragkv::vec::VectorIndex::Load(path);
  const double load_s = Seconds(load_start);
  std::remove(path.c_str());
  if (!loaded.ok()) return Fail(loaded.status());
  if ((*loaded)->size() != n) {
    std::fprintf(stderr, "error: loaded %zu of %zu vectors\n", (*loaded)->size(), n);
    return 1;
  }
  std::printf(
      "n=%zu dim=%zu m=%zu ef_construction=%zu rebuild_s=%.3f save_s=%.3f load_s=%.3f "
      "file_mib=%.1f rebuild_over_load=%.1f\n",
      n, dim, spec.m, spec.ef_construction, build_s, save_s, load_s,
      static_cast<double>(bytes) / (1 << 20), build_s / load_s);
  return 0;
}
