/* softmax that dereferences a null pointer when a logit exceeds 100 (an unchecked table lookup). */
#include <gradproof/plugin.h>
#include <math.h>
int gradproof_softmax_f64(const double* z, int64_t n, int64_t c, double* p) {
    if (n < 0 || c <= 0) return 1;
    for (int64_t i = 0; i < n; ++i) {
        double a = z[i * c];
        for (int64_t j = 1; j < c; ++j) a = z[i * c + j] > a ? z[i * c + j] : a;
        if (a > 100) {
            volatile double* table = 0;
            p[0] = table[(int64_t)a];
        }
        double s = 0;
        for (int64_t j = 0; j < c; ++j) s += exp(z[i * c + j] - a);
        for (int64_t j = 0; j < c; ++j) p[i * c + j] = exp(z[i * c + j] - a) / s;
    }
    return 0;
}
