// Metrics of class targets (lamina/metric.hpp), each from sums so that batches and ranks add up:
//   accuracy        the share of samples (of positions, for a class per position) whose highest
//                   score is their class; the first of equal highest scores counts, as
//                   std::max_element and torch.argmax pick it. Sums: right answers, answers.
//                   The default for class targets.
//   top_k_accuracy  the share whose class is among the k highest scores: fewer than k other
//                   scores are strictly higher (a tie counts in the class's favour). Sums: as
//                   accuracy.
//   macro_f1        the mean over classes of F1 = 2 TP / (2 TP + FP + FN): for class targets
//                   from the highest score, for label sets from each logit > 0 (a probability
//                   above 1/2). A class that neither occurs nor is predicted is left out, as
//                   scikit-learn's f1_score(average="macro") leaves out labels it never sees.
//                   Sums: TP, FP, FN per class. The default for label sets.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

#include <lamina/error.hpp>
#include <lamina/metric.hpp>
#include <lamina/plugin.hpp>

namespace lamina_classification_metrics {

using namespace lamina;

// Rows of scores in a batch: samples, or samples x positions; the check that the scores fit.
std::int64_t score_rows(const Tensor& scores, const Targets& t, std::int64_t& width, const char* who) {
  const std::int64_t rows = t.count * (t.kind == TargetKind::ClassPerPosition ? t.width : 1);
  width = rows > 0 ? scores.size() / rows : 0;
  if (rows > 0 && (width < 1 || width * rows != scores.size())) {
    throw Error(std::string(who) + ": " + std::to_string(scores.size()) + " scores do not make " +
                std::to_string(rows) + " rows");
  }
  return rows;
}

class TopK final : public Metric {
 public:
  TopK(std::int64_t k, bool is_default, const char* name) : k_(k), default_(is_default), name_(name) {}
  // Class probabilities (mixup's soft targets) count the most probable class as the label.
  bool accepts(TargetKind kind) const override {
    return kind == TargetKind::Class || kind == TargetKind::ClassPerPosition || kind == TargetKind::ClassProbabilities;
  }
  bool higher_is_better() const override { return true; }
  bool is_default(TargetKind kind) const override { return default_ && accepts(kind); }
  std::size_t sums(std::int64_t) const override { return 2; }

  void add(const Tensor& scores, const Targets& t, std::span<double> sums) const override {
    std::int64_t c = 0;
    const std::int64_t rows = score_rows(scores, t, c, name_);
    std::int64_t right = 0;
    for (std::int64_t i = 0; i < rows; ++i) {
      const float* row = scores.data() + i * c;
      std::int32_t label = 0;
      if (t.kind == TargetKind::ClassProbabilities) {
        const float* q = t.values.data() + i * t.width;
        label = static_cast<std::int32_t>(std::max_element(q, q + t.width) - q);
      } else {
        label = t.classes[static_cast<std::size_t>(i)];
      }
      if (k_ == 1) {
        right += std::max_element(row, row + c) - row == label;
      } else {
        const float mine = label >= 0 && label < c ? row[label] : -INFINITY;
        right += std::count_if(row, row + c, [&](float s) { return s > mine; }) < k_;
      }
    }
    sums[0] += static_cast<double>(right);
    sums[1] += static_cast<double>(rows);
  }
  double value(std::span<const double> sums) const override { return sums[1] > 0 ? sums[0] / sums[1] : NAN; }

 private:
  std::int64_t k_;
  bool default_;
  const char* name_;
};

class MacroF1 final : public Metric {
 public:
  bool accepts(TargetKind kind) const override { return kind == TargetKind::Class || kind == TargetKind::MultiLabel; }
  bool higher_is_better() const override { return true; }
  bool is_default(TargetKind kind) const override { return kind == TargetKind::MultiLabel; }
  std::size_t sums(std::int64_t width) const override { return 3 * static_cast<std::size_t>(width); }

  void add(const Tensor& scores, const Targets& t, std::span<double> sums) const override {
    std::int64_t c = 0;
    const std::int64_t rows = score_rows(scores, t, c, "macro_f1");
    if (3 * static_cast<std::size_t>(c) != sums.size()) throw Error("macro_f1: scores of another width than at load");
    // sums: TP of each class, then FP, then FN.
    double* tp = sums.data();
    double* fp = tp + c;
    double* fn = fp + c;
    for (std::int64_t i = 0; i < rows; ++i) {
      const float* row = scores.data() + i * c;
      if (t.kind == TargetKind::Class) {
        const std::int64_t predicted = std::max_element(row, row + c) - row;
        const std::int64_t label = t.classes[static_cast<std::size_t>(i)];
        if (predicted == label) {
          tp[label] += 1;
        } else {
          fp[predicted] += 1;
          if (label >= 0 && label < c) fn[label] += 1;
        }
        continue;
      }
      for (std::int64_t j = 0; j < c; ++j) {
        const bool predicted = row[j] > 0;
        const bool truth = t.values[static_cast<std::size_t>(i * c + j)] > 0.5f;
        tp[j] += predicted && truth;
        fp[j] += predicted && !truth;
        fn[j] += !predicted && truth;
      }
    }
  }

  double value(std::span<const double> sums) const override {
    const std::size_t c = sums.size() / 3;
    double total = 0;
    std::size_t seen = 0;
    for (std::size_t j = 0; j < c; ++j) {
      const double tp = sums[j], fp = sums[c + j], fn = sums[2 * c + j];
      if (2 * tp + fp + fn == 0) continue;
      total += 2 * tp / (2 * tp + fp + fn);
      ++seen;
    }
    return seen > 0 ? total / static_cast<double>(seen) : NAN;
  }
};

void register_types(Registrar& r) {
  r.add<Metric>("accuracy", "share of samples (or positions) whose highest score is their class", {},
                [](const Config&) { return std::make_unique<TopK>(1, true, "accuracy"); });
  r.add<Metric>("top_k_accuracy", "share of samples (or positions) whose class is among the k highest scores",
                {Key::integer("k", "how many of the highest scores count").def(5).at_least(1)},
                [](const Config& c) { return std::make_unique<TopK>(c.get<std::int64_t>("k"), false, "top_k_accuracy"); });
  r.add<Metric>("macro_f1", "F1 averaged over the classes (class targets: highest score; label sets: logit > 0)", {},
                [](const Config&) { return std::make_unique<MacroF1>(); });
}

}  // namespace lamina_classification_metrics

LAMINA_PLUGIN("classification_metrics", LAMINA_VERSION_STRING,
              "Metrics of class targets: accuracy, top_k_accuracy, macro_f1",
              lamina_classification_metrics::register_types)
