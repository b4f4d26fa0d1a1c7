# cmake --install BUILD --prefix P lays out:
#   P/bin/signvote, P/bin/signvote-bench, P/bin/signvote-mpirun
#   P/include/signvote/*.h                      the public API only
#   P/lib/<multiarch>/libsignvote_*.a            the libraries
#   P/lib/<multiarch>/cmake/signvote/            find_package(signvote) config
#   P/share/signvote/configs/                    the example configs
#   P/share/doc/signvote/                        README and docs
# find_package(signvote) gives signvote::signvote (the whole engine: config,
# train(), server and worker), signvote::kernels (the sign kernels alone),
# signvote::nn, signvote::data, signvote::robust and one target per layer
# (signvote::comm, ::formats, ::config, ::server, ::worker, ::methods); the config file finds
# their dependencies itself.
include(CMakePackageConfigHelpers)
set(SIGNVOTE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/signvote)

# Every layer library (src/CMakeLists.txt): a static library needs the ones it
# links in the same export set.
set(_sv_libs signvote_kernels signvote_comm signvote_formats signvote_robust signvote_methods signvote_nn
    signvote_data signvote_config signvote_server signvote_worker signvote_core)
if(TARGET signvote_kernels_cuda)
  list(APPEND _sv_libs signvote_kernels_cuda)
endif()
install(TARGETS signvote signvote-bench RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
# mpirun with the flags small and root-run machines need (scripts/mpirun.sh).
install(PROGRAMS ${PROJECT_SOURCE_DIR}/scripts/mpirun.sh DESTINATION ${CMAKE_INSTALL_BINDIR}
        RENAME signvote-mpirun)
install(TARGETS ${_sv_libs} EXPORT signvoteTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/signvote
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/configs/ DESTINATION ${CMAKE_INSTALL_DATADIR}/signvote/configs)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        FILES_MATCHING PATTERN "*.md")
install(EXPORT signvoteTargets NAMESPACE signvote:: DESTINATION ${SIGNVOTE_CMAKE_DIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/signvoteConfig.cmake.in
  ${PROJECT_BINARY_DIR}/signvoteConfig.cmake INSTALL_DESTINATION ${SIGNVOTE_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/signvoteConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/signvoteConfig.cmake
              ${PROJECT_BINARY_DIR}/signvoteConfigVersion.cmake
        DESTINATION ${SIGNVOTE_CMAKE_DIR})
