// Ctrl-C (SIGINT), and SIGTERM where asked, during a long command (train, search): the handler
// only sets a flag, all a signal handler may safely do; the command polls raised() at its
// safe points (after a batch) and stops there. The previous handlers are restored when the
// object goes, so an embedding program gets its own back.
#pragma once

#include <csignal>
#include <initializer_list>
#include <vector>

namespace lamina::detail {

class StopSignals {
 public:
  // `install` false: nothing is installed and raised() stays false (under MPI every rank would
  // have to stop at the same batch, so a job keeps the signals' default).
  StopSignals(std::initializer_list<int> signals, bool install = true);
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Whether one of the signals arrived since the outermost StopSignals was made.
  static bool raised();

 private:
  struct Saved {
    int signal;
    struct sigaction old;
  };
  std::vector<Saved> saved_;
};

}  // namespace lamina::detail
