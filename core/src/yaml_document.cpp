// Reading a model file into a yaml-cpp tree with the checks yaml-cpp leaves to its users:
// duplicate keys (yaml-cpp keeps both silently), runaway alias expansion, absurd nesting,
// and --set overrides applied with the flag remembered for error messages.
#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include "config_impl.hpp"
#include "lamina/error.hpp"
#include "runtime/model.hpp"
#include "model_impl.hpp"
#include "printable.hpp"
#include "suggest.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace {

// `optimizer: sgd` is shorthand for `optimizer: {type: sgd}`; a --set path that goes below it
// (optimizer.lr) writes into the long form. A scalar that was no type name is then reported by
// the schema check, naming the flag.
YAML::Node expand_type_shorthand(const YAML::Node& scalar) {
  YAML::Node map(YAML::NodeType::Map);
  map["type"] = scalar.Scalar();
  return map;
}

constexpr int kMaxDepth = 64;
constexpr int kMaxTextDepth = 256;  // well within what yaml-cpp parses
constexpr std::size_t kMaxNodes = 200000;
constexpr std::uintmax_t kMaxModelBytes = 16u << 20;

void check_tree(const YAML::Node& node, const Source& src, const std::string& path, int depth, std::size_t& visited) {
  // Named by their top-level key: the full path of a bomb or a deep nest is itself unreadable.
  const std::string top = path.substr(0, path.find('.'));
  if (++visited > kMaxNodes) {
    detail::fail_at(
        src, top, node,
        fmt::format("the document expands to more than {} nodes (aliases referring to aliases?)", kMaxNodes));
  }
  if (depth > kMaxDepth) detail::fail_at(src, top, node, fmt::format("nesting deeper than {} levels", kMaxDepth));
  // A tag of the application's own (`!custom`) means something to whoever wrote it; Lamina has
  // none, and ignoring it would read the value as if untagged. YAML's standard tags (!!str) pass.
  if (const std::string& tag = node.Tag(); tag.size() > 1 && tag[0] == '!' ) {
    detail::fail_at(src, path, node, fmt::format("unknown YAML tag '{}': a model file uses no tags", tag));
  }
  if (node.IsMap()) {
    std::map<std::string, YAML::Mark> seen;
    for (const auto& kv : node) {
      if (!kv.first.IsScalar())
        detail::fail_at(src, path, kv.first, "a key must be a plain name, not a mapping or a list");
      const std::string key = kv.first.Scalar();
      if (auto [it, fresh] = seen.emplace(key, kv.first.Mark()); !fresh) {
        detail::fail_at(src, path, kv.first,
                        fmt::format("duplicate key '{}' (first at line {})", key, it->second.line + 1));
      }
      check_tree(kv.second, src, detail::child_path(path, key), depth + 1, visited);
    }
  } else if (node.IsSequence()) {
    std::size_t i = 0;
    for (const auto& item : node)
      check_tree(item, src, detail::child_path(path, std::to_string(i++)), depth + 1, visited);
  }
}

// yaml-cpp gives up on flow collections nested a few thousand deep with "bad file": such depth is
// judged on the text first, outside quotes and comments (past kMaxTextDepth; check_tree names
// the key of anything deeper than kMaxDepth that yaml-cpp can read).
void check_flow_depth(const std::string& text, const Source& src) {
  int depth = 0, line = 1, column = 0;
  char quote = 0;
  bool comment = false;
  for (const char c : text) {
    ++column;
    if (c == '\n') {
      ++line;
      column = 0;
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    else if (c == '#') comment = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxTextDepth) {
        throw InputError(fmt::format("{}:{}:{}: nesting deeper than {} levels", src.file, line, column, kMaxDepth));
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

// One document: yaml-cpp's Load reads the first and ignores the rest without a word. A document
// marker is `---` at the start of a line; one after content starts a second document. (Judged on
// the text: LoadAll builds every document, which a file of many thousands makes slow.)
void check_one_document(const std::string& text, const Source& src) {
  bool content = false;
  int line = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string_view l(text.data() + at, end - at);
    ++line;
    const bool marker = l.starts_with("---") && (l.size() == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\r');
    if (marker && content) {
      throw InputError(fmt::format("{}:{}: a second YAML document (after `---`); a file holds one model", src.file, line));
    }
    const auto first = l.find_first_not_of(" \t\r");
    if (!marker && first != std::string_view::npos && l[first] != '#' && !l.starts_with("%")) content = true;
    if (marker && l.size() > 3 && l.find_first_not_of(" \t\r", 3) != std::string_view::npos) content = true;
    at = end + 1;
  }
}

YAML::Node parse_text(const std::string& text, const Source& src) {
  check_flow_depth(text, src);
  try {
    check_one_document(text, src);
    return YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    // yaml-cpp's message for a tab in the indentation ("illegal block entry") does not say why.
    std::istringstream lines(text);
    std::string line;
    for (int i = 0; i <= e.mark.line && std::getline(lines, line); ++i) {
    }
    const bool tab = e.mark.line >= 0 && line.find('\t') != std::string::npos;
    throw InputError(fmt::format("{}:{}:{}: YAML syntax error: {}{}", src.file, e.mark.line + 1, e.mark.column + 1,
                                 detail::printable(e.msg, 200),
                                 tab ? " (YAML does not allow tabs for indentation)" : ""));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: cannot parse YAML: {}", src.file, e.what()));
  }
}

void apply_override(YAML::Node& root, const std::string& flag, Source& src) {
  const auto eq = flag.find('=');
  if (eq == std::string::npos || eq == 0) {
    throw InputError(fmt::format("--set {}: expected KEY=VALUE, e.g. --set layers.0.units=50", flag));
  }
  const std::string path = flag.substr(0, eq);
  const std::string text = flag.substr(eq + 1);
  const std::string where = "--set " + flag;
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}: the value is not valid YAML: {}", where, e.what()));
  }
  if (!value.IsDefined() || value.IsNull()) value = YAML::Node(YAML::NodeType::Null);

  std::vector<std::string> parts;
  std::stringstream ss(path);
  for (std::string part; std::getline(ss, part, '.');) parts.push_back(part);
  if (parts.empty() || std::any_of(parts.begin(), parts.end(), [](const auto& p) { return p.empty(); })) {
    throw InputError(fmt::format("{}: '{}' is not a key path like layers.0.units", where, path));
  }
  YAML::Node cur = root;
  std::string walked;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    if (cur.IsSequence()) {
      std::size_t idx = 0;
      auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), idx);
      if (ec != std::errc() || p != part.data() + part.size()) {
        // Not a number: the item whose `name:` it is (a layer of a graph model, by name).
        std::vector<std::string> names;
        idx = cur.size();
        for (std::size_t k = 0; k < cur.size(); ++k) {
          const YAML::Node item = cur[k];
          const YAML::Node name = item.IsMap() ? detail::lookup(item, "name") : YAML::Node();
          if (!name.IsDefined() || !name.IsScalar()) continue;
          names.push_back(name.Scalar());
          if (name.Scalar() == part && idx == cur.size()) idx = k;
        }
        if (idx == cur.size()) {
          throw InputError(fmt::format("{}: {} is a list of {} items; '{}' is neither an index into it nor the name "
                                       "of one of them{}{}",
                                       where, walked.empty() ? "the model" : walked, cur.size(), part,
                                       detail::did_you_mean(part, names),
                                       names.empty() ? "" : " (names: " + detail::join(names) + ")"));
        }
      } else if (idx >= cur.size()) {
        throw InputError(fmt::format("{}: {} is a list of {} items; '{}' is not an index into it", where,
                                     walked.empty() ? "the model" : walked, cur.size(), part));
      }
      parts[i] = std::to_string(idx);  // messages about this key point here by index
      if (last) {
        cur[idx] = value;
      } else {
        if (cur[idx].IsScalar()) cur[idx] = expand_type_shorthand(cur[idx]);
        YAML::Node next = cur[idx];
        cur.reset(next);  // Node's operator= would overwrite the value, reset() rebinds
      }
    } else if (cur.IsMap() || (cur.IsNull() && !walked.empty())) {
      YAML::Node existing = detail::lookup(cur, part);
      if (last) {
        cur[part] = value;
      } else {
        // A missing section is created (--epochs on a model without `train:`); a wrong name
        // is still caught, by the schema check that follows, naming this flag.
        if (!existing.IsDefined()) {
          cur[part] = YAML::Node(YAML::NodeType::Map);
          existing.reset(detail::lookup(cur, part));
        } else if (existing.IsScalar()) {
          cur[part] = expand_type_shorthand(existing);
          existing.reset(detail::lookup(cur, part));
        }
        cur.reset(existing);
      }
    } else {
      throw InputError(fmt::format("{}: {} is a single value, it has no key '{}'", where, walked, part));
    }
    walked = detail::child_path(walked, parts[i]);
  }
  std::string indexed;
  for (const auto& part : parts) indexed = detail::child_path(indexed, part);
  src.overrides[indexed] = where;
}

}  // namespace

ModelFile ModelFile::parse(const std::string& text, const std::string& name, std::span<const std::string> overrides) {
  ModelFile mf;
  mf.impl_ = std::make_shared<Impl>();
  auto src = std::make_shared<Source>();
  src->file = name;
  mf.impl_->file = name;
  mf.impl_->root = parse_text(text, *src);
  if (!mf.impl_->root.IsMap()) {
    throw InputError(fmt::format("{}: a model file is a mapping with data, layers, loss, optimizer and train; found {}",
                                 name, detail::describe(mf.impl_->root)));
  }
  std::size_t visited = 0;
  check_tree(mf.impl_->root, *src, "", 0, visited);
  for (const auto& o : overrides) apply_override(mf.impl_->root, o, *src);
  mf.impl_->source = std::move(src);
  mf.impl_->text = text;
  mf.impl_->name = name;
  mf.impl_->applied.assign(overrides.begin(), overrides.end());
  return mf;
}

ModelFile ModelFile::parse_section(const std::string& text, const std::string& name, const std::string& key) {
  ModelFile doc = parse(text, name);
  YAML::Node node = detail::lookup(doc.impl_->root, key);
  if (!node.IsMap()) {
    detail::fail_at(
        *doc.impl_->source, key, node.IsDefined() ? node : doc.impl_->root,
        fmt::format("expected a model (a mapping with layers, loss, optimizer...), found {}", detail::describe(node)));
  }
  doc.impl_->root.reset(node);
  doc.impl_->section = key;
  return doc;
}

namespace {
// The document parsed again from its text, with the same overrides: a deep copy whose nodes
// keep their line marks (YAML::Clone sets every mark to 1:1).
ModelFile reparse(const ModelFile::Impl& impl, std::vector<std::string> all) {
  ModelFile mf;
  if (impl.section.empty()) {
    mf = ModelFile::parse(impl.text, impl.name, all);
  } else {
    mf = ModelFile::parse_section(impl.text, impl.name, impl.section);
    auto& mine = const_cast<ModelFile::Impl&>(mf.impl());
    auto src = std::make_shared<Source>(*mine.source);
    for (const auto& o : all) apply_override(mine.root, o, *src);
    mine.source = std::move(src);
    mine.applied = std::move(all);
  }
  const_cast<ModelFile::Impl&>(mf.impl()).file = impl.file;
  return mf;
}
}  // namespace

ModelFile ModelFile::with(std::span<const std::string> overrides) const {
  std::vector<std::string> all = impl_->applied;
  all.insert(all.end(), overrides.begin(), overrides.end());
  return reparse(*impl_, std::move(all));
}

YAML::Node fresh_root(const ModelFile::Impl& impl) { return reparse(impl, impl.applied).impl().root; }

std::string ModelFile::text() const {
  YAML::Emitter e;
  e << impl_->root;
  return std::string(e.c_str()) + "\n";
}

ModelFile ModelFile::load(const fs::path& file, std::span<const std::string> overrides) {
  std::error_code ec;
  if (fs::is_directory(file, ec)) throw InputError(fmt::format("{}: is a directory, not a model file", file.string()));
  // A model is a few kilobytes; refusing devices, pipes and huge files keeps `lamina train
  // /dev/zero` (or a FIFO in a run folder's model.yaml) from hanging or exhausting memory. Judged
  // before opening: opening a FIFO waits for a writer.
  if (!fs::exists(file, ec)) {
    throw InputError(fmt::format("{}: cannot open model file: {}", file.string(), std::strerror(ENOENT)));
  }
  if (!fs::is_regular_file(file, ec)) throw InputError(fmt::format("{}: not a regular file", file.string()));
  if (fs::file_size(file, ec) > kMaxModelBytes) {
    throw InputError(fmt::format("{}: {} bytes is too large for a model file (limit {})", file.string(),
                                 fs::file_size(file, ec), kMaxModelBytes));
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open model file: {}", file.string(), std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  ModelFile mf = parse(text.str(), file.string(), overrides);
  mf.impl_->file = file;
  return mf;
}

const fs::path& ModelFile::file() const { return impl_->file; }

std::string ModelFile::name() const {
  YAML::Node n = detail::lookup(impl_->root, "name");
  if (n.IsScalar() && !n.Scalar().empty()) return n.Scalar();
  return impl_->file.stem().string();
}

}  // namespace lamina
