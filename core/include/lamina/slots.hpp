// Per-parameter optimizer state ("slots": velocities, squared-gradient sums, moments), keyed by
// the parameter's stable name, created zero-filled on first use with the parameter's shape.
// Keying by name, not address, is what lets the state be saved and resumed.
//
//   lamina::Slots velocity_;
//   Tensor& v = velocity_.get(param);    // zeros of param.value's shape on the first step
//   void load_state(std::span<const Buffer> state) override { load_slots(state, {{&velocity_, "v"}}); }
#pragma once

#include <functional>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lamina/error.hpp"
#include "lamina/param.hpp"

namespace lamina {

class Slots {
 public:
  Tensor& get(const Param& p) {
    auto it = slots_.find(p.name);
    if (it == slots_.end()) it = slots_.emplace(p.name, Tensor(p.value.shape())).first;
    return it->second;
  }

  // Checkpoints: each slot as "<param>.<suffix>".
  void save(const std::string& suffix, std::vector<Buffer>& out) const {
    for (const auto& [name, t] : slots_) out.push_back({name + "." + suffix, t.clone()});
  }
  // Takes `b` if its name ends in ".<suffix>"; returns whether it did.
  bool load(const Buffer& b, const std::string& suffix) {
    const std::string tail = "." + suffix;
    if (b.name.size() <= tail.size() || b.name.compare(b.name.size() - tail.size(), tail.size(), tail) != 0)
      return false;
    slots_[b.name.substr(0, b.name.size() - tail.size())] = b.value.clone();
    return true;
  }

 private:
  std::map<std::string, Tensor, std::less<>> slots_;
};

// A checkpoint's state handed to the slots that own it: each buffer goes to the first of
// `owners` whose suffix it ends in, or to `other` (state that is not per parameter, such as
// Adam's step count) when that returns true. A buffer nobody takes is refused, naming it: a
// checkpoint of another optimizer or version must not be half read in silence.
inline void load_slots(std::span<const Buffer> state, std::initializer_list<std::pair<Slots*, const char*>> owners,
                       const std::function<bool(const Buffer&)>& other = {}, std::string_view what = "optimizer") {
  for (const Buffer& b : state) {
    bool taken = other && other(b);
    for (auto it = owners.begin(); !taken && it != owners.end(); ++it) taken = it->first->load(b, it->second);
    if (!taken) throw InputError("unexpected " + std::string(what) + " state '" + b.name + "'");
  }
}

}  // namespace lamina
