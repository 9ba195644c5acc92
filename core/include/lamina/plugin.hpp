// Declaring a plugin. A plugin is a shared library that includes only lamina/ headers, links
// only lamina::sdk, and ends with one LAMINA_PLUGIN line:
//
//   #include <lamina/plugin.hpp>
//   static void register_types(lamina::Registrar& r) { r.add<lamina::Layer>("leaky_relu", ...); }
//   LAMINA_PLUGIN("leaky_relu", "1.0.0", "LeakyReLU activation", register_types)
//
// The macro exports exactly one symbol, `lamina_plugin_entry`, returning the info record. The
// loader reads abi_version and the fingerprint before calling anything that takes a C++ type,
// then calls register_types explicitly — no static-initializer registration, which would run
// before any check and vanish in static builds.
#pragma once

#include <cstdint>

#include "lamina/abi.hpp"
#include "lamina/registrar.hpp"

extern "C" {
// The first two fields never move, whatever the ABI version: the loader reads them first.
struct lamina_plugin_info {
  std::uint32_t abi_version;
  std::uint32_t info_size;  // sizeof(lamina_plugin_info) as the plugin saw it
  const char* fingerprint;
  const char* lamina_version;  // the SDK it was built against, "0.1.0": shown, never compared
  const char* name;
  const char* version;
  const char* description;
  void (*register_types)(lamina::Registrar& registrar);
};
}

#define LAMINA_PLUGIN_ENTRY_SYMBOL "lamina_plugin_entry"

// Plugins are built with hidden visibility; this one function is what they export.
#define LAMINA_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

#define LAMINA_PLUGIN(NAME, VERSION, DESCRIPTION, REGISTER_FN)                                                      \
  LAMINA_PLUGIN_EXPORT const lamina_plugin_info* lamina_plugin_entry() {                                            \
    static const lamina_plugin_info info = {LAMINA_ABI_VERSION, sizeof(lamina_plugin_info), LAMINA_FINGERPRINT,     \
                                            LAMINA_VERSION_STRING, NAME, VERSION, DESCRIPTION, &REGISTER_FN};       \
    return &info;                                                                                                   \
  }
