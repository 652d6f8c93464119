/* config.c - wsserverd.ini: the key table, its parser, and the man page it writes. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "tls.h"
#include "util.h"
#include "ws-frame.h"

/* Longest line, without its line end; longer lines are an error. */
#define CONFIG_LINE_MAX		8192
/* Errors kept per load; the rest are counted, not stored. */
#define CONFIG_MAX_ERRORS	100
#define CONFIG_MAX_ROUTES	1024
/* inih keeps 49 bytes of a section name; stay well inside that. */
#define CONFIG_ROUTE_NAME_MAX	40
/* How much of a bad value is quoted back in an error message. */
#define CONFIG_QUOTE		"%.64s"

enum config_section {
	SECTION_SERVER,
	SECTION_WEBSOCKET,
	SECTION_BACKEND,
	SECTION_LOG,
	SECTION_ADMIN,
	SECTION_SSL,
	SECTION_ROUTE,
	SECTION_COUNT,
};

static const char *const config_section_names[SECTION_COUNT] = {
	[SECTION_SERVER] = "server",
	[SECTION_WEBSOCKET] = "websocket",
	[SECTION_BACKEND] = "backend",
	[SECTION_LOG] = "log",
	[SECTION_ADMIN] = "admin",
	[SECTION_SSL] = "ssl",
	[SECTION_ROUTE] = "route:NAME",
};

enum config_type {
	TYPE_BOOL,		/* bool */
	TYPE_INT,		/* int, range-checked */
	TYPE_UINT64,		/* uint64_t, range-checked */
	TYPE_STRING,		/* char *, max = longest value in bytes */
	TYPE_CLOSE_CODE,	/* int: a status code a server may send */
	TYPE_FORMAT,		/* enum msg_format */
	TYPE_PATH,		/* route Path */
	TYPE_BACKEND,		/* route Backend: backend, kind, argv */
	TYPE_TOKENS,		/* char *: comma-separated RFC 7230 tokens */
	TYPE_ENVLIST,		/* char **: environment variable names */
	TYPE_MODE,		/* int: octal file mode */
	TYPE_CHOICE,		/* int: index of the value in choices */
	TYPE_DIR,		/* char *: a directory, relative to the file's */
	TYPE_PROGRAM,		/* char *: an executable, relative to the file's */
};

struct config_key {
	const char		*name;
	enum config_section	 section;
	enum config_type	 type;
	const char		*def;		/* as written in the file; NULL = required */
	int64_t			 min;
	int64_t			 max;
	const char		*unit;
	const char		*choices;	/* TYPE_CHOICE: "a|b|c" */
	bool			 runtime;	/* may change while listening */
	size_t			 offset;	/* into struct config, or struct route */
	const char		*help;
};

#define CFG(f)	offsetof(struct config, f)
#define RT(f)	offsetof(struct route, f)

static const struct config_key config_keys[] = {
	/* [server] */
	{ .name = "LocalHost", .section = SECTION_SERVER, .type = TYPE_STRING,
	  .def = "", .max = 255, .runtime = false, .offset = CFG(local_host),
	  .help = "Address or host name to listen on; empty listens on every "
	  "address of the family UseIPv6 selects." },
	{ .name = "LocalPort", .section = SECTION_SERVER, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 65535, .runtime = false,
	  .offset = CFG(local_port),
	  .help = "TCP port to listen on; 0 lets the kernel pick a free port "
	  "(see wsserverctl status)." },
	{ .name = "ConnectionBacklog", .section = SECTION_SERVER,
	  .type = TYPE_INT, .def = "5", .min = 1, .max = 65535,
	  .runtime = false, .offset = CFG(connection_backlog),
	  .help = "Length of the kernel's queue of connections not yet "
	  "accepted (listen(2) backlog, capped by net.core.somaxconn). The "
	  "default is the reference's; a server that takes bursts of new "
	  "clients wants more (511 is common): connections beyond the queue "
	  "wait for the client's SYN retry, 1 s and then 3 s later." },
	{ .name = "DefaultTimeout", .section = SECTION_SERVER, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 86400, .unit = "seconds",
	  .runtime = true, .offset = CFG(default_timeout),
	  .help = "Send timeout for new connections: a client that accepts no "
	  "data for this long while data is queued for it is dropped, logged "
	  "and counted as close 1008; 0 means no timeout." },
	{ .name = "MaxConnections", .section = SECTION_SERVER, .type = TYPE_INT,
	  .def = "1000", .min = 1, .max = 100000, .runtime = false,
	  .offset = CFG(max_connections),
	  .help = "Most connections open at once; further clients are refused "
	  "until one closes." },
	{ .name = "Workers", .section = SECTION_SERVER, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 64, .runtime = false,
	  .offset = CFG(workers),
	  .help = "Worker processes, each with its own event loop on its own "
	  "listening socket (SO_REUSEPORT: the kernel spreads new clients over "
	  "them); 0 means one per online CPU. With more than one, a master "
	  "process keeps the admin socket, the PidFile and the service "
	  "manager's notifications, restarts a worker that dies and merges "
	  "what the workers report; MaxConnections counts over all of them, "
	  "MaxMemory is shared out evenly, a route's MaxConnections counts per "
	  "worker. 1 runs everything in one process. Changes need a restart." },
	{ .name = "WorkerTimeout", .section = SECTION_SERVER,
	  .type = TYPE_INT, .def = "30", .min = 0, .max = 3600,
	  .unit = "seconds", .runtime = true, .offset = CFG(worker_timeout),
	  .help = "With Workers above 1, the master asks each worker every "
	  "second whether it still runs its event loop; one that has not "
	  "answered for this long (stuck in a loop, stopped) is killed with "
	  "SIGKILL and started again. 0 turns the check off." },
	{ .name = "MaxMemory", .section = SECTION_SERVER, .type = TYPE_INT,
	  .def = "1024", .min = 0, .max = 1048576, .unit = "MiB",
	  .runtime = true, .offset = CFG(max_memory),
	  .help = "Cap on the bytes queued over all connections: input not yet "
	  "processed, output not yet sent, backend output held, and incoming "
	  "messages being assembled. Above it the daemon refuses new work "
	  "before the system runs out of memory: new connections get 503, "
	  "clients stop being read and backends stop being read, and a "
	  "WebSocket whose incoming message is still incomplete is closed with "
	  "1013 (Try Again Later); at three quarters of it everything resumes. "
	  "Each crossing is logged once. Per-connection queues are bounded "
	  "anyway (1 MiB out, 256 KiB in, MaxMessageSize); this bounds their "
	  "sum. 0 means no cap." },
	{ .name = "TcpNoDelay", .section = SECTION_SERVER, .type = TYPE_BOOL,
	  .def = "True", .runtime = true, .offset = CFG(tcp_nodelay),
	  .help = "Turn off the Nagle algorithm (TCP_NODELAY) on new "
	  "connections. The default differs from the reference's (False) on "
	  "purpose: with Nagle on, a small write made while an earlier one is "
	  "unacknowledged waits for the client's delayed ACK, 40 ms on Linux "
	  "(a handler's two lines 2 ms apart arrived 43 ms apart). Go's net "
	  "package, nginx and uWebSockets set it too. False is still "
	  "honoured." },
	{ .name = "KeepAliveTime", .section = SECTION_SERVER, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 32767000, .unit = "milliseconds",
	  .runtime = true, .offset = CFG(keepalive_time),
	  .help = "Idle time before the first TCP keep-alive probe; 0 keeps "
	  "the system default. Linux counts whole seconds." },
	{ .name = "KeepAliveInterval", .section = SECTION_SERVER,
	  .type = TYPE_INT, .def = "0", .min = 0, .max = 32767000,
	  .unit = "milliseconds", .runtime = true,
	  .offset = CFG(keepalive_interval),
	  .help = "Time between unanswered TCP keep-alive probes; 0 keeps the "
	  "system default. Linux counts whole seconds." },
	{ .name = "InBufferSize", .section = SECTION_SERVER, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 1073741824, .unit = "bytes",
	  .runtime = true, .offset = CFG(in_buffer_size),
	  .help = "Socket receive buffer (SO_RCVBUF) of new connections; 0 "
	  "keeps the system default." },
	{ .name = "OutBufferSize", .section = SECTION_SERVER, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 1073741824, .unit = "bytes",
	  .runtime = true, .offset = CFG(out_buffer_size),
	  .help = "Socket send buffer (SO_SNDBUF) of new connections; 0 keeps "
	  "the system default." },
	{ .name = "UseIPv6", .section = SECTION_SERVER, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 2, .runtime = false,
	  .offset = CFG(use_ipv6),
	  .help = "0 listens on IPv4 only, 1 on IPv6 only, 2 on both." },
	{ .name = "AllowedClients", .section = SECTION_SERVER,
	  .type = TYPE_STRING, .def = "*", .max = CONFIG_LINE_MAX,
	  .runtime = true, .offset = CFG(allowed_clients),
	  .help = "Comma-separated client addresses that may connect: numeric "
	  "addresses, patterns with \"*\" (127.0.0.*) or CIDR blocks "
	  "(10.0.0.0/8, fd00::/8) or host names, resolved when the "
	  "configuration is loaded (a name that does not resolve is an "
	  "error)." },
	{ .name = "BlockedClients", .section = SECTION_SERVER,
	  .type = TYPE_STRING, .def = "", .max = CONFIG_LINE_MAX,
	  .runtime = true, .offset = CFG(blocked_clients),
	  .help = "Comma-separated client addresses that may not connect, in "
	  "the same forms as AllowedClients; checked after it." },
	{ .name = "ProxyProtocol", .section = SECTION_SERVER,
	  .type = TYPE_CHOICE, .def = "off", .choices = "off|v1|v2|any",
	  .runtime = false, .offset = CFG(proxy_protocol),
	  .help = "Clients in ProxyTrustedClients (load balancers) must start "
	  "every connection with a PROXY protocol header of this version "
	  "(any: v1 or v2), whose source address then stands for the client's "
	  "everywhere: logs, AllowedClients/BlockedClients (checked again), "
	  "the admin socket, REMOTE_ADDR. A header from any other client, a "
	  "missing or malformed one closes the connection. v2 LOCAL and v1 "
	  "UNKNOWN keep the socket's addresses. Not with UseSSL." },
	{ .name = "ProxyTrustedClients", .section = SECTION_SERVER,
	  .type = TYPE_STRING, .def = "", .max = CONFIG_LINE_MAX,
	  .runtime = true, .offset = CFG(proxy_trusted_clients),
	  .help = "Comma-separated addresses (in the forms of AllowedClients) "
	  "that speak the PROXY protocol; required with ProxyProtocol." },
	{ .name = "HealthPath", .section = SECTION_SERVER, .type = TYPE_STRING,
	  .def = "/healthz", .max = 1024, .runtime = false,
	  .offset = CFG(health_path),
	  .help = "A GET of this path (any HTTP version, no upgrade needed) "
	  "answers 200 while listening and 503 while draining or stopping, "
	  "for load balancer health checks; it shadows a route of the same "
	  "Path. Empty turns it off." },
	{ .name = "DevConsole", .section = SECTION_SERVER, .type = TYPE_BOOL,
	  .def = "False", .runtime = true, .offset = CFG(dev_console),
	  .help = "A plain GET (no Upgrade) of a route's path returns a small "
	  "self-contained HTML page that opens a WebSocket to the route and "
	  "sends and shows messages. For development: leave it off in "
	  "production." },
	{ .name = "BindExclusively", .section = SECTION_SERVER,
	  .type = TYPE_BOOL, .def = "True", .runtime = false,
	  .offset = CFG(bind_exclusively),
	  .help = "Refuse to share the port: without it the listening socket "
	  "sets SO_REUSEPORT." },
	{ .name = "ShutdownTimeout", .section = SECTION_SERVER,
	  .type = TYPE_INT, .def = "10", .min = 0, .max = 3600,
	  .unit = "seconds", .runtime = true, .offset = CFG(shutdown_timeout),
	  .help = "At SIGTERM, how long closing handshakes and handlers get "
	  "before connections are dropped." },
	{ .name = "User", .section = SECTION_SERVER, .type = TYPE_STRING,
	  .def = "", .max = 255, .runtime = false, .offset = CFG(user),
	  .help = "User (name or number) to run as once the sockets are "
	  "bound: started as root, wsserverd sets its groups, group and user "
	  "and refuses to start when that fails. Handlers run as this user. "
	  "Empty keeps the user wsserverd was started as." },
	{ .name = "Group", .section = SECTION_SERVER, .type = TYPE_STRING,
	  .def = "", .max = 255, .runtime = false, .offset = CFG(group),
	  .help = "Group (name or number) to run as with User; empty takes "
	  "User's primary group. Supplementary groups are User's." },
	{ .name = "PidFile", .section = SECTION_SERVER, .type = TYPE_STRING,
	  .def = "", .max = 4096, .runtime = false, .offset = CFG(pid_file),
	  .help = "File that holds the daemon's process id while it runs "
	  "(relative to the ini file's directory), written at start before "
	  "the sockets are bound and removed at exit. It stays locked: a file locked by a running "
	  "wsserverd refuses the start; a stale one is replaced. Empty writes "
	  "none." },

	/* [websocket] */
	{ .name = "BufferMessage", .section = SECTION_WEBSOCKET,
	  .type = TYPE_BOOL, .def = "False", .runtime = true,
	  .offset = CFG(buffer_message),
	  .help = "Hand a message to the backend only once it is complete, "
	  "not fragment by fragment." },
	{ .name = "DisconnectStatusCode", .section = SECTION_WEBSOCKET,
	  .type = TYPE_CLOSE_CODE, .def = "1000", .min = 1000, .max = 4999,
	  .runtime = true, .offset = CFG(disconnect_status_code),
	  .help = "Close code sent when the server ends a WebSocket; 1004, "
	  "1005, 1006, 1015 and 1016-2999 may not be sent." },
	{ .name = "DisconnectStatusDescription", .section = SECTION_WEBSOCKET,
	  .type = TYPE_STRING, .def = "", .max = 123, .runtime = true,
	  .offset = CFG(disconnect_status_description),
	  .help = "Close reason sent with DisconnectStatusCode; empty sends "
	  "the code's standard text." },
	{ .name = "MaxFrameSize", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "131072", .min = 125, .max = INT32_MAX,
	  .unit = "bytes", .runtime = true, .offset = CFG(max_frame_size),
	  .help = "Outgoing messages longer than this are sent as fragments "
	  "of at most this size." },
	{ .name = "WaitForCloseResponse", .section = SECTION_WEBSOCKET,
	  .type = TYPE_BOOL, .def = "True", .runtime = true,
	  .offset = CFG(wait_for_close_response),
	  .help = "After sending a close frame, wait up to CloseTimeout for "
	  "the client's; off closes TCP at once." },
	{ .name = "MaxMessageSize", .section = SECTION_WEBSOCKET,
	  .type = TYPE_UINT64, .def = "1048576", .min = 125,
	  .max = (int64_t)1 << 40, .unit = "bytes", .runtime = true,
	  .offset = CFG(max_message_size),
	  .help = "Largest message accepted from a client; a longer one closes "
	  "the WebSocket with 1009." },
	{ .name = "HandshakeTimeout", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "10", .min = 1, .max = 3600,
	  .unit = "seconds", .runtime = true, .offset = CFG(handshake_timeout),
	  .help = "Time a client has to send a complete upgrade request." },
	{ .name = "CloseTimeout", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "5", .min = 1, .max = 3600,
	  .unit = "seconds", .runtime = true, .offset = CFG(close_timeout),
	  .help = "Time to wait for the client's close frame after sending "
	  "ours." },
	{ .name = "MaxHeaderSize", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "8192", .min = 1024, .max = 1048576,
	  .unit = "bytes", .runtime = true, .offset = CFG(max_header_size),
	  .help = "Largest upgrade request head; a longer one is answered "
	  "with 431." },

	{ .name = "MaxLineLength", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "0", .min = 0, .max = INT32_MAX,
	  .unit = "bytes", .runtime = true, .offset = CFG(max_line_length),
	  .help = "With LineMode on (wsserverctl linemode), a line that reaches "
	  "this length is passed on without waiting for its end (EOL false); "
	  "0: no limit." },
	{ .name = "EnablePermessageDeflate", .section = SECTION_WEBSOCKET,
	  .type = TYPE_BOOL, .def = "True", .runtime = true,
	  .offset = CFG(enable_permessage_deflate),
	  .help = "Accept a client's permessage-deflate offer (RFC 7692); off "
	  "declines it and messages are never compressed." },
	{ .name = "PermessageDeflateLevel", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "1", .min = 1, .max = 9, .runtime = true,
	  .offset = CFG(deflate_level),
	  .help = "zlib compression level of outgoing messages: 1 is fastest, "
	  "9 compresses most." },
	{ .name = "PermessageDeflateMemLevel", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "8", .min = 1, .max = 9, .runtime = true,
	  .offset = CFG(deflate_mem_level),
	  .help = "zlib memLevel of the compressor: its state takes "
	  "2^(MemLevel+9) bytes besides the window." },
	{ .name = "PermessageDeflateMaxWindowBits", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "15", .min = 9, .max = 15, .runtime = true,
	  .offset = CFG(deflate_max_window_bits),
	  .help = "Largest compression window the server uses "
	  "(server_max_window_bits): the compressor's window takes "
	  "2^(bits+2) bytes per connection." },
	{ .name = "PermessageDeflateMinSize", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "64", .min = 0, .max = INT32_MAX,
	  .unit = "bytes", .runtime = true, .offset = CFG(deflate_min_size),
	  .help = "Whole outgoing messages shorter than this are sent "
	  "uncompressed." },
	{ .name = "PermessageDeflateNoContextTakeover",
	  .section = SECTION_WEBSOCKET, .type = TYPE_BOOL, .def = "False",
	  .runtime = true, .offset = CFG(deflate_no_context_takeover),
	  .help = "Always agree server_no_context_takeover: each outgoing "
	  "message is compressed on its own (worse ratio, same memory)." },

	/* [backend] */
	{ .name = "KillTimeout", .section = SECTION_BACKEND, .type = TYPE_INT,
	  .def = "5", .min = 0, .max = 3600, .unit = "seconds",
	  .runtime = true, .offset = CFG(kill_timeout),
	  .help = "After stdin EOF a handler has this long to exit, then gets "
	  "SIGTERM, and this long again before SIGKILL." },
	{ .name = "AllowRootHandlers", .section = SECTION_BACKEND,
	  .type = TYPE_BOOL, .def = "False", .runtime = true,
	  .offset = CFG(allow_root_handlers),
	  .help = "Let script handlers run as root. Off, a daemon running as "
	  "root without User refuses script: routes at start, at reload and "
	  "with -t, and never spawns a handler as root." },

	/* [log] */
	{ .name = "LogLevel", .section = SECTION_LOG, .type = TYPE_INT,
	  .def = "1", .min = 0, .max = 3, .runtime = true,
	  .offset = CFG(log_level),
	  .help = "0 errors and warnings only, 1 info, 2 verbose, 3 debug." },
	{ .name = "LogTarget", .section = SECTION_LOG, .type = TYPE_CHOICE,
	  .def = "stderr", .choices = "stderr|syslog", .runtime = false,
	  .offset = CFG(log_target),
	  .help = "stderr (journald priorities under systemd, else "
	  "timestamps), or syslog(3) with facility LOG_DAEMON." },
	{ .name = "LogFile", .section = SECTION_LOG, .type = TYPE_STRING,
	  .def = "", .max = 4096, .runtime = false, .offset = CFG(log_file),
	  .help = "Append log lines to this file (relative to the ini file's "
	  "directory) instead of stderr, with timestamps; SIGUSR1 or "
	  "wsserverctl reopen reopens it after logrotate moved it. Empty "
	  "writes to LogTarget." },
	{ .name = "MaskSensitiveData", .section = SECTION_LOG,
	  .type = TYPE_BOOL, .def = "True", .runtime = true,
	  .offset = CFG(mask_sensitive_data),
	  .help = "Replace the values of Authorization, Proxy-Authorization, "
	  "Cookie and Set-Cookie headers and of the query parameters named in "
	  "SensitiveQueryParams with \"***\" in every log line and in the "
	  "admin socket's connection output." },
	{ .name = "SensitiveQueryParams", .section = SECTION_LOG,
	  .type = TYPE_STRING, .def = "token,access_token,password,key",
	  .max = 1024, .runtime = true,
	  .offset = CFG(sensitive_query_params),
	  .help = "Comma-separated query parameter names (any case) whose "
	  "values MaskSensitiveData hides." },

	/* [admin] */
	{ .name = "Socket", .section = SECTION_ADMIN, .type = TYPE_STRING,
	  .def = CONFIG_ADMIN_SOCKET, .max = 107, .runtime = false,
	  .offset = CFG(admin_socket),
	  .help = "Path of the admin socket (a UNIX stream socket) that "
	  "wsserverctl talks to; empty turns the admin socket off. A relative "
	  "path is taken relative to the ini file's directory. The default is "
	  "best effort: its directory is made if missing, and if the socket "
	  "still cannot be had (no permission, another daemon on it) the "
	  "daemon warns and runs without it; a Socket set in the file is "
	  "required." },
	{ .name = "SocketMode", .section = SECTION_ADMIN, .type = TYPE_MODE,
	  .def = "0660", .min = 0, .max = 0777, .runtime = false,
	  .offset = CFG(admin_socket_mode),
	  .help = "Permissions of the admin socket, in octal." },
	{ .name = "SocketGroup", .section = SECTION_ADMIN, .type = TYPE_STRING,
	  .def = "", .max = 255, .runtime = false,
	  .offset = CFG(admin_socket_group),
	  .help = "Group that owns the admin socket (name or number); empty "
	  "keeps the daemon's group." },
	{ .name = "AdminAllowedUsers", .section = SECTION_ADMIN,
	  .type = TYPE_STRING, .def = "", .max = 1024, .runtime = false,
	  .offset = CFG(admin_allowed_users),
	  .help = "Comma-separated users (names or numbers) allowed to run "
	  "the admin commands that change state (disconnect, send, config "
	  "KEY=VALUE, reload, shutdown and the rest marked so in "
	  "wsserverctl(8)); others may only run the commands that read. Root "
	  "and the daemon's own user are always allowed. Empty: whoever can "
	  "open the socket (SocketMode, SocketGroup) may run every command. "
	  "The peer is identified by SO_PEERCRED; names are resolved when "
	  "the file is loaded." },

	/* [ssl]: tls.c checks them and builds the SSL_CTX; a reload changes them */
	{ .name = "UseSSL", .section = SECTION_SSL, .type = TYPE_BOOL,
	  .def = "False", .runtime = false, .offset = CFG(use_ssl),
	  .help = "Speak TLS (wss://) with every client; needs SSLCert. A "
	  "plain-HTTP client gets a 400 answer in clear text." },
	{ .name = "SSLCert", .section = SECTION_SSL, .type = TYPE_STRING,
	  .def = "", .max = CONFIG_LINE_MAX, .runtime = false,
	  .offset = CFG(ssl_cert),
	  .help = "The server's certificate store: a file (relative to the "
	  "ini file's directory) of the type SSLCertStoreType names. A store "
	  "may hold several private keys with their certificates (an RSA and "
	  "an ECDSA one, or one per host name): each client gets the one its "
	  "server name (SNI) and signature algorithms select, else the first "
	  "of each key type. Issuer certificates in the store are sent as the "
	  "chain." },
	{ .name = "SSLCertStoreType", .section = SECTION_SSL,
	  .type = TYPE_STRING, .def = "PEMKeyFile", .max = 32,
	  .runtime = false, .offset = CFG(ssl_cert_store_type),
	  .help = "PEMKeyFile (6): PEM private keys and certificates; PFXFile "
	  "(2): PKCS#12; PEMKeyBlob (7): SSLCert is the PEM text itself; Auto "
	  "(99): PEM or PKCS#12 by content. The Windows stores (User, Machine) "
	  "and Java's (JKS) have no meaning here: convert them to PKCS#12." },
	{ .name = "SSLCertPassword", .section = SECTION_SSL,
	  .type = TYPE_STRING, .def = "", .max = 1024, .runtime = false,
	  .offset = CFG(ssl_cert_password),
	  .help = "Password of a PFX file or of encrypted PEM keys. A wrong "
	  "one is a configuration error. Keep the ini file unreadable to "
	  "others; the admin socket shows it masked." },
	{ .name = "SSLCertSubject", .section = SECTION_SSL,
	  .type = TYPE_STRING, .def = "*", .max = 1024, .runtime = false,
	  .offset = CFG(ssl_cert_subject),
	  .help = "Which certificates of the store to use: \"*\" all of "
	  "them, else those whose subject (\"CN=host, O=org\") equals or "
	  "contains this text." },
	{ .name = "SSLCACerts", .section = SECTION_SSL, .type = TYPE_STRING,
	  .def = "", .max = CONFIG_LINE_MAX, .runtime = false,
	  .offset = CFG(ssl_ca_certs),
	  .help = "Extra CA certificates for the chain sent to clients: a PEM "
	  "file, or PEM text on the line itself." },
	{ .name = "SSLEnabledProtocols", .section = SECTION_SSL,
	  .type = TYPE_INT, .def = "15360", .min = 0, .max = 65535,
	  .runtime = false, .offset = CFG(ssl_enabled_protocols),
	  .help = "Sum of TLS1.3 12288, TLS1.2 3072, TLS1.1 768, TLS1 192. "
	  "The default is TLS 1.2 and 1.3 (the reference's server default, "
	  "3072, is TLS 1.2 alone). SSL3 (48) and SSL2 (12) are refused. TLS "
	  "1.0 and 1.1 need OpenSSL security level 0, which is then set." },
	{ .name = "SSLEnabledCipherSuites", .section = SECTION_SSL,
	  .type = TYPE_STRING, .def = "*", .max = CONFIG_LINE_MAX,
	  .runtime = false, .offset = CFG(ssl_cipher_suites),
	  .help = "\"*\" for OpenSSL's defaults, else the suites allowed, in "
	  "order of preference, separated by \";\" or \",\": the reference's "
	  "names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384) "
	  "or OpenSSL's (ECDHE-RSA-AES128-GCM-SHA256). A list without TLS 1.3 "
	  "suites turns TLS 1.3 off, and one with only those turns TLS 1.2 "
	  "off." },
	{ .name = "TLS13SupportedGroups", .section = SECTION_SSL,
	  .type = TYPE_STRING,
	  .def = "ecdhe_x25519,ecdhe_x448,ecdhe_secp256r1,ecdhe_secp384r1,"
	  "ecdhe_secp521r1,ffdhe_2048,ffdhe_3072,ffdhe_4096,ffdhe_6144,"
	  "ffdhe_8192", .max = 1024, .runtime = false,
	  .offset = CFG(tls13_groups),
	  .help = "Key exchange groups, most preferred first (ecdhe_x25519, "
	  "ecdhe_secp256r1, ffdhe_2048... or OpenSSL's names). OpenSSL keeps "
	  "one list for every version: this one, followed by what only "
	  "TLS12SupportedGroups adds." },
	{ .name = "TLS12SupportedGroups", .section = SECTION_SSL,
	  .type = TYPE_STRING,
	  .def = "ecdhe_secp256r1,ecdhe_secp384r1,ecdhe_secp521r1",
	  .max = 1024, .runtime = false, .offset = CFG(tls12_groups),
	  .help = "Elliptic curves for TLS 1.2 ECDHE (see TLS13SupportedGroups)." },
	{ .name = "TLS13SignatureAlgorithms", .section = SECTION_SSL,
	  .type = TYPE_STRING,
	  .def = "rsa_pss_sha256,rsa_pss_sha384,rsa_pss_sha512,"
	  "rsa_pkcs1_sha256,rsa_pkcs1_sha384,rsa_pkcs1_sha512,"
	  "ecdsa_secp256r1_sha256,ecdsa_secp384r1_sha384,"
	  "ecdsa_secp521r1_sha512,ed25519,ed448", .max = 1024,
	  .runtime = false, .offset = CFG(tls13_sigalgs),
	  .help = "Signature algorithms the server signs with and accepts "
	  "from client certificates; like the groups, one OpenSSL list with "
	  "TLS12SignatureAlgorithms." },
	{ .name = "TLS12SignatureAlgorithms", .section = SECTION_SSL,
	  .type = TYPE_STRING,
	  .def = "sha512-ecdsa,sha512-rsa,sha512-dsa,sha384-ecdsa,sha384-rsa,"
	  "sha384-dsa,sha256-ecdsa,sha256-rsa,sha256-dsa,sha224-ecdsa,"
	  "sha224-rsa,sha224-dsa,sha1-ecdsa,sha1-rsa,sha1-dsa", .max = 1024,
	  .runtime = false, .offset = CFG(tls12_sigalgs),
	  .help = "TLS 1.2 hash-signature pairs (sha256-rsa); empty leaves "
	  "OpenSSL's list." },
	{ .name = "PreferredDHGroupBits", .section = SECTION_SSL,
	  .type = TYPE_INT, .def = "2048", .min = 2048, .max = 8192,
	  .unit = "bits", .runtime = false, .offset = CFG(dh_group_bits),
	  .help = "Size of the RFC 7919 Diffie-Hellman group of TLS 1.2 DHE "
	  "suites: 2048, 3072, 4096, 6144 or 8192." },
	{ .name = "SSLEnableRenegotiation", .section = SECTION_SSL,
	  .type = TYPE_BOOL, .def = "False", .runtime = false,
	  .offset = CFG(ssl_renegotiation),
	  .help = "Let TLS 1.2 clients renegotiate (always the secure kind, "
	  "RFC 5746); off refuses it." },
	{ .name = "ReuseSSLSession", .section = SECTION_SSL, .type = TYPE_BOOL,
	  .def = "True", .runtime = false, .offset = CFG(ssl_reuse_session),
	  .help = "Let clients resume sessions (session tickets and the "
	  "server's cache); a reload starts new ones." },
	{ .name = "SSLKeyLogFile", .section = SECTION_SSL, .type = TYPE_STRING,
	  .def = "", .max = 4096, .runtime = false,
	  .offset = CFG(ssl_key_log_file),
	  .help = "For debugging only: append every session's secrets to this "
	  "file (NSS key log format, mode 0600), which lets anyone who reads "
	  "it decrypt the traffic. Warned about in the log." },
	{ .name = "LogSSLPackets", .section = SECTION_SSL, .type = TYPE_BOOL,
	  .def = "False", .runtime = false, .offset = CFG(log_ssl_packets),
	  .help = "At LogLevel 3, log every TLS record and handshake message "
	  "(handshake progress is logged at LogLevel 3 anyway)." },
	{ .name = "DefaultConnectionTimeout", .section = SECTION_SSL,
	  .type = TYPE_INT, .def = "0", .min = 0, .max = 3600,
	  .unit = "seconds", .runtime = false,
	  .offset = CFG(ssl_handshake_timeout),
	  .help = "Drop a client silent for this long during the TLS "
	  "handshake; 0 leaves only HandshakeTimeout." },
	{ .name = "SSLAuthenticateClients", .section = SECTION_SSL,
	  .type = TYPE_STRING, .def = "False", .max = 16, .runtime = false,
	  .offset = CFG(ssl_authenticate_clients),
	  .help = "Ask clients for a certificate: False (no), True or required "
	  "(one that verifies, or no connection), optional (none is fine, a "
	  "bad one fails), request (anything; handlers see SSL_CLIENT_VERIFY)."
	  },
	{ .name = "SSLClientCACerts", .section = SECTION_SSL,
	  .type = TYPE_STRING, .def = "", .max = CONFIG_LINE_MAX,
	  .runtime = false, .offset = CFG(ssl_client_ca_certs),
	  .help = "CA certificates that client certificates are verified "
	  "against, besides the system's: a PEM file, or PEM text on the line "
	  "itself. X509 CRL blocks in it are used by SSLCheckCRL." },
	{ .name = "SSLCheckCRL", .section = SECTION_SSL, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 2, .runtime = false,
	  .offset = CFG(ssl_check_crl),
	  .help = "Check client certificates against the CRLs in "
	  "SSLClientCACerts: 0 no, 1 where their issuer has one, 2 always (no "
	  "CRL fails)." },

	/* [route:NAME] */
	{ .name = "Path", .section = SECTION_ROUTE, .type = TYPE_PATH,
	  .def = NULL, .max = 1024, .runtime = false, .offset = RT(path),
	  .help = "Request path served by this route; starts with \"/\" and "
	  "is unique among routes. Matched exactly, unless it ends in \"*\": "
	  "then every path that starts with what comes before the \"*\" "
	  "(\"/app/*\" serves \"/app/\" and \"/app/x/y\"). An exact Path "
	  "wins over prefixes; among prefixes the longest wins." },
	{ .name = "Backend", .section = SECTION_ROUTE, .type = TYPE_BACKEND,
	  .def = NULL, .runtime = false, .offset = RT(backend),
	  .help = "\"echo\"; \"script:PROGRAM [ARGS...]\": one process per "
	  "WebSocket; \"dir:DIRECTORY\": the program of the directory named "
	  "by the first path segment after a prefix Path, run like script:; "
	  "\"unix:SOCKET\": one connection per WebSocket to a "
	  "UNIX stream socket; or \"unix:SOCKET mux\" (also spelled "
	  "\"unix+mux:SOCKET\"): one connection for every WebSocket of the "
	  "route (see ROUTES in wsserverd(8))." },
	{ .name = "MessageFormat", .section = SECTION_ROUTE, .type = TYPE_FORMAT,
	  .def = "lines", .runtime = false, .offset = RT(format),
	  .help = "How messages cross a script's stdin and stdout or a unix: "
	  "socket: \"lines\", \"binary\" or \"framed\" (see FRAMED "
	  "MESSAGES in wsserverd(8))." },
	{ .name = "DataFormat", .section = SECTION_ROUTE, .type = TYPE_CHOICE,
	  .def = "binary", .choices = "auto|text|binary", .runtime = false,
	  .offset = RT(data_format),
	  .help = "Message type of what a MessageFormat = binary backend "
	  "writes: \"binary\" sends each chunk read as a binary message; "
	  "\"text\" as a text message, cut on UTF-8 code point boundaries "
	  "(output that is not UTF-8 closes the WebSocket with 1011); \"auto\" "
	  "sends a chunk that is valid UTF-8 as text and any other as binary. "
	  "Lines and framed output carry their type already and ignore it." },
	{ .name = "SubProtocols", .section = SECTION_ROUTE, .type = TYPE_TOKENS,
	  .def = "", .max = 1024, .runtime = false, .offset = RT(subprotocols),
	  .help = "Comma-separated subprotocols offered, in order of "
	  "preference; empty offers none." },
	{ .name = "PassEnv", .section = SECTION_ROUTE, .type = TYPE_ENVLIST,
	  .def = "", .runtime = false, .offset = RT(passenv),
	  .help = "Names of the daemon's environment variables a script "
	  "inherits (comma- or space-separated); never HTTP_PROXY." },
	{ .name = "AllowedOrigins", .section = SECTION_ROUTE,
	  .type = TYPE_STRING, .def = "*", .max = 4096, .runtime = false,
	  .offset = RT(origins),
	  .help = "Origins allowed to open a WebSocket (comma- or "
	  "space-separated, e.g. \"https://example.com\", compared without "
	  "regard to case): \"*\" allows any, \"same\" allows an Origin "
	  "whose host and port are those of the Host header. Others get 403. "
	  "A request without Origin (not from a browser) is allowed." },
	{ .name = "MaxConnections", .section = SECTION_ROUTE, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 100000, .runtime = false,
	  .offset = RT(max_connections),
	  .help = "Most WebSockets open at once on this route (counted by "
	  "route name, across reloads); further upgrades get 429. 0 means no "
	  "limit of its own." },
	{ .name = "WorkingDirectory", .section = SECTION_ROUTE,
	  .type = TYPE_DIR, .def = "", .max = 4096, .runtime = false,
	  .offset = RT(workdir),
	  .help = "Directory a script runs in (relative to this file's "
	  "directory); empty runs it in its program's directory." },
	{ .name = "OpenRequestHook", .section = SECTION_ROUTE,
	  .type = TYPE_PROGRAM, .def = "", .max = 4096, .runtime = false,
	  .offset = RT(open_hook),
	  .help = "Program (relative to this file's directory) run with the "
	  "request's CGI environment before each upgrade: exit 0 with no "
	  "output accepts; its output is CGI-style response headers (Status, "
	  "Sec-WebSocket-Protocol, others); no answer within HandshakeTimeout "
	  "is 503 (see HOOKS in wsserverd(8)). Empty: none." },
};

#define CONFIG_NKEYS	(sizeof(config_keys) / sizeof(config_keys[0]))

/* Settings of the reference that a Linux daemon has no use for. */
static const struct {
	const char	*name;
	const char	*why;
} config_linux_keys[] = {
	{ "UseBackgroundThread",
	  "a .NET thread property; wsserverd runs one event loop" },
	{ "GUIAvailable", "there is no GUI message loop; libevent runs events" },
	{ "CloseStreamAfterTransfer", "it is about .NET streams handed to "
	  "SendFile or SetUploadStream; sendfile opens and closes its file "
	  "itself" },
	{ "CACertFilePaths",
	  "for Mono on Unix only; OpenSSL finds its CA certificates itself" },
	{ "UseInternalSecurityAPI", "TLS is always OpenSSL" },
	{ "SSLProvider", "TLS is always OpenSSL" },
	/* Reference TLS settings for client components, or not for OpenSSL. */
	{ "SSLServerCACerts", "it checks a server's certificate; client "
	  "certificates are checked against SSLClientCACerts" },
	{ "SSLSecurityFlags", "it relaxes checks of a server's certificate, "
	  "which a server does not make" },
	{ "SSLIncludeCertChain", "it shapes a client's SSLServerAuthentication "
	  "event" },
	{ "SSLCheckOCSP", "it checks a server's certificate; for client "
	  "certificates use SSLCheckCRL" },
	{ "SSLCipherStrength", "not supported with OpenSSL; name the suites in "
	  "SSLEnabledCipherSuites" },
	{ "TLS13KeyShareGroups", "a client's pregenerated key shares; a server "
	  "answers them, see TLS13SupportedGroups" },
};

#define CONFIG_NLINUX	(sizeof(config_linux_keys) / sizeof(config_linux_keys[0]))

struct config_error {
	int		 line;		/* 0: about the whole file */
	unsigned int	 seq;		/* keeps sorting stable */
	char		*msg;
};

/* Where the reader is: parse state shared by the reader and the handler. */
enum config_where {
	WHERE_NONE,		/* before any section */
	WHERE_GLOBAL,		/* [server], [websocket], [backend], [log] */
	WHERE_ROUTE,		/* [route:NAME] */
	WHERE_BAD,		/* a section already reported as wrong */
};

struct config_route_meta {
	int		 line;			/* of its first [route:NAME] */
	int		 seen[CONFIG_NKEYS];	/* line each key was set on */
};

struct config_parse {
	struct config		*cfg;
	const char		*file;
	char			*dir;		/* for relative script paths */
	FILE			*fp;
	int			 lineno;
	char			 line[CONFIG_LINE_MAX + 2];
	size_t			 linelen;
	size_t			 lineoff;	/* how much inih has been given */

	enum config_where	 where;
	enum config_section	 section;
	size_t			 route;
	int			 seen[CONFIG_NKEYS];
	struct config_route_meta *meta;		/* parallel to cfg->routes */
	size_t			 routes_alloc;

	struct config_error	 errs[CONFIG_MAX_ERRORS];
	size_t			 nerrs;
	size_t			 dropped;
	unsigned int		 seq;
};

/* strndup that never returns NULL. */
static char *
config_strndup(const char *s, size_t n)
{
	char	*p;

	n = strnlen(s, n);
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Returns "dir/" followed by the first len bytes of name. */
static char *
config_join(const char *dir, const char *name, size_t len)
{
	char	*out;

	xasprintf(&out, "%s/%.*s", dir, (int)len, name);
	return out;
}

/* Records one error at line (0 = the whole file). */
static void __attribute__((format(printf, 3, 4)))
config_error(struct config_parse *p, int line, const char *fmt, ...)
{
	struct config_error	*e;
	va_list			 ap;
	char			 buf[512];

	if (p->nerrs == CONFIG_MAX_ERRORS) {
		p->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	e = &p->errs[p->nerrs++];
	e->line = line;
	e->seq = p->seq++;
	e->msg = xstrdup(buf);
}

/* qsort order of errors: by line, then in the order they were found. */
static int
config_error_cmp(const void *a, const void *b)
{
	const struct config_error	*ea = a, *eb = b;

	if (ea->line != eb->line)
		return ea->line < eb->line ? -1 : 1;
	return ea->seq < eb->seq ? -1 : (ea->seq > eb->seq);
}

/* Joins the errors, sorted by line, into one "file:line: msg\n" string. */
static char *
config_error_text(struct config_parse *p)
{
	char	*out;
	size_t	 i, len, size;
	int	 n;

	qsort(p->errs, p->nerrs, sizeof p->errs[0], config_error_cmp);
	size = 64 + strlen(p->file);
	for (i = 0; i < p->nerrs; i++)
		size += strlen(p->file) + strlen(p->errs[i].msg) + 16;
	out = xcalloc(1, size);
	len = 0;
	for (i = 0; i < p->nerrs; i++) {
		if (p->errs[i].line > 0)
			n = snprintf(out + len, size - len, "%s:%d: %s\n",
			    p->file, p->errs[i].line, p->errs[i].msg);
		else
			n = snprintf(out + len, size - len, "%s: %s\n",
			    p->file, p->errs[i].msg);
		len += (size_t)n;
	}
	if (p->dropped > 0)
		snprintf(out + len, size - len, "%s: %zu more errors not shown\n",
		    p->file, p->dropped);
	return out;
}

/*
 * Parses a boolean as the reference spells them: True/False, 1/0, Yes/No,
 * On/Off, in any case. Returns 0, or -1 if s is none of them.
 */
int
config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	size_t	 i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/*
 * Parses a whole string as a decimal integer in [min, max]. Negative
 * numbers parse so that "-1" is reported as out of range, not as garbage.
 */
static int
config_parse_number(const char *s, int64_t min, int64_t max, int64_t *out,
    char *cause, size_t causelen)
{
	const char		*d;
	unsigned long long	 u;
	char			*end;
	int64_t			 v;
	bool			 neg;

	neg = s[0] == '-';
	d = neg ? s + 1 : s;
	if (!isdigit((unsigned char)d[0]))
		goto invalid;
	errno = 0;
	u = strtoull(d, &end, 10);
	if (*end != '\0')
		goto invalid;
	if (errno == ERANGE || u > (unsigned long long)INT64_MAX)
		goto range;
	v = neg ? -(int64_t)u : (int64_t)u;
	if (v < min || v > max)
		goto range;
	*out = v;
	return 0;
invalid:
	snprintf(cause, causelen, "invalid integer \"" CONFIG_QUOTE "\"", s);
	return -1;
range:
	snprintf(cause, causelen, CONFIG_QUOTE " out of range (%lld..%lld)",
	    s, (long long)min, (long long)max);
	return -1;
}

/* True if c may appear in an RFC 7230 token (a subprotocol name). */
static bool
config_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* True if name is a portable environment variable name. */
static bool
config_env_name(const char *name, size_t len)
{
	size_t	 i;

	if (len == 0 || isdigit((unsigned char)name[0]))
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	}
	return true;
}

/* Frees a NULL-terminated array of strings. */
static void
config_free_vector(char **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/*
 * Splits s into words at whitespace; double quotes group words and are
 * removed. Returns a NULL-terminated vector, or NULL on an unterminated
 * quote.
 */
static char **
config_split_words(const char *s, size_t *count)
{
	char	**v, *word;
	size_t	 n, w;
	bool	 quoted;

	/* A word needs at least one byte and a separator: a safe bound. */
	v = xcalloc(strlen(s) / 2 + 2, sizeof *v);
	word = xcalloc(strlen(s) + 1, 1);
	n = 0;
	quoted = false;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		w = 0;
		while (*s != '\0' && (quoted || !isspace((unsigned char)*s))) {
			if (*s == '"')
				quoted = !quoted;
			else
				word[w++] = *s;
			s++;
		}
		if (quoted) {
			free(word);
			config_free_vector(v);
			return NULL;
		}
		v[n++] = config_strndup(word, w);
	}
	free(word);
	*count = n;
	return v;
}

/*
 * Parses "unix:SOCKET", "unix:SOCKET mux" and its other spelling
 * "unix+mux:SOCKET": a relative path is taken
 * relative to the file's directory. The socket need not exist yet (its
 * server may start later).
 */
static int	config_set_unix_path(struct config_parse *, struct route *,
		    const char *, const char *, char *, size_t);

static int
config_set_unix(struct config_parse *p, struct route *r, const char *value,
    char *cause, size_t causelen)
{
	char		*path;
	size_t		 n;
	bool		 mux = false;
	int		 rv;

	if (strncasecmp(value, "unix+mux:", 9) == 0) {
		mux = true;
		path = xstrdup(value + 9);
	} else
		path = xstrdup(value + 5);
	n = strlen(path);
	if (n >= 4 && strcasecmp(path + n - 4, " mux") == 0) {
		mux = true;
		n -= 4;
		while (n > 0 && (path[n - 1] == ' ' || path[n - 1] == '\t'))
			n--;
		path[n] = '\0';
	}
	rv = config_set_unix_path(p, r, value, path, cause, causelen);
	free(path);
	r->mux = rv == 0 && mux;
	return rv;
}

/* The socket path part of config_set_unix. */
static int
config_set_unix_path(struct config_parse *p, struct route *r,
    const char *value, const char *path, char *cause, size_t causelen)
{
	char		*abs;

	if (*path == '\0') {
		snprintf(cause, causelen, "unix: needs a socket path");
		return -1;
	}
	if (path[0] != '/') {
		if (p == NULL || p->dir == NULL) {
			snprintf(cause, causelen, "unix: socket must be an "
			    "absolute path");
			return -1;
		}
		abs = config_join(p->dir, path, strlen(path));
	} else
		abs = xstrdup(path);
	/* sun_path holds 108 bytes with its NUL. */
	if (strlen(abs) > 107) {
		snprintf(cause, causelen, "unix: socket path longer than 107 "
		    "bytes: %.64s...", abs);
		free(abs);
		return -1;
	}
	free(r->backend);
	r->backend = xstrdup(value);
	r->kind = BACKEND_UNIX;
	config_free_vector(r->argv);
	r->argv = NULL;
	free(r->socket);
	r->socket = abs;
	return 0;
}

/*
 * Parses "dir:DIRECTORY": a relative path is taken relative to the file's
 * directory. The directory must exist; its real path is kept so requests
 * can be checked against it (no symlink escapes).
 */
static int
config_set_dirbackend(struct config_parse *p, struct route *r,
    const char *value,
    char *cause, size_t causelen)
{
	const char	*path = value + 4;
	struct stat	 sb;
	char		*abs, *real;

	if (*path == '\0') {
		snprintf(cause, causelen, "dir: needs a directory");
		return -1;
	}
	if (path[0] != '/') {
		if (p == NULL || p->dir == NULL) {
			snprintf(cause, causelen, "dir: directory must be an "
			    "absolute path");
			return -1;
		}
		abs = config_join(p->dir, path, strlen(path));
	} else
		abs = xstrdup(path);
	if ((real = realpath(abs, NULL)) == NULL ||
	    stat(real, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		snprintf(cause, causelen, "%.200s: not a directory", abs);
		free(real);
		free(abs);
		return -1;
	}
	free(abs);
	free(r->backend);
	r->backend = xstrdup(value);
	r->kind = BACKEND_DIR;
	config_free_vector(r->argv);
	r->argv = NULL;
	free(r->dir);
	r->dir = real;
	return 0;
}

/* Parses a directory key: absolute, or relative to the file's directory. */
static int
config_set_workdir(struct config_parse *p, const struct config_key *k,
    char **target, const char *value, char *cause, size_t causelen)
{
	struct stat	 sb;
	char		*abs;

	if (*value == '\0') {
		free(*target);
		*target = xstrdup("");
		return 0;
	}
	if (strlen(value) > (size_t)k->max) {
		snprintf(cause, causelen, "longer than %lld bytes",
		    (long long)k->max);
		return -1;
	}
	if (value[0] != '/') {
		if (p == NULL || p->dir == NULL) {
			snprintf(cause, causelen, "must be an absolute path");
			return -1;
		}
		abs = config_join(p->dir, value, strlen(value));
	} else
		abs = xstrdup(value);
	if (stat(abs, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		snprintf(cause, causelen, "%.200s: not a directory", abs);
		free(abs);
		return -1;
	}
	free(*target);
	*target = abs;
	return 0;
}

/* Parses a program key: absolute, or relative to the file's directory. */
static int
config_set_program(struct config_parse *p, const struct config_key *k,
    char **target, const char *value, char *cause, size_t causelen)
{
	struct stat	 sb;
	char		*abs;

	if (*value == '\0') {
		free(*target);
		*target = xstrdup("");
		return 0;
	}
	if (strlen(value) > (size_t)k->max) {
		snprintf(cause, causelen, "longer than %lld bytes",
		    (long long)k->max);
		return -1;
	}
	if (value[0] != '/') {
		if (p == NULL || p->dir == NULL) {
			snprintf(cause, causelen, "must be an absolute path");
			return -1;
		}
		abs = config_join(p->dir, value, strlen(value));
	} else
		abs = xstrdup(value);
	if (stat(abs, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    access(abs, X_OK) == -1) {
		snprintf(cause, causelen, "%.200s: not an executable file",
		    abs);
		free(abs);
		return -1;
	}
	free(*target);
	*target = abs;
	return 0;
}

/* Parses one of k->choices (any case) into its index. */
static int
config_set_choice(const struct config_key *k, int *target, const char *value,
    char *cause, size_t causelen)
{
	const char	*c, *e;
	int		 i;

	for (c = k->choices, i = 0; *c != '\0'; c = *e == '|' ? e + 1 : e,
	    i++) {
		e = c + strcspn(c, "|");
		if (strlen(value) == (size_t)(e - c) &&
		    strncasecmp(value, c, e - c) == 0) {
			*target = i;
			return 0;
		}
	}
	snprintf(cause, causelen, "invalid value \"" CONFIG_QUOTE "\" (use "
	    "%s)", value, k->choices);
	return -1;
}

/* Parses Backend into the route: kind, argv, and the value as written. */
static int
config_set_backend(struct config_parse *p, struct route *r, const char *value,
    char *cause, size_t causelen)
{
	struct stat	 sb;
	char		**argv, *prog;
	size_t		 argc;

	if (strcasecmp(value, "echo") == 0) {
		free(r->backend);
		r->backend = xstrdup(value);
		r->kind = BACKEND_ECHO;
		config_free_vector(r->argv);
		r->argv = NULL;
		return 0;
	}
	if (strncasecmp(value, "unix:", 5) == 0 ||
	    strncasecmp(value, "unix+mux:", 9) == 0)
		return config_set_unix(p, r, value, cause, causelen);
	if (strncasecmp(value, "dir:", 4) == 0)
		return config_set_dirbackend(p, r, value, cause, causelen);
	if (strncasecmp(value, "script:", 7) != 0) {
		snprintf(cause, causelen, "unknown backend \"" CONFIG_QUOTE "\" "
		    "(use echo, script:PROGRAM [ARGS...], dir:DIRECTORY, "
		    "unix:SOCKET [mux] or unix+mux:SOCKET)", value);
		return -1;
	}
	if ((argv = config_split_words(value + 7, &argc)) == NULL) {
		snprintf(cause, causelen, "unterminated quote");
		return -1;
	}
	if (argc == 0) {
		config_free_vector(argv);
		snprintf(cause, causelen, "script: needs a program");
		return -1;
	}
	if (argv[0][0] != '/') {
		/* Relative to the file, so a source tree's config works. */
		if (p == NULL || p->dir == NULL) {
			config_free_vector(argv);
			snprintf(cause, causelen, "script program must be an "
			    "absolute path");
			return -1;
		}
		prog = config_join(p->dir, argv[0], strlen(argv[0]));
		free(argv[0]);
		argv[0] = prog;
	}
	if (stat(argv[0], &sb) == -1) {
		snprintf(cause, causelen, "%s: %s", argv[0], strerror(errno));
		config_free_vector(argv);
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || access(argv[0], X_OK) == -1) {
		snprintf(cause, causelen, "%s: not an executable file",
		    argv[0]);
		config_free_vector(argv);
		return -1;
	}
	free(r->backend);
	r->backend = xstrdup(value);
	r->kind = BACKEND_SCRIPT;
	config_free_vector(r->argv);
	r->argv = argv;
	return 0;
}

/* Checks a route Path: a plain absolute path, unique among routes. */
static int
config_set_path(struct config_parse *p, const struct config_key *k,
    struct route *r, const char *value, char *cause, size_t causelen)
{
	const unsigned char	*c;
	size_t			 i;

	if (value[0] != '/') {
		snprintf(cause, causelen, "must start with \"/\"");
		return -1;
	}
	if (strlen(value) > (size_t)k->max) {
		snprintf(cause, causelen, "longer than %lld bytes",
		    (long long)k->max);
		return -1;
	}
	for (c = (const unsigned char *)value; *c != '\0'; c++) {
		if (*c <= ' ' || *c >= 0x7f || *c == '?' || *c == '#') {
			snprintf(cause, causelen, "may not contain spaces, "
			    "control characters, \"?\" or \"#\"");
			return -1;
		}
		if (*c == '*' && c[1] != '\0') {
			snprintf(cause, causelen, "\"*\" may only end a path "
			    "(a prefix)");
			return -1;
		}
	}
	for (i = 0; p != NULL && i < p->cfg->nroutes; i++) {
		if (&p->cfg->routes[i] == r || p->cfg->routes[i].path == NULL)
			continue;
		if (strcmp(p->cfg->routes[i].path, value) == 0) {
			snprintf(cause, causelen, "%s is already the path of "
			    "[route:%s]", value, p->cfg->routes[i].name);
			return -1;
		}
	}
	free(r->path);
	r->path = xstrdup(value);
	r->prefix = value[strlen(value) - 1] == '*';
	return 0;
}

/* Normalises a comma-separated token list to "a,b,c". */
static int
config_set_tokens(const struct config_key *k, char **target, const char *value,
    char *cause, size_t causelen)
{
	const char	*s, *start;
	char		*out;
	size_t		 len, n;

	if (strlen(value) > (size_t)k->max) {
		snprintf(cause, causelen, "longer than %lld bytes",
		    (long long)k->max);
		return -1;
	}
	out = xcalloc(strlen(value) + 1, 1);
	n = 0;
	s = value;
	while (*s != '\0') {
		while (*s == ' ' || *s == '\t')
			s++;
		start = s;
		while (config_tchar((unsigned char)*s))
			s++;
		len = s - start;
		while (*s == ' ' || *s == '\t')
			s++;
		if (len == 0 || (*s != ',' && *s != '\0') ||
		    (*s == ',' && s[1] == '\0')) {
			snprintf(cause, causelen, "invalid token list \""
			    CONFIG_QUOTE "\"", value);
			free(out);
			return -1;
		}
		if (n > 0)
			out[n++] = ',';
		memcpy(out + n, start, len);
		n += len;
		if (*s == ',')
			s++;
	}
	free(*target);
	*target = out;
	return 0;
}

/* Parses a list of environment variable names into a NULL-terminated vector. */
static int
config_set_envlist(char ***target, const char *value, char *cause,
    size_t causelen)
{
	char		**v;
	const char	*s, *start;
	size_t		 len, n;

	v = xcalloc(strlen(value) / 2 + 2, sizeof *v);
	n = 0;
	s = value;
	for (;;) {
		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		start = s;
		while (*s != '\0' && *s != ',' && !isspace((unsigned char)*s))
			s++;
		len = s - start;
		if (!config_env_name(start, len)) {
			snprintf(cause, causelen, "invalid variable name \"%.*s\"",
			    (int)(len > 64 ? 64 : len), start);
			config_free_vector(v);
			return -1;
		}
		if (len == 10 && strncmp(start, "HTTP_PROXY", len) == 0) {
			/* httpoxy: handlers take it for the Proxy: header. */
			snprintf(cause, causelen, "HTTP_PROXY may not be passed "
			    "(CVE-2016-5385, \"httpoxy\")");
			config_free_vector(v);
			return -1;
		}
		v[n++] = config_strndup(start, len);
	}
	config_free_vector(*target);
	*target = v;
	return 0;
}

/* Parses an octal file mode ("0660") within the key's range. */
static int
config_set_mode(const struct config_key *k, int *target, const char *value,
    char *cause, size_t causelen)
{
	const char	*c;
	long		 n;

	for (c = value; *c >= '0' && *c <= '7'; c++)
		;
	if (*value == '\0' || *c != '\0' || c - value > 4) {
		snprintf(cause, causelen, "invalid mode \"" CONFIG_QUOTE "\" "
		    "(use octal digits, e.g. 0660)", value);
		return -1;
	}
	n = strtol(value, NULL, 8);
	if (n < k->min || n > k->max) {
		snprintf(cause, causelen, "mode %s out of range (0..0777)",
		    value);
		return -1;
	}
	*target = (int)n;
	return 0;
}

/* Most addresses one host name of a client list stands for. */
#define CONFIG_NAME_ADDRS	32

/*
 * Whether a client list entry is a host name: letters, digits, '-' and
 * '.' with at least one letter, and not a numeric address. Digits and dots
 * alone stay patterns, as before, rather than inet_aton forms.
 */
static bool
config_is_host_name(const char *e)
{
	unsigned char	buf[sizeof(struct in6_addr)];
	bool		letter = false;
	const char	*q;

	for (q = e; *q != '\0'; q++) {
		if (isalpha((unsigned char)*q))
			letter = true;
		else if (!isdigit((unsigned char)*q) && *q != '-' && *q != '.')
			return false;
	}
	return letter && inet_pton(AF_INET6, e, buf) != 1;
}

/* Appends one entry to a growing comma-separated list. */
static void
config_list_add(char **out, size_t *len, const char *e, size_t n)
{
	*out = xrealloc(*out, *len + n + 2);
	if (*len > 0)
		(*out)[(*len)++] = ',';
	memcpy(*out + *len, e, n);
	*len += n;
	(*out)[*len] = '\0';
}

/*
 * AllowedClients, BlockedClients, ProxyTrustedClients: stores the list
 * with each host name replaced by the addresses it resolves to now, so
 * that the resolver runs when the configuration is loaded (startup,
 * reload, an admin set), never per connection. Returns 0, or -1 with
 * cause set when a name does not resolve.
 */
static int
config_set_clients(char **target, const char *v, size_t vlen, char *cause,
    size_t causelen)
{
	struct addrinfo	 hints, *res, *ai;
	char		*out = NULL, name[256], addr[INET6_ADDRSTRLEN];
	const char	*p, *e, *end = v + vlen;
	size_t		 n, len = 0;
	int		 rv, count, names = 0;

	for (p = v; p < end; p = e < end ? e + 1 : e) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		e = p;
		while (e < end && *e != ',')
			e++;
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		if (n >= sizeof(name)) {
			config_list_add(&out, &len, p, n);
			continue;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (!config_is_host_name(name)) {
			config_list_add(&out, &len, p, n);
			continue;
		}
		names++;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		if ((rv = getaddrinfo(name, NULL, &hints, &res)) != 0) {
			snprintf(cause, causelen, "host name \"" CONFIG_QUOTE
			    "\" does not resolve (%s)", name,
			    gai_strerror(rv));
			free(out);
			return -1;
		}
		count = 0;
		for (ai = res; ai != NULL && count < CONFIG_NAME_ADDRS;
		    ai = ai->ai_next) {
			if (ai->ai_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)
				    ai->ai_addr)->sin_addr, addr, sizeof(addr));
			else if (ai->ai_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
				    ai->ai_addr)->sin6_addr, addr,
				    sizeof(addr));
			else
				continue;
			config_list_add(&out, &len, addr, strlen(addr));
			count++;
		}
		freeaddrinfo(res);
	}
	free(*target);
	/* Without names the list stays as written (shown by the admin). */
	if (names == 0) {
		free(out);
		out = config_strndup(v, vlen);
	}
	*target = out;
	return 0;
}

/*
 * Parses value for key k and stores it in base (a struct config, or a
 * struct route for route keys). Returns 0, or -1 with cause set and base
 * unchanged.
 */
static int
config_apply(struct config_parse *p, const struct config_key *k, void *base,
    const char *value, char *cause, size_t causelen)
{
	char		*field = (char *)base + k->offset;
	const char	*v;
	int64_t		 n;
	size_t		 len;
	bool		 b;

	switch (k->type) {
	case TYPE_BOOL:
		if (config_parse_bool(value, &b) == -1) {
			snprintf(cause, causelen, "invalid boolean \""
			    CONFIG_QUOTE "\" (use True/False, Yes/No, On/Off "
			    "or 1/0)", value);
			return -1;
		}
		*(bool *)field = b;
		return 0;
	case TYPE_INT:
	case TYPE_CLOSE_CODE:
		if (config_parse_number(value, k->min, k->max, &n, cause,
		    causelen) == -1)
			return -1;
		/* Range first: an int64_t past int must not wrap into a code. */
		if (k->type == TYPE_CLOSE_CODE && (n < 1000 || n > 4999 ||
		    !ws_close_code_valid((int)n))) {
			snprintf(cause, causelen, "%lld may not be sent in a "
			    "close frame (use 1000-1003, 1007-1014 or "
			    "3000-4999)", (long long)n);
			return -1;
		}
		*(int *)field = (int)n;
		return 0;
	case TYPE_UINT64:
		if (value[0] == '-') {
			snprintf(cause, causelen, CONFIG_QUOTE " out of range "
			    "(%lld..%lld)", value, (long long)k->min,
			    (long long)k->max);
			return -1;
		}
		if (config_parse_number(value, k->min, k->max, &n, cause,
		    causelen) == -1)
			return -1;
		*(uint64_t *)field = (uint64_t)n;
		return 0;
	case TYPE_STRING:
		/* Quotes allow a value with leading or trailing spaces. */
		v = value;
		len = strlen(v);
		if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
			v++;
			len -= 2;
		}
		if (len > (size_t)k->max) {
			snprintf(cause, causelen, "longer than %lld bytes",
			    (long long)k->max);
			return -1;
		}
		if (k->section == SECTION_SERVER &&
		    (k->offset == CFG(allowed_clients) ||
		    k->offset == CFG(blocked_clients) ||
		    k->offset == CFG(proxy_trusted_clients)))
			return config_set_clients((char **)field, v, len,
			    cause, causelen);
		free(*(char **)field);
		*(char **)field = config_strndup(v, len);
		return 0;
	case TYPE_FORMAT:
		if (strcasecmp(value, "lines") == 0)
			*(enum msg_format *)field = FORMAT_LINES;
		else if (strcasecmp(value, "binary") == 0)
			*(enum msg_format *)field = FORMAT_BINARY;
		else if (strcasecmp(value, "framed") == 0)
			*(enum msg_format *)field = FORMAT_FRAMED;
		else {
			snprintf(cause, causelen, "invalid format \""
			    CONFIG_QUOTE "\" (use lines, binary or framed)",
			    value);
			return -1;
		}
		return 0;
	case TYPE_PATH:
		return config_set_path(p, k, base, value, cause, causelen);
	case TYPE_BACKEND:
		return config_set_backend(p, base, value, cause, causelen);
	case TYPE_TOKENS:
		return config_set_tokens(k, (char **)field, value, cause,
		    causelen);
	case TYPE_ENVLIST:
		return config_set_envlist((char ***)field, value, cause,
		    causelen);
	case TYPE_MODE:
		return config_set_mode(k, (int *)field, value, cause, causelen);
	case TYPE_DIR:
		return config_set_workdir(p, k, (char **)field, value, cause,
		    causelen);
	case TYPE_PROGRAM:
		return config_set_program(p, k, (char **)field, value, cause,
		    causelen);
	case TYPE_CHOICE:
		return config_set_choice(k, (int *)field, value, cause,
		    causelen);
	}
	abort();
}

/* Finds key name in section, ignoring case; returns its index or -1. */
static int
config_find_key(enum config_section section, const char *name)
{
	size_t	 i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].section == section &&
		    strcasecmp(config_keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* Fills in a new route's defaults. */
static void
config_route_init(struct route *r, const char *name)
{
	const struct config_key	*k;
	size_t			 i;
	char			 cause[256];

	memset(r, 0, sizeof *r);
	r->name = xstrdup(name);
	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (k->section != SECTION_ROUTE || k->def == NULL)
			continue;
		if (config_apply(NULL, k, r, k->def, cause, sizeof cause) == -1)
			abort();
	}
}

/* Enters the section named by a "[...]" line. */
static void
config_enter_section(struct config_parse *p, const char *name)
{
	struct config	*cfg = p->cfg;
	const char	*rname, *c;
	size_t		 i;
	int		 s;

	p->where = WHERE_BAD;
	if (strncasecmp(name, "route:", 6) == 0) {
		rname = name + 6;
		for (c = rname; *c != '\0'; c++) {
			if (!isalnum((unsigned char)*c) && *c != '_' &&
			    *c != '.' && *c != '-')
				break;
		}
		if (*rname == '\0' || *c != '\0' ||
		    strlen(rname) > CONFIG_ROUTE_NAME_MAX) {
			config_error(p, p->lineno, "invalid route name \""
			    CONFIG_QUOTE "\" (1-%d of A-Z a-z 0-9 _ . -)",
			    rname, CONFIG_ROUTE_NAME_MAX);
			return;
		}
		for (i = 0; i < cfg->nroutes; i++) {
			if (strcmp(cfg->routes[i].name, rname) == 0) {
				config_error(p, p->lineno, "duplicate section "
				    "[route:%s] (first at line %d)", rname,
				    p->meta[i].line);
				return;
			}
		}
		if (cfg->nroutes == CONFIG_MAX_ROUTES) {
			config_error(p, p->lineno, "too many routes (at most "
			    "%d)", CONFIG_MAX_ROUTES);
			return;
		}
		if (cfg->nroutes == p->routes_alloc) {
			p->routes_alloc = p->routes_alloc == 0 ? 4 :
			    p->routes_alloc * 2;
			/* At most CONFIG_MAX_ROUTES: no overflow. */
			cfg->routes = xrealloc(cfg->routes,
			    p->routes_alloc * sizeof *cfg->routes);
			p->meta = xrealloc(p->meta,
			    p->routes_alloc * sizeof *p->meta);
		}
		config_route_init(&cfg->routes[cfg->nroutes], rname);
		memset(&p->meta[cfg->nroutes], 0, sizeof p->meta[0]);
		p->meta[cfg->nroutes].line = p->lineno;
		p->route = cfg->nroutes++;
		p->where = WHERE_ROUTE;
		p->section = SECTION_ROUTE;
		return;
	}
	for (s = 0; s < SECTION_ROUTE; s++) {
		if (strcasecmp(name, config_section_names[s]) == 0) {
			p->where = WHERE_GLOBAL;
			p->section = s;
			return;
		}
	}
	config_error(p, p->lineno, "unknown section [" CONFIG_QUOTE "]", name);
}

/*
 * Looks at one whole line as inih will: sections are entered here (inih
 * gives its handler neither section lines nor line numbers), and lines
 * inih would reject are reported here, so every one of them is. Returns
 * false if the line must not reach inih.
 */
static bool
config_scan_line(struct config_parse *p)
{
	char	*s, *e, *close;
	size_t	 len;

	s = p->line;
	if (p->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || *s == ';' || *s == '#')
		return true;
	if (*s == '[') {
		if ((close = memchr(s, ']', len)) == NULL) {
			config_error(p, p->lineno, "syntax error: missing \"]\"");
			p->where = WHERE_BAD;
			return false;
		}
		for (e = close + 1; e < s + len && isspace((unsigned char)*e);
		    e++)
			;
		if (e < s + len && *e != ';' && *e != '#') {
			config_error(p, p->lineno, "syntax error: text after "
			    "\"]\"");
			p->where = WHERE_BAD;
			return false;
		}
		*close = '\0';
		config_enter_section(p, s + 1);
		*close = ']';
		return true;
	}
	/* A ';' after whitespace starts a comment, as inih sees it. */
	for (e = s; e < s + len && *e != '=' && *e != ':'; e++) {
		if (*e == ';' && e > s && isspace((unsigned char)e[-1]))
			break;
	}
	if (e == s + len || *e == ';') {
		config_error(p, p->lineno, "syntax error: expected "
		    "\"Key = value\" or \"[section]\"");
		return false;
	}
	if (e == s) {
		config_error(p, p->lineno, "syntax error: no key before \"%c\"",
		    *e);
		return false;
	}
	return true;
}

/* Reads the next whole line into p->line; returns -1 at end of file. */
static int
config_next_line(struct config_parse *p)
{
	size_t	 len;
	int	 c;

	for (;;) {
		if (fgets(p->line, sizeof p->line, p->fp) == NULL)
			return -1;
		p->lineno++;
		p->lineoff = 0;
		len = strlen(p->line);
		if (len > 0 && p->line[len - 1] == '\n') {
			p->linelen = len;
		} else if (len <= CONFIG_LINE_MAX && feof(p->fp)) {
			p->line[len++] = '\n';
			p->line[len] = '\0';
			p->linelen = len;
		} else {
			if (len <= CONFIG_LINE_MAX)
				config_error(p, p->lineno, "line contains a "
				    "NUL byte");
			else
				config_error(p, p->lineno, "line longer than "
				    "%d bytes", CONFIG_LINE_MAX);
			while ((c = getc(p->fp)) != EOF && c != '\n')
				;
			/* inih gets an empty line, so the count stays right. */
			strcpy(p->line, "\n");
			p->linelen = 1;
			return 0;
		}
		if (!config_scan_line(p)) {
			strcpy(p->line, "\n");
			p->linelen = 1;
		}
		return 0;
	}
}

/*
 * inih's reader, fgets-like: hands out p->line, in pieces if inih's buffer
 * is smaller, and counts lines for the handler's messages.
 */
static char *
config_reader(char *str, int num, void *arg)
{
	struct config_parse	*p = arg;
	size_t			 n;

	if (num < 2)
		return NULL;
	if (p->lineoff == p->linelen && config_next_line(p) == -1)
		return NULL;
	n = p->linelen - p->lineoff;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, p->line + p->lineoff, n);
	str[n] = '\0';
	p->lineoff += n;
	return str;
}

/* inih's handler: one "Key = value" line of the current section. */
static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_parse	*p = arg;
	const struct config_key	*k;
	void			*base;
	int			*seen;
	size_t			 i;
	int			 idx;
	char			 cause[384];

	(void)section;
	if (p->where == WHERE_BAD)
		return 1;
	for (i = 0; i < CONFIG_NLINUX; i++) {
		if (strcasecmp(name, config_linux_keys[i].name) == 0) {
			config_error(p, p->lineno, "%s: has no meaning on "
			    "Linux (%s)", config_linux_keys[i].name,
			    config_linux_keys[i].why);
			return 1;
		}
	}
	if (p->where == WHERE_NONE) {
		config_error(p, p->lineno, "%s: key outside any section", name);
		return 1;
	}
	if ((idx = config_find_key(p->section, name)) == -1) {
		for (i = 0; i < CONFIG_NKEYS; i++) {
			if (strcasecmp(config_keys[i].name, name) == 0)
				break;
		}
		config_error(p, p->lineno, "unknown key %s in [%s%s]%s%s%s",
		    name, p->where == WHERE_ROUTE ? "route:" : "",
		    p->where == WHERE_ROUTE ? p->cfg->routes[p->route].name :
		    config_section_names[p->section],
		    i < CONFIG_NKEYS ? " (it belongs in [" : "",
		    i < CONFIG_NKEYS ?
		    config_section_names[config_keys[i].section] : "",
		    i < CONFIG_NKEYS ? "])" : "");
		return 1;
	}
	k = &config_keys[idx];
	if (p->where == WHERE_ROUTE) {
		seen = p->meta[p->route].seen;
		base = &p->cfg->routes[p->route];
	} else {
		seen = p->seen;
		base = p->cfg;
	}
	if (seen[idx] != 0) {
		config_error(p, p->lineno, "duplicate key %s (first set at "
		    "line %d)", k->name, seen[idx]);
		return 1;
	}
	seen[idx] = p->lineno;
	if (config_apply(p, k, base, value, cause, sizeof cause) == -1)
		config_error(p, p->lineno, "%s: %s", k->name, cause);
	return 1;
}

/* Sets p->dir to the absolute directory that holds the file. */
static int
config_set_dir(struct config_parse *p, const char *path)
{
	const char	*slash;
	char		 cwd[PATH_MAX];

	slash = strrchr(path, '/');
	if (path[0] == '/') {
		p->dir = config_strndup(path, slash == path ? 1 :
		    (size_t)(slash - path));
		return 0;
	}
	if (getcwd(cwd, sizeof cwd) == NULL)
		return -1;
	if (slash == NULL)
		p->dir = xstrdup(cwd);
	else
		p->dir = config_join(cwd, path, (size_t)(slash - path));
	return 0;
}

/*
 * Looks up a user or group, by name or number, as User and Group spell
 * them. Returns 0 with *id (and, for a user, *gid: the primary group), or
 * -1 when there is none.
 */
static int
config_lookup_id(const char *name, bool group, unsigned int *id,
    unsigned int *gid)
{
	struct passwd	*pw;
	struct group	*gr;
	int64_t		 n;
	char		 cause[128];

	if (group) {
		if ((gr = getgrnam(name)) != NULL) {
			*id = gr->gr_gid;
			return 0;
		}
	} else if ((pw = getpwnam(name)) != NULL) {
		*id = pw->pw_uid;
		*gid = pw->pw_gid;
		return 0;
	}
	if (config_parse_number(name, 0, UINT32_MAX - 1, &n, cause,
	    sizeof cause) == -1)
		return -1;
	*id = (unsigned int)n;
	if (!group)
		*gid = (pw = getpwuid((uid_t)n)) != NULL ? pw->pw_gid :
		    (unsigned int)n;
	return 0;
}

/* User and Group must exist (numbers always do) for the start to work. */
static void
config_check_ids(struct config_parse *p)
{
	unsigned int	 id, gid;
	int		 idx;

	if (*p->cfg->user != '\0' &&
	    config_lookup_id(p->cfg->user, false, &id, &gid) == -1) {
		idx = config_find_key(SECTION_SERVER, "User");
		config_error(p, idx >= 0 ? p->seen[idx] : 0, "User: no such "
		    "user \"" CONFIG_QUOTE "\"", p->cfg->user);
	}
	if (*p->cfg->group != '\0' &&
	    config_lookup_id(p->cfg->group, true, &id, &gid) == -1) {
		idx = config_find_key(SECTION_SERVER, "Group");
		config_error(p, idx >= 0 ? p->seen[idx] : 0, "Group: no such "
		    "group \"" CONFIG_QUOTE "\"", p->cfg->group);
	}
}

/* User and Group as ids; see config.h. */
int
config_ids(const struct config *cfg, uid_t *uid, gid_t *gid)
{
	unsigned int	 u, g, pg = (unsigned int)-1;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (*cfg->user == '\0' && *cfg->group == '\0')
		return 0;
	if (*cfg->user != '\0') {
		if (config_lookup_id(cfg->user, false, &u, &pg) == -1)
			return -1;
		*uid = (uid_t)u;
		*gid = (gid_t)pg;
	}
	if (*cfg->group != '\0') {
		if (config_lookup_id(cfg->group, true, &g, &pg) == -1)
			return -1;
		*gid = (gid_t)g;
	}
	return 1;
}

/* Refuses root handlers; see config.h. */
int
config_check_root(const struct config *cfg, uid_t euid, char *cause,
    size_t causelen)
{
	unsigned int	 uid = 0, gid;
	size_t		 i;

	if (euid != 0 || cfg->allow_root_handlers)
		return 0;
	if (*cfg->user != '\0' &&
	    config_lookup_id(cfg->user, false, &uid, &gid) == 0 && uid != 0)
		return 0;
	for (i = 0; i < cfg->nroutes; i++) {
		if (cfg->routes[i].kind != BACKEND_SCRIPT &&
		    cfg->routes[i].kind != BACKEND_DIR)
			continue;
		snprintf(cause, causelen, "[route:%s]: script handlers would "
		    "run as root: set User in [server] to drop privileges, or "
		    "AllowRootHandlers = true in [backend]",
		    cfg->routes[i].name);
		return -1;
	}
	return 0;
}

/* AdminAllowedUsers: every entry must name a user; kept as uids. */
static void
config_check_admin_users(struct config_parse *p)
{
	struct config	*cfg = p->cfg;
	char		*copy, *w, *save = NULL;
	unsigned int	 id, gid;
	int		 idx;

	if (*cfg->admin_allowed_users == '\0')
		return;
	idx = config_find_key(SECTION_ADMIN, "AdminAllowedUsers");
	copy = xstrdup(cfg->admin_allowed_users);
	/* At most one entry per two bytes ("a,b"), plus one. */
	cfg->admin_uids = xcalloc(strlen(copy) / 2 + 1, sizeof(uid_t));
	for (w = strtok_r(copy, ", \t", &save); w != NULL;
	    w = strtok_r(NULL, ", \t", &save)) {
		if (config_lookup_id(w, false, &id, &gid) == -1) {
			config_error(p, p->seen[idx], "AdminAllowedUsers: no "
			    "such user \"" CONFIG_QUOTE "\"", w);
			continue;
		}
		cfg->admin_uids[cfg->admin_nuids++] = (uid_t)id;
	}
	if (cfg->admin_nuids == 0 && strspn(cfg->admin_allowed_users,
	    ", \t") == strlen(cfg->admin_allowed_users))
		config_error(p, p->seen[idx], "AdminAllowedUsers: no user "
		    "named");
	free(copy);
}

/* The load balancer keys that only make sense together. */
static void
config_check_lb(struct config_parse *p)
{
	struct config	*cfg = p->cfg;
	int		 idx;

	idx = config_find_key(SECTION_SERVER, "ProxyProtocol");
	if (cfg->proxy_protocol != 0 && *cfg->proxy_trusted_clients == '\0')
		config_error(p, p->seen[idx], "ProxyProtocol needs "
		    "ProxyTrustedClients (the load balancers' addresses)");
	if (cfg->proxy_protocol != 0 && cfg->use_ssl)
		config_error(p, p->seen[idx], "ProxyProtocol cannot be used "
		    "with UseSSL (terminate TLS at the load balancer)");
	idx = config_find_key(SECTION_SERVER, "HealthPath");
	if (*cfg->health_path != '\0' && *cfg->health_path != '/')
		config_error(p, p->seen[idx], "HealthPath must start with "
		    "\"/\"");
}

/* The checks that need the whole file: required keys, at least one route. */
static void
config_finish(struct config_parse *p)
{
	const struct config_key	*k;
	size_t			 i, j;

	config_check_ids(p);
	config_check_admin_users(p);

	for (i = 0; i < p->cfg->nroutes; i++) {
		for (j = 0; j < CONFIG_NKEYS; j++) {
			k = &config_keys[j];
			if (k->section == SECTION_ROUTE && k->def == NULL &&
			    p->meta[i].seen[j] == 0)
				config_error(p, p->meta[i].line, "[route:%s]: "
				    "missing %s", p->cfg->routes[i].name,
				    k->name);
		}
		if (p->cfg->routes[i].kind == BACKEND_DIR &&
		    p->cfg->routes[i].path != NULL && !p->cfg->routes[i].prefix)
			config_error(p, p->meta[i].line, "[route:%s]: a dir: "
			    "backend needs a prefix Path (ending in \"*\")",
			    p->cfg->routes[i].name);
	}
	if (p->cfg->nroutes == 0)
		config_error(p, 0, "no [route:...] section");
	config_check_lb(p);
}

/* tls.c's report of a problem with an [ssl] key: at that key's line. */
static void
config_tls_error(void *arg, const char *key, const char *msg)
{
	struct config_parse	*p = arg;
	int			 idx = -1;

	if (key != NULL)
		idx = config_find_key(SECTION_SSL, key);
	config_error(p, idx >= 0 ? p->seen[idx] : 0, "%s%s%s",
	    key != NULL ? key : "", key != NULL ? ": " : "", msg);
}

/* Loads and checks a file; see config.h. */
struct config *
config_load(const char *path, char **errors)
{
	struct config_parse	*p;
	struct config		*cfg;
	size_t			 i;
	int			 r;

	*errors = NULL;
	p = xcalloc(1, sizeof *p);
	p->file = path;
	p->cfg = cfg = config_defaults();
	cfg->file = xstrdup(path);

	if ((p->fp = fopen(path, "r")) == NULL)
		config_error(p, 0, "%s", strerror(errno));
	else if (config_set_dir(p, path) == -1)
		config_error(p, 0, "getcwd: %s", strerror(errno));
	else {
		/* Debian's inih would cut lines at 200 bytes otherwise. */
		ini_use_stack = false;
		ini_max_line = CONFIG_LINE_MAX + 3;
		ini_initial_alloc = ini_max_line;
		ini_allow_realloc = true;
		ini_allow_multiline = false;
		ini_allow_no_value = false;
		ini_stop_on_first_error = false;
		r = ini_parse_stream(config_reader, p, config_handler, p);
		if (ferror(p->fp))
			config_error(p, 0, "read error");
		else if (r == -2)
			config_error(p, 0, "out of memory");
		else if (r > 0 && p->nerrs == 0)
			config_error(p, r, "syntax error");
		else
			config_finish(p);
		/* Certificates load now: a bad one is a configuration error. */
		cfg->tls = tls_ctx_new(cfg, p->dir, config_tls_error, p);
		if (*cfg->admin_socket != '\0' && *cfg->admin_socket != '/') {
			char *abs = config_join(p->dir, cfg->admin_socket,
			    strlen(cfg->admin_socket));
			free(cfg->admin_socket);
			cfg->admin_socket = abs;
		}
		if (*cfg->log_file != '\0' && *cfg->log_file != '/') {
			char *abs = config_join(p->dir, cfg->log_file,
			    strlen(cfg->log_file));
			free(cfg->log_file);
			cfg->log_file = abs;
		}
		if (*cfg->pid_file != '\0' && *cfg->pid_file != '/') {
			char *abs = config_join(p->dir, cfg->pid_file,
			    strlen(cfg->pid_file));
			free(cfg->pid_file);
			cfg->pid_file = abs;
		}
	}
	if (p->fp != NULL)
		fclose(p->fp);

	if (p->nerrs > 0) {
		*errors = config_error_text(p);
		config_free(cfg);
		cfg = NULL;
	}
	for (i = 0; i < p->nerrs; i++)
		free(p->errs[i].msg);
	free(p->meta);
	free(p->dir);
	free(p);
	return cfg;
}

/* A config holding every default of the table. */
struct config *
config_defaults(void)
{
	const struct config_key	*k;
	struct config		*cfg;
	size_t			 i;
	char			 cause[256];

	cfg = xcalloc(1, sizeof *cfg);
	for (i = 0; i < CONFIG_NKEYS; i++) {
		k = &config_keys[i];
		if (k->section == SECTION_ROUTE)
			continue;
		/* A default the parser rejects is a bug in the table. */
		if (config_apply(NULL, k, cfg, k->def, cause, sizeof cause) ==
		    -1)
			abort();
	}
	return cfg;
}

/* Frees a config and everything it owns. */
void
config_free(struct config *cfg)
{
	struct route	*r;
	size_t		 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].section != SECTION_ROUTE &&
		    config_keys[i].type == TYPE_STRING)
			free(*(char **)((char *)cfg + config_keys[i].offset));
	}
	for (i = 0; i < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		free(r->name);
		free(r->path);
		free(r->backend);
		config_free_vector(r->argv);
		free(r->subprotocols);
		config_free_vector(r->passenv);
		free(r->socket);
		free(r->origins);
		free(r->workdir);
		free(r->open_hook);
		free(r->dir);
	}
	free(cfg->routes);
	free(cfg->admin_uids);
	free(cfg->file);
	tls_ctx_free(cfg->tls);
	free(cfg);
}

/* The route serving a request path: exact first, then the longest prefix. */
const struct route *
config_route_for(const struct config *cfg, const char *path)
{
	const struct route	*r, *best = NULL;
	size_t			 i, n, bestlen = 0;

	for (i = 0; i < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		if (r->path == NULL)
			continue;
		if (!r->prefix) {
			if (strcmp(r->path, path) == 0)
				return r;
			continue;
		}
		n = strlen(r->path) - 1;	/* without the "*" */
		if (strncmp(r->path, path, n) == 0 &&
		    (best == NULL || n > bestlen)) {
			best = r;
			bestlen = n;
		}
	}
	return best;
}

/* The number of keys in the table. */
size_t
config_key_count(void)
{
	return CONFIG_NKEYS;
}

/* A key's name, or NULL past the table. */
const char *
config_key_name(size_t i)
{
	return i < CONFIG_NKEYS ? config_keys[i].name : NULL;
}

/* A key's section, or NULL past the table. */
const char *
config_key_section(size_t i)
{
	return i < CONFIG_NKEYS ?
	    config_section_names[config_keys[i].section] : NULL;
}

/* Whether a key may change while listening. */
bool
config_key_runtime(size_t i)
{
	return i < CONFIG_NKEYS && config_keys[i].runtime;
}

/* Finds a key of a global section by name, ignoring case; returns it or NULL. */
static const struct config_key *
config_global_key(const char *name)
{
	size_t	 i;

	for (i = 0; i < CONFIG_NKEYS; i++) {
		if (config_keys[i].section != SECTION_ROUTE &&
		    strcasecmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

/* Writes the choice numbered i of a TYPE_CHOICE key into buf. */
static void
config_choice_name(const struct config_key *k, int i, char *buf, size_t len)
{
	const char	*c = k->choices;
	size_t		 n;

	while (i-- > 0 && strchr(c, '|') != NULL)
		c = strchr(c, '|') + 1;
	n = strcspn(c, "|");
	snprintf(buf, len, "%.*s", (int)n, c);
}

/* Formats a global key's value as a file would spell it; see config.h. */
int
config_get(const struct config *cfg, const char *key, char *buf, size_t len)
{
	const struct config_key	*k;
	const char		*field;

	if ((k = config_global_key(key)) == NULL)
		return -1;
	field = (const char *)cfg + k->offset;
	switch (k->type) {
	case TYPE_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "True" :
		    "False");
		break;
	case TYPE_INT:
	case TYPE_CLOSE_CODE:
		snprintf(buf, len, "%d", *(const int *)field);
		break;
	case TYPE_UINT64:
		snprintf(buf, len, "%llu",
		    (unsigned long long)*(const uint64_t *)field);
		break;
	case TYPE_MODE:
		snprintf(buf, len, "%04o", (unsigned int)*(const int *)field);
		break;
	case TYPE_CHOICE:
		config_choice_name(k, *(const int *)field, buf, len);
		break;
	case TYPE_STRING:
	default:
		snprintf(buf, len, "%s", *(char *const *)field != NULL ?
		    *(char *const *)field : "");
		break;
	}
	if (k->offset == CFG(ssl_cert_password) && *buf != '\0')
		snprintf(buf, len, "********");
	return 0;
}

/* Sets a global key of a running config; see config.h for the results. */
int
config_set(struct config *cfg, const char *key, const char *value,
    bool listening, char *cause, size_t causelen)
{
	const struct config_key	*k;

	if ((k = config_global_key(key)) == NULL) {
		snprintf(cause, causelen, "unknown key " CONFIG_QUOTE, key);
		return -1;
	}
	if (k->section == SECTION_ADMIN) {
		snprintf(cause, causelen, "cannot change %s at run time (it "
		    "takes effect at a restart)", k->name);
		return -3;
	}
	if (k->section == SECTION_SSL) {
		/* The SSL_CTX is built at load: only a reload rebuilds it. */
		snprintf(cause, causelen, "cannot change %s at run time (edit "
		    "the file and reload)", k->name);
		return -3;
	}
	if (!k->runtime && listening) {
		snprintf(cause, causelen, "cannot change %s while listening",
		    k->name);
		if (strcmp(k->name, "LocalPort") == 0)
			return 106;
		if (strcmp(k->name, "LocalHost") == 0)
			return 107;
		if (strcmp(k->name, "MaxConnections") == 0)
			return 108;
		return -3;
	}
	if (config_apply(NULL, k, cfg, value, cause, causelen) == -1)
		return -2;
	return 0;
}

/*
 * Writes s as roff text: escapes backslashes and hyphens, guards a leading
 * dot, and lets a line break after a comma (long default lists have no
 * spaces, and man would warn that it cannot break them).
 */
static void
config_man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else if (*s == ',' && s[1] != ' ' && s[1] != '\0')
			fputs(",\\:", f);
		else
			fputc(*s, f);
	}
}

/* The type of a key, as the man page names it. */
static const char *
config_man_type(const struct config_key *k)
{
	switch (k->type) {
	case TYPE_BOOL:
		return "boolean";
	case TYPE_INT:
	case TYPE_UINT64:
	case TYPE_CLOSE_CODE:
		return "integer";
	case TYPE_STRING:
		return "string";
	case TYPE_FORMAT:
		return "lines | binary | framed";
	case TYPE_PATH:
		return "path";
	case TYPE_BACKEND:
		return "echo | script:PROGRAM [ARGS...] | dir:DIRECTORY | "
		    "unix:SOCKET [mux] | unix+mux:SOCKET";
	case TYPE_TOKENS:
		return "token list";
	case TYPE_ENVLIST:
		return "name list";
	case TYPE_MODE:
		return "octal mode";
	case TYPE_DIR:
		return "directory";
	case TYPE_PROGRAM:
		return "program";
	case TYPE_CHOICE:
		return k->choices;
	}
	abort();
}

/* The KEYS section of wsserverd.ini(5), from the table. */
void
config_write_man(FILE *f)
{
	const struct config_key	*k;
	size_t			 i;
	int			 s;

	for (s = 0; s < SECTION_COUNT; s++) {
		fprintf(f, ".SS [%s]\n", config_section_names[s]);
		for (i = 0; i < CONFIG_NKEYS; i++) {
			k = &config_keys[i];
			if ((int)k->section != s)
				continue;
			fprintf(f, ".TP\n\\fB%s\\fR = \\fI", k->name);
			config_man_text(f, config_man_type(k));
			fputs("\\fR\n", f);
			config_man_text(f, k->help);
			fputs("\n.br\n", f);
			if (k->def == NULL)
				fputs("Required.", f);
			else if (*k->def == '\0')
				fputs("Default: empty.", f);
			else {
				fputs("Default: ", f);
				config_man_text(f, k->def);
				fputc('.', f);
			}
			if (k->type == TYPE_INT || k->type == TYPE_UINT64 ||
			    k->type == TYPE_CLOSE_CODE)
				fprintf(f, " Range: %lld\\(en%lld%s%s.",
				    (long long)k->min, (long long)k->max,
				    k->unit != NULL ? " " : "",
				    k->unit != NULL ? k->unit : "");
			else if (k->type == TYPE_STRING || k->type == TYPE_DIR ||
			    k->type == TYPE_PROGRAM ||
			    k->type == TYPE_PATH || k->type == TYPE_TOKENS)
				fprintf(f, " At most %lld bytes.",
				    (long long)k->max);
			fputs(k->runtime ? " Can be changed while listening.\n" :
			    k->section == SECTION_ROUTE ||
			    k->section == SECTION_SSL ?
			    " Changed by a reload.\n" :
			    " Fixed while listening: changed by a restart.\n",
			    f);
		}
	}
	fputs(".SS Settings with no meaning on Linux\n", f);
	fputs("These settings of the reference are recognised in any section "
	    "and rejected with an error that says why:\n", f);
	for (i = 0; i < CONFIG_NLINUX; i++) {
		fprintf(f, ".TP\n.B %s\n%c", config_linux_keys[i].name,
		    toupper((unsigned char)config_linux_keys[i].why[0]));
		config_man_text(f, config_linux_keys[i].why + 1);
		fputs(".\n", f);
	}
}
