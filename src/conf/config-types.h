/*
 * config-types.h - what a loaded wsserverd.ini says: struct config, its
 * routes, and the enums of their values. Filled by config_load
 * (config.h), read by every layer above; the files of src/conf include it
 * alone where they need no more than the layout.
 */
#ifndef CONFIG_TYPES_H
#define CONFIG_TYPES_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
	BACKEND_TCP,		/* "tcp:HOST:PORT" (stream mode) */
};

struct tls_ctx;
struct ssl_ctx_st;

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
	int		 ping_interval;	/* PingInterval, s (-1: the global) */
	int		 ping_timeout;	/* PingTimeout, s (-1: the global) */
	int		 idle_timeout;	/* IdleTimeout, s (-1: the global) */
	bool		 pass_auth;	/* PassAuthorization: HTTP_AUTHORIZATION */
	char		*subscribe;	/* Subscribe: topic templates ("" none) */
	char		*tcp_host;	/* tcp: HOST as written */
	int		 tcp_port;
	struct sockaddr_storage tcp_addr; /* tcp: resolved at load */
	socklen_t	 tcp_addrlen;
	int		 connect_timeout;	/* ConnectTimeout, ms */
	int		 tcp_keepalive;		/* TcpKeepAlive, s (0 = off) */
	bool		 ssl_use;		/* BackendUseSSL */
	char		*ssl_ca;		/* BackendSSLCACerts */
	char		*ssl_cert;		/* BackendSSLCert */
	char		*ssl_name;		/* BackendSSLServerName */
	bool		 ssl_verify;		/* BackendSSLVerify */
	struct ssl_ctx_st *tls_client;	/* built at load with BackendUseSSL */
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
	int		 max_conns_per_client;	/* MaxConnectionsPerClient (0 = off) */
	int		 handshake_rate_per_client; /* HandshakeRatePerClient, /s */
	int		 handshake_burst_per_client; /* HandshakeBurstPerClient */
	int		 client_ipv6_prefix;	/* ClientIPv6Prefix, bits */
	int		 client_table_size;	/* ClientTableSize, addresses */

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
	int		 ping_interval;		/* PingInterval, s (0 = off) */
	int		 ping_timeout;		/* PingTimeout, s (0 = none) */
	int		 idle_timeout;		/* IdleTimeout, s (0 = off) */

	/* [admin] */
	char		*admin_socket;		/* Socket ("" = off) */
	int		 admin_socket_mode;	/* SocketMode */
	char		*admin_socket_group;	/* SocketGroup */
	char		*admin_allowed_users;	/* AdminAllowedUsers */
	uid_t		*admin_uids;		/* ... resolved at load */
	size_t		 admin_nuids;
	char		*sendfile_dir;		/* SendFileDirectory ("" = off) */
	int		 admin_idle_timeout;	/* AdminIdleTimeout, s (0: none) */

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
	int		 max_handlers;		/* MaxHandlers (0 = MaxConnections) */
	int		 max_spawn_rate;	/* MaxSpawnRate, per second (0 = none) */

	/* [cluster] (topics; the fleet when Redis is set) */
	char		*cluster_redis;		/* Redis ("" = this node alone) */
	char		*cluster_user;		/* RedisUser */
	char		*cluster_password_file;	/* RedisPasswordFile, absolute */
	char		*cluster_node;		/* NodeName ("" = the host name) */
	char		*cluster_prefix;	/* ChannelPrefix */
	int		 cluster_node_ttl;	/* NodeTTL, ms */
	int		 cluster_command_timeout; /* CommandTimeout, ms */
	int		 cluster_timeout;	/* RedisTimeout, ms */
	int		 cluster_reconnect_max;	/* RedisReconnectMax, ms */
	int		 cluster_max_pending;	/* RedisMaxPending, bytes */
	int		 max_subscriptions;	/* MaxSubscriptions per WebSocket */
	int		 max_topics;		/* MaxTopics per process */

	/* [log] */
	int		 log_level;		/* LogLevel 0-3 */
	int		 log_target;		/* LogTarget: 0 stderr, 1 syslog */
	char		*log_file;		/* LogFile ("" = none) */
	bool		 mask_sensitive_data;	/* MaskSensitiveData */
	char		*sensitive_query_params; /* SensitiveQueryParams */

	struct route	*routes;
	size_t		 nroutes;
};

#endif
