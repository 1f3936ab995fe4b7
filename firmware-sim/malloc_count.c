/* Heap accounting for the firmware-sim binaries, linked with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,--wrap=posix_memalign,--wrap=aligned_alloc
 * Every block carries a 16-byte header (the pointer the real allocator returned, and the size), so the live
 * and peak byte counts are exact. With CRNN_HEAP_REPORT set, the totals are printed to stderr at exit:
 *   heap: peak N bytes, N allocations, N still live at exit
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t);
void __real_free(void *);
int __real_posix_memalign(void **, size_t, size_t);

static size_t live_bytes, peak_bytes, allocations, live_blocks;
struct header { void *base; size_t size; };
#define HEADER 16

static void *track(void *base, char *user, size_t size) {
    struct header h = { base, size };
    memcpy(user - HEADER, &h, sizeof h);
    live_bytes += size;
    if (live_bytes > peak_bytes) peak_bytes = live_bytes;
    allocations++;
    live_blocks++;
    return user;
}

static struct header header_of(void *p) { struct header h; memcpy(&h, (char *)p - HEADER, sizeof h); return h; }

void *__wrap_malloc(size_t size) {
    char *base = __real_malloc(size + HEADER);
    return base ? track(base, base + HEADER, size) : NULL;
}

void __wrap_free(void *p) {
    if (!p) return;
    struct header h = header_of(p);
    live_bytes -= h.size;
    live_blocks--;
    __real_free(h.base);
}

void *__wrap_calloc(size_t n, size_t size) {
    if (size && n > (SIZE_MAX - HEADER) / size) return NULL;
    void *p = __wrap_malloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

void *__wrap_realloc(void *p, size_t size) {
    if (!p) return __wrap_malloc(size);
    if (size == 0) { __wrap_free(p); return NULL; }
    void *q = __wrap_malloc(size);
    if (!q) return NULL;
    size_t old = header_of(p).size;
    memcpy(q, p, old < size ? old : size);
    __wrap_free(p);
    return q;
}

int __wrap_posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < HEADER) alignment = HEADER;
    void *base = NULL;
    int rc = __real_posix_memalign(&base, alignment, size + alignment);
    if (rc) return rc;
    *out = track(base, (char *)base + alignment, size);
    return 0;
}

void *__wrap_aligned_alloc(size_t alignment, size_t size) {
    void *p = NULL;
    return __wrap_posix_memalign(&p, alignment, size) ? NULL : p;
}

static void report(void) {
    if (getenv("CRNN_HEAP_REPORT"))
        fprintf(stderr, "heap: peak %zu bytes, %zu allocations, %zu still live at exit\n", peak_bytes, allocations, live_blocks);
}

__attribute__((constructor)) static void install(void) { atexit(report); }
