"""DataFormat on MessageFormat = binary routes, and ReadyToSend for framed
handlers: what type each chunk a handler writes goes out as, characters
split across writes, and a framed handler pacing itself by "R 0"."""

import shutil
import tempfile
import threading
import time

import pytest

from harness import (OP_BINARY, OP_TEXT, UnexpectedClose, connect_ws,
    unique_marker, wait_no_procs)
from test_unix_backend import Backend

MARK = unique_marker()
PAUSE = "0.3"


def chunks_route(path, data_format, *chunks):
    """A binary route whose handler writes chunks (hex) with pauses."""
    r = {"Path": path, "MessageFormat": "binary",
        "Backend": "script:{handlers}/chunks.py %s %s" % (PAUSE,
            " ".join(chunks))}
    if data_format is not None:
        r["DataFormat"] = data_format
    return r


ROUTES = {
    # "h\xc3" then "\xa9i": an "é" split across two writes.
    "default": chunks_route("/default", None, "68c3", "a969"),
    "bin": chunks_route("/bin", "binary", "68c3", "a969"),
    "text": chunks_route("/text", "text", "68c3", "a969"),
    "emoji": chunks_route("/emoji", "Text", "f0", "9f98", "80", "21"),
    "auto": chunks_route("/auto", "auto", "68c3", "a969", "ff00"),
    "textbad": chunks_route("/textbad", "text", "6869", "ff"),
    "textcut": chunks_route("/textcut", "text", "68c3"),
    "autocut": chunks_route("/autocut", "auto", "68c3"),
    "ready": {"Path": "/ready", "MessageFormat": "framed",
        "Backend": "script:{handlers}/framed_ready.py %s" % MARK},
}


def serve_split(b, conn, rfile):
    """Writes "h\\xc3" and "\\xa9i" apart, then closes its side."""
    conn.sendall(b"h\xc3")
    time.sleep(float(PAUSE))
    conn.sendall(b"\xa9i")
    b.event("sent")


def serve_ready(b, conn, rfile):
    """Framed: floods numbered "B 1024" records until an "R 0" arrives,
    then sends "done SENT READY" and waits for the daemon's close."""
    ready = threading.Event()
    count = [0]

    def reader():
        while True:
            header = rfile.readline()
            if not header:
                return
            fields = header.rstrip(b"\n").split(b" ")
            rfile.read(int(fields[-1]))
            if fields[0] == b"R":
                count[0] += 1
                ready.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    sent = 0
    deadline = time.monotonic() + 30
    while not ready.is_set() and sent < 64 * 1024 and \
            time.monotonic() < deadline:
        conn.sendall(b"B 1024\n" + b"%08d" % sent + b"y" * 1016)
        sent += 1
    body = b"done %d %d" % (sent, count[0])
    conn.sendall(b"T %d\n%s" % (len(body), body))
    t.join(10)


@pytest.fixture(scope="module")
def sockdir():
    d = tempfile.mkdtemp(prefix="wsit-df-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def backends(sockdir):
    bs = [Backend("%s/split.sock" % sockdir, serve_split),
        Backend("%s/ready.sock" % sockdir, serve_ready)]
    yield bs
    for b in bs:
        b.stop()


@pytest.fixture(scope="module")
def daemon(module_daemons, sockdir, backends):
    routes = dict(ROUTES)
    routes["uxtext"] = {"Path": "/uxtext", "MessageFormat": "binary",
        "DataFormat": "text", "Backend": "unix:%s/split.sock" % sockdir}
    routes["uxbin"] = {"Path": "/uxbin", "MessageFormat": "binary",
        "Backend": "unix:%s/split.sock" % sockdir}
    routes["uxready"] = {"Path": "/uxready", "MessageFormat": "framed",
        "Backend": "unix:%s/ready.sock" % sockdir}
    return module_daemons(routes=routes,
        sections={"backend": {"KillTimeout": 1}})


def messages_until_close(c, code):
    """Reads messages until the server's close, asserting its code."""
    got = []
    while True:
        try:
            got.append(c.read_message(timeout=5.0))
        except UnexpectedClose as e:
            assert e.frame.close_code() == code, e.frame
            return got


@pytest.mark.parametrize("path", ["/default", "/bin"])
def test_binary_sends_chunks_as_they_are(daemon, path):
    c = connect_ws(daemon.port, path)
    assert messages_until_close(c, 1000) == [(OP_BINARY, b"h\xc3"),
        (OP_BINARY, b"\xa9i")]
    c.close()


def test_text_holds_a_split_character_back(daemon):
    c = connect_ws(daemon.port, "/text")
    assert messages_until_close(c, 1000) == [(OP_TEXT, b"h"),
        (OP_TEXT, "éi".encode())]
    c.close()


def test_text_four_byte_character_in_three_writes(daemon):
    c = connect_ws(daemon.port, "/emoji")
    assert messages_until_close(c, 1000) == [
        (OP_TEXT, "\U0001f600".encode()), (OP_TEXT, b"!")]
    c.close()


def test_auto_text_then_binary(daemon):
    c = connect_ws(daemon.port, "/auto")
    assert messages_until_close(c, 1000) == [(OP_TEXT, b"h"),
        (OP_TEXT, "éi".encode()), (OP_BINARY, b"\xff\x00")]
    c.close()


def test_auto_sends_a_cut_character_as_binary_at_eof(daemon):
    c = connect_ws(daemon.port, "/autocut")
    assert messages_until_close(c, 1000) == [(OP_TEXT, b"h"),
        (OP_BINARY, b"\xc3")]
    c.close()


@pytest.mark.parametrize("path", ["/textbad", "/textcut"])
def test_text_invalid_utf8_is_1011(daemon, path):
    start = daemon.mark()
    c = connect_ws(daemon.port, path)
    want = [(OP_TEXT, b"hi")] if path == "/textbad" else [(OP_TEXT, b"h")]
    assert messages_until_close(c, 1011) == want
    c.close()
    daemon.wait_log(r"handler output: output (is not UTF-8|ends inside "
        r"a UTF-8 character)", start=start)


def test_unix_text_holds_a_split_character_back(daemon):
    c = connect_ws(daemon.port, "/uxtext")
    assert messages_until_close(c, 1000) == [(OP_TEXT, b"h"),
        (OP_TEXT, "éi".encode())]
    c.close()
    c = connect_ws(daemon.port, "/uxbin")
    assert messages_until_close(c, 1000) == [(OP_BINARY, b"h\xc3"),
        (OP_BINARY, b"\xa9i")]
    c.close()


@pytest.mark.parametrize("path", ["/ready", "/uxready"])
def test_ready_to_send_paces_a_framed_flood(daemon, path):
    c = connect_ws(daemon.port, path)
    # Not reading lets the client's queue fill and the daemon stop
    # reading the handler; reading it all then drains the queue.
    time.sleep(1.5)
    seq = 0
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline
        op, data = c.read_message(timeout=10.0)
        if op == OP_TEXT:
            break
        assert op == OP_BINARY and len(data) == 1024
        assert int(data[:8]) == seq, "message %d lost" % seq
        seq += 1
        if seq % 512 == 0:
            time.sleep(0.01)
    word, sent, ready = data.split(b" ")
    assert word == b"done"
    assert int(sent) == seq
    assert int(ready) >= 1
    # The queue filled: more went out than it and the pipe hold.
    assert seq * 1024 > 1024 * 1024
    c.send_close(1000)
    c.expect_close(1000)
    c.close()
    if path == "/ready":
        assert wait_no_procs(MARK, 5) == []
