// The plug-in contract (include/gradproof/plugin.h) as properties: what an implementation must
// reject, how it treats empty batches, and how a NaN or +inf stays in its own row. (Inputs left
// unmodified and every output written are checked by the worker on every call of a plug-in.)
#pragma once

#include "core/subject.hpp"
#include "properties/context.hpp"

namespace gradproof::properties {

template <class T> void labels_outside_the_class_range_are_rejected(property_context& ctx, const subject& s);
template <class T> void a_class_count_of_zero_is_rejected(property_context& ctx, const subject& s);
template <class T> void an_empty_batch_is_handled_per_contract(property_context& ctx, const subject& s);
template <class T> void nan_or_inf_in_a_row_stays_in_that_row(property_context& ctx, const subject& s);

}  // namespace gradproof::properties
