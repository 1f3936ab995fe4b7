/*
 * crnn_chunk: how examples/c/classify.c and c-api/test_api.c cut PCM into crnn_push calls: `chunk` samples at a
 * time or, with chunk 0, pseudo-random sizes 1..max_random (an LCG in *rng), to show that chunking does not
 * matter; never more than the `left` samples there are.
 */
#ifndef CRNN_CHUNK_H
#define CRNN_CHUNK_H
#include <stddef.h>
#include <stdint.h>

static inline size_t crnn_chunk_length(size_t chunk, uint32_t *rng, size_t max_random, size_t left) {
    size_t len = chunk;
    if (chunk == 0) {
        *rng = *rng * 1103515245u + 12345u;
        len = 1 + (*rng >> 8) % max_random;
    }
    return len < left ? len : left;
}

#endif
