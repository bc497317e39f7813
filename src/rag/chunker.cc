// Chunker implementation: sentence segmentation, then greedy packing.
//
// Packing is greedy (fill up to chunk_size, then step back by whole
// sentences for the overlap). Rejected: fixed-size windows, which cut words
// and sentences in half and produce chunks whose first and last lines are
// noise for both BM25 and the extractive answerer; and recursive "split by
// separator list" packing, which behaves the same as this on prose but is
// harder to reason about at the edges.
#include "rag/chunker.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_set>

namespace ragkv::rag {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f'; }

bool IsAbbreviation(std::string_view word) {
  static const std::unordered_set<std::string_view> kAbbrev = {
      "e.g", "i.e",    "etc", "vs", "cf", "dr", "mr", "mrs", "ms",  "prof", "fig",
      "no",  "approx", "eg",  "ie", "al", "st", "jr", "sr",  "inc", "ltd",  "co"};
  if (word.size() == 1 && std::isalpha(static_cast<unsigned char>(word[0]))) return true;
  std::string lower(word);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return kAbbrev.count(lower) > 0;
}

std::pair<size_t, size_t> TrimSpan(std::string_view text, size_t b, size_t e) {
  while (b < e && IsSpace(text[b])) ++b;
  while (e > b && IsSpace(text[e - 1])) --e;
  return {b, e};
}

// Splits [b, e) into pieces of at most `max` bytes at whitespace or code
// point boundaries.
void SplitLong(std::string_view text, size_t b, size_t e, size_t max,
               std::vector<std::pair<size_t, size_t>>* out) {
  while (e - b > max) {
    size_t cut = b + Utf8SafePrefix(text.substr(b, e - b), max);
    size_t space = text.substr(b, cut - b).find_last_of(" \n\t");
    if (space != std::string_view::npos && space > max / 2) cut = b + space;
    if (cut == b) cut = b + max;  // unreachable for valid UTF-8 and max >= 4
    auto span = TrimSpan(text, b, cut);
    if (span.first < span.second) out->push_back(span);
    b = cut;
  }
  auto span = TrimSpan(text, b, e);
  if (span.first < span.second) out->push_back(span);
}

}  // namespace

size_t Utf8SafePrefix(std::string_view text, size_t max) {
  if (max >= text.size()) return text.size();
  size_t n = max;
  // Step back over continuation bytes to the lead byte of the cut code point.
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return n;
}

std::vector<std::pair<size_t, size_t>> SplitSentences(std::string_view text) {
  std::vector<std::pair<size_t, size_t>> out;
  size_t start = 0;
  auto emit = [&](size_t end) {
    auto span = TrimSpan(text, start, end);
    if (span.first < span.second) out.push_back(span);
    start = end;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      size_t j = i + 1;
      while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')) ++j;
      if (j < text.size() && text[j] == '\n') {
        emit(i);
        i = j;
      }
      continue;
    }
    if (c != '.' && c != '!' && c != '?') continue;
    size_t j = i + 1;
    while (j < text.size() &&
           (text[j] == '"' || text[j] == '\'' || text[j] == ')' || text[j] == ']')) {
      ++j;
    }
    if (j < text.size() && !IsSpace(text[j])) continue;
    if (c == '.') {
      size_t w = i;
      while (w > start && !IsSpace(text[w - 1])) --w;
      std::string_view word = text.substr(w, i - w);
      while (!word.empty() && (word.front() == '(' || word.front() == '"')) word.remove_prefix(1);
      if (IsAbbreviation(word)) continue;
    }
    emit(j);
    i = j > 0 ? j - 1 : 0;
  }
  emit(text.size());
  return out;
}

std::vector<ChunkPiece> ChunkDocument(const Document& doc, const ChunkerOptions& options) {
  const size_t size = std::max<size_t>(options.chunk_size, 32);
  const size_t overlap = std::min(options.overlap, size / 2);
  std::vector<ChunkPiece> chunks;
  for (const Section& section : doc.sections) {
    const std::string_view text = section.text;
    std::vector<std::pair<size_t, size_t>> units;
    for (auto [b, e] : SplitSentences(text)) SplitLong(text, b, e, size, &units);
    size_t first = 0;
    while (first < units.size()) {
      size_t last = first;
      while (last + 1 < units.size() && units[last + 1].second - units[first].first <= size) {
        ++last;
      }
      ChunkPiece piece;
      piece.heading = section.heading;
      piece.page = section.page;
      piece.offset = section.offset + units[first].first;
      piece.text.assign(text.substr(units[first].first, units[last].second - units[first].first));
      chunks.push_back(std::move(piece));
      if (last + 1 >= units.size()) break;
      // Next chunk starts at the earliest sentence whose start lies within
      // `overlap` bytes of this chunk's end, but always advances.
      size_t next = last + 1;
      while (next - 1 > first && units[last].second - units[next - 1].first <= overlap) --next;
      first = next;
    }
  }
  return chunks;
}

}  // namespace ragkv::rag
