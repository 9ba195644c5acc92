// libFuzzer target: the npy plugin's reader, the same bytes read as samples and as labels.
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
  return 0;
}
