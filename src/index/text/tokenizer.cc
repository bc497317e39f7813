// Tokenizer implementation.
//
// Approach: a single forward pass decodes UTF-8, classifies each code point as
// word or separator, lower-cases word code points into a scratch buffer and
// emits a term at each separator. Classification is a small table of
// separator ranges rather than full Unicode properties: ICU is not a
// dependency we want for an index that must stay small, and the ranges below
// cover the punctuation, symbols and spaces that occur in real documents.
// Stemming uses Snowball's English (Porter2) algorithm from Debian's
// libstemmer, the same family SQLite FTS5's "porter" tokenizer uses.
#include "index/text/tokenizer.h"

#include <libstemmer.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_set>

namespace ragkv::text {
namespace {

constexpr uint32_t kInvalid = 0xFFFFFFFF;

// NLTK's English stop-word list plus a few modal verbs.
const std::unordered_set<std::string_view>& StopWords() {
  static const std::unordered_set<std::string_view> kWords = {
      "i",       "me",      "my",      "myself",   "we",         "our",    "ours",    "ourselves",
      "you",     "your",    "yours",   "yourself", "yourselves", "he",     "him",     "his",
      "himself", "she",     "her",     "hers",     "herself",    "it",     "its",     "itself",
      "they",    "them",    "their",   "theirs",   "themselves", "what",   "which",   "who",
      "whom",    "this",    "that",    "these",    "those",      "am",     "is",      "are",
      "was",     "were",    "be",      "been",     "being",      "have",   "has",     "had",
      "having",  "do",      "does",    "did",      "doing",      "a",      "an",      "the",
      "and",     "but",     "if",      "or",       "because",    "as",     "until",   "while",
      "of",      "at",      "by",      "for",      "with",       "about",  "against", "between",
      "into",    "through", "during",  "before",   "after",      "above",  "below",   "to",
      "from",    "up",      "down",    "in",       "out",        "on",     "off",     "over",
      "under",   "again",   "further", "then",     "once",       "here",   "there",   "when",
      "where",   "why",     "how",     "all",      "any",        "both",   "each",    "few",
      "more",    "most",    "other",   "some",     "such",       "no",     "nor",     "not",
      "only",    "own",     "same",    "so",       "than",       "too",    "very",    "s",
      "t",       "can",     "will",    "just",     "don",        "should", "now",     "d",
      "ll",      "m",       "o",       "re",       "ve",         "y",      "could",   "would",
      "might",   "must",    "may",     "shall",    "also"};
  return kWords;
}

}  // namespace

struct Tokenizer::StemmerHandle {
  sb_stemmer* stemmer = nullptr;
  ~StemmerHandle() {
    if (stemmer != nullptr) sb_stemmer_delete(stemmer);
  }
};

Tokenizer::Tokenizer(TokenizerOptions options) : options_(options) {
  if (options_.stem) {
    stemmer_ = std::make_unique<StemmerHandle>();
    stemmer_->stemmer = sb_stemmer_new("english", "UTF_8");
  }
}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

uint32_t DecodeUtf8(std::string_view s, size_t* pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = *pos;
  unsigned char c = p[i];
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  }
  int len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    *pos = i + 1;
    return kInvalid;
  }
  if (i + len > s.size()) {
    *pos = i + 1;
    return kInvalid;
  }
  for (int k = 1; k < len; ++k) {
    unsigned char cc = p[i + k];
    if ((cc & 0xC0) != 0x80) {
      *pos = i + 1;
      return kInvalid;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  // Reject overlong forms, surrogates and out-of-range values.
  static constexpr std::array<uint32_t, 5> kMin = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *pos = i + 1;
    return kInvalid;
  }
  *pos = i + len;
  return cp;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

uint32_t ToLowerCodePoint(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp < 0xC0) return cp;
  // Latin-1: À-Þ except ×.
  if (cp <= 0xDE) return cp == 0xD7 ? cp : cp + 32;
  // Latin Extended-A: pairs, upper case even (with two odd-aligned runs).
  if (cp >= 0x100 && cp <= 0x137) return cp | 1;
  if (cp >= 0x139 && cp <= 0x148) return (cp & 1) ? cp + 1 : cp;
  if (cp >= 0x14A && cp <= 0x177) return cp | 1;
  if (cp == 0x178) return 0xFF;
  if (cp >= 0x179 && cp <= 0x17E) return (cp & 1) ? cp + 1 : cp;
  // Greek capitals.
  if (cp >= 0x391 && cp <= 0x3AB && cp != 0x3A2) return cp + 32;
  // Cyrillic.
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;
  return cp;
}

bool IsWordCodePoint(uint32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  }
  if (cp == kInvalid) return false;
  if (cp <= 0xBF) return cp == 0xAA || cp == 0xB5 || cp == 0xBA;  // Latin-1 punctuation
  if (cp == 0xD7 || cp == 0xF7) return false;                     // × ÷
  if (cp >= 0x2000 && cp <= 0x2BFF) return false;  // punctuation, symbols, arrows, math
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFE30 && cp <= 0xFE4F) return false;
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;  // fullwidth punctuation
  if (cp == 0xFEFF || cp == 0xFFFD) return false;  // BOM, replacement char
  if (cp >= 0x1F000) return false;                 // emoji and pictographs
  return true;
}

bool Tokenizer::IsStopWord(std::string_view lower_word) {
  return StopWords().count(lower_word) > 0;
}

void Tokenizer::SplitWords(std::string_view text, std::vector<std::string>* out) {
  std::string word;
  size_t pos = 0;
  while (pos <= text.size()) {
    // ASCII fast path (most bytes of most documents): the same
    // classification and lower-casing as below, without decoding.
    if (pos < text.size() && static_cast<unsigned char>(text[pos]) < 0x80) {
      const char c = text[pos++];
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
        word.push_back(c);
      } else if (c >= 'A' && c <= 'Z') {
        word.push_back(static_cast<char>(c + ('a' - 'A')));
      } else if (!word.empty()) {
        out->push_back(std::move(word));
        word.clear();
      }
      continue;
    }
    uint32_t cp = pos < text.size() ? DecodeUtf8(text, &pos) : (++pos, kInvalid);
    if (IsWordCodePoint(cp)) {
      AppendUtf8(ToLowerCodePoint(cp), &word);
    } else if (!word.empty()) {
      out->push_back(std::move(word));
      word.clear();
    }
  }
}

void Tokenizer::Tokenize(std::string_view text, std::vector<std::string>* out) const {
  std::vector<std::string> words;
  SplitWords(text, &words);
  for (std::string& w : words) {
    if (w.size() > options_.max_token_bytes) continue;
    if (options_.drop_stop_words && IsStopWord(w)) continue;
    if (stemmer_ != nullptr && stemmer_->stemmer != nullptr) {
      const sb_symbol* stemmed =
          sb_stemmer_stem(stemmer_->stemmer, reinterpret_cast<const sb_symbol*>(w.data()),
                          static_cast<int>(w.size()));
      if (stemmed != nullptr) {
        out->emplace_back(reinterpret_cast<const char*>(stemmed),
                          static_cast<size_t>(sb_stemmer_length(stemmer_->stemmer)));
        continue;
      }
    }
    out->push_back(std::move(w));
  }
}

void Tokenizer::TokenizeWithWords(std::string_view text, std::vector<std::string>* terms,
                                  std::vector<std::string>* words) const {
  const size_t first = words->size();
  SplitWords(text, words);
  auto kept = words->begin() + static_cast<std::ptrdiff_t>(first);
  for (auto w = kept; w != words->end(); ++w) {
    if (w->size() > options_.max_token_bytes) continue;
    // Word frequencies are Zipfian: a few thousand distinct words make up
    // most tokens, so one hash lookup replaces the stop-word lookup and the
    // Snowball call for nearly every token.
    auto memo = stem_memo_.find(*w);
    if (memo == stem_memo_.end()) {
      std::optional<std::string> term;  // nullopt: a dropped stop word
      if (!options_.drop_stop_words || !IsStopWord(*w)) term = StemOf(*w);
      if (stem_memo_.size() >= kStemMemoCapacity) {
        if (!term) continue;
        terms->push_back(std::move(*term));
        if (kept != w) *kept = std::move(*w);
        ++kept;
        continue;
      }
      memo = stem_memo_.emplace(*w, std::move(term)).first;
    }
    if (!memo->second) continue;
    terms->push_back(*memo->second);
    if (kept != w) *kept = std::move(*w);
    ++kept;
  }
  words->erase(kept, words->end());
}

std::string Tokenizer::StemOf(const std::string& word) const {
  if (stemmer_ != nullptr && stemmer_->stemmer != nullptr) {
    const sb_symbol* stemmed =
        sb_stemmer_stem(stemmer_->stemmer, reinterpret_cast<const sb_symbol*>(word.data()),
                        static_cast<int>(word.size()));
    if (stemmed != nullptr) {
      return std::string(reinterpret_cast<const char*>(stemmed),
                         static_cast<size_t>(sb_stemmer_length(stemmer_->stemmer)));
    }
  }
  return word;
}

std::vector<std::string> Tokenizer::Tokenize(std::string_view text) const {
  std::vector<std::string> out;
  Tokenize(text, &out);
  return out;
}

}  // namespace ragkv::text
