/* C main of tools/embedded_smoke.sh: prints the logits computed by the Embedded Swift runtime; the Swift side
   compares them with the regression values (Tests/TestSupport/PaperTestModel.swift, paperModelExpectedLogits). */
#include <stdio.h>
int crnn_smoke_logits(signed char *out);
int main(void) {
    signed char got[20];
    int status = crnn_smoke_logits(got);
    if (status == 1) { printf("embedded smoke: model error\n"); return 1; }
    for (int i = 0; i < 20; i++) printf("%d%s", got[i], i == 19 ? "\n" : " ");
    if (status != 0) { printf("embedded smoke: MISMATCH\n"); return 1; }
    printf("embedded smoke: bit-exact\n");
    return 0;
}
