#include "lamina/config.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "config_impl.hpp"
#include "printable.hpp"
#include "suggest.hpp"

namespace fs = std::filesystem;

namespace lamina {
namespace detail {

std::string child_path(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string location(const Source& source, const std::string& path, const YAML::Node& node) {
  // The longest overridden prefix of `path` names the flag that produced this value.
  for (std::string p = path;;) {
    if (auto it = source.overrides.find(p); it != source.overrides.end()) return it->second;
    const auto dot = p.rfind('.');
    if (dot == std::string::npos) break;
    p.resize(dot);
  }
  if (node.IsDefined() && !node.Mark().is_null()) {
    return fmt::format("{}:{}:{}", source.file, node.Mark().line + 1, node.Mark().column + 1);
  }
  // A node without a mark was created by a flag that set a key below it.
  const std::string below = path.empty() ? std::string() : path + ".";
  for (const auto& [p, flag] : source.overrides) {
    if (p.starts_with(below)) return flag;
  }
  return source.file;
}

void fail_at(const Source& source, const std::string& path, const YAML::Node& node, std::string_view what) {
  if (path.empty()) throw InputError(fmt::format("{}: {}", location(source, path, node), what));
  throw InputError(fmt::format("{}: {}: {}", location(source, path, node), path, what));
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a mapping";
  if (node.IsSequence()) return node.size() == 0 ? "an empty list" : "a list";
  return fmt::format("'{}'", printable(node.Scalar(), 40));
}

YAML::Node lookup(const YAML::Node& mapping, std::string_view key) {
  if (mapping.IsMap()) {
    for (const auto& kv : mapping) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
    }
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

Config unbound(YAML::Node node, std::shared_ptr<const Source> source, std::string path, const ComponentFactory* registry) {
  auto impl = std::make_shared<Config::Impl>();
  impl->node = std::move(node);
  impl->source = std::move(source);
  impl->path = std::move(path);
  impl->registry = registry;
  return ConfigAccess::make(std::move(impl));
}

namespace {

std::optional<double> parse_double(const std::string& s) {
  double v = 0;
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec != std::errc() || p != e) return std::nullopt;
  return v;
}

std::optional<long long> parse_integer(const std::string& s) {
  long long v = 0;
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  auto [p, ec] = std::from_chars(b, e, v);
  if (ec == std::errc() && p == e) return v;
  // 1e3 is a fine way to write 1000; 1.5 is not an integer.
  if (auto d = parse_double(s); d && std::isfinite(*d) && std::floor(*d) == *d && std::fabs(*d) < 9.0e18) {
    return static_cast<long long>(*d);
  }
  return std::nullopt;
}

std::optional<bool> parse_bool(const std::string& s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

bool in_range(const Key& k, double v) {
  if (k.lo() && (k.lo_open() ? !(v > *k.lo()) : !(v >= *k.lo()))) return false;
  if (k.hi() && (k.hi_open() ? !(v < *k.hi()) : !(v <= *k.hi()))) return false;
  return true;
}

// Checks one value against its key; returns the problem or "".
std::string check_value(const Key& k, const YAML::Node& v) {
  const std::string bad = fmt::format("expected {}, found {}", k.expectation(), describe(v));
  if (k.type() == KeyType::Component) {
    if (v.IsScalar() && !v.Scalar().empty()) return {};
    if (v.IsMap() && lookup(v, "type").IsScalar()) return {};
    return bad;
  }
  if (k.type() == KeyType::Sizes) {
    auto size_ok = [&](const YAML::Node& e) {
      if (!e.IsScalar()) return false;
      auto i = parse_integer(e.Scalar());
      return i && in_range(k, static_cast<double>(*i));
    };
    if (v.IsSequence()) return (v.size() == 1 || v.size() == 2) && size_ok(v[0]) && size_ok(v[v.size() - 1]) ? "" : bad;
    if (!v.IsScalar()) return bad;
    for (const auto& c : k.choices()) {
      if (c == v.Scalar()) return {};
    }
    return size_ok(v) ? "" : bad;
  }
  if (k.type() == KeyType::Numbers) {
    if (!v.IsSequence() || v.size() == 0) return bad;
    for (const auto& e : v) {
      auto d = e.IsScalar() ? parse_double(e.Scalar()) : std::nullopt;
      if (!d || !std::isfinite(*d) || !in_range(k, *d)) return bad;
    }
    return {};
  }
  if (k.type() == KeyType::Strings) {
    if (v.IsScalar()) return v.Scalar().empty() ? bad : std::string();
    if (!v.IsSequence() || v.size() == 0) return bad;
    for (const auto& e : v) {
      if (!e.IsScalar() || e.Scalar().empty()) return bad;
    }
    return {};
  }
  if (!v.IsScalar()) return bad;
  const std::string& s = v.Scalar();
  switch (k.type()) {
    case KeyType::Bool:
      return parse_bool(s) ? std::string() : bad;
    case KeyType::Int: {
      auto i = parse_integer(s);
      return i && in_range(k, static_cast<double>(*i)) ? std::string() : bad;
    }
    case KeyType::Float: {
      auto d = parse_double(s);
      return d && std::isfinite(*d) && in_range(k, *d) ? std::string() : bad;
    }
    case KeyType::String:
      if (k.choices().empty()) return {};
      for (const auto& c : k.choices()) {
        if (c == s) return {};
      }
      return bad + detail::did_you_mean(s, k.choices());
    case KeyType::Path:
      return s.empty() ? bad : std::string();
    case KeyType::Metric: {
      // The form only; whether the model reports it is the host's check at load.
      const std::size_t split = s.starts_with("train_") ? 6 : s.starts_with("val_") ? 4 : 0;
      const bool name_ok = split > 0 && s.size() > split && s.size() <= 64 &&
                           std::all_of(s.begin(), s.end(), [](char c) {
                             return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
                           });
      if (name_ok) return {};
      return s.starts_with("test_") ? bad + " (nothing ranks by the test set: it is the final, unseen measure)" : bad;
    }
    case KeyType::Sizes:
    case KeyType::Numbers:
    case KeyType::Strings:
    case KeyType::Component:
    case KeyType::Others:
      break;
  }
  return {};
}

}  // namespace

fs::path resolve_path(const Source& source, const std::string& value) {
  const fs::path p(value);
  if (p.is_absolute()) return p;
  return fs::path(source.file).parent_path() / p;
}

Config bind(const Config& spec, const Schema& schema, std::string type, std::span<const std::string> extra_keys,
            std::string_view owner, std::string_view type_key) {
  const auto& in = impl_of(spec);
  const Source& src = *in.source;
  std::vector<std::string> known;
  for (const auto& k : schema) known.push_back(k.name());

  const bool takes_others = std::any_of(schema.begin(), schema.end(), [](const Key& k) { return k.type() == KeyType::Others; });
  if (in.node.IsMap()) {
    std::vector<std::string> seen;
    for (const auto& kv : in.node) {
      const std::string key = kv.first.as<std::string>("");
      if (key == type_key && !type.empty()) continue;
      bool extra = false;
      for (const auto& e : extra_keys) extra = extra || e == key;
      if (extra) continue;
      const Key* k = find_key(schema, key);
      const std::string path = child_path(in.path, key);
      if (k == nullptr && takes_others) continue;  // the type's own: its reader checks them
      if (k == nullptr) {
        std::vector<std::string> all = known;
        all.insert(all.end(), extra_keys.begin(), extra_keys.end());
        fail_at(src, in.path, kv.first,
                fmt::format("unknown key '{}' for {}{}; its keys are: {}", key, owner, did_you_mean(key, all),
                            all.empty() ? "(none)" : join(all)));
      }
      if (auto problem = check_value(*k, kv.second); !problem.empty()) {
        fail_at(src, path, kv.second, problem);
      }
    }
  } else if (!(in.node.IsScalar() && !type.empty())) {
    fail_at(src, in.path, in.node, fmt::format("expected a mapping for {}, found {}", owner, describe(in.node)));
  }
  for (const auto& k : schema) {
    if (k.is_required() && !lookup(in.node, k.name()).IsDefined()) {
      fail_at(src, in.path, in.node,
              fmt::format("{} needs key '{}' ({}): {}", owner, k.name(), k.expectation(), k.doc()));
    }
  }
  auto impl = std::make_shared<Config::Impl>(in);
  impl->schema = &schema;
  impl->type = std::move(type);
  impl->type_key = std::string(type_key);
  impl->extra_keys.assign(extra_keys.begin(), extra_keys.end());
  return ConfigAccess::make(std::move(impl));
}

namespace {

// The emitter writes a quoted scalar plain ('42' as 42), which a type reading its keys by YAML's
// own typing (Key::others) would read back as a number from the run's model.yaml: such scalars
// get YAML's standard string tag, written in full (`!<tag:yaml.org,2002:str> 42`: yaml-cpp emits
// no `!!str` shorthand).
YAML::Node keep_strings(YAML::Node v) {
  if (v.IsScalar() && v.Tag() == "!") {
    const std::string& s = v.Scalar();
    const bool looks_typed = s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL" ||
                             parse_bool(s) || parse_integer(s) || parse_double(s);
    if (looks_typed) v.SetTag("tag:yaml.org,2002:str");
  } else if (v.IsSequence()) {
    for (std::size_t i = 0; i < v.size(); ++i) v[i] = keep_strings(v[i]);
  } else if (v.IsMap()) {
    for (auto kv : v) kv.second = keep_strings(kv.second);
  }
  return v;
}

}  // namespace

YAML::Node resolved(const Config& bound, std::span<const std::string> extra_keys) {
  const auto& in = impl_of(bound);
  YAML::Node out(YAML::NodeType::Map);
  if (!in.type.empty()) out[in.type_key] = in.type;
  for (const auto& k : *in.schema) {
    YAML::Node v = lookup(in.node, k.name());
    if (v.IsDefined() && k.type() == KeyType::Path && v.IsScalar()) {
      // Absolute, so that the run's copy of the model still finds the files.
      out[k.name()] = fs::absolute(resolve_path(*in.source, v.Scalar())).lexically_normal().string();
    } else if (v.IsDefined()) {
      out[k.name()] = YAML::Clone(v);
    } else if (k.default_text() && k.type() == KeyType::Path) {
      // A relative default is relative to the model file too (the python layer's `path: .`).
      out[k.name()] = fs::absolute(resolve_path(*in.source, YAML::Load(*k.default_text()).Scalar())).lexically_normal().string();
    } else if (k.default_text()) {
      out[k.name()] = YAML::Load(*k.default_text());
    }
  }
  for (const auto& e : extra_keys) {
    if (YAML::Node v = lookup(in.node, e); v.IsDefined()) out[e] = YAML::Clone(v);
  }
  if (std::any_of(in.schema->begin(), in.schema->end(), [](const Key& k) { return k.type() == KeyType::Others; }) &&
      in.node.IsMap()) {
    for (const auto& kv : in.node) {
      const std::string key = kv.first.as<std::string>("");
      const bool declared = key == in.type_key || find_key(*in.schema, key) != nullptr ||
                            std::find(extra_keys.begin(), extra_keys.end(), key) != extra_keys.end();
      if (!declared) out[key] = keep_strings(YAML::Clone(kv.second));
    }
  }
  return out;
}

}  // namespace detail

using detail::lookup;

Config::Config(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Config Config::parse(const std::string& yaml, const std::string& name) {
  auto src = std::make_shared<Source>();
  src->file = name;
  YAML::Node node;
  try {
    node = YAML::Load(yaml);
  } catch (const YAML::ParserException& e) {
    throw InputError(fmt::format("{}:{}:{}: YAML syntax error: {}", name, e.mark.line + 1, e.mark.column + 1,
                                 detail::printable(e.msg, 200)));
  }
  return detail::unbound(node, std::move(src), "", nullptr);
}

namespace {

// The value to read for `key`: the file's, or the parsed default.
std::pair<YAML::Node, const Key*> value_of(const Config::Impl& impl, std::string_view key) {
  if (impl.schema == nullptr) {
    throw Error(fmt::format("{}: internal error: reading key '{}' of an unvalidated mapping", impl.path, key));
  }
  const Key* k = find_key(*impl.schema, key);
  if (k == nullptr) {
    throw Error(fmt::format("{}: internal error: key '{}' is not declared by type '{}'", impl.path, key, impl.type));
  }
  YAML::Node v = lookup(impl.node, key);
  if (!v.IsDefined()) {
    if (!k->default_text()) {
      detail::fail_at(*impl.source, impl.path, impl.node, fmt::format("missing key '{}'", key));
    }
    v.reset(YAML::Load(*k->default_text()));
  }
  return {v, k};
}

template <class T>
T convert(const YAML::Node& v) {
  const std::string& s = v.Scalar();
  if constexpr (std::is_same_v<T, bool>) {
    return *detail::parse_bool(s);
  } else if constexpr (std::is_integral_v<T>) {
    const long long i = *detail::parse_integer(s);
    if (i < std::numeric_limits<T>::min() || i > std::numeric_limits<T>::max()) {
      throw InputError(fmt::format("value {} does not fit", s));
    }
    return static_cast<T>(i);
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(*detail::parse_double(s));
  } else {
    return s;
  }
}

}  // namespace

template <class T>
T Config::get(std::string_view key) const {
  auto [v, k] = value_of(*impl_, key);
  // bind() validated the file's values; defaults are validated here (a plugin bug otherwise).
  if (auto problem = detail::check_value(*k, v); !problem.empty()) {
    detail::fail_at(*impl_->source, detail::child_path(impl_->path, key), v, problem);
  }
  if (!v.IsScalar()) {
    detail::fail_at(*impl_->source, detail::child_path(impl_->path, key), v,
                    fmt::format("expected a single value, found {}", detail::describe(v)));
  }
  return convert<T>(v);
}

template bool Config::get<bool>(std::string_view) const;
template int Config::get<int>(std::string_view) const;
template long Config::get<long>(std::string_view) const;
template long long Config::get<long long>(std::string_view) const;
template float Config::get<float>(std::string_view) const;
template double Config::get<double>(std::string_view) const;
template std::string Config::get<std::string>(std::string_view) const;

std::filesystem::path Config::file(std::string_view key) const {
  auto [v, k] = value_of(*impl_, key);
  if (k->type() != KeyType::Path) {
    throw Error(fmt::format("{}: internal error: key '{}' is not declared as a path", impl_->path, key));
  }
  const std::string s = get<std::string>(key);
  return detail::resolve_path(*impl_->source, s);
}

std::vector<std::int64_t> Config::sizes(std::string_view key) const {
  auto [v, k] = value_of(*impl_, key);
  if (k->type() != KeyType::Sizes) {
    throw Error(fmt::format("{}: internal error: key '{}' is not declared as sizes", impl_->path, key));
  }
  if (auto problem = detail::check_value(*k, v); !problem.empty()) {
    detail::fail_at(*impl_->source, detail::child_path(impl_->path, key), v, problem);
  }
  std::vector<std::int64_t> out;
  if (v.IsSequence()) {
    for (const auto& e : v) out.push_back(*detail::parse_integer(e.Scalar()));
  } else if (auto i = detail::parse_integer(v.Scalar())) {
    out.push_back(*i);
  }
  return out;
}

std::vector<double> Config::numbers(std::string_view key) const {
  if (const Key* optional = impl_->schema ? find_key(*impl_->schema, key) : nullptr;
      optional && !has(key) && !optional->default_text()) {
    return {};  // an optional key left out
  }
  auto [v, k] = value_of(*impl_, key);
  if (k->type() != KeyType::Numbers) {
    throw Error(fmt::format("{}: internal error: key '{}' is not declared as numbers", impl_->path, key));
  }
  std::vector<double> out;
  if (auto problem = detail::check_value(*k, v); !problem.empty()) {
    detail::fail_at(*impl_->source, detail::child_path(impl_->path, key), v, problem);
  }
  for (const auto& e : v) out.push_back(*detail::parse_double(e.Scalar()));
  return out;
}

namespace {

void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += ch;
    }
  }
  out += '"';
}

// A YAML value as JSON, scalars typed as YAML 1.2's core schema reads them (a quoted scalar
// stays a string).
void append_json(std::string& out, const YAML::Node& v) {
  if (v.IsMap()) {
    out += '{';
    bool first = true;
    for (const auto& kv : v) {
      if (!first) out += ", ";
      first = false;
      append_json_string(out, kv.first.as<std::string>(""));
      out += ": ";
      append_json(out, kv.second);
    }
    out += '}';
  } else if (v.IsSequence()) {
    out += '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i > 0) out += ", ";
      append_json(out, v[i]);
    }
    out += ']';
  } else if (v.IsNull() || !v.IsDefined()) {
    out += "null";
  } else {
    const std::string& s = v.Scalar();
    if (v.Tag() == "!" || v.Tag() == "tag:yaml.org,2002:str") {
      append_json_string(out, s);
    } else if (s == "~" || s == "null" || s == "Null" || s == "NULL") {
      out += "null";
    } else if (auto b = detail::parse_bool(s)) {
      out += *b ? "true" : "false";
    } else if (auto i = detail::parse_integer(s)) {
      out += std::to_string(*i);
    } else if (auto d = detail::parse_double(s); d && std::isfinite(*d)) {
      out += fmt::format("{}", *d);
    } else {
      append_json_string(out, s);
    }
  }
}

}  // namespace

std::string Config::others_json() const {
  std::string out = "{";
  if (impl_->schema != nullptr && impl_->node.IsMap()) {
    bool first = true;
    for (const auto& kv : impl_->node) {
      const std::string key = kv.first.as<std::string>("");
      if (key == impl_->type_key || find_key(*impl_->schema, key) != nullptr ||
          std::find(impl_->extra_keys.begin(), impl_->extra_keys.end(), key) != impl_->extra_keys.end()) {
        continue;
      }
      if (!first) out += ", ";
      first = false;
      append_json_string(out, key);
      out += ": ";
      append_json(out, kv.second);
    }
  }
  return out + "}";
}

std::vector<std::string> Config::strings(std::string_view key) const {
  if (const Key* optional = impl_->schema ? find_key(*impl_->schema, key) : nullptr;
      optional && !has(key) && !optional->default_text()) {
    return {};  // an optional key left out
  }
  auto [v, k] = value_of(*impl_, key);
  if (k->type() != KeyType::Strings) {
    throw Error(fmt::format("{}: internal error: key '{}' is not declared as strings", impl_->path, key));
  }
  std::vector<std::string> out;
  if (auto problem = detail::check_value(*k, v); !problem.empty()) {
    detail::fail_at(*impl_->source, detail::child_path(impl_->path, key), v, problem);
  }
  if (v.IsScalar()) return {v.Scalar()};
  for (const auto& e : v) out.push_back(e.Scalar());
  return out;
}

bool Config::has(std::string_view key) const { return lookup(impl_->node, key).IsDefined(); }

const std::string& Config::type() const { return impl_->type; }
const std::string& Config::path() const { return impl_->path; }
const Schema& Config::schema() const {
  static const Schema empty;
  return impl_->schema ? *impl_->schema : empty;
}

std::string Config::where(std::string_view key) const {
  if (key.empty()) return detail::location(*impl_->source, impl_->path, impl_->node);
  YAML::Node v = lookup(impl_->node, key);
  return detail::location(*impl_->source, detail::child_path(impl_->path, key), v.IsDefined() ? v : impl_->node);
}

void Config::fail(std::string_view key, std::string_view what) const {
  YAML::Node v = key.empty() ? YAML::Node(YAML::NodeType::Undefined) : lookup(impl_->node, key);
  detail::fail_at(*impl_->source, key.empty() ? impl_->path : detail::child_path(impl_->path, key),
                  v.IsDefined() ? v : impl_->node, what);
}

std::unique_ptr<void, void (*)(void*)> Config::make_component(std::string_view key, Kind kind) const {
  auto [v, k] = value_of(*impl_, key);
  if (k->type() != KeyType::Component || k->component_kind() != kind) {
    throw Error(fmt::format("{}: internal error: key '{}' is not declared as a {} component", impl_->path, key,
                            kind_name(kind)));
  }
  if (impl_->registry == nullptr) {
    throw Error(fmt::format("{}: internal error: no registry to build '{}'", impl_->path, key));
  }
  Config spec = detail::unbound(v, impl_->source, detail::child_path(impl_->path, key), impl_->registry);
  return impl_->registry->create_erased(kind, spec);
}

}  // namespace lamina
