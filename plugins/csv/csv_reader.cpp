// CSV data: one sample per row, the targets in the target columns (an integer class, K numbers
// or K labels of 0 and 1; none for prediction inputs) and numeric features in every other
// column. Parsing (quotes, delimiters, line ends) is libcsv's; this file only checks what the
// rows mean, naming the file and line of the first bad cell.
#include <csv.h>
#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>

#include "csv_reader.hpp"

namespace fs = std::filesystem;

namespace lamina_csv {

using lamina::InputError;

namespace {

// A cell as it may be printed in a one-line message: no control bytes, not too long.
std::string printable(std::string_view text, std::size_t max = 60) {
  std::string out;
  for (char ch : text.substr(0, max)) {
    const auto c = static_cast<unsigned char>(ch);
    out += c >= 0x20 && c < 0x7f ? std::string(1, ch) : fmt::format("\\x{:02x}", c);
  }
  if (text.size() > max) out += "...";
  return out;
}

struct RowCollector {
  std::string file;
  CsvOptions options;
  std::vector<std::int64_t> target_of;  // per column: its place among the targets, or -1
  std::int64_t line = 0;  // 1-based line of the row being parsed (rows hold no newlines)
  std::vector<std::string> row;
  std::size_t columns = 0;
  lamina::SampleSet out;

  std::string where() const { return fmt::format("{}:{}", file, line); }

  static bool numeric(const std::string& s, double& v) {
    const char* b = s.data();
    const char* e = b + s.size();
    while (b != e && *b == ' ') ++b;
    while (e != b && (e[-1] == ' ' || e[-1] == '\r')) --e;
    if (b != e && *b == '+') ++b;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec == std::errc::result_out_of_range && p == e && b != e) {
      v = HUGE_VAL;  // reported as not finite rather than as not a number
      return true;
    }
    return ec == std::errc() && p == e && b != e;
  }

  // Resolves the target columns against the first row (a header name needs a header).
  void find_targets(const std::vector<std::string>& first, bool header) {
    target_of.assign(columns, -1);
    const auto& names = options.target_columns;
    for (std::size_t t = 0; t < names.size(); ++t) {
      std::int64_t index = -1;
      const std::string& name = names[t];
      const bool digits = !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
      if (digits) {
        index = name.size() > 7 ? static_cast<std::int64_t>(columns) : std::stoll(name);
        if (index >= static_cast<std::int64_t>(columns)) {
          throw InputError(
              fmt::format("{}: {} {} is outside the file's {} columns", where(), options.key, name, columns));
        }
      } else {
        for (std::size_t c = 0; c < first.size() && header; ++c) {
          if (first[c] == name) index = static_cast<std::int64_t>(c);
        }
        if (index < 0) {
          throw InputError(header ? fmt::format("{}: no column is named '{}' in the header", where(), printable(name))
                                  : fmt::format("{}: target column '{}' is a name but the file has no header row",
                                                where(), printable(name)));
        }
      }
      if (target_of[static_cast<std::size_t>(index)] >= 0) {
        throw InputError(fmt::format("{}: column {} is named twice among the target columns", where(), index + 1));
      }
      target_of[static_cast<std::size_t>(index)] = static_cast<std::int64_t>(t);
    }
  }

  void end_row() {
    ++line;
    if (row.empty()) return;
    std::vector<std::string> cells;
    cells.swap(row);
    const auto targets = static_cast<std::int64_t>(options.target_columns.size());
    if (columns == 0) {
      bool all_numeric = true;
      double v;
      for (const auto& c : cells) all_numeric = all_numeric && numeric(c, v);
      const bool header = options.header == "true" || (options.header == "auto" && !all_numeric);
      columns = cells.size();
      if (static_cast<std::int64_t>(columns) < targets + 1) {
        throw InputError(targets == 1 ? fmt::format("{}: a row needs a label and at least one feature, found {} column",
                                                    where(), columns)
                                      : fmt::format("{}: a row needs {} target columns and at least one feature, "
                                                    "found {} column",
                                                    where(), targets, columns));
      }
      find_targets(cells, header);
      out.sample_shape = lamina::Shape{static_cast<std::int64_t>(columns) - targets};
      if (targets > 0) {
        out.target_kind = options.task == Task::Regression   ? lamina::TargetKind::Regression
                          : options.task == Task::MultiLabel ? lamina::TargetKind::MultiLabel
                                                             : lamina::TargetKind::Class;
        out.target_width = targets;
      }
      if (header) return;
    }
    if (cells.size() != columns) {
      throw InputError(fmt::format("{}: row has {} columns but the first row has {}", where(), cells.size(), columns));
    }
    const std::size_t first_target = out.target_values.size();
    if (options.task != Task::Classification) out.target_values.resize(first_target + static_cast<std::size_t>(targets));
    for (std::size_t c = 0; c < cells.size(); ++c) {
      double v = 0;
      if (!numeric(cells[c], v)) {
        throw InputError(
            fmt::format("{}: column {}: '{}' is not a number", where(), c + 1, printable(cells[c])));
      }
      if (!std::isfinite(v)) {
        throw InputError(
            fmt::format("{}: column {}: '{}' is not a finite number", where(), c + 1, printable(cells[c])));
      }
      const std::int64_t t = target_of[c];
      if (t < 0) {
        out.values.push_back(static_cast<float>(v));
      } else if (options.task == Task::Classification) {
        if (v < 0 || v != std::floor(v) || v > 1e6) {
          throw InputError(fmt::format("{}: column {}: label '{}' is not a class number (an integer from 0 to 1000000)", where(),
                                       c + 1, printable(cells[c])));
        }
        out.labels.push_back(static_cast<std::int32_t>(v));
      } else {
        if (options.task == Task::MultiLabel && v != 0 && v != 1) {
          throw InputError(fmt::format("{}: column {}: label '{}' is not 0 or 1 (a multi-label target)", where(), c + 1,
                                       printable(cells[c])));
        }
        if (options.task == Task::Regression && std::abs(v) > 3.4e38) {
          throw InputError(fmt::format("{}: column {}: target '{}' does not fit a float", where(), c + 1,
                                       printable(cells[c])));
        }
        out.target_values[first_target + static_cast<std::size_t>(t)] = static_cast<float>(v);
      }
    }
    ++out.count;
  }
};

void on_field(void* s, std::size_t len, void* data) {
  auto* rc = static_cast<RowCollector*>(data);
  rc->row.emplace_back(static_cast<const char*>(s), len);
}

void on_row(int, void* data) {
  auto* rc = static_cast<RowCollector*>(data);
  rc->end_row();
}

}  // namespace

lamina::SampleSet read_csv(const fs::path& file, std::int64_t label_column, const std::string& header) {
  CsvOptions o;
  if (label_column >= 0) o.target_columns = {std::to_string(label_column)};
  o.key = "label_column";
  o.header = header;
  return read_csv(file, o);
}

lamina::SampleSet read_csv(const fs::path& file, const CsvOptions& options) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw InputError(fmt::format("{}: is a directory, not a data file", file.string()));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open: {}", file.string(), std::strerror(errno)));

  RowCollector rc;
  rc.file = file.string();
  rc.options = options;
  rc.out.origin = rc.file;
  rc.out.labels_origin = rc.file;

  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) throw lamina::Error("libcsv: cannot initialise");
  std::exception_ptr failure;
  struct Guard {
    csv_parser* p;
    ~Guard() { csv_free(p); }
  } guard{&parser};

  // libcsv calls back from C: an exception must not unwind through it, so the first one is
  // stored and rethrown after csv_parse returns.
  auto row_cb = [](int c, void* data) {
    auto* pair = static_cast<std::pair<RowCollector*, std::exception_ptr*>*>(data);
    if (*pair->second) return;
    try {
      on_row(c, pair->first);
    } catch (...) {
      *pair->second = std::current_exception();
    }
  };
  auto field_cb = [](void* s, std::size_t len, void* data) {
    auto* pair = static_cast<std::pair<RowCollector*, std::exception_ptr*>*>(data);
    if (!*pair->second) on_field(s, len, pair->first);
  };
  std::pair<RowCollector*, std::exception_ptr*> ctx{&rc, &failure};

  std::vector<char> buf(1 << 16);
  bool first = true;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = static_cast<std::size_t>(in.gcount());
    if (n == 0) break;
    const char* from = buf.data();
    // A UTF-8 byte-order mark (spreadsheets write one) is not part of the first field: left in,
    // it turns a first row of numbers into text, which `header: auto` takes for a header.
    if (first && n >= 3 && std::memcmp(from, "\xEF\xBB\xBF", 3) == 0) {
      from += 3;
      n -= 3;
    }
    first = false;
    if (csv_parse(&parser, from, n, field_cb, row_cb, &ctx) != n) {
      throw InputError(fmt::format("{}:{}: malformed CSV: {}", rc.file, rc.line + 1, csv_strerror(csv_error(&parser))));
    }
    if (failure) std::rethrow_exception(failure);
  }
  if (csv_fini(&parser, field_cb, row_cb, &ctx) != 0) {
    throw InputError(fmt::format("{}:{}: malformed CSV: {}", rc.file, rc.line + 1, csv_strerror(csv_error(&parser))));
  }
  if (failure) std::rethrow_exception(failure);
  if (rc.out.count == 0) throw InputError(fmt::format("{}: no data rows", rc.file));
  return std::move(rc.out);
}

}  // namespace lamina_csv
