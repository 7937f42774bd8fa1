#include "report/reporters.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <ostream>
#include <stdexcept>
#include <unistd.h>

namespace gradproof {

namespace {
using nlohmann::json;

// JSON has no inf: margins that are infinite are written as the string "inf".
json number_or_inf(double v) { return std::isfinite(v) ? json(v) : json("inf"); }
double read_number(const json& j) {
    if (j.is_string()) return std::numeric_limits<double>::infinity();
    return j.get<double>();
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
    j["format_version"] = 1;
    const auto& m = run.meta;
    j["meta"] = {{"gradproof_version", m.gradproof_version}, {"date_utc", m.date_utc}, {"machine", m.machine},
                 {"command_line", m.command_line}, {"seed", m.seed}, {"case_counts", m.case_counts},
                 {"libraries", m.libraries}};
    j["incomplete"] = run.incomplete;
    j["results"] = json::array();
    for (const auto& r : run.results) {
        j["results"].push_back({{"implementation", r.implementation},
                                {"known_flawed", r.known_flawed},
                                {"precision", std::string(to_string(r.prec))},
                                {"property", r.property},
                                {"claim", r.claim},
                                {"needs", r.needs},
                                {"status", to_string(r.status)},
                                {"cases_run", r.cases_run},
                                {"cases_requested", r.cases_requested},
                                {"worst_margin", number_or_inf(r.worst_margin)},
                                {"worst_componentwise_margin", number_or_inf(r.worst_componentwise)},
                                {"worst_ulps", number_or_inf(r.worst_ulps)},
                                {"worst_where", r.worst_where},
                                {"message", r.message},
                                {"counterexample", r.counterexample},
                                {"reproduce", r.reproduce},
                                {"seed", r.seed},
                                {"seconds", r.seconds}});
    }
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
        run.meta.seed = m.at("seed").get<std::uint64_t>();
        run.meta.case_counts = m.at("case_counts").get<std::string>();
        run.meta.libraries = m.at("libraries").get<std::vector<std::string>>();
        run.incomplete = j.at("incomplete").get<bool>();
        for (const auto& e : j.at("results")) {
            property_result r;
            r.implementation = e.at("implementation").get<std::string>();
            r.known_flawed = e.at("known_flawed").get<bool>();
            const auto p = e.at("precision").get<std::string>();
            if (p != "f32" && p != "f64") throw std::runtime_error("results JSON: unknown precision '" + p + "'");
            r.prec = p == "f32" ? precision::f32 : precision::f64;
            r.property = e.at("property").get<std::string>();
            r.claim = e.at("claim").get<std::string>();
            r.needs = e.at("needs").get<std::string>();
            r.status = verdict_from(e.at("status").get<std::string>());
            r.cases_run = e.at("cases_run").get<int>();
            r.cases_requested = e.at("cases_requested").get<int>();
            r.worst_margin = read_number(e.at("worst_margin"));
            r.worst_componentwise = read_number(e.at("worst_componentwise_margin"));
            r.worst_ulps = read_number(e.at("worst_ulps"));
            r.worst_where = e.at("worst_where").get<std::string>();
            r.message = e.at("message").get<std::string>();
            r.counterexample = e.at("counterexample").get<std::string>();
            r.reproduce = e.at("reproduce").get<std::string>();
            r.seed = e.at("seed").get<std::uint64_t>();
            r.seconds = e.at("seconds").get<double>();
            run.results.push_back(std::move(r));
        }
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
