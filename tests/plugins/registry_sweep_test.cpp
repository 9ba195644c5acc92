// Every registered type, built from its defaults (required keys get a small valid value), must
// pass the generic checks of its kind. A new plugin is covered here the day it is added.
#define BOOST_TEST_MODULE registry_sweep
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <lamina/data_source.hpp>
#include <lamina/gradcheck.hpp>
#include <lamina/initializer.hpp>
#include <lamina/optimizer.hpp>
#include <lamina/regularizer.hpp>

#include "test_support.hpp"

using namespace lamina;
using lamina::test::builtin_registry;

namespace {

// A small value inside the key's range, as YAML.
std::string sample(const Key& k) {
  switch (k.type()) {
    case KeyType::Int:
      return std::to_string(std::max<long long>(3, k.lo() ? static_cast<long long>(*k.lo()) + 1 : 3));
    case KeyType::Float:
      if (k.lo() && k.hi()) return std::to_string((*k.lo() + *k.hi()) / 2);
      return std::to_string(k.lo() ? *k.lo() + 0.5 : 0.5);
    case KeyType::Bool:
      return "true";
    case KeyType::String:
      return k.choices().empty() ? "x" : k.choices().front();
    case KeyType::Component:
    case KeyType::Path:
      return "x";
    case KeyType::Sizes:
      return "2";
    case KeyType::Numbers: {
      std::string list = "[";
      list += std::to_string(k.lo() ? *k.lo() + 0.5 : 0.5);
      list += "]";
      return list;
    }
    case KeyType::Strings:
      return "x";
    case KeyType::Metric:
      return "train_loss";
    case KeyType::Others:
      break;
  }
  return "x";
}

std::string spec_of(const TypeInfo& t) {
  // A type whose required keys name code, not values: a real class of the suite's.
  if (t.name == "python") {
    return "{type: python, module: lamina_test_layers, class: Scale, path: " LAMINA_TEST_SOURCE_DIR
           "/tests/fixtures/python_layers}";
  }
  if (t.name == "reshape") return "{type: reshape, shape: [-1]}";  // any sample, as one vector
  std::string s = "{type: " + t.name;
  for (const auto& k : t.keys) {
    if (k.is_required()) s += ", " + k.name() + ": " + sample(k);
  }
  return s + "}";
}

std::vector<std::string> types_of(Kind kind) { return builtin_registry().names(kind); }

}  // namespace

BOOST_AUTO_TEST_CASE(the_builtin_plugins_provide_every_kind) {
  for (Kind k : {Kind::Layer, Kind::Loss, Kind::Regularizer, Kind::Optimizer, Kind::Initializer, Kind::Schedule,
                 Kind::Callback, Kind::DataSource, Kind::Merge}) {
    BOOST_TEST(!types_of(k).empty(), kind_name(k));
  }
  for (const auto* t : builtin_registry().list()) {
    BOOST_TEST(!t->summary.empty(), t->name);
    for (const auto& k : t->keys) BOOST_TEST(!k.doc().empty(), t->name << "." << k.name());
  }
}

// Each layer on a flat sample (5), a sequence (3, 6) and an image (2, 6, 6): it must take at
// least one, and refuse the others (if it does) with an InputError when built, never fail later.
// (6: the required integer keys are 3, and 3 attention heads must divide the width, patches of
// 3 the image.)
BOOST_AUTO_TEST_CASE(every_layer_has_correct_gradients_and_handles_odd_batches) {
  for (const std::string& type : types_of(Kind::Layer)) {
    int accepted = 0;
    for (const Shape& shape : {Shape{5}, Shape{3, 6}, Shape{2, 6, 6}}) {
      BOOST_TEST_CONTEXT(type << " on " << shape.str()) {
        const TypeInfo& info = *builtin_registry().find(Kind::Layer, type);
        auto layer = builtin_registry().create<Layer>(Config::parse(spec_of(info)));
        std::vector<GradCheckResult> results;
        try {
          // A layer of token ids takes whole numbers below its vocabulary (3 here), not floats.
          results = type == "embedding" ? check_layer_gradients_on_ids(*layer, shape, 3, {})
                                        : check_layer_gradients(*layer, shape, {});
        } catch (const InputError&) {
          continue;  // refused at build time
        }
        ++accepted;
        for (const auto& r : results) BOOST_TEST(r.ok, r.tensor << " max relative error " << r.max_error);
        // Batch of one, and eval mode twice on the same input gives the same output.
        Rng rng(1);
        Context eval{Mode::Eval, &rng, true};
        std::vector<std::int64_t> dims{1};
        for (int i = 0; i < shape.rank(); ++i) dims.push_back(shape[i]);
        Tensor x(Shape::from(dims)), y1, y2;
        for (std::int64_t i = 0; i < x.size(); ++i) {
          x[i] = type == "embedding" ? static_cast<float>(i % 3) : 0.1f * static_cast<float>(i % 7) - 0.2f;
        }
        layer->forward(x, y1, eval);
        layer->forward(x, y2, eval);
        BOOST_TEST(y1.rows() == 1);
        BOOST_TEST(std::equal(y1.data(), y1.data() + y1.size(), y2.data()));
        for (float v : y1.values()) BOOST_TEST(std::isfinite(v));
      }
    }
    BOOST_TEST(accepted >= 1, type << " accepts no flat, sequence or image input");
  }
}

// Each merge on two inputs of (5), of (3, 6) and of (2, 5, 5), as a graph would give it: it must
// take at least one and refuse the others (if it does) with an InputError when built.
BOOST_AUTO_TEST_CASE(every_merge_has_correct_gradients_on_flat_sequence_and_image_inputs) {
  for (const std::string& type : types_of(Kind::Merge)) {
    int accepted = 0;
    for (const Shape& shape : {Shape{5}, Shape{3, 6}, Shape{2, 5, 5}}) {
      BOOST_TEST_CONTEXT(type << " on two of " << shape.str()) {
        auto merge = builtin_registry().create<Merge>(Config::parse(spec_of(*builtin_registry().find(Kind::Merge, type))));
        const Shape inputs[] = {shape, shape};
        std::vector<GradCheckResult> results;
        try {
          results = check_merge_gradients(*merge, inputs, {});
        } catch (const InputError&) {
          continue;  // refused at build time
        }
        ++accepted;
        for (const auto& r : results) BOOST_TEST(r.ok, r.tensor << " max relative error " << r.max_error);
      }
    }
    BOOST_TEST(accepted >= 1, type << " accepts no flat, sequence or image inputs");
  }
}

BOOST_AUTO_TEST_CASE(every_loss_has_correct_gradients) {
  for (const std::string& type : types_of(Kind::Loss)) {
    BOOST_TEST_CONTEXT(type) {
      auto loss = builtin_registry().create<Loss>(Config::parse(spec_of(*builtin_registry().find(Kind::Loss, type))));
      int kinds = 0;
      for (TargetKind kind : kTargetKinds) {
        if (!loss->accepts(kind)) continue;
        ++kinds;
        const auto r = check_loss_gradients(*loss, kind, 4, {});
        BOOST_TEST(r.ok, type << ", " << target_kind_name(kind) << " targets: max relative error " << r.max_error);
      }
      BOOST_TEST(kinds > 0, type << " takes no kind of target");
    }
  }
}

BOOST_AUTO_TEST_CASE(every_optimizer_descends_on_a_quadratic) {
  for (const std::string& type : types_of(Kind::Optimizer)) {
    BOOST_TEST_CONTEXT(type) {
      auto opt =
          builtin_registry().create<Optimizer>(Config::parse(spec_of(*builtin_registry().find(Kind::Optimizer, type))));
      // f(w) = 0.5 * sum_j (j+1) w_j^2 from w = 1: every optimizer with its default settings must
      // lower f within 300 steps.
      Param p{"layers.0.W", Tensor(Shape{4}), Tensor(Shape{4}), true};
      p.value.fill(1.0f);
      auto f = [&] {
        double s = 0;
        for (int j = 0; j < 4; ++j) s += 0.5 * (j + 1) * p.value[j] * p.value[j];
        return s;
      };
      const double f0 = f();
      Param* list[] = {&p};
      for (int step = 0; step < 300; ++step) {
        for (int j = 0; j < 4; ++j) p.grad[j] = static_cast<float>(j + 1) * p.value[j];
        opt->step(list);
      }
      BOOST_TEST(f() < 0.9 * f0, type << " went from " << f0 << " to " << f());
    }
  }
}

BOOST_AUTO_TEST_CASE(every_initializer_fills_finite_varied_values) {
  for (const std::string& type : types_of(Kind::Initializer)) {
    BOOST_TEST_CONTEXT(type) {
      auto init = builtin_registry().create<Initializer>(
          Config::parse(spec_of(*builtin_registry().find(Kind::Initializer, type))));
      Tensor w(Shape{50, 20});
      Rng rng(4);
      init->fill(w, 50, 20, rng);
      for (float v : w.values()) BOOST_TEST_REQUIRE(std::isfinite(v));
      BOOST_TEST(*std::max_element(w.data(), w.data() + w.size()) > *std::min_element(w.data(), w.data() + w.size()));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_regularizer_has_a_matching_gradient) {
  for (const std::string& type : types_of(Kind::Regularizer)) {
    BOOST_TEST_CONTEXT(type) {
      // A strong lambda so the penalty is far above float rounding.
      auto reg = builtin_registry().create<Regularizer>(Config::parse(
          builtin_registry().find(Kind::Regularizer, type)->keys.empty() ? type : "{type: " + type + ", lambda: 0.5}"));
      const auto r = check_regularizer_gradients(*reg, Shape{4, 3}, {});
      BOOST_TEST(r.ok, type << " max relative error " << r.max_error);
    }
  }
}

// A data source's constructor reads its keys, never its files (lamina/data_source.hpp): models
// are built by commands that read no data: files named "x", which do not exist, must not stop it.
BOOST_AUTO_TEST_CASE(every_data_source_builds_without_reading_files) {
  for (const std::string& type : types_of(Kind::DataSource)) {
    BOOST_TEST_CONTEXT(type) {
      const TypeInfo& info = *builtin_registry().find(Kind::DataSource, type);
      BOOST_CHECK_NO_THROW(builtin_registry().create<DataSource>(Config::parse(spec_of(info))));
    }
  }
}
