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
 * variables). What a context or session tells is declared in tls-info.h,
 * which this file includes; the [ssl] name mappings are in tls-names.h;
 * tls-int.h lists the files.
 */
#ifndef TLS_H
#define TLS_H

#include "conf/tls-info.h"

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
 * A server SSL for one accepted connection, or NULL (logged). id labels
 * its log lines and must live as long as the SSL.
 */
struct ssl_st	*tls_ssl_new(struct tls_ctx *, const char *id);

/* Sends close_notify on a finished session (before the TCP FIN). */
void		 tls_close_notify(struct ssl_st *);

/*
 * tcp: backends with BackendUseSSL. tls_client_ctx_new builds the route's
 * client context (config_load keeps it in route->tls_client): TLS 1.2 or
 * later, the system's CAs and BackendSSLCACerts, BackendSSLCert, and
 * verification unless BackendSSLVerify is off; NULL with *cause
 * (malloc'd). tls_client_ctx_ref takes one more reference (freed with
 * tls_client_ctx_free, as the first). tls_client_ssl makes one SSL for a
 * connection to the backend: SNI and the name its certificate must carry
 * (an address is checked as one, without SNI); NULL on failure.
 */
struct route;
struct ssl_ctx_st;
struct ssl_ctx_st *tls_client_ctx_new(const struct route *, char **cause);
void		 tls_client_ctx_ref(struct ssl_ctx_st *);
void		 tls_client_ctx_free(struct ssl_ctx_st *);
struct ssl_st	*tls_client_ssl(struct ssl_ctx_st *, const char *name,
		    bool verify);

#endif
