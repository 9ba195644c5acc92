// The `csv` data source: numbers in rows, one sample per row, the targets in one or more
// columns: a class (classification, the default), K numbers (regression) or K labels of 0 and 1
// (multi-label). Samples are (D) for D feature columns, kept as float and not rescaled by default.
#include <lamina/data_source.hpp>
#include <lamina/error.hpp>
#include <lamina/plugin.hpp>

#include <memory>

#include "csv_reader.hpp"

namespace lamina_csv {

using namespace lamina;

CsvOptions options_of(const Config& c) {
  CsvOptions o;
  o.header = c.get<std::string>("header");
  const std::string task = c.get<std::string>("task");
  o.task = task == "regression" ? Task::Regression : task == "multilabel" ? Task::MultiLabel : Task::Classification;
  o.target_columns = c.strings("target_columns");
  if (o.target_columns.empty()) {
    o.target_columns = {c.has("label_column") ? std::to_string(c.get<std::int64_t>("label_column")) : "0"};
    o.key = "label_column";
  } else if (c.has("label_column")) {
    throw InputError(c.where("label_column") + ": give the target columns by target_columns or label_column, not both");
  }
  if (o.task == Task::Classification && o.target_columns.size() != 1) {
    throw InputError(c.where("target_columns") + ": classification takes one target column (the class); " +
                     std::to_string(o.target_columns.size()) +
                     " are named. For several 0/1 labels use task: multilabel, for numbers task: regression");
  }
  return o;
}

class CsvSource final : public DataSource {
 public:
  explicit CsvSource(const Config& c) : cfg_(c), options_(options_of(c)) {}

  SampleSet load(Split split) override {
    // cfg_.file fails with the model's file:line when the key is missing.
    return read_csv(cfg_.file(split == Split::Train ? "train" : "test"), options_);
  }
  float default_scale() override { return 1.0f; }
  // Prediction inputs have no target columns: every column is a feature.
  SampleSet read_inputs(const std::filesystem::path& file) override { return read_csv(file, -1, "auto"); }

 private:
  Config cfg_;
  CsvOptions options_;
};

void register_types(Registrar& r) {
  // A source built only to read prediction inputs (`lamina predict --input x.csv`) names no
  // files, so train and test are checked when they are read, not declared required.
  r.add<DataSource>(
      "csv", "CSV files of numbers: one sample per row, its targets in one or more columns",
      Schema{
          Key::path("train", "training file, one sample per row (needed to train and evaluate)"),
          Key::path("test", "test file (needed to train and evaluate)"),
          Key::string("task",
                      "what the target columns hold: classification (one column of class numbers 0, 1, ...), "
                      "regression (numbers) or multilabel (0 or 1 per label)")
              .def("classification")
              .one_of({"classification", "regression", "multilabel"}),
          Key::strings("target_columns",
                       "the target columns, by 0-based index or header name, in the targets' order "
                       "(default: label_column)"),
          Key::integer("label_column",
                       "0-based column holding the class label, when target_columns is not given (default: 0)")
              .at_least(0)
              .at_most(1 << 20),
          Key::string("header", "whether the first row is a header; auto = when it is not all numbers")
              .def("auto")
              .one_of({"auto", "true", "false"}),
      },
      [](const Config& c) { return std::make_unique<CsvSource>(c); });
}

}  // namespace lamina_csv

LAMINA_PLUGIN("csv", LAMINA_VERSION_STRING, "The csv data source", lamina_csv::register_types)
