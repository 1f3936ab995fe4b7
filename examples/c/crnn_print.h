/*
 * crnn_print: prints a window and the clip of a crnn_t in crnn-infer's formats (examples/c/classify.c on Linux,
 * examples/c/cortex_m_classify.c on a bare-metal Cortex-M). Integer arithmetic only, so the text is exact, and
 * output through putchar() only, so it runs wherever putchar does (on the Cortex-M image: semihosting).
 */
#ifndef CRNN_PRINT_H
#define CRNN_PRINT_H
#include "crnn.h"

/* Output formats, combinable: JSON | RAW prints both lines for every window. */
enum crnn_print_mode {
    CRNN_PRINT_TEXT = 0, /* one human-readable line per window, then the clip */
    CRNN_PRINT_JSON = 1, /* exactly the lines of `crnn-infer MODEL --stream --json` */
    CRNN_PRINT_RAW = 2   /* the integers: Q15 probabilities, int8 logits, the clip's Q15 means */
};

/* The window that crnn_push or crnn_finish just reported ready. */
void crnn_print_window(crnn_t *h, const crnn_model_info *info, int mode);
/* The clip after crnn_finish (the last line of crnn-infer --stream). */
void crnn_print_final(crnn_t *h, const crnn_model_info *info, int mode);

#endif
