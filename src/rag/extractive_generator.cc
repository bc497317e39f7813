// The extractive answerer: answers offline with the best supporting sentences
// of the retrieved chunks, chosen for relevance and diversity, each followed by
// the [n] of its chunk.
//
// Relevance of a sentence is the idf-weighted share of the question's terms
// it contains (the same measure as retrieval confidence), plus a small prior
// for higher-ranked chunks; selection is maximal marginal relevance
// (Carbonell & Goldstein 1998) with Jaccard similarity over terms, so the
// second sentence adds information instead of repeating the first. Nothing is
// generated, so every statement is verbatim from a cited source: faithful by
// construction. Rejected: returning whole chunks (long, and the answer is
// usually one or two sentences of them); sentence embeddings (the builtin
// vectors are too coarse at sentence length).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "rag/chunker.h"
#include "rag/generator.h"
#include "rag/store_io.h"

namespace ragkv::rag {
namespace {

std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space) {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

struct Candidate {
  std::string text;
  size_t chunk_index;
  std::unordered_set<std::string> terms;
  double relevance;
};

// Prose, not code or tables: at least 92% letters, spaces and common
// punctuation.
bool LooksLikeProse(std::string_view s) {
  size_t prose = 0;
  for (unsigned char c : s) {
    prose += std::isalpha(c) || c == ' ' || c == ',' || c == '.' || c == '\'' || c == '-' ||
             c == '(' || c == ')' || c >= 0x80;
  }
  return prose * 100 >= s.size() * 92;
}

// "[n]"; built by appending (GCC 12 warns falsely on "[" + std::string).
std::string CitationTag(size_t n) {
  std::string tag(1, '[');
  tag += std::to_string(n);
  tag += ']';
  return tag;
}

double Jaccard(const std::unordered_set<std::string>& a, const std::unordered_set<std::string>& b) {
  if (a.empty() || b.empty()) return 0;
  size_t inter = 0;
  for (const auto& t : a) inter += b.count(t);
  return static_cast<double>(inter) / static_cast<double>(a.size() + b.size() - inter);
}

class ExtractiveGenerator final : public Generator {
 public:
  ExtractiveGenerator(const ChunkStore* store, ExtractiveOptions options)
      : store_(store), options_(options) {}

  std::string name() const override { return "extractive"; }

  Result<std::string> Generate(const AnswerContext& context, const TokenSink& sink) override {
    std::unordered_map<std::string, double> idf;
    double total = 0;
    for (const auto& st : store_->QueryTermStats(StripQuestionFraming(context.question))) {
      if (idf.emplace(st.term, st.idf).second) total += st.idf;
    }
    std::vector<Candidate> candidates;
    for (size_t i = 0; i < context.chunks.size(); ++i) {
      const ChunkRecord& chunk = context.chunks[i].chunk;
      std::vector<std::string> title_terms = store_->Analyze(TitleField(chunk));
      std::unordered_set<std::string> title(title_terms.begin(), title_terms.end());
      size_t position = 0;
      for (auto [b, e] : SplitSentences(chunk.text)) {
        std::string sentence = CollapseWhitespace(std::string_view(chunk.text).substr(b, e - b));
        const size_t index = position++;
        if (sentence.size() < 25 || sentence.size() > options_.max_chars) continue;
        if (!LooksLikeProse(sentence)) continue;
        Candidate c{sentence, i, {}, 0};
        for (std::string& t : store_->Analyze(sentence)) c.terms.insert(std::move(t));
        // A question term in the sentence counts fully; one only in the
        // chunk's title or heading counts a quarter (the sentence is about it).
        double matched = 0;
        for (const auto& [t, w] : idf) {
          if (c.terms.count(t) > 0) {
            matched += w;
          } else if (title.count(t) > 0) {
            matched += 0.25 * w;
          }
        }
        if (matched == 0 || total == 0) continue;
        // Priors: better-ranked chunks, and a section's opening sentences,
        // which tend to define its subject (the "lead" baseline of
        // summarisation).
        c.relevance = matched / total + 0.1 / static_cast<double>(i + 1) + (index < 2 ? 0.05 : 0);
        candidates.push_back(std::move(c));
      }
    }
    std::vector<const Candidate*> chosen;
    size_t chars = 0;
    std::vector<bool> used(candidates.size(), false);
    while (chosen.size() < options_.max_sentences) {
      double best = -1e9;
      size_t best_i = candidates.size();
      for (size_t i = 0; i < candidates.size(); ++i) {
        if (used[i] || chars + candidates[i].text.size() > options_.max_chars) continue;
        double redundancy = 0;
        for (const Candidate* c : chosen) {
          redundancy = std::max(redundancy, Jaccard(candidates[i].terms, c->terms));
        }
        double mmr = options_.lambda * candidates[i].relevance - (1 - options_.lambda) * redundancy;
        if (mmr > best) {
          best = mmr;
          best_i = i;
        }
      }
      if (best_i == candidates.size()) break;
      // Stop once the best remaining sentence is mostly a repeat or weak.
      if (!chosen.empty() &&
          (best <= 0 || candidates[best_i].relevance < 0.5 * chosen[0]->relevance)) {
        break;
      }
      used[best_i] = true;
      chars += candidates[best_i].text.size();
      chosen.push_back(&candidates[best_i]);
    }
    std::string answer;
    for (const Candidate* c : chosen) {
      std::string piece = answer.empty() ? "" : " ";
      piece += c->text;
      piece += ' ';
      piece += CitationTag(c->chunk_index + 1);
      if (sink) sink(piece);
      answer += piece;
    }
    return answer;
  }

 private:
  const ChunkStore* store_;
  ExtractiveOptions options_;
};

}  // namespace

std::unique_ptr<Generator> NewExtractiveGenerator(const ChunkStore* store,
                                                  ExtractiveOptions options) {
  return std::make_unique<ExtractiveGenerator>(store, options);
}

std::string CitationLabel(const ChunkRecord& chunk) {
  std::string label = chunk.source;
  std::string where = chunk.title;
  if (chunk.heading.rfind(chunk.title, 0) == 0) {
    where = chunk.heading;  // the heading path already starts with the title
  } else if (!chunk.heading.empty()) {
    if (!where.empty()) where += " > ";
    where += chunk.heading;
  }
  if (chunk.page > 0) {
    if (!where.empty()) where += ", ";
    where += "p. " + std::to_string(chunk.page);
  }
  if (!where.empty()) label += " (" + where + ")";
  return label;
}

std::string FormatResponse(std::string_view answer, const Retrieval& retrieval, double threshold,
                           std::string_view generator_note) {
  const std::vector<RetrievedChunk>& chunks = retrieval.hits;
  std::string out;
  if (retrieval.abstain) {
    out += "The documents do not contain the answer to this question";
    if (!retrieval.unknown_terms.empty()) {
      out += ": no document mentions ";
      for (size_t i = 0; i < retrieval.unknown_terms.size(); ++i) {
        if (i > 0) out += i + 1 == retrieval.unknown_terms.size() ? " or " : ", ";
        out += "\"" + retrieval.unknown_terms[i] + "\"";
      }
      out += ".\n";
    } else {
      char conf[96];
      std::snprintf(conf, sizeof conf,
                    " (retrieval confidence %.2f is below the %.2f threshold).\n",
                    retrieval.confidence, threshold);
      out += conf;
    }
    if (!chunks.empty()) {
      out += "\nClosest matches, which do not answer it:\n";
      for (size_t i = 0; i < chunks.size() && i < 3; ++i) {
        out += "- " + CitationLabel(chunks[i].chunk) + "\n";
      }
    }
  } else {
    out += std::string(answer);
    out += "\n\nSources:\n";
    for (size_t i = 0; i < chunks.size(); ++i) {
      std::string tag = CitationTag(i + 1);
      if (answer.find(tag) == std::string_view::npos) continue;
      out += tag + " " + CitationLabel(chunks[i].chunk) + "\n";
    }
  }
  if (!generator_note.empty()) {
    out += "\n";
    out += std::string(generator_note);
    out += "\n";
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string FormatTranscriptEntry(std::string_view question, std::string_view response) {
  std::string out = "Question: ";
  out += question;
  out += "\nResponse:\n";
  out += response;
  out += "\n";
  out += std::string(50, '=');
  out += "\n";
  return out;
}

}  // namespace ragkv::rag
