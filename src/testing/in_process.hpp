// White-box side of the public testing API (include/gradproof/testing.hpp): the subject an
// in-process implementation is, for the library and this tree's tests. Not installed: it carries
// the core types (Eigen, Boost.Multiprecision).
#pragma once

#include "core/subject.hpp"

#include <gradproof/testing.hpp>

namespace gradproof::testing {

struct implementation::state {
    subject subj;
};

inline const subject& as_subject(const implementation& impl) { return impl.get_state().subj; }

}  // namespace gradproof::testing
