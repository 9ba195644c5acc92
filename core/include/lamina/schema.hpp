// The keys a factory accepts. One declaration both validates the YAML (types, ranges, unknown
// keys with "did you mean") and documents the type (`lamina plugins info TYPE`).
//
//   lamina::Schema keys{
//       lamina::Key::integer("units", "number of output units").required().at_least(1),
//       lamina::Key::component("init", Kind::Initializer, "weight initializer").def("he"),
//       lamina::Key::boolean("bias", "add a learnable bias").def(true),
//   };
//
// Defaults are written as YAML text, so the documentation shows exactly what a user would type.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lamina/export.hpp"
#include "lamina/kind.hpp"

namespace lamina {

// Path: a file or folder name; Config::file() resolves it against the folder of the YAML file
// that holds it, and a run's model.yaml records it made absolute.
// Sizes: an integer or a list [h, w] of integers (a kernel, a stride), each in the key's range,
// or one of the words of one_of() (padding: same); read with Config::sizes().
// Metric: a measure of the training or validation split by its metrics.csv column (`val_loss`,
// `train_accuracy`, `val_r2`); read with Config::get<std::string>. The host checks, when the
// model is loaded, that the model reports it (and has a validation split for a val_ one).
// Others: not a key but a declaration that the type takes keys of its own beyond the schema's
// (the `python` layer hands them to a Python class): any other key of the mapping is accepted
// with any YAML value, and read with Config::others_json().
enum class KeyType { Bool, Int, Float, String, Component, Path, Sizes, Numbers, Strings, Metric, Others };

LAMINA_API std::string_view key_type_name(KeyType type);

class LAMINA_API Key {
 public:
  static Key boolean(std::string name, std::string doc);
  static Key integer(std::string name, std::string doc);
  static Key number(std::string name, std::string doc);
  static Key string(std::string name, std::string doc);
  static Key path(std::string name, std::string doc);
  static Key sizes(std::string name, std::string doc);
  // A list of numbers, each within the key's range (`class_weights: [1, 2.5, 1]`); read with
  // Config::numbers().
  static Key numbers(std::string name, std::string doc);
  // One string or a list of them (`target_columns: price` or `[price, 3]`); read with
  // Config::strings().
  static Key strings(std::string name, std::string doc);
  // A measure to watch: "train_" or "val_" and "loss" or one of the model's metrics.
  static Key metric(std::string name, std::string doc);
  // A value naming another registered type: a bare type name ("he") or a mapping with `type`.
  static Key component(std::string name, Kind kind, std::string doc);
  // Accept the mapping's other keys, whatever their values (named "..." in the type's
  // documentation; a YAML mapping cannot have that key). At most one per schema.
  static Key others(std::string doc);

  Key& required();
  Key& def(bool value);
  Key& def(long long value);
  Key& def(int value) { return def(static_cast<long long>(value)); }
  Key& def(double value);
  Key& def(const char* value);
  Key& def(std::string value);
  Key& at_least(double lo);  // lo <= value
  Key& above(double lo);     // lo <  value
  Key& at_most(double hi);   // value <= hi
  Key& below(double hi);     // value <  hi
  Key& one_of(std::vector<std::string> choices);

  const std::string& name() const { return name_; }
  KeyType type() const { return type_; }
  Kind component_kind() const { return kind_; }
  const std::string& doc() const { return doc_; }
  bool is_required() const { return required_; }
  const std::optional<std::string>& default_text() const { return default_; }
  const std::optional<double>& lo() const { return lo_; }
  const std::optional<double>& hi() const { return hi_; }
  bool lo_open() const { return lo_open_; }
  bool hi_open() const { return hi_open_; }
  const std::vector<std::string>& choices() const { return choices_; }
  // "an integer >= 1", "a number in [0, 1)", "one of: inverted, scale_at_eval"
  std::string expectation() const;

 private:
  Key(std::string name, KeyType type, std::string doc);
  std::string name_;
  KeyType type_;
  Kind kind_ = Kind::Layer;
  std::string doc_;
  bool required_ = false;
  std::optional<std::string> default_;
  std::optional<double> lo_, hi_;
  bool lo_open_ = false, hi_open_ = false;
  std::vector<std::string> choices_;
};

using Schema = std::vector<Key>;

LAMINA_API const Key* find_key(const Schema& schema, std::string_view name);

}  // namespace lamina
