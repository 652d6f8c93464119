"""MessageFormat = framed: length-prefixed messages between a script and
its client, byte for byte, with types, parts, pings and close codes."""

import os

import pytest

from harness import (OP_BINARY, OP_CONT, OP_PING, OP_TEXT, connect_ws,
    unique_marker, wait_no_procs, wait_until)

MARK = unique_marker()


def routes(logdir):
    return {
        "framed": {"Path": "/framed", "MessageFormat": "framed",
            "Backend": "script:{handlers}/framed_echo.py %s/log %s" % (
                logdir, MARK)},
        "junk": {"Path": "/junk", "MessageFormat": "framed",
            "Backend": "script:{handlers}/output.py 0 X\\x201\\n"},
        "badutf8": {"Path": "/badutf8", "MessageFormat": "framed",
            "Backend": "script:{handlers}/output.py 0 T\\x202\\n\\xc3\\x28"},
        "cut": {"Path": "/cut", "MessageFormat": "framed",
            "Backend": "script:{handlers}/output.py 0 T\\x209\\nabc"},
        "exit": {"Path": "/exit", "MessageFormat": "framed",
            "Backend": "script:{handlers}/output.py 0 "
                "T\\x203\\noneB\\x200\\n"},
    }


@pytest.fixture
def framed(daemon_factory, tmp_path):
    d = daemon_factory(routes=routes(tmp_path),
        sections={"backend": {"KillTimeout": 1}})
    d.logfile = os.path.join(str(tmp_path), "log")
    yield d
    assert wait_no_procs(MARK, 5) == []


def handler_log(d):
    try:
        with open(d.logfile, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return b""


def test_round_trip_byte_for_byte(framed):
    c = connect_ws(framed.port, "/framed")
    c.echo(OP_TEXT, "line one\nline two\r\n\nT 5\n")
    c.echo(OP_TEXT, "\u00e9t\u00e9 \U0001f600")
    c.echo(OP_TEXT, "")
    c.echo(OP_BINARY, bytes(range(256)) * 3)
    c.echo(OP_BINARY, b"")
    c.echo(OP_BINARY, b"\nC 1000 0\n")
    # Bigger than a pipe and a read chunk: streamed through in parts.
    big = bytes((i * 7) & 0xFF for i in range(300000))
    c.echo(OP_BINARY, big)
    c.close_handshake(1000)


def test_handler_sends_parts_and_binary(framed):
    c = connect_ws(framed.port, "/framed")
    c.send_text("parts 3")
    frames = []
    assert c.read_message(frames=frames) == (OP_TEXT, b"part0part1part2")
    assert [f.opcode for f in frames] == [OP_TEXT, OP_CONT, OP_CONT]
    assert [f.fin for f in frames] == [False, False, True]
    c.send_text("binary")
    assert c.read_message() == (OP_BINARY, bytes(range(256)))
    c.close_handshake(1000)


def test_handler_close_code_and_reason(framed):
    c = connect_ws(framed.port, "/framed")
    c.send_text("close 4001 gone fishing")
    f = c.expect_close(4001)
    assert f.payload[2:] == b"gone fishing"
    c.reply_close(4001)
    c.assert_closed(2.0)


def test_handler_ping(framed):
    c = connect_ws(framed.port, "/framed")
    c.send_text("ping hello")
    f = c.read_frame()
    assert (f.opcode, f.payload) == (OP_PING, b"hello")
    c.close_handshake(1000)


def test_client_close_code_reaches_handler(framed):
    c = connect_ws(framed.port, "/framed")
    c.echo(OP_TEXT, "x")
    c.send_close(4002, b"bye now")
    c.expect_close(4002)
    assert wait_until(lambda: handler_log(framed).endswith(b"EOF\n"), 5.0)
    assert handler_log(framed) == b"T 1\nC 4002 7\nbye now\nEOF\n"


def test_client_fragments_arrive_as_parts(daemon_factory, tmp_path):
    d = daemon_factory(routes=routes(tmp_path),
        sections={"websocket": {"BufferMessage": False},
            "backend": {"KillTimeout": 1}})
    d.logfile = os.path.join(str(tmp_path), "log")
    c = connect_ws(d.port, "/framed")
    c.send_frame(OP_TEXT, b"ab", fin=False)
    c.send_frame(OP_CONT, b"cd", fin=False)
    c.send_frame(OP_CONT, b"ef", fin=True)
    assert c.read_message() == (OP_TEXT, b"abcdef")
    c.send_close(1000)
    c.expect_close(1000)
    assert wait_until(lambda: handler_log(d).endswith(b"EOF\n"), 5.0)
    assert handler_log(d) == b"t 2\nt 2\nT 2\nC 1000 0\n\nEOF\n"
    assert wait_no_procs(MARK, 5) == []


@pytest.mark.parametrize("path", ["/junk", "/badutf8", "/cut"])
def test_broken_output_is_1011(framed, path):
    c = connect_ws(framed.port, path)
    c.expect_close(1011, allow_partial=True)
    c.reply_close(1011)
    c.assert_closed(2.0)


def test_exit_after_frames_is_normal_close(framed):
    c = connect_ws(framed.port, "/exit")
    assert c.read_message() == (OP_TEXT, b"one")
    assert c.read_message() == (OP_BINARY, b"")
    c.expect_close(1000)
    c.reply_close(1000)
    c.assert_closed(2.0)


def test_linemode_line_cut_is_u(framed):
    """With LineMode, a line cut at MaxLineLength (the connection's own,
    config ID) ends with "U", one at its end of line with "T" (the
    reference's DataIn EOL); the handler tells them apart."""
    from admin_util import admin, conn_id
    with admin(framed) as a:
        c = connect_ws(framed.port, "/framed")
        cid = conn_id(a, c)
        assert a.cmd("config %s MaxLineLength=3" % cid).lines == [
            "MaxLineLength = 3"]
        assert a.cmd("linemode %s on" % cid).ok
        c.send_text("abcdefg\nhi")
        assert [c.read_message() for _ in range(4)] == [(OP_TEXT, b"abc"),
            (OP_TEXT, b"def"), (OP_TEXT, b"g"), (OP_TEXT, b"hi")]
        # The global MaxLineLength (0: none) is not this connection's.
        assert a.cmd("config MaxLineLength").lines == ["MaxLineLength = 0"]
    c.close_handshake(1000)
    assert wait_until(lambda: handler_log(framed).endswith(b"EOF\n"), 5.0)
    assert handler_log(framed).startswith(
        b"U 3\nU 3\nT 1\nt 2\nT 0\nC 1000 0\n"), handler_log(framed)
