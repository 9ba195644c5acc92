// Per-parameter optimizer state ("slots": velocities, squared-gradient sums, moments), keyed by
// the parameter's stable name, created zero-filled on first use with the parameter's shape.
// Keying by name, not address, is what lets the state be saved and resumed.
//
//   lamina::Slots velocity_;
//   Tensor& v = velocity_.get(param);    // zeros of param.value's shape on the first step
#pragma once

#include <map>
#include <string>
#include <vector>

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

}  // namespace lamina
