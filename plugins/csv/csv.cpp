// The `csv` data source: numbers in rows, one sample per row, the class in one column.
// Samples are (D) for D feature columns, kept as float and not rescaled by default.
#include <lamina/data_source.hpp>
#include <lamina/plugin.hpp>

#include <memory>

#include "csv_reader.hpp"

namespace lamina_csv {

using namespace lamina;

class CsvSource final : public DataSource {
 public:
  explicit CsvSource(const Config& c)
      : cfg_(c), label_column_(c.get<std::int64_t>("label_column")), header_(c.get<std::string>("header")) {}

  SampleSet load(Split split) override {
    // cfg_.file fails with the model's file:line when the key is missing.
    return read_csv(cfg_.file(split == Split::Train ? "train" : "test"), label_column_, header_);
  }
  float default_scale() override { return 1.0f; }
  // Prediction inputs have no label column: every column is a feature.
  SampleSet read_inputs(const std::filesystem::path& file) override { return read_csv(file, -1, "auto"); }

 private:
  Config cfg_;
  std::int64_t label_column_;
  std::string header_;
};

void register_types(Registrar& r) {
  // A source built only to read prediction inputs (`lamina predict --input x.csv`) names no
  // files, so train and test are checked when they are read, not declared required.
  r.add<DataSource>(
      "csv", "CSV files of numbers: one sample per row, an integer class label in one column",
      Schema{
          Key::path("train", "training file, one sample per row (needed to train and evaluate)"),
          Key::path("test", "test file (needed to train and evaluate)"),
          Key::integer("label_column", "0-based column holding the class label").def(0).at_least(0).at_most(1 << 20),
          Key::string("header", "whether the first row is a header; auto = when it is not all numbers")
              .def("auto")
              .one_of({"auto", "true", "false"}),
      },
      [](const Config& c) { return std::make_unique<CsvSource>(c); });
}

}  // namespace lamina_csv

LAMINA_PLUGIN("csv", LAMINA_VERSION_STRING, "The csv data source", lamina_csv::register_types)
