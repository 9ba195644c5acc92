// Registry: the host's table of kind + type name -> factory, one-line summary, keys, and the
// plugin that provided it. Plugins never see it: their registration function gets a
// Registrar (lamina/registrar.hpp) that can only add; the plugin loader stages what a plugin
// adds and commits it here only when the registration function returned (all or nothing).
// The model builder creates from it.
//
// create() validates the YAML against the type's keys before the factory runs and turns any
// exception thrown by plugin code into a lamina::Error naming the plugin.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "config_impl.hpp"
#include "lamina/config.hpp"
#include "lamina/kind.hpp"
#include "lamina/registrar.hpp"
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

class Registry final : public ComponentFactory {
 public:
  using Erased = Registrar::Erased;
  using ErasedFactory = Registrar::ErasedFactory;

  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // `spec` is an unbound Config of the component's mapping (or bare type name). Keys listed in
  // `builder_keys` are handled by the caller (e.g. a layer's `regularizer`) and accepted here.
  template <class T>
  std::unique_ptr<T> create(const Config& spec, std::span<const std::string> builder_keys = {}) const {
    return std::unique_ptr<T>(static_cast<T*>(create_erased(T::kind, spec, builder_keys).release()));
  }
  Erased create_erased(Kind kind, const Config& spec, std::span<const std::string> builder_keys) const;
  Erased create_erased(Kind kind, const Config& spec) const override { return create_erased(kind, spec, {}); }

  // The two halves of create(): bind() finds the type and validates the mapping against its
  // keys; create_bound() runs the factory on the bound Config. `type_key` is the key naming
  // the type (data's is `source`), `default_type` the type when the mapping has none. A type
  // written with '-' for '_' (fashion-mnist) is found.
  Config bind(Kind kind, const Config& spec, std::span<const std::string> builder_keys = {},
              std::string_view type_key = "type", std::string_view default_type = {}) const;
  Erased create_bound(Kind kind, const Config& bound) const;

  const TypeInfo* find(Kind kind, std::string_view name) const;
  std::vector<const TypeInfo*> find_all(std::string_view name) const;  // in any kind
  std::vector<const TypeInfo*> list() const;                           // sorted by kind, name
  std::vector<std::string> names(Kind kind) const;

  // The view a registration function gets: checks each addition at once (name, keys, clashes
  // with the registry and with the plugin's own earlier additions) but keeps them aside until
  // commit(). Dropped without commit(), it leaves the registry as it was.
  class Staging final : public Registrar {
   public:
    Staging(Registry& registry, Provider provider) : registry_(registry), provider_(std::move(provider)) {}
    void commit();

   private:
    void add_erased(Kind kind, std::string name, std::string summary, Schema keys, ErasedFactory factory) override;
    Registry& registry_;
    Provider provider_;
    std::vector<std::pair<TypeInfo, ErasedFactory>> staged_;
  };

  // Types of the core itself (tests, tools): added at once, provided by "the core".
  template <class T, class F>
  void add(std::string name, std::string summary, Schema keys, F factory) {
    Staging s(*this, {});
    s.add<T>(std::move(name), std::move(summary), std::move(keys), std::move(factory));
    s.commit();
  }

 private:
  struct Entry {
    TypeInfo info;
    ErasedFactory factory;
  };
  std::map<std::pair<Kind, std::string>, Entry, std::less<>> entries_;
};

}  // namespace lamina
