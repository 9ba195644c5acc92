#include "search/journal.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <sstream>

#include "atomic_file.hpp"
#include "search/space_tree.hpp"
#include "lamina/error.hpp"

namespace fs = std::filesystem;

namespace lamina::detail {

Journal::Journal(const fs::path& file, const std::string& fingerprint, const std::string& metric,
                 bool higher_is_better, const std::vector<std::pair<std::string, bool>>& objectives)
    : file_(file) {
  fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(fmt::format("{}: cannot write the journal: {}", file.string(), std::strerror(errno)));
  // Held until the search ends (or dies: the kernel drops it): two searches appending to one
  // journal would interleave their trials.
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw InputError(err == EWOULDBLOCK
                         ? fmt::format("{}: another lamina search is running in this folder; wait for it to "
                                       "finish or use another --out",
                                       file.string())
                         : fmt::format("{}: cannot lock the journal: {}", file.string(), std::strerror(err)));
  }
  try {
    read_and_repair(fingerprint, metric, higher_is_better, objectives);
  } catch (...) {
    ::close(fd_);  // a constructor that throws gets no destructor
    fd_ = -1;
    throw;
  }
}

void Journal::read_and_repair(const std::string& fingerprint, const std::string& metric, bool higher_is_better,
                              const std::vector<std::pair<std::string, bool>>& objectives) {
  const fs::path& file = file_;
  const std::string text = read_whole_file(file, "the journal", kTextCap);
  // Only complete lines count: whatever follows the last newline is a torn write.
  const auto end = text.rfind('\n');
  const std::size_t complete = end == std::string::npos ? 0 : end + 1;
  std::istringstream lines(text.substr(0, complete));
  std::string line;
  std::int64_t n = 0;
  while (std::getline(lines, line)) {
    ++n;
    nlohmann::ordered_json j;
    try {
      j = nlohmann::ordered_json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(fmt::format("{}:{}: not a journal line: {}", file.string(), n, e.what()));
    }
    if (n == 1) {
      if (j.is_object() && j.contains("lamina_search") && j["lamina_search"] != kJournalVersion) {
        // Version 1 numbered rounds from 0 and drew trials from other random streams.
        throw InputError(
            fmt::format("{}: this journal was written by another Lamina version (journal format {}, "
                        "this one writes {}); its trials cannot be resumed: use another --out "
                        "folder or remove it",
                        file.string(), j["lamina_search"].dump(), kJournalVersion));
      }
      if (!j.is_object() || !j.contains("lamina_search") || !j.contains("fingerprint") ||
          j["fingerprint"] != fingerprint) {
        throw InputError(
            fmt::format("{}: this journal belongs to another search (the search file, its base model or "
                        "its budget changed); use another --out folder or remove it",
                        file.string()));
      }
      continue;
    }
    if (!j.is_object() || !j.contains("trial") || !j["trial"].is_number_integer()) {
      throw InputError(fmt::format("{}:{}: a journal line without a trial number", file.string(), n));
    }
    const auto id = j["trial"].get<std::int64_t>();
    // Written once per trial by the search; a second record (an edit, two journals pasted
    // together) would silently replace the first one's score.
    if (const auto first = lines_.find(id); first != lines_.end()) {
      throw InputError(fmt::format("{}:{}: a second record of trial {} (the first is on line {}); a trial is "
                                   "recorded once: remove one of the two lines",
                                   file.string(), n, id, first->second));
    }
    lines_[id] = n;
    finished_[id] = j;
  }

  if (::ftruncate(fd_, static_cast<off_t>(complete)) != 0 || ::lseek(fd_, 0, SEEK_END) < 0) {
    throw Error(fmt::format("{}: cannot repair the journal: {}", file.string(), std::strerror(errno)));
  }
  if (complete == 0) {
    nlohmann::ordered_json header;
    header["lamina_search"] = kJournalVersion;
    header["metric"] = metric;
    header["higher_is_better"] = higher_is_better;
    if (!objectives.empty()) {
      header["objectives"] = nlohmann::ordered_json::array();
      for (const auto& [name, higher] : objectives) header["objectives"].push_back({{"name", name}, {"higher_is_better", higher}});
    }
    header["fingerprint"] = fingerprint;
    append(header);
  }
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t Journal::append(const nlohmann::ordered_json& trial) {
  const std::string line = trial.dump() + "\n";
  std::lock_guard lock(mu_);
  std::size_t done = 0;
  while (done < line.size()) {
    const ssize_t w = ::write(fd_, line.data() + done, line.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) throw Error(fmt::format("{}: cannot append: {}", file_.string(), std::strerror(errno)));
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd_) != 0) throw Error(fmt::format("{}: cannot sync: {}", file_.string(), std::strerror(errno)));
  if (trial.contains("trial")) finished_[trial["trial"].get<std::int64_t>()] = trial;
  return finished_.size();
}

nlohmann::ordered_json trial_to_json(const Trial& t, const SearchSpace& space, double seconds,
                                     const std::string& error, const std::vector<std::vector<double>>& repeat_scores,
                                     const std::vector<std::pair<std::string, double>>& objectives) {
  nlohmann::ordered_json j;
  j["trial"] = t.id;
  j["round"] = t.round + 1;
  nlohmann::ordered_json values = nlohmann::ordered_json::object();
  for (std::size_t d = 0; d < space.dims.size(); ++d) {
    // An inactive dimension of a conditional space is left out, as Optuna leaves out a
    // parameter a trial did not suggest.
    if (is_inactive(t.values[d])) continue;
    values[space.dims[d].path] = {{"text", t.values[d].text}, {"number", t.values[d].number}};
  }
  j["values"] = values;
  j["scores"] = t.scores;
  if (!repeat_scores.empty()) j["repeat_scores"] = repeat_scores;
  if (!objectives.empty()) {
    j["objectives"] = nlohmann::ordered_json::object();
    for (const auto& [name, value] : objectives) j["objectives"][name] = value;
  }
  const bool scored = !t.scores.empty() && (t.status == TrialStatus::Ok || t.status == TrialStatus::Pruned);
  j["score"] = scored ? nlohmann::ordered_json(t.scores.back()) : nlohmann::ordered_json();
  j["status"] = std::string(status_name(t.status));
  j["seconds"] = std::round(seconds * 1000) / 1000;
  if (!error.empty()) j["error"] = error;
  return j;
}

Trial trial_from_json(const nlohmann::ordered_json& j, const SearchSpace& space, const Journal& journal) {
  Trial t;
  try {
    // at(), not operator[]: on a const json a missing key is undefined behaviour with [].
    t.id = j.at("trial").get<std::int64_t>();
    t.round = j.at("round").get<std::int64_t>() - 1;
    const auto& values = j.at("values");
    for (const auto& d : space.dims) {
      if (!values.contains(d.path)) {  // inactive; whether it may be is checked against the space's tree
        t.values.push_back(inactive_value());
        continue;
      }
      const auto& v = values.at(d.path);
      t.values.push_back({v.at("text").get<std::string>(), v.at("number").get<double>()});
    }
    for (const auto& s : j.at("scores")) t.scores.push_back(s.get<double>());
    const std::string status = j.at("status").get<std::string>();
    t.status = TrialStatus::Running;
    for (auto s : {TrialStatus::Ok, TrialStatus::Pruned, TrialStatus::Diverged, TrialStatus::Failed}) {
      if (status == status_name(s)) t.status = s;
    }
    if (t.status == TrialStatus::Running) throw InputError(fmt::format("unknown status '{}'", status));
  } catch (const std::exception& e) {
    throw InputError(
        fmt::format("{}: trial {} is not a journal record of this search ({}); remove its line to "
                    "rerun it",
                    journal.file().string(), j.value("trial", nlohmann::ordered_json()).dump(), e.what()));
  }
  return t;
}

JournalContents read_journal(const std::string& text) {
  JournalContents c;
  std::istringstream lines(text);
  bool first = true;
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      ++c.skipped;
      continue;
    }
    if (first) {
      c.header = std::move(j);
      first = false;
    } else {
      c.trials.push_back(std::move(j));
    }
  }
  return c;
}

}  // namespace lamina::detail
