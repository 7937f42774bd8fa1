// The fused, blocked and threaded softmax_loss of vectorized (kernels/fused_loss.hpp), its threading
// control (kernels/parallel.hpp) and its instruction-set builds (kernels/kernel_isa.hpp): in every build
// available here, the exact loss, dW and dS (reference/point.hpp) within the bounds of
// error/tolerance.hpp on shapes that exercise several row blocks, several chunks and the class
// split; bitwise identical results for every thread count; NaN rows and masked classes confined
// and non-finite inputs rejected as documented; softmax_loss_into reusing its outputs.
#include "error/tolerance.hpp"
#include "kernels/kernel_isa.hpp"
#include "impl/naive.hpp"
#include "kernels/parallel.hpp"
#include "impl/vectorized.hpp"
#include "reference/point.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace gradproof;

namespace {

template <class T>
struct problem {
    matrix<T> W, X;
    label_vector y;
};

template <class T>
problem<T> random_problem(Eigen::Index n, Eigen::Index d, Eigen::Index c, unsigned seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    problem<T> p{matrix<T>(d, c), matrix<T>(n, d), label_vector(static_cast<std::size_t>(n))};
    for (Eigen::Index i = 0; i < p.W.size(); ++i) p.W.data()[i] = static_cast<T>(0.05 * normal(rng));
    for (Eigen::Index i = 0; i < p.X.size(); ++i) p.X.data()[i] = static_cast<T>(normal(rng));
    std::uniform_int_distribution<int> label(0, static_cast<int>(c - 1));
    for (auto& v : p.y) v = label(rng);
    return p;
}

// Selects a kernel build for one test (skipping it when this machine cannot run it) and restores
// the default when the test ends.
struct isa_guard {
    explicit isa_guard(kernel_isa isa) : available(kernel_isa_available(isa)) {
        if (available) set_kernel_isa(isa);
    }
    ~isa_guard() { reset_kernel_isa(); }
    bool available;
};

class fused_loss_build : public ::testing::TestWithParam<kernel_isa> {};

// Restores the default thread count when a test ends.
struct thread_count_guard {
    ~thread_count_guard() { set_num_threads(0); }
};

template <class T>
void expect_bitwise_equal(const loss_result<T>& a, const loss_result<T>& b, int threads) {
    EXPECT_EQ(a.loss, b.loss) << threads << " threads";
    EXPECT_TRUE(a.dW == b.dW) << threads << " threads: dW differs";
    EXPECT_TRUE(a.dS == b.dS) << threads << " threads: dS differs";
}

// The exact values (reference/point.hpp) and the running-error-analysis bounds of
// error/tolerance.hpp at the problem's own data: the same bounds the property catalog applies.
template <class T = double>
struct exact_and_bounds {
    reference::loss_reference ref;
    loss_tolerances<T> tol;
};

template <class T>
exact_and_bounds<T> exact_loss(const problem<T>& p, T reg) {
    const auto W = convert<long double>(p.W), X = convert<long double>(p.X);
    exact_and_bounds<T> e{reference::softmax_loss(W, X, p.y, reg), {}};
    e.tol = softmax_loss_tolerance<T>(W, X, p.y, reg, e.ref);
    return e;
}

// |r − exact| ≤ scale·bound for the loss and every element of dW and dS.
template <class T>
void expect_within_bounds(const loss_result<T>& r, const exact_and_bounds<T>& e, long double scale,
                          const std::string& where) {
    EXPECT_LE(std::fabs(r.loss - e.ref.loss), scale * e.tol.loss) << where << ": loss";
    for (Eigen::Index k = 0; k < r.dW.rows(); ++k)
        for (Eigen::Index j = 0; j < r.dW.cols(); ++j)
            ASSERT_LE(std::fabs(r.dW(k, j) - e.ref.dW(k, j)), scale * e.tol.dW(k, j)) << where << ": dW(" << k << ", " << j << ")";
    for (Eigen::Index i = 0; i < r.dS.rows(); ++i)
        for (Eigen::Index j = 0; j < r.dS.cols(); ++j)
            ASSERT_LE(std::fabs(r.dS(i, j) - e.ref.dS(i, j)), scale * e.tol.dS(i, j)) << where << ": dS(" << i << ", " << j << ")";
}

std::string shape_name(Eigen::Index n, Eigen::Index d, Eigen::Index c) {
    return std::to_string(n) + "×" + std::to_string(d) + "×" + std::to_string(c);
}

// The fused result against the exact loss and gradient, within the derived bounds.
template <class T = double>
void expect_matches_reference(Eigen::Index n, Eigen::Index d, Eigen::Index c, unsigned seed) {
    const auto p = random_problem<T>(n, d, c, seed);
    const T reg = T(0.25);
    expect_within_bounds(impl::vectorized::softmax_loss<T>(p.W, p.X, p.y, reg), exact_loss(p, reg), 1,
                         shape_name(n, d, c));
}

}  // namespace

TEST_P(fused_loss_build, matches_the_exact_values_within_the_derived_bounds_across_blocks_chunks_and_class_split) {
    const isa_guard isa(GetParam());
    if (!isa.available) GTEST_SKIP() << "this machine cannot run the " << kernel_isa_name(GetParam()) << " build";
    expect_matches_reference(1, 1, 1, 1);
    expect_matches_reference(8, 16, 4, 2);       // one block, one chunk
    expect_matches_reference(700, 900, 3, 3);    // 72 rows a block: 10 blocks
    expect_matches_reference(301, 5000, 7, 4);   // 13 rows a block, ragged last block
    expect_matches_reference(5, 40, 700, 5);     // class split: 3 column chunks, ragged last one
    expect_matches_reference(19, 10, 10, 6);     // N < 2C boundary: class split with one chunk
    expect_matches_reference(20, 10, 10, 7);     // N = 2C: row split
    // SIMD builds: the register tiles of kernels/narrow_loss_avx2.hpp for C ≤ 12, Eigen above.
    expect_matches_reference(200, 3, 12, 8);     // D shorter than a vector: scalar tails only
    expect_matches_reference(130, 37, 11, 9);    // ragged k (vector, then scalar), 5 + 5 + 1 classes
    expect_matches_reference(130, 45, 11, 22);   // k: pairs of vectors, one vector, scalars (AVX-512: 16 + 16, 8, 5)
    expect_matches_reference(150, 19, 13, 10);   // C = 13: Eigen's GEMM in every build
    expect_matches_reference(1000, 64, 2, 11);   // 32 blocks of 32 rows, the last one ragged
    expect_matches_reference(4, 6, 9000, 12);    // class split with 512-class chunks, ragged last one
    // SIMD builds: the class split's register tiles (kernels/wide_loss.hpp), a partial last vector.
    expect_matches_reference(3, 530, 300, 24);   // W packed in two k-blocks (512 + 18 rows), 300 = 256 + 44
    expect_matches_reference(11, 9, 13, 25);     // 8 + 3 rows, 13 classes: one tile of 2 vectors (AVX-512)
    expect_matches_reference<float>(5, 1100, 300, 26);  // float: k-blocks of 1024, 44 = 2 × 16 + 12 classes
    // SIMD builds: kernels/small_loss_avx2.hpp for C ≤ 4 (double) or 8 (float) and N·D ≤ 4096.
    expect_matches_reference(13, 7, 3, 13);      // a tile of 8 rows, then one of 5
    expect_matches_reference(2, 16, 4, 14);      // N < 2C, C fills the vector
    expect_matches_reference(100, 40, 4, 15);    // 13 tiles, the raw sums kept in dW between them
    expect_matches_reference(5, 9, 1, 16);       // one class: ℓ = 0, dS = 0
    expect_matches_reference<float>(8, 16, 4, 17);
    expect_matches_reference<float>(11, 30, 8, 18);  // C fills the float vector: both exp halves
    expect_matches_reference<float>(9, 20, 5, 19);
    expect_matches_reference<float>(300, 64, 10, 20);  // register tiles in float
    expect_matches_reference<float>(300, 57, 10, 23);  // float k: 2 × 16, 16, 9 (AVX-512), 2 × 8 …, 1 (AVX2)
    expect_matches_reference<float>(40, 10, 30, 21);   // Eigen's GEMM in float
}

// Rows whose logits span more than the exp's vector domain (differences below −708.39 take
// std::exp; subnormal and zero weights), exact ties, a masked class and an undefined row, through
// the small kernel (C ≤ 4) and the register tiles (C = 9) of each build.
TEST_P(fused_loss_build, extreme_logit_rows_stay_within_the_bounds_in_every_kernel) {
    const isa_guard isa(GetParam());
    if (!isa.available) GTEST_SKIP() << "this machine cannot run the " << kernel_isa_name(GetParam()) << " build";
    for (const Eigen::Index c : {Eigen::Index(4), Eigen::Index(9)}) {
        auto p = random_problem<double>(24, 3, c, 30);
        p.X.setZero();
        for (Eigen::Index i = 0; i < p.X.rows(); ++i) p.X(i, i % 3) = 1;
        p.W.setZero();
        p.W(0, 1) = -720;   // rows with X(i, 0) = 1: weight exp(−720), subnormal
        p.W(0, 2) = -746;   // and exp(−746), zero
        p.W(1, 0) = 700.5;  // rows with X(i, 1) = 1: a spread of 700.5, inside the vector domain
        p.W(2, 0) = p.W(2, 1) = 3;  // rows with X(i, 2) = 1: an exact tie
        const auto e = exact_loss(p, 0.0);
        expect_within_bounds(impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, 0.0), e, 1,
                             "extreme rows, C = " + std::to_string(c));
        // Row 5: S(5, 0) = +inf, undefined; row 6: S(6, 1) = −inf, class 1 masked.
        p.X.row(5).setZero();
        p.X(5, 0) = 1e300;
        p.W(0, 0) = 1e10;
        p.X.row(6).setZero();
        p.X(6, 1) = 1e300;
        p.W(1, 1) = -1e10;
        p.y[6] = 0;
        const auto r = impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, 0.0);
        EXPECT_TRUE(std::isnan(r.loss));
        for (Eigen::Index i = 0; i < r.dS.rows(); ++i)
            for (Eigen::Index j = 0; j < c; ++j) EXPECT_EQ(std::isnan(r.dS(i, j)), i == 5) << i << ", " << j;
        EXPECT_EQ(r.dS(6, 1), 0.0);
    }
}

TEST_P(fused_loss_build, results_are_bitwise_identical_for_every_thread_count) {
    const isa_guard isa(GetParam());
    if (!isa.available) GTEST_SKIP() << "this machine cannot run the " << kernel_isa_name(GetParam()) << " build";
    const thread_count_guard guard;
    const auto rows = random_problem<double>(3000, 800, 8, 11);     // row split, 4 chunks
    const auto cls = random_problem<double>(16, 300, 2000, 12);     // class split, 8 column chunks
    const auto rowsf = random_problem<float>(3000, 800, 8, 13);
    ASSERT_EQ(detail::row_chunk_count(4.0 * 3000 * 800 * 8, 10, 3000, 8), 4u);  // 10: Eigen path's blocks
    set_num_threads(1);
    const auto r1 = impl::vectorized::softmax_loss<double>(rows.W, rows.X, rows.y, 1e-3);
    const auto c1 = impl::vectorized::softmax_loss<double>(cls.W, cls.X, cls.y, 1e-3);
    const auto f1 = impl::vectorized::softmax_loss<float>(rowsf.W, rowsf.X, rowsf.y, 1e-3f);
    for (int t : {2, 3, 4, 7}) {
        set_num_threads(t);
        for (int repeat = 0; repeat < 2; ++repeat) {
            expect_bitwise_equal(r1, impl::vectorized::softmax_loss<double>(rows.W, rows.X, rows.y, 1e-3), t);
            expect_bitwise_equal(c1, impl::vectorized::softmax_loss<double>(cls.W, cls.X, cls.y, 1e-3), t);
            expect_bitwise_equal(f1, impl::vectorized::softmax_loss<float>(rowsf.W, rowsf.X, rowsf.y, 1e-3f), t);
        }
    }
}

// The kernels keep their temporaries between calls (kernels/scratch.hpp): a call after calls at
// other shapes, whose leftovers fill that memory, must give what a call on a fresh thread gives.
TEST_P(fused_loss_build, results_do_not_depend_on_earlier_calls_at_other_shapes) {
    const isa_guard isa(GetParam());
    if (!isa.available) GTEST_SKIP() << "this machine cannot run the " << kernel_isa_name(GetParam()) << " build";
    const thread_count_guard guard;
    set_num_threads(2);
    const auto narrow = random_problem<float>(300, 37, 10, 31);   // Wᵀ rows padded past D = 37
    const auto rows = random_problem<double>(2000, 400, 20, 32);  // row split, 4 chunks
    const auto wider = random_problem<float>(300, 45, 10, 33);
    const auto bigger = random_problem<double>(2400, 420, 20, 34);
    ASSERT_EQ(detail::row_chunk_count(4.0 * 2000 * 400 * 20, 4, 2000, 20), 2u);  // 4 blocks of 655 rows
    loss_result<float> fresh_narrow;
    loss_result<double> fresh_rows;
    std::thread([&] {
        fresh_narrow = impl::vectorized::softmax_loss<float>(narrow.W, narrow.X, narrow.y, 1e-3f);
        fresh_rows = impl::vectorized::softmax_loss<double>(rows.W, rows.X, rows.y, 1e-3);
    }).join();
    for (int repeat = 0; repeat < 2; ++repeat) {
        (void)impl::vectorized::softmax_loss<float>(wider.W, wider.X, wider.y, 1e-3f);
        expect_bitwise_equal(fresh_narrow, impl::vectorized::softmax_loss<float>(narrow.W, narrow.X, narrow.y, 1e-3f), 2);
        (void)impl::vectorized::softmax_loss<double>(bigger.W, bigger.X, bigger.y, 1e-3);
        expect_bitwise_equal(fresh_rows, impl::vectorized::softmax_loss<double>(rows.W, rows.X, rows.y, 1e-3), 2);
    }
}

TEST_P(fused_loss_build, overflowing_row_gives_nan_in_that_row_only_and_masked_classes_get_zero) {
    const isa_guard isa(GetParam());
    if (!isa.available) GTEST_SKIP() << "this machine cannot run the " << kernel_isa_name(GetParam()) << " build";
    auto p = random_problem<double>(700, 900, 3, 21);  // row split, several blocks
    p.X.row(500).setZero();
    p.X(500, 0) = 1e300;
    p.W(0, 0) = 1e10;   // S(500, 0) = +inf: the row is undefined
    p.X.row(600).setZero();
    p.X(600, 1) = 1e300;
    p.W(1, 1) = -1e10;  // S(600, 1) = −inf: class 1 masked in that row
    p.y[600] = 0;
    const auto r = impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, 0.0);
    EXPECT_TRUE(std::isnan(r.loss));
    for (Eigen::Index i = 0; i < r.dS.rows(); ++i)
        for (Eigen::Index j = 0; j < r.dS.cols(); ++j)
            EXPECT_EQ(std::isnan(r.dS(i, j)), i == 500) << i << ", " << j;
    EXPECT_EQ(r.dS(600, 1), 0.0);
}

// W and X are judged from the kernel's results (vectorized::softmax_loss_into): each non-finite
// value must still be rejected, naming its argument, on every path of every build — row split
// (register tiles for C ≤ 12 in the SIMD builds, Eigen above) and class split — including a −inf
// weight with reg = 0, which only masks a class in the scores.
TEST_P(fused_loss_build, non_finite_weights_and_features_are_rejected_on_every_path) {
    const isa_guard isa(GetParam());
    if (!isa.available) GTEST_SKIP() << "this machine cannot run the " << kernel_isa_name(GetParam()) << " build";
    const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
    auto expect_rejected = [](const char* argument, const problem<double>& p, double reg, const std::string& where) {
        try {
            (void)impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, reg);
            ADD_FAILURE() << where << ": no exception for a non-finite " << argument;
        } catch (const std::invalid_argument& e) {
            EXPECT_EQ(std::string(e.what()).rfind(argument, 0), 0u) << where << ": " << e.what();
        }
    };
    for (const auto& [n, d, c] : {std::array<Eigen::Index, 3>{200, 30, 5}, {150, 19, 13}, {6, 40, 700}}) {
        const std::string where = std::to_string(n) + "×" + std::to_string(d) + "×" + std::to_string(c);
        const auto base = random_problem<double>(n, d, c, 51);
        for (const double bad : {-inf, inf, nan}) {
            for (const double reg : {0.0, 0.5}) {
                auto p = base;
                p.W(d / 2, c - 1) = bad;
                for (auto& label : p.y) label = 0;  // class c − 1 is never the label: −inf only masks it
                expect_rejected("W", p, reg, where + " W = " + std::to_string(bad) + ", reg = " + std::to_string(reg));
                p.X(n - 1, 0) = nan;  // both bad: W is named first
                expect_rejected("W", p, reg, where + " W and X bad");
            }
            auto p = base;
            p.X(n / 2, d - 1) = bad;
            expect_rejected("X", p, 0.0, where + " X = " + std::to_string(bad));
        }
        // Finite weights whose squares overflow are valid: the regularisation term is +inf.
        auto p = base;
        p.W(0, 0) = 1e200;
        p.X.col(0).setZero();
        EXPECT_EQ(impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, 0.5).loss, inf) << where;
    }
}

// softmax_loss_into writes into the caller's result: storage is kept across calls of one shape
// (the training-loop use: nothing is allocated or page-faulted after the first step), resized for
// a new shape, and every value equals softmax_loss's bit for bit.
TEST_P(fused_loss_build, softmax_loss_into_reuses_the_outputs_and_matches_softmax_loss) {
    const isa_guard isa(GetParam());
    if (!isa.available) GTEST_SKIP() << "this machine cannot run the " << kernel_isa_name(GetParam()) << " build";
    loss_result<double> out;
    for (const auto& [n, d, c] : {std::array<Eigen::Index, 3>{300, 40, 10}, {8, 16, 700}, {300, 40, 10}}) {
        const auto p = random_problem<double>(n, d, c, 61);
        impl::vectorized::softmax_loss_into<double>(p.W, p.X, p.y, 1e-3, out);
        const double* dW = out.dW.data();
        const double* dS = out.dS.data();
        impl::vectorized::softmax_loss_into<double>(p.W, p.X, p.y, 1e-3, out);
        EXPECT_EQ(out.dW.data(), dW) << "dW reallocated for an unchanged shape";
        EXPECT_EQ(out.dS.data(), dS) << "dS reallocated for an unchanged shape";
        const auto fresh = impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, 1e-3);
        ASSERT_EQ(out.dW.rows(), d);
        ASSERT_EQ(out.dS.rows(), n);
        expect_bitwise_equal(fresh, out, num_threads());
    }
}

INSTANTIATE_TEST_SUITE_P(builds, fused_loss_build, ::testing::Values(kernel_isa::portable, kernel_isa::avx2, kernel_isa::avx512),
                         [](const auto& info) { return std::string(kernel_isa_name(info.param)); });

// The builds differ by rounding only (FMA, grouping): each is within the derived bound of the
// exact values, so any two differ by at most twice that bound.
TEST(fused_loss, simd_and_portable_builds_agree) {
    for (const auto& [n, d, c] : {std::array<Eigen::Index, 3>{700, 900, 3}, {400, 300, 10}, {30, 50, 400}}) {
        const auto p = random_problem<double>(n, d, c, 41);
        const auto e = exact_loss(p, 0.25);
        const isa_guard portable(kernel_isa::portable);
        const auto a = impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, 0.25);
        for (kernel_isa isa : {kernel_isa::avx2, kernel_isa::avx512}) {
            if (!kernel_isa_available(isa)) continue;
            set_kernel_isa(isa);
            const auto b = impl::vectorized::softmax_loss<double>(p.W, p.X, p.y, 0.25);
            // b − a = (b − exact) − (a − exact): checked as b against the point a, twice the bound.
            exact_and_bounds around_a{e.ref, e.tol};
            around_a.ref.loss = a.loss;
            around_a.ref.dW = convert<long double>(a.dW);
            around_a.ref.dS = convert<long double>(a.dS);
            expect_within_bounds(b, around_a, 2, std::string(kernel_isa_name(isa)) + " vs portable at " + shape_name(n, d, c));
        }
    }
}

TEST(fused_loss, softmax_loss_into_rejects_an_output_that_is_an_input) {
    auto p = random_problem<double>(20, 6, 6, 71);
    loss_result<double> out;
    out.dW = p.W;
    out.dS = p.X;
    for (int which = 0; which < 2; ++which) {
        try {
            if (which == 0) impl::vectorized::softmax_loss_into<double>(out.dW, p.X, p.y, 0.0, out);
            else impl::vectorized::softmax_loss_into<double>(p.W, out.dS, p.y, 0.0, out);
            ADD_FAILURE() << "no exception for an aliased output";
        } catch (const std::invalid_argument& e) {
            EXPECT_EQ(std::string(e.what()).rfind("out", 0), 0u) << e.what();
        }
    }
    EXPECT_TRUE(out.dW == p.W && out.dS == p.X) << "an aliased input was modified";
}

TEST(kernel_isa, names_parse_and_selection_is_checked) {
    EXPECT_EQ(parse_kernel_isa("portable"), kernel_isa::portable);
    EXPECT_EQ(parse_kernel_isa("avx2"), kernel_isa::avx2);
    EXPECT_EQ(parse_kernel_isa("avx512"), kernel_isa::avx512);
    EXPECT_FALSE(parse_kernel_isa("AVX2").has_value());
    EXPECT_FALSE(parse_kernel_isa("").has_value());
    EXPECT_TRUE(kernel_isa_available(kernel_isa::portable));
    for (kernel_isa isa : {kernel_isa::portable, kernel_isa::avx2, kernel_isa::avx512}) {
        EXPECT_EQ(parse_kernel_isa(kernel_isa_name(isa)), isa);
        if (kernel_isa_available(isa)) {
            const isa_guard guard(isa);
            EXPECT_EQ(active_kernel_isa(), isa);
        } else {
            try {
                set_kernel_isa(isa);
                ADD_FAILURE() << "selecting an unavailable build must throw";
            } catch (const std::invalid_argument& e) {
                EXPECT_NE(std::string(e.what()).find("isa"), std::string::npos) << e.what();
            }
        }
    }
}

TEST(fused_loss, works_in_mp_real_through_the_blocked_path) {
    const mp_precision_guard guard(128);
    const auto p = random_problem<double>(40, 3, 7, 31);
    const auto r = impl::vectorized::softmax_loss<mp_real>(convert<mp_real>(p.W), convert<mp_real>(p.X), p.y, mp_real(0.5));
    const auto q = impl::naive::softmax_loss<mp_real>(convert<mp_real>(p.W), convert<mp_real>(p.X), p.y, mp_real(0.5));
    EXPECT_LT(abs(r.loss - q.loss), mp_real(1e-30));
    EXPECT_LT(static_cast<double>((r.dW - q.dW).cwiseAbs().maxCoeff()), 1e-30);
}

TEST(threads, set_num_threads_bounds_the_count_and_zero_restores_the_default) {
    const thread_count_guard guard;
    const int initial = num_threads();
    EXPECT_GE(initial, 1);
    set_num_threads(3);
    EXPECT_EQ(num_threads(), 3);
    set_num_threads(0);
    EXPECT_EQ(num_threads(), initial);
    EXPECT_THROW(set_num_threads(-1), std::invalid_argument);
}

TEST(threads, gradproof_threads_accepts_positive_integers_only) {
    EXPECT_EQ(detail::parse_thread_count("4"), 4);
    EXPECT_EQ(detail::parse_thread_count("1"), 1);
    EXPECT_EQ(detail::parse_thread_count("100000"), 1024);
    EXPECT_EQ(detail::parse_thread_count(nullptr), 0);
    EXPECT_EQ(detail::parse_thread_count(""), 0);
    EXPECT_EQ(detail::parse_thread_count("0"), 0);
    EXPECT_EQ(detail::parse_thread_count("-2"), 0);
    EXPECT_EQ(detail::parse_thread_count("two"), 0);
    EXPECT_EQ(detail::parse_thread_count("2x"), 0);
}

TEST(threads, small_problems_stay_on_the_calling_thread) {
    const thread_count_guard guard;
    set_num_threads(8);
    const auto ctx = detail::portable_fused_context();
    EXPECT_EQ(ctx.threads<double>(4.0 * 8 * 16 * 4, 1), 1u);
    EXPECT_EQ(ctx.threads<double>(1e6, 16), 1u);
    EXPECT_EQ(ctx.threads<double>(1e9, 16), 8u);
    EXPECT_EQ(ctx.threads<double>(1e9, 3), 3u);
    EXPECT_EQ(ctx.threads<mp_real>(1e9, 16), 1u);  // multiprecision stays on the calling thread
}

TEST(threads, fork_join_runs_every_task_once_and_rethrows) {
    const auto ctx = detail::portable_fused_context();
    std::vector<std::atomic<int>> runs(97);
    ctx.run(runs.size(), 3, [&](std::size_t i) { runs[i].fetch_add(1); });
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
    EXPECT_THROW(ctx.run(10, 2,
                         [](std::size_t i) {
                             if (i == 7) throw std::runtime_error("task 7");
                         }),
                 std::runtime_error);
}

// Each loop of `loops` runs every one of `tasks` tasks exactly once on up to `threads` threads.
bool loops_run_every_task_once(int loops, std::size_t tasks, std::size_t threads) {
    bool ok = true;
    for (int l = 0; l < loops; ++l) {
        std::vector<std::atomic<int>> runs(tasks);
        detail::parallel_for_threads(tasks, threads, [&](std::size_t i) { runs[i].fetch_add(1); });
        for (const auto& r : runs) ok = ok && r.load() == 1;
    }
    return ok;
}

TEST(threads, pooled_workers_run_loop_after_loop_awake_or_asleep) {
    for (int round = 0; round < 20; ++round) {
        EXPECT_TRUE(loops_run_every_task_once(50, 13, 3));  // back to back: the workers still waiting
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // long enough for them to sleep
    }
}

TEST(threads, the_pool_works_after_a_task_throws) {
    EXPECT_THROW(detail::parallel_for_threads(8, 2, [](std::size_t) { throw std::runtime_error("every task"); }),
                 std::runtime_error);
    EXPECT_TRUE(loops_run_every_task_once(10, 9, 2));
}

TEST(threads, a_parallel_loop_inside_a_task_runs_on_threads_of_its_own) {
    std::vector<std::atomic<int>> runs(6 * 7);
    detail::parallel_for_threads(6, 2, [&](std::size_t outer) {
        detail::parallel_for_threads(7, 2, [&](std::size_t inner) { runs[outer * 7 + inner].fetch_add(1); });
    });
    for (const auto& r : runs) EXPECT_EQ(r.load(), 1);
}

TEST(threads, parallel_loops_from_two_threads_at_once_both_complete) {
    bool ok_a = false, ok_b = false;
    std::thread a([&] { ok_a = loops_run_every_task_once(200, 11, 2); });
    std::thread b([&] { ok_b = loops_run_every_task_once(200, 5, 3); });
    a.join();
    b.join();
    EXPECT_TRUE(ok_a);
    EXPECT_TRUE(ok_b);
}

TEST(threads, a_forked_child_runs_parallel_loops_without_the_parents_workers) {
    ASSERT_TRUE(loops_run_every_task_once(3, 4, 2));  // the parent's pool exists
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        ::alarm(20);  // a child waiting for workers that fork() did not copy dies instead of hanging
        ::_exit(loops_run_every_task_once(20, 4, 2) ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
}
