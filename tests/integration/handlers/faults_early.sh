#!/bin/sh
# faults_early.sh MARKER STATUS - exits with STATUS at once, before reading
# anything from stdin and without writing anything.
exit "$2"
