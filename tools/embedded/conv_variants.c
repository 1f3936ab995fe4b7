/* C main of tools/conv_variants_qemu.sh: runs the Embedded conv micro-kernel battery and prints the verdict. */
#include <stdio.h>
#include <stdlib.h>
void crnn_conv_variants(int cases, int *compared, int *mismatches);
int main(int argc, char **argv) {
    int compared = 0, mismatches = 0;
    crnn_conv_variants(argc > 2 ? atoi(argv[2]) : 300, &compared, &mismatches);
    printf("conv variants: %s %d/%d bit-exact\n", argc > 1 ? argv[1] : "?", compared - mismatches, compared);
    return mismatches == 0 && compared > 0 ? 0 : 1;
}
