// Private to CKernels: scalar half -> float used by the quantized-block kernels.
#pragma once
#include <stdint.h>

float ck_half_to_float(uint16_t h);
