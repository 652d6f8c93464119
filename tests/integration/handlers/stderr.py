#!/usr/bin/python3
# stderr.py MARKER - writes two stderr lines naming MARKER, says "ready" on
# stdout, then echoes stdin lines until EOF.
import sys

sys.stderr.write("first %s\nsecond %s\n" % (sys.argv[1], sys.argv[1]))
sys.stderr.flush()
sys.stdout.write("ready\n")
sys.stdout.flush()
for line in sys.stdin:
    sys.stdout.write(line)
    sys.stdout.flush()
