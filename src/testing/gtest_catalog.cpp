#include "testing/gtest_catalog.hpp"

#include "properties/property.hpp"
#include "runner/runner.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

namespace gradproof::testing {

namespace {

run_config config_from_environment() {
    run_config cfg;
    apply_rc_params(cfg);
    if (const char* s = std::getenv("GRADPROOF_SEED"); s && *s) cfg.seed = std::strtoull(s, nullptr, 10);
    if (const char* c = std::getenv("GRADPROOF_CASES"); c && *c) {
        const int n = std::atoi(c);
        if (n > 0) cfg.cases = n;
    }
    return cfg;
}

class catalog_test : public ::testing::Test {
public:
    catalog_test(std::shared_ptr<subject> s, const property* p, precision prec, std::string filter)
        : subject_(std::move(s)), property_(p), precision_(prec), filter_(std::move(filter)) {}

    void TestBody() override {
        const run_config cfg = config_from_environment();
        const auto r = run_property(*property_, *subject_, precision_, cfg);
        if (r.status == verdict::not_applicable) GTEST_SKIP() << "not applicable: needs " << r.needs;
        if (r.status == verdict::pass) {
            RecordProperty("worst_margin", std::to_string(r.worst_margin));
            return;
        }
        ADD_FAILURE() << property_->claim << "\nafter " << r.cases_run << " passing cases: " << r.message
                      << "\nshrunk counterexample:" << r.counterexample << "\nreproduce: GRADPROOF_SEED=" << cfg.seed
                      << " <this test binary> --gtest_filter=" << filter_;
    }

private:
    std::shared_ptr<subject> subject_;
    const property* property_;
    precision precision_;
    std::string filter_;
};

}  // namespace

int register_catalog(const subject& s) {
    auto shared = std::make_shared<subject>(s);
    int count = 0;
    for (auto prec : {precision::f64, precision::f32})
        for (const auto& prop : catalog()) {
            if (!prop.applicable(*shared, prec)) continue;
            const std::string suite = shared->name + "_" + std::string(to_string(prec));
            const std::string filter = suite + "." + prop.name;
            const property* pp = &prop;
            ::testing::RegisterTest(suite.c_str(), prop.name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                                    [shared, pp, prec, filter]() -> ::testing::Test* {
                                        return new catalog_test(shared, pp, prec, filter);
                                    });
            ++count;
        }
    return count;
}

}  // namespace gradproof::testing
