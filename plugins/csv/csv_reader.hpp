// CSV data: the reader, kept apart from the plugin's type so that the tests and the fuzzer
// call it directly.
#pragma once

#include <lamina/data_source.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lamina_csv {

enum class Task { Classification, Regression, MultiLabel };

struct CsvOptions {
  // The target columns: 0-based indices ("3") or header names ("price"), in the order the
  // targets take. Empty: every column is a feature and the samples have no targets
  // (prediction inputs).
  std::vector<std::string> target_columns;
  // Classification: one column of class numbers. Regression: K columns of numbers.
  // MultiLabel: K columns of 0 and 1, one per label.
  Task task = Task::Classification;
  std::string header = "auto";  // auto | true | false
  std::string key = "target_columns";  // the key that named the columns, for messages
};

// One sample per row. Throws lamina::InputError naming file:line.
lamina::SampleSet read_csv(const std::filesystem::path& file, const CsvOptions& options);

// The class in `label_column` (-1: no targets, every column a feature).
lamina::SampleSet read_csv(const std::filesystem::path& file, std::int64_t label_column, const std::string& header);

}  // namespace lamina_csv
