// `lamina check` of a data source.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>

#include "check/checks.hpp"
#include "lamina/callback.hpp"
#include "lamina/gradcheck.hpp"
#include "lamina/initializer.hpp"
#include "lamina/merge.hpp"
#include "lamina/optimizer.hpp"
#include "lamina/schedule.hpp"

namespace lamina::detail::checks {

// A data source, built from --set keys (its files): each split reads and passes the checks
// training applies (sizes, finite values, labels >= 0, a shape of rank 1 to 3), the splits'
// shapes agree, a second instance reads the same samples, and its default scale is usable.
LoadedSource load_source(const Registry& registry, const Config& spec) {
  LoadedSource l{registry.create<DataSource>(spec), {}};
  l.split[0] = l.source->load(Split::Train);
  l.split[1] = l.source->load(Split::Test);
  return l;
}

void check_data_source(const Registry& registry, const Config& spec, LoadedSource& loaded, Report& report) {
  DataSource* first = loaded.source.get();
  const std::string& type = spec.type();
  SampleSet* split = loaded.split;
  for (int i = 0; i < 2; ++i) {
    const char* name = i == 0 ? "train" : "test";
    std::string problem;
    try {
      check_samples(split[i], type, true);
    } catch (const InputError& e) {
      problem = e.what();
    }
    const std::int32_t classes =
        split[i].labels.empty() ? 0 : *std::max_element(split[i].labels.begin(), split[i].labels.end()) + 1;
    report.add(problem.empty() && split[i].count > 0, fmt::format("{} samples consistent", name),
               problem.empty() ? fmt::format("{} samples of {}, {} as {}, classes 0..{}", split[i].count,
                                             split[i].sample_shape.str(), split[i].bytes.empty() ? "float" : "bytes",
                                             split[i].bytes.empty() ? "values" : "stored", classes - 1)
                               : problem);
  }
  report.add(split[0].sample_shape == split[1].sample_shape, "train and test shapes agree",
             fmt::format("{} and {}", split[0].sample_shape.str(), split[1].sample_shape.str()));
  auto second = registry.create<DataSource>(spec);
  const SampleSet again = second->load(Split::Train);
  report.add(again.sample_shape == split[0].sample_shape && again.bytes == split[0].bytes &&
                 again.values == split[0].values && again.labels == split[0].labels,
             "deterministic", "a second instance reads the same training samples");
  const float scale = first->default_scale();
  report.add(std::isfinite(scale) && scale > 0, "default scale positive", fmt::format("{:.6g}", scale));
}


}  // namespace lamina::detail::checks
