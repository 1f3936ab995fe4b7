# Sourced by the real-data checks that train a float model and then hold it to a limit
# (quantize_regression.sh, device_parity.sh). Float training depends on the OpenBLAS kernel, which the
# library picks for the CPU when it loads (docs/testing.md), so the same seed trains another model on
# another CPU and a limit that one model meets, the next may miss. Pin the architecture's baseline
# kernel, which every CPU of that architecture runs, so that these checks train the same model on
# every machine. An OPENBLAS_CORETYPE already set in the environment is kept: some machines set it
# because other kernels misbehave there.
export OPENBLAS_NUM_THREADS=2
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    case "$(uname -m)" in
        x86_64) export OPENBLAS_CORETYPE=Prescott ;;
        aarch64 | arm64) export OPENBLAS_CORETYPE=ARMV8 ;;
    esac
fi
echo "OpenBLAS kernel: ${OPENBLAS_CORETYPE:-chosen by the library}, ${OPENBLAS_NUM_THREADS} threads" >&2

# real_data_setup NAME PRODUCT...: the rest of the set-up these checks share: exit 2 when $DATA is not a folder,
# WORK (a new temporary folder unless set), the release build of each PRODUCT and BIN (the folder holding them).
real_data_setup() {
    local name=$1 p; shift
    if [ ! -d "$DATA" ]; then
        echo "$name: no data at $DATA" >&2
        exit 2
    fi
    WORK="${WORK:-$(mktemp -d)}"
    mkdir -p "$WORK"
    for p in "$@"; do swift build -c release --product "$p" >&2; done
    BIN="$(swift build -c release --show-bin-path)"
}
