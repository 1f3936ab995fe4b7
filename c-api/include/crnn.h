/*
 * crnn.h: the C API of CRNNRuntime, the int8 music-genre CRNN (fixed-point MFCC front end, int8 network,
 * Q15 probabilities). The library (libcrnn.a) is CRNNRuntime compiled with Embedded Swift: self-contained, no
 * Swift runtime to ship, integer arithmetic only, bit-exact with the `crnn-infer` program on every target.
 *
 * Minimal use (see docs/c-api.md and examples/c/classify.c):
 *
 *     crnn_t *h;
 *     crnn_status s = crnn_open(model, model_bytes, NULL, 0, 0, &h);   // model: 16-byte aligned, caller-owned
 *     if (s != CRNN_OK) { fprintf(stderr, "%s\n", crnn_status_string(s)); return 1; }
 *     while ((n = read_pcm(buf, 1000)) > 0) {                           // any chunk size
 *         size_t used = 0;
 *         while (used < n) {
 *             size_t took; int ready;
 *             crnn_push(h, buf + used, n - used, &took, &ready);
 *             used += took;
 *             if (ready) { crnn_window w; crnn_get_window(h, &w); ... w.scores_q15[c] ... }
 *         }
 *     }
 *     crnn_finish(h, NULL);
 *     crnn_clip c; crnn_get_clip(h, &c);
 *     printf("%s\n", crnn_label(h, c.genre));
 *     crnn_close(h);
 *
 * Memory: the model bytes are read in place (zero copy) and must stay valid and unchanged until crnn_close. The
 * interpreter arena is either caller-owned (crnn_open's `arena`, size from crnn_query) or allocated by the
 * library; the streaming buffers (one segment of audio, the features, the MFCC scratch) are allocated with the C
 * library's malloc/posix_memalign at crnn_open and freed at crnn_close. crnn_push, crnn_finish and every getter
 * allocate nothing.
 *
 * Errors: every function that can fail returns a crnn_status; nothing else crosses the C boundary (no
 * exceptions, no longjmp). An allocation failure inside crnn_open or crnn_reset traps (Embedded Swift has no
 * recoverable out-of-memory): size the heap with the figures of docs/c-api.md (arena: crnn_query).
 *
 * Threads: one handle must not be used by two threads at once (no call at all, getters included); distinct
 * handles are independent (the library has no mutable global state) and may share the same model bytes.
 */
#ifndef CRNN_H
#define CRNN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CRNN_API_VERSION 1

/* Status codes. 0 is success; every other value names one reason (crnn_status_string gives a sentence). */
typedef enum crnn_status {
    CRNN_OK = 0,
    CRNN_ERR_NULL_ARGUMENT = 1,      /* a required pointer argument is NULL */
    CRNN_ERR_MISALIGNED = 2,         /* the model buffer or the arena does not start at a 16-byte aligned address */
    CRNN_ERR_TRUNCATED = 3,          /* the model buffer is shorter than its header or its declared size */
    CRNN_ERR_BAD_MAGIC = 4,          /* not a CRNN model file */
    CRNN_ERR_UNSUPPORTED_VERSION = 5,/* model format version newer than this library, or 0 */
    CRNN_ERR_CORRUPT = 6,            /* CRC32 mismatch: the bytes were changed after export */
    CRNN_ERR_INVALID_MODEL = 7,      /* a header, section, tensor, operator, graph, label or front-end check failed */
    CRNN_ERR_UNSUPPORTED_MODEL = 8,  /* a valid model that this API cannot stream (its input is not the MFCC) */
    CRNN_ERR_ARENA_TOO_SMALL = 9,    /* the caller's arena is smaller than crnn_query's arena_bytes */
    CRNN_ERR_BAD_ARGUMENT = 10,      /* an argument is out of range (a size beyond the address space, a capacity
                                        smaller than class_count) */
    CRNN_ERR_NO_WINDOW = 11,         /* no window has been classified yet */
    CRNN_ERR_FINISHED = 12,          /* crnn_push after crnn_finish (call crnn_reset to start a new stream) */
    CRNN_STATUS_FORCE_INT = 0x7fffffff /* keeps the enum int-sized under -fshort-enums (arm-none-eabi's default) */
} crnn_status;

/* A fixed English sentence for `status` (never NULL; "unknown status" for values outside the enum). */
const char *crnn_status_string(crnn_status status);

/* What a model needs, computed without opening it (crnn_query allocates nothing that outlives the call). */
typedef struct crnn_model_info {
    int32_t sample_rate;         /* Hz of the PCM to push (22050 for the shipped models) */
    int32_t segment_samples;     /* samples in one classified window (3 s: 66150) */
    int32_t frame_hop;           /* front-end hop in samples (512); stream hops are multiples of it */
    int32_t class_count;         /* number of genres (10) */
    int32_t version_major;       /* model file format version */
    int32_t version_minor;
    size_t arena_bytes;          /* interpreter arena: pass at least this many bytes to crnn_open, or NULL */
    size_t mfcc_scratch_bytes;   /* the fixed-point MFCC's working memory (part of crnn_open's heap buffers) */
} crnn_model_info;

/* Validates the model (header, CRC, every table: the same checks as crnn_open) and fills `info`. */
crnn_status crnn_query(const void *model, size_t model_bytes, crnn_model_info *info);

/* The runtime's own sentence for why `model` is refused (more precise than the status, e.g. "header flags or
 * reserved bytes are not zero"), or NULL when the model is valid. A static string. */
const char *crnn_model_error(const void *model, size_t model_bytes);

/* An open model with its streaming classifier. Opaque. */
typedef struct crnn crnn_t;

/*
 * Opens `model` (a .crnn file made by crnn-quantize, read in place: keep the bytes alive and unchanged until
 * crnn_close; 16-byte aligned, e.g. a `static const` array with `__attribute__((aligned(16)))` in flash or a
 * posix_memalign'd buffer). `arena`: NULL lets the library allocate the arena; otherwise a 16-byte aligned
 * caller-owned buffer of `arena_bytes` >= crnn_query's arena_bytes, used until crnn_close. `hop_us`: time between
 * window starts in microseconds, rounded to whole front-end frames like crnn-infer's --hop (0 = 1 s, the
 * crnn-infer default: 43 frames = 22016 samples). On success *out is the handle; on failure *out is NULL.
 */
crnn_status crnn_open(const void *model, size_t model_bytes, void *arena, size_t arena_bytes, uint32_t hop_us,
                      crnn_t **out);

/* Frees everything crnn_open allocated (not the model bytes, not a caller-owned arena). NULL is a no-op. */
void crnn_close(crnn_t *h);

/* Model facts of an open handle (the same as crnn_query's). */
crnn_status crnn_info(const crnn_t *h, crnn_model_info *info);

/* The hop between window starts, in samples. */
int32_t crnn_hop_samples(const crnn_t *h);

/*
 * Pushes mono int16 PCM at the model's sample rate. Consumes samples up to the point where the next window is
 * complete, classifies that window, and returns: *consumed = samples taken (< count only when a window was
 * classified), *window_ready = 1 when a window was classified (read it with crnn_get_window before the next
 * push), else 0. Call again with the rest (see the loop at the top). `pcm` may be NULL when count is 0.
 * Allocates nothing. Cost: a window's front end + network when one is classified, a copy otherwise.
 */
crnn_status crnn_push(crnn_t *h, const int16_t *pcm, size_t count, size_t *consumed, int *window_ready);

/*
 * End of input. When no window was ever complete and at least 99 % of a segment arrived, that partial segment
 * is classified zero-padded (*window_ready = 1, the window has partial = 1), as crnn-infer does; otherwise
 * *window_ready = 0. `window_ready` may be NULL. After it, crnn_push returns CRNN_ERR_FINISHED.
 */
crnn_status crnn_finish(crnn_t *h, int *window_ready);

/* Starts a new stream with the same model (clears the clip estimate and the window count). */
crnn_status crnn_reset(crnn_t *h);

/* The latest classified window. The arrays point into the handle: valid until the next crnn_push,
 * crnn_finish, crnn_reset or crnn_close. */
typedef struct crnn_window {
    int64_t index;               /* 0-based window number */
    int64_t start_sample;        /* stream sample where it starts (0 for the partial window) */
    int64_t end_sample;          /* stream sample one past its end */
    int32_t genre;               /* top-1 class: the largest int8 logit (ties: lowest index) */
    int32_t partial;             /* 1 for crnn_finish's zero-padded partial segment */
    const int16_t *scores_q15;   /* class_count probabilities, Q15 (32768 = 1; they sum to about 32768) */
    const int8_t *logits;        /* class_count int8 logits (the network output before softmax) */
} crnn_window;

crnn_status crnn_get_window(const crnn_t *h, crnn_window *out);

/* The running clip estimate: the mean of every window's probabilities so far. */
typedef struct crnn_clip {
    int64_t windows;             /* windows classified so far */
    int64_t samples;             /* samples pushed so far */
    int64_t unclassified_samples;/* samples after the end of the last classified window */
    int32_t genre;               /* class with the largest mean (ties: lowest index) */
    int32_t confidence_q15;      /* mean probability of `genre`, Q15 */
    int32_t margin_q15;          /* confidence minus the runner-up's mean probability, Q15 */
    int32_t uncertain;           /* 1 when confidence_q15 < CRNN_UNCERTAIN_BELOW_Q15 (docs/out-of-pool.md) */
} crnn_clip;

/* The default uncertainty threshold: 0.55 in Q15, calibrated out of pool (the runtime's ClipConfidence). */
#define CRNN_UNCERTAIN_BELOW_Q15 18022

crnn_status crnn_get_clip(const crnn_t *h, crnn_clip *out);

/* The clip estimate's mean probability of every class, Q15, into scores_q15[0 ..< class_count]
 * (`capacity` >= class_count, else CRNN_ERR_BAD_ARGUMENT). Zeros before the first window. */
crnn_status crnn_get_clip_scores(const crnn_t *h, int32_t *scores_q15, size_t capacity);

/* The NUL-terminated label of class `c` (e.g. "blues"; "class3" for a model without labels), owned by the
 * handle; NULL when c is out of range or h is NULL. */
const char *crnn_label(const crnn_t *h, int32_t c);

#ifdef __cplusplus
}
#endif

#endif /* CRNN_H */
