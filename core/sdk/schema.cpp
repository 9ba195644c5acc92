#include "lamina/schema.hpp"

#include <fmt/format.h>

#include "suggest.hpp"

namespace lamina {

std::string_view key_type_name(KeyType type) {
  switch (type) {
    case KeyType::Bool:
      return "bool";
    case KeyType::Int:
      return "int";
    case KeyType::Float:
      return "float";
    case KeyType::String:
      return "string";
    case KeyType::Component:
      return "component";
    case KeyType::Path:
      return "path";
    case KeyType::Sizes:
      return "sizes";
    case KeyType::Numbers:
      return "numbers";
    case KeyType::Strings:
      return "strings";
    case KeyType::Metric:
      return "metric";
    case KeyType::Others:
      return "others";
  }
  return "unknown";
}

Key::Key(std::string name, KeyType type, std::string doc) : name_(std::move(name)), type_(type), doc_(std::move(doc)) {}

Key Key::boolean(std::string name, std::string doc) { return {std::move(name), KeyType::Bool, std::move(doc)}; }
Key Key::integer(std::string name, std::string doc) { return {std::move(name), KeyType::Int, std::move(doc)}; }
Key Key::number(std::string name, std::string doc) { return {std::move(name), KeyType::Float, std::move(doc)}; }
Key Key::string(std::string name, std::string doc) { return {std::move(name), KeyType::String, std::move(doc)}; }
Key Key::path(std::string name, std::string doc) { return {std::move(name), KeyType::Path, std::move(doc)}; }
Key Key::sizes(std::string name, std::string doc) { return {std::move(name), KeyType::Sizes, std::move(doc)}; }
Key Key::numbers(std::string name, std::string doc) { return {std::move(name), KeyType::Numbers, std::move(doc)}; }
Key Key::strings(std::string name, std::string doc) { return {std::move(name), KeyType::Strings, std::move(doc)}; }
Key Key::metric(std::string name, std::string doc) { return {std::move(name), KeyType::Metric, std::move(doc)}; }
Key Key::others(std::string doc) { return {"...", KeyType::Others, std::move(doc)}; }
Key Key::component(std::string name, Kind kind, std::string doc) {
  Key k(std::move(name), KeyType::Component, std::move(doc));
  k.kind_ = kind;
  return k;
}

Key& Key::required() {
  required_ = true;
  default_.reset();
  return *this;
}
Key& Key::def(bool value) { return def(std::string(value ? "true" : "false")); }
Key& Key::def(long long value) { return def(std::to_string(value)); }
Key& Key::def(double value) { return def(fmt::format("{}", value)); }
Key& Key::def(const char* value) { return def(std::string(value)); }
Key& Key::def(std::string value) {
  default_ = std::move(value);
  required_ = false;
  return *this;
}
Key& Key::at_least(double lo) {
  lo_ = lo;
  lo_open_ = false;
  return *this;
}
Key& Key::above(double lo) {
  lo_ = lo;
  lo_open_ = true;
  return *this;
}
Key& Key::at_most(double hi) {
  hi_ = hi;
  hi_open_ = false;
  return *this;
}
Key& Key::below(double hi) {
  hi_ = hi;
  hi_open_ = true;
  return *this;
}
Key& Key::one_of(std::vector<std::string> choices) {
  choices_ = std::move(choices);
  return *this;
}

std::string Key::expectation() const {
  std::string what;
  switch (type_) {
    case KeyType::Bool:
      return "true or false";
    case KeyType::String:
      return choices_.empty() ? "a string" : "one of: " + detail::join(choices_);
    case KeyType::Path:
      return "a file or folder name";
    case KeyType::Component:
      return fmt::format("{} {} type name or a mapping with `type`", kind_ == Kind::Initializer ? "an" : "a",
                         kind_name(kind_));
    case KeyType::Int:
    case KeyType::Sizes:
      what = "an integer";
      break;
    case KeyType::Float:
    case KeyType::Numbers:
      what = "a number";
      break;
    case KeyType::Strings:
      return "a string or a list of strings";
    case KeyType::Metric:
      return "a measure of a split: train_ or val_ and loss or a metric's name (val_loss, val_accuracy)";
    case KeyType::Others:
      return "any other keys, with any values";
  }
  if (lo_ && hi_) {
    what += fmt::format(" in {}{}, {}{}", lo_open_ ? "(" : "[", *lo_, *hi_, hi_open_ ? ")" : "]");
  } else if (lo_) {
    what += fmt::format(" {} {}", lo_open_ ? ">" : ">=", *lo_);
  } else if (hi_) {
    what += fmt::format(" {} {}", hi_open_ ? "<" : "<=", *hi_);
  }
  if (type_ == KeyType::Numbers) what = "a list of numbers, each " + what.substr(what.find(' ') + 1);
  if (type_ == KeyType::Sizes) {
    what += " or a list [h, w] of them";
    if (!choices_.empty()) what += ", or " + detail::join(choices_);
  }
  return what;
}

const Key* find_key(const Schema& schema, std::string_view name) {
  for (const auto& k : schema) {
    if (k.name() == name) return &k;
  }
  return nullptr;
}

}  // namespace lamina
