// Test helper: f throws std::invalid_argument whose message starts with "<argument>: " (the
// library's convention for naming the bad argument, core/validate.hpp).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>

inline testing::AssertionResult throws_invalid(const std::function<void()>& f, const std::string& argument) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        if (std::string(e.what()).rfind(argument + ": ", 0) == 0) return testing::AssertionSuccess();
        return testing::AssertionFailure() << "message does not start with '" << argument << ": ': " << e.what();
    } catch (...) {
        return testing::AssertionFailure() << "threw something other than std::invalid_argument";
    }
    return testing::AssertionFailure() << "did not throw";
}
