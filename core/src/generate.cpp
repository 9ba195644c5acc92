// `lamina generate RUN --prompt TEXT --tokens N`: text sampled from a trained language model, one
// token at a time. The run's own data source encodes the prompt and decodes each sampled id
// (lamina/tokenizer.hpp); the model is the one `lamina predict` would run, in Eval mode.
//
// The model reads windows of T ids and scores the next id at every position. Its context is the
// last min(T, length) ids, placed at the window's start; the rest of the window is filler, and
// the scores are read at the context's last position. That is right only for a causal model
// (position i sees positions <= i: causal attention, a recurrent layer), so the first step runs
// the window with two different fillers and refuses a model whose scores there differ.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>
#include <vector>

#include "run_folder.hpp"
#include "runtime/commands.hpp"
#include "runtime/plugin_guard.hpp"
#include "session.hpp"
#include "lamina/error.hpp"
#include "lamina/tokenizer.hpp"

namespace lamina {

namespace {

// The scores of the ids below `vocabulary` at the context's last position, the context placed at
// the window's start and the window filled up to T with `filler`.
std::vector<float> scores_at(Network& net, std::span<const std::int32_t> context, std::int64_t t, std::int32_t filler,
                             std::int64_t vocabulary, Tensor& x, std::vector<std::int32_t>& ids) {
  ids.assign(static_cast<std::size_t>(t), filler);
  std::copy(context.begin(), context.end(), ids.begin());
  x.resize(Shape{1, t});
  for (std::int64_t i = 0; i < t; ++i) x[i] = static_cast<float>(ids[static_cast<std::size_t>(i)]);
  Rng rng(0);
  Context ctx{Mode::Eval, &rng, false};
  ctx.input_ids = ids;
  const Tensor& y = net.forward(x, ctx);
  const std::int64_t v = y.shape()[y.rank() - 1];
  const float* row = y.data() + (static_cast<std::int64_t>(context.size()) - 1) * v;
  return {row, row + std::min(v, vocabulary)};
}

}  // namespace

void run_generate(const GenerateRequest& req, std::ostream& out, std::ostream& err) {
  if (req.tokens < 1 || req.tokens > 1'000'000) throw RequestError("--tokens must be between 1 and 1000000");
  if (!(req.temperature >= 0 && req.temperature <= 1e6)) throw RequestError("--temperature must be between 0 and 1e6");
  detail::Session session(req.plugins);
  session.load();
  detail::TrainedRun run = detail::open_run(req.run, session.registry, {}, err);
  const auto* tokenizer = dynamic_cast<const Tokenizer*>(run.model.data.reader.get());
  if (tokenizer == nullptr) {
    throw InputError(fmt::format("{}: its data source '{}' has no tokenizer: lamina generate continues text, for a "
                                 "model trained on a source of text such as `text`",
                                 req.run.string(), run.model.data.source));
  }
  const detail::PluginSite site{"data", run.model.data.source, run.model.data.plugin, run.model.data.plugin_file};
  const Shape input = detail::trained_input_shape(run.dir / (req.best ? "model-best.safetensors" : "model.safetensors"),
                                                  "train the run again with this version");
  if (input.rank() != 1) {
    throw InputError(fmt::format("{}: its model reads samples of {}; lamina generate needs windows of token ids (T)",
                                 req.run.string(), input.str()));
  }
  detail::size_and_load(run, input, "--prompt", req.best);
  Network& net = run.model.network;
  const Shape output = net.output_shape(net.size() - 1);
  const std::int64_t t = input[0];
  const std::int64_t vocabulary = detail::plugin_call(site, "vocabulary", [&] { return tokenizer->vocabulary(); });
  // A model may score more ids than the vocabulary holds (256 outputs for a smaller character
  // set): those are never drawn.
  if (run.model.target_kind != TargetKind::ClassPerPosition || output.rank() != 2 || output[0] != t ||
      output[1] < vocabulary) {
    throw InputError(fmt::format("{}: its model gives {} per window of {} ids; a language model gives ({}, at least "
                                 "{}), the scores of the next token at every position",
                                 req.run.string(), output.str(), t, t, vocabulary));
  }
  std::vector<std::int32_t> text = detail::plugin_call(site, "encode", [&] { return tokenizer->encode(req.prompt); });
  if (text.empty()) throw RequestError("--prompt is empty: generation continues a text of at least one token");
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] < 0 || text[i] >= vocabulary) {
      throw InputError(fmt::format("--prompt ({}): encode gave id {} at position {}, outside 0..{}",
                                   run.model.data.source, text[i], i, vocabulary - 1));
    }
  }
  const auto decode = [&](std::span<const std::int32_t> ids) {
    return detail::plugin_call(site, "decode", [&] { return tokenizer->decode(ids); });
  };

  Tensor x;
  std::vector<std::int32_t> ids;
  const auto context = [&] {
    const std::size_t n = std::min(text.size(), static_cast<std::size_t>(t));
    return std::span<const std::int32_t>(text.data() + text.size() - n, n);
  };
  if (static_cast<std::int64_t>(context().size()) < t) {
    const auto a = scores_at(net, context(), t, 0, vocabulary, x, ids);
    const auto b = scores_at(net, context(), t, static_cast<std::int32_t>(vocabulary - 1), vocabulary, x, ids);
    float differ = 0.0f;
    for (std::size_t j = 0; j < a.size(); ++j) differ = std::max(differ, std::abs(a[j] - b[j]));
    if (differ > 1e-4f * (1.0f + std::abs(a[0]))) {
      throw InputError(fmt::format("{}: the model is not causal: its scores at position {} change with the ids after "
                                   "it (by {:.3g}), so it cannot continue a text; use `causal: true` attention or a "
                                   "recurrent layer",
                                   req.run.string(), context().size() - 1, differ));
    }
  }
  out << decode(text) << std::flush;
  Rng rng(req.seed, Rng::Stream::User);
  std::vector<double> p(static_cast<std::size_t>(vocabulary));
  for (std::int64_t k = 0; k < req.tokens; ++k) {
    const auto s = scores_at(net, context(), t, 0, vocabulary, x, ids);
    std::int32_t next = static_cast<std::int32_t>(std::max_element(s.begin(), s.end()) - s.begin());
    if (req.temperature > 0) {
      // softmax(s / temperature), in double from the largest score down; then one uniform draw.
      double sum = 0;
      for (std::size_t j = 0; j < p.size(); ++j) sum += p[j] = std::exp((s[j] - s[static_cast<std::size_t>(next)]) / req.temperature);
      double u = static_cast<double>(rng.uniform()) * sum;
      for (std::size_t j = 0; j < p.size(); ++j) {
        u -= p[j];
        if (u < 0 || j + 1 == p.size()) {
          next = static_cast<std::int32_t>(j);
          break;
        }
      }
    }
    text.push_back(next);
    out << decode(std::span<const std::int32_t>(&text.back(), 1)) << std::flush;
  }
  out << std::endl;
}

}  // namespace lamina
