# lamina_add_plugin(NAME SOURCES file.cpp ... [LIBRARIES lib ...] [OUTPUT_DIRECTORY dir])
#
# Builds one plugin: a shared library that links only lamina::sdk (plus LIBRARIES), exports
# nothing but the plugin's entry point (hidden visibility), is compiled the way the core was
# (C++20; AddressSanitizer if the core has it, since the build fingerprint must match), lands
# in LAMINA_PLUGIN_OUTPUT_DIR (a folder to name in LAMINA_PLUGIN_PATH or --plugin-dir) and
# installs to LAMINA_PLUGIN_INSTALL_DIR. The same file serves Lamina's own build and, installed
# under lib/cmake/Lamina, third-party plugins built with find_package(Lamina).
function(lamina_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "lamina_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE lamina::sdk ${ARG_LIBRARIES})
  target_compile_features(${name} PRIVATE cxx_std_20)
  if(LAMINA_SANITIZE)
    # Less UBSan's alignment and null checks: they are on every pointer Eigen's packet functions
    # take, which stops GCC keeping the packets in registers, and made a GEMM under the
    # sanitizers five times slower (a training step most of a sanitizer-stage test). AddressSanitizer
    # still stops at a null dereference (SEGV, with its stack), and the fuzz stage's clang build
    # keeps both checks on the readers.
    target_compile_options(${name} PRIVATE -fsanitize=address,undefined -fno-sanitize=alignment,null
                                           -fno-omit-frame-pointer)
    target_link_options(${name} PRIVATE -fsanitize=address,undefined)
  endif()
  if(NOT ARG_OUTPUT_DIRECTORY)
    set(ARG_OUTPUT_DIRECTORY ${LAMINA_PLUGIN_OUTPUT_DIR})
  endif()
  set_target_properties(${name} PROPERTIES
    PREFIX "lamina_"
    OUTPUT_NAME ${name}
    LIBRARY_OUTPUT_DIRECTORY ${ARG_OUTPUT_DIRECTORY}
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  if(LAMINA_PLUGIN_INSTALL_DIR AND ARG_OUTPUT_DIRECTORY STREQUAL LAMINA_PLUGIN_OUTPUT_DIR)
    # lib/lamina/plugins/ -> lib/: liblamina_sdk of the same installation, for tools such as ldd
    # (inside lamina it is loaded already).
    set_target_properties(${name} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
    install(TARGETS ${name} LIBRARY DESTINATION ${LAMINA_PLUGIN_INSTALL_DIR})
    # The build's own plugins, for a target that needs them all but not the rest of the build
    # (the model fuzzer loads them; scripts/fuzz.sh builds only that).
    set_property(GLOBAL APPEND PROPERTY LAMINA_PLUGIN_TARGETS ${name})
  endif()
endfunction()
