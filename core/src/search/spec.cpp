#include "search/spec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <functional>

#include "atomic_file.hpp"
#include "config_impl.hpp"
#include "lamina/error.hpp"
#include "model_impl.hpp"
#include "search/journal.hpp"
#include "printable.hpp"
#include "suggest.hpp"

namespace fs = std::filesystem;

namespace lamina::detail {
namespace {

const std::vector<std::string> kKeys{"model",   "space",   "trials",   "epochs", "seed",    "workers",   "metric",
                                     "rounds",  "sampler", "pruning",  "strategy", "lag",  "enqueue", "warm_start",
                                     "repeats", "objectives"};

const Schema& scalar_schema() {
  static const Schema s{
      Key::integer("trials", "trials per round").def(20).at_least(1).at_most(100000),
      Key::integer("epochs", "epochs per trial (sets train.epochs)").def(5).at_least(1).at_most(100000),
      Key::integer("seed", "seeds the proposals and each trial's training (with the trial number)").def(1).at_least(0),
      Key::integer("workers", "trials run in parallel threads, one thread each").def(1).at_least(1).at_most(256),
      Key::metric("metric",
                  "what ranks the trials, measured on the validation split: val_loss or val_ and one of the "
                  "model's metrics (val_accuracy, val_r2); its direction is the metric plugin's")
          .def("val_accuracy"),
      Key::integer("repeats",
                   "seeds each trial trains (in step, one thread each); its score after each epoch is their mean, "
                   "which the pruner judges; results.csv adds the standard deviation")
          .def(1)
          .at_least(1)
          .at_most(100),
      Key::integer("lag",
                   "trial k's sampler sees the finished trials numbered below k - lag (at most lag + 1 "
                   "trials run at once with a sampler that learns)")
          .def(3)
          .at_least(0)
          .at_most(100000),
  };
  return s;
}

const Schema& rounds_schema() {
  static const Schema s{
      Key::integer("count", "rounds; each after the first samples from the narrowed ranges")
          .def(1)
          .at_least(1)
          .at_most(100),
      Key::number("keep", "fraction of a round's best trials whose span becomes the next round's range")
          .def(0.25)
          .above(0)
          .at_most(1),
  };
  return s;
}

std::string read_text(const fs::path& file) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw InputError(fmt::format("{}: no such search file", file.string()));
  if (fs::file_size(file, ec) > (16u << 20))
    throw InputError(fmt::format("{}: too large for a search file", file.string()));
  return read_whole_file(file, "the search file", kTextCap);
}

std::optional<double> number(const YAML::Node& n) {
  if (!n.IsScalar()) return std::nullopt;
  double v = 0;
  const std::string& s = n.Scalar();
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// A choice as one line of flow YAML, however it was written: an alternative written as a block
// mapping keeps its style through YAML::Flow, and the fingerprint holds one dimension a line.
std::string one_line(const YAML::Node& n) {
  const std::function<void(YAML::Node)> flow_all = [&](YAML::Node x) {
    if (!x.IsMap() && !x.IsSequence()) return;
    x.SetStyle(YAML::EmitterStyle::Flow);
    if (x.IsMap()) {
      for (auto kv : x) flow_all(kv.second);
    } else {
      for (auto e : x) flow_all(e);
    }
  };
  YAML::Node copy = YAML::Clone(n);
  flow_all(copy);
  YAML::Emitter e;
  e << YAML::Flow << copy;
  return e.c_str();
}

Dimension parse_dimension(const Source& src, const std::string& path, const YAML::Node& spec) {
  const std::string where = "space." + path;
  if (!spec.IsMap() || spec.size() != 1) {
    fail_at(src, where, spec,
            fmt::format("expected one of {{uniform: [lo, hi]}}, {{log_uniform: [lo, hi]}}, {{int_uniform: [lo, hi]}}, "
                        "{{choice: [a, b, ...]}}, found {}",
                        describe(spec)));
  }
  const auto kv = *spec.begin();
  const std::string kind = kv.first.Scalar();
  const YAML::Node& args = kv.second;
  Dimension d;
  d.path = path;
  if (kind == "choice") {
    d.type = Dimension::Type::Choice;
    if (!args.IsSequence() || args.size() == 0) {
      fail_at(src, where, args, fmt::format("expected a non-empty list of values, found {}", describe(args)));
    }
    for (const auto& c : args) d.choices.push_back(one_line(c));
    return d;
  }
  const std::vector<std::string> kinds{"uniform", "log_uniform", "int_uniform", "choice"};
  if (kind == "uniform") {
    d.type = Dimension::Type::Uniform;
  } else if (kind == "log_uniform") {
    d.type = Dimension::Type::LogUniform;
  } else if (kind == "int_uniform") {
    d.type = Dimension::Type::IntUniform;
  } else {
    fail_at(src, where, kv.first,
            fmt::format("unknown distribution '{}'{}; use one of: {}", kind, did_you_mean(kind, kinds), join(kinds)));
  }
  double lo = 0, hi = 0;
  bool ok = args.IsSequence() && args.size() == 2;
  if (ok) {
    const auto a = number(args[0]), b = number(args[1]);
    ok = a.has_value() && b.has_value();
    lo = a.value_or(0);
    hi = b.value_or(0);
  }
  if (!ok) fail_at(src, where, args, fmt::format("expected [lo, hi], two numbers, found {}", describe(args)));
  if (!(lo < hi)) fail_at(src, where, args, fmt::format("lo must be below hi, found [{}, {}]", lo, hi));
  if (d.type == Dimension::Type::LogUniform && lo <= 0) {
    fail_at(src, where, args, fmt::format("a log range must be above zero, found [{}, {}]", lo, hi));
  }
  if (d.type == Dimension::Type::IntUniform && (std::floor(lo) != lo || std::floor(hi) != hi)) {
    fail_at(src, where, args, fmt::format("int_uniform needs integer bounds, found [{}, {}]", lo, hi));
  }
  d.lo = lo;
  d.hi = hi;
  return d;
}

std::string probe_text(const Dimension& d, double v) {
  if (d.type == Dimension::Type::IntUniform) return std::to_string(static_cast<long long>(v));
  return fmt::format("{}", v);
}

std::string flow(const YAML::Node& n) {
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// A dimension's type in the fingerprint: the enum's order when the format was made, fixed here
// (journals written since must keep resuming) and read back by parse_fingerprint alone.
constexpr Dimension::Type kTypeCodes[] = {Dimension::Type::Uniform, Dimension::Type::LogUniform,
                                          Dimension::Type::IntUniform, Dimension::Type::Choice};
int type_code(Dimension::Type t) {
  for (int i = 0; i < 4; ++i) {
    if (kTypeCodes[i] == t) return i;
  }
  return -1;
}

// The first part of the journal's fingerprint. A search that random search alone could have
// run before samplers and pruners were plugins (random sampling; no pruning, none or asha)
// keeps the fingerprint it had then, so its journals still resume.
std::string fingerprint_head(const SearchSpec& spec, const YAML::Node& sampler, const YAML::Node& pruning) {
  const bool random = sampler.IsScalar()
                          ? sampler.Scalar() == "random"
                          : sampler.size() == 1 && sampler["type"] && sampler["type"].Scalar() == "random";
  std::string type = "none";
  std::int64_t min_epochs = 1, reduction = 3;
  bool old_keys = true;
  if (pruning.IsScalar()) {
    type = pruning.Scalar();
  } else if (pruning.IsMap()) {
    for (const auto& kv : pruning) {
      const std::string k = kv.first.Scalar();
      if (k == "type") {
        type = kv.second.Scalar();
      } else if (k == "min_epochs") {
        min_epochs = kv.second.as<std::int64_t>();
      } else if (k == "reduction") {
        reduction = kv.second.as<std::int64_t>();
      } else {
        old_keys = false;
      }
    }
  }
  if (random && old_keys && (type == "none" || type == "asha")) {
    return fmt::format("trials={} epochs={} seed={} metric={} rounds={} keep={} pruning={}/{}/{} strategy={}\n",
                       spec.trials, spec.epochs, spec.seed, spec.metric.name, spec.rounds, spec.keep, type == "asha",
                       min_epochs, reduction, "random_search");
  }
  return fmt::format("trials={} epochs={} seed={} metric={} rounds={} keep={} lag={} sampler={} pruning={}\n",
                     spec.trials, spec.epochs, spec.seed, spec.metric.name, spec.rounds, spec.keep, spec.lag,
                     spec.sampler_yaml, spec.pruner ? spec.pruner_yaml : std::string("-"));
}

// `sampler:` (default random) and `pruning:` (default: none at all), each a plugin type with
// its keys; it starts the fingerprint (every scalar key is read by then). `strategy:` was the
// one key before samplers and pruners were kinds: `strategy: random_search` still means
// `sampler: random`; any other strategy is refused.
void read_sampler_and_pruner(SearchSpec& spec, const YAML::Node& root, const ModelFile& doc, const Registry& registry) {
  const Source& src = *doc.impl().source;
  YAML::Node sampler = lookup(root, "sampler");
  const YAML::Node strategy = lookup(root, "strategy");
  if (strategy.IsDefined()) {
    if (sampler.IsDefined()) {
      fail_at(src, "strategy", strategy, "`strategy:` and `sampler:` both given; keep `sampler:`");
    }
    if (!strategy.IsScalar() || strategy.Scalar() != "random_search") {
      fail_at(src, "strategy", strategy,
              fmt::format("`strategy:` is replaced by `sampler:` (random, tpe, ...) and `pruning:` (none, asha, "
                          "median, ...); only `strategy: random_search` is still read, as `sampler: random` "
                          "(README.md, \"Hyperparameter search\"), found {}",
                          describe(strategy)));
    }
    sampler.reset(YAML::Node("random"));
  }
  // The file format's default, as `metric: val_accuracy` is: the book's random search.
  if (!sampler.IsDefined()) sampler.reset(YAML::Node("random"));
  spec.sampler = registry.create<Sampler>(unbound(sampler, doc.impl().source, "sampler", &registry));
  spec.sampler_yaml = flow(sampler);
  spec.sampler_type = sampler.IsScalar() ? sampler.Scalar() : sampler["type"].Scalar();
  const YAML::Node pruning = lookup(root, "pruning");
  if (pruning.IsDefined()) {
    spec.pruner = registry.create<Pruner>(unbound(pruning, doc.impl().source, "pruning", &registry));
    spec.pruner_yaml = flow(pruning);
    spec.pruner_type = pruning.IsScalar() ? pruning.Scalar() : pruning["type"].Scalar();
  }
  spec.fingerprint = fingerprint_head(spec, sampler, pruning);  // the space and base model follow
  // Only when given, so that a search without the key keeps the fingerprint it had.
  if (spec.repeats > 1) spec.fingerprint.insert(spec.fingerprint.size() - 1, fmt::format(" repeats={}", spec.repeats));
  if (!spec.objectives.empty()) {
    std::vector<std::string> words;
    for (const Objective& o : spec.objectives) {
      words.push_back(o.metric.name + (o.metric.direction == Metric::Direction::Minimize ? "-" : "+"));
    }
    spec.fingerprint.insert(spec.fingerprint.size() - 1, " objectives=" + join(words, ","));
  }
}

// A node that is a distribution: a one-key mapping whose key names one.
bool is_distribution(const YAML::Node& n) {
  if (!n.IsMap() || n.size() != 1 || !n.begin()->first.IsScalar()) return false;
  const std::string k = n.begin()->first.Scalar();
  return k == "uniform" || k == "log_uniform" || k == "int_uniform" || k == "choice";
}

// The distributions inside a choice's alternative, with where they sit in it. A one-key mapping
// of a list whose key is a misspelt distribution ({log_unifrom: [..]}) is refused here: taken
// as a value, it would reach the model as a mapping and be refused there in other words.
void find_distributions(const Source& src, const std::string& where, const YAML::Node& n, std::vector<std::string>& key,
                        std::vector<std::pair<std::vector<std::string>, YAML::Node>>& found) {
  static const std::vector<std::string> kinds{"uniform", "log_uniform", "int_uniform", "choice"};
  if (is_distribution(n)) {
    found.emplace_back(key, n);
  } else if (n.IsMap()) {
    if (n.size() == 1 && n.begin()->second.IsSequence()) {
      const std::string k = n.begin()->first.Scalar();
      if (const std::string hint = did_you_mean(k, kinds); !hint.empty()) {
        fail_at(src, where, n.begin()->first, fmt::format("unknown distribution '{}'{}", k, hint));
      }
    }
    for (const auto& kv : n) {
      key.push_back(kv.first.Scalar());
      find_distributions(src, where, kv.second, key, found);
      key.pop_back();
    }
  } else if (n.IsSequence()) {
    for (std::size_t i = 0; i < n.size(); ++i) {
      key.push_back(std::to_string(i));
      find_distributions(src, where, n[i], key, found);
      key.pop_back();
    }
  }
}

// How a child's path names an alternative: its `type` when every alternative has a distinct
// one made of name characters, its index otherwise.
std::vector<std::string> alternative_labels(const YAML::Node& alternatives) {
  std::vector<std::string> labels;
  for (const auto& a : alternatives) {
    const YAML::Node type = a.IsMap() ? a["type"] : YAML::Node();
    std::string t = type.IsDefined() && type.IsScalar() ? type.Scalar() : "";
    const bool name = !t.empty() && std::all_of(t.begin(), t.end(), [](char ch) {
      return std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-';
    });
    if (!name || std::find(labels.begin(), labels.end(), t) != labels.end()) {
      labels.clear();
      for (std::size_t i = 0; i < alternatives.size(); ++i) labels.push_back(std::to_string(i));
      return labels;
    }
    labels.push_back(t);
  }
  return labels;
}

// Adds the dimension written at `path` and, for a choice, the distributions inside each of its
// alternatives (depth first: a parent precedes its children).
// `mark`: the node messages point at (a top-level path's key, a leaf's distribution).
void add_dimensions(SearchSpec& spec, const Source& src, const std::string& path, const YAML::Node& node,
                    const YAML::Node& mark, Condition where, std::vector<YAML::Node>& written) {
  constexpr std::size_t kMaxDimensions = 1000;
  if (spec.space.dims.size() >= kMaxDimensions) {
    fail_at(src, "space." + path, node, fmt::format("more than {} dimensions in the space", kMaxDimensions));
  }
  const int index = static_cast<int>(spec.space.dims.size());
  spec.space.dims.push_back(parse_dimension(src, path, node));
  spec.tree.conditions.push_back(std::move(where));
  written.push_back(mark);
  if (spec.space.dims.back().type != Dimension::Type::Choice) return;
  const YAML::Node alternatives = node.begin()->second;
  const std::vector<std::string> labels = alternative_labels(alternatives);
  const std::size_t first_child = spec.space.dims.size();
  for (std::size_t i = 0; i < alternatives.size(); ++i) {
    std::vector<std::string> key;
    std::vector<std::pair<std::vector<std::string>, YAML::Node>> found;
    find_distributions(src, fmt::format("space.{}@{}", path, labels[i]), alternatives[i], key, found);
    for (auto& [at, leaf] : found) {
      std::string child = path + "@" + labels[i];
      for (const auto& k : at) child += "." + k;
      add_dimensions(spec, src, child, leaf, leaf, Condition{index, static_cast<int>(i), at, {}}, written);
    }
  }
  if (spec.space.dims.size() > first_child) spec.tree.conditions[static_cast<std::size_t>(index)].branches = labels;
}

// The point that probes dimension `d` at `value`: its ancestors choose the alternatives that
// hold it; every other dimension is left out (a top-level one keeps the base model's value, a
// distribution beside it in an alternative is removed, so the type's default stands in), so
// that a refusal is this leaf's and no other's.
std::vector<Value> probe_point(const SearchSpec& spec, std::size_t d, const Value& value) {
  std::vector<Value> v(spec.space.dims.size(), inactive_value());
  v[d] = value;
  for (int c = static_cast<int>(d); spec.tree.conditions[static_cast<std::size_t>(c)].parent >= 0;) {
    const Condition& k = spec.tree.conditions[static_cast<std::size_t>(c)];
    const auto& parent = spec.space.dims[static_cast<std::size_t>(k.parent)];
    v[static_cast<std::size_t>(k.parent)] = {parent.choices[static_cast<std::size_t>(k.choice)],
                                             static_cast<double>(k.choice)};
    c = k.parent;
  }
  return v;
}

// `enqueue: [{PATH: VALUE, ...}, ...]`: each point's values as given, checked against the space
// (a path it does not have, a value outside a range or not among the choices, a leaf the point
// makes active without a value or gives where it is inactive), naming the place.
void read_enqueue(SearchSpec& spec, const Source& src, const YAML::Node& list) {
  if (!list.IsSequence()) {
    fail_at(src, "enqueue", list,
            fmt::format("expected a list of points, e.g. [{{optimizer.lr: 0.01}}], found {}", describe(list)));
  }
  if (static_cast<std::int64_t>(list.size()) > spec.trials) {
    fail_at(src, "enqueue", list,
            fmt::format("{} points for {} trials a round; the points are the first round's first trials", list.size(),
                        spec.trials));
  }
  std::vector<std::string> paths;
  for (const auto& d : spec.space.dims) paths.push_back(d.path);
  for (std::size_t p = 0; p < list.size(); ++p) {
    const std::string where = fmt::format("enqueue.{}", p);
    const YAML::Node point = list[p];
    if (!point.IsMap()) fail_at(src, where, point, fmt::format("expected a mapping of space paths to values, found {}", describe(point)));
    std::vector<Value> values(spec.space.dims.size(), inactive_value());
    for (const auto& kv : point) {
      const std::string path = kv.first.Scalar();
      const auto it = std::find(paths.begin(), paths.end(), path);
      if (it == paths.end()) {
        fail_at(src, where + "." + path, kv.first,
                fmt::format("'{}' is not a path of the space{}; its paths are: {}", path, did_you_mean(path, paths),
                            join(paths)));
      }
      const auto d = static_cast<std::size_t>(it - paths.begin());
      const Dimension& dim = spec.space.dims[d];
      const auto& branches = spec.tree.conditions[d].branches;
      if (dim.type == Dimension::Type::Choice) {
        const std::string text = one_line(kv.second);
        std::size_t i = 0;
        while (i < dim.choices.size() && dim.choices[i] != text && (i >= branches.size() || branches[i] != text)) ++i;
        if (i == dim.choices.size()) {
          fail_at(src, where + "." + path, kv.second,
                  fmt::format("'{}' is not one of its choices: {}", text, join(branches.empty() ? dim.choices : branches)));
        }
        values[d] = {dim.choices[i], static_cast<double>(i)};
      } else {
        const auto v = number(kv.second);
        if (!v) fail_at(src, where + "." + path, kv.second, fmt::format("expected a number, found {}", describe(kv.second)));
        if (*v < dim.lo || *v > dim.hi || (dim.type == Dimension::Type::IntUniform && std::floor(*v) != *v)) {
          fail_at(src, where + "." + path, kv.second,
                  fmt::format("{} is outside the space's {} [{}, {}]", *v,
                              dim.type == Dimension::Type::IntUniform ? "integers" : "range", dim.lo, dim.hi));
        }
        values[d] = {kv.second.Scalar(), *v};
      }
    }
    const std::vector<bool> active = active_dimensions(spec.tree, values);
    for (std::size_t d = 0; d < values.size(); ++d) {
      if (active[d] && is_inactive(values[d])) {
        fail_at(src, where, point, fmt::format("no value for {}, which this point makes active", paths[d]));
      }
      if (!active[d] && !is_inactive(values[d])) {
        fail_at(src, where + "." + paths[d], point,
                fmt::format("{} is inactive in this point (its branch is not chosen); leave it out", paths[d]));
      }
    }
    spec.enqueued.push_back(std::move(values));
  }
}

// `objectives: [{metric: val_accuracy}, {measure: parameters, direction: minimize}, ...]`: the
// first is a metric (it is the per-epoch score pruners judge) and replaces `metric:`.
void read_objectives(SearchSpec& spec, const Source& src, const YAML::Node& root) {
  const YAML::Node list = lookup(root, "objectives");
  if (!list.IsDefined()) return;
  const std::string example = "[{metric: val_accuracy}, {measure: parameters, direction: minimize}]";
  if (const YAML::Node metric = lookup(root, "metric"); metric.IsDefined()) {
    fail_at(src, "metric", metric,
            "a search with `objectives:` names its first metric there; remove `metric:` (the first objective "
            "ranks and prunes the trials)");
  }
  if (!list.IsSequence() || list.size() < 2 || list.size() > 8) {
    fail_at(src, "objectives", list,
            fmt::format("expected a list of 2 to 8 objectives, e.g. {}, found {}", example,
                        list.IsSequence() ? fmt::format("{} of them", list.size()) : describe(list)));
  }
  const std::vector<std::string> measures{"parameters", "seconds_per_epoch"};
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node item = list[i];
    const std::string where = fmt::format("objectives.{}", i);
    if (!item.IsMap()) {
      fail_at(src, where, item, fmt::format("expected {{metric: NAME}} or {{measure: NAME}}, found {}", describe(item)));
    }
    for (const auto& kv : item) {
      const std::string key = kv.first.Scalar();
      if (key != "metric" && key != "measure" && key != "direction") {
        fail_at(src, where + "." + key, kv.first,
                fmt::format("unknown key{}; an objective has metric or measure, and direction",
                            did_you_mean(key, {"metric", "measure", "direction"})));
      }
    }
    const YAML::Node metric = lookup(item, "metric"), measure = lookup(item, "measure"),
                     direction = lookup(item, "direction");
    if (metric.IsDefined() == measure.IsDefined()) {
      fail_at(src, where, item, "give exactly one of `metric:` (a val_ measure) and `measure:` (parameters, "
                                "seconds_per_epoch)");
    }
    Objective o;
    const YAML::Node& named = metric.IsDefined() ? metric : measure;
    const std::string name_key = where + (metric.IsDefined() ? ".metric" : ".measure");
    if (!named.IsScalar() || named.Scalar().empty()) {
      fail_at(src, name_key, named, fmt::format("expected a name, found {}", describe(named)));
    }
    o.metric.name = named.Scalar();
    o.metric.where = location(src, name_key, named);
    if (metric.IsDefined()) {
      if (!o.metric.name.starts_with("val_")) {
        fail_at(src, name_key, named,
                fmt::format("'{}': trials are ranked on the validation split; name a val_ measure (val_loss, "
                            "val_accuracy)",
                            o.metric.name));
      }
      // As `metric:`: the loss is minimized; a metric's direction is its plugin's (resolve()).
      o.metric.direction = o.metric.name == "val_loss" ? Metric::Direction::Minimize : Metric::Direction::Maximize;
    } else {
      if (i == 0) {
        fail_at(src, name_key, named,
                "the first objective must be a metric (`metric: val_accuracy`): it is the score after each epoch "
                "that pruners judge; list measures after it");
      }
      if (std::find(measures.begin(), measures.end(), o.metric.name) == measures.end()) {
        fail_at(src, name_key, named,
                fmt::format("'{}' is not a measure{}; the measures are {}", printable(o.metric.name, 40),
                            did_you_mean(o.metric.name, measures), join(measures)));
      }
      o.source = o.metric.name == "parameters" ? Objective::Source::Parameters : Objective::Source::SecondsPerEpoch;
      o.metric.direction = Metric::Direction::Minimize;
    }
    if (direction.IsDefined()) {
      if (!direction.IsScalar() || (direction.Scalar() != "maximize" && direction.Scalar() != "minimize")) {
        fail_at(src, where + ".direction", direction,
                fmt::format("expected maximize or minimize, found {}", describe(direction)));
      }
      o.metric.direction = direction.Scalar() == "maximize" ? Metric::Direction::Maximize : Metric::Direction::Minimize;
      o.direction_given = true;
    }
    for (const Objective& earlier : spec.objectives) {
      if (earlier.metric.name == o.metric.name) {
        fail_at(src, name_key, named, fmt::format("'{}' is already an objective", o.metric.name));
      }
    }
    spec.objectives.push_back(o);
  }
  spec.metric = spec.objectives[0].metric;
}

// `warm_start: DIR`: the finished trials (ok or pruned) of the search in DIR whose values are
// points of this space; its metric must be this search's.
void read_warm_start(SearchSpec& spec, const Source& src, const YAML::Node& node, const fs::path& base_dir) {
  if (!node.IsScalar() || node.Scalar().empty()) {
    fail_at(src, "warm_start", node, fmt::format("expected the folder of an earlier search, found {}", describe(node)));
  }
  const fs::path dir = node.Scalar().starts_with("/") ? fs::path(node.Scalar()) : base_dir / node.Scalar();
  const fs::path file = dir / "journal.jsonl";
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    fail_at(src, "warm_start", node, fmt::format("{} has no journal.jsonl: not a search folder", dir.string()));
  }
  const JournalContents journal = read_journal(read_whole_file(file, "the warm start's journal", 1u << 30));
  const std::string metric = journal.header.is_object() ? journal.header.value("metric", "") : "";
  if (metric != spec.metric.name) {
    fail_at(src, "warm_start", node,
            fmt::format("{} ranked its trials by {}, this search by {}: its scores cannot be this search's",
                        file.string(), metric.empty() ? "an unknown metric" : metric, spec.metric.name));
  }
  const std::vector<std::string> names = spec.objective_names();
  if (!names.empty()) {
    std::vector<std::string> theirs;
    if (journal.header.is_object() && journal.header.contains("objectives") && journal.header["objectives"].is_array()) {
      for (const auto& o : journal.header["objectives"]) {
        theirs.push_back(o.is_object() && o.contains("name") && o["name"].is_string() ? o["name"].get<std::string>()
                                                                                        : "?");
      }
    }
    if (theirs != names) {
      fail_at(src, "warm_start", node,
              fmt::format("{} has the objectives {}, this search {}: its trials' places on the front cannot be this "
                          "search's",
                          file.string(), theirs.empty() ? std::string("[] (one metric)") : "[" + join(theirs) + "]",
                          "[" + join(names) + "]"));
    }
  }
  spec.warm_from = dir;
  for (const auto& j : journal.trials) {
    ++spec.warm_read;
    const std::string status = j.value("status", "");
    if ((status != "ok" && status != "pruned") || !j.contains("values") || !j["values"].is_object() ||
        !j.contains("scores") || !j["scores"].is_array() || j["scores"].empty()) {
      continue;
    }
    Trial t;
    t.status = status == "ok" ? TrialStatus::Ok : TrialStatus::Pruned;
    std::size_t used = 0;
    bool readable = true;
    for (const auto& d : spec.space.dims) {
      const auto v = j["values"].find(d.path);
      if (v == j["values"].end()) {
        t.values.push_back(inactive_value());
        continue;
      }
      ++used;
      if (!v->is_object() || !v->contains("text") || !(*v)["text"].is_string() || !v->contains("number") ||
          !(*v)["number"].is_number()) {
        readable = false;
        break;
      }
      t.values.push_back({(*v)["text"].get<std::string>(), (*v)["number"].get<double>()});
    }
    for (const auto& s : j["scores"]) {
      if (!s.is_number()) readable = false;
      if (readable) t.scores.push_back(s.get<double>());
    }
    // Its values must be a point of this space and name nothing else.
    if (!readable || used != j["values"].size() || !outside_tree(t.values, spec.space, spec.tree).empty()) continue;
    std::vector<double> objectives;
    if (!names.empty()) {
      objectives = objectives_from_json(j, names);
      if (t.status == TrialStatus::Ok && objectives.empty()) continue;  // a completed trial off every front
    }
    spec.warm.push_back(std::move(t));
    spec.warm_objectives.push_back(std::move(objectives));
  }
  for (std::size_t i = 0; i < spec.warm.size(); ++i) {
    spec.warm[i].id = static_cast<std::int64_t>(i) - static_cast<std::int64_t>(spec.warm.size());
  }
}

}  // namespace

SearchSpec load_search_spec(const fs::path& file, const Registry& registry) {
  const std::string text = read_text(file);
  SearchSpec spec;
  spec.file = file;
  spec.name = file.stem().string();
  // The whole file goes through the model reader once for its YAML checks (syntax, duplicate
  // keys, alias bombs), then the search's own keys are read here.
  ModelFile doc = ModelFile::parse(text, file.string());
  const YAML::Node root = doc.impl().root;
  const Source& src = *doc.impl().source;

  YAML::Node scalars(YAML::NodeType::Map);
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (std::find(kKeys.begin(), kKeys.end(), key) == kKeys.end()) {
      throw InputError(fmt::format("{}: unknown key '{}'{}; a search file has: {}", location(src, key, kv.first), key,
                                   did_you_mean(key, kKeys), join(kKeys)));
    }
    if (find_key(scalar_schema(), key)) scalars[key] = kv.second;
  }
  Config cfg = bind(unbound(scalars, doc.impl().source, "", &registry), scalar_schema(), "", {}, "the search");
  spec.trials = cfg.get<std::int64_t>("trials");
  spec.epochs = cfg.get<std::int64_t>("epochs");
  spec.seed = static_cast<std::uint64_t>(cfg.get<std::int64_t>("seed"));
  spec.workers = cfg.get<std::int64_t>("workers");
  spec.metric.name = cfg.get<std::string>("metric");
  if (!spec.metric.name.starts_with("val_")) {
    fail_at(*doc.impl().source, "metric", lookup(root, "metric"),
            fmt::format("'{}': trials are ranked on the validation split; name a val_ measure (val_loss, "
                        "val_accuracy)",
                        spec.metric.name));
  }
  spec.metric.where = cfg.where("metric");
  // The loss is minimized; a metric's direction is its plugin's, set when the base model is built.
  spec.metric.direction = spec.metric.name == "val_loss" ? Metric::Direction::Minimize : Metric::Direction::Maximize;
  spec.lag = cfg.get<std::int64_t>("lag");
  spec.repeats = cfg.get<std::int64_t>("repeats");
  read_objectives(spec, *doc.impl().source, root);

  YAML::Node rounds = lookup(root, "rounds");
  if (rounds.IsScalar()) {
    YAML::Node m(YAML::NodeType::Map);
    m["count"] = rounds;
    rounds.reset(m);
  }
  Config rc = bind(
      unbound(rounds.IsDefined() ? rounds : YAML::Node(YAML::NodeType::Map), doc.impl().source, "rounds", &registry),
      rounds_schema(), "", {}, "rounds");
  spec.rounds = rc.get<std::int64_t>("count");
  spec.keep = rc.get<double>("keep");

  read_sampler_and_pruner(spec, root, doc, registry);

  // The base model: a path relative to the search file, or a mapping written inline.
  YAML::Node model = lookup(root, "model");
  if (!model.IsDefined()) fail_at(src, "", root, "the search has no `model:` (a model file's path, or a model inline)");
  if (model.IsScalar()) {
    spec.base = ModelFile::load(model.Scalar().starts_with("/") ? fs::path(model.Scalar())
                                                                : file.parent_path() / model.Scalar());
  } else {
    spec.base = ModelFile::parse_section(text, file.string(), "model");
  }
  Model probe = build_model(spec.base, registry);
  if (probe.data.validation_split <= 0) {
    fail_at(src, "model", model,
            "the base model has no validation split: set data.validation_split (e.g. 0.2); trials are scored on "
            "validation data, never on the test set");
  }

  YAML::Node space = lookup(root, "space");
  if (!space.IsMap() || space.size() == 0) {
    fail_at(src, "space", space.IsDefined() ? space : root,
            "the search needs a `space:` mapping of model paths to distributions, e.g. optimizer.lr: "
            "{log_uniform: [1.0e-6, 1.0e-2]}");
  }
  std::vector<YAML::Node> written;  // each dimension's node, for messages (file:line of the leaf)
  for (const auto& kv : space) {
    const std::string path = kv.first.Scalar();
    if (path.starts_with("data.") || path == "data" || path == "train.epochs" || path == "train.seed") {
      fail_at(src, "space." + path, kv.first,
              "the search sets train.epochs and train.seed itself and loads the data once; it cannot vary this path");
    }
    add_dimensions(spec, src, path, kv.second, kv.first, Condition{}, written);
  }
  // Every candidate edge must fit the model before any training starts: an unknown path, a
  // value its type refuses (a learning rate <= 0, a choice of the wrong type) fails here, in
  // every branch of a conditional space, naming the leaf's line.
  for (std::size_t d = 0; d < spec.space.dims.size(); ++d) {
    const Dimension& dim = spec.space.dims[d];
    std::vector<Value> candidates;
    if (dim.type == Dimension::Type::Choice) {
      for (std::size_t i = 0; i < dim.choices.size(); ++i) candidates.push_back({dim.choices[i], static_cast<double>(i)});
    } else {
      candidates = {{probe_text(dim, dim.lo), dim.lo}, {probe_text(dim, dim.hi), dim.hi}};
    }
    for (const auto& c : candidates) {
      const std::vector<std::string> set = space_overrides(spec.space, spec.tree, probe_point(spec, d, c));
      try {
        build_model(spec.base.with(set), registry);
      } catch (const InputError& e) {
        std::string why = e.what();
        for (const auto& o : set) {
          if (const std::string flag = "--set " + o + ": "; why.starts_with(flag)) why = why.substr(flag.size());
        }
        throw InputError(fmt::format("{}: space.{}: the value {} does not fit the model: {}",
                                     location(src, "space." + dim.path, written[d]), dim.path, c.text, why));
      }
    }
  }

  for (const auto& d : spec.space.dims) {
    spec.fingerprint += fmt::format("{} {} {} {} {}\n", d.path, type_code(d.type), d.lo, d.hi, join(d.choices));
  }
  spec.fingerprint += spec.base.text();
  // After the base model's text, where parse_fingerprint never reads, and only when given, so
  // that a search without them keeps the fingerprint it had: a resume with other points, or a
  // warm start that has grown since, is a changed search.
  if (const YAML::Node enqueue = lookup(root, "enqueue"); enqueue.IsDefined()) {
    read_enqueue(spec, src, enqueue);
    spec.fingerprint += "\n# enqueue: " + one_line(enqueue);
  }
  if (const YAML::Node warm = lookup(root, "warm_start"); warm.IsDefined()) {
    read_warm_start(spec, src, warm, file.parent_path());
    spec.fingerprint += fmt::format("\n# warm_start: {} ({} of {} trials)", spec.warm_from.string(), spec.warm.size(),
                                    spec.warm_read);
  }
  return spec;
}

FingerprintSummary parse_fingerprint(const std::string& fingerprint) {
  FingerprintSummary f;
  std::istringstream lines(fingerprint);
  std::string line;
  std::getline(lines, line);
  std::istringstream words(line);
  for (std::string word; words >> word;) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = word.substr(0, eq), v = word.substr(eq + 1);
    try {
      if (k == "trials") f.trials = std::stoll(v);
      if (k == "rounds") f.rounds = std::stoll(v);
      if (k == "epochs") f.epochs = std::stoll(v);
    } catch (const std::exception&) {
    }
    if (k == "metric") f.metric = v;
  }
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    Dimension d;
    int code = -1;
    if (!(in >> d.path >> code >> d.lo >> d.hi) || code < 0 || code > 3) break;  // the base model's text begins
    d.type = kTypeCodes[code];
    if (d.type == Dimension::Type::Choice) {
      // Each choice is flow YAML (`{type: sgd, lr: 0.01}` holds commas), joined with ", ": the
      // line's rest is read back as one flow sequence.
      std::string rest;
      std::getline(in, rest);
      try {
        const YAML::Node seq = YAML::Load("[" + rest + "]");
        for (const auto& c : seq) d.choices.push_back(flow(c));
      } catch (const YAML::Exception&) {
        break;
      }
    }
    f.dims.push_back(std::move(d));
  }
  return f;
}

}  // namespace lamina::detail

namespace lamina::detail {

void Metric::resolve(const Model& model) {
  const std::string measure = name.substr(4);
  if (measure == "loss") {
    direction = Direction::Minimize;
    return;
  }
  std::vector<std::string> reported{"val_loss"};
  for (const ModelMetric& m : model.metrics) {
    if (m.name == measure) {
      direction = m.higher_is_better ? Direction::Maximize : Direction::Minimize;
      return;
    }
    reported.push_back("val_" + m.name);
  }
  throw InputError(fmt::format("{}: metric '{}' is not a measure of the model, which reports {} (list it under the "
                               "model's `metrics:`)",
                               where, name, fmt::join(reported, ", ")));
}

std::vector<std::string> SearchSpec::objective_names() const {
  std::vector<std::string> names;
  for (const Objective& o : objectives) names.push_back(o.metric.name);
  return names;
}

void resolve_objectives(SearchSpec& spec, const Model& model) {
  for (Objective& o : spec.objectives) {
    if (o.source != Objective::Source::Metric) continue;
    const Metric::Direction asked = o.metric.direction;
    o.metric.resolve(model);
    if (o.direction_given && asked != o.metric.direction) {
      throw InputError(fmt::format("{}: objective '{}' is {} by its metric plugin; remove `direction:` or write {}",
                                   o.metric.where, o.metric.name,
                                   o.metric.direction == Metric::Direction::Maximize ? "maximized" : "minimized",
                                   o.metric.direction == Metric::Direction::Maximize ? "maximize" : "minimize"));
    }
  }
  if (spec.objectives.empty()) {
    spec.metric.resolve(model);
  } else {
    spec.metric = spec.objectives[0].metric;
  }
}

std::vector<double> objective_scores(const SearchSpec& spec, const std::vector<double>& shown) {
  std::vector<double> scores;
  for (std::size_t i = 0; i < shown.size() && i < spec.objectives.size(); ++i) {
    scores.push_back(spec.objectives[i].metric.score(shown[i]));
  }
  return scores;
}

std::vector<std::string> branch_names(const std::vector<Dimension>& dims, std::size_t d) {
  if (dims[d].type != Dimension::Type::Choice) return {};
  const std::string prefix = dims[d].path + "@";
  if (std::none_of(dims.begin(), dims.end(), [&](const Dimension& x) { return x.path.starts_with(prefix); })) return {};
  YAML::Node alternatives(YAML::NodeType::Sequence);
  try {
    for (const auto& c : dims[d].choices) alternatives.push_back(YAML::Load(c));
  } catch (const YAML::Exception&) {
    return {};
  }
  return alternative_labels(alternatives);
}

}  // namespace lamina::detail
