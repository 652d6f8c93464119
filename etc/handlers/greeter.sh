#!/bin/sh
# greeter.sh - the quick start's demo handler for wsserverd.
#
# One copy runs per WebSocket. With MessageFormat = lines every line this
# script prints is one text message to the client, and every message from
# the client arrives as one line on stdin. The client closing the
# WebSocket closes stdin; exiting closes the WebSocket.

# Messages must not sit in a buffer: printf in a shell writes at once.
printf 'hello from wsserverd\n'
while IFS= read -r line; do
	printf 'you said: %s\n' "$line"
done
