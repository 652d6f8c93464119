/*
 * tls.c - the OpenSSL context of wss://, built from the [ssl] keys of a
 * configuration: protocols, cipher suites, groups and signature
 * algorithms, the DH group, client certificate verification (with CRLs),
 * session reuse, the key log, the certificates (chosen per connection by
 * SNI), and the callbacks that log handshakes. Every problem goes to the
 * caller's tls_error_fn with its key. Also one SSL per connection and its
 * close_notify. Called by config_load (config.c) and by the connection
 * layer; calls tls-certs.c, tls-names.c and config_parse_bool.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conf/config-types.h"
#include "conf/config-value.h"
#include "conf/tls.h"
#include "conf/tls-int.h"
#include "conf/tls-names.h"
#include "base/log.h"
#include "base/util.h"

/* Puts the certificates on the context: the first of each key type serves. */
static int
tls_use_certs(struct tls_build *b, struct tls_ctx *t)
{
	char	 reason[256];
	size_t	 i, j;
	bool	 seen;

	for (i = 0; i < t->nids; i++) {
		seen = false;
		for (j = 0; j < i; j++)
			seen |= EVP_PKEY_get_base_id(t->ids[j].key) ==
			    EVP_PKEY_get_base_id(t->ids[i].key);
		if (seen)
			continue;
		if (SSL_CTX_use_cert_and_key(t->ctx, t->ids[i].cert,
		    t->ids[i].key, t->ids[i].chain, 1) != 1) {
			tls_fail(b, "SSLCert", "cannot use the certificate (%s)",
			    tls_ossl_reason(reason, sizeof(reason), "refused"));
			return -1;
		}
	}
	return 0;
}

/*
 * Certificate callback, after the ClientHello: with several certificates,
 * offer those whose names match the server name the client asked for (SNI);
 * OpenSSL then picks among them by the client's signature algorithms.
 */
static int
tls_cert_cb(SSL *ssl, void *arg)
{
	struct tls_ctx	*t = arg;
	const char	*name;
	size_t		 i, j, n = 0;
	bool		 seen;

	if (t->nids < 2 || (name = SSL_get_servername(ssl,
	    TLSEXT_NAMETYPE_host_name)) == NULL)
		return 1;
	for (i = 0; i < t->nids; i++) {
		if (X509_check_host(t->ids[i].cert, name, 0, 0, NULL) != 1)
			continue;
		seen = false;
		for (j = 0; j < i; j++)
			seen |= X509_check_host(t->ids[j].cert, name, 0, 0,
			    NULL) == 1 && EVP_PKEY_get_base_id(t->ids[j].key) ==
			    EVP_PKEY_get_base_id(t->ids[i].key);
		if (seen)
			continue;
		if (n++ == 0)
			SSL_certs_clear(ssl);
		if (SSL_use_cert_and_key(ssl, t->ids[i].cert, t->ids[i].key,
		    t->ids[i].chain, 1) != 1)
			return 0;
	}
	return 1;
}

/*
 * Tells whether name is a DNS host name as RFC 6066 says SNI carries one:
 * at most 253 bytes of dot-separated labels of 1 to 63 letters, digits,
 * "-" or "_" (underscores are common in practice), no trailing dot.
 */
static bool
tls_sni_ok(const char *name)
{
	size_t		 label = 0, len = 0;
	const char	*p;

	for (p = name; *p != '\0'; p++, len++) {
		if (*p == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_') {
			if (++label > 63)
				return false;
		} else
			return false;
	}
	return label > 0 && len <= 253;
}

/*
 * SNI: a name that is not a host name (control characters, spaces, a
 * trailing dot...) ends the handshake: it would reach the log, the admin
 * socket and handlers (SSL_TLS_SNI). Every host name is accepted
 * (certificates are chosen in tls_cert_cb).
 */
static int
tls_servername_cb(SSL *ssl, int *alert, void *arg)
{
	const char	*name, *id;

	(void)arg;
	name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	if (name == NULL || tls_sni_ok(name))
		return SSL_TLSEXT_ERR_OK;
	id = SSL_get_app_data(ssl);
	log_verbose("%s TLS: refused the server name \"%.255s\" (SNI): not a "
	    "host name", id != NULL ? id : "-", name);
	*alert = SSL_AD_ILLEGAL_PARAMETER;
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/* Verification of client certificates: policy, CRL soft-fail. */
static int
tls_verify_cb(int ok, X509_STORE_CTX *xs)
{
	SSL		*ssl;
	struct tls_ctx	*t;
	int		 err = X509_STORE_CTX_get_error(xs);

	ssl = X509_STORE_CTX_get_ex_data(xs,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl == NULL ||
	    (t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))) == NULL)
		return ok;
	if (!ok && t->check_crl == 1 && err == X509_V_ERR_UNABLE_TO_GET_CRL) {
		/* SSLCheckCRL 1: check where a CRL is known, else go on. */
		X509_STORE_CTX_set_error(xs, X509_V_OK);
		return 1;
	}
	if (!ok && t->auth == TLS_AUTH_REQUEST)
		return 1;	/* SSL_get_verify_result keeps the error */
	return ok;
}

/* Handshake progress at LogLevel 3 (the reference's SSLStatus); alerts at 2. */
static void
tls_info_cb(const SSL *ssl, int where, int ret)
{
	const char	*id = SSL_get_app_data(ssl);

	if (id == NULL)
		return;
	if ((where & SSL_CB_ALERT) && (ret & 0xff) == SSL_AD_CLOSE_NOTIFY)
		log_debug("%s TLS close_notify %s", id, (where & SSL_CB_READ) ?
		    "received" : "sent");
	else if (where & SSL_CB_ALERT)
		log_verbose("%s TLS alert %s: %s %s", id,
		    (where & SSL_CB_READ) ? "received" : "sent",
		    SSL_alert_type_string_long(ret),
		    SSL_alert_desc_string_long(ret));
	else if (where & SSL_CB_HANDSHAKE_DONE)
		log_debug("%s TLS handshake done", id);
	else if ((where & SSL_CB_LOOP) && log_get_level() >= LOG_DEBUG)
		log_debug("%s TLS %s", id, SSL_state_string_long(ssl));
}

/* LogSSLPackets: one debug line per TLS record and handshake message. */
static void
tls_msg_cb(int write_p, int version, int content_type, const void *buf,
    size_t len, SSL *ssl, void *arg)
{
	const char	*id = SSL_get_app_data(ssl), *what;

	if (id == NULL || content_type == SSL3_RT_HEADER ||
	    content_type == SSL3_RT_INNER_CONTENT_TYPE)
		return;
	switch (content_type) {
	case SSL3_RT_CHANGE_CIPHER_SPEC:
		what = "change_cipher_spec";
		break;
	case SSL3_RT_ALERT:
		what = "alert";
		break;
	case SSL3_RT_HANDSHAKE:
		what = "handshake";
		break;
	case SSL3_RT_APPLICATION_DATA:
		what = "application_data";
		break;
	default:
		what = "other";
		break;
	}
	if (content_type == SSL3_RT_HANDSHAKE && len > 0)
		log_debug("%s TLS %s %s type=%u len=%zu", id, write_p ? "sent" :
		    "received", what, *(const unsigned char *)buf, len);
	else
		log_debug("%s TLS %s %s len=%zu", id, write_p ? "sent" :
		    "received", what, len);
}

/* SSLKeyLogFile: appends one NSS key log line. */
static void
tls_keylog_cb(const SSL *ssl, const char *line)
{
	struct tls_ctx	*t = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	char		*l;
	size_t		 len = strlen(line);
	int		 fd;

	if (t == NULL || t->keylog == NULL || len > TLS_FILE_MAX)
		return;
	/* Opened each time: a rotated or removed file is picked up again. */
	if ((fd = open(t->keylog, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return;
	xasprintf(&l, "%s\n", line);
	if (write(fd, l, len + 1) != (ssize_t)(len + 1))
		log_warn("SSLKeyLogFile %s: short write", t->keylog);
	free(l);
	close(fd);
}

/* Applies SSLEnabledProtocols. */
static int
tls_set_protocols(struct tls_build *b, struct tls_ctx *t, int bits)
{
	static const struct {
		int	bit;
		int	version;
		long	no;
	} v[] = {
		{ TLS_PROTO_TLS1, TLS1_VERSION, SSL_OP_NO_TLSv1 },
		{ TLS_PROTO_TLS11, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1 },
		{ TLS_PROTO_TLS12, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2 },
		{ TLS_PROTO_TLS13, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3 },
	};
	char	*cause;
	size_t	 i;
	int	 lo = 0, hi = 0;

	if (tls_protocols_check(bits, &cause) == -1) {
		tls_fail(b, "SSLEnabledProtocols", "%s", cause);
		free(cause);
		return -1;
	}
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (bits & v[i].bit) {
			if (lo == 0)
				lo = v[i].version;
			hi = v[i].version;
		}
	}
	SSL_CTX_set_min_proto_version(t->ctx, lo);
	SSL_CTX_set_max_proto_version(t->ctx, hi);
	/* Holes (TLS1 and TLS1.2 without TLS1.1) are switched off one by one. */
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (!(bits & v[i].bit))
			SSL_CTX_set_options(t->ctx, v[i].no);
	}
	/* TLS 1.0 and 1.1 sign with SHA-1: OpenSSL 3 needs level 0 for them. */
	if (bits & (TLS_PROTO_TLS1 | TLS_PROTO_TLS11))
		SSL_CTX_set_security_level(t->ctx, 0);
	t->protocols = bits;
	return 0;
}

/* Applies SSLEnabledCipherSuites. */
static int
tls_set_ciphers(struct tls_build *b, struct tls_ctx *t, const char *spec)
{
	STACK_OF(SSL_CIPHER)	*sk;
	char			*cause, *l12, *l13, *copy, *w, *save;
	int			 i, r = 0;
	bool			 found;

	if (tls_cipher_lists(spec, &l12, &l13, &cause) == -1) {
		tls_fail(b, "SSLEnabledCipherSuites", "%s", cause);
		free(cause);
		return -1;
	}
	if (l12 == NULL) {
		/*
		 * "*": Mozilla's "intermediate" suites for TLS 1.2 (forward
		 * secrecy and AEAD only: no static RSA, no CBC, no SHA-1),
		 * OpenSSL's defaults for TLS 1.3 (the same three suites).
		 */
		if (SSL_CTX_set_cipher_list(t->ctx, TLS_DEFAULT_CIPHERS) != 1) {
			tls_fail(b, "SSLEnabledCipherSuites", "the default "
			    "suites are not available with this OpenSSL");
			return -1;
		}
		return 0;
	}
	if (*l13 == '\0')
		SSL_CTX_set_options(t->ctx, SSL_OP_NO_TLSv1_3);
	else if (SSL_CTX_set_ciphersuites(t->ctx, l13) != 1) {
		tls_fail(b, "SSLEnabledCipherSuites", "cannot use \"%s\"", l13);
		r = -1;
	}
	if (*l12 == '\0')
		SSL_CTX_set_options(t->ctx, SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |
		    SSL_OP_NO_TLSv1_2);
	else if (SSL_CTX_set_cipher_list(t->ctx, l12) != 1) {
		tls_fail(b, "SSLEnabledCipherSuites", "none of \"%s\" is "
		    "available with this OpenSSL", l12);
		r = -1;
	} else {
		/* Report suites that exist but are not usable here. */
		sk = SSL_CTX_get_ciphers(t->ctx);
		copy = xstrdup(l12);
		save = NULL;
		for (w = strtok_r(copy, ":", &save); w != NULL;
		    w = strtok_r(NULL, ":", &save)) {
			found = false;
			for (i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++)
				found |= strcmp(SSL_CIPHER_get_name(
				    sk_SSL_CIPHER_value(sk, i)), w) == 0;
			if (!found) {
				tls_fail(b, "SSLEnabledCipherSuites", "%s is not "
				    "available with this OpenSSL at its "
				    "security level", w);
				r = -1;
			}
		}
		free(copy);
	}
	ERR_clear_error();
	if ((SSL_CTX_get_options(t->ctx) & (SSL_OP_NO_TLSv1 |
	    SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3)) ==
	    (SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_TLSv1_2 |
	    SSL_OP_NO_TLSv1_3) ||
	    (*l13 == '\0' && !(t->protocols & ~TLS_PROTO_TLS13)) ||
	    (*l12 == '\0' && !(t->protocols & TLS_PROTO_TLS13))) {
		tls_fail(b, "SSLEnabledCipherSuites", "no suite left for the "
		    "protocols of SSLEnabledProtocols");
		r = -1;
	}
	free(l12);
	free(l13);
	return r;
}

/* SSL_CTX_set1_groups_list and SSL_CTX_set1_sigalgs_list are macros. */
static int
tls_try_groups(SSL_CTX *ctx, const char *list)
{
	return SSL_CTX_set1_groups_list(ctx, list);
}

/* See tls_try_groups. */
static int
tls_try_sigalgs(SSL_CTX *ctx, const char *list)
{
	return SSL_CTX_set1_sigalgs_list(ctx, list);
}

/*
 * Appends the names of list to *out, for key, skipping those *out already
 * has under another spelling (OpenSSL refuses duplicates: ECDSA+SHA256 is
 * ecdsa_secp256r1_sha256). Returns 0, or -1 after reporting unknown names.
 */
static int
tls_merge(struct tls_build *b, SSL_CTX *ctx, int (*try)(SSL_CTX *,
    const char *), const char *key, const char *list, char **out)
{
	char	*copy, *w, *save = NULL, *cand;
	int	 r = 0;

	copy = xstrdup(list);
	for (w = strtok_r(copy, ":", &save); w != NULL;
	    w = strtok_r(NULL, ":", &save)) {
		if (**out == '\0')
			cand = xstrdup(w);
		else
			xasprintf(&cand, "%s:%s", *out, w);
		if (try(ctx, cand) == 1) {
			free(*out);
			*out = cand;
			continue;
		}
		free(cand);
		if (try(ctx, w) != 1) {
			tls_fail(b, key, "unknown name \"%s\"", w);
			r = -1;
		}
	}
	free(copy);
	ERR_clear_error();
	return r;
}

/*
 * Applies the groups and signature algorithms. OpenSSL has one list of
 * each for every version: the TLS 1.3 list comes first, then what only
 * the TLS 1.2 list adds, each only when its version is enabled (but both
 * are always checked).
 */
static int
tls_set_groups(struct tls_build *b, struct tls_ctx *t, const struct config *cfg)
{
	char	*l, *g = xstrdup(""), *s = xstrdup(""), *g12 = xstrdup("");
	char	*s12 = xstrdup("");
	bool	 v13 = t->protocols & TLS_PROTO_TLS13;
	bool	 v12 = t->protocols & ~TLS_PROTO_TLS13;
	int	 r = 0;
	SSL_CTX	*scratch;

	/* Candidates are tried on a scratch context: each try replaces the list. */
	if ((scratch = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_fail(b, NULL, "cannot create a TLS context");
		free(g);
		free(s);
		free(g12);
		free(s12);
		return -1;
	}
	l = tls_groups_list(cfg->tls13_groups);
	r |= tls_merge(b, scratch, tls_try_groups, "TLS13SupportedGroups", l,
	    v13 ? &g : &g12);
	free(l);
	l = tls_groups_list(cfg->tls12_groups);
	r |= tls_merge(b, scratch, tls_try_groups, "TLS12SupportedGroups", l,
	    v12 ? &g : &g12);
	free(l);
	l = tls_sigalgs_list(cfg->tls13_sigalgs);
	r |= tls_merge(b, scratch, tls_try_sigalgs, "TLS13SignatureAlgorithms",
	    l, v13 ? &s : &s12);
	free(l);
	l = tls_sigalgs_list(cfg->tls12_sigalgs);
	r |= tls_merge(b, scratch, tls_try_sigalgs, "TLS12SignatureAlgorithms",
	    l, v12 ? &s : &s12);
	free(l);
	SSL_CTX_free(scratch);
	/* Empty lists leave OpenSSL's defaults. */
	if (*g != '\0')
		tls_try_groups(t->ctx, g);
	if (*s != '\0')
		tls_try_sigalgs(t->ctx, s);
	ERR_clear_error();
	free(g);
	free(s);
	free(g12);
	free(s12);
	return r;
}

/* PreferredDHGroupBits: the RFC 7919 group used by TLS 1.2 DHE suites. */
static int
tls_set_dh(struct tls_build *b, struct tls_ctx *t, int bits)
{
	EVP_PKEY_CTX	*pc;
	EVP_PKEY	*dh = NULL;
	char		 name[16];

	if (bits != 2048 && bits != 3072 && bits != 4096 && bits != 6144 &&
	    bits != 8192) {
		tls_fail(b, "PreferredDHGroupBits", "%d: use 2048, 3072, 4096, "
		    "6144 or 8192 (the RFC 7919 groups)", bits);
		return -1;
	}
	snprintf(name, sizeof(name), "ffdhe%d", bits);
	if ((pc = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL)) == NULL ||
	    EVP_PKEY_paramgen_init(pc) <= 0 ||
	    EVP_PKEY_CTX_set_group_name(pc, name) <= 0 ||
	    EVP_PKEY_paramgen(pc, &dh) <= 0 ||
	    SSL_CTX_set0_tmp_dh_pkey(t->ctx, dh) != 1) {
		EVP_PKEY_free(dh);
		EVP_PKEY_CTX_free(pc);
		ERR_clear_error();
		tls_fail(b, "PreferredDHGroupBits", "cannot set up %s", name);
		return -1;
	}
	EVP_PKEY_CTX_free(pc);
	return 0;
}

/* SSLAuthenticateClients: False/True as a boolean, or a policy name. */
static int
tls_parse_auth(struct tls_build *b, const char *s, enum tls_auth *out)
{
	bool	on;

	if (config_parse_bool(s, &on) == 0)
		*out = on ? TLS_AUTH_REQUIRED : TLS_AUTH_NONE;
	else if (strcasecmp(s, "required") == 0)
		*out = TLS_AUTH_REQUIRED;
	else if (strcasecmp(s, "optional") == 0)
		*out = TLS_AUTH_OPTIONAL;
	else if (strcasecmp(s, "request") == 0)
		*out = TLS_AUTH_REQUEST;
	else {
		tls_fail(b, "SSLAuthenticateClients", "invalid value \"%.64s\" "
		    "(use False, True, required, optional or request)", s);
		return -1;
	}
	return 0;
}

/* Sets up client certificate verification. */
static int
tls_set_verify(struct tls_build *b, struct tls_ctx *t, const struct config *cfg)
{
	struct tls_store	 st;
	STACK_OF(X509_NAME)	*names;
	X509_STORE		*store = SSL_CTX_get_cert_store(t->ctx);
	char			*cause, *data;
	size_t			 len;
	int			 i, mode, r = 0;

	t->check_crl = cfg->ssl_check_crl;
	if (tls_parse_auth(b, cfg->ssl_authenticate_clients, &t->auth) == -1)
		return -1;
	if (t->auth == TLS_AUTH_NONE)
		return 0;
	/* Like the reference: the system's trusted CAs, and SSLClientCACerts. */
	SSL_CTX_set_default_verify_paths(t->ctx);
	ERR_clear_error();
	memset(&st, 0, sizeof(st));
	names = sk_X509_NAME_new_null();
	if (*cfg->ssl_client_ca_certs != '\0') {
		if ((data = tls_pem_value(b, cfg->ssl_client_ca_certs, &len,
		    &cause)) == NULL) {
			tls_fail(b, "SSLClientCACerts", "%s", cause);
			free(cause);
			sk_X509_NAME_free(names);
			return -1;
		}
		if (tls_pem_parse(b, "SSLClientCACerts", "SSLClientCACerts",
		    data, len, "", &st) == -1)
			r = -1;
		free(data);
		for (i = 0; r == 0 && i < sk_X509_num(st.certs); i++) {
			X509_STORE_add_cert(store, sk_X509_value(st.certs, i));
			sk_X509_NAME_push(names, X509_NAME_dup(
			    X509_get_subject_name(sk_X509_value(st.certs, i))));
		}
		for (i = 0; r == 0 && i < sk_X509_CRL_num(st.crls); i++)
			X509_STORE_add_crl(store, sk_X509_CRL_value(st.crls, i));
		tls_store_clear(&st);
		ERR_clear_error();
	}
	/* Tells clients which CAs we take, so they pick the right certificate. */
	SSL_CTX_set_client_CA_list(t->ctx, names);
	if (t->check_crl > 0)
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	mode = SSL_VERIFY_PEER;
	if (t->auth == TLS_AUTH_REQUIRED)
		mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
	SSL_CTX_set_verify(t->ctx, mode, tls_verify_cb);
	return r;
}

/* Checks SSLKeyLogFile: its directory must exist; the file is appended to. */
static int
tls_set_keylog(struct tls_build *b, struct tls_ctx *t, const char *name)
{
	struct stat	 sb;
	char		*path, *slash;

	if (*name == '\0')
		return 0;
	path = tls_path(b, name);
	if ((slash = strrchr(path, '/')) != NULL && slash != path) {
		*slash = '\0';
		if (stat(path, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
			tls_fail(b, "SSLKeyLogFile", "%s: no such directory",
			    path);
			free(path);
			return -1;
		}
		*slash = '/';
	}
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		tls_fail(b, "SSLKeyLogFile", "%s: not a regular file", path);
		free(path);
		return -1;
	}
	t->keylog = path;
	SSL_CTX_set_keylog_callback(t->ctx, tls_keylog_cb);
	return 0;
}

/* Builds the TLS context from [ssl], reporting every problem; see tls.h. */
struct tls_ctx *
tls_ctx_new(const struct config *cfg, const char *dir, tls_error_fn err,
    void *arg)
{
	struct tls_build	 b;
	struct tls_ctx		*t;
	static const unsigned char sid[] = "wsserverd";
	int			 type;

	memset(&b, 0, sizeof(b));
	b.err = err;
	b.arg = arg;
	b.dir = dir;
	t = xcalloc(1, sizeof(*t));
	if ((t->ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_fail(&b, NULL, "cannot create the TLS context");
		free(t);
		return NULL;
	}
	SSL_CTX_set_app_data(t->ctx, t);
	/*
	 * A client that drops TCP without close_notify is an EOF, not an
	 * error: WebSocket's closing handshake already says whether the
	 * conversation was complete.
	 */
	SSL_CTX_set_options(t->ctx, SSL_OP_CIPHER_SERVER_PREFERENCE |
	    SSL_OP_NO_COMPRESSION | SSL_OP_IGNORE_UNEXPECTED_EOF |
	    (cfg->ssl_renegotiation ?
	    SSL_OP_ALLOW_CLIENT_RENEGOTIATION : SSL_OP_NO_RENEGOTIATION));
	/* libevent may retry a write with a moved buffer. */
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(t->ctx, sid, sizeof(sid) - 1);
	if (cfg->ssl_reuse_session)
		SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_SERVER);
	else {
		SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
		SSL_CTX_set_options(t->ctx, SSL_OP_NO_TICKET);
		SSL_CTX_set_num_tickets(t->ctx, 0);
	}
	SSL_CTX_set_info_callback(t->ctx, tls_info_cb);
	t->log_packets = cfg->log_ssl_packets;
	if (t->log_packets)
		SSL_CTX_set_msg_callback(t->ctx, tls_msg_cb);
	SSL_CTX_set_tlsext_servername_callback(t->ctx, tls_servername_cb);
	SSL_CTX_set_cert_cb(t->ctx, tls_cert_cb, t);

	if (tls_set_protocols(&b, t, cfg->ssl_enabled_protocols) == 0)
		tls_set_ciphers(&b, t, cfg->ssl_cipher_suites);
	tls_set_groups(&b, t, cfg);
	tls_set_dh(&b, t, cfg->dh_group_bits);
	tls_set_verify(&b, t, cfg);
	if (cfg->ssl_check_crl > 0 && t->auth == TLS_AUTH_NONE &&
	    cfg->use_ssl)
		tls_fail(&b, "SSLCheckCRL", "checks client certificates: needs "
		    "SSLAuthenticateClients");
	type = tls_store_type(&b, cfg->ssl_cert_store_type);
	if (cfg->use_ssl) {
		tls_set_keylog(&b, t, cfg->ssl_key_log_file);
		if (type != -1 && tls_load_certs(&b, t, cfg, type) == 0)
			tls_use_certs(&b, t);
	}
	ERR_clear_error();
	if (b.nerr > 0 || !cfg->use_ssl) {
		tls_ctx_free(t);
		return NULL;
	}
	return t;
}

/* Frees the context and the certificates it holds. */
void
tls_ctx_free(struct tls_ctx *t)
{
	size_t	i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nids; i++) {
		EVP_PKEY_free(t->ids[i].key);
		X509_free(t->ids[i].cert);
		sk_X509_pop_free(t->ids[i].chain, X509_free);
	}
	free(t->ids);
	free(t->keylog);
	SSL_CTX_free(t->ctx);
	free(t);
}

/* A server SSL for one connection, labelled with its ConnectionId. */
struct ssl_st *
tls_ssl_new(struct tls_ctx *t, const char *id)
{
	SSL	*ssl;
	char	 reason[256];

	if ((ssl = SSL_new(t->ctx)) == NULL) {
		log_error("%s SSL_new: %s", id, tls_ossl_reason(reason,
		    sizeof(reason), "failed"));
		return NULL;
	}
	SSL_set_app_data(ssl, (void *)id);
	return ssl;
}

/* Sends close_notify before the TCP FIN; see tls.h. */
void
tls_close_notify(struct ssl_st *ssl)
{
	if (ssl == NULL || !SSL_is_init_finished(ssl))
		return;
	/* Best effort: the socket is non-blocking and about to be half-closed. */
	SSL_shutdown(ssl);
	ERR_clear_error();
}

/*
 * A client context for a tcp: route's backend (BackendUseSSL): TLS 1.2 or
 * later, the system's CA certificates and BackendSSLCACerts, a client
 * certificate from BackendSSLCert, and verification unless
 * BackendSSLVerify is off. Returns it, or NULL with *cause (malloc'd).
 */
struct ssl_ctx_st *
tls_client_ctx_new(const struct route *r, char **cause)
{
	SSL_CTX	*ctx;
	char	 reason[256];

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_default_verify_paths(ctx) != 1)
		goto fail;
	if (r->ssl_ca != NULL && *r->ssl_ca != '\0' &&
	    SSL_CTX_load_verify_locations(ctx, r->ssl_ca, NULL) != 1)
		goto fail;
	if (r->ssl_cert != NULL && *r->ssl_cert != '\0' &&
	    (SSL_CTX_use_certificate_chain_file(ctx, r->ssl_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, r->ssl_cert,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1))
		goto fail;
	SSL_CTX_set_verify(ctx, r->ssl_verify ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	return ctx;
fail:
	xasprintf(cause, "backend TLS: %s", tls_ossl_reason(reason,
	    sizeof(reason), "cannot set up the client context"));
	SSL_CTX_free(ctx);
	return NULL;
}

/* Frees a route's client context; NULL is fine. */
void
tls_client_ctx_free(struct ssl_ctx_st *ctx)
{
	SSL_CTX_free(ctx);
}

/* Takes another reference to a client context (a mux channel keeps it). */
void
tls_client_ctx_ref(struct ssl_ctx_st *ctx)
{
	SSL_CTX_up_ref(ctx);
}

/* A client SSL: SNI and the name (or address) to check; see tls.h. */
struct ssl_st *
tls_client_ssl(struct ssl_ctx_st *ctx, const char *name, bool verify)
{
	SSL	*ssl;
	bool	 addr;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	/* An address is not a host name: no SNI, and it is checked as one. */
	addr = strchr(name, ':') != NULL ||
	    strspn(name, "0123456789.") == strlen(name);
	if (!addr)
		(void)SSL_set_tlsext_host_name(ssl, name);
	if (verify && (addr ? X509_VERIFY_PARAM_set1_ip_asc(
	    SSL_get0_param(ssl), name) != 1 : SSL_set1_host(ssl, name) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}
