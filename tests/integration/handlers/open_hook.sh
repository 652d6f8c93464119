#!/bin/sh
# open_hook.sh - an OpenRequestHook for the tests; the query string says
# what to answer:
#   deny      401 with WWW-Authenticate (exit 1)
#   proto     accept with subprotocol "chat" and X-Hook headers
#   badproto  accept with subprotocol "nope" (one the client did not offer)
#   fail      exit 3 without output (403)
#   sleep     no answer in time (503, killed)
#   anything else: exit 0 without output (accept)
case "$QUERY_STRING" in
deny)
	printf 'Status: 401 Unauthorized\r\n'
	printf 'WWW-Authenticate: Basic realm="hook"\r\n'
	exit 1 ;;
proto)
	printf 'Sec-WebSocket-Protocol: chat\n'
	printf 'X-Hook-Path: %s\n' "$SCRIPT_NAME"
	printf 'X-Hook-Remote: %s\n' "$REMOTE_ADDR"
	exit 0 ;;
badproto)
	printf 'Sec-WebSocket-Protocol: nope\n'
	exit 0 ;;
fail)
	echo "hook says no" >&2
	exit 3 ;;
sleep)
	exec sleep 30 ;;
esac
exit 0
