// `lamina eval`: trained runs rebuilt and tested, one by one and as an ensemble.
#include <fmt/format.h>

#include <cmath>
#include <numeric>
#include <ostream>

#include "checkpoint.hpp"
#include "ensemble.hpp"
#include "run_folder.hpp"
#include "runtime/commands.hpp"
#include "session.hpp"

namespace lamina {

void run_eval(const EvalRequest& req, std::ostream& out, std::ostream& err) {
  if (req.runs.empty()) throw InputError("name at least one run folder");
  set_threads(req.threads);
  detail::Session session(req.plugins);
  session.load();
  std::vector<detail::TrainedRun> members;
  for (const auto& dir : req.runs) members.push_back(detail::open_run(dir, session.registry, req.overrides, err));
  // Every member is evaluated on the first member's test data.
  DataSplits data = load_data(members[0].model.data, members[0].model.train.seed);
  for (auto& m : members) {
    build_network(m.model, data);
    detail::load_weights(m.dir, m.model, req.best);
    Trainer trainer(m.model, data);
    const Evaluation e = trainer.evaluate(data.test);
    std::string line = fmt::format("{}: test loss {:.6f}", m.dir.string(), e.loss);
    for (const auto& [name, v] : e.metrics) line += fmt::format(" {} {:.6f}", name, v);
    out << line << std::endl;
  }
  if (members.size() < 2) return;
  if (data.target_kind != TargetKind::Class) {
    throw InputError(fmt::format("an ensemble averages class probabilities; these runs were trained on {} targets",
                                 target_kind_name(data.target_kind)));
  }
  const auto n = static_cast<std::int64_t>(data.test.size());
  std::vector<std::uint32_t> rows(static_cast<std::size_t>(n));
  std::iota(rows.begin(), rows.end(), 0u);
  Tensor x;
  BatchTargets targets;
  std::vector<std::int32_t> ids;  // token data: exact, for Context::input_ids
  data.test.batch(rows, x, targets, &ids);
  const auto& labels = targets.classes;
  detail::Ensemble ensemble(members.size(), n);
  for (auto& m : members) {
    Rng rng(0);
    Context ctx{Mode::Eval, &rng, false};
    ctx.input_ids = ids;
    ensemble.add(m.dir, m.model.network.forward(x, ctx), 0);
  }
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i) correct += ensemble.predicted(i) == labels[static_cast<std::size_t>(i)];
  out << fmt::format("ensemble of {} (averaged probabilities): test accuracy {:.4f}", members.size(),
                     static_cast<double>(correct) / static_cast<double>(n))
      << std::endl;
}

}  // namespace lamina
