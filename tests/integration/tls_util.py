"""tls_util.py - a throwaway PKI and TLS clients for the wss:// tests.

Pki() makes, with the openssl command, in a fresh temporary directory: a
test CA, server certificates for "localhost" / 127.0.0.1 (ECDSA and RSA),
two host certificates for SNI, a client certificate, a second CA whose
client certificate nobody trusts, a revoked client certificate with its
CRL, and a password-protected PKCS#12 file. Nothing secret is committed:
every key is made at test time and removed afterwards.

s_client() runs "openssl s_client" against 127.0.0.1 with a bounded time
and returns what it printed. Every wait here is bounded.
"""

import os
import shutil
import ssl
import subprocess
import tempfile

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
PFX_PASSWORD = "pfx-secret"
KEY_PASSWORD = "pem-secret"


def run(args, cwd, timeout=20, input_data=None):
    """Runs an openssl command in cwd; raises with its output if it fails."""
    p = subprocess.run([OPENSSL] + args, cwd=cwd, input=input_data,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError("openssl %s failed:\n%s" % (" ".join(args),
            p.stdout.decode("utf-8", "replace")))
    return p.stdout.decode("utf-8", "replace")


_CA_CONF = """\
[ca]
default_ca = testca
[testca]
dir = {dir}
database = {dir}/index.txt
new_certs_dir = {dir}/newcerts
serial = {dir}/serial
crlnumber = {dir}/crlnumber
default_md = sha256
default_crl_days = 30
policy = anything
copy_extensions = copy
unique_subject = no
[anything]
commonName = supplied
organizationName = optional
[client_ext]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
"""


class Pki:
    """A CA and certificates in a temporary directory; see the module doc."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wsserverd-tls-")
        d = self.dir
        self._ca("ca", "wsserverd test CA")
        self._ca("evilca", "untrusted test CA")
        self.ca = self.path("ca.crt")
        # The server: ECDSA and RSA, both for localhost and 127.0.0.1.
        self._leaf("server", "localhost", "ca", ec=True,
            san="DNS:localhost,IP:127.0.0.1", ext="serverAuth")
        self._leaf("server-rsa", "localhost", "ca", ec=False,
            san="DNS:localhost,IP:127.0.0.1", ext="serverAuth")
        self._leaf("a", "a.test", "ca", ec=True, san="DNS:a.test",
            ext="serverAuth")
        self._leaf("b", "b.test", "ca", ec=True, san="DNS:b.test",
            ext="serverAuth")
        self._leaf("client", "test client", "ca", ec=True, ext="clientAuth",
            org="wsserverd tests")
        self._leaf("evil", "evil client", "evilca", ec=True,
            ext="clientAuth")
        self._leaf("soon", "localhost", "ca", ec=True, san="DNS:localhost",
            ext="serverAuth", days=10)
        self._cat("soon.pem", "soon.key", "soon.crt")
        # Key, certificate and CA in one PEM file (the usual PEMKeyFile).
        self._cat("server.pem", "server.key", "server.crt", "ca.crt")
        self._cat("server-dual.pem", "server.key", "server.crt",
            "server-rsa.key", "server-rsa.crt", "ca.crt")
        self._cat("sni.pem", "a.key", "a.crt", "b.key", "b.crt")
        # The same with an encrypted key.
        run(["pkey", "-in", "server.key", "-aes256", "-passout",
            "pass:" + KEY_PASSWORD, "-out", "server-enc.key"], d)
        self._cat("server-enc.pem", "server-enc.key", "server.crt")
        run(["pkcs12", "-export", "-inkey", "server.key", "-in", "server.crt",
            "-certfile", "ca.crt", "-passout", "pass:" + PFX_PASSWORD,
            "-name", "server", "-out", "server.pfx"], d)
        # A revoked client certificate, through "openssl ca" for the CRL.
        os.makedirs(self.path("cadb/newcerts"))
        with open(self.path("cadb/index.txt"), "w"):
            pass
        with open(self.path("cadb/serial"), "w") as f:
            f.write("4000\n")
        with open(self.path("cadb/crlnumber"), "w") as f:
            f.write("01\n")
        with open(self.path("ca.cnf"), "w") as f:
            f.write(_CA_CONF.format(dir=self.path("cadb")))
        run(["req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:P-256", "-nodes", "-keyout", "revoked.key",
            "-subj", "/CN=revoked client", "-out", "revoked.csr"], d)
        run(["ca", "-batch", "-config", "ca.cnf", "-cert", "ca.crt",
            "-keyfile", "ca.key", "-in", "revoked.csr", "-out", "revoked.crt",
            "-extensions", "client_ext", "-days", "30", "-notext"], d)
        run(["ca", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile",
            "ca.key", "-revoke", "revoked.crt"], d)
        run(["ca", "-config", "ca.cnf", "-cert", "ca.crt", "-keyfile",
            "ca.key", "-gencrl", "-out", "ca.crl"], d)
        self._cat("ca-with-crl.pem", "ca.crt", "ca.crl")

    def path(self, name):
        return os.path.join(self.dir, name)

    def _cat(self, out, *names):
        with open(self.path(out), "w") as f:
            for n in names:
                with open(self.path(n)) as src:
                    f.write(src.read())

    def _keyargs(self, ec):
        if ec:
            return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        return ["-newkey", "rsa:2048"]

    def _ca(self, name, cn):
        run(["req", "-x509", "-new", "-nodes"] + self._keyargs(True) +
            ["-keyout", name + ".key", "-out", name + ".crt", "-days", "365",
            "-subj", "/CN=" + cn, "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign,cRLSign"], self.dir)

    def _leaf(self, name, cn, ca, ec, ext, san=None, org=None, days=365):
        subj = "/CN=" + cn + ("/O=" + org if org else "")
        run(["req", "-new", "-nodes"] + self._keyargs(ec) +
            ["-keyout", name + ".key", "-out", name + ".csr", "-subj", subj],
            self.dir)
        lines = ["basicConstraints=CA:FALSE",
            "keyUsage=critical,digitalSignature" +
            ("" if ec else ",keyEncipherment"),
            "extendedKeyUsage=" + ext]
        if san:
            lines.append("subjectAltName=" + san)
        with open(self.path(name + ".ext"), "w") as f:
            f.write("\n".join(lines) + "\n")
        run(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt",
            "-CAkey", ca + ".key", "-CAcreateserial", "-days", str(days),
            "-extfile", name + ".ext", "-out", name + ".crt"], self.dir)

    def client_context(self, cert=None):
        """An ssl.SSLContext trusting the test CA, with cert ("client"...)."""
        ctx = ssl.create_default_context(cafile=self.ca)
        if cert is not None:
            ctx.load_cert_chain(self.path(cert + ".crt"),
                self.path(cert + ".key"))
        return ctx

    def fingerprint(self, name, digest="sha256"):
        """The certificate's fingerprint as "ab:cd:..." (lower case)."""
        out = run(["x509", "-in", name, "-noout", "-fingerprint",
            "-" + digest], self.dir)
        return out.strip().split("=", 1)[1].lower()

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def s_client(port, *args, timeout=10):
    """Runs openssl s_client to 127.0.0.1:port; returns (rc, output).

    Its stdin is empty, so it leaves right after the handshake.
    """
    p = subprocess.run([OPENSSL, "s_client", "-connect",
        "127.0.0.1:%d" % port] + list(args), stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    return p.returncode, p.stdout.decode("utf-8", "replace")
