/* The board services the Cortex-M image's Swift code uses (firmware-sim/cortex-m/Main.swift imports this file as
 * its bridging header). Implemented in board.c; the flash data symbols come from flash_data.S. No libc headers:
 * the Swift compile sees only these declarations. */
#ifndef CRNN_CORTEX_M_BOARD_H
#define CRNN_CORTEX_M_BOARD_H

/* Flash (read-only at run time): the model file and the test audio, int16 PCM, `cm_input_count()` inputs of
 * `cm_input_samples()` samples each, one after the other. */
const unsigned char *cm_model_data(void);
unsigned int cm_model_size(void);
const short *cm_pcm_data(void);
unsigned int cm_input_count(void);
unsigned int cm_input_samples(void);

/* Output through semihosting, line-buffered (flushed at '\n'); nothing here allocates. */
void cm_put_bytes(const unsigned char *s, unsigned int n);
void cm_put_int(long long v);
void cm_put_hex(unsigned int v);

/* The CMSDK dual timer 1, free-running, counting up: 25 MHz ticks of QEMU's virtual clock. */
unsigned int cm_timer_ticks(void);
/* Virtual nanoseconds per timer tick (40 at 25 MHz). */
unsigned int cm_timer_ns_per_tick(void);
/* Ticks taken by a calibration loop of exactly `cm_calibration_instructions()` instructions. */
unsigned int cm_calibrate(void);
unsigned int cm_calibration_instructions(void);

/* Memory accounting: bytes of heap in use now (newlib's mallinfo, chunk headers included) and the high-water mark
 * of the heap region (_sbrk); the stack's measured peak (painted at reset) and its reserved size. */
unsigned int cm_heap_in_use(void);
unsigned int cm_heap_high_water(void);
unsigned int cm_stack_peak(void);
unsigned int cm_stack_size(void);

/* Semihosting SYS_EXIT: status 0 -> QEMU exits 0, anything else -> QEMU exits 1. */
void cm_exit(int status) __attribute__((noreturn));

#endif
