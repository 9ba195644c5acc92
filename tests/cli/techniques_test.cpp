// The seed's techniques from the command line: swapping regularizers and optimizers is an
// edit of the YAML (or a --set), never a rebuild; drop_last, per-step logging, and plots.
#define BOOST_TEST_MODULE cli_techniques
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace lamina::test;

namespace {

const std::string kSlice =
    " --set data.train_limit=1000 --set data.test_limit=500 --epochs 2 --no-progress --threads 1";

CommandResult train(const fs::path& out, const std::string& extra) {
  return run_lamina("train " + (kModelsDir / "mlp.yaml").string() + kSlice + extra + " --out " + out.string());
}

// "accuracy 0.812000": how eval prints a test accuracy.
std::string fmt_accuracy(double a) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "accuracy %.6f", a);
  return buf;
}

}  // namespace

BOOST_AUTO_TEST_CASE(swapping_regularizer_and_optimizer_types_changes_the_run) {
  TempDir dir;
  const std::vector<std::pair<std::string, std::string>> runs{
      {"l2", " --set 'regularizer={type: l2, lambda: 0.01}'"},
      {"l1", " --set 'regularizer={type: l2, lambda: 0.01}' --set regularizer.type=l1"},
      {"adam", " --set 'regularizer={type: l2, lambda: 0.01}' --set 'optimizer={type: adam}'"},
      {"adamw", " --set 'optimizer={type: adamw, weight_decay: 0.01}'"},
      {"momentum", " --set optimizer.type=momentum"},
  };
  std::vector<std::string> metrics;
  for (const auto& [name, flags] : runs) {
    const auto r = train(dir / name, flags);
    BOOST_TEST_REQUIRE(r.status == 0, name << ": " << r.output);
    metrics.push_back(read_file(dir / name / "metrics.csv"));
  }
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    for (std::size_t j = i + 1; j < metrics.size(); ++j) BOOST_TEST(metrics[i] != metrics[j], i << " vs " << j);
  }
  // The penalty is reported apart from the data loss.
  const auto j = nlohmann::json::parse(read_file(dir / "l2" / "metrics.json"));
  BOOST_TEST(j["epochs"][0]["penalty"].get<double>() > 0.0);
  BOOST_TEST(read_file(dir / "l1" / "model.yaml").find("type: l1") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_layer_can_opt_out_of_the_model_regularizer) {
  TempDir dir;
  const auto all = train(dir / "all", " --set 'regularizer={type: l2, lambda: 0.1}'");
  const auto some = train(dir / "some", " --set 'regularizer={type: l2, lambda: 0.1}' --set layers.4.regularizer=none");
  BOOST_TEST_REQUIRE(all.status + some.status == 0, all.output << some.output);
  BOOST_TEST(read_file(dir / "all" / "metrics.csv") != read_file(dir / "some" / "metrics.csv"));
}

BOOST_AUTO_TEST_CASE(batchnorm_and_dropout_train_and_a_batch_of_one_is_refused_unless_dropped) {
  TempDir dir;
  const std::string bn =
      " --set 'layers.1={type: batchnorm}' --set 'layers.3={type: dropout, ratio: 0.2}' --set data.validation_split=0";
  // 1001 samples in batches of 100 leave a last batch of one.
  const auto bad = train(dir / "bad", bn + " --set data.train_limit=1001");
  BOOST_TEST(bad.status == 2, bad.output);
  BOOST_TEST(bad.output.find("batchnorm needs at least 2 samples per batch in training") != std::string::npos,
             bad.output);
  const auto good = train(dir / "good", bn + " --set data.train_limit=1001 --set train.drop_last=true");
  BOOST_TEST(good.status == 0, good.output);
  const auto j = nlohmann::json::parse(read_file(dir / "good" / "metrics.json"));
  BOOST_TEST(j["epochs"][1]["test"]["accuracy"].get<double>() > 0.6);
}

BOOST_AUTO_TEST_CASE(a_schedule_is_an_edit_of_the_optimizer_mapping) {
  TempDir dir;
  const auto plain = train(dir / "plain", "");
  const auto constant = train(dir / "constant", " --set optimizer.schedule=constant");
  const auto cosine = train(dir / "cosine", " --set 'optimizer.schedule={type: cosine, warmup_epochs: 1}'");
  // Any optimizer takes any schedule, with no code of its own.
  const auto adam = train(dir / "adam", " --set optimizer.type=adam --set optimizer.lr=0.001"
                                        " --set optimizer.schedule.type=step --set optimizer.schedule.every=1");
  BOOST_TEST_REQUIRE(plain.status + constant.status + cosine.status + adam.status == 0,
                     plain.output << constant.output << cosine.output << adam.output);
  // A constant factor of 1 is the optimizer alone, to the bit; cosine changes the weights.
  BOOST_TEST(read_file(dir / "constant" / "metrics.csv") == read_file(dir / "plain" / "metrics.csv"));
  BOOST_TEST(read_file(dir / "cosine" / "model.safetensors") != read_file(dir / "plain" / "model.safetensors"));
  const auto accuracy = nlohmann::json::parse(read_file(dir / "cosine" / "metrics.json"))["epochs"][1]["test"]["accuracy"];
  BOOST_TEST(accuracy.get<double>() > 0.6);
  BOOST_TEST(read_file(dir / "adam" / "model.yaml").find("type: step") != std::string::npos);
  // A schedule key out of range: exit 2 naming the flag, no run folder.
  const auto bad = train(dir / "bad", " --set 'optimizer.schedule={type: step, factor: -0.5}'");
  BOOST_TEST(bad.status == 2, bad.output);
  BOOST_TEST(bad.output.find("optimizer.schedule.factor") != std::string::npos, bad.output);
  BOOST_TEST(!fs::exists(dir / "bad"));
  // A schedule that needs a validation split, without one: exit 2, said plainly.
  const auto blind = train(dir / "blind", " --set data.validation_split=0 --set optimizer.schedule=reduce_on_plateau");
  BOOST_TEST(blind.status == 2, blind.output);
  // Refused when the model is loaded, naming the key, before any run folder exists.
  BOOST_TEST(blind.output.find("optimizer.schedule.metric watches val_loss, but the model has no validation split") !=
                 std::string::npos,
             blind.output);
  BOOST_TEST(!fs::exists(dir / "blind"));
}

BOOST_AUTO_TEST_CASE(early_stopping_ends_the_run_and_keep_best_keeps_the_best_epoch) {
  // 300 samples, a validation split, 40 epochs at a high rate: the validation loss turns up early.
  TempDir dir;
  const std::string model = (kModelsDir / "overfit.yaml").string();
  const auto r = run_lamina("train " + model +
                            " --set data.validation_split=0.3 --set data.test_limit=1000 --set optimizer.lr=0.1"
                            " --epochs 40 --threads 1 --no-progress --set 'train.callbacks=[{type: early_stopping,"
                            " patience: 3}, {type: keep_best}]' --out " +
                            (dir / "a").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const auto run = nlohmann::json::parse(read_file(dir / "a" / "run.json"));
  BOOST_TEST_REQUIRE(run.contains("stopped_early"), run.dump());
  const auto stopped = run["stopped_early"]["epoch"].get<int>();
  BOOST_TEST(stopped < 40);
  BOOST_TEST(run["stopped_early"]["reason"].get<std::string>().find(
                 "early_stopping: val_loss has not improved for 3 epochs") != std::string::npos,
             run.dump());
  BOOST_TEST(r.output.find("stopped after epoch " + std::to_string(stopped) + ": early_stopping") !=
                 std::string::npos,
             r.output);
  const auto metrics = nlohmann::json::parse(read_file(dir / "a" / "metrics.json"))["epochs"];
  BOOST_TEST(metrics.size() == static_cast<std::size_t>(stopped));
  // The best epoch by validation loss, and its test accuracy: what eval --best reproduces.
  std::size_t best = 0;
  for (std::size_t e = 1; e < metrics.size(); ++e) {
    if (static_cast<float>(metrics[e]["validation"]["loss"].get<double>()) <
        static_cast<float>(metrics[best]["validation"]["loss"].get<double>()))
      best = e;
  }
  BOOST_TEST(best + 3 == metrics.size() - 1);  // patience 3: stopped 3 epochs after the best
  const auto eval = run_lamina("eval " + (dir / "a").string() + " --best --threads 1");
  BOOST_TEST_REQUIRE(eval.status == 0, eval.output);
  BOOST_TEST(eval.output.find(fmt_accuracy(metrics[best]["test"]["accuracy"].get<double>())) != std::string::npos,
             eval.output << " best epoch " << best + 1);
  const auto last = run_lamina("eval " + (dir / "a").string() + " --threads 1");
  BOOST_TEST(last.output.find(fmt_accuracy(metrics.back()["test"]["accuracy"].get<double>())) != std::string::npos,
             last.output);
  // Without keep_best there is no best checkpoint: said plainly.
  const auto plain = train(dir / "plain", "");
  BOOST_TEST_REQUIRE(plain.status == 0);
  const auto none = run_lamina("eval " + (dir / "plain").string() + " --best");
  BOOST_TEST(none.status == 2, none.output);
  BOOST_TEST(none.output.find("no best checkpoint: the run was trained without a keep_best callback") !=
                 std::string::npos,
             none.output);
}

BOOST_AUTO_TEST_CASE(clip_gradients_bounds_the_update) {
  TempDir dir;
  const auto plain = train(dir / "plain", "");
  const auto wide = train(dir / "wide", " --set 'train.callbacks=[{type: clip_gradients, max_norm: 1.0e+6}]'");
  const auto tight = train(dir / "tight", " --set 'train.callbacks=[{type: clip_gradients, max_norm: 0.01}]'");
  BOOST_TEST_REQUIRE(plain.status + wide.status + tight.status == 0, plain.output << wide.output << tight.output);
  // A bound never reached changes nothing; a tight one slows learning.
  BOOST_TEST(read_file(dir / "wide" / "metrics.csv") == read_file(dir / "plain" / "metrics.csv"));
  const auto acc = [&](const char* run) {
    return nlohmann::json::parse(read_file(dir / run / "metrics.json"))["epochs"][1]["train"]["accuracy"].get<double>();
  };
  BOOST_TEST(acc("tight") < acc("plain") - 0.05);
  BOOST_TEST(read_file(dir / "tight" / "model.yaml").find("clip_gradients") != std::string::npos);
  const auto bad = train(dir / "bad", " --set 'train.callbacks=[{type: clip_gradients, max_norm: 0}]'");
  BOOST_TEST(bad.status == 2, bad.output);
  BOOST_TEST(bad.output.find("train.callbacks.0.max_norm: expected a number > 0, found '0'") != std::string::npos,
             bad.output);
}

BOOST_AUTO_TEST_CASE(per_step_losses_and_plots) {
  TempDir dir;
  const auto a = train(dir / "a", " --set train.log_every=5");
  const auto b = train(dir / "b", " --set optimizer.type=adagrad --set train.log_every=5");
  BOOST_TEST_REQUIRE(a.status + b.status == 0, a.output << b.output);
  const std::string it = read_file(dir / "a" / "iterations.csv");
  BOOST_TEST(it.starts_with("step,epoch,loss\n5,1,"));
  // 900 training samples (10% held out) in batches of 100: 9 steps an epoch, 18 in all;
  // logged at steps 5, 10 and 15.
  BOOST_TEST(count_lines(it) == 4u);
  BOOST_TEST(it.find("\n15,2,") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(plot_draws_png_and_svg) {
  TempDir dir;
  const auto a = train(dir / "a", " --set train.log_every=3");
  BOOST_TEST_REQUIRE(a.status == 0, a.output);
  const auto png = run_lamina("plot " + (dir / "a").string() + " " + (dir / "a").string() + " --out " +
                              (dir / "acc.png").string() + " --title accuracy");
  BOOST_TEST(png.status == 0, png.output);
  BOOST_TEST(read_file(dir / "acc.png").substr(1, 3) == "PNG");
  const auto svg =
      run_lamina("plot " + (dir / "a").string() + " --metric iterations --out " + (dir / "it.svg").string());
  BOOST_TEST(svg.status == 0, svg.output);
  BOOST_TEST(read_file(dir / "it.svg").find("<svg") != std::string::npos);
  const auto loss = run_lamina("plot " + (dir / "a").string() + " --metric loss --out " + (dir / "loss.svg").string());
  BOOST_TEST(loss.status == 0, loss.output);

  const auto not_run = run_lamina("plot " + dir.path().string() + " --out " + (dir / "x.png").string());
  BOOST_TEST(not_run.status == 2);
  BOOST_TEST(not_run.output.find("metrics.json: cannot read") != std::string::npos, not_run.output);
  BOOST_TEST(!fs::exists(dir / "x.png"));
  const auto bad_ext = run_lamina("plot " + (dir / "a").string() + " --out " + (dir / "x.jpg").string());
  BOOST_TEST(bad_ext.status == 2);
  const auto bad_metric =
      run_lamina("plot " + (dir / "a").string() + " --metric speed --out " + (dir / "x.png").string());
  BOOST_TEST(bad_metric.status == 2);
  // gnuplot's own lines never reach stdout: only the "wrote" line does.
  const auto quiet = run(kLamina.string() + " plot " + (dir / "a").string() + " --out " + (dir / "q.png").string() +
                         " 2>/dev/null");
  BOOST_TEST(quiet.output == "wrote " + (dir / "q.png").string() + " (3 curves)\n", quiet.output);
}

BOOST_AUTO_TEST_CASE(plot_without_a_working_gnuplot_says_so) {
  TempDir dir;
  const auto a = train(dir / "a", " --set train.log_every=1");
  BOOST_TEST_REQUIRE(a.status == 0, a.output);
  const std::string plot = kLamina.string() + " plot " + (dir / "a").string() + " --metric iterations --out ";
  // No gnuplot on PATH: bad set-up, exit 2, naming the package.
  fs::create_directories(dir / "empty");
  const auto missing = run("PATH=" + (dir / "empty").string() + " " + plot + (dir / "m.png").string());
  BOOST_TEST(missing.status == 2, missing.output);
  BOOST_TEST(missing.output.find("gnuplot is not installed (or not on PATH): apt-get install gnuplot-nox") !=
                 std::string::npos,
             missing.output);
  // A gnuplot that dies before reading its script: lamina used to die of SIGPIPE (141) without
  // a word; now it reports the failure and what gnuplot said.
  fs::create_directories(dir / "broken");
  write_file(dir / "broken" / "gnuplot", "#!/bin/sh\necho 'gnuplot: cannot open display' >&2\nexit 3\n");
  fs::permissions(dir / "broken" / "gnuplot", fs::perms::owner_all);
  const auto broken = run("PATH=" + (dir / "broken").string() + ":/usr/bin:/bin " + plot + (dir / "b.png").string());
  BOOST_TEST(broken.status == 1, broken.output);
  BOOST_TEST(broken.output.find("gnuplot failed to draw " + (dir / "b.png").string() +
                                " (exit status 3): gnuplot: cannot open display") != std::string::npos,
             broken.output);
  BOOST_TEST(!fs::exists(dir / "m.png"));
  BOOST_TEST(!fs::exists(dir / "b.png"));
}
