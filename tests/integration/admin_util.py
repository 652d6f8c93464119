"""admin_util.py - talk to wsserverd's admin socket: raw lines, and wsserverctl.

AdminClient speaks the line protocol over the UNIX socket so that tests
control every byte; ctl() runs the real wsserverctl binary. Every wait is
bounded.
"""

import json
import os
import socket
import subprocess
import time

import harness


def ctl_path():
    """The wsserverctl under test: $WSSERVERCTL, else next to wsserverd."""
    path = os.environ.get("WSSERVERCTL")
    if not path:
        path = os.path.join(os.path.dirname(harness.daemon_path()),
            "wsserverctl")
    return os.path.abspath(path)


def ctl(*args, timeout=10.0, cwd=None):
    """Runs wsserverctl with args; returns the CompletedProcess (text)."""
    return subprocess.run([ctl_path()] + [str(a) for a in args],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, timeout=timeout, text=True, cwd=cwd)


class Reply:
    """One reply: the status line and the data lines before the empty line."""

    def __init__(self, status, lines):
        self.status = status
        self.lines = lines

    @property
    def ok(self):
        return self.status == "OK" or self.status.startswith("OK ")

    @property
    def code(self):
        """The ERR code, or None for OK."""
        if self.ok:
            return None
        parts = self.status.split(" ", 2)
        assert parts[0] == "ERR", "bad status line %r" % self.status
        return int(parts[1])

    @property
    def text(self):
        if self.ok:
            return self.status[3:]
        return self.status.split(" ", 2)[2] if self.status.count(" ") >= 2 \
            else ""

    def json(self):
        assert self.ok, "not OK: %r" % self.status
        assert len(self.lines) == 1, "JSON reply has %d lines" % len(
            self.lines)
        return json.loads(self.lines[0])

    def fields(self):
        """'Name: value' data lines as a dict."""
        out = {}
        for line in self.lines:
            name, sep, value = line.partition(": ")
            if sep:
                out[name] = value
        return out

    def __repr__(self):
        return "Reply(%r, %r)" % (self.status, self.lines[:8])


class AdminClient:
    """One connection to the admin socket."""

    def __init__(self, path, timeout=5.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        # A full listen backlog answers EAGAIN at once: retry, bounded.
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock.connect(path)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_line(self, line):
        if isinstance(line, str):
            line = line.encode("utf-8")
        self.sock.sendall(line + b"\n")

    def _recv(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            raise EOFError("admin socket closed (buffered %r)" % bytes(
                self.buf[:80]))
        self.buf += data

    def read_line(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 1]
                return line.decode("utf-8")
            self._recv(deadline)

    def read_reply(self, timeout=5.0):
        deadline = time.monotonic() + timeout
        status = self.read_line(timeout)
        assert status, "empty status line"
        lines = []
        while True:
            line = self.read_line(max(0.001, deadline - time.monotonic()))
            if line == "":
                return Reply(status, lines)
            lines.append(line)

    def cmd(self, line, timeout=5.0):
        self.send_line(line)
        return self.read_reply(timeout)

    def read_to_eof(self, timeout=5.0):
        """Reads until the daemon closes; returns everything read."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._recv(deadline)
            except EOFError:
                out = bytes(self.buf)
                self.buf.clear()
                return out


def admin(daemon, timeout=5.0):
    return AdminClient(daemon.admin_socket, timeout)


def conn_id(adm, client):
    """The ConnectionId of a harness WSClient, found by its local port."""
    for c in adm.cmd("connections json").json():
        if c["RemotePort"] == client.local_port:
            return c["ConnectionId"]
    raise AssertionError("no connection from port %d" % client.local_port)


def conn_entry(adm, cid):
    for c in adm.cmd("connections json").json():
        if c["ConnectionId"] == cid:
            return c
    return None
