// A search over MPI ranks: rank 0 runs the scheduler, the journal and the output; each other
// rank trains the trials rank 0 hands to its worker slots. The whole message protocol is here,
// both ends of it (JSON text, tag = the worker slot on its rank):
//   0 -> worker  {"trial": id, "overrides": [...]}   or {"stop": true} when the search is over
//   worker -> 0  {"score": s} after each epoch, answered {"prune": bool} (true also when the
//                search stops)
//   worker -> 0  {"status": "ok"|"diverged"|"failed", "error": ...} when the trial ends, or
//                {"fatal": ...} if the worker cannot go on (what would stop a local search)
#pragma once

#include "runtime/cluster.hpp"
#include "search/executor.hpp"

namespace lamina::detail {

// Rank 0's side: one slot per worker of every other rank.
class MpiExecutor final : public Executor {
 public:
  MpiExecutor(Cluster& cluster, const SearchSpec& spec, int workers_per_rank)
      : cluster_(cluster), spec_(spec), workers_(workers_per_rank) {}
  int slots() const override { return (cluster_.size() - 1) * workers_; }
  Outcome run(int slot, const Task& task, const EpochReport& report, std::stop_token stop) override;
  // Tells every worker slot of the other ranks that the search is over.
  void release();

 private:
  Cluster& cluster_;
  const SearchSpec& spec_;
  int workers_;
};

// A rank other than 0: trains what rank 0 hands each of its `workers` slots until told to stop.
void serve_remote_trials(Cluster& cluster, int workers, const SearchSpec& spec, const Registry& registry,
                         const DataSplits& data);

// The messages, as text (exposed for the protocol's tests).
namespace protocol {
std::string task(const Task& task, const std::vector<std::string>& overrides, const std::vector<std::uint64_t>& seeds);
std::string stop();
std::string score(double score);
std::string prune(bool prune);
std::string outcome(const Outcome& o);
std::string fatal(const std::string& why);
}  // namespace protocol

}  // namespace lamina::detail
