// gradproof's version: the one source of truth. CMake's project(VERSION) is read from these three
// lines (CMakeLists.txt), so the package version, gradproofConfigVersion.cmake, the .deb and
// `gradproof --version` cannot disagree.
#pragma once

#define GRADPROOF_VERSION_MAJOR 0
#define GRADPROOF_VERSION_MINOR 1
#define GRADPROOF_VERSION_PATCH 0

#define GRADPROOF_DETAIL_STRINGIFY2(x) #x
#define GRADPROOF_DETAIL_STRINGIFY(x) GRADPROOF_DETAIL_STRINGIFY2(x)
// "MAJOR.MINOR.PATCH"
#define GRADPROOF_VERSION_STRING                                                              \
    GRADPROOF_DETAIL_STRINGIFY(GRADPROOF_VERSION_MAJOR)                                       \
    "." GRADPROOF_DETAIL_STRINGIFY(GRADPROOF_VERSION_MINOR) "." GRADPROOF_DETAIL_STRINGIFY( \
        GRADPROOF_VERSION_PATCH)
