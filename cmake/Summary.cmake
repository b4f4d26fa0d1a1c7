# Collects one line per dependency/feature and prints a ✓/✗ summary at the end
# of configure.
set_property(GLOBAL PROPERTY SIGNVOTE_SUMMARY "")
function(signvote_feature name found)
  if(found)
    set(mark "✓")
  else()
    set(mark "✗")
  endif()
  string(REPLACE ";" "," name "${name}")  # a ";" would split the list entry
  set_property(GLOBAL APPEND PROPERTY SIGNVOTE_SUMMARY "  ${mark} ${name}")
endfunction()
function(signvote_print_summary)
  get_property(lines GLOBAL PROPERTY SIGNVOTE_SUMMARY)
  message(STATUS "signvote ${PROJECT_VERSION} configuration (${CMAKE_BUILD_TYPE}):")
  foreach(l IN LISTS lines)
    message(STATUS "${l}")
  endforeach()
endfunction()
