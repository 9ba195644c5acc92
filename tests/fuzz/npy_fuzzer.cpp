// libFuzzer target: the npy plugin's reader, the same bytes read as samples, as labels and as
// targets of every kind (classes, regression values, multi-label 0/1).
// Bad input must end in lamina::InputError; anything else is a finding.
#include <lamina/error.hpp>

#include "fuzz_input.hpp"
#include "npy/npy_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& file = lamina::fuzz::write_input(data, size, ".npy");
  try {
    const lamina::SampleSet s = lamina_npy::read_npy_samples(file);
    (void)s;
  } catch (const lamina::InputError&) {
  }
  try {
    const std::vector<std::int32_t> y = lamina_npy::read_npy_labels(file);
    (void)y;
  } catch (const lamina::InputError&) {
  }
  for (bool multilabel : {false, true}) {
    try {
      const lamina_npy::NpyTargets t = lamina_npy::read_npy_targets(file, multilabel);
      (void)t;
    } catch (const lamina::InputError&) {
    }
  }
  return 0;
}
