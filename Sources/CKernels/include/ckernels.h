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
/// out[r] = f(q, base[r]) for a contiguous base [count, dim].
void ck_dot_batch_f32(const float *q, const float *base, size_t count, size_t dim, float *out);
void ck_l2sq_batch_f32(const float *q, const float *base, size_t count, size_t dim, float *out);
/// out[i] = f(q, base[ids[i]]) for rows gathered from a base [N, dim], prefetching the next row.
void ck_dot_gather_f32(const float *q, const float *base, size_t dim,
                       const int32_t *ids, size_t n, float *out);
void ck_l2sq_gather_f32(const float *q, const float *base, size_t dim,
                        const int32_t *ids, size_t n, float *out);
