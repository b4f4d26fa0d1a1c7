# Optional oneDNN (SIGNVOTE_DNNL=AUTO|ON|OFF). oneDNN's package config is
# first loaded in a child CMake (cmake/dnnl_probe), so that a package that
# fails inside find_package() (for example Debian's, when the OpenCL headers
# are missing) is reported as ✗ with its reason instead of ending configure.
# AUTO then builds with the Eigen convolution backend; ON stops with the reason.
set(SIGNVOTE_HAVE_DNNL OFF)
set(_sv_dnnl_note "SIGNVOTE_DNNL=OFF")
if(NOT SIGNVOTE_DNNL STREQUAL "OFF")
  set(_sv_probe_dir ${CMAKE_BINARY_DIR}/dnnl-probe)
  file(REMOVE_RECURSE ${_sv_probe_dir})
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/dnnl_probe -B ${_sv_probe_dir}
            -G ${CMAKE_GENERATOR} -DCMAKE_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}
            -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
            "-DCMAKE_PREFIX_PATH=${CMAKE_PREFIX_PATH}" "-Ddnnl_DIR=${dnnl_DIR}"
    RESULT_VARIABLE _sv_rc OUTPUT_VARIABLE _sv_out ERROR_VARIABLE _sv_err)
  if(_sv_rc EQUAL 0)
    find_package(dnnl CONFIG REQUIRED)
    set(SIGNVOTE_HAVE_DNNL ON)
    set(_sv_dnnl_note "${dnnl_VERSION}")
  else()
    # The first line that says why: our own probe message, or CMake's
    # "Could NOT find X (missing: ...)" from a dependency of oneDNN's config.
    string(REGEX MATCH "SIGNVOTE_PROBE: [^\n]*" _sv_why "${_sv_err}")
    if(_sv_why)
      string(REPLACE "SIGNVOTE_PROBE: " "" _sv_why "${_sv_why}")
    else()
      string(REGEX MATCH "Could NOT find [^\n]*" _sv_why "${_sv_err}")
      if(_sv_why MATCHES "OpenCL")
        string(APPEND _sv_why " - apt-get install ocl-icd-opencl-dev")
      elseif(NOT _sv_why)
        set(_sv_why "oneDNN's CMake package failed to load; see ${_sv_probe_dir}")
      endif()
    endif()
    if(SIGNVOTE_DNNL STREQUAL "ON")
      message(FATAL_ERROR "SIGNVOTE_DNNL=ON but oneDNN cannot be used: ${_sv_why}")
    endif()
    set(_sv_dnnl_note "${_sv_why} -> convolutions use the Eigen backend")
  endif()
endif()
signvote_feature("oneDNN convolutions (SIGNVOTE_DNNL=${SIGNVOTE_DNNL}): ${_sv_dnnl_note}" ${SIGNVOTE_HAVE_DNNL})
