# Flags shared by the core, the plugins, the app and the tests. The plugin fingerprint
# (lamina/abi.hpp) records the compiler and C++ library, so every part must be built alike.
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()

# Build-tree layout mirrors the install tree (bin/, lib/, lib/lamina/plugins/) so the core finds
# its own plugin folder the same way in both.
set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/lib)
set(LAMINA_PLUGIN_OUTPUT_DIR ${PROJECT_BINARY_DIR}/lib/lamina/plugins)
set(LAMINA_PLUGIN_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/lamina/plugins)
set(CMAKE_INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")

add_compile_options(-Wall -Wextra)
if(NOT LAMINA_NATIVE)
  # Portable default: any x86-64-v3 machine (AVX2 + FMA).
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    add_compile_options(-march=x86-64-v3)
  endif()
else()
  add_compile_options(-march=native)
endif()
add_compile_definitions(BOOST_DLL_USE_STD_FS)

if(LAMINA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(LAMINA_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "LAMINA_FUZZ needs clang (libFuzzer): configure with -DCMAKE_CXX_COMPILER=clang++")
  endif()
  # Coverage for libFuzzer in every part, address and undefined-behaviour checks that abort.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
