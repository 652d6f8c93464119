#!/usr/bin/python3
# fleet_client.py PORT PATH N OUT - clients of one node for the fleet test.
#
# Opens N WebSockets to ws://127.0.0.1:PORT/PATH (in the namespace it runs
# in) and appends one line per message received to OUT:
#   "CLIENT TIME MESSAGE"   (TIME: the wall clock, seconds)
# and "CLIENT up TIME" when a WebSocket opens, "CLIENT down TIME" when it
# ends. Runs until SIGTERM. Debian's python3-websockets only.
import asyncio
import signal
import sys
import time

import websockets


async def one(i, url, out):
    try:
        async with websockets.connect(url, ping_interval=None,
                max_size=None) as ws:
            out.write("%d up %.6f\n" % (i, time.time()))
            out.flush()
            async for msg in ws:
                if isinstance(msg, bytes):
                    msg = msg.decode("utf-8", "replace")
                out.write("%d %.6f %s\n" % (i, time.time(), msg))
                out.flush()
    except (OSError, websockets.exceptions.WebSocketException):
        pass
    out.write("%d down %.6f\n" % (i, time.time()))
    out.flush()


async def main():
    port, path, n, outpath = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
        sys.argv[4]
    url = "ws://127.0.0.1:%s%s" % (port, path)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    with open(outpath, "a") as out:
        tasks = [asyncio.ensure_future(one(i, url, out)) for i in range(n)]
        await stop.wait()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


asyncio.run(main())
