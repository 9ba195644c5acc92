#include "console_progress.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <ostream>
#include <string>

namespace lamina::detail {
namespace {

std::string fmt_eval(const char* label, const Evaluation& e) {
  std::string s = fmt::format("{} loss {:.4f}", label, e.loss);
  for (const auto& [name, v] : e.metrics) s += fmt::format(" {} {:.4f}", name == "accuracy" ? "acc" : name, v);
  return s;
}

}  // namespace

void ConsoleProgress::on_batch(std::int64_t epoch, std::int64_t batch, std::int64_t batches, float loss) {
  if (!live_) return;
  const auto now = std::chrono::steady_clock::now();
  if (batch == 1) epoch_start_ = now;
  if (batch != batches && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double eta = batch > 0 ? elapsed * static_cast<double>(batches - batch) / static_cast<double>(batch) : 0;
  const int width = 24;
  const int filled = static_cast<int>(width * batch / batches);
  fmt::print(stderr, "\r\033[Kepoch {}/{} [{}{}] {}/{} loss {:.4f} eta {:.0f}s", epoch, epochs_,
             std::string(static_cast<std::size_t>(filled), '#'), std::string(static_cast<std::size_t>(width - filled), '.'),
             batch, batches, loss, eta);
  std::fflush(stderr);
}

void ConsoleProgress::on_epoch(const EpochMetrics& m) {
  if (live_) fmt::print(stderr, "\r\033[K");
  std::string line = fmt::format("epoch {:>{}}/{}  {}", m.epoch, std::to_string(epochs_).size(), epochs_,
                                 fmt_eval("train", m.train));
  if (m.penalty != 0) line += fmt::format(" penalty {:.4f}", m.penalty);
  if (m.validation) line += " | " + fmt_eval("val", *m.validation);
  line += " | " + fmt_eval("test", m.test) + fmt::format(" | {:.1f}s", m.seconds);
  if (m.best) line += " | best";
  out_ << line << std::endl;
  if (!m.stopped.empty()) out_ << fmt::format("stopped after epoch {}: {}", m.epoch, m.stopped) << std::endl;
}

}  // namespace lamina::detail
