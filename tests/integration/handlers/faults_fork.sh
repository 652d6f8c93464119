#!/bin/sh
# faults_fork.sh MARKER STDIO WHEN - a handler whose child outlives it.
# Starts "sleep 1000" in the background with WSIT_FAULTS_MARK=MARKER in its
# environment (so /proc finds it), in the handler's process group. STDIO
# "keep": the sleep inherits stdout and stderr; "detach": they go to
# /dev/null (stdin too), so only the process group ties it to the handler.
# Says "ready", then WHEN "exit": exits 0 at once; "eof": echoes lines
# until stdin ends, then exits 0.
marker=$1
if [ "$2" = detach ]; then
	env WSIT_FAULTS_MARK="$marker" sleep 1000 </dev/null >/dev/null 2>&1 &
else
	env WSIT_FAULTS_MARK="$marker" sleep 1000 &
fi
echo "ready $!"
if [ "$3" = eof ]; then
	while IFS= read -r line; do
		printf '%s\n' "$line"
	done
fi
exit 0
