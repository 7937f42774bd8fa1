/* softmax that spins forever when a row holds a NaN (a convergence loop that never converges). */
#include <gradproof/plugin.h>
#include <math.h>
int gradproof_softmax_f64(const double* z, int64_t n, int64_t c, double* p) {
    if (n < 0 || c <= 0) return 1;
    for (int64_t i = 0; i < n; ++i) {
        double a = z[i * c];
        for (int64_t j = 1; j < c; ++j) a = z[i * c + j] > a ? z[i * c + j] : a;
        for (int64_t j = 0; j < c; ++j)
            while (isnan(z[i * c + j])) {
            }
        if (isinf(a)) {
            for (int64_t j = 0; j < c; ++j) p[i * c + j] = NAN;
            continue;
        }
        double s = 0;
        for (int64_t j = 0; j < c; ++j) s += exp(z[i * c + j] - a);
        for (int64_t j = 0; j < c; ++j) p[i * c + j] = exp(z[i * c + j] - a) / s;
    }
    return 0;
}
