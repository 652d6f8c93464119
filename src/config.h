/* config.h - wsserverd.ini: one key table drives parsing, validation, -t and the man page. */
#ifndef WSS_CONFIG_H
#define WSS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum msg_format {
	FORMAT_LINES,		/* one text message per line (websocketd) */
	FORMAT_BINARY,		/* raw byte stream both ways */
};

enum backend_kind {
	BACKEND_ECHO,		/* "echo" */
	BACKEND_SCRIPT,		/* "script:/path/to/handler [args]" */
};

struct tls_ctx;

struct route {
	char		*name;		/* NAME of [route:NAME] */
	char		*path;		/* Path: exact request path */
	char		*backend;	/* Backend as written */
	enum backend_kind kind;
	char		**argv;		/* script: program and args, NULL-terminated */
	enum msg_format	 format;	/* MessageFormat */
	char		*subprotocols;	/* SubProtocols: comma-separated, "" none */
	char		**passenv;	/* PassEnv: variable names, NULL-terminated */
};

struct config {
	char		*file;

	/* [server] */
	char		*local_host;		/* LocalHost ("" = any) */
	int		 local_port;		/* LocalPort (0 = ephemeral) */
	int		 connection_backlog;	/* ConnectionBacklog */
	int		 default_timeout;	/* DefaultTimeout, seconds (0 = none) */
	int		 max_connections;	/* MaxConnections, 1..100000 */
	bool		 tcp_nodelay;		/* TcpNoDelay */
	int		 keepalive_time;	/* KeepAliveTime, ms (0 = system) */
	int		 keepalive_interval;	/* KeepAliveInterval, ms (0 = system) */
	int		 in_buffer_size;	/* InBufferSize (0 = system) */
	int		 out_buffer_size;	/* OutBufferSize (0 = system) */
	int		 use_ipv6;		/* UseIPv6: 0, 1, 2 */
	char		*allowed_clients;	/* AllowedClients ("*") */
	char		*blocked_clients;	/* BlockedClients ("") */
	bool		 bind_exclusively;	/* BindExclusively */
	int		 shutdown_timeout;	/* ShutdownTimeout, seconds */

	/* [websocket] */
	bool		 buffer_message;	/* BufferMessage */
	int		 disconnect_status_code;	/* DisconnectStatusCode */
	char		*disconnect_status_description;
	int		 max_frame_size;	/* MaxFrameSize */
	bool		 wait_for_close_response;	/* WaitForCloseResponse */
	uint64_t	 max_message_size;	/* MaxMessageSize */
	int		 handshake_timeout;	/* HandshakeTimeout, seconds */
	int		 close_timeout;		/* CloseTimeout, seconds */
	int		 max_header_size;	/* MaxHeaderSize, bytes */

	int		 max_line_length;	/* MaxLineLength (LineMode) */
	bool		 enable_permessage_deflate;	/* EnablePermessageDeflate */
	int		 deflate_level;		/* PermessageDeflateLevel */
	int		 deflate_mem_level;	/* PermessageDeflateMemLevel */
	int		 deflate_max_window_bits; /* PermessageDeflateMaxWindowBits */
	int		 deflate_min_size;	/* PermessageDeflateMinSize */
	bool		 deflate_no_context_takeover; /* ...NoContextTakeover */

	/* [admin] */
	char		*admin_socket;		/* Socket ("" = off) */
	int		 admin_socket_mode;	/* SocketMode */
	char		*admin_socket_group;	/* SocketGroup */

	/* [ssl] (tls.c reads them; see wsserverd.ini(5)) */
	bool		 use_ssl;		/* UseSSL */
	char		*ssl_cert;		/* SSLCert: store file (or PEM) */
	char		*ssl_cert_store_type;	/* SSLCertStoreType */
	char		*ssl_cert_password;	/* SSLCertPassword */
	char		*ssl_cert_subject;	/* SSLCertSubject */
	char		*ssl_ca_certs;		/* SSLCACerts: file or PEM */
	int		 ssl_enabled_protocols;	/* SSLEnabledProtocols bits */
	char		*ssl_cipher_suites;	/* SSLEnabledCipherSuites */
	char		*tls13_groups;		/* TLS13SupportedGroups */
	char		*tls12_groups;		/* TLS12SupportedGroups */
	char		*tls13_sigalgs;		/* TLS13SignatureAlgorithms */
	char		*tls12_sigalgs;		/* TLS12SignatureAlgorithms */
	int		 dh_group_bits;		/* PreferredDHGroupBits */
	bool		 ssl_renegotiation;	/* SSLEnableRenegotiation */
	bool		 ssl_reuse_session;	/* ReuseSSLSession */
	char		*ssl_key_log_file;	/* SSLKeyLogFile */
	bool		 log_ssl_packets;	/* LogSSLPackets */
	int		 ssl_handshake_timeout;	/* DefaultConnectionTimeout, s */
	char		*ssl_authenticate_clients; /* SSLAuthenticateClients */
	char		*ssl_client_ca_certs;	/* SSLClientCACerts: file or PEM */
	int		 ssl_check_crl;		/* SSLCheckCRL 0-2 */
	struct tls_ctx	*tls;			/* built from them when UseSSL */

	/* [backend] */
	int		 kill_timeout;		/* KillTimeout, seconds: EOF -> TERM -> KILL */

	/* [log] */
	int		 log_level;		/* LogLevel 0-3 */

	struct route	*routes;
	size_t		 nroutes;
};

/*
 * Loads and validates path. Returns the config, or NULL with *errors set to
 * every problem found, one "file:line: message" per line (malloc'd; the
 * caller frees). A missing file is one error. Unknown sections and keys,
 * bad values, out-of-range numbers, duplicate route paths and routes
 * without Path or Backend are all errors; settings that have no meaning on
 * Linux are errors that say so. A script: program given as a relative
 * path is taken relative to the directory of path, and must be an
 * executable file; route argv[0] is always absolute.
 */
struct config	*config_load(const char *path, char **errors);

/* A config with every default and no routes (for tests). */
struct config	*config_defaults(void);

void		 config_free(struct config *);

/* Finds the route whose Path equals path, or NULL. */
const struct route *config_route_for(const struct config *, const char *path);

/* Writes the key reference of wsserverd.ini(5) as roff, from the key table. */
void		 config_write_man(FILE *);

/*
 * Parses True/False, 1/0, Yes/No, On/Off (any case). Returns 0 and sets
 * *out, or -1 if s is none of them.
 */
int		 config_parse_bool(const char *s, bool *out);

/*
 * The key table, for tests and the admin "config" command: the number of
 * keys; then, for i below it, a key's name, its section ("server",
 * "websocket", "backend", "log" or "route:NAME") and whether it may change
 * while listening. Out of range, name and section are NULL, runtime false.
 */
size_t		 config_key_count(void);
const char	*config_key_name(size_t i);
const char	*config_key_section(size_t i);
bool		 config_key_runtime(size_t i);

/*
 * The admin "config" command. Keys are those of [server], [websocket],
 * [backend], [log] and [admin], by name, in any case.
 * config_get writes key's current value into buf as the file would spell
 * it (booleans True/False, modes in octal) and returns 0, or -1 when there
 * is no such key.
 * config_set parses value for key into cfg, checked as in a file. Returns
 * 0; -1 for an unknown key; -2 for a bad value (cause says why); for a key
 * that cannot change while listening and listening true, the reference's
 * error number (106 LocalPort, 107 LocalHost, 108 MaxConnections) or -3
 * for the others; [admin] keys always give -3 (they need a restart), and
 * so do [ssl] keys (a reload rebuilds the TLS context). On
 * any error cfg is unchanged. The caller applies side effects (LogLevel).
 */
int		 config_get(const struct config *, const char *key, char *buf,
		    size_t len);
int		 config_set(struct config *, const char *key, const char *value,
		    bool listening, char *cause, size_t causelen);

#endif
