/* Board services of the Cortex-M image (MPS2 AN386 / AN500 under QEMU): semihosting output and exit, the CMSDK
 * dual timer as a clock, newlib's _sbrk with a high-water mark, posix_memalign (the Embedded Swift runtime
 * allocates with it; newlib has only memalign), and the stack-paint scan. See board.h and docs/microcontroller.md. */
#include <malloc.h>
#include <reent.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include "board.h"

/* ---- Semihosting (ARM semihosting v2: `bkpt 0xab` in Thumb state, r0 = operation, r1 = argument) ---------- */
enum { SYS_WRITE0 = 0x04, SYS_EXIT = 0x18 };
enum { ADP_Stopped_ApplicationExit = 0x20026, ADP_Stopped_RunTimeErrorUnknown = 0x20023 };

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static char line[256];
static unsigned line_len;

static void flush_line(void) {
    if (line_len == 0) return;
    line[line_len] = 0;
    semihost(SYS_WRITE0, line);
    line_len = 0;
}

static void put_char(char c) {
    line[line_len++] = c;
    if (c == '\n' || line_len == sizeof line - 1) flush_line();
}

void cm_put_bytes(const unsigned char *s, unsigned int n) {
    for (unsigned i = 0; i < n; i++) put_char((char)s[i]);
}

void cm_put_int(long long v) {
    char digits[24];
    int n = 0;
    unsigned long long m = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do { digits[n++] = (char)('0' + m % 10); m /= 10; } while (m);
    if (v < 0) put_char('-');
    while (n) put_char(digits[--n]);
}

void cm_put_hex(unsigned int v) {
    for (int s = 28; s >= 0; s -= 4) put_char("0123456789abcdef"[(v >> s) & 15]);
}

/* Embedded Swift's print() ends here; used only by fatal-error messages of the runtime. */
int putchar(int c) { put_char((char)c); return c; }

void cm_exit(int status) {
    flush_line();
    semihost(SYS_EXIT, (const void *)(uintptr_t)(status == 0 ? ADP_Stopped_ApplicationExit : ADP_Stopped_RunTimeErrorUnknown));
    for (;;) {}
}

/* ---- Clock: CMSDK APB dual timer, timer 1 at 0x40002000, 32-bit free-running, clocked at 25 MHz --------------- */
#define DUALTIMER1 ((volatile uint32_t *)0x40002000u)
enum { TLOAD = 0, TVALUE = 1, TCONTROL = 2 };
static int timer_started;

unsigned int cm_timer_ticks(void) {
    if (!timer_started) {
        DUALTIMER1[TCONTROL] = 0;
        DUALTIMER1[TLOAD] = 0xffffffffu;
        DUALTIMER1[TCONTROL] = (1u << 7) | (1u << 1);  /* enable, 32-bit, free-running, no prescale, no interrupt */
        timer_started = 1;
    }
    return 0xffffffffu - DUALTIMER1[TVALUE];  /* counts down: invert so that differences are positive */
}

unsigned int cm_timer_ns_per_tick(void) { return 1000000000u / 25000000u; }

#define CAL_LOOPS 1000000u
unsigned int cm_calibration_instructions(void) { return 2u * CAL_LOOPS; }

/* A loop of exactly 2 * CAL_LOOPS instructions (subs + bne) between the two timer reads (plus the read's own). */
unsigned int cm_calibrate(void) {
    unsigned t0 = cm_timer_ticks();
    register unsigned n __asm__("r0") = CAL_LOOPS;
    __asm__ volatile("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
    return cm_timer_ticks() - t0;
}

/* ---- Heap: newlib's malloc over _sbrk, between the end of .bss and the end of RAM ------------------------------ */
extern char __heap_start[], __heap_end[];
static char *brk = __heap_start;
static char *brk_high = __heap_start;

void *_sbrk(ptrdiff_t incr) {
    char *old = brk;
    if (incr > __heap_end - brk || incr < __heap_start - brk) { errno = ENOMEM; return (void *)-1; }
    brk += incr;
    if (brk > brk_high) brk_high = brk;
    return old;
}

unsigned int cm_heap_high_water(void) { return (unsigned)(brk_high - __heap_start); }
/* The reentrant entry point: mallinfo() shares its object file with malloc_stats(), which pulls in fprintf. */
struct mallinfo _mallinfo_r(struct _reent *);
unsigned int cm_heap_in_use(void) { struct mallinfo m = _mallinfo_r(_REENT); return (unsigned)m.uordblks; }

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1))) return EINVAL;
    void *p = memalign(alignment, size ? size : 1);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}

/* ---- Stack: painted by the reset handler (startup.c), scanned here --------------------------------------------- */
extern uint32_t __stack_bottom[], __stack_top[];
#define STACK_PAINT 0x5a17c0deu

unsigned int cm_stack_size(void) { return (unsigned)((char *)__stack_top - (char *)__stack_bottom); }

unsigned int cm_stack_peak(void) {
    const uint32_t *p = __stack_bottom;
    while (p < __stack_top && *p == STACK_PAINT) p++;
    return (unsigned)((const char *)__stack_top - (const char *)p);
}

/* ---- Flash data (flash_data.S) ----------------------------------------------------------------------------- */
extern const unsigned char cm_model_start[], cm_model_end[];
extern const short cm_pcm_start[], cm_pcm_end[];
extern const unsigned int cm_pcm_inputs;

const unsigned char *cm_model_data(void) { return cm_model_start; }
unsigned int cm_model_size(void) { return (unsigned)(cm_model_end - cm_model_start); }
const short *cm_pcm_data(void) { return cm_pcm_start; }
unsigned int cm_input_count(void) { return cm_pcm_inputs; }
unsigned int cm_input_samples(void) { return cm_pcm_inputs ? (unsigned)(cm_pcm_end - cm_pcm_start) / cm_pcm_inputs : 0; }

/* ---- Stack protector (swiftc emits the checks; newlib's version would pull in its stdio) ------------------- */
uintptr_t __stack_chk_guard = 0x2f8c5e1bu;
void __stack_chk_fail(void) {
    static const char msg[] = "cortex-m: stack smashing detected\n";
    cm_put_bytes((const unsigned char *)msg, sizeof msg - 1);
    cm_exit(1);
}
