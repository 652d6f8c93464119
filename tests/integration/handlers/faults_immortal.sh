#!/bin/sh
# faults_immortal.sh MARKER - a handler that survives everything but
# SIGKILL: it ignores SIGTERM, SIGHUP, SIGINT and SIGPIPE (its children
# inherit that), never reads stdin and never writes after "ready", and
# keeps running (at most 60 s). Every process of it carries
# WSIT_FAULTS_MARK=MARKER in its environment.
WSIT_FAULTS_MARK=$1
export WSIT_FAULTS_MARK
trap '' TERM HUP INT PIPE
echo ready
i=0
while [ "$i" -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
exit 0
