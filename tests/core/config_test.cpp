// Config and the model builder's validation: every error names file:line:column, the key
// path, what was expected and what was found. Uses in-test types registered directly.
#define BOOST_TEST_MODULE config
#include <boost/test/unit_test.hpp>
#include <lamina/data_source.hpp>
#include <lamina/layer.hpp>
#include <lamina/loss.hpp>
#include "runtime/model.hpp"
#include "runtime/model_spec.hpp"
#include <lamina/optimizer.hpp>
#include "runtime/registry.hpp"

#include "test_support.hpp"

using namespace lamina;

namespace {

struct Seen {
  std::int64_t units = 0;
  double rate = 0;
  bool flag = false;
  std::string mode;
};
Seen seen;

class Probe final : public Layer {
 public:
  explicit Probe(const Config& c) {
    seen.units = c.get<std::int64_t>("units");
    seen.rate = c.get<double>("rate");
    seen.flag = c.get<bool>("flag");
    seen.mode = c.get<std::string>("mode");
    if (seen.units == 13) c.fail("units", "is unlucky");
  }
  Shape build(const Shape& in, BuildContext&) override { return in; }
  void forward(const Tensor&, Tensor&, Context&) override {}
  void backward(const Tensor&, Tensor&, Context&) override {}
};
// A type taking keys of its own (Key::others), as the python layer does.
std::string seen_others;
class Open final : public Layer {
 public:
  explicit Open(const Config& c) { seen_others = c.others_json(); }
  Shape build(const Shape& in, BuildContext&) override { return in; }
  void forward(const Tensor&, Tensor&, Context&) override {}
  void backward(const Tensor&, Tensor&, Context&) override {}
};
class NoLoss final : public Loss {
 public:
  float forward(const Tensor&, const Targets&) override { return 0; }
  void backward(Tensor&) override {}
};
class NoOpt final : public Optimizer {
 public:
  void step(std::span<Param* const>) override {}
};
// A data source that records where its file resolved to.
std::filesystem::path seen_file;
class Files final : public DataSource {
 public:
  explicit Files(const Config& c) { seen_file = c.file("dir"); }
  SampleSet load(Split) override { throw InputError("not read here"); }
  float default_scale() override { return 1.0f; }
};

Registry& registry() {
  static Registry* r = [] {
    auto* r = new Registry();
    r->add<Layer>(
        "probe", "records its options",
        {Key::integer("units", "outputs").required().at_least(1).at_most(1000),
         Key::number("rate", "a ratio").def(0.5).at_least(0).below(1), Key::boolean("flag", "a switch").def(false),
         Key::string("mode", "a choice").def("fast").one_of({"fast", "careful"})},
        [](const Config& c) { return std::make_unique<Probe>(c); });
    r->add<Layer>("open", "takes any keys",
                  {Key::string("module", "a name").required(), Key::others("the class's own keys")},
                  [](const Config& c) { return std::make_unique<Open>(c); });
    r->add<Loss>("no_loss", "zero", {}, [](const Config&) { return std::make_unique<NoLoss>(); });
    r->add<Optimizer>("no_opt", "nothing", {}, [](const Config&) { return std::make_unique<NoOpt>(); });
    // The default source's name, standing in for the plugin.
    r->add<DataSource>("fashion_mnist", "files", {Key::path("dir", "a folder").def("/data/default"),
                                                  Key::integer("shards", "a number").def(1).at_least(1)},
                       [](const Config& c) { return std::make_unique<Files>(c); });
    return r;
  }();
  return *r;
}

const std::string kTail = "loss: {type: no_loss}\noptimizer: {type: no_opt}\n";

std::string error_of(const std::string& yaml, std::vector<std::string> overrides = {}) {
  try {
    build_model(ModelFile::parse(yaml, "model.yaml", overrides), registry());
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_values_and_fills_defaults) {
  Model m = build_model(ModelFile::parse("layers:\n  - {type: probe, units: 7, flag: true}\n" + kTail, "model.yaml"),
                        registry());
  BOOST_TEST(seen.units == 7);
  BOOST_TEST(seen.rate == 0.5);
  BOOST_TEST(seen.flag);
  BOOST_TEST(seen.mode == "fast");
  // The resolved model writes every default out.
  BOOST_TEST(m.resolved_yaml.find("rate: 0.5") != std::string::npos);
  BOOST_TEST(m.resolved_yaml.find("epochs: 10") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_type_names_file_line_column_key_expected_and_found) {
  const std::string e = error_of("layers:\n  - type: probe\n    units: abc\n" + kTail);
  BOOST_TEST(e == "model.yaml:3:12: layers.0.units: expected an integer in [1, 1000], found 'abc'");
}

BOOST_AUTO_TEST_CASE(out_of_range_values_are_errors) {
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 0}\n" + kTail) ==
             "model.yaml:2:26: layers.0.units: expected an integer in [1, 1000], found '0'");
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 1e12}\n" + kTail).find("found '1e12'") != std::string::npos);
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3, rate: 1}\n" + kTail) ==
             "model.yaml:2:35: layers.0.rate: expected a number in [0, 1), found '1'");
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3, rate: .nan}\n" + kTail).find("expected a number") !=
             std::string::npos);
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3, flag: maybe}\n" + kTail) ==
             "model.yaml:2:35: layers.0.flag: expected true or false, found 'maybe'");
}

BOOST_AUTO_TEST_CASE(missing_required_key) {
  BOOST_TEST(error_of("layers:\n  - {type: probe}\n" + kTail) ==
             "model.yaml:2:5: layers.0: layer 'probe' needs key 'units' (an integer in [1, 1000]): outputs");
}

BOOST_AUTO_TEST_CASE(unknown_key_suggests_the_close_one) {
  BOOST_TEST(error_of("layers:\n  - {type: probe, unit: 3}\n" + kTail) ==
             "model.yaml:2:19: layers.0: unknown key 'unit' for layer 'probe' (did you mean 'units'?); its keys "
             "are: units, rate, flag, mode, regularizer, name, inputs, repeat");
}

BOOST_AUTO_TEST_CASE(unknown_choice_suggests_the_close_one) {
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3, mode: carefull}\n" + kTail) ==
             "model.yaml:2:35: layers.0.mode: expected one of: fast, careful, found 'carefull' (did you mean "
             "'careful'?)");
}

BOOST_AUTO_TEST_CASE(unknown_type_and_a_type_of_another_kind) {
  BOOST_TEST(error_of("layers:\n  - {type: prob, units: 3}\n" + kTail)
                 .find("model.yaml:2:12: layers.0.type: unknown layer type 'prob' (did you mean 'probe'?)") == 0u);
  BOOST_TEST(error_of("layers:\n  - {type: no_loss}\n" + kTail) ==
             "model.yaml:2:12: layers.0.type: 'no_loss' is a loss, not a layer; put it under `loss:`");
}

BOOST_AUTO_TEST_CASE(a_plugin_failure_in_the_factory_names_the_key) {
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 13}\n" + kTail) ==
             "model.yaml:2:26: layers.0.units: is unlucky");
}

BOOST_AUTO_TEST_CASE(sections_are_checked) {
  BOOST_TEST(error_of("layer:\n  - {type: probe, units: 3}\n" + kTail) ==
             "model.yaml:1:1: unknown section 'layer' (did you mean 'layers'?); a model file has: name, data, "
             "init_from, blocks, layers, loss, metrics, regularizer, optimizer, train, layers_expanded");
  BOOST_TEST(error_of("layers: []\n" + kTail) ==
             "model.yaml:1:9: layers: expected a non-empty list of layers, found an empty list");
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3}\noptimizer: {type: no_opt}\n") ==
             "model.yaml:1:1: the model has no `loss:` section");
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3}\n" + kTail + "train: {epochs: 0}\n") ==
             "model.yaml:5:17: train.epochs: expected an integer in [1, 1000000], found '0'");
}

BOOST_AUTO_TEST_CASE(yaml_syntax_errors_and_duplicate_keys) {
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3\n" + kTail).find("model.yaml:") == 0u);
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3\n" + kTail).find("YAML syntax error") != std::string::npos);
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3, units: 4}\n" + kTail) ==
             "model.yaml:2:29: layers.0: duplicate key 'units' (first at line 2)");
  BOOST_TEST(error_of("- just\n- a list\n") ==
             "model.yaml: a model file is a mapping with data, layers, loss, optimizer and train; found a list");
}

BOOST_AUTO_TEST_CASE(overrides_replace_values_and_errors_name_the_flag) {
  build_model(ModelFile::parse("layers:\n  - {type: probe, units: 3}\n" + kTail, "model.yaml",
                               std::vector<std::string>{"layers.0.units=50", "layers.0.mode=careful"}),
              registry());
  BOOST_TEST(seen.units == 50);
  BOOST_TEST(seen.mode == "careful");
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3}\n" + kTail, {"layers.0.units=abc"}) ==
             "--set layers.0.units=abc: layers.0.units: expected an integer in [1, 1000], found 'abc'");
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3}\n" + kTail, {"layers.4.units=5"}) ==
             "--set layers.4.units=5: layers is a list of 1 items; '4' is not an index into it");
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3}\n" + kTail, {"trian.epochs=5"}) ==
             "--set trian.epochs=5: unknown section 'trian' (did you mean 'train'?); a model file has: name, data, "
             "init_from, blocks, layers, loss, metrics, regularizer, optimizer, train, layers_expanded");
  BOOST_TEST(error_of("layers:\n  - {type: probe, units: 3}\n" + kTail, {"no-equals-sign"}) ==
             "--set no-equals-sign: expected KEY=VALUE, e.g. --set layers.0.units=50");
}

BOOST_AUTO_TEST_CASE(alias_bombs_are_refused) {
  std::string yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    yaml += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) yaml += std::string(i ? ", *" : "*") + static_cast<char>(c - 1);
    yaml += "]\n";
  }
  BOOST_TEST(error_of(yaml).find("more than 200000 nodes") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_data_section_is_the_sources_keys_and_the_shared_ones) {
  const std::string layers = "layers:\n  - {type: probe, units: 3}\n" + kTail;
  // Paths resolve against the model file's folder and are recorded absolute.
  Model m = build_model(ModelFile::parse("data: {source: fashion-mnist, dir: imgs, validation_split: 0.25}\n" + layers,
                                         "/models/m.yaml"),
                        registry());
  BOOST_TEST(seen_file == std::filesystem::path("/models/imgs"));
  BOOST_TEST(m.data.source == "fashion_mnist");  // spelled with '-', found as the type
  BOOST_TEST(m.data.validation_split == 0.25);
  BOOST_TEST(m.resolved_yaml.find("dir: /models/imgs") != std::string::npos, m.resolved_yaml);
  BOOST_TEST(m.resolved_yaml.find("source: fashion_mnist") != std::string::npos, m.resolved_yaml);
  BOOST_TEST((m.types.front().kind == Kind::DataSource));
  // Each side validates its own keys; unknown keys list both.
  BOOST_TEST(error_of("data: {shards: 0}\n" + layers) == "model.yaml:1:16: data.shards: expected an integer >= 1, found '0'");
  BOOST_TEST(error_of("data: {test_limit: -1}\n" + layers) ==
             "model.yaml:1:20: data.test_limit: expected an integer >= 0, found '-1'");
  BOOST_TEST(error_of("data: {shard: 2}\n" + layers) ==
             "model.yaml:1:8: data: unknown key 'shard' for data_source 'fashion_mnist' (did you mean 'shards'?); its "
             "keys are: dir, shards, source, scale, train_limit, test_limit, validation_split, classes, augment");
  BOOST_TEST(error_of("data: {source: mnist}\n" + layers) ==
             "model.yaml:1:16: data.source: unknown data_source type 'mnist'; known: fashion_mnist (`lamina plugins` "
             "lists them with their plugins)");
  // A run's own model.yaml, written by an older Lamina, may hold keys of other sources.
  const ModelFile old = ModelFile::parse("data: {source: fashion_mnist, dir: /d, header: auto, label_column: 0}\n" + layers,
                                         "run/model.yaml");
  BOOST_TEST(error_of("data: {source: fashion_mnist, dir: /d, header: auto}\n" + layers).find("unknown key 'header'") !=
             std::string::npos);
  BOOST_CHECK_NO_THROW(build_model(old, registry(), true));
}

// The first step binds every key and constructs nothing: a layer whose constructor refuses its
// keys (units 13) is only refused by the second; the spec keeps names, inputs and file:line,
// and the resolved model written from it is what build_model gives the run folder.
BOOST_AUTO_TEST_CASE(the_model_is_read_in_two_steps) {
  const std::string yaml =
      "layers:\n  - {type: probe, units: 13, name: a}\n  - {type: probe, units: 2, inputs: [a], mode: careful}\n" +
      kTail;
  const ModelFile file = ModelFile::parse(yaml, "two.yaml");
  seen = {};
  const ModelSpec spec = read_model_spec(file, registry());
  BOOST_TEST(seen.units == 0);  // no layer made yet
  BOOST_TEST_REQUIRE(spec.layers.size() == 2u);
  BOOST_TEST(spec.layers[0].name == "a");
  BOOST_TEST(spec.layers[0].where == "two.yaml:2:5");
  BOOST_TEST(spec.layers[1].inputs == std::vector<int>{0});
  BOOST_TEST(spec.layers[1].inputs_written);
  BOOST_TEST(spec.layers[1].component.bound.get<std::string>("mode") == "careful");
  BOOST_TEST(spec.layers[1].component.bound.get<double>("rate") == 0.5);  // the default, filled in
  BOOST_TEST(spec.types.size() == 4u);  // source, probe, loss, optimizer: each once
  const std::string resolved = resolved_yaml(spec);
  BOOST_TEST(resolved.find("inputs:") != std::string::npos);
  BOOST_TEST(resolved.find("rate: 0.5") != std::string::npos);
  try {
    build_model(spec, registry());
    BOOST_FAIL("units 13 was accepted");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()).find("is unlucky") != std::string::npos);
  }
  BOOST_TEST(seen.units == 13);
  const std::string good = "layers:\n  - {type: probe, units: 3, name: a}\n  - {type: probe, units: 2, inputs: [a]}\n" +
                           kTail;
  const Model m = build_model(ModelFile::parse(good, "two.yaml"), registry());
  BOOST_TEST(m.resolved_yaml == resolved_yaml(read_model_spec(ModelFile::parse(good, "two.yaml"), registry())));
  BOOST_TEST(m.network.size() == 2u);
  BOOST_TEST(m.layer_names[0] == "a");
}

BOOST_AUTO_TEST_CASE(a_type_with_others_takes_any_keys_as_typed_json_and_the_run_keeps_them) {
  Model m = build_model(
      ModelFile::parse("layers:\n  - {type: open, module: m, name: first, beta: 1.5, n: 3, on: true, none: ~,"
                       " word: fast, quoted: '42', list: [1, a, 2.5], map: {k: [x]}, esc: \"a\\\"b\\\\c\"}\n" +
                           kTail,
                       "model.yaml"),
      registry());
  // The host's keys (type, name) and the schema's (module) are not the class's.
  BOOST_TEST(seen_others == R"({"beta": 1.5, "n": 3, "on": true, "none": null, "word": "fast", "quoted": "42", )"
                            R"("list": [1, "a", 2.5], "map": {"k": ["x"]}, "esc": "a\"b\\c"})");
  BOOST_TEST(m.resolved_yaml.find("beta: 1.5") != std::string::npos, m.resolved_yaml);
  // A quoted scalar stays a string when the run's copy is read again.
  BOOST_TEST(m.resolved_yaml.find("quoted: !<tag:yaml.org,2002:str> 42") != std::string::npos, m.resolved_yaml);
  build_model(ModelFile::parse(m.resolved_yaml, "run/model.yaml"), registry());
  BOOST_TEST(seen_others.find(R"("quoted": "42")") != std::string::npos, seen_others);
  // Required keys are still required, and the schema's keys still checked.
  BOOST_TEST(error_of("layers:\n  - {type: open, beta: 2}\n" + kTail).find("needs key 'module'") != std::string::npos);
  BOOST_TEST(error_of("layers:\n  - {type: open, module: [1]}\n" + kTail).find("expected a string") !=
             std::string::npos);
}
