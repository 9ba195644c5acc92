// Cluster: this process's place in an MPI job (mpirun -np N lamina ..., or srun under Slurm).
//
//   auto cluster = lamina::Cluster::join(argc, argv);   // null when started alone
//   lamina::TrainRequest req; req.cluster = cluster.get();
//
// MPI is initialized only when the environment shows a launcher (OMPI_COMM_WORLD_SIZE,
// PMIX_RANK, PMI_SIZE), so a plain `lamina train` never pays for it. A build without MPI
// (LAMINA_WITH_MPI=OFF) refuses to run as several ranks instead of running N copies of a job.
//
// Failures follow one rule: a failure every rank sees in the same place (bad input found during
// set-up, agreed with agree(); a loss that diverged; an error in a batch, shared through the
// gradient buffer) ends every rank normally, the failing rank printing it; any other failure
// aborts the job (MPI_Abort), as MPI does when a rank dies.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "lamina/communicator.hpp"
#include "lamina/error.hpp"

namespace lamina {

// Thrown on the ranks that did not fail themselves when another rank's failure ends a
// collective step: the failing rank prints the message, the others exit quietly with `code`.
class PeerFailed : public Error {
 public:
  PeerFailed(int rank, int code);
  ~PeerFailed() override;
  int rank, code;
};

// The exit status an exception ends the program with: 2 for InputError, 1 otherwise.
int exit_status(const std::exception_ptr& e);

class Cluster : public Communicator {
 public:
  // Throws InputError if launched as several ranks by a build without MPI.
  static std::unique_ptr<Cluster> join(int& argc, char**& argv);
  static bool built_with_mpi();
  ~Cluster() override;  // MPI_Finalize

  int rank() const override;
  int size() const override;
  void allreduce_sum(std::span<float> values) override;
  void allreduce_sum(std::span<double> values) override;

  // Runs `step` on every rank and compares outcomes: if it threw anywhere, every rank throws —
  // the lowest failing rank its own exception, the others PeerFailed.
  void agree(const std::function<void()>& step);
  void broadcast(std::string& text, int root = 0);
  // Point-to-point text messages, for the search's work queue (tags separate worker slots).
  void send(int dest, int tag, const std::string& text);
  std::string receive(int source, int tag);

  // Whether every rank is known to have failed at the same point: true once a failure was
  // shared (agree(), a diverged loss, a failed batch) and before the first collective call,
  // where every rank runs the same deterministic code (parsing the command line). main then
  // exits normally; otherwise it aborts the job, since the other ranks would wait forever.
  bool failure_is_shared() const { return shared_failure_ || !started_; }
  bool started() const { return started_; }
  void set_failure_shared() { shared_failure_ = true; }
  [[noreturn]] void abort(int code);

 private:
  Cluster(int rank, int size);
  int rank_, size_;
  bool shared_failure_ = false;
  bool started_ = false;  // a collective call was made
};

}  // namespace lamina
