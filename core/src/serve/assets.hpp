// The dashboard's own page (core/src/serve/assets/), compiled into lamina by CMake
// (cmake/EmbedAssets.cmake writes assets.cpp), so a `lamina` binary serves it from anywhere.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace lamina::serve {

struct Asset {
  std::string name;       // "index.html", "app.js", "app.css"
  std::string_view data;
  const char* type;       // its Content-Type
};

const std::vector<Asset>& assets();

}  // namespace lamina::serve
