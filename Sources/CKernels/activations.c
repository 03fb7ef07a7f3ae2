// Elementwise and per-row kernels of the transformer's inference path: GELU (exact erf form, with
// an optional bias added first), softmax of one row, residual add + LayerNorm of rows. Each has an
// AVX2+FMA variant chosen once at run time and a portable fallback that tests can force.
#include "ckernels.h"
#include "avx2_reduce.h"
#include "activation_math.h"
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// ---- portable ---------------------------------------------------------------------------------

static void bias_gelu_portable(float *x, const float *bias, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        for (size_t j = 0; j < cols; j++) {
            float v = row[j] + (bias ? bias[j] : 0.0f);
            row[j] = gelu_portable(v);
        }
    }
}

// p = exp(p - max p) in place; returns 1 / sum (0 when every value is -inf: p becomes zeros).
static float exp_shifted_portable(float *p, size_t n) {
    float m = -INFINITY;
    for (size_t i = 0; i < n; i++) m = p[i] > m ? p[i] : m;
    if (m == -INFINITY) { for (size_t i = 0; i < n; i++) p[i] = 0; return 0; }
    float s = 0;
    for (size_t i = 0; i < n; i++) { p[i] = expf(p[i] - m); s += p[i]; }
    return 1.0f / s;
}

static void add_layernorm_portable(float *x, const float *y, const float *y_bias, const float *w,
                                   const float *b, float eps, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *xr = x + r * cols;
        const float *yr = y ? y + r * cols : NULL;
        float mean = 0;
        for (size_t j = 0; j < cols; j++) {
            float v = xr[j] + (yr ? yr[j] : 0.0f) + (y_bias ? y_bias[j] : 0.0f);
            xr[j] = v;
            mean += v;
        }
        mean /= (float)cols;
        float var = 0;
        for (size_t j = 0; j < cols; j++) { float d = xr[j] - mean; var += d * d; }
        float rstd = 1.0f / sqrtf(var / (float)cols + eps);
        for (size_t j = 0; j < cols; j++) xr[j] = (xr[j] - mean) * rstd * w[j] + b[j];
    }
}

#if defined(__x86_64__)
// ---- AVX2 + FMA --------------------------------------------------------------------------------

__attribute__((target("avx2,fma")))
static void bias_gelu_avx2(float *x, const float *bias, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        size_t j = 0;
        for (; j + 8 <= cols; j += 8) {
            __m256 v = _mm256_loadu_ps(row + j);
            if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + j));
            _mm256_storeu_ps(row + j, gelu8(v));
        }
        if (j < cols) bias_gelu_portable(row + j, bias ? bias + j : NULL, 1, cols - j);
    }
}

__attribute__((target("avx2,fma")))
static float exp_shifted_avx2(float *p, size_t n) {
    __m256 m8 = _mm256_set1_ps(-INFINITY);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) m8 = _mm256_max_ps(m8, _mm256_loadu_ps(p + i));
    float m = ck_hmax8(m8);
    for (; i < n; i++) m = p[i] > m ? p[i] : m;
    if (m == -INFINITY) { for (i = 0; i < n; i++) p[i] = 0; return 0; }
    __m256 mv = _mm256_set1_ps(m), s8 = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp8_nonpositive(_mm256_sub_ps(_mm256_loadu_ps(p + i), mv));
        _mm256_storeu_ps(p + i, e);
        s8 = _mm256_add_ps(s8, e);
    }
    float s = ck_hsum8(s8);
    for (; i < n; i++) { p[i] = expf(p[i] - m); s += p[i]; }
    return 1.0f / s;
}

__attribute__((target("avx2,fma")))
static void scale_avx2(float *p, size_t n, float k) {
    __m256 kv = _mm256_set1_ps(k);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(p + i, _mm256_mul_ps(_mm256_loadu_ps(p + i), kv));
    for (; i < n; i++) p[i] *= k;
}

__attribute__((target("avx2,fma")))
static void add_layernorm_avx2(float *x, const float *y, const float *y_bias, const float *w,
                               const float *b, float eps, size_t rows, size_t cols) {
    if (cols % 8 != 0) { add_layernorm_portable(x, y, y_bias, w, b, eps, rows, cols); return; }
    for (size_t r = 0; r < rows; r++) {
        float *xr = x + r * cols;
        const float *yr = y ? y + r * cols : NULL;
        __m256 s8 = _mm256_setzero_ps();
        for (size_t j = 0; j < cols; j += 8) {
            __m256 v = _mm256_loadu_ps(xr + j);
            if (yr) v = _mm256_add_ps(v, _mm256_loadu_ps(yr + j));
            if (y_bias) v = _mm256_add_ps(v, _mm256_loadu_ps(y_bias + j));
            _mm256_storeu_ps(xr + j, v);
            s8 = _mm256_add_ps(s8, v);
        }
        __m256 mean = _mm256_set1_ps(ck_hsum8(s8) / (float)cols), v8 = _mm256_setzero_ps();
        for (size_t j = 0; j < cols; j += 8) {
            __m256 d = _mm256_sub_ps(_mm256_loadu_ps(xr + j), mean);
            v8 = _mm256_fmadd_ps(d, d, v8);
        }
        __m256 rstd = _mm256_set1_ps(1.0f / sqrtf(ck_hsum8(v8) / (float)cols + eps));
        for (size_t j = 0; j < cols; j += 8) {
            __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(xr + j), mean), rstd);
            _mm256_storeu_ps(xr + j, _mm256_fmadd_ps(d, _mm256_loadu_ps(w + j), _mm256_loadu_ps(b + j)));
        }
    }
}
#endif

#if defined(__x86_64__)
// Sixteen lanes: the softmax's exp and GELU (the parts of the encoder's inference that stay in
// Float32 vector code once its products run on AMX tiles).
__attribute__((target("avx512f")))
static float exp_shifted_avx512(float *p, size_t n) {
    __m512 m16 = _mm512_set1_ps(-INFINITY);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) m16 = _mm512_max_ps(m16, _mm512_loadu_ps(p + i));
    if (i < n) m16 = _mm512_mask_max_ps(m16, (__mmask16)((1u << (n - i)) - 1), m16, _mm512_maskz_loadu_ps((__mmask16)((1u << (n - i)) - 1), p + i));
    float m = _mm512_reduce_max_ps(m16);
    if (m == -INFINITY) { for (i = 0; i < n; i++) p[i] = 0; return 0; }
    __m512 mv = _mm512_set1_ps(m), s16 = _mm512_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 e = exp16_nonpositive(_mm512_sub_ps(_mm512_loadu_ps(p + i), mv));
        _mm512_storeu_ps(p + i, e);
        s16 = _mm512_add_ps(s16, e);
    }
    if (i < n) {
        __mmask16 tail = (__mmask16)((1u << (n - i)) - 1);
        __m512 e = _mm512_maskz_mov_ps(tail, exp16_nonpositive(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, p + i), mv)));
        _mm512_mask_storeu_ps(p + i, tail, e);
        s16 = _mm512_add_ps(s16, e);
    }
    return 1.0f / _mm512_reduce_add_ps(s16);
}

__attribute__((target("avx512f")))
static void bias_gelu_avx512(float *x, const float *bias, size_t rows, size_t cols) {
    for (size_t r = 0; r < rows; r++) {
        float *row = x + r * cols;
        size_t j = 0;
        for (; j + 16 <= cols; j += 16) {
            __m512 v = _mm512_loadu_ps(row + j);
            if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + j));
            _mm512_storeu_ps(row + j, gelu16(v));
        }
        for (; j < cols; j++) row[j] = gelu_portable(row[j] + (bias ? bias[j] : 0));
    }
}
#endif

// ---- dispatch ----------------------------------------------------------------------------------

static int act_level = -1;   // -1: not chosen yet; 0 portable; 1 AVX2+FMA; 2 that, and AVX-512F for exp and GELU

static int best_level(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return __builtin_cpu_supports("avx512f") ? 2 : 1;
#endif
    return 0;
}

int ck_act_simd_level(void) {
    int level = __atomic_load_n(&act_level, __ATOMIC_RELAXED);
    if (level < 0) {
        level = best_level();
        __atomic_store_n(&act_level, level, __ATOMIC_RELAXED);
    }
    return level;
}

int ck_act_set_simd_level(int level) {
    int best = best_level();
    int chosen = (level < 0 || level > best) ? best : level;
    __atomic_store_n(&act_level, chosen, __ATOMIC_RELAXED);
    return chosen;
}

void ck_bias_gelu_f32(float *x, const float *bias, size_t rows, size_t cols) {
#if defined(__x86_64__)
    if (ck_act_simd_level() == 2) { bias_gelu_avx512(x, bias, rows, cols); return; }
    if (ck_act_simd_level() == 1) { bias_gelu_avx2(x, bias, rows, cols); return; }
#endif
    bias_gelu_portable(x, bias, rows, cols);
}

void ck_softmax_f32(float *p, size_t n) {
#if defined(__x86_64__)
    if (ck_act_simd_level() >= 1) { scale_avx2(p, n, ck_act_simd_level() == 2 ? exp_shifted_avx512(p, n) : exp_shifted_avx2(p, n)); return; }
#endif
    float inv = exp_shifted_portable(p, n);
    for (size_t i = 0; i < n; i++) p[i] *= inv;
}

float ck_softmax_unnormalized_f32(float *p, size_t n) {
#if defined(__x86_64__)
    if (ck_act_simd_level() == 2) return exp_shifted_avx512(p, n);
    if (ck_act_simd_level() == 1) return exp_shifted_avx2(p, n);
#endif
    return exp_shifted_portable(p, n);
}

void ck_add_layernorm_f32(float *x, const float *y, const float *y_bias, const float *w, const float *b,
                          float eps, size_t rows, size_t cols) {
    if (cols == 0) return;
#if defined(__x86_64__)
    if (ck_act_simd_level() >= 1) { add_layernorm_avx2(x, y, y_bias, w, b, eps, rows, cols); return; }
#endif
    add_layernorm_portable(x, y, y_bias, w, b, eps, rows, cols);
}
