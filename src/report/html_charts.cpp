// SVG chart geometry of the HTML report as Mustache data; see report/html_charts.hpp.
#include "report/html_charts.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <utility>

namespace gradproof::detail::html {

data make_list() { return data(data::type::list); }

std::string fmt_g(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    return fmt::format("{:.3g}", v);
}

std::string fmt_px(double v) { return fmt::format("{:.1f}", v); }
// Margin colour scale (a number is always printed beside it): green up to 1e−3, through yellow to
// orange at 1 (the tolerance), deepening red above, darkest for inf.
std::string margin_color(double m) {
    if (std::isnan(m) || std::isinf(m)) return "hsl(0 75% 64%)";
    if (m <= 1e-3) return "hsl(135 50% 86%)";
    const double l = std::log10(m);
    if (m < 1) return fmt::format("hsl({:.0f} 65% 84%)", 135 - (l + 3) / 3 * 90);
    const double t = std::min(l, 6.0) / 6;
    return fmt::format("hsl({:.0f} 80% {:.0f}%)", 28 - 24 * t, 78 - 8 * t);
}

data margin_legend() {
    data items = make_list();
    for (double m : {0.0, 1e-2, 0.1, 0.5, 0.99, 1.0, 10.0, 1e3, 1e6, std::numeric_limits<double>::infinity()}) {
        data d;
        d.set("color", margin_color(m));
        d.set("label", m == 0 ? "≤ 0.001" : fmt_g(m));
        items.push_back(d);
    }
    return items;
}

namespace {

// A piecewise-linear map from log10(value) to pixels through increasing knots: one segment for a
// plain log axis, two for an axis whose scale changes (shown with a dashed break line).
struct log_axis {
    std::vector<std::pair<double, double>> knots;  // (log10 value, pixel)

    double lo() const { return knots.front().first; }
    double hi() const { return knots.back().first; }
    double map_log(double lv) const {
        lv = std::clamp(lv, lo(), hi());
        for (std::size_t i = 1; i < knots.size(); ++i)
            if (lv <= knots[i].first || i + 1 == knots.size()) {
                const auto [a, pa] = knots[i - 1];
                const auto [b, pb] = knots[i];
                return b == a ? pa : pa + (lv - a) / (b - a) * (pb - pa);
            }
        return knots.back().second;
    }
    // Zero and values below the axis sit on its floor.
    double map(double v) const { return v > 0 ? map_log(std::log10(v)) : knots.front().second; }
};

std::string power_label(int k) {
    if (k == 0) return "1";
    if (k == 1) return "10";
    if (k == 2) return "100";
    if (k == -1) return "0.1";
    if (k == -2) return "0.01";
    return fmt::format("1e{}", k);
}

const char* const palette[] = {"#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#b91c1c",
                               "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#475569"};

struct line_chart {
    double width = 760, height = 430;
    double plot_x = 74, plot_y = 48, plot_w = 666, plot_h = 316;
    bool inf_band = false;
    data d;

    line_chart() {
        d.set("width", fmt_px(width));
        d.set("height", fmt_px(height));
        d.set("plot_x", fmt_px(plot_x));
        d.set("plot_y", fmt_px(plot_y));
        d.set("plot_w", fmt_px(plot_w));
        d.set("plot_h", fmt_px(plot_h));
        d.set("xtitle_x", fmt_px(plot_x + plot_w / 2));
        d.set("xtitle_y", fmt_px(plot_y + plot_h + 40));
        d.set("ytitle_y", fmt_px(plot_y + plot_h / 2));
    }
    double bottom() const { return plot_y + plot_h; }
    double inf_y() const { return 26; }

    void add_inf_band() {
        inf_band = true;
        data b;
        b.set("y", fmt_px(14));
        b.set("h", fmt_px(24));
        b.set("label_x", fmt_px(plot_x - 6));
        b.set("text_y", fmt_px(30));
        d.set("inf_band", b);
    }
    void x_ticks(const log_axis& ax, const std::vector<int>& powers) {
        data l = make_list();
        for (int k : powers) {
            data t;
            t.set("x", fmt_px(ax.map_log(k)));
            t.set("y0", fmt_px(plot_y));
            t.set("y1", fmt_px(bottom()));
            t.set("label_y", fmt_px(bottom() + 16));
            t.set("label", power_label(k));
            l.push_back(t);
        }
        d.set("xticks", l);
    }
    void y_ticks(const log_axis& ax, const std::vector<int>& powers, const std::string& floor_label) {
        data l = make_list();
        for (int k : powers) {
            data t;
            const double y = ax.map_log(k);
            t.set("y", fmt_px(y));
            t.set("x0", fmt_px(plot_x));
            t.set("x1", fmt_px(plot_x + plot_w));
            t.set("label_x", fmt_px(plot_x - 6));
            t.set("text_y", fmt_px(y + 4));
            t.set("label", k == ax.lo() && !floor_label.empty() ? floor_label : power_label(k));
            l.push_back(t);
        }
        d.set("yticks", l);
    }
};

data breaks_list(std::vector<std::tuple<double, double, double, double>> lines) {
    data l = make_list();
    for (const auto& [x1, y1, x2, y2] : lines) {
        data b;
        b.set("x1", fmt_px(x1));
        b.set("y1", fmt_px(y1));
        b.set("x2", fmt_px(x2));
        b.set("y2", fmt_px(y2));
        l.push_back(b);
    }
    return l;
}

std::string path_data(const std::vector<std::pair<double, double>>& pts) {
    std::string d;
    for (std::size_t i = 0; i < pts.size(); ++i)
        d += fmt::format("{}{:.1f},{:.1f}", i == 0 ? "M" : " L", pts[i].first, pts[i].second);
    return d;
}

data series_item(const std::string& path, const std::string& color, const std::string& dash, const std::string& label) {
    data s;
    s.set("d", path);
    s.set("color", color);
    s.set("dash", dash);
    s.set("label", label);
    return s;
}

std::size_t code_points(const std::string& s) {
    return static_cast<std::size_t>(
        std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}
}  // namespace

// Stability curves of one precision: loss error in ULPs versus logit magnitude m, log-log, with the
// m axis compressed above 1e4 (nothing new happens between 1e4 and 1e300 except the 1e16 cliff of
// unshifted formulas, which the 2-per-decade sampling still catches).
data stability_chart(const run_result& run, precision p, const std::vector<implementation_info>& impls) {
    std::vector<const stability_curve*> curves;
    double max_m = 1e4, max_err = 100;
    for (const auto& c : run.diagnostics.stability)
        if (c.prec == p) {
            curves.push_back(&c);
            for (double m : c.magnitude) max_m = std::max(max_m, m);
            for (double e : c.ulps)
                if (std::isfinite(e)) max_err = std::max(max_err, e);
        }
    line_chart ch;
    ch.add_inf_band();
    const double x_hi = std::ceil(std::log10(max_m));
    const log_axis xa{{{0, ch.plot_x}, {4, ch.plot_x + 0.55 * ch.plot_w}, {x_hi, ch.plot_x + ch.plot_w}}};
    const int y_hi = static_cast<int>(std::ceil(std::log10(max_err)));
    const log_axis ya{{{-2, ch.bottom()}, {y_hi, ch.plot_y}}};
    std::vector<int> xt = {0, 1, 2, 3, 4};
    const int step = x_hi > 100 ? 50 : 10;
    for (int k = step; k <= x_hi; k += step) xt.push_back(k);
    ch.x_ticks(xa, xt);
    std::vector<int> yt;
    const int ystep = y_hi > 12 ? 4 : 2;
    for (int k = -2; k <= y_hi; k += ystep) yt.push_back(k);
    ch.y_ticks(ya, yt, "≤0.01");
    ch.d.set("breaks", breaks_list({{xa.map_log(4), ch.plot_y, xa.map_log(4), ch.bottom()}}));
    // Where e^−m leaves the format: the rounded p_y of −log(p_y) formulas underflows there.
    const double underflow = p == precision::f64 ? 745.13 : 103.97;
    data markers = make_list();
    data mk;
    const double mx = xa.map(underflow);
    mk.set("x", fmt_px(mx));
    mk.set("y0", fmt_px(ch.plot_y));
    mk.set("y1", fmt_px(ch.bottom()));
    mk.set("tx", fmt_px(mx + 4));
    mk.set("ty", fmt_px(ch.plot_y + 12));
    mk.set("label", fmt::format("e^−m underflows ({})", fmt_g(underflow)));
    markers.push_back(mk);
    ch.d.set("markers", markers);

    data series = make_list();
    for (const auto* c : curves) {
        std::size_t idx = 0;
        while (idx < impls.size() && impls[idx].name != c->implementation) ++idx;
        // Coinciding curves (e.g. all at the floor) stay visible: 2 px per implementation.
        const double offset = 2.0 * static_cast<double>(idx % 10);
        std::vector<std::pair<double, double>> pts;
        for (std::size_t i = 0; i < c->magnitude.size() && i < c->ulps.size(); ++i) {
            const double e = c->ulps[i];
            const double y = std::isfinite(e) ? ya.map(e) : ch.inf_y();
            pts.push_back({xa.map(c->magnitude[i]), y - offset});
        }
        const bool small = c->label_on == "small";
        series.push_back(series_item(path_data(pts), palette[idx % 10], small ? "none" : "7 4",
                                     c->implementation + " · " + c->entry_point + " · label on the " +
                                         (small ? "small logit (loss ≈ m)" : "large logit (loss ≈ e^−m)")));
    }
    ch.d.set("series", series);
    const std::string prec(to_string(p));
    ch.d.set("id", "chart-stability-" + prec);
    ch.d.set("kind", "stability-" + prec);
    ch.d.set("title", "Stability curve, " + prec + ": loss error versus logit magnitude.");
    ch.d.set("caption", "Rows [0, −m], m from 1 to " + fmt_g(max_m) +
                            "; error of the loss in ULPs of " + prec +
                            " against the 128-bit reference (0 is drawn on the floor, inf/NaN in the red band). "
                            "The m axis changes scale at 1e4 (dashed line). Curves are offset by 2 px per "
                            "implementation so coinciding ones stay visible.");
    ch.d.set("xtitle", "logit magnitude m (log scale)");
    ch.d.set("ytitle", "|error| in ULPs");
    return ch.d;
}

// The classic V: order-2 central differences in double (truncation falls with h², rounding grows
// like u/h) beside Richardson in 256-bit mp_real, flat near its rounding floor.
data fd_chart(const fd_step_curve& c) {
    line_chart ch;
    double lo_err = 1e-20, hi_err = 1e-1;
    for (const auto* v : {&c.double_error, &c.mp_error})
        for (double e : *v)
            if (e > 0 && std::isfinite(e)) {
                lo_err = std::min(lo_err, e);
                hi_err = std::max(hi_err, e);
            }
    const log_axis xa{{{-15, ch.plot_x}, {-1, ch.plot_x + ch.plot_w}}};
    const int y_lo = static_cast<int>(std::floor(std::log10(lo_err))) - 1;
    const int y_hi = static_cast<int>(std::ceil(std::log10(hi_err)));
    // Double precision lives above 1e−18: give it 60 % of the height, the multiprecision floor the rest.
    const int y_mid = -18;
    const log_axis ya{y_lo < y_mid ? std::vector<std::pair<double, double>>{{y_lo, ch.bottom()},
                                                                           {y_mid, ch.plot_y + 0.6 * ch.plot_h},
                                                                           {y_hi, ch.plot_y}}
                                   : std::vector<std::pair<double, double>>{{y_lo, ch.bottom()}, {y_hi, ch.plot_y}}};
    std::vector<int> xt;
    for (int k = -15; k <= -1; k += 2) xt.push_back(k);
    ch.x_ticks(xa, xt);
    std::vector<int> yt;
    for (int k = y_hi; k >= std::max(y_lo, y_mid); k -= 3) yt.push_back(k);
    // Below the break 20-decade ticks, none within 10 decades of it (the scale is compressed there).
    if (y_lo < y_mid)
        for (int k = -20; k >= y_lo; k -= 20)
            if (k < y_mid - 10) yt.push_back(k);
    std::reverse(yt.begin(), yt.end());
    ch.y_ticks(ya, yt, "");
    if (y_lo < y_mid) ch.d.set("breaks", breaks_list({{ch.plot_x, ya.map_log(y_mid), ch.plot_x + ch.plot_w, ya.map_log(y_mid)}}));
    data series = make_list();
    const auto curve = [&](const std::vector<double>& err) {
        std::vector<std::pair<double, double>> pts;
        for (std::size_t i = 0; i < c.step.size() && i < err.size(); ++i)
            pts.push_back({xa.map(c.step[i]), std::isfinite(err[i]) ? ya.map(err[i]) : ch.plot_y});
        return path_data(pts);
    };
    series.push_back(series_item(curve(c.double_error), "#c2410c", "none", "double: central difference (f(x+h) − f(x−h))/2h"));
    series.push_back(series_item(curve(c.mp_error), "#1f5fbf", "none", "mp_real 256 bits: Richardson, order 8, 12 levels"));
    ch.d.set("series", series);
    ch.d.set("id", "chart-fd");
    ch.d.set("kind", "fd-step");
    ch.d.set("title", "Finite-difference error versus step.");
    ch.d.set("caption", "Relative error of " + c.description +
                            " against the exact derivative. The y axis changes scale at 1e−18 (dashed line).");
    ch.d.set("xtitle", "relative step h (log scale)");
    ch.d.set("ytitle", "relative error");
    return ch.d;
}

// ULP-error histogram of one precision: one row per implementation × entry point.
data ulp_chart(const run_result& run, precision p) {
    struct bin {
        double upper;  // inclusive upper edge; the first bin is exactly 0
        const char* label;
        int hue;
    };
    static const bin bins[] = {{0, "0", 150},       {0.5, "≤½", 150},     {1, "≤1", 150},         {2, "≤2", 95},
                               {4, "≤4", 60},       {16, "≤16", 45},      {256, "≤256", 30},      {65536, "≤2¹⁶", 20},
                               {4294967296.0, "≤2³²", 10}, {std::numeric_limits<double>::max(), ">2³²", 0},
                               {std::numeric_limits<double>::infinity(), "inf", 0}};
    // The label column fits the longest "implementation · entry point" (≈ 6.8 px per character at
    // the 11.5 px label font), so long plug-in names are not clipped.
    std::size_t longest = 0;
    for (const auto& u : run.diagnostics.ulp)
        if (u.prec == p) longest = std::max(longest, code_points(u.implementation + " · " + u.entry_point));
    const double label_x = std::max(150.0, 6.8 * static_cast<double>(longest) + 8);
    const double x0 = label_x + 8;
    constexpr double cw = 46, gap = 2, top = 28, rh = 24;
    constexpr std::size_t nbins = std::size(bins);
    const double median_x = x0 + nbins * (cw + gap) + 36;
    const double max_x = median_x + 66;
    data rows = make_list();
    int nrows = 0;
    std::size_t samples = 0;
    for (const auto& u : run.diagnostics.ulp) {
        if (u.prec != p) continue;
        std::vector<double> v = u.ulps;
        std::sort(v.begin(), v.end());
        samples = std::max(samples, v.size());
        std::vector<std::size_t> counts(nbins, 0);
        for (double e : v) {
            std::size_t b = 0;
            if (std::isinf(e) || std::isnan(e)) b = nbins - 1;
            else
                while (b + 2 < nbins && e > bins[b].upper) ++b;
            ++counts[b];
        }
        const double y = top + nrows * rh;
        data row;
        const std::string label = u.implementation + " · " + u.entry_point;
        row.set("label", label);
        row.set("label_x", fmt_px(label_x));
        row.set("text_y", fmt_px(y + 15));
        row.set("median_x", fmt_px(median_x));
        row.set("max_x", fmt_px(max_x));
        row.set("median", v.empty() ? "–" : fmt_g(v[v.size() / 2]));
        row.set("max", v.empty() ? "–" : fmt_g(v.back()));
        data cells = make_list();
        for (std::size_t b = 0; b < nbins; ++b) {
            const double share = v.empty() ? 0 : static_cast<double>(counts[b]) / static_cast<double>(v.size());
            const double light = 96 - 52 * std::sqrt(share);
            data cell;
            const double x = x0 + static_cast<double>(b) * (cw + gap);
            cell.set("x", fmt_px(x));
            cell.set("y", fmt_px(y));
            cell.set("w", fmt_px(cw));
            cell.set("h", fmt_px(rh - 2));
            cell.set("fill", counts[b] == 0 ? std::string("#f1f3f5") : fmt::format("hsl({} 60% {:.0f}%)", bins[b].hue, light));
            cell.set("title", fmt::format("{}: {} of {} calls with error {} ULP", label, counts[b], v.size(), bins[b].label));
            cell.set("has_text", counts[b] > 0);
            cell.set("text", share < 0.01 ? std::string("<1%") : fmt::format("{:.0f}%", 100 * share));
            cell.set("tx", fmt_px(x + cw / 2));
            cell.set("ty", fmt_px(y + 15));
            cell.set("text_color", light < 62 ? "#ffffff" : "#1b1f24");
            cells.push_back(cell);
        }
        row.set("cells", cells);
        rows.push_back(row);
        ++nrows;
    }
    data bl = make_list();
    for (std::size_t b = 0; b < nbins; ++b) {
        data t;
        t.set("x", fmt_px(x0 + static_cast<double>(b) * (cw + gap) + cw / 2));
        t.set("label", bins[b].label);
        bl.push_back(t);
    }
    data ch;
    ch.set("precision", std::string(to_string(p)));
    ch.set("samples", std::to_string(samples));
    ch.set("width", fmt_px(max_x + 40));
    ch.set("height", fmt_px(top + nrows * rh + 6));
    ch.set("median_x", fmt_px(median_x));
    ch.set("max_x", fmt_px(max_x));
    ch.set("bins", bl);
    ch.set("rows", rows);
    return ch;
}

}  // namespace gradproof::detail::html
