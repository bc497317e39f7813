// Format dispatch plus the plain-text and Markdown loaders.
//
// Both are line-oriented single passes. Markdown is handled as text with
// structure, not rendered: heading lines (ATX "## x" and setext underlines)
// open sections and build the heading path; fenced code blocks are kept
// verbatim and never mistaken for headings. Rejected: a full CommonMark
// parser, which buys nothing for retrieval (emphasis and links are already
// plain words to the tokenizer).
#include "rag/loaders.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "index/text/tokenizer.h"

namespace ragkv::rag {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsBlank(std::string_view s) { return Trim(s).empty(); }

// Common checks for text formats; on success returns the bytes without a BOM.
Result<std::string_view> CheckText(std::string_view bytes) {
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  if (IsBlank(bytes)) return Status::InvalidArgument("empty file");
  if (bytes.substr(0, 8192).find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("binary file");
  }
  size_t bad = FindInvalidUtf8(bytes);
  if (bad != std::string_view::npos) {
    return Status::InvalidArgument("not valid UTF-8 at byte " + std::to_string(bad));
  }
  return bytes;
}

std::string FirstLineTitle(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(pos, end - pos));
    if (!line.empty()) return line.size() <= 120 ? std::string(line) : std::string();
    pos = end + 1;
  }
  return {};
}

std::string JoinHeadings(const std::vector<std::string>& stack) {
  std::string path;
  for (const std::string& h : stack) {
    if (h.empty()) continue;
    if (!path.empty()) path += " > ";
    path += h;
  }
  return path;
}

}  // namespace

size_t FindInvalidUtf8(std::string_view bytes) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t start = pos;
    if (static_cast<unsigned char>(bytes[pos]) < 0x80) {
      ++pos;
      continue;
    }
    if (text::DecodeUtf8(bytes, &pos) == 0xFFFFFFFF) return start;
  }
  return std::string_view::npos;
}

FileKind KindFromPath(std::string_view path) {
  size_t slash = path.find_last_of('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = name.find_last_of('.');
  if (dot == std::string_view::npos || dot == 0) return FileKind::kText;
  std::string ext = Lower(name.substr(dot + 1));
  if (ext == "txt" || ext == "text" || ext == "rst" || ext == "log") return FileKind::kText;
  if (ext == "md" || ext == "markdown") return FileKind::kMarkdown;
  if (ext == "html" || ext == "htm" || ext == "xhtml") return FileKind::kHtml;
  if (ext == "pdf") return FileKind::kPdf;
  return FileKind::kUnsupported;
}

Result<Document> LoadDocument(std::string_view path, std::string_view bytes) {
  if (bytes.size() > kMaxFileBytes) {
    return Status::InvalidArgument("file too large (" + std::to_string(bytes.size() >> 20) +
                                   " MiB > " + std::to_string(kMaxFileBytes >> 20) + " MiB)");
  }
  switch (KindFromPath(path)) {
    case FileKind::kText:
      return LoadText(bytes);
    case FileKind::kMarkdown:
      return LoadMarkdown(bytes);
    case FileKind::kHtml:
      return LoadHtml(bytes);
    case FileKind::kPdf:
      return LoadPdf(bytes);
    case FileKind::kUnsupported:
      break;
  }
  size_t slash = path.find_last_of('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return Status::InvalidArgument("unsupported file type ." +
                                 Lower(name.substr(name.find_last_of('.') + 1)));
}

Result<Document> LoadText(std::string_view bytes) {
  RAGKV_ASSIGN_OR_RETURN(std::string_view text, CheckText(bytes));
  Document doc;
  doc.title = FirstLineTitle(text);
  Section s;
  s.offset = static_cast<uint64_t>(text.data() - bytes.data());
  s.text.assign(text);
  doc.sections.push_back(std::move(s));
  return doc;
}

Result<Document> LoadMarkdown(std::string_view bytes) {
  RAGKV_ASSIGN_OR_RETURN(std::string_view text, CheckText(bytes));
  const uint64_t base = static_cast<uint64_t>(text.data() - bytes.data());
  Document doc;
  std::vector<std::string> stack;  // heading per level 1..6 (index level-1)
  Section current;
  current.offset = base;
  auto flush = [&] {
    if (!IsBlank(current.text)) doc.sections.push_back(std::move(current));
    current = Section{};
  };
  auto open_heading = [&](int level, std::string_view title, uint64_t offset) {
    flush();
    stack.resize(static_cast<size_t>(level));
    stack[static_cast<size_t>(level - 1)] = std::string(title);
    if (doc.title.empty()) doc.title = std::string(title);
    current.heading = JoinHeadings(stack);
    current.offset = offset;
  };
  std::string_view fence;
  size_t pos = 0;
  std::string_view prev_line;
  uint64_t prev_offset = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const uint64_t line_offset = base + pos;
    pos = end + 1;
    std::string_view trimmed = Trim(line);
    if (!fence.empty()) {
      if (trimmed.substr(0, fence.size()) == fence) fence = {};
      current.text.append(line).push_back('\n');
      prev_line = {};
      continue;
    }
    if (trimmed.substr(0, 3) == "```" || trimmed.substr(0, 3) == "~~~") {
      fence = trimmed.substr(0, 3);
      current.text.append(line).push_back('\n');
      prev_line = {};
      continue;
    }
    size_t hashes = 0;
    while (hashes < line.size() && line[hashes] == '#') ++hashes;
    if (hashes >= 1 && hashes <= 6 && (hashes == line.size() || line[hashes] == ' ')) {
      std::string_view title = Trim(line.substr(hashes));
      while (!title.empty() && title.back() == '#') title.remove_suffix(1);
      open_heading(static_cast<int>(hashes), Trim(title), line_offset);
      prev_line = {};
      continue;
    }
    // Setext: a non-blank paragraph line underlined with === or ---.
    bool underline =
        !trimmed.empty() && (trimmed.find_first_not_of('=') == std::string_view::npos ||
                             trimmed.find_first_not_of('-') == std::string_view::npos);
    if (underline && !IsBlank(prev_line) && trimmed.size() >= 2) {
      // Take the title line back out of the current section's text.
      size_t cut = current.text.rfind(prev_line);
      if (cut != std::string::npos) current.text.resize(cut);
      std::string title(Trim(prev_line));
      open_heading(trimmed[0] == '=' ? 1 : 2, title, prev_offset);
      prev_line = {};
      continue;
    }
    current.text.append(line).push_back('\n');
    prev_line = line;
    prev_offset = line_offset;
  }
  flush();
  if (doc.sections.empty()) return Status::InvalidArgument("no text content");
  if (doc.title.empty()) doc.title = FirstLineTitle(doc.sections.front().text);
  return doc;
}

}  // namespace ragkv::rag
