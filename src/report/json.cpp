#include "report/reporters.hpp"

#include "runner/summary.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <unistd.h>

namespace gradproof {

namespace {
using nlohmann::json;

// JSON has no inf or NaN: such values are written as the strings "inf", "-inf" and "nan" and read
// back as themselves (a NaN margin must not come back as an infinite one).
json json_number(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return v;
}
double read_number(const json& j) {
    if (j.is_string()) {
        const auto& s = j.get_ref<const std::string&>();
        if (s == "inf") return std::numeric_limits<double>::infinity();
        if (s == "-inf") return -std::numeric_limits<double>::infinity();
        if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
        throw std::runtime_error("results JSON: expected a number, \"inf\", \"-inf\" or \"nan\", got " +
                                 j.dump().substr(0, 40));
    }
    return j.get<double>();
}

json json_numbers(const std::vector<double>& v) {
    json a = json::array();
    for (double x : v) a.push_back(json_number(x));
    return a;
}
std::vector<double> read_numbers(const json& j) {
    std::vector<double> v;
    for (const auto& e : j) v.push_back(read_number(e));
    return v;
}

// Integers are read strictly: a float such as 1e30 has no int value (converting it would be
// undefined behaviour), and a negative count or seed is malformed.
int count_from(const json& j) {
    if (!j.is_number_integer()) throw std::runtime_error("results JSON: expected an integer, got " + j.dump().substr(0, 40));
    if (j.is_number_unsigned() ? j.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<int>::max())
                               : (j.get<std::int64_t>() < 0 || j.get<std::int64_t>() > std::numeric_limits<int>::max()))
        throw std::runtime_error("results JSON: count out of range: " + j.dump());
    return static_cast<int>(j.get<std::int64_t>());
}
std::uint64_t seed_from(const json& j) {
    if (!j.is_number_unsigned()) throw std::runtime_error("results JSON: expected a non-negative integer seed, got " + j.dump().substr(0, 40));
    return j.get<std::uint64_t>();
}

precision precision_from(const std::string& p) {
    if (p != "f32" && p != "f64") throw std::runtime_error("results JSON: unknown precision '" + p + "'");
    return p == "f32" ? precision::f32 : precision::f64;
}

json diagnostics_json(const diagnostic_data& d) {
    json j = {{"ulp_samples", json::array()}, {"stability", json::array()}, {"fd_step", json::array()}};
    for (const auto& u : d.ulp)
        j["ulp_samples"].push_back({{"implementation", u.implementation}, {"entry_point", u.entry_point},
                                    {"precision", std::string(to_string(u.prec))}, {"ulps", json_numbers(u.ulps)}});
    for (const auto& c : d.stability)
        j["stability"].push_back({{"implementation", c.implementation}, {"entry_point", c.entry_point},
                                  {"precision", std::string(to_string(c.prec))}, {"label_on", c.label_on},
                                  {"magnitude", json_numbers(c.magnitude)}, {"ulps", json_numbers(c.ulps)}});
    for (const auto& f : d.fd)
        j["fd_step"].push_back({{"description", f.description}, {"step", json_numbers(f.step)},
                                {"double_error", json_numbers(f.double_error)}, {"mp_error", json_numbers(f.mp_error)}});
    return j;
}

diagnostic_data diagnostics_from(const json& j) {
    diagnostic_data d;
    for (const auto& e : j.at("ulp_samples"))
        d.ulp.push_back({e.at("implementation").get<std::string>(), e.at("entry_point").get<std::string>(),
                         precision_from(e.at("precision").get<std::string>()), read_numbers(e.at("ulps"))});
    for (const auto& e : j.at("stability"))
        d.stability.push_back({e.at("implementation").get<std::string>(), e.at("entry_point").get<std::string>(),
                               precision_from(e.at("precision").get<std::string>()), e.at("label_on").get<std::string>(),
                               read_numbers(e.at("magnitude")), read_numbers(e.at("ulps"))});
    for (const auto& e : j.at("fd_step"))
        d.fd.push_back({e.at("description").get<std::string>(), read_numbers(e.at("step")),
                        read_numbers(e.at("double_error")), read_numbers(e.at("mp_error"))});
    for (const auto& c : d.stability)
        if (c.magnitude.size() != c.ulps.size()) throw std::runtime_error("results JSON: stability curve lengths differ");
    for (const auto& f : d.fd)
        if (f.step.size() != f.double_error.size() || f.step.size() != f.mp_error.size())
            throw std::runtime_error("results JSON: fd_step curve lengths differ");
    return d;
}

json replay_json(const replay_data& r) {
    if (r.empty()) return nullptr;
    return {{"implementation", r.implementation}, {"property", r.property}, {"precision", std::string(to_string(r.prec))},
            {"seed", r.seed}, {"cases", r.cases}, {"domain_args", r.domain_args}};
}
replay_data replay_from(const json& j) {
    replay_data r;
    if (j.is_null()) return r;
    r.implementation = j.at("implementation").get<std::string>();
    r.property = j.at("property").get<std::string>();
    r.prec = precision_from(j.at("precision").get<std::string>());
    r.seed = seed_from(j.at("seed"));
    r.cases = count_from(j.at("cases"));
    r.domain_args = j.at("domain_args").get<std::string>();
    return r;
}

json finding_json(const finding& f) {
    return {{"id", f.id},
            {"implementation", f.implementation},
            {"precision", std::string(to_string(f.prec))},
            {"known_flawed", f.known_flawed},
            {"class", to_string(f.cls)},
            {"kind", f.kind},
            {"property", f.property},
            {"properties", f.properties},
            {"summary", f.summary},
            {"message", f.message},
            {"counterexample", f.counterexample},
            {"margin", json_number(f.margin)},
            {"digits_lost", json_number(f.digits_lost)},
            {"componentwise_margin", json_number(f.componentwise_margin)},
            {"hazard", f.hazard},
            {"threshold", f.threshold},
            {"ordinary", f.ordinary},
            {"replay", replay_json(f.replay)},
            {"reproduce", f.reproduce}};
}
finding finding_from(const json& e) {
    finding f;
    f.id = count_from(e.at("id"));
    f.implementation = e.at("implementation").get<std::string>();
    f.prec = precision_from(e.at("precision").get<std::string>());
    f.known_flawed = e.at("known_flawed").get<bool>();
    try {
        f.cls = finding_class_from(e.at("class").get<std::string>());
    } catch (const std::invalid_argument& x) {
        throw std::runtime_error(std::string("results JSON: ") + x.what());
    }
    f.kind = e.at("kind").get<std::string>();
    f.property = e.at("property").get<std::string>();
    f.properties = e.at("properties").get<std::vector<std::string>>();
    f.summary = e.at("summary").get<std::string>();
    f.message = e.at("message").get<std::string>();
    f.counterexample = e.at("counterexample").get<std::string>();
    f.margin = read_number(e.at("margin"));
    f.digits_lost = read_number(e.at("digits_lost"));
    f.componentwise_margin = read_number(e.at("componentwise_margin"));
    f.hazard = e.at("hazard").get<std::string>();
    f.threshold = e.at("threshold").get<std::string>();
    f.ordinary = e.at("ordinary").get<bool>();
    f.replay = replay_from(e.at("replay"));
    f.reproduce = e.at("reproduce").get<std::string>();
    return f;
}

json summary_json(const run_summary& s) {
    json classes = json::object();
    for (auto c : all_finding_classes) classes[to_string(c)] = s.findings[static_cast<int>(c)];
    json impls = json::array();
    for (const auto& i : s.implementations) {
        json per = json::object();
        for (auto c : all_finding_classes) per[to_string(c)] = i.findings[static_cast<int>(c)];
        impls.push_back({{"implementation", i.implementation},
                         {"known_flawed", i.known_flawed},
                         {"headline", i.headline},
                         {"fails", i.fails},
                         {"correct_at_ordinary_inputs", i.correct_at_ordinary_inputs},
                         {"reference_cases", i.reference_cases},
                         {"finite_difference_cases", i.finite_difference_cases},
                         {"findings", per}});
    }
    return {{"passed", s.passed}, {"failed", s.failed}, {"failed_known_flawed", s.failed_known_flawed},
            {"not_applicable", s.not_applicable}, {"errors", s.errors}, {"findings", classes}, {"fails", s.fails},
            {"implementations", impls}};
}

verdict verdict_from(const std::string& s) {
    if (s == "pass") return verdict::pass;
    if (s == "fail") return verdict::fail;
    if (s == "n/a") return verdict::not_applicable;
    if (s == "error") return verdict::error;
    throw std::runtime_error("results JSON: unknown status '" + s + "'");
}
}  // namespace

void write_json(std::ostream& os, const run_result& run) {
    json j;
    j["format"] = "gradproof-results";
    j["format_version"] = 2;
    const auto& m = run.meta;
    j["meta"] = {{"gradproof_version", m.gradproof_version}, {"date_utc", m.date_utc}, {"machine", m.machine},
                 {"command_line", m.command_line}, {"seed", m.seed}, {"case_counts", m.case_counts},
                 {"libraries", m.libraries}, {"domain", m.domain}, {"domain_text", m.domain_text},
                 {"fail_on", m.fail_on}};
    j["incomplete"] = run.incomplete;
    if (run.incomplete) j["incomplete_reason"] = run.incomplete_reason;
    j["results"] = json::array();
    for (const auto& r : run.results) {
        j["results"].push_back({{"implementation", r.implementation},
                                {"known_flawed", r.known_flawed},
                                {"precision", std::string(to_string(r.prec))},
                                {"property", r.property},
                                {"claim", r.claim},
                                {"needs", r.needs},
                                {"category", r.category},
                                {"status", to_string(r.status)},
                                {"cases_run", r.cases_run},
                                {"cases_requested", r.cases_requested},
                                {"ordinary_cases", r.ordinary_cases},
                                {"worst_margin", json_number(r.worst_margin)},
                                {"worst_componentwise_margin", json_number(r.worst_componentwise)},
                                {"worst_ulps", json_number(r.worst_ulps)},
                                {"worst_where", r.worst_where},
                                {"message", r.message},
                                {"counterexample", r.counterexample},
                                {"reproduce", r.reproduce},
                                {"replay", replay_json(r.replay)},
                                {"finding", r.finding},
                                {"seed", r.seed},
                                {"seconds", r.seconds}});
    }
    // Both optional on reading: results files written before HTML reports lack them.
    j["implementations"] = json::array();
    for (const auto& i : run.implementations)
        j["implementations"].push_back({{"name", i.name}, {"description", i.description}, {"known_flawed", i.known_flawed},
                                        {"entry_points_f32", i.entry_points_f32}, {"entry_points_f64", i.entry_points_f64}});
    j["findings"] = json::array();
    for (const auto& f : run.findings) j["findings"].push_back(finding_json(f));
    // Written for readers of the file; read_json recomputes it from the findings.
    j["summary"] = summary_json(run.summary);
    j["diagnostics"] = diagnostics_json(run.diagnostics);
    os << j.dump(2) << "\n";
}

run_result read_json(std::istream& is) {
    json j;
    try {
        j = json::parse(is);
    } catch (const json::exception& e) {
        throw std::runtime_error(std::string("results JSON: ") + e.what());
    }
    try {
        if (j.value("format", "") != "gradproof-results") throw std::runtime_error("results JSON: not a gradproof results file");
        run_result run;
        const auto& m = j.at("meta");
        run.meta.gradproof_version = m.at("gradproof_version").get<std::string>();
        run.meta.date_utc = m.at("date_utc").get<std::string>();
        run.meta.machine = m.at("machine").get<std::string>();
        run.meta.command_line = m.at("command_line").get<std::string>();
        run.meta.seed = seed_from(m.at("seed"));
        run.meta.case_counts = m.at("case_counts").get<std::string>();
        run.meta.libraries = m.at("libraries").get<std::vector<std::string>>();
        // Absent in results files of format 1 (before findings): the full domain, every class.
        if (m.contains("domain")) run.meta.domain = m.at("domain").get<std::string>();
        if (m.contains("domain_text")) run.meta.domain_text = m.at("domain_text").get<std::string>();
        if (m.contains("fail_on")) run.meta.fail_on = m.at("fail_on").get<std::vector<std::string>>();
        run.incomplete = j.at("incomplete").get<bool>();
        if (j.contains("incomplete_reason")) run.incomplete_reason = j.at("incomplete_reason").get<std::string>();
        for (const auto& e : j.at("results")) {
            property_result r;
            r.implementation = e.at("implementation").get<std::string>();
            r.known_flawed = e.at("known_flawed").get<bool>();
            r.prec = precision_from(e.at("precision").get<std::string>());
            r.property = e.at("property").get<std::string>();
            r.claim = e.at("claim").get<std::string>();
            r.needs = e.at("needs").get<std::string>();
            if (e.contains("category")) r.category = e.at("category").get<std::string>();
            r.status = verdict_from(e.at("status").get<std::string>());
            r.cases_run = count_from(e.at("cases_run"));
            r.cases_requested = count_from(e.at("cases_requested"));
            if (e.contains("ordinary_cases")) r.ordinary_cases = count_from(e.at("ordinary_cases"));
            r.worst_margin = read_number(e.at("worst_margin"));
            r.worst_componentwise = read_number(e.at("worst_componentwise_margin"));
            r.worst_ulps = read_number(e.at("worst_ulps"));
            r.worst_where = e.at("worst_where").get<std::string>();
            r.message = e.at("message").get<std::string>();
            r.counterexample = e.at("counterexample").get<std::string>();
            r.reproduce = e.at("reproduce").get<std::string>();
            r.seed = seed_from(e.at("seed"));
            r.seconds = e.at("seconds").get<double>();
            if (e.contains("replay")) r.replay = replay_from(e.at("replay"));
            if (e.contains("finding")) {
                const auto& fi = e.at("finding");
                if (!fi.is_number_integer() || fi.get<std::int64_t>() < -1 || fi.get<std::int64_t>() > std::numeric_limits<int>::max())
                    throw std::runtime_error("results JSON: finding must be an index or -1");
                r.finding = static_cast<int>(fi.get<std::int64_t>());
            }
            run.results.push_back(std::move(r));
        }
        if (j.contains("implementations"))
            for (const auto& e : j.at("implementations"))
                run.implementations.push_back({e.at("name").get<std::string>(), e.at("description").get<std::string>(),
                                               e.at("known_flawed").get<bool>(),
                                               e.at("entry_points_f32").get<std::vector<std::string>>(),
                                               e.at("entry_points_f64").get<std::vector<std::string>>()});
        if (j.contains("diagnostics")) run.diagnostics = diagnostics_from(j.at("diagnostics"));
        if (j.contains("findings"))
            for (const auto& e : j.at("findings")) run.findings.push_back(finding_from(e));
        for (std::size_t k = 0; k < run.findings.size(); ++k) run.findings[k].id = static_cast<int>(k);
        for (const auto& r : run.results)
            if (r.finding >= static_cast<int>(run.findings.size()))
                throw std::runtime_error("results JSON: a result names finding " + std::to_string(r.finding) + " of " +
                                         std::to_string(run.findings.size()));
        std::vector<finding_class> fail_on;
        try {
            for (const auto& c : run.meta.fail_on) fail_on.push_back(finding_class_from(c));
        } catch (const std::invalid_argument& x) {
            throw std::runtime_error(std::string("results JSON: fail_on: ") + x.what());
        }
        if (!j.at("meta").contains("fail_on")) fail_on.assign(std::begin(all_finding_classes), std::end(all_finding_classes));
        run.summary = summarize(run, fail_on);
        return run;
    } catch (const json::exception& e) {
        throw std::runtime_error(std::string("results JSON: ") + e.what());
    }
}

void write_file_atomically(const std::string& path, const std::string& content) {
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) throw std::runtime_error(path + ": cannot be written");
        f << content;
        f.flush();
        if (!f) {
            std::remove(tmp.c_str());
            throw std::runtime_error(path + ": write failed");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        throw std::runtime_error(path + ": cannot be written");
    }
}

}  // namespace gradproof
