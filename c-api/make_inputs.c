/*
 * make_inputs: the test inputs of c-api/check.sh, 22050 Hz mono 16-bit WAV files, each also written as raw s16le
 * PCM (NAME.raw) for `crnn-infer --stream`.
 *
 *   cc -O2 c-api/make_inputs.c -lsndfile -lsoxr -lm -o make_inputs && ./make_inputs OUT_DIR [GTZAN_DIR]
 *   ./make_inputs --resample RATE IN.raw OUT.raw     (22050 Hz s16le mono -> RATE with libsoxr, no dither: repeatable)
 *
 * Generated signals (always): tones, a chirp, noise, pulses and silence of 2.5 to 8 s from fixed seeds, including
 * one of 2.98 s (a partial segment: at least 99 % of 3 s, classified zero-padded by finish) and one of 2.5 s (too
 * short: nothing classified). With GTZAN_DIR (gtzan-mini: GENRE/NAME.flac), the first clip (by name) of every genre,
 * its first 6 s, decoded with libsndfile (the library the host build links).
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <math.h>
#include <sndfile.h>
#include <soxr.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RATE 22050

static const char *out_dir;

static void put16(unsigned char *b, uint32_t v) { b[0] = (unsigned char)v; b[1] = (unsigned char)(v >> 8); }
static void put32(unsigned char *b, uint32_t v) { put16(b, v & 0xffff); put16(b + 2, v >> 16); }

static void write_both(const char *name, const int16_t *s, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.raw", out_dir, name);
    FILE *raw = fopen(path, "wb");
    snprintf(path, sizeof path, "%s/%s.wav", out_dir, name);
    FILE *wav = fopen(path, "wb");
    if (!raw || !wav) { perror(path); exit(1); }
    uint32_t data = (uint32_t)(n * 2);
    unsigned char h[44];
    memcpy(h, "RIFF", 4);
    put32(h + 4, 36 + data);
    memcpy(h + 8, "WAVEfmt ", 8);
    put32(h + 16, 16);          /* fmt chunk size */
    put16(h + 20, 1);           /* PCM */
    put16(h + 22, 1);           /* mono */
    put32(h + 24, RATE);
    put32(h + 28, RATE * 2);    /* bytes per second */
    put16(h + 32, 2);           /* block align */
    put16(h + 34, 16);          /* bits per sample */
    memcpy(h + 36, "data", 4);
    put32(h + 40, data);
    fwrite(h, 1, 44, wav);
    for (size_t i = 0; i < n; i++) {
        unsigned char b[2] = {(unsigned char)(s[i] & 0xff), (unsigned char)((uint16_t)s[i] >> 8)};
        fwrite(b, 1, 2, wav);
        fwrite(b, 1, 2, raw);
    }
    fclose(wav);
    fclose(raw);
}

static int16_t clip16(double v) {
    long r = lround(v);
    return (int16_t)(r > 32767 ? 32767 : r < -32768 ? -32768 : r);
}

static uint32_t lcg_state;
static uint32_t lcg(void) { return lcg_state = (lcg_state * 1103515245u + 12345u) & 0x7fffffffu; }

static void generated(void) {
    static int16_t s[8 * RATE];
    size_t n;
    const double pi = 3.14159265358979323846;

    n = 7 * RATE;                                  /* a chord */
    for (size_t i = 0; i < n; i++)
        s[i] = clip16(6000 * (sin(2 * pi * 220 * i / RATE) + sin(2 * pi * 330 * i / RATE) + sin(2 * pi * 440 * i / RATE)));
    write_both("gen-tone-7s", s, n);

    n = 6 * RATE;                                  /* a chirp 50 Hz -> 8 kHz */
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / RATE;
        s[i] = clip16(12000 * sin(2 * pi * (50 * t + 0.5 * (8000.0 - 50) / 6 * t * t)));
    }
    write_both("gen-chirp-6s", s, n);

    n = 5 * RATE;                                  /* white noise */
    lcg_state = 7;
    for (size_t i = 0; i < n; i++) s[i] = clip16(((int)((lcg() >> 8) % 65536) - 32768) * 0.3);
    write_both("gen-noise-5s", s, n);

    n = 8 * RATE;                                  /* decaying low pulses with noise, 120 bpm */
    lcg_state = 3;
    for (size_t i = 0; i < n; i++) {
        size_t k = i % (RATE / 2);
        double env = exp(-(double)k / 800);
        s[i] = clip16(20000 * env * sin(2 * pi * 60 * k / RATE) + ((int)((lcg() >> 8) % 2001) - 1000) * env);
    }
    write_both("gen-pulses-8s", s, n);

    n = (size_t)(2.98 * RATE);                     /* a partial segment */
    for (size_t i = 0; i < n; i++) s[i] = clip16(9000 * (sin(2 * pi * 110 * i / RATE) + sin(2 * pi * 880 * i / RATE)));
    write_both("gen-partial-2.98s", s, n);

    n = (size_t)(2.5 * RATE);                      /* too short */
    lcg_state = 11;
    for (size_t i = 0; i < n; i++) s[i] = clip16(((int)((lcg() >> 8) % 65536) - 32768) * 0.5);
    write_both("gen-short-2.5s", s, n);

    n = 4 * RATE;                                  /* silence */
    memset(s, 0, n * 2);
    write_both("gen-silence-4s", s, n);
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted entries of `dir` accepted by `want` (names only). */
static size_t list(const char *dir, int (*want)(const char *dir, const char *name), char **names, size_t cap) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap)
        if (e->d_name[0] != '.' && want(dir, e->d_name)) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    return n;
}

static int is_dir(const char *dir, const char *name) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    DIR *d = opendir(p);
    if (d) closedir(d);
    return d != NULL;
}

static int is_audio(const char *dir, const char *name) {
    (void)dir;
    size_t l = strlen(name);
    return (l > 5 && !strcmp(name + l - 5, ".flac")) || (l > 4 && (!strcmp(name + l - 4, ".wav") || !strcmp(name + l - 3, ".au")));
}

static void gtzan(const char *root) {
    char *genres[64], *files[256];
    size_t ng = list(root, is_dir, genres, 64);
    static short s[6 * RATE];
    for (size_t g = 0; g < ng; g++) {
        char dir[4096], path[8192], name[4096];
        snprintf(dir, sizeof dir, "%s/%s", root, genres[g]);
        size_t nf = list(dir, is_audio, files, 256);
        if (nf == 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, files[0]);
        SF_INFO info = {0};
        SNDFILE *f = sf_open(path, SFM_READ, &info);
        if (!f || info.samplerate != RATE || info.channels != 1) {
            fprintf(stderr, "make_inputs: %s: not 22050 Hz mono (or unreadable)\n", path);
            exit(1);
        }
        sf_count_t got = sf_readf_short(f, s, 6 * RATE);
        sf_close(f);
        snprintf(name, sizeof name, "gtzan-%s", files[0]);
        char *dot = strrchr(name, '.');
        if (dot) *dot = 0;
        write_both(name, s, (size_t)got);
        for (size_t i = 0; i < nf; i++) free(files[i]);
    }
    for (size_t g = 0; g < ng; g++) free(genres[g]);
}

/* Raw 22050 Hz s16le mono -> `rate`, libsoxr's default quality (the host's AudioIO resampler). */
static int resample(long rate, const char *in_path, const char *out_path) {
    FILE *in = fopen(in_path, "rb");
    if (!in) { perror(in_path); return 1; }
    static short x[60 * RATE], y[60 * 48000];
    size_t n = fread(x, 2, sizeof x / 2, in), done = 0;
    int longer = fgetc(in) != EOF;
    fclose(in);
    if (longer) { fprintf(stderr, "make_inputs: %s: longer than 60 s\n", in_path); return 1; }
    soxr_io_spec_t io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
    io.flags |= SOXR_NO_DITHER;  /* libsoxr dithers integer output with a fresh seed per run: the check's inputs would differ */
    soxr_error_t e = soxr_oneshot(RATE, (double)rate, 1, x, n, NULL, y, sizeof y / 2, &done, &io, NULL, NULL);
    if (e) { fprintf(stderr, "make_inputs: soxr: %s\n", e); return 1; }
    FILE *out = fopen(out_path, "wb");
    if (!out || fwrite(y, 2, done, out) != done) { perror(out_path); return 1; }
    fclose(out);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && !strcmp(argv[1], "--resample")) return resample(atol(argv[2]), argv[3], argv[4]);
    if (argc < 2 || argc > 3) { fprintf(stderr, "usage: make_inputs OUT_DIR [GTZAN_DIR] | --resample RATE IN.raw OUT.raw\n"); return 2; }
    out_dir = argv[1];
    generated();
    if (argc == 3) gtzan(argv[2]);
    return 0;
}
