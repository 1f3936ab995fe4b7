/*
 * cortex_m_link: a bare-metal program that calls every crnn_* function, linked by c-api/check.sh (when
 * arm-none-eabi-gcc is installed) for Cortex-M4F and Cortex-M7 against libcrnn-cortex-m.a, newlib-nano and the
 * posix_memalign shim: proof that the library's undefined symbols resolve on a bare-metal image. It is linked, not
 * run (the runnable Cortex-M image, startup code and semihosting are firmware-sim/cortex-m's).
 */
#include "crnn.h"

/* A model buffer in flash as an embedder would place it (here empty: nothing runs). */
static const unsigned char model[64] __attribute__((aligned(16)));
static unsigned char arena[1024] __attribute__((aligned(16)));

int main(void) {
    crnn_model_info info;
    crnn_t *h = 0;
    size_t took = 0;
    int ready = 0;
    crnn_window w;
    crnn_clip c;
    int32_t scores[16];
    int16_t pcm[4] = {0};
    crnn_status s = crnn_query(model, sizeof model, &info);
    if (crnn_model_error(model, sizeof model)) s = crnn_open(model, sizeof model, arena, sizeof arena, 0, &h);
    crnn_info(h, &info);
    crnn_push(h, pcm, 4, &took, &ready);
    crnn_get_window(h, &w);
    crnn_finish(h, &ready);
    crnn_get_clip(h, &c);
    crnn_get_clip_scores(h, scores, 16);
    crnn_reset(h);
    int r = crnn_hop_samples(h) + (crnn_label(h, 0) != 0) + crnn_status_string(s)[0];
    crnn_close(h);
    return r;
}
