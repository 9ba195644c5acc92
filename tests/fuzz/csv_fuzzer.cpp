// libFuzzer target: the csv plugin's reader, with the label in the first column and without one.
#include <lamina/error.hpp>

#include "csv/csv_reader.hpp"
#include "fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& file = lamina::fuzz::write_input(data, size, ".csv");
  for (std::int64_t label_column : {0, -1}) {
    try {
      const lamina::SampleSet s = lamina_csv::read_csv(file, label_column, "auto");
      (void)s;
    } catch (const lamina::InputError&) {
    }
  }
  return 0;
}
