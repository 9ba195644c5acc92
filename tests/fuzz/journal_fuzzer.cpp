// libFuzzer target: reading (and repairing) a search journal whose search has the fingerprint
// "fuzz"; the seeds carry that header.
#include <lamina/error.hpp>

#include "fuzz_input.hpp"
#include "search/journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    lamina::detail::Journal journal(lamina::fuzz::write_input(data, size, ".jsonl"), "fuzz");
    (void)journal.finished();
  } catch (const lamina::InputError&) {
  }
  return 0;
}
