#include "lamina/targets.hpp"

namespace lamina {

const char* target_kind_name(TargetKind kind) {
  switch (kind) {
    case TargetKind::Class:
      return "class";
    case TargetKind::MultiLabel:
      return "multilabel";
    case TargetKind::Regression:
      return "regression";
    case TargetKind::ClassPerPosition:
      return "class_per_position";
    case TargetKind::ClassProbabilities:
      return "class_probabilities";
  }
  return "unknown";
}

}  // namespace lamina
