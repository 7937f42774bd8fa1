// Public entry point for testing a C++ kernel inside your own GoogleTest binary (link
// gradproof::gtest): build an implementation from callables with the plug-in ABI's signatures and
// register the whole applicable catalog. See examples/gtest/.
#pragma once

#include "testing/gtest_catalog.hpp"
#include "testing/in_process.hpp"
