#!/usr/bin/python3
# chunks.py PAUSE HEX... - writes each HEX-encoded chunk to stdout in its own
# write, pausing PAUSE seconds after each, then exits 0 without reading
# stdin. The pause makes each chunk arrive in a read of its own.
import os
import sys
import time

pause = float(sys.argv[1])
for chunk in sys.argv[2:]:
    os.write(1, bytes.fromhex(chunk))
    time.sleep(pause)
