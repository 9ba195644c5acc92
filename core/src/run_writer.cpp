#include "run_writer.hpp"

#include <fmt/format.h>

#include "atomic_file.hpp"
#include "run_folder.hpp"

namespace lamina::detail {

RunWriter::RunWriter(std::filesystem::path dir, std::int64_t log_every, std::vector<EpochMetrics> history,
                     std::string iterations, std::function<void(const EpochMetrics&)> checkpoint,
                     std::vector<std::string> metrics)
    : dir_(std::move(dir)),
      metrics_(std::move(metrics)),
      log_every_(log_every),
      history_(std::move(history)),
      iterations_(std::move(iterations)),
      checkpoint_(std::move(checkpoint)) {}

void RunWriter::on_batch(std::int64_t epoch, std::int64_t batch, std::int64_t batches, float loss) {
  // Every epoch has the same number of batches, so the step follows from where we are; a
  // resumed run whose epochs are not a multiple of log_every steps numbers them as the whole
  // run did (counting on from the last logged line did not).
  const std::int64_t step = (epoch - 1) * batches + batch;
  if (log_every_ > 0 && step % log_every_ == 0) iterations_ += fmt::format("{},{},{:.6f}\n", step, epoch, loss);
}

void RunWriter::on_epoch(const EpochMetrics& m) {
  history_.push_back(m);
  // Metrics first, then the checkpoint: a kill between the two leaves a checkpoint one epoch
  // behind, and a resume redoes that epoch and rewrites its metrics line.
  write_metrics(dir_, history_, metrics_);
  write_iterations();
  checkpoint_(m);
}

void RunWriter::write_iterations() const {
  if (log_every_ > 0) write_file_atomic(dir_ / "iterations.csv", "step,epoch,loss\n" + iterations_);
}

}  // namespace lamina::detail
