"""Backend faults: handlers that crash, hang, flood, quit early or leave
children behind; UNIX backends that are down, busy, restarted or stalled.

Each fault must end in its defined close code (what the client receives)
and log line (exactly once), leave no zombie child of the daemon and no
orphan (every process of a fault carries a unique marker in its argv or
environment, and none may survive), and leak no descriptor: the count of
/proc/<daemon>/fd after the fault was repeated equals the count after a
first round (the warm-up: libevent's signal pipe and the like are made on
first use).

test_script.py, test_unix_backend.py and test_mux.py test the normal life
cycle of each backend; this file adds the faults and the leak checks.
"""

import os
import re
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from harness import (HANDLERS, OP_CLOSE, OP_TEXT, WSClient, build_frame,
    build_request, handlers_of, close_payload, connect_ws, send_all_bounded, unique_marker,
    wait_until)

KT = 1				# KillTimeout of every daemon here
# A fault's processes must be gone within the whole kill sequence
# (EOF, KillTimeout, SIGTERM, KillTimeout, SIGKILL) and some slack.
GONE_WITHIN = 2 * KT + 3.0


# ---------------------------------------------------------------- helpers

def fd_count(d):
    return len(os.listdir("/proc/%d/fd" % d.pid))


def marked(marker):
    """Pids of processes whose argv or environment holds marker."""
    me = os.getpid()
    key = marker.encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        for what in ("cmdline", "environ"):
            try:
                with open("/proc/%s/%s" % (name, what), "rb") as f:
                    if key in f.read():
                        found.append(int(name))
                        break
            except OSError:
                break
    return found


def zombies(d):
    return [p for p, state in handlers_of(d.pid) if state == "Z"]


def settle(d, marker=None):
    """No process of marker left, no zombie, no child of the daemon."""
    if marker is not None and not wait_until(lambda: not marked(marker),
            GONE_WITHIN):
        survivors = [(p, cmdline(p)) for p in marked(marker)]
        # Not left running after the test: they are ours (the marker).
        for pid, _ in survivors:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        raise AssertionError("survivors (orphans): %r" % survivors)
    assert wait_until(lambda: not zombies(d), 3.0), "zombies: %r" % \
        zombies(d)
    assert wait_until(lambda: handlers_of(d.pid) == [], GONE_WITHIN), \
        "children left: %r" % handlers_of(d.pid)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


def count_log(d, pattern, start):
    rx = re.compile(pattern)
    return sum(1 for line in d.lines[start:] if rx.search(line))


def once(d, pattern, start, timeout=5.0):
    """Waits for a log line matching pattern; asserts it is the only one."""
    d.wait_log(pattern, start=start, timeout=timeout)
    n = count_log(d, pattern, start)
    assert n == 1, "%d log lines match %r:\n%s" % (n, pattern,
        d.log_tail(40))


def log_time(d, pattern, start):
    """The time stamp (seconds) of the first log line matching pattern."""
    m = d.wait_log(r"^(\S+)T(\d+):(\d+):(\d+\.\d+)Z .*" + pattern,
        start=start)
    return int(m.group(2)) * 3600 + int(m.group(3)) * 60 + \
        float(m.group(4))


def conn_id(d, c, start):
    m = d.wait_log(r"(\S+) open 127\.0\.0\.1:%d " % c.local_port,
        start=start)
    return re.escape(m.group(1))


def close_line(cid, code, by, reason=None):
    rx = r" %s close code=%d by=%s " % (cid, code, by)
    if reason is not None:
        rx += r"reason=\"%s\"" % re.escape(reason)
    return rx


def settled_fd_count(d, timeout=5.0):
    """The daemon's descriptor count once it holds still for 0.6 s (a
    handler's pipe or a closing socket may still be going away)."""
    deadline = time.monotonic() + timeout
    last, same = fd_count(d), 0
    while same < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
        n = fd_count(d)
        same = same + 1 if n == last else 0
        last = n
    return last


def no_fd_leak(d, scenario, rounds=2):
    """Runs scenario once to warm up, then rounds times more; the daemon's
    descriptor count must come back to the count after the first."""
    scenario()
    base = settled_fd_count(d)
    for _ in range(rounds):
        scenario()
    assert wait_until(lambda: fd_count(d) == base, 5.0), \
        "fd leak: %d descriptors after warm-up, %d after %d more rounds" % (
        base, fd_count(d), rounds)
    print("fds of the daemon: %d after warm-up, %d after %d more rounds" %
        (base, fd_count(d), rounds))
    return base


def reply_close_bounded(c, code, timeout=5.0):
    """Our close reply, even behind a full send buffer."""
    frame = build_frame(OP_CLOSE, close_payload(code))
    sent = send_all_bounded(c.sock, frame, time.monotonic() + timeout)
    # The daemon must read on to find it: in the closing state it reads
    # and discards what the client still sends.
    assert sent == len(frame), "the daemon stopped reading the client: " \
        "our close reply could not be sent in %.0f s" % timeout


# ---------------------------------------------------------------- crashes

@pytest.mark.parametrize("mode,line", [
    ("signal", r"handler killed by signal 11$"),
    ("exit", r"handler exited with status 3$")])
def test_handler_crash(daemon_factory, mode, line):
    # The handler dies in the middle of a conversation: 1011 "handler
    # failed", the status logged once.
    marker = unique_marker()
    d = daemon_factory(routes={"crash": {"Path": "/crash",
        "Backend": "script:{handlers}/faults_crash.sh %s %s" % (marker,
        mode)}}, sections={"backend": {"KillTimeout": KT}}, log_level=2)

    def scenario():
        start = d.mark()
        c = connect_ws(d.port, "/crash")
        cid = conn_id(d, c, start)
        assert c.read_message() == (OP_TEXT, b"ready")
        c.echo(OP_TEXT, "before the crash")
        c.send_text("die")
        f = c.expect_close(1011)
        assert f.payload[2:] == b"handler failed"
        c.reply_close(1011)
        c.assert_closed(1.0)
        c.close()
        once(d, r" %s %s" % (cid, line), start)
        once(d, close_line(cid, 1011, "server", "handler failed"), start)
        settle(d, marker)
    no_fd_leak(d, scenario)


def hang_daemon(daemon_factory, marker):
    """A daemon whose /hang route runs faults_hang.sh (it will not go)."""
    return daemon_factory(routes={"hang": {"Path": "/hang",
        "Backend": "script:{handlers}/faults_hang.sh " + marker}},
        sections={"backend": {"KillTimeout": KT}}, log_level=2)


def hang_client(d, marker, start):
    """A client of /hang once its handler said ready; (client, its id)."""
    c = connect_ws(d.port, "/hang")
    cid = conn_id(d, c, start)
    assert c.read_message() == (OP_TEXT, b"ready")
    # sh and its cat (started just after "ready").
    assert wait_until(lambda: len(marked(marker)) >= 2, 3.0)
    return c, cid


def test_handler_hangs(daemon_factory):
    # It ignores stdin EOF and SIGTERM, and so do its children: the client
    # is not kept waiting, SIGTERM comes KillTimeout after EOF and SIGKILL
    # KillTimeout after that, each logged once; nothing survives.
    marker = unique_marker()
    d = hang_daemon(daemon_factory, marker)

    def scenario():
        start = d.mark()
        c, cid = hang_client(d, marker, start)
        t0 = time.monotonic()
        c.close_handshake(1000)
        c.close()
        assert time.monotonic() - t0 < 1.0
        once(d, r" %s handler stderr: stdin closed$" % cid, start)
        term = r" %s handler still running after %d s: SIGTERM$" % (cid, KT)
        kill = r" %s handler still running after %d s: SIGKILL$" % (cid, KT)
        once(d, term, start, timeout=KT + 3.0)
        once(d, kill, start, timeout=KT + 3.0)
        # SIGKILL it was: SIGTERM and EOF were ignored.
        once(d, r" %s handler killed by signal 9$" % cid, start)
        once(d, close_line(cid, 1000, "client"), start)
        # KillTimeout from the close (stdin EOF) to SIGTERM, and again to
        # SIGKILL, by the daemon's own clock.
        t_close = log_time(d, close_line(cid, 1000, "client"), start)
        t_term = log_time(d, term, start)
        t_kill = log_time(d, kill, start)
        # (Modulo a day: the stamps are times of day, UTC.)
        assert KT - 0.05 <= (t_term - t_close) % 86400 <= KT + 1.5, \
            (t_close, t_term)
        assert KT - 0.05 <= (t_kill - t_term) % 86400 <= KT + 1.5, \
            (t_term, t_kill)
        settle(d, marker)
        assert count_log(d, r" %s handler exited" % cid, start) == 0
    no_fd_leak(d, scenario, rounds=1)


def test_spawner_killed(daemon_factory):
    # The spawner (the process that starts handlers) is killed while a
    # handler runs: that handler is killed too and its client gets 1011,
    # the loss is logged once, nothing survives, and the next client gets
    # a handler from a new spawner.
    from harness import spawner_of
    marker = unique_marker()
    d = hang_daemon(daemon_factory, marker)

    def scenario():
        start = d.mark()
        c, cid = hang_client(d, marker, start)
        spawner = spawner_of(d.pid)
        assert spawner is not None
        os.kill(spawner, signal.SIGKILL)
        f = c.expect_close(1011)
        assert f.payload[2:] == b"handler failed"
        c.reply_close(1011)
        c.close()
        once(d, r"spawner \(pid %d\) exited; a new one starts" % spawner,
            start)
        once(d, r" %s handler killed by signal 9$" % cid, start)
        settle(d, marker)
        # A new spawner, and a handler from it.
        c = connect_ws(d.port, "/hang")
        assert c.read_message() == (OP_TEXT, b"ready")
        assert spawner_of(d.pid) not in (None, spawner)
        c.close_handshake(1000)
        c.close()
        settle(d, marker)
    no_fd_leak(d, scenario)


def test_daemon_killed_ends_its_handlers():
    # The daemon dies (SIGKILL: no shutdown of its own) while a handler
    # that ignores SIGTERM, SIGHUP and SIGPIPE runs with a child: the
    # spawner sees the daemon's end of its socket close, sends SIGTERM to
    # each program's group and SIGKILL a second later, then exits. Nothing
    # outlives the daemon.
    from harness import Daemon, spawner_of
    marker = unique_marker()
    d = Daemon(routes={"hang": {"Path": "/hang",
        "Backend": "script:{handlers}/faults_immortal.sh " + marker}},
        sections={"backend": {"KillTimeout": 30}}, log_level=2)
    try:
        d.start()
        c, _ = hang_client(d, marker, d.mark())
        spawner = spawner_of(d.pid)
        assert spawner is not None
        d.proc.kill()
        d.proc.wait(timeout=10)
        t0 = time.monotonic()
        assert wait_until(lambda: not marked(marker), 5.0), \
            "outlived the daemon: %r" % marked(marker)
        # Well before KillTimeout (30 s): the spawner's own second.
        assert time.monotonic() - t0 < 5.0
        assert wait_until(lambda: _gone(spawner), 5.0), "spawner left"
        c.close()
    finally:
        for pid in marked(marker):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        d.cleanup()


def _gone(pid):
    """Whether pid has exited (gone, or a zombie nobody reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def parse_frames(data):
    """Complete frames of a byte string: [(opcode, payload)]."""
    out = []
    pos = 0
    while len(data) - pos >= 2:
        b0, b1 = data[pos], data[pos + 1]
        n, h = b1 & 0x7F, 2
        if n == 126:
            if len(data) - pos < 4:
                break
            n, h = struct.unpack("!H", data[pos + 2:pos + 4])[0], 4
        elif n == 127:
            if len(data) - pos < 10:
                break
            n, h = struct.unpack("!Q", data[pos + 2:pos + 10])[0], 10
        if len(data) - pos < h + n:
            break
        out.append((b0 & 0x0F, data[pos + h:pos + h + n]))
        pos += h + n
    return out


def test_handler_floods_client_that_does_not_read(daemon_factory):
    # flood.py writes as fast as it can at a client that reads nothing.
    # With DefaultTimeout the client is dropped (no close frame can get
    # through a full queue: TCP ends), logged once as 1008; what did reach
    # the client is in order; the handler goes.
    marker = unique_marker()
    d = daemon_factory(routes={"flood": {"Path": "/flood",
        "Backend": "script:{handlers}/flood.py " + marker}},
        sections={"server": {"DefaultTimeout": 1},
            "backend": {"KillTimeout": KT}}, log_level=2)

    def scenario():
        start = d.mark()
        c = WSClient(d.port)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        c.handshake("/flood")
        cid = conn_id(d, c, start)
        once(d, r" %s send timeout \(DefaultTimeout 1 s\)$" % cid, start,
            timeout=10.0)
        once(d, close_line(cid, 1008, "timeout", "send timeout"), start)
        # Now read what was in flight: numbered lines, then the end.
        data = bytearray(c.buf)
        c.sock.settimeout(10.0)
        deadline = time.monotonic() + 15.0
        while time.monotonic() < deadline:
            try:
                chunk = c.sock.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        else:
            raise AssertionError("the daemon never ended the TCP "
                "connection")
        c.close()
        frames = parse_frames(bytes(data))
        assert len(frames) > 10
        for i, (op, payload) in enumerate(frames):
            assert op == OP_TEXT, (i, op)
            assert payload.startswith(b"line %08d " % i), payload[:20]
        once(d, r" %s handler (exited with status \d+|killed by signal "
            r"\d+)$" % cid, start, timeout=GONE_WITHIN)
        settle(d, marker)
    no_fd_leak(d, scenario, rounds=1)


@pytest.mark.parametrize("status,code", [(0, 1000), (1, 1011)])
def test_handler_exits_before_reading(daemon_factory, status, code):
    # The client's messages (64 KiB of lines) are dropped: its stdin is
    # gone. The close code follows the exit status.
    marker = unique_marker()
    d = daemon_factory(routes={"early": {"Path": "/early",
        "Backend": "script:{handlers}/faults_early.sh %s %d" % (marker,
        status)}}, sections={"backend": {"KillTimeout": KT}}, log_level=2)
    line = "x" * 1023

    def scenario():
        start = d.mark()
        c = connect_ws(d.port, "/early")
        cid = conn_id(d, c, start)
        deadline = time.monotonic() + 5.0
        for _ in range(64):
            if send_all_bounded(c.sock, build_frame(OP_TEXT, line),
                    deadline) == 0:
                break
        c.expect_close(code)
        c.reply_close(code)
        c.assert_closed(2.0)
        c.close()
        once(d, r" %s handler exited with status %d$" % (cid, status),
            start)
        once(d, close_line(cid, code, "server"), start)
        settle(d, marker)
    no_fd_leak(d, scenario)


# ---------------------------------------------------------------- children

@pytest.mark.parametrize("stdio", ["keep", "detach"])
@pytest.mark.parametrize("when", ["exit", "eof"])
def test_handler_children_killed(daemon_factory, stdio, when):
    # The handler starts "sleep 1000 &" in its process group and then
    # exits by itself ("exit") or at stdin EOF after the client closed
    # ("eof"). The sleep either keeps the handler's stdout and stderr
    # ("keep": the WebSocket stays open until the group is killed at
    # KillTimeout) or has them on /dev/null ("detach": only the process
    # group ties it to the handler). Either way the group is killed: no
    # process with the marker may outlive the kill sequence.
    marker = unique_marker()
    d = daemon_factory(routes={"fork": {"Path": "/fork",
        "Backend": "script:{handlers}/faults_fork.sh %s %s %s" % (marker,
        stdio, when)}}, sections={"backend": {"KillTimeout": KT}},
        log_level=2)

    def scenario():
        start = d.mark()
        c = connect_ws(d.port, "/fork")
        cid = conn_id(d, c, start)
        op, ready = c.read_message()
        assert ready.startswith(b"ready "), ready
        t0 = time.monotonic()
        if when == "eof":
            c.echo(OP_TEXT, "hello")
            c.close_handshake(1000)
            by = "client"
        else:
            c.expect_close(1000, timeout=KT + 4.0)
            took = time.monotonic() - t0
            if stdio == "keep":
                # The sleep holds stdout: closed when the group is killed.
                assert took >= KT * 0.8, took
            c.reply_close(1000)
            c.assert_closed(1.0)
            by = "server"
        c.close()
        once(d, r" %s handler exited with status 0$" % cid, start)
        once(d, close_line(cid, 1000, by), start, timeout=KT + 4.0)
        settle(d, marker)
    no_fd_leak(d, scenario, rounds=1)


# ---------------------------------------------------------------- unix down

class Holder:
    """A UNIX socket that accepts (unless accept is false) and never reads:
    a stalled backend. close_all() drops every accepted connection."""

    def __init__(self, path, backlog=16, accept=True):
        self.path = path
        self.conns = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(backlog)
        self.sock.settimeout(0.1)
        self.stop = False
        self.thread = None
        if accept:
            self.thread = threading.Thread(target=self._accept, daemon=True)
            self.thread.start()

    def _accept(self):
        deadline = time.monotonic() + 120
        while not self.stop and time.monotonic() < deadline:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.conns.append(conn)

    def count(self):
        with self.lock:
            return len(self.conns)

    def close_all(self):
        with self.lock:
            conns, self.conns = self.conns, []
        for s in conns:
            s.close()

    def shutdown(self):
        self.stop = True
        if self.thread is not None:
            self.thread.join(2)
        self.sock.close()
        self.close_all()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def rejected(d, c, path, status, cause, start):
    m = d.wait_log(r"(\S+) rejected 127\.0\.0\.1:%d %s: %d %s$" % (
        c.local_port, re.escape(path), status, cause), start=start)
    return re.escape(m.group(1))


def test_unix_backend_down(daemon_factory, tmp_path):
    # No socket file, and a stale one (nobody listening): 503 before any
    # upgrade, "cannot connect" and "rejected" logged once per request.
    stale = str(tmp_path / "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(stale)
    s.close()
    d = daemon_factory(routes={
        "none": {"Path": "/none", "Backend": "unix:%s" % (tmp_path /
            "absent.sock")},
        "stale": {"Path": "/stale", "Backend": "unix:" + stale}},
        sections={"backend": {"KillTimeout": KT}})

    def scenario():
        for path, err in (("/none", "No such file or directory"),
                ("/stale", "Connection refused")):
            start = d.mark()
            c = WSClient(d.port)
            c.handshake(path, expect=503)
            c.assert_closed(2.0)
            c.close()
            cid = rejected(d, c, path, 503, "backend down", start)
            once(d, r" %s cannot connect to backend \S+: %s$" % (cid, err),
                start)
            assert count_log(d, r" %s (open|close) " % cid, start) == 0
        settle(d)
    no_fd_leak(d, scenario, rounds=3)


def test_unix_backend_busy(daemon_factory, tmp_path):
    # A backend whose listen backlog is full (it stopped accepting): the
    # connect fails at once with EAGAIN, 503 "backend busy". The
    # WebSockets that did get in are closed normally by their clients.
    path = str(tmp_path / "busy.sock")
    h = Holder(path, backlog=0, accept=False)
    try:
        d = daemon_factory(routes={"busy": {"Path": "/busy",
            "Backend": "unix:" + path},
            "echo": {"Path": "/echo", "Backend": "echo"}},
            sections={"backend": {"KillTimeout": KT}})
        warm = connect_ws(d.port, "/echo")
        warm.echo(OP_TEXT, "warm-up")
        warm.close_handshake(1000)
        warm.close()
        # Its close line is read before the mark: counted below otherwise.
        d.wait_log(r" close code=1000 by=client ")
        base = settled_fd_count(d)
        start = d.mark()
        inside = []
        busy = None
        for _ in range(8):
            c = WSClient(d.port)
            req_start = d.mark()
            req, _ = build_request("/busy", port=d.port)
            c.send(req)
            resp = c.read_http_response()
            if resp.status == 101:
                inside.append(c)
                continue
            assert resp.status == 503, resp.status
            busy = (c, req_start)
            break
        assert busy is not None, "the backlog never filled"
        assert 1 <= len(inside) <= 3
        c, req_start = busy
        c.assert_closed(2.0)
        cid = rejected(d, c, "/busy", 503, "backend busy", req_start)
        once(d, r" %s cannot connect to backend \S+: Resource temporarily "
            r"unavailable$" % cid, req_start)
        c.close()
        for c in inside:
            c.close_handshake(1000)
            c.close()
        assert wait_until(lambda: count_log(d, r" close code=1000 "
            r"by=client ", start) == len(inside), 5.0)
        settle(d)
        # Their backend connections are let go KillTimeout after the close.
        assert wait_until(lambda: fd_count(d) == base, KT + 4.0), \
            "fd leak: %d before, %d after" % (base, fd_count(d))
    finally:
        h.shutdown()


# ---------------------------------------------------------------- restart

class EchoBackend:
    """handlers/faults_unix_echo.py as a process that can be killed."""

    def __init__(self, path):
        self.path = path
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([os.path.join(HANDLERS,
            "faults_unix_echo.py"), self.path], stdin=subprocess.DEVNULL)
        assert wait_until(lambda: os.path.exists(self.path), 10.0)
        assert wait_until(self._listening, 10.0)

    def _listening(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(self.path)
            s.sendall(b"0:,")
            return True
        except OSError:
            return False
        finally:
            s.close()

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None


def test_unix_backend_restarted(daemon_factory, tmp_path):
    # The backend process dies with WebSockets open: each sees the end of
    # its stream, so each is closed with DisconnectStatusCode (1000), once.
    # While it is down (its socket file stale) new requests get 503; after
    # it is back they work, and no descriptor was lost on the way.
    path = str(tmp_path / "echo.sock")
    b = EchoBackend(path)
    b.start()
    try:
        d = daemon_factory(routes={"r": {"Path": "/r",
            "Backend": "unix:" + path}},
            sections={"backend": {"KillTimeout": KT}}, log_level=2)

        def scenario():
            start = d.mark()
            cs = [connect_ws(d.port, "/r") for _ in range(5)]
            ids = [conn_id(d, c, start) for c in cs]
            for i, c in enumerate(cs):
                c.echo(OP_TEXT, "before %d" % i)
            b.kill()
            for c in cs:
                c.expect_close(1000)
                c.reply_close(1000)
                c.assert_closed(1.0)
                c.close()
            for cid in ids:
                once(d, r" %s backend \S+ closed its connection$" % cid,
                    start)
                once(d, close_line(cid, 1000, "server"), start)
            c = WSClient(d.port)
            c.handshake("/r", expect=503)
            c.close()
            b.start()
            c = connect_ws(d.port, "/r")
            c.echo(OP_TEXT, "after the restart")
            c.close_handshake(1000)
            c.close()
            settle(d)
        no_fd_leak(d, scenario, rounds=2)
    finally:
        b.kill()


class MuxBackend:
    def __init__(self, path):
        self.path = path
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([os.path.join(HANDLERS,
            "noloss_mux.py"), self.path], stdin=subprocess.DEVNULL)
        assert wait_until(lambda: os.path.exists(self.path), 10.0)

    def kill(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None


def test_mux_backend_restarted(daemon_factory, tmp_path):
    # The mux backend dies: every WebSocket of the route gets 1011 "backend
    # gone", the loss is logged once, the first failed reconnect once (as
    # an error), requests meanwhile get 503; after the restart the channel
    # is back and the descriptor count is what it was.
    path = str(tmp_path / "mux.sock")
    b = MuxBackend(path)
    b.start()
    try:
        d = daemon_factory(routes={"m": {"Path": "/m",
            "Backend": "unix+mux:" + path}},
            sections={"backend": {"KillTimeout": KT}})

        def scenario():
            start = d.mark()
            cs = [connect_ws(d.port, "/m") for _ in range(5)]
            ids = [conn_id(d, c, start) for c in cs]
            for i, c in enumerate(cs):
                c.echo(OP_TEXT, "before %d" % i)
            lost = d.mark()
            b.kill()
            for c in cs:
                f = c.expect_close(1011)
                assert f.payload[2:] == b"backend gone"
                c.reply_close(1011)
                c.assert_closed(1.0)
                c.close()
            once(d, r"route m: mux backend \S+ lost: closed by the backend$",
                lost)
            for cid in ids:
                once(d, close_line(cid, 1011, "server", "backend gone"),
                    start)
            c = WSClient(d.port)
            c.handshake("/m", expect=503)
            c.close()
            once(d, r"route m: cannot connect to mux backend \S+: .*; "
                r"retrying$", lost)
            b.start()
            once(d, r"route m: mux backend \S+ connected$", lost,
                timeout=10.0)
            c = connect_ws(d.port, "/m")
            c.echo(OP_TEXT, "after the restart")
            c.close_handshake(1000)
            c.close()
            settle(d)
        no_fd_leak(d, scenario, rounds=1)
    finally:
        b.kill()


# ---------------------------------------------------------------- stalled

def flood_until_blocked(c, seconds=3.0):
    """Sends 16 KiB frames until the daemon stops taking them; returns the
    bytes sent."""
    c.sock.settimeout(0.2)
    frame = build_frame(OP_TEXT, b"z" * 16384)
    sent = 0
    deadline = time.monotonic() + seconds
    for _ in range(100000):
        if time.monotonic() >= deadline:
            break
        n = send_all_bounded(c.sock, frame, deadline)
        sent += n
        if n < len(frame):
            break
    return sent


def stalled_daemon(daemon_factory, tmp_path):
    path = str(tmp_path / "stall.sock")
    h = Holder(path)
    d = daemon_factory(routes={
        "s": {"Path": "/s", "Backend": "unix:" + path},
        "echo": {"Path": "/echo", "Backend": "echo"}},
        sections={"backend": {"KillTimeout": KT}}, log_level=2)
    return d, h


def test_unix_backend_stalled_then_gone(daemon_factory, tmp_path):
    # The backend accepts and never reads: the client is held back (the
    # daemon's memory stays bounded, other clients are served). When the
    # backend finally drops its connection (unread data: a reset), the
    # client gets 1011, its close reply is read and TCP closed at once.
    d, h = stalled_daemon(daemon_factory, tmp_path)
    try:
        def scenario():
            start = d.mark()
            base = d.rss_kib()
            c = connect_ws(d.port, "/s")
            cid = conn_id(d, c, start)
            assert wait_until(lambda: h.count() == 1, 5.0)
            sent = flood_until_blocked(c)
            assert sent < 32 << 20, "no back-pressure: %d MiB taken" % (
                sent >> 20)
            grown = d.rss_kib() - base
            assert grown < 64 * 1024, "RSS grew by %d KiB" % grown
            other = connect_ws(d.port, "/echo")
            other.echo(OP_TEXT, "served meanwhile")
            other.close_handshake(1000)
            other.close()
            h.close_all()
            f = c.expect_close(1011, timeout=5.0)
            assert f.payload[2:] == b"backend connection failed"
            reply_close_bounded(c, 1011)
            c.assert_closed(2.0)
            c.close()
            # Reset: we left data unread. Which call sees it first varies.
            once(d, r" %s backend \S+: (Connection reset by peer|Broken "
                r"pipe)$" % cid, start)
            once(d, close_line(cid, 1011, "server",
                "backend connection failed"), start)
            settle(d)
        no_fd_leak(d, scenario, rounds=1)
    finally:
        h.shutdown()


def test_unix_backend_stalled_client_vanishes(daemon_factory, tmp_path):
    # The backend accepts and never reads; the held-back client gives up
    # and resets its TCP connection. (A FIN would wait behind the data
    # the daemon has not taken: with a zero window nothing but a reset
    # reaches it; test_hangup.py covers the FIN.) The daemon must notice,
    # log the WebSocket closed (1006, once) and let go of the backend
    # connection after KillTimeout: nothing may stay held for as long as
    # the backend stalls.
    d, h = stalled_daemon(daemon_factory, tmp_path)
    try:
        def scenario():
            start = d.mark()
            c = connect_ws(d.port, "/s")
            cid = conn_id(d, c, start)
            assert wait_until(lambda: h.count() == 1, 5.0)
            flood_until_blocked(c)
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                struct.pack("ii", 1, 0))
            c.close()
            once(d, close_line(cid, 1006, "client"), start,
                timeout=KT + 4.0)
            h.close_all()
            settle(d)
        # Without warm-up rounds: the count must come back to where it was
        # before the first WebSocket.
        base = settled_fd_count(d)
        scenario()
        assert wait_until(lambda: fd_count(d) == base, KT + 4.0), \
            "fd leak: %d before, %d after" % (base, fd_count(d))
        no_fd_leak(d, scenario, rounds=1)
    finally:
        h.shutdown()


def test_mux_backend_stalled(daemon_factory, tmp_path):
    # A mux backend that accepts the channel and then neither reads nor
    # answers: every request waits HandshakeTimeout for a verdict, then
    # gets 503, logged once; nothing is leaked.
    path = str(tmp_path / "mux-stall.sock")
    h = Holder(path)
    try:
        d = daemon_factory(routes={"m": {"Path": "/m",
            "Backend": "unix+mux:" + path}},
            sections={"websocket": {"HandshakeTimeout": 1},
                "backend": {"KillTimeout": KT}})

        def scenario():
            start = d.mark()
            c = WSClient(d.port)
            t0 = time.monotonic()
            c.handshake("/m", expect=503, timeout=6.0)
            assert 0.8 <= time.monotonic() - t0 < 4.0
            c.assert_closed(2.0)
            c.close()
            m = d.wait_log(r"(\S+) no backend verdict within 1 s$",
                start=start)
            cid = re.escape(m.group(1))
            assert count_log(d, r" %s no backend verdict" % cid, start) == 1
            assert count_log(d, r" %s (open|close) " % cid, start) == 0
            assert h.count() == 1		# one channel all along
            settle(d)
        no_fd_leak(d, scenario, rounds=2)
    finally:
        h.shutdown()
