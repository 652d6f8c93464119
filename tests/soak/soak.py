#!/usr/bin/python3
"""soak.py - mixed traffic against the real wsserverd for a set time.

Starts two daemons from one generated ini each (a listener is plain or TLS
as a whole, [ssl] UseSSL, so wss:// needs a second instance): each serves
/echo (built-in echo) and /cat (script:/bin/cat, MessageFormat = lines)
with permessage-deflate on and an admin socket. Then, on a bounded number
of concurrent connections, clients open and close continuously: text and
binary messages of 0 B - 256 KiB echoed and compared byte for byte, pings,
deflate agreed or not, TLS and plain, abrupt disconnects (RST after the
handshake, RST in the middle of a frame, FIN without a close frame), an
invalid UTF-8 message (1007), and admin commands (status, stats,
connections) through wsserverctl and the raw admin socket.

Phases: warm-up, quiesce (every client gone, no connection and no handler
left, a settle), baseline sample; run, quiesce, end sample. The end must
match the baseline: the same number of open fds, VmRSS within a tolerance
(see README.md), the daemon's own counters equal to the clients' (opened,
closed, closes with 1000 and 1007), no handler process left, and a clean
exit (status 0, no sanitizer report, valgrind's error summary 0) after
SIGTERM. Exits 0 when all of it holds, 1 on any failure, 2 on bad usage.

Only 127.0.0.1 is used; every wait is bounded.
"""

import argparse
import asyncio
import base64
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

try:
    import websockets
    import websockets.exceptions
except ImportError:
    sys.stderr.write("soak.py: needs python3-websockets "
        "(apt-get install python3-websockets)\n")
    sys.exit(2)

HOST = "127.0.0.1"
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 256 * 1024
SANITIZER_PATTERNS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: ThreadSanitizer",
)
# Session kinds and their weights: most connections are well behaved.
KINDS = (
    ("normal", 70),
    ("abort", 12),
    ("rst_midframe", 7),
    ("fin", 6),
    ("bad_utf8", 5),
)
# Characters of 1-4 bytes in UTF-8; no control characters, so that the
# lines route (/bin/cat) sees one line per message.
ALPHABET = ("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "0123456789 .,;:!?-_/\"'{}[]()" "\u00e9\u00fc\u00df\u00e7" "\u0436\u044f"
    "\u20ac\u2603\u4e2d\u6587" "\U0001f600\U0001f680")


class SoakError(Exception):
    """An unexpected outcome of a session; kind is its counter name."""

    def __init__(self, kind, detail=""):
        super().__init__("%s: %s" % (kind, detail))
        self.kind = kind
        self.detail = detail


# ---------------------------------------------------------------- daemon

def rss_kib(pid):
    """VmRSS of pid in KiB, or None once the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def fd_count(pid):
    """Open file descriptors of pid, or None once the process is gone."""
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return None


def children_of(ppid):
    """Pids whose parent is ppid (zombies included: they are a leak too)."""
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        # The command may hold spaces and ")": parse after the last ")".
        fields = stat[stat.rfind(")") + 2:].split()
        if len(fields) > 1 and fields[1] == str(ppid):
            out.append((int(name), fields[0]))
    return out


def is_asan_binary(path):
    """True if the binary was linked with AddressSanitizer."""
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def make_cert(directory):
    """A throwaway self-signed ECDSA certificate; returns (pem, cert)."""
    openssl = shutil.which("openssl") or "/usr/bin/openssl"
    key = os.path.join(directory, "key.pem")
    cert = os.path.join(directory, "cert.pem")
    pem = os.path.join(directory, "server.pem")
    p = subprocess.run([openssl, "req", "-x509", "-newkey", "ec",
        "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", cert, "-days", "365", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("openssl req failed:\n" +
            p.stdout.decode("utf-8", "replace"))
    with open(pem, "w") as out:
        for part in (key, cert):
            with open(part) as f:
                out.write(f.read())
    return pem, cert


class Daemon:
    """One wsserverd in the foreground, its log in a file of the temp dir."""

    def __init__(self, name, binary, directory, tls_pem, valgrind):
        self.name = name
        self.binary = binary
        self.dir = directory
        self.tls = tls_pem is not None
        self.valgrind = valgrind
        self.ini = os.path.join(directory, name + ".ini")
        self.log_path = os.path.join(directory, name + ".log")
        self.vg_log = os.path.join(directory, name + "-valgrind.log")
        self.admin_socket = os.path.join(directory, name + "-admin.sock")
        self.proc = None
        self.port = None
        self.returncode = None
        lines = [
            "[server]",
            "LocalHost = %s" % HOST,
            "LocalPort = 0",
            # Above the soak's concurrency, so that no client is refused.
            "MaxConnections = 2000",
            "ShutdownTimeout = 10",
            "[websocket]",
            "EnablePermessageDeflate = true",
            "[log]",
            "LogLevel = 1",
            "[admin]",
            "Socket = %s" % self.admin_socket,
            "[backend]",
            "KillTimeout = 2",
            # The soak may run as root (CI containers do).
            "AllowRootHandlers = true",
            "[route:echo]",
            "Path = /echo",
            "Backend = echo",
            "[route:cat]",
            "Path = /cat",
            "Backend = script:/bin/cat",
            "MessageFormat = lines",
        ]
        if self.tls:
            lines += ["[ssl]", "UseSSL = true", "SSLCert = %s" % tls_pem]
        with open(self.ini, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self, timeout):
        """Starts the daemon and waits for its listening line."""
        argv = [self.binary, "-f", "-c", self.ini]
        if self.valgrind:
            argv = ["valgrind", "--leak-check=full", "--error-exitcode=99",
                "--errors-for-leak-kinds=definite,possible",
                "--log-file=%s" % self.vg_log] + argv
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
            stdout=self.logf, stderr=subprocess.STDOUT, cwd="/", env=env)
        rx = re.compile(r"listening on 127\.0\.0\.1:(\d+)")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = rx.search(self.log_text())
            if m:
                self.port = int(m.group(1))
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError("%s daemon did not start (status %r):\n%s" %
            (self.name, self.proc.poll(), self.log_tail()))

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])

    def stop(self, timeout):
        """SIGTERM and a bounded wait; SIGKILL after it. Returns the status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.returncode = self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
                self.returncode = "killed after %.0fs" % timeout
        else:
            self.returncode = self.proc.returncode
        self.logf.close()
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)


# ---------------------------------------------------------------- stats

class Stats:
    """Counters of the whole soak; errors are the unexpected outcomes."""

    def __init__(self):
        self.sessions = {}
        self.opened = {}
        self.clean_closes = {}
        self.bad_utf8 = {}
        self.messages = 0
        self.bytes = 0
        self.pings = 0
        self.admin = 0
        self.errors = {}
        self.error_samples = []

    def add(self, table, key, n=1):
        table[key] = table.get(key, 0) + n

    def error(self, kind, detail):
        self.add(self.errors, kind)
        if len(self.error_samples) < 20:
            self.error_samples.append("%s: %s" % (kind, detail))


# ---------------------------------------------------------------- payloads

class Payloads:
    """Message bodies drawn from one seeded generator."""

    def __init__(self, rng, max_size):
        self.rng = rng
        self.max_size = max_size
        # One long random text to slice from: drawing characters one by
        # one for every 256 KiB message would cost the client its CPU.
        self.text_pool = "".join(rng.choice(ALPHABET)
            for _ in range(max_size + 1))

    def size(self):
        r = self.rng.random()
        if r < 0.05:
            return 0
        if r < 0.60:
            n = self.rng.randint(1, 1024)
        elif r < 0.90:
            n = self.rng.randint(1024, 64 * 1024)
        else:
            n = self.rng.randint(64 * 1024, MAX_MESSAGE)
        return min(n, self.max_size)

    def text(self, n):
        """A text of n characters (up to 4 bytes each, capped at max_size)."""
        if self.rng.random() < 0.3:
            unit = self.text_pool[:self.rng.randint(1, 16)]
            body = (unit * (n // max(1, len(unit)) + 1))[:n]
        else:
            start = self.rng.randint(0, len(self.text_pool) - n)
            body = self.text_pool[start:start + n]
        data = body.encode("utf-8")
        while len(data) > self.max_size:
            body = body[:len(body) // 2]
            data = body.encode("utf-8")
        return body

    def binary(self, n):
        if self.rng.random() < 0.3:
            unit = self.rng.randbytes(self.rng.randint(1, 64))
            return (unit * (n // len(unit) + 1))[:n]
        return self.rng.randbytes(n)


# ---------------------------------------------------------------- raw client

def mask_bytes(payload, key):
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^
        int.from_bytes(stream, "big")).to_bytes(n, "big")


def frame_header(opcode, n, fin=True):
    b0 = (0x80 if fin else 0) | opcode
    if n < 126:
        return struct.pack("!BB", b0, 0x80 | n)
    if n < 65536:
        return struct.pack("!BBH", b0, 0x80 | 126, n)
    return struct.pack("!BBQ", b0, 0x80 | 127, n)


def client_frame(opcode, payload, rng):
    key = rng.randbytes(4)
    return frame_header(opcode, len(payload)) + key + mask_bytes(payload, key)


async def read_frame(reader, timeout):
    """Reads one server frame; returns (opcode, payload)."""
    head = await asyncio.wait_for(reader.readexactly(2), timeout)
    if head[1] & 0x80:
        raise SoakError("protocol", "server frame is masked")
    n = head[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", await asyncio.wait_for(
            reader.readexactly(2), timeout))[0]
    elif n == 127:
        n = struct.unpack("!Q", await asyncio.wait_for(
            reader.readexactly(8), timeout))[0]
    payload = await asyncio.wait_for(reader.readexactly(n), timeout)
    return head[0] & 0x0F, payload


async def raw_open(target, path, rng, timeout):
    """Opens a connection and upgrades it; returns (reader, writer)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            HOST, target.port, **target.tls_kwargs), timeout)
    except (OSError, asyncio.TimeoutError, ssl.SSLError) as e:
        raise SoakError("connect", "%s: %r" % (target.name, e))
    key = base64.b64encode(rng.randbytes(16)).decode("ascii")
    writer.write(("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n" % (path, HOST, target.port,
        key)).encode("ascii"))
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError,
            asyncio.LimitOverrunError) as e:
        writer.transport.abort()
        raise SoakError("handshake", "%s: %r" % (target.name, e))
    want = base64.b64encode(hashlib.sha1((key + GUID).encode(
        "ascii")).digest()).decode("ascii")
    text = head.decode("latin-1")
    if not text.startswith("HTTP/1.1 101") or want not in text:
        writer.transport.abort()
        raise SoakError("handshake", "%s: %r" % (target.name, text[:200]))
    return reader, writer


def rst(transport):
    """Drops a connection with a TCP RST (SO_LINGER 0, then close)."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                struct.pack("ii", 1, 0))
        except OSError:
            pass
    transport.abort()


async def read_to_eof(reader, timeout):
    """Reads until the server closes; bounded in time and bytes."""
    total = 0
    deadline = time.monotonic() + timeout
    while total < 16 * 1024 * 1024:
        left = deadline - time.monotonic()
        if left <= 0:
            raise SoakError("timeout", "server did not close")
        try:
            chunk = await asyncio.wait_for(reader.read(65536), left)
        except (ConnectionResetError, ssl.SSLError):
            return
        if not chunk:
            return
        total += len(chunk)
    raise SoakError("protocol", "server kept sending after the close")


# ---------------------------------------------------------------- soak

class Target:
    """One daemon as the clients see it."""

    def __init__(self, daemon, ssl_ctx):
        self.daemon = daemon
        self.name = daemon.name
        self.port = daemon.port
        self.ssl_ctx = ssl_ctx
        self.scheme = "wss" if ssl_ctx is not None else "ws"
        self.tls_kwargs = {} if ssl_ctx is None else {"ssl": ssl_ctx,
            "server_hostname": "localhost"}


class Soak:
    """The traffic generator, the sampler and the admin poller."""

    def __init__(self, args, targets, ctl):
        self.args = args
        self.targets = targets
        self.ctl = ctl
        self.stats = Stats()
        self.rng = random.Random(args.seed)
        self.payloads = Payloads(random.Random(args.seed ^ 0x5eed),
            args.max_size)
        self.timeout = args.timeout
        self.active = 0
        self.next_id = 0
        self.samples = []
        self.max_rss = {t.name: 0 for t in targets}
        self.t0 = time.monotonic()
        self.stopping = False

    # -- sessions

    async def session(self, sid):
        rng = random.Random((self.args.seed << 20) ^ sid)
        target = self.targets[0] if rng.random() < 0.6 or \
            len(self.targets) == 1 else self.targets[1]
        r = rng.randrange(sum(w for _, w in KINDS))
        for kind, w in KINDS:
            if r < w:
                break
            r -= w
        self.stats.add(self.stats.sessions, kind)
        try:
            if kind in ("normal", "abort"):
                await self.ws_session(target, rng, kind == "abort")
            elif kind == "rst_midframe":
                await self.rst_midframe(target, rng)
            elif kind == "fin":
                await self.fin_session(target, rng)
            else:
                await self.bad_utf8(target, rng)
        except SoakError as e:
            self.stats.error(e.kind, "%s session %d on %s: %s" % (kind, sid,
                target.name, e.detail))
        except websockets.exceptions.ConnectionClosed as e:
            self.stats.error("connection_closed", "%s session %d on %s: %r"
                % (kind, sid, target.name, e))
        except asyncio.TimeoutError:
            self.stats.error("timeout", "%s session %d on %s" % (kind, sid,
                target.name))
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as e:
            self.stats.error("io", "%s session %d on %s: %r" % (kind, sid,
                target.name, e))
        except Exception as e:  # noqa: BLE001 - every surprise is counted
            self.stats.error("other", "%s session %d on %s: %r" % (kind,
                sid, target.name, e))

    async def ws_session(self, target, rng, abort):
        route = "/cat" if rng.random() < 0.3 else "/echo"
        deflate = rng.random() < 0.5
        url = "%s://%s:%d%s" % (target.scheme, HOST, target.port, route)
        try:
            ws = await websockets.connect(url, **target.tls_kwargs,
                compression="deflate" if deflate else None,
                max_size=2 * MAX_MESSAGE, ping_interval=None,
                open_timeout=self.timeout, close_timeout=self.timeout)
        except (OSError, asyncio.TimeoutError, ssl.SSLError,
                websockets.exceptions.InvalidHandshake) as e:
            raise SoakError("handshake", "%s %s: %r" % (target.name, route,
                e))
        self.stats.add(self.stats.opened, target.name)
        agreed = ws.extensions != []
        if agreed != deflate:
            await self.abandon(ws)
            raise SoakError("deflate", "asked %s, agreed %s" % (deflate,
                agreed))
        try:
            rounds = rng.randint(1, 12)
            for i in range(rounds):
                if abort and i == rounds - 1:
                    # Sometimes with an echo still on its way.
                    if rng.random() < 0.5:
                        await ws.send(self.message(rng, route))
                    break
                await self.burst(ws, rng, route)
                if rng.random() < 0.3:
                    await self.ping(ws, rng)
            if abort:
                rst(ws.transport)
                await asyncio.wait_for(ws.wait_closed(), self.timeout)
                return
            await ws.close()
        except BaseException:
            await self.abandon(ws)
            raise
        if ws.close_code != 1000:
            raise SoakError("close_code", "%s %s: close code %r reason %r" %
                (target.name, route, ws.close_code, ws.close_reason))
        self.stats.add(self.stats.clean_closes, target.name)

    async def abandon(self, ws):
        ws.transport.abort()
        try:
            await asyncio.wait_for(ws.wait_closed(), self.timeout)
        except asyncio.TimeoutError:
            pass

    def message(self, rng, route):
        n = self.payloads.size()
        if route == "/cat" or rng.random() < 0.5:
            return self.payloads.text(n)
        return self.payloads.binary(n)

    async def burst(self, ws, rng, route):
        """Sends 1-6 messages back to back, then checks every echo in order."""
        sent = [self.message(rng, route) for _ in range(rng.randint(1, 6))]
        for m in sent:
            await ws.send(m)
        for m in sent:
            got = await asyncio.wait_for(ws.recv(), self.timeout)
            if type(got) is not type(m) or got != m:
                raise SoakError("mismatch", "%s %s: sent %s of %d, got %s "
                    "of %d" % (ws.remote_address, route, type(m).__name__,
                    len(m), type(got).__name__, len(got)))
            self.stats.messages += 1
            self.stats.bytes += len(m) if isinstance(m, bytes) else \
                len(m.encode("utf-8"))

    async def ping(self, ws, rng):
        data = rng.randbytes(rng.randint(0, 125))
        waiter = await ws.ping(data)
        try:
            await asyncio.wait_for(waiter, self.timeout)
        except asyncio.TimeoutError:
            raise SoakError("ping_timeout", "no pong")
        self.stats.pings += 1

    async def rst_midframe(self, target, rng):
        reader, writer = await raw_open(target, rng.choice(("/echo",
            "/cat")), rng, self.timeout)
        self.stats.add(self.stats.opened, target.name)
        n = rng.randint(2, self.args.max_size)
        if rng.random() < 0.5:
            # Valid UTF-8, so that the cut is the only fault (an invalid
            # prefix would close with 1007 first and spoil that count).
            opcode = 0x1
            payload = self.payloads.text(n).encode("utf-8") or b"x"
        else:
            opcode = 0x2
            payload = rng.randbytes(n)
        frame = client_frame(opcode, payload, rng)
        writer.write(frame[:rng.randint(1, len(frame) - 1)])
        await asyncio.wait_for(writer.drain(), self.timeout)
        await asyncio.sleep(rng.random() * 0.05)
        rst(writer.transport)

    async def fin_session(self, target, rng):
        reader, writer = await raw_open(target, "/echo", rng, self.timeout)
        self.stats.add(self.stats.opened, target.name)
        try:
            data = rng.randbytes(rng.randint(0, 4096))
            writer.write(client_frame(0x2, data, rng))
            op, got = await read_frame(reader, self.timeout)
            if op != 0x2 or got != data:
                raise SoakError("mismatch", "raw echo: opcode %d, %d bytes "
                    "for %d" % (op, len(got), len(data)))
            self.stats.messages += 1
            self.stats.bytes += len(data)
            # The end of the stream without a close frame.
            if writer.can_write_eof():
                writer.write_eof()
            else:
                writer.close()
            await read_to_eof(reader, self.timeout)
        finally:
            writer.transport.abort()

    async def bad_utf8(self, target, rng):
        reader, writer = await raw_open(target, "/echo", rng, self.timeout)
        self.stats.add(self.stats.opened, target.name)
        try:
            good = "ok \u20ac".encode("utf-8")
            writer.write(client_frame(0x1, good + b"\xc3\x28" +
                rng.randbytes(rng.randint(0, 64)), rng))
            op, got = await read_frame(reader, self.timeout)
            if op != 0x8 or got[:2] != struct.pack("!H", 1007):
                raise SoakError("close_code", "invalid UTF-8: opcode %d "
                    "payload %r" % (op, got[:40]))
            writer.write(client_frame(0x8, got[:2], rng))
            await read_to_eof(reader, self.timeout)
            self.stats.add(self.stats.bad_utf8, target.name)
        finally:
            writer.transport.abort()

    # -- admin

    async def admin_loop(self):
        """Admin commands at random intervals while the traffic runs."""
        rng = random.Random(self.args.seed ^ 0xad)
        while not self.stopping:
            await asyncio.sleep(rng.uniform(0.5, 2.5))
            if self.stopping:
                break
            target = rng.choice(self.targets)
            cmd = rng.choice(("status", "stats", "connections"))
            try:
                if self.ctl and rng.random() < 0.6:
                    await self.admin_ctl(target, cmd)
                else:
                    await self.admin_raw(target, cmd, rng)
                self.stats.admin += 1
            except SoakError as e:
                self.stats.error(e.kind, "%s on %s: %s" % (cmd, target.name,
                    e.detail))
            except (OSError, asyncio.TimeoutError, ValueError) as e:
                self.stats.error("admin", "%s on %s: %r" % (cmd, target.name,
                    e))

    async def admin_ctl(self, target, cmd):
        proc = await asyncio.create_subprocess_exec(self.ctl, "-s",
            target.daemon.admin_socket, "-j", cmd,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(),
                self.timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise SoakError("admin", "wsserverctl %s timed out" % cmd)
        if proc.returncode != 0:
            raise SoakError("admin", "wsserverctl %s: status %d: %s" % (cmd,
                proc.returncode, err.decode("utf-8", "replace").strip()))
        self.check_admin_json(cmd, json.loads(out))

    async def admin_raw(self, target, cmd, rng):
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(
            target.daemon.admin_socket), self.timeout)
        try:
            status, lines = await self.admin_cmd(reader, writer, cmd +
                " json")
            if not status.startswith("OK"):
                raise SoakError("admin", "%s: %s" % (cmd, status))
            value = json.loads(lines[0])
            self.check_admin_json(cmd, value)
            if cmd == "connections" and value:
                # The connection may have gone meanwhile: OK or ERR, no
                # third answer.
                cid = rng.choice(value)["ConnectionId"]
                status, lines = await self.admin_cmd(reader, writer,
                    "connection %s json" % cid)
                if not (status.startswith("OK") or status.startswith("ERR ")):
                    raise SoakError("admin", "connection %s: %r" % (cid,
                        status))
        finally:
            writer.close()
            await writer.wait_closed()

    async def admin_cmd(self, reader, writer, line):
        writer.write(line.encode("utf-8") + b"\n")
        status = (await asyncio.wait_for(reader.readline(),
            self.timeout)).decode("utf-8").rstrip("\n")
        lines = []
        while len(lines) < 100000:
            line = (await asyncio.wait_for(reader.readline(),
                self.timeout)).decode("utf-8")
            if line in ("", "\n"):
                break
            lines.append(line.rstrip("\n"))
        return status, lines

    def check_admin_json(self, cmd, value):
        if cmd == "status" and not value.get("Listening"):
            raise SoakError("admin", "status: not listening: %r" % value)
        if cmd == "stats" and "opened" not in value:
            raise SoakError("admin", "stats without opened: %r" % value)
        if cmd == "connections" and not isinstance(value, list):
            raise SoakError("admin", "connections: %r" % value)

    async def admin_json(self, target, cmd):
        """One command over the raw admin socket; returns its JSON."""
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(
            target.daemon.admin_socket), self.timeout)
        try:
            status, lines = await self.admin_cmd(reader, writer, cmd +
                " json")
        finally:
            writer.close()
            await writer.wait_closed()
        if not status.startswith("OK"):
            raise SoakError("admin", "%s: %s" % (cmd, status))
        return json.loads(lines[0])

    # -- sampling

    def sample(self, phase):
        row = {"t": round(time.monotonic() - self.t0, 1), "phase": phase,
            "active": self.active}
        for t in self.targets:
            if not t.daemon.alive():
                raise SoakError("crash", "%s daemon exited with %r:\n%s" % (
                    t.name, t.daemon.proc.poll(), t.daemon.log_tail()))
            rss = rss_kib(t.daemon.pid)
            row[t.name] = (rss, fd_count(t.daemon.pid))
            if rss is not None:
                self.max_rss[t.name] = max(self.max_rss[t.name], rss)
        self.samples.append(row)
        return row

    def print_sample(self, row):
        parts = ["%7.1fs %-6s active=%-4d msgs=%-8d" % (row["t"],
            row["phase"], row["active"], self.stats.messages)]
        for t in self.targets:
            rss, fds = row[t.name]
            parts.append("%s rss=%sKiB fds=%s" % (t.name, rss, fds))
        errs = sum(self.stats.errors.values())
        parts.append("errors=%d" % errs)
        print("  ".join(parts), flush=True)

    async def sampler(self, phase, until):
        n = 0
        while time.monotonic() < until and not self.stopping:
            await asyncio.sleep(min(self.args.sample_interval,
                max(0.0, until - time.monotonic())))
            row = self.sample(phase)
            n += 1
            if n % self.args.print_every == 0:
                self.print_sample(row)

    # -- phases

    async def traffic(self, phase, seconds):
        """Keeps --concurrency sessions in flight, then waits for them."""
        until = time.monotonic() + seconds
        tasks = set()
        slot_free = asyncio.Event()
        self.stopping = False
        sampler = asyncio.create_task(self.sampler(phase, until))
        admin = asyncio.create_task(self.admin_loop())

        async def one(sid):
            try:
                await self.session(sid)
            finally:
                self.active -= 1
                slot_free.set()

        try:
            while time.monotonic() < until and not sampler.done():
                # Every free slot at once: a busy client loop runs this
                # only every few milliseconds.
                while self.active < self.args.concurrency:
                    self.active += 1
                    task = asyncio.create_task(one(self.next_id))
                    self.next_id += 1
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                slot_free.clear()
                try:
                    await asyncio.wait_for(slot_free.wait(),
                        max(0.01, until - time.monotonic()))
                except asyncio.TimeoutError:
                    pass
            # Sessions are bounded by their timeouts; this bounds the rest.
            if tasks:
                _, pending = await asyncio.wait(tasks,
                    timeout=20 * self.timeout)
                for task in pending:
                    task.cancel()
                    self.stats.error("stuck", "session still running %ds "
                        "after the phase" % (20 * self.timeout))
        finally:
            # The admin poller ends its command first: the quiesce that
            # follows counts the daemon's fds.
            self.stopping = True
            await asyncio.wait([admin], timeout=3 * self.timeout)
            for task in (admin, sampler):
                if not task.done():
                    task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

    async def quiesce(self, label):
        """Waits for no connection and no handler, settles; one sample."""
        deadline = time.monotonic() + self.args.quiesce_timeout
        for t in self.targets:
            while True:
                st = await self.admin_json(t, "status")
                kids = children_of(t.daemon.pid)
                if st.get("Connections") == 0 and not kids:
                    break
                if time.monotonic() >= deadline:
                    raise SoakError("quiesce", "%s: %r connections, handler "
                        "processes %r after %ds" % (t.name,
                        st.get("Connections"), kids,
                        self.args.quiesce_timeout))
                await asyncio.sleep(0.5)
        await asyncio.sleep(self.args.settle)
        # The fd count must be steady: take it until two readings agree.
        prev = None
        for _ in range(20):
            row = self.sample(label)
            cur = tuple(row[t.name][1] for t in self.targets)
            if cur == prev:
                break
            prev = cur
            await asyncio.sleep(1.0)
        self.print_sample(row)
        return row

    async def run(self):
        """Warm-up, baseline, run, end; returns (base, end, daemon stats)."""
        print("warm-up: %ds" % self.args.warmup, flush=True)
        await self.traffic("warmup", self.args.warmup)
        base = await self.quiesce("base")
        print("run: %ds" % self.args.run, flush=True)
        await self.traffic("run", self.args.run)
        end = await self.quiesce("end")
        stats = {}
        for t in self.targets:
            stats[t.name] = await self.admin_json(t, "stats")
        return base, end, stats


# ---------------------------------------------------------------- checks

def check_counters(s, targets, daemon_stats, failures):
    """The daemon's counters must agree with what the clients saw."""
    for t in targets:
        ds = daemon_stats[t.name]
        opened = s.opened.get(t.name, 0)
        codes = ds.get("closed", {}).get("codes", {})
        if ds.get("opened") != opened:
            failures.append("%s: daemon opened %r WebSockets, clients %d" %
                (t.name, ds.get("opened"), opened))
        if ds.get("closed", {}).get("total") != ds.get("opened"):
            failures.append("%s: daemon closed %r of %r opened" % (t.name,
                ds.get("closed", {}).get("total"), ds.get("opened")))
        if ds.get("connections") != 0:
            failures.append("%s: %r connections left" % (t.name,
                ds.get("connections")))
        if codes.get("1000", 0) != s.clean_closes.get(t.name, 0):
            failures.append("%s: daemon counted %r closes with 1000, "
                "clients %d" % (t.name, codes.get("1000", 0),
                s.clean_closes.get(t.name, 0)))
        if codes.get("1007", 0) != s.bad_utf8.get(t.name, 0):
            failures.append("%s: daemon counted %r closes with 1007, "
                "clients %d" % (t.name, codes.get("1007", 0),
                s.bad_utf8.get(t.name, 0)))
        if ds.get("backend", {}).get("failures"):
            failures.append("%s: %r backend failures" % (t.name,
                ds["backend"]["failures"]))


def check_memory(args, targets, base, end, failures, notes):
    for t in targets:
        rss0, fd0 = base[t.name]
        rss1, fd1 = end[t.name]
        if fd1 != fd0:
            failures.append("%s: %s fds at the end, %s after warm-up" %
                (t.name, fd1, fd0))
        tol = max(args.rss_tolerance_kib, rss0 * args.rss_tolerance_pct //
            100)
        if args.instrumented:
            notes.append("%s: RSS %+d KiB (not checked under %s, whose "
                "own bookkeeping grows by design; its leak check at exit "
                "is the memory check)" % (t.name, rss1 - rss0,
                args.instrumented))
        elif rss1 - rss0 > tol:
            failures.append("%s: RSS %d KiB at the end, %d KiB after "
                "warm-up (+%d KiB > tolerance %d KiB)" % (t.name, rss1, rss0,
                rss1 - rss0, tol))


def check_exit(d, status, failures):
    text = d.log_text()
    if status != 0:
        failures.append("%s: exit status %r after SIGTERM" % (d.name, status))
    for p in SANITIZER_PATTERNS:
        if p in text:
            failures.append("%s: sanitizer report (%s) in %s" % (d.name, p,
                d.log_path))
    if d.valgrind:
        try:
            with open(d.vg_log) as f:
                vg = f.read()
        except OSError:
            vg = ""
        m = re.search(r"ERROR SUMMARY: (\d+) errors", vg)
        if m is None or m.group(1) != "0":
            failures.append("%s: valgrind: %s (%s)" % (d.name, m.group(0) if
                m else "no error summary", d.vg_log))
        return vg
    return None


def log_levels(text):
    counts = {}
    for m in re.finditer(r"^\S+ (ERROR|WARN|INFO|DEBUG) ", text, re.M):
        counts[m.group(1)] = counts.get(m.group(1), 0) + 1
    return counts


def print_summary(args, soak, base, end, daemon_stats, elapsed, logs):
    s = soak.stats
    print("\n=== soak summary (seed %d, %ds: warm-up %ds + run %ds, "
        "concurrency %d%s)" % (args.seed, args.warmup + args.run,
        args.warmup, args.run, args.concurrency,
        ", " + args.instrumented if args.instrumented else ""))
    print("wall time            %.0f s" % elapsed)
    print("sessions             %d  %s" % (sum(s.sessions.values()),
        " ".join("%s=%d" % kv for kv in sorted(s.sessions.items()))))
    print("websockets opened    %s" % " ".join("%s=%d" % kv for kv in
        sorted(s.opened.items())))
    print("messages verified    %d (%.1f MiB echoed)" % (s.messages,
        s.bytes / 1048576.0))
    print("pings answered       %d" % s.pings)
    print("admin commands       %d" % s.admin)
    print("errors               %s" % (" ".join("%s=%d" % kv for kv in
        sorted(s.errors.items())) or "none"))
    for line in s.error_samples:
        print("  " + line)
    for name, ds in sorted(daemon_stats.items()):
        print("%-6s daemon stats  opened=%s closed=%s msgs in/out=%s/%s "
            "bytes in/out=%s/%s spawns=%s" % (name, ds.get("opened"),
            json.dumps(ds.get("closed", {}).get("codes")),
            ds.get("messages", {}).get("in"),
            ds.get("messages", {}).get("out"),
            ds.get("bytes", {}).get("in"), ds.get("bytes", {}).get("out"),
            ds.get("backend", {}).get("spawns")))
    for t in soak.targets:
        if base is None or end is None:
            break
        print("%-6s RSS KiB  after warm-up %d  end %d  (%+d)  max %d" % (
            t.name, base[t.name][0], end[t.name][0],
            end[t.name][0] - base[t.name][0], soak.max_rss[t.name]))
        print("%-6s fds      after warm-up %d  end %d" % (t.name,
            base[t.name][1], end[t.name][1]))
    for name, levels in sorted(logs.items()):
        print("%-6s log lines %s" % (name, " ".join("%s=%d" % kv for kv in
            sorted(levels.items()))))


# ---------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(description="Soak wsserverd with mixed "
        "traffic and check that it leaks nothing.")
    p.add_argument("wsserverd", nargs="?", default=os.environ.get(
        "WSSERVERD"), help="daemon binary (default $WSSERVERD)")
    p.add_argument("--wsserverctl", default=os.environ.get("WSSERVERCTL"),
        help="admin client (default $WSSERVERCTL, else next to wsserverd)")
    p.add_argument("--duration", type=int, default=60,
        help="seconds of traffic, warm-up included (default 60)")
    p.add_argument("--warmup", type=int, default=None,
        help="warm-up seconds (default 20%% of the duration, at least 10)")
    p.add_argument("--concurrency", type=int, default=None,
        help="connections in flight (default 100; 10 with --valgrind)")
    p.add_argument("--seed", type=int, default=None,
        help="random seed (default: from the clock, printed)")
    p.add_argument("--valgrind", action="store_true",
        help="run the daemons under valgrind --leak-check=full")
    p.add_argument("--no-tls", action="store_true",
        help="plain daemon only")
    p.add_argument("--max-size", type=int, default=MAX_MESSAGE,
        help="largest message in bytes (default 262144)")
    p.add_argument("--timeout", type=float, default=None,
        help="per-operation timeout (default 30 s; 300 s with --valgrind)")
    p.add_argument("--sample-interval", type=float, default=5.0,
        help="seconds between RSS/fd samples (default 5)")
    p.add_argument("--print-every", type=int, default=None,
        help="print every Nth sample (default 1; 6 for runs over 10 min)")
    p.add_argument("--settle", type=float, default=None,
        help="seconds to wait after the last connection (default 3; 10 "
        "with --valgrind)")
    p.add_argument("--quiesce-timeout", type=int, default=60,
        help="longest wait for connections and handlers to go (default 60)")
    p.add_argument("--rss-tolerance-kib", type=int, default=4096,
        help="allowed RSS growth after warm-up, KiB (default 4096)")
    p.add_argument("--rss-tolerance-pct", type=int, default=5,
        help="or this percentage of the warm-up RSS, if larger (default 5)")
    p.add_argument("--keep", action="store_true",
        help="keep the temporary directory (ini, logs, certificate)")
    args = p.parse_args(argv)
    if not args.wsserverd:
        p.error("no daemon: give its path or set WSSERVERD")
    args.wsserverd = os.path.abspath(args.wsserverd)
    if not os.access(args.wsserverd, os.X_OK):
        p.error("not executable: %s" % args.wsserverd)
    if not args.wsserverctl:
        cand = os.path.join(os.path.dirname(args.wsserverd), "wsserverctl")
        args.wsserverctl = cand if os.access(cand, os.X_OK) else None
    if args.duration < 20:
        p.error("--duration must be at least 20 seconds")
    if args.warmup is None:
        args.warmup = max(10, args.duration // 5)
    args.run = args.duration - args.warmup
    if args.warmup < 1 or args.run < 10:
        p.error("the run after warm-up must last at least 10 seconds")
    if args.concurrency is None:
        args.concurrency = 10 if args.valgrind else 100
    if not 1 <= args.concurrency <= 1000:
        p.error("--concurrency must be 1-1000")
    if not 0 <= args.max_size <= MAX_MESSAGE:
        p.error("--max-size must be 0-%d" % MAX_MESSAGE)
    if args.timeout is None:
        args.timeout = 300.0 if args.valgrind else 30.0
    if args.settle is None:
        args.settle = 10.0 if args.valgrind else 3.0
    if args.print_every is None:
        args.print_every = 6 if args.duration > 600 else 1
    if args.seed is None:
        args.seed = int(time.time() * 1000) % 1000000007
    asan = is_asan_binary(args.wsserverd)
    if args.valgrind and asan:
        p.error("valgrind and an ASan build do not mix: use a normal build")
    if args.valgrind and shutil.which("valgrind") is None:
        p.error("valgrind is not installed (apt-get install valgrind)")
    args.instrumented = "valgrind" if args.valgrind else \
        "ASan" if asan else None
    return args


def main(argv):
    args = parse_args(argv)
    tmp = tempfile.mkdtemp(prefix="wsserverd-soak-")
    daemons = []
    failures = []
    notes = []
    base = end = None
    daemon_stats = {}
    soak = None
    t_start = time.monotonic()
    print("soak: %s, seed %d, dir %s" % (args.wsserverd, args.seed, tmp),
        flush=True)
    try:
        start_timeout = 120 if args.valgrind else 20
        daemons.append(Daemon("plain", args.wsserverd, tmp, None,
            args.valgrind))
        ctx = None
        if not args.no_tls:
            pem, cert = make_cert(tmp)
            daemons.append(Daemon("tls", args.wsserverd, tmp, pem,
                args.valgrind))
            ctx = ssl.create_default_context(cafile=cert)
        for d in daemons:
            d.start(start_timeout)
        targets = [Target(daemons[0], None)]
        if not args.no_tls:
            targets.append(Target(daemons[1], ctx))
        soak = Soak(args, targets, args.wsserverctl)
        try:
            base, end, daemon_stats = asyncio.run(soak.run())
        except SoakError as e:
            failures.append(str(e))
        if base is not None:
            check_memory(args, targets, base, end, failures, notes)
            check_counters(soak.stats, targets, daemon_stats, failures)
        if soak.stats.errors:
            failures.append("%d unexpected client outcomes: %s" % (
                sum(soak.stats.errors.values()), soak.stats.errors))
        stop_timeout = 180 if args.valgrind else 30
        logs = {}
        for d in daemons:
            status = d.stop(stop_timeout)
            vg = check_exit(d, status, failures)
            logs[d.name] = log_levels(d.log_text())
            if vg is not None:
                for line in vg.splitlines():
                    if re.search(r"ERROR SUMMARY|in use at exit|"
                            r"All heap blocks|definitely lost|"
                            r"possibly lost", line):
                        notes.append("%s valgrind: %s" % (d.name,
                            line.split("== ", 1)[-1]))
        print_summary(args, soak, base, end, daemon_stats,
            time.monotonic() - t_start, logs)
    finally:
        for d in daemons:
            d.kill()
        if args.keep or failures:
            print("logs kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    for n in notes:
        print("note: " + n)
    if failures:
        print("\nSOAK FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print("\nSOAK OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
