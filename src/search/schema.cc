// FT.CREATE / FT.ALTER argument parsing into IndexSchema.
//
// Approach: one pass over the arguments with an ArgCursor, in RediSearch's
// own shape. Index options are matched until SCHEMA, and an unknown word
// before SCHEMA is an error. After the type, each field takes options as long
// as the next word is an option valid for that type; the first word that is
// not starts the next field. That is how RediSearch tells "content TEXT
// WEIGHT 1.0 metadata TEXT" apart without separators, and it is why options
// may come in any order (node-redis v4 puts INDEXMISSING last, v5+ first).
//
// Error texts reproduce RediSearch's spec.c and its ArgsCursor messages
// ("Bad arguments for <what>: <why>"), so tests and clients can match them.
// Rejected: a table-driven option grammar. With five field types and a dozen
// options the explicit code is shorter and easier to follow.
#include "search/schema.h"

#include <cmath>

#include "search/arg_parsing.h"

namespace ragkv::search {
namespace {

Status Bad(std::string msg) { return Status::InvalidArgument(msg); }

constexpr std::string_view kLanguages[] = {
    "arabic",     "armenian",   "basque",  "catalan",  "chinese",   "danish",  "dutch",
    "english",    "finnish",    "french",  "german",   "greek",     "hindi",   "hungarian",
    "indonesian", "irish",      "italian", "lithuanian", "nepali",  "norwegian", "portuguese",
    "romanian",   "russian",    "serbian", "spanish",  "swedish",   "tamil",   "turkish",
    "yiddish"};

std::optional<std::string> CanonicalLanguage(std::string_view s) {
  for (std::string_view lang : kLanguages) {
    if (EqualsIgnoreCase(lang, s)) return std::string(lang);
  }
  return std::nullopt;
}

template <typename Enum, size_t N>
std::optional<Enum> Lookup(std::string_view word, const std::pair<std::string_view, Enum> (&table)[N]) {
  for (const auto& [name, value] : table) {
    if (EqualsIgnoreCase(name, word)) return value;
  }
  return std::nullopt;
}

constexpr std::pair<std::string_view, FieldType> kFieldTypes[] = {
    {"TEXT", FieldType::kText},
    {"TAG", FieldType::kTag},
    {"NUMERIC", FieldType::kNumeric},
    {"GEO", FieldType::kGeo},
    {"VECTOR", FieldType::kVector}};
constexpr std::pair<std::string_view, VectorType> kVectorTypes[] = {
    {"FLOAT32", VectorType::kFloat32}, {"FLOAT64", VectorType::kFloat64},
    {"FLOAT16", VectorType::kFloat16}, {"BFLOAT16", VectorType::kBFloat16},
    {"INT8", VectorType::kInt8},       {"UINT8", VectorType::kUint8}};
constexpr std::pair<std::string_view, DistanceMetric> kMetrics[] = {
    {"L2", DistanceMetric::kL2}, {"IP", DistanceMetric::kIp}, {"COSINE", DistanceMetric::kCosine}};
constexpr std::pair<std::string_view, VectorAlgorithm> kAlgorithms[] = {
    {"FLAT", VectorAlgorithm::kFlat}, {"HNSW", VectorAlgorithm::kHnsw}};

// `name VECTOR {FLAT|HNSW} nargs attr value ...`, after the VECTOR keyword.
Status ParseVectorParams(ArgCursor& ac, VectorParams* p) {
  if (ac.done()) return BadArgs("vector similarity algorithm", kAcNoArg);
  const auto algorithm = Lookup(ac.Next(), kAlgorithms);
  if (!algorithm) return BadArgs("vector similarity algorithm", kAcUnknown);
  p->algorithm = *algorithm;
  const std::string_view alg = VectorAlgorithmName(*algorithm);

  if (ac.done()) return BadArgs("vector similarity number of parameters", kAcNoArg);
  const auto nargs = ParseUint64(ac.Next());
  if (!nargs) return BadArgs("vector similarity number of parameters", kAcParse);
  if (*nargs % 2 != 0) {
    return Bad("Bad number of arguments for vector similarity index: got " +
               std::to_string(*nargs) +
               " but expected even number (as algorithm parameters should be submitted as "
               "named arguments)");
  }
  if (*nargs > ac.remaining()) {
    return Bad("Expected " + std::to_string(*nargs) + " parameters but got " +
               std::to_string(ac.remaining()));
  }
  const std::string prefix = "vector similarity " + std::string(alg) + " index ";
  bool has_type = false;
  bool has_dim = false;
  bool has_metric = false;
  for (uint64_t i = 0; i < *nargs; i += 2) {
    const std::string_view attr = ac.Next();
    if (EqualsIgnoreCase(attr, "TYPE")) {
      const auto t = Lookup(ac.Next(), kVectorTypes);
      if (!t) return BadArgs(prefix + "type", kAcUnknown);
      p->type = *t;
      has_type = true;
    } else if (EqualsIgnoreCase(attr, "DIM")) {
      RAGKV_ASSIGN_OR_RETURN(const uint64_t dim, ReadUint(ac, prefix + "dim", 1, kMaxVectorDim));
      p->dim = static_cast<uint32_t>(dim);
      has_dim = true;
    } else if (EqualsIgnoreCase(attr, "DISTANCE_METRIC")) {
      const auto m = Lookup(ac.Next(), kMetrics);
      if (!m) return BadArgs(prefix + "metric", kAcUnknown);
      p->metric = *m;
      has_metric = true;
    } else if (EqualsIgnoreCase(attr, "INITIAL_CAP")) {
      RAGKV_ASSIGN_OR_RETURN(p->initial_cap, ReadUint(ac, prefix + "initial cap", 0, kMaxInitialCap));
    } else if (EqualsIgnoreCase(attr, "BLOCK_SIZE") && *algorithm == VectorAlgorithm::kFlat) {
      RAGKV_ASSIGN_OR_RETURN(p->block_size, ReadUint(ac, prefix + "blocksize", 1, kMaxBlockSize));
    } else if (EqualsIgnoreCase(attr, "M") && *algorithm == VectorAlgorithm::kHnsw) {
      RAGKV_ASSIGN_OR_RETURN(const uint64_t m, ReadUint(ac, prefix + "m", 1, kMaxHnswM));
      p->m = static_cast<uint32_t>(m);
    } else if (EqualsIgnoreCase(attr, "EF_CONSTRUCTION") && *algorithm == VectorAlgorithm::kHnsw) {
      RAGKV_ASSIGN_OR_RETURN(const uint64_t ef,
                             ReadUint(ac, prefix + "efConstruction", 1, kMaxEfConstruction));
      p->ef_construction = static_cast<uint32_t>(ef);
    } else if (EqualsIgnoreCase(attr, "EF_RUNTIME") && *algorithm == VectorAlgorithm::kHnsw) {
      RAGKV_ASSIGN_OR_RETURN(const uint64_t ef,
                             ReadUint(ac, prefix + "efRuntime", 1, kMaxEfRuntime));
      p->ef_runtime = static_cast<uint32_t>(ef);
    } else if (EqualsIgnoreCase(attr, "EPSILON") && *algorithm == VectorAlgorithm::kHnsw) {
      RAGKV_ASSIGN_OR_RETURN(p->epsilon, ReadDouble(ac, prefix + "epsilon", 0, 1e9));
      if (p->epsilon <= 0) return BadArgs(prefix + "epsilon", kAcLimit);
    } else {
      return Bad("Bad arguments for algorithm " + std::string(alg) + ": " + std::string(attr));
    }
  }
  for (auto [present, what] : {std::pair{has_type, "TYPE"}, std::pair{has_dim, "DIM"},
                               std::pair{has_metric, "DISTANCE_METRIC"}}) {
    if (!present) {
      return Bad("Missing mandatory parameter: cannot create " + std::string(alg) +
                 " index without specifying " + what + " argument");
    }
  }
  return Status::Ok();
}

// Consumes options of `f` while the next word is one valid for its type.
Status ParseFieldOptions(ArgCursor& ac, FieldSpec* f) {
  const bool text = f->type == FieldType::kText;
  const bool tag = f->type == FieldType::kTag;
  const bool vector = f->type == FieldType::kVector;
  while (!ac.done()) {
    if (!vector && ac.TryKeyword("SORTABLE")) {
      f->sortable = true;
      if (ac.TryKeyword("UNF")) f->unf = true;
    } else if (!vector && ac.TryKeyword("NOINDEX")) {
      f->noindex = true;
    } else if (ac.TryKeyword("INDEXMISSING")) {
      f->index_missing = true;
    } else if ((text || tag) && ac.TryKeyword("INDEXEMPTY")) {
      f->index_empty = true;
    } else if ((text || tag) && ac.TryKeyword("WITHSUFFIXTRIE")) {
      f->with_suffix_trie = true;
    } else if (text && ac.TryKeyword("NOSTEM")) {
      f->nostem = true;
    } else if (text && ac.TryKeyword("WEIGHT")) {
      RAGKV_ASSIGN_OR_RETURN(f->weight, ReadDouble(ac, "weight", 0, 1e9));
    } else if (text && ac.TryKeyword("PHONETIC")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view matcher, ReadString(ac, "phonetic"));
      bool known = false;
      for (std::string_view m : {"dm:en", "dm:fr", "dm:pt", "dm:es"}) known |= EqualsIgnoreCase(m, matcher);
      if (!known) {
        return Bad(
            "Matcher Format: <2 chars algorithm>:<2 chars language>. Support algorithms: double "
            "metaphone (dm). Supported languages: English (en), French (fr), Portuguese (pt) and "
            "Spanish (es)");
      }
      f->phonetic = std::string(matcher);
    } else if (tag && ac.TryKeyword("SEPARATOR")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view sep, ReadString(ac, "SEPARATOR"));
      if (sep.size() != 1) return Bad("Tag separator must be a single character");
      f->separator = sep.front();
    } else if (tag && ac.TryKeyword("CASESENSITIVE")) {
      f->case_sensitive = true;
    } else {
      break;  // the next field begins here
    }
  }
  return Status::Ok();
}

// Parses fields until the arguments run out, appending to *fields; checks
// duplicates against `existing` too.
Status ParseFields(ArgCursor& ac, const std::vector<FieldSpec>& existing,
                   std::vector<FieldSpec>* fields) {
  if (ac.done()) return Bad("Fields arguments are missing");
  size_t text_fields = 0;
  for (const FieldSpec& f : existing) text_fields += f.type == FieldType::kText;
  while (!ac.done()) {
    FieldSpec f;
    f.identifier = std::string(ac.Next());
    f.alias = f.identifier;
    if (ac.TryKeyword("AS")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view alias, ReadString(ac, "AS"));
      f.alias = std::string(alias);
    }
    if (ac.done()) return Bad("Field `" + f.alias + "` does not have a type");
    const auto type = Lookup(ac.Next(), kFieldTypes);
    if (!type) return Bad("Invalid field type for field `" + f.alias + "`");
    f.type = *type;
    if (f.type == FieldType::kVector) RAGKV_RETURN_IF_ERROR(ParseVectorParams(ac, &f.vector));
    RAGKV_RETURN_IF_ERROR(ParseFieldOptions(ac, &f));

    for (const auto* list : {&existing, static_cast<const std::vector<FieldSpec>*>(fields)}) {
      for (const FieldSpec& other : *list) {
        if (other.alias == f.alias) return Bad("Duplicate field in schema - " + f.alias);
      }
    }
    if (f.type == FieldType::kText && ++text_fields > kMaxTextFields) {
      return Bad("Too many TEXT fields in schema");
    }
    if (existing.size() + fields->size() >= kMaxFields) {
      return Bad("Schema is limited to " + std::to_string(kMaxFields) + " fields");
    }
    fields->push_back(std::move(f));
  }
  return Status::Ok();
}

}  // namespace

std::string_view FieldTypeName(FieldType t) {
  switch (t) {
    case FieldType::kText: return "TEXT";
    case FieldType::kTag: return "TAG";
    case FieldType::kNumeric: return "NUMERIC";
    case FieldType::kGeo: return "GEO";
    case FieldType::kVector: return "VECTOR";
  }
  return "?";
}

std::string_view VectorAlgorithmName(VectorAlgorithm a) {
  return a == VectorAlgorithm::kFlat ? "FLAT" : "HNSW";
}

std::string_view VectorTypeName(VectorType t) {
  for (const auto& [name, value] : kVectorTypes) {
    if (value == t) return name;
  }
  return "?";
}

std::string_view DistanceMetricName(DistanceMetric m) {
  for (const auto& [name, value] : kMetrics) {
    if (value == m) return name;
  }
  return "?";
}

size_t VectorTypeBytes(VectorType t) {
  switch (t) {
    case VectorType::kFloat32: return 4;
    case VectorType::kFloat64: return 8;
    case VectorType::kFloat16:
    case VectorType::kBFloat16: return 2;
    case VectorType::kInt8:
    case VectorType::kUint8: return 1;
  }
  return 0;
}

AttributeDescription DescribeField(const FieldSpec& f) {
  AttributeDescription d;
  d.pairs = {{"identifier", f.identifier},
             {"attribute", f.alias},
             {"type", std::string(FieldTypeName(f.type))}};
  switch (f.type) {
    case FieldType::kText:
      d.pairs.emplace_back("WEIGHT", FormatDouble(f.weight));
      break;
    case FieldType::kTag:
      d.pairs.emplace_back("SEPARATOR", std::string(1, f.separator));
      break;
    case FieldType::kVector: {
      const VectorParams& v = f.vector;
      d.pairs.emplace_back("algorithm", std::string(VectorAlgorithmName(v.algorithm)));
      d.pairs.emplace_back("data_type", std::string(VectorTypeName(v.type)));
      d.pairs.emplace_back("dim", std::to_string(v.dim));
      d.pairs.emplace_back("distance_metric", std::string(DistanceMetricName(v.metric)));
      if (v.algorithm == VectorAlgorithm::kHnsw) {
        d.pairs.emplace_back("M", std::to_string(v.m));
        d.pairs.emplace_back("ef_construction", std::to_string(v.ef_construction));
        d.pairs.emplace_back("ef_runtime", std::to_string(v.ef_runtime));
        d.pairs.emplace_back("epsilon", FormatDouble(v.epsilon));
      }
      break;
    }
    case FieldType::kNumeric:
    case FieldType::kGeo:
      break;
  }
  const std::pair<bool, const char*> flags[] = {
      {f.sortable, "SORTABLE"},        {f.unf, "UNF"},
      {f.nostem, "NOSTEM"},            {f.noindex, "NOINDEX"},
      {f.case_sensitive, "CASESENSITIVE"}, {f.with_suffix_trie, "WITHSUFFIXTRIE"},
      {f.index_empty, "INDEXEMPTY"},   {f.index_missing, "INDEXMISSING"}};
  for (const auto& [set, name] : flags) {
    if (set) d.flags.emplace_back(name);
  }
  return d;
}

std::vector<std::pair<std::string, std::string>> DescribeDefinition(const IndexSchema& s) {
  std::vector<std::pair<std::string, std::string>> out = {
      {"key_type", s.on == KeyType::kHash ? "HASH" : "JSON"},
      {"prefixes", ""},
      {"default_score", FormatDouble(s.score)}};
  if (!s.filter.empty()) out.emplace_back("filter", s.filter);
  if (s.language != "english") out.emplace_back("default_language", s.language);
  if (!s.language_field.empty()) out.emplace_back("language_field", s.language_field);
  if (!s.score_field.empty()) out.emplace_back("score_field", s.score_field);
  if (!s.payload_field.empty()) out.emplace_back("payload_field", s.payload_field);
  return out;
}

const FieldSpec* IndexSchema::FindField(std::string_view alias) const {
  for (const FieldSpec& f : fields) {
    if (f.alias == alias) return &f;
  }
  return nullptr;
}

Result<IndexSchema> ParseFtCreate(std::span<const std::string_view> args) {
  ArgCursor ac(args);
  if (ac.done()) return BadArgs("index name", kAcNoArg);
  IndexSchema schema;
  schema.name = std::string(ac.Next());
  bool saw_schema = false;
  while (!ac.done()) {
    if (ac.TryKeyword("SCHEMA")) {
      saw_schema = true;
      break;
    }
    const std::string_view kw = ac.Peek();
    ac.Next();
    if (EqualsIgnoreCase(kw, "ON")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view on, ReadString(ac, "ON"));
      if (EqualsIgnoreCase(on, "HASH")) {
        schema.on = KeyType::kHash;
      } else if (EqualsIgnoreCase(on, "JSON")) {
        schema.on = KeyType::kJson;
      } else {
        return Bad("Invalid `ON` argument: " + std::string(on));
      }
    } else if (EqualsIgnoreCase(kw, "PREFIX")) {
      RAGKV_ASSIGN_OR_RETURN(auto prefixes, ReadList(ac, "PREFIX"));
      for (auto& p : prefixes) schema.prefixes.push_back(std::move(p));
    } else if (EqualsIgnoreCase(kw, "FILTER")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view filter, ReadString(ac, "FILTER"));
      schema.filter = std::string(filter);
    } else if (EqualsIgnoreCase(kw, "LANGUAGE")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view lang, ReadString(ac, "LANGUAGE"));
      auto canonical = CanonicalLanguage(lang);
      if (!canonical) return Bad("Invalid language");
      schema.language = std::move(*canonical);
    } else if (EqualsIgnoreCase(kw, "LANGUAGE_FIELD")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view f, ReadString(ac, "LANGUAGE_FIELD"));
      schema.language_field = std::string(f);
    } else if (EqualsIgnoreCase(kw, "SCORE")) {
      if (ac.done()) return BadArgs("SCORE", kAcNoArg);
      const auto score = ParseDouble(ac.Next());
      if (!score || *score < 0 || *score > 1) return Bad("Invalid score");
      schema.score = *score;
    } else if (EqualsIgnoreCase(kw, "SCORE_FIELD")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view f, ReadString(ac, "SCORE_FIELD"));
      schema.score_field = std::string(f);
    } else if (EqualsIgnoreCase(kw, "PAYLOAD_FIELD")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view f, ReadString(ac, "PAYLOAD_FIELD"));
      schema.payload_field = std::string(f);
    } else if (EqualsIgnoreCase(kw, "MAXTEXTFIELDS")) {
      schema.max_text_fields = true;
    } else if (EqualsIgnoreCase(kw, "TEMPORARY")) {
      RAGKV_ASSIGN_OR_RETURN(schema.temporary_seconds, ReadUint(ac, "TEMPORARY", 0, UINT32_MAX));
    } else if (EqualsIgnoreCase(kw, "NOOFFSETS")) {
      schema.no_offsets = true;
    } else if (EqualsIgnoreCase(kw, "NOHL")) {
      schema.no_highlight = true;
    } else if (EqualsIgnoreCase(kw, "NOFIELDS")) {
      schema.no_fields = true;
    } else if (EqualsIgnoreCase(kw, "NOFREQS")) {
      schema.no_freqs = true;
    } else if (EqualsIgnoreCase(kw, "SKIPINITIALSCAN")) {
      schema.skip_initial_scan = true;
    } else if (EqualsIgnoreCase(kw, "STOPWORDS")) {
      RAGKV_ASSIGN_OR_RETURN(schema.stopwords, ReadList(ac, "STOPWORDS"));
    } else if (EqualsIgnoreCase(kw, "INDEXALL")) {
      RAGKV_ASSIGN_OR_RETURN(const std::string_view v, ReadString(ac, "INDEXALL"));
      if (EqualsIgnoreCase(v, "ENABLE")) {
        schema.index_all = true;
      } else if (EqualsIgnoreCase(v, "DISABLE")) {
        schema.index_all = false;
      } else {
        return BadArgs("INDEXALL", kAcUnknown);
      }
    } else {
      return Bad("Unknown argument `" + std::string(kw) + "`");
    }
  }
  if (!saw_schema) return Bad("No schema found");
  RAGKV_RETURN_IF_ERROR(ParseFields(ac, {}, &schema.fields));
  return schema;
}

Result<std::vector<FieldSpec>> ParseFtAlter(std::span<const std::string_view> args,
                                            const IndexSchema& existing) {
  ArgCursor ac(args);
  if (ac.done()) return BadArgs("index name", kAcNoArg);
  ac.Next();  // the index name; the caller resolved it
  ac.TryKeyword("SKIPINITIALSCAN");
  if (!ac.TryKeyword("SCHEMA")) return Bad("ALTER must be followed by SCHEMA");
  if (!ac.TryKeyword("ADD")) return Bad("Unknown action passed to ALTER SCHEMA");
  std::vector<FieldSpec> fields;
  RAGKV_RETURN_IF_ERROR(ParseFields(ac, existing.fields, &fields));
  return fields;
}

}  // namespace ragkv::search
