#!/bin/sh
# Prints a submit line naming the sample files, for "include : ./list-samples.sh |".
echo "transfer_input_files = samples/one.dat, samples/two.dat"
