// SearchIndex against a brute-force model: random hashes with tags, numbers,
// text and vectors, random updates and deletes, and random filtered KNN and
// filter-only queries answered by scanning every document.
#include "search/search_index.h"

#include "search/query.h"
#include "search/schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace ragkv::search {
namespace {

constexpr size_t kDim = 8;
const char* kTags[] = {"red", "green", "blue", "Cyan", "black"};
const char* kWords[] = {"apple", "banana", "cherry", "grape", "lemon", "mango"};

std::string Blob(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

struct ModelDoc {
  std::string tag;
  double num;
  std::string word;
  std::vector<float> vec;
};

class SearchIndexModelTest : public ::testing::TestWithParam<vec::Algorithm> {
 protected:
  void SetUp() override {
    std::vector<std::string> args = {"idx", "PREFIX", "1", "d:", "SCHEMA", "tag", "TAG",
                                     "num", "NUMERIC", "body", "TEXT", "v", "VECTOR",
                                     GetParam() == vec::Algorithm::kHnsw ? "HNSW" : "FLAT",
                                     "6", "TYPE", "FLOAT32", "DIM", std::to_string(kDim),
                                     "DISTANCE_METRIC", "L2"};
    std::vector<std::string_view> views(args.begin(), args.end());
    auto def = ParseFtCreate(views);
    ASSERT_TRUE(def.ok()) << def.status().message();
    auto index = SearchIndex::Create(std::move(*def), 0);
    ASSERT_TRUE(index.ok());
    index_ = std::move(*index);
  }

  ModelDoc RandomDoc() {
    ModelDoc d;
    d.tag = kTags[rng_() % 5];
    d.num = static_cast<double>(rng_() % 100);
    d.word = kWords[rng_() % 6];
    std::normal_distribution<float> g;
    d.vec.resize(kDim);
    for (float& x : d.vec) x = g(rng_);
    return d;
  }

  void Put(const std::string& key, const ModelDoc& d) {
    store::HashMap h;
    h["tag"] = d.tag;
    h["num"] = std::to_string(d.num);
    h["body"] = "a " + d.word + " pie";
    h["v"] = Blob(d.vec);
    hashes_[key] = h;
    model_[key] = d;
    index_->Upsert(key, h);
  }

  void Del(const std::string& key) {
    hashes_.erase(key);
    model_.erase(key);
    index_->Remove(key);
  }

  SearchResult Run(const std::string& query, const QueryParams& params, uint64_t limit,
                   std::optional<std::string> sort_by = std::nullopt) {
    SearchRequest req;
    auto q = ParseQuery(query, params);
    EXPECT_TRUE(q.ok()) << query << ": " << q.status().message();
    req.query = std::move(*q);
    req.limit = limit;
    if (sort_by) req.sort_by = SortBy{*sort_by, true};
    auto r = index_->Search(req, [&](std::string_view key) -> const store::HashMap* {
      auto it = hashes_.find(std::string(key));
      return it == hashes_.end() ? nullptr : &it->second;
    });
    EXPECT_TRUE(r.ok()) << query << ": " << r.status().message();
    return r.ok() ? *r : SearchResult{};
  }

  static float L2(const std::vector<float>& a, const std::vector<float>& b) {
    float s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += (a[i] - b[i]) * (a[i] - b[i]);
    return s;
  }

  std::mt19937_64 rng_{7};
  std::unique_ptr<SearchIndex> index_;
  std::map<std::string, store::HashMap> hashes_;
  std::map<std::string, ModelDoc> model_;
};

TEST_P(SearchIndexModelTest, FilteredKnnMatchesBruteForce) {
  for (int i = 0; i < 1500; ++i) Put("d:" + std::to_string(i), RandomDoc());
  // Churn: re-HSETs replace (never duplicate) and deletes disappear.
  for (int i = 0; i < 400; ++i) {
    std::string key = "d:" + std::to_string(rng_() % 1500);
    if (rng_() % 3 == 0) {
      Del(key);
    } else {
      Put(key, RandomDoc());
    }
  }
  ASSERT_TRUE(index_->CheckInvariants().ok()) << index_->CheckInvariants().message();
  ASSERT_EQ(index_->size(), model_.size());

  double recall_sum = 0;
  int queries = 0;
  for (int t = 0; t < 60; ++t) {
    ModelDoc q = RandomDoc();
    const std::string tag = kTags[rng_() % 5];
    const double lo = static_cast<double>(rng_() % 100);
    const double hi = lo + static_cast<double>(rng_() % 60);
    const size_t k = 1 + rng_() % 20;
    std::string filter;
    std::function<bool(const ModelDoc&)> pred;
    switch (t % 4) {
      case 0:
        filter = "*";
        pred = [](const ModelDoc&) { return true; };
        break;
      case 1:
        filter = "@tag:{" + tag + "}";
        pred = [&](const ModelDoc& d) {
          std::string a = d.tag, b = tag;
          std::transform(a.begin(), a.end(), a.begin(), ::tolower);
          std::transform(b.begin(), b.end(), b.begin(), ::tolower);
          return a == b;
        };
        break;
      case 2:
        filter = "(@num:[" + std::to_string(lo) + " (" + std::to_string(hi) + "] -@tag:{" + tag +
                 "})";
        pred = [&](const ModelDoc& d) {
          std::string a = d.tag, b = tag;
          std::transform(a.begin(), a.end(), a.begin(), ::tolower);
          std::transform(b.begin(), b.end(), b.begin(), ::tolower);
          return d.num >= lo && d.num < hi && a != b;
        };
        break;
      case 3:
        filter = "(@body:" + std::string(kWords[t % 6]) + " | @num:[0 10])";
        pred = [&](const ModelDoc& d) { return d.word == kWords[t % 6] || d.num <= 10; };
        break;
    }
    std::vector<std::pair<float, std::string>> expected;
    for (const auto& [key, d] : model_) {
      if (pred(d)) expected.emplace_back(L2(q.vec, d.vec), key);
    }
    std::sort(expected.begin(), expected.end());
    if (expected.size() > k) expected.resize(k);

    QueryParams params{{"B", Blob(q.vec)}};
    SearchResult r = Run(filter + "=>[KNN " + std::to_string(k) + " @v $B AS dist EF_RUNTIME 200]",
                         params, 100, "dist");
    ASSERT_EQ(r.total, expected.size()) << filter;
    ASSERT_EQ(r.hits.size(), expected.size());
    size_t found = 0;
    std::set<std::string> want;
    for (const auto& e : expected) want.insert(e.second);
    for (size_t i = 0; i < r.hits.size(); ++i) {
      found += want.count(r.hits[i].key);
      ASSERT_TRUE(pred(model_.at(r.hits[i].key))) << "hit violates the filter " << filter;
      // Distances are ascending and equal to the brute-force distance.
      const float d = L2(q.vec, model_.at(r.hits[i].key).vec);
      std::string got;
      for (const auto& [f, v] : r.hits[i].fields) {
        if (f == "dist") got = v;
      }
      ASSERT_FALSE(got.empty());
      EXPECT_NEAR(std::stod(got), d, 1e-3 * std::max(1.0f, d));
    }
    if (GetParam() == vec::Algorithm::kFlat) {
      EXPECT_EQ(found, expected.size()) << filter;
      for (size_t i = 0; i < r.hits.size(); ++i) EXPECT_EQ(r.hits[i].key, expected[i].second);
    }
    if (!expected.empty()) {
      recall_sum += static_cast<double>(found) / static_cast<double>(expected.size());
      ++queries;
    }
  }
  EXPECT_GE(recall_sum / queries, 0.95);
}

TEST_P(SearchIndexModelTest, FilterQueriesMatchBruteForce) {
  for (int i = 0; i < 600; ++i) Put("d:" + std::to_string(i), RandomDoc());
  for (int t = 0; t < 100; ++t) {
    const double lo = static_cast<double>(rng_() % 100);
    const double hi = lo + static_cast<double>(rng_() % 30);
    const std::string t1 = kTags[rng_() % 5], t2 = kTags[rng_() % 5];
    const std::string w = kWords[rng_() % 6];
    auto lower = [](std::string s) {
      std::transform(s.begin(), s.end(), s.begin(), ::tolower);
      return s;
    };
    std::string query;
    std::function<bool(const ModelDoc&)> pred;
    switch (t % 5) {
      case 0:
        query = "@num:[" + std::to_string(lo) + " " + std::to_string(hi) + "]";
        pred = [&](const ModelDoc& d) { return d.num >= lo && d.num <= hi; };
        break;
      case 1:
        query = "@tag:{" + t1 + " | " + t2 + "}";
        pred = [&](const ModelDoc& d) {
          return lower(d.tag) == lower(t1) || lower(d.tag) == lower(t2);
        };
        break;
      case 2:
        query = w + " -@tag:{" + t1 + "}";
        pred = [&](const ModelDoc& d) { return d.word == w && lower(d.tag) != lower(t1); };
        break;
      case 3:
        query = "@num:[(" + std::to_string(lo) + " +inf] | @body:" + w + "*";
        pred = [&](const ModelDoc& d) { return d.num > lo || d.word.rfind(w, 0) == 0; };
        break;
      case 4:
        query = "-(@num:[-inf " + std::to_string(hi) + "]) @tag:{" + t1 + "}";
        pred = [&](const ModelDoc& d) { return d.num > hi && lower(d.tag) == lower(t1); };
        break;
    }
    std::set<std::string> expected;
    for (const auto& [key, d] : model_) {
      if (pred(d)) expected.insert(key);
    }
    SearchResult r = Run(query, {}, 10000);
    std::set<std::string> got;
    for (const auto& h : r.hits) got.insert(h.key);
    EXPECT_EQ(r.total, expected.size()) << query;
    EXPECT_EQ(got, expected) << query;
  }
}

INSTANTIATE_TEST_SUITE_P(Algorithms, SearchIndexModelTest,
                         ::testing::Values(vec::Algorithm::kFlat, vec::Algorithm::kHnsw));

// BM25-ranked text queries against a brute-force BM25 over the model's
// stemmed bodies, under random upserts (new keys, and re-indexed keys that
// keep their doc id: posting-list insertions in the middle and revived
// tombstones) and deletes (tombstones, compactions); counts (LIMIT 0 0),
// pages (only the page is ordered) and prefix queries included.
TEST(SearchIndexTest, RankedTextQueriesMatchBruteForceBm25UnderChurn) {
  std::vector<std::string> args = {"i", "SCHEMA", "body", "TEXT"};
  std::vector<std::string_view> views(args.begin(), args.end());
  auto index = SearchIndex::Create(*ParseFtCreate(views), 0);
  ASSERT_TRUE(index.ok());
  const std::vector<std::string> vocab = {"apple",  "banana", "cherry", "grapes", "lemon",
                                          "mangos", "melon",  "pear",   "plum",   "kiwi"};
  text::Tokenizer stemmer;
  std::map<std::string, std::vector<std::string>> model;  // key -> body stems
  std::mt19937_64 rng(17);
  auto run = [&](const std::string& query, uint64_t offset, uint64_t limit) {
    SearchRequest req;
    auto q = ParseQuery(query, {});
    EXPECT_TRUE(q.ok()) << query;
    req.query = std::move(*q);
    req.offset = offset;
    req.limit = limit;
    auto r = (*index)->Search(req, nullptr);
    EXPECT_TRUE(r.ok()) << query;
    return r.ok() ? *r : SearchResult{};
  };
  for (int step = 0; step < 3000; ++step) {
    // Zipf-like word choice, so some terms have long postings.
    auto word = [&] {
      std::uniform_real_distribution<double> u(0, 1);
      return vocab[static_cast<size_t>(std::pow(u(rng), 2.0) * vocab.size())];
    };
    const std::string key = "k" + std::to_string(rng() % 400);
    if (rng() % 4 == 0) {
      (*index)->Remove(key);
      model.erase(key);
    } else {
      std::string body;
      for (size_t n = 1 + rng() % 8; n > 0; --n) body += word() + " ";
      (*index)->Upsert(key, store::HashMap{{"body", body}});
      model[key] = stemmer.Tokenize(body);
    }
    if (step % 100 != 99) continue;
    ASSERT_TRUE((*index)->CheckInvariants().ok()) << (*index)->CheckInvariants().message();
    ASSERT_EQ((*index)->size(), model.size());
    const std::string w1 = word(), w2 = word();
    const std::string s1 = stemmer.Tokenize(w1)[0], s2 = stemmer.Tokenize(w2)[0];
    // Brute force: BM25 (k1 1.2, b 0.75) over the documents holding s1 or s2.
    const double n = static_cast<double>(model.size());
    double total_len = 0;
    std::map<std::string, double> df;
    for (const auto& [k, stems] : model) {
      total_len += static_cast<double>(stems.size());
      for (const std::string& t : std::set<std::string>(stems.begin(), stems.end())) ++df[t];
    }
    const double avg = total_len / n;
    std::vector<std::pair<double, std::string>> expected;  // (score, key)
    for (const auto& [k, stems] : model) {
      double score = 0;
      bool matched = false;
      for (const std::string& t : std::set<std::string>{s1, s2}) {
        const double tf = static_cast<double>(std::count(stems.begin(), stems.end(), t));
        if (tf == 0) continue;
        matched = true;
        const double idf = std::log(1 + (n - df[t] + 0.5) / (df[t] + 0.5));
        const double len = static_cast<double>(stems.size());
        score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * len / avg));
      }
      if (matched) expected.emplace_back(score, k);
    }
    std::sort(expected.begin(), expected.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    const std::string query = w1 + " | " + w2;
    SearchResult all = run(query, 0, 10000);
    ASSERT_EQ(all.total, expected.size()) << query;
    ASSERT_EQ(all.hits.size(), expected.size()) << query;
    std::map<std::string, double> want;
    for (const auto& [score, k] : expected) want[k] = score;
    for (size_t i = 0; i < all.hits.size(); ++i) {
      const SearchHit& h = all.hits[i];
      ASSERT_EQ(want.count(h.key), 1u) << h.key;
      EXPECT_NEAR(h.score, want[h.key], 1e-4 * std::max(1.0, want[h.key])) << h.key;
      EXPECT_NEAR(h.score, expected[i].first, 1e-4 * std::max(1.0, expected[i].first)) << i;
      if (i > 0) {
        EXPECT_GE(all.hits[i - 1].score, h.score);
      }
    }
    // A page is the same slice of the full order; a count scores nothing
    // but counts the same documents.
    const uint64_t offset = rng() % 20, limit = 1 + rng() % 10;
    SearchResult page = run(query, offset, limit);
    EXPECT_EQ(page.total, all.total);
    for (size_t i = 0; i < page.hits.size(); ++i) {
      EXPECT_EQ(page.hits[i].key, all.hits[offset + i].key);
      EXPECT_EQ(page.hits[i].score, all.hits[offset + i].score);
    }
    const uint64_t rest = all.hits.size() - std::min<uint64_t>(offset, all.hits.size());
    EXPECT_EQ(page.hits.size(), std::min<uint64_t>(limit, rest));
    EXPECT_EQ(run("@body:" + w1, 0, 0).total,
              static_cast<uint64_t>(std::count_if(model.begin(), model.end(), [&](const auto& e) {
                return std::count(e.second.begin(), e.second.end(), s1) > 0;
              })));
    // Prefix queries walk the ordered terms (unstemmed words are indexed).
    const std::string prefix = w2.substr(0, 2);
    size_t with_prefix = 0;
    for (const auto& [k, stems] : model) {
      bool hit = false;
      for (const std::string& v : vocab) {
        if (v.rfind(prefix, 0) == 0 &&
            std::count(stems.begin(), stems.end(), stemmer.Tokenize(v)[0]) > 0) {
          hit = true;
        }
      }
      with_prefix += hit;
    }
    EXPECT_EQ(run("@body:" + prefix + "*", 0, 0).total, with_prefix) << prefix;
  }
}

TEST(SearchIndexTest, WrongBlobSizeIsAFailureNotADocument) {
  std::vector<std::string> args = {"i", "SCHEMA", "v", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32",
                                   "DIM", "2", "DISTANCE_METRIC", "COSINE", "n", "NUMERIC"};
  std::vector<std::string_view> views(args.begin(), args.end());
  auto index = SearchIndex::Create(*ParseFtCreate(views), 0);
  ASSERT_TRUE(index.ok());
  store::HashMap good{{"v", Blob({1, 0})}};
  store::HashMap short_blob{{"v", "abc"}};
  store::HashMap zero{{"v", Blob({0, 0})}};  // undefined under COSINE
  store::HashMap bad_num{{"v", Blob({1, 1})}, {"n", "abc"}};
  (*index)->Upsert("a", good);
  (*index)->Upsert("b", short_blob);
  (*index)->Upsert("c", zero);
  (*index)->Upsert("d", bad_num);
  EXPECT_EQ((*index)->Info().num_docs, 1u);
  EXPECT_EQ((*index)->Info().hash_indexing_failures, 3u);
  // A good document that turns bad is removed.
  (*index)->Upsert("a", short_blob);
  EXPECT_EQ((*index)->Info().num_docs, 0u);
  EXPECT_TRUE((*index)->CheckInvariants().ok());
}

// Searches on several threads (no loader, as the server's workers run them)
// while one thread keeps updating: every result is internally consistent and
// the index's invariants hold afterwards.
TEST_P(SearchIndexModelTest, ConcurrentSearchesDuringUpdates) {
  for (int i = 0; i < 300; ++i) Put("d:" + std::to_string(i), RandomDoc());
  std::atomic<bool> stop{false};
  std::atomic<int> searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::normal_distribution<float> g;
      while (!stop.load()) {
        std::vector<float> q(kDim);
        for (float& x : q) x = g(rng);
        SearchRequest req;
        auto parsed = ParseQuery("@tag:{red|blue}=>[KNN 5 @v $B AS d]", {{"B", Blob(q)}});
        ASSERT_TRUE(parsed.ok());
        req.query = std::move(*parsed);
        req.sort_by = SortBy{"d", true};
        auto r = index_->Search(req, nullptr);
        ASSERT_TRUE(r.ok()) << r.status().message();
        ASSERT_LE(r->hits.size(), 5u);
        float last = -1;
        for (const auto& h : r->hits) {
          ASSERT_EQ(h.yields.size(), 1u);
          const float d = std::stof(h.yields[0].second);
          ASSERT_GE(d, last);
          last = d;
        }
        ++searches;
      }
    });
  }
  std::mt19937_64 rng(99);
  for (int i = 0; i < 3000 || (searches.load() < 20 && i < 200000); ++i) {
    const std::string key = "d:" + std::to_string(rng() % 400);
    if (rng() % 4 == 0) {
      index_->Remove(key);
    } else {
      store::HashMap h;
      ModelDoc d = RandomDoc();
      h["tag"] = d.tag;
      h["num"] = std::to_string(d.num);
      h["v"] = Blob(d.vec);
      index_->Upsert(key, h);
    }
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_GT(searches.load(), 0);
  EXPECT_TRUE(index_->CheckInvariants().ok()) << index_->CheckInvariants().message();
}

TEST(SearchIndexTest, PlannerPrefersExactScanForSmallFilters) {
  EXPECT_EQ(SearchIndex::ChooseKnnPlan(100, 100000, 10), KnnPlan::kExactScan);
  EXPECT_EQ(SearchIndex::ChooseKnnPlan(1500, 100000, 10), KnnPlan::kExactScan);  // 1.5%
  EXPECT_EQ(SearchIndex::ChooseKnnPlan(50000, 100000, 10), KnnPlan::kFilteredGraph);
  EXPECT_EQ(SearchIndex::ChooseKnnPlan(100000, 100000, 10), KnnPlan::kFilteredGraph);
}

}  // namespace
}  // namespace ragkv::search

namespace ragkv::search {
namespace {

// NUMERIC fields on avl::NumericIndex against a brute-force filter, with the
// values where range code goes wrong: duplicates, -0 vs 0, infinities, huge
// and fractional values, exclusive bounds equal to stored values, empty and
// inverted ranges, under re-indexing and removal churn.
TEST(SearchIndexTest, NumericRangesMatchBruteForce) {
  std::vector<std::string> args = {"i", "SCHEMA", "n", "NUMERIC", "m", "NUMERIC"};
  std::vector<std::string_view> views(args.begin(), args.end());
  auto index = SearchIndex::Create(*ParseFtCreate(views), 0);
  ASSERT_TRUE(index.ok());
  const std::vector<std::string> values = {"-inf", "-1e300", "-2.5", "-1", "-0", "0",
                                           "0.5",  "1",      "1",    "3",  "1e300", "+inf"};
  std::mt19937_64 rng(7);
  std::map<std::string, std::pair<double, double>> model;
  auto pick = [&] { return values[rng() % values.size()]; };
  auto parse = [](const std::string& v) { return std::strtod(v.c_str(), nullptr); };
  for (int round = 0; round < 40; ++round) {
    for (int op = 0; op < 50; ++op) {
      std::string key = "k";
      key += std::to_string(rng() % 200);
      if (rng() % 5 == 0) {
        (*index)->Remove(key);
        model.erase(key);
        continue;
      }
      const std::string n = pick(), m = pick();
      store::HashMap h{{"n", n}, {"m", m}};
      (*index)->Upsert(key, h);
      model[key] = {parse(n), parse(m)};
    }
    ASSERT_TRUE((*index)->CheckInvariants().ok());
    for (int q = 0; q < 20; ++q) {
      const bool lo_ex = rng() % 2, hi_ex = rng() % 2, on_m = rng() % 2;
      const std::string lo = pick(), hi = pick();
      std::string query = on_m ? "@m:[" : "@n:[";
      query.append(lo_ex ? "(" : "").append(lo).append(" ");
      query.append(hi_ex ? "(" : "").append(hi).append("]");
      const double l = parse(lo), u = parse(hi);
      std::set<std::string> expected;
      for (const auto& [key, nm] : model) {
        const double v = on_m ? nm.second : nm.first;
        if ((lo_ex ? v > l : v >= l) && (hi_ex ? v < u : v <= u)) expected.insert(key);
      }
      std::vector<std::string> qargs = {"i", query, "NOCONTENT", "LIMIT", "0", "1000"};
      std::vector<std::string_view> qv(qargs.begin(), qargs.end());
      auto req = ParseFtSearch(qv);
      ASSERT_TRUE(req.ok()) << query << ": " << req.status().message();
      auto r = (*index)->Search(*req, nullptr);
      ASSERT_TRUE(r.ok()) << query;
      std::set<std::string> got;
      for (const auto& hit : r->hits) got.insert(hit.key);
      EXPECT_EQ(got, expected) << query;
      EXPECT_EQ(r->total, expected.size()) << query;
    }
  }
}

// GEO radius queries against a brute-force filter whose distance is computed
// independently (atan2 of the cross and dot products of unit vectors, not
// the index's haversine), over points that include the poles' edge, the
// antimeridian and duplicates; invalid values are failures, not documents.
TEST(SearchIndexTest, GeoRadiusMatchesBruteForce) {
  std::vector<std::string> args = {"i", "SCHEMA", "loc", "GEO", "t", "TAG"};
  std::vector<std::string_view> views(args.begin(), args.end());
  auto index = SearchIndex::Create(*ParseFtCreate(views), 0);
  ASSERT_TRUE(index.ok());
  auto distance_m = [](double lon1, double lat1, double lon2, double lat2) {
    const double r = M_PI / 180;
    const double a[3] = {std::cos(lat1 * r) * std::cos(lon1 * r),
                         std::cos(lat1 * r) * std::sin(lon1 * r), std::sin(lat1 * r)};
    const double b[3] = {std::cos(lat2 * r) * std::cos(lon2 * r),
                         std::cos(lat2 * r) * std::sin(lon2 * r), std::sin(lat2 * r)};
    const double cross[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2],
                             a[0] * b[1] - a[1] * b[0]};
    const double dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    const double sin = std::sqrt(cross[0] * cross[0] + cross[1] * cross[1] + cross[2] * cross[2]);
    return 6372797.560856 * std::atan2(sin, dot);
  };
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> lon_d(-180, 180), lat_d(-85, 85), near(-3, 3);
  std::map<std::string, std::pair<double, double>> model;
  auto point = [&]() -> std::pair<double, double> {
    switch (rng() % 4) {
      case 0: return {lon_d(rng), lat_d(rng)};
      case 1: return {std::clamp(179 + near(rng), -180.0, 180.0), near(rng)};  // antimeridian
      case 2: return {near(rng), std::clamp(84 + near(rng), -85.0, 85.05)};    // far north
      default: return {2 + near(rng) / 10, 48 + near(rng) / 10};               // one city
    }
  };
  for (int i = 0; i < 600; ++i) {
    const std::string key = std::string("k").append(std::to_string(i));
    auto [lon, lat] = point();
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.17g,%.17g", lon, lat);
    (*index)->Upsert(key, store::HashMap{{"loc", buf}, {"t", "x"}});
    model[key] = {lon, lat};
  }
  const uint64_t failures_before = (*index)->Info().hash_indexing_failures;
  for (const char* bad : {"abc", "200,10", "10", "10,86", "1,2,3", ",", "nan,1"}) {
    (*index)->Upsert("bad", store::HashMap{{"loc", bad}});
  }
  EXPECT_EQ((*index)->Info().hash_indexing_failures, failures_before + 7);
  EXPECT_EQ((*index)->Info().num_docs, 600u);
  ASSERT_TRUE((*index)->CheckInvariants().ok());
  const std::pair<const char*, double> units[] = {{"m", 1}, {"km", 1000}, {"mi", 1609.34},
                                                  {"ft", 0.3048}};
  for (int q = 0; q < 200; ++q) {
    auto [lon, lat] = point();
    const auto& [unit, metres] = units[rng() % 4];
    const double radius = std::pow(10.0, static_cast<double>(rng() % 7)) * 1000 / metres;
    char query[160];
    std::snprintf(query, sizeof(query), "@loc:[%.17g %.17g %.17g %s]", lon, lat, radius, unit);
    std::set<std::string> expected;
    for (const auto& [key, p] : model) {
      if (distance_m(lon, lat, p.first, p.second) <= radius * metres) expected.insert(key);
    }
    std::vector<std::string> qargs = {"i", query, "NOCONTENT", "LIMIT", "0", "1000"};
    if (q % 2 == 1) {  // the legacy GEOFILTER argument is the same filter
      char a[3][32];
      std::snprintf(a[0], sizeof(a[0]), "%.17g", lon);
      std::snprintf(a[1], sizeof(a[1]), "%.17g", lat);
      std::snprintf(a[2], sizeof(a[2]), "%.17g", radius);
      qargs = {"i", "@t:{x}", "GEOFILTER", "loc", a[0], a[1], a[2], unit, "NOCONTENT",
               "LIMIT", "0", "1000"};
    }
    std::vector<std::string_view> qv(qargs.begin(), qargs.end());
    auto req = ParseFtSearch(qv);
    ASSERT_TRUE(req.ok()) << query << ": " << req.status().message();
    auto r = (*index)->Search(*req, nullptr);
    ASSERT_TRUE(r.ok()) << query << ": " << r.status().message();
    std::set<std::string> got;
    for (const auto& hit : r->hits) got.insert(hit.key);
    EXPECT_EQ(got, expected) << query;
  }
  // Moving and removing documents keeps the latitude index exact.
  for (int i = 0; i < 300; ++i) {
    const std::string key = std::string("k").append(std::to_string(i));
    if (i % 3 == 0) {
      (*index)->Remove(key);
      model.erase(key);
    } else {
      (*index)->Upsert(key, store::HashMap{{"loc", "1.5,-2.5"}});
      model[key] = {1.5, -2.5};
    }
  }
  ASSERT_TRUE((*index)->CheckInvariants().ok());
  std::vector<std::string> qargs = {"i", "@loc:[1.5 -2.5 1 m]", "NOCONTENT", "LIMIT", "0", "1000"};
  std::vector<std::string_view> qv(qargs.begin(), qargs.end());
  auto r = (*index)->Search(*ParseFtSearch(qv), nullptr);
  ASSERT_TRUE(r.ok());
  size_t at_point = 0;
  for (const auto& [key, p] : model) at_point += p == std::make_pair(1.5, -2.5) ? 1 : 0;
  EXPECT_EQ(r->total, at_point);
}

// TIMEOUT: a deadline already past stops every query at its first check;
// FAIL makes that an error, RETURN an (empty) partial result. No timing is
// asserted beyond that.
TEST(SearchIndexTest, DeadlinePastFailsOrReturnsPartial) {
  std::vector<std::string> args = {"i", "SCHEMA", "v", "VECTOR", "FLAT", "6", "TYPE", "FLOAT32",
                                   "DIM", "2", "DISTANCE_METRIC", "L2", "t", "TAG", "b", "TEXT"};
  std::vector<std::string_view> views(args.begin(), args.end());
  auto index = SearchIndex::Create(*ParseFtCreate(views), 0);
  ASSERT_TRUE(index.ok());
  for (int i = 0; i < 50; ++i) {
    store::HashMap h{{"v", Blob({static_cast<float>(i), 0})}, {"t", "x"}, {"b", "hello"}};
    (*index)->Upsert(std::string("k").append(std::to_string(i)), h);
  }
  const std::string q = Blob({3, 0});
  const std::vector<std::vector<std::string>> queries = {
      {"i", "*"},
      {"i", "hello"},
      {"i", "@t:{x}"},
      {"i", "*=>[KNN 3 @v $B AS d]", "PARAMS", "2", "B", q},
      {"i", "@t:{x}=>[KNN 3 @v $B AS d]", "PARAMS", "2", "B", q},
  };
  QueryDeadline past;
  past.at = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  for (const auto& query : queries) {
    std::vector<std::string_view> qv(query.begin(), query.end());
    auto req = ParseFtSearch(qv);
    ASSERT_TRUE(req.ok()) << req.status().message();
    auto full = (*index)->Search(*req, nullptr, QueryDeadline::After(0, true));  // no limit
    ASSERT_TRUE(full.ok());
    EXPECT_FALSE(full->timed_out);
    EXPECT_GT(full->total, 0u) << query[1];

    past.fail = true;
    auto failed = (*index)->Search(*req, nullptr, past);
    ASSERT_FALSE(failed.ok()) << query[1];
    EXPECT_EQ(failed.status().message(), "Timeout limit was reached");

    past.fail = false;
    auto partial = (*index)->Search(*req, nullptr, past);
    ASSERT_TRUE(partial.ok()) << partial.status().message();
    EXPECT_TRUE(partial->timed_out) << query[1];
    EXPECT_LE(partial->total, full->total);
    EXPECT_LE(partial->hits.size(), full->hits.size());
  }
}

}  // namespace
}  // namespace ragkv::search
