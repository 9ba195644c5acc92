#include "runtime/registry.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "config_impl.hpp"
#include "runtime/dataset.hpp"
#include "suggest.hpp"

namespace lamina {
namespace {

bool is_lower_snake(std::string_view s) {
  if (s.empty() || !std::islower(static_cast<unsigned char>(s.front()))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string from_where(const Provider& p) {
  return p.file.empty() ? std::string("the core") : fmt::format("plugin '{}' ({})", p.plugin, p.file);
}

}  // namespace

void Registry::Staging::add_erased(Kind kind, std::string name, std::string summary, Schema keys,
                                   ErasedFactory factory) {
  // A kind this host does not know (5 was the removed Search): the plugin's headers are not
  // this ABI's, or it forged the value.
  if (std::find(std::begin(kAllKinds), std::end(kAllKinds), kind) == std::end(kAllKinds)) {
    throw InputError(fmt::format("{}: type '{}' is registered as kind {}, which this Lamina does not have",
                                 from_where(provider_), name, static_cast<int>(kind)));
  }
  if (!is_lower_snake(name)) {
    throw InputError(
        fmt::format("{}: {} type name '{}' is not lower_snake_case", from_where(provider_), kind_name(kind), name));
  }
  for (const auto& k : keys) {
    // A data source's keys share `data:` with the core's (dataset.hpp).
    const auto& shared = shared_data_keys();
    if (k.name() == "type" ||
        (kind == Kind::DataSource && std::find(shared.begin(), shared.end(), k.name()) != shared.end())) {
      throw InputError(fmt::format("{}: {} '{}' declares the reserved key '{}'", from_where(provider_), kind_name(kind),
                                   name, k.name()));
    }
  }
  if (const TypeInfo* other = registry_.find(kind, name)) {
    throw InputError(fmt::format("{} type '{}' is registered twice: by {} and by {}", kind_name(kind), name,
                                 from_where(other->provider), from_where(provider_)));
  }
  // Layers and merges share `layers:`, so they share one namespace of type names.
  if (kind == Kind::Layer || kind == Kind::Merge) {
    const Kind other_kind = kind == Kind::Layer ? Kind::Merge : Kind::Layer;
    const TypeInfo* other = registry_.find(other_kind, name);
    for (const auto& [info, f] : staged_) {
      if (info.kind == other_kind && info.name == name) other = &info;
    }
    if (other != nullptr) {
      throw InputError(fmt::format("{} type '{}' of {} has the name of a {} type of {}; layers and merges share "
                                   "one list of names",
                                   kind_name(kind), name, from_where(provider_), kind_name(other_kind), from_where(other->provider)));
    }
  }
  for (const auto& [info, f] : staged_) {
    if (info.kind == kind && info.name == name) {
      throw InputError(fmt::format("{} type '{}' is registered twice by {}", kind_name(kind), name,
                                   from_where(provider_)));
    }
  }
  staged_.emplace_back(TypeInfo{kind, std::move(name), std::move(summary), std::move(keys), provider_},
                       std::move(factory));
}

void Registry::Staging::commit() {
  for (auto& [info, factory] : staged_) {
    auto key = std::make_pair(info.kind, info.name);
    registry_.entries_.emplace(std::move(key), Entry{std::move(info), std::move(factory)});
  }
  staged_.clear();
}

const TypeInfo* Registry::find(Kind kind, std::string_view name) const {
  auto it = entries_.find(std::make_pair(kind, std::string(name)));
  return it == entries_.end() ? nullptr : &it->second.info;
}

std::vector<const TypeInfo*> Registry::find_all(std::string_view name) const {
  std::vector<const TypeInfo*> out;
  for (const auto& [key, e] : entries_) {
    if (key.second == name) out.push_back(&e.info);
  }
  return out;
}

std::vector<const TypeInfo*> Registry::list() const {
  std::vector<const TypeInfo*> out;
  for (const auto& [key, e] : entries_) out.push_back(&e.info);
  return out;
}

std::vector<std::string> Registry::names(Kind kind) const {
  std::vector<std::string> out;
  for (const auto& [key, e] : entries_) {
    if (key.first == kind) out.push_back(key.second);
  }
  return out;
}

Registry::Erased Registry::create_erased(Kind kind, const Config& spec,
                                         std::span<const std::string> builder_keys) const {
  return create_bound(kind, bind(kind, spec, builder_keys));
}

Config Registry::bind(Kind kind, const Config& spec, std::span<const std::string> builder_keys,
                      std::string_view type_key, std::string_view default_type) const {
  const auto& in = detail::impl_of(spec);
  const Source& src = *in.source;
  std::string type;
  YAML::Node type_node = in.node;
  if (in.node.IsScalar() && !in.node.Scalar().empty()) {
    type = in.node.Scalar();
  } else if (in.node.IsMap()) {
    type_node.reset(detail::lookup(in.node, type_key));  // reset: Node::operator= would overwrite the spec
    if (!type_node.IsDefined() && !default_type.empty()) {
      type = std::string(default_type);
      type_node.reset(in.node);
    } else if (!type_node.IsDefined()) {
      detail::fail_at(src, in.path, in.node,
                      fmt::format("missing key '{}' (the {} type to use)", type_key, kind_name(kind)));
    } else if (!type_node.IsScalar() || type_node.Scalar().empty()) {
      detail::fail_at(src, detail::child_path(in.path, type_key), type_node,
                      fmt::format("expected a {} type name, found {}", kind_name(kind), detail::describe(type_node)));
    } else {
      type = type_node.Scalar();
    }
  } else {
    detail::fail_at(src, in.path, in.node,
                    fmt::format("expected a {} type name or a mapping with `{}`, found {}", kind_name(kind), type_key,
                                detail::describe(in.node)));
  }

  auto it = entries_.find(std::make_pair(kind, type));
  if (it == entries_.end() && type.find('-') != std::string::npos) {
    // Type names are lower_snake_case; `fashion-mnist` reads as well as `fashion_mnist`.
    std::string snake = type;
    std::replace(snake.begin(), snake.end(), '-', '_');
    if (auto snake_it = entries_.find(std::make_pair(kind, snake)); snake_it != entries_.end()) {
      it = snake_it;
      type = snake;
    }
  }
  if (it == entries_.end()) {
    const std::string path = in.node.IsMap() ? detail::child_path(in.path, type_key) : in.path;
    for (const auto* other : find_all(type)) {
      detail::fail_at(src, path, type_node,
                      fmt::format("'{}' is a {}, not a {}{}", type, kind_name(other->kind), kind_name(kind),
                                  other->kind == Kind::Loss ? "; put it under `loss:`" : ""));
    }
    auto known = names(kind);
    if (kind == Kind::Layer) {  // merges are written in `layers:` too
      for (auto& m : names(Kind::Merge)) known.push_back(std::move(m));
      std::sort(known.begin(), known.end());
    }
    detail::fail_at(src, path, type_node,
                    fmt::format("unknown {} type '{}'{}; known: {} (`lamina plugins` lists them with their plugins)",
                                kind_name(kind), type, detail::did_you_mean(type, known),
                                known.empty() ? "none loaded" : detail::join(known)));
  }
  const Entry& entry = it->second;
  Config bound = detail::bind(spec, entry.info.keys, type, builder_keys, fmt::format("{} '{}'", kind_name(kind), type),
                              type_key);
  auto impl = std::make_shared<Config::Impl>(detail::impl_of(bound));
  impl->registry = this;
  return detail::ConfigAccess::make(std::move(impl));
}

Registry::Erased Registry::create_bound(Kind kind, const Config& bound) const {
  const std::string& type = bound.type();
  auto it = entries_.find(std::make_pair(kind, type));
  if (it == entries_.end())
    throw Error(fmt::format("internal error: {} '{}' is not registered", kind_name(kind), type));
  const Entry& entry = it->second;
  try {
    return entry.factory(bound);
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw InputError(fmt::format("{}: {} '{}' from {} failed to build: {}", bound.where(), kind_name(kind), type,
                                 from_where(entry.info.provider), e.what()));
  } catch (...) {
    throw InputError(fmt::format("{}: {} '{}' from {} failed to build: it threw something that is not a "
                                 "std::exception",
                                 bound.where(), kind_name(kind), type, from_where(entry.info.provider)));
  }
}

}  // namespace lamina
