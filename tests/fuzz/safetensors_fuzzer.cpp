// libFuzzer target: the safetensors reader of checkpoints.
#include <lamina/error.hpp>
#include "runtime/safetensors.hpp"

#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const lamina::SafetensorsFile f = lamina::read_safetensors(lamina::fuzz::write_input(data, size));
    (void)f;
  } catch (const lamina::InputError&) {
  }
  return 0;
}
