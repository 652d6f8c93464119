#!/bin/sh
# stubborn_ticker.sh MARKER - a handler that ignores stdin EOF, SIGTERM and
# SIGHUP, and keeps a child: says "ready", then writes "tick" every 0.2 s
# from a loop of sleeps (each sleep inherits the ignored signals and has
# WSIT_FAULTS_MARK=MARKER in its environment, so /proc finds it). Only
# SIGKILL ends it, at most after 60 s.
trap '' TERM HUP
WSIT_FAULTS_MARK=$1
export WSIT_FAULTS_MARK
echo ready
i=0
while [ $i -lt 300 ]; do
	echo tick
	sleep 0.2
	i=$((i + 1))
done
