// Building blocks of property bodies: calling an entry point (a rejection, crash or contract
// breach on a valid input is a failure of that kind), comparing outputs with references under
// derived tolerances, and recording the worst margin seen, normwise and componentwise, in the
// property's context.
#pragma once

#include "core/subject.hpp"
#include "properties/context.hpp"
#include "error/tolerance.hpp"
#include "error/ulp.hpp"
#include "reference/point.hpp"

#include <rapidcheck.h>

#include <string>

namespace gradproof {

// Fails the current case with exactly this message (RC_FAIL would prepend file, line and the
// macro's source text, which means nothing to a user reading a counterexample).
#define GRADPROOF_FAIL(message) throw ::gradproof::property_failure(::gradproof::failure_kind::numerical, (message))
#define GRADPROOF_FAIL_AS(kind, message) throw ::gradproof::property_failure((kind), (message))

// Calls an entry point; a rejection, crash or contract breach on a valid input fails the case
// as a failure of that kind.
template <class F>
auto call_entry(const char* entry, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const option_unsupported&) {
        throw;  // not a failure: the caller skips the case (properties/cross_entropy_options.cpp)
    } catch (const rejected_input& e) {
        GRADPROOF_FAIL_AS(failure_kind::rejection, std::string(entry) + " rejected a valid input: " + e.what());
    } catch (const implementation_crashed& e) {
        GRADPROOF_FAIL_AS(failure_kind::crash, std::string(entry) + " crashed: " + e.what());
    } catch (const contract_breached& e) {
        GRADPROOF_FAIL_AS(failure_kind::contract, e.what());
    } catch (const std::exception& e) {
        GRADPROOF_FAIL_AS(failure_kind::rejection, std::string(entry) + " failed on a valid input: " + e.what());
    }
    throw std::logic_error("unreachable");
}

template <class T>
reference::lmatrix widen(const matrix<T>& m) {
    return convert<long double>(m);
}

// Element-wise comparison: fails with expected vs actual, ULPs, tolerance and margin of the
// worst element. tol_componentwise (optional) feeds the componentwise margin only.
template <class T>
void require_close(property_context& ctx, const std::string& what, const matrix<T>& actual, const reference::lmatrix& expected,
                   const reference::lmatrix& tolerance, const reference::lmatrix* tol_componentwise = nullptr);

template <class T>
void require_close(property_context& ctx, const std::string& what, T actual, long double expected, long double tolerance,
                   long double tol_componentwise = -1);

// The same with a long double actual (for derived quantities such as a difference of outputs);
// T gives the ULP scale.
template <class T>
void require_close_ld(property_context& ctx, const std::string& what, long double actual, long double expected, long double tolerance);

// Requires output shape.
template <class T>
void require_shape(const std::string& what, const matrix<T>& m, Eigen::Index rows, Eigen::Index cols);

// Bitwise equality (NaN payloads included).
template <class T>
bool bitwise_equal(const matrix<T>& a, const matrix<T>& b);
template <class T>
bool bitwise_equal(T a, T b);

}  // namespace gradproof
