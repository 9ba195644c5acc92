// libFuzzer target: a search journal as both its readers take it — the search resuming (reading
// and repairing the journal of a search whose fingerprint is "fuzz" and metric "val_accuracy")
// and plot/the dashboard reading it without taking it. The seeds carry that header.
#include <lamina/error.hpp>
#include <string>

#include "fuzz_input.hpp"
#include "search/journal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)lamina::detail::read_journal(std::string(reinterpret_cast<const char*>(data), size));
  try {
    lamina::detail::Journal journal(lamina::fuzz::write_input(data, size, ".jsonl"), "fuzz", "val_accuracy");
    (void)journal.finished();
  } catch (const lamina::InputError&) {
  }
  return 0;
}
