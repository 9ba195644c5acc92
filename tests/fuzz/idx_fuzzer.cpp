// libFuzzer target: the idx plugin's reader (plain and gzip), as an array and as samples. Bad
// input must end in lamina::InputError; any other exception, a crash, a leak or undefined
// behaviour is a finding.
#include <lamina/error.hpp>

#include "fuzz_input.hpp"
#include "idx/idx_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& file = lamina::fuzz::write_input(data, size);
  try {
    lamina_idx::IdxArray a = lamina_idx::read_idx(file);
    const lamina::SampleSet s = lamina_idx::samples_of(std::move(a), file);
    (void)s;
  } catch (const lamina::InputError&) {
  }
  return 0;
}
