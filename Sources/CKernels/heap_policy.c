// glibc's heap settings (malloc.h is not in Swift's Glibc module): see Tensor/HeapPolicy.swift.
#include "ckernels.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int ck_keep_freed_memory(void) {
#if defined(__GLIBC__)
    // No mmap for blocks under 1 GB (freed ones go back to the heap), and never trim the heap's top.
    return mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 && mallopt(M_TRIM_THRESHOLD, 0x7fffffff) == 1 ? 0 : -1;
#else
    return -1;
#endif
}
