// Direct unit tests of the built-in implementations: argument validation and a few exact cases.
// Their numerical accuracy is the business of the property catalog (tests/properties).
#include "impl/naive.hpp"
#include "impl/seed_vectorized.hpp"
#include "impl/vectorized.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

using namespace gradproof;

namespace {
template <class Impl>
void expect_invalid(const char* argument, const matrix<double>& W, const matrix<double>& X, const label_vector& y,
                    double reg) {
    try {
        Impl::template softmax_loss<double>(W, X, y, reg);
        FAIL() << "no exception for bad " << argument;
    } catch (const std::invalid_argument& e) {
        EXPECT_EQ(std::string(e.what()).rfind(argument, 0), 0u) << e.what();
    }
}

template <class Impl>
void validation_suite() {
    const matrix<double> W = matrix<double>::Zero(3, 4), X = matrix<double>::Ones(2, 3);
    expect_invalid<Impl>("y", W, X, {0, 4}, 0.0);
    expect_invalid<Impl>("y", W, X, {0, -1}, 0.0);
    expect_invalid<Impl>("y", W, X, {0}, 0.0);
    expect_invalid<Impl>("X", W, matrix<double>::Ones(2, 2), {0, 1}, 0.0);
    expect_invalid<Impl>("X", W, matrix<double>(0, 3), {}, 0.0);
    expect_invalid<Impl>("reg", W, X, {0, 1}, std::numeric_limits<double>::quiet_NaN());
    expect_invalid<Impl>("reg", W, X, {0, 1}, std::numeric_limits<double>::infinity());
    expect_invalid<Impl>("reg", W, X, {0, 1}, -1.0);
    matrix<double> Wn = W;
    Wn(1, 1) = std::numeric_limits<double>::quiet_NaN();
    expect_invalid<Impl>("W", Wn, X, {0, 1}, 0.0);
    matrix<double> Xi = X;
    Xi(0, 0) = std::numeric_limits<double>::infinity();
    expect_invalid<Impl>("X", W, Xi, {0, 1}, 0.0);
    expect_invalid<Impl>("W", matrix<double>(3, 0), X, {0, 1}, 0.0);
}
}  // namespace

TEST(naive, rejects_bad_arguments_naming_them) { validation_suite<impl::naive>(); }
TEST(vectorized, rejects_bad_arguments_naming_them) { validation_suite<impl::vectorized>(); }
TEST(seed_vectorized, rejects_bad_arguments_naming_them) { validation_suite<impl::seed_vectorized>(); }

// At W = 0 every class has probability 1/C: L = log C and dS = 1/C − onehot exactly for C = 4.
TEST(vectorized, zero_weights_give_uniform_probabilities) {
    const matrix<double> W = matrix<double>::Zero(2, 4), X = matrix<double>::Ones(3, 2);
    const auto r = impl::vectorized::softmax_loss<double>(W, X, {0, 1, 3}, 0.0);
    EXPECT_DOUBLE_EQ(r.loss, std::log(4.0));
    EXPECT_EQ(r.dS(0, 0), -0.75);
    EXPECT_EQ(r.dS(0, 1), 0.25);
}

// The seed's flaw, demonstrated directly: label logit 800 below the max.
TEST(seed_vectorized, loss_overflows_when_label_probability_underflows) {
    matrix<double> W(1, 2);
    W << 0.0, -800.0;
    const matrix<double> X = matrix<double>::Ones(1, 1);
    EXPECT_TRUE(std::isinf(impl::seed_vectorized::softmax_loss<double>(W, X, {1}, 0.0).loss));
    EXPECT_DOUBLE_EQ(impl::vectorized::softmax_loss<double>(W, X, {1}, 0.0).loss, 800.0);
    EXPECT_DOUBLE_EQ(impl::naive::softmax_loss<double>(W, X, {1}, 0.0).loss, 800.0);
}

TEST(vectorized, log_softmax_keeps_tiny_log_probabilities) {
    matrix<double> z(1, 2);
    z << 0.0, -40.0;
    const auto o = impl::vectorized::log_softmax<double>(z);
    EXPECT_NEAR(o(0, 0), -std::exp(-40.0), 1e-30);
    EXPECT_LT(o(0, 0), 0.0);
}

TEST(vectorized, nan_row_does_not_leak_into_other_rows) {
    matrix<double> z(2, 3);
    z << 1, std::numeric_limits<double>::quiet_NaN(), 2, 0, 0, 0;
    const auto p = impl::vectorized::softmax<double>(z);
    EXPECT_TRUE(std::isnan(p(0, 0)));
    EXPECT_DOUBLE_EQ(p(1, 0), 1.0 / 3.0);
}

TEST(vectorized, masked_classes_get_zero_probability) {
    matrix<double> z(1, 3);
    z << 0, -std::numeric_limits<double>::infinity(), 0;
    const auto p = impl::vectorized::softmax<double>(z);
    EXPECT_EQ(p(0, 1), 0.0);
    EXPECT_EQ(p(0, 0), 0.5);
}

TEST(vectorized, works_in_mp_real_and_long_double) {
    const mp_precision_guard guard(128);
    matrix<mp_real> W = matrix<mp_real>::Zero(2, 3);
    matrix<mp_real> X = matrix<mp_real>::Ones(1, 2);
    const auto r = impl::vectorized::softmax_loss<mp_real>(W, X, {2}, mp_real(0));
    EXPECT_LT(abs(r.loss - log(mp_real(3))), mp_real(1e-35));
    matrix<long double> Wl = matrix<long double>::Zero(2, 3), Xl = matrix<long double>::Ones(1, 2);
    EXPECT_NEAR(static_cast<double>(impl::naive::softmax_loss<long double>(Wl, Xl, {0}, 0.0L).loss), std::log(3.0), 1e-15);
}
