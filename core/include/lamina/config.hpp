// Config: a read-only view of one YAML mapping, bound to the Schema of the type it configures.
// Factories receive one; it has already been validated against the schema (unknown keys,
// types, ranges), so a factory only reads values:
//
//   auto units = cfg.get<std::int64_t>("units");
//   auto init  = cfg.make<lamina::Initializer>("init");
//   auto csv   = cfg.file("train");        // a Key::path, relative to the YAML file's folder
//   if (units > 4096 && !cfg.get<bool>("allow_big")) cfg.fail("units", "is too large");
//
// get<T>() returns the value in the file or the schema's default. Supported T: bool, int,
// std::int64_t, float, double, std::string. Every error names file:line:column, the key path
// ("layers.2.units"), what was expected and what was found.
#pragma once

#include <array>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lamina/error.hpp"
#include "lamina/kind.hpp"
#include "lamina/schema.hpp"

namespace lamina {

namespace detail {
struct ConfigAccess;
}

class LAMINA_API Config {
 public:
  struct Impl;  // the YAML node, the file name, the schema: private to Lamina's own libraries

  // An unvalidated spec from YAML text, to hand to a host's create (lamina/embed.hpp) — for
  // tests and tools:  host.create<Layer>(Config::parse("{type: affine, units: 3}"));
  static Config parse(const std::string& yaml, const std::string& name = "<inline>");

  template <class T>
  T get(std::string_view key) const;
  bool has(std::string_view key) const;   // present in the file (not just defaulted)
  // A Key::path value, resolved against the folder of the YAML file that holds it.
  std::filesystem::path file(std::string_view key) const;
  // A Key::sizes value: {n} for `3`, {h, w} for `[3, 5]`, {} for a word (read it with
  // get<std::string>).
  std::vector<std::int64_t> sizes(std::string_view key) const;
  // A Key::numbers value; {} when the key is optional and left out.
  std::vector<double> numbers(std::string_view key) const;
  // A Key::strings value, one string given alone as a list of one; {} when left out.
  std::vector<std::string> strings(std::string_view key) const;
  // For a type whose schema has Key::others(): the mapping's keys the schema does not declare,
  // as a JSON object text ({"beta": 1.5, "names": ["a", "b"]}; YAML scalars typed as YAML reads
  // them, a quoted one kept a string). "{}" when there are none.
  std::string others_json() const;

  // Builds the component named by a Component key through the registry.
  template <class T>
  std::unique_ptr<T> make(std::string_view key) const {
    return std::unique_ptr<T>(static_cast<T*>(make_component(key, T::kind).release()));
  }

  const std::string& type() const;                     // the `type:` of this mapping
  const std::string& path() const;                     // "layers.0", "optimizer", ...
  std::string where(std::string_view key = {}) const;  // "model.yaml:3:14"
  [[noreturn]] void fail(std::string_view key, std::string_view what) const;

  const Schema& schema() const;

 private:
  friend struct detail::ConfigAccess;
  explicit Config(std::shared_ptr<const Impl> impl);
  std::unique_ptr<void, void (*)(void*)> make_component(std::string_view key, Kind kind) const;
  std::shared_ptr<const Impl> impl_;
};

// A Key::sizes value as (rows, columns): {3} gives {3, 3}, {3, 5} stays. Call it on a value
// that is not a word (sizes() gives {} for `same`).
inline std::array<std::int64_t, 2> rows_cols(const std::vector<std::int64_t>& sizes) {
  if (sizes.empty()) throw Error("rows_cols: the sizes value is a word, not numbers");
  return {sizes[0], sizes.size() > 1 ? sizes[1] : sizes[0]};
}

}  // namespace lamina
