// `objectives:`: a search keeps the Pareto front of several objectives. The journal records each
// trial's objectives, results.csv marks pareto_rank and front (checked here against dominance
// computed from the journal), pareto/ holds a model per front member and no best.yaml; the same
// journal for 1 and 3 workers (TPE learning from the front's order), and a resume from a cut
// journal equals the uninterrupted search.
#define BOOST_TEST_MODULE cli_search_objectives
#include <boost/test/unit_test.hpp>
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "search_support.hpp"
#include "test_support.hpp"

using namespace lamina::test;

namespace {

// kSearchModel with the hidden layer's width in the space: the parameter count varies.
std::string widths_model() {
  std::string m = kSearchModel;
  const std::string space = "space:\n";
  m.insert(m.find(space) + space.size(), "  layers.0.units: {int_uniform: [2, 60]}\n");
  return m;
}

const std::string kTwo =
    "trials: 9\nepochs: 2\nseed: 5\nsampler: {type: tpe, startup_trials: 3}\n"
    "objectives: [{metric: val_accuracy}, {measure: parameters, direction: minimize}]\n";

std::string search_widths(const TempDir& dir, const std::string& name, const std::string& extra,
                          const std::string& flags = "") {
  write_file(dir / (name + ".yaml"), widths_model() + extra);
  const auto r = run_lamina("search " + (dir / (name + ".yaml")).string() + " --no-progress " + flags + " --out " +
                            (dir / name).string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  return r.output;
}

std::vector<std::vector<std::string>> csv_rows(const fs::path& file) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(read_file(file));
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream row(line);
    for (std::string c; std::getline(row, c, ',');) cells.push_back(c);
    rows.push_back(cells);
  }
  return rows;
}

std::size_t column(const std::vector<std::string>& header, const std::string& name) {
  const auto it = std::find(header.begin(), header.end(), name);
  BOOST_TEST_REQUIRE((it != header.end()), "no column " << name);
  return static_cast<std::size_t>(it - header.begin());
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_two_objective_search_keeps_the_pareto_front_for_any_worker_count) {
  TempDir dir;
  const std::string out = search_widths(dir, "w1", kTwo, "--workers 1");
  search_widths(dir, "w3", kTwo, "--workers 3");
  BOOST_TEST(journal(dir / "w1") == journal(dir / "w3"));
  BOOST_TEST(read_file(dir / "w1" / "results.csv") == read_file(dir / "w3" / "results.csv"));
  BOOST_TEST(out.find("ranked by the Pareto front of val_accuracy (max), parameters (min)") != std::string::npos, out);

  // The parameter count is the network's: 784 u + u + 10 u + 10 for u hidden units.
  std::map<long, std::pair<double, double>> point;  // ok trials: (accuracy, parameters)
  std::set<double> widths;
  for (const auto& [id, t] : journal(dir / "w1")) {
    BOOST_TEST_REQUIRE(t.contains("objectives"), id);
    const double units = t["values"]["layers.0.units"]["number"].get<double>();
    widths.insert(units);
    BOOST_TEST(t["objectives"]["parameters"].get<double>() == 795 * units + 10, id);
    BOOST_TEST(t["objectives"]["val_accuracy"].get<double>() == t["scores"].back().get<double>(), id);
    if (t["status"] == "ok") {
      point[id] = {t["objectives"]["val_accuracy"].get<double>(), t["objectives"]["parameters"].get<double>()};
    }
  }
  BOOST_TEST(widths.size() > 3u, "the widths barely vary: the front proves little");
  const auto dominated = [&](long id) {
    for (const auto& [other, p] : point) {
      const auto& q = point.at(id);
      if (other != id && p.first >= q.first && p.second <= q.second && (p.first > q.first || p.second < q.second))
        return true;
    }
    return false;
  };

  const auto rows = csv_rows(dir / "w1" / "results.csv");
  const auto& h = rows.at(0);
  BOOST_TEST(rows[0][5] == "val_accuracy");
  const std::size_t trial = column(h, "trial"), params = column(h, "parameters"), rank = column(h, "pareto_rank"),
                    front = column(h, "front");
  std::set<long> members;
  int last_rank = 1;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const long id = std::stol(rows[r][trial]);
    if (!point.count(id)) continue;
    BOOST_TEST(rows[r][params] == fmt::format("{:.0f}", point[id].second));
    BOOST_TEST(std::stoi(rows[r][rank]) >= last_rank, "ranked by front");  // front 1 first
    last_rank = std::stoi(rows[r][rank]);
    BOOST_TEST((rows[r][front] == "true") == !dominated(id), id);
    BOOST_TEST((rows[r][rank] == "1") == !dominated(id), id);
    if (!dominated(id)) members.insert(id);
  }
  BOOST_TEST_REQUIRE(!members.empty());

  // pareto/ is the front, each a model that trains; no single best.yaml.
  BOOST_TEST(!fs::exists(dir / "w1" / "best.yaml"));
  std::set<long> files;
  for (const auto& e : fs::directory_iterator(dir / "w1" / "pareto")) {
    const std::string name = e.path().stem().string();  // trial-N
    files.insert(std::stol(name.substr(6)));
  }
  BOOST_TEST((files == members));
  const long first = *members.begin();
  const fs::path model = dir / "w1" / "pareto" / fmt::format("trial-{}.yaml", first);
  const std::string units = journal(dir / "w1")[first]["values"]["layers.0.units"]["text"];
  BOOST_TEST(read_file(model).find("units: " + units) != std::string::npos, read_file(model));
  const auto trained = run_lamina("train " + model.string() + " --set train.epochs=1 --out " + (dir / "run").string());
  BOOST_TEST(trained.status == 0, trained.output);

  const auto summary = nlohmann::json::parse(read_file(dir / "w1" / "summary.json"));
  std::set<long> listed;
  for (const auto& id : summary["front"]) listed.insert(id.get<long>());
  BOOST_TEST((listed == members));
  BOOST_TEST(summary["objectives"][1]["name"] == "parameters");
  BOOST_TEST(summary["objectives"][1]["higher_is_better"] == false);
}

BOOST_AUTO_TEST_CASE(a_resumed_multi_objective_search_equals_the_uninterrupted_one) {
  TempDir dir;
  search_widths(dir, "whole", kTwo);
  // The search as a kill after its first four trials leaves it: the header and four lines.
  fs::create_directories(dir / "cut");
  std::istringstream lines(read_file(dir / "whole" / "journal.jsonl"));
  std::string kept, line;
  for (int i = 0; i < 5 && std::getline(lines, line); ++i) kept += line + "\n";
  write_file(dir / "cut" / "journal.jsonl", kept);
  const std::string out = search_widths(dir, "cut", kTwo);
  BOOST_TEST(out.find("resuming with 4 finished trials") != std::string::npos, out);
  BOOST_TEST(journal(dir / "whole") == journal(dir / "cut"));
  BOOST_TEST(read_file(dir / "whole" / "results.csv") == read_file(dir / "cut" / "results.csv"));
}

BOOST_AUTO_TEST_CASE(seconds_per_epoch_is_measured_and_minimized) {
  TempDir dir;
  search_widths(dir, "t",
                "trials: 3\nepochs: 1\nobjectives: [{metric: val_loss}, {measure: parameters}, "
                "{measure: seconds_per_epoch}]\n");
  for (const auto& [id, t] : journal(dir / "t")) {
    BOOST_TEST(t["objectives"]["seconds_per_epoch"].get<double>() > 0, id);
    BOOST_TEST(t["objectives"]["val_loss"].get<double>() == -t["scores"].back().get<double>(), id);
  }
  const auto header = csv_rows(dir / "t" / "results.csv").at(0);
  BOOST_TEST(header[5] == "val_loss");
  BOOST_TEST(header[6] == "parameters");
  BOOST_TEST(header[7] == "seconds_per_epoch");
  const auto first = nlohmann::json::parse(read_file(dir / "t" / "journal.jsonl").substr(
      0, read_file(dir / "t" / "journal.jsonl").find('\n')));
  BOOST_TEST(first["objectives"][2]["higher_is_better"] == false);
  BOOST_TEST(first["objectives"][0]["higher_is_better"] == false);  // the loss, minimized
}

BOOST_AUTO_TEST_CASE(a_warm_start_takes_a_search_of_the_same_objectives_and_refuses_another) {
  TempDir dir;
  const std::string two = "trials: 3\nepochs: 1\nobjectives: [{metric: val_accuracy}, {measure: parameters}]\n";
  search_widths(dir, "single", "trials: 2\nepochs: 1\n");
  search_widths(dir, "earlier", two);
  const std::string out = search_widths(dir, "later", two + "warm_start: earlier\n");
  BOOST_TEST(out.find("warm start: 3 of the 3 trials of") != std::string::npos, out);

  write_file(dir / "other.yaml", widths_model() + two + "warm_start: single\n");
  const auto r = run_lamina("search " + (dir / "other.yaml").string() + " --no-progress --out " +
                            (dir / "other").string());
  BOOST_TEST(r.status == 2);
  BOOST_TEST(r.output.find("has the objectives [] (one metric), this search [val_accuracy, parameters]") !=
                 std::string::npos,
             r.output);
  BOOST_TEST(!fs::exists(dir / "other"));
}
