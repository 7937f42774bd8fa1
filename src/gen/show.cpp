#include "gen/show.hpp"

#include "error/ulp.hpp"

#include <algorithm>
#include <ostream>
#include <sstream>
#include <vector>

namespace gradproof {

template <class T>
void print_matrix(std::ostream& os, const char* name, const matrix<T>& m) {
    os << name << " (" << m.rows() << "×" << m.cols() << ") =\n";
    std::vector<std::string> cells(static_cast<std::size_t>(m.size()));
    std::size_t width = 1;
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        for (Eigen::Index j = 0; j < m.cols(); ++j) {
            auto& s = cells[static_cast<std::size_t>(i * m.cols() + j)];
            s = format_exact<T>(static_cast<long double>(m(i, j)));
            width = std::max(width, s.size());
        }
    for (Eigen::Index i = 0; i < m.rows(); ++i) {
        os << "  [";
        for (Eigen::Index j = 0; j < m.cols(); ++j) {
            const auto& s = cells[static_cast<std::size_t>(i * m.cols() + j)];
            os << (j ? ", " : " ") << std::string(width - s.size(), ' ') << s;
        }
        os << " ]\n";
    }
}

void print_labels(std::ostream& os, const char* name, const label_vector& y) {
    os << name << " = [";
    for (std::size_t i = 0; i < y.size(); ++i) os << (i ? ", " : "") << y[i];
    os << "]\n";
}

template <class T>
void showValue(const logits_case<T>& c, std::ostream& os) {
    os << "\n";
    print_matrix(os, "logits", c.z);
    if (!c.y.empty()) print_labels(os, "labels", c.y);
    if (c.g.size() > 0 && c.g.size() <= 64) print_matrix(os, "upstream", c.g);
}

template <class T>
void showValue(const loss_case<T>& c, std::ostream& os) {
    os << "\n";
    print_matrix(os, "W", c.W);
    print_matrix(os, "X", c.X);
    print_labels(os, "y", c.y);
    os << "reg = " << format_exact<T>(static_cast<long double>(c.reg)) << "\n";
}

template <class T>
void showValue(const direction_case<T>& c, std::ostream& os) {
    os << "\n";
    print_matrix(os, "V", c.V);
}

template <class T>
std::string to_text(const logits_case<T>& c) {
    std::ostringstream os;
    showValue(c, os);
    return os.str();
}
template <class T>
std::string to_text(const loss_case<T>& c) {
    std::ostringstream os;
    showValue(c, os);
    return os.str();
}

template void print_matrix<float>(std::ostream&, const char*, const matrix<float>&);
template void print_matrix<double>(std::ostream&, const char*, const matrix<double>&);
template void print_matrix<long double>(std::ostream&, const char*, const matrix<long double>&);
template void showValue<float>(const logits_case<float>&, std::ostream&);
template void showValue<double>(const logits_case<double>&, std::ostream&);
template void showValue<float>(const loss_case<float>&, std::ostream&);
template void showValue<double>(const loss_case<double>&, std::ostream&);
template void showValue<float>(const direction_case<float>&, std::ostream&);
template void showValue<double>(const direction_case<double>&, std::ostream&);
template std::string to_text<float>(const logits_case<float>&);
template std::string to_text<double>(const logits_case<double>&);
template std::string to_text<float>(const loss_case<float>&);
template std::string to_text<double>(const loss_case<double>&);

}  // namespace gradproof
