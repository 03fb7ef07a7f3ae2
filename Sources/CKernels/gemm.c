// Single-precision GEMM against a pre-packed right operand: the encoder's inference path, the
// generator's prefill attention and, through ck_sgemm (B packed per call), the tensor core's large
// products.
//
//   C[m, n] = A[m, k] B[k, n] (+ bias[n])
//
// B is packed once into panels of NR = 16 columns, each panel k rows of 16 floats (zero padded past
// n), so the micro-kernel reads it sequentially and aligned. The loop nest is the usual one
// (Goto / BLIS): for each KC slice of k, for each MC block of rows, for each B panel, for each group
// of MR = 6 rows: a 6 x 16 tile of C kept in 12 AVX2 registers through the KC steps. One B
// micro-panel (KC x 16 floats, 24 KB) stays in L1 while the A block (MC x KC, 144 KB) stays in L2.
// With AVX-512 the tiles are 14 x 32 (two panels, 28 registers) or 12 x 16, below.
//
// A wide product (many B panels per A block) first copies the A block into micro-panels of 6 rows
// stored column by column, so each step's six broadcasts read one line; a narrow one (attention's
// P V, 32 columns) reads A in place, six rows side by side, since a copy would cost about as much
// as the product.
//
// Unlike a BLAS call, C is not cleared first: the first KC slice writes C (with the bias), later
// slices add to it.
#include "ckernels.h"
#include "activation_math.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { MR = 6, NR = 16, KC = 384, MC = 96 };
// AVX-512 has two tiles: 12 rows x 16 columns (one 16-lane register per row) where A is read in
// place, and 14 rows x 32 columns (two B panels, 28 registers) where A is packed, in micro-panels
// 14 rows tall and blocks of MC_WIDE rows.
enum { MR_WIDE = 12, MR_WIDE_PACKED = 14, MC_WIDE = 112 };
// From this many columns of C on, A blocks are copied into micro-panels.
enum { PACK_A_FROM_COLUMNS = 4 * NR };

size_t ck_sgemm_packed_size(size_t n, size_t k) { return (n + NR - 1) / NR * NR * k; }

void ck_sgemm_pack_rows(const float *src, size_t ld, size_t n, size_t k, float alpha, float *packed) {
    for (size_t panel = 0; panel * NR < n; panel++) {
        float *dst = packed + panel * NR * k;
        const float *rows = src + panel * NR * ld;
        size_t cols = n - panel * NR < NR ? n - panel * NR : NR;
        // Write the panel in order (16 source rows read side by side, each sequentially).
        for (size_t p = 0; p < k; p++, dst += NR) {
            for (size_t j = 0; j < cols; j++) dst[j] = alpha * rows[j * ld + p];
            for (size_t j = cols; j < NR; j++) dst[j] = 0;
        }
    }
}

static void pack_cols_scaled(const float *src, size_t ld, size_t n, size_t k, float alpha, float *packed) {
    for (size_t panel = 0; panel * NR < n; panel++) {
        float *dst = packed + panel * NR * k;
        size_t cols = n - panel * NR < NR ? n - panel * NR : NR;
        for (size_t p = 0; p < k; p++) {
            const float *row = src + p * ld + panel * NR;
            if (alpha == 1) memcpy(dst + p * NR, row, cols * sizeof(float));
            else for (size_t j = 0; j < cols; j++) dst[p * NR + j] = alpha * row[j];
            if (cols < NR) memset(dst + p * NR + cols, 0, (NR - cols) * sizeof(float));
        }
    }
}

void ck_sgemm_pack_cols(const float *src, size_t ld, size_t n, size_t k, float *packed) {
    pack_cols_scaled(src, ld, n, k, 1, packed);
}

// A[rows, kc] (row stride lda) -> micro-panels of mr rows (MR, MR_WIDE or MR_WIDE_PACKED), each kc steps of mr
// floats; rows past `rows` are zero.
static void pack_a(const float *a, size_t lda, size_t rows, size_t kc, size_t mr, float *dst) {
    for (size_t i0 = 0; i0 < rows; i0 += mr) {
        const float *src[MR_WIDE_PACKED];   // the tallest micro-panel
        for (size_t i = 0; i < mr; i++) src[i] = i0 + i < rows ? a + (i0 + i) * lda : NULL;
        for (size_t p = 0; p < kc; p++, dst += mr)
            for (size_t i = 0; i < mr; i++) dst[i] = src[i] ? src[i][p] : 0;
    }
}

// Each thread's A block buffer (MC x KC floats), made on first use and freed when the thread ends.
static pthread_key_t a_block_key;
static pthread_once_t a_block_once = PTHREAD_ONCE_INIT;
static void make_a_block_key(void) { pthread_key_create(&a_block_key, free); }

static float *thread_a_block(void) {
    pthread_once(&a_block_once, make_a_block_key);
    float *block = pthread_getspecific(a_block_key);
    if (!block) {
        block = aligned_alloc(64, sizeof(float) * MC_WIDE * KC);   // MC_WIDE >= MC
        if (block) pthread_setspecific(a_block_key, block);
    }
    return block;
}

// How a tile is stored: the first k slice writes bias + t, later ones add t to C; the last one
// may apply GELU. t's row i is multiplied by scale[i] first when scale is given.
typedef struct {
    int accumulate, gelu;
    const float *bias, *scale;
} epilogue;

// One MR x NR tile: t = A[rows, kc] B_panel, stored into the mr x nr corner of C that exists as `e`
// says. A is either a packed micro-panel (lda = 0: step p's six values at a + MR p) or rows lda
// apart read in place (rows past mr then repeat row 0: computed, not stored).
typedef void (*tile_fn)(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, size_t mr,
                        size_t nr, epilogue e);

static void store_tile(const float *t, float *c, size_t ldc, size_t mr, size_t nr, epilogue e) {
    for (size_t i = 0; i < mr; i++) {
        float *row = c + i * ldc, k = e.scale ? e.scale[i] : 1;
        for (size_t j = 0; j < nr; j++) {
            float v = k * t[i * NR + j] + (e.accumulate ? row[j] : e.bias ? e.bias[j] : 0);
            row[j] = e.gelu ? gelu_portable(v) : v;
        }
    }
}

static void tile_portable(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, size_t mr,
                          size_t nr, epilogue e) {
    float t[MR * NR] = {0};
    for (size_t p = 0; p < kc; p++, b += NR)
        for (size_t i = 0; i < mr; i++) {
            float x = lda ? a[i * lda + p] : a[p * MR + i];
            for (size_t j = 0; j < NR; j++) t[i * NR + j] += x * b[j];
        }
    store_tile(t, c, ldc, mr, nr, e);
}

#if defined(__x86_64__)
// The tile's loop with A's element (i, p) at a[i rs + p cs] for i < rows (row 0 stands in for the
// others); written once, expanded with constant strides for each layout.
#define TILE_AVX2_LOOP(rs, cs, rows)                                                                             \
    do {                                                                                                         \
        const float *a0 = a, *a1 = a + ((rows) > 1) * (rs), *a2 = a + ((rows) > 2) * 2 * (rs);                 \
        const float *a3 = a + ((rows) > 3) * 3 * (rs), *a4 = a + ((rows) > 4) * 4 * (rs);                      \
        const float *a5 = a + ((rows) > 5) * 5 * (rs);                                                           \
        for (size_t p = 0; p < kc; p++, b += NR) {                                                               \
            __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8), x;                                        \
            x = _mm256_broadcast_ss(a0 + p * (cs)); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01); \
            x = _mm256_broadcast_ss(a1 + p * (cs)); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11); \
            x = _mm256_broadcast_ss(a2 + p * (cs)); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21); \
            x = _mm256_broadcast_ss(a3 + p * (cs)); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31); \
            x = _mm256_broadcast_ss(a4 + p * (cs)); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41); \
            x = _mm256_broadcast_ss(a5 + p * (cs)); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51); \
        }                                                                                                        \
    } while (0)

__attribute__((target("avx2,fma")))
static void tile_avx2(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, size_t mr,
                      size_t nr, epilogue e) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    if (lda == 0) {
        TILE_AVX2_LOOP(1, MR, MR);   // a packed panel has all six rows (zeros past mr)
    } else {
        TILE_AVX2_LOOP(lda, 1, mr);
    }
    __m256 t[2 * MR] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (nr < NR) {
        float spill[MR * NR];
        for (size_t i = 0; i < MR; i++) { _mm256_storeu_ps(spill + i * NR, t[2 * i]); _mm256_storeu_ps(spill + i * NR + 8, t[2 * i + 1]); }
        store_tile(spill, c, ldc, mr, nr, e);
        return;
    }
    __m256 bias0 = e.bias ? _mm256_loadu_ps(e.bias) : _mm256_setzero_ps();
    __m256 bias1 = e.bias ? _mm256_loadu_ps(e.bias + 8) : _mm256_setzero_ps();
    for (size_t i = 0; i < mr; i++) {
        float *row = c + i * ldc;
        __m256 lo = t[2 * i], hi = t[2 * i + 1];
        if (e.scale) {
            __m256 k = _mm256_broadcast_ss(e.scale + i);
            lo = _mm256_mul_ps(lo, k);
            hi = _mm256_mul_ps(hi, k);
        }
        lo = _mm256_add_ps(lo, e.accumulate ? _mm256_loadu_ps(row) : bias0);
        hi = _mm256_add_ps(hi, e.accumulate ? _mm256_loadu_ps(row + 8) : bias1);
        if (e.gelu) { lo = gelu8(lo); hi = gelu8(hi); }
        _mm256_storeu_ps(row, lo);
        _mm256_storeu_ps(row + 8, hi);
    }
}

// AVX-512: 12 rows x 16 columns in 12 registers; each step loads one row of the B panel and
// broadcasts twelve values of A (rows past mr, read in place, repeat row 0 as in the AVX2 tile).
#define TILE_AVX512_LOOP(rs, cs, rows)                                                                           \
    do {                                                                                                         \
        const float *r[MR_WIDE];                                                                                 \
        for (size_t i = 0; i < MR_WIDE; i++) r[i] = a + ((rows) > i) * i * (rs);                                \
        for (size_t p = 0; p < kc; p++, b += NR) {                                                               \
            __m512 bv = _mm512_load_ps(b);                                                                       \
            c0 = _mm512_fmadd_ps(_mm512_set1_ps(r[0][p * (cs)]), bv, c0);                                       \
            c1 = _mm512_fmadd_ps(_mm512_set1_ps(r[1][p * (cs)]), bv, c1);                                       \
            c2 = _mm512_fmadd_ps(_mm512_set1_ps(r[2][p * (cs)]), bv, c2);                                       \
            c3 = _mm512_fmadd_ps(_mm512_set1_ps(r[3][p * (cs)]), bv, c3);                                       \
            c4 = _mm512_fmadd_ps(_mm512_set1_ps(r[4][p * (cs)]), bv, c4);                                       \
            c5 = _mm512_fmadd_ps(_mm512_set1_ps(r[5][p * (cs)]), bv, c5);                                       \
            c6 = _mm512_fmadd_ps(_mm512_set1_ps(r[6][p * (cs)]), bv, c6);                                       \
            c7 = _mm512_fmadd_ps(_mm512_set1_ps(r[7][p * (cs)]), bv, c7);                                       \
            c8 = _mm512_fmadd_ps(_mm512_set1_ps(r[8][p * (cs)]), bv, c8);                                       \
            c9 = _mm512_fmadd_ps(_mm512_set1_ps(r[9][p * (cs)]), bv, c9);                                       \
            c10 = _mm512_fmadd_ps(_mm512_set1_ps(r[10][p * (cs)]), bv, c10);                                    \
            c11 = _mm512_fmadd_ps(_mm512_set1_ps(r[11][p * (cs)]), bv, c11);                                    \
        }                                                                                                        \
    } while (0)

__attribute__((target("avx512f")))
static void tile_avx512(size_t kc, const float *a, size_t lda, const float *b, float *c, size_t ldc, size_t mr,
                        size_t nr, epilogue e) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0, c8 = c0;
    __m512 c9 = c0, c10 = c0, c11 = c0;
    if (lda == 0) {
        TILE_AVX512_LOOP(1, MR_WIDE, MR_WIDE);   // a packed panel has all twelve rows (zeros past mr)
    } else {
        TILE_AVX512_LOOP(lda, 1, mr);
    }
    __m512 t[MR_WIDE] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
    __mmask16 mask = nr >= NR ? 0xffff : (__mmask16)((1u << nr) - 1);
    __m512 bias = e.bias ? _mm512_maskz_loadu_ps(mask, e.bias) : _mm512_setzero_ps();
    for (size_t i = 0; i < mr; i++) {
        float *row = c + i * ldc;
        __m512 v = t[i];
        if (e.scale) v = _mm512_mul_ps(v, _mm512_set1_ps(e.scale[i]));
        v = _mm512_add_ps(v, e.accumulate ? _mm512_maskz_loadu_ps(mask, row) : bias);
        if (e.gelu) v = gelu16(v);
        _mm512_mask_storeu_ps(row, mask, v);
    }
}

// 14 rows x 32 columns: B panels b0 and b1 (b1 = b0 when nr <= 16: computed, not stored), A a packed
// micro-panel (step p's fourteen values at a + 14 p). Per step: two loads of B, fourteen broadcasts,
// 28 FMAs, so the FMA units rather than the loads set the pace.
__attribute__((target("avx512f")))
static void tile_avx512_packed(size_t kc, const float *a, const float *b0, const float *b1, float *c, size_t ldc,
                               size_t mr, size_t nr, epilogue e) {
    __m512 acc[2 * MR_WIDE_PACKED];
    for (int i = 0; i < 2 * MR_WIDE_PACKED; i++) acc[i] = _mm512_setzero_ps();
    for (size_t p = 0; p < kc; p++, a += MR_WIDE_PACKED) {
        __m512 u = _mm512_load_ps(b0 + p * NR), v = _mm512_load_ps(b1 + p * NR);
        for (int i = 0; i < MR_WIDE_PACKED; i++) {
            __m512 x = _mm512_set1_ps(a[i]);
            acc[2 * i] = _mm512_fmadd_ps(x, u, acc[2 * i]);
            acc[2 * i + 1] = _mm512_fmadd_ps(x, v, acc[2 * i + 1]);
        }
    }
    __mmask16 mask[2] = {nr >= NR ? 0xffff : (__mmask16)((1u << nr) - 1),
                         nr >= 2 * NR ? 0xffff : nr > NR ? (__mmask16)((1u << (nr - NR)) - 1) : 0};
    for (size_t i = 0; i < mr; i++) {
        float *row = c + i * ldc;
        for (int h = 0; h < 2 && mask[h]; h++) {
            __m512 r = acc[2 * i + h];
            if (e.scale) r = _mm512_mul_ps(r, _mm512_set1_ps(e.scale[i]));
            if (e.accumulate) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask[h], row + NR * h));
            else if (e.bias) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask[h], e.bias + NR * h));
            if (e.gelu) r = gelu16(r);
            _mm512_mask_storeu_ps(row + NR * h, mask[h], r);
        }
    }
}
#endif

// 0 portable, 1 AVX2+FMA, 2 AVX-512F, 3 AVX-512F here and AMX (gemm_amx.c) for packed weights and
// attention; -1 = not chosen yet
static int gemm_level = -1;

static int best_gemm_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    if (!__builtin_cpu_supports("avx512f")) return 1;
    return ck_amx_available() ? 3 : 2;
#endif
    return 0;
}

int ck_gemm_simd_level(void) {
    int level = __atomic_load_n(&gemm_level, __ATOMIC_RELAXED);   // read by every thread that multiplies
    if (level < 0) {
        level = best_gemm_level();
        __atomic_store_n(&gemm_level, level, __ATOMIC_RELAXED);
    }
    return level;
}

int ck_gemm_set_simd_level(int level) {
    int best = best_gemm_level();
    int chosen = level < 0 || level > best ? best : level;
    __atomic_store_n(&gemm_level, chosen, __ATOMIC_RELAXED);
    return chosen;
}

// add_to_c: C += A B instead of C = A B + bias (ck_sgemm with beta != 0).
static void sgemm_packed(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                         const float *bias, const float *scale, int gelu, int add_to_c, float *c, size_t ldc) {
    if (m == 0 || n == 0) return;
    tile_fn tile = tile_portable;
    size_t mr_step = MR;
#if defined(__x86_64__)
    int level = ck_gemm_simd_level();
    if (level == 1) tile = tile_avx2;
    if (level >= 2) { tile = tile_avx512; mr_step = MR_WIDE; }
#endif
    if (k == 0) {   // C = bias (or C unchanged when adding to it)
        if (add_to_c) return;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) {   // (scale applies to A B = 0)
                float v = bias ? bias[j] : 0;
                c[i * ldc + j] = gelu ? gelu_portable(v) : v;
            }
        return;
    }
    size_t panels = (n + NR - 1) / NR;
    float *block = n >= PACK_A_FROM_COLUMNS ? thread_a_block() : NULL;   // NULL: A read in place
#if defined(__x86_64__)
    if (block && level >= 2) {   // AVX-512 with A packed: 14 x 32 tiles over pairs of panels
        for (size_t pc = 0; pc < k; pc += KC) {
            size_t kc = k - pc < KC ? k - pc : KC;
            for (size_t ic = 0; ic < m; ic += MC_WIDE) {
                size_t mc = m - ic < MC_WIDE ? m - ic : MC_WIDE;
                pack_a(a + ic * lda + pc, lda, mc, kc, MR_WIDE_PACKED, block);
                for (size_t jp = 0; jp < panels; jp += 2) {
                    const float *b0 = packed_b + jp * NR * k + pc * NR;
                    const float *b1 = jp + 1 < panels ? b0 + NR * k : b0;
                    size_t nr = n - jp * NR < 2 * NR ? n - jp * NR : 2 * NR;
                    const float *tile_bias = bias ? bias + jp * NR : NULL;
                    for (size_t ip = 0; ip < mc; ip += MR_WIDE_PACKED) {
                        size_t mr = mc - ip < MR_WIDE_PACKED ? mc - ip : MR_WIDE_PACKED;
                        epilogue e = {pc > 0 || add_to_c, gelu && pc + kc == k, tile_bias, scale ? scale + ic + ip : NULL};
                        tile_avx512_packed(kc, block + ip * kc, b0, b1, c + (ic + ip) * ldc + jp * NR, ldc, mr, nr, e);
                    }
                }
            }
        }
        return;
    }
#endif
    for (size_t pc = 0; pc < k; pc += KC) {
        size_t kc = k - pc < KC ? k - pc : KC;
        for (size_t ic = 0; ic < m; ic += MC) {
            size_t mc = m - ic < MC ? m - ic : MC;
            if (block) pack_a(a + ic * lda + pc, lda, mc, kc, mr_step, block);
            for (size_t jp = 0; jp < panels; jp++) {
                const float *b = packed_b + jp * NR * k + pc * NR;
                size_t nr = n - jp * NR < NR ? n - jp * NR : NR;
                const float *tile_bias = bias ? bias + jp * NR : NULL;
                for (size_t ip = 0; ip < mc; ip += mr_step) {
                    size_t mr = mc - ip < mr_step ? mc - ip : mr_step;
                    epilogue e = {pc > 0 || add_to_c, gelu && pc + kc == k, tile_bias, scale ? scale + ic + ip : NULL};
                    const float *a_tile = block ? block + ip * kc : a + (ic + ip) * lda + pc;
                    tile(kc, a_tile, block ? 0 : lda, b, c + (ic + ip) * ldc + jp * NR, ldc, mr, nr, e);
                }
            }
        }
    }
}

void ck_sgemm_packed(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                     const float *bias, float *c, size_t ldc) {
    sgemm_packed(m, n, k, a, lda, packed_b, bias, NULL, 0, 0, c, ldc);
}

void ck_sgemm_packed_gelu(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                          const float *bias, float *c, size_t ldc) {
    sgemm_packed(m, n, k, a, lda, packed_b, bias, NULL, 1, 0, c, ldc);
}

void ck_sgemm_packed_row_scaled(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                                const float *row_scale, float *c, size_t ldc) {
    sgemm_packed(m, n, k, a, lda, packed_b, NULL, row_scale, 0, 0, c, ldc);
}

int ck_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
             const float *b, size_t ldb, float beta, float *c, size_t ldc) {
    if (m == 0 || n == 0) return 0;
    int product = k > 0 && alpha != 0;
    float *packed = product ? aligned_alloc(64, sizeof(float) * ck_sgemm_packed_size(n, k)) : NULL;
    float *at = product && trans_a ? malloc(sizeof(float) * m * k) : NULL;
    if (product && (!packed || (trans_a && !at))) { free(packed); free(at); return -1; }
    if (beta != 1)   // C = beta C first (beta 0 clears it, NaN included, as BLAS does)
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j];
    if (!product) return 0;
    // B = alpha op(B), packed; op(A) row-major (a transposed A copied: [m, k])
    if (trans_b) ck_sgemm_pack_rows(b, ldb, n, k, alpha, packed);
    else pack_cols_scaled(b, ldb, n, k, alpha, packed);
    if (trans_a) {
        for (size_t p = 0; p < k; p++)
            for (size_t i = 0; i < m; i++) at[i * k + p] = a[p * lda + i];
        a = at;
        lda = k;
    }
    sgemm_packed(m, n, k, a, lda, packed, NULL, NULL, 0, 1, c, ldc);
    free(packed);
    free(at);
    return 0;
}
