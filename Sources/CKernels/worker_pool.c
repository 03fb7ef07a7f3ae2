// A pool of threads created once and woken for each parallel section (as ggml's threadpool does).
// A section is `chunks` independent pieces of work. The caller publishes it by bumping a
// generation counter: workers still spinning see it at once, workers that went to sleep on it (a
// futex) are woken. Everyone, the caller included, then claims chunks from a shared cursor until
// none are left, so a worker that is slow to wake (a busy machine) just does fewer chunks, and the
// caller only ever waits for chunks already being run.
//
// Spinning is bounded in time, and stops at once on a busy machine: a thread that was preempted
// twice within a few milliseconds (involuntary context switches: other processes want the cores)
// makes, for a while, workers sleep as soon as a section ends and the caller sleep while it waits
// for the last chunks. A spinning thread there only burns the time slice that the thread holding the
// critical path needs (measured: decode at 2 threads fell below 1 thread with two busy processes).
#define _GNU_SOURCE
#include "ckernels.h"
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

enum {
    CLOCK_EVERY = 64,  // pause instructions between two reads of the clock (~1–2 µs)
};
static const int64_t SPIN_NS = 200000;         // a worker polls this long for the next section, then sleeps
static const int64_t WAIT_SPIN_NS = 1000000;   // the caller polls this long for the last chunks, then sleeps
static const int64_t CONTENDED_NS = 100000000; // once preempted, threads sleep without spinning for this long

struct ck_pool {
    int threads;                   // including the caller
    pthread_t *workers;            // threads - 1
    _Atomic uint32_t generation;   // futex word: bumped once per section
    _Atomic uint64_t cursor;       // generation << 32 | chunks << 16 | next unclaimed chunk
    _Atomic uint32_t done;         // futex word: chunks finished in the current section
    _Atomic int sleeping;          // workers inside futex_wait (or about to be)
    _Atomic int caller_sleeping;   // the caller waits on `done` (or is about to)
    _Atomic int64_t contended_until; // CLOCK_MONOTONIC ns: until then, sleep instead of spinning
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

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

// Every CHECK_EVERY waits, each thread reads its count of involuntary context switches: two or
// more since the last check (a few milliseconds of decoding) mean other processes want the cores.
enum { CHECK_EVERY = 32 };
static _Thread_local unsigned waits;
static _Thread_local long involuntary;

static void note_preemptions(ck_pool *pool, int64_t now) {
    if (++waits % CHECK_EVERY) return;
    struct rusage usage;
    if (getrusage(RUSAGE_THREAD, &usage) != 0) return;
    long switches = usage.ru_nivcsw - involuntary;
    involuntary = usage.ru_nivcsw;
    if (switches >= 2 && waits > CHECK_EVERY) {
        atomic_store_explicit(&pool->contended_until, now + CONTENDED_NS, memory_order_relaxed);
    }
}

static int is_contended(ck_pool *pool, int64_t now) {
    return now < atomic_load_explicit(&pool->contended_until, memory_order_relaxed);
}

// Polls `done_polling(pool, arg)` for up to `budget` ns (less on a busy machine) and returns 1 as
// soon as it holds; 0 when the thread should sleep instead.
static int spin_until(ck_pool *pool, int64_t budget, int (*done_polling)(ck_pool *, uint32_t), uint32_t arg) {
    int64_t start = now_ns();
    note_preemptions(pool, start);
    if (is_contended(pool, start)) budget = 0;
    for (unsigned i = 1;; i++) {
        if (done_polling(pool, arg)) return 1;
        CPU_RELAX();
        if (i % CLOCK_EVERY) continue;
        if (now_ns() - start > budget) return 0;
    }
}

static int generation_moved(ck_pool *pool, uint32_t seen) {
    return atomic_load_explicit(&pool->generation, memory_order_acquire) != seen;
}

// The generation after `seen`, spinning a while and then sleeping until it changes.
static uint32_t await_generation(ck_pool *pool, uint32_t seen) {
    if (!spin_until(pool, SPIN_NS, generation_moved, seen)) {
        for (;;) {
            atomic_fetch_add(&pool->sleeping, 1);
            futex_wait(&pool->generation, seen);  // returns at once if the generation moved meanwhile
            atomic_fetch_sub(&pool->sleeping, 1);
            if (generation_moved(pool, seen)) break;
        }
    }
    return atomic_load_explicit(&pool->generation, memory_order_acquire);
}

static int all_done(ck_pool *pool, uint32_t chunks) {
    return atomic_load_explicit(&pool->done, memory_order_acquire) >= chunks;
}

// Returns when all `chunks` chunks of the current section have finished.
static void await_done(ck_pool *pool, uint32_t chunks) {
    if (spin_until(pool, WAIT_SPIN_NS, all_done, chunks)) return;
    for (;;) {
        atomic_store(&pool->caller_sleeping, 1);  // seq_cst: before the load of `done` below
        uint32_t d = atomic_load(&pool->done);
        if (d < chunks) futex_wait(&pool->done, d);  // the worker finishing the last chunk wakes us
        atomic_store_explicit(&pool->caller_sleeping, 0, memory_order_relaxed);
        if (all_done(pool, chunks)) return;
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
        uint32_t finished = atomic_fetch_add(&pool->done, 1) + 1;  // seq_cst: before the load of caller_sleeping
        if (finished == (uint32_t)chunks && atomic_load(&pool->caller_sleeping)) futex_wake_all(&pool->done);
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
    await_done(pool, (uint32_t)chunks);
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
