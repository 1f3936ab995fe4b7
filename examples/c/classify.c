/*
 * classify: streams a WAV file (or raw PCM on stdin) through the CRNN C API and prints every window's scores and
 * the clip's genre. The example program of c-api/include/crnn.h (docs/c-api.md).
 *
 *   classify MODEL.crnn AUDIO.wav [--json] [--raw] [--chunk N] [--hop-us US] [--library-arena]
 *   classify MODEL.crnn -  ...        (raw signed 16-bit little-endian mono PCM on stdin)
 *
 * AUDIO.wav: RIFF PCM 16-bit mono at the model's sample rate (22050 Hz). Output:
 *   (default) one line per window and the clip's genre, human-readable;
 *   --json    exactly the lines of `crnn-infer MODEL --stream --json` (c-api/check.sh compares them);
 *   --raw     the integers: per window its Q15 probabilities and int8 logits, then the clip's Q15 means
 *             (with --json: both lines for every window).
 * --chunk N pushes N samples at a time (default 1000; 0 = pseudo-random sizes 1..4999, to show that chunking
 * does not matter). The arena is caller-owned (crnn_query's arena_bytes) unless --library-arena.
 * Exit status: 0 ok, 1 usage, 2 bad model or audio (also: audio shorter than one segment, as crnn-infer).
 */
#define _POSIX_C_SOURCE 200112L /* posix_memalign */
#include "crnn.h"
#include "crnn_chunk.h"
#include "crnn_print.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Reading audio --------------------------------------------------------------------------------------- */

static uint32_t le32(const unsigned char *b) { return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24; }
static uint16_t le16(const unsigned char *b) { return (uint16_t)(b[0] | b[1] << 8); }

/* Positions `f` at the data chunk of a 16-bit mono PCM WAV at `rate`; returns its byte count or -1. */
static long open_wav_data(FILE *f, int32_t rate, const char *path) {
    unsigned char h[12], c[8], fmt[40];
    int have_fmt = 0;
    if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) != 0 || memcmp(h + 8, "WAVE", 4) != 0) {
        fprintf(stderr, "classify: %s: not a RIFF WAVE file\n", path);
        return -1;
    }
    while (fread(c, 1, 8, f) == 8) {
        uint32_t size = le32(c + 4);
        if (memcmp(c, "fmt ", 4) == 0) {
            if (size < 16 || size > sizeof fmt || fread(fmt, 1, size, f) != size) break;
            if (size & 1) fgetc(f);
            uint16_t format = le16(fmt), channels = le16(fmt + 2), bits = le16(fmt + 14);
            if ((format != 1 && format != 0xFFFE) || channels != 1 || bits != 16 || (int32_t)le32(fmt + 4) != rate) {
                fprintf(stderr, "classify: %s: need 16-bit PCM mono at %d Hz (convert with `sox in.wav -r %d -c 1 -b 16 out.wav`)\n",
                        path, (int)rate, (int)rate);
                return -1;
            }
            have_fmt = 1;
        } else if (memcmp(c, "data", 4) == 0) {
            if (!have_fmt) break;
            return (long)size;
        } else if (fseek(f, (long)size + (size & 1), SEEK_CUR) != 0) {
            break;
        }
    }
    fprintf(stderr, "classify: %s: no fmt or data chunk\n", path);
    return -1;
}

/* The whole model file in a 16-byte aligned buffer (the API reads it in place, so it must stay alive). */
static void *read_model(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); return NULL; }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = NULL;
    if (n < 0 || posix_memalign(&p, 16, n > 0 ? (size_t)n : 16) != 0 || fread(p, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "classify: cannot read %s\n", path);
        free(p);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *size = (size_t)n;
    return p;
}

/* ---- Main ------------------------------------------------------------------------------------------------------ */

static int usage(void) {
    fprintf(stderr, "usage: classify MODEL.crnn (AUDIO.wav | -) [--json] [--raw] [--chunk N] [--hop-us US] [--library-arena]\n");
    return 1;
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *audio_path = NULL;
    int mode = CRNN_PRINT_TEXT;
    long chunk = 1000;
    unsigned long hop_us = 0;
    int library_arena = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) mode |= CRNN_PRINT_JSON;
        else if (!strcmp(argv[i], "--raw")) mode |= CRNN_PRINT_RAW;
        else if (!strcmp(argv[i], "--library-arena")) library_arena = 1;
        else if (!strcmp(argv[i], "--chunk") && i + 1 < argc) chunk = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--hop-us") && i + 1 < argc) hop_us = strtoul(argv[++i], NULL, 10);
        else if (!model_path) model_path = argv[i];
        else if (!audio_path) audio_path = argv[i];
        else return usage();
    }
    if (!model_path || !audio_path || chunk < 0 || chunk > 1 << 20) return usage();

    /* 1. The model, read in place, and what it needs. */
    size_t model_size = 0;
    void *model = read_model(model_path, &model_size);
    if (!model) return 2;
    crnn_model_info info;
    crnn_status s = crnn_query(model, model_size, &info);
    if (s != CRNN_OK) {
        const char *detail = crnn_model_error(model, model_size);
        fprintf(stderr, "classify: %s: %s (%s)\n", model_path, crnn_status_string(s), detail ? detail : "");
        free(model);
        return 2;
    }

    /* 2. Open it with a caller-owned arena (or let the library allocate one). */
    void *arena = NULL;
    if (!library_arena && posix_memalign(&arena, 16, info.arena_bytes ? info.arena_bytes : 16) != 0) return 2;
    crnn_t *h = NULL;
    s = crnn_open(model, model_size, arena, library_arena ? 0 : info.arena_bytes, (uint32_t)hop_us, &h);
    if (s != CRNN_OK) {
        fprintf(stderr, "classify: %s: %s\n", model_path, crnn_status_string(s));
        free(arena);
        free(model);
        return 2;
    }
    fprintf(stderr, "classify: %d Hz, window %d samples, hop %d samples, %d classes, arena %zu bytes (%s), MFCC scratch %zu bytes\n",
            (int)info.sample_rate, (int)info.segment_samples, (int)crnn_hop_samples(h), (int)info.class_count,
            info.arena_bytes, library_arena ? "library" : "caller", info.mfcc_scratch_bytes);

    /* 3. The audio, streamed through a fixed buffer. */
    FILE *f = stdin;
    long remaining = -1;  /* bytes left in the WAV data chunk; -1: until end of file */
    if (strcmp(audio_path, "-") != 0) {
        f = fopen(audio_path, "rb");
        if (!f) { perror(audio_path); return 2; }
        remaining = open_wav_data(f, info.sample_rate, audio_path);
        if (remaining < 0) return 2;
    }
    enum { BUFFER = 8192 };
    static unsigned char bytes[2 * BUFFER];
    static int16_t pcm[BUFFER];
    uint32_t rng = 12345;
    int status = 0;
    for (;;) {
        size_t want = sizeof bytes;
        if (remaining >= 0 && (long)want > remaining) want = (size_t)remaining;
        size_t got = want ? fread(bytes, 1, want & ~(size_t)1, f) : 0;
        if (got < 2) break;
        if (remaining >= 0) remaining -= (long)got;
        size_t n = got / 2;
        for (size_t i = 0; i < n; i++) pcm[i] = (int16_t)le16(bytes + 2 * i);
        /* Push in chunks of `chunk` samples (or random sizes); every window is printed as it completes. */
        size_t at = 0;
        while (at < n) {
            size_t len = crnn_chunk_length(chunk, &rng, 4999, n - at);
            size_t used = 0;
            while (used < len) {
                size_t took = 0;
                int ready = 0;
                s = crnn_push(h, pcm + at + used, len - used, &took, &ready);
                if (s != CRNN_OK) { fprintf(stderr, "classify: %s\n", crnn_status_string(s)); return 2; }
                used += took;
                if (ready) crnn_print_window(h, &info, mode);
            }
            at += len;
        }
    }
    if (f != stdin) fclose(f);

    int ready = 0;
    crnn_finish(h, &ready);
    if (ready) crnn_print_window(h, &info, mode);
    crnn_clip clip;
    crnn_get_clip(h, &clip);
    if (clip.windows == 0) {
        fprintf(stderr, "classify: %lld samples of audio are shorter than one %d-sample segment: nothing classified\n",
                (long long)clip.samples, (int)info.segment_samples);
        status = 2;
    } else {
        crnn_print_final(h, &info, mode);
    }

    /* 4. Close: the library frees its buffers; the model and the arena are ours. */
    crnn_close(h);
    free(arena);
    free(model);
    return status;
}
