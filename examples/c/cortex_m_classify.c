/*
 * cortex_m_classify: the C API on a bare-metal Cortex-M (M4F/M7): the model file and the audio sit in flash, the
 * audio is pushed 512 samples at a time as a microphone's DMA would deliver it, and every window's scores and the
 * clip estimate are printed as `crnn-infer MODEL --stream --json` prints them (examples/c/crnn_print.c), through
 * semihosting. c-api/check.sh links it with libcrnn-cortex-m.a and the board services of firmware-sim/cortex-m
 * (startup, linker script, semihosting, the model and PCM in flash: board.h), runs it under qemu-system-arm
 * (mps2-an500, Cortex-M7) and compares its lines with the host crnn-infer's on the same PCM.
 *
 * What an embedder writes: crnn_query for the arena size, one allocation (or a static buffer of that size),
 * crnn_open over the model in place, crnn_push from the audio interrupt or a task, read a window when ready.
 */
#include "board.h"
#include "crnn.h"
#include "crnn_print.h"

#include <stdint.h>
#include <stdlib.h>

int posix_memalign(void **out, size_t alignment, size_t size); /* board.c (newlib has only memalign) */

static void put(const char *s) {
    while (*s) cm_put_bytes((const unsigned char *)s++, 1);
}

static void fail(const char *what, const char *why) {
    put("cortex_m_classify: "); put(what); put(": "); put(why); put("\n");
    cm_exit(1);
}

/* Called by the reset handler (firmware-sim/cortex-m/startup.c) after .data/.bss are set up. */
int cm_main(void) {
    /* 1. The model, read in place from flash, and what it needs. */
    const unsigned char *model = cm_model_data();
    size_t model_size = cm_model_size();
    crnn_model_info info;
    crnn_status s = crnn_query(model, model_size, &info);
    if (s != CRNN_OK) fail("model", crnn_status_string(s));

    /* 2. The arena: one aligned allocation of the size the model asks for. */
    void *arena = 0;
    if (posix_memalign(&arena, 16, info.arena_bytes ? info.arena_bytes : 16) != 0) fail("arena", "out of memory");
    crnn_t *h = 0;
    s = crnn_open(model, model_size, arena, info.arena_bytes, 0, &h);
    if (s != CRNN_OK) fail("open", crnn_status_string(s));

    /* 3. The audio: every input in flash back to back as one stream, 512 samples per "DMA block". */
    const int16_t *pcm = (const int16_t *)cm_pcm_data();
    size_t n = (size_t)cm_input_count() * cm_input_samples();
    enum { BLOCK = 512 };
    for (size_t at = 0; at < n; at += BLOCK) {
        size_t len = n - at < BLOCK ? n - at : BLOCK, used = 0;
        while (used < len) {  /* a push stops early when a window is ready: print it, push the rest */
            size_t took = 0;
            int ready = 0;
            s = crnn_push(h, pcm + at + used, len - used, &took, &ready);
            if (s != CRNN_OK) fail("push", crnn_status_string(s));
            used += took;
            if (ready) crnn_print_window(h, &info, CRNN_PRINT_JSON);
        }
    }
    int ready = 0;
    crnn_finish(h, &ready);
    if (ready) crnn_print_window(h, &info, CRNN_PRINT_JSON);
    crnn_print_final(h, &info, CRNN_PRINT_JSON);
    /* The memory it took (a comment line for the check, which compares the other lines with crnn-infer). */
    put("# heap high-water "); cm_put_int(cm_heap_high_water());
    put(" bytes (arena "); cm_put_int((long long)info.arena_bytes);
    put(" bytes of it), stack peak "); cm_put_int(cm_stack_peak()); put(" bytes\n");
    crnn_close(h);
    free(arena);
    return 0;
}
