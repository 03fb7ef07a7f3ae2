// GEMM with bf16 operands and Float32 accumulation, on AVX512-BF16 (VDPBF16PS): the products of
// training with `--bf16`, the frozen base weights of LoRA / QLoRA times the activations, as the
// QLoRA recipe computes them (its "compute dtype"). Both operands are rounded to bf16 (8 bits of
// mantissa, round to nearest even) while packed; sums are Float32.
//
//   C[m, n] (+)= A[m, k] op(B)        op(B) = B [k, n], or Bᵀ with B stored [n, k]
//
// VDPBF16PS multiplies pairs: lane j of the accumulator gains a[2p] b[2p][j] + a[2p+1] b[2p+1][j].
// So k is walked in pairs: B is packed into panels of NR = 16 columns, each k/2 steps of 16
// (b[2p][j], b[2p+1][j]) pairs (one 64-byte line, a whole register); A into micro-panels of MR = 14
// rows, each step 14 pairs (a[i][2p], a[i][2p+1]) as 32-bit words, broadcast one row at a time.
// The micro-kernel is the Float32 one's shape (gemm.c): 14 rows x 32 columns in 28 registers, two B
// loads and fourteen broadcasts per step, but each instruction does twice the multiply-adds.
// Blocking as there: KC (pairs) x 32 columns of B stay in L1, MC x KC of A in L2.
#include "ckernels.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { BF_NR = 16, BF_MR = 14, BF_KC = 192 /* pairs: 384 values of k, as gemm.c's KC */, BF_MC = 112 };

int ck_bf16_gemm_available(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    // (avx512bw for the packing's 16-bit masked stores; every CPU with avx512bf16 so far has it)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16") ? 1 : 0;
#else
    return 0;
#endif
}

#if defined(__x86_64__)
// src[0 ..< len) as `count` bf16 values (count even; zeros past len), 32 at a time.
__attribute__((target("avx512f,avx512bf16,avx512bw")))
static void row_to_bf16(const float *src, size_t len, uint16_t *dst, size_t count) {
    for (size_t i = 0; i < count; i += 32) {
        __m512 part[2];
        for (int h = 0; h < 2; h++) {
            size_t at = i + 16 * (size_t)h;
            __mmask16 m = at + 16 <= len ? 0xffff : at < len ? (__mmask16)((1u << (len - at)) - 1) : 0;
            part[h] = _mm512_maskz_loadu_ps(m, src + (at < len ? at : 0));
        }
        __m512i v = (__m512i)_mm512_cvtne2ps_pbh(part[1], part[0]);   // part[0] in the low half
        size_t left = count - i;
        _mm512_mask_storeu_epi16(dst + i, left >= 32 ? 0xffffffffu : (__mmask32)((1u << left) - 1), v);
    }
}

// op(B) [k, n] -> panels of 16 columns, each `pairs` steps of 16 bf16 pairs (zero past k and n).
// `words` is scratch for 2 * pairs bf16 values.
__attribute__((target("avx512f,avx512bf16,avx512bw")))
static void pack_b(const float *b, size_t ldb, int trans_b, size_t n, size_t k, size_t pairs, uint16_t *dst,
                   uint16_t *words) {
    for (size_t panel = 0; panel * BF_NR < n; panel++) {
        uint32_t *out = (uint32_t *)(dst + panel * pairs * 2 * BF_NR);   // [pairs][16] words
        size_t j0 = panel * BF_NR, cols = n - j0 < BF_NR ? n - j0 : BF_NR;
        if (trans_b) {   // column j of op(B) is row j0 + j of B: convert it, then deal its pairs out
            for (size_t j = 0; j < BF_NR; j++) {
                if (j < cols) row_to_bf16(b + (j0 + j) * ldb, k, words, 2 * pairs);
                const uint32_t *w = (const uint32_t *)words;
                for (size_t q = 0; q < pairs; q++) out[q * BF_NR + j] = j < cols ? w[q] : 0;
            }
        } else {         // rows 2q and 2q + 1 of B, 16 columns each, interleaved into one register
            __mmask16 m = cols >= BF_NR ? 0xffff : (__mmask16)((1u << cols) - 1);
            for (size_t q = 0; q < pairs; q++) {
                __m512 r0 = _mm512_maskz_loadu_ps(m, b + 2 * q * ldb + j0);
                __m512 r1 = 2 * q + 1 < k ? _mm512_maskz_loadu_ps(m, b + (2 * q + 1) * ldb + j0) : _mm512_setzero_ps();
                __m512i lo = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(r0));
                __m512i hi = _mm512_cvtepu16_epi32((__m256i)_mm512_cvtneps_pbh(r1));
                _mm512_store_si512((void *)(out + q * BF_NR), _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
            }
        }
    }
}

// A[rows, k-slice of `pairs` pairs starting at column p0] -> micro-panels of 14 rows, each step 14
// 32-bit words (two bf16); rows past `rows` and columns past k are zero. `words`: scratch as above.
static void pack_a(const float *a, size_t lda, size_t rows, size_t k, size_t p0, size_t pairs, uint32_t *dst,
                   uint16_t *words) {
    for (size_t i0 = 0; i0 < rows; i0 += BF_MR, dst += BF_MR * pairs)
        for (size_t i = 0; i < BF_MR; i++) {
            if (i0 + i < rows) row_to_bf16(a + (i0 + i) * lda + p0, k - p0, words, 2 * pairs);
            const uint32_t *w = (const uint32_t *)words;
            for (size_t q = 0; q < pairs; q++) dst[q * BF_MR + i] = i0 + i < rows ? w[q] : 0;
        }
}

// One 14 x 32 tile: C[mr, nr] (+)= A micro-panel (kc pairs) x B panels b0, b1 (b1 = b0 when nr <= 16).
__attribute__((target("avx512f,avx512bf16")))
static void tile_bf16(size_t kc, const uint32_t *a, const uint16_t *b0, const uint16_t *b1, float *c, size_t ldc,
                      size_t mr, size_t nr, int accumulate) {
    __m512 acc[2 * BF_MR];
    for (int i = 0; i < 2 * BF_MR; i++) acc[i] = _mm512_setzero_ps();
    for (size_t q = 0; q < kc; q++, a += BF_MR) {
        __m512bh u = (__m512bh)_mm512_load_si512((const void *)(b0 + q * 2 * BF_NR));
        __m512bh v = (__m512bh)_mm512_load_si512((const void *)(b1 + q * 2 * BF_NR));
        for (int i = 0; i < BF_MR; i++) {
            __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[i]);
            acc[2 * i] = _mm512_dpbf16_ps(acc[2 * i], x, u);
            acc[2 * i + 1] = _mm512_dpbf16_ps(acc[2 * i + 1], x, v);
        }
    }
    __mmask16 mask[2] = {nr >= BF_NR ? 0xffff : (__mmask16)((1u << nr) - 1),
                         nr >= 2 * BF_NR ? 0xffff : nr > BF_NR ? (__mmask16)((1u << (nr - BF_NR)) - 1) : 0};
    for (size_t i = 0; i < mr; i++) {
        float *row = c + i * ldc;
        for (int h = 0; h < 2 && mask[h]; h++) {
            __m512 r = acc[2 * i + h];
            if (accumulate) r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(mask[h], row + BF_NR * h));
            _mm512_mask_storeu_ps(row + BF_NR * h, mask[h], r);
        }
    }
}
#endif

int ck_sgemm_bf16(int trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                  int accumulate, float *c, size_t ldc) {
#if defined(__x86_64__)
    if (!ck_bf16_gemm_available()) return -1;
    if (m == 0 || n == 0) return 0;
    if (k == 0) {
        if (!accumulate)
            for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(float));
        return 0;
    }
    size_t pairs = (k + 1) / 2, panels = (n + BF_NR - 1) / BF_NR;
    uint16_t *packed = aligned_alloc(64, panels * pairs * 2 * BF_NR * sizeof(uint16_t));
    uint32_t *block = aligned_alloc(64, (size_t)BF_MC * BF_KC * sizeof(uint32_t));
    uint16_t *words = malloc((2 * pairs + 32) * sizeof(uint16_t));
    if (!packed || !block || !words) { free(packed); free(block); free(words); return -1; }
    pack_b(b, ldb, trans_b, n, k, pairs, packed, words);
    for (size_t qc = 0; qc < pairs; qc += BF_KC) {
        size_t kc = pairs - qc < BF_KC ? pairs - qc : BF_KC;
        for (size_t ic = 0; ic < m; ic += BF_MC) {
            size_t mc = m - ic < BF_MC ? m - ic : BF_MC;
            pack_a(a + ic * lda, lda, mc, k, 2 * qc, kc, block, words);
            for (size_t jp = 0; jp < panels; jp += 2) {
                const uint16_t *b0 = packed + jp * pairs * 2 * BF_NR + qc * 2 * BF_NR;
                const uint16_t *b1 = jp + 1 < panels ? b0 + pairs * 2 * BF_NR : b0;
                size_t nr = n - jp * BF_NR < 2 * BF_NR ? n - jp * BF_NR : 2 * BF_NR;
                for (size_t ip = 0; ip < mc; ip += BF_MR) {
                    size_t mr = mc - ip < BF_MR ? mc - ip : BF_MR;
                    tile_bf16(kc, block + ip * kc, b0, b1, c + (ic + ip) * ldc + jp * BF_NR, ldc, mr, nr,
                              qc > 0 || accumulate);
                }
            }
        }
    }
    free(packed);
    free(block);
    free(words);
    return 0;
#else
    (void)trans_b; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)accumulate; (void)c; (void)ldc;
    return -1;
#endif
}
