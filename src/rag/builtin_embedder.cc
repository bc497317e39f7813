// The builtin embedder: offline, deterministic, no model files.
//
// A text becomes a bag of features, hashed ("feature hashing", Weinberger et
// al. 2009) into `dim` signed buckets and L2-normalised:
//   - stemmed non-stop words (weight 1),
//   - character 3-5-grams of each lower-cased word with boundary marks
//     ("<hash>" -> "<ha", "has", ...), sharing weight 0.5 per word, which match
//     spelling variants and morphology the stemmer misses (serialise /
//     serialization, marshal / marshalling) and compound words.
// Term frequencies are sublinear (1 + ln tf). IDF is applied on the query side
// only, from document frequencies the collection maintains through
// ObserveCorpus (the same place BM25 applies it): stored document vectors are
// then a pure function of their text and never go stale as the corpus grows,
// so incremental ingest never re-embeds old chunks. Document frequencies are
// counted in a 2^20-bucket table of the features' 64-bit hashes, which keeps
// collisions rare at ~10^6 distinct features while staying 4 MiB.
//
// Word bigrams were tried and dropped: in 1024 dimensions their extra
// collisions cost more than word order gained (FOLDOC dev half A, vector-only
// nDCG@10 0.60 with them, 0.72 without). Measured, the builtin vectors are a
// weaker, noisier retriever than BM25 (they are lexical too), so their RRF
// weight is 0.05 (fusion_weight()): enough to reorder near-ties in the BM25
// ranking, never to overrule it. Learned embedders get the full weight 1.
//
// Rejected: LSA/SVD (needs a fitted model, and did not help on FOLDOC in the
// research notes); averaged static word vectors (needs model files);
// corpus-IDF on the document side (every ingest would re-embed everything).
#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "index/text/byte_codec.h"
#include "index/text/tokenizer.h"
#include "rag/embedder.h"

namespace ragkv::rag {
namespace {

constexpr size_t kDfBuckets = size_t{1} << 20;
constexpr uint64_t kSeed = 0x72616b76;  // "ragkv": changing it changes every vector
// Each word's character n-grams together weigh half as much as the word:
// enough to match variants, not enough to outvote exact word matches.
constexpr float kGramShare = 0.5f;
constexpr int kMinGram = 3;
constexpr int kMaxGram = 5;

class BuiltinEmbedder final : public Embedder {
 public:
  explicit BuiltinEmbedder(size_t dim) : dim_(dim), df_(kDfBuckets, 0) {}

  std::string id() const override { return "builtin-v1"; }
  double fusion_weight() const override { return 0.05; }
  size_t dim() const override { return dim_; }

  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts,
                                                EmbedPurpose purpose) override {
    std::vector<std::vector<float>> out;
    out.reserve(texts.size());
    for (const std::string& t : texts) out.push_back(EmbedOne(t, purpose));
    return out;
  }

  void ObserveCorpus(std::string_view chunk_text, int delta) override {
    std::vector<Feature> features;
    AppendFeatures(chunk_text, &features);  // unmerged: only buckets matter here
    std::vector<uint32_t> buckets;
    buckets.reserve(features.size());
    for (const Feature& f : features) buckets.push_back(static_cast<uint32_t>(f.hash % kDfBuckets));
    std::sort(buckets.begin(), buckets.end());
    buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
    for (uint32_t b : buckets) {
      if (delta > 0 || df_[b] > 0) df_[b] += delta;
    }
    if (delta > 0 || docs_ > 0) docs_ += delta;
  }

  // Sparse image: doc count, then (bucket, count) for nonzero buckets.
  std::string SerializeState() const override {
    text::ByteWriter w;
    w.PutU32(0x46444B52);  // "RKDF"
    w.PutU64(static_cast<uint64_t>(docs_));
    for (uint32_t b = 0; b < kDfBuckets; ++b) {
      if (df_[b] == 0) continue;
      w.PutU32(b);
      w.PutU32(static_cast<uint32_t>(df_[b]));
    }
    return std::move(w.buffer());
  }

  Status RestoreState(std::string_view state) override {
    if (state.empty()) {  // a new collection
      std::fill(df_.begin(), df_.end(), 0);
      docs_ = 0;
      return Status::Ok();
    }
    text::ByteReader r(state);
    uint32_t magic;
    uint64_t docs;
    if (!r.GetU32(&magic) || magic != 0x46444B52 || !r.GetU64(&docs)) {
      return Status::Corruption("builtin embedder state: bad header");
    }
    std::fill(df_.begin(), df_.end(), 0);
    docs_ = static_cast<int64_t>(docs);
    while (r.remaining() > 0) {
      uint32_t b, n;
      if (!r.GetU32(&b) || !r.GetU32(&n) || b >= kDfBuckets) {
        return Status::Corruption("builtin embedder state: bad entry");
      }
      df_[b] = n;
    }
    return Status::Ok();
  }

 private:
  // Hash of kind + a (+ ' ' + b), built in a reused buffer.
  uint64_t Hash(char kind, std::string_view a, std::string_view b = {}) const {
    key_.clear();
    key_.push_back(kind);
    key_.append(a);
    if (!b.empty()) {
      key_.push_back(' ');
      key_.append(b);
    }
    return XXH3_64bits_withSeed(key_.data(), key_.size(), kSeed);
  }

  struct Feature {
    uint64_t hash;
    float weight;
  };

  // Raw weighted counts per feature hash, sorted by hash, one entry per
  // feature. (A sorted vector, not a hash map: appending and one sort is
  // several times cheaper for the few hundred features of a chunk.)
  void Features(std::string_view text, std::vector<Feature>* out) const {
    out->clear();
    AppendFeatures(text, out);
    std::sort(out->begin(), out->end(),
              [](const Feature& a, const Feature& b) { return a.hash < b.hash; });
    size_t w = 0;
    for (size_t r = 0; r < out->size(); ++r) {
      if (w > 0 && (*out)[w - 1].hash == (*out)[r].hash) {
        (*out)[w - 1].weight += (*out)[r].weight;
      } else {
        (*out)[w++] = (*out)[r];
      }
    }
    out->resize(w);
  }

  void AppendFeatures(std::string_view text, std::vector<Feature>* out) const {
    std::vector<std::string> words;
    text::Tokenizer::SplitWords(text, &words);
    std::vector<std::string> stems;
    for (const std::string& w : words) {
      if (text::Tokenizer::IsStopWord(w) || w.size() > 64) continue;
      size_t before = stems.size();
      tokenizer_.Tokenize(w, &stems);
      if (stems.size() == before) continue;
      out->push_back({Hash('w', stems.back()), 1.0f});
      // Character n-grams over code points of "<word>".
      std::vector<std::pair<size_t, size_t>> cps;  // byte [begin, end) per code point
      std::string padded = "<" + w + ">";
      for (size_t pos = 0; pos < padded.size();) {
        size_t b = pos;
        text::DecodeUtf8(padded, &pos);
        cps.emplace_back(b, pos);
      }
      int n_grams = 0;
      for (int n = kMinGram; n <= kMaxGram; ++n) {
        if (static_cast<int>(cps.size()) >= n) n_grams += static_cast<int>(cps.size()) - n + 1;
      }
      if (n_grams == 0) continue;
      const float gram_weight = kGramShare / static_cast<float>(n_grams);
      for (int n = kMinGram; n <= kMaxGram; ++n) {
        for (size_t i = 0; i + n <= cps.size(); ++i) {
          std::string_view gram(padded.data() + cps[i].first, cps[i + n - 1].second - cps[i].first);
          out->push_back({Hash('c', gram), gram_weight});
        }
      }
    }
  }

  std::vector<float> EmbedOne(std::string_view text, EmbedPurpose purpose) const {
    std::vector<Feature> features;
    Features(text, &features);
    std::vector<float> v(dim_, 0.0f);
    const double n = static_cast<double>(std::max<int64_t>(docs_, 0));
    for (const auto& [h, count] : features) {
      // Sublinear tf; fractional (n-gram, bigram) weights below 1 stay as they are.
      float w = count >= 1.0f ? 1.0f + std::log(count) : count;
      if (purpose == EmbedPurpose::kQuery && n > 0) {
        double df = df_[h % kDfBuckets];
        w *= static_cast<float>(std::log(1.0 + (n - df + 0.5) / (df + 0.5)));
      }
      size_t bucket = static_cast<size_t>((h >> 21) % dim_);
      v[bucket] += (h & (uint64_t{1} << 63)) ? -w : w;
    }
    double norm = 0;
    for (float x : v) norm += static_cast<double>(x) * x;
    if (norm > 0) {
      float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (float& x : v) x *= inv;
    }
    return v;
  }

  size_t dim_;
  std::vector<int64_t> df_;
  int64_t docs_ = 0;
  mutable std::string key_;
  text::Tokenizer tokenizer_{text::TokenizerOptions{.stem = true, .drop_stop_words = false}};
};

}  // namespace

std::unique_ptr<Embedder> NewBuiltinEmbedder(size_t dim) {
  return std::make_unique<BuiltinEmbedder>(dim);
}

}  // namespace ragkv::rag
