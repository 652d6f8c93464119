"""test_hangup.py - a client that goes away while the daemon is not reading it.

A paused connection (here: admin pause, the same state a stalled backend
or a full output queue puts it in) is still looked at for a hang-up: a
reset or a FIN ends it within about a second; a FIN behind data it has
not read yet waits KillTimeout for reading to resume, so what the client
sent last is still delivered when it does.
"""

import socket
import struct
import time

import pytest

import harness
from admin_util import admin, conn_id

KT = 2


@pytest.fixture
def dmn(daemon_factory):
    return daemon_factory(sections={"backend": {"KillTimeout": KT}})


def paused_client(d, a):
    c = harness.connect_ws(d.port)
    c.echo(harness.OP_TEXT, "hello")
    cid = conn_id(a, c)
    assert a.cmd("pause " + cid).ok
    return c, cid


def close_line(cid):
    return r" %s close code=1006 by=client " % cid


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_hangup_with_nothing_unread(dmn, how):
    with admin(dmn) as a:
        c, cid = paused_client(dmn, a)
        mark = dmn.mark()
        if how == "rst":
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                struct.pack("ii", 1, 0))
        t0 = time.monotonic()
        c.close()
        dmn.wait_log(close_line(cid), start=mark, timeout=5)
        assert time.monotonic() - t0 < 3.0
        assert a.cmd("connection " + cid).code == 126


def test_hangup_behind_unread_data_waits_then_lets_go(dmn):
    with admin(dmn) as a:
        c, cid = paused_client(dmn, a)
        mark = dmn.mark()
        c.send_text("last words")
        time.sleep(0.2)
        t0 = time.monotonic()
        c.sock.shutdown(socket.SHUT_WR)
        dmn.wait_log(r" %s client hung up; what it sent last was not taken "
            r"within %d s" % (cid, KT), start=mark, timeout=KT + 5)
        took = time.monotonic() - t0
        assert KT - 0.5 <= took <= KT + 3, took
        m = dmn.wait_log(close_line(cid) + r".* msgs_in=(\d+)", start=mark)
        assert m.group(1) == "1"
        c.close()


def test_hangup_behind_unread_data_delivered_on_resume(dmn):
    with admin(dmn) as a:
        c, cid = paused_client(dmn, a)
        mark = dmn.mark()
        c.send_text("last words")
        time.sleep(0.2)
        c.sock.shutdown(socket.SHUT_WR)
        time.sleep(1.5)
        # Still there: reading resumes within the grace.
        assert a.cmd("connection " + cid).ok
        assert a.cmd("resume " + cid).ok
        # The message is taken (and echoed to the half-closed client),
        # then the FIN ends the WebSocket.
        assert c.read_message(3.0) == (harness.OP_TEXT, b"last words")
        m = dmn.wait_log(close_line(cid) + r".* msgs_in=(\d+)", start=mark)
        assert m.group(1) == "2"
        assert not dmn.find_log(r" %s client hung up" % cid, start=mark)
        c.close()
