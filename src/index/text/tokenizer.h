// Tokenizer: turns UTF-8 text into normalised index terms.
//
// Words are maximal runs of letters and digits (ASCII alphanumerics plus every
// non-ASCII code point that is not whitespace or punctuation), lower-cased
// (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic), optionally filtered by
// an English stop-word list and stemmed with Snowball's English stemmer
// (libstemmer). Invalid UTF-8 bytes act as separators, never crash.
//
// Thread safety: a Tokenizer owns a libstemmer handle, which is not
// thread-safe; use one Tokenizer per thread. Tokenize() is otherwise pure.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ragkv::text {

struct TokenizerOptions {
  bool stem = true;             // Snowball English stemming.
  bool drop_stop_words = true;  // Remove common English function words.
  size_t max_token_bytes = 64;  // Longer runs (base64, hashes) are dropped.
};

class Tokenizer {
 public:
  explicit Tokenizer(TokenizerOptions options = {});
  ~Tokenizer();
  Tokenizer(const Tokenizer&) = delete;
  Tokenizer& operator=(const Tokenizer&) = delete;
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // Appends the terms of `text` to `out`, in order of appearance. O(bytes).
  void Tokenize(std::string_view text, std::vector<std::string>* out) const;
  std::vector<std::string> Tokenize(std::string_view text) const;
  // One pass for both forms of each word: appends to `terms` what Tokenize
  // appends, and to `words` the same words before stemming (what a Tokenizer
  // with stem = false appends), so words->at(i) stems to the i-th new term.
  // Indexing needs both (stems for term queries, words for prefix queries).
  // Memoises the stems of up to kStemMemoCapacity distinct words (about
  // 100 bytes each) for this Tokenizer's lifetime. O(bytes).
  void TokenizeWithWords(std::string_view text, std::vector<std::string>* terms,
                         std::vector<std::string>* words) const;

  // Lower-cased words without stop-word removal or stemming; used for
  // sentence scoring and display.
  static void SplitWords(std::string_view text, std::vector<std::string>* out);

  static bool IsStopWord(std::string_view lower_word);

  const TokenizerOptions& options() const { return options_; }

 private:
  static constexpr size_t kStemMemoCapacity = 1 << 16;
  struct StemmerHandle;
  // The stem of `word`, or `word` itself without a stemmer.
  std::string StemOf(const std::string& word) const;

  TokenizerOptions options_;
  std::unique_ptr<StemmerHandle> stemmer_;
  // TokenizeWithWords' memo: word -> its term, nullopt for a stop word.
  mutable std::unordered_map<std::string, std::optional<std::string>> stem_memo_;
};

// Decodes one UTF-8 code point at `s[*pos]`, advancing *pos. Returns
// 0xFFFFFFFF (and advances one byte) for an invalid or truncated sequence.
uint32_t DecodeUtf8(std::string_view s, size_t* pos);
// Appends the UTF-8 encoding of `cp` to `out`.
void AppendUtf8(uint32_t cp, std::string* out);
// Simple one-to-one lower-casing for the scripts listed above.
uint32_t ToLowerCodePoint(uint32_t cp);
// True for letters/digits (see the file comment for the non-ASCII rule).
bool IsWordCodePoint(uint32_t cp);

}  // namespace ragkv::text
