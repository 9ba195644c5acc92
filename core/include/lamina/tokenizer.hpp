// Tokenizer: how a data source of token ids turns text into ids and back, found by the host
// with dynamic_cast as NamedSamples and OnnxExportable are (DataSource is unchanged; a source
// that does not derive from it cannot be used by `lamina generate`):
//
//   class TextSource final : public lamina::DataSource, public lamina::Tokenizer { ... };
//
// `lamina generate RUN --prompt TEXT` encodes the prompt with the run's own source, feeds the
// model, samples the next id from its last position's scores, and prints decode() of each id.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lamina/export.hpp"

namespace lamina {

class LAMINA_API Tokenizer {
 public:
  virtual ~Tokenizer();  // defined in liblamina_sdk: one type_info for every plugin's cast
  // The ids of a text, each in [0, vocabulary()); throws InputError for text it cannot encode.
  virtual std::vector<std::int32_t> encode(std::string_view text) const = 0;
  // The text of ids (each in [0, vocabulary())), as encode() read it.
  virtual std::string decode(std::span<const std::int32_t> ids) const = 0;
  virtual std::int64_t vocabulary() const = 0;
};

}  // namespace lamina
