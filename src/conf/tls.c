/* tls.c - wss://: the OpenSSL context built from [ssl], and per-connection TLS facts. */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "conf/config.h"
#include "base/log.h"
#include "conf/tls.h"
#include "base/util.h"

/* Largest certificate store, CA file or key log line we read or write. */
#define TLS_FILE_MAX		(1024 * 1024)
/* Most private keys, and certificates, one store may hold. */
#define TLS_STORE_MAX		64
/* Longest chain sent after the leaf. */
#define TLS_CHAIN_MAX		10
/* Certificates that expire sooner than this get a warning. */
#define TLS_EXPIRY_WARN		(30 * 86400)
/* One spelling of names: CN first, ", " between parts, UTF-8 kept. */
#define TLS_NAME_FLAGS		((ASN1_STRFLGS_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | \
				XN_FLAG_SEP_CPLUS_SPC | XN_FLAG_DN_REV | \
				XN_FLAG_FN_SN)

/* SSLAuthenticateClients, as a policy. */
enum tls_auth {
	TLS_AUTH_NONE,		/* no certificate request */
	TLS_AUTH_REQUIRED,	/* a certificate that verifies, or no session */
	TLS_AUTH_OPTIONAL,	/* none is fine; a bad one fails the handshake */
	TLS_AUTH_REQUEST,	/* anything goes; the status is passed on */
};

/* One certificate the server can present, with its key and chain. */
struct tls_ident {
	EVP_PKEY	*key;
	X509		*cert;
	STACK_OF(X509)	*chain;
};

struct tls_ctx {
	SSL_CTX			*ctx;
	struct tls_ident	*ids;
	size_t			 nids;
	char			*keylog;	/* SSLKeyLogFile, absolute; NULL off */
	bool			 log_packets;	/* LogSSLPackets */
	enum tls_auth		 auth;
	int			 check_crl;	/* SSLCheckCRL */
	int			 protocols;	/* SSLEnabledProtocols */
};

/* What a build has to report problems. */
struct tls_build {
	tls_error_fn	 err;
	void		*arg;
	int		 nerr;
	const char	*dir;
};

/* The cipher suites that exist only in TLS 1.3 (OpenSSL uses IANA names). */
static const char *const tls13_suites[] = {
	"TLS_AES_128_GCM_SHA256",
	"TLS_AES_256_GCM_SHA384",
	"TLS_CHACHA20_POLY1305_SHA256",
	"TLS_AES_128_CCM_SHA256",
	"TLS_AES_128_CCM_8_SHA256",
};

/* The reference's group names and OpenSSL's. */
static const struct {
	const char	*ref;
	const char	*ossl;
} tls_group_names[] = {
	{ "ecdhe_x25519", "X25519" },
	{ "ecdhe_x448", "X448" },
	{ "ecdhe_secp256r1", "P-256" },
	{ "ecdhe_secp384r1", "P-384" },
	{ "ecdhe_secp521r1", "P-521" },
	{ "ffdhe_2048", "ffdhe2048" },
	{ "ffdhe_3072", "ffdhe3072" },
	{ "ffdhe_4096", "ffdhe4096" },
	{ "ffdhe_6144", "ffdhe6144" },
	{ "ffdhe_8192", "ffdhe8192" },
};

/* TLS 1.3 signature algorithm names that OpenSSL spells otherwise. */
static const struct {
	const char	*ref;
	const char	*ossl;
} tls_sigalg_names[] = {
	{ "rsa_pss_sha256", "rsa_pss_rsae_sha256:rsa_pss_pss_sha256" },
	{ "rsa_pss_sha384", "rsa_pss_rsae_sha384:rsa_pss_pss_sha384" },
	{ "rsa_pss_sha512", "rsa_pss_rsae_sha512:rsa_pss_pss_sha512" },
};

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

/* Reports one problem about key (NULL: the section). */
static void __attribute__((format(printf, 3, 4)))
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
static const char *
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

/* Appends s to a malloc'd ":"-separated list. */
static void
tls_list_add(char **list, const char *s)
{
	char	*n;

	if (*list == NULL || **list == '\0') {
		free(*list);
		*list = xstrdup(s);
		return;
	}
	xasprintf(&n, "%s:%s", *list, s);
	free(*list);
	*list = n;
}

/* Calls fn on each word of spec (split at ";,:" and spaces) until it fails. */
static int
tls_words(const char *spec, int (*fn)(void *, const char *), void *arg)
{
	char	 word[128];
	size_t	 n, len;

	while (*spec != '\0') {
		while (*spec != '\0' && (strchr(";,:", *spec) != NULL ||
		    isspace((unsigned char)*spec)))
			spec++;
		if (*spec == '\0')
			break;
		for (len = 0; spec[len] != '\0' &&
		    strchr(";,:", spec[len]) == NULL &&
		    !isspace((unsigned char)spec[len]); len++)
			;
		/* A longer name is cut, and then unknown. */
		n = len < sizeof(word) ? len : sizeof(word) - 1;
		memcpy(word, spec, n);
		word[n] = '\0';
		spec += len;
		if (fn(arg, word) == -1)
			return -1;
	}
	return 0;
}

/* Checks SSLEnabledProtocols; see tls.h. */
int
tls_protocols_check(int bits, char *cause, size_t len)
{
	if (bits & (TLS_PROTO_SSL2 | TLS_PROTO_SSL3)) {
		snprintf(cause, len, "%d enables %s, which OpenSSL 3 does not "
		    "offer and which are broken (use TLS1.2 3072 and TLS1.3 "
		    "12288)", bits, (bits & TLS_PROTO_SSL2) && (bits &
		    TLS_PROTO_SSL3) ? "SSL2 and SSL3" : (bits & TLS_PROTO_SSL2) ?
		    "SSL2" : "SSL3");
		return -1;
	}
	if (bits & ~(TLS_PROTO_TLS13 | TLS_PROTO_TLS12 | TLS_PROTO_TLS11 |
	    TLS_PROTO_TLS1 | TLS_PROTO_SSL3 | TLS_PROTO_SSL2)) {
		snprintf(cause, len, "%d has unknown bits (TLS1.3 12288, TLS1.2 "
		    "3072, TLS1.1 768, TLS1 192)", bits);
		return -1;
	}
	if (bits == 0) {
		snprintf(cause, len, "0 enables no protocol");
		return -1;
	}
	return 0;
}

/* True if name is a TLS 1.3 cipher suite. */
static bool
tls_is_tls13_suite(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(tls13_suites) / sizeof(tls13_suites[0]); i++) {
		if (strcasecmp(name, tls13_suites[i]) == 0)
			return true;
	}
	return false;
}

/* State of tls_cipher_lists while it walks the names. */
struct tls_cipher_walk {
	char		*l12, *l13;
	SSL_CTX		*all;		/* every cipher OpenSSL has */
	char		*cause;
	size_t		 len;
};

/* Maps one cipher suite name. */
static int
tls_cipher_one(void *arg, const char *name)
{
	struct tls_cipher_walk	*w = arg;
	STACK_OF(SSL_CIPHER)	*sk;
	const char		*o;
	char			 up[64];
	int			 i;

	if (tls_is_tls13_suite(name)) {
		for (i = 0; name[i] != '\0' && i < (int)sizeof(up) - 1; i++)
			up[i] = (char)toupper((unsigned char)name[i]);
		up[i] = '\0';
		tls_list_add(&w->l13, up);
		return 0;
	}
	o = OPENSSL_cipher_name(name);
	if (o != NULL && strcmp(o, "(NONE)") != 0) {
		tls_list_add(&w->l12, o);
		return 0;
	}
	/* Not an IANA name: maybe OpenSSL's own. */
	sk = SSL_CTX_get_ciphers(w->all);
	for (i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++) {
		o = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i));
		if (strcmp(o, name) == 0) {
			tls_list_add(&w->l12, o);
			return 0;
		}
	}
	snprintf(w->cause, w->len, "unknown cipher suite \"%.64s\"", name);
	return -1;
}

/* Maps SSLEnabledCipherSuites to OpenSSL's two lists; see tls.h. */
int
tls_cipher_lists(const char *spec, char **tls12, char **tls13, char *cause,
    size_t len)
{
	struct tls_cipher_walk	w;
	const char		*s;
	int			r;

	*tls12 = *tls13 = NULL;
	for (s = spec; isspace((unsigned char)*s); s++)
		;
	if (*s == '\0' || (*s == '*' && s[1 + strspn(s + 1, " \t")] == '\0'))
		return 0;
	memset(&w, 0, sizeof(w));
	w.cause = cause;
	w.len = len;
	if ((w.all = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(cause, len, "out of memory");
		return -1;
	}
	SSL_CTX_set_security_level(w.all, 0);
	SSL_CTX_set_cipher_list(w.all, "ALL:COMPLEMENTOFALL");
	r = tls_words(s, tls_cipher_one, &w);
	SSL_CTX_free(w.all);
	ERR_clear_error();
	if (r == -1) {
		free(w.l12);
		free(w.l13);
		return -1;
	}
	*tls12 = w.l12 != NULL ? w.l12 : xstrdup("");
	*tls13 = w.l13 != NULL ? w.l13 : xstrdup("");
	return 0;
}

/* tls_words callback: one group name into an OpenSSL list. */
static int
tls_group_one(void *arg, const char *name)
{
	char	**list = arg;
	size_t	 i;

	for (i = 0; i < sizeof(tls_group_names) / sizeof(tls_group_names[0]);
	    i++) {
		if (strcasecmp(name, tls_group_names[i].ref) == 0) {
			tls_list_add(list, tls_group_names[i].ossl);
			return 0;
		}
	}
	tls_list_add(list, name);
	return 0;
}

/* Maps the reference's group names to an OpenSSL groups list. */
char *
tls_groups_list(const char *spec)
{
	char	*list = NULL;

	tls_words(spec, tls_group_one, &list);
	return list != NULL ? list : xstrdup("");
}

/* tls_words callback: one signature algorithm name into an OpenSSL list. */
static int
tls_sigalg_one(void *arg, const char *name)
{
	char		**list = arg;
	const char	*dash;
	char		 buf[128];
	size_t		 i;

	for (i = 0; i < sizeof(tls_sigalg_names) / sizeof(tls_sigalg_names[0]);
	    i++) {
		if (strcasecmp(name, tls_sigalg_names[i].ref) == 0) {
			tls_list_add(list, tls_sigalg_names[i].ossl);
			return 0;
		}
	}
	/* TLS 1.2 "hash-signature" (sha256-rsa) is OpenSSL's RSA+SHA256. */
	if ((dash = strchr(name, '-')) != NULL && strncasecmp(name, "sha", 3) ==
	    0 && strchr(dash + 1, '-') == NULL) {
		snprintf(buf, sizeof(buf), "%s+%.*s", dash + 1,
		    (int)(dash - name), name);
		for (i = 0; buf[i] != '\0'; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		tls_list_add(list, buf);
		return 0;
	}
	tls_list_add(list, name);
	return 0;
}

/* Maps the reference's signature algorithm names to an OpenSSL list. */
char *
tls_sigalgs_list(const char *spec)
{
	char	*list = NULL;

	tls_words(spec, tls_sigalg_one, &list);
	return list != NULL ? list : xstrdup("");
}

/* Reads a whole file of at most TLS_FILE_MAX bytes; NULL with cause. */
static char *
tls_read_file(const char *path, size_t *lenp, char *cause, size_t clen)
{
	struct stat	 sb;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(cause, clen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		snprintf(cause, clen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (sb.st_size > TLS_FILE_MAX) {
		snprintf(cause, clen, "%s: larger than %d bytes", path,
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
static char *
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

/* The text of a PEM value: inline PEM or the file it names; NULL with cause. */
static char *
tls_pem_value(const struct tls_build *b, const char *value, size_t *lenp,
    char *cause, size_t clen)
{
	char	*path, *text;

	while (isspace((unsigned char)*value))
		value++;
	if (strncmp(value, "-----BEGIN ", 11) == 0)
		return tls_pem_unfold(value, lenp);
	path = tls_path(b, value);
	text = tls_read_file(path, lenp, cause, clen);
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

/* What a certificate store held. */
struct tls_store {
	EVP_PKEY		*keys[TLS_STORE_MAX];
	size_t			 nkeys;
	STACK_OF(X509)		*certs;
	STACK_OF(X509_CRL)	*crls;
};

/* Frees what a store holds. */
static void
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
static int
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

/* Formats a name as the reference does: "CN=host, O=org, C=US". */
static void
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
static int
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
static int
tls_load_certs(struct tls_build *b, struct tls_ctx *t, const struct config *cfg,
    int type)
{
	struct tls_store	 st, ca;
	struct tls_ident	*id;
	char			 cause[512], *path = NULL, *data = NULL;
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
		if ((data = tls_read_file(path, &len, cause, sizeof(cause))) ==
		    NULL) {
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
		if ((data = tls_pem_value(b, cfg->ssl_ca_certs, &len, cause,
		    sizeof(cause))) == NULL) {
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
	free(data);
	free(path);
	return r;
}

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

/* SNI: accept every name (certificates are chosen in tls_cert_cb). */
static int
tls_servername_cb(SSL *ssl, int *alert, void *arg)
{
	return SSL_TLSEXT_ERR_OK;
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
	char	 cause[256];
	size_t	 i;
	int	 lo = 0, hi = 0;

	if (tls_protocols_check(bits, cause, sizeof(cause)) == -1) {
		tls_fail(b, "SSLEnabledProtocols", "%s", cause);
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
	char			 cause[256], *l12, *l13, *copy, *w, *save;
	int			 i, r = 0;
	bool			 found;

	if (tls_cipher_lists(spec, &l12, &l13, cause, sizeof(cause)) == -1) {
		tls_fail(b, "SSLEnabledCipherSuites", "%s", cause);
		return -1;
	}
	if (l12 == NULL)
		return 0;	/* "*": OpenSSL's defaults */
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
	char			 cause[512], *data;
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
		    cause, sizeof(cause))) == NULL) {
			tls_fail(b, "SSLClientCACerts", "%s", cause);
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
