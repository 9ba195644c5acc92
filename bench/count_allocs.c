// LD_PRELOAD shim counting heap allocations (malloc, calloc, realloc, aligned_alloc,
// posix_memalign): prints the total to stderr at exit. bench/run.sh runs a training of N and of
// 2N batches under it; the difference over N is the allocations per batch in steady state.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static atomic_long count;
static void* (*real_malloc)(size_t);
static void* (*real_calloc)(size_t, size_t);
static void* (*real_realloc)(void*, size_t);
static void* (*real_aligned_alloc)(size_t, size_t);
static int (*real_posix_memalign)(void**, size_t, size_t);

// dlsym itself may calloc before real_calloc is known: serve it from a static buffer.
static char early[4096];
static size_t early_used;
static int initializing;

static void init(void) {
  initializing = 1;
  real_malloc = dlsym(RTLD_NEXT, "malloc");
  real_calloc = dlsym(RTLD_NEXT, "calloc");
  real_realloc = dlsym(RTLD_NEXT, "realloc");
  real_aligned_alloc = dlsym(RTLD_NEXT, "aligned_alloc");
  real_posix_memalign = dlsym(RTLD_NEXT, "posix_memalign");
  initializing = 0;
}

void* malloc(size_t n) {
  if (!real_malloc) init();
  atomic_fetch_add(&count, 1);
  return real_malloc(n);
}
void* calloc(size_t a, size_t b) {
  if (initializing) {
    void* p = early + early_used;
    early_used += (a * b + 15) & ~(size_t)15;
    return p;
  }
  if (!real_calloc) init();
  atomic_fetch_add(&count, 1);
  return real_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  if (!real_realloc) init();
  atomic_fetch_add(&count, 1);
  return real_realloc(p, n);
}
void* aligned_alloc(size_t a, size_t n) {
  if (!real_aligned_alloc) init();
  atomic_fetch_add(&count, 1);
  return real_aligned_alloc(a, n);
}
int posix_memalign(void** p, size_t a, size_t n) {
  if (!real_posix_memalign) init();
  atomic_fetch_add(&count, 1);
  return real_posix_memalign(p, a, n);
}
void free(void* p) {
  static void (*real_free)(void*);
  if (p >= (void*)early && p < (void*)(early + sizeof early)) return;
  if (!real_free) real_free = dlsym(RTLD_NEXT, "free");
  real_free(p);
}

__attribute__((destructor)) static void report(void) { fprintf(stderr, "heap allocations: %ld\n", atomic_load(&count)); }
