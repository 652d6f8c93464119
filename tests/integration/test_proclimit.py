"""test_proclimit.py - the process limit reached when spawning handlers.

The daemon runs as a uid of its own with RLIMIT_NPROC set so that it (with
its spawner) can have two handlers: the third WebSocket is refused with 503
before any upgrade, the failure is logged once and counted, nothing is left
behind, and once a handler ends new WebSockets get one again. RLIMIT_NPROC
counts every process of that uid on the machine, so the uid is one that no
process (another run of this test beside this one, say) has.
"""

import os
import pwd
import resource

import pytest

import harness
from admin_util import admin

# Alone (run.sh's serial run): RLIMIT_NPROC is lowered in this process.
pytestmark = pytest.mark.serial



def free_uid(first=42000, count=10000):
    """A uid without an account and without any process, from a range
    spread by our pid so that parallel runs pick different ones."""
    used = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/status" % name) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        used.update(int(u) for u in line.split()[1:])
                        break
        except OSError:
            continue
    start = os.getpid() % count
    for i in range(count):
        uid = first + (start + i) % count
        if uid in used:
            continue
        try:
            pwd.getpwuid(uid)
            continue
        except KeyError:
            return uid
    raise AssertionError("no free uid in %d-%d" % (first, first + count))


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop privileges")
def test_fork_failure_at_process_limit_is_503(daemon_factory):
    uid = free_uid()
    d = daemon_factory(start=False, sections={
        "server": {"User": str(uid), "Group": str(uid)}},
        routes={"cat": {"Path": "/", "Backend": "script:/bin/cat"}})
    os.chmod(d.dir, 0o755)
    # The daemon, its spawner and two handlers: a third fork fails with
    # EAGAIN. The daemon inherits the limit (root ignores it until the
    # drop to uid); the spawner, forked after the drop, counts too.
    old = resource.getrlimit(resource.RLIMIT_NPROC)
    resource.setrlimit(resource.RLIMIT_NPROC, (4, old[1]))
    try:
        d.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NPROC, old)
    d.wait_log(r"running as user %d" % uid)
    fds0 = len(os.listdir("/proc/%d/fd" % d.pid))
    a = harness.connect_ws(d.port)
    b = harness.connect_ws(d.port)
    a.echo(harness.OP_TEXT, "one")
    b.echo(harness.OP_TEXT, "two")
    mark = d.mark()
    with harness.WSClient(d.port) as c:
        resp = c.handshake(expect=503)
        assert b"fork failed" in resp.body
    d.wait_log(r"cannot start handler /bin/cat: fork: Resource temporarily "
        r"unavailable", start=mark)
    text = "\n".join(d.lines[mark:])
    assert text.count("cannot start handler") == 1
    with admin(d) as adm:
        st = adm.cmd("stats json").json()
    assert st["backend"]["failures"] == 1
    assert st["backend"]["spawns"] == 2
    # No pipe or process left behind by the failed spawn.
    assert len(harness.handlers_of(d.pid)) == 2
    # A handler ends: the next WebSocket gets one.
    a.close_handshake()
    assert harness.wait_until(lambda: len(harness.handlers_of(d.pid)) == 1,
        10)
    with harness.connect_ws(d.port) as c:
        c.echo(harness.OP_TEXT, "three")
        c.close_handshake()
    b.close_handshake()
    assert harness.wait_until(lambda: len(harness.handlers_of(d.pid)) == 0,
        10)
    assert harness.wait_until(lambda: len(os.listdir("/proc/%d/fd" %
        d.pid)) == fds0, 10)
