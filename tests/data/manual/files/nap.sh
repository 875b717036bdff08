#!/bin/sh
# A stand-in job for the manual's examples: rests a moment, then reports its arguments.
sleep "${NAP_SECONDS:-1}"
echo "rested; arguments were: $*"
