// libFuzzer target: the IDX reader (plain and gzip). Bad input must end in lamina::InputError;
// any other exception, a crash, a leak or undefined behaviour is a finding.
#include "runtime/dataset.hpp"
#include <lamina/error.hpp>

#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const lamina::IdxArray a = lamina::read_idx(lamina::fuzz::write_input(data, size));
    (void)a;
  } catch (const lamina::InputError&) {
  }
  return 0;
}
