// Registrar: the plugin's side of the registry. A plugin's registration function receives one
// and can only add types to it; looking types up, creating them and recording which plugin
// provided what belong to the host (the runtime's Registry), which a plugin never sees.
//
//   void register_types(lamina::Registrar& r) {
//     r.add<lamina::Layer>("affine", "fully connected layer y = xW + b", affine_keys(),
//                          [](const lamina::Config& c) { return std::make_unique<Affine>(c); });
//   }
//
// Type names are lower_snake_case; a name taken twice within a kind is an error naming both
// plugin files. The host validates the YAML against the type's keys before the factory runs
// and turns any exception thrown by the factory into a lamina::Error naming the plugin.
// Registration is all or nothing: if the registration function throws, none of the types it
// added stays registered.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "lamina/config.hpp"
#include "lamina/export.hpp"
#include "lamina/kind.hpp"
#include "lamina/schema.hpp"

namespace lamina {

class LAMINA_API Registrar {
 public:
  // A component whose static type the host knows only by its Kind.
  using Erased = std::unique_ptr<void, void (*)(void*)>;
  using ErasedFactory = std::function<Erased(const Config&)>;

  // T is a kind interface (Layer, Loss, ...); `factory(const Config&)` returns a
  // std::unique_ptr to a T (or to a class derived from it).
  template <class T, class F>
  void add(std::string name, std::string summary, Schema keys, F factory) {
    add_erased(T::kind, std::move(name), std::move(summary), std::move(keys),
               [f = std::move(factory)](const Config& c) -> Erased {
                 std::unique_ptr<T> made = f(c);
                 return Erased(made.release(), [](void* p) { delete static_cast<T*>(p); });
               });
  }

 protected:
  Registrar() = default;
  Registrar(const Registrar&) = delete;
  Registrar& operator=(const Registrar&) = delete;
  ~Registrar() = default;  // not owned through this view

 private:
  virtual void add_erased(Kind kind, std::string name, std::string summary, Schema keys, ErasedFactory factory) = 0;
};

}  // namespace lamina
