#!/bin/sh
# man_examples.sh - every example of psmtpd-plugin(3) marked
# '.\" example: NAME' compiles against include/psmtpd/plugin.h, warnings
# as errors: the page's code is real code.  Run by make check; the source
# tree is where this script is (or $top_srcdir), the compiler $CC or cc.
set -eu
top="${top_srcdir:-$(dirname "$0")/..}"
page="$top/man/psmtpd-plugin.3"
inc="$top/include"
cc="${CC:-cc}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/man_examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
# Each example: the lines between .EX and .EE after its marker, with the
# roff escapes of the page undone.
awk -v dir="$tmp" '
/^\.\\" example: / { name = $3; want = 1; next }
want && /^\.EX$/ { file = dir "/" name ".c"; copy = 1; want = 0; next }
copy && /^\.EE$/ { copy = 0; close(file); n++; next }
copy {
	gsub(/\\&/, ""); gsub(/\\-/, "-"); gsub(/\\\(dq/, "\"")
	gsub(/\\e/, "\\")
	print > file
}
END { if (n < 7) { print "only " n " examples found" > "/dev/stderr"; exit 1 } }
' "$page"
status=0
for f in "$tmp"/*.c; do
	if ! $cc -std=c11 -fsyntax-only -Wall -Wextra -Werror \
	    -Wno-unused-function -I"$inc" "$f"; then
		echo "FAIL: example $(basename "$f" .c) of psmtpd-plugin(3)"
		status=1
	fi
done
exit $status
