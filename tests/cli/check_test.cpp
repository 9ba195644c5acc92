// `lamina check` on every built-in type (each must pass) and on a deliberately wrong plugin
// (it must fail).
#define BOOST_TEST_MODULE cli_check
#include <boost/test/unit_test.hpp>
#include "runtime/registry.hpp"

#include "test_support.hpp"

using namespace lamina;
using namespace lamina::test;

BOOST_AUTO_TEST_CASE(every_builtin_type_passes) {
  int checked = 0;
  for (const auto* t : builtin_registry().list()) {
    if (t->kind == Kind::Search) continue;
    std::string sets;
    for (const auto& k : t->keys) {
      if (k.is_required()) sets += " --set " + k.name() + "=3";  // affine's units
    }
    const auto r = run_lamina("check " + t->name + sets);
    BOOST_TEST(r.status == 0, t->name << ":\n" << r.output);
    BOOST_TEST(r.output.find("checks passed") != std::string::npos, r.output);
    ++checked;
  }
  BOOST_TEST(checked >= 20);
}

BOOST_AUTO_TEST_CASE(options_reach_the_checks) {
  const auto r = run_lamina("check dropout --set ratio=0.3 --set variant=scale_at_eval --input-shape 3,4 --batch 6");
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(r.output.find("output (6, 3, 4)") != std::string::npos, r.output);
  const auto bn = run_lamina("check batchnorm");
  BOOST_TEST(bn.output.find("train refused it: ") != std::string::npos, bn.output);
}

BOOST_AUTO_TEST_CASE(a_wrong_backward_fails) {
  const auto r = run_lamina("check wrong_triple --plugin-dir " + (kFixturePluginDir / "wrong_backward").string());
  BOOST_TEST(r.status == 1, r.output);
  BOOST_TEST(r.output.find("FAIL gradients (train)") != std::string::npos, r.output);
  BOOST_TEST(r.output.find("checks failed") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(optimizers_are_judged_by_their_own_step_and_by_resume) {
  const std::string dir = " --plugin-dir " + (kFixturePluginDir / "optimizers_under_test").string();
  // A valid sign-based optimizer at lr 1e-4 descends slowly: it passes (it used to fail an
  // absolute threshold that SGD at the same lr passed).
  auto r = run_lamina("check sign_sgd" + dir);
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(r.output.find("PASS descends on a quadratic") != std::string::npos, r.output);
  r = run_lamina("check sgd --set lr=1e-4");
  BOOST_TEST(r.status == 0, r.output);
  // Each wrong one fails exactly its check.
  const std::pair<const char*, const char*> wrong[] = {{"uphill", "FAIL descends on a quadratic"},
                                                       {"forgetful", "FAIL save/load state resumes"},
                                                       {"lax", "FAIL refuses unknown state"},
                                                       {"negative_schedule", "FAIL factors positive and finite"},
                                                       {"forgetful_counter", "FAIL save/load state resumes"}};
  for (const auto& [type, line] : wrong) {
    r = run_lamina(std::string("check ") + type + dir);
    BOOST_TEST(r.status == 1, type << ": " << r.output);
    BOOST_TEST(r.output.find(line) != std::string::npos, type << ": " << r.output);
    BOOST_TEST(r.output.find("1 of 3 checks failed") != std::string::npos, type << ": " << r.output);
  }
}

BOOST_AUTO_TEST_CASE(bad_requests_exit_2_with_one_line) {
  for (const char* args : {"check nope", "check relu --set slope=0.1", "check affine", "check random_search",
                           "check affine --set units=3 --input-shape 0", "check affine --set units=3 --batch x"}) {
    const auto r = run_lamina(args);
    BOOST_TEST(r.status == 2, args << ": " << r.output);
    BOOST_TEST(count_lines(r.output) == 1u, args << ": " << r.output);
  }
}
