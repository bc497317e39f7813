// FT.CREATE parsing. A hand-written keyword loop over the argument vector:
// index options may come in any order until SCHEMA, then each field is
// `identifier [AS attribute] TYPE options...` where options are consumed while
// they are keywords of that type. Unknown index options that RediSearch
// accepts without arguments (NOOFFSETS, NOHL, ...) are kept as flags; unknown
// field options end the field, so the next token must start a new field
// (RediSearch is equally strict). Vector attributes follow RediSearch's
// `ALGO nargs k v ...` form with its error texts.
#include "search/ft_schema.h"

#include <cinttypes>
#include <cstdio>

#include "search/parse_util.h"

namespace ragkv::search {

std::string FormatSearchNumber(double v) {
  char buf[64];
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9.2e18) {
    std::snprintf(buf, sizeof(buf), "%" PRId64, static_cast<int64_t>(v));
  } else if (std::isinf(v)) {
    return v > 0 ? "inf" : "-inf";
  } else {
    std::snprintf(buf, sizeof(buf), "%.12g", v);
  }
  return buf;
}

std::string_view FieldTypeName(FieldType type) {
  switch (type) {
    case FieldType::kText: return "TEXT";
    case FieldType::kTag: return "TAG";
    case FieldType::kNumeric: return "NUMERIC";
    case FieldType::kGeo: return "GEO";
    case FieldType::kVector: return "VECTOR";
  }
  return "TEXT";
}

const FieldDef* IndexDef::FindAttribute(std::string_view attribute) const {
  for (const FieldDef& f : fields) {
    if (f.attribute == attribute) return &f;
  }
  return nullptr;
}

bool IndexDef::MatchesKey(std::string_view key) const {
  if (prefixes.empty()) return true;
  for (const std::string& p : prefixes) {
    if (key.substr(0, p.size()) == p) return true;
  }
  return false;
}

namespace {

Status Error(std::string msg) { return Status::InvalidArgument(msg); }

Status ParseVectorAttributes(std::span<const std::string_view> args, size_t* pos,
                             FieldDef* field) {
  size_t i = *pos;
  if (i >= args.size()) return Error("Expected vector similarity algorithm");
  std::optional<vec::Algorithm> algorithm = vec::ParseAlgorithm(args[i]);
  if (!algorithm) {
    return Error("Bad arguments for vector similarity algorithm: " + std::string(args[i]));
  }
  const std::string algo_name(vec::AlgorithmName(*algorithm));
  ++i;
  uint64_t nargs = 0;
  if (i >= args.size() || !ParseUint64(args[i], &nargs)) {
    return Error("Bad arguments for vector similarity number of parameters");
  }
  ++i;
  if (nargs % 2 != 0) {
    return Error("Bad number of arguments for vector similarity index: got " +
                 std::to_string(nargs) + " but expected even number");
  }
  if (nargs > args.size() - i) {
    return Error("Bad arguments for vector similarity " + algo_name +
                 " index: expected " + std::to_string(nargs) + " parameters");
  }
  vec::IndexSpec& spec = field->vector;
  spec.algorithm = *algorithm;
  bool have_type = false, have_dim = false, have_metric = false;
  const size_t end = i + nargs;
  for (; i < end; i += 2) {
    std::string_view key = args[i], value = args[i + 1];
    uint64_t n = 0;
    auto bad_value = [&] {
      return Error("Bad arguments for vector similarity " + algo_name + " index " +
                   std::string(key) + ": " + std::string(value));
    };
    if (IEquals(key, "TYPE")) {
      auto type = vec::ParseElementType(value);
      if (!type) return Error("Bad arguments for vector similarity " + algo_name +
                              " index type: " + std::string(value));
      spec.type = *type;
      have_type = true;
    } else if (IEquals(key, "DIM")) {
      if (!ParseUint64(value, &n) || n == 0 || n > kMaxVectorDim) {
        return Error("Bad arguments for vector similarity " + algo_name + " index dim: " +
                     std::string(value));
      }
      spec.dim = n;
      have_dim = true;
    } else if (IEquals(key, "DISTANCE_METRIC")) {
      auto metric = vec::ParseMetric(value);
      if (!metric) return Error("Bad arguments for vector similarity " + algo_name +
                                " index metric: " + std::string(value));
      spec.metric = *metric;
      have_metric = true;
    } else if (IEquals(key, "INITIAL_CAP")) {
      if (!ParseUint64(value, &n)) return bad_value();
      spec.initial_cap = std::max<size_t>(1, std::min<size_t>(n, kMaxInitialCap));
    } else if (IEquals(key, "BLOCK_SIZE") && *algorithm == vec::Algorithm::kFlat) {
      if (!ParseUint64(value, &n) || n == 0) return bad_value();
      field->block_size = n;
    } else if (IEquals(key, "M") && *algorithm == vec::Algorithm::kHnsw) {
      if (!ParseUint64(value, &n) || n < 2 || n > 512) return bad_value();
      spec.m = n;
    } else if (IEquals(key, "EF_CONSTRUCTION") && *algorithm == vec::Algorithm::kHnsw) {
      if (!ParseUint64(value, &n) || n == 0 || n > 4096) return bad_value();
      spec.ef_construction = n;
    } else if (IEquals(key, "EF_RUNTIME") && *algorithm == vec::Algorithm::kHnsw) {
      if (!ParseUint64(value, &n) || n == 0 || n > 4096) return bad_value();
      spec.ef_runtime = n;
    } else if (IEquals(key, "EPSILON") && *algorithm == vec::Algorithm::kHnsw) {
      double eps = 0;
      if (!ParseDoubleStrict(value, &eps) || !(eps > 0) || eps > 1e6) return bad_value();
      spec.epsilon = eps;
    } else {
      return Error("Bad arguments for algorithm " + algo_name + ": " + std::string(key));
    }
  }
  if (!have_type || !have_dim || !have_metric) {
    return Error("Missing mandatory parameter: cannot create " + algo_name +
                 " index without specifying " +
                 (!have_type ? "TYPE" : !have_dim ? "DIM" : "DISTANCE_METRIC") + " argument");
  }
  *pos = i;
  return Status::Ok();
}

}  // namespace

Status ParseSchemaFields(std::span<const std::string_view> args, size_t pos, IndexDef* def) {
  size_t i = pos;
  if (i >= args.size()) return Error("Fields arguments are missing");
  while (i < args.size()) {
    FieldDef field;
    field.identifier = std::string(args[i]);
    field.attribute = field.identifier;
    ++i;
    if (i < args.size() && IEquals(args[i], "AS")) {
      if (i + 1 >= args.size()) return Error("Missing attribute name after AS");
      field.attribute = std::string(args[i + 1]);
      i += 2;
    }
    if (i >= args.size()) {
      return Error("Field `" + field.attribute + "` does not have a type");
    }
    std::string_view type = args[i++];
    if (IEquals(type, "TEXT")) {
      field.type = FieldType::kText;
    } else if (IEquals(type, "TAG")) {
      field.type = FieldType::kTag;
    } else if (IEquals(type, "NUMERIC")) {
      field.type = FieldType::kNumeric;
    } else if (IEquals(type, "GEO")) {
      field.type = FieldType::kGeo;
    } else if (IEquals(type, "VECTOR")) {
      field.type = FieldType::kVector;
      RAGKV_RETURN_IF_ERROR(ParseVectorAttributes(args, &i, &field));
    } else {
      return Error("Invalid field type for field `" + field.attribute + "`");
    }
    // Field options, any order.
    while (i < args.size()) {
      std::string_view opt = args[i];
      if (IEquals(opt, "SORTABLE") && field.type != FieldType::kVector) {
        field.sortable = true;
        ++i;
        if (i < args.size() && IEquals(args[i], "UNF")) {
          field.unf = true;
          ++i;
        }
      } else if (IEquals(opt, "NOINDEX") && field.type != FieldType::kVector) {
        field.noindex = true;
        ++i;
      } else if (IEquals(opt, "INDEXMISSING") || IEquals(opt, "INDEXEMPTY")) {
        ++i;
      } else if (field.type == FieldType::kText && IEquals(opt, "NOSTEM")) {
        field.nostem = true;
        ++i;
      } else if (field.type == FieldType::kText && IEquals(opt, "WEIGHT")) {
        double w = 0;
        if (i + 1 >= args.size() || !ParseDoubleStrict(args[i + 1], &w) || !(w > 0) ||
            w > 1e6) {
          return Error("Could not parse field spec for `" + field.attribute + "`");
        }
        field.weight = w;
        i += 2;
      } else if (field.type == FieldType::kText && IEquals(opt, "PHONETIC")) {
        if (i + 1 >= args.size()) return Error("Bad phonetic matcher");
        i += 2;
      } else if ((field.type == FieldType::kText || field.type == FieldType::kTag) &&
                 IEquals(opt, "WITHSUFFIXTRIE")) {
        ++i;
      } else if (field.type == FieldType::kTag && IEquals(opt, "SEPARATOR")) {
        if (i + 1 >= args.size() || args[i + 1].size() != 1) {
          return Error("Tag separator must be a single character. Got `" +
                       std::string(i + 1 < args.size() ? args[i + 1] : "") + "`");
        }
        field.separator = args[i + 1][0];
        i += 2;
      } else if (field.type == FieldType::kTag && IEquals(opt, "CASESENSITIVE")) {
        field.case_sensitive = true;
        ++i;
      } else {
        break;
      }
    }
    if (def->fields.size() >= kMaxFields) return Error("Too many attributes");
    for (const FieldDef& f : def->fields) {
      if (f.attribute == field.attribute) {
        return Error("Duplicate field in schema - " + field.attribute);
      }
    }
    def->fields.push_back(std::move(field));
  }
  return Status::Ok();
}

Result<IndexDef> ParseCreateArgs(std::span<const std::string_view> args) {
  if (args.empty()) return Error("wrong number of arguments for 'FT.CREATE' command");
  IndexDef def;
  def.name = std::string(args[0]);
  size_t i = 1;
  auto need = [&](size_t n) { return i + n < args.size(); };
  for (;;) {
    if (i >= args.size()) return Error("No schema found");
    std::string_view opt = args[i];
    if (IEquals(opt, "SCHEMA")) {
      ++i;
      break;
    }
    if (IEquals(opt, "ON")) {
      if (!need(1)) return Error("Missing argument for ON");
      if (IEquals(args[i + 1], "JSON")) return Error("JSON indexes are not supported");
      if (!IEquals(args[i + 1], "HASH")) return Error("Invalid rule type: " + std::string(args[i + 1]));
      i += 2;
    } else if (IEquals(opt, "PREFIX") || IEquals(opt, "STOPWORDS")) {
      uint64_t n = 0;
      if (!need(1) || !ParseUint64(args[i + 1], &n) || n > args.size() - i - 2) {
        return Error(std::string("Bad arguments for ") +
                     (IEquals(opt, "PREFIX") ? "PREFIX" : "STOPWORDS"));
      }
      std::vector<std::string> words(args.begin() + static_cast<std::ptrdiff_t>(i + 2),
                                     args.begin() + static_cast<std::ptrdiff_t>(i + 2 + n));
      if (IEquals(opt, "PREFIX")) {
        for (auto& w : words) {
          if (w.empty()) {
            def.prefixes.clear();  // "" matches every key
            break;
          }
          def.prefixes.push_back(std::move(w));
        }
      } else {
        def.stopwords = std::move(words);
      }
      i += 2 + n;
    } else if (IEquals(opt, "FILTER") || IEquals(opt, "LANGUAGE") ||
               IEquals(opt, "LANGUAGE_FIELD") || IEquals(opt, "SCORE_FIELD") ||
               IEquals(opt, "PAYLOAD_FIELD") || IEquals(opt, "TEMPORARY") ||
               IEquals(opt, "INDEXALL")) {
      if (!need(1)) return Error("Missing argument for " + std::string(opt));
      if (IEquals(opt, "FILTER")) def.filter = std::string(args[i + 1]);
      if (IEquals(opt, "LANGUAGE")) def.language = ToLowerAscii(args[i + 1]);
      i += 2;
    } else if (IEquals(opt, "SCORE")) {
      double s = 0;
      if (!need(1) || !ParseDoubleStrict(args[i + 1], &s) || s < 0 || s > 1) {
        return Error("Invalid score");
      }
      def.score = s;
      i += 2;
    } else if (IEquals(opt, "SKIPINITIALSCAN")) {
      def.skip_initial_scan = true;
      ++i;
    } else if (IEquals(opt, "MAXTEXTFIELDS") || IEquals(opt, "NOOFFSETS") ||
               IEquals(opt, "NOHL") || IEquals(opt, "NOFIELDS") || IEquals(opt, "NOFREQS") ||
               IEquals(opt, "ASYNC")) {
      def.options.push_back(std::string(opt));
      ++i;
    } else {
      return Error("Unknown argument `" + std::string(opt) + "`");
    }
  }
  RAGKV_RETURN_IF_ERROR(ParseSchemaFields(args, i, &def));
  return def;
}

}  // namespace ragkv::search
