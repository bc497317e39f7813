// The RAG layer's data model: what loaders produce (Document, Section), what
// the chunker cuts them into and what a ChunkStore keeps (ChunkRecord).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ragkv::rag {

// A run of text under one heading path, from one page (PDF) or none.
struct Section {
  std::string heading;  // heading path, outermost first, joined by " > "; may be empty
  std::string text;     // UTF-8, paragraphs separated by blank lines
  uint32_t page = 0;    // 1-based PDF page; 0 when the format has no pages
  uint64_t offset = 0;  // byte offset of the section in the source file (text/Markdown)
};

struct Document {
  std::string title;  // <title>, first Markdown heading, PDF title or first line; may be empty
  std::vector<Section> sections;
};

// One retrievable unit with its provenance, as stored and cited.
struct ChunkRecord {
  uint64_t id = 0;       // unique within a collection, never reused
  std::string source;    // absolute path of the file it came from
  std::string title;     // the document's title
  std::string heading;   // heading path within the document
  uint32_t page = 0;     // 1-based PDF page, 0 if none
  uint64_t offset = 0;   // byte offset of the chunk in its section's source bytes
  uint32_t ordinal = 0;  // position of the chunk within its source, from 0
  std::string text;
};

}  // namespace ragkv::rag
