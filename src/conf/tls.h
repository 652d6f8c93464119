/*
 * tls.h - wss://: the TLS module's interface. It owns the OpenSSL context
 * built from a configuration's [ssl] keys (struct tls_ctx, opaque: one per
 * loaded configuration, built by config_load and freed by config_free),
 * the server SSL of each connection, and what a session negotiated.
 *
 * Callers: config_load and config_free (the context), main (wsserverd -t,
 * the startup log), the server (the reload log), connections (an SSL per
 * connection, close_notify, handshake errors, the negotiated session), the
 * admin socket (cert, SSLNegotiated*), the CGI environment (the mod_ssl
 * variables). The [ssl] name mappings are in tls-names.h; tls-int.h lists
 * the files.
 */
#ifndef TLS_H
#define TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct config;
struct ssl_st;
struct tls_ctx;

/* Receives one problem with an [ssl] key (key NULL: the whole section). */
typedef void	(*tls_error_fn)(void *arg, const char *key, const char *msg);

/*
 * Builds the context from cfg's [ssl] keys: certificates, protocols,
 * cipher suites, groups, client verification. Relative file names are
 * taken relative to dir. Every problem found goes to err, each with the
 * key it is about. With UseSSL off the settings are checked the same way
 * but nothing is loaded. Returns the context; NULL when UseSSL is off or
 * when err was called.
 */
struct tls_ctx	*tls_ctx_new(const struct config *, const char *dir,
		    tls_error_fn err, void *arg);
/* Frees a context and the certificates it holds; NULL is fine. */
void		 tls_ctx_free(struct tls_ctx *);

/*
 * Logs what the daemon serves with (each certificate's subject and end
 * date), warns about certificates that expire within 30 days or have,
 * about SSLKeyLogFile, and about TLS 1.0/1.1 (OpenSSL security level 0).
 */
void		 tls_ctx_log(const struct tls_ctx *);

/* Calls fn for each field of the i-th certificate; -1 when there is none. */
typedef void	(*tls_field_fn)(void *arg, const char *name, const char *value);
int		 tls_ctx_cert_fields(const struct tls_ctx *, size_t i,
		    tls_field_fn fn, void *arg);
/* Writes every certificate's fields as "  Name: value" lines (wsserverd -t). */
void		 tls_ctx_print(const struct tls_ctx *, FILE *);

/*
 * A server SSL for one accepted connection, or NULL (logged). id labels
 * its log lines and must live as long as the SSL.
 */
struct ssl_st	*tls_ssl_new(struct tls_ctx *, const char *id);

/* Sends close_notify on a finished session (before the TCP FIN). */
void		 tls_close_notify(struct ssl_st *);

/*
 * The negotiated session of a connection (after its handshake), as the
 * reference's SSLNegotiated* settings name it. Strings are "" when
 * unknown; client_* are "" without a client certificate.
 */
struct tls_info {
	char	version[16];		/* SSLNegotiatedVersion: TLSv1.3 */
	char	cipher[64];		/* SSLNegotiatedCipher (OpenSSL name) */
	char	cipher_suite[96];	/* SSLNegotiatedCipherSuite (IANA name) */
	int	cipher_strength;	/* SSLNegotiatedCipherStrength, bits */
	char	key_exchange[48];	/* SSLNegotiatedKeyExchange: ECDHE X25519 */
	int	key_exchange_strength;	/* bits */
	char	sni[256];		/* server name the client asked for */
	char	client_verify[128];	/* NONE, SUCCESS or FAILED:reason */
	char	client_subject[512];
	char	client_issuer[512];
};
void		 tls_get_info(struct ssl_st *, struct tls_info *);

/*
 * Calls fn with the mod_ssl-style variables of a connection's session:
 * SSL_PROTOCOL, SSL_CIPHER, SSL_CIPHER_USEKEYSIZE, SSL_TLS_SNI,
 * SSL_CLIENT_VERIFY and, with a client certificate, SSL_CLIENT_S_DN,
 * SSL_CLIENT_I_DN, SSL_CLIENT_M_SERIAL, SSL_CLIENT_V_START,
 * SSL_CLIENT_V_END and SSL_CLIENT_CERT (PEM).
 */
void		 tls_env(struct ssl_st *, tls_field_fn fn, void *arg);

/*
 * Describes an OpenSSL error code (from bufferevent_get_openssl_error) in
 * buf and returns buf. *http is set when the peer spoke plain HTTP.
 */
const char	*tls_error_text(unsigned long err, bool *http, char *buf,
		    size_t len);

#endif
