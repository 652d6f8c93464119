/*
 * tls-certs.c - the certificates of [ssl]: SSLCert read as a PEM file, a
 * PKCS#12 (PFX) file or PEM on the ini line, decrypted with
 * SSLCertPassword, filtered by SSLCertSubject, each key matched to its
 * certificate and chain (with SSLCACerts); the PEM values of
 * SSLClientCACerts; and the reporting of a build's problems (tls_fail).
 * Called by tls.c; calls tls-info.c for certificate names.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conf/config-types.h"
#include "conf/config-int.h"
#include "conf/tls-int.h"
#include "base/util.h"

/* Longest chain sent after the leaf. */
#define TLS_CHAIN_MAX		10

/* Reports one problem about key (NULL: the section). */
void
tls_fail(struct tls_build *b, const char *key, const char *fmt, ...)
{
	va_list	ap;
	char	msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->nerr++;
	b->err(b->arg, key, msg);
}

/* The reason of the oldest queued OpenSSL error (queue emptied), or dflt. */
const char *
tls_ossl_reason(char *buf, size_t len, const char *dflt)
{
	unsigned long	 e, last = 0;
	const char	*r;

	while ((e = ERR_get_error()) != 0) {
		if (last == 0)
			last = e;
	}
	if (last == 0 || (r = ERR_reason_error_string(last)) == NULL) {
		snprintf(buf, len, "%s", dflt);
		return buf;
	}
	snprintf(buf, len, "%s", r);
	return buf;
}

/* Reads a whole file of at most TLS_FILE_MAX bytes; NULL with *cause. */
static char *
tls_read_file(const char *path, size_t *lenp, char **cause)
{
	struct stat	 sb;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		config_cause(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		config_cause(cause, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (sb.st_size > TLS_FILE_MAX) {
		config_cause(cause, "%s: larger than %d bytes", path,
		    TLS_FILE_MAX);
		close(fd);
		return NULL;
	}
	buf = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		n = read(fd, buf + off, (size_t)sb.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	*lenp = off;
	return buf;
}

/* Makes a file name absolute against the ini file's directory. */
char *
tls_path(const struct tls_build *b, const char *name)
{
	char	*p;

	if (name[0] == '/' || b->dir == NULL)
		return xstrdup(name);
	xasprintf(&p, "%s/%s", b->dir, name);
	return p;
}

/*
 * Rewrites PEM written on one ini line ("-----BEGIN X-----MIIB...-----END
 * X-----", maybe with literal \n) as real PEM: base64 in 64-column lines.
 */
static char *
tls_pem_unfold(const char *s, size_t *lenp)
{
	const char	*p = s, *begin, *lab, *labend, *end;
	char		*out;
	size_t		 o = 0, col, cap;

	cap = strlen(s) * 2 + 64;
	out = xmalloc(cap);
	while ((begin = strstr(p, "-----BEGIN ")) != NULL) {
		lab = begin + 11;
		if ((labend = strstr(lab, "-----")) == NULL)
			break;
		o += (size_t)snprintf(out + o, cap - o, "-----BEGIN %.*s-----\n",
		    (int)(labend - lab), lab);
		p = labend + 5;
		if ((end = strstr(p, "-----END ")) == NULL)
			break;
		for (col = 0; p < end; p++) {
			if (*p == '\\' && (p[1] == 'n' || p[1] == 'r')) {
				p++;
				continue;
			}
			if (!isalnum((unsigned char)*p) && *p != '+' &&
			    *p != '/' && *p != '=')
				continue;
			out[o++] = *p;
			if (++col == 64) {
				out[o++] = '\n';
				col = 0;
			}
		}
		if (col > 0)
			out[o++] = '\n';
		o += (size_t)snprintf(out + o, cap - o, "-----END %.*s-----\n",
		    (int)(labend - lab), lab);
		if ((p = strstr(end + 9, "-----")) == NULL)
			break;
		p += 5;
	}
	out[o] = '\0';
	*lenp = o;
	return out;
}

/* The text of a PEM value: inline PEM or the file it names; see tls-int.h. */
char *
tls_pem_value(const struct tls_build *b, const char *value, size_t *lenp,
    char **cause)
{
	char	*path, *text;

	while (isspace((unsigned char)*value))
		value++;
	if (strncmp(value, "-----BEGIN ", 11) == 0)
		return tls_pem_unfold(value, lenp);
	path = tls_path(b, value);
	text = tls_read_file(path, lenp, cause);
	free(path);
	return text;
}

/* pem_password_cb: hands out SSLCertPassword. */
static int
tls_pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char	*pass = u;
	size_t		 n;

	if (pass == NULL)
		return 0;
	n = strlen(pass);
	if (n > (size_t)size)
		n = (size_t)size;
	memcpy(buf, pass, n);
	return (int)n;
}

/* Frees what a store holds. */
void
tls_store_clear(struct tls_store *st)
{
	size_t	i;

	for (i = 0; i < st->nkeys; i++)
		EVP_PKEY_free(st->keys[i]);
	st->nkeys = 0;
	sk_X509_pop_free(st->certs, X509_free);
	sk_X509_CRL_pop_free(st->crls, X509_CRL_free);
	st->certs = NULL;
	st->crls = NULL;
}

/*
 * Reads every PEM block of text into st: certificates, private keys
 * (decrypted with pass), CRLs; other blocks are skipped. Returns 0, or -1
 * after reporting about key.
 */
int
tls_pem_parse(struct tls_build *b, const char *key, const char *what,
    const char *text, size_t len, const char *pass, struct tls_store *st)
{
	const char	*p = text, *end = text + len, *begin, *lab, *stop;
	char		 label[64], reason[256];
	size_t		 n;
	BIO		*bio;
	X509		*x;
	X509_CRL	*crl;
	EVP_PKEY	*pk;
	bool		 any = false;

	if (st->certs == NULL)
		st->certs = sk_X509_new_null();
	if (st->crls == NULL)
		st->crls = sk_X509_CRL_new_null();
	while (p < end && (begin = strstr(p, "-----BEGIN ")) != NULL) {
		lab = begin + 11;
		if ((stop = strstr(lab, "-----")) == NULL)
			break;
		n = (size_t)(stop - lab);
		if (n >= sizeof(label))
			n = sizeof(label) - 1;
		memcpy(label, lab, n);
		label[n] = '\0';
		if ((stop = strstr(stop, "-----END ")) == NULL ||
		    (stop = strstr(stop + 9, "-----")) == NULL) {
			tls_fail(b, key, "%s: unterminated PEM block %s", what,
			    label);
			return -1;
		}
		stop += 5;
		bio = BIO_new_mem_buf(begin, (int)(stop - begin));
		any = true;
		ERR_clear_error();
		if (strcmp(label, "CERTIFICATE") == 0 ||
		    strcmp(label, "TRUSTED CERTIFICATE") == 0 ||
		    strcmp(label, "X509 CERTIFICATE") == 0) {
			if ((x = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL)) ==
			    NULL || sk_X509_num(st->certs) >= TLS_STORE_MAX) {
				X509_free(x);
				BIO_free(bio);
				tls_fail(b, key, "%s: bad or too many certificates "
				    "(%s)", what, tls_ossl_reason(reason,
				    sizeof(reason), "too many"));
				return -1;
			}
			sk_X509_push(st->certs, x);
		} else if (strcmp(label, "X509 CRL") == 0) {
			if ((crl = PEM_read_bio_X509_CRL(bio, NULL, NULL,
			    NULL)) == NULL ||
			    sk_X509_CRL_num(st->crls) >= TLS_STORE_MAX) {
				X509_CRL_free(crl);
				BIO_free(bio);
				tls_fail(b, key, "%s: bad or too many CRLs (%s)",
				    what, tls_ossl_reason(reason,
				    sizeof(reason), "too many"));
				return -1;
			}
			sk_X509_CRL_push(st->crls, crl);
		} else if (strstr(label, "PRIVATE KEY") != NULL) {
			pk = PEM_read_bio_PrivateKey(bio, NULL, tls_pass_cb,
			    (void *)pass);
			if (pk == NULL) {
				BIO_free(bio);
				if (strstr(label, "ENCRYPTED") != NULL ||
				    memmem(begin, (size_t)(stop - begin),
				    "ENCRYPTED", 9) != NULL) {
					ERR_clear_error();
					tls_fail(b, *pass == '\0' ? key :
					    "SSLCertPassword", "%s: cannot "
					    "decrypt the private key (%s)", what,
					    *pass == '\0' ? "it is encrypted and "
					    "SSLCertPassword is empty" :
					    "wrong password");
				} else
					tls_fail(b, key, "%s: bad private key "
					    "(%s)", what, tls_ossl_reason(reason,
					    sizeof(reason), "unreadable"));
				return -1;
			}
			if (st->nkeys == TLS_STORE_MAX) {
				EVP_PKEY_free(pk);
				BIO_free(bio);
				tls_fail(b, key, "%s: more than %d private keys",
				    what, TLS_STORE_MAX);
				return -1;
			}
			st->keys[st->nkeys++] = pk;
		}
		BIO_free(bio);
		p = stop;
	}
	if (!any) {
		tls_fail(b, key, "%s: no PEM data", what);
		return -1;
	}
	return 0;
}

/* Reads a PKCS#12 file into st. Returns 0, or -1 after reporting. */
static int
tls_pfx_parse(struct tls_build *b, const char *what, const char *data,
    size_t len, const char *pass, struct tls_store *st)
{
	PKCS12		*p12;
	BIO		*bio;
	EVP_PKEY	*pk = NULL;
	X509		*x = NULL;
	STACK_OF(X509)	*ca = NULL;
	const char	*pw = pass;
	char		 reason[256];

	bio = BIO_new_mem_buf(data, (int)len);
	p12 = d2i_PKCS12_bio(bio, NULL);
	BIO_free(bio);
	if (p12 == NULL) {
		tls_fail(b, "SSLCert", "%s: not a PKCS#12 (PFX) file (%s)", what,
		    tls_ossl_reason(reason, sizeof(reason), "unreadable"));
		return -1;
	}
	if (PKCS12_mac_present(p12)) {
		if (!PKCS12_verify_mac(p12, pw, -1)) {
			/* An empty password may be encoded either way. */
			if (*pass == '\0' && PKCS12_verify_mac(p12, NULL, 0))
				pw = NULL;
			else {
				PKCS12_free(p12);
				ERR_clear_error();
				tls_fail(b, "SSLCertPassword", "%s: wrong password "
				    "for the PFX file (MAC verification failed)",
				    what);
				return -1;
			}
		}
	}
	if (!PKCS12_parse(p12, pw, &pk, &x, &ca)) {
		PKCS12_free(p12);
		tls_fail(b, "SSLCertPassword", "%s: cannot open the PFX file "
		    "(%s)", what, tls_ossl_reason(reason, sizeof(reason),
		    "wrong password?"));
		return -1;
	}
	PKCS12_free(p12);
	st->certs = ca != NULL ? ca : sk_X509_new_null();
	st->crls = sk_X509_CRL_new_null();
	if (x != NULL)
		sk_X509_unshift(st->certs, x);
	if (pk != NULL)
		st->keys[st->nkeys++] = pk;
	return 0;
}

/* True if subject matches SSLCertSubject: "*", exactly, or as a substring. */
static bool
tls_subject_match(X509 *x, const char *want)
{
	char	subj[1024];

	if (strcmp(want, "*") == 0 || *want == '\0')
		return true;
	tls_name(X509_get_subject_name(x), subj, sizeof(subj));
	return strcasecmp(subj, want) == 0 || strcasestr(subj, want) != NULL;
}

/* The chain of leaf out of pool: issuer after issuer, leaf excluded. */
static STACK_OF(X509) *
tls_chain(X509 *leaf, STACK_OF(X509) *pool)
{
	STACK_OF(X509)	*chain = sk_X509_new_null();
	X509		*cur = leaf, *c = NULL;
	int		 i, depth;

	for (depth = 0; depth < TLS_CHAIN_MAX; depth++) {
		if (X509_check_issued(cur, cur) == X509_V_OK)
			break;		/* self-signed: the top */
		for (i = 0; i < sk_X509_num(pool); i++) {
			c = sk_X509_value(pool, i);
			if (c != cur && X509_cmp(c, leaf) != 0 &&
			    X509_check_issued(c, cur) == X509_V_OK)
				break;
		}
		if (i == sk_X509_num(pool))
			break;
		X509_up_ref(c);
		sk_X509_push(chain, c);
		cur = c;
	}
	return chain;
}

/* SSLCertStoreType: 0 PEM (file), 1 PFX (file), 2 PEM blob, 3 auto; -1 bad. */
int
tls_store_type(struct tls_build *b, const char *s)
{
	static const struct {
		const char	*name;
		int		 num;
		int		 type;
		const char	*why;
	} types[] = {
		{ "PEMKeyFile", 6, 0, NULL },
		{ "PFXFile", 2, 1, NULL },
		{ "PEMKeyBlob", 7, 2, NULL },
		{ "Auto", 99, 3, NULL },
		{ "User", 0, -1, "a Windows certificate store; use PEMKeyFile "
		  "or PFXFile" },
		{ "Machine", 1, -1, "a Windows certificate store; use "
		  "PEMKeyFile or PFXFile" },
		{ "PFXBlob", 3, -1, "not supported; use PFXFile" },
		{ "JKSFile", 4, -1, "Java only; convert it to PKCS#12 with "
		  "keytool and use PFXFile" },
		{ "JKSBlob", 5, -1, "Java only" },
		{ "PublicKeyFile", 8, -1, "holds no private key" },
	};
	const char	*n = s;
	size_t		 i;
	char		*end;
	long		 v;

	if (strncasecmp(n, "cst", 3) == 0)
		n += 3;
	v = strtol(s, &end, 10);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(n, types[i].name) == 0 ||
		    (*s != '\0' && *end == '\0' && v == types[i].num)) {
			if (types[i].type == -1) {
				tls_fail(b, "SSLCertStoreType", "%s: %s",
				    types[i].name, types[i].why);
				return -1;
			}
			return types[i].type;
		}
	}
	tls_fail(b, "SSLCertStoreType", "unknown store type \"%.64s\" (use "
	    "PEMKeyFile, PFXFile, PEMKeyBlob or Auto)", s);
	return -1;
}

/* Loads SSLCert (and SSLCACerts) into t->ids. Returns 0 or -1 (reported). */
int
tls_load_certs(struct tls_build *b, struct tls_ctx *t, const struct config *cfg,
    int type)
{
	struct tls_store	 st, ca;
	struct tls_ident	*id;
	char			*cause = NULL, *path = NULL, *data = NULL;
	const char		*what;
	size_t			 len = 0, i;
	int			 j, r = -1;
	X509			*x;

	memset(&st, 0, sizeof(st));
	memset(&ca, 0, sizeof(ca));
	if (*cfg->ssl_cert == '\0') {
		tls_fail(b, "UseSSL", "UseSSL is on but SSLCert names no "
		    "certificate");
		return -1;
	}
	if (type == 2) {
		data = tls_pem_unfold(cfg->ssl_cert, &len);
		what = "SSLCert";
	} else {
		path = tls_path(b, cfg->ssl_cert);
		if ((data = tls_read_file(path, &len, &cause)) == NULL) {
			tls_fail(b, "SSLCert", "%s", cause);
			goto out;
		}
		what = path;
		if (type == 3)
			type = memmem(data, len, "-----BEGIN ", 11) != NULL ?
			    0 : 1;
	}
	if (type == 1) {
		if (tls_pfx_parse(b, what, data, len, cfg->ssl_cert_password,
		    &st) == -1)
			goto out;
	} else if (tls_pem_parse(b, "SSLCert", what, data, len,
	    cfg->ssl_cert_password, &st) == -1)
		goto out;
	if (*cfg->ssl_ca_certs != '\0') {
		free(data);
		if ((data = tls_pem_value(b, cfg->ssl_ca_certs, &len,
		    &cause)) == NULL) {
			tls_fail(b, "SSLCACerts", "%s", cause);
			goto out;
		}
		if (tls_pem_parse(b, "SSLCACerts", "SSLCACerts", data, len, "",
		    &ca) == -1)
			goto out;
		while ((x = sk_X509_shift(ca.certs)) != NULL)
			sk_X509_push(st.certs, x);
	}
	if (st.nkeys == 0) {
		tls_fail(b, "SSLCert", "%s: no private key", what);
		goto out;
	}
	t->ids = xcalloc(st.nkeys, sizeof(*t->ids));
	for (i = 0; i < st.nkeys; i++) {
		for (j = 0; j < sk_X509_num(st.certs); j++) {
			x = sk_X509_value(st.certs, j);
			if (X509_check_private_key(x, st.keys[i]) == 1)
				break;
		}
		ERR_clear_error();
		if (j == sk_X509_num(st.certs)) {
			tls_fail(b, "SSLCert", "%s: private key %zu has no "
			    "certificate", what, i + 1);
			goto out;
		}
		if (!tls_subject_match(x, cfg->ssl_cert_subject))
			continue;
		id = &t->ids[t->nids++];
		X509_up_ref(x);
		id->cert = x;
		id->key = st.keys[i];
		st.keys[i] = NULL;
		id->chain = tls_chain(x, st.certs);
	}
	if (t->nids == 0) {
		tls_fail(b, "SSLCertSubject", "no certificate in %s has a "
		    "subject matching \"%.64s\"", what, cfg->ssl_cert_subject);
		goto out;
	}
	r = 0;
out:
	tls_store_clear(&st);
	tls_store_clear(&ca);
	free(cause);
	free(data);
	free(path);
	return r;
}
