// Loaders: turn a file's bytes into a Document.
//
// Supported: plain text (.txt .text .rst .log and files without extension),
// Markdown (.md .markdown: ATX and setext headings, fenced code kept as
// text), HTML (.html .htm .xhtml: parsed with gumbo; script, style, nav,
// header and footer dropped; h1-h6 become the heading path) and PDF (.pdf:
// poppler-cpp, one section per page with its page number).
//
// A file that cannot be used is not an error of the ingest: LoadDocument then
// returns a non-OK status whose message is the skip reason shown to the user
// ("empty file", "binary file", "not valid UTF-8 at byte 1234", "broken PDF",
// "unsupported file type .png", "file too large"). Loaders never abort and
// never throw.
//
// Thread safety: all functions are reentrant.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "rag/document.h"

namespace ragkv::rag {

enum class FileKind { kText, kMarkdown, kHtml, kPdf, kUnsupported };

// Kind from the file name's extension (case-insensitive).
FileKind KindFromPath(std::string_view path);

// Files larger than this are skipped (a single document, not a corpus).
inline constexpr size_t kMaxFileBytes = 64u << 20;

// Parses `bytes` (the content of the file at `path`) by the path's kind.
Result<Document> LoadDocument(std::string_view path, std::string_view bytes);

// The individual loaders, exposed for tests.
Result<Document> LoadText(std::string_view bytes);
Result<Document> LoadMarkdown(std::string_view bytes);
Result<Document> LoadHtml(std::string_view bytes);
Result<Document> LoadPdf(std::string_view bytes);

// Returns the offset of the first invalid UTF-8 byte, or npos if valid.
size_t FindInvalidUtf8(std::string_view bytes);

}  // namespace ragkv::rag
