/* The flash image's data: the model file and the test audio, included byte for byte at build time from the
 * folder given to the assembler with -Wa,-I<dir> (firmware-sim/run writes model.crnn and pcm.s16 there) and the
 * number of inputs in CM_INPUTS (-DCM_INPUTS=n). Both land in flash (read-only sections); nothing copies them. */
    .section .flash.model, "a"
    .balign 16
    .global cm_model_start, cm_model_end
cm_model_start:
    .incbin "model.crnn"
cm_model_end:

    .section .flash.audio, "a"
    .balign 16
    .global cm_pcm_start, cm_pcm_end
cm_pcm_start:
    .incbin "pcm.s16"
cm_pcm_end:

    .section .rodata, "a"
    .balign 4
    .global cm_pcm_inputs
cm_pcm_inputs:
    .word CM_INPUTS
