// Dequantization of ggml blocks to Float32 (layouts in ckernels.h). Portable C: used for loading
// whole tensors, embedding rows and row tiles of batched matmuls, none of which is the hot path.
#include "ckernels.h"
#include "half.h"
#include <string.h>

static inline float half_at(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return ck_half_to_float(h);
}

void ck_dequant_q8_0(const uint8_t *src, float *dst, size_t n) {
    for (size_t b = 0; b < n / 32; b++, src += 34, dst += 32) {
        float d = half_at(src);
        const int8_t *q = (const int8_t *)(src + 2);
        for (int j = 0; j < 32; j++) dst[j] = d * (float)q[j];
    }
}

void ck_dequant_q4_0(const uint8_t *src, float *dst, size_t n) {
    for (size_t b = 0; b < n / 32; b++, src += 18, dst += 32) {
        float d = half_at(src);
        const uint8_t *q = src + 2;
        for (int j = 0; j < 16; j++) {
            dst[j] = d * (float)((int)(q[j] & 0x0F) - 8);
            dst[j + 16] = d * (float)((int)(q[j] >> 4) - 8);
        }
    }
}

void ck_dequant_q4_1(const uint8_t *src, float *dst, size_t n) {
    for (size_t b = 0; b < n / 32; b++, src += 20, dst += 32) {
        float d = half_at(src), m = half_at(src + 2);
        const uint8_t *q = src + 4;
        for (int j = 0; j < 16; j++) {
            dst[j] = d * (float)(q[j] & 0x0F) + m;
            dst[j + 16] = d * (float)(q[j] >> 4) + m;
        }
    }
}

// Q4_K packs 8 six-bit scales and 8 six-bit mins into 12 bytes: sub-blocks 0-3 in the low six
// bits of bytes 0-3 (scales) and 4-7 (mins); sub-blocks 4-7 in bytes 8-11 (low nibble scale, high
// nibble min) plus the top two bits of bytes 0-3 (scale) and 4-7 (min).
static inline void q4_k_scale_min(int j, const uint8_t *s, uint8_t *scale, uint8_t *min) {
    if (j < 4) {
        *scale = s[j] & 63;
        *min = s[j + 4] & 63;
    } else {
        *scale = (uint8_t)((s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4));
        *min = (uint8_t)((s[j + 4] >> 4) | ((s[j] >> 6) << 4));
    }
}

void ck_dequant_q4_k(const uint8_t *src, float *dst, size_t n) {
    for (size_t b = 0; b < n / 256; b++, src += 144) {
        float d = half_at(src), dmin = half_at(src + 2);
        const uint8_t *scales = src + 4, *q = src + 16;
        // 4 groups of 64 values: 32 bytes whose low nibbles are sub-block 2g, high nibbles 2g+1
        for (int g = 0; g < 4; g++, q += 32, dst += 64) {
            uint8_t sc, mn;
            q4_k_scale_min(2 * g, scales, &sc, &mn);
            float d1 = d * sc, m1 = dmin * mn;
            q4_k_scale_min(2 * g + 1, scales, &sc, &mn);
            float d2 = d * sc, m2 = dmin * mn;
            for (int l = 0; l < 32; l++) {
                dst[l] = d1 * (float)(q[l] & 0x0F) - m1;
                dst[l + 32] = d2 * (float)(q[l] >> 4) - m2;
            }
        }
    }
}

void ck_dequant_q6_k(const uint8_t *src, float *dst, size_t n) {
    for (size_t b = 0; b < n / 256; b++, src += 210) {
        const uint8_t *ql = src, *qh = src + 128;
        const int8_t *sc = (const int8_t *)(src + 192);
        float d = half_at(src + 208);
        // 2 halves of 128 values; each value = 4 low bits from ql + 2 high bits from qh, minus 32
        for (int h = 0; h < 2; h++, ql += 64, qh += 32, sc += 8, dst += 128) {
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q1 = (int)((ql[l] & 0x0F) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = (int)((ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                dst[l] = d * (float)sc[is] * (float)q1;
                dst[l + 32] = d * (float)sc[is + 2] * (float)q2;
                dst[l + 64] = d * (float)sc[is + 4] * (float)q3;
                dst[l + 96] = d * (float)sc[is + 6] * (float)q4;
            }
        }
    }
}
