"""interop_util.py - helpers shared by the permessage-deflate and interop tests.

Raw permessage-deflate (RFC 7692) framing on top of harness.WSClient,
bounded subprocess runs, a tiny loopback HTTP server and the look-up of
third-party clients (node/npm, Chromium). Every wait is bounded; only
127.0.0.1 is used.
"""

import contextlib
import fcntl
import functools
import http.server
import os
import random
import shutil
import subprocess
import tempfile
import threading
import time
import zlib

import harness
from harness import OP_BINARY, OP_CONT, OP_PING, OP_PONG, OP_TEXT, OP_CLOSE

RSV1 = 4	# the rsv field of harness.build_frame/Frame: bit 0x40 of byte 0
TAIL = b"\x00\x00\xff\xff"


# ---------------------------------------------------------------- deflate

def compressor(wbits=15, level=6):
    """A raw-deflate compressor as a permessage-deflate sender uses it."""
    return zlib.compressobj(level, zlib.DEFLATED, -wbits)


def compress_message(payload, comp=None):
    """One message's compressed payload (RFC 7692 7.2.1): the sync-flushed
    raw deflate data without its trailing 00 00 ff ff. comp: a compressor
    kept across messages (context takeover); None: a fresh one."""
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    if comp is None:
        comp = compressor()
    data = comp.compress(payload) + comp.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(TAIL), "sync flush without its empty block"
    return data[:-len(TAIL)]


class Inflater:
    """The receiving side of one direction of permessage-deflate."""

    def __init__(self, wbits=15, no_context_takeover=False):
        self.wbits = wbits
        self.no_context_takeover = no_context_takeover
        self.z = zlib.decompressobj(-wbits)

    def message(self, data):
        """Inflates one whole message's compressed payload."""
        if self.no_context_takeover:
            self.z = zlib.decompressobj(-self.wbits)
        out = self.z.decompress(data + TAIL)
        assert not self.z.unconsumed_tail
        return out


def send_compressed(c, opcode, payload, comp=None, splits=None, key=None):
    """Sends payload as one compressed message: RSV1 on the first frame
    only (RFC 7692 6.1). splits: offsets into the compressed data where
    a new frame starts (continuation frames, possibly empty). Returns
    the compressed bytes."""
    data = compress_message(payload, comp)
    cuts = [0] + sorted(splits or []) + [len(data)]
    out = bytearray()
    for i in range(len(cuts) - 1):
        part = data[cuts[i]:cuts[i + 1]]
        first = i == 0
        last = i == len(cuts) - 2
        out += harness.build_frame(opcode if first else OP_CONT, part,
            fin=last, rsv=RSV1 if first else 0, key=key)
    c.send(bytes(out))
    return data


def read_message_raw(c, timeout=5.0, frames=None):
    """Reads one data message without inflating it: returns (opcode,
    compressed, payload bytes as sent). Pongs go to c.pongs; a close
    frame raises harness.UnexpectedClose. Checks the RSV rules: RSV1
    on the first frame only, RSV2/RSV3 never."""
    deadline = time.monotonic() + timeout
    opcode = None
    compressed = False
    parts = []
    while True:
        f = c.read_frame(max(0.001, deadline - time.monotonic()))
        if f.opcode == OP_CLOSE:
            raise harness.UnexpectedClose(f)
        assert f.rsv & 3 == 0, "server set RSV2/RSV3: %r" % f
        if f.opcode == OP_PONG:
            assert f.rsv == 0, "compressed pong: %r" % f
            c.pongs.append(f.payload)
            continue
        assert f.opcode != OP_PING, "server pinged unexpectedly"
        if frames is not None:
            frames.append(f)
        if opcode is None:
            assert f.opcode in (OP_TEXT, OP_BINARY), \
                "message starts with %r" % f
            opcode = f.opcode
            compressed = bool(f.rsv & RSV1)
        else:
            assert f.opcode == OP_CONT, "expected continuation, got %r" % f
            assert f.rsv == 0, "RSV1 on a continuation frame: %r" % f
        parts.append(f.payload)
        if f.fin:
            return opcode, compressed, b"".join(parts)


def read_message_inflated(c, inflater, timeout=5.0, frames=None):
    """Reads one message and inflates it when it is compressed: returns
    (opcode, compressed, payload)."""
    opcode, compressed, data = read_message_raw(c, timeout, frames)
    if compressed:
        data = inflater.message(data)
    return opcode, compressed, data


def connect_deflate(port, offer="permessage-deflate", path="/"):
    """A raw client that offered offer; returns (client, response)."""
    c = harness.WSClient(port)
    try:
        resp = c.handshake(path,
            extra=[("Sec-WebSocket-Extensions", offer)] if offer else [])
    except BaseException:
        c.close()
        raise
    return c, resp


def pattern(n, seed=0):
    """n bytes that compress but not trivially (a mix of text and counters)."""
    out = bytearray()
    i = seed
    while len(out) < n:
        out += b"line %08d: the quick brown fox %x\n" % (i, (i * 2654435761)
            & 0xFFFFFFFF)
        i += 1
    return bytes(out[:n])


def noise(n, seed=1):
    """n pseudo-random bytes (incompressible), deterministic."""
    return random.Random(seed).randbytes(n)


# ---------------------------------------------------------------- /proc

def vm_hwm_kib(pid):
    """VmHWM (peak RSS) of pid in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM for pid %d" % pid)


# ---------------------------------------------------------------- processes

def run_bounded(argv, timeout, cwd=None, env=None, input_bytes=None):
    """Runs argv with a hard time bound; returns CompletedProcess (text).
    On timeout the whole process group is killed and AssertionError is
    raised with what it printed."""
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE if
        input_bytes is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    try:
        out, err = p.communicate(input_bytes, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, 9)
        except OSError:
            pass
        out, err = p.communicate(timeout=10)
        raise AssertionError("%s did not finish within %.0fs\nstdout:\n%s\n"
            "stderr:\n%s" % (argv[0], timeout, out.decode("utf-8",
            "replace")[-4000:], err.decode("utf-8", "replace")[-4000:]))
    return subprocess.CompletedProcess(argv, p.returncode,
        out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))


# ---------------------------------------------------------------- node

NODE_DIR = os.path.join(harness.HERE, "node")
_npm_lock = threading.Lock()


def node_tools():
    """(node, npm) paths, or None when either is missing."""
    node = shutil.which("node") or shutil.which("nodejs")
    npm = shutil.which("npm")
    if not node or not npm:
        return None
    return node, npm


def node_modules(timeout=180.0):
    """A directory holding tests/integration/node with its node_modules
    installed from package-lock.json. The source tree is used when it
    already has a matching node_modules (a developer's tree); otherwise
    the package is copied to a temporary directory and "npm ci" runs
    there, so that the source tree is never written. Returns the path.

    Parallel test processes (pytest-xdist) share that directory: a file
    lock keeps a second one from installing into it at the same time, and
    scripts are replaced by rename, never rewritten in place."""
    with _npm_lock, _file_lock(os.path.join(tempfile.gettempdir(),
            "wsserverd-it-node-%d.lock" % os.getuid())):
        marker = os.path.join(NODE_DIR, "node_modules", "ws", "package.json")
        lock = os.path.join(NODE_DIR, "node_modules", ".package-lock.json")
        if os.path.exists(marker) and os.path.exists(lock):
            return NODE_DIR
        cache = os.environ.get("WSSERVERD_NODE_DIR") or os.path.join(
            tempfile.gettempdir(), "wsserverd-it-node-%d" %
            os.getuid())
        want = open(os.path.join(NODE_DIR, "package-lock.json"), "rb").read()
        have = None
        try:
            have = open(os.path.join(cache, "package-lock.json"), "rb").read()
        except OSError:
            pass
        if have != want or not os.path.exists(os.path.join(cache,
                "node_modules", "ws", "package.json")):
            shutil.rmtree(cache, ignore_errors=True)
            os.makedirs(cache)
            for name in ("package.json", "package-lock.json"):
                shutil.copy(os.path.join(NODE_DIR, name), cache)
            tools = node_tools()
            env = dict(os.environ)
            env.setdefault("npm_config_update_notifier", "false")
            r = run_bounded([tools[1], "ci", "--no-audit", "--no-fund",
                "--loglevel=error"], timeout, cwd=cache, env=env)
            assert r.returncode == 0, "npm ci failed (%d):\n%s\n%s" % (
                r.returncode, r.stdout[-3000:], r.stderr[-3000:])
        # The scripts themselves always come from the source tree.
        for name in os.listdir(NODE_DIR):
            if name.endswith(".js"):
                tmp = os.path.join(cache, ".%s.%d" % (name, os.getpid()))
                shutil.copy(os.path.join(NODE_DIR, name), tmp)
                os.replace(tmp, os.path.join(cache, name))
        return cache


@contextlib.contextmanager
def _file_lock(path):
    """Holds an exclusive flock on path (made if need be) for the block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


# ---------------------------------------------------------------- HTTP

class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves one directory; a POST stores its body under its path."""

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 1 << 20))
        self.server.post(self.path, body)
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


class PageServer:
    """A loopback HTTP server in a thread: GET serves root, POST bodies
    are collected by path (wait_post waits for one, bounded)."""

    def __init__(self, root):
        self.httpd = http.server.ThreadingHTTPServer((harness.HOST, 0),
            functools.partial(_Handler, directory=root))
        self.httpd.post = self._post
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.posts = {}
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.1}, daemon=True)

    def _post(self, path, body):
        with self._cond:
            self.posts.setdefault(path, []).append(body)
            self._cond.notify_all()

    def wait_post(self, path, timeout):
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self.posts.get(path):
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.1))
            return self.posts[path][0]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)


class BrowserSilent(AssertionError):
    """The page posted no report in time."""


def chromium_report(chromium, web_dir, page, timeout=45.0, tries=2):
    """Serves web_dir on loopback, opens page (a path with its query) in
    headless Chromium and returns the body the page POSTs to /result.

    A browser that never gets as far as running the page (a start-up stall
    on a loaded machine) gets one more try with a fresh profile; what the
    page reports is the caller's to assert."""
    for attempt in range(tries):
        try:
            return _chromium_once(chromium, web_dir, page, timeout)
        except BrowserSilent:
            if attempt == tries - 1:
                raise
    raise AssertionError("unreachable")


def _chromium_once(chromium, web_dir, page, timeout):
    """One browser run of chromium_report."""
    profile = tempfile.mkdtemp(prefix="wsserverd-it-chromium-")
    try:
        with PageServer(web_dir) as srv:
            url = "http://%s:%d/%s" % (harness.HOST, srv.port,
                page.lstrip("/"))
            argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions",
                "--no-default-browser-check", "--no-proxy-server",
                "--user-data-dir=" + profile, url]
            env = dict(os.environ, HOME=profile)
            with open(os.path.join(profile, "stderr.txt"), "wb") as errf:
                p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                    stdout=errf, stderr=errf, env=env,
                    start_new_session=True)
                try:
                    body = srv.wait_post("/result", timeout)
                finally:
                    if p.poll() is None:
                        os.killpg(p.pid, 15)
                    try:
                        p.wait(10)
                    except subprocess.TimeoutExpired:
                        os.killpg(p.pid, 9)
                        p.wait(10)
            if body is None:
                with open(os.path.join(profile, "stderr.txt"), "rb") as f:
                    err = f.read()[-4000:].decode("utf-8", "replace")
                raise BrowserSilent("the page reported nothing within "
                    "%.0fs; chromium said:\n%s" % (timeout, err))
            return body
    finally:
        shutil.rmtree(profile, ignore_errors=True)
