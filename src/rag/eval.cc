// Evaluation metrics (definitions in eval.h).
#include "rag/eval.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

namespace ragkv::rag {

Result<std::vector<EvalQuestion>> ParseQuestions(std::string_view jsonl) {
  std::vector<EvalQuestion> out;
  size_t line_no = 0, pos = 0;
  while (pos < jsonl.size()) {
    size_t end = jsonl.find('\n', pos);
    if (end == std::string_view::npos) end = jsonl.size();
    std::string_view line = jsonl.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto bad = [&](std::string_view what) {
      return Status::InvalidArgument("line " + std::to_string(line_no) + ": " + std::string(what));
    };
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
    if (!j.contains("id") || !j.contains("question") || !j["question"].is_string()) {
      return bad("needs \"id\" and \"question\"");
    }
    EvalQuestion q;
    q.id = j["id"].is_string() ? j["id"].get<std::string>() : j["id"].dump();
    q.question = j["question"].get<std::string>();
    if (j.contains("relevant")) {
      if (!j["relevant"].is_object()) return bad("\"relevant\" must be an object");
      for (const auto& [doc, grade] : j["relevant"].items()) {
        if (!grade.is_number()) return bad("grades must be numbers");
        if (grade.get<double>() > 0) q.relevant[doc] = static_cast<int>(grade.get<double>());
      }
    }
    q.kind = j.value("kind",
                     q.relevant.empty() ? std::string("unanswerable") : std::string("answerable"));
    out.push_back(std::move(q));
  }
  return out;
}

RankingMetrics ScoreQuestion(const std::vector<std::string>& ranked_in,
                             const std::map<std::string, int>& relevant, size_t k) {
  std::vector<std::string> ranked;
  std::set<std::string> seen;
  for (const std::string& d : ranked_in) {
    if (seen.insert(d).second) ranked.push_back(d);
  }
  RankingMetrics m;
  m.n = 1;
  if (relevant.empty()) return m;
  auto recall = [&](size_t n) {
    size_t hit = 0;
    for (size_t i = 0; i < ranked.size() && i < n; ++i) hit += relevant.count(ranked[i]);
    return static_cast<double>(hit) / static_cast<double>(relevant.size());
  };
  m.recall_at_1 = recall(1);
  m.recall_at_5 = recall(5);
  m.recall_at_k = recall(k);
  double dcg = 0;
  for (size_t i = 0; i < ranked.size() && i < k; ++i) {
    auto it = relevant.find(ranked[i]);
    if (it == relevant.end()) continue;
    if (m.mrr == 0) m.mrr = 1.0 / static_cast<double>(i + 1);
    dcg += it->second / std::log2(static_cast<double>(i + 2));
  }
  std::vector<int> grades;
  for (const auto& [d, g] : relevant) grades.push_back(g);
  std::sort(grades.rbegin(), grades.rend());
  double idcg = 0;
  for (size_t i = 0; i < grades.size() && i < k; ++i) {
    idcg += grades[i] / std::log2(static_cast<double>(i + 2));
  }
  m.ndcg = idcg > 0 ? dcg / idcg : 0;
  return m;
}

// Rank-sum form: sort both groups together, give tied values their average
// rank, and U = (sum of the positives' ranks) - n (n + 1) / 2. Rejected: the
// pairwise count, O(n m), which the tests use as the reference instead.
double ConfidenceAuc(std::vector<double> positives, std::vector<double> negatives) {
  if (positives.empty() || negatives.empty()) return -1;
  std::vector<std::pair<double, bool>> all;
  all.reserve(positives.size() + negatives.size());
  for (double x : positives) all.emplace_back(x, true);
  for (double x : negatives) all.emplace_back(x, false);
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  double positive_rank_sum = 0;
  for (size_t i = 0; i < all.size();) {
    size_t j = i;
    size_t tied_positives = 0;
    for (; j < all.size() && all[j].first == all[i].first; ++j) tied_positives += all[j].second;
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    positive_rank_sum += average_rank * static_cast<double>(tied_positives);
    i = j;
  }
  const double n = static_cast<double>(positives.size());
  const double m = static_cast<double>(negatives.size());
  return (positive_rank_sum - n * (n + 1) / 2) / (n * m);
}

EvalReport Evaluate(const std::vector<EvalQuestion>& questions, const std::vector<EvalRun>& runs,
                    size_t k) {
  EvalReport report;
  report.k = k;
  auto add = [](RankingMetrics* sum, const RankingMetrics& m) {
    sum->n += 1;
    sum->recall_at_1 += m.recall_at_1;
    sum->recall_at_5 += m.recall_at_5;
    sum->recall_at_k += m.recall_at_k;
    sum->mrr += m.mrr;
    sum->ndcg += m.ndcg;
  };
  std::vector<double> answerable_confidence, unanswerable_confidence;
  for (size_t i = 0; i < questions.size(); ++i) {
    const EvalQuestion& q = questions[i];
    (q.relevant.empty() ? unanswerable_confidence : answerable_confidence)
        .push_back(runs[i].confidence);
    if (q.relevant.empty()) {
      ++report.unanswerable;
      report.unanswerable_abstained += runs[i].abstain;
      continue;
    }
    report.answerable_abstained += runs[i].abstain;
    RankingMetrics m = ScoreQuestion(runs[i].ranked, q.relevant, k);
    add(&report.answerable, m);
    add(&report.by_kind[q.kind], m);
  }
  auto average = [](RankingMetrics* m) {
    if (m->n == 0) return;
    double n = static_cast<double>(m->n);
    m->recall_at_1 /= n;
    m->recall_at_5 /= n;
    m->recall_at_k /= n;
    m->mrr /= n;
    m->ndcg /= n;
  };
  average(&report.answerable);
  for (auto& [kind, m] : report.by_kind) average(&m);
  if (!answerable_confidence.empty() && !unanswerable_confidence.empty()) {
    report.min_answerable_confidence =
        *std::min_element(answerable_confidence.begin(), answerable_confidence.end());
    report.max_unanswerable_confidence =
        *std::max_element(unanswerable_confidence.begin(), unanswerable_confidence.end());
    report.confidence_auc =
        ConfidenceAuc(std::move(answerable_confidence), std::move(unanswerable_confidence));
  }
  return report;
}

std::string FormatReport(const EvalReport& r) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-14s %4s %7s %7s %7s %7s %7s\n", "questions", "n", "R@1",
                "R@5", ("R@" + std::to_string(r.k)).c_str(), ("MRR@" + std::to_string(r.k)).c_str(),
                ("nDCG@" + std::to_string(r.k)).c_str());
  out += line;
  auto row = [&](const std::string& name, const RankingMetrics& m) {
    std::snprintf(line, sizeof line, "%-14s %4zu %7.3f %7.3f %7.3f %7.3f %7.3f\n", name.c_str(),
                  m.n, m.recall_at_1, m.recall_at_5, m.recall_at_k, m.mrr, m.ndcg);
    out += line;
  };
  row("all answerable", r.answerable);
  for (const auto& [kind, m] : r.by_kind) row(kind, m);
  if (r.unanswerable > 0) {
    std::snprintf(line, sizeof line,
                  "abstention: %zu/%zu unanswerable declined, %zu/%zu answerable "
                  "wrongly declined\n",
                  r.unanswerable_abstained, r.unanswerable, r.answerable_abstained, r.answerable.n);
    out += line;
  }
  if (r.confidence_auc >= 0) {
    std::snprintf(line, sizeof line,
                  "confidence: AUC %.3f; answerable min %.3f, unanswerable max %.3f\n",
                  r.confidence_auc, r.min_answerable_confidence, r.max_unanswerable_confidence);
    out += line;
  }
  return out;
}

}  // namespace ragkv::rag
