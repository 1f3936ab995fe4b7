/* Synthetic music-like PCM for stream tests: raw signed 16-bit little-endian mono on stdout, deterministic.
 * A melody of tones that changes every 0.37 s (three harmonics, a decaying envelope), a bass line, a click
 * track and low-level noise, so that MFCCs and model outputs change over time.
 * usage: pcm_gen SECONDS [RATE=22050] [PAUSE_AT_SECONDS PAUSE_SECONDS]
 *   with PAUSE_AT, the writer stops for PAUSE_SECONDS after that many seconds of audio (stdout flushed), then
 *   continues: the samples are identical with or without the pause.
 * cc -O2 tools/helpers/pcm_gen.c -o pcm_gen -lm */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: %s SECONDS [RATE] [PAUSE_AT PAUSE_SECONDS]\n", argv[0]); return 1; }
    double seconds = atof(argv[1]);
    int rate = argc > 2 ? atoi(argv[2]) : 22050;
    double pause_at = argc > 4 ? atof(argv[3]) : -1, pause_s = argc > 4 ? atof(argv[4]) : 0;
    if (seconds <= 0 || rate <= 0) { fprintf(stderr, "pcm_gen: bad arguments\n"); return 1; }
    int64_t total = (int64_t)(seconds * rate), pause_sample = pause_at >= 0 ? (int64_t)(pause_at * rate) : -1;
    static const double scale[] = {220.0, 246.94, 261.63, 293.66, 329.63, 349.23, 392.0, 440.0, 493.88, 523.25};
    uint32_t lcg = 12345u;
    int16_t buf[4096];
    int64_t n = 0;
    const int64_t note_len = (int64_t)(0.37 * rate), beat = (int64_t)(0.5 * rate);
    double phase1 = 0, phase2 = 0, phase3 = 0, bass = 0;
    while (n < total) {
        int k = 0;
        while (k < 4096 && n < total) {
            if (n == pause_sample) break;
            int64_t note = n / note_len;
            /* a pseudo-random but deterministic melody: hash of the note index */
            uint32_t h = (uint32_t)note * 2654435761u;
            double f = scale[(h >> 7) % 10] * ((h >> 13) % 3 == 0 ? 2.0 : 1.0);
            double fb = scale[(uint32_t)(note / 8) % 5] / 4.0;
            double t_in = (double)(n % note_len) / rate;
            double env = exp(-3.0 * t_in);
            phase1 += 2 * M_PI * f / rate; phase2 += 2 * M_PI * 2 * f / rate; phase3 += 2 * M_PI * 3 * f / rate;
            bass += 2 * M_PI * fb / rate;
            if (phase1 > 2 * M_PI) phase1 -= 2 * M_PI;
            if (phase2 > 2 * M_PI) phase2 -= 2 * M_PI;
            if (phase3 > 2 * M_PI) phase3 -= 2 * M_PI;
            if (bass > 2 * M_PI) bass -= 2 * M_PI;
            lcg = lcg * 1664525u + 1013904223u;
            double noise = ((double)(lcg >> 8) / 16777216.0 - 0.5) * 0.02;
            double click = (n % beat) < 64 ? 0.3 * (1.0 - (double)(n % beat) / 64) * ((lcg >> 20) & 1 ? 1 : -1) : 0;
            double x = env * (0.3 * sin(phase1) + 0.12 * sin(phase2) + 0.06 * sin(phase3)) + 0.2 * sin(bass) + click + noise;
            long v = lround(x * 32767.0);
            if (v > 32767) v = 32767;
            if (v < -32768) v = -32768;
            buf[k++] = (int16_t)v;
            n++;
        }
        if (k > 0) {
            uint8_t bytes[8192];
            for (int i = 0; i < k; i++) { bytes[2 * i] = (uint8_t)(buf[i] & 0xFF); bytes[2 * i + 1] = (uint8_t)((uint16_t)buf[i] >> 8); }
            if (fwrite(bytes, 2, (size_t)k, stdout) != (size_t)k) return 2;  /* reader gone */
        }
        if (n == pause_sample) {
            fflush(stdout);
            usleep((useconds_t)(pause_s * 1e6));
            pause_sample = -1;
        }
    }
    return fflush(stdout) == 0 ? 0 : 2;
}
