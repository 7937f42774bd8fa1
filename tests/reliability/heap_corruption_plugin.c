/* A plug-in whose softmax is correct and whose log_softmax corrupts its own heap (writes past a
 * block, then frees it twice): the worker process dies (glibc or ASan abort), the parent must
 * report that property as failed and keep every other result intact. */
#include <gradproof/plugin.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The accurate shifted softmax of examples/plugins/correct_plugin.c. */
int gradproof_softmax_f64(const double* z, int64_t n, int64_t c, double* p) {
    if (n < 0 || c <= 0) return 1;
    for (int64_t i = 0; i < n; ++i) {
        const double* r = z + i * c;
        int64_t k = 0;
        int ok = 1;
        for (int64_t j = 0; j < c; ++j) {
            if (isnan(r[j]) || (isinf(r[j]) && r[j] > 0)) ok = 0;
            if (r[j] > r[k]) k = j;
        }
        if (ok && isinf(r[k])) ok = 0;
        if (!ok) {
            for (int64_t j = 0; j < c; ++j) p[i * c + j] = NAN;
            continue;
        }
        double s = 0;
        for (int64_t j = 0; j < c; ++j)
            if (j != k) s += exp(r[j] - r[k]);
        for (int64_t j = 0; j < c; ++j) p[i * c + j] = (j == k ? 1.0 : exp(r[j] - r[k])) / (1 + s);
    }
    return 0;
}

int gradproof_log_softmax_f64(const double* z, int64_t n, int64_t c, double* o) {
    (void)z; (void)n; (void)c; (void)o;
    char* volatile block = malloc(16);
    memset(block, 0x5a, 64); /* overruns the block into the allocator's metadata */
    free(block);
    free(block); /* and frees it twice */
    return 0;
}
