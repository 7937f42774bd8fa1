/* A gradproof plug-in (ABI version 2) implementing cross-entropy with every option
 * (gradproof_cross_entropy_ex_f64/_f32/_bf16) and fused linear cross-entropy
 * (gradproof_fused_linear_cross_entropy_f64/_f32), exactly as include/gradproof/plugin.h defines them.
 *
 * Per row, with z the (soft-capped) logits, m = max z, k its index and s' = Σ_{c≠k} exp(z_c − m):
 *   lse = m + log1p(s'),  lse − z_c = (m − z_c) + log1p(s'),  p_c = exp(z_c − m) / (1 + s'),
 * so no logarithm of a rounded probability is taken, and p_y − 1 for y = k is −s'/(1 + s')
 * (no cancellation). The soft cap's derivative 1 − tanh²(u) is computed as sech²(u) = 1/cosh²(u),
 * which keeps its relative accuracy where tanh(u) rounds to ±1.
 * NaN and +inf logits are rejected (one of the two behaviours the row-wise contract allows); a row
 * whose classes are all masked (−inf) yields NaN for that row.
 *
 * Build: cc -O2 -shared -fPIC -I include examples/plugins/options_plugin.c -o liboptions.so -lm
 * Check: gradproof check --plugin ./liboptions.so
 */
#include <gradproof/plugin.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Return codes besides 0 and GRADPROOF_UNSUPPORTED. */
enum { BAD_ARGUMENT = 1, BAD_LABEL = 2, NO_MEMORY = 3, NON_FINITE = 4 };

/* The options as this plug-in uses them, defaults filled in for fields beyond options->size. */
typedef struct resolved_options {
    int reduction;
    int has_ignore_index;
    int32_t ignore_index;
    double label_smoothing;
    double lse_square_scale;
    double softcap;
    const void* class_weights;
    const void* soft_targets;
} resolved_options;

/* The field is inside the caller's struct: only then may it be read. */
#define HAS_FIELD(o, f) ((o)->size >= offsetof(gradproof_ce_options, f) + sizeof((o)->f))

static int resolve_options(const gradproof_ce_options* o, resolved_options* r) {
    r->reduction = GRADPROOF_REDUCTION_MEAN;
    r->has_ignore_index = 0;
    r->ignore_index = -100;
    r->label_smoothing = 0;
    r->lse_square_scale = 0;
    r->softcap = 0;
    r->class_weights = NULL;
    r->soft_targets = NULL;
    if (!o) return 0;
    if (o->size < sizeof(o->size)) return BAD_ARGUMENT;
    if (HAS_FIELD(o, reduction)) r->reduction = o->reduction;
    if (HAS_FIELD(o, has_ignore_index)) r->has_ignore_index = o->has_ignore_index != 0;
    if (HAS_FIELD(o, ignore_index)) r->ignore_index = o->ignore_index;
    /* A non-zero reserved field is a meaning this plug-in does not know. */
    if (HAS_FIELD(o, reserved) && o->reserved != 0) return GRADPROOF_UNSUPPORTED;
    if (HAS_FIELD(o, label_smoothing)) r->label_smoothing = o->label_smoothing;
    if (HAS_FIELD(o, lse_square_scale)) r->lse_square_scale = o->lse_square_scale;
    if (HAS_FIELD(o, softcap)) r->softcap = o->softcap;
    if (HAS_FIELD(o, class_weights)) r->class_weights = o->class_weights;
    if (HAS_FIELD(o, soft_targets)) r->soft_targets = o->soft_targets;
    if (r->reduction != GRADPROOF_REDUCTION_NONE && r->reduction != GRADPROOF_REDUCTION_MEAN &&
        r->reduction != GRADPROOF_REDUCTION_SUM)
        return BAD_ARGUMENT;
    if (!(r->label_smoothing >= 0 && r->label_smoothing <= 1)) return BAD_ARGUMENT;
    if (!(r->lse_square_scale >= 0 && isfinite(r->lse_square_scale))) return BAD_ARGUMENT;
    if (!(r->softcap >= 0 && isfinite(r->softcap))) return BAD_ARGUMENT;
    if (r->soft_targets && r->has_ignore_index) return BAD_ARGUMENT; /* as PyTorch */
    return 0;
}

/* Rounds a float to bfloat16, to nearest with ties to even; NaN stays a quiet NaN. */
static uint16_t float_to_bf16(float x) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    if (isnan(x)) return (uint16_t)((b >> 16) | 0x0040u);
    b += 0x7fffu + ((b >> 16) & 1u);
    return (uint16_t)(b >> 16);
}

static float bf16_to_float(uint16_t h) {
    const uint32_t b = (uint32_t)h << 16;
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* Everything typed is generated twice, for double and float: the row kernel, the argument checks
 * and both entry points. */
#define DEFINE_CE(T, SUF, EXP, LOG1P, TANH, COSH)                                                                   \
    /* One row. x: the raw logits (c values). y: the label (hard) or -1 (q: the soft-target row).   \
     * gce, gzl: the factors of this row's ce and z-loss in Σ dloss·loss. Writes the row's gradient \
     * into g (also used as scratch for the capped logits) and returns ce and zl; 0 for a row whose \
     * classes are all masked (then ce, zl and g are NaN). */                                       \
    static int row_##SUF(const T* x, int64_t c, int32_t y, const T* q, const T* w, T sum_w, T eps, T s, T cap, T gce, \
                         T gzl, T* ce_out, T* zl_out, T* g) {                                                       \
        int64_t k = 0;                                                                                              \
        for (int64_t j = 0; j < c; ++j) {                                                                           \
            g[j] = cap > 0 ? cap * TANH(x[j] / cap) : x[j];                                                         \
            if (g[j] > g[k]) k = j;                                                                                 \
        }                                                                                                           \
        const T m = g[k];                                                                                           \
        if (isinf(m)) { /* every class masked */                                                                   \
            for (int64_t j = 0; j < c; ++j) g[j] = (T)NAN;                                                          \
            *ce_out = *zl_out = (T)NAN;                                                                             \
            return 0;                                                                                               \
        }                                                                                                           \
        T sp = 0;                                                                                                   \
        for (int64_t j = 0; j < c; ++j)                                                                             \
            if (j != k) sp += EXP(g[j] - m);                                                                        \
        const T l1p = LOG1P(sp);                                                                                    \
        const T lse = m + l1p;                                                                                      \
        const T one_minus_eps = 1 - eps, eps_c = eps / (T)c;                                                        \
        /* ce; a term whose coefficient is 0 is skipped (0·log 0 = 0 on masked classes). */                        \
        T ce = 0, a = 0;                                                                                            \
        if (q) {                                                                                                    \
            for (int64_t j = 0; j < c; ++j) {                                                                       \
                const T coef = (w ? w[j] : (T)1) * (one_minus_eps * q[j] + eps_c);                                  \
                if (coef != 0) ce += coef * ((m - g[j]) + l1p);                                                     \
                a += coef;                                                                                          \
            }                                                                                                       \
        } else {                                                                                                    \
            const T wy = w ? w[y] : (T)1;                                                                           \
            if (one_minus_eps * wy != 0) ce = one_minus_eps * wy * ((m - g[y]) + l1p);                              \
            if (eps != 0) {                                                                                         \
                T smooth = 0;                                                                                       \
                for (int64_t j = 0; j < c; ++j) {                                                                   \
                    const T wj = w ? w[j] : (T)1;                                                                   \
                    if (wj != 0) smooth += wj * ((m - g[j]) + l1p);                                                 \
                }                                                                                                   \
                ce += eps_c * smooth;                                                                               \
            }                                                                                                       \
        }                                                                                                           \
        *ce_out = ce;                                                                                               \
        *zl_out = s * lse * lse;                                                                                    \
        /* d(gce·ce + gzl·zl)/dz_j = gce·(∂ce/∂z_j) + gzl·2·s·lse·p_j. */                                          \
        const T zfac = gzl * 2 * s * lse;                                                                           \
        const T denom = 1 + sp;                                                                                     \
        for (int64_t j = 0; j < c; ++j) {                                                                           \
            const T p = (j == k ? (T)1 : EXP(g[j] - m)) / denom;                                                    \
            T d;                                                                                                    \
            if (q) {                                                                                                \
                const T coef = (w ? w[j] : (T)1) * (one_minus_eps * q[j] + eps_c);                                  \
                d = a * p - coef;                                                                                   \
            } else {                                                                                                \
                const T wy = w ? w[y] : (T)1, wj = w ? w[j] : (T)1;                                                 \
                /* p_y − 1 without cancellation when y is the largest logit. */                                    \
                const T p_minus_onehot = j != y ? p : (j == k ? -sp / denom : p - 1);                               \
                d = one_minus_eps * wy * p_minus_onehot + eps_c * (sum_w * p - wj);                                 \
            }                                                                                                       \
            T gj = gce * d + zfac * p;                                                                              \
            if (cap > 0) {                                                                                          \
                const T sech = 1 / COSH(x[j] / cap);                                                                \
                gj *= sech * sech;                                                                                  \
            }                                                                                                       \
            g[j] = gj;                                                                                              \
        }                                                                                                           \
        return 1;                                                                                                   \
    }                                                                                                               \
                                                                                                                    \
    /* Validates labels, weights and soft targets; counts the rows not ignored (K) and the          \
     * divisor of a weighted mean (W); sum_w = Σ_c w[c]. */                                         \
    static int check_targets_##SUF(const int32_t* y, int64_t n, int64_t c, const resolved_options* o, const T* w,  \
                                   const T* q, int64_t* kept, T* wsum_rows, T* sum_w) {                            \
        *sum_w = 0;                                                                                                 \
        if (w) {                                                                                                    \
            for (int64_t j = 0; j < c; ++j) {                                                                       \
                if (!(isfinite(w[j]) && w[j] >= 0)) return BAD_ARGUMENT;                                            \
                *sum_w += w[j];                                                                                     \
            }                                                                                                       \
        } else {                                                                                                    \
            *sum_w = (T)c;                                                                                          \
        }                                                                                                           \
        *kept = 0;                                                                                                  \
        *wsum_rows = 0;                                                                                             \
        if (q) {                                                                                                    \
            for (int64_t i = 0; i < n * c; ++i)                                                                     \
                if (!(isfinite(q[i]) && q[i] >= 0)) return BAD_ARGUMENT;                                            \
            *kept = n;                                                                                              \
            *wsum_rows = (T)n;                                                                                      \
            return 0;                                                                                               \
        }                                                                                                           \
        if (!y) return BAD_ARGUMENT;                                                                                \
        for (int64_t i = 0; i < n; ++i) {                                                                           \
            if (o->has_ignore_index && y[i] == o->ignore_index) continue;                                           \
            if (y[i] < 0 || y[i] >= c) return BAD_LABEL;                                                            \
            ++*kept;                                                                                                \
            *wsum_rows += w ? w[y[i]] : (T)1;                                                                       \
        }                                                                                                           \
        return 0;                                                                                                   \
    }                                                                                                               \
                                                                                                                    \
    static int ignored_##SUF(const int32_t* y, int64_t i, const resolved_options* o) {                              \
        return !o->soft_targets && o->has_ignore_index && y[i] == o->ignore_index;                                  \
    }                                                                                                               \
                                                                                                                    \
    /* The factors of row i's ce and z-loss in Σ_k dloss[k]·loss[k]. */                                             \
    static void factors_##SUF(const resolved_options* o, const T* dloss, int64_t i, int64_t kept, T wsum_rows,      \
                              T* gce, T* gzl) {                                                                     \
        if (o->reduction == GRADPROOF_REDUCTION_NONE) {                                                             \
            *gce = *gzl = dloss[i];                                                                                 \
        } else if (o->reduction == GRADPROOF_REDUCTION_SUM) {                                                       \
            *gce = *gzl = dloss[0];                                                                                 \
        } else {                                                                                                    \
            *gce = dloss[0] / wsum_rows;                                                                            \
            *gzl = dloss[0] / (T)kept;                                                                              \
        }                                                                                                           \
    }                                                                                                               \
                                                                                                                    \
    /* Cross-entropy with options on typed arrays (w, q: the class weights and soft targets). */                    \
    static int ce_ex_##SUF(const T* z, const int32_t* y, int64_t n, int64_t c, const resolved_options* o,          \
                           const T* w, const T* q, const T* dloss, T* loss, T* dz) {                                \
        if (!z || !dloss || !loss || !dz || n <= 0 || c <= 0) return BAD_ARGUMENT;                                  \
        if (c > INT32_MAX || n > INT64_MAX / c) return BAD_ARGUMENT;                                                \
        int64_t kept;                                                                                               \
        T wsum_rows, sum_w;                                                                                         \
        const int rc = check_targets_##SUF(y, n, c, o, w, q, &kept, &wsum_rows, &sum_w);                           \
        if (rc) return rc;                                                                                          \
        for (int64_t i = 0; i < n * c; ++i)                                                                         \
            if (isnan(z[i]) || (isinf(z[i]) && z[i] > 0)) return NON_FINITE;                                        \
        const T eps = (T)o->label_smoothing, s = (T)o->lse_square_scale, cap = (T)o->softcap;                       \
        const int mean = o->reduction == GRADPROOF_REDUCTION_MEAN;                                                  \
        if (mean && kept == 0) { /* every row ignored: 0/0, and nothing depends on the logits */                   \
            loss[0] = (T)NAN;                                                                                       \
            for (int64_t i = 0; i < n * c; ++i) dz[i] = 0;                                                          \
            return 0;                                                                                               \
        }                                                                                                           \
        T ce_total = 0, zl_total = 0;                                                                               \
        for (int64_t i = 0; i < n; ++i) {                                                                           \
            T* g = dz + i * c;                                                                                      \
            if (ignored_##SUF(y, i, o)) {                                                                           \
                for (int64_t j = 0; j < c; ++j) g[j] = 0;                                                           \
                if (o->reduction == GRADPROOF_REDUCTION_NONE) loss[i] = 0;                                          \
                continue;                                                                                           \
            }                                                                                                       \
            T gce, gzl, ce, zl;                                                                                     \
            factors_##SUF(o, dloss, i, kept, wsum_rows, &gce, &gzl);                                                \
            row_##SUF(z + i * c, c, q ? -1 : y[i], q ? q + i * c : NULL, w, sum_w, eps, s, cap, gce, gzl, &ce, &zl, g); \
            if (o->reduction == GRADPROOF_REDUCTION_NONE) loss[i] = ce + zl;                                        \
            ce_total += ce;                                                                                         \
            zl_total += zl;                                                                                         \
        }                                                                                                           \
        if (o->reduction == GRADPROOF_REDUCTION_SUM) loss[0] = ce_total + zl_total;                                 \
        else if (mean) loss[0] = ce_total / wsum_rows + zl_total / (T)kept;                                         \
        return 0;                                                                                                   \
    }                                                                                                               \
                                                                                                                    \
    /* Fused linear cross-entropy: one row of logits at a time (v values of scratch, twice). */                     \
    static int fused_##SUF(const T* H, const T* W, const T* b, const int32_t* y, int64_t n, int64_t d, int64_t v,  \
                           const resolved_options* o, const T* dloss, T* loss, T* dH, T* dW, T* db) {               \
        if (!H || !W || !y || !dloss || !loss || !dH || !dW || n <= 0 || d <= 0 || v <= 0) return BAD_ARGUMENT;     \
        if (b && !db) return BAD_ARGUMENT;                                                                          \
        if (o->soft_targets) return BAD_ARGUMENT; /* hard labels only */                                           \
        if (v > INT32_MAX || n > INT64_MAX / d || v > INT64_MAX / d) return BAD_ARGUMENT;                           \
        const T* w = (const T*)o->class_weights;                                                                    \
        int64_t kept;                                                                                               \
        T wsum_rows, sum_w;                                                                                         \
        const int rc = check_targets_##SUF(y, n, v, o, w, NULL, &kept, &wsum_rows, &sum_w);                         \
        if (rc) return rc;                                                                                          \
        for (int64_t i = 0; i < n * d; ++i)                                                                         \
            if (!isfinite(H[i])) return NON_FINITE;                                                                 \
        for (int64_t i = 0; i < v * d; ++i)                                                                         \
            if (!isfinite(W[i])) return NON_FINITE;                                                                 \
        if (b)                                                                                                      \
            for (int64_t j = 0; j < v; ++j)                                                                         \
                if (!isfinite(b[j])) return NON_FINITE;                                                             \
        T* zrow = malloc(sizeof(T) * (size_t)v);                                                                    \
        T* grow = malloc(sizeof(T) * (size_t)v);                                                                    \
        if (!zrow || !grow) {                                                                                       \
            free(zrow);                                                                                             \
            free(grow);                                                                                             \
            return NO_MEMORY;                                                                                       \
        }                                                                                                           \
        for (int64_t i = 0; i < v * d; ++i) dW[i] = 0;                                                              \
        if (b)                                                                                                      \
            for (int64_t j = 0; j < v; ++j) db[j] = 0;                                                              \
        for (int64_t i = 0; i < n * d; ++i) dH[i] = 0;                                                              \
        const T eps = (T)o->label_smoothing, s = (T)o->lse_square_scale, cap = (T)o->softcap;                       \
        const int mean = o->reduction == GRADPROOF_REDUCTION_MEAN;                                                  \
        int status = 0;                                                                                             \
        T ce_total = 0, zl_total = 0;                                                                               \
        if (mean && kept == 0) {                                                                                    \
            loss[0] = (T)NAN;                                                                                       \
            goto done;                                                                                              \
        }                                                                                                           \
        for (int64_t i = 0; i < n; ++i) {                                                                           \
            if (ignored_##SUF(y, i, o)) {                                                                           \
                if (o->reduction == GRADPROOF_REDUCTION_NONE) loss[i] = 0;                                          \
                continue;                                                                                           \
            }                                                                                                       \
            const T* h = H + i * d;                                                                                 \
            for (int64_t j = 0; j < v; ++j) {                                                                       \
                T acc = b ? b[j] : (T)0;                                                                            \
                for (int64_t k = 0; k < d; ++k) acc += h[k] * W[j * d + k];                                         \
                if (isnan(acc) || (isinf(acc) && acc > 0)) {                                                        \
                    status = NON_FINITE; /* the logits overflowed */                                                \
                    goto done;                                                                                      \
                }                                                                                                   \
                zrow[j] = acc;                                                                                      \
            }                                                                                                       \
            T gce, gzl, ce, zl;                                                                                     \
            factors_##SUF(o, dloss, i, kept, wsum_rows, &gce, &gzl);                                                \
            row_##SUF(zrow, v, y[i], NULL, w, sum_w, eps, s, cap, gce, gzl, &ce, &zl, grow);                        \
            if (o->reduction == GRADPROOF_REDUCTION_NONE) loss[i] = ce + zl;                                        \
            ce_total += ce;                                                                                         \
            zl_total += zl;                                                                                         \
            T* dh = dH + i * d;                                                                                     \
            for (int64_t j = 0; j < v; ++j) {                                                                       \
                const T gj = grow[j];                                                                               \
                if (gj == 0) continue;                                                                              \
                for (int64_t k = 0; k < d; ++k) {                                                                   \
                    dh[k] += gj * W[j * d + k];                                                                     \
                    dW[j * d + k] += gj * h[k];                                                                     \
                }                                                                                                   \
                if (b) db[j] += gj;                                                                                 \
            }                                                                                                       \
        }                                                                                                           \
        if (o->reduction == GRADPROOF_REDUCTION_SUM) loss[0] = ce_total + zl_total;                                 \
        else if (mean) loss[0] = ce_total / wsum_rows + zl_total / (T)kept;                                         \
    done:                                                                                                           \
        free(zrow);                                                                                                 \
        free(grow);                                                                                                 \
        return status;                                                                                              \
    }                                                                                                               \
                                                                                                                    \
    int gradproof_cross_entropy_ex_##SUF(const T* logits, const int32_t* labels, int64_t n, int64_t c,              \
                                         const gradproof_ce_options* options, const T* dloss, T* loss, T* dlogits) { \
        resolved_options o;                                                                                         \
        const int rc = resolve_options(options, &o);                                                                \
        if (rc) return rc;                                                                                          \
        return ce_ex_##SUF(logits, labels, n, c, &o, (const T*)o.class_weights, (const T*)o.soft_targets, dloss,    \
                           loss, dlogits);                                                                          \
    }                                                                                                               \
                                                                                                                    \
    int gradproof_fused_linear_cross_entropy_##SUF(const T* hidden, const T* weight, const T* bias,                 \
                                                   const int32_t* labels, int64_t n, int64_t d, int64_t v,          \
                                                   const gradproof_ce_options* options, const T* dloss, T* loss,    \
                                                   T* dhidden, T* dweight, T* dbias) {                              \
        resolved_options o;                                                                                         \
        const int rc = resolve_options(options, &o);                                                                \
        if (rc) return rc;                                                                                          \
        return fused_##SUF(hidden, weight, bias, labels, n, d, v, &o, dloss, loss, dhidden, dweight, dbias);        \
    }

DEFINE_CE(double, f64, exp, log1p, tanh, cosh)
DEFINE_CE(float, f32, expf, log1pf, tanhf, coshf)

/* bf16 storage: the inputs widened to float (exactly), computed in float, each output rounded
 * once to bf16. */
static float* widen_bf16(const uint16_t* h, int64_t count) {
    float* f = malloc(sizeof(float) * (size_t)(count > 0 ? count : 1));
    if (f)
        for (int64_t i = 0; i < count; ++i) f[i] = bf16_to_float(h[i]);
    return f;
}

int gradproof_cross_entropy_ex_bf16(const uint16_t* logits, const int32_t* labels, int64_t n, int64_t c,
                                    const gradproof_ce_options* options, const uint16_t* dloss, uint16_t* loss,
                                    uint16_t* dlogits) {
    resolved_options o;
    int rc = resolve_options(options, &o);
    if (rc) return rc;
    if (!logits || !dloss || !loss || !dlogits || n <= 0 || c <= 0 || c > INT32_MAX || n > INT64_MAX / c)
        return BAD_ARGUMENT;
    const int64_t nloss = o.reduction == GRADPROOF_REDUCTION_NONE ? n : 1;
    float* z = widen_bf16(logits, n * c);
    float* g = malloc(sizeof(float) * (size_t)(n * c));
    float* dl = widen_bf16(dloss, nloss);
    float* l = malloc(sizeof(float) * (size_t)nloss);
    float* w = o.class_weights ? widen_bf16(o.class_weights, c) : NULL;
    float* q = o.soft_targets ? widen_bf16(o.soft_targets, n * c) : NULL;
    if (!z || !g || !dl || !l || (o.class_weights && !w) || (o.soft_targets && !q)) {
        rc = NO_MEMORY;
    } else {
        rc = ce_ex_f32(z, labels, n, c, &o, w, q, dl, l, g);
        if (rc == 0) {
            for (int64_t i = 0; i < nloss; ++i) loss[i] = float_to_bf16(l[i]);
            for (int64_t i = 0; i < n * c; ++i) dlogits[i] = float_to_bf16(g[i]);
        }
    }
    free(z);
    free(g);
    free(dl);
    free(l);
    free(w);
    free(q);
    return rc;
}
