# py_sources.sed - one line of Python source as a C string literal line.
s/\\/\\\\/g
s/"/\\"/g
s/^/"/
s/$/\\n"/
