#!/usr/bin/env bash
# Checks ./crnn's set-up logic without touching this machine's packages: PATH shims stand in for dpkg (two packages
# reported missing), apt-get and sudo (both only echo) and id (a non-root user). Prints PASS/FAIL per scenario.
# (The no-sudo scenario needs a machine without sudo on PATH; where sudo exists it is reported as skipped.)
#
#   tools/crnn_setup_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
S="$(mktemp -d)"
trap 'rm -rf "$S"' EXIT
cat > "$S/dpkg" <<'SH'
#!/bin/sh
if [ "$1" = -s ] && { [ "$2" = libsoxr-dev ] || [ "$2" = libfftw3-dev ]; }; then exit 1; fi
exec /usr/bin/dpkg "$@"
SH
printf '#!/bin/sh\necho "[apt-get] $*"\n' > "$S/apt-get"
mkdir -p "$S/u" "$S/n"
printf '#!/bin/sh\necho "[sudo] $*"\n' > "$S/u/sudo"
printf '#!/bin/sh\nif [ "$1" = -u ]; then echo 1000; else exec /usr/bin/id "$@"; fi\n' > "$S/id-user"
chmod +x "$S"/dpkg "$S"/apt-get "$S"/id-user "$S"/u/sudo
fails=0
check() {  # name, expected exit status, pattern that must appear, command...
    local name="$1" want="$2" pattern="$3"; shift 3
    local out rc
    out="$("$@" 2>&1)"; rc=$?
    if [ "$rc" = "$want" ] && grep -qE -- "$pattern" <<<"$out"; then echo "PASS $name"; else
        echo "FAIL $name (exit $rc, wanted $want; pattern '$pattern')"; echo "$out" | sed 's/^/    /'; fails=$((fails + 1)); fi
}
as_root() { PATH="$S:$PATH" ./crnn setup; }
as_user() { ln -sf "$S/id-user" "$S/u/id"; PATH="$S/u:$S:$PATH" ./crnn setup; }
as_user_nosudo() { ln -sf "$S/id-user" "$S/n/id"; PATH="$S/n:$S:$PATH" ./crnn setup; }
nothing_missing() { ./crnn setup; }
check "root: says so, apt-get update then install of the two missing" 0 \
    'installing missing system packages: libfftw3-dev libsoxr-dev' as_root
check "root: apt-get install called with exactly the missing packages" 0 \
    '^\[apt-get\] install -y --no-install-recommends libfftw3-dev libsoxr-dev$' as_root
check "root: apt-get update first" 0 '^\[apt-get\] update$' as_root
check "not root: through sudo" 0 '^\[sudo\] env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libfftw3-dev libsoxr-dev$' as_user
if command -v sudo >/dev/null 2>&1; then echo "SKIP not root, no sudo (this machine has sudo)"; else
    check "not root, no sudo: exit 1 with the command to run" 1 'not root and no sudo' as_user_nosudo
fi
if [ -z "$(for p in pkg-config libfftw3-dev libsndfile1-dev libopenblas-dev libsoxr-dev; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)" ]; then
    check "nothing missing on this machine: no install" 0 '^$' nothing_missing
fi
[ "$fails" -eq 0 ] && echo "crnn_setup_check: all passed" || { echo "crnn_setup_check: $fails failed"; exit 1; }
