// Recursive-descent parser for the DIALECT 2 query language (grammar in
// query_parser.h). It works on bytes with one cursor and no separate lexer:
// what a character means depends on where it appears (':' after @field, '|'
// inside tag braces, '(' before a numeric bound), which a context-free token
// stream would have to re-interpret anyway. Depth is bounded so a hostile
// "((((..." cannot exhaust the stack. Rejected: porting RediSearch's Lemon
// grammar (a generator we would have to vendor) and regex splitting (no
// nesting).
#include "search/query_parser.h"

#include <cmath>

#include "search/parse_util.h"

namespace ragkv::search {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Characters that end a bare word.
bool IsWordStop(char c) {
  return IsSpace(c) || c == '(' || c == ')' || c == '|' || c == '{' || c == '}' || c == '[' ||
         c == ']' || c == '"' || c == '@' || c == '~' || c == '=' || c == '$' || c == ':' ||
         c == ';' || c == '\'';
}

class Parser {
 public:
  Parser(std::string_view q, const QueryParams& params) : q_(q), params_(params) {}

  Result<ParsedQuery> Parse() {
    ParsedQuery out;
    SkipSpace();
    if (AtEnd()) return SyntaxError();
    if (Peek() == '*' && (pos_ + 1 >= q_.size() || IsSpace(q_[pos_ + 1]) || q_[pos_ + 1] == '=')) {
      ++pos_;
      out.root = std::make_unique<QueryNode>();
    } else {
      auto root = ParseUnion("", 0);
      if (!root.ok()) return root.status();
      out.root = std::move(*root);
    }
    SkipSpace();
    if (LookingAt("=>")) {
      pos_ += 2;
      SkipSpace();
      if (!Consume('[')) return SyntaxError();
      auto knn = ParseKnn();
      if (!knn.ok()) return knn.status();
      out.knn = std::move(*knn);
      SkipSpace();
      if (LookingAt("=>")) {
        pos_ += 2;
        SkipSpace();
        if (Peek() != '{') return SyntaxError();
        std::map<std::string, std::string> attrs;
        RAGKV_RETURN_IF_ERROR(ParseAttributes(&attrs));
        for (auto& [k, v] : attrs) {
          if (k == "yield_distance_as") {
            out.knn->alias = v;
          } else if (k == "ef_runtime") {
            RAGKV_RETURN_IF_ERROR(ParseEf(v, &out.knn->ef_runtime));
          }
        }
      }
    }
    SkipSpace();
    if (!AtEnd()) return SyntaxError();
    return out;
  }

 private:
  using NodePtr = std::unique_ptr<QueryNode>;

  bool AtEnd() const { return pos_ >= q_.size(); }
  char Peek() const { return AtEnd() ? '\0' : q_[pos_]; }
  bool LookingAt(std::string_view s) const { return q_.substr(pos_, s.size()) == s; }
  void SkipSpace() {
    while (!AtEnd() && IsSpace(q_[pos_])) ++pos_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }

  Status SyntaxError() const {
    size_t at = std::min(pos_, q_.size());
    std::string_view near = q_.substr(at, 10);
    return Status::InvalidArgument("Syntax error at offset " + std::to_string(at) + " near " +
                                   std::string(near));
  }

  Result<std::string> Param(std::string_view name) const {
    auto it = params_.find(name);
    if (it == params_.end()) {
      return Status::InvalidArgument("No such parameter `" + std::string(name) + "`");
    }
    return it->second;
  }

  // A bare word with backslash escapes; "" when none is here.
  std::string ReadWord() {
    std::string w;
    while (!AtEnd()) {
      char c = q_[pos_];
      if (c == '\\' && pos_ + 1 < q_.size()) {
        w.push_back(q_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      if (IsWordStop(c)) break;
      // '-' starts a negation only at the beginning of a word.
      w.push_back(c);
      ++pos_;
    }
    return w;
  }

  // A word or $param value.
  Result<std::string> ReadValue() {
    SkipSpace();
    if (Peek() == '$') {
      ++pos_;
      std::string name = ReadWord();
      if (name.empty()) return SyntaxError();
      return Param(name);
    }
    std::string w = ReadWord();
    if (w.empty()) return SyntaxError();
    return w;
  }

  Status ParseEf(std::string_view v, uint64_t* out) const {
    uint64_t ef = 0;
    if (!ParseUint64(v, &ef) || ef == 0) {
      return Status::InvalidArgument("Error parsing vector similarity parameters: invalid EF_RUNTIME value");
    }
    if (ef > kMaxEfRuntime) {
      return Status::InvalidArgument("Error parsing vector similarity parameters: EF_RUNTIME exceeds maximum of " +
                                     std::to_string(kMaxEfRuntime));
    }
    *out = ef;
    return Status::Ok();
  }

  Result<NodePtr> ParseUnion(const std::string& field, size_t depth) {
    if (depth > kMaxQueryDepth) {
      return Status::InvalidArgument("Parser stack overflow: query nested too deeply");
    }
    auto first = ParseIntersect(field, depth);
    if (!first.ok()) return first.status();
    NodePtr node = std::move(*first);
    SkipSpace();
    if (Peek() != '|') return node;
    auto u = std::make_unique<QueryNode>();
    u->kind = NodeKind::kOr;
    u->children.push_back(std::move(node));
    while (Consume('|')) {
      auto next = ParseIntersect(field, depth);
      if (!next.ok()) return next.status();
      u->children.push_back(std::move(*next));
      SkipSpace();
    }
    return u;
  }

  bool AtIntersectEnd() {
    SkipSpace();
    return AtEnd() || Peek() == ')' || Peek() == '|' || LookingAt("=>");
  }

  Result<NodePtr> ParseIntersect(const std::string& field, size_t depth) {
    std::vector<NodePtr> items;
    while (!AtIntersectEnd()) {
      auto item = ParseUnary(field, depth);
      if (!item.ok()) return item.status();
      items.push_back(std::move(*item));
    }
    if (items.empty()) return SyntaxError();
    if (items.size() == 1) return std::move(items[0]);
    auto n = std::make_unique<QueryNode>();
    n->kind = NodeKind::kAnd;
    n->children = std::move(items);
    return n;
  }

  Result<NodePtr> ParseUnary(const std::string& field, size_t depth) {
    SkipSpace();
    if (depth > kMaxQueryDepth) {
      return Status::InvalidArgument("Parser stack overflow: query nested too deeply");
    }
    if (Peek() == '-' || Peek() == '~') {
      bool negate = Peek() == '-';
      ++pos_;
      auto child = ParseUnary(field, depth + 1);
      if (!child.ok()) return child.status();
      auto n = std::make_unique<QueryNode>();
      n->kind = negate ? NodeKind::kNot : NodeKind::kOptional;
      n->children.push_back(std::move(*child));
      return n;
    }
    return ParseAtom(field, depth);
  }

  Result<NodePtr> ParseAtom(const std::string& field, size_t depth) {
    SkipSpace();
    const char c = Peek();
    if (c == '(') {
      ++pos_;
      auto inner = ParseUnion(field, depth + 1);
      if (!inner.ok()) return inner.status();
      if (!Consume(')')) return SyntaxError();
      return inner;
    }
    if (c == '@') return ParseFieldClause(depth);
    if (c == '*') {
      ++pos_;
      return std::make_unique<QueryNode>();
    }
    if (c == '"') return ParsePhrase(field);
    if (c == '$') {
      auto v = ReadValue();
      if (!v.ok()) return v.status();
      return TermNode(field, *v);
    }
    if (c == '%') {
      while (Peek() == '%') ++pos_;
      std::string w = ReadWord();
      while (!w.empty() && w.back() == '%') w.pop_back();
      while (Peek() == '%') ++pos_;
      if (w.empty()) return SyntaxError();
      return TermNode(field, w);
    }
    std::string w = ReadWord();
    if (w.empty()) return SyntaxError();
    return TermNode(field, w);
  }

  NodePtr TermNode(const std::string& field, std::string word) {
    auto n = std::make_unique<QueryNode>();
    n->field = field;
    if (word.size() > 1 && word.back() == '*') {
      word.pop_back();
      n->kind = NodeKind::kPrefix;
    } else {
      n->kind = NodeKind::kTerm;
    }
    n->words.push_back(std::move(word));
    return n;
  }

  Result<NodePtr> ParsePhrase(const std::string& field) {
    ++pos_;  // opening quote
    std::string text;
    while (!AtEnd() && q_[pos_] != '"') {
      if (q_[pos_] == '\\' && pos_ + 1 < q_.size()) ++pos_;
      text.push_back(q_[pos_++]);
    }
    if (AtEnd()) return SyntaxError();
    ++pos_;
    auto n = std::make_unique<QueryNode>();
    n->kind = NodeKind::kPhrase;
    n->field = field;
    n->words.push_back(std::move(text));
    return n;
  }

  Result<NodePtr> ParseFieldClause(size_t depth) {
    const size_t start = pos_;
    ++pos_;  // '@'
    std::string field;
    while (!AtEnd()) {
      char c = q_[pos_];
      if (c == '\\' && pos_ + 1 < q_.size()) {
        field.push_back(q_[pos_ + 1]);
        pos_ += 2;
        continue;
      }
      if (c == ':' || IsSpace(c) || c == '=' || c == '!' || c == '<' || c == '>' || c == '(' ||
          c == ')' || c == '[' || c == '{' || c == '|') {
        break;
      }
      field.push_back(c);
      ++pos_;
    }
    if (field.empty()) {
      pos_ = start;
      return SyntaxError();
    }
    // Numeric comparisons (@n>=3).
    static constexpr std::string_view kOps[] = {"==", "!=", ">=", "<=", ">", "<"};
    for (std::string_view op : kOps) {
      if (!LookingAt(op)) continue;
      pos_ += op.size();
      auto v = ReadValue();
      if (!v.ok()) return v.status();
      double x = 0;
      if (!ParseDoubleStrict(*v, &x)) return SyntaxError();
      auto n = std::make_unique<QueryNode>();
      n->kind = NodeKind::kNumeric;
      n->field = field;
      n->lo = -INFINITY;
      n->hi = INFINITY;
      if (op == "==" || op == "!=") {
        n->lo = n->hi = x;
      } else if (op[0] == '>') {
        n->lo = x;
        n->lo_exclusive = op.size() == 1;
      } else {
        n->hi = x;
        n->hi_exclusive = op.size() == 1;
      }
      if (op == "!=") {
        auto neg = std::make_unique<QueryNode>();
        neg->kind = NodeKind::kNot;
        neg->children.push_back(std::move(n));
        return neg;
      }
      return n;
    }
    if (Peek() != ':') return SyntaxError();
    ++pos_;
    SkipSpace();
    const char c = Peek();
    if (c == '{') return ParseTags(field);
    if (c == '[') return ParseRange(field);
    if (c == '(') {
      ++pos_;
      auto inner = ParseUnion(field, depth + 1);
      if (!inner.ok()) return inner.status();
      if (!Consume(')')) return SyntaxError();
      return inner;
    }
    if (c == '-' || c == '~') return ParseUnary(field, depth + 1);
    return ParseAtom(field, depth + 1);
  }

  Result<NodePtr> ParseTags(const std::string& field) {
    ++pos_;  // '{'
    auto n = std::make_unique<QueryNode>();
    n->kind = NodeKind::kTag;
    n->field = field;
    std::string cur;
    std::vector<bool> escaped;  // per byte of cur
    auto flush = [&]() -> Status {
      // Unescaped surrounding spaces are not part of the tag.
      size_t b = 0, e = cur.size();
      while (b < e && IsSpace(cur[b]) && !escaped[b]) ++b;
      while (e > b && IsSpace(cur[e - 1]) && !escaped[e - 1]) --e;
      std::string tag = cur.substr(b, e - b);
      if (!tag.empty() && tag[0] == '$' && !escaped[b]) {
        auto v = Param(std::string_view(tag).substr(1));
        if (!v.ok()) return v.status();
        tag = *v;
      }
      if (tag.empty()) return SyntaxError();
      n->words.push_back(std::move(tag));
      cur.clear();
      escaped.clear();
      return Status::Ok();
    };
    for (;;) {
      if (AtEnd()) return SyntaxError();
      char c = q_[pos_];
      if (c == '\\' && pos_ + 1 < q_.size()) {
        cur.push_back(q_[pos_ + 1]);
        escaped.push_back(true);
        pos_ += 2;
        continue;
      }
      ++pos_;
      if (c == '|') {
        RAGKV_RETURN_IF_ERROR(flush());
      } else if (c == '}') {
        RAGKV_RETURN_IF_ERROR(flush());
        break;
      } else {
        cur.push_back(c);
        escaped.push_back(false);
      }
    }
    return n;
  }

  Result<double> ReadBound(bool* exclusive) {
    SkipSpace();
    *exclusive = false;
    if (Peek() == '(') {
      *exclusive = true;
      ++pos_;
    }
    auto v = ReadValue();
    if (!v.ok()) return v.status();
    std::string_view s = *v;
    if (!*exclusive && !s.empty() && s[0] == '(') {
      *exclusive = true;
      s.remove_prefix(1);
    }
    double x = 0;
    if (!ParseDoubleStrict(s, &x)) return SyntaxError();
    return x;
  }

  Result<NodePtr> ParseRange(const std::string& field) {
    ++pos_;  // '['
    SkipSpace();
    const size_t save = pos_;
    std::string first = ReadWord();
    if (IEquals(first, "VECTOR_RANGE")) return ParseVectorRange(field);
    pos_ = save;
    auto n = std::make_unique<QueryNode>();
    n->kind = NodeKind::kNumeric;
    n->field = field;
    auto lo = ReadBound(&n->lo_exclusive);
    if (!lo.ok()) return lo.status();
    SkipSpace();
    if (Peek() == ',') ++pos_;
    auto hi = ReadBound(&n->hi_exclusive);
    if (!hi.ok()) return hi.status();
    if (!Consume(']')) return SyntaxError();
    n->lo = *lo;
    n->hi = *hi;
    return n;
  }

  Result<NodePtr> ParseVectorRange(const std::string& field) {
    auto n = std::make_unique<QueryNode>();
    n->kind = NodeKind::kVectorRange;
    n->field = field;
    auto r = ReadValue();
    if (!r.ok()) return r.status();
    if (!ParseDoubleStrict(*r, &n->radius) || n->radius < 0) {
      return Status::InvalidArgument("Error parsing vector similarity parameters: invalid radius");
    }
    SkipSpace();
    if (Peek() != '$') {
      return Status::InvalidArgument("Error parsing vector similarity query: the query vector must be a parameter");
    }
    auto blob = ReadValue();
    if (!blob.ok()) return blob.status();
    n->blob = std::move(*blob);
    if (!Consume(']')) return SyntaxError();
    // Attributes bound to this clause: "=>{...}" (but not "=>[" which is KNN).
    size_t save = pos_;
    SkipSpace();
    if (LookingAt("=>")) {
      pos_ += 2;
      SkipSpace();
      if (Peek() == '{') {
        std::map<std::string, std::string> attrs;
        RAGKV_RETURN_IF_ERROR(ParseAttributes(&attrs));
        for (auto& [k, v] : attrs) {
          if (k == "yield_distance_as") {
            n->yield_as = v;
          } else if (k == "epsilon") {
            if (!ParseDoubleStrict(v, &n->epsilon) || n->epsilon <= 0) {
              return Status::InvalidArgument("Error parsing vector similarity parameters: invalid EPSILON");
            }
          }
        }
        return n;
      }
    }
    pos_ = save;
    return n;
  }

  // '{' $name: value; ... '}' with lowercased names (without '$').
  Status ParseAttributes(std::map<std::string, std::string>* out) {
    ++pos_;  // '{'
    for (;;) {
      SkipSpace();
      if (Peek() == '}') {
        ++pos_;
        return Status::Ok();
      }
      if (Peek() != '$') return SyntaxError();
      ++pos_;
      std::string name = ToLowerAscii(ReadWord());
      if (name.empty() || !Consume(':')) return SyntaxError();
      auto value = ReadValue();
      if (!value.ok()) return value.status();
      (*out)[name] = std::move(*value);
      SkipSpace();
      if (Peek() == ';') ++pos_;
    }
  }

  Result<KnnClause> ParseKnn() {
    SkipSpace();
    std::string kw = ReadWord();
    if (!IEquals(kw, "KNN")) return SyntaxError();
    KnnClause knn;
    auto k = ReadValue();
    if (!k.ok()) return k.status();
    int64_t kv = 0;
    if (!ParseInt64(*k, &kv) || kv < 0) {
      return Status::InvalidArgument("Error parsing vector similarity query: invalid K value");
    }
    if (static_cast<uint64_t>(kv) > kMaxKnnK) {
      return Status::InvalidArgument("Error parsing vector similarity query: K exceeds maximum of " +
                                     std::to_string(kMaxKnnK));
    }
    knn.k = static_cast<uint64_t>(kv);
    SkipSpace();
    if (Peek() != '@') return SyntaxError();
    ++pos_;
    knn.field = ReadWord();
    if (knn.field.empty()) return SyntaxError();
    SkipSpace();
    if (Peek() != '$') {
      return Status::InvalidArgument("Error parsing vector similarity query: the query vector must be a parameter");
    }
    auto blob = ReadValue();
    if (!blob.ok()) return blob.status();
    knn.blob = std::move(*blob);
    for (;;) {
      SkipSpace();
      if (Peek() == ']') {
        ++pos_;
        break;
      }
      if (AtEnd()) return SyntaxError();
      std::string attr = ReadWord();
      if (attr.empty()) return SyntaxError();
      auto value = ReadValue();
      if (!value.ok()) return value.status();
      if (IEquals(attr, "AS")) {
        knn.alias = std::move(*value);
      } else if (IEquals(attr, "EF_RUNTIME")) {
        RAGKV_RETURN_IF_ERROR(ParseEf(*value, &knn.ef_runtime));
      } else if (IEquals(attr, "HYBRID_POLICY") || IEquals(attr, "BATCH_SIZE") ||
                 IEquals(attr, "EPSILON") || IEquals(attr, "SHARD_K_RATIO")) {
        // Accepted; the planner chooses its own strategy.
      } else {
        return Status::InvalidArgument("Error parsing vector similarity parameters: unknown attribute " + attr);
      }
    }
    if (knn.alias.empty()) knn.alias = "__" + knn.field + "_score";
    return knn;
  }

  std::string_view q_;
  const QueryParams& params_;
  size_t pos_ = 0;
};

void Explain(const QueryNode& n, int indent, std::string* out) {
  out->append(static_cast<size_t>(indent) * 2, ' ');
  auto field = [&]() { return n.field.empty() ? std::string() : "@" + n.field + ":"; };
  switch (n.kind) {
    case NodeKind::kAll: out->append("<WILDCARD>\n"); return;
    case NodeKind::kTerm: out->append(field() + n.words[0] + "\n"); return;
    case NodeKind::kPrefix: out->append("PREFIX{" + field() + n.words[0] + "*}\n"); return;
    case NodeKind::kPhrase: out->append("EXACT {" + field() + n.words[0] + "}\n"); return;
    case NodeKind::kTag: {
      out->append("TAG:@" + n.field + " {\n");
      for (const auto& w : n.words) {
        out->append(static_cast<size_t>(indent + 1) * 2, ' ');
        out->append(w + "\n");
      }
      out->append(static_cast<size_t>(indent) * 2, ' ');
      out->append("}\n");
      return;
    }
    case NodeKind::kNumeric:
      out->append("NUMERIC {" + std::string(n.lo_exclusive ? "(" : "") + FormatSearchNumber(n.lo) +
                  " <= @" + n.field + " <= " + std::string(n.hi_exclusive ? "(" : "") +
                  FormatSearchNumber(n.hi) + "}\n");
      return;
    case NodeKind::kVectorRange:
      out->append("VECTOR {@" + n.field + " RANGE " + FormatSearchNumber(n.radius) + "}\n");
      return;
    case NodeKind::kAnd:
    case NodeKind::kOr:
    case NodeKind::kNot:
    case NodeKind::kOptional: {
      const char* name = n.kind == NodeKind::kAnd  ? "INTERSECT"
                         : n.kind == NodeKind::kOr ? "UNION"
                         : n.kind == NodeKind::kNot ? "NOT"
                                                    : "OPTIONAL";
      out->append(std::string(name) + " {\n");
      for (const auto& c : n.children) Explain(*c, indent + 1, out);
      out->append(static_cast<size_t>(indent) * 2, ' ');
      out->append("}\n");
      return;
    }
  }
}

}  // namespace

Result<ParsedQuery> ParseQuery(std::string_view query, const QueryParams& params) {
  return Parser(query, params).Parse();
}

std::string ExplainQuery(const ParsedQuery& query) {
  std::string out;
  if (query.knn) {
    out += "VECTOR {K=" + std::to_string(query.knn->k) + " nearest vectors to `$BLOB` in @" +
           query.knn->field + ", yields distance as `" + query.knn->alias + "`}\n";
    if (query.root->kind != NodeKind::kAll) out += "  filter:\n";
  }
  Explain(*query.root, query.knn && query.root->kind != NodeKind::kAll ? 2 : 0, &out);
  return out;
}

}  // namespace ragkv::search
