// The `text` data source: a language model's samples from a text file. Its tokens are the file's
// bytes (ids 0..255, `tokens: bytes`) or its UTF-8 characters (`tokens: characters`: ids from
// the training text's own vocabulary, characters.hpp); it is cut into windows of `length`
// tokens, each position's target the token after it (ClassPerPosition), so a model reads (T) ids
// and answers (T, V) scores:
//
//   data: {source: text, train: corpus.txt, test_fraction: 0.1, length: 128}
//
// The test text is a file of its own (`test`) or the end of the training file
// (`test_fraction`, taken before the windows are cut, so no window spans both). The character
// vocabulary is the run's to keep (lamina/source_state.hpp); bytes need none.
#include <fmt/format.h>
#include <lamina/data_source.hpp>
#include <lamina/plugin.hpp>
#include <lamina/source_state.hpp>
#include <lamina/tokenizer.hpp>

#include <cmath>
#include <memory>
#include <optional>

#include "characters.hpp"
#include "text_windows.hpp"

namespace lamina_text {

using namespace lamina;
namespace fs = std::filesystem;

class TextSource final : public DataSource, public Tokenizer, public SourceState {
 public:
  explicit TextSource(const Config& c)
      : cfg_(c),
        length_(c.get<std::int64_t>("length")),
        stride_(c.has("stride") ? c.get<std::int64_t>("stride") : length_),
        fraction_(c.get<double>("test_fraction")),
        characters_mode_(c.get<std::string>("tokens") == "characters") {
    if (c.has("test") && c.has("test_fraction")) {
      throw InputError(c.where("test_fraction") + ": give either test (a file) or test_fraction (the end of the "
                                                  "training file), not both");
    }
  }

  // `lamina generate` encodes a prompt and decodes what it samples as the training text was read.
  std::vector<std::int32_t> encode(std::string_view text) const override {
    if (characters_mode_) return characters().ids(decode_utf8(text, "--prompt"));
    std::vector<std::int32_t> ids(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
    return ids;
  }
  std::string decode(std::span<const std::int32_t> ids) const override {
    if (characters_mode_) return characters().text(ids);
    std::string text(ids.size(), '\0');
    for (std::size_t i = 0; i < ids.size(); ++i) text[i] = static_cast<char>(static_cast<unsigned char>(ids[i]));
    return text;
  }
  std::int64_t vocabulary() const override { return characters_mode_ ? characters().size() : 256; }

  // The character vocabulary, for the run to keep; bytes need nothing kept.
  std::string save_state() const override { return characters_mode_ && vocab_ ? vocab_->state() : std::string(); }
  void restore_state(std::string_view state) override {
    if (!characters_mode_ || state.empty()) return;
    vocab_ = Characters::from_state(state, "the run's character vocabulary (model.safetensors, data_state)");
  }

  SampleSet load(Split split) override {
    const fs::path train = cfg_.file("train");
    std::vector<std::int32_t> tokens;
    std::string origin;
    if (cfg_.has("test")) {
      const fs::path file = split == Split::Train ? train : cfg_.file("test");
      tokens = read_tokens(file, train);
      origin = file.string();
    } else {
      tokens = read_tokens(train, train);
      const auto n = static_cast<std::int64_t>(tokens.size());
      const auto test = static_cast<std::int64_t>(std::floor(static_cast<double>(n) * fraction_));
      const int percent = static_cast<int>(std::lround(fraction_ * 100));
      if (split == Split::Train) {
        tokens.resize(static_cast<std::size_t>(n - test));
        origin = fmt::format("{} (all but its last {}%)", train.string(), percent);
      } else {
        tokens.erase(tokens.begin(), tokens.begin() + (n - test));
        origin = fmt::format("{} (its last {}%, test_fraction)", train.string(), percent);
      }
    }
    SampleSet s = samples(tokens, stride_, origin);
    s.target_kind = TargetKind::ClassPerPosition;
    s.target_width = length_;
    return s;
  }

  float default_scale() override { return 1.0f; }  // ids are not scaled

  // `lamina predict --input file.txt`: the file's windows, one every `length` tokens.
  SampleSet read_inputs(const fs::path& file) override {
    if (characters_mode_ && !vocab_) {
      throw InputError(file.string() + ": the run keeps no character vocabulary (it was trained before "
                                       "`tokens: characters` kept one); train it again");
    }
    SampleSet s = samples(read_tokens(file, file), length_, file.string());
    s.labels.clear();
    return s;
  }

 private:
  // A file's tokens: its bytes, or its characters' ids. In character mode the vocabulary is that
  // of the training file, built on first use (the whole training file's characters, so that
  // test_fraction's end is read with the same ids) unless the run restored its own.
  std::vector<std::int32_t> read_tokens(const fs::path& file, const fs::path& train) {
    if (!characters_mode_) return read_byte_tokens(file);
    const auto text = decode_utf8(read_text(file), file.string());
    if (!vocab_) vocab_ = Characters::of(file == train ? text : decode_utf8(read_text(train), train.string()));
    return vocab_->ids(text);
  }
  const Characters& characters() const {
    if (!vocab_) throw InputError("text: the character vocabulary is not known yet (the data were not loaded)");
    return *vocab_;
  }

  // The windows of `tokens` as samples of (length) ids, their next tokens as labels.
  SampleSet samples(const std::vector<std::int32_t>& tokens, std::int64_t stride, const std::string& origin) const {
    Windows w = cut_windows(tokens, length_, stride, origin, cfg_.where("length"));
    SampleSet s;
    s.origin = origin;
    s.sample_shape = Shape{length_};
    s.count = w.count;
    s.ids = std::move(w.ids);
    s.labels = std::move(w.next);
    return s;
  }

  Config cfg_;
  std::int64_t length_, stride_;
  double fraction_;
  bool characters_mode_;
  std::optional<Characters> vocab_;
};

void register_types(Registrar& r) {
  r.add<DataSource>(
      "text",
      "a text file's bytes or UTF-8 characters as tokens in windows of `length`, each position's target the next "
      "token: samples (T) ids, targets a class per position",
      Schema{
          Key::path("train", "the training text (any bytes; UTF-8 text is read byte by byte) (needed to train)"),
          Key::path("test", "a test text of its own (instead of test_fraction)"),
          Key::number("test_fraction", "the part of the training file, from its end, kept as the test text")
              .def(0.1)
              .above(0)
              .below(1),
          Key::integer("length", "tokens per window: T").def(128).at_least(1).at_most(1 << 20),
          Key::integer("stride", "tokens from one window's start to the next (default: length)").at_least(1),
          Key::string("tokens",
                      "bytes (ids 0..255, any file) or characters (UTF-8; ids 1..V-1 from the training text's "
                      "characters, 0 for one it does not hold; the run keeps the vocabulary)")
              .def("bytes")
              .one_of({"bytes", "characters"}),
      },
      [](const Config& c) { return std::make_unique<TextSource>(c); });
}

}  // namespace lamina_text

LAMINA_PLUGIN("text", LAMINA_VERSION_STRING, "The text data source (byte tokens for language models)",
              lamina_text::register_types)
