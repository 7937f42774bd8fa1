// The floor of bench/tiny_floor.cpp: the loss and gradient of exactly (N, D, C) = (8, 16, 4) in
// the fewest AVX-512 instructions found, as evidence for what issue 5's (8, 16, 4) target asks.
// Compiled alone with AVX-512 flags (bench/CMakeLists.txt) and called only on CPUs that have it;
// it includes no project header, so no inline function of the library is compiled here with
// instructions the portable build may not run.
//
// What it leaves out, so that it is faster than any correct kernel: argument checks, NaN and ±inf
// handling (a row of −inf logits or a NaN feature is not detected), other shapes, and accuracy:
// exp and log are short polynomials (f32: degree 5, ≈ 2⁻²¹ relative; f64: degree 13 and an
// atanh series, ≈ 1e−13), computed in the working type where the library computes float's in
// double. Layout: one 512-bit vector holds 4 rows × 4 classes (float) or 2 × 4 (double);
//   • scores: row i's vector Σ_m perm_m(X_i) ⊙ W_m, W_m = rows 4m..4m+3 of W as stored (float),
//     perm_m(X_i) = X_i,4m+l repeated in lane group l; the four lane groups added by a
//     shuffle-add tree over the tile's rows, which leaves S in dS's row-major layout;
//   • softmax lane-group-wise (max, exp, sum, one division), dS = (p − e_y)/N stored;
//   • gradient: dW_m = reg·W_m + Σ_i perm_m(X_i) ⊙ dS_i (dS_i repeated in every lane group).
// `products_only` replaces exp, log and the division by a multiplication: the two products and
// the data movement alone.
#include <immintrin.h>

#include <cstdint>
#include <initializer_list>

namespace gradproof::bench_floor {

namespace {

// exp(z) for z ≤ 0: z = n·ln 2 + r (Cody–Waite, two constants), a Taylor polynomial in r, × 2ⁿ.
inline __m512 exp_poly(__m512 z) {
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(z, _mm512_set1_ps(1.44269504f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693145752f), z);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(1.42860677e-6f), r);
    __m512 p = _mm512_set1_ps(1.0f / 120);
    for (float c : {1.0f / 24, 1.0f / 6, 0.5f, 1.0f, 1.0f}) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c));
    return _mm512_scalef_ps(p, n);
}

inline __m512d exp_poly(__m512d z) {
    const __m512d n = _mm512_roundscale_pd(_mm512_mul_pd(z, _mm512_set1_pd(1.4426950408889634)),
                                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d r = _mm512_fnmadd_pd(n, _mm512_set1_pd(0.6931471805599453), z);
    r = _mm512_fnmadd_pd(n, _mm512_set1_pd(2.3190468138462996e-17), r);
    __m512d p = _mm512_set1_pd(1.0 / 6227020800.0);
    for (double c : {1.0 / 479001600, 1.0 / 39916800, 1.0 / 3628800, 1.0 / 362880, 1.0 / 40320, 1.0 / 5040,
                     1.0 / 720, 1.0 / 120, 1.0 / 24, 1.0 / 6, 0.5, 1.0, 1.0})
        p = _mm512_fmadd_pd(p, r, _mm512_set1_pd(c));
    return _mm512_scalef_pd(p, n);
}

// log(s) for s ≥ 1: s = 2^e·m, m ∈ [1, 2), log m = 2·atanh((m − 1)/(m + 1)) by its series.
inline __m512 log_poly(__m512 s) {
    const __m512 m = _mm512_getmant_ps(s, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    const __m512 t = _mm512_div_ps(_mm512_sub_ps(m, _mm512_set1_ps(1)), _mm512_add_ps(m, _mm512_set1_ps(1)));
    const __m512 t2 = _mm512_mul_ps(t, t);
    __m512 p = _mm512_set1_ps(2.0f / 7);
    for (float c : {2.0f / 5, 2.0f / 3, 2.0f}) p = _mm512_fmadd_ps(p, t2, _mm512_set1_ps(c));
    return _mm512_fmadd_ps(_mm512_getexp_ps(s), _mm512_set1_ps(0.693147181f), _mm512_mul_ps(p, t));
}

inline __m512d log_poly(__m512d s) {
    const __m512d m = _mm512_getmant_pd(s, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_src);
    const __m512d t = _mm512_div_pd(_mm512_sub_pd(m, _mm512_set1_pd(1)), _mm512_add_pd(m, _mm512_set1_pd(1)));
    const __m512d t2 = _mm512_mul_pd(t, t);
    __m512d p = _mm512_set1_pd(2.0 / 19);
    for (int k = 17; k >= 1; k -= 2) p = _mm512_fmadd_pd(p, t2, _mm512_set1_pd(2.0 / k));
    return _mm512_fmadd_pd(_mm512_getexp_pd(s), _mm512_set1_pd(0.6931471805599453), _mm512_mul_pd(p, t));
}

// Within each lane group of 4 classes: the maximum or the sum, in every lane of the group.
inline __m512 group_max(__m512 v) {
    v = _mm512_max_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm512_max_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
}
inline __m512 group_sum(__m512 v) {
    v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
}
inline __m512d group_max(__m512d v) {
    v = _mm512_max_pd(v, _mm512_permutex_pd(v, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm512_max_pd(v, _mm512_permutex_pd(v, _MM_SHUFFLE(2, 3, 0, 1)));
}
inline __m512d group_sum(__m512d v) {
    v = _mm512_add_pd(v, _mm512_permutex_pd(v, _MM_SHUFFLE(1, 0, 3, 2)));
    return _mm512_add_pd(v, _mm512_permutex_pd(v, _MM_SHUFFLE(2, 3, 0, 1)));
}

// p = e/s, or e·s in the products-only variant (same data flow, no division).
template <bool ProductsOnly>
__m512 normalise(__m512 e, __m512 s) {
    return ProductsOnly ? _mm512_mul_ps(e, s) : _mm512_div_ps(e, s);
}
template <bool ProductsOnly>
__m512d normalise(__m512d e, __m512d s) {
    return ProductsOnly ? _mm512_mul_pd(e, s) : _mm512_div_pd(e, s);
}

template <bool ProductsOnly>
float floor_f32(const float* X, const float* W, const std::int32_t* y, float reg, float* dS, float* dW) {
    __m512i idx[4];  // perm_m: lane group l holds element 4m + l of the row
    for (int m = 0; m < 4; ++m) idx[m] = _mm512_add_epi32(_mm512_set1_epi32(4 * m), _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3));
    __m512 x[8], w[4];
    for (int i = 0; i < 8; ++i) x[i] = _mm512_loadu_ps(X + 16 * i);
    for (int m = 0; m < 4; ++m) w[m] = _mm512_loadu_ps(W + 16 * m);
    __m512 part[8];
    for (int i = 0; i < 8; ++i) {
        __m512 a = _mm512_mul_ps(_mm512_permutexvar_ps(idx[0], x[i]), w[0]);
        __m512 b = _mm512_mul_ps(_mm512_permutexvar_ps(idx[1], x[i]), w[1]);
        a = _mm512_fmadd_ps(_mm512_permutexvar_ps(idx[2], x[i]), w[2], a);
        b = _mm512_fmadd_ps(_mm512_permutexvar_ps(idx[3], x[i]), w[3], b);
        part[i] = _mm512_add_ps(a, b);
    }
    const __m512i lane_class = _mm512_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
    const __m512i group_row = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
    const __m512i labels = _mm512_zextsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(y)));
    __m512 loss = _mm512_setzero_ps(), ds[2];
    for (int h = 0; h < 2; ++h) {
        const __m512* p = part + 4 * h;
        auto pair = [](__m512 a, __m512 b) {
            return _mm512_add_ps(_mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_f32x4(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
        };
        const __m512 s = pair(pair(p[0], p[1]), pair(p[2], p[3]));  // rows 4h..4h+3, row-major
        const __mmask16 hot = _mm512_cmpeq_epi32_mask(
            _mm512_permutexvar_epi32(_mm512_add_epi32(group_row, _mm512_set1_epi32(4 * h)), labels), lane_class);
        const __m512 z = _mm512_sub_ps(s, group_max(s));
        const __m512 e = ProductsOnly ? z : exp_poly(z);
        const __m512 sum = group_sum(e);
        const __m512 prob = normalise<ProductsOnly>(e, sum);
        ds[h] = _mm512_mul_ps(_mm512_mask_sub_ps(prob, hot, prob, _mm512_set1_ps(1)), _mm512_set1_ps(1.0f / 8));
        _mm512_storeu_ps(dS + 16 * h, ds[h]);
        loss = _mm512_mask_add_ps(loss, 0x1111, loss, ProductsOnly ? sum : log_poly(sum));  // ℓ = log Σ − z_y
        loss = _mm512_mask_sub_ps(loss, hot, loss, z);
    }
    // dS row i repeated in every lane group (the shuffle's selector must be a literal: at -O1/-O2
    // a loop index is not folded into one).
    __m512 ds_row[8];
    for (int h = 0; h < 2; ++h) {
        ds_row[4 * h] = _mm512_shuffle_f32x4(ds[h], ds[h], 0x00);
        ds_row[4 * h + 1] = _mm512_shuffle_f32x4(ds[h], ds[h], 0x55);
        ds_row[4 * h + 2] = _mm512_shuffle_f32x4(ds[h], ds[h], 0xAA);
        ds_row[4 * h + 3] = _mm512_shuffle_f32x4(ds[h], ds[h], 0xFF);
    }
    __m512 g[4], sumsq = _mm512_setzero_ps();
    for (int m = 0; m < 4; ++m) g[m] = _mm512_mul_ps(w[m], _mm512_set1_ps(reg));
    for (int i = 0; i < 8; ++i)
        for (int m = 0; m < 4; ++m) g[m] = _mm512_fmadd_ps(_mm512_permutexvar_ps(idx[m], x[i]), ds_row[i], g[m]);
    for (int m = 0; m < 4; ++m) {
        _mm512_storeu_ps(dW + 16 * m, g[m]);
        sumsq = _mm512_fmadd_ps(w[m], w[m], sumsq);
    }
    return _mm512_reduce_add_ps(loss) / 8 + 0.5f * reg * _mm512_reduce_add_ps(sumsq);
}

template <bool ProductsOnly>
double floor_f64(const double* X, const double* W, const std::int32_t* y, double reg, double* dS, double* dW) {
    __m512i idx[4];  // within one vector of 8 features: group 0 holds feature 2q, group 1 feature 2q + 1
    for (int q = 0; q < 4; ++q) idx[q] = _mm512_add_epi64(_mm512_set1_epi64(2 * q), _mm512_setr_epi64(0, 0, 0, 0, 1, 1, 1, 1));
    __m512d x[8][2], w[8];
    for (int i = 0; i < 8; ++i)
        for (int v = 0; v < 2; ++v) x[i][v] = _mm512_loadu_pd(X + 16 * i + 8 * v);
    for (int m = 0; m < 8; ++m) w[m] = _mm512_loadu_pd(W + 8 * m);  // rows 2m, 2m + 1
    auto perm = [&](int i, int m) { return _mm512_permutexvar_pd(idx[m % 4], x[i][m / 4]); };
    __m512d part[8];
    for (int i = 0; i < 8; ++i) {
        __m512d a = _mm512_mul_pd(perm(i, 0), w[0]), b = _mm512_mul_pd(perm(i, 1), w[1]);
        for (int m = 2; m < 8; m += 2) {
            a = _mm512_fmadd_pd(perm(i, m), w[m], a);
            b = _mm512_fmadd_pd(perm(i, m + 1), w[m + 1], b);
        }
        part[i] = _mm512_add_pd(a, b);
    }
    const __m512i lane_class = _mm512_setr_epi64(0, 1, 2, 3, 0, 1, 2, 3);
    __m512d loss = _mm512_setzero_pd(), ds[4];
    for (int h = 0; h < 4; ++h) {
        const __m512d a = part[2 * h], b = part[2 * h + 1];
        const __m512d s = _mm512_add_pd(_mm512_shuffle_f64x2(a, b, _MM_SHUFFLE(1, 0, 1, 0)),
                                        _mm512_shuffle_f64x2(a, b, _MM_SHUFFLE(3, 2, 3, 2)));  // rows 2h, 2h + 1
        const __m512i yh = _mm512_inserti64x4(_mm512_set1_epi64(y[2 * h]), _mm256_set1_epi64x(y[2 * h + 1]), 1);
        const __mmask8 hot = _mm512_cmpeq_epi64_mask(yh, lane_class);
        const __m512d z = _mm512_sub_pd(s, group_max(s));
        const __m512d e = ProductsOnly ? z : exp_poly(z);
        const __m512d sum = group_sum(e);
        const __m512d prob = normalise<ProductsOnly>(e, sum);
        ds[h] = _mm512_mul_pd(_mm512_mask_sub_pd(prob, hot, prob, _mm512_set1_pd(1)), _mm512_set1_pd(1.0 / 8));
        _mm512_storeu_pd(dS + 8 * h, ds[h]);
        loss = _mm512_mask_add_pd(loss, 0x11, loss, ProductsOnly ? sum : log_poly(sum));
        loss = _mm512_mask_sub_pd(loss, hot, loss, z);
    }
    __m512d ds_row[8];
    for (int h = 0; h < 4; ++h) {
        ds_row[2 * h] = _mm512_shuffle_f64x2(ds[h], ds[h], 0x44);
        ds_row[2 * h + 1] = _mm512_shuffle_f64x2(ds[h], ds[h], 0xEE);
    }
    __m512d g[8], sumsq = _mm512_setzero_pd();
    for (int m = 0; m < 8; ++m) g[m] = _mm512_mul_pd(w[m], _mm512_set1_pd(reg));
    for (int i = 0; i < 8; ++i)
        for (int m = 0; m < 8; ++m) g[m] = _mm512_fmadd_pd(perm(i, m), ds_row[i], g[m]);
    for (int m = 0; m < 8; ++m) {
        _mm512_storeu_pd(dW + 8 * m, g[m]);
        sumsq = _mm512_fmadd_pd(w[m], w[m], sumsq);
    }
    return _mm512_reduce_add_pd(loss) / 8 + 0.5 * reg * _mm512_reduce_add_pd(sumsq);
}

}  // namespace

// Out of line, so that a benchmark loop times whole calls (as it does the library's).
[[gnu::noinline]] float floor_loss(const float* X, const float* W, const std::int32_t* y, float reg, float* dS,
                                   float* dW, bool products_only) {
    return products_only ? floor_f32<true>(X, W, y, reg, dS, dW) : floor_f32<false>(X, W, y, reg, dS, dW);
}

[[gnu::noinline]] double floor_loss(const double* X, const double* W, const std::int32_t* y, double reg, double* dS,
                                    double* dW, bool products_only) {
    return products_only ? floor_f64<true>(X, W, y, reg, dS, dW) : floor_f64<false>(X, W, y, reg, dS, dW);
}

}  // namespace gradproof::bench_floor
