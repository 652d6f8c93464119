"""redis_util.py - a real redis-server for the tests of topics and the fleet.

RedisServer runs redis-server on 127.0.0.1 (a free port) or a UNIX socket
in its own directory, without persistence, and stops it at the end; cli()
runs redis-cli against it. Tests skip (with the reason) where redis-server
is not installed. Every wait is bounded.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from harness import wait_until

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"


def need_redis():
    if not os.access(REDIS_SERVER, os.X_OK) or not os.access(REDIS_CLI,
            os.X_OK):
        pytest.skip("redis-server and redis-cli are needed (apt-get install "
            "redis-server redis-tools)")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class RedisServer:
    """One redis-server; start() again after stop() keeps its port."""

    def __init__(self, password=None, port=None, extra=()):
        need_redis()
        self.dir = tempfile.mkdtemp(prefix="wsserverd-redis-")
        self.port = port or free_port()
        self.password = password
        self.extra = list(extra)
        self.proc = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def start(self, timeout=10.0):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind",
            "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
            self.dir, "--logfile", os.path.join(self.dir, "redis.log"),
            "--daemonize", "no"] + self.extra
        if self.password:
            args += ["--requirepass", self.password]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_until(lambda: self.ping(), timeout), \
            "redis-server did not start:\n" + self.log()

    def ping(self):
        try:
            return self.cli("PING", timeout=2).stdout.strip() == "PONG"
        except subprocess.TimeoutExpired:
            return False

    def cli(self, *args, stdin=None, timeout=10):
        cmd = [REDIS_CLI, "-h", "127.0.0.1", "-p", str(self.port)]
        if self.password:
            cmd += ["--no-auth-warning", "-a", self.password]
        return subprocess.run(cmd + [str(a) for a in args], input=stdin,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            timeout=timeout)

    def publish_raw(self, channel, escaped):
        """PUBLISH with redis-cli's own quoting ("\\x00B..."), from stdin."""
        return self.cli(stdin='PUBLISH %s "%s"\n' % (channel, escaped))

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "redis.log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def redis_server():
    r = RedisServer()
    r.start()
    yield r
    r.cleanup()


def wait_fleet(adm, nodes, timeout=15.0):
    """Waits until status lists exactly these nodes (names), connected."""
    def ok():
        st = adm.cmd("status json").json()
        names = sorted(n["Name"] for n in st.get("Nodes", []))
        return st.get("Fleet") == "connected" and names == sorted(nodes)
    assert wait_until(ok, timeout, interval=0.1), adm.cmd("status").lines
