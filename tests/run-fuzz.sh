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

for bin in "$fuzzdir"/fuzz_*; do
	test -x "$bin" || continue
	name=$(basename "$bin")
	seeds="$corpus/${name#fuzz_}"
	test -d "$seeds" || seeds="$corpus/${name#fuzz_smtp_}"
	work="$scratch/$name"
	mkdir -p "$work"
	if test -d "$seeds"; then
		cp -R "$seeds/." "$work/"
	fi
	log="$fuzzdir/artifacts/$name.log"
	echo "fuzz: $name for ${seconds}s ($(ls "$work" | wc -l) seeds)"
	# -timeout: one input may take 10s at most (the channel's own
	# timeouts are 1s); -rss_limit_mb bounds memory.
	# Hard stop a minute after the nominal run in case the target hangs.
	timeout -k 10 $((seconds + 60)) "$bin" -max_total_time="$seconds" \
	    -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
	    -artifact_prefix="$fuzzdir/artifacts/$name-" \
	    -print_final_stats=1 "$work" >"$log" 2>&1
	rc=$?
	if test $rc -eq 0; then
		passed=$((passed + 1))
		grep -E '^stat::number_of_executed_units' "$log" | \
		    sed "s/^/fuzz: $name /"
	else
		failed=$((failed + 1))
		echo "fuzz: $name FAILED (exit $rc), see $log"
		grep -E 'ERROR|SUMMARY|Test unit written' "$log" | head -5
	fi
done

echo "$passed passed, $failed failed"
test $failed -eq 0 && test $passed -gt 0
