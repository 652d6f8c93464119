"""Framing (RFC 6455 section 5) against the echo backend, over raw sockets."""

import random
import struct
import threading
import time

import pytest

from harness import (OP_BINARY, OP_CLOSE, OP_CONT, OP_PING, OP_PONG, OP_TEXT,
    SenderThread, build_frame, close_payload, connect_ws)

SIZES = [0, 125, 126, 127, 128, 65535, 65536, 1 << 20]


def pattern_text(n):
    return (b"abcdefghijklmnopqrstuvwxyz0123456789" * (n // 36 + 1))[:n]


def pattern_binary(n):
    return (bytes(range(256)) * (n // 256 + 1))[:n]


def echo_large(c, opcode, payload, timeout=20.0, frames=None):
    """Echo where the client writes in a thread while it reads."""
    t = SenderThread(c.sock, build_frame(opcode, payload), timeout)
    t.start()
    try:
        got_op, got = c.read_message(timeout, frames=frames)
    finally:
        t.finish(timeout)
    assert got_op == opcode
    assert len(got) == len(payload)
    assert got == payload


def read_until_pong(c, token, collected, timeout=1.0):
    """Reads frames until the pong for token; data frames go to collected."""
    deadline = time.monotonic() + timeout
    while True:
        f = c.read_frame(max(0.001, deadline - time.monotonic()))
        if f.opcode == OP_PONG:
            assert f.payload == token, "pong %r for ping %r" % (f.payload,
                token)
            return
        assert f.opcode in (OP_TEXT, OP_BINARY, OP_CONT), repr(f)
        collected.append(f)


def reassemble(c, collected, timeout=5.0):
    """The one message formed by collected frames plus those still to come."""
    frames = list(collected)
    while not frames or not frames[-1].fin:
        f = c.read_frame(timeout)
        assert f.opcode in (OP_TEXT, OP_BINARY, OP_CONT), repr(f)
        frames.append(f)
    assert frames[0].opcode in (OP_TEXT, OP_BINARY)
    assert all(f.opcode == OP_CONT for f in frames[1:])
    return frames[0].opcode, b"".join(f.payload for f in frames)


# ---------------------------------------------------------------- echo

@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("opcode", [OP_TEXT, OP_BINARY])
def test_echo_sizes(echo, opcode, size):
    payload = pattern_text(size) if opcode == OP_TEXT else \
        pattern_binary(size)
    if size >= 65536:
        echo_large(echo, opcode, payload)
    else:
        echo.echo(opcode, payload)
    echo.close_handshake(1000)


def test_many_round_trips(echo):
    rnd = random.Random(1)
    for i in range(300):
        n = rnd.randrange(0, 4097)
        op = OP_TEXT if i % 2 else OP_BINARY
        echo.echo(op, pattern_text(n) if op == OP_TEXT else pattern_binary(n))
    echo.close_handshake()


def test_frame_one_byte_per_write(echo):
    payload = pattern_text(300)
    echo.send_chopped(build_frame(OP_TEXT, payload), 1)
    assert echo.read_message() == (OP_TEXT, payload)
    echo.send_chopped(build_frame(OP_BINARY, b""), 1)
    assert echo.read_message() == (OP_BINARY, b"")
    echo.close_handshake()


def test_frames_in_random_chops(echo):
    # Twelve messages written as one stream cut at seeded random places;
    # each echo is read as soon as its frame has been written completely.
    rnd = random.Random(42)
    msgs = []
    for i in range(12):
        if i % 3 == 0:
            msgs.append((OP_BINARY, pattern_binary(rnd.randrange(0, 70000))))
        else:
            msgs.append((OP_TEXT, pattern_text(rnd.randrange(0, 3000))))
    frames = [build_frame(op, p) for op, p in msgs]
    ends = []
    for f in frames:
        ends.append((ends[-1] if ends else 0) + len(f))
    stream = b"".join(frames)
    pos = 0
    received = []
    while pos < len(stream):
        n = rnd.randrange(1, 4000)
        echo.send(stream[pos:pos + n])
        pos = min(pos + n, len(stream))
        while len(received) < len(msgs) and ends[len(received)] <= pos:
            received.append(echo.read_message())
    assert received == msgs
    echo.close_handshake()


def test_large_message_in_chops(echo):
    payload = pattern_binary(256 * 1024)
    frame = build_frame(OP_BINARY, payload)
    th = threading.Thread(target=echo.send_chopped, args=(frame, 997),
        daemon=True)
    th.start()
    assert echo.read_message(20) == (OP_BINARY, payload)
    th.join(20)
    assert not th.is_alive()
    echo.close_handshake()


@pytest.mark.parametrize("how", ["one write", "write per frame",
    "byte per write"])
def test_fragmented_message(echo, how):
    frames = [build_frame(OP_TEXT, "frag1-", fin=False),
        build_frame(OP_CONT, "", fin=False),
        build_frame(OP_CONT, "frag2-", fin=False),
        build_frame(OP_CONT, "frag3", fin=True)]
    if how == "one write":
        echo.send(b"".join(frames))
    elif how == "write per frame":
        for f in frames:
            echo.send(f)
            time.sleep(0.02)
    else:
        echo.send_chopped(b"".join(frames), 1)
    assert echo.read_message() == (OP_TEXT, b"frag1-frag2-frag3")
    echo.close_handshake()


def test_pings_between_fragments(echo):
    # Pings are answered at once, in the middle of a message (the server
    # may already be echoing the first fragments).
    collected = []
    echo.send_frame(OP_BINARY, b"part1.", fin=False)
    echo.send_ping(b"p1")
    read_until_pong(echo, b"p1", collected)
    echo.send_frame(OP_CONT, b"part2.", fin=False)
    time.sleep(0.1)
    echo.send_ping(b"p2")
    read_until_pong(echo, b"p2", collected)
    echo.send_frame(OP_CONT, b"part3", fin=True)
    assert reassemble(echo, collected) == (OP_BINARY,
        b"part1.part2.part3")
    echo.close_handshake()


# ---------------------------------------------------------------- ping/pong

@pytest.mark.parametrize("size", [0, 1, 125])
def test_ping_pong_same_payload(echo, size):
    payload = pattern_binary(size)
    echo.send_ping(payload)
    f = echo.read_frame()
    assert f.opcode == OP_PONG and f.fin and f.payload == payload
    echo.close_handshake()


def test_ping_one_byte_per_write(echo):
    echo.send_chopped(build_frame(OP_PING, b"chopped ping"), 1)
    f = echo.read_frame()
    assert (f.opcode, f.payload) == (OP_PONG, b"chopped ping")
    echo.close_handshake()


def test_ten_pings_in_a_row(echo):
    echo.send(b"".join(build_frame(OP_PING, b"ping %d" % i)
        for i in range(10)))
    for i in range(10):
        f = echo.read_frame()
        assert (f.opcode, f.payload) == (OP_PONG, b"ping %d" % i)
    echo.close_handshake()


def test_unsolicited_pong_ignored(echo):
    echo.send_frame(OP_PONG, b"unsolicited")
    echo.send_frame(OP_PONG, b"")
    echo.send_text("still here")
    assert echo.read_message() == (OP_TEXT, b"still here")
    assert echo.pongs == []
    echo.close_handshake()


# ---------------------------------------------------------------- 1002

def test_unmasked_client_frame(echo):
    echo.send_frame(OP_TEXT, "not masked", mask=False)
    echo.expect_failure(1002)


@pytest.mark.parametrize("rsv", [1, 2, 3, 4, 7])
def test_rsv_bits(echo, rsv):
    echo.send_frame(OP_TEXT, "rsv", rsv=rsv)
    echo.expect_failure(1002)


def test_rsv_after_valid_message(echo):
    # The valid message is echoed, then the connection fails.
    echo.send(build_frame(OP_TEXT, "valid") +
        build_frame(OP_TEXT, "bad", rsv=2) + build_frame(OP_PING, b"late"))
    assert echo.read_message() == (OP_TEXT, b"valid")
    echo.expect_failure(1002)


def test_rsv_on_ping(echo):
    echo.send_frame(OP_PING, b"x", rsv=4)
    echo.expect_failure(1002)


@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 11, 12, 13, 14, 15])
def test_reserved_opcode(echo, opcode):
    echo.send_frame(opcode, b"payload")
    echo.expect_failure(1002)


@pytest.mark.parametrize("opcode", [5, 13])
def test_reserved_opcode_after_valid_message(echo, opcode):
    echo.send(build_frame(OP_TEXT, "first") + build_frame(opcode, b"") +
        build_frame(OP_PING, b""))
    assert echo.read_message() == (OP_TEXT, b"first")
    echo.expect_failure(1002)


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
def test_fragmented_control_frame(echo, opcode):
    payload = close_payload(1000) if opcode == OP_CLOSE else b"frag"
    echo.send_frame(opcode, payload, fin=False)
    echo.expect_failure(1002)


@pytest.mark.parametrize("opcode", [OP_PING, OP_PONG, OP_CLOSE])
def test_control_frame_over_125(echo, opcode):
    payload = close_payload(1000, b"r" * 124) if opcode == OP_CLOSE else \
        b"p" * 126
    assert len(payload) == 126
    echo.send_frame(opcode, payload)
    echo.expect_failure(1002)


@pytest.mark.parametrize("fin", [True, False])
def test_continuation_without_start(echo, fin):
    echo.send_frame(OP_CONT, b"orphan", fin=fin)
    echo.expect_failure(1002)


@pytest.mark.parametrize("second", [OP_TEXT, OP_BINARY])
def test_new_message_inside_fragmented_one(echo, second):
    echo.send_frame(OP_TEXT, "start", fin=False)
    echo.send_frame(second, b"intruder", fin=True)
    # A streaming echo may have forwarded the first fragment already.
    f = echo.read_frame()
    if f.opcode == OP_TEXT:
        assert f.payload == b"start" and not f.fin
        f = echo.read_frame()
    assert f.opcode == OP_CLOSE and f.close_code() == 1002, repr(f)
    echo.reply_close(1002)
    echo.assert_closed(1.0)


@pytest.mark.parametrize("length", [1 << 63, (1 << 64) - 1])
def test_64bit_length_top_bit(echo, length):
    # Only the header is sent: the server must not wait for the payload.
    head = struct.pack("!BBQ", 0x82, 0x80 | 127, length) + b"\0\0\0\0"
    echo.send(head)
    echo.expect_failure(1002, timeout=3.0)


# ---------------------------------------------------------------- limits

@pytest.fixture(scope="module")
def small_frames_daemon(module_daemons):
    return module_daemons(sections={"websocket": {"MaxFrameSize": 1024}})


def test_outgoing_fragmentation(small_frames_daemon):
    c = connect_ws(small_frames_daemon.port)
    payload = pattern_binary(5000)
    frames = []
    c.send_binary(payload)
    assert c.read_message(frames=frames) == (OP_BINARY, payload)
    assert len(frames) >= 5
    assert all(len(f.payload) <= 1024 for f in frames), \
        [len(f.payload) for f in frames]
    assert frames[0].opcode == OP_BINARY
    assert all(f.opcode == OP_CONT for f in frames[1:])
    assert [f.fin for f in frames] == [False] * (len(frames) - 1) + [True]

    text = pattern_text(3000)
    frames = []
    c.send_text(text)
    assert c.read_message(frames=frames) == (OP_TEXT, text)
    assert all(len(f.payload) <= 1024 for f in frames)
    assert len(frames) >= 3
    c.close_handshake()


@pytest.fixture(scope="module")
def big_daemon(module_daemons):
    return module_daemons(sections={"websocket": {
        "MaxMessageSize": 32 * 1024 * 1024}})


def test_16mib_echo_fast(big_daemon):
    c = connect_ws(big_daemon.port)
    payload = pattern_binary(16 * 1024 * 1024)
    t0 = time.monotonic()
    echo_large(c, OP_BINARY, payload, timeout=20.0)
    elapsed = time.monotonic() - t0
    assert elapsed < 20.0, "16 MiB echo took %.1fs" % elapsed
    c.close_handshake()
