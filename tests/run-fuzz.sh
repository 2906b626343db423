#!/bin/sh
# run-fuzz.sh - run every libFuzzer target for FUZZ_SECONDS on its corpus.
#
# usage: tests/run-fuzz.sh FUZZDIR CORPUSDIR
#   FUZZDIR    where `make fuzz` put the targets (tests/fuzz in a build dir)
#   CORPUSDIR  the seeds, one subdirectory per target without "fuzz_"
#              (tests/corpus/channel for fuzz_channel), or without
#              "fuzz_smtp_" (tests/corpus/data for fuzz_smtp_data)
# The seeds are copied to a scratch corpus so the source tree stays as it
# is.  Any crash, leak, timeout or out-of-memory fails the run; its input
# is kept in FUZZDIR/artifacts/ to become a regression test.
# FUZZ_JOBS (default: the CPUs, at most 2) targets run side by side.
# Prints "N passed, N failed" last and exits non-zero on failure.
set -u

fuzzdir=${1:?usage: run-fuzz.sh FUZZDIR CORPUSDIR}
corpus=${2:?usage: run-fuzz.sh FUZZDIR CORPUSDIR}
seconds=${FUZZ_SECONDS:-60}
passed=0
failed=0

mkdir -p "$fuzzdir/artifacts" || exit 1
scratch=$(mktemp -d "${TMPDIR:-/tmp}/psmtpd-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT

# fuzz_one BIN - one target on its scratch corpus; its report lines into
# $scratch/NAME.out, and "pass" or "fail" into $scratch/NAME.rc.
fuzz_one() {
	bin=$1
	name=$(basename "$bin")
	seeds="$corpus/${name#fuzz_}"
	test -d "$seeds" || seeds="$corpus/${name#fuzz_smtp_}"
	work="$scratch/$name"
	out="$scratch/$name.out"
	mkdir -p "$work"
	if test -d "$seeds"; then
		cp -R "$seeds/." "$work/"
	fi
	log="$fuzzdir/artifacts/$name.log"
	echo "fuzz: $name for ${seconds}s ($(ls "$work" | wc -l) seeds)" >"$out"
	# -timeout: one input may take 10s at most (the channel's own
	# timeouts are 1s); -rss_limit_mb bounds memory.
	# Hard stop a minute after the nominal run in case the target hangs.
	timeout -k 10 $((seconds + 60)) "$bin" -max_total_time="$seconds" \
	    -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
	    -artifact_prefix="$fuzzdir/artifacts/$name-" \
	    -print_final_stats=1 "$work" >"$log" 2>&1
	rc=$?
	if test $rc -eq 0; then
		echo pass >"$scratch/$name.rc"
		grep -E '^stat::number_of_executed_units' "$log" | \
		    sed "s/^/fuzz: $name /" >>"$out"
	else
		echo fail >"$scratch/$name.rc"
		echo "fuzz: $name FAILED (exit $rc), see $log" >>"$out"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5 >>"$out"
	fi
}

# FUZZ_JOBS targets at a time (default: the CPUs, at most 2), each for
# the whole FUZZ_SECONDS: the same fuzzing in less wall time.
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
test "$jobs" -gt 2 && jobs=2
test "$jobs" -ge 1 || jobs=1
batch=""
nbatch=0
for bin in "$fuzzdir"/fuzz_* ""; do
	if test -n "$bin" && test -x "$bin"; then
		fuzz_one "$bin" &
		batch="$batch $(basename "$bin")"
		nbatch=$((nbatch + 1))
	fi
	if test $nbatch -gt 0 && { test $nbatch -ge "$jobs" || test -z "$bin"; }; then
		wait
		for name in $batch; do
			cat "$scratch/$name.out"
			if test "$(cat "$scratch/$name.rc" 2>/dev/null)" = pass; then
				passed=$((passed + 1))
			else
				failed=$((failed + 1))
			fi
		done
		batch=""
		nbatch=0
	fi
done

echo "$passed passed, $failed failed"
test $failed -eq 0 && test $passed -gt 0
