// The report of `lamina check`: one PASS/FAIL line per check, and the verdict's counts.
#pragma once

#include <fmt/format.h>

#include <ostream>
#include <string>
#include <vector>

#include "lamina/gradcheck.hpp"

namespace lamina::detail {

class Report {
 public:
  explicit Report(std::ostream& out) : out_(out) {}
  void add(bool ok, const std::string& check, const std::string& detail) {
    ++total_;
    failed_ += !ok;
    out_ << fmt::format("{} {:<28} {}", ok ? "PASS" : "FAIL", check, detail) << "\n";
  }
  void grad(const std::string& check, const std::vector<GradCheckResult>& results) {
    bool ok = true;
    std::string detail;
    for (const auto& r : results) {
      ok = ok && r.ok;
      detail += fmt::format("{}{} {:.2e}", detail.empty() ? "max relative error: " : ", ", r.tensor, r.max_error);
    }
    add(ok, check, detail);
  }
  void note(const std::string& text) { out_ << text << "\n"; }
  bool passed() const { return failed_ == 0; }
  int total() const { return total_; }
  int failed() const { return failed_; }

 private:
  std::ostream& out_;
  int total_ = 0, failed_ = 0;
};

}  // namespace lamina::detail
