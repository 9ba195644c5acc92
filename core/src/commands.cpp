// What the commands share: the checks of request fields every command applies alike, and how
// a command runs under mpirun. Each command is in its own file (train.cpp, eval.cpp, ...).
#include "runtime/commands.hpp"

#include <omp.h>

#include "serve/beside.hpp"

namespace fs = std::filesystem;

namespace lamina {

void set_threads(std::optional<int> threads) {
  if (!threads) return;
  if (*threads < 1 || *threads > 1024) throw RequestError("--threads must be between 1 and 1024");
  omp_set_num_threads(*threads);
}

fs::path dashboard_root(const TrainRequest& req) {
  return req.resume ? detail::parent_folder(*req.resume) : req.out ? detail::parent_folder(*req.out) : fs::path("runs");
}

JobRole job_role(Cluster* cluster, bool job_command) {
  if (!cluster || cluster->size() < 2) return {};
  const bool leader = cluster->rank() == 0;
  if (!job_command) return {leader, leader, nullptr};
  return {true, leader, cluster};
}

bool failure_speaks(const Cluster* cluster) {
  return !cluster || cluster->size() < 2 || cluster->rank() == 0 || cluster->started();
}

void settle_failure(Cluster* cluster, int code) {
  if (cluster && cluster->size() > 1 && !cluster->failure_is_shared()) cluster->abort(code);
}

}  // namespace lamina
