# lamina_add_plugin(NAME SOURCES file.cpp ...)
#
# Builds one plugin: a shared library that links only lamina::core, exports nothing but the
# plugin's info record (hidden visibility), lands in the folder the core scans, and installs
# beside the core's own plugins.
function(lamina_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "lamina_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE lamina::core ${ARG_LIBRARIES})
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
    install(TARGETS ${name} LIBRARY DESTINATION ${LAMINA_PLUGIN_INSTALL_DIR})
  endif()
endfunction()
