"""ProxyProtocol: PROXY v1/v2 headers from trusted load balancers.

The header's source address must stand for the client everywhere: the
open log line, the admin socket, a script's REMOTE_ADDR/REMOTE_PORT and
AllowedClients/BlockedClients. Anything else about the header (from an
untrusted client, missing, malformed) closes the connection unanswered.
"""

import socket
import struct

import pytest

import harness
from admin_util import admin
from harness import OP_TEXT, WSClient, build_request, read_env

V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(src, sport, dst="127.0.0.1", dport=80, local=False, tlvs=b""):
    """A PROXY v2 header for TCP over IPv4 (or LOCAL)."""
    if local:
        return V2SIG + b"\x20\x00" + struct.pack("!H", 0)
    body = (socket.inet_aton(src) + socket.inet_aton(dst) +
        struct.pack("!HH", sport, dport) + tlvs)
    return V2SIG + b"\x21\x11" + struct.pack("!H", len(body)) + body


def v1_header(src, sport, dst=None, dport=80):
    fam = "TCP6" if ":" in src else "TCP4"
    if dst is None:
        dst = "::1" if fam == "TCP6" else "127.0.0.1"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport,
        dport)).encode()


ROUTES = {
    "env": {"Path": "/env", "Backend": "script:{handlers}/printenv.py"},
    "echo": {"Path": "/", "Backend": "echo"},
}


def proxy_daemon(factory, mode="v2", trusted="127.0.0.1", websocket=None,
        **server):
    keys = {"ProxyProtocol": mode, "ProxyTrustedClients": trusted}
    keys.update(server)
    return factory(sections={"server": keys, "websocket": websocket or {}},
        routes=ROUTES)


def open_via(d, header, path="/env", chop=None):
    c = WSClient(d.port)
    req, _ = build_request(path, port=d.port)
    if chop:
        c.send_chopped(header + req, chunk=chop)
    else:
        c.send(header + req)
    resp = c.read_http_response()
    assert resp.status == 101, (resp.status, resp.body)
    return c


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_handler_sees_real_client(daemon_factory, version):
    d = proxy_daemon(daemon_factory, mode=version)
    hdr = (v1_header if version == "v1" else v2_header)("203.0.113.7",
        4242, "198.51.100.1", 8443)
    start = d.mark()
    c = open_via(d, hdr, chop=7)
    env = read_env(c)
    assert env["REMOTE_ADDR"] == "203.0.113.7"
    assert env["REMOTE_PORT"] == "4242"
    d.wait_log(r"open 203\.0\.113\.7:4242 /env", start=start)
    c.close()


def test_admin_and_echo_any_mode(daemon_factory):
    d = proxy_daemon(daemon_factory, mode="any", trusted="127.0.0.0/8")
    c1 = open_via(d, v2_header("192.0.2.10", 1111, tlvs=b"\x04\x00\x01z"),
        path="/")
    c2 = open_via(d, v1_header("2001:db8::5", 2222), path="/")
    c1.send_text(b"one")
    assert c1.read_message() == (OP_TEXT, b"one")
    c2.send_text(b"two")
    assert c2.read_message() == (OP_TEXT, b"two")
    with admin(d) as adm:
        rows = adm.cmd("connections json").json()
    seen = {(r["RemoteHost"], r["RemotePort"]) for r in rows}
    assert ("192.0.2.10", 1111) in seen
    assert ("2001:db8::5", 2222) in seen
    c1.close()
    c2.close()


def test_local_keeps_socket_address(daemon_factory):
    d = proxy_daemon(daemon_factory)
    c = open_via(d, v2_header(None, 0, local=True))
    env = read_env(c)
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"] == str(c.local_port)
    c.close()


def expect_dropped(d, data, log_pattern):
    start = d.mark()
    c = WSClient(d.port)
    c.send(data)
    assert c.read_to_eof(5.0) == b""
    d.wait_log(log_pattern, start=start)
    c.close()


def test_missing_malformed_and_wrong_version(daemon_factory):
    d = proxy_daemon(daemon_factory)
    req, _ = build_request("/", port=d.port)
    expect_dropped(d, req, r"refused 127\.0\.0\.1:\d+: not a PROXY v2 header")
    expect_dropped(d, v1_header("192.0.2.1", 5) + req,
        r"refused .*not a PROXY v2 header")
    expect_dropped(d, V2SIG + b"\x21\x11\xff\xff", r"v2 header too large")
    expect_dropped(d, V2SIG + b"\x21\x11\x00\x04abcd" + req,
        r"address block too short")
    d1 = proxy_daemon(daemon_factory, mode="v1")
    expect_dropped(d1, b"PROXY TCP4 1.2.3 4.5.6.7 1 2\r\n" + req,
        r"PROXY v1 header: bad address")
    expect_dropped(d1, b"PROXY " + b"x" * 200, r"v1 header too long")


def test_handshake_timeout_applies(daemon_factory):
    d = proxy_daemon(daemon_factory, websocket={"HandshakeTimeout": 1})
    c = WSClient(d.port)
    c.send(V2SIG[:5])
    # Dropped after HandshakeTimeout, not kept waiting for the rest.
    assert c.read_to_eof(4.0) == b""
    c.close()


def test_untrusted_client(daemon_factory):
    d = proxy_daemon(daemon_factory, trusted="192.0.2.99")
    req, _ = build_request("/", port=d.port)
    expect_dropped(d, v2_header("203.0.113.9", 9) + req,
        r"PROXY header from a client not in ProxyTrustedClients")
    expect_dropped(d, v1_header("203.0.113.9", 9) + req,
        r"PROXY header from a client not in ProxyTrustedClients")
    # Without a header an untrusted client is an ordinary client.
    c = open_via(d, b"")
    env = read_env(c)
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    c.close()


def test_acl_applies_to_real_client(daemon_factory):
    d = proxy_daemon(daemon_factory, BlockedClients="203.0.113.0/24")
    req, _ = build_request("/", port=d.port)
    expect_dropped(d, v2_header("203.0.113.50", 7) + req,
        r"refused 203\.0\.113\.50:7: not allowed by "
        r"AllowedClients/BlockedClients")
    c = open_via(d, v2_header("198.51.100.50", 7), path="/")
    c.send_text(b"ok")
    assert c.read_message() == (OP_TEXT, b"ok")
    c.close()
