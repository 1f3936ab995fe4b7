/* posix_memalign for newlib (arm-none-eabi), which has memalign but not posix_memalign: the one allocation call
 * libcrnn.a makes besides free. Link it into a bare-metal image with the library (docs/c-api.md). */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>

int posix_memalign(void **out, size_t alignment, size_t size) {
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0) return EINVAL;
    void *p = memalign(alignment, size ? size : 1);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
