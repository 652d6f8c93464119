"""wss://: the [ssl] keys against real TLS clients.

The certificates come from a PKI made with the openssl command for this
module (tls_util.Pki). Clients: Debian's python3-websockets over an
ssl.SSLContext, "openssl s_client", and raw sockets for the bad cases.
The admin socket's view of TLS ("connection ID", "cert") is checked
against what the client negotiated and what "openssl x509" reads.
"""

import asyncio
import calendar
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time

import pytest

import admin_util
import harness
import tls_util

websockets = pytest.importorskip("websockets")

ECHO = {"echo": {"Path": "/", "Backend": "echo"}}
ENV = {"echo": {"Path": "/", "Backend": "echo"},
    "env": {"Path": "/env", "Backend": "script:{handlers}/printenv.py"}}


@pytest.fixture(scope="module")
def pki():
    p = tls_util.Pki()
    yield p
    p.cleanup()


def ssl_sections(pki, **keys):
    """[ssl] with UseSSL and the usual PEM store, plus keys."""
    s = {"UseSSL": True, "SSLCert": pki.path("server.pem")}
    s.update(keys)
    return {"ssl": s, "admin": {"Socket": ""}}


def run(coro, timeout=20.0):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def wss(d, path="/", ctx=None, host="localhost", **kw):
    kw.setdefault("open_timeout", 5)
    kw.setdefault("close_timeout", 2)
    kw.setdefault("compression", None)
    kw.setdefault("max_size", 16 * 1024 * 1024)
    return websockets.connect("wss://%s:%d%s" % (host, d.port, path),
        ssl=ctx, **kw)


async def read_env(ws):
    """Reads printenv.py's NAME=VALUE lines up to END into a dict."""
    env = {}
    while True:
        line = await ws.recv()
        if line == "END":
            return env
        name, _, value = line.partition("=")
        env[name] = value


def check_config(pki, ssl_keys, extra=""):
    """Runs wsserverd -t on a config with [ssl] ssl_keys; returns (rc, out, ini)."""
    ini = os.path.join(pki.dir, "t-%d.ini" % time.monotonic_ns())
    lines = ["[server]", "LocalHost = 127.0.0.1", "[ssl]"]
    lines += ["%s = %s" % kv for kv in ssl_keys]
    lines += ["[route:e]", "Path = /", "Backend = echo", extra]
    with open(ini, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = subprocess.run([harness.daemon_path(), "-t", "-c", ini],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=20)
    return p.returncode, p.stdout.decode("utf-8", "replace"), ini


@pytest.fixture(scope="module")
def tls_daemon(module_daemons, pki):
    return module_daemons(routes=ENV, log_level=2,
        sections=ssl_sections(pki))


# ------------------------------------------------------------ wss basics

def test_wss_echo_websockets(tls_daemon, pki):
    async def main():
        async with wss(tls_daemon, ctx=pki.client_context()) as ws:
            await ws.send("h\u00e9llo")
            assert await ws.recv() == "h\u00e9llo"
            await ws.send(b"\x00\xff" * 1000)
            assert await ws.recv() == b"\x00\xff" * 1000
        return ws.close_code
    assert run(main()) == 1000
    tls_daemon.wait_log(r"\d+ TLS TLSv1\.3 TLS_AES_\S+ ECDHE \S+ "
        r"sni=localhost client_verify=NONE")


def test_wss_large_messages_flow_control(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=dict(ssl_sections(pki),
        websocket={"MaxMessageSize": 8 * 1024 * 1024}))
    payload = os.urandom(4 * 1024 * 1024)

    async def main():
        async with wss(d, ctx=pki.client_context()) as ws:
            for _ in range(2):
                await ws.send(payload)
                assert await ws.recv() == payload
        return ws.close_code
    assert run(main(), timeout=40) == 1000


def test_handler_env_without_client_cert(tls_daemon, pki):
    async def main():
        async with wss(tls_daemon, "/env", ctx=pki.client_context()) as ws:
            return await read_env(ws)
    env = run(main())
    assert env["HTTPS"] == "on"
    assert env["SSL_PROTOCOL"] == "TLSv1.3"
    assert env["SSL_CIPHER"].startswith("TLS_AES_")
    assert env["SSL_CLIENT_VERIFY"] == "NONE"
    assert env["SSL_TLS_SNI"] == "localhost"
    assert "SSL_CLIENT_S_DN" not in env


def test_plain_http_to_tls_port(tls_daemon):
    mark = tls_daemon.mark()
    with socket.create_connection((harness.HOST, tls_daemon.port),
            timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert data.endswith(b"\r\n\r\nthis port speaks TLS: use https or wss\r\n")
    tls_daemon.wait_log(r"\d+ TLS handshake failed from 127\.0\.0\.1:\d+: "
        r"plain HTTP on a TLS port", start=mark)


def test_truncated_handshake(tls_daemon, pki):
    # The first bytes of a TLS 1.2 ClientHello record, then EOF.
    mark = tls_daemon.mark()
    with socket.create_connection((harness.HOST, tls_daemon.port),
            timeout=5) as s:
        s.sendall(bytes.fromhex("160301020001") + b"\x01\x00\x01\xfc\x03\x03")
        s.shutdown(socket.SHUT_WR)
        s.settimeout(5)
        assert s.recv(4096) == b""
    tls_daemon.wait_log(r"\d+ TLS handshake failed from 127\.0\.0\.1:\d+: "
        r"connection closed by the client", start=mark)
    # The daemon still serves.
    rc, out = tls_util.s_client(tls_daemon.port, "-CAfile", pki.ca)
    assert rc == 0, out
    assert "Verify return code: 0 (ok)" in out


def test_garbage_handshake(tls_daemon):
    mark = tls_daemon.mark()
    with socket.create_connection((harness.HOST, tls_daemon.port),
            timeout=5) as s:
        s.sendall(b"\x16\x03\x01\x00\x05hello" + b"\xff" * 64)
        s.settimeout(5)
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
        # A fatal alert record (21) or nothing: never an HTTP answer.
        assert data == b"" or data[0] == 21
    tls_daemon.wait_log(r"\d+ TLS handshake failed from 127\.0\.0\.1:\d+: ",
        start=mark)


def test_tls_client_on_plain_port(echo_daemon):
    mark = echo_daemon.mark()
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t0 = time.monotonic()
    with socket.create_connection((harness.HOST, echo_daemon.port),
            timeout=5) as raw:
        with pytest.raises(ssl.SSLError):
            ctx.wrap_socket(raw, server_hostname="localhost")
    # Refused at once, not after HandshakeTimeout.
    assert time.monotonic() - t0 < 3
    echo_daemon.wait_log(r"rejected 127\.0\.0\.1:\d+ -: 400 TLS handshake "
        r"on a plain \(UseSSL off\) port", start=mark)


def test_handshake_inactivity_timeout(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        DefaultConnectionTimeout=1))
    mark = d.mark()
    with socket.create_connection((harness.HOST, d.port), timeout=5) as s:
        t0 = time.monotonic()
        s.settimeout(5)
        assert s.recv(100) == b""
        took = time.monotonic() - t0
    assert 0.5 < took < 4
    d.wait_log(r"TLS handshake failed from 127\.0\.0\.1:\d+: no data within "
        r"DefaultConnectionTimeout", start=mark)


# ------------------------------------------------------------ s_client

@pytest.mark.parametrize("flag,proto", [("-tls1_2", "TLSv1.2"),
    ("-tls1_3", "TLSv1.3")])
def test_protocol_versions(tls_daemon, pki, flag, proto):
    rc, out = tls_util.s_client(tls_daemon.port, flag, "-CAfile", pki.ca,
        "-servername", "localhost")
    assert rc == 0, out
    assert "New, %s, Cipher is " % proto in out
    assert "Verify return code: 0 (ok)" in out


@pytest.mark.parametrize("bits,ok,refused", [
    (3072, "-tls1_2", "-tls1_3"),
    (12288, "-tls1_3", "-tls1_2"),
])
def test_enabled_protocols(module_daemons, pki, bits, ok, refused):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLEnabledProtocols=bits))
    rc, out = tls_util.s_client(d.port, ok, "-CAfile", pki.ca)
    assert rc == 0, out
    rc, out = tls_util.s_client(d.port, refused, "-CAfile", pki.ca)
    assert rc != 0
    assert "Cipher is (NONE)" in out or "alert" in out


def test_cipher_suite_by_reference_name(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLEnabledCipherSuites="TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;"
        " TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"))
    rc, out = tls_util.s_client(d.port, "-CAfile", pki.ca)
    assert rc == 0, out
    # TLS 1.3 is off (no TLS 1.3 suite named); the server's order wins.
    assert "New, TLSv1.2, Cipher is ECDHE-ECDSA-CHACHA20-POLY1305" in out
    rc, out = tls_util.s_client(d.port, "-tls1_2", "-cipher",
        "ECDHE-ECDSA-AES128-GCM-SHA256", "-CAfile", pki.ca)
    assert "Cipher is ECDHE-ECDSA-AES128-GCM-SHA256" in out
    rc, out = tls_util.s_client(d.port, "-tls1_2", "-cipher",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "-CAfile", pki.ca)
    assert rc != 0


def test_tls13_suite_selection(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLEnabledCipherSuites="TLS_CHACHA20_POLY1305_SHA256"))
    rc, out = tls_util.s_client(d.port, "-CAfile", pki.ca)
    assert "New, TLSv1.3, Cipher is TLS_CHACHA20_POLY1305_SHA256" in out
    rc, out = tls_util.s_client(d.port, "-tls1_2", "-CAfile", pki.ca)
    assert rc != 0


def test_sni_picks_certificate(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLCert=pki.path("sni.pem"), SSLCACerts=pki.ca))
    for name in ("a.test", "b.test"):
        rc, out = tls_util.s_client(d.port, "-servername", name, "-CAfile",
            pki.ca, "-verify_hostname", name)
        assert rc == 0, out
        assert "subject=CN = %s" % name in out
        assert "Verify return code: 0 (ok)" in out
    rc, out = tls_util.s_client(d.port, "-servername", "c.test")
    assert "subject=CN = a.test" in out
    rc, out = tls_util.s_client(d.port, "-noservername")
    assert "subject=CN = a.test" in out


def test_subject_selects_among_certificates(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLCert=pki.path("sni.pem"), SSLCertSubject="CN=b.test"))
    rc, out = tls_util.s_client(d.port, "-servername", "a.test")
    assert "subject=CN = b.test" in out


def test_rsa_and_ecdsa_certificates(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLCert=pki.path("server-dual.pem")))
    rc, out = tls_util.s_client(d.port, "-sigalgs", "ECDSA+SHA256",
        "-CAfile", pki.ca)
    assert rc == 0, out
    assert "Server public key is 256 bit" in out
    rc, out = tls_util.s_client(d.port, "-sigalgs", "rsa_pss_rsae_sha256",
        "-CAfile", pki.ca)
    assert rc == 0, out
    assert "Server public key is 2048 bit" in out


def test_session_reuse(module_daemons, pki):
    sess = pki.path("sess-%d" % time.monotonic_ns())
    on = module_daemons(routes=ECHO, sections=ssl_sections(pki))
    off = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        ReuseSSLSession=False))
    rc, out = tls_util.s_client(on.port, "-tls1_2", "-sess_out", sess)
    assert rc == 0, out
    rc, out = tls_util.s_client(on.port, "-tls1_2", "-sess_in", sess)
    assert "Reused, TLSv1.2" in out
    rc, out = tls_util.s_client(off.port, "-tls1_2", "-sess_out", sess)
    rc, out = tls_util.s_client(off.port, "-tls1_2", "-sess_in", sess)
    assert "New, TLSv1.2" in out


@pytest.mark.parametrize("allow", [False, True])
def test_renegotiation(module_daemons, pki, allow):
    d = module_daemons(routes=ECHO, log_level=3, sections=ssl_sections(pki,
        SSLEnableRenegotiation=allow))
    mark = d.mark()
    want = "alert sent: warning no renegotiation" if not allow else \
        "TLS handshake done"
    p = subprocess.Popen([tls_util.OPENSSL, "s_client", "-connect",
        "127.0.0.1:%d" % d.port, "-tls1_2", "-CAfile", pki.ca],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)
    try:
        d.wait_log(r"TLS handshake done", start=mark)
        p.stdin.write(b"R\n")
        p.stdin.flush()
        # Refused: the alert; allowed: a second handshake is done.
        assert harness.wait_until(lambda: d.log_text().count(want) >=
            (1 if not allow else 2), 5), d.log_tail()
    finally:
        p.stdin.close()
        p.wait(timeout=10)
        out = p.stdout.read().decode("utf-8", "replace")
        p.stdout.close()
    assert "RENEGOTIATING" in out
    if allow:
        assert "no renegotiation" not in out
        assert d.find_log(r"alert sent: warning no renegotiation",
            start=mark) is None
    else:
        assert "no renegotiation" in out
        d.wait_log(r"TLS alert sent: warning no renegotiation", start=mark)


def test_dhe_group_bits(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLCert=pki.path("server-dual.pem"), PreferredDHGroupBits=3072,
        SSLEnabledCipherSuites="TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"))
    rc, out = tls_util.s_client(d.port, "-tls1_2", "-CAfile", pki.ca)
    assert rc == 0, out
    assert "Cipher is DHE-RSA-AES128-GCM-SHA256" in out
    assert "Server Temp Key: DH, 3072 bits" in out


# ------------------------------------------------------------ stores

def test_pfx_store(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLCert=pki.path("server.pfx"), SSLCertStoreType="PFXFile",
        SSLCertPassword=tls_util.PFX_PASSWORD))

    async def main():
        async with wss(d, ctx=pki.client_context()) as ws:
            await ws.send("pfx")
            return await ws.recv()
    assert run(main()) == "pfx"
    # The CA from the PFX goes out as the chain.
    rc, out = tls_util.s_client(d.port, "-showcerts", "-CAfile", pki.ca)
    assert "1 s:CN = wsserverd test CA" in out


def test_encrypted_pem_key(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLCert=pki.path("server-enc.pem"),
        SSLCertPassword=tls_util.KEY_PASSWORD))
    rc, out = tls_util.s_client(d.port, "-CAfile", pki.ca)
    assert "Verify return code: 0 (ok)" in out


def test_inline_ca_chain(module_daemons, pki):
    with open(pki.ca) as f:
        inline = "".join(line.strip() for line in f)
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLCert=pki.path("sni.pem"), SSLCACerts=inline))
    rc, out = tls_util.s_client(d.port, "-showcerts", "-servername",
        "b.test")
    assert "1 s:CN = wsserverd test CA" in out


# ------------------------------------------------------------ client certificates

def client_auth(pki, policy, **keys):
    return ssl_sections(pki, SSLAuthenticateClients=policy,
        SSLClientCACerts=pki.ca, **keys)


def test_client_cert_required(module_daemons, pki):
    d = module_daemons(routes=ENV, log_level=2,
        sections=client_auth(pki, "required"))

    async def main():
        async with wss(d, "/env", ctx=pki.client_context("client")) as ws:
            return await read_env(ws)
    env = run(main())
    assert env["SSL_CLIENT_VERIFY"] == "SUCCESS"
    # RFC 2253: the last RDN of the DER first (the CSR said /CN=../O=..).
    assert env["SSL_CLIENT_S_DN"] == "O=wsserverd tests,CN=test client"
    assert env["SSL_CLIENT_I_DN"] == "CN=wsserverd test CA"
    serial = tls_util.run(["x509", "-in", "client.crt", "-noout",
        "-serial"], pki.dir).strip().split("=", 1)[1]
    assert env["SSL_CLIENT_M_SERIAL"] == serial
    assert env["SSL_CLIENT_V_END"].endswith(" GMT")
    with open(pki.path("client.crt")) as f:
        assert env["SSL_CLIENT_CERT"] == f.read().replace("\n", "\\n")
    d.wait_log(r"client_verify=SUCCESS client=\"O=wsserverd tests, "
        r"CN=test client\"")

    # No certificate, or one from a CA nobody trusts: no session.
    for cert, why in ((None, "peer did not return a certificate"),
            ("evil", "certificate verify failed")):
        mark = d.mark()

        async def bad():
            async with wss(d, ctx=pki.client_context(cert)) as ws:
                await ws.send("x")
                await ws.recv()
        with pytest.raises((ssl.SSLError, ConnectionError, EOFError,
                websockets.exceptions.WebSocketException, OSError)):
            run(bad())
        d.wait_log(r"TLS handshake failed from 127\.0\.0\.1:\d+: %s" % why,
            start=mark)


def test_client_cert_optional(module_daemons, pki):
    d = module_daemons(routes=ENV, sections=client_auth(pki, "optional"))

    async def main(cert):
        async with wss(d, "/env", ctx=pki.client_context(cert)) as ws:
            return await read_env(ws)
    assert run(main(None))["SSL_CLIENT_VERIFY"] == "NONE"
    assert run(main("client"))["SSL_CLIENT_VERIFY"] == "SUCCESS"


def test_client_cert_request_passes_status(module_daemons, pki):
    d = module_daemons(routes=ENV, sections=client_auth(pki, "request"))

    async def main(cert):
        async with wss(d, "/env", ctx=pki.client_context(cert)) as ws:
            return await read_env(ws)
    env = run(main("evil"))
    assert env["SSL_CLIENT_VERIFY"].startswith("FAILED:")
    assert env["SSL_CLIENT_S_DN"] == "CN=evil client"


def test_client_cert_crl(module_daemons, pki):
    d = module_daemons(routes=ENV, sections=ssl_sections(pki,
        SSLAuthenticateClients="required",
        SSLClientCACerts=pki.path("ca-with-crl.pem"), SSLCheckCRL=1))

    async def main(cert):
        async with wss(d, "/env", ctx=pki.client_context(cert)) as ws:
            return await read_env(ws)
    assert run(main("client"))["SSL_CLIENT_VERIFY"] == "SUCCESS"
    mark = d.mark()
    with pytest.raises((ssl.SSLError, ConnectionError, EOFError,
            websockets.exceptions.WebSocketException, OSError)):
        run(main("revoked"))
    d.wait_log(r"TLS handshake failed from 127\.0\.0\.1:\d+: ", start=mark)


def test_reload_renewed_certificate(module_daemons, pki):
    store = pki.path("reload-%d.pem" % time.monotonic_ns())
    shutil.copy(pki.path("server.pem"), store)
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLCert=store))

    async def main():
        async with wss(d, ctx=pki.client_context()) as ws:
            await ws.send("before")
            assert await ws.recv() == "before"
            # Renewed (here: an RSA key), then reloaded under the open one.
            shutil.copy(pki.path("server-rsa.key"), store)
            with open(store, "a") as f, open(pki.path("server-rsa.crt")) as c:
                f.write(c.read())
            mark = d.mark()
            d.signal(signal.SIGHUP)
            d.wait_log(r"configuration reloaded", start=mark)
            rc, out = tls_util.s_client(d.port, "-CAfile", pki.ca)
            assert "Server public key is 2048 bit" in out
            # A broken store is refused; the running one goes on.
            with open(store, "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nAAAA\n")
            mark = d.mark()
            d.signal(signal.SIGHUP)
            d.wait_log(r"SSLCert: .*unterminated PEM block", start=mark)
            rc, out = tls_util.s_client(d.port, "-CAfile", pki.ca)
            assert "Server public key is 2048 bit" in out
            await ws.send("after")
            assert await ws.recv() == "after"
        return ws.close_code
    assert run(main()) == 1000


# ------------------------------------------------------------ logging, key log

def test_key_log_file(module_daemons, pki):
    keylog = pki.path("keys-%d.log" % time.monotonic_ns())
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLKeyLogFile=keylog))
    d.wait_log(r"WARN SSLKeyLogFile: TLS session secrets are written to "
        + keylog.replace(".", r"\."))
    rc, out = tls_util.s_client(d.port, "-CAfile", pki.ca)
    assert rc == 0, out
    with open(keylog) as f:
        text = f.read()
    assert "CLIENT_HANDSHAKE_TRAFFIC_SECRET " in text
    assert oct(os.stat(keylog).st_mode & 0o777) == "0o600"


def test_expiry_warning(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=ssl_sections(pki,
        SSLCert=pki.path("soon.pem")))
    d.wait_log(r"WARN TLS certificate \"CN=localhost\" expires on .* \(in "
        r"(9|10) days\)")


def test_ssl_packets_logged_at_level_3(module_daemons, pki):
    d = module_daemons(routes=ECHO, log_level=3, sections=ssl_sections(pki,
        LogSSLPackets=True))
    rc, out = tls_util.s_client(d.port, "-CAfile", pki.ca)
    d.wait_log(r"DEBUG \d+ TLS received handshake type=1 len=\d+")
    d.wait_log(r"DEBUG \d+ TLS SSLv3/TLS write server hello")


# ------------------------------------------------------------ admin socket

SSL_FIELDS = ("SSLNegotiatedVersion", "SSLNegotiatedCipher",
    "SSLNegotiatedCipherSuite", "SSLNegotiatedCipherStrength",
    "SSLNegotiatedKeyExchange", "SSLNegotiatedKeyExchangeStrength", "SNI",
    "ClientCertStatus", "ClientCertSubject", "ClientCertIssuer")
# A zone east of UTC by 5:30 that needs no tzdata: "cert" dates are local.
TZ_EAST = "XST-5:30"


def with_admin(sections):
    """sections with the harness's admin socket on (ssl_sections turns it off)."""
    out = dict(sections)
    out["admin"] = {}
    return out


async def admin_view(d, ws):
    """The daemon's "connection ID" (text fields, JSON) for a websockets client."""
    port = ws.local_address[1]
    with admin_util.admin(d) as adm:
        cid = [c["ConnectionId"] for c in adm.cmd("connections json").json()
            if c["RemotePort"] == port][0]
        text = adm.cmd("connection " + cid)
        js = adm.cmd("connection %s json" % cid)
    assert text.ok and text.status == "OK", text
    return text.fields(), js.json()


@pytest.mark.parametrize("maxver", [ssl.TLSVersion.TLSv1_2,
    ssl.TLSVersion.TLSv1_3])
def test_admin_connection_tls_session(module_daemons, pki, maxver):
    d = module_daemons(routes=ECHO, sections=with_admin(ssl_sections(pki)))
    ctx = pki.client_context()
    ctx.maximum_version = maxver

    async def main():
        async with wss(d, ctx=ctx) as ws:
            tls = ws.transport.get_extra_info("ssl_object")
            text, js = await admin_view(d, ws)
            return tls.version(), tls.cipher(), text, js
    version, cipher, text, js = run(main())
    assert version == {ssl.TLSVersion.TLSv1_2: "TLSv1.2",
        ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[maxver]
    assert text["TLS"] == "yes" and js["tls"] is True
    assert text["SSLNegotiatedVersion"] == js["SSLNegotiatedVersion"] == \
        version
    # ssl.SSLSocket.cipher(): (OpenSSL name, protocol, secret bits).
    assert text["SSLNegotiatedCipher"] == js["SSLNegotiatedCipher"] == \
        cipher[0]
    assert int(text["SSLNegotiatedCipherStrength"]) == \
        js["SSLNegotiatedCipherStrength"] == cipher[2]
    assert js["SSLNegotiatedCipherStrength"] > 0
    suite = js["SSLNegotiatedCipherSuite"]
    assert suite.startswith("TLS_") and text["SSLNegotiatedCipherSuite"] == \
        suite
    if version == "TLSv1.3":
        assert suite == cipher[0]
    else:
        # The IANA name of an ECDSA-certificate ECDHE suite.
        assert suite.startswith("TLS_ECDHE_ECDSA_WITH_")
    assert js["SSLNegotiatedKeyExchange"].startswith("ECDHE ")
    assert text["SSLNegotiatedKeyExchange"] == js["SSLNegotiatedKeyExchange"]
    assert js["SSLNegotiatedKeyExchangeStrength"] > 0
    assert int(text["SSLNegotiatedKeyExchangeStrength"]) == \
        js["SSLNegotiatedKeyExchangeStrength"]
    assert text["SNI"] == js["SNI"] == "localhost"
    assert text["ClientCertStatus"] == js["ClientCertStatus"] == "NONE"
    assert text["ClientCertSubject"] == "-" and js["ClientCertSubject"] == ""
    assert text["ClientCertIssuer"] == "-" and js["ClientCertIssuer"] == ""
    # The same keys in both forms; the TLS ones come before the headers.
    assert all(k in text and k in js for k in SSL_FIELDS)
    keys = list(js)
    assert keys.index("tls") < keys.index("SSLNegotiatedVersion") < \
        keys.index("RequestHeaders")


def test_admin_connection_client_cert(module_daemons, pki):
    d = module_daemons(routes=ECHO, sections=with_admin(client_auth(pki,
        "request")))

    async def main(cert, host):
        async with wss(d, ctx=pki.client_context(cert), host=host) as ws:
            return await admin_view(d, ws)
    text, js = run(main("client", "localhost"))
    assert text["ClientCertStatus"] == js["ClientCertStatus"] == "SUCCESS"
    # The subject as the log and the reference show it (RFC 2253 order).
    assert text["ClientCertSubject"] == js["ClientCertSubject"] == \
        "O=wsserverd tests, CN=test client"
    assert text["ClientCertIssuer"] == js["ClientCertIssuer"] == \
        "CN=wsserverd test CA"
    # An untrusted one passes with its verdict; an IP address sends no SNI.
    ctx = pki.client_context("evil")
    ctx.check_hostname = False

    async def untrusted():
        async with websockets.connect("wss://127.0.0.1:%d/" % d.port,
                ssl=ctx, open_timeout=5, close_timeout=2,
                compression=None) as ws:
            return await admin_view(d, ws)
    text, js = run(untrusted())
    assert js["ClientCertStatus"].startswith("FAILED:")
    assert text["ClientCertStatus"] == js["ClientCertStatus"]
    assert js["ClientCertSubject"] == "CN=evil client"
    assert js["ClientCertIssuer"] == "CN=untrusted test CA"
    assert js["SNI"] == "" and text["SNI"] == "-"


def x509_facts(pki, name):
    """openssl x509's subject, issuer, SHA-256 fingerprint, serial, dates."""
    out = tls_util.run(["x509", "-in", name, "-noout", "-subject", "-issuer",
        "-fingerprint", "-sha256", "-serial", "-dates"], pki.dir)
    facts = {}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        facts[key.strip().lower()] = value.strip()
    return facts


def dn_parts(dn):
    """A DN's attributes, order and spacing aside: {"CN=localhost", ...}."""
    return {"=".join(p.strip() for p in rdn.split("=", 1))
        for rdn in dn.split(",")}


def local_date(openssl_date, offset_minutes):
    """'Jan  2 15:04:05 2026 GMT' as the reference's local date format."""
    t = calendar.timegm(time.strptime(openssl_date, "%b %d %H:%M:%S %Y GMT"))
    return time.strftime("%d-%b-%Y %H:%M:%S",
        time.gmtime(t + offset_minutes * 60))


def assert_cert_matches(pki, name, fields):
    facts = x509_facts(pki, name)
    assert dn_parts(fields["Subject"]) == dn_parts(facts["subject"])
    assert dn_parts(fields["Issuer"]) == dn_parts(facts["issuer"])
    assert fields["FingerprintSHA256"] == \
        facts["sha256 fingerprint"].lower()
    assert fields["SerialNumber"].upper() == facts["serial"].upper()
    # TZ_EAST: local time is UTC + 5:30.
    assert fields["EffectiveDate"] == local_date(facts["notbefore"], 330)
    assert fields["ExpirationDate"] == local_date(facts["notafter"], 330)


def cert_blocks(reply):
    """The text form of "cert": a list of {Name: value}, one per certificate."""
    blocks = []
    for line in reply.lines:
        if line.startswith("certificate "):
            assert line == "certificate %d:" % (len(blocks) + 1)
            blocks.append({})
            continue
        assert line.startswith("  ") and blocks, line
        name, sep, value = line[2:].partition(": ")
        assert sep, line
        blocks[-1][name] = value
    return blocks


def test_admin_cert(module_daemons, pki):
    d = module_daemons(routes=ECHO, env={"TZ": TZ_EAST},
        sections=with_admin(ssl_sections(pki)))
    with admin_util.admin(d) as adm:
        r = adm.cmd("cert")
        js = adm.cmd("cert json").json()
    assert r.status == "OK 1 certificate(s)"
    text = cert_blocks(r)
    assert len(text) == 1 and isinstance(js, list) and len(js) == 1
    for fields in (text[0], js[0]):
        assert fields["Subject"] == "CN=localhost"
        assert fields["Issuer"] == "CN=wsserverd test CA"
        assert_cert_matches(pki, "server.crt", fields)
        assert fields["FingerprintSHA1"] == pki.fingerprint("server.crt",
            "sha1")
        assert fields["SubjectAltNames"] == "localhost,127.0.0.1"
        assert fields["PublicKeyAlgorithm"] == "EC"
        assert fields["Usage"] == "Digital Signature"
    assert text[0]["PublicKeyLength"] == "256"
    assert js[0]["PublicKeyLength"] == 256
    # Text and JSON carry the same fields in the same order.
    assert list(text[0]) == list(js[0])
    assert {k: str(v) for k, v in js[0].items()} == text[0]
    # wsserverctl passes it through; -j gives the same JSON.
    p = admin_util.ctl("-s", d.admin_socket, "-j", "cert")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == js


def test_admin_cert_several(module_daemons, pki):
    d = module_daemons(routes=ECHO, env={"TZ": TZ_EAST},
        sections=with_admin(ssl_sections(pki,
        SSLCert=pki.path("server-dual.pem"))))
    with admin_util.admin(d) as adm:
        r = adm.cmd("cert")
        js = adm.cmd("cert json").json()
    assert r.status == "OK 2 certificate(s)"
    text = cert_blocks(r)
    assert [c["PublicKeyAlgorithm"] for c in js] == ["EC", "RSA"]
    assert [c["PublicKeyLength"] for c in js] == [256, 2048]
    assert [c["PublicKeyAlgorithm"] for c in text] == ["EC", "RSA"]
    for fields, name in zip(js, ("server.crt", "server-rsa.crt")):
        assert_cert_matches(pki, name, fields)
    assert js[1]["Usage"] == "Digital Signature,Key Encipherment"


# ------------------------------------------------------------ wsserverd -t

def test_check_prints_certificate(pki):
    rc, out, ini = check_config(pki, [("UseSSL", "True"),
        ("SSLCert", pki.path("server.pem"))])
    assert rc == 0, out
    assert out.startswith("%s: configuration OK\ncertificate 1:\n" % ini)
    assert "  Subject: CN=localhost\n" in out
    assert "  Issuer: CN=wsserverd test CA\n" in out
    assert "  FingerprintSHA256: %s\n" % pki.fingerprint("server.crt") in out
    assert "  FingerprintSHA1: %s\n" % pki.fingerprint("server.crt",
        "sha1") in out
    assert "  SubjectAltNames: localhost,127.0.0.1\n" in out
    assert "  PublicKeyAlgorithm: EC\n  PublicKeyLength: 256\n" in out
    assert "  Usage: Digital Signature\n" in out


@pytest.mark.parametrize("keys,want", [
    ([("UseSSL", "True"), ("SSLCert", "{pki}/server.pfx"),
        ("SSLCertStoreType", "PFXFile"), ("SSLCertPassword", "wrong")],
        ":7: SSLCertPassword: {pki}/server.pfx: wrong password for the PFX "
        "file (MAC verification failed)\n"),
    ([("UseSSL", "True"), ("SSLCert", "{pki}/server-enc.pem")],
        ":5: SSLCert: {pki}/server-enc.pem: cannot decrypt the "
        "private key (it is encrypted and SSLCertPassword is empty)\n"),
    ([("UseSSL", "True"), ("SSLCert", "{pki}/nope.pem")],
        ":5: SSLCert: {pki}/nope.pem: No such file or directory\n"),
    ([("UseSSL", "True")],
        ":4: UseSSL: UseSSL is on but SSLCert names no certificate\n"),
    ([("SSLEnabledProtocols", "3120")],
        ":4: SSLEnabledProtocols: 3120 enables SSL3, which OpenSSL 3 does "
        "not offer and which are broken (use TLS1.2 3072 and TLS1.3 "
        "12288)\n"),
    ([("SSLEnabledProtocols", "12")],
        ":4: SSLEnabledProtocols: 12 enables SSL2, which OpenSSL 3 does not "
        "offer and which are broken (use TLS1.2 3072 and TLS1.3 12288)\n"),
    ([("SSLEnabledCipherSuites", "TLS_FOO_WITH_BAR")],
        ":4: SSLEnabledCipherSuites: unknown cipher suite "
        "\"TLS_FOO_WITH_BAR\"\n"),
    ([("SSLEnabledProtocols", "3072"),
        ("SSLEnabledCipherSuites", "TLS_AES_128_GCM_SHA256")],
        ":5: SSLEnabledCipherSuites: no suite left for the protocols of "
        "SSLEnabledProtocols\n"),
    ([("TLS13SupportedGroups", "ecdhe_x25519,ecdhe_nope")],
        ":4: TLS13SupportedGroups: unknown name \"ecdhe_nope\"\n"),
    ([("SSLCertStoreType", "User")],
        ":4: SSLCertStoreType: User: a Windows certificate store; use "
        "PEMKeyFile or PFXFile\n"),
    ([("SSLAuthenticateClients", "maybe")],
        ":4: SSLAuthenticateClients: invalid value \"maybe\" (use False, "
        "True, required, optional or request)\n"),
    ([("PreferredDHGroupBits", "2500")],
        ":4: PreferredDHGroupBits: 2500: use 2048, 3072, 4096, 6144 or "
        "8192 (the RFC 7919 groups)\n"),
    ([("UseSSL", "True"), ("SSLCert", "{pki}/sni.pem"),
        ("SSLCertSubject", "CN=c.test")],
        ":6: SSLCertSubject: no certificate in {pki}/sni.pem has a subject "
        "matching \"CN=c.test\"\n"),
])
def test_config_errors(pki, keys, want):
    keys = [(k, v.replace("{pki}", pki.dir)) for k, v in keys]
    rc, out, ini = check_config(pki, keys)
    assert rc == 1
    # Errors before logging starts carry the program's name.
    assert out == "wsserverd: " + ini + want.replace("{pki}", pki.dir)
