// Distance kernels for the vector index: dot product and squared L2, single pairs, contiguous
// batches [count, dim] and gathered rows (ids into a [N, dim] base). AVX-512 / AVX2+FMA variants
// are chosen once at load time; the portable fallback uses four accumulators.
#include "ckernels.h"
#include "avx2_reduce.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// ---- portable ---------------------------------------------------------------------------------

static float dot_portable(const float *a, const float *b, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static float l2sq_portable(const float *a, const float *b, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
        float d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
        s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
    }
    for (; i < n; i++) { float d = a[i] - b[i]; s0 += d * d; }
    return (s0 + s1) + (s2 + s3);
}

#if defined(__x86_64__)
// ---- AVX2 + FMA --------------------------------------------------------------------------------

__attribute__((target("avx2,fma")))
static float dot_avx2(const float *a, const float *b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8)
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = ck_hsum8(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx2,fma")))
static float l2sq_avx2(const float *a, const float *b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
    }
    float s = ck_hsum8(_mm256_add_ps(s0, s1));
    for (; i < n; i++) { float d = a[i] - b[i]; s += d * d; }
    return s;
}

// ---- AVX-512 (masked tail, so any dimension stays in vector registers) ------------------------

__attribute__((target("avx512f")))
static float dot_avx512(const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i + 16 <= n; i += 16)
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f")))
static float l2sq_avx512(const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; i + 16 <= n; i += 16) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
#endif

// ---- dispatch ----------------------------------------------------------------------------------

static ck_distance_fn dot_impl = dot_portable;
static ck_distance_fn l2sq_impl = l2sq_portable;
static const char *distance_isa = "portable";

__attribute__((constructor))
static void ck_distance_init(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        dot_impl = dot_avx512; l2sq_impl = l2sq_avx512; distance_isa = "avx512";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        dot_impl = dot_avx2; l2sq_impl = l2sq_avx2; distance_isa = "avx2";
    }
#endif
}

const char *ck_distance_isa(void) { return distance_isa; }
ck_distance_fn ck_dot_kernel(void) { return dot_impl; }
ck_distance_fn ck_l2sq_kernel(void) { return l2sq_impl; }
float ck_dot_f32(const float *a, const float *b, size_t n) { return dot_impl(a, b, n); }
float ck_l2sq_f32(const float *a, const float *b, size_t n) { return l2sq_impl(a, b, n); }
float ck_dot_portable_f32(const float *a, const float *b, size_t n) { return dot_portable(a, b, n); }
float ck_l2sq_portable_f32(const float *a, const float *b, size_t n) { return l2sq_portable(a, b, n); }

#define ROW(base, stride, r) ((const float *)((const char *)(base) + (size_t)(r) * (stride)))

void ck_dot_batch_f32(const float *q, const void *base, size_t stride, size_t count, size_t dim, float *out) {
    ck_distance_fn f = dot_impl;
    for (size_t r = 0; r < count; r++) out[r] = f(q, ROW(base, stride, r), dim);
}

void ck_l2sq_batch_f32(const float *q, const void *base, size_t stride, size_t count, size_t dim, float *out) {
    ck_distance_fn f = l2sq_impl;
    for (size_t r = 0; r < count; r++) out[r] = f(q, ROW(base, stride, r), dim);
}

// Rows base[ids[i]] are scattered in memory: start loading the next row while computing this
// one. Only its first lines: the hardware prefetcher follows the sequential rest, and issuing a
// prefetch per line of a long row costs more than it saves (measured on 784-d rows).
static inline void prefetch_row(const float *row, size_t dim) {
    const char *p = (const char *)row;
    __builtin_prefetch(p, 0, 3);
    if (dim * sizeof(float) > 64) __builtin_prefetch(p + 64, 0, 3);
}

static inline void gather(ck_distance_fn f, const float *q, const void *base, size_t stride, size_t dim,
                          const int32_t *ids, size_t n, float *out) {
    if (n > 0) prefetch_row(ROW(base, stride, ids[0]), dim);
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n) prefetch_row(ROW(base, stride, ids[i + 1]), dim);
        out[i] = f(q, ROW(base, stride, ids[i]), dim);
    }
}

void ck_dot_gather_f32(const float *q, const void *base, size_t stride, size_t dim,
                       const int32_t *ids, size_t n, float *out) {
    gather(dot_impl, q, base, stride, dim, ids, n, out);
}

void ck_l2sq_gather_f32(const float *q, const void *base, size_t stride, size_t dim,
                        const int32_t *ids, size_t n, float *out) {
    gather(l2sq_impl, q, base, stride, dim, ids, n, out);
}
