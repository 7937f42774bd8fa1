/* A complete gradproof plug-in (ABI version 2): cross-entropy with options in bf16 storage,
 * computed in float, every output rounded once to nearest-even bf16. Hard labels only: soft
 * targets are declined with GRADPROOF_UNSUPPORTED, which makes gradproof skip those cases.
 *   cc -std=c11 -O2 -shared -fPIC -I include examples/plugins/bf16_cross_entropy.c -o libbf16_ce.so -lm
 *   gradproof check --plugin ./libbf16_ce.so */
#include <gradproof/plugin.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static float from_bf16(uint16_t h) {
    const uint32_t b = (uint32_t)h << 16;
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static uint16_t to_bf16(float f) { /* nearest, ties to even; NaN stays NaN */
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    if (isnan(f)) return (uint16_t)((b >> 16) | 0x40u);
    b += 0x7fffu + ((b >> 16) & 1u);
    return (uint16_t)(b >> 16);
}

/* A field of the caller's options, or its default when the caller's struct ends before it. */
#define OPTION(o, field, absent) \
    ((o)->size >= offsetof(gradproof_ce_options, field) + sizeof((o)->field) ? (o)->field : (absent))

int gradproof_cross_entropy_ex_bf16(const uint16_t* logits, const int32_t* labels, int64_t n, int64_t c,
                                    const gradproof_ce_options* o, const uint16_t* dloss, uint16_t* loss,
                                    uint16_t* dlogits) {
    if (!o || n <= 0 || c <= 0) return 1;
    const int32_t reduction = OPTION(o, reduction, GRADPROOF_REDUCTION_MEAN);
    const int32_t has_ignore = OPTION(o, has_ignore_index, 0), ignore = OPTION(o, ignore_index, -100);
    const float eps = (float)OPTION(o, label_smoothing, 0.0), s = (float)OPTION(o, lse_square_scale, 0.0);
    const float cap = (float)OPTION(o, softcap, 0.0);
    const uint16_t* w = OPTION(o, class_weights, NULL);
    if (OPTION(o, soft_targets, NULL)) return GRADPROOF_UNSUPPORTED;
    if (!labels) return 1;
    if (reduction < 0 || reduction > 2 || !(eps >= 0 && eps <= 1) || !(s >= 0) || !isfinite(s) || !(cap >= 0) ||
        !isfinite(cap))
        return 1;
    for (int64_t i = 0; i < n; ++i)
        if (!(has_ignore && labels[i] == ignore) && (labels[i] < 0 || labels[i] >= c)) return 1;

    float* z = malloc(sizeof(float) * (size_t)c);       /* one row of capped logits */
    float* gce = malloc(sizeof(float) * (size_t)(n * c)); /* ∂ce_i/∂z and ∂zl_i/∂z, before the reduction */
    float* gz = malloc(sizeof(float) * (size_t)(n * c));
    float* row = malloc(sizeof(float) * (size_t)n);
    if (!z || !gce || !gz || !row) {
        free(z), free(gce), free(gz), free(row);
        return 2;
    }
    float wsum = 0;
    for (int64_t j = 0; j < c; ++j) wsum += w ? from_bf16(w[j]) : 1.0f;
    float ce_total = 0, z_total = 0, weight_total = 0;
    int64_t kept = 0;
    int rc = 0;
    for (int64_t i = 0; i < n && rc == 0; ++i) {
        float* a = gce + i * c;
        float* b = gz + i * c;
        if (has_ignore && labels[i] == ignore) {
            row[i] = 0;
            for (int64_t j = 0; j < c; ++j) a[j] = b[j] = 0;
            continue;
        }
        const int32_t y = labels[i];
        float m = -INFINITY;
        for (int64_t j = 0; j < c; ++j) {
            const float x = from_bf16(logits[i * c + j]);
            z[j] = cap > 0 ? cap * tanhf(x / cap) : x;
            m = fmaxf(m, z[j]);
        }
        if (!isfinite(m)) { /* a NaN/+inf row, or every class masked: decline */
            rc = 1;
            break;
        }
        float sum = 0;
        for (int64_t j = 0; j < c; ++j) sum += expf(z[j] - m);
        /* Per-class terms h_j = lse − z_j formed as (m − z_j) + log S: lse − z_j would cancel for
         * large logits (m = 1e18 makes m + log 2 round to m). */
        const float log_s = logf(sum), lse = m + log_s;
        const float wy = w ? from_bf16(w[y]) : 1.0f;
        float smooth = 0;
        for (int64_t j = 0; j < c; ++j) smooth += (w ? from_bf16(w[j]) : 1.0f) * ((m - z[j]) + log_s);
        const float ce = (1 - eps) * wy * ((m - z[y]) + log_s) + eps / (float)c * smooth, zl = s * lse * lse;
        row[i] = ce + zl;
        ce_total += ce;
        z_total += zl;
        weight_total += wy;
        ++kept;
        for (int64_t j = 0; j < c; ++j) {
            const float p = expf(-((m - z[j]) + log_s)), wj = w ? from_bf16(w[j]) : 1.0f;
            a[j] = (1 - eps) * wy * (p - (j == y ? 1.0f : 0.0f)) + eps / (float)c * (wsum * p - wj);
            b[j] = 2 * s * lse * p;
        }
    }
    if (rc == 0) {
        const int mean = reduction == GRADPROOF_REDUCTION_MEAN;
        const float wdiv = mean ? weight_total : 1, kdiv = mean ? (float)kept : 1;
        if (reduction == GRADPROOF_REDUCTION_NONE)
            for (int64_t i = 0; i < n; ++i) loss[i] = to_bf16(row[i]);
        else if (mean && kept == 0)
            loss[0] = to_bf16(NAN); /* every row ignored: 0/0, as PyTorch */
        else
            loss[0] = to_bf16(mean ? ce_total / wdiv + z_total / kdiv : ce_total + z_total);
        for (int64_t i = 0; i < n; ++i) {
            const float up = from_bf16(dloss[reduction == GRADPROOF_REDUCTION_NONE ? i : 0]);
            for (int64_t j = 0; j < c; ++j) {
                float g = 0;
                if (kept > 0) g = up * (gce[i * c + j] / wdiv + gz[i * c + j] / kdiv);
                if (cap > 0) { /* chain rule through cap·tanh(x/cap) */
                    const float t = tanhf(from_bf16(logits[i * c + j]) / cap);
                    g *= 1 - t * t;
                }
                dlogits[i * c + j] = to_bf16(g);
            }
        }
    }
    free(z), free(gce), free(gz), free(row);
    return rc;
}
