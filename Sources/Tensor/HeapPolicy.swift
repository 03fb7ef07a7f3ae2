import CKernels

// A training step allocates and frees the same large buffers every step (activations, attention
// probabilities, gradients: tens of MB each). glibc serves blocks above its mmap threshold (at most
// 32 MB, adjusted as it goes) with fresh mappings and gives them back on free, so each step pays
// for page faults and the kernel zeroing every new page again: 11 % of a step's time in
// `clear_page_erms` (perf, SmolLM2 SFT with 1,000-token sequences), and 115 → 143–154 tokens/s
// with this call (bench-train sft --batch 2 --length 1024 --bf16 --no-recompute, 2 threads, before
// products were split over threads; glibc's MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_ set in
// the environment instead gave 172).

public enum HeapPolicy {
    /// From now on, freed memory stays in the process's heap for the next allocation instead of
    /// going back to the kernel (no mmap below 1 GB, no trimming): for a training run, whose
    /// resident memory is its peak anyway. A server that idles should not call this.
    public static func keepFreedMemory() {
        _ = ck_keep_freed_memory()   // (a C library other than glibc: nothing to do)
    }
}
