// Helpers for the rag tests: a temporary directory removed on destruction,
// and file writing.
#pragma once

#include <string>
#include <string_view>

namespace ragkv::rag::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // Writes `content` to path()/name (creating folders); returns the full path.
  std::string Write(const std::string& name, std::string_view content) const;

 private:
  std::string path_;
};

// A one-page PDF whose page shows `text` (ASCII, no parentheses), with a
// correct cross-reference table, built byte by byte.
std::string MakePdf(const std::string& text);

}  // namespace ragkv::rag::testing
