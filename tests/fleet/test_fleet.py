"""test_fleet.py - three wsserverd nodes and a Redis, each in a network
namespace of its own, joined by veth pairs to a bridge in a fifth one
(every address is inside those namespaces: 10.15.0.0/24). Clients on every
node (on its own loopback) take sequence-numbered publishes that each node
sends at a steady rate, while the test cuts one node's link for 10 s,
restarts Redis, and kills a node with SIGKILL.

Checks: nothing is delivered twice or out of order; nothing published to
the fleet is lost outside the outage windows; what a node publishes while
it is alone is counted as dropped; a node is resubscribed within 5 s of
the heal and of Redis's return; the surviving nodes hold no more
descriptors or memory at the end than after the warm-up; the killed node's
connections leave connections --all, and the node status, within NodeTTL.

Needs root (ip netns): skips with the reason otherwise. The namespaces are
deleted even when the test fails. Run with "make check-fleet".
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import harness  # noqa: E402
from admin_util import AdminClient  # noqa: E402

SFX = "%05d" % (os.getpid() % 100000)
SWITCH = "i15s" + SFX
NODES = {		# name: (namespace, address, Workers)
    "n1": ("i15a" + SFX, "10.15.0.11", 1),
    "n2": ("i15b" + SFX, "10.15.0.12", 2),
    "n3": ("i15c" + SFX, "10.15.0.13", 1),
}
REDIS_NS, REDIS_ADDR = "i15r" + SFX, "10.15.0.1"
# Redis takes clients from another address only with a password.
REDIS_PW = "fleet-test-password"
NODE_TTL_MS = 3000
CLIENTS = 4			# per node
RATE = 10			# publishes per second, per node
MARGIN = 0.7			# s around an outage window
RESUB_MAX = 5.0			# s from a heal to resubscribed


def sanitized():
    """True when the daemon was built with ASan/UBSan (its quarantine keeps
    freed memory, so RSS grows; LeakSanitizer at exit checks leaks)."""
    try:
        with open(harness.daemon_path(), "rb") as f:
            data = f.read()
    except OSError:
        return False
    return b"__asan_init" in data or b"__ubsan_handle" in data


def sh(*args, check=True, timeout=20):
    p = subprocess.run(list(args), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError("%s: %s" % (" ".join(args), p.stderr.strip()))
    return p


def netns_possible():
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "no ip(8) (iproute2)"
    probe = "i15p" + SFX
    p = sh("ip", "netns", "add", probe, check=False)
    if p.returncode != 0:
        return "ip netns add failed: " + p.stderr.strip()
    sh("ip", "netns", "del", probe, check=False)
    return None


def nsexec(ns, *args):
    return ["ip", "netns", "exec", ns] + list(args)


class Net:
    """The namespaces, veth pairs and bridge; gone at close, always."""

    def __init__(self):
        self.made = []

    def up(self):
        sh("ip", "netns", "add", SWITCH)
        self.made.append(SWITCH)
        sh("ip", "-n", SWITCH, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", SWITCH, "link", "set", "br0", "up")
        hosts = [(REDIS_NS, REDIS_ADDR, "r")] + [(ns, addr, name[1])
            for name, (ns, addr, _) in NODES.items()]
        for ns, addr, tag in hosts:
            sh("ip", "netns", "add", ns)
            self.made.append(ns)
            outer, inner = "v" + tag + SFX, "e" + tag + SFX
            sh("ip", "link", "add", outer, "type", "veth", "peer", "name",
                inner)
            sh("ip", "link", "set", outer, "netns", SWITCH)
            sh("ip", "link", "set", inner, "netns", ns)
            sh("ip", "-n", ns, "link", "set", inner, "name", "eth0")
            sh("ip", "-n", ns, "addr", "add", addr + "/24", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", SWITCH, "link", "set", outer, "master", "br0")
            sh("ip", "-n", SWITCH, "link", "set", outer, "up")

    def cut(self, tag, down):
        sh("ip", "-n", SWITCH, "link", "set", "v" + tag + SFX,
            "down" if down else "up")

    def close(self):
        for ns in reversed(self.made):
            p = sh("ip", "netns", "pids", ns, check=False)
            for pid in p.stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass
            sh("ip", "netns", "del", ns, check=False)
        self.made = []


class NsDaemon(harness.Daemon):
    """A wsserverd started inside a namespace (ip netns exec execs it)."""

    ns = None

    def start(self, timeout=20.0):
        self.proc = subprocess.Popen(nsexec(self.ns, harness.daemon_path(),
            "-f", "-c", self.ini), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/",
            env=self.env)
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        m = self.wait_log(r"listening on 127\.0\.0\.1:(\d+)", timeout=timeout)
        self.port = int(m.group(1))
        return self.port


class Redis:
    def __init__(self, tmp):
        self.tmp = tmp
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(nsexec(REDIS_NS, "redis-server",
            "--bind", REDIS_ADDR, "--port", "6379", "--save", "",
            "--appendonly", "no", "--dir", self.tmp, "--requirepass",
            REDIS_PW, "--logfile", os.path.join(self.tmp, "redis.log")),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        assert harness.wait_until(lambda: sh(*nsexec(REDIS_NS, "redis-cli",
            "--no-auth-warning", "-a", REDIS_PW, "-h", REDIS_ADDR, "PING"),
            check=False).stdout.strip() == "PONG", 10.0)

    def stop(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


class Publisher(threading.Thread):
    """Publishes "P NODE SEQ TIME" on topic room at RATE a second."""

    def __init__(self, name, d):
        super().__init__(daemon=True)
        self.name_, self.d = name, d
        self.stop = threading.Event()
        self.sent = []		# (seq, time, "fleet" | "alone" | "err")

    def run(self):
        adm = None
        seq = 0
        period = 1.0 / RATE
        nxt = time.monotonic()
        while not self.stop.is_set():
            nxt += period
            seq += 1
            t = time.time()
            out = "err"
            try:
                if adm is None:
                    adm = AdminClient(self.d.admin_socket, timeout=3)
                r = adm.cmd("publish room P %s %d %.6f" % (self.name_, seq,
                    t), timeout=3)
                if r.ok:
                    out = "alone" if "this node only" in r.status else \
                        "fleet"
            except (OSError, EOFError, AssertionError):
                adm = None
            self.sent.append((seq, t, out))
            time.sleep(max(0.0, nxt - time.monotonic()))


def proc_tree(pid):
    """pid and its children (a master's workers)."""
    out = [pid]
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def usage(d):
    """Descriptors and RSS (KiB) of a node, its workers included."""
    fds = rss = 0
    for pid in proc_tree(d.pid):
        try:
            fds += len(os.listdir("/proc/%d/fd" % pid))
            rss += harness.rss_kib(pid)
        except OSError:
            pass
    return fds, rss


def wait_line(d, pattern, start, timeout):
    """The wall-clock time the test saw a log line appear (bounded)."""
    m = d.wait_log(pattern, timeout=timeout, start=start)
    assert m is not None
    return time.time()


def status_nodes(adm):
    return sorted(n["Name"] for n in adm.cmd("status json").json().get(
        "Nodes", []))


def test_fleet():
    why = netns_possible()
    if why is not None:
        pytest.skip(why)
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server")
    net = Net()
    tmp = tempfile.mkdtemp(prefix="wsserverd-fleet-")
    daemons, clients = {}, {}
    redis = Redis(tmp)
    pubs = {}
    try:
        net.up()
        redis.start()
        pwfile = os.path.join(tmp, "redis.pw")
        with open(pwfile, "w") as f:
            f.write(REDIS_PW + "\n")
        for name, (ns, addr, workers) in NODES.items():
            d = NsDaemon(sections={
                "server": {"Workers": workers, "ShutdownTimeout": 2},
                "cluster": {"Redis": "redis://%s:6379" % REDIS_ADDR,
                    "NodeName": name, "NodeTTL": NODE_TTL_MS,
                    "RedisPasswordFile": pwfile,
                    "RedisTimeout": 1500, "RedisReconnectMax": 1000,
                    "CommandTimeout": 1500}},
                routes={"chat": {"Path": "/chat/*", "Backend": "echo",
                    "Subscribe": "room"}})
            d.ns = ns
            d.start()
            daemons[name] = d
        adms = {n: AdminClient(d.admin_socket, timeout=5) for n, d in
            daemons.items()}
        for n in NODES:
            assert harness.wait_until(lambda: status_nodes(adms[n]) ==
                sorted(NODES), 20.0, interval=0.2), adms[n].cmd("status")
        for name, d in daemons.items():
            out = os.path.join(tmp, name + ".msgs")
            clients[name] = (subprocess.Popen(nsexec(d.ns,
                "/usr/bin/python3", os.path.join(HERE, "fleet_client.py"),
                str(d.port), "/chat/room", str(CLIENTS), out),
                stdin=subprocess.DEVNULL), out)
        for n, d in daemons.items():
            assert harness.wait_until(lambda: adms[n].cmd("stats json")
                .json()["topics"]["redis"] == 1, 20.0, interval=0.2)
            assert harness.wait_until(lambda: adms[n].cmd("connections")
                .status == "OK %d connection(s)" % CLIENTS, 20.0)
        # Every client receives before the count starts (a worker's
        # subscription reaches its master a moment after the open).
        def all_warm():
            adms["n1"].cmd("publish room W")
            time.sleep(0.2)
            for p, out in clients.values():
                with open(out) as f:
                    warm = {l.split()[0] for l in f if l.endswith(" W\n")}
                if len(warm) < CLIENTS:
                    return False
            return True
        assert harness.wait_until(all_warm, 20.0, interval=0.1)
        for name, d in daemons.items():
            pubs[name] = Publisher(name, d)
            pubs[name].start()
        t_start = time.time()
        time.sleep(4)
        base = {n: usage(daemons[n]) for n in ("n1", "n2")}
        time.sleep(4)

        # 1. n1's link is cut for 10 s.
        mark = daemons["n1"].mark()
        t_cut = time.time()
        net.cut("1", True)
        t_lost = wait_line(daemons["n1"], r"fleet: lost Redis", mark, 10)
        time.sleep(max(0.0, 10 - (time.time() - t_cut)))
        net.cut("1", False)
        t_heal = time.time()
        t_back1 = wait_line(daemons["n1"], r"fleet: node n1 is in the fleet",
            mark, 15)
        resub_n1 = t_back1 - t_heal
        assert resub_n1 < RESUB_MAX, resub_n1
        time.sleep(6)

        # 2. Redis restarts.
        marks = {n: d.mark() for n, d in daemons.items()}
        t_rdown = time.time()
        redis.stop()
        time.sleep(3)
        redis.start()
        t_rup = time.time()
        t_back = {}
        for n, d in daemons.items():
            t_back[n] = wait_line(d, r"fleet: node %s is in the fleet" % n,
                marks[n], 15)
            assert t_back[n] - t_rup < RESUB_MAX, (n, t_back[n] - t_rup)
        time.sleep(6)

        # 3. kill -9 n3: its connections leave --all within NodeTTL.
        ids3 = [c["ConnectionId"] for c in adms["n3"].cmd(
            "connections json").json()]
        assert len(ids3) == CLIENTS
        pubs["n3"].stop.set()
        pubs["n3"].join(5)
        t_kill = time.time()
        os.kill(daemons["n3"].pid, signal.SIGKILL)
        daemons["n3"].wait_exit(10)

        def gone():
            got = [c["ConnectionId"] for c in adms["n1"].cmd(
                "connections --all json", timeout=5).json()]
            return not set(got) & set(ids3)
        assert harness.wait_until(gone, NODE_TTL_MS / 1000.0, interval=0.1)
        t_gone = time.time() - t_kill
        assert harness.wait_until(lambda: status_nodes(adms["n1"]) ==
            ["n1", "n2"], NODE_TTL_MS / 1000.0 + 0.5, interval=0.1)
        t_left = time.time() - t_kill
        r = adms["n1"].cmd("sendtext %s x" % ids3[0])
        assert r.code == 126, r
        time.sleep(5)
        for n in ("n1", "n2"):
            pubs[n].stop.set()
            pubs[n].join(5)
        time.sleep(2)
        end = {n: usage(daemons[n]) for n in ("n1", "n2")}
        t_end = time.time()
        stats = {n: adms[n].cmd("stats json").json() for n in ("n1", "n2")}
        for p, out in clients.values():
            p.send_signal(signal.SIGTERM)
            p.wait(10)

        # ---- checks
        got = {}		# (node, client) -> [(pub, seq, t)]
        for n, (p, out) in clients.items():
            with open(out) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 6 and parts[2] == "P":
                        got.setdefault((n, parts[0]), []).append(
                            (parts[3], int(parts[4]), float(parts[1])))
        assert len(got) == CLIENTS * 3, sorted(got)
        windows = {	# node -> outage windows (wall clock)
            "n1": [(t_cut - MARGIN, t_back1 + MARGIN)],
            "n2": [], "n3": []}
        for n in NODES:
            windows[n].append((t_rdown - MARGIN, t_back[n] + MARGIN))

        def out_of(n, t):
            return any(a <= t <= b for a, b in windows[n])
        lost, dup, disorder = [], 0, 0
        for (n, c), msgs in got.items():
            seen = set()
            last = {}
            for pub, seq, t in msgs:
                if (pub, seq) in seen:
                    dup += 1
                seen.add((pub, seq))
                if seq <= last.get(pub, 0):
                    disorder += 1
                last[pub] = seq
            for pub, p in pubs.items():
                for seq, t, outcome in p.sent:
                    if outcome != "fleet" or out_of(pub, t) or out_of(n, t):
                        continue
                    if n == "n3" and t > t_kill - MARGIN:
                        continue
                    if (pub, seq) not in seen:
                        lost.append((n, c, pub, seq, round(t - t_start, 2)))
        alone = {n: sum(1 for s in pubs[n].sent if s[2] == "alone")
            for n in pubs}
        total = {n: len(pubs[n].sent) for n in pubs}
        report = {
            "publishes": total, "alone (dropped)": alone,
            "resubscribed after heal (s)": round(resub_n1, 2),
            "resubscribed after Redis (s)": {n: round(t - t_rup, 2)
                for n, t in t_back.items()},
            "n3 gone from connections --all (s)": round(t_gone, 2),
            "n3 gone from status (s)": round(t_left, 2),
            "link cut noticed after (s)": round(t_lost - t_cut, 2),
            "fds/rss KiB warm-up": base, "fds/rss KiB end": end,
            "duration (s)": round(t_end - t_start, 1)}
        print("fleet: " + json.dumps(report))
        assert dup == 0, "%d messages delivered twice" % dup
        assert disorder == 0, "%d messages out of order" % disorder
        assert not lost, "lost outside the outage windows: %r" % lost[:20]
        # Alone, a node counts its publishes as dropped.
        assert alone["n1"] > 0
        for n in ("n1", "n2"):
            assert stats[n]["topics"]["dropped"] >= alone[n]
        assert t_gone <= NODE_TTL_MS / 1000.0
        # No growth: the same descriptors, memory within 2 MiB (with the
        # sanitizers, LeakSanitizer's report at exit instead).
        for n in ("n1", "n2"):
            assert end[n][0] <= base[n][0], (n, base[n], end[n])
            if not sanitized():
                assert end[n][1] - base[n][1] < 2048, (n, base[n], end[n])
        for n in ("n1", "n2"):
            daemons[n].stop()
            daemons[n].check_clean()
    finally:
        for p in pubs.values():
            p.stop.set()
        for p, out in clients.values():
            if p.poll() is None:
                p.kill()
                p.wait(5)
        for d in daemons.values():
            if d.proc is not None and d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait(10)
            d.cleanup()
        redis.stop()
        net.close()
        shutil.rmtree(tmp, ignore_errors=True)
