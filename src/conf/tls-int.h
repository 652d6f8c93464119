/*
 * tls-int.h - what the TLS files share; nothing outside src/conf includes
 * it: the context's layout, the state of one build with its error
 * reporting, and what a certificate store held.
 *
 * The files, each calling only those listed before it (and, below them,
 * config-value.c: config_cause, config_parse_bool):
 *   tls-names.c   the reference's names of suites, groups, signature
 *                 algorithms and protocols, mapped to OpenSSL's (tls-names.h)
 *   tls-info.c    certificate fields, the negotiated session, mod_ssl
 *                 variables, startup log lines (tls-info.h)
 *   tls-certs.c   certificates, keys and CRLs read from files or PEM values
 *   tls.c         the context built from [ssl], and one SSL per connection
 */
#ifndef TLS_INT_H
#define TLS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

struct config;

/* Largest certificate store, CA file or key log line we read or write. */
#define TLS_FILE_MAX		(1024 * 1024)
/* Most private keys, and certificates, one store may hold. */
#define TLS_STORE_MAX		64

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
	void		(*err)(void *, const char *, const char *); /* tls_error_fn */
	void		*arg;
	int		 nerr;
	const char	*dir;
};

/* What a certificate store held. */
struct tls_store {
	EVP_PKEY		*keys[TLS_STORE_MAX];
	size_t			 nkeys;
	STACK_OF(X509)		*certs;
	STACK_OF(X509_CRL)	*crls;
};

/* tls-info.c: formats a name as the reference does: "CN=host, O=org". */
void		 tls_name(const X509_NAME *, char *, size_t);

/*
 * tls-certs.c. tls_fail reports one problem about key (NULL: the section)
 * to the build's caller and counts it. tls_ossl_reason is the reason of
 * the oldest queued OpenSSL error (the queue is emptied), or dflt.
 * tls_path makes a file name absolute against the ini file's directory.
 * tls_pem_value is the text of a PEM value: inline PEM or the file it
 * names; NULL with *cause (malloc'd). tls_pem_parse reads every PEM block of text into
 * st (certificates, private keys decrypted with pass, CRLs) and returns 0,
 * or -1 after reporting about key; tls_store_clear frees what st holds.
 * tls_store_type is SSLCertStoreType as 0 PEM file, 1 PFX file, 2 PEM
 * blob, 3 auto, or -1 (reported). tls_load_certs loads SSLCert (and
 * SSLCACerts) into t->ids: 0, or -1 (reported).
 */
void		 tls_fail(struct tls_build *, const char *key, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));
const char	*tls_ossl_reason(char *buf, size_t len, const char *dflt);
char		*tls_path(const struct tls_build *, const char *name);
char		*tls_pem_value(const struct tls_build *, const char *value,
		    size_t *lenp, char **cause);
int		 tls_pem_parse(struct tls_build *, const char *key,
		    const char *what, const char *text, size_t len,
		    const char *pass, struct tls_store *);
void		 tls_store_clear(struct tls_store *);
int		 tls_store_type(struct tls_build *, const char *);
int		 tls_load_certs(struct tls_build *, struct tls_ctx *,
		    const struct config *, int type);

#endif
