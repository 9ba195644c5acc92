// CSV data: the reader, kept apart from the plugin's type so that the tests and the fuzzer
// call it directly.
#pragma once

#include <lamina/data_source.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace lamina_csv {

// One sample per row; `label_column` -1: every column is a feature and the samples have no
// labels. header: auto | true | false. Throws lamina::InputError naming file:line.
lamina::SampleSet read_csv(const std::filesystem::path& file, std::int64_t label_column, const std::string& header);

}  // namespace lamina_csv
