/* crnn_print: see crnn_print.h. */
#include "crnn_print.h"

#include <stdint.h>

int putchar(int c); /* the only output call: stdio's on Linux, the board's (semihosting) on the Cortex-M image */

static void put_str(const char *s) {
    while (*s) putchar(*s++);
}

static void put_int(int64_t v) {
    char digits[24];
    int n = 0;
    uint64_t m = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do { digits[n++] = (char)('0' + m % 10); m /= 10; } while (m);
    if (v < 0) putchar('-');
    while (n) putchar(digits[--n]);
}

/* num / den with `decimals` digits, rounded to nearest, ties away from zero (crnn-infer's Output.put(fixed:)). */
static void put_fixed(int64_t num, int64_t den, int decimals) {
    int64_t scale = 1;
    for (int i = 0; i < decimals; i++) scale *= 10;
    int negative = num < 0;
    int64_t m = negative ? -num : num;
    int64_t whole = m / den, rest = m % den, frac = 0;
    for (int i = 0; i < decimals; i++) {
        rest *= 10;
        frac = frac * 10 + rest / den;
        rest %= den;
    }
    if (2 * rest >= den) frac += 1;
    int64_t total = whole * scale + frac;
    if (negative && total != 0) putchar('-');
    put_int(total / scale);
    if (decimals > 0) {
        putchar('.');
        int64_t f = total % scale;
        for (int64_t d = scale / 10; d > 0; d /= 10) putchar('0' + (int)(f / d % 10));
    }
}

static void put_q15(int32_t q) { put_fixed(q, 32768, 4); }

static void put_json_string(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': put_str("\\\""); break;
        case '\\': put_str("\\\\"); break;
        case '\n': put_str("\\n"); break;
        case '\t': put_str("\\t"); break;
        case '\r': put_str("\\r"); break;
        default:
            if (*p < 0x20) {
                put_str("\\u00");
                putchar("0123456789abcdef"[*p >> 4]);
                putchar("0123456789abcdef"[*p & 15]);
            } else {
                putchar(*p);
            }
        }
    }
    putchar('"');
}

/* "name":value pairs of every class, in class order: {"blues":0.0123,...}. */
static void put_scores(crnn_t *h, int32_t n, const int32_t *q15) {
    putchar('{');
    for (int c = 0; c < n; c++) {
        if (c) putchar(',');
        put_json_string(crnn_label(h, c));
        putchar(':');
        put_q15(q15[c]);
    }
    putchar('}');
}

/* `tag` then " v0 v1 ...". */
static void put_ints(const char *tag, int32_t n, const int64_t *v) {
    put_str(tag);
    for (int c = 0; c < n; c++) { putchar(' '); put_int(v[c]); }
}

static void widen(int32_t n, const int32_t *from, int64_t *to) {
    for (int c = 0; c < n; c++) to[c] = from[c];
}

void crnn_print_window(crnn_t *h, const crnn_model_info *info, int mode) {
    crnn_window w;
    crnn_clip clip;
    int32_t clip_scores[256], q15[256];
    int64_t wide[256];
    crnn_get_window(h, &w);
    crnn_get_clip(h, &clip);
    crnn_get_clip_scores(h, clip_scores, 256);
    int32_t n = info->class_count < 256 ? info->class_count : 256, rate = info->sample_rate;
    for (int c = 0; c < n; c++) q15[c] = w.scores_q15[c];
    if (mode & CRNN_PRINT_RAW) {
        const int64_t head[] = {w.index, w.start_sample, w.end_sample, w.partial, w.genre};
        put_ints("window", 5, head);
        widen(n, q15, wide);
        put_ints(" q15", n, wide);
        for (int c = 0; c < n; c++) wide[c] = w.logits[c];
        put_ints(" logits", n, wide);
        const int64_t genre[] = {clip.genre};
        put_ints(" clip", 1, genre);
        widen(n, clip_scores, wide);
        put_ints("", n, wide);
        putchar('\n');
    }
    if (mode & CRNN_PRINT_JSON) {
        put_str("{\"window\":"); put_int(w.index);
        put_str(",\"start\":"); put_fixed(w.start_sample, rate, 3);
        put_str(",\"end\":"); put_fixed(w.end_sample, rate, 3);
        if (w.partial) put_str(",\"partial\":true");
        put_str(",\"genre\":"); put_json_string(crnn_label(h, w.genre));
        put_str(",\"scores\":"); put_scores(h, n, q15);
        put_str(",\"clip_genre\":"); put_json_string(crnn_label(h, clip.genre));
        put_str(",\"clip_scores\":"); put_scores(h, n, clip_scores);
        put_str(",\"windows\":"); put_int(clip.windows);
        put_str(",\"clip_confidence\":"); put_q15(clip.confidence_q15);
        put_str(",\"clip_margin\":"); put_q15(clip.margin_q15);
        put_str(",\"clip_uncertain\":"); put_str(clip.uncertain ? "true}\n" : "false}\n");
    }
    if (mode == CRNN_PRINT_TEXT) {
        put_str("window "); put_int(w.index);
        put_str(" ["); put_fixed(w.start_sample, rate, 3);
        putchar('-'); put_fixed(w.end_sample, rate, 3);
        put_str(w.partial ? " s, zero-padded]: " : " s]: ");
        put_str(crnn_label(h, w.genre)); putchar(' '); put_q15(q15[w.genre]);
        put_str(" | clip: "); put_str(crnn_label(h, clip.genre)); putchar(' '); put_q15(clip.confidence_q15);
        put_str(" ("); put_int(clip.windows); put_str(clip.windows == 1 ? " window)\n" : " windows)\n");
    }
}

void crnn_print_final(crnn_t *h, const crnn_model_info *info, int mode) {
    crnn_clip clip;
    int32_t s[256];
    int64_t wide[256];
    crnn_get_clip(h, &clip);
    crnn_get_clip_scores(h, s, 256);
    int32_t n = info->class_count < 256 ? info->class_count : 256, rate = info->sample_rate;
    if (mode & CRNN_PRINT_RAW) {
        const int64_t head[] = {clip.windows, clip.samples, clip.unclassified_samples, clip.genre, clip.confidence_q15,
                                clip.margin_q15, clip.uncertain};
        put_ints("final", 7, head);
        widen(n, s, wide);
        put_ints("", n, wide);
        putchar('\n');
    }
    if (mode & CRNN_PRINT_JSON) {
        put_str("{\"final\":true,\"genre\":"); put_json_string(crnn_label(h, clip.genre));
        put_str(",\"scores\":"); put_scores(h, n, s);
        put_str(",\"windows\":"); put_int(clip.windows);
        put_str(",\"seconds\":"); put_fixed(clip.samples, rate, 3);
        put_str(",\"unclassified_seconds\":"); put_fixed(clip.unclassified_samples, rate, 3);
        put_str(",\"confidence\":"); put_q15(clip.confidence_q15);
        put_str(",\"margin\":"); put_q15(clip.margin_q15);
        put_str(",\"uncertain\":"); put_str(clip.uncertain ? "true}\n" : "false}\n");
    }
    if (mode == CRNN_PRINT_TEXT) {
        put_str("clip: "); put_str(crnn_label(h, clip.genre)); putchar(' '); put_q15(clip.confidence_q15);
        put_str(" over "); put_int(clip.windows); put_str(clip.windows == 1 ? " window, " : " windows, ");
        put_fixed(clip.samples, rate, 3);
        put_str(clip.uncertain ? " s of audio; uncertain\n" : " s of audio\n");
    }
}
