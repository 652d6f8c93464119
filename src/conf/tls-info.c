/*
 * tls-info.c - what the TLS layer tells about itself: each certificate's
 * fields as the reference's Certificate type names them (admin "cert",
 * wsserverd -t), the startup and reload log lines, a connection's
 * negotiated session (SSLNegotiated*: admin, watch, logs) and its mod_ssl
 * variables (the CGI environment of a script), and the text of an OpenSSL
 * error. Calls no other file of src/conf; tls-certs.c uses its tls_name.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conf/tls-info.h"
#include "conf/tls-int.h"
#include "conf/tls-names.h"
#include "base/log.h"
#include "base/util.h"

/* Certificates that expire sooner than this get a warning. */
#define TLS_EXPIRY_WARN		(30 * 86400)
/* One spelling of names: CN first, ", " between parts, UTF-8 kept. */
#define TLS_NAME_FLAGS		((ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | \
				XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_DN_REV | \
				XN_FLAG_FN_SN)

/* KeyUsage bits (the reference's UsageFlags values) and their names. */
static const struct {
	unsigned int	 bit;
	const char	*name;
} tls_usages[] = {
	{ 0x80, "Digital Signature" },
	{ 0x40, "Non-Repudiation" },
	{ 0x20, "Key Encipherment" },
	{ 0x10, "Data Encipherment" },
	{ 0x08, "Key Agreement" },
	{ 0x04, "Certificate Signing" },
	{ 0x02, "CRL Signing" },
	{ 0x01, "Encipher Only" },
};

/* Formats a name as the reference does: "CN=host, O=org, C=US". */
void
tls_name(const X509_NAME *name, char *buf, size_t len)
{
	BIO	*bio;
	int	 n;

	buf[0] = '\0';
	if (name == NULL || (bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	X509_NAME_print_ex(bio, name, 0, TLS_NAME_FLAGS);
	n = BIO_read(bio, buf, (int)len - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
}

/* A certificate time in local time, as the reference: 23-Jan-2000 15:00:00. */
static void
tls_time(const ASN1_TIME *at, char *buf, size_t len)
{
	struct tm	tm;
	time_t		t;

	buf[0] = '\0';
	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1)
		return;
	t = timegm(&tm);
	localtime_r(&t, &tm);
	strftime(buf, len, "%d-%b-%Y %H:%M:%S", &tm);
}

/* Hex of a digest, "30:7b:...". */
static void
tls_fingerprint(X509 *x, const EVP_MD *md, char *buf, size_t len)
{
	unsigned char	d[EVP_MAX_MD_SIZE];
	unsigned int	n, i;
	size_t		o = 0;

	buf[0] = '\0';
	if (X509_digest(x, md, d, &n) != 1)
		return;
	for (i = 0; i < n && o + 4 <= len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%02x", i ? ":" : "",
		    d[i]);
}

/* The serial number as hex digits, two per byte. */
static void
tls_serial(X509 *x, char *buf, size_t len)
{
	BIGNUM	*bn;
	char	*hex;

	buf[0] = '\0';
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) == NULL)
		return;
	if ((hex = BN_bn2hex(bn)) != NULL) {
		snprintf(buf, len, "%s%s", strlen(hex) % 2 ? "0" : "", hex);
		OPENSSL_free(hex);
	}
	BN_free(bn);
}

/* Fields of one certificate, as the reference's Certificate type names them. */
static void
tls_cert_fields(X509 *x, EVP_PKEY *key, tls_field_fn fn, void *arg)
{
	GENERAL_NAMES		*sans;
	const GENERAL_NAME	*gn;
	EXTENDED_KEY_USAGE	*eku;
	EVP_PKEY		*pub = X509_get0_pubkey(x);
	char			 buf[2048], tmp[256];
	size_t			 o, i;
	uint32_t		 ku;
	int			 j, n;

	tls_name(X509_get_subject_name(x), buf, sizeof(buf));
	fn(arg, "Subject", buf);
	tls_name(X509_get_issuer_name(x), buf, sizeof(buf));
	fn(arg, "Issuer", buf);
	snprintf(buf, sizeof(buf), "V%ld", X509_get_version(x) + 1);
	fn(arg, "Version", buf);
	tls_serial(x, buf, sizeof(buf));
	fn(arg, "SerialNumber", buf);
	tls_time(X509_get0_notBefore(x), buf, sizeof(buf));
	fn(arg, "EffectiveDate", buf);
	tls_time(X509_get0_notAfter(x), buf, sizeof(buf));
	fn(arg, "ExpirationDate", buf);
	tls_fingerprint(x, EVP_sha1(), buf, sizeof(buf));
	fn(arg, "FingerprintSHA1", buf);
	tls_fingerprint(x, EVP_sha256(), buf, sizeof(buf));
	fn(arg, "FingerprintSHA256", buf);
	buf[0] = '\0';
	o = 0;
	sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (j = 0; sans != NULL && j < sk_GENERAL_NAME_num(sans); j++) {
		gn = sk_GENERAL_NAME_value(sans, j);
		tmp[0] = '\0';
		if (gn->type == GEN_DNS || gn->type == GEN_EMAIL ||
		    gn->type == GEN_URI)
			snprintf(tmp, sizeof(tmp), "%.*s",
			    ASN1_STRING_length(gn->d.ia5),
			    (const char *)ASN1_STRING_get0_data(gn->d.ia5));
		else if (gn->type == GEN_IPADD) {
			const unsigned char *ip =
			    ASN1_STRING_get0_data(gn->d.ip);
			n = ASN1_STRING_length(gn->d.ip);
			if (n == 4)
				snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", ip[0],
				    ip[1], ip[2], ip[3]);
			else if (n == 16)
				inet_ntop(AF_INET6, ip, tmp, sizeof(tmp));
		}
		if (tmp[0] != '\0' && o + strlen(tmp) + 2 < sizeof(buf))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
			    o ? "," : "", tmp);
	}
	GENERAL_NAMES_free(sans);
	fn(arg, "SubjectAltNames", buf);
	snprintf(buf, sizeof(buf), "%s", pub != NULL ?
	    EVP_PKEY_get0_type_name(pub) : "");
	fn(arg, "PublicKeyAlgorithm", buf);
	snprintf(buf, sizeof(buf), "%d", pub != NULL ? EVP_PKEY_get_bits(pub) :
	    0);
	fn(arg, "PublicKeyLength", buf);
	fn(arg, "SignatureAlgorithm", OBJ_nid2ln(X509_get_signature_nid(x)));
	ku = X509_get_key_usage(x);
	buf[0] = '\0';
	o = 0;
	if (ku != UINT32_MAX) {
		for (i = 0; i < sizeof(tls_usages) / sizeof(tls_usages[0]); i++)
			if (ku & tls_usages[i].bit)
				o += (size_t)snprintf(buf + o, sizeof(buf) - o,
				    "%s%s", o ? "," : "", tls_usages[i].name);
	}
	fn(arg, "Usage", buf);
	snprintf(buf, sizeof(buf), "%u", ku != UINT32_MAX ? ku & 0xff : 0);
	fn(arg, "UsageFlags", buf);
	buf[0] = '\0';
	o = 0;
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	for (j = 0; eku != NULL && j < sk_ASN1_OBJECT_num(eku); j++) {
		OBJ_obj2txt(tmp, sizeof(tmp), sk_ASN1_OBJECT_value(eku, j), 1);
		if (o + strlen(tmp) + 2 < sizeof(buf))
			o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s",
			    o ? "," : "", tmp);
	}
	EXTENDED_KEY_USAGE_free(eku);
	fn(arg, "ExtendedKeyUsage", buf);
	fn(arg, "PrivateKeyAvailable", key != NULL ? "True" : "False");
}

/* The fields of the i-th certificate (the admin "cert" command). */
int
tls_ctx_cert_fields(const struct tls_ctx *t, size_t i, tls_field_fn fn,
    void *arg)
{
	if (t == NULL || i >= t->nids)
		return -1;
	tls_cert_fields(t->ids[i].cert, t->ids[i].key, fn, arg);
	return 0;
}

/* tls_field_fn for tls_ctx_print. */
static void
tls_print_field(void *arg, const char *name, const char *value)
{
	fprintf(arg, "  %s: %s\n", name, value);
}

/* Prints every certificate's fields (wsserverd -t). */
void
tls_ctx_print(const struct tls_ctx *t, FILE *f)
{
	size_t	i;

	for (i = 0; t != NULL && i < t->nids; i++) {
		fprintf(f, "certificate %zu:\n", i + 1);
		tls_cert_fields(t->ids[i].cert, t->ids[i].key, tls_print_field,
		    f);
	}
}

/* Startup and reload log lines: certificates, expiry, key log. */
void
tls_ctx_log(const struct tls_ctx *t)
{
	char	 subj[512], end[64];
	int	 days, secs;
	size_t	 i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nids; i++) {
		tls_name(X509_get_subject_name(t->ids[i].cert), subj,
		    sizeof(subj));
		tls_time(X509_get0_notAfter(t->ids[i].cert), end, sizeof(end));
		if (ASN1_TIME_diff(&days, &secs, NULL,
		    X509_get0_notAfter(t->ids[i].cert)) == 1 &&
		    (days < 0 || secs < 0))
			log_warn("TLS certificate \"%s\" expired on %s", subj,
			    end);
		else if (days * 86400LL + secs < TLS_EXPIRY_WARN)
			log_warn("TLS certificate \"%s\" expires on %s (in %d "
			    "days)", subj, end, days);
		else
			log_info("TLS certificate \"%s\" (expires %s)", subj,
			    end);
	}
	if (t->keylog != NULL)
		log_warn("SSLKeyLogFile: TLS session secrets are written to %s "
		    "(anyone who reads it can decrypt the traffic)", t->keylog);
	if (t->protocols & (TLS_PROTO_TLS1 | TLS_PROTO_TLS11))
		log_warn("SSLEnabledProtocols enables TLS 1.0/1.1: OpenSSL "
		    "security level 0");
}

/* Strength of a key exchange group, in bits, by its OpenSSL name. */
static int
tls_group_bits(const char *g)
{
	if (strcasecmp(g, "x25519") == 0)
		return 253;
	if (strcasecmp(g, "x448") == 0)
		return 448;
	if (strncmp(g, "ffdhe", 5) == 0)
		return atoi(g + 5);
	if (strcmp(g, "secp256r1") == 0 || strcmp(g, "prime256v1") == 0)
		return 256;
	if (strcmp(g, "secp384r1") == 0)
		return 384;
	if (strcmp(g, "secp521r1") == 0)
		return 521;
	return 0;
}

/* The negotiated session, as the reference's SSLNegotiated* name it. */
void
tls_get_info(struct ssl_st *ssl, struct tls_info *ti)
{
	const SSL_CIPHER	*c;
	const char		*s, *g;
	EVP_PKEY		*pk = NULL;
	X509			*peer;
	long			 vr;
	int			 nid;

	memset(ti, 0, sizeof(*ti));
	if (ssl == NULL)
		return;
	snprintf(ti->version, sizeof(ti->version), "%s", SSL_get_version(ssl));
	if ((c = SSL_get_current_cipher(ssl)) != NULL) {
		snprintf(ti->cipher, sizeof(ti->cipher), "%s",
		    SSL_CIPHER_get_name(c));
		s = SSL_CIPHER_standard_name(c);
		snprintf(ti->cipher_suite, sizeof(ti->cipher_suite), "%s",
		    s != NULL ? s : "");
		ti->cipher_strength = SSL_CIPHER_get_bits(c, NULL);
		nid = SSL_CIPHER_get_kx_nid(c);
		s = nid == NID_kx_ecdhe ? "ECDHE" : nid == NID_kx_dhe ? "DHE" :
		    nid == NID_kx_rsa ? "RSA" : nid == NID_kx_any ? "ECDHE" :
		    OBJ_nid2sn(nid);
		g = (nid = SSL_get_negotiated_group(ssl)) != 0 ?
		    SSL_group_to_name(ssl, nid) : NULL;
		if (g != NULL && strncmp(g, "ffdhe", 5) == 0)
			s = "DHE";	/* TLS 1.3 finite field groups */
		snprintf(ti->key_exchange, sizeof(ti->key_exchange), "%s%s%s",
		    s != NULL ? s : "", g != NULL ? " " : "", g != NULL ? g : "");
		if (SSL_get_peer_tmp_key(ssl, &pk) == 1) {
			ti->key_exchange_strength = EVP_PKEY_get_bits(pk);
			EVP_PKEY_free(pk);
		} else if (g != NULL)
			ti->key_exchange_strength = tls_group_bits(g);
	}
	s = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	snprintf(ti->sni, sizeof(ti->sni), "%s", s != NULL ? s : "");
	if ((peer = SSL_get0_peer_certificate(ssl)) == NULL) {
		snprintf(ti->client_verify, sizeof(ti->client_verify), "NONE");
		return;
	}
	vr = SSL_get_verify_result(ssl);
	if (vr == X509_V_OK)
		snprintf(ti->client_verify, sizeof(ti->client_verify),
		    "SUCCESS");
	else
		snprintf(ti->client_verify, sizeof(ti->client_verify),
		    "FAILED:%s", X509_verify_cert_error_string(vr));
	tls_name(X509_get_subject_name(peer), ti->client_subject,
	    sizeof(ti->client_subject));
	tls_name(X509_get_issuer_name(peer), ti->client_issuer,
	    sizeof(ti->client_issuer));
}

/* mod_ssl's date format: "Jan  2 15:04:05 2006 GMT". */
static void
tls_env_time(const ASN1_TIME *at, char *buf, size_t len)
{
	BIO	*bio;
	int	 n;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	ASN1_TIME_print(bio, at);
	n = BIO_read(bio, buf, (int)len - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
}

/* mod_ssl's DN format: RFC 2253 ("CN=x,O=y"), most specific first. */
static void
tls_env_dn(const X509_NAME *name, char *buf, size_t len)
{
	BIO	*bio;
	int	 n;

	buf[0] = '\0';
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 &
	    ~ASN1_STRFLGS_ESC_MSB);
	n = BIO_read(bio, buf, (int)len - 1);
	buf[n > 0 ? n : 0] = '\0';
	BIO_free(bio);
}

/* The mod_ssl-style SSL_* variables of a session; see tls.h. */
void
tls_env(struct ssl_st *ssl, tls_field_fn fn, void *arg)
{
	struct tls_info	 ti;
	X509		*peer;
	BIO		*bio;
	char		 buf[1024], *pem;
	long		 n;

	if (ssl == NULL)
		return;
	tls_get_info(ssl, &ti);
	fn(arg, "SSL_PROTOCOL", ti.version);
	fn(arg, "SSL_CIPHER", ti.cipher);
	snprintf(buf, sizeof(buf), "%d", ti.cipher_strength);
	fn(arg, "SSL_CIPHER_USEKEYSIZE", buf);
	fn(arg, "SSL_SESSION_RESUMED", SSL_session_reused(ssl) ? "Resumed" :
	    "Initial");
	if (ti.sni[0] != '\0')
		fn(arg, "SSL_TLS_SNI", ti.sni);
	fn(arg, "SSL_CLIENT_VERIFY", ti.client_verify);
	if ((peer = SSL_get0_peer_certificate(ssl)) == NULL)
		return;
	tls_env_dn(X509_get_subject_name(peer), buf, sizeof(buf));
	fn(arg, "SSL_CLIENT_S_DN", buf);
	tls_env_dn(X509_get_issuer_name(peer), buf, sizeof(buf));
	fn(arg, "SSL_CLIENT_I_DN", buf);
	tls_serial(peer, buf, sizeof(buf));
	fn(arg, "SSL_CLIENT_M_SERIAL", buf);
	tls_env_time(X509_get0_notBefore(peer), buf, sizeof(buf));
	fn(arg, "SSL_CLIENT_V_START", buf);
	tls_env_time(X509_get0_notAfter(peer), buf, sizeof(buf));
	fn(arg, "SSL_CLIENT_V_END", buf);
	if ((bio = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (PEM_write_bio_X509(bio, peer) == 1 &&
	    (n = BIO_get_mem_data(bio, &pem)) > 0 && n < TLS_FILE_MAX) {
		char *s = xmalloc((size_t)n + 1);

		memcpy(s, pem, (size_t)n);
		s[n] = '\0';
		fn(arg, "SSL_CLIENT_CERT", s);
		free(s);
	}
	BIO_free(bio);
}

/* Describes an OpenSSL error code for the log; see tls.h. */
const char *
tls_error_text(unsigned long err, bool *http, char *buf, size_t len)
{
	const char	*r;

	*http = ERR_GET_LIB(err) == ERR_LIB_SSL &&
	    ERR_GET_REASON(err) == SSL_R_HTTP_REQUEST;
	if (err == 0)
		r = "connection closed during the handshake";
	else if ((r = ERR_reason_error_string(err)) == NULL)
		r = "unknown OpenSSL error";
	snprintf(buf, len, "%s", r);
	return buf;
}
