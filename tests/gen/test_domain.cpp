// Input domains: the ordinary predicate, the map into it, hazard naming, and the scaling that
// bisection and classification move along.
#include "gen/domain.hpp"
#include "properties/context.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cmath>
#include <limits>

using namespace gradproof;

namespace {

template <class T>
matrix<T> mat(std::initializer_list<std::initializer_list<double>> rows) {
    matrix<T> m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
    Eigen::Index i = 0;
    for (const auto& r : rows) {
        Eigen::Index j = 0;
        for (double v : r) m(i, j++) = static_cast<T>(v);
        ++i;
    }
    return m;
}

}  // namespace

TEST(domain, ordinary_logits_are_ordinary_and_every_hazard_is_not) {
    const input_domain d;
    EXPECT_TRUE(is_ordinary(extent_of(logits_case<double>{mat<double>({{1, -2, 29.5}}), {0}, {}}), d));
    EXPECT_FALSE(is_ordinary(extent_of(logits_case<double>{mat<double>({{0, -800}}), {1}, {}}), d));
    EXPECT_FALSE(is_ordinary(extent_of(logits_case<double>{mat<double>({{1e300, 1e300}}), {0}, {}}), d));
    EXPECT_FALSE(
        is_ordinary(extent_of(logits_case<double>{mat<double>({{std::numeric_limits<double>::denorm_min(), 0}}), {0}, {}}), d));
    EXPECT_FALSE(is_ordinary(extent_of(logits_case<double>{mat<double>({{-INFINITY, 0}}), {1}, {}}), d));
    // A loss case: the logits are X·W; |W| and |X| have bounds of their own.
    EXPECT_TRUE(is_ordinary(extent_of(loss_case<float>{mat<float>({{2, -3}}), mat<float>({{4}}), {0}, 0}), d));
    EXPECT_FALSE(is_ordinary(extent_of(loss_case<float>{mat<float>({{2e19f}}), mat<float>({{0}}), {0}, 0}), d));
}

TEST(domain, hazards_are_named_with_their_size) {
    const input_domain d;
    EXPECT_EQ(hazard_of(extent_of(logits_case<double>{mat<double>({{0, -750}}), {1}, {}}), d),
              "label's logit 750 below the row max");
    EXPECT_EQ(hazard_of(extent_of(logits_case<double>{mat<double>({{-800, -801}}), {0}, {}}), d), "every logit of a row ≤ -800");
    EXPECT_EQ(hazard_of(extent_of(loss_case<double>{mat<double>({{2e154}}), mat<double>({{0}}), {0}, 0}), d), "|W| up to 2e+154");
    EXPECT_EQ(hazard_of(extent_of(logits_case<double>{mat<double>({{1, 2}}), {0}, {}}), d), "");
}

TEST(domain, scaling_reaches_the_ordinary_domain_where_it_can) {
    const input_domain d;
    const logits_case<double> c{mat<double>({{0, -750}}), {1}, {}};
    const long double t = ordinary_scale(c, d);
    ASSERT_GT(t, 0);
    EXPECT_TRUE(is_ordinary(extent_of(scaled(c, t)), d));
    EXPECT_FALSE(is_ordinary(extent_of(scaled(c, std::min(1.0L, t * 1.01L))), d));
    // Non-finite values cannot be scaled away.
    EXPECT_EQ(ordinary_scale(logits_case<double>{mat<double>({{NAN, 0}}), {1}, {}}, d), 0);
}

TEST(domain, rebalancing_keeps_the_logits_exactly) {
    const input_domain d;
    const loss_case<double> c{mat<double>({{0, -2}}), mat<double>({{-600}}), {0}, 0};
    const auto b = rebalanced(c, d);
    EXPECT_LE(b.X.cwiseAbs().maxCoeff(), d.max_abs_input);
    EXPECT_EQ((b.X * b.W).eval(), (c.X * c.W).eval());
    EXPECT_GT(ordinary_scale(b, d), 0);
}

TEST(domain, subnormals_are_lifted_into_normal_numbers_when_they_fit) {
    const input_domain d;
    const double tiny = 3e-322;
    const auto o = into_ordinary(loss_case<double>{mat<double>({{0, 0}}), mat<double>({{0}, {tiny}}), {0, 0}, 0}, d);
    EXPECT_TRUE(is_ordinary(extent_of(o), d));
    EXPECT_GT(std::fabs(o.X(1, 0)), std::numeric_limits<double>::min());  // kept non-zero
}

TEST(domain, arguments_name_only_what_differs_from_the_default) {
    input_domain d;
    EXPECT_EQ(d.arguments(), "");
    d.kind = domain_kind::ordinary;
    d.max_abs_logit = 12;
    EXPECT_EQ(d.arguments(), "--domain ordinary --max-abs-logit 12");
    EXPECT_THROW(parse_domain_kind("sometimes", "--domain"), std::invalid_argument);
}

// Whatever the generators draw, the ordinary map lands in the ordinary domain.
RC_GTEST_PROP(domain, into_ordinary_lands_in_the_ordinary_domain, ()) {
    const input_domain d;
    const auto l = *gen::loss<float>();
    RC_ASSERT(is_ordinary(extent_of(into_ordinary(l, d)), d));
    const auto z = *gen::logits<double>();
    RC_ASSERT(is_ordinary(extent_of(into_ordinary(z, d)), d));
}

// A context in the ordinary domain draws only ordinary cases, and one in the full domain also
// draws the hazards.
TEST(property_context, the_ordinary_domain_draws_only_ordinary_cases) {
    int outside_full = 0;
    for (auto kind : {domain_kind::ordinary, domain_kind::full}) {
        int outside = 0;
        const auto ok = rc::check([&] {
            property_context ctx(input_domain{kind});
            ctx.begin_evaluation();
            const auto c = ctx.loss<double>();
            if (!is_ordinary(extent_of(c), ctx.domain())) ++outside;
        });
        EXPECT_TRUE(ok);
        if (kind == domain_kind::ordinary) EXPECT_EQ(outside, 0);
        else outside_full = outside;
    }
    EXPECT_GT(outside_full, 0);
}

// A pinned case replaces the first main draw, converted between logits and loss cases exactly.
TEST(property_context, a_pinned_case_is_drawn_instead) {
    property_context ctx;
    const logits_case<double> z{mat<double>({{1, 2, 3}}), {2}, {}};
    ctx.pin(pinned_case{z});
    const auto ok = rc::check([&] {
        ctx.begin_evaluation();
        const auto c = ctx.loss<double>();
        RC_ASSERT(ctx.pin_used());
        RC_ASSERT((c.X * c.W).eval() == z.z);
        RC_ASSERT(c.y == z.y);
        RC_ASSERT(ctx.counterexample_text().find("W (1×3)") != std::string::npos);
    });
    EXPECT_TRUE(ok);
}
