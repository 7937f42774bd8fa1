#include "core/validate.hpp"

namespace gradproof::detail {

void throw_invalid(const std::string& argument, const std::string& why) {
    throw std::invalid_argument(argument + ": " + why);
}

}  // namespace gradproof::detail
