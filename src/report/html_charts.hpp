// Charts of the HTML report (report/html_charts.cpp): the ULP-error histogram, the stability curve
// and the finite-difference curve as plain Mustache data (SVG geometry computed as numbers here,
// markup in reports/report.html.mustache), and the number formats and margin colour scale that the
// page model (report/html_page.cpp) shares with them.
#pragma once

#include "runner/result.hpp"

#include <kainjow/mustache.hpp>

#include <string>
#include <vector>

namespace gradproof::detail::html {

using data = kainjow::mustache::data;

data make_list();
std::string fmt_g(double v);   // 3 significant digits; NaN, inf, -inf spelled out
std::string fmt_px(double v);  // an SVG coordinate

// Margin colour scale (a number is always printed beside it) and its legend.
std::string margin_color(double m);
data margin_legend();

// ULP-error histogram of one precision: one row per implementation × entry point.
data ulp_chart(const run_result& run, precision p);
// Loss error versus logit magnitude of one precision, one curve per implementation × label side.
data stability_chart(const run_result& run, precision p, const std::vector<implementation_info>& impls);
// Finite-difference error versus step, double beside multiprecision Richardson.
data fd_chart(const fd_step_curve& c);

}  // namespace gradproof::detail::html
