// `lamina check` for samplers and pruners, without training: a sampler proposes for a
// synthetic space against a synthetic objective, a pruner judges synthetic learning curves.
#pragma once

#include "check_report.hpp"
#include "runtime/registry.hpp"

namespace lamina::detail {

// Proposals inside the space (every type of dimension), the same from a fresh instance (a
// resume) for the same history and stream, and independent of history when the sampler says
// it ignores it.
void check_sampler(const Registry& registry, const Config& spec, Report& report);
// Decisions only where decides_at() says, the same from a fresh instance replaying the same
// trials (a resume at any trial), and each trial's decision unchanged by later trials.
void check_pruner(const Registry& registry, const Config& spec, Report& report);

}  // namespace lamina::detail
