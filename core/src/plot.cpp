// `lamina plot`: curves of one or several runs, or the picture of a search, drawn by gnuplot
// (Debian's gnuplot-nox). The data travel inline in the script (gnuplot 5 datablocks), so
// nothing but the image is written, and the image is written under a temporary name and
// renamed into place.
#include <fmt/format.h>
#include <sys/wait.h>

#include <iostream>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "atomic_file.hpp"
#include "printable.hpp"
#include "run_folder.hpp"
#include "search/journal.hpp"
#include "external_program.hpp"
#include "runtime/commands.hpp"
#include "lamina/error.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace lamina {
namespace {

struct Series {
  std::string name;
  std::string data;  // "x y" lines
  int dash = 1;
  int color = 0;
};

std::string read_text(const fs::path& file) {
  return detail::read_whole_file(file, "(is this a run folder of `lamina train` or `lamina search`?)", detail::kTextCap);
}

json read_json(const fs::path& file) {
  try {
    return json::parse(read_text(file));
  } catch (const json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
}

std::string quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::vector<Series> epoch_series(const fs::path& run, int color, const std::string& metric) {
  const std::vector<EpochMetrics> history = detail::read_metrics(run);
  const auto value = [&](const Evaluation& e) { return metric == "loss" ? e.loss : e.metric(metric); };
  if (metric != "loss" && !history.empty() &&
      std::none_of(history.front().train.metrics.begin(), history.front().train.metrics.end(),
                   [&](const auto& m) { return m.first == metric; })) {
    std::string has = "loss";
    for (const auto& [name, v] : history.front().train.metrics) has += ", " + name;
    throw InputError(fmt::format("{}: the run reports no metric '{}'; it reports: {}", run.string(), metric, has));
  }
  std::vector<Series> out;
  int dash = 1;
  for (const char* split : {"train", "validation", "test"}) {
    Series s{fmt::format("{} {}", run.filename().string(), split), "", dash++, color};
    for (const auto& m : history) {
      const std::string_view which = split;
      const Evaluation* e = which == "train" ? &m.train : which == "test" ? &m.test : m.validation ? &*m.validation : nullptr;
      if (e != nullptr) s.data += fmt::format("{} {}\n", m.epoch, value(*e));
    }
    if (!s.data.empty()) out.push_back(std::move(s));
  }
  return out;
}

Series iteration_series(const fs::path& run, int color) {
  const fs::path file = run / "iterations.csv";
  const detail::RunTable t = detail::read_run_table(read_text(file));
  if (t.columns != std::vector<std::string>{"step", "epoch", "loss"}) {
    throw InputError(fmt::format("{}: not an iterations file (train with train.log_every > 0)", file.string()));
  }
  Series s{run.filename().string(), "", 1, color};
  for (const auto& row : t.rows) s.data += row[0] + " " + row[2] + "\n";
  return s;
}

std::string curves_script(const std::vector<Series>& series, const std::string& metric) {
  std::string script = "set grid\nset key outside right\n";
  script += metric == "iterations" ? "set xlabel 'step'\nset ylabel 'training loss (batch)'\n"
                                   : fmt::format("set xlabel 'epoch'\nset ylabel '{}'\n", metric);
  for (std::size_t i = 0; i < series.size(); ++i) script += fmt::format("$d{} << EOD\n{}EOD\n", i, series[i].data);
  script += "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    script += fmt::format("{}$d{} using 1:2 with lines lw 1.5 dt {} lc {} title {}", i ? ", " : "", i, series[i].dash,
                          series[i].color + 1, quote(series[i].name));
  }
  return script + "\n";
}

// A search folder: the score against each hyperparameter (log axes where it was sampled on a
// log scale), and the validation curves of the five best trials.
std::string search_script(const fs::path& dir, const std::string& title) {
  const json rounds = read_json(dir / "rounds.json");
  std::vector<json> trials;
  for (auto& t : detail::read_journal(read_text(dir / "journal.jsonl")).trials) {
    if (t.contains("score") && t["score"].is_number()) trials.push_back(std::move(t));
  }
  if (trials.empty()) throw InputError(fmt::format("{}: no finished trial to plot", dir.string()));
  std::stable_sort(trials.begin(), trials.end(),
                   [](const json& a, const json& b) { return a["score"].get<double>() > b["score"].get<double>(); });
  const json& dims = rounds.at(0).at("space");
  std::string blocks, plots;
  std::size_t k = 0;
  for (const auto& [path, d] : dims.items()) {
    std::string data;
    for (const auto& t : trials) {
      data += fmt::format("{} {}\n", t["values"][path]["number"].get<double>(), t["score"].get<double>());
    }
    blocks += fmt::format("$s{} << EOD\n{}EOD\n", k, data);
    plots += fmt::format(
        "set xlabel {}\n{}\nunset key\nplot $s{} using 1:2 with points pt 7 ps 0.6 lc 1\n", quote(path),
        d.at("type") == "log_uniform" ? "set logscale x\nset format x '1e%L'" : "unset logscale x\nset format x '% g'",
        k);
    ++k;
  }
  plots += "unset logscale x\nset format x '% g'\nset xlabel 'epoch'\nset key bottom right\nplot ";
  for (std::size_t i = 0; i < trials.size() && i < 5; ++i) {
    std::string data;
    std::size_t e = 0;
    for (const auto& s : trials[i]["scores"]) data += fmt::format("{} {}\n", ++e, s.get<double>());
    blocks += fmt::format("$c{} << EOD\n{}EOD\n", i, data);
    plots += fmt::format("{}$c{} using 1:2 with lines lw 1.5 title 'trial {}'", i ? ", " : "", i,
                         trials[i]["trial"].get<long>());
  }
  return blocks +
         fmt::format("set multiplot layout 1,{} title {}\nset grid\nset ylabel 'score (validation)'\n", k + 1,
                     quote(title)) +
         plots + "\nunset multiplot\n";
}

void draw(const std::string& body, const std::string& terminal, const fs::path& target, std::ostream& out,
          const std::string& what) {
  const fs::path tmp = detail::temp_name(target);
  const std::string script = fmt::format("set terminal {}\nset output {}\n", terminal, quote(tmp.string())) + body;
  const auto [status, printed] =
      detail::run_program("gnuplot", {}, script, "gnuplot is not installed (or not on PATH): apt-get install gnuplot-nox");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::exists(tmp)) {
    std::error_code ec;
    fs::remove(tmp, ec);
    const std::string said = detail::tail_lines(printed, 5);
    throw Error(fmt::format("gnuplot failed to draw {} ({}){}", target.string(),
                            WIFEXITED(status) ? fmt::format("exit status {}", WEXITSTATUS(status))
                                              : fmt::format("killed by signal {}", WTERMSIG(status)),
                            said.empty() ? "" : ": " + said));
  }
  if (!printed.empty()) std::cerr << "gnuplot: " << detail::tail_lines(printed, 20) << std::endl;
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) throw Error(fmt::format("{}: cannot write: {}", target.string(), ec.message()));
  out << fmt::format("wrote {} ({})", target.string(), what) << std::endl;
}

}  // namespace

void run_plot(const PlotRequest& req, std::ostream& out) {
  if (req.runs.empty()) throw InputError("name at least one run folder");
  const bool name_ok = !req.metric.empty() && req.metric.size() <= 48 &&
                       std::all_of(req.metric.begin(), req.metric.end(), [](char c) {
                         return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
                       });
  if (!name_ok) {
    throw InputError(fmt::format("--metric must be loss, iterations or a metric the runs report (accuracy, r2, ...), "
                                 "not '{}'",
                                 detail::printable(req.metric, 40)));
  }
  const std::string ext = req.out.extension().string();
  std::string terminal;
  if (ext == ".png") {
    terminal = "pngcairo noenhanced size 1000,600 font 'sans,10'";  // text as written: run_names keep their _
  } else if (ext == ".svg") {
    terminal = "svg noenhanced size 1000,600 dynamic font 'sans,10'";
  } else {
    throw InputError(fmt::format("--out {}: the image must end in .png or .svg", req.out.string()));
  }
  for (const auto& run : req.runs) {
    if (!fs::is_directory(run)) throw InputError(fmt::format("{}: not a run folder", run.string()));
  }
  const std::string title = fmt::format("set title {}\n", quote(req.title));
  if (req.runs.size() == 1 && fs::exists(req.runs[0] / "journal.jsonl")) {
    draw(search_script(req.runs[0], req.title), terminal, req.out, out, "a search");
    return;
  }
  std::vector<Series> series;
  int color = 0;
  for (const auto& run : req.runs) {
    if (req.metric == "iterations") {
      series.push_back(iteration_series(run, color++));
    } else {
      for (auto& s : epoch_series(run, color++, req.metric)) series.push_back(std::move(s));
    }
  }
  draw(title + curves_script(series, req.metric), terminal, req.out, out, fmt::format("{} curves", series.size()));
}

}  // namespace lamina
