// A pool of threads created once and woken for each parallel section (as ggml's threadpool does).
// A section is `chunks` independent pieces of work. The caller publishes it by bumping a
// generation counter: workers still spinning see it at once, workers that went to sleep on it (a
// futex) are woken. Everyone, the caller included, then claims chunks from a shared cursor until
// none are left, so a worker that is slow to wake (a busy machine) just does fewer chunks, and the
// caller only ever waits for chunks already being run. Spinning is bounded: an idle pool sleeps.
#define _GNU_SOURCE
#include "ckernels.h"
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

// Pause instructions a worker polls for the next section before sleeping (well under a millisecond).
enum { SPIN_POLLS = 1 << 14, YIELD_EVERY = 1 << 10 };

struct ck_pool {
    int threads;                   // including the caller
    pthread_t *workers;            // threads - 1
    _Atomic uint32_t generation;   // futex word: bumped once per section
    _Atomic uint64_t cursor;       // generation << 32 | chunks << 16 | next unclaimed chunk
    _Atomic int done;              // chunks finished in the current section
    _Atomic int sleeping;          // workers inside futex_wait (or about to be)
    _Atomic int stop;
    ck_pool_fn fn;
    void *ctx;
};

struct worker_start {
    ck_pool *pool;
};

static void futex_wait(_Atomic uint32_t *word, uint32_t expected) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

static void futex_wake_all(_Atomic uint32_t *word) {
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 0x7fffffff, NULL, NULL, 0);
}

// The generation after `seen`, spinning a while and then sleeping until it changes.
static uint32_t await_generation(ck_pool *pool, uint32_t seen) {
    for (int i = 0; i < SPIN_POLLS; i++) {
        uint32_t g = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (g != seen) return g;
        CPU_RELAX();
    }
    for (;;) {
        atomic_fetch_add(&pool->sleeping, 1);
        futex_wait(&pool->generation, seen);  // returns at once if the generation moved meanwhile
        atomic_fetch_sub(&pool->sleeping, 1);
        uint32_t g = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (g != seen) return g;
    }
}

// Claims and runs chunks of section `generation` until none are left (or a newer section began).
static void run_chunks(ck_pool *pool, uint32_t generation) {
    uint64_t v = atomic_load_explicit(&pool->cursor, memory_order_acquire);
    for (;;) {
        int chunks = (int)(v >> 16 & 0xFFFF), next = (int)(v & 0xFFFF);
        if ((uint32_t)(v >> 32) != generation || next >= chunks) return;
        if (!atomic_compare_exchange_weak_explicit(&pool->cursor, &v, v + 1, memory_order_acq_rel, memory_order_acquire)) continue;
        // The claimed chunk keeps the section open, so fn and ctx are still this section's.
        pool->fn(pool->ctx, next, chunks);
        atomic_fetch_add_explicit(&pool->done, 1, memory_order_release);
        v = atomic_load_explicit(&pool->cursor, memory_order_acquire);
    }
}

static void *worker_main(void *arg) {
    ck_pool *pool = ((struct worker_start *)arg)->pool;
    free(arg);
    uint32_t seen = 0;
    for (;;) {
        seen = await_generation(pool, seen);
        if (atomic_load_explicit(&pool->stop, memory_order_acquire)) return NULL;
        run_chunks(pool, seen);
    }
}

ck_pool *ck_pool_create(int threads) {
    ck_pool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->threads = threads < 1 ? 1 : threads;
    pool->workers = calloc((size_t)pool->threads, sizeof(pthread_t));
    if (!pool->workers) {
        free(pool);
        return NULL;
    }
    for (int i = 1; i < pool->threads; i++) {
        struct worker_start *start = malloc(sizeof *start);
        if (start) start->pool = pool;
        if (!start || pthread_create(&pool->workers[i - 1], NULL, worker_main, start) != 0) {
            free(start);
            pool->threads = i;  // run with the workers that did start
            break;
        }
    }
    return pool;
}

int ck_pool_threads(const ck_pool *pool) { return pool->threads; }

void ck_pool_run(ck_pool *pool, ck_pool_fn fn, void *ctx, int chunks) {
    if (chunks <= 0) return;
    if (pool->threads == 1 || chunks == 1 || chunks > 0xFFFF) {  // (the cursor counts 16 bits of chunks)
        for (int c = 0; c < chunks; c++) fn(ctx, c, chunks);
        return;
    }
    uint32_t generation = atomic_load_explicit(&pool->generation, memory_order_relaxed) + 1;
    pool->fn = fn;
    pool->ctx = ctx;
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->cursor, (uint64_t)generation << 32 | (uint64_t)chunks << 16, memory_order_release);
    atomic_store(&pool->generation, generation);  // seq_cst: ordered before the load of `sleeping`
    if (atomic_load(&pool->sleeping) > 0) futex_wake_all(&pool->generation);
    run_chunks(pool, generation);
    for (unsigned polls = 1; atomic_load_explicit(&pool->done, memory_order_acquire) < chunks; polls++) {
        if (polls % YIELD_EVERY == 0) sched_yield();  // a worker holding a chunk lost its core
        else CPU_RELAX();
    }
}

void ck_pool_destroy(ck_pool *pool) {
    if (!pool) return;
    atomic_store_explicit(&pool->stop, 1, memory_order_release);
    if (pool->threads > 1) {
        atomic_fetch_add(&pool->generation, 1);
        futex_wake_all(&pool->generation);
        for (int i = 0; i < pool->threads - 1; i++) pthread_join(pool->workers[i], NULL);
    }
    free(pool->workers);
    free(pool);
}
