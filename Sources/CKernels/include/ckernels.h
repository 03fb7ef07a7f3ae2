// Hot numeric kernels in C so they can use AVX2/AVX-512 chosen at run time while the Swift code
// stays built for baseline x86-64. Each kernel has a portable fallback.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Number of SIMD lanes the dispatcher picked (1 = portable, 8 = AVX2, 16 = AVX-512), for reports.
int ck_simd_width(void);

// ---- distance kernels (distance.c): dot product and squared L2 ----
/// A distance kernel: f(a, b, n) over n floats.
typedef float (*ck_distance_fn)(const float *a, const float *b, size_t n);
/// "avx512", "avx2" or "portable": the variant the distance kernels dispatch to.
const char *ck_distance_isa(void);
/// The chosen kernels as function pointers (for hot loops that call them many times).
ck_distance_fn ck_dot_kernel(void);
ck_distance_fn ck_l2sq_kernel(void);
float ck_dot_f32(const float *a, const float *b, size_t n);
float ck_l2sq_f32(const float *a, const float *b, size_t n);
/// Portable fallbacks, exposed so tests can compare the SIMD variants against them.
float ck_dot_portable_f32(const float *a, const float *b, size_t n);
float ck_l2sq_portable_f32(const float *a, const float *b, size_t n);
/// Row r of a strided base is the `dim` floats at (char *)base + r * stride (stride in bytes),
/// e.g. a contiguous [count, dim] matrix (stride = 4 * dim) or the HNSW graph's node blocks.
/// out[r] = f(q, row r) for r < count.
void ck_dot_batch_f32(const float *q, const void *base, size_t stride, size_t count, size_t dim, float *out);
void ck_l2sq_batch_f32(const float *q, const void *base, size_t stride, size_t count, size_t dim, float *out);
/// out[i] = f(q, row ids[i]) for rows scattered in a strided base, prefetching the next row.
void ck_dot_gather_f32(const float *q, const void *base, size_t stride, size_t dim,
                       const int32_t *ids, size_t n, float *out);
void ck_l2sq_gather_f32(const float *q, const void *base, size_t stride, size_t dim,
                        const int32_t *ids, size_t n, float *out);
/// Asks for the cache line at `p` (for the graph walk: the next candidate's neighbour list).
static inline void ck_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
// ---- Checkpoint formats: half floats and GGUF (ggml) quantized blocks ----
// Block layouts (little-endian, `d`/`m` are IEEE half floats):
//   Q8_0: 32 values in 34 bytes  { f16 d; int8 q[32] }                 x = d*q
//   Q4_0: 32 values in 18 bytes  { f16 d; u8 q[16] }                   x = d*(nibble-8)
//   Q4_1: 32 values in 20 bytes  { f16 d; f16 m; u8 q[16] }            x = d*nibble + m
//   Q4_K: 256 values in 144 bytes { f16 d; f16 dmin; u8 scales[12]; u8 q[128] }
//   Q6_K: 256 values in 210 bytes { u8 ql[128]; u8 qh[64]; int8 scales[16]; f16 d }
// Low nibbles of q[j] hold element j, high nibbles element j+16 (j+32 within a K sub-block).
/// IEEE half / bfloat16 bit patterns <-> float, `n` values.
void ck_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void ck_bf16_to_f32(const uint16_t *src, float *dst, size_t n);
/// Round to nearest even; overflow becomes infinity, NaN stays NaN.
void ck_f32_to_f16(const float *src, uint16_t *dst, size_t n);
void ck_f32_to_bf16(const float *src, uint16_t *dst, size_t n);
/// Dequantizes `n` values (a multiple of the block size) from consecutive blocks at `src`.
void ck_dequant_q8_0(const uint8_t *src, float *dst, size_t n);
void ck_dequant_q4_0(const uint8_t *src, float *dst, size_t n);
void ck_dequant_q4_1(const uint8_t *src, float *dst, size_t n);
void ck_dequant_q4_k(const uint8_t *src, float *dst, size_t n);
void ck_dequant_q6_k(const uint8_t *src, float *dst, size_t n);
/// y[r] = dot(row r of W, x) for r in [r0, r1). W has `cols` columns (a multiple of 32) stored
/// row after row, each row `cols/32` blocks. Weights are used in place (never fully dequantized);
/// activations stay Float32. `xsum` (Q4_1 only) holds the sum of x over each 32-value block
/// (see ck_block_sums32).
void ck_q8_0_matvec(const uint8_t *w, size_t cols, const float *x, float *y, size_t r0, size_t r1);
void ck_q4_1_matvec(const uint8_t *w, size_t cols, const float *x, const float *xsum,
                    float *y, size_t r0, size_t r1);
/// xsum[b] = x[32b] + ... + x[32b+31] for b < cols/32.
void ck_block_sums32(const float *x, size_t cols, float *xsum);
/// Kernel variant the quantized matvecs use: 0 portable, 1 AVX2+FMA, 2 AVX-512.
int ck_quant_simd_level(void);
/// Forces a variant (clamped to what the CPU supports; -1 = best); returns the one in effect. For tests.
int ck_quant_set_simd_level(int level);
// ---- Transformer inference kernels (activations.c): GELU, softmax, residual + LayerNorm ----
/// x[r, j] = gelu(x[r, j] + bias[j]) (exact erf form, |erf error| < 3e-7), in place; bias may be NULL.
void ck_bias_gelu_f32(float *x, const float *bias, size_t rows, size_t cols);
/// Softmax of n values in place (max subtracted first); a row of only -inf becomes zeros.
void ck_softmax_f32(float *p, size_t n);
/// The softmax without its last pass: p = exp(p - max p) in place; returns 1 / sum(p), the factor the
/// caller applies later (e.g. to P V's rows); 0 for a row of only -inf (p becomes zeros).
float ck_softmax_unnormalized_f32(float *p, size_t n);
/// Per row: x = LayerNorm(x + y + y_bias) * w + b over `cols` values (biased variance, like torch),
/// in place. y and y_bias may be NULL (plain LayerNorm).
void ck_add_layernorm_f32(float *x, const float *y, const float *y_bias, const float *w, const float *b,
                          float eps, size_t rows, size_t cols);
/// Variant the kernels above use: 0 portable, 1 AVX2+FMA, 2 that with AVX-512F for GELU and the softmax.
int ck_act_simd_level(void);
/// Forces a variant (clamped to what the CPU supports; -1 = best); returns the one in effect. For tests.
int ck_act_set_simd_level(int level);
// ---- GEMM against a pre-packed right operand (gemm.c): the encoder's linear layers and attention ----
/// Floats that B [k, n] takes once packed (16-column panels, zero padded past n).
size_t ck_sgemm_packed_size(size_t n, size_t k);
/// Packs B from its columns stored as rows: B[p, j] = alpha * src[j * ld + p] (a PyTorch Linear
/// weight [out = n, in = k], or K of attention for Q K^T).
void ck_sgemm_pack_rows(const float *src, size_t ld, size_t n, size_t k, float alpha, float *packed);
/// Packs B stored row-major: B[p, j] = src[p * ld + j] (V of attention for P V).
void ck_sgemm_pack_cols(const float *src, size_t ld, size_t n, size_t k, float *packed);
/// C[m, n] = A[m, k] B + bias[n] (bias may be NULL). A and C row-major with row strides lda, ldc;
/// C is written, not accumulated into. packed_b must be 64-byte aligned.
void ck_sgemm_packed(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                     const float *bias, float *c, size_t ldc);
/// C = GELU(A B + bias) (exact erf form, as ck_bias_gelu_f32): an MLP's first layer.
void ck_sgemm_packed_gelu(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                          const float *bias, float *c, size_t ldc);
/// C[i, :] = row_scale[i] * (A[i, :] B) (no bias): attention's P V with the softmax's 1 / sum.
void ck_sgemm_packed_row_scaled(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed_b,
                                const float *row_scale, float *c, size_t ldc);
/// BLAS's sgemm (row-major): C = alpha op(A) op(B) + beta C, op = transpose when trans_* is 1, on
/// the kernels above (Float32 whatever the level): op(B) packed per call, a transposed A copied.
/// Returns 0, or -1 (C untouched) when memory for the copies is not available.
int ck_sgemm(int trans_a, int trans_b, size_t m, size_t n, size_t k, float alpha, const float *a, size_t lda,
             const float *b, size_t ldb, float beta, float *c, size_t ldc);
/// Variant ck_sgemm_packed uses: 0 portable, 1 AVX2+FMA (6 x 16 tiles), 2 AVX-512F (12 x 16); 3 is 2
/// here, and where AMX is usable: PackedMatrix packs weights for ck_sgemm_bf16x3 and attention uses it.
int ck_gemm_simd_level(void);
/// Forces a variant (clamped to what the CPU supports; -1 = best); returns the one in effect. For tests.
int ck_gemm_set_simd_level(int level);
// ---- GEMM on AMX tiles in bf16x3 (gemm_amx.c): the encoder's linear layers where the CPU has AMX ----
/// 1 when the CPU has AMX-BF16 and AVX-512 BF16 and Linux grants this process the tile state.
int ck_amx_available(void);
/// bf16 values (uint16) that B [k, n] takes once packed for ck_sgemm_bf16x3.
size_t ck_sgemm_bf16x3_packed_size(size_t n, size_t k);
/// Packs B from its columns stored as rows, B[p, j] = alpha * src[j * ld + p] (a Linear weight
/// [n, k], or K of attention), each value split into bfloat16 hi + lo parts. packed: 64-byte aligned.
void ck_sgemm_bf16x3_pack_rows(const float *src, size_t ld, size_t n, size_t k, float alpha, uint16_t *packed);
/// Packs B stored row-major, B[p, j] = src[p * ld + j] (V of attention).
void ck_sgemm_bf16x3_pack_cols(const float *src, size_t ld, size_t n, size_t k, uint16_t *packed);
/// C[i, j] = row_scale[i] (A[i, :] B[:, j]) + bias[j] (either may be NULL), then GELU when `gelu`
/// is 1: on AMX tiles with three bf16 products (about 16 bits of each operand) at ck_gemm_simd_level() 3,
/// else a slow portable loop. A and C row-major with row strides lda, ldc; C is written.
void ck_sgemm_bf16x3(size_t m, size_t n, size_t k, const float *a, size_t lda, const uint16_t *packed_b,
                     const float *bias, const float *row_scale, int gelu, float *c, size_t ldc);
// ---- The heap (heap_policy.c) ----
/// glibc: keep freed memory in the heap for reuse (no mmap under 1 GB, no trimming). 0, or -1
/// where the C library has no such settings.
int ck_keep_freed_memory(void);
// ---- GEMM in bf16 with Float32 sums (gemm_bf16.c): training's frozen products with --bf16 ----
/// 1 when the CPU has AVX512-BF16 (VDPBF16PS).
int ck_bf16_gemm_available(void);
/// C[m, n] = A[m, k] op(B) (+ C when `accumulate` is 1), op(B) = B [k, n] (trans_b 0, row stride
/// ldb) or Bᵀ of B [n, k] (trans_b 1): both operands rounded to bf16 (nearest even), sums in
/// Float32. Returns 0, or -1 (C untouched) without AVX512-BF16 or memory for the packed copies.
int ck_sgemm_bf16(int trans_b, size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                  int accumulate, float *c, size_t ldc);
// ---- A persistent worker pool (worker_pool.c) for many short parallel sections ----
typedef struct ck_pool ck_pool;
/// One chunk of a parallel section: `chunk` in 0 ..< `chunks`.
typedef void (*ck_pool_fn)(void *ctx, int chunk, int chunks);
/// A pool of `threads` (the caller counts as one, so `threads - 1` are created). NULL if out of memory.
ck_pool *ck_pool_create(int threads);
/// Threads that take part in each section (fewer than asked if some could not be created).
int ck_pool_threads(const ck_pool *pool);
/// Runs fn(ctx, c, chunks) for every c < chunks, each once, on whichever thread claims it first
/// (the caller takes part; more than 65535 chunks run on the caller alone); returns when all are
/// done. One caller at a time.
void ck_pool_run(ck_pool *pool, ck_pool_fn fn, void *ctx, int chunks);
void ck_pool_destroy(ck_pool *pool);
// ---- Decode attention (decode_attention.c) ----
/// One query q[hd] over `length` cached rows: out[hd] = softmax(scale · K q) · V, where row j of K
/// and V is hd floats at keys + j·stride / values + j·stride. `scores` is scratch of `length`
/// floats. Variant follows ck_quant_simd_level() (AVX2 when ≥ 1 and hd is a multiple of 8 ≤ 256).
void ck_attend_one(const float *q, const float *keys, const float *values, size_t stride, size_t length,
                   size_t hd, float scale, float *scores, float *out);
