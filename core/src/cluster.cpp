#include "runtime/cluster.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <thread>
#include <vector>

#ifdef LAMINA_WITH_MPI
#include <mpi.h>
#endif

namespace lamina {

PeerFailed::PeerFailed(int rank, int code)
    : Error(fmt::format("rank {} failed (its message is above)", rank)), rank(rank), code(code) {}
PeerFailed::~PeerFailed() = default;

namespace {

// The job's size as the launcher announces it, before MPI is initialized: 0 when not launched.
int launcher_size() {
  for (const char* var : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_NTASKS"}) {
    if (const char* v = std::getenv(var)) {
      // SLURM_NTASKS alone is also set inside `salloc` shells: only count it under srun.
      if (std::string(var) == "SLURM_NTASKS" && !std::getenv("SLURM_STEP_ID")) continue;
      return std::max(1, std::atoi(v));
    }
  }
  return std::getenv("PMIX_RANK") ? 1 : 0;
}

// This process's rank as the launcher announces it (0 if none).
[[maybe_unused]] int launcher_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK", "SLURM_PROCID"}) {
    if (const char* v = std::getenv(var)) return std::atoi(v);
  }
  return 0;
}

}  // namespace

int exit_status(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const PeerFailed& p) {
    return p.code;
  } catch (const InputError&) {
    return 2;
  } catch (...) {
    return 1;
  }
}

bool Cluster::built_with_mpi() {
#ifdef LAMINA_WITH_MPI
  return true;
#else
  return false;
#endif
}

Cluster::Cluster(int rank, int size) : rank_(rank), size_(size) {}

int Cluster::rank() const { return rank_; }
int Cluster::size() const { return size_; }

void Cluster::agree(const std::function<void()>& step) {
  std::exception_ptr mine;
  try {
    step();
  } catch (...) {
    mine = std::current_exception();
  }
  // Each rank fills its own slot of a zeroed table: the sum is everyone's outcome.
  std::vector<double> all(static_cast<std::size_t>(size_) * 2, 0.0);  // (failed rank, code) per rank
  all[static_cast<std::size_t>(rank_) * 2] = mine ? rank_ : size_;
  all[static_cast<std::size_t>(rank_) * 2 + 1] = mine ? exit_status(mine) : 0;
  allreduce_sum(all);
  int first = size_, first_code = 0;
  for (int r = 0; r < size_; ++r) {
    const int failed = static_cast<int>(all[static_cast<std::size_t>(r) * 2]);
    if (failed < first) {
      first = failed;
      first_code = static_cast<int>(all[static_cast<std::size_t>(r) * 2 + 1]);
    }
  }
  if (first == size_) return;
  shared_failure_ = true;
  if (first == rank_) std::rethrow_exception(mine);
  throw PeerFailed(first, first_code);
}

#ifdef LAMINA_WITH_MPI

std::unique_ptr<Cluster> Cluster::join(int& argc, char**& argv) {
  if (launcher_size() == 0) return nullptr;
  int provided = 0;
  // The search's worker threads exchange messages concurrently.
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  std::unique_ptr<Cluster> c(new Cluster(rank, size));
  if (provided < MPI_THREAD_MULTIPLE && size > 1) {
    if (rank == 0) {
      fmt::print(stderr,
                 "lamina: error: this MPI library does not support threads calling it concurrently "
                 "(MPI_THREAD_MULTIPLE), which `lamina search` needs\n");
    }
    c->abort(2);
  }
  return c;
}

Cluster::~Cluster() { MPI_Finalize(); }

void Cluster::allreduce_sum(std::span<float> values) {
  started_ = true;
  MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

void Cluster::allreduce_sum(std::span<double> values) {
  started_ = true;
  MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}

void Cluster::broadcast(std::string& text, int root) {
  started_ = true;
  unsigned long long n = text.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, root, MPI_COMM_WORLD);
  text.resize(n);
  MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, root, MPI_COMM_WORLD);
}

void Cluster::send(int dest, int tag, const std::string& text) {
  started_ = true;
  MPI_Send(text.data(), static_cast<int>(text.size()), MPI_CHAR, dest, tag, MPI_COMM_WORLD);
}

std::string Cluster::receive(int source, int tag) {
  started_ = true;
  // Polls instead of MPI_Probe: OpenMPI's blocking calls spin, and a search's proxy threads on
  // rank 0 would each burn a core the trials need while a remote trial runs. The sleep doubles
  // up to 500 us, small against a trial's epoch.
  MPI_Status status;
  for (int idle = 0, sleep_us = 1;; ++idle) {
    int arrived = 0;
    MPI_Iprobe(source, tag, MPI_COMM_WORLD, &arrived, &status);
    if (arrived) break;
    if (idle < 100) continue;
    std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
    sleep_us = std::min(500, 2 * sleep_us);
  }
  int n = 0;
  MPI_Get_count(&status, MPI_CHAR, &n);
  std::string text(static_cast<std::size_t>(n), '\0');
  MPI_Recv(text.data(), n, MPI_CHAR, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
  return text;
}

void Cluster::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

#else  // a build without MPI: never part of a job, but refuses to be N copies of one

std::unique_ptr<Cluster> Cluster::join(int&, char**&) {
  const int n = launcher_size();
  if (n > 1) {
    if (launcher_rank() > 0) throw PeerFailed(0, 2);  // rank 0 says it, once
    throw InputError(
        fmt::format("started as one of {} MPI ranks, but this lamina was built without MPI (LAMINA_WITH_MPI=OFF): "
                    "install libopenmpi-dev and rebuild, or run it without mpirun",
                    n));
  }
  return nullptr;
}

Cluster::~Cluster() = default;
void Cluster::allreduce_sum(std::span<float>) {}
void Cluster::allreduce_sum(std::span<double>) {}
void Cluster::broadcast(std::string&, int) {}
void Cluster::send(int, int, const std::string&) {}
std::string Cluster::receive(int, int) { return {}; }
void Cluster::abort(int code) { std::_Exit(code); }

#endif

}  // namespace lamina
