// SourceState: what a data source learns from its training data and a run must keep, found by
// the host with dynamic_cast as NamedSamples and Tokenizer are (DataSource is unchanged):
//
//   class TextSource final : public lamina::DataSource, public lamina::SourceState { ... };
//
// `lamina train` asks save_state() after loading the data and writes the text into the weights'
// metadata (model.safetensors, "data_state"), so it travels with the weights. Every command that
// opens the run (predict, eval, generate, resume) calls restore_state() on a fresh source before
// anything else, so new inputs are read as the training data were (the text source's character
// vocabulary: the ids the model was trained on), even when the training file has changed.
#pragma once

#include <string>
#include <string_view>

#include "lamina/export.hpp"

namespace lamina {

class LAMINA_API SourceState {
 public:
  virtual ~SourceState();  // defined in liblamina_sdk: one type_info for every plugin's cast
  // After load(): the state as text (any bytes); empty when there is none to keep.
  virtual std::string save_state() const = 0;
  // Before load() or read_inputs(): the text save_state() gave; throws InputError for text that
  // is not such a state.
  virtual void restore_state(std::string_view state) = 0;
};

}  // namespace lamina
