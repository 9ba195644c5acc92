#include "lamina/trainer.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

namespace lamina {

Diverged::~Diverged() = default;

namespace {

std::int64_t count_correct(const Tensor& scores, std::span<const std::int32_t> labels) {
  const std::int64_t n = scores.rows(), c = scores.cols();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const float* row = scores.data() + i * c;
    const std::int64_t best = std::max_element(row, row + c) - row;
    correct += best == labels[static_cast<std::size_t>(i)];
  }
  return correct;
}

}  // namespace

Trainer::Trainer(Model& model, const DataSplits& data, TrainerOptions options)
    : model_(model),
      data_(data),
      options_(options),
      shuffle_rng_(model.train.seed, Rng::Stream::Shuffle),
      layer_rng_(model.train.seed, Rng::Stream::Layers) {
  for (std::size_t i = 0; i < model.network.size(); ++i) {
    const Regularizer* reg = model.layer_regularizers[i] ? model.layer_regularizers[i].get() : model.regularizer.get();
    for (auto& p : model.network.layer(i).params()) {
      params_.push_back(&p);
      param_regularizer_.push_back(p.decay ? reg : nullptr);
    }
  }
  order_.resize(data.train.size());
  std::iota(order_.begin(), order_.end(), 0u);
}

float Trainer::train_batch(std::span<const std::uint32_t> rows) {
  data_.train.batch(rows, x_, labels_);
  Context ctx{Mode::Train, &layer_rng_, true};
  const Tensor& scores = model_.network.forward(x_, ctx);
  const float loss = model_.loss->forward(scores, labels_);
  if (!std::isfinite(loss)) return loss;
  if (model_.train.train_metrics == "running") correct_ += count_correct(scores, labels_);  // else unused
  model_.loss->backward(dscores_);
  model_.network.backward(dscores_, ctx);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    if (param_regularizer_[i]) param_regularizer_[i]->add_gradient(*params_[i]);
  }
  model_.optimizer->step(params_);
  return loss;
}

Evaluation Trainer::evaluate(const DataView& view) {
  Evaluation e;
  if (view.empty()) return e;
  const auto bs = static_cast<std::size_t>(model_.train.eval_batch_size);
  std::vector<std::uint32_t> rows;
  double loss_sum = 0;
  std::int64_t correct = 0;
  Context ctx{Mode::Eval, &layer_rng_, false};
  for (std::size_t begin = 0; begin < view.size(); begin += bs) {
    const std::size_t end = std::min(view.size(), begin + bs);
    rows.resize(end - begin);
    std::iota(rows.begin(), rows.end(), static_cast<std::uint32_t>(begin));
    view.batch(rows, x_, labels_);
    const Tensor& scores = model_.network.forward(x_, ctx);
    loss_sum += static_cast<double>(model_.loss->forward(scores, labels_)) * static_cast<double>(rows.size());
    correct += count_correct(scores, labels_);
  }
  e.loss = loss_sum / static_cast<double>(view.size());
  e.accuracy = static_cast<double>(correct) / static_cast<double>(view.size());
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
    if (param_regularizer_[i]) total += param_regularizer_[i]->penalty(*params_[i]);
  }
  return total;
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
    // Each epoch shuffles the rows afresh, so the stream's state is all a resume needs.
    std::iota(order_.begin(), order_.end(), 0u);
    if (model_.train.shuffle) {
      for (std::size_t i = n; i > 1; --i) std::swap(order_[i - 1], order_[shuffle_rng_.below(i)]);
    }
    double loss_sum = 0;
    correct_ = 0;
    for (std::int64_t b = 0; b < batches; ++b) {
      const std::size_t begin = static_cast<std::size_t>(b) * bs;
      const std::size_t end = std::min(n, begin + bs);
      const float loss = train_batch(std::span(order_).subspan(begin, end - begin));
      if (!std::isfinite(loss)) {
        throw Diverged(fmt::format("training diverged at epoch {}, batch {}: the loss is {}", epoch, b + 1, loss),
                       epoch, b + 1, loss);
      }
      loss_sum += static_cast<double>(loss) * static_cast<double>(end - begin);
      if (observer) {
        observer->on_batch(epoch, b + 1, batches, loss);
        if (observer->should_stop()) return history;
      }
    }
    EpochMetrics m;
    m.epoch = epoch;
    m.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (model_.train.train_metrics == "running") {
      m.train = {loss_sum / static_cast<double>(used), static_cast<double>(correct_) / static_cast<double>(used)};
    } else {
      m.train = evaluate(data_.train);
    }
    m.penalty = penalty();
    if (!data_.validation.empty()) m.validation = evaluate(data_.validation);
    if (options_.evaluate_test) m.test = evaluate(data_.test);
    if (!std::isfinite(m.train.loss) || !std::isfinite(m.test.loss)) {
      throw Diverged(fmt::format("training diverged at epoch {}, in the evaluation after its last batch: the "
                                 "loss is {}",
                                 epoch, !std::isfinite(m.train.loss) ? m.train.loss : m.test.loss),
                     epoch, 0, !std::isfinite(m.train.loss) ? m.train.loss : m.test.loss);
    }
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    history.push_back(m);
    epoch_ = epoch;
    if (observer) {
      observer->on_epoch(m);
      if (observer->should_stop()) return history;
    }
  }
  return history;
}

}  // namespace lamina
