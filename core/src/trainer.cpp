#include "runtime/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <tuple>

#include "data_parallel.hpp"
#include "runtime/cluster.hpp"

namespace lamina {

Diverged::~Diverged() = default;


Trainer::Trainer(Model& model, const DataSplits& data, TrainerOptions options)
    : model_(model),
      data_(data),
      options_(options),
      shuffle_rng_(model.train.seed, Rng::Stream::Shuffle),
      layer_rng_(model.train.seed, Rng::Stream::Layers) {
  for (std::size_t i = 0; i < model.network.size(); ++i) {
    const bool own = model.layer_regularizers[i] != nullptr;
    const Regularizer* reg = own ? model.layer_regularizers[i].get() : model.regularizer.get();
    const std::string reg_type = own ? model.layer_regularizer_types[i] : model.regularizer_type;
    for (auto& p : model.network.params(i)) {
      // A frozen tensor is handed to no optimizer, regularizer or callback: it keeps its value
      // bit for bit and costs no optimizer state (lamina/param.hpp).
      if (!p.trainable) continue;
      params_.push_back(&p);
      param_regularizer_.push_back(p.decay ? reg : nullptr);
      regularizer_site_.push_back(plugin_site(model, Kind::Regularizer, reg_type,
                                              (own ? model.network.path(i) + ".regularizer" : "regularizer") +
                                                  " on " + p.name));
    }
  }
  loss_site_ = plugin_site(model, Kind::Loss, "", "loss");
  optimizer_site_ = plugin_site(model, Kind::Optimizer, "", "optimizer");
  schedule_site_ = plugin_site(model, Kind::Schedule, "", "optimizer.schedule");
  for (std::size_t i = 0; i < model.augment.size(); ++i) {
    augment_site_.push_back(plugin_site(model, Kind::Augmentation, model.augment_types[i], model.augment_places[i]));
  }
  for (std::size_t i = 0; i < model.callbacks.size(); ++i) {
    callback_site_.push_back(
        plugin_site(model, Kind::Callback, model.callback_types[i], fmt::format("train.callbacks.{}", i)));
  }
  metric_offset_.push_back(0);
  for (const ModelMetric& mm : model.metrics) {
    metric_site_.push_back({mm.place, mm.type, mm.plugin, mm.file});
    metric_offset_.push_back(metric_offset_.back() + mm.sums);
  }
  order_.resize(data.train.size());
  std::iota(order_.begin(), order_.end(), 0u);
  if (options_.comm && options_.comm->size() > 1) {
    parallel_ = std::make_unique<detail::DataParallel>(*options_.comm, params_,
                                                       static_cast<std::size_t>(model.train.batch_size),
                                                       order_.size(), model.train.drop_last, metric_offset_.back());
  }
}

Trainer::~Trainer() = default;

void Trainer::add_metrics(const Tensor& scores, std::span<double> sums) {
  const Targets t = targets_.view();
  for (std::size_t i = 0; i < model_.metrics.size(); ++i) {
    const std::span<double> own = sums.subspan(metric_offset_[i], metric_offset_[i + 1] - metric_offset_[i]);
    detail::plugin_call(metric_site_[i], "add", [&] { model_.metrics[i].metric->add(scores, t, own); });
  }
}

std::vector<std::pair<std::string, double>> Trainer::metric_values(std::span<const double> sums) {
  std::vector<std::pair<std::string, double>> values;
  for (std::size_t i = 0; i < model_.metrics.size(); ++i) {
    const auto own = sums.subspan(metric_offset_[i], metric_offset_[i + 1] - metric_offset_[i]);
    values.emplace_back(model_.metrics[i].name,
                        detail::plugin_call(metric_site_[i], "value", [&] { return model_.metrics[i].metric->value(own); }));
  }
  return values;
}

bool Trainer::failure_shared() const { return failure_shared_ || (parallel_ && parallel_->failed_together()); }

float Trainer::train_batch(std::span<const std::uint32_t> batch) {
  if (!parallel()) return train_batch_alone(batch);
  const auto rows = parallel_->share(batch);
  std::exception_ptr failure;
  float loss = 0;
  batch_sums_.assign(metric_offset_.back(), 0.0);
  try {
    data_.train.batch(rows, x_, targets_, &ids_);
    augment();
    Context ctx{Mode::Train, &layer_rng_, true, options_.comm, ids_};
    const Tensor& scores = model_.network.forward(x_, ctx);
    loss = detail::plugin_call(loss_site_, "forward", [&] { return model_.loss->forward(scores, targets_.view()); });
    if (std::isfinite(loss)) {
      if (model_.train.train_metrics == "running") add_metrics(scores, batch_sums_);
      detail::plugin_call(loss_site_, "backward", [&] { model_.loss->backward(dscores_); });
      // The loss of the global batch is the share-weighted mean of the ranks' losses.
      const float weight = static_cast<float>(rows.size()) / static_cast<float>(batch.size());
      for (float *d = dscores_.data(), *e = d + dscores_.size(); d != e; ++d) *d *= weight;
      model_.network.backward(dscores_, ctx);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  const float loss_rows = parallel_->reduce_step(params_, loss * static_cast<float>(rows.size()), batch_sums_, failure);
  loss = loss_rows / static_cast<float>(batch.size());
  if (!std::isfinite(loss)) return loss;
  for (std::size_t i = 0; i < running_.size(); ++i) running_[i] += batch_sums_[i];
  regularize();
  before_update();
  detail::plugin_call(optimizer_site_, "step", [&] { model_.optimizer->step(params_); });
  return loss;
}

float Trainer::train_batch_alone(std::span<const std::uint32_t> rows) {
  data_.train.batch(rows, x_, targets_, &ids_);
  augment();
  Context ctx{Mode::Train, &layer_rng_, true, nullptr, ids_};
  const Tensor& scores = model_.network.forward(x_, ctx);
  const float loss = detail::plugin_call(loss_site_, "forward", [&] { return model_.loss->forward(scores, targets_.view()); });
  if (!std::isfinite(loss)) return loss;
  if (model_.train.train_metrics == "running") add_metrics(scores, running_);  // else unused
  detail::plugin_call(loss_site_, "backward", [&] { model_.loss->backward(dscores_); });
  model_.network.backward(dscores_, ctx);
  regularize();
  before_update();
  detail::plugin_call(optimizer_site_, "step", [&] { model_.optimizer->step(params_); });
  return loss;
}

// data.augment on the training batch in x_ and targets_, in order. Each augmentation draws from
// a stream of the seed, its place in the list (and the rank), and the step: nothing to save for
// --resume, and adding an augmentation never shifts another's draws. (Steps past 2^24, some
// sixteen million batches, reuse the first steps' streams.)
void Trainer::augment() {
  const std::uint64_t rank = parallel() ? static_cast<std::uint64_t>(parallel_->rank()) : 0;
  for (std::size_t i = 0; i < model_.augment.size(); ++i) {
    if (targets_.kind == TargetKind::Class && model_.augment_kinds[i + 1] == TargetKind::ClassProbabilities) {
      targets_.to_class_probabilities(model_.augment_classes);
    }
    Rng rng(model_.train.seed, Rng::derived(StreamFamily::Augment, rank * 4096 + i, static_cast<std::uint64_t>(at_.step) % (1ULL << 24)));
    AugmentTargets t{targets_.kind, targets_.count, targets_.width, targets_.classes, targets_.values};
    const Shape before = x_.shape();
    detail::plugin_call(augment_site_[i], "apply", [&] { model_.augment[i]->apply(x_, t, rng); });
    if (!(x_.shape() == before) || t.kind != targets_.kind || t.width != targets_.width) {
      throw InputError(fmt::format("{} ({}): apply changed the batch's shape {} to {} or its targets; an "
                                   "augmentation keeps both",
                                   augment_site_[i].place, detail::plugin_named(augment_site_[i]), before.str(),
                                   x_.shape().str()));
    }
  }
}

Evaluation Trainer::evaluate(const DataView& view) {
  Evaluation e;
  if (view.empty()) return e;
  const auto bs = static_cast<std::size_t>(model_.train.eval_batch_size);
  // Data-parallel: each rank evaluates its contiguous slice of the view; the sums are added.
  std::size_t first = 0, last = view.size();
  if (parallel()) std::tie(first, last) = parallel_->slice(view.size());
  double loss_sum = 0;
  std::vector<double> sums(metric_offset_.back(), 0.0);
  std::exception_ptr failure;
  try {
    Context ctx{Mode::Eval, &layer_rng_, false, options_.comm};
    for (std::size_t begin = first; begin < last; begin += bs) {
      const std::size_t end = std::min(last, begin + bs);
      positions_.resize(end - begin);
      std::iota(positions_.begin(), positions_.end(), static_cast<std::uint32_t>(begin));
      view.batch(positions_, x_, targets_, &ids_);
      ctx.input_ids = ids_;
      const Tensor& scores = model_.network.forward(x_, ctx);
      const float loss =
          detail::plugin_call(loss_site_, "forward", [&] { return model_.loss->forward(scores, targets_.view()); });
      loss_sum += static_cast<double>(loss) * static_cast<double>(positions_.size());
      add_metrics(scores, sums);
    }
  } catch (...) {
    if (!parallel()) throw;
    failure = std::current_exception();
  }
  if (parallel()) {
    loss_sum = parallel_->reduce_eval(loss_sum, sums, failure);
  }
  e.loss = loss_sum / static_cast<double>(view.size());
  e.metrics = metric_values(sums);
  return e;
}

TrainerState Trainer::state() const { return {epoch_, shuffle_rng_.state(), layer_rng_.state()}; }

void Trainer::restore(const TrainerState& state) {
  epoch_ = state.epoch;
  shuffle_rng_.set_state(state.shuffle_rng);
  layer_rng_.set_state(state.layer_rng);
}

double Trainer::penalty() {
  double total = 0;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (param_regularizer_[i]) {
      total += detail::plugin_call(regularizer_site_[i], "penalty",
                                   [&] { return param_regularizer_[i]->penalty(*params_[i]); });
    }
  }
  return total;
}

void Trainer::regularize() {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (param_regularizer_[i]) {
      detail::plugin_call(regularizer_site_[i], "add_gradient", [&] { param_regularizer_[i]->add_gradient(*params_[i]); });
    }
  }
}

// After backward and the regularizers, before the optimizer: the batch's gradients as the
// optimizer will see them (gradient clipping acts here).
void Trainer::before_update() {
  for (std::size_t i = 0; i < model_.callbacks.size(); ++i) {
    detail::plugin_call(callback_site_[i], "before_update", [&] { model_.callbacks[i]->before_update(params_, at_); });
  }
}

void Trainer::apply_schedule(const TrainStep& at) {
  double factor = 0;
  factor = detail::plugin_call(schedule_site_, "factor", [&] { return model_.schedule->factor(at); });
  if (!(factor > 0) || !std::isfinite(factor)) {
    throw Error(fmt::format("optimizer.schedule gave the learning-rate factor {} at epoch {}, step {}; it must be "
                            "positive and finite",
                            factor, at.epoch, at.step + 1));
  }
  model_.optimizer->set_lr_scale(static_cast<float>(factor));
}

std::vector<EpochMetrics> Trainer::run(TrainObserver* observer) {
  std::vector<EpochMetrics> history;
  const auto bs = static_cast<std::size_t>(model_.train.batch_size);
  const std::size_t n = order_.size();
  const auto full = static_cast<std::int64_t>(n / bs);
  const auto batches = model_.train.drop_last || n % bs == 0 ? full : full + 1;
  if (batches == 0) {
    throw InputError(fmt::format("train.drop_last: the {} training samples make no full batch of {}", n, bs));
  }
  const std::size_t used = std::min(n, static_cast<std::size_t>(batches) * bs);
  for (std::int64_t epoch = epoch_ + 1; epoch <= model_.train.epochs; ++epoch) {
    const auto start = std::chrono::steady_clock::now();
    if (parallel()) parallel_->reset_seconds();
    // Rank 0 keeps the stream a single process would use (the one checkpoints save); the other
    // ranks draw their own masks from a stream of their rank and the epoch.
    if (parallel() && parallel_->rank() > 0) {
      layer_rng_ = Rng(model_.train.seed, Rng::derived(StreamFamily::RankLayers,
                                                        static_cast<std::uint64_t>(parallel_->rank()),
                                                        static_cast<std::uint64_t>(epoch)));
    }
    // Each epoch shuffles the rows afresh, so the stream's state is all a resume needs.
    std::iota(order_.begin(), order_.end(), 0u);
    if (model_.train.shuffle) {
      for (std::size_t i = n; i > 1; --i) std::swap(order_[i - 1], order_[shuffle_rng_.below(i)]);
    }
    double loss_sum = 0;
    running_.assign(metric_offset_.back(), 0.0);
    for (std::int64_t b = 0; b < batches; ++b) {
      const std::size_t begin = static_cast<std::size_t>(b) * bs;
      const std::size_t end = std::min(n, begin + bs);
      at_ = {(epoch - 1) * batches + b, epoch, batches, model_.train.epochs};
      if (model_.schedule) apply_schedule(at_);
      const float loss = train_batch(std::span(order_).subspan(begin, end - begin));
      if (!std::isfinite(loss)) {
        failure_shared_ = parallel();  // the loss was summed over the ranks: all of them stop here
        throw Diverged(fmt::format("training diverged at epoch {}, batch {}: the loss is {}", epoch, b + 1, loss),
                       epoch, b + 1, loss);
      }
      loss_sum += static_cast<double>(loss) * static_cast<double>(end - begin);
      for (std::size_t i = 0; i < model_.callbacks.size(); ++i) {
        detail::plugin_call(callback_site_[i], "end_batch", [&] { model_.callbacks[i]->end_batch(at_, loss); });
      }
      if (observer) {
        observer->on_batch(epoch, b + 1, batches, loss);
        if (observer->should_stop()) return history;
      }
    }
    EpochMetrics m;
    m.epoch = epoch;
    m.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (parallel()) {
      m.allreduce_seconds = parallel_->allreduce_seconds();
      parallel_->average(model_.network.state());
    }
    if (model_.train.train_metrics == "running") {
      m.train = {loss_sum / static_cast<double>(used), metric_values(running_)};
    } else {
      m.train = evaluate(data_.train);
    }
    m.penalty = penalty();
    if (!data_.validation.empty()) m.validation = evaluate(data_.validation);
    if (options_.evaluate_test) m.test = evaluate(data_.test);
    if (!std::isfinite(m.train.loss) || !std::isfinite(m.test.loss)) {
      failure_shared_ = parallel();
      throw Diverged(fmt::format("training diverged at epoch {}, in the evaluation after its last batch: the "
                                 "loss is {}",
                                 epoch, !std::isfinite(m.train.loss) ? m.train.loss : m.test.loss),
                     epoch, 0, !std::isfinite(m.train.loss) ? m.train.loss : m.test.loss);
    }
    // The loss, then each metric, on each split, as callbacks and schedules see them.
    std::vector<MetricValue> values;
    auto on = [&](const std::optional<Evaluation>& e, std::size_t i) {
      if (!e) return static_cast<double>(NAN);
      return i == 0 ? e->loss : i - 1 < e->metrics.size() ? e->metrics[i - 1].second : static_cast<double>(NAN);
    };
    const std::optional<Evaluation> train = m.train;
    const std::optional<Evaluation> test = options_.evaluate_test ? std::optional<Evaluation>(m.test) : std::nullopt;
    for (std::size_t i = 0; i <= model_.metrics.size(); ++i) {
      values.push_back({i == 0 ? "loss" : model_.metrics[i - 1].name.c_str(),
                        i == 0 ? false : model_.metrics[i - 1].higher_is_better, on(train, i), on(m.validation, i),
                        on(test, i)});
    }
    const EpochEnd ended{epoch, values};
    if (model_.schedule) detail::plugin_call(schedule_site_, "end_epoch", [&] { model_.schedule->end_epoch(ended); });
    for (std::size_t i = 0; i < model_.callbacks.size(); ++i) {
      CallbackAction a;
      a = detail::plugin_call(callback_site_[i], "end_epoch", [&] { return model_.callbacks[i]->end_epoch(ended); });
      m.best = m.best || a.best;
      if (a.stop && m.stopped.empty()) m.stopped = fmt::format("{} ({})", a.reason, model_.callback_types[i]);
    }
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    history.push_back(m);
    epoch_ = epoch;
    if (observer) {
      observer->on_epoch(m);
      if (observer->should_stop()) return history;
    }
    if (!m.stopped.empty()) return history;  // a callback ended the run (early stopping)
  }
  return history;
}

}  // namespace lamina
