#!/bin/sh
# ci-count.sh - count the results of one build tree's `make check`, one
# item per check test (not per program), for .ci/run and ci-sanitize.sh.
#
# usage: tests/ci-count.sh BUILDDIR
#
# A check program's log ends with "N%: Checks: N, Failures: F, Errors: E";
# a test script without one counts once by its .trs result.  A check test
# whose real peer could not start printed "SKIP: <test>: <why>" and
# returned: check counted it passed, here it counts skipped.  A program
# that died after its summary (a sanitizer's exit status) still failed.
# Prints "N passed, N failed, N skipped" last.
set -u

dir=${1:?usage: ci-count.sh BUILDDIR}
p=0
f=0
s=0
for trs in $(find "$dir" -name '*.trs'); do
	log=${trs%.trs}.log
	line=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' \
	    "$log" 2>/dev/null | tail -1)
	sk=$(grep -c '^SKIP: ' "$log" 2>/dev/null)
	test -n "$sk" || sk=0
	if test -n "$line"; then
		n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
		fl=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
		er=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
		ok=$((n - fl - er - sk))
		test $ok -lt 0 && ok=0
		p=$((p + ok))
		f=$((f + fl + er))
		s=$((s + sk))
		if grep -qE ':test-result: (FAIL|ERROR)' "$trs" &&
		    test $((fl + er)) -eq 0; then
			f=$((f + 1))
			echo "ci-count: $log: failed after its summary"
		fi
	elif grep -q ':test-result: PASS' "$trs"; then
		# a script that skipped some of its parts still passed once
		p=$((p + 1))
		s=$((s + sk))
	elif grep -q ':test-result: SKIP' "$trs"; then
		s=$((s + 1))
	else
		f=$((f + 1))
	fi
done
echo "$p passed, $f failed, $s skipped"
