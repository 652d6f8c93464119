"""The closing handshake (RFC 6455 sections 5.5.1, 7.4)."""

import socket
import struct

import pytest

from harness import (OP_CLOSE, OP_PING, OP_TEXT, WSClient, build_frame,
    close_payload, connect_ws)

VALID_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011,
    3000, 3999, 4000, 4999]
INVALID_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999,
    5000, 65535]


def test_empty_close(echo):
    # No status code: the reply has none either, or 1000 (1005 must never
    # be sent on the wire).
    echo.send_close()
    f = echo.read_close()
    assert f.payload == b"" or f.close_code() == 1000, repr(f)
    echo.assert_closed(1.0)


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_code_echoed(echo, code):
    echo.close_handshake(code)


def test_code_with_reason(echo):
    f = echo.close_handshake(1000, "goodbye \u00e9")
    # The reason, if echoed, is valid UTF-8 (checked by expect_close).
    assert len(f.payload) <= 125


def test_code_with_123_byte_reason(echo):
    echo.close_handshake(1000, b"r" * 123)


@pytest.mark.parametrize("code", INVALID_CODES)
def test_invalid_code_1002(echo, code):
    echo.send_close(code)
    echo.expect_failure(1002)


def test_one_byte_payload_1002(echo):
    echo.send_frame(OP_CLOSE, b"\x03")
    echo.expect_failure(1002)


def test_124_byte_reason_1002(echo):
    echo.send_frame(OP_CLOSE, close_payload(1000, b"r" * 124))
    echo.expect_failure(1002)


@pytest.mark.parametrize("reason", [b"\xff", b"ok\xed\xa0\x80",
    b"\xce", b"\xc0\xaf"], ids=lambda r: r.hex())
def test_invalid_utf8_reason_1007(echo, reason):
    echo.send_close(1000, reason)
    echo.expect_failure(1007)


def test_frames_after_close_ignored(echo):
    echo.send(build_frame(OP_CLOSE, close_payload(1000)) +
        build_frame(OP_TEXT, "after close") + build_frame(OP_PING, b"late"))
    echo.expect_close(1000)
    echo.assert_closed(1.0)


def test_close_inside_fragmented_message(echo):
    echo.send_frame(OP_TEXT, "unfinished", fin=False)
    echo.send_close(1000)
    echo.expect_close(1000, allow_partial=True)
    echo.assert_closed(1.0)


def test_close_after_messages(echo):
    echo.send(build_frame(OP_TEXT, "one") + build_frame(OP_TEXT, "two") +
        build_frame(OP_CLOSE, close_payload(1000)))
    assert echo.read_message() == (OP_TEXT, b"one")
    assert echo.read_message() == (OP_TEXT, b"two")
    echo.expect_close(1000)
    echo.assert_closed(1.0)


def test_close_one_byte_per_write(echo):
    echo.send_chopped(build_frame(OP_CLOSE, close_payload(4321, b"bye")), 1)
    echo.expect_close(4321)
    echo.assert_closed(1.0)


def test_close_code_logged(daemon_factory):
    d = daemon_factory()
    start = d.mark()
    c = connect_ws(d.port)
    m = d.wait_log(r"(\S+) open 127\.0\.0\.1:%d " % c.local_port,
        start=start)
    c.close_handshake(4002)
    d.wait_log(r"%s close code=4002\b" % m.group(1), start=start)

    c = connect_ws(d.port)
    m = d.wait_log(r"(\S+) open 127\.0\.0\.1:%d " % c.local_port,
        start=start)
    c.send_frame(OP_TEXT, b"\xff")
    c.expect_failure(1007)
    d.wait_log(r"%s close code=1007\b" % m.group(1), start=start)


def test_abrupt_disconnects_leave_daemon_serving(echo_daemon):
    # Clients that vanish without a close frame: mid-frame, mid-handshake,
    # with a reset. The daemon keeps serving.
    c = connect_ws(echo_daemon.port)
    c.send(build_frame(OP_TEXT, "x" * 1000)[:300])
    c.close()
    c = WSClient(echo_daemon.port)
    c.send(b"GET / HTTP/1.1\r\nHost: 127")
    c.close()
    c = connect_ws(echo_daemon.port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
        struct.pack("ii", 1, 0))
    c.close()				# RST
    c = connect_ws(echo_daemon.port)
    c.echo(OP_TEXT, "still serving")
    c.close_handshake()
