// Single-precision GEMM on AMX tiles (Intel Sapphire Rapids and later), for the encoder's linear
// layers and attention: C[m, n] = A[m, k] B[k, n] (row scale, + bias[n], GELU if asked), B packed.
//
// AMX multiplies bfloat16 (8-bit mantissa) into Float32 sums. To keep close to Float32 each operand
// is split into two bfloat16 parts, x = hi + lo (hi = x rounded to bf16, lo = x - hi rounded to
// bf16: about 16 significant bits together), and
//   A B ≈ A_hi B_hi + A_hi B_lo + A_lo B_hi        (A_lo B_lo, about 2^-16 relative, is dropped)
// three bf16 products summed in Float32 by the tiles ("bf16x3"): relative error about 1e-5 of the
// terms' magnitude, where Float32 BLAS gives about 1e-7.
//
// A tile is 16 rows of 64 bytes. TDPBF16PS: C[16 x 16 f32] += A[16 x 32 bf16] B[32 x 16 bf16],
// with B stored in pairs: tile row r holds k = 2r and 2r + 1 of each of the 16 columns. The kernel
// keeps a 32 x 32 block of C in four tiles (0-3) and, per step of 32 k, loads A_hi, B_hi, B_lo,
// A_lo, B_hi into the other four (two row groups of A, two column panels of B) for 12 products; it
// walks all of k without leaving the tiles and stores the block through a scratch array where the
// row scale, bias and GELU are applied.
//
// Packed B (once per weight): panels of 16 columns (zero past n); panel p is, per step of 32 k, a
// hi tile and a lo tile (zero past k). Packed A (per call, per block of up to MC rows, in a
// per-thread buffer): groups of 16 rows (zero past m), each per step a hi tile and a lo tile.
#include "ckernels.h"
#include "activation_math.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) && defined(__linux__)
#include <cpuid.h>
#include <immintrin.h>
#include <sys/syscall.h>
#include <unistd.h>
#define CK_AMX 1
#endif

enum { TILE = 512 /* bf16 per tile */, A_BLOCK_BYTES = 512 * 1024 /* packed A block: stays in L2 */ };

// Steps of 32 along k; each is two tiles (hi, lo) of a row group of A or a column panel of B.
static size_t ksteps(size_t k) { return (k + 31) / 32; }
enum { STEP = 2 * TILE };

size_t ck_sgemm_bf16x3_packed_size(size_t n, size_t k) { return (n + 15) / 16 * ksteps(k) * STEP; }

// Round to nearest even bfloat16 (finite inputs).
static uint16_t bf16_round(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    u += 0x7fff + ((u >> 16) & 1);
    return (uint16_t)(u >> 16);
}

static float bf16_value(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

// Splits 32 values (k order) into bf16 hi and lo parts, each 16 pairs = 16 dwords (k = 2r in the
// low half of dword r, 2r + 1 in the high half): one column's share of a B tile.
static void split_pairs_portable(const float *x, uint32_t *hi, uint32_t *lo) {
    for (int r = 0; r < 16; r++) {
        uint16_t h0 = bf16_round(x[2 * r]), h1 = bf16_round(x[2 * r + 1]);
        uint16_t l0 = bf16_round(x[2 * r] - bf16_value(h0)), l1 = bf16_round(x[2 * r + 1] - bf16_value(h1));
        hi[r] = h0 | (uint32_t)h1 << 16;
        lo[r] = l0 | (uint32_t)l1 << 16;
    }
}

#if defined(__x86_64__)
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void split_pairs_avx512(const float *x, uint32_t *hi, uint32_t *lo) {
    __m512 x0 = _mm512_loadu_ps(x), x1 = _mm512_loadu_ps(x + 16);
    __m512i h = (__m512i)_mm512_cvtne2ps_pbh(x1, x0);
    __m512 h0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_castsi512_si256(h)), 16));
    __m512 h1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm512_extracti64x4_epi64(h, 1)), 16));
    __m512i l = (__m512i)_mm512_cvtne2ps_pbh(_mm512_sub_ps(x1, h1), _mm512_sub_ps(x0, h0));
    _mm512_storeu_si512(hi, h);
    _mm512_storeu_si512(lo, l);
}
#endif

// B [k, n] with B[q, j] = alpha src[j col_stride + q row_stride] -> panels of bf16x3 tiles.
static void pack_b(const float *src, size_t row_stride, size_t col_stride, size_t n, size_t k, float alpha,
                   uint16_t *packed) {
    void (*split)(const float *, uint32_t *, uint32_t *) = split_pairs_portable;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw")) split = split_pairs_avx512;
#endif
    size_t steps = ksteps(k);
    float column[32];
    uint32_t hi[16][16], lo[16][16];   // [column j][pair r]
    for (size_t p = 0; p * 16 < n; p++) {
        size_t cols = n - p * 16 < 16 ? n - p * 16 : 16;
        for (size_t q0 = 0; q0 < k; q0 += 32) {
            size_t depth = k - q0 < 32 ? k - q0 : 32;
            for (size_t j = 0; j < 16; j++) {
                memset(column, 0, sizeof column);
                if (j < cols) {
                    const float *s = src + (p * 16 + j) * col_stride + q0 * row_stride;
                    for (size_t kk = 0; kk < depth; kk++) column[kk] = alpha * s[kk * row_stride];
                }
                split(column, hi[j], lo[j]);
            }
            // Transpose into the tiles: dword (r, j) at r 16 + j.
            uint32_t *tile = (uint32_t *)(packed + (p * steps + q0 / 32) * STEP);   // hi, then lo: TILE / 2 dwords each
            for (size_t r = 0; r < 16; r++)
                for (size_t j = 0; j < 16; j++) {
                    tile[r * 16 + j] = hi[j][r];
                    tile[TILE / 2 + r * 16 + j] = lo[j][r];
                }
        }
    }
}

void ck_sgemm_bf16x3_pack_rows(const float *src, size_t ld, size_t n, size_t k, float alpha, uint16_t *packed) {
    pack_b(src, 1, ld, n, k, alpha, packed);
}

void ck_sgemm_bf16x3_pack_cols(const float *src, size_t ld, size_t n, size_t k, uint16_t *packed) {
    pack_b(src, ld, 1, n, k, 1, packed);
}

// The same product without tiles, from the packed B (each value hi + lo): for CPUs without AMX
// (tests, and a packed matrix read elsewhere) and if the tile path's buffer cannot be allocated.
static void gemm_bf16x3_portable(size_t m, size_t n, size_t k, const float *a, size_t lda, const uint16_t *packed_b,
                                 const float *bias, const float *row_scale, int gelu, float *c, size_t ldc) {
    size_t steps = ksteps(k);
    for (size_t j = 0; j < n; j++) {
        const uint16_t *panel = packed_b + (j / 16) * steps * STEP;
        for (size_t i = 0; i < m; i++) {
            float sum = 0;
            for (size_t q = 0; q < k; q++) {
                const uint16_t *tile = panel + (q / 32) * STEP;
                size_t at = ((q % 32) / 2) * 32 + (j % 16) * 2 + (q & 1);
                sum += a[i * lda + q] * (bf16_value(tile[at]) + bf16_value(tile[TILE + at]));
            }
            float v = (row_scale ? row_scale[i] : 1) * sum + (bias ? bias[j] : 0);
            c[i * ldc + j] = gelu ? gelu_portable(v) : v;
        }
    }
}

#if CK_AMX
// Whether the CPU has AMX-BF16 (and the AVX-512 BF16 conversions the packing uses) and Linux lets
// this process use the tile data (asked once: the permission holds for all its threads).
static int amx_usable;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void probe_amx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return;
    int tile = (d >> 24) & 1, bf16 = (d >> 22) & 1, avx512f = (b >> 16) & 1, avx512bw = (b >> 30) & 1;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return;
    int avx512bf16 = (a >> 5) & 1;
    if (!(tile && bf16 && avx512f && avx512bw && avx512bf16)) return;
    enum { ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    amx_usable = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

int ck_amx_available(void) {
    pthread_once(&amx_once, probe_amx);
    return amx_usable;
}

// Each thread's packed-A buffer, grown when a deeper k needs it, freed when the thread ends.
typedef struct { size_t bytes; uint16_t *data; } a_buffer;
static pthread_key_t a_buffer_key;
static pthread_once_t a_buffer_once = PTHREAD_ONCE_INIT;
static void free_a_buffer(void *p) { a_buffer *b = p; free(b->data); free(b); }
static void make_a_buffer_key(void) { pthread_key_create(&a_buffer_key, free_a_buffer); }

static uint16_t *thread_a_buffer(size_t bytes) {
    pthread_once(&a_buffer_once, make_a_buffer_key);
    a_buffer *b = pthread_getspecific(a_buffer_key);
    if (!b) {
        if (!(b = calloc(1, sizeof *b))) return NULL;
        pthread_setspecific(a_buffer_key, b);
    }
    if (b->bytes < bytes) {
        free(b->data);
        b->data = aligned_alloc(64, (bytes + 63) / 64 * 64);
        b->bytes = b->data ? bytes : 0;
    }
    return b->data;
}

// Rows [rows, k] of A (row stride lda) -> groups of 16 rows, per step of 32 k a hi and a lo tile;
// rows past `rows` and k past `k` are zero. A tile row holds 32 values in k order, which is the
// layout split_pairs_avx512 writes.
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void pack_a(const float *a, size_t lda, size_t rows, size_t k, uint16_t *dst) {
    size_t steps = ksteps(k);
    float tail[32];
    for (size_t g = 0; g * 16 < rows; g++) {
        for (size_t r = 0; r < 16; r++) {
            size_t i = g * 16 + r;
            uint16_t *line = dst + g * steps * STEP + r * 32;   // row r of the group's first tile
            for (size_t q0 = 0; q0 < k; q0 += 32, line += STEP) {
                const float *x = a + i * lda + q0;
                if (i >= rows || k - q0 < 32) {   // a row past m, or the last step of an odd k: zero padded
                    memset(tail, 0, sizeof tail);
                    if (i < rows) memcpy(tail, x, (k - q0) * sizeof(float));
                    x = tail;
                }
                split_pairs_avx512(x, (uint32_t *)line, (uint32_t *)(line + TILE));
            }
        }
    }
}

// The 32 x 32 block in scratch (row stride 32) -> rows x cols of C: row i scaled by row_scale[i],
// + bias, GELU if asked. Two masked 16-lane halves per row.
__attribute__((target("avx512f")))
static void store_block(const float *scratch, float *c, size_t ldc, size_t rows, size_t cols, const float *bias,
                        const float *row_scale, int gelu) {
    __mmask16 mask[2] = {cols >= 16 ? 0xffff : (__mmask16)((1u << cols) - 1),
                         cols >= 32 ? 0xffff : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0};
    __m512 b[2] = {bias ? _mm512_maskz_loadu_ps(mask[0], bias) : _mm512_setzero_ps(),
                   bias ? _mm512_maskz_loadu_ps(mask[1], bias + 16) : _mm512_setzero_ps()};
    for (size_t i = 0; i < rows; i++) {
        __m512 k = _mm512_set1_ps(row_scale ? row_scale[i] : 1);
        for (int h = 0; h < 2 && mask[h]; h++) {
            __m512 v = _mm512_fmadd_ps(_mm512_load_ps(scratch + i * 32 + 16 * h), k, b[h]);
            _mm512_mask_storeu_ps(c + i * ldc + 16 * h, mask[h], gelu ? gelu16(v) : v);
        }
    }
}

typedef struct { uint8_t palette, start_row, reserved[14]; uint16_t colsb[16]; uint8_t rows[16]; } tile_config;

__attribute__((target("amx-tile,amx-bf16,avx512f")))
static void gemm_amx(size_t m, size_t n, size_t k, const float *a, size_t lda, const uint16_t *packed_b,
                     const float *bias, const float *row_scale, int gelu, float *c, size_t ldc, uint16_t *a_block,
                     size_t mc_max) {
    tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int t = 0; t < 8; t++) { config.rows[t] = 16; config.colsb[t] = 64; }
    _tile_loadconfig(&config);
    size_t steps = ksteps(k), panels = (n + 15) / 16;
    float scratch[32 * 32] __attribute__((aligned(64)));
    for (size_t ic = 0; ic < m; ic += mc_max) {
        size_t mc = m - ic < mc_max ? m - ic : mc_max, groups = (mc + 15) / 16;
        pack_a(a + ic * lda, lda, mc, k, a_block);
        for (size_t p = 0; p < panels; p += 2) {
            const uint16_t *b0 = packed_b + p * steps * STEP, *b1 = b0 + steps * STEP;
            int two_b = p + 1 < panels;
            for (size_t g = 0; g < groups; g += 2) {
                const uint16_t *a0 = a_block + g * steps * STEP, *a1 = a0 + steps * STEP;
                int two_a = g + 1 < groups;
                _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
                if (two_a && two_b) {
                    for (size_t s = 0; s < steps; s++) {
                        const uint16_t *a0s = a0 + s * STEP, *a1s = a1 + s * STEP, *b0s = b0 + s * STEP, *b1s = b1 + s * STEP;
                        _tile_loadd(4, a0s, 64);          // A_hi B_hi
                        _tile_loadd(6, b0s, 64);
                        _tile_loadd(5, a1s, 64);
                        _tile_loadd(7, b1s, 64);
                        _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
                        _tile_loadd(6, b0s + TILE, 64);   // A_hi B_lo
                        _tile_loadd(7, b1s + TILE, 64);
                        _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
                        _tile_loadd(4, a0s + TILE, 64);   // A_lo B_hi
                        _tile_loadd(6, b0s, 64);
                        _tile_loadd(5, a1s + TILE, 64);
                        _tile_loadd(7, b1s, 64);
                        _tile_dpbf16ps(0, 4, 6); _tile_dpbf16ps(1, 4, 7); _tile_dpbf16ps(2, 5, 6); _tile_dpbf16ps(3, 5, 7);
                    }
                } else {   // the last row group or column panel has no partner: tiles 1-3 only as they exist
                    for (size_t s = 0; s < steps; s++) {
                        const uint16_t *a0s = a0 + s * STEP, *a1s = a1 + s * STEP, *b0s = b0 + s * STEP, *b1s = b1 + s * STEP;
                        for (int part = 0; part < 3; part++) {   // A_hi B_hi, A_hi B_lo, A_lo B_hi
                            size_t ao = part == 2 ? TILE : 0, bo = part == 1 ? TILE : 0;
                            _tile_loadd(4, a0s + ao, 64);
                            _tile_loadd(6, b0s + bo, 64);
                            _tile_dpbf16ps(0, 4, 6);
                            if (two_b) { _tile_loadd(7, b1s + bo, 64); _tile_dpbf16ps(1, 4, 7); }
                            if (two_a) { _tile_loadd(5, a1s + ao, 64); _tile_dpbf16ps(2, 5, 6); }
                        }
                    }
                }
                _tile_stored(0, scratch, 128);
                _tile_stored(1, scratch + 16, 128);
                _tile_stored(2, scratch + 16 * 32, 128);
                _tile_stored(3, scratch + 16 * 32 + 16, 128);
                size_t row0 = ic + g * 16, col0 = p * 16;
                size_t rows = mc - g * 16 < 32 ? mc - g * 16 : 32, cols = n - col0 < 32 ? n - col0 : 32;
                store_block(scratch, c + row0 * ldc + col0, ldc, rows, cols, bias ? bias + col0 : NULL,
                            row_scale ? row_scale + row0 : NULL, gelu);
            }
        }
    }
    _tile_release();
}

void ck_sgemm_bf16x3(size_t m, size_t n, size_t k, const float *a, size_t lda, const uint16_t *packed_b,
                     const float *bias, const float *row_scale, int gelu, float *c, size_t ldc) {
    if (m == 0 || n == 0) return;
    uint16_t *a_block = NULL;
    size_t mc = 32;
    if (k > 0 && ck_gemm_simd_level() >= 3) {   // level 3 only where AMX is usable; lower levels (tests) loop
        size_t group_bytes = ksteps(k) * STEP * sizeof(uint16_t);   // 16 rows, all of k
        while (mc < 256 && 2 * mc / 16 * group_bytes <= A_BLOCK_BYTES) mc *= 2;
        a_block = thread_a_buffer(mc / 16 * group_bytes);
    }
    if (a_block) gemm_amx(m, n, k, a, lda, packed_b, bias, row_scale, gelu, c, ldc, a_block, mc);
    else gemm_bf16x3_portable(m, n, k, a, lda, packed_b, bias, row_scale, gelu, c, ldc);
}
#else
int ck_amx_available(void) { return 0; }

void ck_sgemm_bf16x3(size_t m, size_t n, size_t k, const float *a, size_t lda, const uint16_t *packed_b,
                     const float *bias, const float *row_scale, int gelu, float *c, size_t ldc) {
    gemm_bf16x3_portable(m, n, k, a, lda, packed_b, bias, row_scale, gelu, c, ldc);
}
#endif
