#!/bin/sh
# ci-valgrind.sh - the integration tests with the daemon under valgrind's
# memcheck (called by .ci/run).
#
# usage: tests/ci-valgrind.sh [BUILDDIR]
#   BUILDDIR: a configured, plain (unsanitized) build; default
#   $TMPDIR/psmtpd-ci-valgrind, configured with CFLAGS="-g -O1" if needed.
#
# tests/check_hostile starts every daemon as $HU_WRAPPER psmtpd ...; here
# that is valgrind with --trace-children=yes and one log file per process,
# so the master and each forked worker get their own log.  Then the
# channel's golden-transcript test runs under valgrind in-process
# (CK_FORK=no).  Any "ERROR SUMMARY: N" with N > 0 or any definitely lost
# block fails.  Prints "N passed, N failed, N skipped" last (one item per
# check test plus one per process log; a test that printed "SKIP: ..."
# counts skipped).
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-${TMPDIR:-/tmp}/psmtpd-ci-valgrind}
jobs=$(nproc 2>/dev/null || echo 2)

fail() {
	echo "ci-valgrind: $*"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

command -v valgrind >/dev/null || fail "valgrind not installed"
mkdir -p "$builddir" || exit 1
cd "$builddir" || exit 1
if ! test -f Makefile; then
	"$srcdir/configure" -q CFLAGS="-g -O1" >configure.log 2>&1 ||
	    fail "configure failed (see $builddir/configure.log)"
fi
# `all` runs a second make (the config header); build the tests after it,
# not beside it, or both makes compile the same objects at once.
{ make -j"$jobs" all && make -j"$jobs" tests/check_hostile tests/check_channel; } >build.log 2>&1 ||
    fail "build failed (see $builddir/build.log)"

logdir=$builddir/valgrind
rm -rf "$logdir"
mkdir -p "$logdir"
vg="valgrind --leak-check=full --errors-for-leak-kinds=definite
 --error-exitcode=99 --trace-children=yes --track-fds=no
 --log-file=$logdir/vg.%p"
passed=0
failed=0
skipped=0

# count_checks LOG - add check's "Checks: N, Failures: F, Errors: E".
count_checks() {
	line=$(grep -E '^[0-9]+%: Checks:' "$1" | tail -1)
	n=$(echo "$line" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
	f=$(echo "$line" | sed -n 's/.*Failures: \([0-9]*\).*/\1/p')
	e=$(echo "$line" | sed -n 's/.*Errors: \([0-9]*\).*/\1/p')
	if test -z "$n"; then
		failed=$((failed + 1))
		echo "ci-valgrind: no check summary in $1"
		return
	fi
	# a test whose peer could not start: skipped, not passed
	sk=$(grep -c '^SKIP: ' "$1")
	passed=$((passed + n - f - e - sk))
	failed=$((failed + f + e))
	skipped=$((skipped + sk))
	grep -E ':[FE]:' "$1" | head -10
}

# Timeouts in check_hostile are for a native daemon: give them room.
echo "ci-valgrind: check_hostile, daemon under memcheck"
HU_WRAPPER=$(echo $vg) CK_TIMEOUT_MULTIPLIER=6 \
    ./tests/check_hostile >"$logdir/check_hostile.out" 2>&1
count_checks "$logdir/check_hostile.out"

echo "ci-valgrind: check_channel in-process under memcheck"
CK_FORK=no $vg ./tests/check_channel >"$logdir/check_channel.out" 2>&1
count_checks "$logdir/check_channel.out"

# One item per process log.
for f in "$logdir"/vg.*; do
	test -f "$f" || continue
	# A worker killed at shutdown has no summary: its errors count.
	if grep -qE 'ERROR SUMMARY: [1-9]|definitely lost: [1-9]|Invalid (read|write|free)|uninitialised|Mismatched free' "$f"
	then
		failed=$((failed + 1))
		echo "ci-valgrind: errors in $f:"
		grep -E 'Command:|ERROR SUMMARY|definitely lost|Invalid|uninitialised|^==[0-9]+==    (at|by) ' "$f" | head -15
	else
		passed=$((passed + 1))
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
test "$failed" -eq 0
