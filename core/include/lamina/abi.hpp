// The plugin ABI: what a plugin and the host must agree on before any C++ object crosses
// between them. Both values below are compiled into each side from these headers, never typed
// by hand (LLVM's PassPlugin.h does the same with LLVM_PLUGIN_API_VERSION).
//
// LAMINA_ABI_VERSION is bumped when anything that crosses the boundary changes. The boundary
// is exactly this list (tests/core/abi_test.cpp pins the size, alignment, field types and
// field offsets of each type, and the signature and vtable slot of each virtual function and
// each interface's number of virtuals, so a change without a bump there fails its build or
// its run):
//   records        lamina_plugin_info (after its first two fields), Tensor, Shape, Param,
//                  Buffer, Context, BuildContext, Mode, Kind, KeyType, Key, Schema, Config,
//                  GradCheckOptions, GradCheckResult, Dimension, SearchSpace, Value,
//                  Trial, TrialStatus, TrainStep, EpochEnd, MetricValue, Watched, CallbackAction, Split, SampleSet,
//                  OnnxValue, OnnxAttribute (and its OnnxAttributeValue), Targets, TargetKind, AugmentTargets
//   interfaces     Layer, Loss, Metric, Regularizer, Optimizer (and its lr_scale member), Initializer,
//                  Sampler, Pruner, Schedule, Callback, DataSource, Merge, Augmentation,
//                  OnnxExportable, OnnxGraph, NamedSamples, Tokenizer, SourceState,
//                  Communicator, Registrar (virtual functions added,
//                  removed, reordered or re-typed)
//   classes        Rng (its engine's state), Error, InputError
//   functions      the exported functions of liblamina_sdk (Tensor, Shape, Rng, Key, Config,
//                  kind_name, status_name, find_key, key_type_name, the gradient checks): removed or
//                  re-typed
// Adding a free function, a new header or a new kind interface needs no bump; liblamina_sdk's
// SONAME is liblamina_sdk.so.<ABI version>, so the dynamic linker refuses a mismatch too.
//
// The fingerprint catches what the ABI version cannot: a plugin built by another compiler
// family, another C++ standard library (or its dual ABI), or with/without AddressSanitizer,
// whose objects would not be layout-compatible with the host's. It does not name Lamina's own
// version: a plugin built against 0.1.0 loads into 0.1.7 and 0.4.2 as long as the ABI version
// is the same (docs/writing-plugins.md, "Compatibility").
#pragma once

#include <cstdint>

#include "lamina/version.hpp"

#define LAMINA_ABI_VERSION 5u  // 2: Context::comm; 3: the SDK split; 4: Schedule, Callback, DataSource, Optimizer::lr_scale, Key::path; 5: Param's training flags, targets, Metric and Key::metric, SearchStrategy and Kind::Search removed
// (within 4, Merge came as a new kind interface and Kind value, OnnxExportable/OnnxGraph as a new
// interface a layer may also derive from, Sampler and Pruner as new kind interfaces: no bump;
// within 5, Augmentation came as a new kind interface with Kind::Augmentation, and
// TargetKind::ClassProbabilities and StreamFamily::Augment as appended values, KeyType::Others
// appended with the new functions Key::others, Config::others_json and
// check_layer_gradients_on_ids: no bump; Tokenizer and SourceState came as new interfaces a
// data source may also derive from, and NamedSamples was added to the pinned list: no bump)

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

#define LAMINA_FINGERPRINT LAMINA_FP_COMPILER " " LAMINA_FP_STDLIB LAMINA_FP_SANITIZER

namespace lamina {
inline constexpr std::uint32_t kAbiVersion = LAMINA_ABI_VERSION;
inline constexpr const char* kFingerprint = LAMINA_FINGERPRINT;
}  // namespace lamina
