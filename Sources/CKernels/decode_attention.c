// Attention of one query vector over the cached keys/values of its kv head (decode):
//   s[j] = scale · (q · K[j]),  p = softmax(s),  out = Σ_j p[j] V[j]        j < length
// K[j] and V[j] are `hd` floats at keys + j·stride and values + j·stride. The AVX2 variant keeps
// the query and the output in registers and uses a polynomial exp; variants follow
// ck_quant_simd_level() so tests can force the portable one.
#include "ckernels.h"
#include "avx2_reduce.h"
#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static void attend_c(const float *q, const float *keys, const float *values, size_t stride, size_t length,
                     size_t hd, float scale, float *scores, float *out) {
    float max = -INFINITY;
    for (size_t j = 0; j < length; j++) {
        const float *k = keys + j * stride;
        float s = 0;
        for (size_t i = 0; i < hd; i++) s += q[i] * k[i];
        scores[j] = s * scale;
        if (scores[j] > max) max = scores[j];
    }
    float sum = 0;
    for (size_t j = 0; j < length; j++) {
        scores[j] = expf(scores[j] - max);
        sum += scores[j];
    }
    for (size_t i = 0; i < hd; i++) out[i] = 0;
    for (size_t j = 0; j < length; j++) {
        const float *v = values + j * stride;
        float p = scores[j] / sum;
        for (size_t i = 0; i < hd; i++) out[i] += p * v[i];
    }
}

#if defined(__x86_64__)

// e^x for x ≤ 0 (0 below -87, where it would leave the normal range): x = n·ln2 + r, |r| ≤ ln2/2,
// e^r by its degree-6 Taylor polynomial (relative error < 2e-7), 2^n put into the exponent bits.
__attribute__((target("avx2,fma")))
static inline __m256 exp_nonpositive(__m256 x) {
    __m256 underflow = _mm256_cmp_ps(x, _mm256_set1_ps(-87.0f), _CMP_LT_OQ);
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.0f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145752f), x);  // ln2 split in two for exact n·ln2
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860677e-6f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_andnot_ps(underflow, _mm256_mul_ps(p, _mm256_castsi256_ps(e)));
}

enum { MAX_HD_AVX2 = 256 };

// `lanes` = hd / 8; inlined with a constant for the usual head sizes, so the query and the output
// accumulators live in registers (with a run-time count they would go through the stack).
__attribute__((target("avx2,fma"), always_inline))
static inline void attend_lanes_avx2(size_t lanes, const float *q, const float *keys, const float *values, size_t stride,
                                     size_t length, float scale, float *scores, float *out) {
    __m256 qv[MAX_HD_AVX2 / 8];
    for (size_t i = 0; i < lanes; i++) qv[i] = _mm256_mul_ps(_mm256_loadu_ps(q + 8 * i), _mm256_set1_ps(scale));
    float max = -INFINITY;
    for (size_t j = 0; j < length; j++) {
        const float *k = keys + j * stride;
        _mm_prefetch((const char *)(k + 8 * stride), _MM_HINT_T0);
        __m256 a0 = _mm256_mul_ps(qv[0], _mm256_loadu_ps(k)), a1 = _mm256_setzero_ps();
        for (size_t i = 1; i < lanes; i++) {
            if (i % 2) a1 = _mm256_fmadd_ps(qv[i], _mm256_loadu_ps(k + 8 * i), a1);
            else a0 = _mm256_fmadd_ps(qv[i], _mm256_loadu_ps(k + 8 * i), a0);
        }
        float s = ck_hsum8(_mm256_add_ps(a0, a1));
        scores[j] = s;
        max = s > max ? s : max;
    }
    __m256 vmax = _mm256_set1_ps(max), vsum = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= length; j += 8) {
        __m256 e = exp_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(scores + j), vmax));
        _mm256_storeu_ps(scores + j, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = ck_hsum8(vsum);
    for (; j < length; j++) {
        scores[j] = expf(scores[j] - max);
        sum += scores[j];
    }
    __m256 acc[MAX_HD_AVX2 / 8];
    for (size_t i = 0; i < lanes; i++) acc[i] = _mm256_setzero_ps();
    for (j = 0; j < length; j++) {
        const float *v = values + j * stride;
        _mm_prefetch((const char *)(v + 8 * stride), _MM_HINT_T0);
        __m256 p = _mm256_broadcast_ss(scores + j);
        for (size_t i = 0; i < lanes; i++) acc[i] = _mm256_fmadd_ps(p, _mm256_loadu_ps(v + 8 * i), acc[i]);
    }
    __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (size_t i = 0; i < lanes; i++) _mm256_storeu_ps(out + 8 * i, _mm256_mul_ps(acc[i], inv));
}

__attribute__((target("avx2,fma")))
static void attend_avx2(const float *q, const float *keys, const float *values, size_t stride, size_t length,
                        size_t hd, float scale, float *scores, float *out) {
    switch (hd) {
    case 64: attend_lanes_avx2(8, q, keys, values, stride, length, scale, scores, out); return;
    case 32: attend_lanes_avx2(4, q, keys, values, stride, length, scale, scores, out); return;
    case 8: attend_lanes_avx2(1, q, keys, values, stride, length, scale, scores, out); return;
    default: attend_lanes_avx2(hd / 8, q, keys, values, stride, length, scale, scores, out); return;
    }
}
#endif

void ck_attend_one(const float *q, const float *keys, const float *values, size_t stride, size_t length,
                   size_t hd, float scale, float *scores, float *out) {
    if (length == 0) {
        for (size_t i = 0; i < hd; i++) out[i] = 0;
        return;
    }
#if defined(__x86_64__)
    if (ck_quant_simd_level() >= 1 && hd % 8 == 0 && hd > 0 && hd <= MAX_HD_AVX2) {
        attend_avx2(q, keys, values, stride, length, hd, scale, scores, out);
        return;
    }
#endif
    attend_c(q, keys, values, stride, length, hd, scale, scores, out);
}
