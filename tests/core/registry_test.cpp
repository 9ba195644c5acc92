#define BOOST_TEST_MODULE registry
#include <boost/test/unit_test.hpp>
#include <lamina/data_source.hpp>
#include <lamina/error.hpp>
#include <lamina/initializer.hpp>
#include "runtime/registry.hpp"

using namespace lamina;

namespace {
class Zero final : public Initializer {
 public:
  void fill(Tensor& w, std::int64_t, std::int64_t, Rng&) const override { w.zero(); }
};
auto make_zero = [](const Config&) { return std::make_unique<Zero>(); };
}  // namespace


BOOST_AUTO_TEST_CASE(adds_finds_and_lists_by_kind) {
  Registry r;
  r.add<Initializer>("zeros", "all zero", {}, make_zero);
  r.add<Initializer>("ones_ish", "also zero", {Key::number("v", "a value").def(1.0)}, make_zero);
  const TypeInfo* t = r.find(Kind::Initializer, "zeros");
  BOOST_REQUIRE(t != nullptr);
  BOOST_TEST(t->summary == "all zero");
  BOOST_TEST(t->provider.file.empty());
  BOOST_TEST(r.find(Kind::Layer, "zeros") == nullptr);
  BOOST_TEST(r.names(Kind::Initializer).size() == 2u);
  BOOST_TEST(r.find_all("zeros").size() == 1u);
  BOOST_TEST(r.list().size() == 2u);
}

BOOST_AUTO_TEST_CASE(names_must_be_lower_snake_case) {
  Registry r;
  BOOST_CHECK_THROW(r.add<Initializer>("Zeros", "", {}, make_zero), InputError);
  BOOST_CHECK_THROW(r.add<Initializer>("zero-init", "", {}, make_zero), InputError);
  BOOST_CHECK_THROW(r.add<Initializer>("", "", {}, make_zero), InputError);
  BOOST_CHECK_NO_THROW(r.add<Initializer>("zero_init2", "", {}, make_zero));
}

BOOST_AUTO_TEST_CASE(duplicate_names_within_a_kind_are_refused_across_kinds_allowed) {
  Registry r;
  Registry::Staging first(r, {"first", "1.0", "/plugins/first.so"});
  first.add<Initializer>("zeros", "", {}, make_zero);
  first.commit();
  Registry::Staging second(r, {"second", "1.0", "/plugins/second.so"});
  try {
    second.add<Initializer>("zeros", "", {}, make_zero);
    BOOST_FAIL("a duplicate was accepted");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()) ==
               "initializer type 'zeros' is registered twice: by plugin 'first' (/plugins/first.so) and by plugin "
               "'second' (/plugins/second.so)");
  }
}

BOOST_AUTO_TEST_CASE(a_plugin_adding_the_same_name_twice_is_refused) {
  Registry r;
  Registry::Staging s(r, {"twice", "1.0", "/plugins/twice.so"});
  s.add<Initializer>("zeros", "", {}, make_zero);
  BOOST_CHECK_THROW(s.add<Initializer>("zeros", "", {}, make_zero), InputError);
}

// A kind value this host does not have (5 was the removed Search; a plugin whose headers are
// not this ABI's, or a forged value) is refused naming the plugin.
namespace {
struct Forged final : Initializer {
  static constexpr Kind kind = static_cast<Kind>(5);
  void fill(Tensor&, std::int64_t, std::int64_t, Rng&) const override {}
};
}  // namespace
BOOST_AUTO_TEST_CASE(an_unknown_kind_is_refused) {
  Registry r;
  Registry::Staging s(r, {"forger", "1.0", "/plugins/forger.so"});
  try {
    s.add<Forged>("strategy", "", {}, [](const Config&) { return std::make_unique<Forged>(); });
    BOOST_FAIL("accepted kind 5");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()) ==
               "plugin 'forger' (/plugins/forger.so): type 'strategy' is registered as kind 5, which this Lamina "
               "does not have");
  }
}

BOOST_AUTO_TEST_CASE(staged_types_reach_the_registry_only_on_commit) {
  Registry r;
  {
    Registry::Staging s(r, {"dropped", "1.0", "/plugins/dropped.so"});
    s.add<Initializer>("zeros", "", {}, make_zero);
    BOOST_TEST(r.find(Kind::Initializer, "zeros") == nullptr);
  }  // dropped without commit: a registration function that threw
  BOOST_TEST(r.list().empty());
  Registry::Staging s(r, {"kept", "1.0", "/plugins/kept.so"});
  s.add<Initializer>("zeros", "", {}, make_zero);
  s.commit();
  BOOST_REQUIRE(r.find(Kind::Initializer, "zeros") != nullptr);
  BOOST_TEST(r.find(Kind::Initializer, "zeros")->provider.plugin == "kept");
}

namespace {
class NoData final : public DataSource {
 public:
  SampleSet load(Split) override { return {}; }
  float default_scale() override { return 1.0f; }
};
}  // namespace

BOOST_AUTO_TEST_CASE(the_key_type_is_reserved_and_a_data_source_may_not_declare_the_shared_keys) {
  Registry r;
  BOOST_CHECK_THROW(r.add<Initializer>("zeros", "", {Key::string("type", "clash")}, make_zero), InputError);
  auto make_none = [](const Config&) { return std::make_unique<NoData>(); };
  try {
    r.add<DataSource>("files", "", {Key::path("dir", "a folder"), Key::number("scale", "clash")}, make_none);
    BOOST_FAIL("a data source declared `scale`");
  } catch (const InputError& e) {
    BOOST_TEST(std::string(e.what()) == "the core: data_source 'files' declares the reserved key 'scale'");
  }
  // Other kinds may use these names.
  BOOST_CHECK_NO_THROW(r.add<Initializer>("scaled", "", {Key::number("scale", "fine")}, make_zero));
}

BOOST_AUTO_TEST_CASE(a_type_written_with_dashes_is_found) {
  Registry r;
  r.add<Initializer>("all_zero", "", {}, make_zero);
  const Config bound = r.bind(Kind::Initializer, Config::parse("all-zero"));
  BOOST_TEST(bound.type() == "all_zero");
}

BOOST_AUTO_TEST_CASE(key_expectations_read_well) {
  BOOST_TEST(Key::integer("n", "").at_least(1).expectation() == "an integer >= 1");
  BOOST_TEST(Key::number("p", "").at_least(0).below(1).expectation() == "a number in [0, 1)");
  BOOST_TEST(Key::number("lr", "").above(0).expectation() == "a number > 0");
  BOOST_TEST(Key::string("v", "").one_of({"a", "b"}).expectation() == "one of: a, b");
  BOOST_TEST(Key::component("init", Kind::Initializer, "").expectation() ==
             "an initializer type name or a mapping with `type`");
  BOOST_TEST(*Key::number("lr", "").def(0.01).default_text() == "0.01");
  BOOST_TEST(Key::integer("n", "").required().is_required());
}

BOOST_AUTO_TEST_CASE(sizes_keys_take_an_integer_a_pair_or_a_word) {
  Registry r;
  std::vector<std::int64_t> kernel, padding;
  std::string padding_word;
  r.add<Initializer>("sized", "",
                     {Key::sizes("kernel", "a kernel").at_least(1).at_most(9).def(3),
                      Key::sizes("padding", "a padding").at_least(0).def(0).one_of({"same"})},
                     [&](const Config& c) {
                       kernel = c.sizes("kernel");
                       padding = c.sizes("padding");
                       padding_word = c.get<std::string>("padding");
                       return std::make_unique<Zero>();
                     });
  r.create<Initializer>(Config::parse("{type: sized, kernel: [3, 5], padding: same}"));
  BOOST_TEST((kernel == std::vector<std::int64_t>{3, 5}));
  BOOST_TEST(padding.empty());
  BOOST_TEST(padding_word == "same");
  r.create<Initializer>(Config::parse("{type: sized, padding: 2}"));
  BOOST_TEST((kernel == std::vector<std::int64_t>{3}));
  BOOST_TEST((padding == std::vector<std::int64_t>{2}));
  const std::string expected =
      "expected an integer in [1, 9] or a list [h, w] of them";
  for (const char* bad : {"{type: sized, kernel: [3, 0]}", "{type: sized, kernel: [1, 2, 3]}",
                          "{type: sized, kernel: same}", "{type: sized, kernel: {h: 1}}", "{type: sized, kernel: 10}"}) {
    try {
      r.create<Initializer>(Config::parse(bad));
      BOOST_FAIL(bad);
    } catch (const InputError& e) {
      BOOST_TEST(std::string(e.what()).find(expected) != std::string::npos, e.what());
    }
  }
  BOOST_TEST(Key::sizes("padding", "").at_least(0).one_of({"same"}).expectation() ==
             "an integer >= 0 or a list [h, w] of them, or same");
}
