/* C main of tools/conv_variants_qemu.sh: runs the Embedded conv micro-kernel battery and the FFT stage kernel battery
   (fft_stage_variants.swift) and prints one verdict line each; exits 1 on any mismatch. */
#include <stdio.h>
#include <stdlib.h>
void crnn_conv_variants(int cases, int *compared, int *mismatches);
void crnn_fft_stage_variants(int frames, int *compared, int *mismatches);
int main(int argc, char **argv) {
    const char *arch = argc > 1 ? argv[1] : "?";
    int compared = 0, mismatches = 0, fcompared = 0, fmismatches = 0;
    crnn_conv_variants(argc > 2 ? atoi(argv[2]) : 300, &compared, &mismatches);
    printf("conv variants: %s %d/%d bit-exact\n", arch, compared - mismatches, compared);
    crnn_fft_stage_variants(argc > 3 ? atoi(argv[3]) : 12, &fcompared, &fmismatches);
    printf("fft stage kernels: %s %d/%d bit-exact\n", arch, fcompared - fmismatches, fcompared);
    return mismatches == 0 && compared > 0 && fmismatches == 0 && fcompared > 0 ? 0 : 1;
}
