#!/bin/sh
# sigstate.sh - prints the ignored and blocked signal masks the handler
# started with (read by the exec'd grep itself: a shell blocks signals
# for a moment while it forks, so its own status would be a race).
exec grep -E '^Sig(Ign|Blk):' /proc/self/status
