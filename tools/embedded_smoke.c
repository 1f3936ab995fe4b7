/* C main of tools/embedded_smoke.sh: prints the logits computed by the Embedded Swift runtime and compares
   them with the regression fixture of Tests/CRNNRuntimeTests/RegressionTests.swift (paper-gru/lstm, input 1). */
#include <stdio.h>
#include <string.h>
int crnn_smoke_logits(signed char *out);
int main(void) {
    static const signed char expected[20] = {-128, -128, -44, 85, 16, 127, -128, -48, -30, -128,
                                             73, 104, 46, -26, 13, -31, -127, 100, -83, 63};
    signed char got[20];
    if (crnn_smoke_logits(got) != 0) { printf("embedded smoke: model error\n"); return 1; }
    for (int i = 0; i < 20; i++) printf("%d%s", got[i], i == 19 ? "\n" : " ");
    if (memcmp(got, expected, 20) != 0) { printf("embedded smoke: MISMATCH\n"); return 1; }
    printf("embedded smoke: bit-exact\n");
    return 0;
}
