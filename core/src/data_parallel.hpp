// The trainer's data-parallel half: how the ranks of a job share a batch and what they add up.
// Every rank draws the same shuffle and takes its contiguous share of each global batch; a
// training step is ONE allreduce of a fused buffer (every parameter gradient, the batch's loss
// and correct count, and one failure slot per rank), so the ranks step their optimizers on
// identical numbers and agree on whether any of them failed. Evaluation is split the same way;
// layer state (BatchNorm's running statistics) is averaged after each epoch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <span>
#include <utility>
#include <vector>

#include "lamina/communicator.hpp"
#include "lamina/param.hpp"

namespace lamina::detail {

class DataParallel {
 public:
  // Refuses (InputError) a batch_size, or a last batch of the epoch, smaller than the ranks:
  // every rank runs every layer on every batch, as BatchNorm's sync meets in collective calls.
  // `metric_sums`: how many sums the model's metrics keep (lamina/metric.hpp).
  DataParallel(Communicator& comm, std::span<Param* const> params, std::size_t batch_size, std::size_t rows,
               bool drop_last, std::size_t metric_sums);

  int rank() const { return comm_.rank(); }
  Communicator& comm() const { return comm_; }

  // This rank's contiguous share of a batch.
  std::span<const std::uint32_t> share(std::span<const std::uint32_t> rows) const;
  // This rank's slice [first, last) of n positions.
  std::pair<std::size_t, std::size_t> slice(std::size_t n) const;

  // A training step's allreduce: the parameters' gradients are replaced by their sums over the
  // ranks, and so are the batch's metric sums (carried in float, as the gradients are: exact
  // for counts below 2^24); returns the summed loss x rows. If any rank's `failure` holds an
  // exception, every rank throws: the lowest failing rank its own, the others PeerFailed.
  float reduce_step(std::span<Param* const> params, float loss_rows, std::span<double> metric_sums,
                    const std::exception_ptr& failure);
  // An evaluation's sums (loss x rows, and the metrics' sums, replaced in place), with the same
  // failure rule; returns the summed loss x rows.
  double reduce_eval(double loss_sum, std::span<double> metric_sums, const std::exception_ptr& failure);
  // Each buffer's values replaced by their mean over the ranks.
  void average(std::span<Buffer* const> state);

  // Seconds spent in reduce_step since the last reset (the epoch's wait for the other ranks).
  double allreduce_seconds() const { return allreduce_seconds_; }
  void reset_seconds() { allreduce_seconds_ = 0; }
  // Whether a reduce threw on every rank at once.
  bool failed_together() const { return failed_together_; }

 private:
  template <class T>
  void throw_if_any_failed(std::span<const T> slots, const std::exception_ptr& mine);

  Communicator& comm_;
  std::size_t ranks_;
  std::vector<float> fused_;  // every gradient, then loss, the metric sums, one failure slot per rank
  std::size_t metric_sums_;
  double allreduce_seconds_ = 0;
  bool failed_together_ = false;
};

}  // namespace lamina::detail
