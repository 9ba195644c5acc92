#include "search/mpi_executor.hpp"

#include <fmt/format.h>
#include <omp.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "lamina/error.hpp"

namespace lamina::detail {

using json = nlohmann::ordered_json;

namespace protocol {
std::string task(const Task& t, const std::vector<std::string>& overrides, const std::vector<std::uint64_t>& seeds) {
  return json{{"trial", t.id}, {"overrides", overrides}, {"seeds", seeds}}.dump();
}
std::string stop() { return json{{"stop", true}}.dump(); }
std::string score(double s) { return json{{"score", s}}.dump(); }
std::string prune(bool p) { return json{{"prune", p}}.dump(); }
std::string outcome(const Outcome& o) {
  return json{{"status", std::string(status_name(o.status))}, {"error", o.error}, {"repeat_scores", o.repeat_scores},
              {"objectives", o.objectives}}
      .dump();
}
std::string fatal(const std::string& why) { return json{{"fatal", why}}.dump(); }
}  // namespace protocol

namespace {

// A remote trial's epochs go to rank 0, whose answer says whether to stop.
class RemoteObserver final : public ScoreObserver {
 public:
  RemoteObserver(Cluster& cluster, int slot, const Metric& metric) : ScoreObserver(metric), cluster_(cluster), slot_(slot) {}
  bool on_score(double score) override {
    cluster_.send(0, slot_, protocol::score(score));
    return json::parse(cluster_.receive(0, slot_)).at("prune").get<bool>();
  }

 private:
  Cluster& cluster_;
  int slot_;
};

TrialStatus status_of(const std::string& word) {
  for (auto s : {TrialStatus::Ok, TrialStatus::Diverged, TrialStatus::Failed}) {
    if (word == status_name(s)) return s;
  }
  throw Error(fmt::format("search protocol: unknown trial status '{}'", word));
}

}  // namespace

Outcome MpiExecutor::run(int slot, const Task& task, const EpochReport& report, std::stop_token stop) {
  const int rank = 1 + slot / workers_, tag = slot % workers_;
  cluster_.send(rank, tag, protocol::task(task, trial_overrides(spec_, task), repeat_seeds(spec_, task.id)));
  for (;;) {
    const json m = json::parse(cluster_.receive(rank, tag));
    if (m.contains("fatal")) throw Error(m.at("fatal").get<std::string>());
    if (m.contains("status")) {
      return Outcome{status_of(m.at("status").get<std::string>()), m.at("error").get<std::string>(),
                     m.at("repeat_scores").get<std::vector<std::vector<double>>>(),
                     m.at("objectives").get<std::vector<double>>()};
    }
    const bool prune = report(m.at("score").get<double>());
    cluster_.send(rank, tag, protocol::prune(prune || stop.stop_requested()));
  }
}

void MpiExecutor::release() {
  for (int rank = 1; rank < cluster_.size(); ++rank) {
    for (int tag = 0; tag < workers_; ++tag) cluster_.send(rank, tag, protocol::stop());
  }
}

void serve_remote_trials(Cluster& cluster, int workers, const SearchSpec& spec, const Registry& registry,
                         const DataSplits& data) {
  std::vector<std::thread> threads;
  for (int slot = 0; slot < workers; ++slot) {
    threads.emplace_back([&, slot] {
      omp_set_num_threads(1);  // one thread per trial, as on rank 0
      for (;;) {
        const json message = json::parse(cluster.receive(0, slot));
        if (message.contains("stop")) return;
        RemoteObserver observer(cluster, slot, spec.metric);
        try {
          const Outcome o = train_trial(spec, registry, data, message.at("overrides").get<std::vector<std::string>>(),
                                        observer, message.at("seeds").get<std::vector<std::uint64_t>>());
          cluster.send(0, slot, protocol::outcome(o));
        } catch (const std::exception& e) {
          // What stops a local search (out of memory) stops this one, reported by rank 0.
          cluster.send(0, slot, protocol::fatal(fmt::format("rank {}: {}", cluster.rank(), e.what())));
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace lamina::detail
