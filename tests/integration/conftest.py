"""conftest.py - pytest fixtures that start and check wsserverd instances."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "serial: run alone, after the "
        "parallel tests (run.sh): the test sets process-wide limits or "
        "measures the daemon's CPU time, memory or latency")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Fixtures look at this to print the daemon's log when a test failed.
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(node):
    return any(getattr(node, "rep_" + w, None) is not None and
        getattr(node, "rep_" + w).failed for w in ("setup", "call"))


def _finish(daemons, failed):
    errors = []
    for d in daemons:
        try:
            d.stop()
            if failed:
                print("---- wsserverd log (%s) ----\n%s" % (d.ini,
                    d.log_tail(200)))
            d.check_clean()
        except AssertionError as e:
            errors.append(str(e))
        finally:
            d.cleanup()
    if errors:
        pytest.fail("\n\n".join(errors), pytrace=False)


@pytest.fixture
def daemon_factory(request):
    """daemon_factory(sections=..., routes=..., ...) -> a started Daemon.

    Every daemon is stopped at teardown and must exit 0 without
    sanitizer reports.
    """
    daemons = []

    def make(start=True, **kw):
        d = harness.Daemon(**kw)
        daemons.append(d)
        if start:
            d.start()
        return d

    yield make
    _finish(daemons, _failed(request.node))


@pytest.fixture(scope="module")
def module_daemons():
    """Like daemon_factory, for daemons shared by the tests of a module."""
    daemons = []

    def make(**kw):
        d = harness.Daemon(**kw)
        daemons.append(d)
        d.start()
        return d

    yield make
    _finish(daemons, False)


@pytest.fixture(scope="module")
def echo_daemon(request):
    """One daemon per module with an echo route on "/" (shared by tests
    that do not change the configuration)."""
    d = harness.Daemon()
    d.start()
    yield d
    _finish([d], False)


@pytest.fixture
def echo(echo_daemon, request):
    """A raw client with the handshake done on the module's echo daemon."""
    if echo_daemon.proc.poll() is not None:
        pytest.fail("the shared echo daemon has exited:\n" +
            echo_daemon.log_tail())
    c = harness.connect_ws(echo_daemon.port)
    yield c
    c.close()
    if _failed(request.node):
        print("---- wsserverd log tail ----\n" + echo_daemon.log_tail(40))
