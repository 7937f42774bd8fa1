/* A correct gradproof plug-in in plain C: all twelve entry points, using the accurate shifted
 * formulas (Blanchard, Higham & Higham 2021): a = max, s = Σ_{j≠k} exp(z_j − a),
 * p_j = exp(z_j − a)/(1 + s), log p_j = (z_j − a) − log1p(s), loss = (a − z_y) + log1p(s).
 * Build: cc -O2 -shared -fPIC -I include examples/plugins/correct_plugin.c -o libcorrect.so -lm
 * Check: gradproof check --plugin ./libcorrect.so
 */
#include <gradproof/plugin.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Row statistics; returns 0 for a row holding NaN or +inf or with every class masked. */
#define DEFINE_ROW_STATS(T, SUF, EXP)                                                        \
    static int row_stats_##SUF(const T* z, int64_t c, T* a_out, int64_t* k_out, T* s_out) { \
        int64_t k = 0;                                                                       \
        for (int64_t j = 0; j < c; ++j) {                                                    \
            if (isnan(z[j]) || (isinf(z[j]) && z[j] > 0)) return 0;                          \
            if (z[j] > z[k]) k = j;                                                          \
        }                                                                                    \
        const T a = z[k];                                                                    \
        if (isinf(a)) return 0;                                                              \
        T s = 0;                                                                             \
        for (int64_t j = 0; j < c; ++j)                                                      \
            if (j != k) s += EXP(z[j] - a);                                                  \
        *a_out = a;                                                                          \
        *k_out = k;                                                                          \
        *s_out = s;                                                                          \
        return 1;                                                                            \
    }

#define DEFINE_PLUGIN(T, SUF, EXP, LOG1P, NANV)                                                                    \
    DEFINE_ROW_STATS(T, SUF, EXP)                                                                                  \
    int gradproof_softmax_##SUF(const T* z, int64_t n, int64_t c, T* p) {                                         \
        if (n < 0 || c <= 0) return 1;                                                                             \
        for (int64_t i = 0; i < n; ++i) {                                                                          \
            T a, s;                                                                                                \
            int64_t k;                                                                                             \
            if (!row_stats_##SUF(z + i * c, c, &a, &k, &s)) {                                                      \
                for (int64_t j = 0; j < c; ++j) p[i * c + j] = NANV;                                               \
                continue;                                                                                          \
            }                                                                                                      \
            for (int64_t j = 0; j < c; ++j) p[i * c + j] = (j == k ? (T)1 : EXP(z[i * c + j] - a)) / (1 + s);      \
        }                                                                                                          \
        return 0;                                                                                                  \
    }                                                                                                              \
    int gradproof_log_softmax_##SUF(const T* z, int64_t n, int64_t c, T* o) {                                     \
        if (n < 0 || c <= 0) return 1;                                                                             \
        for (int64_t i = 0; i < n; ++i) {                                                                          \
            T a, s;                                                                                                \
            int64_t k;                                                                                             \
            if (!row_stats_##SUF(z + i * c, c, &a, &k, &s)) {                                                      \
                for (int64_t j = 0; j < c; ++j) o[i * c + j] = NANV;                                               \
                continue;                                                                                          \
            }                                                                                                      \
            const T l = LOG1P(s);                                                                                  \
            for (int64_t j = 0; j < c; ++j) o[i * c + j] = (z[i * c + j] - a) - l;                                 \
        }                                                                                                          \
        return 0;                                                                                                  \
    }                                                                                                              \
    int gradproof_softmax_backward_##SUF(const T* p, const T* g, int64_t n, int64_t c, T* dz) {                  \
        if (n < 0 || c <= 0) return 1;                                                                             \
        for (int64_t i = 0; i < n; ++i) {                                                                          \
            T dot = 0;                                                                                             \
            for (int64_t j = 0; j < c; ++j) dot += g[i * c + j] * p[i * c + j];                                    \
            for (int64_t j = 0; j < c; ++j) dz[i * c + j] = p[i * c + j] * (g[i * c + j] - dot);                   \
        }                                                                                                          \
        return 0;                                                                                                  \
    }                                                                                                              \
    int gradproof_log_softmax_backward_##SUF(const T* o, const T* g, int64_t n, int64_t c, T* dz) {              \
        if (n < 0 || c <= 0) return 1;                                                                             \
        for (int64_t i = 0; i < n; ++i) {                                                                          \
            T sum = 0;                                                                                             \
            for (int64_t j = 0; j < c; ++j) sum += g[i * c + j];                                                   \
            for (int64_t j = 0; j < c; ++j) dz[i * c + j] = g[i * c + j] - EXP(o[i * c + j]) * sum;                \
        }                                                                                                          \
        return 0;                                                                                                  \
    }                                                                                                              \
    int gradproof_cross_entropy_##SUF(const T* z, const int32_t* y, int64_t n, int64_t c, T* loss, T* dz) {      \
        if (n <= 0 || c <= 0) return 1;                                                                            \
        for (int64_t i = 0; i < n; ++i)                                                                            \
            if (y[i] < 0 || y[i] >= c) return 2;                                                                   \
        T total = 0;                                                                                               \
        for (int64_t i = 0; i < n; ++i) {                                                                          \
            T a, s;                                                                                                \
            int64_t k;                                                                                             \
            const T* row = z + i * c;                                                                              \
            if (!row_stats_##SUF(row, c, &a, &k, &s)) {                                                            \
                total = NANV;                                                                                      \
                for (int64_t j = 0; j < c; ++j) dz[i * c + j] = NANV;                                              \
                continue;                                                                                          \
            }                                                                                                      \
            total += (a - row[y[i]]) + LOG1P(s);                                                                   \
            for (int64_t j = 0; j < c; ++j) {                                                                      \
                const T p = (j == k ? (T)1 : EXP(row[j] - a)) / (1 + s);                                           \
                dz[i * c + j] = (j == y[i] ? p - 1 : p) / (T)n;                                                    \
            }                                                                                                      \
        }                                                                                                          \
        *loss = total / (T)n;                                                                                      \
        return 0;                                                                                                  \
    }                                                                                                              \
    int gradproof_softmax_loss_##SUF(const T* W, const T* X, const int32_t* y, int64_t n, int64_t d, int64_t c,  \
                                     T reg, T* loss, T* dW) {                                                      \
        if (n <= 0 || d <= 0 || c <= 0 || !isfinite(reg) || reg < 0) return 1;                                    \
        for (int64_t i = 0; i < n; ++i)                                                                            \
            if (y[i] < 0 || y[i] >= c) return 2;                                                                   \
        T* S = malloc(sizeof(T) * (size_t)(n * c));                                                                \
        T* dS = malloc(sizeof(T) * (size_t)(n * c));                                                               \
        if (!S || !dS) {                                                                                           \
            free(S);                                                                                               \
            free(dS);                                                                                              \
            return 3;                                                                                              \
        }                                                                                                          \
        for (int64_t i = 0; i < n; ++i)                                                                            \
            for (int64_t j = 0; j < c; ++j) {                                                                      \
                T acc = 0;                                                                                         \
                for (int64_t k = 0; k < d; ++k) acc += X[i * d + k] * W[k * c + j];                                \
                S[i * c + j] = acc;                                                                                \
            }                                                                                                      \
        T l = 0;                                                                                                   \
        const int rc = gradproof_cross_entropy_##SUF(S, y, n, c, &l, dS); /* dS = (P − Y)/n */                     \
        if (rc) {                                                                                                  \
            free(S);                                                                                               \
            free(dS);                                                                                              \
            return rc;                                                                                             \
        }                                                                                                          \
        /* ½·reg·‖W‖² scaled by max|W| so it overflows only when the exact value does. */                         \
        T m = 0, q = 0;                                                                                            \
        for (int64_t k = 0; k < d * c; ++k)                                                                        \
            if (fabs(W[k]) > m) m = fabs(W[k]);                                                                    \
        if (reg != 0 && m != 0) {                                                                                  \
            for (int64_t k = 0; k < d * c; ++k) q += (W[k] / m) * (W[k] / m);                                      \
            l += ((T)0.5 * reg * m) * m * q;                                                                       \
        }                                                                                                          \
        *loss = l;                                                                                                 \
        for (int64_t k = 0; k < d; ++k)                                                                            \
            for (int64_t j = 0; j < c; ++j) {                                                                      \
                T acc = 0;                                                                                         \
                for (int64_t i = 0; i < n; ++i) acc += X[i * d + k] * dS[i * c + j];                              \
                dW[k * c + j] = acc + reg * W[k * c + j];                                                          \
            }                                                                                                      \
        free(S);                                                                                                   \
        free(dS);                                                                                                  \
        return 0;                                                                                                  \
    }

DEFINE_PLUGIN(double, f64, exp, log1p, (double)NAN)
DEFINE_PLUGIN(float, f32, expf, log1pf, (float)NAN)
