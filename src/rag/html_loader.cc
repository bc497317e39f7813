// HTML loader on gumbo, an HTML5-conformant parser (it recovers from broken
// markup exactly as browsers do, which regex stripping cannot).
//
// One depth-first walk builds sections: h1-h6 close the current section and
// set the heading path at their level; block elements end a line; inline text
// has its whitespace collapsed, <pre> keeps it. Dropped subtrees: script,
// style, noscript, template, svg, head (except <title>), iframe, form, and
// page chrome — nav, header, footer, elements whose class names start with
// "nav" (navheader/navfooter/navbar) and tables of contents (class "toc"),
// which repeat on many pages of generated manuals and would otherwise be
// retrieved for any query that names a section.
#include <gumbo.h>

#include <cstring>
#include <string>
#include <vector>

#include "rag/loaders.h"

namespace ragkv::rag {
namespace {

bool IsDropped(const GumboElement& el) {
  switch (el.tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER:
      return true;
    default:
      break;
  }
  const GumboAttribute* cls = gumbo_get_attribute(&el.attributes, "class");
  if (cls == nullptr) return false;
  std::string_view v(cls->value);
  size_t pos = 0;
  while (pos < v.size()) {
    size_t end = v.find(' ', pos);
    if (end == std::string_view::npos) end = v.size();
    std::string_view name = v.substr(pos, end - pos);
    if (name.substr(0, 3) == "nav" || name == "toc") return true;
    pos = end + 1;
  }
  return false;
}

bool IsBlock(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_LI:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_BODY:
      return true;
    default:
      return false;
  }
}

int HeadingLevel(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_H1:
      return 1;
    case GUMBO_TAG_H2:
      return 2;
    case GUMBO_TAG_H3:
      return 3;
    case GUMBO_TAG_H4:
      return 4;
    case GUMBO_TAG_H5:
      return 5;
    case GUMBO_TAG_H6:
      return 6;
    default:
      return 0;
  }
}

// Appends text with runs of whitespace collapsed to one space.
void AppendCollapsed(std::string_view in, std::string* out) {
  for (char c : in) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f';
    if (space) {
      if (!out->empty() && out->back() != ' ' && out->back() != '\n') out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
}

void EndLine(std::string* out) {
  while (!out->empty() && out->back() == ' ') out->pop_back();
  if (!out->empty() && out->back() != '\n') out->push_back('\n');
}

// Plain text of a subtree (used for headings and <title>).
void CollectText(const GumboNode* node, std::string* out) {
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA ||
      node->type == GUMBO_NODE_WHITESPACE) {
    AppendCollapsed(node->v.text.text, out);
  } else if (node->type == GUMBO_NODE_ELEMENT) {
    const GumboVector& children = node->v.element.children;
    for (unsigned i = 0; i < children.length; ++i) {
      CollectText(static_cast<const GumboNode*>(children.data[i]), out);
    }
  }
}

std::string TrimCopy(std::string s) {
  size_t b = s.find_first_not_of(" \n");
  size_t e = s.find_last_not_of(" \n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

class Walker {
 public:
  void Walk(const GumboNode* node, bool in_pre) {
    if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA ||
        node->type == GUMBO_NODE_WHITESPACE) {
      if (in_pre) {
        current_.text.append(node->v.text.text);
      } else {
        AppendCollapsed(node->v.text.text, &current_.text);
      }
      return;
    }
    if (node->type != GUMBO_NODE_ELEMENT) return;
    const GumboElement& el = node->v.element;
    if (IsDropped(el)) return;
    if (int level = HeadingLevel(el.tag); level > 0) {
      std::string heading;
      CollectText(node, &heading);
      OpenHeading(level, TrimCopy(std::move(heading)));
      return;
    }
    bool block = IsBlock(el.tag);
    if (block) EndLine(&current_.text);
    bool pre = in_pre || el.tag == GUMBO_TAG_PRE;
    for (unsigned i = 0; i < el.children.length; ++i) {
      Walk(static_cast<const GumboNode*>(el.children.data[i]), pre);
    }
    if (el.tag == GUMBO_TAG_TD || el.tag == GUMBO_TAG_TH) current_.text.push_back(' ');
    if (block) EndLine(&current_.text);
  }

  std::vector<Section> Finish() {
    Flush();
    return std::move(sections_);
  }
  const std::string& first_heading() const { return first_heading_; }

 private:
  void OpenHeading(int level, std::string title) {
    Flush();
    stack_.resize(static_cast<size_t>(level));
    stack_[static_cast<size_t>(level - 1)] = title;
    if (first_heading_.empty()) first_heading_ = title;
    std::string path;
    for (const std::string& h : stack_) {
      if (h.empty()) continue;
      if (!path.empty()) path += " > ";
      path += h;
    }
    current_.heading = std::move(path);
  }
  void Flush() {
    std::string text = TrimCopy(std::move(current_.text));
    if (!text.empty()) {
      current_.text = std::move(text);
      sections_.push_back(std::move(current_));
    }
    std::string heading = current_.heading;
    current_ = Section{};
    current_.heading = std::move(heading);
  }

  std::vector<std::string> stack_;
  std::vector<Section> sections_;
  Section current_;
  std::string first_heading_;
};

const GumboNode* FindTag(const GumboNode* node, GumboTag tag) {
  if (node->type != GUMBO_NODE_ELEMENT) return nullptr;
  if (node->v.element.tag == tag) return node;
  const GumboVector& children = node->v.element.children;
  for (unsigned i = 0; i < children.length; ++i) {
    if (const GumboNode* found = FindTag(static_cast<const GumboNode*>(children.data[i]), tag)) {
      return found;
    }
  }
  return nullptr;
}

}  // namespace

Result<Document> LoadHtml(std::string_view bytes) {
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);
  if (bytes.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::InvalidArgument("empty file");
  }
  if (bytes.substr(0, 8192).find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("binary file");
  }
  size_t bad = FindInvalidUtf8(bytes);
  if (bad != std::string_view::npos) {
    return Status::InvalidArgument("not valid UTF-8 at byte " + std::to_string(bad));
  }
  GumboOutput* output = gumbo_parse_with_options(&kGumboDefaultOptions, bytes.data(), bytes.size());
  if (output == nullptr) return Status::InvalidArgument("HTML parser failed");
  Document doc;
  if (const GumboNode* title = FindTag(output->root, GUMBO_TAG_TITLE)) {
    std::string t;
    CollectText(title, &t);
    doc.title = TrimCopy(std::move(t));
  }
  Walker walker;
  if (const GumboNode* body = FindTag(output->root, GUMBO_TAG_BODY)) walker.Walk(body, false);
  doc.sections = walker.Finish();
  if (doc.title.empty()) doc.title = walker.first_heading();
  gumbo_destroy_output(&kGumboDefaultOptions, output);
  if (doc.sections.empty()) return Status::InvalidArgument("HTML has no body text");
  return doc;
}

}  // namespace ragkv::rag
