"""harness.py - run the real wsserverd on a private port and talk to it.

Daemon starts wsserverd in the foreground with an ini file written to a
fresh temporary directory (LocalHost 127.0.0.1, LocalPort 0), learns the
port from its "listening on" log line, collects its log in a thread and
stops it with SIGTERM. WSClient speaks raw RFC 6455 over a plain socket so
that tests control every byte, every frame boundary and every TCP write.

Every wait here is bounded; every socket has a timeout; only 127.0.0.1 is
ever used.
"""

import base64
import hashlib
import os
import random
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
TOP_SRCDIR = os.path.abspath(os.environ.get("top_srcdir") or
    os.path.join(HERE, "..", ".."))
TOP_BUILDDIR = os.path.abspath(os.environ.get("top_builddir") or TOP_SRCDIR)
HANDLERS = os.path.join(HERE, "handlers")
HOST = "127.0.0.1"
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

OP_CONT, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

# Seeded so that a failing run can be replayed with the same mask keys.
_rng = random.Random(6455)

SANITIZER_PATTERNS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: ThreadSanitizer",
)


def daemon_path():
    """The wsserverd binary under test: $WSSERVERD, else the build tree's."""
    path = os.environ.get("WSSERVERD") or os.path.join(TOP_BUILDDIR,
        "wsserverd")
    return os.path.abspath(path)


def sanitized():
    """True when the daemon under test was built with ASan/UBSan."""
    try:
        with open(daemon_path(), "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__ubsan_handle" in data


def unique_marker():
    """A string to put in a handler's argv so /proc finds its processes."""
    return "wsit-" + uuid.uuid4().hex[:16]


def make_ini(sections):
    """Renders {section: {key: value}} (insertion order kept) as ini text."""
    out = []
    for name, keys in sections.items():
        out.append("[%s]" % name)
        for key, value in keys.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            out.append("%s = %s" % (key, value))
        out.append("")
    return "\n".join(out)


class DaemonError(AssertionError):
    pass


class Daemon:
    """One wsserverd process with its own config directory.

    sections: extra or overriding ini keys, {section: {key: value}}.
    routes: {name: {key: value}}; the default is one echo route on "/".
    ini_text: use this text verbatim instead (port must still be 0); an
    [admin] section is appended unless the text has one.
    Strings in sections/routes may use {dir} (the config directory, which
    has a "handlers" symlink) and {handlers} (the handler scripts).
    The admin socket is <dir>/admin.sock (self.admin_socket) unless the
    test sets [admin] Socket: the default under /run is not writable here.
    """

    def __init__(self, sections=None, routes=None, ini_text=None, env=None,
            log_level=1):
        self.dir = tempfile.mkdtemp(prefix="wsserverd-it-")
        os.symlink(HANDLERS, os.path.join(self.dir, "handlers"))
        self.ini = os.path.join(self.dir, "wsserverd.ini")
        self.env = dict(os.environ)
        if env:
            self.env.update(env)
        self.proc = None
        self.port = None
        self.returncode = None
        self.lines = []
        self._cond = threading.Condition()
        self._reader = None
        self._eof = False
        self.admin_socket = os.path.join(self.dir, "admin.sock")
        if ini_text is None:
            ini_text = self._render(sections or {}, routes, log_level)
        elif not re.search(r"^\s*\[admin\]", ini_text, re.M | re.I):
            ini_text += "\n[admin]\nSocket = %s\n" % self.admin_socket
        if not re.search(r"^\s*Workers\s*=", ini_text, re.M | re.I):
            # One process unless a test asks for workers (test_workers.py):
            # tests look at the daemon's pid, fds and memory.
            ini_text += "\n[server]\nWorkers = 1\n"
        if "script:" in ini_text and not re.search(
                r"^\s*AllowRootHandlers\s*=", ini_text, re.M | re.I):
            # Tests run as root: without it, script routes refuse to load.
            ini_text += "\n[backend]\nAllowRootHandlers = true\n"
        with open(self.ini, "w") as f:
            f.write(ini_text)

    def _subst(self, value):
        if isinstance(value, str):
            return value.replace("{dir}", self.dir).replace("{handlers}",
                HANDLERS)
        return value

    def _render(self, sections, routes, log_level):
        conf = {
            "server": {"LocalHost": HOST, "LocalPort": 0,
                "ShutdownTimeout": 5, "Workers": 1},
            "log": {"LogLevel": log_level},
            "admin": {"Socket": self.admin_socket},
            # Tests run as root; script handlers then need this.
            "backend": {"AllowRootHandlers": True},
        }
        for name, keys in sections.items():
            conf.setdefault(name, {}).update(keys)
        socket_path = conf["admin"].get("Socket")
        if socket_path is not None and socket_path != self.admin_socket:
            path = self._subst(socket_path)
            # Relative paths are taken relative to the ini's directory.
            self.admin_socket = path if not path or os.path.isabs(path) \
                else os.path.join(self.dir, path)
        if routes is None:
            routes = {"echo": {"Path": "/", "Backend": "echo"}}
        for name, keys in routes.items():
            conf["route:" + name] = dict(keys)
        for keys in conf.values():
            for key in keys:
                keys[key] = self._subst(keys[key])
        return make_ini(conf)

    def start(self, timeout=10.0):
        """Starts the daemon and waits for its listening line; returns the port."""
        binary = daemon_path()
        if not os.access(binary, os.X_OK):
            raise DaemonError("wsserverd not found at %s (set WSSERVERD)" %
                binary)
        # cwd "/" so that relative handler paths must be resolved against
        # the ini file's directory, as documented, not against the cwd.
        self.proc = subprocess.Popen([binary, "-f", "-c", self.ini],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, cwd="/", env=self.env)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        m = self.wait_log(r"listening on 127\.0\.0\.1:(\d+)", timeout=timeout)
        self.port = int(m.group(1))
        if self.port == 0:
            raise DaemonError("daemon reports port 0:\n" + self.log_tail())
        # Started for good (the spawner too): what it holds now is its
        # baseline.
        self.wait_log(r" INFO ready \(pid \d+\)$", timeout=timeout)
        return self.port

    def _read_log(self):
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._eof = True
            self._cond.notify_all()

    @property
    def pid(self):
        return self.proc.pid

    def mark(self):
        """The current log position, for wait_log(start=...)."""
        with self._cond:
            return len(self.lines)

    def find_log(self, pattern, start=0):
        """Returns the first match of pattern in log lines from start, or None."""
        rx = re.compile(pattern)
        with self._cond:
            for line in self.lines[start:]:
                m = rx.search(line)
                if m:
                    return m
        return None

    def wait_log(self, pattern, timeout=5.0, start=0):
        """Waits (bounded) for a log line matching pattern; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        pos = start
        with self._cond:
            while True:
                while pos < len(self.lines):
                    m = rx.search(self.lines[pos])
                    if m:
                        return m
                    pos += 1
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    break
                self._cond.wait(min(left, 0.1))
        state = "exited with %s" % self.proc.poll() if self._eof else \
            "still running"
        raise DaemonError("no log line matching %r within %.1fs (daemon %s):\n%s"
            % (pattern, timeout, state, self.log_tail()))

    def log_text(self):
        with self._cond:
            return "\n".join(self.lines)

    def log_tail(self, n=60):
        with self._cond:
            return "\n".join(self.lines[-n:])

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout):
        """Waits up to timeout for the process to end; returns its status or None."""
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._reader is not None:
            self._reader.join(timeout=5)
        return self.returncode

    def stop(self, timeout=10.0):
        """SIGTERM, a bounded wait, SIGKILL on timeout. Returns the exit status.

        A daemon that had to be killed gets status "killed" (a string) so
        that check_clean() reports it.
        """
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if self.wait_exit(timeout) is None:
                self.proc.kill()
                self.proc.wait(timeout=10)
                self.returncode = "killed after %.0fs" % timeout
        else:
            self.wait_exit(5)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return self.returncode

    def sanitizer_reports(self):
        text = self.log_text()
        return [p for p in SANITIZER_PATTERNS if p in text]

    def check_clean(self):
        """Asserts the daemon exited 0 with no sanitizer report."""
        reports = self.sanitizer_reports()
        if self.returncode != 0 or reports:
            raise DaemonError("daemon exit status %r, sanitizer reports %r:\n%s"
                % (self.returncode, reports, self.log_tail(120)))

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self.proc is not None and self.proc.stdout is not None:
            self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def rss_kib(self):
        return rss_kib(self.proc.pid)

    def url(self, path="/"):
        return "ws://%s:%d%s" % (HOST, self.port, path)


# ---------------------------------------------------------------- /proc

def rss_kib(pid):
    """VmRSS of pid in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def _proc_status(pid):
    fields = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
    except OSError:
        return None
    return fields


def procs_with_marker(marker):
    """Pids (not zombies) whose command line contains marker."""
    me = os.getpid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(name))
    return found


# The daemon's spawner (its comm): the process that forks its handlers.
SPAWNER_NAME = "wsserverd-spawn"


def children_of(ppid):
    """[(pid, state letter)] of every process whose parent is ppid."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _proc_status(int(name))
        if st and st.get("PPid") == str(ppid):
            out.append((int(name), st.get("State", "?")[:1]))
    return out


def spawner_of(pid):
    """The pid of the daemon pid's spawner, or None."""
    for child, _ in children_of(pid):
        st = _proc_status(child)
        if st and st.get("Name") == SPAWNER_NAME:
            return child
    return None


def handlers_of(pid):
    """[(pid, state letter)] of the daemon pid's handler processes (and
    hooks): its spawner's children, and any other child of its own (none
    is expected: a test that sees one has found a leak)."""
    out = []
    for child, state in children_of(pid):
        st = _proc_status(child)
        if st and st.get("Name") == SPAWNER_NAME and state != "Z":
            out.extend(children_of(child))
        else:
            out.append((child, state))
    return out


def wait_until(pred, timeout, interval=0.02):
    """Polls pred until it is true or timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def assert_silent(client, seconds):
    """Nothing arrives on a client (anything with a .sock) for that long."""
    client.sock.settimeout(seconds)
    try:
        data = client.sock.recv(1)
    except socket.timeout:
        return
    raise AssertionError("unexpected data %r" % data)


def wait_no_procs(marker, timeout):
    """Waits until no process carries marker; returns the survivors (empty: ok)."""
    wait_until(lambda: not procs_with_marker(marker), timeout)
    return procs_with_marker(marker)


# ---------------------------------------------------------------- frames

def mask_bytes(payload, key):
    """XORs payload with the 4-byte key (fast for megabytes)."""
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^
        int.from_bytes(stream, "big")).to_bytes(n, "big")


def build_frame(opcode, payload=b"", fin=True, rsv=0, mask=True, key=None,
        length=None):
    """Encodes one frame. length overrides the encoded payload length."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    payload = bytes(payload)
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (opcode & 0xF)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + payload
    if key is None:
        key = bytes(_rng.getrandbits(8) for _ in range(4))
    return head + key + mask_bytes(payload, key)


def close_payload(code=None, reason=b""):
    if isinstance(reason, str):
        reason = reason.encode("utf-8")
    if code is None:
        return reason
    return struct.pack("!H", code) + reason


def accept_key(key):
    digest = hashlib.sha1((key + GUID).encode("ascii")).digest()
    return base64.b64encode(digest).decode("ascii")


def new_key():
    return base64.b64encode(bytes(_rng.getrandbits(8) for _ in
        range(16))).decode("ascii")


def build_request(path="/", port=None, method="GET", version="HTTP/1.1",
        key=None, omit=(), override=None, extra=(), protocols=None):
    """An upgrade request head. omit: header names to leave out; override:
    {name: value} replacing defaults; extra: [(name, value)] appended."""
    if key is None:
        key = new_key()
    headers = [
        ("Host", "%s:%d" % (HOST, port) if port else HOST),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
    ]
    if protocols:
        headers.append(("Sec-WebSocket-Protocol", protocols))
    override = override or {}
    omit = {o.lower() for o in omit}
    out = []
    for name, value in headers:
        if name.lower() in omit:
            continue
        out.append((name, override.get(name, value)))
    out.extend(extra)
    text = "%s %s %s\r\n" % (method, path, version)
    text += "".join("%s: %s\r\n" % hv for hv in out) + "\r\n"
    return text.encode("latin-1"), key


class Frame:
    def __init__(self, fin, rsv, opcode, payload):
        self.fin = fin
        self.rsv = rsv
        self.opcode = opcode
        self.payload = payload

    def close_code(self):
        if len(self.payload) >= 2:
            return struct.unpack("!H", self.payload[:2])[0]
        return None

    def __repr__(self):
        return "Frame(fin=%s rsv=%d op=%d len=%d %r)" % (self.fin, self.rsv,
            self.opcode, len(self.payload), bytes(self.payload[:40]))


class UnexpectedClose(AssertionError):
    def __init__(self, frame):
        AssertionError.__init__(self, "unexpected close frame, code %r "
            "reason %r" % (frame.close_code(), bytes(frame.payload[2:])))
        self.frame = frame


class Closed(AssertionError):
    pass


class HTTPResponse:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers		# [(lower-case name, value)]
        self.body = body

    def header(self, name):
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k == name.lower()]


# ---------------------------------------------------------------- client

class WSClient:
    """A raw WebSocket client: one TCP connection, explicit bytes."""

    def __init__(self, port, timeout=5.0):
        self.port = port
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pongs = []
        self.partial = []
        self.local_port = self.sock.getsockname()[1]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- raw bytes

    def send(self, data):
        self.sock.sendall(data)

    def send_chopped(self, data, chunk=1, delay=0.0):
        """Writes data in pieces of chunk bytes (TCP_NODELAY is on)."""
        for i in range(0, len(data), chunk):
            self.sock.sendall(data[i:i + chunk])
            if delay:
                time.sleep(delay)

    def _recv(self, deadline, want=1 << 20):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(want)
        except ConnectionResetError:
            data = b""
        if not data:
            raise Closed("connection closed by the server (buffered %d "
                "bytes: %r)" % (len(self.buf), bytes(self.buf[:60])))
        self.buf += data

    def read_exact(self, n, timeout=5.0):
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            self._recv(deadline)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_until(self, sep, timeout=5.0, limit=1 << 20):
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i + len(sep)])
                del self.buf[:i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise AssertionError("no %r in %d bytes" % (sep, limit))
            self._recv(deadline)

    def read_to_eof(self, timeout=5.0):
        """Reads until the server closes TCP; returns everything read."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._recv(deadline)
            except Closed:
                out = bytes(self.buf)
                self.buf.clear()
                return out

    # -- HTTP

    def read_http_response(self, timeout=5.0):
        head = self.read_until(b"\r\n\r\n", timeout=timeout, limit=65536)
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.1 (\d{3}) ?(.*)$", lines[0])
        assert m, "bad status line %r" % lines[0]
        headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            assert sep, "bad header line %r" % line
            headers.append((name.strip().lower(), value.strip()))
        resp = HTTPResponse(int(m.group(1)), m.group(2), headers, b"")
        clen = resp.header("content-length")
        if clen is not None:
            resp.body = self.read_exact(int(clen), timeout=timeout)
        return resp

    def handshake(self, path="/", expect=101, timeout=5.0, **kw):
        """Sends an upgrade request and reads the response; checks a 101."""
        req, key = build_request(path, port=self.port, **kw)
        self.send(req)
        resp = self.read_http_response(timeout=timeout)
        assert resp.status == expect, "status %d, expected %d (%r)" % (
            resp.status, expect, resp.body)
        if expect == 101:
            assert resp.header("upgrade").lower() == "websocket"
            assert "upgrade" in [t.strip().lower() for t in
                resp.header("connection").split(",")]
            assert resp.header("sec-websocket-accept") == accept_key(key)
        return resp

    # -- frames

    def send_frame(self, opcode, payload=b"", **kw):
        self.send(build_frame(opcode, payload, **kw))

    def send_text(self, text, **kw):
        self.send_frame(OP_TEXT, text, **kw)

    def send_binary(self, data, **kw):
        self.send_frame(OP_BINARY, data, **kw)

    def send_ping(self, data=b"", **kw):
        self.send_frame(OP_PING, data, **kw)

    def send_close(self, code=None, reason=b"", **kw):
        self.send_frame(OP_CLOSE, close_payload(code, reason), **kw)

    def read_frame(self, timeout=5.0):
        """Reads one frame; asserts the server did not mask it."""
        deadline = time.monotonic() + timeout
        while len(self.buf) < 2:
            self._recv(deadline)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "server frame is masked"
        n = b1 & 0x7F
        hlen = 2
        if n == 126:
            hlen = 4
        elif n == 127:
            hlen = 10
        while len(self.buf) < hlen:
            self._recv(deadline)
        if n == 126:
            n = struct.unpack("!H", self.buf[2:4])[0]
        elif n == 127:
            n = struct.unpack("!Q", self.buf[2:10])[0]
            assert n < 1 << 63
        while len(self.buf) < hlen + n:
            self._recv(deadline, want=max(1 << 16, hlen + n - len(self.buf)))
        payload = bytes(self.buf[hlen:hlen + n])
        del self.buf[:hlen + n]
        return Frame(bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF, payload)

    def read_message(self, timeout=5.0, frames=None):
        """Reads one data message (reassembled); pongs go to self.pongs.

        Raises UnexpectedClose on a close frame. frames, a list, collects
        the data frames for tests that look at fragmentation.
        """
        deadline = time.monotonic() + timeout
        opcode = None
        parts = []
        while True:
            f = self.read_frame(max(0.001, deadline - time.monotonic()))
            assert f.rsv == 0, "server set RSV bits: %r" % f
            if f.opcode == OP_CLOSE:
                raise UnexpectedClose(f)
            if f.opcode == OP_PONG:
                self.pongs.append(f.payload)
                continue
            assert f.opcode != OP_PING, "server pinged unexpectedly"
            if frames is not None:
                frames.append(f)
            if opcode is None:
                assert f.opcode in (OP_TEXT, OP_BINARY), \
                    "message starts with %r" % f
                opcode = f.opcode
            else:
                assert f.opcode == OP_CONT, "expected continuation, got %r" % f
            parts.append(f.payload)
            if f.fin:
                return opcode, b"".join(parts)

    def echo(self, opcode, payload, timeout=5.0):
        """Sends one message and asserts the identical message comes back."""
        self.send_frame(opcode, payload)
        got_op, got = self.read_message(timeout)
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        assert got_op == opcode, "opcode %d, expected %d" % (got_op, opcode)
        assert got == payload, "echo differs: %d bytes vs %d" % (len(got),
            len(payload))

    def read_close(self, timeout=5.0):
        """Reads frames until a close frame (data frames are an error)."""
        f = self.read_frame(timeout)
        assert f.opcode == OP_CLOSE, "expected close, got %r" % f
        assert f.fin, "fragmented close frame"
        return f

    def expect_close(self, code, timeout=5.0, allow_partial=False):
        """Asserts that the next frame is a close with code (None: empty
        payload, or a set of acceptable codes). Returns the frame.

        allow_partial: non-final data frames may come first (a streaming
        echo forwards the valid start of a message before it fails).
        """
        deadline = time.monotonic() + timeout
        while True:
            f = self.read_frame(max(0.001, deadline - time.monotonic()))
            if not (allow_partial and f.opcode in (OP_TEXT, OP_BINARY,
                    OP_CONT) and not f.fin):
                break
            self.partial.append(f)
        assert f.opcode == OP_CLOSE, "expected close, got %r" % f
        assert f.fin, "fragmented close frame"
        got = f.close_code()
        if isinstance(code, (set, frozenset, tuple, list)):
            assert got in code, "close code %r, expected one of %r" % (got,
                code)
        else:
            assert got == code, "close code %r, expected %r (reason %r)" % (
                got, code, f.payload[2:])
        if len(f.payload) > 2:
            f.payload[2:].decode("utf-8")	# the reason must be UTF-8
        return f

    def expect_failure(self, code, timeout=5.0, allow_partial=False):
        """The server fails the connection with code: its close frame, our
        reply, TCP closed within a second."""
        f = self.expect_close(code, timeout, allow_partial)
        self.reply_close(code)
        self.assert_closed(1.0)
        return f

    def reply_close(self, code=1000):
        """Answers the server's close; the server may already have closed."""
        try:
            self.send_close(code)
        except OSError:
            pass

    def close_handshake(self, code=1000, reason=b"", expect=None):
        """Client-initiated close: the echo carries the same code (or
        expect), and the server closes TCP within a second."""
        self.send_close(code, reason)
        f = self.expect_close(code if expect is None else expect)
        self.assert_closed(1.0)
        return f

    def assert_closed(self, timeout=1.0):
        """Asserts the server closes TCP within timeout and sends nothing
        more. Returns the time it took."""
        t0 = time.monotonic()
        deadline = t0 + timeout
        assert not self.buf, "unread bytes before close: %r" % bytes(
            self.buf[:60])
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("server did not close TCP within %.1fs"
                    % timeout)
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            except socket.timeout:
                raise AssertionError("server did not close TCP within %.1fs"
                    % timeout)
            if not data:
                return time.monotonic() - t0
            raise AssertionError("data after close: %r" % data[:60])

    def assert_open(self):
        """A ping round trip: the connection is alive and answering."""
        token = os.urandom(8)
        self.send_ping(token)
        f = self.read_frame(2.0)
        assert f.opcode == OP_PONG and f.payload == token, repr(f)


def read_env(c):
    """Reads a printenv handler's NAME=VALUE text messages up to "END"."""
    env = {}
    for _ in range(500):
        op, line = c.read_message()
        assert op == OP_TEXT
        if line == b"END":
            return env
        name, _, value = line.decode().partition("=")
        env[name] = value
    raise AssertionError("no END")


def connect_ws(port, path="/", **kw):
    """A WSClient with the handshake done."""
    c = WSClient(port)
    try:
        c.handshake(path, **kw)
    except BaseException:
        c.close()
        raise
    return c


def send_all_bounded(sock, data, deadline, stop=None):
    """Writes data until done, the deadline, or stop is set, tolerating a
    peer that stops reading. Returns the number of bytes written."""
    view = memoryview(data)
    sent = 0
    while sent < len(view):
        if time.monotonic() >= deadline or (stop is not None and
                stop.is_set()):
            break
        try:
            sent += sock.send(view[sent:sent + (1 << 16)])
        except socket.timeout:
            continue
        except OSError:
            break
    return sent


class SenderThread(threading.Thread):
    """Sends bytes on a socket in the background (large echoes must be
    read while they are still being written)."""

    def __init__(self, sock, data, timeout=30.0):
        threading.Thread.__init__(self, daemon=True)
        self.sock = sock
        self.data = data
        self.deadline = time.monotonic() + timeout
        self.sent = 0
        self.error = None

    def run(self):
        try:
            self.sent = send_all_bounded(self.sock, self.data, self.deadline)
        except BaseException as e:
            self.error = e

    def finish(self, timeout=30.0):
        self.join(timeout)
        assert not self.is_alive(), "sender still running"
        assert self.error is None, repr(self.error)
        assert self.sent == len(self.data), "sent %d of %d bytes" % (
            self.sent, len(self.data))
