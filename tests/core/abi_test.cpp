// The plugin boundary, pinned. Every type listed in lamina/abi.hpp is checked here at compile
// time (its size and alignment, the types of its fields, the signature of each virtual
// function) and at run time (each field's offset, each virtual's slot and each interface's
// number of virtuals). Changing any of them fails this file's build until the pins are updated — and the
// pins are for one ABI version, so updating them means bumping LAMINA_ABI_VERSION too.
// Sizes are those of x86-64 with libstdc++, the platform Lamina is built and tested on.
#define BOOST_TEST_MODULE abi
#include <boost/test/unit_test.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <lamina/augmentation.hpp>
#include <lamina/callback.hpp>
#include <lamina/communicator.hpp>
#include <lamina/data_source.hpp>
#include <lamina/gradcheck.hpp>
#include <lamina/initializer.hpp>
#include <lamina/layer.hpp>
#include <lamina/loss.hpp>
#include <lamina/merge.hpp>
#include <lamina/metric.hpp>
#include <lamina/named_samples.hpp>
#include <lamina/onnx.hpp>
#include <lamina/optimizer.hpp>
#include <lamina/plugin.hpp>
#include <lamina/pruner.hpp>
#include <lamina/regularizer.hpp>
#include <lamina/sampler.hpp>
#include <lamina/schedule.hpp>
#include <lamina/source_state.hpp>
#include <lamina/tokenizer.hpp>
#include <string>
#include <type_traits>
#include <variant>

using namespace lamina;

static_assert(LAMINA_ABI_VERSION == 5u,
              "the ABI version changed: re-check every pin below against the new boundary and update it");

#define PIN_SIZE(T, size, align) \
  static_assert(sizeof(T) == (size) && alignof(T) == (align), #T " changed layout: bump LAMINA_ABI_VERSION")
#define PIN_FIELD(T, field, type) \
  static_assert(std::is_same_v<decltype(T::field), type>, #T "::" #field " changed type: bump LAMINA_ABI_VERSION")
#define PIN_VIRTUAL(T, fn, signature) \
  static_assert(std::is_same_v<decltype(&T::fn), signature>, #T "::" #fn " changed: bump LAMINA_ABI_VERSION")

#if defined(__x86_64__) && defined(__GLIBCXX__)
PIN_SIZE(lamina_plugin_info, 56, 8);
PIN_SIZE(Tensor, 56, 8);
PIN_SIZE(Shape, 40, 8);
PIN_SIZE(Param, 160, 8);
PIN_SIZE(Buffer, 88, 8);
PIN_SIZE(Context, 48, 8);
PIN_SIZE(Targets, 56, 8);
PIN_SIZE(AugmentTargets, 56, 8);
PIN_SIZE(Augmentation, 8, 8);
PIN_SIZE(BuildContext, 40, 8);
PIN_SIZE(Key, 184, 8);
PIN_SIZE(Schema, 24, 8);
PIN_SIZE(Config, 16, 8);
PIN_SIZE(GradCheckOptions, 56, 8);
PIN_SIZE(GradCheckResult, 56, 8);
PIN_SIZE(Dimension, 80, 8);
PIN_SIZE(SearchSpace, 24, 8);
PIN_SIZE(Value, 40, 8);
PIN_SIZE(Rng, 2504, 8);
PIN_SIZE(Error, 16, 8);
PIN_SIZE(InputError, 16, 8);
// Interfaces: a vtable pointer and nothing else.
PIN_SIZE(Layer, 8, 8);
PIN_SIZE(Loss, 8, 8);
PIN_SIZE(Regularizer, 8, 8);
PIN_SIZE(Optimizer, 16, 8);  // the vtable pointer and lr_scale
PIN_SIZE(Schedule, 8, 8);
PIN_SIZE(TrainStep, 32, 8);
PIN_SIZE(EpochEnd, 24, 8);
PIN_SIZE(MetricValue, 40, 8);
PIN_SIZE(Watched, 16, 8);
PIN_SIZE(Metric, 8, 8);
PIN_SIZE(Callback, 8, 8);
PIN_SIZE(DataSource, 8, 8);
PIN_SIZE(Merge, 8, 8);
PIN_SIZE(OnnxExportable, 8, 8);
PIN_SIZE(NamedSamples, 8, 8);
PIN_SIZE(Tokenizer, 8, 8);
PIN_SIZE(SourceState, 8, 8);
PIN_SIZE(OnnxGraph, 8, 8);
PIN_SIZE(OnnxValue, 72, 8);
PIN_SIZE(OnnxAttribute, 72, 8);
PIN_SIZE(SampleSet, 248, 8);
PIN_SIZE(CallbackAction, 40, 8);
PIN_SIZE(Initializer, 8, 8);
PIN_SIZE(Sampler, 8, 8);
PIN_SIZE(Pruner, 8, 8);
PIN_SIZE(Trial, 72, 8);
PIN_SIZE(Communicator, 8, 8);
PIN_SIZE(Registrar, 8, 8);
#endif

// The info record: C layout, its first two fields fixed for ever.
static_assert(std::is_standard_layout_v<lamina_plugin_info>);
static_assert(offsetof(lamina_plugin_info, abi_version) == 0 && offsetof(lamina_plugin_info, info_size) == 4);
PIN_FIELD(lamina_plugin_info, fingerprint, const char*);
PIN_FIELD(lamina_plugin_info, lamina_version, const char*);
PIN_FIELD(lamina_plugin_info, name, const char*);
PIN_FIELD(lamina_plugin_info, version, const char*);
PIN_FIELD(lamina_plugin_info, description, const char*);
PIN_FIELD(lamina_plugin_info, register_types, void (*)(Registrar&));

static_assert(std::is_same_v<std::underlying_type_t<Mode>, int> && static_cast<int>(Mode::Eval) == 1);
static_assert(static_cast<int>(Kind::Initializer) == 4 && static_cast<int>(Kind::Schedule) == 6 &&
                  static_cast<int>(Kind::Callback) == 7 && static_cast<int>(Kind::DataSource) == 8 &&
                  static_cast<int>(Kind::Merge) == 9 && static_cast<int>(Kind::Sampler) == 10 &&
                  static_cast<int>(Kind::Pruner) == 11 && static_cast<int>(Kind::Metric) == 12 &&
                  static_cast<int>(Kind::Augmentation) == 13,
              "Kind values cross the boundary: append new kinds at the end (5 was the removed Search)");
static_assert(static_cast<int>(KeyType::Component) == 4 && static_cast<int>(KeyType::Path) == 5 &&
              static_cast<int>(KeyType::Sizes) == 6 && static_cast<int>(KeyType::Numbers) == 7 &&
              static_cast<int>(KeyType::Strings) == 8 && static_cast<int>(KeyType::Metric) == 9 &&
              static_cast<int>(KeyType::Others) == 10);
static_assert(std::is_same_v<std::underlying_type_t<TargetKind>, std::int32_t> &&
                  static_cast<int>(TargetKind::MultiLabel) == 1 && static_cast<int>(TargetKind::Regression) == 2 &&
                  static_cast<int>(TargetKind::ClassPerPosition) == 3 &&
                  static_cast<int>(TargetKind::ClassProbabilities) == 4,
              "TargetKind values cross the boundary: append new kinds at the end");
static_assert(static_cast<int>(Split::Train) == 0 && static_cast<int>(Split::Test) == 1);
static_assert(static_cast<int>(Dimension::Type::Choice) == 3);

PIN_FIELD(Param, name, std::string);
PIN_FIELD(Param, value, Tensor);
PIN_FIELD(Param, grad, Tensor);
PIN_FIELD(Param, decay, bool);
PIN_FIELD(Param, trainable, bool);
PIN_FIELD(Param, lr_mult, float);
PIN_FIELD(Param, decay_mult, float);
PIN_FIELD(Buffer, name, std::string);
PIN_FIELD(Buffer, value, Tensor);
PIN_FIELD(Context, mode, Mode);
PIN_FIELD(Context, rng, Rng*);
PIN_FIELD(Context, need_input_grad, bool);
PIN_FIELD(Context, comm, Communicator*);
PIN_FIELD(Context, input_ids, std::span<const std::int32_t>);
PIN_FIELD(AugmentTargets, kind, TargetKind);
PIN_FIELD(AugmentTargets, count, std::int64_t);
PIN_FIELD(AugmentTargets, width, std::int64_t);
PIN_FIELD(AugmentTargets, classes, std::span<std::int32_t>);
PIN_FIELD(AugmentTargets, values, std::span<float>);
PIN_VIRTUAL(Augmentation, output_kind, TargetKind (Augmentation::*)(const Shape&, TargetKind) const);
PIN_VIRTUAL(Augmentation, is_identity, bool (Augmentation::*)() const);
PIN_VIRTUAL(Augmentation, apply, void (Augmentation::*)(Tensor&, AugmentTargets&, Rng&));
PIN_FIELD(Targets, kind, TargetKind);
PIN_FIELD(Targets, count, std::int64_t);
PIN_FIELD(Targets, width, std::int64_t);
PIN_FIELD(Targets, classes, std::span<const std::int32_t>);
PIN_FIELD(Targets, values, std::span<const float>);
PIN_FIELD(BuildContext, rng, Rng*);
PIN_FIELD(BuildContext, path, std::string);
PIN_FIELD(Dimension, path, std::string);
PIN_FIELD(Dimension, type, Dimension::Type);
PIN_FIELD(Dimension, lo, double);
PIN_FIELD(Dimension, hi, double);
PIN_FIELD(Dimension, choices, std::vector<std::string>);
PIN_FIELD(SearchSpace, dims, std::vector<Dimension>);
PIN_FIELD(Value, text, std::string);
PIN_FIELD(Value, number, double);

PIN_VIRTUAL(Layer, build, Shape (Layer::*)(const Shape&, BuildContext&));
PIN_VIRTUAL(Layer, forward, void (Layer::*)(const Tensor&, Tensor&, Context&));
PIN_VIRTUAL(Layer, backward, void (Layer::*)(const Tensor&, Tensor&, Context&));
PIN_VIRTUAL(Layer, params, std::span<Param> (Layer::*)());
PIN_VIRTUAL(Layer, state, std::span<Buffer> (Layer::*)());
PIN_VIRTUAL(Loss, accepts, bool (Loss::*)(TargetKind) const);
PIN_VIRTUAL(Loss, forward, float (Loss::*)(const Tensor&, const Targets&));
PIN_VIRTUAL(Loss, backward, void (Loss::*)(Tensor&));
PIN_VIRTUAL(Regularizer, penalty, float (Regularizer::*)(const Param&) const);
PIN_VIRTUAL(Regularizer, add_gradient, void (Regularizer::*)(Param&) const);
PIN_VIRTUAL(Optimizer, step, void (Optimizer::*)(std::span<Param* const>));
PIN_VIRTUAL(Optimizer, save_state, void (Optimizer::*)(std::vector<Buffer>&) const);
PIN_VIRTUAL(Optimizer, load_state, void (Optimizer::*)(std::span<const Buffer>));
PIN_VIRTUAL(Initializer, fill, void (Initializer::*)(Tensor&, std::int64_t, std::int64_t, Rng&) const);
PIN_VIRTUAL(Schedule, factor, double (Schedule::*)(const TrainStep&));
PIN_VIRTUAL(Schedule, end_epoch, void (Schedule::*)(const EpochEnd&));
PIN_VIRTUAL(Schedule, save_state, void (Schedule::*)(std::vector<Buffer>&) const);
PIN_VIRTUAL(Schedule, load_state, void (Schedule::*)(std::span<const Buffer>));
PIN_FIELD(TrainStep, step, std::int64_t);
PIN_FIELD(TrainStep, epoch, std::int64_t);
PIN_FIELD(TrainStep, steps_per_epoch, std::int64_t);
PIN_FIELD(TrainStep, epochs, std::int64_t);
PIN_FIELD(EpochEnd, epoch, std::int64_t);
PIN_FIELD(EpochEnd, metrics, std::span<const MetricValue>);
PIN_FIELD(MetricValue, name, const char*);
PIN_FIELD(MetricValue, higher_is_better, bool);
PIN_FIELD(MetricValue, train, double);
PIN_FIELD(MetricValue, val, double);
PIN_FIELD(MetricValue, test, double);
PIN_FIELD(Watched, value, double);
PIN_FIELD(Watched, higher_is_better, bool);
PIN_VIRTUAL(Metric, accepts, bool (Metric::*)(TargetKind) const);
PIN_VIRTUAL(Metric, higher_is_better, bool (Metric::*)() const);
PIN_VIRTUAL(Metric, is_default, bool (Metric::*)(TargetKind) const);
PIN_VIRTUAL(Metric, sums, std::size_t (Metric::*)(std::int64_t) const);
PIN_VIRTUAL(Metric, add, void (Metric::*)(const Tensor&, const Targets&, std::span<double>) const);
PIN_VIRTUAL(Metric, value, double (Metric::*)(std::span<const double>) const);
PIN_FIELD(CallbackAction, stop, bool);
PIN_FIELD(CallbackAction, best, bool);
PIN_FIELD(CallbackAction, reason, std::string);
PIN_VIRTUAL(Callback, before_update, void (Callback::*)(std::span<Param* const>, const TrainStep&));
PIN_VIRTUAL(Callback, end_batch, void (Callback::*)(const TrainStep&, float));
PIN_VIRTUAL(Callback, end_epoch, CallbackAction (Callback::*)(const EpochEnd&));
PIN_VIRTUAL(Callback, save_state, void (Callback::*)(std::vector<Buffer>&) const);
PIN_VIRTUAL(Callback, load_state, void (Callback::*)(std::span<const Buffer>));
PIN_VIRTUAL(DataSource, load, SampleSet (DataSource::*)(Split));
PIN_VIRTUAL(DataSource, default_scale, float (DataSource::*)());
PIN_VIRTUAL(DataSource, read_inputs, SampleSet (DataSource::*)(const std::filesystem::path&));
PIN_VIRTUAL(NamedSamples, class_names, std::vector<std::string> (NamedSamples::*)() const);
PIN_VIRTUAL(NamedSamples, input_names, std::vector<std::string> (NamedSamples::*)() const);
PIN_VIRTUAL(Tokenizer, encode, std::vector<std::int32_t> (Tokenizer::*)(std::string_view) const);
PIN_VIRTUAL(Tokenizer, decode, std::string (Tokenizer::*)(std::span<const std::int32_t>) const);
PIN_VIRTUAL(Tokenizer, vocabulary, std::int64_t (Tokenizer::*)() const);
PIN_VIRTUAL(SourceState, save_state, std::string (SourceState::*)() const);
PIN_VIRTUAL(SourceState, restore_state, void (SourceState::*)(std::string_view));
PIN_VIRTUAL(Merge, build, Shape (Merge::*)(std::span<const Shape>, BuildContext&));
PIN_VIRTUAL(Merge, forward, void (Merge::*)(std::span<const Tensor* const>, Tensor&, Context&));
PIN_VIRTUAL(Merge, backward, void (Merge::*)(const Tensor&, std::span<Tensor* const>, Context&));
PIN_VIRTUAL(Merge, params, std::span<Param> (Merge::*)());
PIN_VIRTUAL(Merge, state, std::span<Buffer> (Merge::*)());
PIN_VIRTUAL(OnnxExportable, export_onnx,
            std::string (OnnxExportable::*)(OnnxGraph&, std::span<const OnnxValue>) const);
PIN_VIRTUAL(OnnxGraph, opset, int (OnnxGraph::*)() const);
PIN_VIRTUAL(OnnxGraph, constant, std::string (OnnxGraph::*)(std::string_view, const Tensor&));
PIN_VIRTUAL(OnnxGraph, constant_ints, std::string (OnnxGraph::*)(std::string_view, std::span<const std::int64_t>));
PIN_VIRTUAL(OnnxGraph, node, std::string (OnnxGraph::*)(std::string_view, std::vector<std::string>,
                                                         std::vector<OnnxAttribute>));
PIN_VIRTUAL(Sampler, propose,
            std::vector<Value> (Sampler::*)(const SearchSpace&, std::span<const Trial>, std::int64_t, Rng&));
PIN_VIRTUAL(Sampler, uses_history, bool (Sampler::*)() const);
PIN_VIRTUAL(Pruner, decides_at, bool (Pruner::*)(std::int64_t) const);
PIN_VIRTUAL(Pruner, should_prune, bool (Pruner::*)(const Trial&, std::span<const Trial>));
PIN_FIELD(Trial, id, std::int64_t);
PIN_FIELD(Trial, round, std::int64_t);
PIN_FIELD(Trial, values, std::vector<Value>);
PIN_FIELD(Trial, scores, std::vector<double>);
PIN_FIELD(Trial, status, TrialStatus);
static_assert(std::is_same_v<std::underlying_type_t<TrialStatus>, std::uint8_t> &&
                  static_cast<int>(TrialStatus::Ok) == 1 && static_cast<int>(TrialStatus::Failed) == 4,
              "TrialStatus values cross the boundary: append new ones at the end");
PIN_FIELD(OnnxValue, name, std::string);
PIN_FIELD(OnnxValue, shape, Shape);
PIN_FIELD(OnnxAttribute, name, std::string);
PIN_FIELD(OnnxAttribute, value, OnnxAttributeValue);
static_assert(std::is_same_v<OnnxAttributeValue, std::variant<std::int64_t, float, std::vector<std::int64_t>,
                                                              std::vector<float>, std::string>>,
              "OnnxAttributeValue changed: bump LAMINA_ABI_VERSION");
PIN_FIELD(SampleSet, origin, std::string);
PIN_FIELD(SampleSet, sample_shape, Shape);
PIN_FIELD(SampleSet, count, std::int64_t);
PIN_FIELD(SampleSet, bytes, std::vector<std::uint8_t>);
PIN_FIELD(SampleSet, values, std::vector<float>);
PIN_FIELD(SampleSet, labels, std::vector<std::int32_t>);
PIN_FIELD(SampleSet, labels_origin, std::string);
PIN_FIELD(SampleSet, target_kind, TargetKind);
PIN_FIELD(SampleSet, target_width, std::int64_t);
PIN_FIELD(SampleSet, target_values, std::vector<float>);
PIN_FIELD(SampleSet, ids, std::vector<std::int32_t>);
PIN_VIRTUAL(Communicator, rank, int (Communicator::*)() const);
PIN_VIRTUAL(Communicator, size, int (Communicator::*)() const);

// Field offsets and the order of virtual functions, read at run time (a pointer to a virtual
// member holds its vtable slot in the Itanium C++ ABI that GCC and Clang follow): swapping two
// fields of the same type, or inserting, removing or reordering a virtual anywhere, including
// at the end (a class derived with one more virtual shows where the vtable ends), passes the
// compile-time pins above but fails here. Slots 0 and 1 are the virtual destructor's.
#if defined(__x86_64__) && defined(__GLIBCXX__)
namespace {

template <class T, class M>
long offset(M T::*member) {
  alignas(T) static char storage[sizeof(T)];
  const T* object = reinterpret_cast<const T*>(storage);
  return static_cast<long>(reinterpret_cast<const char*>(&(object->*member)) - storage);
}

template <class F>
long slot(F f) {
  struct Raw {
    std::uintptr_t ptr;  // 1 + the byte offset in the vtable, for a virtual function
    std::ptrdiff_t adj;
  } raw;
  static_assert(sizeof(F) == sizeof(Raw));
  std::memcpy(&raw, &f, sizeof raw);
  return (raw.ptr & 1) != 0 ? static_cast<long>((raw.ptr - 1) / sizeof(void*)) : -1;
}

struct EndCallback : Callback {
  virtual void end_of_vtable() = 0;
};
struct EndCommunicator : Communicator {
  virtual void end_of_vtable() = 0;
};
struct EndDataSource : DataSource {
  virtual void end_of_vtable() = 0;
};
struct EndInitializer : Initializer {
  virtual void end_of_vtable() = 0;
};
struct EndAugmentation : Augmentation {
  virtual void end_of_vtable() = 0;
};
struct EndLayer : Layer {
  virtual void end_of_vtable() = 0;
};
struct EndLoss : Loss {
  virtual void end_of_vtable() = 0;
};
struct EndMetric : Metric {
  virtual void end_of_vtable() = 0;
};
struct EndMerge : Merge {
  virtual void end_of_vtable() = 0;
};
struct EndOnnxExportable : OnnxExportable {
  virtual void end_of_vtable() = 0;
};
struct EndOnnxGraph : OnnxGraph {
  virtual void end_of_vtable() = 0;
};
struct EndNamedSamples : NamedSamples {
  virtual void end_of_vtable() = 0;
};
struct EndTokenizer : Tokenizer {
  virtual void end_of_vtable() = 0;
};
struct EndSourceState : SourceState {
  virtual void end_of_vtable() = 0;
};
struct EndOptimizer : Optimizer {
  virtual void end_of_vtable() = 0;
};
struct EndPruner : Pruner {
  virtual void end_of_vtable() = 0;
};
struct EndRegularizer : Regularizer {
  virtual void end_of_vtable() = 0;
};
struct EndSampler : Sampler {
  virtual void end_of_vtable() = 0;
};
struct EndSchedule : Schedule {
  virtual void end_of_vtable() = 0;
};

}  // namespace

#define PIN_OFFSET(T, field, at) BOOST_TEST(offset(&T::field) == (at), #T "::" #field " moved: bump LAMINA_ABI_VERSION")
#define PIN_SLOT(T, fn, at) BOOST_TEST(slot(&T::fn) == (at), #T "::" #fn " moved in the vtable: bump LAMINA_ABI_VERSION")
#define PIN_VTABLE_END(T, at) \
  BOOST_TEST(slot(&End##T::end_of_vtable) == (at), #T " has another number of virtual functions: bump LAMINA_ABI_VERSION")

BOOST_AUTO_TEST_CASE(field_offsets_and_virtual_slots_are_pinned) {
  PIN_VTABLE_END(Augmentation, 5);
  PIN_VTABLE_END(Callback, 7);
  PIN_VTABLE_END(Communicator, 6);
  PIN_VTABLE_END(DataSource, 5);
  PIN_VTABLE_END(Initializer, 3);
  PIN_VTABLE_END(Layer, 7);
  PIN_VTABLE_END(Loss, 5);
  PIN_VTABLE_END(Merge, 7);
  PIN_VTABLE_END(Metric, 8);
  PIN_VTABLE_END(OnnxExportable, 3);
  PIN_VTABLE_END(OnnxGraph, 4);
  PIN_VTABLE_END(NamedSamples, 4);
  PIN_VTABLE_END(Tokenizer, 5);
  PIN_VTABLE_END(SourceState, 4);
  PIN_VTABLE_END(Optimizer, 5);
  PIN_VTABLE_END(Pruner, 4);
  PIN_VTABLE_END(Regularizer, 4);
  PIN_VTABLE_END(Sampler, 4);
  PIN_VTABLE_END(Schedule, 6);
  PIN_OFFSET(lamina_plugin_info, fingerprint, 8);
  PIN_OFFSET(lamina_plugin_info, lamina_version, 16);
  PIN_OFFSET(lamina_plugin_info, name, 24);
  PIN_OFFSET(lamina_plugin_info, version, 32);
  PIN_OFFSET(lamina_plugin_info, description, 40);
  PIN_OFFSET(lamina_plugin_info, register_types, 48);
  PIN_OFFSET(Param, name, 0);
  PIN_OFFSET(Param, value, 32);
  PIN_OFFSET(Param, grad, 88);
  PIN_OFFSET(Param, decay, 144);
  PIN_OFFSET(Param, trainable, 145);
  PIN_OFFSET(Param, lr_mult, 148);
  PIN_OFFSET(Param, decay_mult, 152);
  PIN_OFFSET(Buffer, name, 0);
  PIN_OFFSET(Buffer, value, 32);
  PIN_OFFSET(Context, mode, 0);
  PIN_OFFSET(Context, rng, 8);
  PIN_OFFSET(Context, need_input_grad, 16);
  PIN_OFFSET(Context, comm, 24);
  PIN_OFFSET(Context, input_ids, 32);
  PIN_OFFSET(AugmentTargets, kind, 0);
  PIN_OFFSET(AugmentTargets, count, 8);
  PIN_OFFSET(AugmentTargets, width, 16);
  PIN_OFFSET(AugmentTargets, classes, 24);
  PIN_OFFSET(AugmentTargets, values, 40);
  PIN_SLOT(Augmentation, output_kind, 2);
  PIN_SLOT(Augmentation, is_identity, 3);
  PIN_SLOT(Augmentation, apply, 4);
  PIN_OFFSET(Targets, kind, 0);
  PIN_OFFSET(Targets, count, 8);
  PIN_OFFSET(Targets, width, 16);
  PIN_OFFSET(Targets, classes, 24);
  PIN_OFFSET(Targets, values, 40);
  PIN_OFFSET(BuildContext, rng, 0);
  PIN_OFFSET(BuildContext, path, 8);
  PIN_OFFSET(Dimension, path, 0);
  PIN_OFFSET(Dimension, type, 32);
  PIN_OFFSET(Dimension, lo, 40);
  PIN_OFFSET(Dimension, hi, 48);
  PIN_OFFSET(Dimension, choices, 56);
  PIN_OFFSET(SearchSpace, dims, 0);
  PIN_OFFSET(Value, text, 0);
  PIN_OFFSET(Value, number, 32);
  PIN_OFFSET(TrainStep, step, 0);
  PIN_OFFSET(TrainStep, epoch, 8);
  PIN_OFFSET(TrainStep, steps_per_epoch, 16);
  PIN_OFFSET(TrainStep, epochs, 24);
  PIN_OFFSET(EpochEnd, epoch, 0);
  PIN_OFFSET(EpochEnd, metrics, 8);
  PIN_OFFSET(MetricValue, name, 0);
  PIN_OFFSET(MetricValue, higher_is_better, 8);
  PIN_OFFSET(MetricValue, train, 16);
  PIN_OFFSET(MetricValue, val, 24);
  PIN_OFFSET(MetricValue, test, 32);
  PIN_SLOT(Metric, accepts, 2);
  PIN_SLOT(Metric, higher_is_better, 3);
  PIN_SLOT(Metric, is_default, 4);
  PIN_SLOT(Metric, sums, 5);
  PIN_SLOT(Metric, add, 6);
  PIN_SLOT(Metric, value, 7);
  PIN_OFFSET(CallbackAction, stop, 0);
  PIN_OFFSET(CallbackAction, best, 1);
  PIN_OFFSET(CallbackAction, reason, 8);
  PIN_OFFSET(Trial, id, 0);
  PIN_OFFSET(Trial, round, 8);
  PIN_OFFSET(Trial, values, 16);
  PIN_OFFSET(Trial, scores, 40);
  PIN_OFFSET(Trial, status, 64);
  PIN_OFFSET(OnnxValue, name, 0);
  PIN_OFFSET(OnnxValue, shape, 32);
  PIN_OFFSET(OnnxAttribute, name, 0);
  PIN_OFFSET(OnnxAttribute, value, 32);
  PIN_OFFSET(SampleSet, origin, 0);
  PIN_OFFSET(SampleSet, sample_shape, 32);
  PIN_OFFSET(SampleSet, count, 72);
  PIN_OFFSET(SampleSet, bytes, 80);
  PIN_OFFSET(SampleSet, values, 104);
  PIN_OFFSET(SampleSet, labels, 128);
  PIN_OFFSET(SampleSet, labels_origin, 152);
  PIN_OFFSET(SampleSet, target_kind, 184);
  PIN_OFFSET(SampleSet, target_width, 192);
  PIN_OFFSET(SampleSet, target_values, 200);
  PIN_OFFSET(SampleSet, ids, 224);
  PIN_SLOT(Layer, build, 2);
  PIN_SLOT(Layer, forward, 3);
  PIN_SLOT(Layer, backward, 4);
  PIN_SLOT(Layer, params, 5);
  PIN_SLOT(Layer, state, 6);
  PIN_SLOT(Loss, accepts, 2);
  PIN_SLOT(Loss, forward, 3);
  PIN_SLOT(Loss, backward, 4);
  PIN_SLOT(Regularizer, penalty, 2);
  PIN_SLOT(Regularizer, add_gradient, 3);
  PIN_SLOT(Optimizer, step, 2);
  PIN_SLOT(Optimizer, save_state, 3);
  PIN_SLOT(Optimizer, load_state, 4);
  PIN_SLOT(Initializer, fill, 2);
  PIN_SLOT(Schedule, factor, 2);
  PIN_SLOT(Schedule, end_epoch, 3);
  PIN_SLOT(Schedule, save_state, 4);
  PIN_SLOT(Schedule, load_state, 5);
  PIN_SLOT(Callback, before_update, 2);
  PIN_SLOT(Callback, end_batch, 3);
  PIN_SLOT(Callback, end_epoch, 4);
  PIN_SLOT(Callback, save_state, 5);
  PIN_SLOT(Callback, load_state, 6);
  PIN_SLOT(DataSource, load, 2);
  PIN_SLOT(DataSource, default_scale, 3);
  PIN_SLOT(DataSource, read_inputs, 4);
  PIN_SLOT(Merge, build, 2);
  PIN_SLOT(Merge, forward, 3);
  PIN_SLOT(Merge, backward, 4);
  PIN_SLOT(Merge, params, 5);
  PIN_SLOT(Merge, state, 6);
  PIN_SLOT(OnnxExportable, export_onnx, 2);
  PIN_SLOT(NamedSamples, class_names, 2);
  PIN_SLOT(NamedSamples, input_names, 3);
  PIN_SLOT(Tokenizer, encode, 2);
  PIN_SLOT(Tokenizer, decode, 3);
  PIN_SLOT(Tokenizer, vocabulary, 4);
  PIN_SLOT(SourceState, save_state, 2);
  PIN_SLOT(SourceState, restore_state, 3);
  PIN_SLOT(OnnxGraph, opset, 0);
  PIN_SLOT(OnnxGraph, constant, 1);
  PIN_SLOT(OnnxGraph, constant_ints, 2);
  PIN_SLOT(OnnxGraph, node, 3);
  PIN_SLOT(Sampler, propose, 2);
  PIN_SLOT(Sampler, uses_history, 3);
  PIN_SLOT(Pruner, decides_at, 2);
  PIN_SLOT(Pruner, should_prune, 3);
  PIN_SLOT(Communicator, rank, 2);
  PIN_SLOT(Communicator, size, 3);
}
#endif

BOOST_AUTO_TEST_CASE(the_info_record_of_a_plugin_built_here_matches_the_host) {
  // What LAMINA_PLUGIN writes, read back the way the loader reads it.
  static void (*const reg)(Registrar&) = [](Registrar&) {};
  const lamina_plugin_info info = {LAMINA_ABI_VERSION, sizeof(lamina_plugin_info), LAMINA_FINGERPRINT,
                                   LAMINA_VERSION_STRING, "p", "1.0.0", "d", reg};
  BOOST_TEST(info.abi_version == kAbiVersion);
  BOOST_TEST(info.info_size == sizeof(lamina_plugin_info));
  BOOST_TEST(std::string(info.fingerprint) == kFingerprint);
}

BOOST_AUTO_TEST_CASE(the_fingerprint_names_the_toolchain_not_lamina_s_version) {
  // A minor or patch release keeps plugins loading when the ABI is unchanged.
  const std::string fp = kFingerprint;
  BOOST_TEST(fp.find(LAMINA_VERSION_STRING) == std::string::npos);
  BOOST_TEST(fp.find("lamina") == std::string::npos);
  BOOST_TEST((fp.starts_with("gcc-") || fp.starts_with("clang-")));
  BOOST_TEST(fp.find("libstdc++") != std::string::npos);
}
