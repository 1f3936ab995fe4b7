/* Writes small valid seed files for tools/fuzz_audio.sh with libsndfile: one per container the host decoder
 * reads (WAV 16-bit and float, FLAC, Ogg Vorbis, MP3, AU, AIFF, W64, CAF). Synthetic tones; no data needed.
 * cc tools/helpers/fuzz_audio_seeds.c -o seeds $(pkg-config --cflags --libs sndfile) -lm && ./seeds OUTDIR */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sndfile.h>

static int write_one(const char *dir, const char *name, int format, int rate, int channels, double seconds) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    SF_INFO info = {0};
    info.samplerate = rate; info.channels = channels; info.format = format;
    if (!sf_format_check(&info)) { fprintf(stderr, "seeds: cannot write %s here (format 0x%x)\n", name, format); return 0; }
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) { fprintf(stderr, "seeds: %s: %s\n", path, sf_strerror(NULL)); return 0; }
    sf_count_t frames = (sf_count_t)(seconds * rate);
    float *buf = malloc(sizeof(float) * (size_t)frames * (size_t)channels);
    for (sf_count_t i = 0; i < frames; i++)
        for (int c = 0; c < channels; c++)
            buf[i * channels + c] = (float)(0.4 * sin(2 * M_PI * (220.0 * (c + 1)) * (double)i / rate)
                                            + 0.05 * sin(2 * M_PI * 3100.0 * (double)i / rate));
    sf_writef_float(f, buf, frames);
    free(buf);
    sf_close(f);
    printf("%s\n", path);
    return 1;
}

/* One seed per container and encoding the host decoder reads; 3.2 s each. */
static const struct { const char *name; int format, rate, channels; } seeds[] = {
    {"seed-pcm16.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16, 22050, 1},
    {"seed-float.wav", SF_FORMAT_WAV | SF_FORMAT_FLOAT, 44100, 2},
    {"seed.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 22050, 1},
    {"seed-24.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 48000, 2},
    {"seed.ogg", SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 2},
    {"seed.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 1},
    {"seed.au", SF_FORMAT_AU | SF_FORMAT_PCM_16, 16000, 1},
    {"seed-ulaw.au", SF_FORMAT_AU | SF_FORMAT_ULAW, 8000, 1},
    {"seed.aiff", SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 22050, 2},
    {"seed.w64", SF_FORMAT_W64 | SF_FORMAT_PCM_16, 22050, 1},
    {"seed.caf", SF_FORMAT_CAF | SF_FORMAT_ALAC_16, 22050, 1},
    {"seed-ima.wav", SF_FORMAT_WAV | SF_FORMAT_IMA_ADPCM, 22050, 1},
};

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: %s OUTDIR\n", argv[0]); return 1; }
    int n = 0;
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++)
        n += write_one(argv[1], seeds[i].name, seeds[i].format, seeds[i].rate, seeds[i].channels, 3.2);
    return n > 0 ? 0 : 2;
}
