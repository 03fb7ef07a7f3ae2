// Matrix-vector products straight from Q8_0 / Q4_1 blocks, activations in Float32.
//
// Per 32-value block: Q8_0 gives d * sum(q[j] * x[j]); Q4_1 gives d * sum(nibble[j] * x[j]) + m *
// sum(x[j]), where sum(x) over each block is computed once per call (xsum). The integer codes are
// widened to floats in registers, so only the packed blocks are read from memory.
// Variants: AVX-512F (16 lanes) and AVX2+FMA+F16C (8 lanes), both 4 rows per pass with software prefetch;
// portable C; picked at run time.
#include "ckernels.h"
#include "avx2_reduce.h"
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

// 8 codes at p widened to 8 floats (the byte load folds into vpmovsxbd / vpmovzxbd).
#define I8X8_TO_PS(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(p))))
#define U8X8_EPI32(p) _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p)))

// Rows go in groups of 4 so each x vector loaded feeds 4 rows; the scales of the 4 rows' blocks
// are widened together: 4 × [d, m] halves -> one vcvtph2ps -> [d0 m0 d1 m1 d2 m2 d3 m3].

// The [d, m] (or [d, -]) half pairs of block b of 4 rows as 8 floats.
__attribute__((target("avx2,fma,f16c")))
static inline __m256 scales4(const uint8_t *const row[4], size_t offset) {
    uint32_t s0, s1, s2, s3;
    memcpy(&s0, row[0] + offset, 4);
    memcpy(&s1, row[1] + offset, 4);
    memcpy(&s2, row[2] + offset, 4);
    memcpy(&s3, row[3] + offset, 4);
    return _mm256_cvtph_ps(_mm_set_epi32((int)s3, (int)s2, (int)s1, (int)s0));
}

#ifndef PREFETCH_ROWS
#define PREFETCH_ROWS 4  // prefetch the same block of the next group of 4 rows
#endif
#define LANE(v, i) _mm256_permutevar8x32_ps((v), _mm256_set1_epi32(i))

__attribute__((target("avx2,fma,f16c")))
static inline __m256 q8_0_block_dot(const uint8_t *q, __m256 x0, __m256 x1, __m256 x2, __m256 x3) {
    __m256 p = _mm256_mul_ps(I8X8_TO_PS(q), x0);
    p = _mm256_fmadd_ps(I8X8_TO_PS(q + 8), x1, p);
    p = _mm256_fmadd_ps(I8X8_TO_PS(q + 16), x2, p);
    return _mm256_fmadd_ps(I8X8_TO_PS(q + 24), x3, p);
}

__attribute__((target("avx2,fma,f16c")))
static void q8_0_rows_avx2(const uint8_t *w, size_t cols, const float *x, float *y, size_t r0, size_t r1) {
    size_t nb = cols / QK, stride = nb * Q8_0_BYTES;
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint8_t *row[4] = {w + r * stride, w + (r + 1) * stride, w + (r + 2) * stride, w + (r + 3) * stride};
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++) {
            const float *xb = x + b * QK;
            __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8);
            __m256 x2 = _mm256_loadu_ps(xb + 16), x3 = _mm256_loadu_ps(xb + 24);
            size_t o = b * Q8_0_BYTES;
            for (int i = 0; i < 4; i++) _mm_prefetch((const char *)row[i] + o + PREFETCH_ROWS * stride, _MM_HINT_T0);
            __m256 d = scales4(row, o);  // [d0 q q d1 q q ...]: only lanes 0, 2, 4, 6 matter
            acc0 = _mm256_fmadd_ps(LANE(d, 0), q8_0_block_dot(row[0] + o + 2, x0, x1, x2, x3), acc0);
            acc1 = _mm256_fmadd_ps(LANE(d, 2), q8_0_block_dot(row[1] + o + 2, x0, x1, x2, x3), acc1);
            acc2 = _mm256_fmadd_ps(LANE(d, 4), q8_0_block_dot(row[2] + o + 2, x0, x1, x2, x3), acc2);
            acc3 = _mm256_fmadd_ps(LANE(d, 6), q8_0_block_dot(row[3] + o + 2, x0, x1, x2, x3), acc3);
        }
        y[r] = ck_hsum8(acc0);
        y[r + 1] = ck_hsum8(acc1);
        y[r + 2] = ck_hsum8(acc2);
        y[r + 3] = ck_hsum8(acc3);
    }
    for (; r < r1; r++) {
        const uint8_t *blk = w + r * stride;
        __m256 acc = _mm256_setzero_ps();
        for (size_t b = 0; b < nb; b++, blk += Q8_0_BYTES) {
            const float *xb = x + b * QK;
            __m256 p = q8_0_block_dot(blk + 2, _mm256_loadu_ps(xb), _mm256_loadu_ps(xb + 8),
                                      _mm256_loadu_ps(xb + 16), _mm256_loadu_ps(xb + 24));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(u16_at(blk))), p, acc);
        }
        y[r] = ck_hsum8(acc);
    }
}

// sum(nibble[j] * x[j]) over one Q4_1 / Q4_0 block's 16 code bytes at q.
__attribute__((target("avx2,fma,f16c")))
static inline __m256 nibble_block_dot(const uint8_t *q, __m256 x0, __m256 x1, __m256 x2, __m256 x3) {
    const __m256i low4 = _mm256_set1_epi32(0x0F);
    // bytes 0-7 hold elements 0-7 (low nibbles) and 16-23 (high); bytes 8-15: 8-15 and 24-31
    __m256i qa = U8X8_EPI32(q), qb = U8X8_EPI32(q + 8);
    __m256 p = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_and_si256(qa, low4)), x0);
    p = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(qb, low4)), x1, p);
    p = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(qa, 4)), x2, p);
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(qb, 4)), x3, p);
}

__attribute__((target("avx2,fma,f16c")))
static void q4_1_rows_avx2(const uint8_t *w, size_t cols, const float *x, const float *xsum, float *y,
                           size_t r0, size_t r1) {
    size_t nb = cols / QK, stride = nb * Q4_1_BYTES;
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint8_t *row[4] = {w + r * stride, w + (r + 1) * stride, w + (r + 2) * stride, w + (r + 3) * stride};
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
        __m256 macc = _mm256_setzero_ps();  // lanes 1, 3, 5, 7: sum of m * xsum of each row
        for (size_t b = 0; b < nb; b++) {
            const float *xb = x + b * QK;
            __m256 x0 = _mm256_loadu_ps(xb), x1 = _mm256_loadu_ps(xb + 8);
            __m256 x2 = _mm256_loadu_ps(xb + 16), x3 = _mm256_loadu_ps(xb + 24);
            size_t o = b * Q4_1_BYTES;
            for (int i = 0; i < 4; i++) _mm_prefetch((const char *)row[i] + o + PREFETCH_ROWS * stride, _MM_HINT_T0);
            __m256 dm = scales4(row, o);  // [d0 m0 d1 m1 d2 m2 d3 m3]
            acc0 = _mm256_fmadd_ps(LANE(dm, 0), nibble_block_dot(row[0] + o + 4, x0, x1, x2, x3), acc0);
            acc1 = _mm256_fmadd_ps(LANE(dm, 2), nibble_block_dot(row[1] + o + 4, x0, x1, x2, x3), acc1);
            acc2 = _mm256_fmadd_ps(LANE(dm, 4), nibble_block_dot(row[2] + o + 4, x0, x1, x2, x3), acc2);
            acc3 = _mm256_fmadd_ps(LANE(dm, 6), nibble_block_dot(row[3] + o + 4, x0, x1, x2, x3), acc3);
            macc = _mm256_fmadd_ps(dm, _mm256_broadcast_ss(xsum + b), macc);
        }
        float m[8];
        _mm256_storeu_ps(m, macc);
        y[r] = ck_hsum8(acc0) + m[1];
        y[r + 1] = ck_hsum8(acc1) + m[3];
        y[r + 2] = ck_hsum8(acc2) + m[5];
        y[r + 3] = ck_hsum8(acc3) + m[7];
    }
    for (; r < r1; r++) {
        const uint8_t *blk = w + r * stride;
        __m256 acc = _mm256_setzero_ps();
        float msum = 0;
        for (size_t b = 0; b < nb; b++, blk += Q4_1_BYTES) {
            const float *xb = x + b * QK;
            __m256 p = nibble_block_dot(blk + 4, _mm256_loadu_ps(xb), _mm256_loadu_ps(xb + 8),
                                        _mm256_loadu_ps(xb + 16), _mm256_loadu_ps(xb + 24));
            acc = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(u16_at(blk))), p, acc);
            msum += _cvtsh_ss(u16_at(blk + 2)) * xsum[b];
        }
        y[r] = ck_hsum8(acc) + msum;
    }
}

// ---- AVX-512F: 16 lanes, 2 vectors per block, 4 rows per pass (as AVX2) ----

#define AVX512_TARGET __attribute__((target("avx512f,avx2,fma,f16c")))

// sum(q[j] * x[j]) over one Q8_0 block's 32 codes at q, x in two 16-lane halves.
AVX512_TARGET
static inline __m512 q8_0_block_dot16(const uint8_t *q, __m512 x0, __m512 x1) {
    __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)q))), x0);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(q + 16)))), x1, p);
}

// sum(nibble[j] * x[j]) over one Q4_1 block's 16 code bytes at q (byte j: element j low, j + 16 high).
AVX512_TARGET
static inline __m512 nibble_block_dot16(const uint8_t *q, __m512 x0, __m512 x1) {
    __m512i codes = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)q));
    __m512 p = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_and_si512(codes, _mm512_set1_epi32(0x0F))), x0);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(codes, 4)), x1, p);
}

// Lane i of v in all 16 lanes.
#define LANE16(v, i) _mm512_broadcastss_ps(_mm256_castps256_ps128(LANE((v), (i))))

AVX512_TARGET
static void q8_0_rows_avx512(const uint8_t *w, size_t cols, const float *x, float *y, size_t r0, size_t r1) {
    size_t nb = cols / QK, stride = nb * Q8_0_BYTES;
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint8_t *row[4] = {w + r * stride, w + (r + 1) * stride, w + (r + 2) * stride, w + (r + 3) * stride};
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        for (size_t b = 0; b < nb; b++) {
            const float *xb = x + b * QK;
            __m512 x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
            size_t o = b * Q8_0_BYTES;
            for (int i = 0; i < 4; i++) _mm_prefetch((const char *)row[i] + o + PREFETCH_ROWS * stride, _MM_HINT_T0);
            __m256 d = scales4(row, o);  // [d0 q q d1 q q ...]: only lanes 0, 2, 4, 6 matter
            acc0 = _mm512_fmadd_ps(LANE16(d, 0), q8_0_block_dot16(row[0] + o + 2, x0, x1), acc0);
            acc1 = _mm512_fmadd_ps(LANE16(d, 2), q8_0_block_dot16(row[1] + o + 2, x0, x1), acc1);
            acc2 = _mm512_fmadd_ps(LANE16(d, 4), q8_0_block_dot16(row[2] + o + 2, x0, x1), acc2);
            acc3 = _mm512_fmadd_ps(LANE16(d, 6), q8_0_block_dot16(row[3] + o + 2, x0, x1), acc3);
        }
        y[r] = _mm512_reduce_add_ps(acc0);
        y[r + 1] = _mm512_reduce_add_ps(acc1);
        y[r + 2] = _mm512_reduce_add_ps(acc2);
        y[r + 3] = _mm512_reduce_add_ps(acc3);
    }
    for (; r < r1; r++) {
        const uint8_t *blk = w + r * stride;
        __m512 acc = _mm512_setzero_ps();
        for (size_t b = 0; b < nb; b++, blk += Q8_0_BYTES) {
            const float *xb = x + b * QK;
            __m512 p = q8_0_block_dot16(blk + 2, _mm512_loadu_ps(xb), _mm512_loadu_ps(xb + 16));
            acc = _mm512_fmadd_ps(_mm512_set1_ps(_cvtsh_ss(u16_at(blk))), p, acc);
        }
        y[r] = _mm512_reduce_add_ps(acc);
    }
}

AVX512_TARGET
static void q4_1_rows_avx512(const uint8_t *w, size_t cols, const float *x, const float *xsum, float *y,
                             size_t r0, size_t r1) {
    size_t nb = cols / QK, stride = nb * Q4_1_BYTES;
    size_t r = r0;
    for (; r + 4 <= r1; r += 4) {
        const uint8_t *row[4] = {w + r * stride, w + (r + 1) * stride, w + (r + 2) * stride, w + (r + 3) * stride};
        __m512 acc0 = _mm512_setzero_ps(), acc1 = acc0, acc2 = acc0, acc3 = acc0;
        __m256 macc = _mm256_setzero_ps();  // lanes 1, 3, 5, 7: sum of m * xsum of each row
        for (size_t b = 0; b < nb; b++) {
            const float *xb = x + b * QK;
            __m512 x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
            size_t o = b * Q4_1_BYTES;
            for (int i = 0; i < 4; i++) _mm_prefetch((const char *)row[i] + o + PREFETCH_ROWS * stride, _MM_HINT_T0);
            __m256 dm = scales4(row, o);  // [d0 m0 d1 m1 d2 m2 d3 m3]
            acc0 = _mm512_fmadd_ps(LANE16(dm, 0), nibble_block_dot16(row[0] + o + 4, x0, x1), acc0);
            acc1 = _mm512_fmadd_ps(LANE16(dm, 2), nibble_block_dot16(row[1] + o + 4, x0, x1), acc1);
            acc2 = _mm512_fmadd_ps(LANE16(dm, 4), nibble_block_dot16(row[2] + o + 4, x0, x1), acc2);
            acc3 = _mm512_fmadd_ps(LANE16(dm, 6), nibble_block_dot16(row[3] + o + 4, x0, x1), acc3);
            macc = _mm256_fmadd_ps(dm, _mm256_broadcast_ss(xsum + b), macc);
        }
        float m[8];
        _mm256_storeu_ps(m, macc);
        y[r] = _mm512_reduce_add_ps(acc0) + m[1];
        y[r + 1] = _mm512_reduce_add_ps(acc1) + m[3];
        y[r + 2] = _mm512_reduce_add_ps(acc2) + m[5];
        y[r + 3] = _mm512_reduce_add_ps(acc3) + m[7];
    }
    for (; r < r1; r++) {
        const uint8_t *blk = w + r * stride;
        __m512 acc = _mm512_setzero_ps();
        float msum = 0;
        for (size_t b = 0; b < nb; b++, blk += Q4_1_BYTES) {
            const float *xb = x + b * QK;
            __m512 p = nibble_block_dot16(blk + 4, _mm512_loadu_ps(xb), _mm512_loadu_ps(xb + 16));
            acc = _mm512_fmadd_ps(_mm512_set1_ps(_cvtsh_ss(u16_at(blk))), p, acc);
            msum += _cvtsh_ss(u16_at(blk + 2)) * xsum[b];
        }
        y[r] = _mm512_reduce_add_ps(acc) + msum;
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
