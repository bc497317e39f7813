// ann_reference: the reference engines for `ragkv bench ann`, measured with
// the same protocol and printed in the same JSON-lines shape, so
// bench/ann/run.sh can put them side by side.
//
//   ann_reference <hnswlib|faiss> --base F.fvecs --queries F.fvecs --gt F.ivecs
//       [--m 16] [--ef-construction 200] [--ef 10,20,...] [--k 10] [--reps 3]
//
// hnswlib (Debian libhnswlib-dev, header-only) is compiled here with
// -march=native, as in shared/bench/ann_anchor; FAISS is Debian's static
// libfaiss (IndexHNSWFlat, efSearch set before each single-query call). L2 only:
// the reference point of issue 3 is Fashion-MNIST / SIFT under L2.
// This is benchmark-only code: it may throw (the third-party libraries do).
#include <faiss/IndexHNSW.h>
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

template <typename T>
std::vector<T> ReadVecs(const std::string& path, size_t* rows, size_t* cols) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", path.c_str());
    std::exit(1);
  }
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  int32_t d = 0;
  std::memcpy(&d, bytes.data(), 4);
  *cols = static_cast<size_t>(d);
  const size_t row = 4 + *cols * sizeof(T);
  *rows = bytes.size() / row;
  std::vector<T> out(*rows * *cols);
  for (size_t i = 0; i < *rows; ++i) {
    std::memcpy(out.data() + i * *cols, bytes.data() + i * row + 4, *cols * sizeof(T));
  }
  return out;
}

long RssKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// A search engine under test: build once, then one query per call.
class Engine {
 public:
  virtual ~Engine() = default;
  virtual void Build(const float* data, size_t n) = 0;
  virtual void Search(const float* q, size_t k, size_t ef, int64_t* ids) = 0;
  // Distance computations so far, when the engine counts them (else 0).
  virtual long Distances() const { return 0; }
};

class Hnswlib final : public Engine {
 public:
  Hnswlib(size_t dim, size_t m, size_t efc, size_t n) : space_(dim), m_(m), efc_(efc), n_(n) {}
  void Build(const float* data, size_t n) override {
    index_ = std::make_unique<hnswlib::HierarchicalNSW<float>>(&space_, n_, m_, efc_, 100);
    for (size_t i = 0; i < n; ++i) index_->addPoint(data + i * space_.get_data_size() / 4, i);
  }
  void Search(const float* q, size_t k, size_t ef, int64_t* ids) override {
    index_->setEf(ef);  // single-threaded harness: no race on this shared knob
    auto top = index_->searchKnn(q, k);
    for (size_t j = top.size(); j-- > 0;) {
      ids[j] = static_cast<int64_t>(top.top().second);
      top.pop();
    }
  }
  long Distances() const override { return index_->metric_distance_computations.load(); }

 private:
  hnswlib::L2Space space_;
  size_t m_, efc_, n_;
  std::unique_ptr<hnswlib::HierarchicalNSW<float>> index_;
};

class Faiss final : public Engine {
 public:
  Faiss(size_t dim, size_t m, size_t efc) : index_(static_cast<int>(dim), static_cast<int>(m)) {
    index_.hnsw.efConstruction = static_cast<int>(efc);
  }
  void Build(const float* data, size_t n) override {
    index_.add(static_cast<faiss::Index::idx_t>(n), data);
  }
  void Search(const float* q, size_t k, size_t ef, int64_t* ids) override {
    // FAISS 1.7.3 ignores SearchParametersHNSW::efSearch on this path (recall
    // stayed flat across ef), so set the index's knob; the harness is
    // single-threaded, so the shared knob cannot race.
    index_.hnsw.efSearch = static_cast<int>(ef);
    std::vector<float> dist(k);
    index_.search(1, q, static_cast<faiss::Index::idx_t>(k), dist.data(), ids);
  }

 private:
  faiss::IndexHNSWFlat index_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ann_reference <hnswlib|faiss> --base F --queries F --gt F ...\n");
    return 2;
  }
  const std::string engine_name = argv[1];
  std::string base_path, query_path, gt_path, efs = "10,20,40,80,160,320";
  size_t m = 16, efc = 200, k = 10, reps = 3;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--base") base_path = value;
    else if (flag == "--queries") query_path = value;
    else if (flag == "--gt") gt_path = value;
    else if (flag == "--m") m = std::stoul(value);
    else if (flag == "--ef-construction") efc = std::stoul(value);
    else if (flag == "--ef") efs = value;
    else if (flag == "--k") k = std::stoul(value);
    else if (flag == "--reps") reps = std::stoul(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  size_t n, dim, nq, qdim, ng, gk;
  const auto base = ReadVecs<float>(base_path, &n, &dim);
  const auto queries = ReadVecs<float>(query_path, &nq, &qdim);
  const auto gt = ReadVecs<int32_t>(gt_path, &ng, &gk);

  std::unique_ptr<Engine> engine;
  if (engine_name == "hnswlib") {
    engine = std::make_unique<Hnswlib>(dim, m, efc, n);
  } else if (engine_name == "faiss") {
    engine = std::make_unique<Faiss>(dim, m, efc);
  } else {
    std::fprintf(stderr, "unknown engine %s\n", engine_name.c_str());
    return 2;
  }
  const long rss0 = RssKiB();
  const auto t0 = Clock::now();
  engine->Build(base.data(), n);
  const double build_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const double rss_mib = static_cast<double>(RssKiB() - rss0) / 1024.0;

  std::stringstream ss(efs);
  std::string item;
  std::vector<int64_t> ids(k);
  std::vector<double> lat(nq);
  while (std::getline(ss, item, ',')) {
    const size_t ef = std::stoul(item);
    std::vector<std::pair<double, std::vector<double>>> runs;
    double recall = 0;
    double distances = 0;
    for (size_t rep = 0; rep < reps; ++rep) {
      const long d0 = engine->Distances();
      size_t hits = 0;
      const auto r0 = Clock::now();
      for (size_t q = 0; q < nq; ++q) {
        const auto s0 = Clock::now();
        engine->Search(queries.data() + q * dim, k, ef, ids.data());
        lat[q] = std::chrono::duration<double, std::micro>(Clock::now() - s0).count();
        if (rep == 0) {
          const int32_t* truth = gt.data() + q * gk;
          for (size_t j = 0; j < k; ++j) {
            hits += std::find(truth, truth + k, static_cast<int32_t>(ids[j])) != truth + k;
          }
        }
      }
      const double secs = std::chrono::duration<double>(Clock::now() - r0).count();
      if (rep == 0) {
        recall = static_cast<double>(hits) / static_cast<double>(nq * k);
        distances = static_cast<double>(engine->Distances() - d0) / static_cast<double>(nq);
      }
      runs.emplace_back(static_cast<double>(nq) / secs, lat);
    }
    std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    auto& median = runs[runs.size() / 2];
    std::sort(median.second.begin(), median.second.end());
    const double p50 = median.second[nq / 2];
    const double p99 = median.second[std::min(nq - 1, nq * 99 / 100)];
    std::printf(
        "{\"engine\":\"%s\",\"type\":\"float32\",\"n\":%zu,\"dim\":%zu,\"m\":%zu,\"efc\":%zu,"
        "\"ef\":%zu,\"k\":%zu,\"filter\":0,\"recall\":%.4f,\"distances\":%.0f,\"qps\":%.1f,\"p50_us\":%.1f,"
        "\"p99_us\":%.1f,\"build_s\":%.2f,\"load_s\":0,\"index_mib\":%.1f,\"rss_mib\":%.1f}\n",
        engine_name.c_str(), n, dim, m, efc, ef, k, recall, distances, median.first, p50, p99, build_s,
        rss_mib, rss_mib);
    std::fflush(stdout);
  }
  return 0;
}
