/*
 * config.h - wsserverd.ini: the configuration module's interface. It owns
 * struct config and struct route (what a loaded file says, read-only once
 * loaded except through config_set), the key table that drives loading,
 * validation, wsserverd -t, the admin "config" command and the man page,
 * and the TLS context a load builds (cfg->tls, see tls.h).
 *
 * Callers: main (load, -t, root check, User/Group), wsserverctl (the admin
 * socket's path), the server (reload, the admin's get and set), the admin
 * socket (get, the key table, booleans), connections and backends (the
 * route of a request, its fields), gen-ini-man (the man page). Its files
 * are in src/conf (config-int.h lists them).
 */
#ifndef WSS_CONFIG_H
#define WSS_CONFIG_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/error.h"

/* The default [admin] Socket: best effort (see admin_start). */
#define CONFIG_ADMIN_SOCKET	"/run/wsserverd/admin.sock"

enum msg_format {
	FORMAT_LINES,		/* one text message per line (websocketd) */
	FORMAT_BINARY,		/* raw byte stream both ways */
	FORMAT_FRAMED,		/* length-prefixed frames (msgstream.h) */
};

/* DataFormat: the message type of a binary-format backend's output. */
enum data_format {
	DATA_AUTO,		/* text when the chunk is valid UTF-8 */
	DATA_TEXT,		/* always text, cut on code point boundaries */
	DATA_BINARY,		/* always binary */
};

enum backend_kind {
	BACKEND_ECHO,		/* "echo" */
	BACKEND_SCRIPT,		/* "script:/path/to/handler [args]" */
	BACKEND_UNIX,		/* "unix:/path/to/socket" (stream mode) */
	BACKEND_DIR,		/* "dir:/path": a program of the directory */
};

struct tls_ctx;

struct route {
	char		*name;		/* NAME of [route:NAME] */
	char		*path;		/* Path as written (prefix: ends in "*") */
	bool		 prefix;	/* Path ends in "*": a prefix match */
	char		*backend;	/* Backend as written */
	enum backend_kind kind;
	char		**argv;		/* script: program and args, NULL-terminated */
	enum msg_format	 format;	/* MessageFormat */
	int		 data_format;	/* DataFormat: enum data_format */
	char		*subprotocols;	/* SubProtocols: comma-separated, "" none */
	char		**passenv;	/* PassEnv: variable names, NULL-terminated */
	char		*socket;	/* unix: the socket's absolute path */
	char		*origins;	/* AllowedOrigins: "*", "same", origins */
	int		 max_connections; /* MaxConnections (0 = no limit) */
	char		*workdir;	/* WorkingDirectory ("" = program's) */
	char		*open_hook;	/* OpenRequestHook ("" = none) */
	char		*dir;		/* dir: the directory's real path */
	bool		 mux;		/* unix: ... mux: one shared socket */
};

struct config {
	char		*file;

	/* [server] */
	char		*local_host;		/* LocalHost ("" = any) */
	int		 local_port;		/* LocalPort (0 = ephemeral) */
	int		 connection_backlog;	/* ConnectionBacklog */
	int		 default_timeout;	/* DefaultTimeout, seconds (0 = none) */
	int		 max_connections;	/* MaxConnections, 1..100000 */
	int		 max_memory;		/* MaxMemory, MiB (0 = no cap) */
	int		 workers;		/* Workers (0 = one per CPU) */
	int		 worker_timeout;	/* WorkerTimeout, seconds (0 = off) */
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
	int		 proxy_protocol;	/* ProxyProtocol: enum proxy_mode */
	char		*proxy_trusted_clients;	/* ProxyTrustedClients ("") */
	char		*health_path;		/* HealthPath ("" = off) */
	bool		 dev_console;		/* DevConsole */
	char		*user;			/* User ("" = keep root) */
	char		*group;			/* Group ("" = User's) */
	char		*pid_file;		/* PidFile ("" = none), absolute */

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
	char		*admin_allowed_users;	/* AdminAllowedUsers */
	uid_t		*admin_uids;		/* ... resolved at load */
	size_t		 admin_nuids;

	/* [ssl] (the tls*.c files read them; see wsserverd.ini(5)) */
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
	struct tls_ctx	*tls;			/* built from them when UseSSL; owned */

	/* [backend] */
	int		 kill_timeout;		/* KillTimeout, seconds: EOF -> TERM -> KILL */
	bool		 allow_root_handlers;	/* AllowRootHandlers */

	/* [log] */
	int		 log_level;		/* LogLevel 0-3 */
	int		 log_target;		/* LogTarget: 0 stderr, 1 syslog */
	char		*log_file;		/* LogFile ("" = none) */
	bool		 mask_sensitive_data;	/* MaskSensitiveData */
	char		*sensitive_query_params; /* SensitiveQueryParams */

	struct route	*routes;
	size_t		 nroutes;
};

/*
 * Loads and validates path. Returns the config, or NULL with *errors set to
 * every problem found, one "file:line: message" per line (malloc'd; the
 * caller frees). A missing file is one error. Unknown sections and keys,
 * bad values, out-of-range numbers, duplicate route paths and routes
 * without Path or Backend are all errors; settings that have no meaning on
 * Linux are errors that say so. Relative paths (script: programs, dir:,
 * unix: sockets, WorkingDirectory, OpenRequestHook, the admin Socket,
 * LogFile, PidFile, the [ssl] files) are taken relative to the directory
 * of path; a script: program must be an executable file, route argv[0] is
 * always absolute. With UseSSL the certificates are loaded now (tls.h), a
 * bad one being an error at its key's line; the [ssl] keys are checked
 * with UseSSL off too.
 */
struct config	*config_load(const char *path, char **errors);

/*
 * Refuses script handlers that would run as root: when euid is 0, User is
 * empty (or names root) and AllowRootHandlers is false, a script: route is
 * an error. Returns 0, or -1 with *cause (malloc'd) saying which route and
 * what to set.
 */
int		 config_check_root(const struct config *, uid_t euid,
		    char **cause);

/*
 * User and Group as ids. Returns 0 when both are empty; 1 with *uid
 * ((uid_t)-1 when User is empty) and *gid (User's primary group when
 * Group is empty, (gid_t)-1 when both are); -1 when one cannot be found.
 */
int		 config_ids(const struct config *, uid_t *uid, gid_t *gid);

/* A config with every default, no routes and no TLS context (for tests). */
struct config	*config_defaults(void);

/* Frees a config and all it owns, its TLS context too; NULL is fine. */
void		 config_free(struct config *);

/*
 * Finds the route for a request path: the route whose Path equals it, else
 * the prefix route (Path ending in "*") with the longest prefix of it;
 * NULL if none.
 */
const struct route *config_route_for(const struct config *, const char *path);

/* Writes the key reference of wsserverd.ini(5) as roff, from the key table. */
void		 config_write_man(FILE *);

/*
 * Parses True/False, 1/0, Yes/No, On/Off (any case), as every boolean of
 * the file and of admin commands is spelt. Returns 0 and sets *out, or -1
 * if s is none of them.
 */
int		 config_parse_bool(const char *s, bool *out);

/*
 * The key table, for the admin "config" command, reload and tests: the
 * number of keys; then, for i below it, a key's name, its section
 * ("server", "websocket", "backend", "log", "admin", "ssl" or
 * "route:NAME") and whether it may change while listening. Out of range,
 * name and section are NULL, runtime false.
 */
size_t		 config_key_count(void);
const char	*config_key_name(size_t i);
const char	*config_key_section(size_t i);
bool		 config_key_runtime(size_t i);

/*
 * The admin "config" command. Keys are those of [server], [websocket],
 * [backend], [log], [admin] and [ssl], by name, in any case.
 * config_get writes key's current value into buf as the file would spell
 * it (booleans True/False, modes in octal, SSLCertPassword masked) and
 * returns 0, or -1 when there is no such key.
 * config_set parses value for key into cfg, checked as in a file, and
 * returns one of:
 *   WSD_OK                 set;
 *   WSD_ERR_NOKEY          no such key;
 *   WSD_ERR_VALUE          value is not valid for key;
 *   WSD_ERR_FIXED_PORT     LocalPort while listening (the reference's 106),
 *   WSD_ERR_FIXED_HOST     LocalHost while listening (107),
 *   WSD_ERR_FIXED_MAXCONN  MaxConnections while listening (108);
 *   WSD_ERR_FIXED          any other key that cannot change while
 *                          listening, and always an [admin] key (it needs
 *                          a restart) or an [ssl] key (a reload rebuilds
 *                          the TLS context).
 * On any error cfg is unchanged and *cause (malloc'd) says why, when cause
 * is not NULL. The caller applies side effects (LogLevel).
 */
int		 config_get(const struct config *, const char *key, char *buf,
		    size_t len);
enum wsd_error	 config_set(struct config *, const char *key, const char *value,
		    bool listening, char **cause);

#endif
