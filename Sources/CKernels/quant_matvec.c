// Matrix-vector products straight from Q8_0 / Q4_1 blocks, activations in Float32.
//
// Per 32-value block: Q8_0 gives d * sum(q[j] * x[j]); Q4_1 gives d * sum(nibble[j] * x[j]) + m *
// sum(x[j]), where sum(x) over each block is computed once per call (xsum). The integer codes are
// widened to floats in registers, so only the packed blocks are read from memory.
// Variants: AVX-512F (16 lanes), AVX2+FMA+F16C (8 lanes), portable C; picked at run time.
#include "ckernels.h"
#include "half.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { QK = 32, Q8_0_BYTES = 34, Q4_1_BYTES = 20 };

static inline uint16_t u16_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

void ck_block_sums32(const float *x, size_t cols, float *xsum) {
    for (size_t b = 0; b < cols / QK; b++) {
        float s = 0;
        for (int j = 0; j < QK; j++) s += x[b * QK + j];
        xsum[b] = s;
    }
}

// ---- portable ----

static void q8_0_rows_c(const uint8_t *w, size_t cols, const float *x, float *y, size_t r0, size_t r1) {
    size_t nb = cols / QK;
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *blk = w + r * nb * Q8_0_BYTES;
        float sum = 0;
        for (size_t b = 0; b < nb; b++, blk += Q8_0_BYTES) {
            const int8_t *q = (const int8_t *)(blk + 2);
            const float *xb = x + b * QK;
            float p = 0;
            for (int j = 0; j < QK; j++) p += (float)q[j] * xb[j];
            sum += ck_half_to_float(u16_at(blk)) * p;
        }
        y[r] = sum;
    }
}

static void q4_1_rows_c(const uint8_t *w, size_t cols, const float *x, const float *xsum, float *y,
                        size_t r0, size_t r1) {
    size_t nb = cols / QK;
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *blk = w + r * nb * Q4_1_BYTES;
        float sum = 0;
        for (size_t b = 0; b < nb; b++, blk += Q4_1_BYTES) {
            const uint8_t *q = blk + 4;
            const float *xb = x + b * QK;
            float p = 0;
            for (int j = 0; j < 16; j++) p += (float)(q[j] & 0x0F) * xb[j] + (float)(q[j] >> 4) * xb[j + 16];
            sum += ck_half_to_float(u16_at(blk)) * p + ck_half_to_float(u16_at(blk + 2)) * xsum[b];
        }
        y[r] = sum;
    }
}

#if defined(__x86_64__)

// ---- AVX2 + FMA + F16C: 8 lanes, 4 vectors per block ----

__attribute__((target("avx2,fma,f16c")))
static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma,f16c")))
static void q8_0_rows_avx2(const uint8_t *w, size_t cols, const float *x, float *y, size_t r0, size_t r1) {
    size_t nb = cols / QK;
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *blk = w + r * nb * Q8_0_BYTES;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++, blk += Q8_0_BYTES) {
            const float *xb = x + b * QK;
            __m128i qa = _mm_loadu_si128((const __m128i *)(blk + 2));
            __m128i qb = _mm_loadu_si128((const __m128i *)(blk + 18));
            __m256 q0 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(qa));
            __m256 q1 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(qa, 8)));
            __m256 q2 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(qb));
            __m256 q3 = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(qb, 8)));
            __m256 p = _mm256_mul_ps(q0, _mm256_loadu_ps(xb));
            p = _mm256_fmadd_ps(q1, _mm256_loadu_ps(xb + 8), p);
            __m256 p2 = _mm256_mul_ps(q2, _mm256_loadu_ps(xb + 16));
            p2 = _mm256_fmadd_ps(q3, _mm256_loadu_ps(xb + 24), p2);
            __m256 d = _mm256_set1_ps(_cvtsh_ss(u16_at(blk)));
            acc0 = _mm256_fmadd_ps(d, p, acc0);
            acc1 = _mm256_fmadd_ps(d, p2, acc1);
        }
        y[r] = hsum256(_mm256_add_ps(acc0, acc1));
    }
}

__attribute__((target("avx2,fma,f16c")))
static void q4_1_rows_avx2(const uint8_t *w, size_t cols, const float *x, const float *xsum, float *y,
                           size_t r0, size_t r1) {
    size_t nb = cols / QK;
    const __m128i low4 = _mm_set1_epi8(0x0F);
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *blk = w + r * nb * Q4_1_BYTES;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        float msum = 0;
        for (size_t b = 0; b < nb; b++, blk += Q4_1_BYTES) {
            const float *xb = x + b * QK;
            __m128i q = _mm_loadu_si128((const __m128i *)(blk + 4));
            __m128i lo = _mm_and_si128(q, low4);                     // elements 0..15
            __m128i hi = _mm_and_si128(_mm_srli_epi16(q, 4), low4);  // elements 16..31
            __m256 q0 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(lo));
            __m256 q1 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)));
            __m256 q2 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(hi));
            __m256 q3 = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8)));
            __m256 p = _mm256_mul_ps(q0, _mm256_loadu_ps(xb));
            p = _mm256_fmadd_ps(q1, _mm256_loadu_ps(xb + 8), p);
            __m256 p2 = _mm256_mul_ps(q2, _mm256_loadu_ps(xb + 16));
            p2 = _mm256_fmadd_ps(q3, _mm256_loadu_ps(xb + 24), p2);
            __m256 d = _mm256_set1_ps(_cvtsh_ss(u16_at(blk)));
            acc0 = _mm256_fmadd_ps(d, p, acc0);
            acc1 = _mm256_fmadd_ps(d, p2, acc1);
            msum += _cvtsh_ss(u16_at(blk + 2)) * xsum[b];
        }
        y[r] = hsum256(_mm256_add_ps(acc0, acc1)) + msum;
    }
}

// ---- AVX-512F: 16 lanes, 2 vectors per block, two blocks in flight ----

__attribute__((target("avx512f,avx2,fma,f16c")))
static void q8_0_rows_avx512(const uint8_t *w, size_t cols, const float *x, float *y, size_t r0, size_t r1) {
    size_t nb = cols / QK;
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *blk = w + r * nb * Q8_0_BYTES;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        for (size_t b = 0; b < nb; b++, blk += Q8_0_BYTES) {
            const float *xb = x + b * QK;
            __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk + 2))));
            __m512 q1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(blk + 18))));
            __m512 d = _mm512_set1_ps(_cvtsh_ss(u16_at(blk)));
            acc0 = _mm512_fmadd_ps(_mm512_mul_ps(d, q0), _mm512_loadu_ps(xb), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_mul_ps(d, q1), _mm512_loadu_ps(xb + 16), acc1);
        }
        y[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    }
}

__attribute__((target("avx512f,avx2,fma,f16c")))
static void q4_1_rows_avx512(const uint8_t *w, size_t cols, const float *x, const float *xsum, float *y,
                             size_t r0, size_t r1) {
    size_t nb = cols / QK;
    const __m128i low4 = _mm_set1_epi8(0x0F);
    for (size_t r = r0; r < r1; r++) {
        const uint8_t *blk = w + r * nb * Q4_1_BYTES;
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
        float msum = 0;
        for (size_t b = 0; b < nb; b++, blk += Q4_1_BYTES) {
            const float *xb = x + b * QK;
            __m128i q = _mm_loadu_si128((const __m128i *)(blk + 4));
            __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(q, low4)));
            __m512 q1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_and_si128(_mm_srli_epi16(q, 4), low4)));
            __m512 d = _mm512_set1_ps(_cvtsh_ss(u16_at(blk)));
            acc0 = _mm512_fmadd_ps(_mm512_mul_ps(d, q0), _mm512_loadu_ps(xb), acc0);
            acc1 = _mm512_fmadd_ps(_mm512_mul_ps(d, q1), _mm512_loadu_ps(xb + 16), acc1);
            msum += _cvtsh_ss(u16_at(blk + 2)) * xsum[b];
        }
        y[r] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + msum;
    }
}

static int detected_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("f16c")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) return 1;
    return 0;
}
#else
static int detected_level(void) { return 0; }
#endif

static int chosen_level = -1;

static int simd_level(void) {
    int level = __atomic_load_n(&chosen_level, __ATOMIC_RELAXED);
    if (level < 0) {
        level = detected_level();
        __atomic_store_n(&chosen_level, level, __ATOMIC_RELAXED);
    }
    return level;
}

int ck_quant_simd_level(void) { return simd_level(); }

int ck_quant_set_simd_level(int level) {
    int best = detected_level();
    int chosen = level < 0 || level > best ? best : level;
    __atomic_store_n(&chosen_level, chosen, __ATOMIC_RELAXED);
    return chosen;
}
void ck_q8_0_matvec(const uint8_t *w, size_t cols, const float *x, float *y, size_t r0, size_t r1) {
#if defined(__x86_64__)
    switch (simd_level()) {
    case 2: q8_0_rows_avx512(w, cols, x, y, r0, r1); return;
    case 1: q8_0_rows_avx2(w, cols, x, y, r0, r1); return;
    default: break;
    }
#endif
    q8_0_rows_c(w, cols, x, y, r0, r1);
}

void ck_q4_1_matvec(const uint8_t *w, size_t cols, const float *x, const float *xsum,
                    float *y, size_t r0, size_t r1) {
#if defined(__x86_64__)
    switch (simd_level()) {
    case 2: q4_1_rows_avx512(w, cols, x, xsum, y, r0, r1); return;
    case 1: q4_1_rows_avx2(w, cols, x, xsum, y, r0, r1); return;
    default: break;
    }
#endif
    q4_1_rows_c(w, cols, x, xsum, y, r0, r1);
}
