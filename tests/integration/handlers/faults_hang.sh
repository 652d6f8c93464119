#!/bin/sh
# faults_hang.sh MARKER - a handler that will not go: it ignores SIGTERM
# (so do its children, which inherit that), reads stdin to EOF, says so
# on stderr, then keeps running (at most 60 s) until SIGKILL. Every process
# of it carries WSIT_FAULTS_MARK=MARKER in its environment.
WSIT_FAULTS_MARK=$1
export WSIT_FAULTS_MARK
trap '' TERM
echo ready
cat >/dev/null
echo "stdin closed" >&2
i=0
while [ "$i" -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
exit 0
