// What the search suites share: a small search over Fashion-MNIST and the journal read back.
#pragma once

#include <boost/test/unit_test.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "test_support.hpp"

namespace lamina::test {

// A base model on 300 training samples and a space over lr and L2; suites append the budget.
inline const std::string kSearchModel =
    "model:\n"
    "  data: {source: fashion-mnist, train_limit: 300, test_limit: 100, validation_split: 0.2}\n"
    "  layers:\n"
    "    - {type: affine, units: 30}\n"
    "    - {type: relu}\n"
    "    - {type: affine, units: 10}\n"
    "  loss: softmax_cross_entropy\n"
    "  regularizer: {type: l2, lambda: 1.0e-6}\n"
    "  optimizer: {type: sgd, lr: 0.01}\n"
    "  train: {batch_size: 50}\n"
    "space:\n"
    "  optimizer.lr: {log_uniform: [1.0e-4, 1.0]}\n"
    "  regularizer.lambda: {log_uniform: [1.0e-8, 1.0e-2]}\n";

// The journal's trial lines without their timings, by trial number; a trial journaled twice
// fails the test.
inline std::map<long, nlohmann::json> journal(const fs::path& dir) {
  std::map<long, nlohmann::json> out;
  std::istringstream lines(read_file(dir / "journal.jsonl"));
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    j.erase("seconds");
    BOOST_TEST_REQUIRE(out.count(j["trial"].get<long>()) == 0u, "trial run twice: " << line);
    out[j["trial"].get<long>()] = j;
  }
  return out;
}

// Writes kSearchModel + `extra` as DIR/NAME.yaml and searches it into DIR/NAME (the test
// fails unless it succeeds); returns what it printed.
inline std::string search_named(const TempDir& dir, const std::string& name, const std::string& extra,
                                const std::string& flags = "") {
  write_file(dir / (name + ".yaml"), kSearchModel + extra);
  const auto r = run_lamina("search " + (dir / (name + ".yaml")).string() + " --no-progress " + flags + " --out " +
                            (dir / name).string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  return r.output;
}

}  // namespace lamina::test
