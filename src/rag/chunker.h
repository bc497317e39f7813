// Chunker: cuts a Document into retrieval-sized pieces.
//
// Chunks never cross a section (so never a heading or a PDF page) and end at
// sentence boundaries where possible. Consecutive chunks of a section share
// up to `overlap` bytes of whole trailing sentences, so a fact that straddles
// a boundary is retrievable from either side. A sentence longer than
// `chunk_size` is split at whitespace, or failing that at a UTF-8 code point
// boundary: chunks are always valid UTF-8 when the input is.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rag/document.h"

namespace ragkv::rag {

struct ChunkerOptions {
  // ~500 tokens of English: large enough that most sections and dictionary
  // entries stay whole, small enough for an LLM prompt of 5-10 chunks.
  size_t chunk_size = 2000;  // target maximum bytes per chunk (>= 32)
  size_t overlap = 200;      // bytes of trailing sentences repeated (< chunk_size / 2)
};

struct ChunkPiece {
  std::string heading;
  uint32_t page = 0;
  uint64_t offset = 0;  // section offset + start of the chunk within the section text
  std::string text;
};

std::vector<ChunkPiece> ChunkDocument(const Document& doc, const ChunkerOptions& options);

// Sentence spans [begin, end) within `text`, whitespace-trimmed, in order.
// Boundaries: ., ! or ? (plus closing quotes/brackets) followed by whitespace
// and not ending a known abbreviation or a single letter; and blank lines.
std::vector<std::pair<size_t, size_t>> SplitSentences(std::string_view text);

// Largest n <= max such that text[0, n) does not end inside a UTF-8 code point.
size_t Utf8SafePrefix(std::string_view text, size_t max);

}  // namespace ragkv::rag
