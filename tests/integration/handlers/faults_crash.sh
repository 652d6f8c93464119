#!/bin/sh
# faults_crash.sh MARKER MODE - a line echo that crashes on request.
# Says "ready", then echoes each line; the line "die" ends it: MODE
# "signal" kills it with SIGSEGV (no core file), MODE "exit" exits with
# status 3. At stdin EOF it exits 0.
ulimit -c 0
echo ready
while IFS= read -r line; do
	if [ "$line" = die ]; then
		if [ "$2" = signal ]; then
			kill -SEGV $$
		fi
		exit 3
	fi
	printf '%s\n' "$line"
done
exit 0
