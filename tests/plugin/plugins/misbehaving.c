/* Misbehaves in every way a C library can without crashing gradproof: writes a forged protocol
 * answer to stdout and chatter to stderr, modifies its input (log_softmax), leaves an output
 * element unwritten (softmax), and calls exit() (cross_entropy). */
#include <gradproof/plugin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void chatter(int64_t n, int64_t c) {
    printf("{\"status\":\"ok\",\"bytes\":0}\n");
    fflush(stdout);
    fprintf(stderr, "misbehaving: called with n=%lld c=%lld\n", (long long)n, (long long)c);
}

static void log_softmax_rows(const double* z, int64_t n, int64_t c, double* o) {
    for (int64_t i = 0; i < n; ++i) {
        double a = z[i * c];
        for (int64_t j = 1; j < c; ++j) a = z[i * c + j] > a ? z[i * c + j] : a;
        double s = 0;
        for (int64_t j = 0; j < c; ++j) s += exp(z[i * c + j] - a);
        for (int64_t j = 0; j < c; ++j) o[i * c + j] = z[i * c + j] - a - log(s);
    }
}

int gradproof_log_softmax_f64(const double* z, int64_t n, int64_t c, double* o) {
    chatter(n, c);
    if (n < 0 || c <= 0) return 1;
    log_softmax_rows(z, n, c, o);
    if (n > 0) ((double*)z)[0] += 1; /* modifies its input */
    return 0;
}

int gradproof_softmax_f64(const double* z, int64_t n, int64_t c, double* p) {
    chatter(n, c);
    if (n < 0 || c <= 0) return 1;
    for (int64_t k = 0; k + 1 < n * c; ++k) p[k] = 1.0 / (double)c; /* the last element is never written */
    (void)z;
    return 0;
}

int gradproof_cross_entropy_f64(const double* z, const int32_t* y, int64_t n, int64_t c, double* loss, double* dz) {
    (void)z; (void)y; (void)loss; (void)dz;
    chatter(n, c);
    exit(7);
}
