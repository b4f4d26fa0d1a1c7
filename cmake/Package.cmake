# cpack -G DEB (in the build folder) -> signvote_<version>_amd64.deb for
# cluster nodes: the executables, example configs, headers, static libraries
# and the CMake package, installed under /usr.
#   Depends: computed by dpkg-shlibdeps from the ELF files (libopenmpi3,
#            libdnnl3, libyaml-cpp0.7, ...) plus openmpi-bin for mpirun, and
#            python3 >= 3.9 when the Python package is built (its native
#            library has a C ABI loaded with ctypes: no Python version pin).
#   CUDA:    never a hard dependency. No installed executable links a CUDA
#            library today; should one, dpkg-shlibdeps would stop on the
#            toolkit's libraries (they belong to no Debian package), so the
#            package check in tests/install refuses any libcuda* in Depends.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME signvote)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "signvote")
set(CPACK_PACKAGE_CONTACT "signvote maintainers <signvote@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "signSGD / Signum with majority vote: MPI parameter server for 1-bit distributed training")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # signvote_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "openmpi-bin")
if(SIGNVOTE_HAVE_PYTHON)  # any Python 3 from 3.9 loads the package
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "openmpi-bin, ${SIGNVOTE_PYTHON_DEPENDS}")
endif()
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "python3-matplotlib, python3-torch")
set(CPACK_STRIP_FILES ON)
include(CPack)
