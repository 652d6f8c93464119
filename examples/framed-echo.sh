#!/bin/sh
# framed-echo.sh - a wsserverd handler in the framed message format, in
# plain shell. Serve it with
#
#	[route:echo]
#	Path = /echo
#	Backend = script:/path/to/framed-echo.sh
#	MessageFormat = framed
#
# It greets the client, then sends every part of every message back as it
# came (text or binary, byte for byte), and when the client closes it says
# goodbye in the log. The format is in wsserverd(8), FRAMED MESSAGES: a
# header line such as "T 5", then exactly that many bytes.
greeting='hello from sh'
printf 'T %d\n%s' "${#greeting}" "$greeting"
while read -r kind a b; do
	case "$kind" in
	T|t|B|b)
		# Copy exactly $a bytes: dd with bs=1 never reads past them.
		printf '%s %d\n' "$kind" "$a"
		dd bs=1 count="$a" 2>/dev/null
		;;
	C)
		dd bs=1 count="$b" of=/dev/null 2>/dev/null
		echo "client closed with $a" >&2
		exit 0
		;;
	R)
		;;	# ReadyToSend: nothing is held back here
	*)
		# Anything else (I, O: the client's ping or pong) is skipped.
		dd bs=1 count="$a" of=/dev/null 2>/dev/null
		;;
	esac
done
