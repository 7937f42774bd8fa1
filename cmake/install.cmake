# Install rules, the CMake package (find_package(gradproof CONFIG)), the pkg-config file of the
# plug-in header, and the Debian package (cpack -G DEB). Included by the top-level CMakeLists.txt
# when GRADPROOF_INSTALL is on.
include(CMakePackageConfigHelpers)
set(GRADPROOF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/gradproof)

# The tool. Its SIMD kernel libraries go to lib/, found through its RPATH; the bench peers go
# where src/cli/bench.cpp looks for them, relative to bin/.
install(TARGETS gradproof RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
if(GRADPROOF_KERNEL_LIBRARIES)
  set_target_properties(gradproof PROPERTIES INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}")
endif()
install(FILES bench/peers/numpy_peer.py bench/peers/gradcheck_peer.py examples/python/seed_numpy.py
  DESTINATION ${CMAKE_INSTALL_DATADIR}/gradproof/peers)

# The libraries a user's test links, exported as gradproof::core, gradproof::kernels (and its
# SIMD builds) and gradproof::gtest. The static libraries need their private link dependencies
# at the user's link, so every one is in the export set.
set(gradproof_exported gradproof_core gradproof_kernels ${GRADPROOF_KERNEL_LIBRARIES})
if(TARGET gradproof_gtest)
  list(APPEND gradproof_exported gradproof_gtest)
endif()
install(TARGETS ${gradproof_exported} EXPORT gradproofTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT gradproofTargets NAMESPACE gradproof:: DESTINATION ${GRADPROOF_CMAKE_DIR})
# Only the light public headers: version, the C plug-in ABI, the testing API and its GoogleTest
# registration. No header under src/ is needed to use an installed target.
install(FILES include/gradproof/version.hpp include/gradproof/plugin.h include/gradproof/testing.hpp
  include/gradproof/gtest.hpp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/gradproof)

if(TARGET gradproof_gtest)
  set(gradproof_has_gtest ON)
else()
  set(gradproof_has_gtest OFF)
endif()
configure_package_config_file(cmake/gradproofConfig.cmake.in ${PROJECT_BINARY_DIR}/gradproofConfig.cmake
  INSTALL_DESTINATION ${GRADPROOF_CMAKE_DIR})
# As fmt: any version with the same major number satisfies a request.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/gradproofConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/gradproofConfig.cmake ${PROJECT_BINARY_DIR}/gradproofConfigVersion.cmake
  cmake/find_multiprecision.cmake DESTINATION ${GRADPROOF_CMAKE_DIR})

# pkg-config for plug-in authors (`cc $(pkg-config --cflags gradproof-plugin) …`): the header is
# self-contained C, so Cflags only. Relocatable (${pcfiledir}), so the same file serves any prefix
# and the .deb, whose prefix differs from the build's.
configure_file(cmake/gradproof-plugin.pc.in ${PROJECT_BINARY_DIR}/gradproof-plugin.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/gradproof-plugin.pc DESTINATION ${CMAKE_INSTALL_DATADIR}/pkgconfig)

# The Python package `gradproof` (gradproof.check, gradproof.serve, `python3 -m gradproof check`),
# installed where Debian's /usr/bin/python3 looks (lib/python3/dist-packages); it finds the
# gradproof executable at <prefix>/bin/gradproof next to it.
install(DIRECTORY python/gradproof DESTINATION lib/python3/dist-packages
  PATTERN "__pycache__" EXCLUDE PATTERN "*.pyc" EXCLUDE)

# The Debian package: the installed layout above under /usr. Shared-library dependencies come from
# dpkg-shlibdeps; the Python module needs python3 and numpy; a find_package(gradproof) user also
# needs the development packages of the exported targets' dependencies (Recommends: the tool and
# the Python module run without them).
set(CPACK_PACKAGE_NAME gradproof)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Property-based gradient verification for softmax and cross-entropy")
set(CPACK_PACKAGE_CONTACT "gradproof maintainers <gradproof@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)
set(CPACK_STRIP_FILES ON)  # debug info would carry the build's source paths into the package
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The SIMD kernel libraries are the package's own: dpkg-shlibdeps resolves them in the staging tree.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_DEPENDS "python3, python3-numpy")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
  "libeigen3-dev, libboost-dev, librapidcheck-dev, nlohmann-json3-dev, libfmt-dev, libmpfr-dev, libmpfi-dev, libgmp-dev, libgtest-dev, cmake, pkg-config")
set(CPACK_GENERATOR DEB)
include(CPack)
