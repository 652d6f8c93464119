#!/bin/sh
# topic_hook.sh - an OpenRequestHook that subscribes: the WebSocket joins
# "vip" and "user:QUERY_STRING" (Subscribe lines, which the daemon takes),
# and the response gets an X-Hook header.
printf 'Subscribe: vip, user:%s\n' "$QUERY_STRING"
printf 'X-Hook: yes\n'
exit 0
