#!/usr/bin/python3
# output.py STATUS TEXT - writes TEXT (backslash escapes decoded, so "\n" is
# a line end) to stdout and exits with STATUS, without reading stdin.
import sys

sys.stdout.buffer.write(sys.argv[2].encode().decode("unicode_escape").encode("latin-1"))
sys.stdout.flush()
sys.exit(int(sys.argv[1]))
