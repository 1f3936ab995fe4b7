// The C library as crnn-infer uses it, on the host (SwiftPM) and in the Embedded Swift cross-builds
// (firmware-sim), where Glibc's Swift overlay does not exist.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <time.h>
