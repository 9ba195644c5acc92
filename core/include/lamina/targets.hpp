// What a sample is trained to give: its target. A data source says which kind its samples carry
// (SampleSet::target_kind); a loss or metric says which kinds it takes (Loss::accepts), and a
// model whose loss does not take its data's kind is refused when the data is loaded.
//
//   kind                 per sample                          lives in        the last layer gives
//   Class                one class index in [0, C)           classes (N)     C scores
//   MultiLabel           C values, each 0 or 1               values (N x C)  C scores (logits)
//   Regression           K floats                            values (N x K)  K outputs
//   ClassPerPosition     T class indices (a sequence)        classes (N x T) T x C scores
//   ClassProbabilities   C probabilities summing to 1        values (N x C)  C scores
//
// ClassProbabilities are soft class targets: what mixup makes of two samples' classes (an
// augmentation, lamina/augmentation.hpp), or a source's own soft labels (distillation).
#pragma once

#include <cstdint>
#include <span>

#include "lamina/export.hpp"

namespace lamina {

// The values are stored in checkpoints' and runs' metadata by name, never by number, but keep
// them fixed: they cross the plugin boundary.
enum class TargetKind : std::int32_t {
  Class = 0,
  MultiLabel = 1,
  Regression = 2,
  ClassPerPosition = 3,
  ClassProbabilities = 4,  // appended within ABI 5: a plugin that does not know it accepts() false
};

inline constexpr TargetKind kTargetKinds[] = {TargetKind::Class, TargetKind::MultiLabel, TargetKind::Regression,
                                              TargetKind::ClassPerPosition, TargetKind::ClassProbabilities};

// "class", "multilabel", "regression", "class_per_position", "class_probabilities": the names messages and files use.
LAMINA_API const char* target_kind_name(TargetKind kind);

// One batch's targets as a loss or a metric sees them; the spans stay valid for the call (and,
// for a loss, until its backward()).
struct Targets {
  TargetKind kind = TargetKind::Class;
  std::int64_t count = 0;  // samples in the batch, N
  std::int64_t width = 1;  // per sample: 1 (Class), C (MultiLabel, ClassProbabilities), K (Regression), T (ClassPerPosition)
  std::span<const std::int32_t> classes = {};  // Class: N indices; ClassPerPosition: N x T, row-major
  std::span<const float> values = {};          // MultiLabel: N x C of 0 and 1; Regression: N x K;
                                               // ClassProbabilities: N x C, each row summing to 1

  bool has_classes() const { return kind == TargetKind::Class || kind == TargetKind::ClassPerPosition; }
};

}  // namespace lamina
