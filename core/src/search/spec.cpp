#include "search/spec.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <cmath>

#include "atomic_file.hpp"
#include "config_impl.hpp"
#include "lamina/error.hpp"
#include "model_impl.hpp"
#include "suggest.hpp"

namespace fs = std::filesystem;

namespace lamina::detail {
namespace {

const std::vector<std::string> kKeys{"model",  "space",  "trials",  "epochs",  "seed",     "workers",
                                     "metric", "rounds", "sampler", "pruning", "strategy", "lag"};

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
    for (const auto& c : args) {
      YAML::Emitter e;
      e << YAML::Flow << c;
      d.choices.emplace_back(e.c_str());
    }
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
  for (const auto& kv : space) {
    const std::string path = kv.first.Scalar();
    if (path.starts_with("data.") || path == "data" || path == "train.epochs" || path == "train.seed") {
      fail_at(src, "space." + path, kv.first,
              "the search sets train.epochs and train.seed itself and loads the data once; it cannot vary this path");
    }
    Dimension d = parse_dimension(src, path, kv.second);
    // Every candidate edge must fit the model before any training starts: an unknown path, a
    // value its type refuses (a learning rate <= 0, a choice of the wrong type) fails here.
    std::vector<std::string> candidates = d.choices;
    if (d.type != Dimension::Type::Choice) candidates = {probe_text(d, d.lo), probe_text(d, d.hi)};
    for (const auto& c : candidates) {
      try {
        const std::vector<std::string> set{path + "=" + c};
        build_model(spec.base.with(set), registry);
      } catch (const InputError& e) {
        std::string why = e.what();
        const std::string flag = "--set " + path + "=" + c + ": ";
        if (why.starts_with(flag)) why = why.substr(flag.size());
        throw InputError(fmt::format("{}: space.{}: the value {} does not fit the model: {}",
                                     location(src, "space." + path, kv.first), path, c, why));
      }
    }
    spec.space.dims.push_back(std::move(d));
  }

  for (const auto& d : spec.space.dims) {
    spec.fingerprint += fmt::format("{} {} {} {} {}\n", d.path, type_code(d.type), d.lo, d.hi, join(d.choices));
  }
  spec.fingerprint += spec.base.text();
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

}  // namespace lamina::detail
