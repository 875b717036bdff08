#!/bin/sh
# Reads the files named on its command line and writes a summary into the last one.
out="$3"
cat "$1" "$2" > "$out"
