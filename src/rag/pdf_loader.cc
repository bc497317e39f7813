// PDF loader on poppler-cpp: one section per page, numbered from 1, so
// citations can say "p. 7". poppler's own diagnostics are silenced (a broken
// PDF becomes one skip reason, not a screenful of parser noise), and any
// exception from the library is caught here so none crosses our API.
#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <memory>
#include <string>

#include "rag/loaders.h"

namespace ragkv::rag {
namespace {

void Quiet(const std::string&, void*) {}

std::string Utf8(const poppler::ustring& s) {
  poppler::byte_array bytes = s.to_utf8();
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

Result<Document> LoadPdf(std::string_view bytes) {
  if (bytes.empty()) return Status::InvalidArgument("empty file");
  if (bytes.substr(0, 5) != "%PDF-") return Status::InvalidArgument("broken PDF (no %PDF header)");
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    return Status::InvalidArgument("PDF too large");
  try {
    poppler::set_debug_error_function(Quiet, nullptr);
    std::unique_ptr<poppler::document> pdf(
        poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
    if (pdf == nullptr) return Status::InvalidArgument("broken PDF (cannot be parsed)");
    if (pdf->is_locked()) return Status::InvalidArgument("encrypted PDF");
    Document doc;
    doc.title = Utf8(pdf->get_title());
    for (int i = 0; i < pdf->pages(); ++i) {
      std::unique_ptr<poppler::page> page(pdf->create_page(i));
      if (page == nullptr) continue;
      Section s;
      s.page = static_cast<uint32_t>(i + 1);
      s.text = Utf8(page->text());
      if (s.text.find_first_not_of(" \t\r\n\f") == std::string::npos) continue;
      if (FindInvalidUtf8(s.text) != std::string::npos) continue;
      doc.sections.push_back(std::move(s));
    }
    if (doc.sections.empty()) {
      return Status::InvalidArgument("PDF has no extractable text (scanned images need OCR)");
    }
    return doc;
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("broken PDF (") + e.what() + ")");
  }
}

}  // namespace ragkv::rag
