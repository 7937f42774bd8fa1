// Building blocks of property bodies: calling an entry point (a rejection or an exception on a
// valid input is a failure), comparing outputs with references under derived tolerances, and
// recording the worst margin seen, normwise and componentwise.
#pragma once

#include "core/subject.hpp"
#include "error/tolerance.hpp"
#include "error/ulp.hpp"
#include "reference/point.hpp"

#include <rapidcheck.h>

#include <string>

namespace gradproof {

// Fails the current case with exactly this message (RC_FAIL would prepend file, line and the
// macro's source text, which means nothing to a user reading a counterexample).
#define GRADPROOF_FAIL(message) \
    throw ::rc::detail::CaseResult(::rc::detail::CaseResult::Type::Failure, (message))

// Worst margins of the current property run (thread-local; reset by the runner).
struct margin_record {
    long double normwise = 0;       // verdict level: max |error| / tolerance
    long double componentwise = 0;  // stricter level, reported only
    long double worst_ulps = 0;
    std::string worst_where;        // description of the element with the worst normwise margin
    void reset() { *this = margin_record{}; }
};
margin_record& current_margins();

// Calls an entry point; a rejected_input or any exception on a valid input fails the case.
template <class F>
auto call_entry(const char* entry, F&& f) -> decltype(f()) {
    try {
        return f();
    } catch (const rejected_input& e) {
        GRADPROOF_FAIL(std::string(entry) + " rejected a valid input: " + e.what());
    } catch (const std::exception& e) {
        GRADPROOF_FAIL(std::string(entry) + " failed on a valid input: " + e.what());
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
void require_close(const std::string& what, const matrix<T>& actual, const reference::lmatrix& expected,
                   const reference::lmatrix& tolerance, const reference::lmatrix* tol_componentwise = nullptr);

template <class T>
void require_close(const std::string& what, T actual, long double expected, long double tolerance,
                   long double tol_componentwise = -1);

// The same with a long double actual (for derived quantities such as a difference of outputs);
// T gives the ULP scale.
template <class T>
void require_close_ld(const std::string& what, long double actual, long double expected, long double tolerance);

// Requires output shape.
template <class T>
void require_shape(const std::string& what, const matrix<T>& m, Eigen::Index rows, Eigen::Index cols);

// Bitwise equality (NaN payloads included).
template <class T>
bool bitwise_equal(const matrix<T>& a, const matrix<T>& b);
template <class T>
bool bitwise_equal(T a, T b);

}  // namespace gradproof
