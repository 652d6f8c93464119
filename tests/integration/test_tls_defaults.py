"""TLS hardening (issue #19): the default TLS 1.2 suites are Mozilla's
"intermediate" ones, and a server name (SNI) that is not a host name ends
the handshake instead of reaching the log and handlers."""

import pytest

import tls_util
from test_tls import pki, ssl_sections as tls_sections  # noqa: F401

ENV = {"echo": {"Path": "/", "Backend": "echo"},
    "env": {"Path": "/env", "Backend": "script:{handlers}/printenv.py"}}


def ssl_sections(pki, **keys):
    # server-dual.pem holds an RSA and an ECDSA key: RSA suites can work.
    return tls_sections(pki, SSLCert=pki.path("server-dual.pem"), **keys)


@pytest.fixture(scope="module")
def d(module_daemons, pki):
    return module_daemons(routes=ENV, log_level=2, sections=ssl_sections(pki))


@pytest.mark.parametrize("cipher", [
    "AES128-SHA",			# static RSA, CBC, SHA-1
    "AES256-GCM-SHA384",		# static RSA: no forward secrecy
    "ECDHE-RSA-AES128-SHA",		# CBC with SHA-1
    "ECDHE-ECDSA-AES256-SHA384",	# CBC
    "DHE-RSA-AES128-SHA256",		# CBC
])
def test_weak_tls12_suites_refused_by_default(d, pki, cipher):
    rc, out = tls_util.s_client(d.port, "-tls1_2", "-cipher", cipher,
        "-CAfile", pki.ca)
    assert rc != 0, out
    assert "Cipher is (NONE)" in out or "alert" in out


@pytest.mark.parametrize("cipher", [
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-RSA-CHACHA20-POLY1305", "DHE-RSA-AES128-GCM-SHA256",
])
def test_intermediate_suites_by_default(d, pki, cipher):
    rc, out = tls_util.s_client(d.port, "-tls1_2", "-cipher", cipher,
        "-CAfile", pki.ca)
    assert rc == 0, out
    assert "New, TLSv1.2, Cipher is %s" % cipher in out


def test_tls13_unchanged(d, pki):
    rc, out = tls_util.s_client(d.port, "-tls1_3", "-CAfile", pki.ca)
    assert rc == 0, out
    assert "New, TLSv1.3, Cipher is TLS_" in out


def test_reference_names_still_select_others(module_daemons, pki):
    d = module_daemons(routes=ENV, sections=ssl_sections(pki,
        SSLEnabledCipherSuites="TLS_RSA_WITH_AES_128_CBC_SHA, "
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"))
    rc, out = tls_util.s_client(d.port, "-tls1_2", "-cipher", "AES128-SHA",
        "-CAfile", pki.ca)
    assert rc == 0, out
    assert "Cipher is AES128-SHA" in out


@pytest.mark.parametrize("name", ["a\x1b[31mb.example", "a\tb",
    "bad name.example", "x\x9bx", "trailing.dot.", "a..b", "-" * 64 + ".x"])
def test_sni_not_a_host_name_refused(d, pki, name):
    start = d.mark()
    rc, out = tls_util.s_client(d.port, "-servername", name, "-CAfile",
        pki.ca)
    assert rc != 0, out
    assert "illegal parameter" in out, out
    d.wait_log(r"TLS: refused the server name .* \(SNI\): not a host name",
        start=start)
    assert "\x1b" not in d.log_text()


@pytest.mark.parametrize("name", ["localhost", "a-b_c.example.org",
    "xn--bcher-kva.example"])
def test_sni_host_names_accepted(d, pki, name):
    rc, out = tls_util.s_client(d.port, "-servername", name, "-CAfile",
        pki.ca)
    assert rc == 0, out
