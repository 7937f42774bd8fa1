// Tests of the full-gradient certification (bench/certify.hpp) and of the directional
// finite differences it uses (reference/directional.hpp). Speed is never asserted.
#include "bench/certify.hpp"
#include "impl/vectorized.hpp"
#include "reference/directional.hpp"
#include "reference/point.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace gradproof {
namespace {

struct problem {
    matrix<double> W, X;
    label_vector y;
    double reg = 1e-3;
    problem(Eigen::Index n, Eigen::Index d, Eigen::Index c, std::uint64_t seed) : W(d, c), X(n, d), y(static_cast<std::size_t>(n)) {
        std::mt19937_64 rng(seed);
        std::normal_distribution<double> normal(0.0, 1.0);
        for (Eigen::Index k = 0; k < W.size(); ++k) W.data()[k] = 0.1 * normal(rng);
        for (Eigen::Index k = 0; k < X.size(); ++k) X.data()[k] = normal(rng);
        for (auto& v : y) v = static_cast<std::int32_t>(rng() % static_cast<std::uint64_t>(c));
    }
};

TEST(CertifyGradient, CorrectImplementationPasses) {
    const problem p(40, 30, 5, 1);
    const auto out = impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, p.reg);
    const auto r = bench::certify_gradient(p.W, p.X, p.y, p.reg, out);
    EXPECT_TRUE(r.passed);
    EXPECT_EQ(r.elements, 150);
    EXPECT_LE(r.worst_margin, 1);
    EXPECT_EQ(r.fd.size(), 8u);
    for (const auto& f : r.fd) {
        EXPECT_TRUE(f.reference_consistent) << f.reference_gap;
        EXPECT_LT(f.fd_error, 1e-30);
    }
    EXPECT_LT(r.max_width_ulps, 0.01);  // the enclosures resolve far below one ULP of double
    EXPECT_GE(r.stages.size(), 4u);
}

TEST(CertifyGradient, WrongElementIsFoundAndLocated) {
    const problem p(40, 30, 5, 2);
    auto out = impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, p.reg);
    out.dW(17, 3) += 1e-9 * (1 + std::fabs(out.dW(17, 3)));
    bench::certify_options o;
    o.directions = 2;
    const auto r = bench::certify_gradient(p.W, p.X, p.y, p.reg, out, o);
    EXPECT_FALSE(r.passed);
    EXPECT_GT(r.worst_margin, 1);
    EXPECT_EQ(r.worst_row, 17);
    EXPECT_EQ(r.worst_col, 3);
}

TEST(CertifyGradient, RejectsMismatchedShapes) {
    const problem p(4, 3, 2, 3);
    loss_result<double> out;
    out.dW.resize(2, 2);
    EXPECT_THROW(bench::certify_gradient(p.W, p.X, p.y, p.reg, out), std::invalid_argument);
}

// The exact-scores FD agrees with ⟨dW, V⟩ of the point reference to ≥ 25 digits normwise, and
// with fd::directional applied to the mp_real instantiation (nodes rounded the other way).
TEST(LossDirectionalDerivatives, AgreeWithReferenceGradientAndGenericFd) {
    const problem p(6, 4, 3, 4);
    const reference::lmatrix W = convert<long double>(p.W), X = convert<long double>(p.X);
    reference::lmatrix V(4, 3);
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(-1, 1);
    for (Eigen::Index k = 0; k < V.size(); ++k) V.data()[k] = u(rng);
    const fd::fd_options o{.bits = 256, .order = 4, .step = 1e-12, .levels = 2};
    const auto est = reference::loss_directional_derivatives(W, X, p.y, p.reg, {V, reference::lmatrix::Zero(4, 3)}, o);
    ASSERT_EQ(est.size(), 2u);
    const mp_precision_guard guard(256);
    const auto ref = reference::softmax_loss(W, X, p.y, p.reg);  // long double: 2^-64 relative
    mp_real inner = 0, scale = 0;
    for (Eigen::Index k = 0; k < V.size(); ++k) {
        inner += mp_real(ref.dW.data()[k]) * mp_real(V.data()[k]);
        scale += abs(mp_real(V.data()[k])) * (1 + abs(mp_real(ref.dW.data()[k])));
    }
    EXPECT_LT(static_cast<double>(abs(est[0].value - inner) / scale), 1e-18);  // long double reference
    EXPECT_EQ(est[1].value, 0);

    const matrix<mp_real> Wm = convert<mp_real>(W), Xm = convert<mp_real>(X);
    std::vector<mp_real> w(Wm.data(), Wm.data() + Wm.size()), v;
    for (Eigen::Index k = 0; k < V.size(); ++k) v.push_back(mp_real(V.data()[k]));
    const auto generic = fd::directional(
        [&](const std::vector<mp_real>& x) {
            matrix<mp_real> Wx(4, 3);
            for (Eigen::Index k = 0; k < Wx.size(); ++k) Wx.data()[k] = x[static_cast<std::size_t>(k)];
            return impl::vectorized::softmax_loss<mp_real>(Wx, Xm, p.y, mp_real(p.reg)).loss;
        },
        w, v, o);
    EXPECT_LT(static_cast<double>(abs(est[0].value - generic.value) / scale), 1e-25);
}

TEST(LossDirectionalDerivatives, RejectsBadDirections) {
    const problem p(3, 2, 2, 6);
    const reference::lmatrix W = convert<long double>(p.W), X = convert<long double>(p.X);
    EXPECT_THROW(reference::loss_directional_derivatives(W, X, p.y, p.reg, {reference::lmatrix::Zero(3, 2)}),
                 std::invalid_argument);
}

}  // namespace
}  // namespace gradproof
