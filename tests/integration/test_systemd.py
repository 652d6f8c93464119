"""systemd integration: sd_notify over $NOTIFY_SOCKET (a datagram socket
of ours), socket activation through systemd-socket-activate, User/Group,
PidFile, AllowRootHandlers, the units (systemd-analyze verify), the man
pages (mandoc -T lint, every key and command documented) and make install.
"""

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

import pytest

import harness
from admin_util import admin, ctl

SRC = os.environ.get("top_srcdir") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
BUILD = os.environ.get("top_builddir") or SRC


def _src(*parts):
    return os.path.join(SRC, *parts)


def _text(c, timeout=5.0):
    """The next text message of a WSClient, decoded."""
    op, data = c.read_message(timeout=timeout)
    assert op == harness.OP_TEXT
    return data.decode()


def _lines_until(c, last, limit=200):
    """Text messages up to and including last."""
    out = []
    while len(out) < limit:
        out.append(_text(c))
        if out[-1] == last:
            return out
    raise AssertionError("no %r in %r" % (last, out))


class Notify:
    """A service manager's end of NOTIFY_SOCKET: a path or abstract socket."""

    def __init__(self, abstract=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.dir = tempfile.mkdtemp(prefix="wsserverd-notify-")
        if abstract:
            name = "wsserverd-it-%d-%d" % (os.getpid(), id(self))
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = os.path.join(self.dir, "notify")
            self.sock.bind(self.address)
        self.messages = []

    def wait(self, pattern, timeout=5.0):
        """Returns the first message (new or kept) matching pattern."""
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        i = 0
        while True:
            while i < len(self.messages):
                if rx.search(self.messages[i]):
                    return self.messages.pop(i)
                i += 1
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no notification %r in %.1fs; got %r" %
                    (pattern, timeout, self.messages))
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.messages.append(data.decode())

    def drain(self, seconds):
        """Collects whatever arrives during seconds."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.sock.settimeout(left)
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except socket.timeout:
                return

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def notify():
    n = Notify()
    yield n
    n.close()


def test_notify_lifecycle(daemon_factory, notify):
    """READY once listening, RELOADING/READY around admin reload and SIGHUP,
    STOPPING and EXTEND_TIMEOUT_USEC at stop; NOTIFY_SOCKET is unset."""
    d = daemon_factory(env={"NOTIFY_SOCKET": notify.address},
        routes={"echo": {"Path": "/", "Backend": "echo"},
            "env": {"Path": "/env", "Backend": "script:{handlers}/"
            "printenv.py", "PassEnv": "NOTIFY_SOCKET"}})
    m = notify.wait(r"^READY=1\nSTATUS=listening on 127\.0\.0\.1:(\d+)$")
    assert m.endswith(":%d" % d.port)
    # The handler asked for NOTIFY_SOCKET, but the daemon unset it.
    c = harness.connect_ws(d.port, "/env")
    env = _lines_until(c, "END")
    assert "PATH=" in "\n".join(env)
    assert not [e for e in env if e.startswith("NOTIFY_SOCKET")]
    c.close()

    before = time.monotonic_ns() // 1000
    with admin(d) as adm:
        assert adm.cmd("reload").ok
    m = notify.wait(r"^RELOADING=1\nMONOTONIC_USEC=(\d+)\nSTATUS=")
    usec = int(re.search(r"MONOTONIC_USEC=(\d+)", m).group(1))
    assert before <= usec <= time.monotonic_ns() // 1000
    notify.wait(r"^READY=1\nSTATUS=configuration reloaded$")

    d.signal(signal.SIGHUP)
    notify.wait(r"^RELOADING=1\nMONOTONIC_USEC=\d+\n")
    notify.wait(r"^READY=1\nSTATUS=configuration reloaded$")

    # A failed reload still ends the reload state, with a status saying so.
    good = open(d.ini).read()
    with open(d.ini, "a") as f:
        f.write("\n[server]\nBogus = 1\n")
    with admin(d) as adm:
        assert adm.cmd("reload").code is not None
    notify.wait(r"^RELOADING=1\n")
    notify.wait(r"^READY=1\nSTATUS=reload failed")
    with open(d.ini, "w") as f:
        f.write(good)

    # StopListening and StartListening show in STATUS=. (Forget the
    # STATUS= of the first listen, sent just before READY=1.)
    notify.drain(0.2)
    assert [m for m in notify.messages if m.startswith("STATUS=")] == \
        ["STATUS=listening on 127.0.0.1:%d" % d.port]
    notify.messages.clear()
    with admin(d) as adm:
        assert adm.cmd("stop").ok
        notify.wait(r"^STATUS=not listening$")
        assert adm.cmd("start").ok
        m = notify.wait(r"^STATUS=listening on 127\.0\.0\.1:\d+$")
    # LocalPort 0: the new socket has a new port.
    port = int(m.rsplit(":", 1)[1])

    # A client that never answers the close keeps the drain going.
    c = harness.connect_ws(port)
    d.stop()
    c.close()
    notify.wait(r"^STOPPING=1\nSTATUS=shutting down$")
    m = notify.wait(r"^EXTEND_TIMEOUT_USEC=(\d+)$")
    # ShutdownTimeout 5 s + 2 s reap + 5 s margin, at most.
    assert 0 < int(m.split("=")[1]) <= 12000000


def test_notify_abstract_and_watchdog(daemon_factory):
    n = Notify(abstract=True)
    try:
        daemon_factory(env={"NOTIFY_SOCKET": n.address,
            "WATCHDOG_USEC": "400000"})
        n.wait(r"^READY=1\n")
        # Half of 400 ms: about five pings a second.
        n.drain(1.2)
        pings = [m for m in n.messages if m == "WATCHDOG=1"]
        assert 3 <= len(pings) <= 9, n.messages
    finally:
        n.close()


def test_watchdog_for_another_pid(daemon_factory, notify):
    d = daemon_factory(env={"NOTIFY_SOCKET": notify.address,
        "WATCHDOG_USEC": "200000", "WATCHDOG_PID": "1"})
    notify.wait(r"^READY=1\n")
    notify.drain(0.6)
    assert "WATCHDOG=1" not in notify.messages
    assert d.find_log("watchdog") is None


def test_notify_bad_address(daemon_factory):
    d = daemon_factory(env={"NOTIFY_SOCKET": "relative/path"}, log_level=2)
    assert d.find_log(r"NOTIFY_SOCKET \"relative/path\": not an absolute "
        r"path or an abstract \(@\) name; not notifying") is not None


def test_notify_socket_gone(daemon_factory):
    """A manager that went away does not stop the daemon."""
    d = daemon_factory(env={"NOTIFY_SOCKET": "/nonexistent/notify"})
    c = harness.connect_ws(d.port)
    c.send_text("still here")
    assert _text(c) == "still here"
    c.close()


# ------------------------------------------------------ socket activation

class ActivatedDaemon(harness.Daemon):
    """A Daemon started under systemd-socket-activate on a port of ours."""

    def __init__(self, port, **kw):
        harness.Daemon.__init__(self, **kw)
        self.listen_port = port

    def start(self, timeout=10.0):
        self.proc = subprocess.Popen(["systemd-socket-activate", "-l",
            "127.0.0.1:%d" % self.listen_port, "--fdname=web",
            harness.daemon_path(), "-f", "-c", self.ini],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, cwd="/", env=self.env)
        import threading
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        # It execs wsserverd (same pid) at the first connection.
        self.wait_log(r"Listening on 127\.0\.0\.1:%d" % self.listen_port,
            timeout=timeout)
        trigger = socket.create_connection(("127.0.0.1", self.listen_port),
            timeout=timeout)
        try:
            m = self.wait_log(r"listening on 127\.0\.0\.1:(\d+)",
                timeout=timeout)
        finally:
            trigger.close()
        self.port = int(m.group(1))
        return self.port


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


FDS_HANDLER = """#!/bin/sh
# Counts the sockets among the handler's descriptors above 2, and the
# LISTEN_* variables it got.
n=0
for f in /proc/$$/fd/*; do
	fd=${f##*/}
	[ "$fd" -gt 2 ] || continue
	case $(readlink "$f") in socket:*) n=$((n + 1));; esac
done
echo "sockets $n"
echo "env $(env | grep -c '^LISTEN_')"
read line
"""


@pytest.mark.skipif(shutil.which("systemd-socket-activate") is None,
    reason="no systemd-socket-activate (apt-get install systemd)")
def test_socket_activation():
    port = _free_port()
    d = ActivatedDaemon(port, routes={
        "echo": {"Path": "/", "Backend": "echo"},
        "fds": {"Path": "/fds", "Backend": "script:{dir}/fds.sh"}},
        sections={"server": {"LocalPort": 1}})
    path = os.path.join(d.dir, "fds.sh")
    with open(path, "w") as f:
        f.write(FDS_HANDLER)
    os.chmod(path, 0o755)
    try:
        d.start()
        # LocalPort 1 was not bound: the inherited socket is used.
        assert d.port == port
        assert d.find_log(r"socket activation: using the inherited socket "
            r"fd 3 on 127\.0\.0\.1:%d; LocalHost and LocalPort are not used"
            % port) is not None
        # systemd-socket-activate execs in place: its pid is the daemon's.
        with open("/proc/%d/fdinfo/3" % d.pid) as f:
            flags = int(re.search(r"flags:\s*(\d+)", f.read()).group(1), 8)
        assert flags & 0o2000000, "fd 3 is not close-on-exec"
        c = harness.connect_ws(port)
        c.send_text("activated")
        assert _text(c) == "activated"
        c.close()

        # The handler has neither the socket nor the variables.
        c = harness.connect_ws(port, "/fds")
        assert _text(c) == "sockets 0"
        assert _text(c) == "env 0"
        c.close()

        # stop / start keeps the inherited socket: never closed or shut down.
        mark = d.mark()
        with admin(d) as adm:
            assert adm.cmd("stop").ok
            assert adm.cmd("start").ok
        d.wait_log(r"using the inherited socket fd 3", start=mark)
        c = harness.connect_ws(port)
        c.send_text("again")
        assert _text(c) == "again"
        c.close()
        assert d.stop() == 0
        d.check_clean()
    except BaseException:
        print("---- wsserverd log ----\n" + d.log_tail(80))
        raise
    finally:
        d.cleanup()


def test_listen_fds_for_another_pid(daemon_factory):
    """LISTEN_FDS meant for another process is ignored (and unset)."""
    d = daemon_factory(env={"LISTEN_PID": "1", "LISTEN_FDS": "1"})
    assert d.find_log("socket activation") is None
    c = harness.connect_ws(d.port)
    c.send_text("x")
    assert _text(c) == "x"
    c.close()


def _unstarted(**kw):
    """A Daemon whose ini is written but which the test runs itself."""
    return harness.Daemon(**kw)


def _run_daemon(d, argv0=None):
    return subprocess.run([harness.daemon_path(), "-f", "-c", d.ini],
        env=d.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=10)


def test_listen_fds_bad():
    d = _unstarted(env={"LISTEN_FDS": "many"})
    try:
        # The daemon's pid is known only after exec: a shell that execs.
        p = subprocess.run(["/bin/sh", "-c",
            'LISTEN_PID=$$ exec "$0" -f -c "$1"', harness.daemon_path(),
            d.ini], env=d.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=10, text=True)
        assert p.returncode == 1
        assert "socket activation: LISTEN_FDS is not a number of sockets " \
            "in 1..16" in p.stdout
    finally:
        d.cleanup()


# ------------------------------------------------- User, Group, PidFile

def _run_check(ini_text, tmpdir):
    path = os.path.join(tmpdir, "w.ini")
    with open(path, "w") as f:
        f.write(ini_text)
    return path, subprocess.run([harness.daemon_path(), "-t", "-c", path],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        timeout=10)


@pytest.fixture
def tmpdir_():
    d = tempfile.mkdtemp(prefix="wsserverd-sysd-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_root_handlers_refused(tmpdir_):
    script = "[route:s]\nPath = /\nBackend = script:/bin/cat\n"
    path, p = _run_check(script, tmpdir_)
    assert p.returncode == 1
    assert p.stderr == ("wsserverd: %s: [route:s]: script handlers would "
        "run as root: "
        "set User in [server] to drop privileges, or AllowRootHandlers = "
        "true in [backend]\n" % path)
    # Startup refuses it the same way.
    p = subprocess.run([harness.daemon_path(), "-f", "-c", path],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=10)
    assert p.returncode == 1 and "would run as root" in p.stderr
    # Either key makes it fine; an echo route never needed them.
    for extra in ("[backend]\nAllowRootHandlers = true\n",
            "[server]\nUser = nobody\n"):
        _, p = _run_check(script + extra, tmpdir_)
        assert p.returncode == 0, p.stderr
    _, p = _run_check("[route:e]\nPath = /\nBackend = echo\n", tmpdir_)
    assert p.returncode == 0
    # User = root is no drop.
    _, p = _run_check(script + "[server]\nUser = root\n", tmpdir_)
    assert p.returncode == 1


def test_unknown_user_and_group(tmpdir_):
    path, p = _run_check("[server]\nUser = no-such-user-x\n"
        "Group = no-such-group-x\n[route:e]\nPath = /\nBackend = echo\n",
        tmpdir_)
    assert p.returncode == 1
    assert p.stderr == ('wsserverd: %s:2: User: no such user '
        '"no-such-user-x"\nwsserverd: %s:3: Group: no such group '
        '"no-such-group-x"\n' % (path, path))


def _status_ids(pid):
    ids = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid", "Groups"):
                ids[k] = v.split()
    return ids


ID_HANDLER = """#!/bin/sh
echo "ids $(id -u) $(id -g)"
read line
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges")
def test_user_group_drop(daemon_factory):
    d = daemon_factory(start=False, sections={
        "server": {"User": "nobody", "Group": "nogroup"},
        "backend": {"AllowRootHandlers": False}},
        routes={"e": {"Path": "/", "Backend": "echo"},
            "id": {"Path": "/id", "Backend": "script:{dir}/id.sh"}})
    path = os.path.join(d.dir, "id.sh")
    with open(path, "w") as f:
        f.write(ID_HANDLER)
    os.chmod(path, 0o755)
    os.chmod(d.dir, 0o755)
    d.start()
    d.wait_log(r"running as user 65534, group 65534")
    ids = _status_ids(d.pid)
    assert ids["Uid"] == ["65534"] * 4
    assert ids["Gid"] == ["65534"] * 4
    assert ids["Groups"] == ["65534"]
    c = harness.connect_ws(d.port, "/id")
    assert _text(c) == "ids 65534 65534"
    c.close()
    c = harness.connect_ws(d.port)
    c.send_text("dropped")
    assert _text(c) == "dropped"
    c.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_numeric_user(daemon_factory):
    """A User that exists only as a number still drops."""
    d = daemon_factory(start=False, sections={"server": {"User": "4294967294",
        "Group": "4294967294"}})
    os.chmod(d.dir, 0o755)
    d.start()
    d.wait_log(r"running as user 4294967294, group 4294967294")


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv")
def test_drop_failure_refuses_start():
    """Started as a user that cannot become User: bound, then refused."""
    d = _unstarted(sections={"server": {"User": "4000"},
        "admin": {"Socket": ""}})
    os.chmod(d.dir, 0o755)
    os.chmod(d.ini, 0o644)
    try:
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
            "--clear-groups", harness.daemon_path(), "-f", "-c", d.ini],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=10, cwd="/")
    finally:
        d.cleanup()
    assert p.returncode == 1, p.stdout
    assert re.search(r"listening on 127\.0\.0\.1:\d+\n.*User and Group "
        r"need wsserverd to start as root; not starting", p.stdout), p.stdout


def test_pidfile(daemon_factory, tmpdir_):
    pidfile = os.path.join(tmpdir_, "w.pid")
    # A stale file (no lock, a pid that is gone) is replaced.
    with open(pidfile, "w") as f:
        f.write("999999999\n")
    d = daemon_factory(sections={"server": {"PidFile": pidfile}})
    with open(pidfile) as f:
        assert f.read() == "%d\n" % d.pid
    # A live one refuses the start, before touching its admin socket.
    e = _unstarted(sections={"server": {"PidFile": pidfile},
        "admin": {"Socket": d.admin_socket}})
    try:
        p = _run_daemon(e)
    finally:
        e.cleanup()
    assert p.returncode == 1
    assert "PidFile %s: wsserverd is already running (pid %d)" % (pidfile,
        d.pid) in p.stdout
    with admin(d) as adm:
        assert adm.cmd("status").ok
    with open(pidfile) as f:
        assert f.read() == "%d\n" % d.pid
    assert d.stop() == 0
    assert not os.path.exists(pidfile)


def test_pidfile_relative(daemon_factory):
    d = daemon_factory(sections={"server": {"PidFile": "run/w.pid"}},
        start=False)
    os.mkdir(os.path.join(d.dir, "run"))
    d.start()
    path = os.path.join(d.dir, "run", "w.pid")
    with open(path) as f:
        assert f.read() == "%d\n" % d.pid
    assert d.stop() == 0
    assert not os.path.exists(path)


def test_pidfile_unwritable():
    d = _unstarted(sections={"server": {"PidFile": "/nonexistent/dir/w.pid"}})
    try:
        p = _run_daemon(d)
    finally:
        d.cleanup()
    assert p.returncode == 1
    assert "PidFile /nonexistent/dir/w.pid: No such file or directory" in \
        p.stdout


# ------------------------------------------------------------- the units

def _unit_copy(tmp):
    """The units with the binaries of this build in place of /usr/sbin."""
    daemon = os.path.abspath(harness.daemon_path())
    ctlbin = os.path.join(os.path.dirname(daemon), "wsserverctl")
    for name in ("wsserverd.service", "wsserverd.socket"):
        text = open(_src("systemd", name)).read()
        text = text.replace("/usr/sbin/wsserverd", daemon)
        text = text.replace("/usr/sbin/wsserverctl", ctlbin)
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
    return os.path.join(tmp, "wsserverd.service")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
    reason="no systemd-analyze")
def test_units_verify(tmpdir_):
    svc = _unit_copy(tmpdir_)
    # --man=no: Documentation= names pages that are not installed here.
    p = subprocess.run(["systemd-analyze", "verify", "--man=no", svc,
        os.path.join(tmpdir_, "wsserverd.socket")], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, timeout=60, cwd=tmpdir_)
    assert p.returncode == 0 and p.stdout == "", p.stdout
    text = open(_src("systemd", "wsserverd.service")).read()
    for line in ("Type=notify", "ExecStartPre=/usr/sbin/wsserverd -t -c "
            "/etc/wsserverd/wsserverd.ini", "ExecStart=/usr/sbin/wsserverd "
            "-f -c /etc/wsserverd/wsserverd.ini", "ExecReload=/usr/sbin/"
            "wsserverctl -s /run/wsserverd/admin.sock reload",
            "RuntimeDirectory=wsserverd", "NoNewPrivileges=yes",
            "ProtectSystem=strict", "SystemCallFilter=@system-service",
            "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6"):
        assert "\n" + line + "\n" in text, line


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
    reason="no systemd-analyze")
def test_units_security_score(tmpdir_):
    """The score the README quotes."""
    svc = _unit_copy(tmpdir_)
    p = subprocess.run(["systemd-analyze", "security", "--offline=yes",
        "--no-pager", svc], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=60, cwd=tmpdir_)
    m = re.search(r"Overall exposure level for wsserverd\.service: "
        r"(\d+\.\d+)", p.stdout)
    assert m, p.stdout
    readme = open(_src("README.md")).read()
    assert "exposure level %s" % m.group(1) in readme, m.group(1)


# ---------------------------------------------------------- the man pages

def _keys_from_table():
    text = open(_src("src", "conf", "config-keys.c")).read()
    body = text[text.index("config_keys[] = {"):]
    body = body[:body.index("\n};")]
    return re.findall(r'\.name = "(\w+)"', body)


def _ini_man():
    path = os.path.join(BUILD, "man", "wsserverd.ini.5")
    if not os.path.exists(path):
        pytest.skip("man/wsserverd.ini.5 not built")
    return path


def test_ini_man_documents_every_key_and_only_those():
    text = open(_ini_man()).read()
    table = _keys_from_table()
    documented = re.findall(r"^\.TP\n\\fB(\w+)\\fR = ", text, re.M)
    assert sorted(documented) == sorted(table)
    for key in ("User", "Group", "PidFile", "AllowRootHandlers"):
        assert key in table


def test_daemon_man_mentions_systemd():
    text = open(_src("man", "wsserverd.8")).read()
    for word in ("NOTIFY_SOCKET", "LISTEN_FDS", "WATCHDOG_USEC", "PidFile",
            "User", "AllowRootHandlers", "wsserverd.service",
            "wsserverd.socket", "MemoryDenyWriteExecute"):
        assert word in text, word


@pytest.mark.skipif(shutil.which("mandoc") is None,
    reason="no mandoc (apt-get install mandoc)")
def test_man_lint():
    pages = [_src("man", "wsserverd.8"), _src("man", "wsserverctl.8"),
        _ini_man()]
    # -W warning: style-level notes are not reported, warnings and worse are.
    p = subprocess.run(["mandoc", "-T", "lint", "-W", "warning"] + pages,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=60)
    assert p.stdout == "" and p.returncode == 0, p.stdout


# ------------------------------------------------------------ make install

@pytest.mark.skipif(not os.path.exists(os.path.join(BUILD, "Makefile")),
    reason="no configured build tree")
def test_make_install(tmpdir_):
    dest = os.path.join(tmpdir_, "root")
    p = subprocess.run(["make", "-s", "install", "DESTDIR=" + dest],
        cwd=BUILD, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, timeout=300)
    assert p.returncode == 0, p.stdout
    found = set()
    for root, _, files in os.walk(dest):
        for name in files:
            found.add(os.path.relpath(os.path.join(root, name), dest))
    names = {os.path.basename(f): f for f in found}
    for want in ("wsserverd", "wsserverctl", "wsserverd.ini", "greeter.sh",
            "wsserverd.8", "wsserverctl.8", "wsserverd.ini.5"):
        assert want in names, sorted(found)
    ini = os.path.join(dest, names["wsserverd.ini"])
    assert names["wsserverd.ini"].endswith("/wsserverd/wsserverd.ini")
    text = open(ini).read()
    assert "\nSocket = /run/wsserverd/admin.sock\n" in text
    assert "\nUser = nobody\n" in text
    assert "\nAllowRootHandlers = false\n" in text
    assert os.stat(os.path.join(dest, names["greeter.sh"])).st_mode & \
        stat.S_IXUSR
    if "wsserverd.service" in names:
        unit = open(os.path.join(dest, names["wsserverd.service"])).read()
        sbin = os.path.dirname(names["wsserverd"])
        assert "ExecStart=/%s/wsserverd -f -c " % sbin in unit
    # The installed ini loads (its handler beside it), as -t sees it.
    p = subprocess.run([os.path.join(dest, names["wsserverd"]), "-t", "-c",
        ini], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=10)
    assert p.returncode == 0, p.stdout
