// `lamina plot`: curves of one or several runs, drawn by gnuplot (Debian's gnuplot-nox). The
// data travel inline in the script (gnuplot 5 datablocks), so nothing but the image is written,
// and the image is written under a temporary name and renamed into place.
#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "lamina/commands.hpp"
#include "lamina/error.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace {

struct Series {
  std::string name;
  std::string data;  // "x y" lines
  int dash = 1;
  int color = 0;
};

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot read (is this a run folder of `lamina train`?)", file.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<Series> epoch_series(const fs::path& run, int color, const std::string& metric) {
  const fs::path file = run / "metrics.json";
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_text(file));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON: {}", file.string(), e.what()));
  }
  const std::string key = metric == "loss" ? "loss" : "accuracy";
  std::vector<Series> out;
  int dash = 1;
  for (const char* split : {"train", "validation", "test"}) {
    Series s{fmt::format("{} {}", run.filename().string(), split), "", dash++, color};
    try {
      for (const auto& e : j.at("epochs")) {
        if (e.contains(split))
          s.data += fmt::format("{} {}\n", e.at("epoch").get<long>(), e.at(split).at(key).get<double>());
      }
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}: not a metrics file of `lamina train`: {}", file.string(), e.what()));
    }
    if (!s.data.empty()) out.push_back(std::move(s));
  }
  return out;
}

Series iteration_series(const fs::path& run, int color) {
  const fs::path file = run / "iterations.csv";
  std::istringstream in(read_text(file));
  std::string line;
  std::getline(in, line);
  if (line != "step,epoch,loss") {
    throw InputError(fmt::format("{}: not an iterations file (train with train.log_every > 0)", file.string()));
  }
  Series s{run.filename().string(), "", 1, color};
  while (std::getline(in, line)) {
    const auto a = line.find(','), b = line.rfind(',');
    if (a == std::string::npos || a == b) throw InputError(fmt::format("{}: malformed line '{}'", file.string(), line));
    s.data += line.substr(0, a) + " " + line.substr(b + 1) + "\n";
  }
  return s;
}

std::string quote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

}  // namespace

void run_plot(const PlotRequest& req, std::ostream& out) {
  if (req.runs.empty()) throw InputError("lamina plot: name at least one run folder");
  if (req.metric != "accuracy" && req.metric != "loss" && req.metric != "iterations") {
    throw InputError(fmt::format("lamina plot: --metric must be accuracy, loss or iterations, not '{}'", req.metric));
  }
  const std::string ext = req.out.extension().string();
  std::string terminal;
  if (ext == ".png") {
    terminal = "pngcairo size 1000,600 font 'sans,10'";
  } else if (ext == ".svg") {
    terminal = "svg size 1000,600 dynamic font 'sans,10'";
  } else {
    throw InputError(fmt::format("--out {}: the image must end in .png or .svg", req.out.string()));
  }
  std::vector<Series> series;
  int color = 0;
  for (const auto& run : req.runs) {
    if (!fs::is_directory(run)) throw InputError(fmt::format("{}: not a run folder", run.string()));
    if (req.metric == "iterations") {
      series.push_back(iteration_series(run, color++));
    } else {
      for (auto& s : epoch_series(run, color++, req.metric)) series.push_back(std::move(s));
    }
  }

  const fs::path tmp = req.out.string() + ".tmp";
  std::string script =
      fmt::format("set terminal {}\nset output {}\nset grid\nset key outside right\n", terminal, quote(tmp.string()));
  script += fmt::format("set title {}\n", quote(req.title));
  script += req.metric == "iterations" ? "set xlabel 'step'\nset ylabel 'training loss (batch)'\n"
                                       : fmt::format("set xlabel 'epoch'\nset ylabel '{}'\n", req.metric);
  for (std::size_t i = 0; i < series.size(); ++i) script += fmt::format("$d{} << EOD\n{}EOD\n", i, series[i].data);
  script += "plot ";
  for (std::size_t i = 0; i < series.size(); ++i) {
    script += fmt::format("{}$d{} using 1:2 with lines lw 1.5 dt {} lc {} title {}", i ? ", " : "", i, series[i].dash,
                          series[i].color + 1, quote(series[i].name));
  }
  script += "\n";

  FILE* gp = ::popen("gnuplot 2>&1", "w");
  if (gp == nullptr) throw Error("cannot start gnuplot");
  std::fwrite(script.data(), 1, script.size(), gp);
  const int status = ::pclose(gp);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::exists(tmp)) {
    std::error_code ec;
    fs::remove(tmp, ec);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
      throw Error("gnuplot is not installed: apt-get install gnuplot-nox");
    }
    throw Error(fmt::format("gnuplot failed to draw {}", req.out.string()));
  }
  std::error_code ec;
  fs::rename(tmp, req.out, ec);
  if (ec) throw Error(fmt::format("{}: cannot write: {}", req.out.string(), ec.message()));
  out << fmt::format("wrote {} ({} curves)", req.out.string(), series.size()) << std::endl;
}

}  // namespace lamina
