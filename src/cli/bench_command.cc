// `ragkv bench ann`: recall / QPS / latency of the vector index on standard
// files (TEXMEX .fvecs/.ivecs, big-ann .fbin/.u8bin/.ibin) or on a seeded
// synthetic clustered set.
//
// Protocol (shared/specs/ann-performance.md, the same as bench/ann's
// hnswlib/FAISS harness so numbers compare side by side): build once, then for
// every ef run every query one call at a time on one thread, `reps` times,
// keep the median QPS; latency percentiles come from the median run. Recall@k
// is |returned ∩ true top-k| / k against the ground-truth file (or, with a
// filter or synthetic data, against an exact FLAT scan computed here).
#include <algorithm>
#include <chrono>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/subcommand.h"
#include "index/vector/vector_index.h"

namespace ragkv::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Matrix {
  size_t rows = 0, cols = 0;
  std::vector<float> data;
};

struct IdMatrix {
  size_t rows = 0, cols = 0;
  std::vector<uint32_t> data;
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Result<std::string> Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// TEXMEX: per row an int32 dimension then the values. big-ann: u32 rows, u32
// cols, then rows*cols values.
template <typename T>
Result<std::pair<size_t, size_t>> ParseVecs(const std::string& bytes, const std::string& path,
                                            bool texmex, std::vector<T>* out) {
  size_t rows, cols;
  const char* p = bytes.data();
  if (texmex) {
    int32_t d = 0;
    if (bytes.size() < 4) return Status::InvalidArgument(path + ": empty file");
    std::memcpy(&d, p, 4);
    if (d <= 0) return Status::InvalidArgument(path + ": bad dimension");
    cols = static_cast<size_t>(d);
    const size_t row = 4 + cols * sizeof(T);
    if (bytes.size() % row != 0) return Status::InvalidArgument(path + ": size is not rows x dim");
    rows = bytes.size() / row;
    out->resize(rows * cols);
    for (size_t i = 0; i < rows; ++i) {
      std::memcpy(&d, p + i * row, 4);
      if (static_cast<size_t>(d) != cols) return Status::InvalidArgument(path + ": ragged rows");
      std::memcpy(out->data() + i * cols, p + i * row + 4, cols * sizeof(T));
    }
  } else {
    uint32_t r = 0, c = 0;
    if (bytes.size() < 8) return Status::InvalidArgument(path + ": empty file");
    std::memcpy(&r, p, 4);
    std::memcpy(&c, p + 4, 4);
    rows = r, cols = c;
    if (cols == 0 || bytes.size() != 8 + rows * cols * sizeof(T)) {
      return Status::InvalidArgument(path + ": size does not match its header");
    }
    out->resize(rows * cols);
    std::memcpy(out->data(), p + 8, rows * cols * sizeof(T));
  }
  return std::make_pair(rows, cols);
}

Result<Matrix> ReadVectors(const std::string& path) {
  RAGKV_ASSIGN_OR_RETURN(std::string bytes, Slurp(path));
  Matrix m;
  if (EndsWith(path, ".fvecs") || EndsWith(path, ".fbin")) {
    RAGKV_ASSIGN_OR_RETURN(auto shape, ParseVecs<float>(bytes, path, EndsWith(path, ".fvecs"), &m.data));
    m.rows = shape.first, m.cols = shape.second;
    return m;
  }
  if (EndsWith(path, ".u8bin") || EndsWith(path, ".bvecs") || EndsWith(path, ".i8bin")) {
    const bool is_signed = EndsWith(path, ".i8bin");
    std::vector<uint8_t> raw;
    RAGKV_ASSIGN_OR_RETURN(auto shape, ParseVecs<uint8_t>(bytes, path, EndsWith(path, ".bvecs"), &raw));
    m.rows = shape.first, m.cols = shape.second;
    m.data.resize(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      m.data[i] = is_signed ? static_cast<float>(static_cast<int8_t>(raw[i])) : raw[i];
    }
    return m;
  }
  return Status::InvalidArgument(path + ": unknown extension (.fvecs .bvecs .fbin .u8bin .i8bin)");
}

Result<IdMatrix> ReadIds(const std::string& path) {
  RAGKV_ASSIGN_OR_RETURN(std::string bytes, Slurp(path));
  IdMatrix m;
  if (!EndsWith(path, ".ivecs") && !EndsWith(path, ".ibin")) {
    return Status::InvalidArgument(path + ": unknown extension (.ivecs .ibin)");
  }
  RAGKV_ASSIGN_OR_RETURN(auto shape, ParseVecs<uint32_t>(bytes, path, EndsWith(path, ".ivecs"), &m.data));
  m.rows = shape.first, m.cols = shape.second;
  return m;
}

// Seeded clustered Gaussian data (the scaling benchmark's "synthetic d=128"):
// cluster centres from `center_seed`, points around them from `point_seed`.
Matrix Synthetic(size_t n, size_t dim, size_t clusters, uint64_t center_seed,
                 uint64_t point_seed) {
  std::mt19937_64 crng(center_seed);
  std::normal_distribution<float> g;
  std::vector<float> centers(clusters * dim);
  for (float& c : centers) c = 3 * g(crng);
  std::mt19937_64 rng(point_seed);
  Matrix m;
  m.rows = n, m.cols = dim;
  m.data.resize(n * dim);
  for (size_t i = 0; i < n; ++i) {
    const size_t c = rng() % clusters;
    for (size_t d = 0; d < dim; ++d) m.data[i * dim + d] = centers[c * dim + d] + g(rng);
  }
  return m;
}

struct Options {
  std::string base, queries, gt;
  std::string metric = "l2";
  std::string type = "float32";
  size_t m = 16, ef_construction = 200, k = 10, threads = 1, reps = 3;
  std::string efs = "10,20,40,80,160,320";
  double filter_fraction = 0;
  size_t max_queries = 0;
  size_t synthetic = 0, dim = 128, clusters = 1000, synthetic_queries = 1000;
  float quant_min = NAN, quant_max = NAN;
  bool json = false;
  std::string save, load;
};

struct Row {
  size_t ef;
  double recall, qps, p50_us, p99_us, p999_us, distances;
};

Result<std::vector<size_t>> ParseEfs(const std::string& s) {
  std::vector<size_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || v == 0) return Status::InvalidArgument("bad --ef list: " + s);
    out.push_back(v);
  }
  return out;
}

// Exact top-k (labels = row numbers) with an optional filter, computed with a
// FLAT index on `threads` threads.
IdMatrix ExactTruth(const Matrix& base, const Matrix& queries, size_t k, vec::Metric metric,
                    const vec::Filter* filter, size_t threads) {
  vec::IndexSpec spec;
  spec.algorithm = vec::Algorithm::kFlat;
  spec.dim = base.cols;
  spec.metric = metric;
  spec.initial_cap = base.rows;
  auto flat = std::move(vec::VectorIndex::Create(spec)).value();
  for (size_t i = 0; i < base.rows; ++i) {
    (void)flat->Add(i, std::span<const float>(base.data.data() + i * base.cols, base.cols));
  }
  IdMatrix gt;
  gt.rows = queries.rows, gt.cols = k;
  gt.data.assign(gt.rows * k, UINT32_MAX);
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (size_t q = t; q < queries.rows; q += threads) {
        vec::SearchParams p;
        p.filter = filter;
        auto hits = flat->Search(
            std::span<const float>(queries.data.data() + q * queries.cols, queries.cols), k, p);
        if (!hits.ok()) continue;
        for (size_t j = 0; j < hits->size(); ++j) {
          gt.data[q * k + j] = static_cast<uint32_t>((*hits)[j].label);
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  return gt;
}

// A "Name:   123 kB" field of a /proc file, in KiB (0 if absent).
long ProcKiB(const char* file, const std::string& name) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) == 0) return std::strtol(line.c_str() + name.size(), nullptr, 10);
  }
  return 0;
}

long RssKiB() { return ProcKiB("/proc/self/status", "VmRSS:"); }

int RunAnn(const Options& o) {
  auto fail = [](const Status& s) {
    std::fprintf(stderr, "bench ann: %s\n", s.ToString().c_str());
    return 1;
  };
  auto metric = vec::ParseMetric(o.metric);
  auto type = vec::ParseElementType(o.type);
  if (!metric) return fail(Status::InvalidArgument("--metric must be l2, ip or cosine"));
  if (!type) return fail(Status::InvalidArgument("--type must be float32|float64|float16|bfloat16|int8|uint8"));
  auto efs = ParseEfs(o.efs);
  if (!efs.ok()) return fail(efs.status());

  Matrix base, queries;
  IdMatrix gt;
  if (o.synthetic > 0) {
    base = Synthetic(o.synthetic, o.dim, o.clusters, 42, 1);
    queries = Synthetic(o.synthetic_queries, o.dim, o.clusters, 42, 2);
  } else {
    if (o.base.empty() || o.queries.empty()) {
      return fail(Status::InvalidArgument("--base and --queries (or --synthetic N) are required"));
    }
    auto b = ReadVectors(o.base);
    if (!b.ok()) return fail(b.status());
    base = std::move(b).value();
    auto q = ReadVectors(o.queries);
    if (!q.ok()) return fail(q.status());
    queries = std::move(q).value();
    if (queries.cols != base.cols) return fail(Status::InvalidArgument("query and base dims differ"));
  }
  if (o.max_queries > 0 && queries.rows > o.max_queries) {
    queries.rows = o.max_queries;
    queries.data.resize(queries.rows * queries.cols);
  }
  const size_t dim = base.cols;

  // Filter: a seeded random subset of the base rows.
  std::unique_ptr<vec::BitmapFilter> filter;
  if (o.filter_fraction > 0) {
    filter = std::make_unique<vec::BitmapFilter>(base.rows);
    std::mt19937_64 rng(99);
    std::uniform_real_distribution<double> u(0, 1);
    for (size_t i = 0; i < base.rows; ++i) {
      if (u(rng) < o.filter_fraction) filter->Set(i);
    }
  }
  const size_t gt_threads = std::max(1u, std::thread::hardware_concurrency());
  if (filter || o.synthetic > 0 || o.gt.empty()) {
    const auto t0 = Clock::now();
    gt = ExactTruth(base, queries, o.k, *metric, filter.get(), gt_threads);
    std::fprintf(stderr, "exact ground truth: %.1f s\n",
                 std::chrono::duration<double>(Clock::now() - t0).count());
  } else {
    auto g = ReadIds(o.gt);
    if (!g.ok()) return fail(g.status());
    gt = std::move(g).value();
    if (gt.rows < queries.rows || gt.cols < o.k) {
      return fail(Status::InvalidArgument("ground truth has fewer rows or columns than needed"));
    }
  }

  vec::IndexSpec spec;
  spec.algorithm = vec::Algorithm::kHnsw;
  spec.dim = dim;
  spec.metric = *metric;
  spec.type = *type;
  spec.m = o.m;
  spec.ef_construction = o.ef_construction;
  spec.initial_cap = base.rows;
  if (*type == vec::ElementType::kInt8 || *type == vec::ElementType::kUint8) {
    float lo = o.quant_min, hi = o.quant_max;
    if (std::isnan(lo) || std::isnan(hi)) {
      // Integer data inside the type's natural range is stored exactly with
      // the index's default range; anything else uses the data's own range.
      lo = *std::min_element(base.data.begin(), base.data.end());
      hi = *std::max_element(base.data.begin(), base.data.end());
      const bool integral = std::all_of(base.data.begin(), base.data.end(),
                                        [](float x) { return x == std::nearbyint(x); });
      const float natural_lo = *type == vec::ElementType::kUint8 ? 0.0f : -128.0f;
      if (integral && lo >= natural_lo && hi <= natural_lo + 255.0f) {
        lo = hi = NAN;  // the index default
      } else if (!(lo < hi)) {
        hi = lo + 1;
      }
    }
    spec.quant_min = lo;
    spec.quant_max = hi;
  }

  const long rss0 = RssKiB();
  std::unique_ptr<vec::VectorIndex> index;
  double build_s = 0, load_s = 0;
  if (!o.load.empty()) {
    const auto t0 = Clock::now();
    auto loaded = vec::VectorIndex::Load(o.load);
    if (!loaded.ok()) return fail(loaded.status());
    index = std::move(loaded).value();
    load_s = std::chrono::duration<double>(Clock::now() - t0).count();
  } else {
    auto created = vec::VectorIndex::Create(spec);
    if (!created.ok()) return fail(created.status());
    index = std::move(created).value();
    std::vector<uint64_t> labels(base.rows);
    for (size_t i = 0; i < base.rows; ++i) labels[i] = i;
    const auto t0 = Clock::now();
    Status s = index->AddBatch(labels, base.data, o.threads);
    build_s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!s.ok()) return fail(s);
  }
  const long rss1 = RssKiB();
  const long huge_kib = ProcKiB("/proc/self/smaps_rollup", "AnonHugePages:");
  if (!o.save.empty()) {
    Status s = index->Save(o.save);
    if (!s.ok()) return fail(s);
  }
  const vec::IndexStats stats = index->Stats();

  std::vector<Row> rows;
  std::vector<double> lat(queries.rows);
  for (size_t ef : *efs) {
    if (ef < o.k) continue;
    std::vector<std::pair<double, std::vector<double>>> runs;
    double recall = 0;
    size_t distances = 0;
    for (size_t rep = 0; rep < o.reps; ++rep) {
      size_t hits = 0;
      const auto t0 = Clock::now();
      for (size_t q = 0; q < queries.rows; ++q) {
        vec::SearchParams p;
        vec::SearchStats search_stats;
        p.ef = ef;
        p.filter = filter.get();
        p.stats = &search_stats;
        const auto s0 = Clock::now();
        auto r = index->Search(std::span<const float>(queries.data.data() + q * dim, dim), o.k, p);
        lat[q] = std::chrono::duration<double, std::micro>(Clock::now() - s0).count();
        if (!r.ok()) return fail(r.status());
        if (rep == 0) {
          distances += search_stats.distances;
          const uint32_t* truth = gt.data.data() + q * gt.cols;
          for (const auto& n : *r) {
            hits += std::find(truth, truth + o.k, static_cast<uint32_t>(n.label)) != truth + o.k;
          }
        }
      }
      const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      if (rep == 0) recall = static_cast<double>(hits) / static_cast<double>(queries.rows * o.k);
      runs.emplace_back(static_cast<double>(queries.rows) / secs, lat);
    }
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    auto& median = runs[runs.size() / 2];
    std::sort(median.second.begin(), median.second.end());
    const auto pct = [&](double p) {
      return median.second[std::min(median.second.size() - 1,
                                     static_cast<size_t>(p * static_cast<double>(median.second.size())))];
    };
    rows.push_back({ef, recall, median.first, pct(0.50), pct(0.99), pct(0.999),
                    static_cast<double>(distances) / static_cast<double>(queries.rows)});
  }

  const double rss_mib = static_cast<double>(rss1 - rss0) / 1024.0;
  const double index_mib = static_cast<double>(stats.memory_bytes) / (1 << 20);
  if (o.json) {
    for (const Row& r : rows) {
      std::printf(
          "{\"engine\":\"ragkv\",\"type\":\"%s\",\"n\":%zu,\"dim\":%zu,\"m\":%zu,\"efc\":%zu,"
          "\"ef\":%zu,\"k\":%zu,\"filter\":%g,\"recall\":%.4f,\"distances\":%.0f,"
          "\"qps\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,\"build_s\":%.2f,\"load_s\":%.3f,"
          "\"index_mib\":%.1f,\"rss_mib\":%.1f,\"huge_mib\":%.0f,\"kernels\":\"%s\"}\n",
          o.type.c_str(), base.rows, dim, o.m, o.ef_construction, r.ef, o.k, o.filter_fraction,
          r.recall, r.distances, r.qps, r.p50_us, r.p99_us, r.p999_us, build_s, load_s,
          index_mib, rss_mib, static_cast<double>(huge_kib) / 1024.0, std::string(vec::KernelLevel()).c_str());
    }
    return 0;
  }
  std::printf("ragkv HNSW %s  n=%zu dim=%zu M=%zu efC=%zu k=%zu threads=%zu kernels=%s%s\n",
              o.type.c_str(), base.rows, dim, o.m, o.ef_construction, o.k, o.threads,
              std::string(vec::KernelLevel()).c_str(),
              filter ? (" filter=" + std::to_string(o.filter_fraction)).c_str() : "");
  std::printf("build %.2f s  load %.3f s  index %.1f MiB  rss +%.1f MiB  huge pages %.0f MiB  "
              "max_level %d  unreachable %zu\n",
              build_s, load_s, index_mib, rss_mib, static_cast<double>(huge_kib) / 1024.0,
              stats.max_level, stats.unreachable);
  std::printf("%6s %9s %9s %10s %9s %9s %9s %9s\n", "ef", "recall", "dist/q", "QPS", "mean us",
              "p50 us", "p99 us", "p99.9 us");
  for (const Row& r : rows) {
    std::printf("%6zu %9.4f %9.0f %10.1f %9.1f %9.1f %9.1f %9.1f\n", r.ef, r.recall, r.distances,
                r.qps, 1e6 / r.qps, r.p50_us, r.p99_us, r.p999_us);
  }
  return 0;
}

std::function<int()> SetupBench(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks");
  bench->require_subcommand(1);
  auto* ann = bench->add_subcommand("ann", "Vector index recall / QPS / latency (HNSW)");
  auto o = std::make_shared<Options>();
  ann->add_option("--base", o->base, "Base vectors (.fvecs .bvecs .fbin .u8bin .i8bin)");
  ann->add_option("--queries", o->queries, "Query vectors (same formats)");
  ann->add_option("--gt", o->gt, "Ground truth ids (.ivecs .ibin); computed exactly if absent");
  ann->add_option("--metric", o->metric, "l2 | ip | cosine")->capture_default_str();
  ann->add_option("--type", o->type, "Storage: float32 float64 float16 bfloat16 int8 uint8")
      ->capture_default_str();
  ann->add_option("--m", o->m, "HNSW M")->capture_default_str();
  ann->add_option("--ef-construction", o->ef_construction, "HNSW efConstruction")->capture_default_str();
  ann->add_option("--ef", o->efs, "Comma-separated ef values")->capture_default_str();
  ann->add_option("--k", o->k, "Neighbours per query")->capture_default_str();
  ann->add_option("--threads", o->threads, "Build threads (queries always run on one)")
      ->capture_default_str();
  ann->add_option("--reps", o->reps, "Repetitions per ef (median QPS kept)")->capture_default_str();
  ann->add_option("--filter-fraction", o->filter_fraction,
                  "Allow a seeded random fraction of the base (filtered KNN)");
  ann->add_option("--max-queries", o->max_queries, "Use only the first N queries");
  ann->add_option("--synthetic", o->synthetic, "Generate N clustered vectors instead of files");
  ann->add_option("--dim", o->dim, "Synthetic dimension")->capture_default_str();
  ann->add_option("--clusters", o->clusters, "Synthetic clusters")->capture_default_str();
  ann->add_option("--synthetic-queries", o->synthetic_queries, "Synthetic query count")
      ->capture_default_str();
  ann->add_option("--quant-min", o->quant_min, "int8/uint8 range (default: the data's range)");
  ann->add_option("--quant-max", o->quant_max, "int8/uint8 range (default: the data's range)");
  ann->add_option("--save", o->save, "Save the built index to this file");
  ann->add_option("--load", o->load, "Load the index from this file instead of building");
  ann->add_flag("--json", o->json, "One JSON object per ef on stdout");
  return [o, ann] {
    if (!ann->parsed()) return 2;
    return RunAnn(*o);
  };
}

}  // namespace
RAGKV_REGISTER_SUBCOMMAND("bench", SetupBench);
}  // namespace ragkv::cli
