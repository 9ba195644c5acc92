// Blocks in the model language, through the lamina binary: a block-written model trains to the
// same bytes as the model written out layer by layer; its run's model.yaml trains again to the
// same bytes; block arguments and a block's inner layers take --set and search dimensions.
#define BOOST_TEST_MODULE cli_blocks
#include <boost/test/unit_test.hpp>

#include "test_support.hpp"

using namespace lamina::test;

namespace {

const std::string kSlice = " --set data.train_limit=400 --set data.test_limit=200 --epochs 1 --threads 1 --no-progress";

}  // namespace

BOOST_AUTO_TEST_CASE(a_block_written_model_trains_to_the_bytes_of_the_model_written_out) {
  TempDir dir;
  const auto plain = run_lamina("train " + (kModelsDir / "resnet-small.yaml").string() + kSlice + " --out " +
                                (dir / "plain").string());
  const auto blocks = run_lamina("train " + (kModelsDir / "resnet-small-blocks.yaml").string() + kSlice + " --out " +
                                 (dir / "blocks").string());
  BOOST_TEST_REQUIRE(plain.status == 0, plain.output);
  BOOST_TEST_REQUIRE(blocks.status == 0, blocks.output);
  BOOST_TEST(read_file(dir / "plain" / "model.safetensors") == read_file(dir / "blocks" / "model.safetensors"));
  BOOST_TEST(read_file(dir / "plain" / "metrics.csv") == read_file(dir / "blocks" / "metrics.csv"));

  // model.yaml keeps the blocks and the uses as written, and the expansion beside them.
  const std::string yaml = read_file(dir / "blocks" / "model.yaml");
  BOOST_TEST(yaml.find("\nblocks:\n  residual:\n") != std::string::npos, yaml);
  BOOST_TEST(yaml.find("- {type: stage, filters: 32, name: stage1}") != std::string::npos, yaml);
  BOOST_TEST(yaml.find("\nlayers_expanded:\n") != std::string::npos, yaml);
  BOOST_TEST(yaml.find("name: stage2.block.out") != std::string::npos, yaml);
  // ... and trains again to the same bytes.
  const auto again = run_lamina("train " + (dir / "blocks" / "model.yaml").string() +
                                " --threads 1 --no-progress --out " + (dir / "again").string());
  BOOST_TEST_REQUIRE(again.status == 0, again.output);
  BOOST_TEST(read_file(dir / "again" / "model.safetensors") == read_file(dir / "blocks" / "model.safetensors"));
}

BOOST_AUTO_TEST_CASE(arguments_and_inner_layers_take_set_and_names_are_scoped) {
  const std::string model = (kModelsDir / "resnet-small-blocks.yaml").string();
  const auto g = run_lamina("graph " + model + " --set data.train_limit=100 --set layers.stage2.filters=16"
                            " --set layers.stage1.block.out.eps=0.001");
  BOOST_TEST_REQUIRE(g.status == 0, g.output);
  BOOST_TEST(g.output.find("layers.19  stage2.block.out batchnorm        (16, 7, 7)") != std::string::npos, g.output);
  BOOST_TEST(g.output.find("layers.9                    add              (32, 14, 14)                 0  layers.3, "
                           "stage1.block.out") != std::string::npos,
             g.output);
  // The inner layer's key reached the layer: a bad value there names the flag and the use.
  const auto bad = run_lamina("graph " + model + " --set data.train_limit=100 --set layers.stage1.block.out.eps=-1");
  BOOST_TEST(bad.status == 2);
  BOOST_TEST(bad.output.find("--set layers.stage1.block.out.eps=-1: layers.stage1.block.out.eps: expected a number") !=
                 std::string::npos,
             bad.output);
  BOOST_TEST(bad.output.find("(in block 'residual', used at ") != std::string::npos, bad.output);
  // A pattern of train.params may name a block's layers by their scoped names.
  const auto frozen = run_lamina("graph " + model + " --set data.train_limit=100"
                                 " --set 'train.params=[{match: layers.stage1.*, trainable: false}]'");
  BOOST_TEST_REQUIRE(frozen.status == 0, frozen.output);
  BOOST_TEST(frozen.output.find("stage1.block.out batchnorm        (32, 14, 14)                64  [frozen]") !=
                 std::string::npos,
             frozen.output);
  BOOST_TEST(frozen.output.find("stage2.block.out batchnorm        (64, 7, 7)                 128\n") != std::string::npos,
             frozen.output);
}

BOOST_AUTO_TEST_CASE(a_search_varies_a_block_argument) {
  TempDir dir;
  write_file(dir / "s.yaml", "model:\n"
                             "  data: {source: fashion-mnist, train_limit: 200, test_limit: 100, validation_split: 0.25}\n"
                             "  blocks:\n"
                             "    mlp:\n"
                             "      args: {width: 8}\n"
                             "      layers: [{type: affine, units: \"${width}\"}, {type: relu}]\n"
                             "  layers: [{type: mlp, name: body}, {type: affine, units: 10}]\n"
                             "  loss: softmax_cross_entropy\n"
                             "  optimizer: {type: sgd, lr: 0.1}\n"
                             "  train: {batch_size: 50}\n"
                             "space:\n"
                             "  layers.body.width: {choice: [4, 16]}\n"
                             "trials: 4\n"
                             "epochs: 1\n");
  const auto r = run_lamina("search " + (dir / "s.yaml").string() + " --no-progress --out " + (dir / "out").string());
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const std::string results = read_file(dir / "out" / "results.csv");
  BOOST_TEST(results.find("layers.body.width") != std::string::npos, results);
  // Each trial trained the width it drew: the parameter count of a best.yaml retrained is its.
  const std::string best = read_file(dir / "out" / "best.yaml");
  const bool narrow = best.find("width: 4") != std::string::npos, wide = best.find("width: 16") != std::string::npos;
  BOOST_TEST_REQUIRE((narrow != wide), best);
  const auto g = run_lamina("graph " + (dir / "out" / "best.yaml").string());
  BOOST_TEST_REQUIRE(g.status == 0, g.output);
  // 784 x w + w, then w x 10 + 10.
  const std::string params = narrow ? "3190 parameters" : "12730 parameters";
  BOOST_TEST(g.output.find(params) != std::string::npos, g.output);
}
