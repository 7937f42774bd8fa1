# MPFR, GMP and MPFI ship no CMake config files (build-notes.md): find them by header and
# library and wrap each in an imported target.
foreach(lib IN ITEMS gmp mpfr mpfi)
  string(TOUPPER ${lib} LIB)
  find_path(${LIB}_INCLUDE_DIR NAMES ${lib}.h REQUIRED)
  find_library(${LIB}_LIBRARY NAMES ${lib} REQUIRED)
  if(NOT TARGET gradproof_dep::${lib})
    add_library(gradproof_dep::${lib} UNKNOWN IMPORTED)
    set_target_properties(gradproof_dep::${lib} PROPERTIES
      IMPORTED_LOCATION "${${LIB}_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${${LIB}_INCLUDE_DIR}")
  endif()
endforeach()
set_property(TARGET gradproof_dep::mpfr APPEND PROPERTY INTERFACE_LINK_LIBRARIES gradproof_dep::gmp)
set_property(TARGET gradproof_dep::mpfi APPEND PROPERTY INTERFACE_LINK_LIBRARIES gradproof_dep::mpfr)
