/* Startup of the Cortex-M image: the vector table, the reset handler (FPU on, .data copied from flash, .bss zeroed,
 * the stack painted for the peak measurement, then cm_main) and a fault handler that reports through
 * semihosting. The memory map is mps2.ld's. */
#include <stdint.h>
#include "board.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_bottom[], __stack_top[];
int cm_main(void);  /* Main.swift */
#define STACK_PAINT 0x5a17c0deu

static void fault(const char *what) {
    unsigned n = 0;
    while (what[n]) n++;
    cm_put_bytes((const unsigned char *)"cortex-m: ", 10);
    cm_put_bytes((const unsigned char *)what, n);
    volatile uint32_t *scb = (volatile uint32_t *)0xE000ED00u;
    cm_put_bytes((const unsigned char *)" CFSR=", 6); cm_put_hex(scb[0x28 / 4]);
    cm_put_bytes((const unsigned char *)" HFSR=", 6); cm_put_hex(scb[0x2C / 4]);
    cm_put_bytes((const unsigned char *)" BFAR=", 6); cm_put_hex(scb[0x38 / 4]);
    cm_put_bytes((const unsigned char *)"\n", 1);
    cm_exit(1);
}

static void hard_fault(void) { fault("hard fault"); }
static void other_fault(void) { fault("fault or unexpected interrupt"); }

__attribute__((noreturn, naked)) void Reset_Handler(void) {
    /* naked: no prologue; the C body below runs on the initial stack from the vector table. */
    __asm__ volatile("b cm_reset_c");
}

__attribute__((noreturn, used)) void cm_reset_c(void) {
    /* FPU: CP10 and CP11 full access (the Swift code is compiled for an FPv4-SP/FPv5 Cortex-M4F/M7). */
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;) *d++ = *s++;
    for (uint32_t *d = __bss_start; d < __bss_end;) *d++ = 0;
    /* Paint the stack up to 64 bytes below the current stack pointer (this function's own frame is above it). */
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (uint32_t *p = __stack_bottom; p < sp - 16; p++) *p = STACK_PAINT;
    cm_exit(cm_main());
}

typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) const vector cm_vectors[16 + 32] = {
    (vector)(uintptr_t)__stack_top,
    Reset_Handler,
    other_fault,  /* NMI */
    hard_fault,
    other_fault, other_fault, other_fault,  /* MemManage, BusFault, UsageFault */
    0, 0, 0, 0,
    other_fault,  /* SVCall */
    other_fault, 0,
    other_fault,  /* PendSV */
    other_fault,  /* SysTick */
    [16 ... 47] = other_fault,
};
