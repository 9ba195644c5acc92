#include "data_parallel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

#include "lamina/error.hpp"
#include "runtime/cluster.hpp"

namespace lamina::detail {

DataParallel::DataParallel(Communicator& comm, std::span<Param* const> params, std::size_t batch_size,
                           std::size_t rows, bool drop_last, std::size_t metric_sums)
    : comm_(comm), ranks_(static_cast<std::size_t>(comm.size())), metric_sums_(metric_sums) {
  std::size_t n = 0;
  for (const Param* p : params) n += static_cast<std::size_t>(p->grad.size());
  fused_.resize(n + 1 + metric_sums + ranks_);
  const std::size_t last = rows % batch_size == 0 || drop_last ? batch_size : rows % batch_size;
  if (batch_size < ranks_) {
    throw InputError(
        fmt::format("train.batch_size {} cannot be shared by {} ranks: each rank needs at least one "
                    "sample of every batch; raise train.batch_size",
                    batch_size, ranks_));
  }
  if (last < ranks_) {
    throw InputError(
        fmt::format("the last batch of each epoch ({} of the {} training samples) cannot be shared "
                    "by {} ranks: each rank needs at least one sample of every batch; set "
                    "train.drop_last: true",
                    last, rows, ranks_));
  }
}

std::span<const std::uint32_t> DataParallel::share(std::span<const std::uint32_t> rows) const {
  const auto [first, last] = slice(rows.size());
  return rows.subspan(first, last - first);
}

std::pair<std::size_t, std::size_t> DataParallel::slice(std::size_t n) const {
  const auto r = static_cast<std::size_t>(comm_.rank());
  return {n * r / ranks_, n * (r + 1) / ranks_};
}

// The last `ranks` entries of a reduced buffer hold each rank's exit status if it failed (0
// otherwise): every rank reaches the same verdict, and the lowest failing rank reports.
template <class T>
void DataParallel::throw_if_any_failed(std::span<const T> slots, const std::exception_ptr& mine) {
  for (std::size_t r = 0; r < slots.size(); ++r) {
    if (slots[r] == T(0)) continue;
    failed_together_ = true;
    if (static_cast<int>(r) == comm_.rank()) std::rethrow_exception(mine);
    throw PeerFailed(static_cast<int>(r), static_cast<int>(slots[r]));
  }
}

float DataParallel::reduce_step(std::span<Param* const> params, float loss_rows, std::span<double> metric_sums,
                                const std::exception_ptr& failure) {
  float* out = fused_.data();
  for (const Param* p : params) out = std::copy_n(p->grad.data(), p->grad.size(), out);
  float* loss_slot = out;
  *out++ = loss_rows;
  for (std::size_t i = 0; i < metric_sums_; ++i) *out++ = i < metric_sums.size() ? static_cast<float>(metric_sums[i]) : 0.0f;
  std::fill(out, out + ranks_, 0.0f);
  if (failure) out[comm_.rank()] = static_cast<float>(exit_status(failure));
  const auto start = std::chrono::steady_clock::now();
  comm_.allreduce_sum(fused_);
  allreduce_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  throw_if_any_failed(std::span<const float>(out, ranks_), failure);
  const float* in = fused_.data();
  for (Param* p : params) {
    std::copy_n(in, p->grad.size(), p->grad.data());
    in += p->grad.size();
  }
  for (std::size_t i = 0; i < metric_sums.size() && i < metric_sums_; ++i) metric_sums[i] = loss_slot[1 + i];
  return *loss_slot;
}

double DataParallel::reduce_eval(double loss_sum, std::span<double> metric_sums, const std::exception_ptr& failure) {
  const std::size_t m = metric_sums.size();
  std::vector<double> sums(1 + m + ranks_, 0.0);
  sums[0] = loss_sum;
  std::copy(metric_sums.begin(), metric_sums.end(), sums.begin() + 1);
  if (failure) sums[1 + m + static_cast<std::size_t>(comm_.rank())] = exit_status(failure);
  comm_.allreduce_sum(sums);
  throw_if_any_failed(std::span<const double>(sums).subspan(1 + m), failure);
  std::copy_n(sums.begin() + 1, m, metric_sums.begin());
  return sums[0];
}

void DataParallel::average(std::span<Buffer* const> state) {
  std::vector<double> values;
  for (const Buffer* b : state) values.insert(values.end(), b->value.data(), b->value.data() + b->value.size());
  if (values.empty()) return;
  comm_.allreduce_sum(values);
  const double ranks = static_cast<double>(ranks_);
  const double* in = values.data();
  for (Buffer* b : state) {
    for (float *v = b->value.data(), *e = v + b->value.size(); v != e; ++v) *v = static_cast<float>(*in++ / ranks);
  }
}

}  // namespace lamina::detail
