// The checks of `lamina check TYPE`, one file per kind (layer.cpp: layers and merges,
// optimizer.cpp, schedule.cpp, data_source.cpp, callback.cpp, metric.cpp, augmentation.cpp;
// samplers and pruners in search/check_search.cpp); check.cpp picks one by the type's kind and prints the verdict.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "check_report.hpp"
#include "lamina/config.hpp"
#include "lamina/data_source.hpp"
#include "lamina/error.hpp"
#include "lamina/layer.hpp"
#include "lamina/progress.hpp"
#include "lamina/tensor.hpp"
#include "runtime/commands.hpp"
#include "runtime/registry.hpp"

namespace lamina::detail::checks {

bool same(const Tensor& a, const Tensor& b);
bool finite(const Tensor& t);
// A batch of `batch` samples of shape `sample`, normal values from `seed`.
Tensor input(const Shape& sample, std::int64_t batch, std::uint64_t seed);

// An epoch's made-up measures for a schedule or callback under check: the loss and an accuracy
// on each split (what a classification model reports).
struct MadeUpEpoch {
  MetricValue values[2];
  EpochEnd end;
  MadeUpEpoch(std::int64_t epoch, double loss, double train_acc, double val_acc, double test_acc)
      : values{{"loss", false, loss, loss, loss}, {"accuracy", true, train_acc, val_acc, test_acc}}, end{epoch, values} {}
  MadeUpEpoch(const MadeUpEpoch&) = delete;
  MadeUpEpoch& operator=(const MadeUpEpoch&) = delete;
};

// `create` makes a fresh instance: a layer, or a merge seen as a layer (merge_as_layer.hpp).
void check_layer(const std::function<std::unique_ptr<Layer>()>& create, const CheckRequest& req, Report& report);
void check_optimizer(const Registry& registry, const Config& spec, Report& report);
void check_schedule(const Registry& registry, const Config& spec, Report& report);
void check_callback(const Registry& registry, const Config& spec, Report& report);
void check_metric(const Registry& registry, const Config& spec, Report& report);
void check_augmentation(const Registry& registry, const Config& spec, const CheckRequest& req, Report& report);

struct LoadedSource {
  std::unique_ptr<DataSource> source;
  SampleSet split[2];
};
// Reads both splits before any output, so that a missing file is one line of error (exit 2).
LoadedSource load_source(const Registry& registry, const Config& spec);
void check_data_source(const Registry& registry, const Config& spec, LoadedSource& loaded, Report& report);

// A component with state, through epochs 1-3, saved, loaded into a fresh instance and run on
// through `epochs` (what --resume does); `trace` gathers what both instances did. Returns what
// went wrong, or "".
template <class T, class Run, class Trace>
std::string resumed_halfway(const Registry& registry, const Config& spec, Run& run, std::int64_t epochs,
                            Trace& trace) {
  try {
    auto before = registry.create<T>(spec);
    run(*before, 1, 3, trace);
    std::vector<Buffer> saved;
    before->save_state(saved);
    auto after = registry.create<T>(spec);
    after->load_state(saved);
    run(*after, 4, epochs, trace);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}


}  // namespace lamina::detail::checks
