// Hot numeric kernels in C so they can use AVX2/AVX-512 chosen at run time while the Swift code
// stays built for baseline x86-64. Each kernel has a portable fallback.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Number of SIMD lanes the dispatcher picked (1 = portable, 8 = AVX2, 16 = AVX-512), for reports.
int ck_simd_width(void);
