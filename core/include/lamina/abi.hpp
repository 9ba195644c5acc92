// The plugin ABI: what a plugin and the core must agree on before any C++ object crosses
// between them. Both values below are compiled into each side from these headers, never typed
// by hand (LLVM's PassPlugin.h does the same with LLVM_PLUGIN_API_VERSION).
//
// LAMINA_ABI_VERSION must be bumped when any of these change:
//   - the layout of lamina_plugin_info (plugin.hpp) after its first two fields,
//   - a virtual function of Layer, Loss, Regularizer, Optimizer, Initializer or SearchStrategy
//     (added, removed, reordered or re-typed),
//   - the layout of Tensor, Shape, Param, Buffer, Context, BuildContext, Provider, TypeInfo,
//     Key or Config, or the signature of Registry::add/create.
// Adding a free function or a new header does not need a bump.
//
// The fingerprint catches what the version cannot: a plugin built by another compiler family,
// another C++ standard library (or its dual ABI), another Lamina major.minor, or with/without
// AddressSanitizer, whose objects would not be layout-compatible with the core's.
#pragma once

#include <cstdint>

#include "lamina/version.hpp"

#define LAMINA_ABI_VERSION 2u  // 2: Context::comm

#define LAMINA_STR_(x) #x
#define LAMINA_STR(x) LAMINA_STR_(x)

#if defined(__clang__)
#define LAMINA_FP_COMPILER "clang-" LAMINA_STR(__clang_major__)
#elif defined(__GNUC__)
#define LAMINA_FP_COMPILER "gcc-" LAMINA_STR(__GNUC__)
#else
#define LAMINA_FP_COMPILER "unknown-compiler"
#endif

#if defined(_LIBCPP_VERSION)
#define LAMINA_FP_STDLIB "libc++-" LAMINA_STR(_LIBCPP_VERSION)
#elif defined(_GLIBCXX_RELEASE)
#define LAMINA_FP_STDLIB "libstdc++-" LAMINA_STR(_GLIBCXX_RELEASE) "-cxx11abi" LAMINA_STR(_GLIBCXX_USE_CXX11_ABI)
#else
#define LAMINA_FP_STDLIB "unknown-stdlib"
#endif

#if defined(__SANITIZE_ADDRESS__)
#define LAMINA_FP_SANITIZER "+asan"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LAMINA_FP_SANITIZER "+asan"
#endif
#endif
#ifndef LAMINA_FP_SANITIZER
#define LAMINA_FP_SANITIZER ""
#endif

#define LAMINA_FINGERPRINT                                                                            \
  LAMINA_FP_COMPILER " " LAMINA_FP_STDLIB                                                             \
                     " lamina-" LAMINA_STR(LAMINA_VERSION_MAJOR) "." LAMINA_STR(LAMINA_VERSION_MINOR) \
                         LAMINA_FP_SANITIZER

namespace lamina {
inline constexpr std::uint32_t kAbiVersion = LAMINA_ABI_VERSION;
inline constexpr const char* kFingerprint = LAMINA_FINGERPRINT;
}  // namespace lamina
