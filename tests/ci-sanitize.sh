#!/bin/sh
# ci-sanitize.sh - build psmtpd with ASan+UBSan in a separate build dir and
# run the whole test suite there (called by .ci/run).
#
# usage: tests/ci-sanitize.sh [BUILDDIR]
#   BUILDDIR defaults to $TMPDIR/psmtpd-ci-sanitize (kept between runs, so
#   a second run only rebuilds what changed).
#
# The executables are sanitized, so the dlopen'ed plugins (built with the
# same flags) find the ASan runtime already loaded.  check forks each test:
# a leak or error in a test's child ends it with a non-zero status, which
# check reports as a failure.  The daemons that the integration tests start
# write their reports to BUILDDIR/sanitizer/ (log_path): any report there
# fails the run as well.  Prints "N passed, N failed, N skipped" last
# (tests/ci-count.sh).
set -u

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${1:-${TMPDIR:-/tmp}/psmtpd-ci-sanitize}
jobs=$(nproc 2>/dev/null || echo 2)
san="-fsanitize=address,undefined"

mkdir -p "$builddir" || exit 1
cd "$builddir" || exit 1
logdir=$builddir/sanitizer
rm -rf "$logdir"
mkdir -p "$logdir"

fail() {
	echo "ci-sanitize: $*"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
}

if ! test -f Makefile; then
	"$srcdir/configure" -q \
	    CFLAGS="-g -O1 $san -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDFLAGS="$san" >configure.log 2>&1 || fail "configure failed (see $builddir/configure.log)"
fi
make -j"$jobs" >build.log 2>&1 || fail "build failed (see $builddir/build.log)"

# detect_leaks: LSan at each process's exit.  abort_on_error=0: exit code
# 1/23 rather than a core.  The daemons' reports go to files (their
# stderr is the tests' log); the test programs' own reports too, so that
# nothing is lost in check's forked children.
ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$logdir/asan:strict_string_checks=1:detect_stack_use_after_return=1"
UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logdir/ubsan"
LSAN_OPTIONS="suppressions=$srcdir/tests/lsan.supp:print_suppressions=0"
CK_TIMEOUT_MULTIPLIER=4
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS CK_TIMEOUT_MULTIPLIER
test -f "$srcdir/tests/lsan.supp" || LSAN_OPTIONS=""

make -j"$jobs" check >check.log 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' check.log
# One item per check test, as .ci/run counts the plain build: a test that
# printed "SKIP: <test>: <why>" is skipped, not passed.
counts=$(sh "$srcdir/tests/ci-count.sh" "$builddir")
echo "$counts" | sed '$d'
counts=$(echo "$counts" | tail -1 | tr -d ,)
passed=$(echo "$counts" | cut -d' ' -f1)
failed=$(echo "$counts" | cut -d' ' -f3)
skipped=$(echo "$counts" | cut -d' ' -f5)
test $rc -ne 0 && test "$failed" -eq 0 && failed=1

# Reports from any process: one failure each.
for f in "$logdir"/*; do
	test -f "$f" || continue
	if grep -qE 'ERROR: |runtime error:' "$f"; then
		failed=$((failed + 1))
		echo "ci-sanitize: report in $f:"
		grep -E 'ERROR: |SUMMARY|runtime error:|^    #[0-4] ' "$f" | head -12
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
test "$failed" -eq 0
