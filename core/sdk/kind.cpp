#include "lamina/kind.hpp"

namespace lamina {

std::string_view kind_name(Kind kind) {
  switch (kind) {
    case Kind::Layer:
      return "layer";
    case Kind::Loss:
      return "loss";
    case Kind::Regularizer:
      return "regularizer";
    case Kind::Optimizer:
      return "optimizer";
    case Kind::Initializer:
      return "initializer";
    case Kind::Schedule:
      return "schedule";
    case Kind::Callback:
      return "callback";
    case Kind::DataSource:
      return "data_source";
    case Kind::Merge:
      return "merge";
    case Kind::Sampler:
      return "sampler";
    case Kind::Pruner:
      return "pruner";
    case Kind::Metric:
      return "metric";
    case Kind::Augmentation:
      return "augmentation";
  }
  return "unknown";
}

}  // namespace lamina
