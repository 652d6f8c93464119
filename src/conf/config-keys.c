/*
 * config-keys.c - the key table of wsserverd.ini: every key's section,
 * type, default, range, whether it may change while listening, and its
 * help text; the settings of the reference that have no meaning on Linux;
 * the table's accessors; and the KEYS section of wsserverd.ini(5) written
 * from it. The bulk of the file is the table. It calls no other file of
 * src/conf.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/util.h"
#include "conf/config-keys.h"
#include "conf/config-int.h"

/* Section names as the file spells them ([route:NAME] for routes). */
const char *const config_section_names[SECTION_COUNT] = {
	[SECTION_SERVER] = "server",
	[SECTION_WEBSOCKET] = "websocket",
	[SECTION_BACKEND] = "backend",
	[SECTION_LOG] = "log",
	[SECTION_ADMIN] = "admin",
	[SECTION_SSL] = "ssl",
	[SECTION_CLUSTER] = "cluster",
	[SECTION_ROUTE] = "route:NAME",
};

/* Every key, section by section, in the order of the man page. */
const struct config_key config_keys[] = {
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
	  .type = TYPE_INT, .def = "511", .min = 1, .max = 65535,
	  .runtime = false, .offset = CFG(connection_backlog),
	  .help = "Length of the kernel's queue of connections not yet "
	  "accepted (listen(2) backlog, capped by net.core.somaxconn). The "
	  "default differs from the reference's (5) on purpose: a server "
	  "takes bursts of new clients (a reconnect wave, a benchmark, a "
	  "page that opens several WebSockets), and connections beyond the "
	  "queue wait for the client's SYN retry, 1 s and then 3 s later "
	  "(100 TLS clients at once timed out in a test with 5). 511 is "
	  "nginx's default too." },
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
	  "sum. 0 means no cap. Besides what it counts, each process keeps up "
	  "to 8 MiB of freed memory for reuse instead of returning it to the "
	  "system at once." },
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
	  .help = "Refuse to share the port: a daemon started on a port "
	  "another process listens on exits 1 (address already in use), with "
	  "any number of Workers (whose own sockets share the port through "
	  "SO_REUSEPORT; see Workers in wsserverd(8) for how others are kept "
	  "out) and with socket activation. False sets SO_REUSEPORT, so that "
	  "several daemons of the same user can share the port." },
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
	{ .name = "MaxConnectionsPerClient", .section = SECTION_SERVER,
	  .type = TYPE_INT, .def = "0", .min = 0, .max = 100000,
	  .runtime = true, .offset = CFG(max_conns_per_client),
	  .help = "Most connections one client address (an IPv6 one: its "
	  "ClientIPv6Prefix) has open at once over all workers, WebSockets and "
	  "unfinished handshakes alike; further ones get 429 at once. Behind "
	  "ProxyProtocol the address is the real client's, checked once the "
	  "header is read. 0 means no limit." },
	{ .name = "HandshakeRatePerClient", .section = SECTION_SERVER,
	  .type = TYPE_INT, .def = "0", .min = 0, .max = 1000000,
	  .unit = "per second", .runtime = true,
	  .offset = CFG(handshake_rate_per_client),
	  .help = "New connections one client address may open per second "
	  "over all workers (a token bucket of HandshakeBurstPerClient); "
	  "faster ones get 429 with Retry-After. 0 means no limit." },
	{ .name = "HandshakeBurstPerClient", .section = SECTION_SERVER,
	  .type = TYPE_INT, .def = "0", .min = 0, .max = 1000000,
	  .runtime = true, .offset = CFG(handshake_burst_per_client),
	  .help = "How many new connections beyond HandshakeRatePerClient a "
	  "client address may open at once (the bucket's size); 0 means one "
	  "second's worth, the rate." },
	{ .name = "ClientIPv6Prefix", .section = SECTION_SERVER,
	  .type = TYPE_INT, .def = "64", .min = 1, .max = 128,
	  .runtime = false, .offset = CFG(client_ipv6_prefix),
	  .help = "IPv6 clients are one client per prefix of this length for "
	  "the per-client limits (a /64 is what one site or device usually "
	  "gets, and takes no effort to vary within); IPv4 clients are one "
	  "per address." },
	{ .name = "ClientTableSize", .section = SECTION_SERVER,
	  .type = TYPE_INT, .def = "16384", .min = 64, .max = 4194304,
	  .runtime = false, .offset = CFG(client_table_size),
	  .help = "Client addresses the per-client limits track at once (in "
	  "the workers' shared memory; about 80 bytes each). One with nothing "
	  "open and a full bucket is forgotten when room is needed; when none "
	  "can be, a new address gets 503 until some can (as nginx's "
	  "limit_conn does), so keep it well above MaxConnections. Changes "
	  "need a restart." },

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
	  "this length is passed on without waiting for its end: the "
	  "reference's DataIn EOL false, which mux and framed backends see as "
	  "U or V instead of T or B; 0: no limit. A connection may have its "
	  "own (the reference's MaxLineLength[ConnectionId]: wsserverctl "
	  "config ID MaxLineLength=N, or a mux backend's config)." },
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
	{ .name = "PingInterval", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "30", .min = 0, .max = 86400,
	  .unit = "seconds", .runtime = true, .offset = CFG(ping_interval),
	  .help = "A WebSocket that has received or sent nothing for this "
	  "long gets a ping from the daemon, and another each interval while "
	  "it stays quiet (checked once a second by one sweep over every "
	  "connection). The ping is traffic from the server and its pong "
	  "traffic from the client, which keeps the WebSocket through a proxy "
	  "or NAT that cuts idle connections, and the pong shows that the "
	  "client is still there (PingTimeout). The default, 30, is half the "
	  "60 s idle timeout of nginx (proxy_read_timeout, which counts only "
	  "what the server sends), AWS ALB and many NATs: a quiet WebSocket "
	  "carries bytes both ways at least every 31 s, with room for a late "
	  "sweep. 0 sends none. A route's PingInterval and a connection's own "
	  "(wsserverctl config ID PingInterval=N) take precedence. The "
	  "reference has none (its Ping method is wsserverctl ping; "
	  "KeepAliveTime and KeepAliveInterval are TCP keep-alive, which a "
	  "proxy in between does not see)." },
	{ .name = "PingTimeout", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "30", .min = 0, .max = 86400,
	  .unit = "seconds", .runtime = true, .offset = CFG(ping_timeout),
	  .help = "A ping of the daemon's (PingInterval, wsserverctl ping or a "
	  "backend's) that no pong answers within this long ends the "
	  "WebSocket at once, without a closing handshake: the client is "
	  "presumed gone, a close frame would wait behind the data it does "
	  "not take, and no answer to it would come. It is logged as \"ID "
	  "ping timeout: no pong within N s (PingTimeout)\" and recorded, for "
	  "the log, the statistics, the backend and watch, as close code 1006 "
	  "by=server, the code a client sees when a connection ends without a "
	  "close frame. 0 waits for ever (pings still go out). A route's and "
	  "a connection's own value take precedence. No counterpart in the "
	  "reference." },
	{ .name = "IdleTimeout", .section = SECTION_WEBSOCKET,
	  .type = TYPE_INT, .def = "0", .min = 0, .max = 86400,
	  .unit = "seconds", .runtime = true, .offset = CFG(idle_timeout),
	  .help = "A WebSocket on which no data message has passed either way "
	  "for this long is closed with 1001 (going away) and the reason "
	  "\"idle timeout\"; pings and pongs do not count. 0 never closes one "
	  "for being idle. A route's and a connection's own value take "
	  "precedence. No counterpart in the reference (its Timeout bounds a "
	  "send that makes no progress, not silence)." },

	/* [backend] */
	{ .name = "KillTimeout", .section = SECTION_BACKEND, .type = TYPE_INT,
	  .def = "5", .min = 0, .max = 3600, .unit = "seconds",
	  .runtime = true, .offset = CFG(kill_timeout),
	  .help = "After stdin EOF a handler has this long to exit; then its "
	  "whole process group gets SIGTERM, and SIGKILL one second later (at "
	  "once with 0). Processes a handler leaves in its group when it exits "
	  "get the same sequence." },
	{ .name = "AllowRootHandlers", .section = SECTION_BACKEND,
	  .type = TYPE_BOOL, .def = "False", .runtime = true,
	  .offset = CFG(allow_root_handlers),
	  .help = "Let script handlers run as root. Off, a daemon running as "
	  "root without User refuses script: routes at start, at reload and "
	  "with -t, and never spawns a handler as root." },
	{ .name = "MaxHandlers", .section = SECTION_BACKEND, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 1000000, .runtime = true,
	  .offset = CFG(max_handlers),
	  .help = "Most handler processes (script: and dir:) alive at once "
	  "over all workers, counting those whose client has left but that "
	  "have not exited yet (and what they left in their process group); "
	  "past it a new WebSocket on such a route gets 503. 0 means as many "
	  "as MaxConnections: never more handlers than connections could "
	  "need." },
	{ .name = "MaxSpawnRate", .section = SECTION_BACKEND, .type = TYPE_INT,
	  .def = "0", .min = 0, .max = 1000000, .unit = "per second",
	  .runtime = true, .offset = CFG(max_spawn_rate),
	  .help = "Most handler and OpenRequestHook processes a process "
	  "(each worker on its own) starts per second, with bursts of as many. "
	  "Past it an upgrade waits for its turn, first come first served, at "
	  "most HandshakeTimeout (then 503). 0 (the default) means no limit: "
	  "the spawner starts programs off the event loop, a few per CPU at a "
	  "time, so a storm of starts cannot starve it; set a rate to bound "
	  "what handlers cost the machine." },

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
	  "Cookie and Set-Cookie headers and of the parameters named in "
	  "SensitiveQueryParams with \"***\" wherever the request is shown: "
	  "log lines, watch and the admin socket's connection output. Fields "
	  "are masked (headers by name, parameters by their decoded name), "
	  "never a whole line." },
	{ .name = "SensitiveQueryParams", .section = SECTION_LOG,
	  .type = TYPE_STRING, .def = "token,access_token,password,key",
	  .max = 1024, .runtime = true,
	  .offset = CFG(sensitive_query_params),
	  .help = "Comma-separated parameter names (any case) whose values "
	  "MaskSensitiveData hides: query parameters after ?, & or ;, and path "
	  "parameters (;name=value), compared after percent-decoding and "
	  "without a trailing [...] (token[] is token)." },

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
	{ .name = "SendFileDirectory", .section = SECTION_ADMIN,
	  .type = TYPE_STRING, .def = "", .max = 4096, .runtime = false,
	  .offset = CFG(sendfile_dir),
	  .help = "The directory (relative to the ini file's directory) whose "
	  "files sendfile may send; a path is resolved (realpath) and must "
	  "stay inside it, neither .. nor a symbolic link leads out. Empty "
	  "turns sendfile off: otherwise it would send any file the daemon "
	  "can read." },
	{ .name = "AdminIdleTimeout", .section = SECTION_ADMIN,
	  .type = TYPE_INT,
	  .def = "60", .min = 0, .max = 86400, .unit = "seconds",
	  .runtime = false, .offset = CFG(admin_idle_timeout),
	  .help = "An admin client that sends no command for this long while "
	  "none of its commands runs is disconnected (HAProxy's stats "
	  "timeout); a watch client never is. 0 means no timeout." },

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
	  .help = "\"*\" for Mozilla's \"intermediate\" suites in TLS 1.2 "
	  "(ECDHE and DHE with AES-GCM or ChaCha20-Poly1305: forward secrecy, "
	  "no CBC, no SHA-1, no static RSA) and OpenSSL's in TLS 1.3, else "
	  "the suites allowed, in "
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

	/* [cluster]: topics, and the fleet once Redis is set; a reload changes them */
	{ .name = "Redis", .section = SECTION_CLUSTER, .type = TYPE_STRING,
	  .def = "", .max = 1024, .runtime = false,
	  .offset = CFG(cluster_redis),
	  .help = "The Redis server the nodes of a fleet share: "
	  "redis://HOST[:PORT][/DB] (port 6379 by default; a host name is "
	  "resolved at each connect) or unix:PATH. Set, this node joins the "
	  "fleet: its ConnectionIds become NodeName:N, topics and commands "
	  "for any connection reach every node (see THE FLEET in "
	  "wsserverd(8)). Empty: topics work within this node, across its "
	  "workers." },
	{ .name = "RedisUser", .section = SECTION_CLUSTER, .type = TYPE_STRING,
	  .def = "", .max = 255, .runtime = false,
	  .offset = CFG(cluster_user),
	  .help = "The Redis ACL user to AUTH as, with the password of "
	  "RedisPasswordFile; empty: the default user." },
	{ .name = "RedisPasswordFile", .section = SECTION_CLUSTER,
	  .type = TYPE_STRING, .def = "", .max = 4096, .runtime = false,
	  .offset = CFG(cluster_password_file),
	  .help = "A file (relative to the ini file's directory) whose first "
	  "line is the Redis password, sent with AUTH after each connect, so "
	  "the ini file itself holds no secret. The daemon reads it at start, "
	  "before it drops privileges (wsserverd -t checks it), and again at "
	  "a reload, where a file it can no longer read keeps the password it "
	  "had; wsserverctl -c does not read it. Empty: no AUTH." },
	{ .name = "NodeName", .section = SECTION_CLUSTER, .type = TYPE_STRING,
	  .def = "", .max = 32, .runtime = false,
	  .offset = CFG(cluster_node),
	  .help = "This node's name in the fleet, unique among the nodes: 1-32 "
	  "of A-Z a-z 0-9 _ . - . It starts every ConnectionId (web1:42) and "
	  "names the node's Redis channel. Empty: the host name (cut at its "
	  "first dot)." },
	{ .name = "ChannelPrefix", .section = SECTION_CLUSTER,
	  .type = TYPE_STRING, .def = "wsserverd:", .max = 64,
	  .runtime = false, .offset = CFG(cluster_prefix),
	  .help = "What every Redis channel and key of the fleet starts with: "
	  "a topic T is the channel PREFIXtopic:T, a node N's commands go to "
	  "PREFIXnode:N. Fleets that share a Redis server use different "
	  "prefixes." },
	{ .name = "NodeTTL", .section = SECTION_CLUSTER, .type = TYPE_INT,
	  .def = "10000", .min = 1000, .max = 3600000,
	  .unit = "milliseconds", .runtime = false,
	  .offset = CFG(cluster_node_ttl),
	  .help = "A node that stops (killed, cut off) leaves the fleet's "
	  "list (status, connections --all) within this time: each node "
	  "writes its entry every quarter of it, and the entry expires after "
	  "three quarters." },
	{ .name = "CommandTimeout", .section = SECTION_CLUSTER,
	  .type = TYPE_INT, .def = "3000", .min = 100, .max = 600000,
	  .unit = "milliseconds", .runtime = false,
	  .offset = CFG(cluster_command_timeout),
	  .help = "A command for a connection of another node (sendtext, "
	  "disconnect, ping...) that has no answer within this time fails "
	  "with ERR 503. A node that is gone from Redis fails at once." },
	{ .name = "RedisTimeout", .section = SECTION_CLUSTER,
	  .type = TYPE_INT, .def = "3000", .min = 100, .max = 600000,
	  .unit = "milliseconds", .runtime = false,
	  .offset = CFG(cluster_timeout),
	  .help = "How long a connect to Redis may take, and how long a "
	  "connection may leave a PING (sent every second) unanswered before "
	  "it is dropped and made again: a link that is cut is noticed in "
	  "this time." },
	{ .name = "RedisReconnectMax", .section = SECTION_CLUSTER,
	  .type = TYPE_INT, .def = "2000", .min = 100, .max = 600000,
	  .unit = "milliseconds", .runtime = false,
	  .offset = CFG(cluster_reconnect_max),
	  .help = "Reconnects to Redis start 100 ms after a loss and double "
	  "each time up to this." },
	{ .name = "RedisMaxPending", .section = SECTION_CLUSTER,
	  .type = TYPE_INT, .def = "16777216", .min = 65536,
	  .max = 1073741824, .unit = "bytes", .runtime = false,
	  .offset = CFG(cluster_max_pending),
	  .help = "Most bytes of publishes and commands sent to Redis and not "
	  "answered yet; past it a publish is dropped (counted in stats) "
	  "instead of growing the queue." },
	{ .name = "MaxSubscriptions", .section = SECTION_CLUSTER,
	  .type = TYPE_INT, .def = "64", .min = 1, .max = 65536,
	  .runtime = false, .offset = CFG(max_subscriptions),
	  .help = "Most topics one WebSocket may be subscribed to; a "
	  "subscription past it is refused (logged, and answered to a mux "
	  "backend)." },
	{ .name = "MaxTopics", .section = SECTION_CLUSTER, .type = TYPE_INT,
	  .def = "100000", .min = 1, .max = 10000000, .runtime = false,
	  .offset = CFG(max_topics),
	  .help = "Most distinct topics with subscribers in one process (a "
	  "worker, and the master's table of them); a subscription to a new "
	  "topic past it is refused. Each subscription takes about 64 bytes, "
	  "each topic about 100 bytes plus its name." },

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
	  "route (see ROUTES in wsserverd(8)); \"tcp:HOST:PORT\" and "
	  "\"tcp:HOST:PORT mux\" (\"tcp+mux:HOST:PORT\"): the same over TCP, "
	  "HOST an address ([::1] for IPv6) or a name resolved at load." },
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
	{ .name = "PingInterval", .section = SECTION_ROUTE, .type = TYPE_INT,
	  .def = "-1", .min = -1, .max = 86400, .unit = "seconds",
	  .runtime = false, .offset = RT(ping_interval),
	  .help = "PingInterval for this route's WebSockets; -1 takes "
	  "[websocket] PingInterval." },
	{ .name = "PingTimeout", .section = SECTION_ROUTE, .type = TYPE_INT,
	  .def = "-1", .min = -1, .max = 86400, .unit = "seconds",
	  .runtime = false, .offset = RT(ping_timeout),
	  .help = "PingTimeout for this route's WebSockets; -1 takes "
	  "[websocket] PingTimeout." },
	{ .name = "IdleTimeout", .section = SECTION_ROUTE, .type = TYPE_INT,
	  .def = "-1", .min = -1, .max = 86400, .unit = "seconds",
	  .runtime = false, .offset = RT(idle_timeout),
	  .help = "IdleTimeout for this route's WebSockets; -1 takes "
	  "[websocket] IdleTimeout." },
	{ .name = "PassAuthorization", .section = SECTION_ROUTE,
	  .type = TYPE_BOOL, .def = "False", .runtime = false,
	  .offset = RT(pass_auth),
	  .help = "Pass the request's Authorization header to the route's "
	  "handlers, hook and unix: backend as HTTP_AUTHORIZATION (Apache's "
	  "CGIPassAuth). Off by default: the credentials are meant for "
	  "whoever checks them in front of the handler, and a handler that "
	  "does its own authentication says so here. Proxy-Authorization is "
	  "never passed: it is for the proxy." },
	{ .name = "Subscribe", .section = SECTION_ROUTE, .type = TYPE_STRING,
	  .def = "", .max = 4096, .runtime = false, .offset = RT(subscribe),
	  .help = "Topics every WebSocket of the route joins when it opens, "
	  "comma-separated (room:{PATH_INFO}, all): {NAME} is replaced by the "
	  "request's CGI variable NAME (empty when it has none), so a "
	  "handler that knows nothing of topics gets the messages published "
	  "on them. A topic that comes out empty, longer than 128 bytes or "
	  "with a space or control character is left out (logged)." },
	{ .name = "ConnectTimeout", .section = SECTION_ROUTE, .type = TYPE_INT,
	  .def = "3000", .min = 100, .max = 600000, .unit = "milliseconds",
	  .runtime = false, .offset = RT(connect_timeout),
	  .help = "tcp: backends: a connect (and TLS handshake) that takes "
	  "longer fails: 503 before the upgrade." },
	{ .name = "TcpKeepAlive", .section = SECTION_ROUTE, .type = TYPE_INT,
	  .def = "60", .min = 0, .max = 86400, .unit = "seconds",
	  .runtime = false, .offset = RT(tcp_keepalive),
	  .help = "tcp: backends: TCP keep-alive probes after this much "
	  "silence (then every tenth of it, five times) find a backend host "
	  "that went away; 0 turns them off." },
	{ .name = "BackendUseSSL", .section = SECTION_ROUTE, .type = TYPE_BOOL,
	  .def = "False", .runtime = false, .offset = RT(ssl_use),
	  .help = "tcp: backends: speak TLS to the backend (TLS 1.2 or "
	  "later), checking its certificate unless BackendSSLVerify is off." },
	{ .name = "BackendSSLCACerts", .section = SECTION_ROUTE,
	  .type = TYPE_STRING, .def = "", .max = 4096, .runtime = false,
	  .offset = RT(ssl_ca),
	  .help = "PEM file (relative to the ini file's directory) of the CA "
	  "certificates the backend's certificate is checked against, besides "
	  "the system's." },
	{ .name = "BackendSSLCert", .section = SECTION_ROUTE,
	  .type = TYPE_STRING, .def = "", .max = 4096, .runtime = false,
	  .offset = RT(ssl_cert),
	  .help = "PEM file with the client certificate (and its private key) "
	  "shown to a backend that asks for one; empty: none." },
	{ .name = "BackendSSLServerName", .section = SECTION_ROUTE,
	  .type = TYPE_STRING, .def = "", .max = 255, .runtime = false,
	  .offset = RT(ssl_name),
	  .help = "Name sent as SNI and that the backend's certificate must "
	  "carry; empty: the HOST of the Backend." },
	{ .name = "BackendSSLVerify", .section = SECTION_ROUTE,
	  .type = TYPE_BOOL, .def = "True", .runtime = false,
	  .offset = RT(ssl_verify),
	  .help = "Check the backend's certificate (chain and name); off "
	  "accepts any, for tests only." },
};

const size_t config_nkeys = sizeof(config_keys) / sizeof(config_keys[0]);

/*
 * Names of the reference that are no key here: settings a Linux daemon
 * has no use for, then values the admin socket has instead. The one list
 * the ini file's errors, the admin's config command and the man page use.
 */
const struct config_linux_key config_linux_keys[] = {
	{ "UseBackgroundThread",
	  "a .NET thread property; wsserverd runs one event loop", false },
	{ "GUIAvailable", "there is no GUI message loop; libevent runs "
	  "events", false },
	{ "CloseStreamAfterTransfer", "it is about .NET streams handed to "
	  "SendFile or SetUploadStream; sendfile opens and closes its file "
	  "itself", false },
	{ "CACertFilePaths",
	  "for Mono on Unix only; OpenSSL finds its CA certificates itself",
	  false },
	{ "UseInternalSecurityAPI", "TLS is always OpenSSL", false },
	{ "SSLProvider", "TLS is always OpenSSL", false },
	/* Reference TLS settings for client components, or not for OpenSSL. */
	{ "SSLServerCACerts", "it checks a server's certificate; client "
	  "certificates are checked against SSLClientCACerts", false },
	{ "SSLSecurityFlags", "it relaxes checks of a server's certificate, "
	  "which a server does not make", false },
	{ "SSLIncludeCertChain", "it shapes a client's SSLServerAuthentication "
	  "event", false },
	{ "SSLCheckOCSP", "it checks a server's certificate; for client "
	  "certificates use SSLCheckCRL", false },
	{ "SSLCipherStrength", "not supported with OpenSSL; name the suites in "
	  "SSLEnabledCipherSuites", false },
	{ "TLS13KeyShareGroups", "a client's pregenerated key shares; a server "
	  "answers them, see TLS13SupportedGroups", false },
	{ "LicenseInfo", "it describes the reference's licence; wsserverd "
	  "needs none", false },
	/* Read-only or per-connection values: the admin socket has them. */
	{ "BuildInfo", "read-only: wsserverctl status shows it", true },
	{ "Listening", "read-only: wsserverctl status shows it; start and stop "
	  "change it", true },
	{ "Connections", "wsserverctl connections lists them", true },
	{ "MessageLength", "a setting of one connection: wsserverctl config ID "
	  "MessageLength=N", true },
	{ "SSLNegotiatedVersion", "read-only, per connection: wsserverctl "
	  "connection ID shows it", true },
	{ "SSLNegotiatedCipher", "read-only, per connection: wsserverctl "
	  "connection ID shows it", true },
	{ "SSLNegotiatedCipherSuite", "read-only, per connection: wsserverctl "
	  "connection ID shows it", true },
	{ "SSLNegotiatedCipherStrength", "read-only, per connection: "
	  "wsserverctl connection ID shows it", true },
	{ "SSLNegotiatedKeyExchange", "read-only, per connection: wsserverctl "
	  "connection ID shows it", true },
	{ "SSLNegotiatedKeyExchangeStrength", "read-only, per connection: "
	  "wsserverctl connection ID shows it", true },
};

const size_t config_nlinux = sizeof(config_linux_keys) /
    sizeof(config_linux_keys[0]);

/* Why a name of the reference is no key here (malloc'd), or NULL; see config-keys.h. */
char *
config_unmapped(const char *name)
{
	const struct config_linux_key	*u;
	char				*s;
	size_t				 i;

	for (i = 0; i < config_nlinux; i++) {
		u = &config_linux_keys[i];
		if (strcasecmp(name, u->name) != 0)
			continue;
		xasprintf(&s, "%s: %s (%s)", u->name, u->elsewhere ?
		    "is not a setting here" : "has no meaning on Linux",
		    u->why);
		return s;
	}
	return NULL;
}

/* Finds key name in section, ignoring case; returns its index or -1. */
int
config_find_key(enum config_section section, const char *name)
{
	size_t	 i;

	for (i = 0; i < config_nkeys; i++) {
		if (config_keys[i].section == section &&
		    strcasecmp(config_keys[i].name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* Finds a key of a global section by name, ignoring case; NULL if none. */
const struct config_key *
config_global_key(const char *name)
{
	size_t	 i;

	for (i = 0; i < config_nkeys; i++) {
		if (config_keys[i].section != SECTION_ROUTE &&
		    strcasecmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	}
	return NULL;
}

/* The number of keys in the table. */
size_t
config_key_count(void)
{
	return config_nkeys;
}

/* A key's name, or NULL past the table. */
const char *
config_key_name(size_t i)
{
	return i < config_nkeys ? config_keys[i].name : NULL;
}

/* A key's section, or NULL past the table. */
const char *
config_key_section(size_t i)
{
	return i < config_nkeys ?
	    config_section_names[config_keys[i].section] : NULL;
}

/* Whether a key may change while listening. */
bool
config_key_runtime(size_t i)
{
	return i < config_nkeys && config_keys[i].runtime;
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
		    "unix:SOCKET [mux] | unix+mux:SOCKET | tcp:HOST:PORT [mux] "
		    "| tcp+mux:HOST:PORT";
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
	/* Not reached: every type returns above. */
	abort();
}

/* One list of the reference's names that are no key here, for the man page. */
static void
config_write_unmapped(FILE *f, bool elsewhere, const char *title,
    const char *intro)
{
	size_t	i;

	fprintf(f, ".SS %s\n%s\n", title, intro);
	for (i = 0; i < config_nlinux; i++) {
		if (config_linux_keys[i].elsewhere != elsewhere)
			continue;
		fprintf(f, ".TP\n.B %s\n%c", config_linux_keys[i].name,
		    toupper((unsigned char)config_linux_keys[i].why[0]));
		config_man_text(f, config_linux_keys[i].why + 1);
		fputs(".\n", f);
	}
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
		for (i = 0; i < config_nkeys; i++) {
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
			    k->section == SECTION_SSL ||
			    k->section == SECTION_CLUSTER ?
			    " Changed by a reload.\n" :
			    " Fixed while listening: changed by a restart.\n",
			    f);
		}
	}
	config_write_unmapped(f, false, "Settings with no meaning on Linux",
	    "These settings of the reference are recognised in any section "
	    "and rejected with an error that says why; the admin socket's "
	    "config command answers them with the same error (404):");
	config_write_unmapped(f, true, "Reference values that are no setting "
	    "here", "These names of the reference are values the admin socket "
	    "shows or sets; in a file, and in the config command without a "
	    "ConnectionId, they are rejected with an error that says where:");
}
