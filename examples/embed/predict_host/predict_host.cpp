// predict_host RUN_DIR INPUT.csv: the embedding API end to end. Loads the plugins and a trained
// run, reads rows of raw input values (no header, one sample per line), and prints
// "row,class,p0,...,pK" with 6 decimals, the format of `lamina predict`.
#include <lamina/embed.hpp>
#include <lamina/error.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: predict_host RUN_DIR INPUT.csv\n";
    return 2;
  }
  try {
    lamina::embed::Host host;
    lamina::embed::Model model = host.load_run(argv[1]);

    std::vector<float> values;
    std::int64_t rows = 0;
    std::ifstream in(argv[2]);
    for (std::string line; std::getline(in, line); ++rows) {
      std::stringstream cells(line);
      for (std::string cell; std::getline(cells, cell, ',');) values.push_back(std::stof(cell));
    }
    const std::int64_t per_sample = model.sample_shape().numel();
    if (rows == 0 || static_cast<std::int64_t>(values.size()) != rows * per_sample) {
      std::cerr << argv[2] << ": expected rows of " << per_sample << " values\n";
      return 2;
    }
    std::vector<std::int64_t> dims{rows};
    for (int i = 0; i < model.sample_shape().rank(); ++i) dims.push_back(model.sample_shape()[i]);
    lamina::Tensor x(lamina::Shape::from(dims));
    std::copy(values.begin(), values.end(), x.data());

    const lamina::Tensor p = model.predict_raw(x);  // scaled as the model was trained
    std::printf("row,class");
    for (std::int64_t j = 0; j < model.classes(); ++j) std::printf(",p%lld", static_cast<long long>(j));
    std::printf("\n");
    for (std::int64_t i = 0; i < rows; ++i) {
      const float* row = p.data() + i * model.classes();
      std::int64_t best = 0;
      for (std::int64_t j = 1; j < model.classes(); ++j) best = row[j] > row[best] ? j : best;
      std::printf("%lld,%lld", static_cast<long long>(i), static_cast<long long>(best));
      for (std::int64_t j = 0; j < model.classes(); ++j) std::printf(",%.6f", row[j]);
      std::printf("\n");
    }
  } catch (const lamina::InputError& e) {
    std::cerr << "predict_host: error: " << e.what() << "\n";
    return 2;
  } catch (const lamina::Error& e) {
    std::cerr << "predict_host: failed: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
