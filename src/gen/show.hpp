// Counterexamples print as small readable matrices with full-precision values (17 significant
// digits for double, 9 for float): every printed number reads back to the same binary value.
// RapidCheck finds these showValue overloads by argument-dependent lookup.
#pragma once

#include "gen/cases.hpp"

#include <iosfwd>
#include <string>

namespace gradproof {

template <class T>
void print_matrix(std::ostream& os, const char* name, const matrix<T>& m);
void print_labels(std::ostream& os, const char* name, const label_vector& y);

template <class T>
void showValue(const logits_case<T>& c, std::ostream& os);
template <class T>
void showValue(const loss_case<T>& c, std::ostream& os);

template <class T>
void showValue(const direction_case<T>& c, std::ostream& os);

template <class T>
std::string to_text(const logits_case<T>& c);
template <class T>
std::string to_text(const loss_case<T>& c);

}  // namespace gradproof
