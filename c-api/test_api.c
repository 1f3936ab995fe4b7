/*
 * test_api: the C API's contract, run by c-api/check.sh on every architecture.
 *
 *   test_api MODEL.crnn AUDIO.raw      (raw s16le mono PCM at the model's rate, at least 5 s)
 *
 * Status codes for bad, truncated, corrupt and misaligned models and arenas, NULL and out-of-range arguments, the
 * stream's states (no window yet, finished, reset), that chunking, reset, two handles interleaved and two threads
 * at once give the same integers, and (built with -DCOUNT_HEAP and the --wrap flags in check.sh) the library's heap: peak bytes with a
 * caller-owned arena, nothing left after crnn_close. Prints `test_api: N checks passed` or the failures; exit 1
 * on any failure.
 */
#define _POSIX_C_SOURCE 200112L
#include "crnn.h"
#include "../examples/c/crnn_chunk.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int checks, failures;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;  /* the counters and the heap table (two threads run) */

#define CHECK(cond, ...)                                                         \
    do {                                                                         \
        int ok_ = (cond);                                                        \
        pthread_mutex_lock(&lock);                                               \
        checks++;                                                                \
        if (!ok_) {                                                              \
            failures++;                                                          \
            fprintf(stderr, "test_api: line %d: FAILED %s: ", __LINE__, #cond);  \
            fprintf(stderr, __VA_ARGS__);                                        \
            fputc('\n', stderr);                                                 \
        }                                                                        \
        pthread_mutex_unlock(&lock);                                             \
    } while (0)

#define STATUS(expr, want) \
    do { crnn_status got_ = (expr); CHECK(got_ == (want), "%s gave %d (%s)", #expr, (int)got_, crnn_status_string(got_)); } while (0)

/* ---- Heap accounting of the library's allocations (posix_memalign/free, wrapped at link time) -------------- */
#ifdef COUNT_HEAP
int __real_posix_memalign(void **p, size_t alignment, size_t size);
void __real_free(void *p);
enum { SLOTS = 4096 };
static void *slot_ptr[SLOTS];
static size_t slot_size[SLOTS];
static size_t live, peak;

int __wrap_posix_memalign(void **p, size_t alignment, size_t size) {
    int r = __real_posix_memalign(p, alignment, size);
    pthread_mutex_lock(&lock);
    if (r == 0) {
        for (int i = 0; i < SLOTS; i++) {
            if (!slot_ptr[i]) { slot_ptr[i] = *p; slot_size[i] = size; break; }
        }
        live += size;
        if (live > peak) peak = live;
    }
    pthread_mutex_unlock(&lock);
    return r;
}

void __wrap_free(void *p) {
    if (!p) return;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < SLOTS; i++) {
        if (slot_ptr[i] == p) { live -= slot_size[i]; slot_ptr[i] = NULL; break; }
    }
    pthread_mutex_unlock(&lock);
    __real_free(p);
}
#endif

static void *aligned_copy(const void *src, size_t n, size_t offset) {
    void *p = NULL;
    if (posix_memalign(&p, 16, n + offset + 16) != 0) abort();
    memcpy((char *)p + offset, src, n);
    return p;
}

static void *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = NULL;
    if (n <= 0 || posix_memalign(&p, 16, (size_t)n) != 0 || fread(p, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
    fclose(f);
    *size = (size_t)n;
    return p;
}

/* What one stream produced: every window's Q15 scores and logits, then the clip. */
typedef struct {
    int windows;
    int16_t scores[64][16];
    int8_t logits[64][16];
    int64_t starts[64];
    crnn_clip clip;
    int32_t clip_scores[16];
} run_result;

/* Pushes `pcm` in chunks of `chunk` samples (0: varying 1..997) and records every window. */
static void stream(crnn_t *h, const int16_t *pcm, size_t n, size_t chunk, run_result *r, int classes) {
    memset(r, 0, sizeof *r);
    size_t at = 0;
    uint32_t rng = 1;
    while (at < n) {
        size_t len = crnn_chunk_length(chunk, &rng, 997, n - at);
        size_t took = 0;
        int ready = 0;
        STATUS(crnn_push(h, pcm + at, len, &took, &ready), CRNN_OK);
        CHECK(took <= len && (took == len || ready), "push took %zu of %zu, ready %d", took, len, ready);
        if (took == 0 && !ready) return;
        at += took;
        if (ready && r->windows < 64) {
            crnn_window w;
            STATUS(crnn_get_window(h, &w), CRNN_OK);
            CHECK(w.index == r->windows, "window index %lld, expected %d", (long long)w.index, r->windows);
            /* The logits are this window's: their argmax is the genre, and softmax keeps the order (Q15 may tie). */
            int top = 0, best = 0;
            for (int c = 1; c < classes; c++) if (w.logits[c] > w.logits[top]) top = c;
            for (int c = 1; c < classes; c++) if (w.scores_q15[c] > w.scores_q15[best]) best = c;
            CHECK(w.genre == top && w.scores_q15[top] == w.scores_q15[best], "window %d: genre %d, logit argmax %d, score argmax %d",
                  r->windows, (int)w.genre, top, best);
            memcpy(r->scores[r->windows], w.scores_q15, (size_t)classes * 2);
            memcpy(r->logits[r->windows], w.logits, (size_t)classes);
            r->starts[r->windows] = w.start_sample;
            r->windows++;
        }
    }
    int ready = -1;
    STATUS(crnn_finish(h, &ready), CRNN_OK);
    CHECK(ready == 0, "finish after whole windows classified a partial one");
    STATUS(crnn_get_clip(h, &r->clip), CRNN_OK);
    STATUS(crnn_get_clip_scores(h, r->clip_scores, 16), CRNN_OK);
}

static int same_run(const run_result *a, const run_result *b) {
    return a->windows == b->windows && memcmp(a->scores, b->scores, sizeof a->scores) == 0 &&
           memcmp(a->logits, b->logits, sizeof a->logits) == 0 && memcmp(a->starts, b->starts, sizeof a->starts) == 0 &&
           memcmp(&a->clip, &b->clip, sizeof a->clip) == 0 && memcmp(a->clip_scores, b->clip_scores, sizeof a->clip_scores) == 0;
}

/* Two threads, each with its own handle on the same model bytes, run at the same time. */
typedef struct {
    const unsigned char *model;
    size_t model_size;
    const int16_t *pcm;
    size_t samples;
    int classes;
    run_result result;
    crnn_status status;
} thread_job;

static void *thread_main(void *arg) {
    thread_job *j = arg;
    crnn_t *h = NULL;
    j->status = crnn_open(j->model, j->model_size, NULL, 0, 0, &h);
    if (j->status != CRNN_OK) return NULL;
    stream(h, j->pcm, j->samples, 4096, &j->result, j->classes);
    crnn_close(h);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: test_api MODEL.crnn AUDIO.raw\n"); return 2; }
    size_t model_size, audio_bytes;
    unsigned char *model = read_file(argv[1], &model_size);
    int16_t *pcm = read_file(argv[2], &audio_bytes);
    size_t samples = audio_bytes / 2;
    crnn_model_info info, info2;
    crnn_t *h = NULL;

    /* Status strings: one distinct sentence per code. */
    for (int a = 0; a <= CRNN_ERR_FINISHED; a++) {
        CHECK(crnn_status_string((crnn_status)a) != NULL, "status %d has no string", a);
        for (int b = 0; b < a; b++)
            CHECK(strcmp(crnn_status_string((crnn_status)a), crnn_status_string((crnn_status)b)) != 0, "%d and %d share a string", a, b);
    }
    CHECK(strcmp(crnn_status_string((crnn_status)99), "unknown status") == 0, "status 99: %s", crnn_status_string((crnn_status)99));

    /* The valid model. */
    STATUS(crnn_query(model, model_size, &info), CRNN_OK);
    CHECK(crnn_model_error(model, model_size) == NULL, "valid model has an error: %s", crnn_model_error(model, model_size));
    CHECK(info.sample_rate == 22050 && info.segment_samples == 66150 && info.frame_hop == 512, "info %d %d %d",
          (int)info.sample_rate, (int)info.segment_samples, (int)info.frame_hop);
    CHECK(info.class_count >= 2 && info.class_count <= 16 && info.arena_bytes > 0 && info.mfcc_scratch_bytes > 0,
          "classes %d arena %zu", (int)info.class_count, info.arena_bytes);
    CHECK(info.version_major == 1, "version %d", (int)info.version_major);
    int classes = info.class_count;

    /* NULL arguments. */
    STATUS(crnn_query(NULL, model_size, &info2), CRNN_ERR_NULL_ARGUMENT);
    STATUS(crnn_query(model, model_size, NULL), CRNN_ERR_NULL_ARGUMENT);
    STATUS(crnn_open(model, model_size, NULL, 0, 0, NULL), CRNN_ERR_NULL_ARGUMENT);
    h = (crnn_t *)1;
    STATUS(crnn_open(NULL, model_size, NULL, 0, 0, &h), CRNN_ERR_NULL_ARGUMENT);
    CHECK(h == NULL, "failed open left a handle");
    STATUS(crnn_push(NULL, pcm, 1, &(size_t){0}, &(int){0}), CRNN_ERR_NULL_ARGUMENT);
    STATUS(crnn_finish(NULL, NULL), CRNN_ERR_NULL_ARGUMENT);
    STATUS(crnn_get_window(NULL, &(crnn_window){0}), CRNN_ERR_NULL_ARGUMENT);
    CHECK(crnn_label(NULL, 0) == NULL, "label of NULL handle");
    crnn_close(NULL);

    /* Truncated models: every prefix length class. */
    size_t cuts[] = {0, 7, 8, 63, 64, 100, model_size / 2, model_size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        STATUS(crnn_query(model, cuts[i], &info2), CRNN_ERR_TRUNCATED);
        STATUS(crnn_open(model, cuts[i], NULL, 0, 0, &h), CRNN_ERR_TRUNCATED);
        CHECK(h == NULL, "truncated open left a handle");
        CHECK(crnn_model_error(model, cuts[i]) != NULL, "truncated %zu: no message", cuts[i]);
    }
    /* Wrong magic, newer/zero version, nonzero header flags, one flipped payload byte (CRC). */
    unsigned char *bad = aligned_copy(model, model_size, 0);
    bad[0] ^= 0x20;
    STATUS(crnn_query(bad, model_size, &info2), CRNN_ERR_BAD_MAGIC);
    memcpy(bad, model, model_size);
    bad[8] = 2; bad[9] = 0;
    STATUS(crnn_query(bad, model_size, &info2), CRNN_ERR_UNSUPPORTED_VERSION);
    bad[8] = 0;
    STATUS(crnn_query(bad, model_size, &info2), CRNN_ERR_UNSUPPORTED_VERSION);
    memcpy(bad, model, model_size);
    bad[32] = 1;
    STATUS(crnn_query(bad, model_size, &info2), CRNN_ERR_INVALID_MODEL);
    STATUS(crnn_open(bad, model_size, NULL, 0, 0, &h), CRNN_ERR_INVALID_MODEL);
    CHECK(crnn_model_error(bad, model_size) != NULL, "flags: no message");
    memcpy(bad, model, model_size);
    bad[model_size / 2] ^= 1;
    STATUS(crnn_query(bad, model_size, &info2), CRNN_ERR_CORRUPT);
    STATUS(crnn_open(bad, model_size, NULL, 0, 0, &h), CRNN_ERR_CORRUPT);
    free(bad);
    /* Misaligned model, arena too small or misaligned. */
    unsigned char *shifted = aligned_copy(model, model_size, 4);
    STATUS(crnn_query(shifted + 4, model_size, &info2), CRNN_ERR_MISALIGNED);
    STATUS(crnn_open(shifted + 4, model_size, NULL, 0, 0, &h), CRNN_ERR_MISALIGNED);
    free(shifted);
    void *arena = NULL;
    if (posix_memalign(&arena, 16, info.arena_bytes + 16) != 0) abort();
    STATUS(crnn_open(model, model_size, arena, info.arena_bytes - 16, 0, &h), CRNN_ERR_ARENA_TOO_SMALL);
    STATUS(crnn_open(model, model_size, (char *)arena + 8, info.arena_bytes, 0, &h), CRNN_ERR_MISALIGNED);
    CHECK(h == NULL, "failed open left a handle");

    /* Open with the caller's arena; the handle's facts. */
#ifdef COUNT_HEAP
    size_t live_before = live;
    peak = live;
#endif
    STATUS(crnn_open(model, model_size, arena, info.arena_bytes, 0, &h), CRNN_OK);
    STATUS(crnn_info(h, &info2), CRNN_OK);
    CHECK(memcmp(&info, &info2, sizeof info) == 0, "crnn_info differs from crnn_query");
    CHECK(crnn_hop_samples(h) == 22016, "default hop %d (crnn-infer: 43 frames = 22016 samples)", (int)crnn_hop_samples(h));
    STATUS(crnn_get_window(h, &(crnn_window){0}), CRNN_ERR_NO_WINDOW);
    crnn_clip clip;
    STATUS(crnn_get_clip(h, &clip), CRNN_OK);
    CHECK(clip.windows == 0 && clip.samples == 0, "fresh clip has windows");
    CHECK(crnn_label(h, 0) != NULL && crnn_label(h, classes - 1) != NULL, "labels missing");
    CHECK(crnn_label(h, classes) == NULL && crnn_label(h, -1) == NULL, "out-of-range label");
    int32_t few[16];
    STATUS(crnn_get_clip_scores(h, few, (size_t)classes - 1), CRNN_ERR_BAD_ARGUMENT);
    size_t took = 7;
    int ready = 7;
    STATUS(crnn_push(h, NULL, 0, &took, &ready), CRNN_OK);
    CHECK(took == 0 && ready == 0, "empty push");
    STATUS(crnn_push(h, NULL, 5, &took, &ready), CRNN_ERR_NULL_ARGUMENT);

    /* One stream in one big push per call, then finish; pushing afterwards is refused. */
    static run_result whole, chunked, again, second;
    stream(h, pcm, samples, samples, &whole, classes);
    CHECK(whole.windows >= 2, "only %d windows in %zu samples", whole.windows, samples);
    STATUS(crnn_push(h, pcm, 10, &took, &ready), CRNN_ERR_FINISHED);
    STATUS(crnn_finish(h, NULL), CRNN_ERR_FINISHED);
    /* Reset, then the same audio in varying small chunks: the same integers. */
    STATUS(crnn_reset(h), CRNN_OK);
    STATUS(crnn_get_window(h, &(crnn_window){0}), CRNN_ERR_NO_WINDOW);
    stream(h, pcm, samples, 0, &chunked, classes);
    CHECK(same_run(&whole, &chunked), "chunked stream after reset differs from the whole push");
#ifdef COUNT_HEAP
    size_t one_handle_peak = peak - live_before;  /* open, two streams, reset: one handle's whole life */
#endif

    /* Two handles at once (one with the library's arena), pushes interleaved: each gives the same integers. */
    crnn_t *h2 = NULL;
    STATUS(crnn_reset(h), CRNN_OK);
    STATUS(crnn_open(model, model_size, NULL, 0, 0, &h2), CRNN_OK);
    memset(&again, 0, sizeof again);
    memset(&second, 0, sizeof second);
    for (size_t at = 0; at < samples;) {
        size_t len = samples - at < 3000 ? samples - at : 3000;
        crnn_t *hs[2] = {h, h2};
        run_result *rs[2] = {&again, &second};
        for (int k = 0; k < 2; k++) {
            size_t used = 0;
            while (used < len) {
                STATUS(crnn_push(hs[k], pcm + at + used, len - used, &took, &ready), CRNN_OK);
                used += took;
                if (ready) {
                    crnn_window w;
                    crnn_get_window(hs[k], &w);
                    memcpy(rs[k]->scores[rs[k]->windows], w.scores_q15, (size_t)classes * 2);
                    memcpy(rs[k]->logits[rs[k]->windows], w.logits, (size_t)classes);
                    rs[k]->starts[rs[k]->windows] = w.start_sample;
                    rs[k]->windows++;
                }
            }
        }
        at += len;
    }
    for (int k = 0; k < 2; k++) {
        crnn_t *x = k ? h2 : h;
        run_result *r = k ? &second : &again;
        crnn_finish(x, NULL);
        crnn_get_clip(x, &r->clip);
        crnn_get_clip_scores(x, r->clip_scores, 16);
    }
    CHECK(same_run(&whole, &again), "interleaved handle 1 differs");
    CHECK(same_run(&whole, &second), "interleaved handle 2 (library arena) differs");
    crnn_close(h2);

    /* Two threads at once (distinct handles, shared model bytes): the same integers. */
    static thread_job jobs[2];
    pthread_t threads[2];
    for (int k = 0; k < 2; k++) {
        jobs[k] = (thread_job){model, model_size, pcm, samples, classes, {0}, CRNN_OK};
        CHECK(pthread_create(&threads[k], NULL, thread_main, &jobs[k]) == 0, "pthread_create");
    }
    for (int k = 0; k < 2; k++) {
        pthread_join(threads[k], NULL);
        STATUS(jobs[k].status, CRNN_OK);
        CHECK(same_run(&whole, &jobs[k].result), "thread %d differs", k);
    }

    /* A hop of 0.5 s: 22 frames = 11264 samples, as crnn-infer --hop 0.5. */
    crnn_close(h);
    STATUS(crnn_open(model, model_size, arena, info.arena_bytes, 500000, &h), CRNN_OK);
    CHECK(crnn_hop_samples(h) == 11264, "hop 0.5 s = %d samples", (int)crnn_hop_samples(h));
    crnn_close(h);

    /* A partial segment: >= 99 % of one segment, classified zero-padded at finish. */
    STATUS(crnn_open(model, model_size, arena, info.arena_bytes, 0, &h), CRNN_OK);
    size_t partial = (size_t)info.segment_samples * 99 / 100 + 1;
    STATUS(crnn_push(h, pcm, partial, &took, &ready), CRNN_OK);
    CHECK(took == partial && !ready, "partial push");
    STATUS(crnn_finish(h, &ready), CRNN_OK);
    crnn_window w;
    STATUS(crnn_get_window(h, &w), CRNN_OK);
    CHECK(ready == 1 && w.partial == 1 && w.start_sample == 0 && w.end_sample == (int64_t)partial, "partial window");
    crnn_close(h);
    /* Too short: nothing classified. */
    STATUS(crnn_open(model, model_size, arena, info.arena_bytes, 0, &h), CRNN_OK);
    STATUS(crnn_push(h, pcm, partial - 700, &took, &ready), CRNN_OK);
    STATUS(crnn_finish(h, &ready), CRNN_OK);
    STATUS(crnn_get_window(h, &w), CRNN_ERR_NO_WINDOW);
    STATUS(crnn_get_clip(h, &clip), CRNN_OK);
    CHECK(ready == 0 && clip.windows == 0 && clip.unclassified_samples == (int64_t)(partial - 700), "short stream");
    crnn_close(h);

#ifdef COUNT_HEAP
    CHECK(live == live_before, "%zu bytes still allocated after crnn_close", live - live_before);
    printf("test_api: library heap peak %zu bytes with a caller-owned arena of %zu bytes (MFCC scratch %zu)\n",
           one_handle_peak, info.arena_bytes, info.mfcc_scratch_bytes);
#endif
    free(arena);
    free(pcm);
    free(model);
    if (failures) {
        printf("test_api: %d of %d checks FAILED\n", failures, checks);
        return 1;
    }
    printf("test_api: %d checks passed\n", checks);
    return 0;
}
