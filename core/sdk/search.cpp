// The key functions of the search interfaces (their type_info lives in liblamina_sdk) and the
// words of trial statuses.
#include "lamina/pruner.hpp"
#include "lamina/sampler.hpp"
#include "lamina/trial.hpp"

namespace lamina {

Sampler::~Sampler() = default;
Pruner::~Pruner() = default;

std::string_view status_name(TrialStatus status) {
  switch (status) {
    case TrialStatus::Running:
      return "running";
    case TrialStatus::Ok:
      return "ok";
    case TrialStatus::Pruned:
      return "pruned";
    case TrialStatus::Diverged:
      return "diverged";
    case TrialStatus::Failed:
      return "failed";
  }
  return "unknown";
}

}  // namespace lamina
