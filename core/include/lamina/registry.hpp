// Registry: kind + type name -> factory, one-line summary, keys, and the plugin that provided
// it. Plugins add to it from their registration function; the model builder creates from it.
//
//   void register_types(lamina::Registry& r) {
//     r.add<lamina::Layer>("affine", "fully connected layer y = xW + b", affine_keys(),
//                          [](const lamina::Config& c) { return std::make_unique<Affine>(c); });
//   }
//
// Type names are lower_snake_case; a name taken twice within a kind is an error naming both
// plugin files. create() validates the YAML against the type's keys before the factory runs
// and turns any exception thrown by plugin code into a lamina::Error naming the plugin.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "lamina/config.hpp"
#include "lamina/kind.hpp"
#include "lamina/schema.hpp"

namespace lamina {

struct Provider {
  std::string plugin;   // plugin name, "affine"
  std::string version;  // plugin version, "1.0.0"
  std::string file;     // the shared library it came from
};

struct TypeInfo {
  Kind kind;
  std::string name;
  std::string summary;
  Schema keys;
  Provider provider;
};

class LAMINA_API Registry {
 public:
  using Erased = std::unique_ptr<void, void (*)(void*)>;
  using ErasedFactory = std::function<Erased(const Config&)>;

  template <class T, class F>
  void add(std::string name, std::string summary, Schema keys, F factory) {
    add_erased(T::kind, std::move(name), std::move(summary), std::move(keys),
               [f = std::move(factory)](const Config& c) -> Erased {
                 std::unique_ptr<T> made = f(c);
                 return Erased(made.release(), [](void* p) { delete static_cast<T*>(p); });
               });
  }

  // `spec` is an unbound Config of the component's mapping (or bare type name). Keys listed in
  // `builder_keys` are handled by the caller (e.g. a layer's `regularizer`) and accepted here.
  template <class T>
  std::unique_ptr<T> create(const Config& spec, std::span<const std::string> builder_keys = {}) const {
    return std::unique_ptr<T>(static_cast<T*>(create_erased(T::kind, spec, builder_keys).release()));
  }
  Erased create_erased(Kind kind, const Config& spec, std::span<const std::string> builder_keys = {}) const;

  // The two halves of create(): bind() finds the type and validates the mapping against its
  // keys; create_bound() runs the factory on the bound Config.
  Config bind(Kind kind, const Config& spec, std::span<const std::string> builder_keys = {}) const;
  Erased create_bound(Kind kind, const Config& bound) const;

  const TypeInfo* find(Kind kind, std::string_view name) const;
  std::vector<const TypeInfo*> find_all(std::string_view name) const;  // in any kind
  std::vector<const TypeInfo*> list() const;                           // sorted by kind, name
  std::vector<std::string> names(Kind kind) const;

  // Set by the plugin loader around a plugin's registration function.
  void set_provider(Provider provider) { provider_ = std::move(provider); }

 private:
  struct Entry {
    TypeInfo info;
    ErasedFactory factory;
  };
  void add_erased(Kind kind, std::string name, std::string summary, Schema keys, ErasedFactory factory);
  std::map<std::pair<Kind, std::string>, Entry, std::less<>> entries_;
  Provider provider_;
};

}  // namespace lamina
