// gradproof bench peer: PyTorch CPU (libtorch) softmax loss and gradient,
//   scores = X.mm(W), loss = cross_entropy(scores, y) + ½·reg·(W·W).sum(), loss.backward() → dW,
// and fused linear cross-entropy as a model's LM head computes it unfused,
//   loss = cross_entropy(linear(H, W, b), y), loss.backward() → dH, dW, db (W is V×D),
// timed in-process (median of repetitions after a warm-up). Prints one JSON object on stdout:
//   {"peer": "torch", "version": …, "threads": …, "results": [{"n", "d", "c", "dtype", "median_seconds", "repetitions"}],
//    "fused_results": [{"n", "d", "v", "dtype", "median_seconds", "repetitions"}]}
// Usage: torch_peer --shapes 8x16x4,500x3073x10 [--fused-shapes 256x768x50257] [--repetitions R] [--threads T]
//        [--dtypes f64,f32]
// --threads sets torch::set_num_threads (intra-op pool) so that gradproof bench compares equal
// thread counts; 0 keeps libtorch's default.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct shape {
    long n, d, c;
};

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    for (std::string item; std::getline(ss, item, sep);)
        if (!item.empty()) out.push_back(item);
    return out;
}

double seconds(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Median seconds of call() over `repetitions` (after a warm-up; a call over 2 s is timed once);
// reps receives the number of samples.
template <class F>
double median_seconds(F&& call, int repetitions, int& reps) {
    auto t0 = std::chrono::steady_clock::now();
    (void)call();  // warm-up
    const double first = seconds(t0);
    std::vector<double> samples;
    reps = repetitions;
    if (first > 2.0) {
        samples.push_back(first);
        reps = 1;
    } else {
        const int inner = std::max(1, static_cast<int>(0.002 / std::max(first, 1e-9)));
        for (int r = 0; r < repetitions; ++r) {
            t0 = std::chrono::steady_clock::now();
            for (int k = 0; k < inner; ++k) (void)call();
            samples.push_back(seconds(t0) / inner);
        }
    }
    std::sort(samples.begin(), samples.end());
    const std::size_t m = samples.size();
    return m % 2 ? samples[m / 2] : (samples[m / 2 - 1] + samples[m / 2]) / 2;
}

bool parse_shape(const std::string& s, shape& out) {
    const auto p = split(s, 'x');
    if (p.size() != 3) {
        std::fprintf(stderr, "torch_peer: bad shape %s\n", s.c_str());
        return false;
    }
    out = {std::atol(p[0].c_str()), std::atol(p[1].c_str()), std::atol(p[2].c_str())};
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string shapes_arg, fused_arg, dtypes_arg = "f64,f32";
    int repetitions = 5, threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--shapes") shapes_arg = v;
        else if (k == "--fused-shapes") fused_arg = v;
        else if (k == "--repetitions") repetitions = std::max(1, std::atoi(v.c_str()));
        else if (k == "--threads") threads = std::atoi(v.c_str());
        else if (k == "--dtypes") dtypes_arg = v;
        else {
            std::fprintf(stderr, "torch_peer: unknown option %s\n", k.c_str());
            return 2;
        }
    }
    if (threads > 0) torch::set_num_threads(threads);
    torch::manual_seed(42);
    std::string json = "{\"peer\": \"torch\", \"version\": \"" + std::string(TORCH_VERSION) +
                       "\", \"threads\": " + std::to_string(torch::get_num_threads()) + ", \"results\": [";
    bool first_result = true;
    for (const auto& s : split(shapes_arg, ',')) {
        shape sh{};
        if (!parse_shape(s, sh)) return 2;
        for (const auto& dt : split(dtypes_arg, ',')) {
            const auto type = dt == "f64" ? torch::kFloat64 : torch::kFloat32;
            const auto X = torch::randn({sh.n, sh.d}, torch::TensorOptions().dtype(type));
            auto W = (1e-2 * torch::randn({sh.d, sh.c}, torch::TensorOptions().dtype(type))).set_requires_grad(true);
            const auto y = torch::randint(0, sh.c, {sh.n}, torch::TensorOptions().dtype(torch::kInt64));
            const double reg = 1e-3;
            auto call = [&] {
                W.mutable_grad() = torch::Tensor();
                auto loss = torch::nn::functional::cross_entropy(X.mm(W), y) + 0.5 * reg * (W * W).sum();
                loss.backward();
                return loss.item<double>();  // dW is in W.grad()
            };
            int reps = 0;
            const double median = median_seconds(call, repetitions, reps);
            char buf[256];
            std::snprintf(buf, sizeof buf,
                          "%s{\"n\": %ld, \"d\": %ld, \"c\": %ld, \"dtype\": \"%s\", \"median_seconds\": %.9g, \"repetitions\": %d}",
                          first_result ? "" : ", ", sh.n, sh.d, sh.c, dt.c_str(), median, reps);
            json += buf;
            first_result = false;
        }
    }
    json += "], \"fused_results\": [";
    first_result = true;
    for (const auto& s : split(fused_arg, ',')) {
        shape sh{};  // n × d hidden, v classes
        if (!parse_shape(s, sh)) return 2;
        for (const auto& dt : split(dtypes_arg, ',')) {
            const auto opts = torch::TensorOptions().dtype(dt == "f64" ? torch::kFloat64 : torch::kFloat32);
            auto H = torch::randn({sh.n, sh.d}, opts).set_requires_grad(true);
            auto W = (2e-2 * torch::randn({sh.c, sh.d}, opts)).set_requires_grad(true);
            auto b = torch::zeros({sh.c}, opts).set_requires_grad(true);
            const auto y = torch::randint(0, sh.c, {sh.n}, torch::TensorOptions().dtype(torch::kInt64));
            auto call = [&] {
                for (auto* t : {&H, &W, &b}) t->mutable_grad() = torch::Tensor();
                auto loss = torch::nn::functional::cross_entropy(torch::nn::functional::linear(H, W, b), y);
                loss.backward();
                return loss.item<double>();  // dH, dW, db are in the grads
            };
            int reps = 0;
            const double median = median_seconds(call, repetitions, reps);
            char buf[256];
            std::snprintf(buf, sizeof buf,
                          "%s{\"n\": %ld, \"d\": %ld, \"v\": %ld, \"dtype\": \"%s\", \"median_seconds\": %.9g, \"repetitions\": %d}",
                          first_result ? "" : ", ", sh.n, sh.d, sh.c, dt.c_str(), median, reps);
            json += buf;
            first_result = false;
        }
    }
    json += "]}";
    std::printf("%s\n", json.c_str());
    return 0;
}
