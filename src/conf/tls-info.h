/*
 * tls-info.h - what the TLS layer tells: each certificate's fields (admin
 * "cert", wsserverd -t), the startup and reload log lines, a connection's
 * negotiated session (admin, watch, the connection's logs), the mod_ssl
 * variables of a script's environment, and the text of an OpenSSL error.
 * Included by tls.h: callers include that.
 */
#ifndef TLS_INFO_H
#define TLS_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ssl_st;
struct tls_ctx;

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
