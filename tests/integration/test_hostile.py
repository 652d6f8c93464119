"""Hostile clients (#9): slowloris, unfinished handshakes, dribbled frames,
10,000 idle connections, clients that never read, ping floods, resets,
oversized heads and messages, zip bombs.

Every attack runs while a well-behaved client (a separate process, so that
the attackers' Python does not hold its GIL) does echo round trips; its
latency is measured and bounded. The daemon's memory growth is bounded,
the hostile connection ends with the exact status or close code, and its
log line appears exactly once. The numbers are printed (pytest -s).

Run as a program ("probe PORT INTERVAL LIMIT SECONDS") this file is that
well-behaved client.
"""

import json
import os
import re
import resource
import select
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from harness import (OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, HOST,
    WSClient, build_frame, build_request, connect_ws, sanitized,
    send_all_bounded, wait_until)
from interop_util import (RSV1, Inflater, compress_message, connect_deflate,
    read_message_inflated, send_compressed, vm_hwm_kib)

# Alone (run.sh's serial run): a well-behaved client's latency and the
# daemon's memory are measured during each attack.
pytestmark = pytest.mark.serial

KIB = 1024
MIB = 1 << 20


SANITIZED = sanitized()
# Slower and bigger under the sanitizers: ASan's allocator keeps freed
# memory in quarantine and each allocation carries redzones.
SLOW = 3 if SANITIZED else 1
# p99 of the well-behaved client's echo round trip during an attack, on a
# machine with no more runnable tasks than CPUs (see load_factor).
P99_BOUND_MS = 250.0 * SLOW
# The daemon's resident memory may grow this much during an attack.
# Under ASan the allocator's quarantine is cut to 16 MiB (DAEMON_ENV) so
# that freed memory does not count as growth.
RSS_BOUND_KIB = (64 if SANITIZED else 24) * 1024
DAEMON_ENV = {"ASAN_OPTIONS": ":".join(o for o in (os.environ.get(
    "ASAN_OPTIONS"), "quarantine_size_mb=16") if o)} if SANITIZED else None
# Idle connections held at once: the test process and the daemon each hold
# one descriptor per connection, and both are limited to 20,000. Opening
# them takes under a second on either build, so ASan runs all of them.
IDLE_CONNS = 10000


def load_factor():
    """How much a busy machine stretches a round trip: the 1-minute load
    average per CPU, at least 1. With stress-ng on every CPU (CI's loaded
    run) or another build beside the tests, the daemon and the probe get a
    share of a CPU, and every wait for one is longer by about as much;
    what the bound is for, an attack that holds the daemon's event loop,
    costs seconds, far above it."""
    return max(1.0, os.getloadavg()[0] / (os.cpu_count() or 1))


def log_note(name, **numbers):
    """Prints one line of measurements for the report (pytest -s)."""
    print("\nHOSTILE %s: %s" % (name, " ".join("%s=%s" % kv for kv in
        numbers.items())))


# ---------------------------------------------------------------- daemon state

def fd_count(d):
    return len(os.listdir("/proc/%d/fd" % d.pid))


def wait_fds(d, want, timeout=10.0):
    """Waits until the daemon holds exactly want descriptors."""
    got = wait_until(lambda: fd_count(d) == want, timeout, 0.05)
    assert got, "daemon holds %d fds, expected %d (leak?)" % (fd_count(d),
        want)


def warm_up(d):
    """Round trips that bring the daemon to its working set, so that the
    baselines taken after it measure the attack alone."""
    c = connect_ws(d.port)
    c.echo(OP_BINARY, b"w" * 60000)
    c.echo(OP_TEXT, "warm")
    c.close_handshake()
    c.close()


class Baseline:
    """The daemon's fds, RSS and peak RSS before an attack."""

    def __init__(self, d, fds):
        self.d = d
        # The warm-up connection is gone once its descriptor is.
        wait_fds(d, fds)
        self.fds = fds
        self.rss = d.rss_kib()
        self.hwm = vm_hwm_kib(d.pid)

    def grown(self):
        """(RSS growth, peak RSS growth) in KiB."""
        return (self.d.rss_kib() - self.rss, vm_hwm_kib(self.d.pid) -
            self.hwm)

    def check_memory(self, what):
        rss, hwm = self.grown()
        assert hwm < RSS_BOUND_KIB, "%s: peak RSS grew by %d KiB" % (what,
            hwm)
        return rss, hwm


# ---------------------------------------------------------------- log

def conn_id(d, local_port, timeout=5.0):
    """The daemon's id of the opened connection from local_port."""
    m = d.wait_log(r"^\S+ INFO (\S+) open 127\.0\.0\.1:%d " % local_port,
        timeout)
    return m.group(1)


def id_lines(d, cid, pattern):
    """The log lines of connection cid matching pattern."""
    rx = re.compile(r"^\S+ \S+ %s %s" % (re.escape(cid), pattern))
    return [line for line in d.log_text().split("\n") if rx.search(line)]


def assert_once(d, cid, pattern, timeout=5.0):
    """Waits for connection cid's line matching pattern and asserts it is
    the only such line; returns it."""
    d.wait_log(r"^\S+ \S+ %s %s" % (re.escape(cid), pattern), timeout)
    lines = id_lines(d, cid, pattern)
    assert len(lines) == 1, "connection %s: %d lines matching %r:\n%s" % (
        cid, len(lines), pattern, "\n".join(lines))
    return lines[0]


def assert_closed_once(d, cid, code, by, reason, timeout=5.0):
    """Connection cid has exactly one close line, with these values."""
    line = assert_once(d, cid, r"close code=", timeout)
    want = 'close code=%d by=%s reason="%s" ' % (code, by, reason)
    assert want in line, "expected %r in %r" % (want, line)


def port_lines(d, local_port, pattern):
    """Log lines matching pattern and naming client port local_port."""
    rx = re.compile(r"^\S+ \S+ (\S+) %s127\.0\.0\.1:%d\b" % (pattern,
        local_port))
    return [line for line in d.log_text().split("\n") if rx.search(line)]


def assert_port_once(d, local_port, pattern, timeout=5.0):
    """For a connection never opened (no id known yet): exactly one line
    matching pattern names its port, and no other line has its id."""
    d.wait_log(r"^\S+ \S+ \S+ %s127\.0\.0\.1:%d\b" % (pattern, local_port),
        timeout)
    lines = port_lines(d, local_port, pattern)
    assert len(lines) == 1, "port %d: %d lines:\n%s" % (local_port,
        len(lines), "\n".join(lines))
    cid = lines[0].split(" ")[2]
    others = id_lines(d, cid, "")
    assert others == lines, "connection %s logged more:\n%s" % (cid,
        "\n".join(others))
    return lines[0]


# ---------------------------------------------------------------- the probe

def probe_main(port, interval, limit, seconds):
    """The well-behaved client: echo round trips until stdin ends; prints
    {"lat": [seconds...], "error": text or null} as one JSON line."""
    lat = []
    error = None
    c = None
    try:
        c = connect_ws(port)
        c.echo(OP_TEXT, "probe warm-up")
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        deadline = time.monotonic() + seconds
        for i in range(limit):
            if time.monotonic() >= deadline:
                break
            r, _, _ = select.select([sys.stdin], [], [], 0)
            if r:
                break
            payload = b"probe %06d " % i + b"p" * 100
            t0 = time.perf_counter()
            c.echo(OP_BINARY, payload, timeout=10.0)
            lat.append(time.perf_counter() - t0)
            time.sleep(interval)
        c.close_handshake()
    except BaseException as e:		# reported, the test fails on it
        error = "%s: %s" % (type(e).__name__, e)
    finally:
        if c is not None:
            c.close()
    sys.stdout.write(json.dumps({"lat": lat, "error": error}) + "\n")
    sys.stdout.flush()


class Probe:
    """Runs probe_main in a child process during an attack."""

    def __init__(self, d, interval=0.005, limit=20000, seconds=90.0):
        self.d = d
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(
            __file__), "probe", str(d.port), str(interval), str(limit),
            str(seconds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            cwd=os.path.dirname(os.path.abspath(__file__)))
        r, _, _ = select.select([self.proc.stdout], [], [], 15.0 * SLOW)
        line = self.proc.stdout.readline() if r else b""
        if line != b"ready\n":
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError("probe did not start: %r" % line)

    def finish(self, name, min_count=10, p99_bound_ms=P99_BOUND_MS):
        """Stops the probe, asserts its bounds, prints and returns
        (n, p50 ms, p99 ms, max ms)."""
        try:
            out, _ = self.proc.communicate(input=b"", timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError("probe did not finish")
        res = json.loads(out.decode().strip().split("\n")[-1])
        assert res["error"] is None, "well-behaved client failed: %s" % \
            res["error"]
        lat = sorted(x * 1000.0 for x in res["lat"])
        assert len(lat) >= min_count, "only %d round trips" % len(lat)
        p50 = lat[len(lat) // 2]
        p99 = lat[min(len(lat) - 1, (len(lat) * 99 + 99) // 100 - 1)]
        load = load_factor()
        log_note(name, probe_n=len(lat), p50_ms="%.2f" % p50,
            p99_ms="%.2f" % p99, max_ms="%.2f" % lat[-1],
            load="%.2f" % load)
        assert p99 < p99_bound_ms * load, \
            "%s: p99 %.1f ms (bound %.0f ms x load %.2f)" % (name, p99,
            p99_bound_ms, load)
        return len(lat), p50, p99, lat[-1]

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def attack(daemon_factory):
    """attack(sections=..., routes=...) -> (daemon, baseline, probe): a
    warmed-up daemon, its baseline and a running well-behaved client.
    Hostile clients are an INFO matter: no ERROR or WARN line may appear."""
    probes = []
    daemons = []

    def make(sections=None, **kw):
        sections = dict(sections or {})
        # More than the default backlog (511): a burst of connects must not
        # wait for SYN retransmits, which would blur the timing measured.
        sections["server"] = dict(sections.get("server", {}))
        sections["server"].setdefault("ConnectionBacklog", 1024)
        d = daemon_factory(sections=sections, env=DAEMON_ENV, **kw)
        daemons.append(d)
        fds = fd_count(d)
        warm_up(d)
        base = Baseline(d, fds)
        p = Probe(d)
        probes.append(p)
        return d, base, p

    yield make
    for p in probes:
        p.kill()
    for d in daemons:
        bad = [line for line in d.log_text().split("\n") if re.match(
            r"^\S+ (ERROR|WARN) ", line)]
        assert not bad, "\n".join(bad[:20])


def rst_close(sock):
    """Closes with RST instead of FIN (SO_LINGER 0)."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
        struct.pack("ii", 1, 0))
    sock.close()


def raw_connect(port):
    s = socket.create_connection((HOST, port), timeout=5.0)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def watch_closes(socks, deadline, sender=None):
    """Waits until the server closes every socket (EOF or reset) or the
    deadline. sender(i, sock), if given, runs for each open socket once per
    round (~0.25 s). Returns ([close time or None], [bytes received])."""
    n = len(socks)
    closed = [None] * n
    got = [b""] * n
    for _ in range(1000):
        now = time.monotonic()
        if now >= deadline or all(t is not None for t in closed):
            break
        if sender is not None:
            for i, s in enumerate(socks):
                if closed[i] is None:
                    try:
                        sender(i, s)
                    except OSError:
                        pass		# the read below sees the close
        round_end = min(deadline, time.monotonic() + 0.25)
        while True:
            left = round_end - time.monotonic()
            open_ = [s for i, s in enumerate(socks) if closed[i] is None]
            if left <= 0 or not open_:
                break
            r, _, _ = select.select(open_, [], [], left)
            for s in r:
                i = socks.index(s)
                try:
                    data = s.recv(65536)
                except (ConnectionResetError, socket.timeout):
                    data = b""
                if data:
                    got[i] += data
                else:
                    closed[i] = time.monotonic()
    return closed, got


def rounds(min_seconds=1.0, least=2, most=10):
    """Round numbers for an attack repeated until it has lasted min_seconds
    (at least least rounds, at most most), so the probe sees it."""
    t0 = time.monotonic()
    for k in range(most):
        if k >= least and time.monotonic() - t0 >= min_seconds:
            return
        yield k


# ---------------------------------------------------------------- 1, 2

HS_TIMEOUT = 2


def test_slowloris(attack):
    # Request heads sent one byte every 0.25 s: HandshakeTimeout is a
    # total, not an idle, timeout, so they are dropped after 2 s without an
    # answer (conn.c: "handshake timeout from", no HTTP response).
    d, base, probe = attack(sections={"websocket": {
        "HandshakeTimeout": HS_TIMEOUT}})
    n = 12
    req, _ = build_request(port=d.port, extra=[("X-Pad", "p" * 200)])
    socks = [raw_connect(d.port) for _ in range(n)]
    t0 = time.monotonic()
    sent = [0] * n

    def dribble(i, s):
        s.send(req[sent[i]:sent[i] + 1])
        sent[i] += 1

    try:
        closed, got = watch_closes(socks, t0 + HS_TIMEOUT + 4.0, dribble)
        rss, hwm = base.check_memory("slowloris")
        probe.finish("slowloris")
        for i, s in enumerate(socks):
            assert closed[i] is not None, "slowloris %d still open" % i
            took = closed[i] - t0
            assert HS_TIMEOUT - 0.3 <= took <= HS_TIMEOUT + 1.5, \
                "closed after %.2fs" % took
            assert got[i] == b"", "answer to a timed-out head: %r" % got[i]
            assert 3 <= sent[i] < len(req)
            assert_port_once(d, s.getsockname()[1], "handshake timeout from ")
        log_note("slowloris", conns=n, rss_kib=rss, peak_kib=hwm)
    finally:
        for s in socks:
            s.close()
    wait_fds(d, base.fds)


def test_unfinished_handshakes(attack):
    # Half a request then nothing, and connect then nothing: both dropped
    # by HandshakeTimeout, logged once, nothing sent back.
    d, base, probe = attack(sections={"websocket": {
        "HandshakeTimeout": HS_TIMEOUT}})
    req, _ = build_request(port=d.port)
    half = [raw_connect(d.port) for _ in range(10)]
    silent = [raw_connect(d.port) for _ in range(10)]
    t0 = time.monotonic()
    for s in half:
        s.sendall(req[:len(req) // 2])
    socks = half + silent
    try:
        closed, got = watch_closes(socks, t0 + HS_TIMEOUT + 4.0)
        rss, hwm = base.check_memory("unfinished handshakes")
        probe.finish("unfinished handshakes")
        for i, s in enumerate(socks):
            assert closed[i] is not None, "connection %d still open" % i
            took = closed[i] - t0
            assert HS_TIMEOUT - 0.3 <= took <= HS_TIMEOUT + 1.5, \
                "closed after %.2fs" % took
            assert got[i] == b"", got[i]
            assert_port_once(d, s.getsockname()[1], "handshake timeout from ")
        log_note("unfinished handshakes", conns=len(socks), rss_kib=rss,
            peak_kib=hwm)
    finally:
        for s in socks:
            s.close()
    wait_fds(d, base.fds)


# ---------------------------------------------------------------- 3

def test_dribbled_frames(attack):
    # Valid masked messages written one byte per write (1 ms apart) by
    # several clients at once: a 300-byte text message, then a fragmented
    # binary message with a ping between its fragments. Each is echoed
    # exactly; the connections close normally, logged once.
    d, base, probe = attack()
    n = 6
    errors = []
    ids = [None] * n

    def client(k):
        try:
            c = connect_ws(d.port)
            ids[k] = c.local_port
            text = ("dribble %d " % k + "t" * 300)[:300]
            c.send_chopped(build_frame(OP_TEXT, text), 1, 0.001)
            op, got = c.read_message(10.0)
            assert (op, got) == (OP_TEXT, text.encode())
            parts = [bytes([k, i]) * 60 for i in range(3)]
            stream = (build_frame(OP_BINARY, parts[0], fin=False) +
                build_frame(OP_PING, b"ping %d" % k) +
                build_frame(OP_CONT, parts[1], fin=False) +
                build_frame(OP_CONT, parts[2], fin=True))
            c.send_chopped(stream, 1, 0.001)
            frames = []
            while not frames or not frames[-1].fin:
                f = c.read_frame(10.0)
                if f.opcode == OP_PONG:
                    assert f.payload == b"ping %d" % k
                    continue
                frames.append(f)
            assert frames[0].opcode == OP_BINARY
            assert all(f.opcode == OP_CONT for f in frames[1:])
            assert b"".join(f.payload for f in frames) == b"".join(parts)
            c.close_handshake()
            c.close()
        except BaseException as e:
            errors.append("client %d: %r" % (k, e))

    threads = [threading.Thread(target=client, args=(k,), daemon=True)
        for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30.0)
    assert not any(t.is_alive() for t in threads), "dribblers hang"
    assert not errors, errors
    rss, hwm = base.check_memory("dribbled frames")
    probe.finish("dribbled frames")
    for port in ids:
        assert_closed_once(d, conn_id(d, port), 1000, "client", "")
    log_note("dribbled frames", conns=n, rss_kib=rss, peak_kib=hwm)
    wait_fds(d, base.fds)


# ---------------------------------------------------------------- 4

def test_many_idle_connections(attack):
    # 10,000 connections that never send a byte. The test process and the
    # daemon each hold one end (the fd limit is 20,000 for both; a smaller
    # limit here scales the count down, but never below 2,000).
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    n = min(IDLE_CONNS, soft - 500) if soft != resource.RLIM_INFINITY \
        else IDLE_CONNS
    assert n >= 2000, "fd limit %d is too small for this test" % soft
    d, base, probe = attack(sections={
        "server": {"MaxConnections": n + 100, "ConnectionBacklog": 4096},
        "websocket": {"HandshakeTimeout": 600}})
    socks = []
    try:
        t0 = time.monotonic()
        deadline = t0 + 60.0
        for _ in range(n):
            if time.monotonic() >= deadline:
                break
            socks.append(socket.create_connection((HOST, d.port),
                timeout=10.0))
        opened = time.monotonic() - t0
        assert len(socks) == n, "only %d connections in %.0fs" % (
            len(socks), opened)
        # All accepted: the daemon holds one descriptor for each.
        wait_fds(d, base.fds + 1 + n, timeout=30.0)	# +1: the probe
        accepted = time.monotonic() - t0
        time.sleep(0.2)
        rss, hwm = base.grown()
        per_conn = rss * 1024.0 / n
        # A normal client still gets in and is served.
        c = connect_ws(d.port)
        for i in range(20):
            c.echo(OP_TEXT, "among the idle %d" % i)
        c.close_handshake()
        c.close()
        probe.finish("idle connections")
        log_note("idle connections", conns=n, open_s="%.2f" % opened,
            accepted_s="%.2f" % accepted, rss_kib=rss, peak_kib=hwm,
            bytes_per_conn="%.0f" % per_conn)
        assert per_conn < (8 if SANITIZED else 4) * KIB, \
            "%.0f bytes per idle connection" % per_conn
        assert "handshake timeout" not in d.log_text()
    finally:
        t1 = time.monotonic()
        for s in socks:
            s.close()
    wait_fds(d, base.fds, timeout=30.0)
    log_note("idle connections closed", fds_back_s="%.2f" % (
        time.monotonic() - t1))


# ---------------------------------------------------------------- 5

DEFAULT_TIMEOUT = 2


def flood_until_blocked(sock, frame, seconds, stop=None):
    """Writes frame repeatedly until the peer stops taking data (a write
    blocks for a second), the deadline, or stop. Returns bytes written."""
    sock.settimeout(1.0)
    deadline = time.monotonic() + seconds
    sent = 0
    for _ in range(100000):
        if time.monotonic() >= deadline or (stop is not None and
                stop.is_set()):
            break
        try:
            n = sock.send(frame)
        except socket.timeout:
            break
        except OSError:
            break
        sent += n
    return sent


def test_client_that_never_reads(attack):
    # The client sends 256 KiB messages to the echo backend and reads
    # nothing: the daemon stops reading once its queue is full (memory
    # bounded), and DefaultTimeout later drops the connection as 1008
    # (conn.c: "send timeout", close by=timeout).
    d, base, probe = attack(sections={"server": {
        "DefaultTimeout": DEFAULT_TIMEOUT}})
    c = WSClient(d.port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.handshake()
    cid = conn_id(d, c.local_port)
    frame = build_frame(OP_BINARY, b"N" * (256 * KIB))
    try:
        t0 = time.monotonic()
        sent = flood_until_blocked(c.sock, frame, 20.0)
        blocked = time.monotonic()
        rss, hwm = base.check_memory("never reads")
        # Back-pressure: far less than 20 s at loopback speed went in.
        assert sent < 64 * MIB, "no back-pressure: %d MiB taken" % (
            sent >> 20)
        d.wait_log(r"INFO %s send timeout \(DefaultTimeout %d s\)" % (cid,
            DEFAULT_TIMEOUT), timeout=DEFAULT_TIMEOUT + 6.0)
        dropped = time.monotonic()
        # The client never read, so the queue stopped draining at once:
        # the drop comes DefaultTimeout after the start, not before.
        assert DEFAULT_TIMEOUT - 0.2 <= dropped - t0 <= DEFAULT_TIMEOUT + 4.0
        # TCP is closed (what the client has buffered is still readable).
        c.read_to_eof(5.0)
        probe.finish("never reads")
        assert_once(d, cid, r"send timeout ")
        assert_closed_once(d, cid, 1008, "timeout", "send timeout")
        log_note("never reads", sent_kib=sent >> 10, rss_kib=rss,
            peak_kib=hwm, blocked_after_s="%.2f" % (blocked - t0),
            dropped_after_s="%.2f" % (dropped - t0))
        wait_fds(d, base.fds)
    finally:
        c.close()


# ---------------------------------------------------------------- 6

def test_ping_flood_with_reader(attack):
    # 20,000 pings sent in bursts while a thread reads: every one answered
    # with its own payload, in order; other clients unaffected.
    d, base, probe = attack()
    c = connect_ws(d.port)
    cid = conn_id(d, c.local_port)
    count = 20000
    pongs = []
    errors = []

    def reader():
        try:
            for _ in range(count):
                f = c.read_frame(20.0)
                assert f.opcode == OP_PONG, repr(f)
                pongs.append(f.payload)
        except BaseException as e:
            errors.append(repr(e))

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    t0 = time.monotonic()
    for burst in range(count // 100):
        c.send(b"".join(build_frame(OP_PING, b"ping %06d" % i) for i in
            range(burst * 100, burst * 100 + 100)))
        time.sleep(0.005)
    th.join(30.0)
    took = time.monotonic() - t0
    assert not th.is_alive(), "pongs missing: %d of %d" % (len(pongs),
        count)
    assert not errors, errors
    assert pongs == [b"ping %06d" % i for i in range(count)]
    rss, hwm = base.check_memory("ping flood")
    c.echo(OP_TEXT, "after the flood")
    c.close_handshake()
    c.close()
    probe.finish("ping flood, reading")
    assert_closed_once(d, cid, 1000, "client", "")
    log_note("ping flood, reading", pings=count, seconds="%.2f" % took,
        rss_kib=rss, peak_kib=hwm)
    wait_fds(d, base.fds)


def test_ping_flood_without_reader(attack):
    # Pings as fast as possible, pongs never read: the daemon queues a
    # bounded amount of pongs, stops reading, and DefaultTimeout drops the
    # client as 1008.
    d, base, probe = attack(sections={"server": {
        "DefaultTimeout": DEFAULT_TIMEOUT}})
    c = WSClient(d.port)
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.handshake()
    cid = conn_id(d, c.local_port)
    burst = b"".join(build_frame(OP_PING, b"%0125d" % i) for i in range(500))
    try:
        t0 = time.monotonic()
        sent = flood_until_blocked(c.sock, burst, 20.0)
        rss, hwm = base.check_memory("ping flood, not reading")
        assert sent < 64 * MIB, "no back-pressure: %d MiB of pings" % (
            sent >> 20)
        d.wait_log(r"INFO %s send timeout \(DefaultTimeout %d s\)" % (cid,
            DEFAULT_TIMEOUT), timeout=DEFAULT_TIMEOUT + 6.0)
        dropped = time.monotonic()
        assert DEFAULT_TIMEOUT - 0.2 <= dropped - t0 <= DEFAULT_TIMEOUT + 4.0
        c.read_to_eof(5.0)
        probe.finish("ping flood, not reading")
        assert_once(d, cid, r"send timeout ")
        assert_closed_once(d, cid, 1008, "timeout", "send timeout")
        log_note("ping flood, not reading", sent_kib=sent >> 10,
            rss_kib=rss, peak_kib=hwm, dropped_after_s="%.2f" % (
            dropped - t0))
        wait_fds(d, base.fds)
    finally:
        c.close()


# ---------------------------------------------------------------- 7

def test_reset_open_and_mid_frame(attack):
    # TCP RST instead of a close: right after the upgrade, after a message,
    # and in the middle of a frame (header and half of a 64 KiB payload).
    # Each is logged once as 1006 and freed.
    d, base, probe = attack()
    ports = []
    for _ in rounds(0.5):
        for k in range(15):
            c = connect_ws(d.port)
            ports.append(c.local_port)
            if k % 3 == 1:
                c.echo(OP_TEXT, "before the reset %d" % k)
            elif k % 3 == 2:
                frame = build_frame(OP_BINARY, bytes([k]) * 65536)
                c.send(frame[:len(frame) // 2])
                time.sleep(0.01)
            rst_close(c.sock)
    for port in ports:
        cid = conn_id(d, port)
        assert_closed_once(d, cid, 1006, "client", "Connection reset by peer")
    wait_fds(d, base.fds + 1)			# +1: the probe
    rss, hwm = base.check_memory("resets")
    probe.finish("resets")
    log_note("resets", conns=len(ports), rss_kib=rss, peak_kib=hwm)
    wait_fds(d, base.fds)


# ---------------------------------------------------------------- 8

def test_oversized_heads_431(attack):
    # Heads over MaxHeaderSize: whole, without an end (the client keeps
    # sending), and in 100-byte writes. Each gets exactly 431, is closed,
    # and is logged once.
    d, base, probe = attack(sections={"websocket": {"MaxHeaderSize": 1024}})
    big, _ = build_request(port=d.port, extra=[("X-Big", "b" * 1500)])
    endless = b"GET / HTTP/1.1\r\nHost: x\r\nX-Endless: " + b"e" * 4000
    clients = []
    try:
        for k in range(18):
            c = WSClient(d.port)
            clients.append(c)
            if k % 3 == 0:
                c.send(big)
            elif k % 3 == 1:
                send_all_bounded(c.sock, endless, time.monotonic() + 2.0)
            else:
                c.send_chopped(big, 100, 0.002)
        for c in clients:
            resp = c.read_http_response(5.0)
            assert resp.status == 431, resp.status
            c.assert_closed(2.0)
        rss, hwm = base.check_memory("oversized heads")
        probe.finish("oversized heads")
        for c in clients:
            assert_port_once(d, c.local_port,
                r"rejected ", timeout=5.0)
            line = port_lines(d, c.local_port, r"rejected ")[0]
            assert line.endswith(": 431 request header too large"), line
        log_note("oversized heads", conns=len(clients), rss_kib=rss,
            peak_kib=hwm)
    finally:
        for c in clients:
            c.close()
    wait_fds(d, base.fds)


def test_oversized_messages_1009(attack):
    # MaxMessageSize 64 KiB: a frame header announcing 1 GiB followed by
    # 4 MiB of payload, a single frame one byte over, and a fragmented
    # message over the limit, in rounds of 12 connections. Each: close
    # 1009, logged once, memory flat.
    limit = 65536
    d, base, probe = attack(sections={"websocket": {
        "MaxMessageSize": limit}})
    frag = b"".join(build_frame(OP_BINARY if i == 0 else OP_CONT,
        b"f" * 2000, fin=i == 39) for i in range(40))
    ports = []
    for _ in rounds(most=30):
        clients = []
        try:
            for k in range(12):
                c = connect_ws(d.port)
                clients.append(c)
                ports.append(c.local_port)
                if k % 3 == 0:
                    c.send(build_frame(OP_BINARY, b"", length=1 << 30))
                    # The rest of the "payload" is read and thrown away.
                    send_all_bounded(c.sock, b"J" * (4 * MIB),
                        time.monotonic() + 1.0)
                elif k % 3 == 1:
                    c.send(build_frame(OP_BINARY, b"o" * (limit + 1)))
                else:
                    c.send(frag)
            for c in clients:
                c.expect_failure(1009, timeout=5.0, allow_partial=True)
        finally:
            for c in clients:
                c.close()
    rss, hwm = base.check_memory("oversized messages")
    probe.finish("oversized messages")
    for port in ports:
        cid = conn_id(d, port)
        line = assert_once(d, cid, r"protocol error: ")
        assert line.endswith("protocol error: Message too big (close 1009)"), \
            line
        assert_closed_once(d, cid, 1009, "error", "Message too big")
    log_note("oversized messages", conns=len(ports), rss_kib=rss,
        peak_kib=hwm)
    wait_fds(d, base.fds)


# ---------------------------------------------------------------- 9

def test_zip_bombs(attack):
    # permessage-deflate, MaxMessageSize 1 MiB. A ~10 KB frame inflating
    # to 10 MB alone; then rounds of 16 connections sending one each at
    # once; then one split over 500 continuation frames. All 1009, peak
    # memory bounded, logged once.
    d, base, probe = attack(sections={"websocket": {"MaxMessageSize": MIB}})
    bomb = compress_message(b"\0" * (10 * 1000 * 1000))
    assert len(bomb) < 12000
    frame = build_frame(OP_BINARY, bomb, rsv=RSV1)
    step = -(-len(bomb) // 500)
    split = b"".join(build_frame(OP_BINARY if i == 0 else OP_CONT,
        bomb[i * step:(i + 1) * step], fin=i == 499,
        rsv=RSV1 if i == 0 else 0) for i in range(500))
    ports = []

    def bombard(n, data):
        clients = []
        try:
            for _ in range(n):
                c, resp = connect_deflate(d.port)
                clients.append(c)
                ports.append(c.local_port)
                assert resp.header("sec-websocket-extensions") is not None
            for c in clients:
                c.send(data)
            for c in clients:
                c.expect_failure(1009, timeout=10.0, allow_partial=True)
        finally:
            for c in clients:
                c.close()

    t0 = time.monotonic()
    bombard(1, frame)
    for _ in rounds(most=20):
        bombard(16, frame)
    bombard(1, split)
    took = time.monotonic() - t0
    rss, hwm = base.check_memory("zip bombs")
    # Still inflating normally afterwards.
    c, _ = connect_deflate(d.port)
    with c:
        send_compressed(c, OP_TEXT, "alive " * 100)
        assert read_message_inflated(c, Inflater())[2] == b"alive " * 100
        c.close_handshake(1000)
    # Each bomb costs the loop ~3 ms (1 MiB inflated, and the echo's
    # deflate of what it passed on), and a frame is inflated in one go:
    # sixteen at once hold other clients for ~50 ms, up to ~150 ms on
    # this 2-core machine with the test's own work.
    probe.finish("zip bombs", p99_bound_ms=600.0 * SLOW)
    for port in ports:
        cid = conn_id(d, port)
        line = assert_once(d, cid, r"protocol error: ")
        assert line.endswith("protocol error: Message too big (close 1009)"), \
            line
        assert_closed_once(d, cid, 1009, "error", "Message too big")
    log_note("zip bombs", bombs=len(ports), bomb_bytes=len(bomb),
        seconds="%.2f" % took, rss_kib=rss, peak_kib=hwm)
    wait_fds(d, base.fds)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "probe":
        probe_main(int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]),
            float(sys.argv[5]))
    else:
        sys.stderr.write("usage: test_hostile.py probe PORT INTERVAL LIMIT "
            "SECONDS\n")
        sys.exit(2)
