// gradproof::testing::register_catalog (include/gradproof/gtest.hpp).
#include <gradproof/gtest.hpp>

#include "properties/property.hpp"
#include "runner/findings.hpp"
#include "runner/runner.hpp"
#include "testing/in_process.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

namespace gradproof::testing {

namespace {

run_config config_from_environment() {
    run_config cfg;
    apply_rc_params(cfg);
    if (const char* s = std::getenv("GRADPROOF_SEED"); s && *s) cfg.seed = std::strtoull(s, nullptr, 10);
    // GRADPROOF_DOMAIN=ordinary|extreme|full: the inputs drawn (gen/domain.hpp); a malformed value
    // fails every test with the message rather than silently running another domain.
    if (const char* d = std::getenv("GRADPROOF_DOMAIN"); d && *d) cfg.domain.kind = parse_domain_kind(d, "GRADPROOF_DOMAIN");
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
        run_config cfg;
        try {
            cfg = config_from_environment();
        } catch (const std::exception& e) {
            FAIL() << e.what();
        }
        if (cfg.domain.kind == domain_kind::ordinary && property_->category == property_category::extreme)
            GTEST_SKIP() << "hazard-only property: outside the ordinary domain (GRADPROOF_DOMAIN)";
        if (!property_->applicable(*subject_, precision_)) GTEST_SKIP() << "not applicable: needs " << property_->needs_text();
        auto run = detail::run_one(*property_, *subject_, precision_, cfg);
        const auto& r = run.result;
        if (r.status == verdict::not_applicable) GTEST_SKIP() << "not applicable: " << r.message;
        if (r.status == verdict::pass) {
            RecordProperty("worst_margin", std::to_string(r.worst_margin));
            return;
        }
        // The same classification as `gradproof check` gives this failure.
        const finding f = detail::make_finding(*property_, *subject_, precision_, cfg, run);
        RecordProperty("finding_class", to_string(f.cls));
        // This front end's reproduce line: the seed of the replay data and this test's filter.
        ADD_FAILURE() << "[" << to_string(f.cls) << "] " << f.summary << "\n"
                      << property_->claim << "\nafter " << r.cases_run << " passing cases: " << f.message
                      << (f.hazard.empty() ? "" : "\nhazard: " + f.hazard)
                      << (f.threshold.empty() ? "" : "\nthreshold: " + f.threshold) << "\nminimal counterexample:\n"
                      << f.counterexample << "reproduce: GRADPROOF_SEED=" << r.replay.seed
                      << " <this test binary> --gtest_filter=" << filter_;
    }

private:
    std::shared_ptr<subject> subject_;
    const property* property_;
    precision precision_;
    std::string filter_;
};

}  // namespace

int register_catalog(const implementation& impl) {
    auto shared = std::make_shared<subject>(as_subject(impl));
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
