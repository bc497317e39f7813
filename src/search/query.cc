// The DIALECT 2 query parser (a hand-written recursive descent over the raw
// query bytes) and the AST printer.
//
// Grammar, loosest binding first (DIALECT 2 puts | below implicit AND:
// "a b | c d" means "(a b) | (c d)"):
//   query     := union [ '=>' knn ] EOF
//   union     := intersect ( '|' intersect )*
//   intersect := unary+                      (stops at ')', '|', '=>', EOF)
//   unary     := '-' unary | '~' unary | primary
//   primary   := ( '(' union ')' | '@' fields ':' body | '"' phrase '"'
//                | '%'{1,3} term '%'{1,3} | '*' | '$' param | term ['*'] )
//                [ '=>' '{' attributes '}' ]
//   body      := '{' tags '}' | '[' range ']' | '[' lon lat r unit ']'
//                | '[' VECTOR_RANGE r $blob ']' | unary
//   knn       := '[' KNN (int|$p) '@'field '$'blob (ATTR value | AS name)* ']'
//                [ '=>' '{' attributes '}' ]
// `@f:` scopes exactly the unary after it ("@name:James Brown" is
// "(@name:James) Brown"), and the scope is pushed down onto the leaves, so
// the AST needs no field-scope node type.
//
// Why hand-written rather than a generated parser (RediSearch uses Ragel and
// Lemon): the language is small, context-dependent inside {} and [] (spaces
// are part of a tag; numbers are not terms), and a generator would be a build
// dependency. Errors report the byte offset and the token there, as
// RediSearch does ("Syntax error at offset 12 near foo"). Recursion is capped
// at kMaxQueryDepth, so hostile input cannot overflow the stack (the fuzz
// target checks this).
#include "search/query.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>

#include "search/arg_parsing.h"

namespace ragkv::search {
namespace {

using NodePtr = std::unique_ptr<QueryNode>;

bool IsTermChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '_' || u >= 0x80;
}
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsNameChar(char c) { return IsTermChar(c) || c == '.'; }

NodePtr MakeNode(NodeKind kind) {
  auto n = std::make_unique<QueryNode>();
  n->kind = kind;
  return n;
}

class Parser {
 public:
  Parser(std::string_view text, const QueryParams& params) : s_(text), params_(params) {}

  Result<Query> Parse() {
    Query q;
    SkipSpace();
    if (AtEnd()) return SyntaxError(pos_);
    RAGKV_ASSIGN_OR_RETURN(q.root, ParseUnion({}));
    SkipSpace();
    if (LookingAt("=>")) {
      const size_t arrow = pos_;
      pos_ += 2;
      SkipSpace();
      if (Peek() != '[') return SyntaxError(arrow);
      RAGKV_ASSIGN_OR_RETURN(q.knn, ParseKnn());
      SkipSpace();
    }
    if (!AtEnd()) return SyntaxError(pos_);
    return q;
  }

 private:
  // ---- lexical helpers ----
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0';
  }
  bool LookingAt(std::string_view t) const { return s_.substr(pos_, t.size()) == t; }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(s_[pos_])) ++pos_;
  }
  bool LookingAtKeyword(std::string_view kw) const {
    if (!EqualsIgnoreCase(s_.substr(pos_, kw.size()), kw)) return false;
    const size_t end = pos_ + kw.size();
    return end >= s_.size() || !IsTermChar(s_[end]);
  }

  // The token at `at`, as RediSearch's lexer would cut it, for error texts.
  std::string_view NearToken(size_t at) const {
    if (at >= s_.size()) return {};
    size_t end = at;
    if (IsTermChar(s_[at]) || s_[at] == '\\') {
      while (end < s_.size() && (IsTermChar(s_[end]) || s_[end] == '\\')) {
        end += s_[end] == '\\' && end + 1 < s_.size() ? 2 : 1;
      }
    } else if (s_.substr(at, 2) == "=>") {
      end = at + 2;
    } else {
      end = at + 1;
    }
    return s_.substr(at, std::min(end, s_.size()) - at);
  }
  Status SyntaxError(size_t at) const {
    size_t offset = std::min(at, s_.size());
    while (offset < s_.size() && IsSpace(s_[offset])) ++offset;  // point at a token
    return Status::InvalidArgument("Syntax error at offset " + std::to_string(offset) + " near " +
                                   std::string(NearToken(offset)));
  }

  Status Enter() {
    if (++depth_ > kMaxQueryDepth) {
      return Status::InvalidArgument("Query is too deeply nested (more than " +
                                     std::to_string(kMaxQueryDepth) + " levels)");
    }
    return Status::Ok();
  }

  // term := ( termchar | '\' any )+, returned unescaped.
  Result<std::string> ReadTerm() {
    const size_t start = pos_;
    std::string out;
    while (!AtEnd()) {
      const char c = s_[pos_];
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return SyntaxError(pos_);
        out += s_[pos_ + 1];
        pos_ += 2;
      } else if (IsTermChar(c)) {
        out += c;
        ++pos_;
      } else {
        break;
      }
    }
    if (pos_ == start) return SyntaxError(pos_);
    return out;
  }

  // $name -> the parameter's value. REQUIRES: Peek() == '$'.
  Result<std::string> ReadParam() {
    const size_t start = pos_;
    ++pos_;
    const size_t name_start = pos_;
    while (!AtEnd() && IsTermChar(s_[pos_])) ++pos_;
    if (pos_ == name_start) return SyntaxError(start);
    const std::string_view name = s_.substr(name_start, pos_ - name_start);
    auto it = params_.find(name);
    if (it == params_.end()) {
      return Status::InvalidArgument("No such parameter `" + std::string(name) + "`");
    }
    last_param_name_ = std::string(name);
    return it->second;
  }

  // A bare token inside [] or after KNN keywords: up to space, ']' or '}'.
  std::string_view ReadWord() {
    const size_t start = pos_;
    while (!AtEnd() && !IsSpace(s_[pos_]) && s_[pos_] != ']' && s_[pos_] != '}' &&
           s_[pos_] != ';') {
      ++pos_;
    }
    return s_.substr(start, pos_ - start);
  }

  // A value that is either $param or a literal word.
  Result<std::string> ReadValue() {
    if (Peek() == '$') return ReadParam();
    const size_t start = pos_;
    const std::string_view w = ReadWord();
    if (w.empty()) return SyntaxError(start);
    return std::string(w);
  }

  Result<double> ReadNumberValue() {
    const size_t start = pos_;
    RAGKV_ASSIGN_OR_RETURN(const std::string v, ReadValue());
    const auto d = ParseDouble(v);
    if (!d) return SyntaxError(start);
    return *d;
  }

  Result<uint64_t> ReadUintValue() {
    const size_t start = pos_;
    RAGKV_ASSIGN_OR_RETURN(const std::string v, ReadValue());
    const auto n = ParseUint64(v);
    if (!n) return SyntaxError(start);
    return *n;
  }

  // ---- grammar ----
  Result<NodePtr> ParseUnion(const std::vector<std::string>& fields) {
    RAGKV_RETURN_IF_ERROR(Enter());
    std::vector<NodePtr> alternatives;
    RAGKV_ASSIGN_OR_RETURN(NodePtr first, ParseIntersect(fields));
    alternatives.push_back(std::move(first));
    for (;;) {
      SkipSpace();
      if (Peek() != '|') break;
      ++pos_;
      RAGKV_ASSIGN_OR_RETURN(NodePtr next, ParseIntersect(fields));
      alternatives.push_back(std::move(next));
    }
    --depth_;
    if (alternatives.size() == 1) return std::move(alternatives.front());
    NodePtr node = MakeNode(NodeKind::kOr);
    node->children = std::move(alternatives);
    return node;
  }

  Result<NodePtr> ParseIntersect(const std::vector<std::string>& fields) {
    std::vector<NodePtr> parts;
    for (;;) {
      SkipSpace();
      if (AtEnd() || Peek() == ')' || Peek() == '|' || LookingAt("=>")) break;
      RAGKV_ASSIGN_OR_RETURN(NodePtr part, ParseUnary(fields));
      parts.push_back(std::move(part));
    }
    if (parts.empty()) return SyntaxError(pos_);
    if (parts.size() == 1) return std::move(parts.front());
    NodePtr node = MakeNode(NodeKind::kAnd);
    node->children = std::move(parts);
    return node;
  }

  Result<NodePtr> ParseUnary(const std::vector<std::string>& fields) {
    SkipSpace();
    const char c = Peek();
    if (c == '-' || c == '~') {
      ++pos_;
      RAGKV_RETURN_IF_ERROR(Enter());
      RAGKV_ASSIGN_OR_RETURN(NodePtr child, ParseUnary(fields));
      --depth_;
      NodePtr node = MakeNode(c == '-' ? NodeKind::kNot : NodeKind::kOptional);
      node->children.push_back(std::move(child));
      return node;
    }
    RAGKV_ASSIGN_OR_RETURN(NodePtr node, ParsePrimary(fields));
    RAGKV_RETURN_IF_ERROR(MaybeParseAttributes(&node->attributes));
    return node;
  }

  Result<NodePtr> ParsePrimary(const std::vector<std::string>& fields) {
    SkipSpace();
    const size_t start = pos_;
    const char c = Peek();
    if (c == '(') {
      ++pos_;
      RAGKV_ASSIGN_OR_RETURN(NodePtr inner, ParseUnion(fields));
      SkipSpace();
      if (Peek() != ')') return SyntaxError(pos_);
      ++pos_;
      return inner;
    }
    if (c == '@') return ParseFieldExpression();
    if (c == '"') return ParsePhrase(fields);
    if (c == '%') return ParseFuzzy(fields);
    if (c == '*') {
      ++pos_;
      return MakeNode(NodeKind::kMatchAll);
    }
    if (c == '$') {
      RAGKV_ASSIGN_OR_RETURN(std::string value, ReadParam());
      NodePtr node = MakeNode(NodeKind::kTerm);
      node->fields = fields;
      node->text = std::move(value);
      return node;
    }
    if (IsTermChar(c) || c == '\\') {
      RAGKV_ASSIGN_OR_RETURN(std::string term, ReadTerm());
      NodePtr node = MakeNode(NodeKind::kTerm);
      if (Peek() == '*') {
        ++pos_;
        node->kind = NodeKind::kPrefix;
      }
      node->fields = fields;
      node->text = std::move(term);
      return node;
    }
    return SyntaxError(start);
  }

  // '@' name ('|' name)* ':' body
  Result<NodePtr> ParseFieldExpression() {
    std::vector<std::string> fields;
    for (;;) {
      const size_t at = pos_;
      ++pos_;  // '@' or '|'
      const size_t name_start = pos_;
      std::string name;
      while (!AtEnd() && (IsNameChar(s_[pos_]) || s_[pos_] == '\\')) {
        if (s_[pos_] == '\\') {
          if (pos_ + 1 >= s_.size()) return SyntaxError(pos_);
          ++pos_;
        }
        name += s_[pos_++];
      }
      if (pos_ == name_start) return SyntaxError(at);
      fields.push_back(std::move(name));
      if (Peek() != '|') break;
    }
    if (Peek() != ':') return SyntaxError(pos_);
    ++pos_;
    SkipSpace();
    if (Peek() == '{') return ParseTags(std::move(fields));
    if (Peek() == '[') return ParseRange(std::move(fields));
    RAGKV_RETURN_IF_ERROR(Enter());
    RAGKV_ASSIGN_OR_RETURN(NodePtr body, ParseUnary(fields));
    --depth_;
    return body;
  }

  // '{' tag ('|' tag)* '}'. Spaces inside a tag belong to it; surrounding
  // spaces do not; '\' escapes; a trailing unescaped '*' makes a prefix.
  Result<NodePtr> ParseTags(std::vector<std::string> fields) {
    NodePtr node = MakeNode(NodeKind::kTag);
    node->fields = std::move(fields);
    ++pos_;  // '{'
    for (;;) {
      SkipSpace();
      const size_t start = pos_;
      TagValue tag;
      if (Peek() == '$') {
        RAGKV_ASSIGN_OR_RETURN(tag.value, ReadParam());
      } else {
        size_t kept = 0;  // length of tag.value up to its last escaped or non-space char
        while (!AtEnd() && s_[pos_] != '|' && s_[pos_] != '}') {
          if (s_[pos_] == '\\') {
            if (pos_ + 1 >= s_.size()) return SyntaxError(pos_);
            tag.value += s_[pos_ + 1];
            pos_ += 2;
            kept = tag.value.size();
            continue;
          }
          tag.value += s_[pos_];
          if (!IsSpace(s_[pos_])) kept = tag.value.size();
          ++pos_;
        }
        tag.value.resize(kept);
        // An unescaped final '*' (kept counts it as a plain char) is a prefix marker.
        if (!tag.value.empty() && tag.value.back() == '*' && !EndsWithEscapedStar(start)) {
          tag.value.pop_back();
          tag.prefix = true;
        }
      }
      SkipSpace();
      if (tag.value.empty()) return SyntaxError(start);
      node->tags.push_back(std::move(tag));
      if (AtEnd()) return SyntaxError(pos_);
      if (s_[pos_] == '}') {
        ++pos_;
        return node;
      }
      ++pos_;  // '|'
    }
  }

  // True if the last non-space character before pos_ is an escaped '*'.
  bool EndsWithEscapedStar(size_t start) const {
    size_t end = pos_;
    while (end > start && IsSpace(s_[end - 1])) --end;
    return end >= start + 2 && s_[end - 1] == '*' && s_[end - 2] == '\\';
  }

  // '[' lo hi ']' or '[' VECTOR_RANGE r $blob ']'.
  Result<NodePtr> ParseRange(std::vector<std::string> fields) {
    ++pos_;  // '['
    SkipSpace();
    if (LookingAtKeyword("VECTOR_RANGE")) {
      pos_ += std::string_view("VECTOR_RANGE").size();
      NodePtr node = MakeNode(NodeKind::kVectorRange);
      if (fields.size() != 1) return SyntaxError(pos_);
      node->fields = std::move(fields);
      SkipSpace();
      RAGKV_ASSIGN_OR_RETURN(node->radius, ReadNumberValue());
      if (node->radius < 0) return SyntaxError(pos_);
      SkipSpace();
      if (Peek() != '$') return SyntaxError(pos_);
      RAGKV_ASSIGN_OR_RETURN(node->blob, ReadParam());
      node->blob_param = last_param_name_;
      SkipSpace();
      if (Peek() != ']') return SyntaxError(pos_);
      ++pos_;
      return node;
    }
    NodePtr node = MakeNode(NodeKind::kNumericRange);
    node->fields = std::move(fields);
    const size_t lo_at = pos_;
    RAGKV_ASSIGN_OR_RETURN(node->lo, ReadBound());
    SkipSpace();
    RAGKV_ASSIGN_OR_RETURN(node->hi, ReadBound());
    SkipSpace();
    if (Peek() != ']') return ParseGeoRest(std::move(node), lo_at);
    ++pos_;
    return node;
  }

  // After "[lon lat" of a GEO radius: " radius unit]". `node` holds lon/lat
  // as the bounds of a numeric range; they must not be exclusive.
  Result<NodePtr> ParseGeoRest(NodePtr node, size_t start) {
    if (node->lo.exclusive || node->hi.exclusive) return SyntaxError(start);
    node->kind = NodeKind::kGeoRadius;
    node->lon = node->lo.value;
    node->lat = node->hi.value;
    node->lo = node->hi = NumericBound{};
    RAGKV_ASSIGN_OR_RETURN(node->radius, ReadNumberValue());
    SkipSpace();
    const size_t unit_at = pos_;
    RAGKV_ASSIGN_OR_RETURN(std::string unit, ReadValue());
    if (!GeoUnitMetres(unit)) return SyntaxError(unit_at);
    for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    node->unit = std::move(unit);
    SkipSpace();
    if (Peek() != ']') return SyntaxError(pos_);
    ++pos_;
    if (!(node->radius >= 0) || std::isinf(node->radius)) {
      return Status::InvalidArgument("Invalid GeoFilter radius");
    }
    if (!(std::fabs(node->lon) <= kGeoMaxLon) || !(std::fabs(node->lat) <= kGeoMaxLat)) {
      return Status::InvalidArgument("Invalid GeoFilter lat/lon");
    }
    return node;
  }

  Result<NumericBound> ReadBound() {
    SkipSpace();
    const size_t start = pos_;
    NumericBound b;
    if (Peek() == '(') {
      b.exclusive = true;
      ++pos_;
    }
    const Result<std::string> value = ReadValue();
    if (!value.ok()) return value.status();
    std::string_view v = *value;
    if (!b.exclusive && v.starts_with('(')) {  // "(5" passed as a parameter
      b.exclusive = true;
      v.remove_prefix(1);
    }
    const auto d = ParseDouble(v);
    if (!d) return SyntaxError(start);
    b.value = *d;
    return b;
  }

  // '"' words '"': words are runs of term characters (or escapes); other
  // characters separate them, as RediSearch's tokenizer does.
  Result<NodePtr> ParsePhrase(const std::vector<std::string>& fields) {
    const size_t open = pos_;
    ++pos_;
    NodePtr node = MakeNode(NodeKind::kPhrase);
    node->fields = fields;
    std::string word;
    for (;;) {
      if (AtEnd()) return SyntaxError(open);
      const char c = s_[pos_];
      if (c == '"') {
        ++pos_;
        break;
      }
      if (c == '\\') {
        if (pos_ + 1 >= s_.size()) return SyntaxError(pos_);
        word += s_[pos_ + 1];
        pos_ += 2;
      } else if (IsTermChar(c)) {
        word += c;
        ++pos_;
      } else {
        if (!word.empty()) node->words.push_back(std::move(word));
        word.clear();
        ++pos_;
      }
    }
    if (!word.empty()) node->words.push_back(std::move(word));
    if (node->words.empty()) return SyntaxError(open);
    return node;
  }

  // %term%, %%term%%, %%%term%%% (Levenshtein distance 1-3).
  Result<NodePtr> ParseFuzzy(const std::vector<std::string>& fields) {
    const size_t start = pos_;
    int distance = 0;
    while (Peek() == '%') {
      ++distance;
      ++pos_;
    }
    if (distance > 3) return SyntaxError(start);
    RAGKV_ASSIGN_OR_RETURN(std::string term, ReadTerm());
    for (int i = 0; i < distance; ++i) {
      if (Peek() != '%') return SyntaxError(pos_);
      ++pos_;
    }
    NodePtr node = MakeNode(NodeKind::kFuzzy);
    node->fields = fields;
    node->text = std::move(term);
    node->fuzzy_distance = distance;
    return node;
  }

  // Optional "=>{$name: value; ...}" after a primary. Leaves "=>[" alone.
  Status MaybeParseAttributes(std::map<std::string, std::string>* attrs) {
    const size_t save = pos_;
    SkipSpace();
    if (!LookingAt("=>")) {
      pos_ = save;
      return Status::Ok();
    }
    pos_ += 2;
    SkipSpace();
    if (Peek() != '{') {
      pos_ = save;  // "=>[" belongs to the KNN clause
      return Status::Ok();
    }
    ++pos_;
    for (;;) {
      SkipSpace();
      if (Peek() == '}') {
        ++pos_;
        return Status::Ok();
      }
      if (Peek() != '$') return SyntaxError(pos_);
      ++pos_;
      const size_t name_start = pos_;
      while (!AtEnd() && IsTermChar(s_[pos_])) ++pos_;
      if (pos_ == name_start) return SyntaxError(pos_);
      std::string name(s_.substr(name_start, pos_ - name_start));
      for (char& ch : name) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
      }
      SkipSpace();
      if (Peek() != ':') return SyntaxError(pos_);
      ++pos_;
      SkipSpace();
      RAGKV_ASSIGN_OR_RETURN(std::string value, ReadValue());
      (*attrs)[std::move(name)] = std::move(value);
      SkipSpace();
      if (Peek() == ';') {
        ++pos_;
      } else if (Peek() != '}') {
        return SyntaxError(pos_);
      }
    }
  }

  // '[' KNN k @field $blob (EF_RUNTIME v | EPSILON v | HYBRID_POLICY v |
  // BATCH_SIZE v | SHARD_K_RATIO v | AS name)* ']' [ '=>' '{' attrs '}' ]
  Result<KnnClause> ParseKnn() {
    ++pos_;  // '['
    SkipSpace();
    if (!LookingAtKeyword("KNN")) return SyntaxError(pos_);
    pos_ += 3;
    KnnClause knn;
    SkipSpace();
    const size_t k_at = pos_;
    RAGKV_ASSIGN_OR_RETURN(knn.k, ReadUintValue());
    if (knn.k > kMaxKnnK) return KnnLimitError(k_at, "K", kMaxKnnK);
    SkipSpace();
    if (Peek() != '@') return SyntaxError(pos_);
    ++pos_;
    const size_t field_start = pos_;
    while (!AtEnd() && IsNameChar(s_[pos_])) ++pos_;
    if (pos_ == field_start) return SyntaxError(pos_);
    knn.field = std::string(s_.substr(field_start, pos_ - field_start));
    SkipSpace();
    if (Peek() != '$') return SyntaxError(pos_);  // the blob must be a parameter
    RAGKV_ASSIGN_OR_RETURN(knn.blob, ReadParam());
    knn.blob_param = last_param_name_;
    for (;;) {
      SkipSpace();
      if (AtEnd()) return SyntaxError(pos_);
      if (Peek() == ']') {
        ++pos_;
        break;
      }
      const size_t kw_at = pos_;
      const std::string_view kw = ReadWord();
      SkipSpace();
      if (EqualsIgnoreCase(kw, "AS")) {
        RAGKV_ASSIGN_OR_RETURN(knn.score_alias, ReadValue());
      } else if (EqualsIgnoreCase(kw, "EF_RUNTIME")) {
        const size_t at = pos_;
        RAGKV_ASSIGN_OR_RETURN(const uint64_t ef, ReadUintValue());
        if (ef == 0 || ef > kMaxQueryEfRuntime) return KnnLimitError(at, "EF_RUNTIME", kMaxQueryEfRuntime);
        knn.ef_runtime = ef;
      } else if (EqualsIgnoreCase(kw, "EPSILON")) {
        RAGKV_ASSIGN_OR_RETURN(knn.epsilon, ReadNumberValue());
      } else if (EqualsIgnoreCase(kw, "HYBRID_POLICY")) {
        RAGKV_ASSIGN_OR_RETURN(std::string policy, ReadValue());
        policy = ToUpperAscii(policy);
        if (policy != "ADHOC_BF" && policy != "BATCHES") return SyntaxError(kw_at);
        knn.hybrid_policy = std::move(policy);
      } else if (EqualsIgnoreCase(kw, "BATCH_SIZE")) {
        RAGKV_ASSIGN_OR_RETURN(knn.batch_size, ReadUintValue());
      } else if (EqualsIgnoreCase(kw, "SHARD_K_RATIO")) {
        RAGKV_ASSIGN_OR_RETURN(knn.shard_k_ratio, ReadNumberValue());
      } else {
        return SyntaxError(kw_at);
      }
    }
    std::map<std::string, std::string> attrs;
    RAGKV_RETURN_IF_ERROR(MaybeParseAttributes(&attrs));
    for (const auto& [name, value] : attrs) {
      if (name == "yield_distance_as") {
        knn.score_alias = value;
      } else if (name == "ef_runtime") {
        const auto ef = ParseUint64(value);
        if (!ef || *ef == 0 || *ef > kMaxQueryEfRuntime) {
          return KnnLimitError(pos_, "EF_RUNTIME", kMaxQueryEfRuntime);
        }
        knn.ef_runtime = *ef;
      } else if (name == "epsilon") {
        knn.epsilon = ParseDouble(value);
        if (!knn.epsilon) return SyntaxError(pos_);
      } else if (name == "hybrid_policy") {
        knn.hybrid_policy = ToUpperAscii(value);
      } else if (name == "batch_size") {
        knn.batch_size = ParseUint64(value);
        if (!knn.batch_size) return SyntaxError(pos_);
      }
    }
    if (knn.score_alias.empty()) knn.score_alias = "__" + knn.field + "_score";
    return knn;
  }

  static Status KnnLimitError(size_t /*at*/, std::string_view what, uint64_t max) {
    return Status::InvalidArgument("Error parsing vector similarity query: " + std::string(what) +
                                   " must be between 1 and " + std::to_string(max));
  }

  std::string_view s_;
  const QueryParams& params_;
  size_t pos_ = 0;
  size_t depth_ = 0;
  std::string last_param_name_;
};

// ---- printing ----

std::string EscapeTerm(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!IsTermChar(c)) out += '\\';
    out += c;
  }
  return out;
}

std::string EscapeTag(std::string_view s) {
  std::string out;
  for (char c : s) {
    // Spaces inside a tag are fine, but not at its ends; escape them all for
    // simplicity. '$' only matters first, '*' only last; escape both always.
    if (c == '|' || c == '{' || c == '}' || c == '\\' || c == '*' || c == '$' || IsSpace(c)) {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string FieldPrefix(const QueryNode& n) {
  if (n.fields.empty()) return {};
  std::string out = "@";
  for (size_t i = 0; i < n.fields.size(); ++i) {
    if (i > 0) out += '|';
    for (char c : n.fields[i]) {
      if (!IsNameChar(c)) out += '\\';
      out += c;
    }
  }
  out += ':';
  return out;
}

std::string Bound(const NumericBound& b) {
  std::string out;
  if (b.exclusive) out += '(';
  out += FormatDouble(b.value);
  return out;
}

}  // namespace

std::string ToString(const QueryNode& n) {
  std::string out;
  switch (n.kind) {
    case NodeKind::kMatchAll:
      out = "*";
      break;
    case NodeKind::kTerm:
      out = FieldPrefix(n) + EscapeTerm(n.text);
      break;
    case NodeKind::kPrefix:
      out = FieldPrefix(n) + EscapeTerm(n.text) + "*";
      break;
    case NodeKind::kFuzzy: {
      const std::string marks(static_cast<size_t>(n.fuzzy_distance), '%');
      out = FieldPrefix(n) + marks + EscapeTerm(n.text) + marks;
      break;
    }
    case NodeKind::kPhrase: {
      out = FieldPrefix(n) + "\"";
      for (size_t i = 0; i < n.words.size(); ++i) {
        if (i > 0) out += ' ';
        out += EscapeTerm(n.words[i]);
      }
      out += "\"";
      break;
    }
    case NodeKind::kTag: {
      out = FieldPrefix(n) + "{";
      for (size_t i = 0; i < n.tags.size(); ++i) {
        if (i > 0) out += " | ";
        out += EscapeTag(n.tags[i].value);
        if (n.tags[i].prefix) out += '*';
      }
      out += "}";
      break;
    }
    case NodeKind::kNumericRange:
      out = FieldPrefix(n) + "[" + Bound(n.lo) + " " + Bound(n.hi) + "]";
      break;
    case NodeKind::kVectorRange:
      out = FieldPrefix(n) + "[VECTOR_RANGE " + FormatDouble(n.radius) + " $" + n.blob_param + "]";
      break;
    case NodeKind::kGeoRadius:
      out = FieldPrefix(n) + "[" + FormatDouble(n.lon) + " " + FormatDouble(n.lat) + " " +
            FormatDouble(n.radius) + " " + n.unit + "]";
      break;
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      out = "(";
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) out += n.kind == NodeKind::kAnd ? " " : " | ";
        out += ToString(*n.children[i]);
      }
      out += ")";
      break;
    }
    case NodeKind::kNot:
    case NodeKind::kOptional:
      out = (n.kind == NodeKind::kNot ? "-" : "~") + ToString(*n.children.front());
      break;
  }
  if (!n.attributes.empty()) {
    out += "=>{";
    bool first = true;
    for (const auto& [name, value] : n.attributes) {
      if (!first) out += "; ";
      first = false;
      out += "$" + name + ": " + value;
    }
    out += "}";
  }
  return out;
}

std::string Query::ToString() const {
  std::string out = root ? search::ToString(*root) : "*";
  if (knn) {
    out += "=>[KNN " + std::to_string(knn->k) + " @" + knn->field + " $" + knn->blob_param;
    if (knn->ef_runtime) out += " EF_RUNTIME " + std::to_string(*knn->ef_runtime);
    if (knn->epsilon) out += " EPSILON " + FormatDouble(*knn->epsilon);
    if (!knn->hybrid_policy.empty()) out += " HYBRID_POLICY " + knn->hybrid_policy;
    if (knn->batch_size) out += " BATCH_SIZE " + std::to_string(*knn->batch_size);
    if (knn->shard_k_ratio) out += " SHARD_K_RATIO " + FormatDouble(*knn->shard_k_ratio);
    out += " AS " + knn->score_alias + "]";
  }
  return out;
}

namespace {

// Mirrors RediSearch's QueryNode_DumpSds closely enough for humans and for
// clients that only display it.
void ExplainNode(const QueryNode& n, int depth, std::string* out) {
  const std::string pad(static_cast<size_t>(depth) * 2, ' ');
  std::string fields;
  if (!n.fields.empty() && n.kind != NodeKind::kNumericRange && n.kind != NodeKind::kTag &&
      n.kind != NodeKind::kVectorRange && n.kind != NodeKind::kGeoRadius) {
    fields = "@";
    for (size_t i = 0; i < n.fields.size(); ++i) fields += (i > 0 ? "|" : "") + n.fields[i];
    fields += ":";
  }
  auto children = [&](const char* head) {
    *out += pad + fields + head + " {\n";
    for (const auto& c : n.children) ExplainNode(*c, depth + 1, out);
    *out += pad + "}\n";
  };
  char buf[128];
  switch (n.kind) {
    case NodeKind::kMatchAll:
      *out += pad + "<WILDCARD>\n";
      break;
    case NodeKind::kTerm:
      *out += pad + fields + n.text + "\n";
      break;
    case NodeKind::kPrefix:
      *out += pad + fields + "PREFIX{" + n.text + "*}\n";
      break;
    case NodeKind::kFuzzy:
      *out += pad + fields + "FUZZY{" + n.text + "}\n";
      break;
    case NodeKind::kPhrase:
      *out += pad + fields + "EXACT {\n";
      for (const auto& w : n.words) *out += pad + "  " + w + "\n";
      *out += pad + "}\n";
      break;
    case NodeKind::kTag:
      *out += pad + "TAG:@" + (n.fields.empty() ? std::string() : n.fields.front()) + " {\n";
      for (const auto& t : n.tags) *out += pad + "  " + t.value + (t.prefix ? "*" : "") + "\n";
      *out += pad + "}\n";
      break;
    case NodeKind::kNumericRange:
      std::snprintf(buf, sizeof(buf), "NUMERIC {%f %s @", n.lo.value, n.lo.exclusive ? "<" : "<=");
      *out += pad + buf + (n.fields.empty() ? std::string() : n.fields.front());
      std::snprintf(buf, sizeof(buf), " %s %f}\n", n.hi.exclusive ? "<" : "<=", n.hi.value);
      *out += buf;
      break;
    case NodeKind::kVectorRange:
      std::snprintf(buf, sizeof(buf), "%f", n.radius);
      *out += pad + "VECTOR {@" + (n.fields.empty() ? std::string() : n.fields.front()) +
              ": RANGE(" + buf + ") of `$" + n.blob_param + "`}\n";
      break;
    case NodeKind::kGeoRadius:
      std::snprintf(buf, sizeof(buf), "{%f,%f --> %f ", n.lon, n.lat, n.radius);
      *out += pad + "GEO @" + (n.fields.empty() ? std::string() : n.fields.front()) + ":" + buf +
              n.unit + "}\n";
      break;
    case NodeKind::kAnd:
      children("INTERSECT");
      break;
    case NodeKind::kOr:
      children("UNION");
      break;
    case NodeKind::kNot:
      children("NOT");
      break;
    case NodeKind::kOptional:
      children("OPTIONAL");
      break;
  }
}

}  // namespace

std::string Explain(const Query& query) {
  std::string out;
  if (!query.knn) {
    if (query.root) ExplainNode(*query.root, 0, &out);
    return out;
  }
  const KnnClause& k = *query.knn;
  const std::string knn = "K=" + std::to_string(k.k) + " nearest vectors to `$" + k.blob_param +
                          "` in @" + k.field + ", AS `" + k.score_alias + "`}\n";
  if (!query.root || query.root->kind == NodeKind::kMatchAll) return "VECTOR {" + knn;
  out = "VECTOR {\n";
  ExplainNode(*query.root, 1, &out);
  return out + "} => {" + knn;
}

Result<Query> ParseQuery(std::string_view text, const QueryParams& params) {
  if (text.size() > kMaxQueryLength) {
    return Status::InvalidArgument("Query string is too long (more than " +
                                   std::to_string(kMaxQueryLength) + " bytes)");
  }
  return Parser(text, params).Parse();
}

std::optional<double> GeoUnitMetres(std::string_view unit) {
  if (EqualsIgnoreCase(unit, "m")) return 1.0;
  if (EqualsIgnoreCase(unit, "km")) return 1000.0;
  if (EqualsIgnoreCase(unit, "mi")) return 1609.34;  // Redis's GEO constants
  if (EqualsIgnoreCase(unit, "ft")) return 0.3048;
  return std::nullopt;
}

}  // namespace ragkv::search
