/* admin.c - the admin socket: a line protocol over a UNIX socket, one command table. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "admin/admin.h"
#include "conf/config.h"
#include "event/conn.h"
#include "base/log.h"
#include "event/server.h"
#include "conf/tls.h"
#include "base/util.h"
#include "event/workers.h"
#include "core/ws-frame.h"
#include "core/ws-handshake.h"
#include "core/ws-utf8.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

/* Admin clients connected at once; one more is told ERR 503 and closed. */
#define ADMIN_MAX_CLIENTS	64
/*
 * Unread reply bytes after which a client that sends another command is
 * dropped: it does not read. One reply may be larger (a connection table),
 * so memory per client stays below this plus one reply.
 */
#define ADMIN_OUT_MAX		(1024 * 1024)
/* Queued watch events past which new ones are dropped and counted. */
#define ADMIN_WATCH_MAX		(64 * 1024)
/*
 * Input read ahead of the parser. Lines are processed as they complete;
 * while a command waits (ping, sendfile) reading stops at this mark, but
 * the client's EOF is still seen.
 */
#define ADMIN_READ_MAX		(2 * ADMIN_LINE_MAX)
/* Ping timeout when DefaultTimeout is 0, seconds. */
#define ADMIN_PING_TIMEOUT	10
/* Longest watch event line, LF included. */
#define ADMIN_EVENT_MAX		2400
/* Largest send payload: a line's worth of base64. */
#define ADMIN_SEND_MAX		(ADMIN_LINE_MAX / 4 * 3)

struct admin_wait;
struct admin_chan;
struct admin_fwd;

struct admin_client {
	TAILQ_ENTRY(admin_client) entry;
	struct bufferevent	*bev;
	struct event		*kick;		/* resumes after a wait */
	unsigned long long	 id;
	long			 uid;		/* SO_PEERCRED; -1 unknown */
	long			 pid;
	struct admin_wait	*wait;		/* ping/sendfile pending */
	bool			 watching;
	bool			 closing;	/* close once output is sent */
	int			 in_cb;		/* in its callbacks: defer free */
	bool			 dead;
	bool			 relay;		/* the master's channel: trusted */
	uint64_t		 dropped;	/* watch events not sent */
	struct admin_chan	**chan;		/* master: one per worker */
	struct admin_fwd	*fwd;		/* master: command at workers */
};

/* Master with workers: where a command goes. */
enum admin_route {
	ROUTE_LOCAL,	/* the master answers */
	ROUTE_OWNER,	/* the worker whose ConnectionId it names */
	ROUTE_ALL,	/* every worker; the first OK answers */
	ROUTE_SUM,	/* every worker; the first numbers of the OKs added */
	ROUTE_CONNS,	/* every worker; the rows (JSON arrays) joined */
	ROUTE_WATCH,	/* every worker; their events streamed after ours */
};

/* Master: an admin client's channel to one worker (a socket pair). */
struct admin_chan {
	struct admin_client	*cl;
	int			 w;
	struct bufferevent	*bev;
	bool			 watch;		/* streams events */
	bool			 answered;	/* watch: its reply skipped */
};

/* Master: a command sent to workers, until every reply is in. */
struct admin_fwd {
	enum admin_route	 route;
	bool			 json;
	int			 pending;
	char			*set;		/* config KEY=VALUE: apply here */
	int			 listen;	/* start 1, stop/drain 0, else -1 */
	struct evbuffer		*reply[WORKERS_MAX];
};

enum admin_wait_kind {
	WAIT_PING,
	WAIT_FILE,
};

/* A command waiting for the network: a pong, or a file to be queued. */
struct admin_wait {
	TAILQ_ENTRY(admin_wait)	 entry;
	enum admin_wait_kind	 kind;
	struct admin_client	*cl;		/* NULL once the client left */
	char			 conn[24];	/* ConnectionId */
	char			 payload[64];
	size_t			 plen;
	struct timespec		 t0;
	struct event		*timer;
	int			 timeout;
};

struct admin_cmd {
	const char	*name;
	const char	*usage;		/* arguments, for help and errors */
	int		 min_args;
	int		 max_args;
	bool		 rest;		/* last argument: rest of the line */
	bool		 json;		/* accepts a trailing "json" */
	bool		 changes;	/* changes state: log the peer's uid */
	int		 log_args;	/* arguments shown in that log line */
	const char	*help;
	void		 (*handler)(struct admin_client *,
			    const struct admin_req *);
};

static struct {
	struct server		*srv;
	struct event_base	*base;
	struct evconnlistener	*evl;
	char			 path[108];	/* sun_path */
	dev_t			 dev;		/* of our socket file */
	ino_t			 ino;
	TAILQ_HEAD(, admin_client) clients;
	unsigned int		 nclients;
	unsigned int		 nwatchers;
	TAILQ_HEAD(, admin_wait) waits;
	unsigned long long	 next_client;
	unsigned long long	 ping_seq;
	bool			 on;
} admin;

static void	admin_help(struct admin_client *, const struct admin_req *);
static void	admin_status(struct admin_client *, const struct admin_req *);
static void	admin_stats(struct admin_client *, const struct admin_req *);
static void	admin_connections(struct admin_client *,
		    const struct admin_req *);
static void	admin_connection(struct admin_client *,
		    const struct admin_req *);
static void	admin_cert(struct admin_client *, const struct admin_req *);
static void	admin_disconnect(struct admin_client *,
		    const struct admin_req *);
static void	admin_ping(struct admin_client *, const struct admin_req *);
static void	admin_send(struct admin_client *, const struct admin_req *);
static void	admin_sendtext(struct admin_client *, const struct admin_req *);
static void	admin_sendfile(struct admin_client *, const struct admin_req *);
static void	admin_interrupt(struct admin_client *,
		    const struct admin_req *);
static void	admin_broadcast(struct admin_client *,
		    const struct admin_req *);
static void	admin_linemode(struct admin_client *, const struct admin_req *);
static void	admin_timeout(struct admin_client *, const struct admin_req *);
static void	admin_pause(struct admin_client *, const struct admin_req *);
static void	admin_resume(struct admin_client *, const struct admin_req *);
static void	admin_config(struct admin_client *, const struct admin_req *);
static int	admin_open(struct server *, char *, size_t);
static void	admin_default_dir(const char *);
static void	admin_start_cmd(struct admin_client *,
		    const struct admin_req *);
static void	admin_stop_cmd(struct admin_client *, const struct admin_req *);
static void	admin_drain(struct admin_client *, const struct admin_req *);
static void	admin_reopen(struct admin_client *, const struct admin_req *);
static void	admin_shutdown(struct admin_client *, const struct admin_req *);
static void	admin_reload(struct admin_client *, const struct admin_req *);
static void	admin_watch(struct admin_client *, const struct admin_req *);

/* Every command: help, wsserverctl, the parser and the man pages follow it. */
static const struct admin_cmd admin_cmds[] = {
	{ .name = "help", .usage = "[COMMAND]", .min_args = 0, .max_args = 1,
	  .help = "List the commands, or describe one",
	  .handler = admin_help },
	{ .name = "status", .usage = "[json]", .json = true,
	  .help = "Listening, address and port, connections, uptime, "
	  "version, pid", .handler = admin_status },
	{ .name = "stats", .usage = "[json]", .json = true,
	  .help = "Counters since start: accepted, rejected, closed by code, "
	  "messages and bytes, backends", .handler = admin_stats },
	{ .name = "connections", .usage = "[json]", .json = true,
	  .help = "One row per connection", .handler = admin_connections },
	{ .name = "connection", .usage = "ID [json]", .min_args = 1,
	  .max_args = 1, .json = true,
	  .help = "One connection in full, request headers and TLS session "
	  "included", .handler = admin_connection },
	{ .name = "cert", .usage = "[json]", .json = true,
	  .help = "The server certificates served with (UseSSL on)",
	  .handler = admin_cert },
	{ .name = "disconnect", .usage = "ID [CODE [REASON]]", .min_args = 1,
	  .max_args = 3, .rest = true, .changes = true, .log_args = 3,
	  .help = "Close a WebSocket with CODE (default DisconnectStatusCode)",
	  .handler = admin_disconnect },
	{ .name = "ping", .usage = "ID", .min_args = 1, .max_args = 1,
	  .help = "Ping a client and print the round-trip time",
	  .handler = admin_ping },
	{ .name = "send", .usage = "ID BASE64", .min_args = 2, .max_args = 2,
	  .changes = true, .log_args = 1,
	  .help = "Send a binary message (the data in base64)",
	  .handler = admin_send },
	{ .name = "sendtext", .usage = "ID TEXT", .min_args = 2,
	  .max_args = 2, .rest = true, .changes = true, .log_args = 1,
	  .help = "Send a text message (the rest of the line)",
	  .handler = admin_sendtext },
	{ .name = "sendfile", .usage = "ID PATH", .min_args = 2,
	  .max_args = 2, .rest = true, .changes = true, .log_args = 2,
	  .help = "Send a file as one binary message, in MaxFrameSize "
	  "fragments", .handler = admin_sendfile },
	{ .name = "interrupt", .usage = "ID", .min_args = 1, .max_args = 1,
	  .changes = true, .log_args = 1,
	  .help = "Stop a sendfile in progress", .handler = admin_interrupt },
	{ .name = "broadcast", .usage = "[ROUTE|*] TEXT", .min_args = 1,
	  .max_args = 2, .rest = true, .changes = true, .log_args = 0,
	  .help = "Send a text message to every open WebSocket (of ROUTE)",
	  .handler = admin_broadcast },
	{ .name = "linemode", .usage = "ID on|off", .min_args = 2,
	  .max_args = 2, .changes = true, .log_args = 2,
	  .help = "Set a connection's LineMode flag",
	  .handler = admin_linemode },
	{ .name = "timeout", .usage = "ID SECONDS", .min_args = 2,
	  .max_args = 2, .changes = true, .log_args = 2,
	  .help = "Set a connection's send timeout (Timeout; 0 = none)",
	  .handler = admin_timeout },
	{ .name = "pause", .usage = "ID", .min_args = 1, .max_args = 1,
	  .changes = true, .log_args = 1,
	  .help = "Stop reading from a client (AcceptData off)",
	  .handler = admin_pause },
	{ .name = "resume", .usage = "ID", .min_args = 1, .max_args = 1,
	  .changes = true, .log_args = 1,
	  .help = "Read from a client again (AcceptData on)",
	  .handler = admin_resume },
	{ .name = "config", .usage = "[KEY[=VALUE]]", .min_args = 0,
	  .max_args = 1, .rest = true, .changes = true, .log_args = 1,
	  .help = "Show every setting, show one, or change one",
	  .handler = admin_config },
	{ .name = "start", .usage = "", .changes = true,
	  .help = "Start listening (StartListening)",
	  .handler = admin_start_cmd },
	{ .name = "stop", .usage = "", .changes = true,
	  .help = "Stop listening; connections stay (StopListening)",
	  .handler = admin_stop_cmd },
	{ .name = "drain", .usage = "[SECONDS]", .min_args = 0, .max_args = 1,
	  .changes = true, .log_args = 1,
	  .help = "Stop listening, give connections SECONDS (default "
	  "ShutdownTimeout) to leave, then close the rest with 1001; the "
	  "daemon keeps running (start listens again)",
	  .handler = admin_drain },
	{ .name = "reopen", .usage = "", .changes = true,
	  .help = "Reopen LogFile (after logrotate moved it), as SIGUSR1 does",
	  .handler = admin_reopen },
	{ .name = "reload", .usage = "", .changes = true,
	  .help = "Re-read the configuration file; swap it only if it is "
	  "valid", .handler = admin_reload },
	{ .name = "shutdown", .usage = "", .changes = true,
	  .help = "Stop listening, close every WebSocket with 1001, exit",
	  .handler = admin_shutdown },
	{ .name = "watch", .usage = "",
	  .help = "Stream events and log lines until the client leaves",
	  .handler = admin_watch },
};

#define ADMIN_NCMDS	(sizeof(admin_cmds) / sizeof(admin_cmds[0]))

/* ---------------------------------------------------------------- table */

/* How many commands the table has. */
size_t
admin_cmd_count(void)
{
	return ADMIN_NCMDS;
}

/* A command's name, or NULL past the table. */
const char *
admin_cmd_name(size_t i)
{
	return i < ADMIN_NCMDS ? admin_cmds[i].name : NULL;
}

/* A command's argument synopsis, or NULL past the table. */
const char *
admin_cmd_usage(size_t i)
{
	return i < ADMIN_NCMDS ? admin_cmds[i].usage : NULL;
}

/* A command's one-line help, or NULL past the table. */
const char *
admin_cmd_help(size_t i)
{
	return i < ADMIN_NCMDS ? admin_cmds[i].help : NULL;
}

/* Whether a command takes a trailing "json". */
bool
admin_cmd_json(size_t i)
{
	return i < ADMIN_NCMDS && admin_cmds[i].json;
}

/* Whether a command changes state (and is logged with the peer's uid). */
bool
admin_cmd_changes(size_t i)
{
	return i < ADMIN_NCMDS && admin_cmds[i].changes;
}

/* Finds a command by name or unambiguous prefix; see admin.h. */
int
admin_cmd_lookup(const char *name, size_t len)
{
	size_t	 i;
	int	 found = -1, n = 0;

	if (len == 0)
		return -1;
	for (i = 0; i < ADMIN_NCMDS; i++) {
		if (strncasecmp(admin_cmds[i].name, name, len) != 0)
			continue;
		if (admin_cmds[i].name[len] == '\0')
			return (int)i;
		found = (int)i;
		n++;
	}
	if (n > 1)
		return -2;
	return found;
}

/* Writes the commands that begin with name[0..len) into err, after a head. */
static void
admin_choices(char *err, size_t errlen, const char *head, const char *name,
    size_t len)
{
	size_t	 i, n;
	bool	 first = true;

	snprintf(err, errlen, "%s", head);
	for (i = 0; i < ADMIN_NCMDS; i++) {
		if (len > 0 && strncasecmp(admin_cmds[i].name, name, len) != 0)
			continue;
		n = strlen(err);
		snprintf(err + n, errlen - n, "%s%s", first ? "" : ", ",
		    admin_cmds[i].name);
		first = false;
	}
}

/* Splits a command line into the command and its arguments; see admin.h. */
int
admin_parse(const char *line, size_t len, struct admin_req *r, char *err,
    size_t errlen)
{
	const struct admin_cmd	*k;
	char			*p, head[128];
	size_t			 wlen;
	bool			 sep;
	int			 idx, max;

	memset(r->argv, 0, sizeof(r->argv));
	memset(r->tail, 0, sizeof(r->tail));
	r->argc = 0;
	r->json = false;
	r->cmd = -1;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len + 1 > ADMIN_LINE_MAX) {
		snprintf(err, errlen, "line too long (at most %d bytes)",
		    ADMIN_LINE_MAX);
		return ADMIN_ERR_LINE;
	}
	if (memchr(line, '\0', len) != NULL || memchr(line, '\n', len) !=
	    NULL || memchr(line, '\r', len) != NULL) {
		snprintf(err, errlen, "NUL, CR or LF inside the command line");
		return ADMIN_ERR_USAGE;
	}
	memcpy(r->buf, line, len);
	r->buf[len] = '\0';
	memcpy(r->orig, line, len);
	r->orig[len] = '\0';

	p = r->buf + strspn(r->buf, " \t");
	wlen = strcspn(p, " \t");
	if (wlen == 0) {
		admin_choices(err, errlen, "empty command line; commands: ",
		    "", 0);
		return ADMIN_ERR_UNKNOWN;
	}
	if ((idx = admin_cmd_lookup(p, wlen)) < 0) {
		snprintf(head, sizeof(head), "%s command \"%.*s\"; %s",
		    idx == -2 ? "ambiguous" : "unknown", (int)(wlen > 32 ? 32 :
		    wlen), p, idx == -2 ? "it could be: " : "commands: ");
		admin_choices(err, errlen, head, p, idx == -2 ? wlen : 0);
		return idx == -2 ? ADMIN_ERR_AMBIGUOUS : ADMIN_ERR_UNKNOWN;
	}
	r->cmd = idx;
	k = &admin_cmds[idx];
	max = k->max_args + (k->json ? 1 : 0);
	p += wlen;
	sep = *p != '\0';
	if (sep)
		*p++ = '\0';
	for (;;) {
		if (k->rest && r->argc == k->max_args - 1) {
			/* The text: everything after one separator. */
			if (sep) {
				r->tail[r->argc] = r->orig + (p - r->buf);
				r->argv[r->argc++] = p;
			}
			break;
		}
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		if (r->argc == max) {
			r->argc = max + 1;
			break;
		}
		r->tail[r->argc] = r->orig + (p - r->buf);
		r->argv[r->argc++] = p;
		p += strcspn(p, " \t");
		sep = *p != '\0';
		if (sep)
			*p++ = '\0';
	}
	if (k->json && r->argc > 0 && r->argc <= max &&
	    strcmp(r->argv[r->argc - 1], "json") == 0) {
		r->json = true;
		r->argv[--r->argc] = NULL;
	}
	if (r->argc < k->min_args || r->argc > k->max_args) {
		snprintf(err, errlen, "usage: %s%s%s", k->name,
		    *k->usage != '\0' ? " " : "", k->usage);
		return ADMIN_ERR_USAGE;
	}
	return 0;
}

/* ---------------------------------------------------------------- encodings */

/* Length of the valid UTF-8 sequence at s (at most len bytes), or 0. */
static size_t
admin_utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char	 lo = 0x80, hi = 0xbf;
	size_t		 n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;		/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;		/* surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;		/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;		/* past U+10FFFF */
	} else
		return 0;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

/* Writes a JSON string that always parses, whatever the bytes; see admin.h. */
void
admin_json_string(struct evbuffer *b, const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i, n, run;

	evbuffer_add(b, "\"", 1);
	for (i = 0; i < len; i += n) {
		/* Plain characters go out in one piece. */
		for (run = 0; i + run < len && s[i + run] >= 0x20 &&
		    s[i + run] < 0x7f && s[i + run] != '"' &&
		    s[i + run] != '\\'; run++)
			;
		if (run > 0) {
			evbuffer_add(b, s + i, run);
			n = run;
			continue;
		}
		n = 1;
		switch (s[i]) {
		case '"':
			evbuffer_add(b, "\\\"", 2);
			break;
		case '\\':
			evbuffer_add(b, "\\\\", 2);
			break;
		case '\n':
			evbuffer_add(b, "\\n", 2);
			break;
		case '\r':
			evbuffer_add(b, "\\r", 2);
			break;
		case '\t':
			evbuffer_add(b, "\\t", 2);
			break;
		default:
			if (s[i] >= 0x80 &&
			    (n = admin_utf8_seq(s + i, len - i)) > 0)
				evbuffer_add(b, s + i, n);
			else {
				n = 1;
				evbuffer_add_printf(b, "\\u%04x", s[i]);
			}
			break;
		}
	}
	evbuffer_add(b, "\"", 1);
}

/*
 * Decodes the base64 of "send"; see admin.h. OpenSSL does the decoding;
 * what it does not check (the alphabet, padding, unused bits) is checked
 * here, the last by encoding the result again and comparing.
 */
ssize_t
admin_base64_decode(const char *in, size_t len, uint8_t *out, size_t outlen)
{
	static const char	 alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			*padded, *again;
	unsigned char		*bytes;
	size_t			 i, pad = 0, plen, n;
	ssize_t			 ret = -1;

	while (pad < 2 && len > 0 && in[len - 1] == '=') {
		len--;
		pad++;
	}
	if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
		return -1;
	for (i = 0; i < len; i++) {
		if (in[i] == '\0' || strchr(alphabet, in[i]) == NULL)
			return -1;
	}
	if (len == 0)
		return 0;
	plen = (len + 3) / 4 * 4;
	padded = xmalloc(plen + 1);
	memcpy(padded, in, len);
	memset(padded + len, '=', plen - len);
	padded[plen] = '\0';
	bytes = xmalloc(plen / 4 * 3 + 1);
	again = xmalloc(plen + 1);
	if (EVP_DecodeBlock(bytes, (unsigned char *)padded, (int)plen) < 0)
		goto out;
	n = plen / 4 * 3 - (plen - len);
	if (n > outlen ||
	    EVP_EncodeBlock((unsigned char *)again, bytes, (int)n) != (int)plen ||
	    memcmp(again, padded, plen) != 0)
		goto out;
	memcpy(out, bytes, n);
	ret = (ssize_t)n;
out:
	free(padded);
	free(bytes);
	free(again);
	return ret;
}

/* ---------------------------------------------------------------- replies */

/* The client's output buffer. */
static struct evbuffer *
admin_out(struct admin_client *cl)
{
	return bufferevent_get_output(cl->bev);
}

/*
 * Appends s with control characters and bytes that are not UTF-8 replaced
 * by "?": one reply line stays one, and stays text for any client.
 */
static void
admin_add_clean(struct evbuffer *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 run, n;

	while (*p != '\0') {
		for (run = 0; p[run] >= 0x20 && p[run] < 0x7f; run++)
			;
		if (run > 0) {
			evbuffer_add(b, p, run);
			p += run;
			continue;
		}
		n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;
		if (n > 0 && strnlen((const char *)p, n) == n &&
		    ws_utf8_valid(p, n)) {
			evbuffer_add(b, p, n);
			p += n;
			continue;
		}
		evbuffer_add(b, "?", 1);
		p++;
	}
}

/* Writes a data line (printf-like, then cleaned); never an empty one. */
static void __attribute__((format(printf, 2, 3)))
admin_line(struct admin_client *cl, const char *fmt, ...)
{
	char	 buf[2048];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	admin_add_clean(admin_out(cl), *buf != '\0' ? buf : " ");
	evbuffer_add(admin_out(cl), "\n", 1);
}

/* Starts a success reply: "OK" and an optional text. */
static void __attribute__((format(printf, 2, 3)))
admin_ok(struct admin_client *cl, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	*buf = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
	}
	evbuffer_add(admin_out(cl), "OK", 2);
	if (*buf != '\0') {
		evbuffer_add(admin_out(cl), " ", 1);
		admin_add_clean(admin_out(cl), buf);
	}
	evbuffer_add(admin_out(cl), "\n", 1);
}

/* Ends a reply with the empty line. */
static void
admin_end(struct admin_client *cl)
{
	evbuffer_add(admin_out(cl), "\n", 1);
}

/* A whole error reply: "ERR <code> <text>" and the empty line. */
static void __attribute__((format(printf, 3, 4)))
admin_err(struct admin_client *cl, int code, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	evbuffer_add_printf(admin_out(cl), "ERR %d ", code);
	admin_add_clean(admin_out(cl), buf);
	evbuffer_add(admin_out(cl), "\n\n", 2);
}

/* Starts an "OK" reply whose data is one JSON line, left open for the value. */
static struct evbuffer *
admin_json_begin(struct admin_client *cl)
{
	evbuffer_add(admin_out(cl), "OK\n", 3);
	return admin_out(cl);
}

/* Ends the JSON line and the reply. */
static void
admin_json_end(struct admin_client *cl)
{
	evbuffer_add(admin_out(cl), "\n\n", 2);
}

/* Appends "name": "value", with a comma unless first. */
static void
admin_json_kv(struct evbuffer *b, bool *first, const char *name,
    const char *value)
{
	evbuffer_add_printf(b, "%s\"%s\":", *first ? "" : ",", name);
	admin_json_string(b, value != NULL ? value : "",
	    value != NULL ? strlen(value) : 0);
	*first = false;
}

/* Appends "name": number. */
static void
admin_json_kn(struct evbuffer *b, bool *first, const char *name,
    unsigned long long v)
{
	evbuffer_add_printf(b, "%s\"%s\":%llu", *first ? "" : ",", name, v);
	*first = false;
}

/* Appends "name": true|false. */
static void
admin_json_kb(struct evbuffer *b, bool *first, const char *name, bool v)
{
	evbuffer_add_printf(b, "%s\"%s\":%s", *first ? "" : ",", name,
	    v ? "true" : "false");
	*first = false;
}

/* Open connections: this process's, or with workers all of theirs. */
static unsigned int
admin_nconns(void)
{
	return workers_master() ? workers_conn_total() : conn_count();
}

/* ---------------------------------------------------------------- clients */

static void	admin_client_process(struct admin_client *);
static void	admin_relay_free(struct admin_client *);

/* Frees a client now; a wait it started finishes without it. */
static void
admin_client_free(struct admin_client *cl)
{
	admin_relay_free(cl);
	if (cl->wait != NULL)
		cl->wait->cl = NULL;
	if (cl->watching)
		admin.nwatchers--;
	TAILQ_REMOVE(&admin.clients, cl, entry);
	admin.nclients--;
	bufferevent_free(cl->bev);
	event_free(cl->kick);
	free(cl);
}

/* Drops a client: at once, or when its callbacks return. */
static void
admin_client_drop(struct admin_client *cl)
{
	if (cl->in_cb > 0)
		cl->dead = true;
	else
		admin_client_free(cl);
}

/* Stops reading and closes the client once its output is sent. */
static void
admin_client_close_later(struct admin_client *cl)
{
	cl->closing = true;
	bufferevent_disable(cl->bev, EV_READ);
	evbuffer_drain(bufferevent_get_input(cl->bev),
	    evbuffer_get_length(bufferevent_get_input(cl->bev)));
	bufferevent_setwatermark(cl->bev, EV_WRITE, 0, 0);
}

/* Logs a state-changing command with the peer's credentials. */
static void
admin_log_command(struct admin_client *cl, const struct admin_cmd *k,
    const struct admin_req *r)
{
	char	 args[256];
	size_t	 n = 0;
	int	 i;

	*args = '\0';
	for (i = 0; i < r->argc && i < k->log_args; i++) {
		n = strlen(args);
		snprintf(args + n, sizeof(args) - n, " %.100s", r->argv[i]);
	}
	if (r->argc > k->log_args) {
		n = strlen(args);
		snprintf(args + n, sizeof(args) - n, " ...");
	}
	log_info("admin: uid %ld pid %ld: %s%s", cl->uid, cl->pid, k->name,
	    args);
}

/* Whether this request changes state: "config KEY" (no value) only reads. */
static bool
admin_req_changes(const struct admin_cmd *k, const struct admin_req *r)
{
	if (!k->changes)
		return false;
	return strcmp(k->name, "config") != 0 ||
	    (r->argc > 0 && strchr(r->tail[0], '=') != NULL);
}

/*
 * Whether a state-changing request may run for this peer: always when
 * AdminAllowedUsers is empty; else for root, the daemon's own user and the
 * users listed.
 */
static bool
admin_permitted(const struct admin_client *cl)
{
	const struct config	*cfg = server_config(admin.srv);
	size_t			 i;

	if (cfg->admin_nuids == 0 || cl->relay)
		return true;
	if (cl->uid == -1)
		return false;
	if (cl->uid == 0 || (uid_t)cl->uid == geteuid())
		return true;
	for (i = 0; i < cfg->admin_nuids; i++) {
		if ((uid_t)cl->uid == cfg->admin_uids[i])
			return true;
	}
	return false;
}

static bool	admin_relay(struct admin_client *, const struct admin_cmd *,
		    const struct admin_req *, const char *, size_t);

/* Parses and runs one command line. */
static void
admin_dispatch(struct admin_client *cl, const char *line, size_t len)
{
	static struct admin_req	 req;
	const struct admin_cmd	*k;
	char			 err[1024];
	int			 code;
	bool			 changes;

	if ((code = admin_parse(line, len, &req, err, sizeof(err))) != 0) {
		admin_err(cl, code, "%s", err);
		return;
	}
	k = &admin_cmds[req.cmd];
	changes = admin_req_changes(k, &req);
	if (changes && !admin_permitted(cl)) {
		log_warn("admin: uid %ld pid %ld: %s refused (not in "
		    "AdminAllowedUsers)", cl->uid, cl->pid, k->name);
		admin_err(cl, ADMIN_ERR_DENIED, "%s: permission denied (uid %ld "
		    "is not in AdminAllowedUsers)", k->name, cl->uid);
		return;
	}
	/* The master logged it for the real peer. */
	if (changes && !cl->relay)
		admin_log_command(cl, k, &req);
	if (workers_master() && admin_relay(cl, k, &req, line, len))
		return;
	k->handler(cl, &req);
}

/* ---------------------------------------------------------------- relay */

/*
 * With workers the master owns the admin socket and the workers own the
 * connections. Each admin client gets, when it first needs one, a socket
 * pair to each worker (handed over by workers_send_fd; the worker serves
 * it as a trusted admin client), so a slow command (ping) of one client
 * never holds up another. A command goes to the worker that owns the
 * ConnectionId it names (ids are N apart: id % N is the worker), or to
 * all of them with the replies merged; status, stats, config, cert, help,
 * reload, reopen and shutdown are the master's own.
 */

static void	admin_chan_read_cb(struct bufferevent *, void *);
static char	*admin_trim(char *);
static void	admin_chan_stream(struct admin_chan *, struct evbuffer *);
static void	admin_chan_event_cb(struct bufferevent *, short, void *);

/* Where a command goes when there are workers. */
static enum admin_route
admin_route_of(const struct admin_cmd *k, const struct admin_req *r)
{
	static const char *const owner[] = { "connection", "disconnect",
	    "ping", "send", "sendtext", "sendfile", "interrupt", "linemode",
	    "timeout", "pause", "resume" };
	size_t	i;

	for (i = 0; i < sizeof(owner) / sizeof(owner[0]); i++) {
		if (strcmp(k->name, owner[i]) == 0)
			return ROUTE_OWNER;
	}
	if (strcmp(k->name, "connections") == 0)
		return ROUTE_CONNS;
	if (strcmp(k->name, "stop") == 0 || strcmp(k->name, "drain") == 0 ||
	    strcmp(k->name, "broadcast") == 0)
		return ROUTE_SUM;
	if (strcmp(k->name, "start") == 0)
		return ROUTE_ALL;
	if (strcmp(k->name, "config") == 0 && admin_req_changes(k, r))
		return ROUTE_ALL;
	if (strcmp(k->name, "watch") == 0)
		return ROUTE_WATCH;
	return ROUTE_LOCAL;
}

/* The worker that owns a ConnectionId; 0 for what is not one (it says so). */
static int
admin_owner(const char *id)
{
	unsigned long long	 v;
	char			*end;

	if (*id < '0' || *id > '9')
		return 0;
	errno = 0;
	v = strtoull(id, &end, 10);
	if (*end != '\0' || errno != 0)
		return 0;
	return (int)(v % (unsigned long long)workers_count());
}

/* The client's channel to worker w, made on first use; NULL if it is down. */
static struct admin_chan *
admin_chan_get(struct admin_client *cl, int w)
{
	struct admin_chan	*ch;
	int			 sv[2];

	if (cl->chan == NULL)
		cl->chan = xcalloc((size_t)workers_count(), sizeof(*cl->chan));
	if (cl->chan[w] != NULL)
		return cl->chan[w];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		log_warn("admin: socketpair: %s", strerror(errno));
		return NULL;
	}
	if (workers_send_fd(w, sv[1]) == -1) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	close(sv[1]);
	ch = xcalloc(1, sizeof(*ch));
	ch->cl = cl;
	ch->w = w;
	ch->bev = bufferevent_socket_new(admin.base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(ch->bev, admin_chan_read_cb, NULL,
	    admin_chan_event_cb, ch);
	bufferevent_enable(ch->bev, EV_READ | EV_WRITE);
	cl->chan[w] = ch;
	return ch;
}

static void
admin_chan_free(struct admin_chan *ch)
{
	ch->cl->chan[ch->w] = NULL;
	bufferevent_free(ch->bev);
	free(ch);
}

static void
admin_fwd_free(struct admin_fwd *f)
{
	int	i;

	for (i = 0; i < WORKERS_MAX; i++) {
		if (f->reply[i] != NULL)
			evbuffer_free(f->reply[i]);
	}
	free(f->set);
	free(f);
}

/* A client goes: its channels (the workers drop their ends) and command. */
static void
admin_relay_free(struct admin_client *cl)
{
	int	i;

	if (cl->chan != NULL) {
		for (i = 0; i < workers_count(); i++) {
			if (cl->chan[i] != NULL)
				admin_chan_free(cl->chan[i]);
		}
		free(cl->chan);
		cl->chan = NULL;
	}
	if (cl->fwd != NULL) {
		admin_fwd_free(cl->fwd);
		cl->fwd = NULL;
	}
}

/* A reply as one NUL-terminated string (in its buffer), or NULL. */
static const char *
admin_reply_str(struct evbuffer *b)
{
	const char	*s;
	size_t		 len;

	if (b == NULL)
		return NULL;
	len = evbuffer_get_length(b);
	s = (const char *)evbuffer_pullup(b, -1);
	if (len > 0 && s[len - 1] == '\0')
		return s;
	evbuffer_add(b, "", 1);
	return (const char *)evbuffer_pullup(b, -1);
}

/* The first reply that is an OK, else the first reply at all. */
static int
admin_first_ok(struct admin_fwd *f, int n, bool *ok)
{
	const char	*s;
	int		 i, first = -1;

	for (i = 0; i < n; i++) {
		if ((s = admin_reply_str(f->reply[i])) == NULL)
			continue;
		if (strncmp(s, "OK", 2) == 0) {
			*ok = true;
			return i;
		}
		if (first == -1)
			first = i;
	}
	*ok = false;
	return first;
}

/* "connections" from every worker: one count, one header, all the rows. */
static void
admin_merge_conns(struct admin_client *cl, struct admin_fwd *f, int n)
{
	struct evbuffer	*out = admin_out(cl);
	const char	*s, *p, *e, *hdr = NULL;
	unsigned long	 total = 0;
	bool		 any = false, ok;
	int		 i;

	for (i = 0; i < n; i++) {
		s = admin_reply_str(f->reply[i]);
		if (s == NULL || strncmp(s, "OK", 2) != 0)
			continue;
		any = true;
		if (!f->json)
			total += strtoul(s + 3, NULL, 10);
	}
	if (!any) {
		i = admin_first_ok(f, n, &ok);
		evbuffer_add_printf(out, "%s", i >= 0 ?
		    admin_reply_str(f->reply[i]) : "ERR 503 no worker answered"
		    "\n\n");
		return;
	}
	evbuffer_add_printf(out, f->json ? "OK\n[" : "OK %lu connection(s)\n",
	    total);
	any = false;
	for (i = 0; i < n; i++) {
		s = admin_reply_str(f->reply[i]);
		if (s == NULL || strncmp(s, "OK", 2) != 0)
			continue;
		p = strchr(s, '\n') + 1;
		if (f->json) {
			/* "[a,b]\n\n": the elements between the brackets. */
			if (*p != '[' || (e = strchr(p, '\n')) == NULL ||
			    e - p < 2 || e[-1] != ']' || e - p == 2)
				continue;
			evbuffer_add_printf(out, "%s%.*s", any ? "," : "",
			    (int)(e - p - 2), p + 1);
			any = true;
			continue;
		}
		/* The table header is the first data line. */
		if ((e = strchr(p, '\n')) == NULL)
			continue;
		if (hdr == NULL) {
			hdr = p;
			evbuffer_add(out, p, (size_t)(e - p + 1));
		}
		p = e + 1;
		/* The rows, up to the empty line. */
		if ((e = strstr(p, "\n\n")) != NULL && e >= p)
			evbuffer_add(out, p, (size_t)(e - p + 1));
	}
	evbuffer_add(out, f->json ? "]\n\n" : "\n", f->json ? 3 : 1);
}

/* The first OK with its first number replaced by the sum over the OKs. */
static void
admin_merge_sum(struct admin_client *cl, struct admin_fwd *f, int n)
{
	struct evbuffer		*out = admin_out(cl);
	const char		*s, *first, *d;
	unsigned long long	 sum = 0;
	bool			 ok;
	int			 i, k;

	if ((k = admin_first_ok(f, n, &ok)) == -1) {
		evbuffer_add_printf(out, "ERR 503 no worker answered\n\n");
		return;
	}
	first = admin_reply_str(f->reply[k]);
	if (!ok || (d = strpbrk(first, "0123456789")) == NULL ||
	    d > strchr(first, '\n')) {
		evbuffer_add_printf(out, "%s", first);
		return;
	}
	for (i = 0; i < n; i++) {
		s = admin_reply_str(f->reply[i]);
		if (s != NULL && strncmp(s, "OK", 2) == 0 &&
		    (s = strpbrk(s, "0123456789")) != NULL)
			sum += strtoull(s, NULL, 10);
	}
	evbuffer_add(out, first, (size_t)(d - first));
	evbuffer_add_printf(out, "%llu", sum);
	d += strspn(d, "0123456789");
	evbuffer_add_printf(out, "%s", d);
}

/* Every reply is in: the merged one goes to the client. */
static void
admin_fwd_done(struct admin_client *cl)
{
	struct admin_fwd	*f = cl->fwd;
	const char		*s;
	char			*eq;
	int			 i, n = workers_count();
	bool			 ok;

	switch (f->route) {
	case ROUTE_WATCH:
		/*
		 * Every worker watches now: our reply, then whatever they
		 * sent meanwhile, then the stream.
		 */
		admin_watch(cl, NULL);
		for (i = 0; i < n; i++) {
			if (cl->chan != NULL && cl->chan[i] != NULL &&
			    cl->chan[i]->answered)
				admin_chan_stream(cl->chan[i],
				    bufferevent_get_input(cl->chan[i]->bev));
		}
		break;
	case ROUTE_CONNS:
		admin_merge_conns(cl, f, n);
		break;
	case ROUTE_SUM:
		admin_merge_sum(cl, f, n);
		break;
	default:
		i = admin_first_ok(f, n, &ok);
		s = i >= 0 ? admin_reply_str(f->reply[i]) : NULL;
		evbuffer_add_printf(admin_out(cl), "%s", s != NULL ? s :
		    "ERR 503 no worker answered\n\n");
		/* config KEY=VALUE took: the master's copy follows. */
		if (ok && f->set != NULL && (eq = strchr(f->set, '=')) != NULL) {
			*eq = '\0';
			(void)server_config_set(admin.srv, admin_trim(f->set),
			    admin_trim(eq + 1), NULL);
		}
		break;
	}
	/* A restarted worker does as the others were told. */
	if (f->listen != -1 && admin_first_ok(f, n, &ok) != -1 && ok)
		workers_set_listening_wanted(f->listen == 1);
	admin_fwd_free(f);
	cl->fwd = NULL;
	/* Go on with the lines that came meanwhile. */
	event_active(cl->kick, EV_TIMEOUT, 0);
}

/* Records worker w's reply (or an error in its place). */
static void
admin_fwd_reply(struct admin_client *cl, int w, struct evbuffer *from,
    size_t len, const char *err)
{
	struct admin_fwd	*f = cl->fwd;

	if (f == NULL || f->reply[w] != NULL)
		return;
	f->reply[w] = evbuffer_new();
	if (err != NULL)
		evbuffer_add_printf(f->reply[w], "%s", err);
	else
		evbuffer_remove_buffer(from, f->reply[w], len);
	if (--f->pending == 0)
		admin_fwd_done(cl);
}

/* Passes a worker's event lines on to a watching client. */
static void
admin_chan_stream(struct admin_chan *ch, struct evbuffer *in)
{
	struct admin_client	*cl = ch->cl;
	struct evbuffer_ptr	 eol;
	size_t			 len;

	for (;;) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1)
			break;
		len = (size_t)eol.pos + 1;
		if (evbuffer_get_length(admin_out(cl)) + len > ADMIN_WATCH_MAX) {
			cl->dropped++;
			evbuffer_drain(in, len);
		} else
			evbuffer_remove_buffer(in, admin_out(cl), len);
	}
	/* A line longer than any event: not ours to keep. */
	if (evbuffer_get_length(in) > ADMIN_EVENT_MAX)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* A worker wrote on a channel: a reply to wait for, or events. */
static void
admin_chan_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_chan	*ch = arg;
	struct admin_client	*cl = ch->cl;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 end;

	end = evbuffer_search(in, "\n\n", 2, NULL);
	if (ch->watch) {
		if (!ch->answered) {
			if (end.pos == -1)
				return;
			/* Its "OK watching": the client gets ours once all are. */
			evbuffer_drain(in, (size_t)end.pos + 2);
			ch->answered = true;
			if (cl->fwd != NULL) {
				/* admin_fwd_done passes on what follows. */
				admin_fwd_reply(cl, ch->w, NULL, 0, "OK\n\n");
				return;
			}
		}
		if (cl->dead || cl->closing)
			evbuffer_drain(in, evbuffer_get_length(in));
		else if (cl->fwd == NULL)
			admin_chan_stream(ch, in);
		return;
	}
	if (end.pos == -1)
		return;
	if (cl->fwd == NULL) {
		/* Nothing asked (the reply of a command given up on). */
		evbuffer_drain(in, (size_t)end.pos + 2);
		return;
	}
	admin_fwd_reply(cl, ch->w, in, (size_t)end.pos + 2, NULL);
}

/* A channel closed: its worker went away. */
static void
admin_chan_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_chan	*ch = arg;
	struct admin_client	*cl = ch->cl;
	char			 err[96];
	int			 w = ch->w;

	(void)bev;
	(void)what;
	admin_chan_free(ch);
	snprintf(err, sizeof(err), "ERR %d worker %d went away\n\n",
	    ADMIN_ERR_UNAVAILABLE, w);
	if (cl->fwd != NULL)
		admin_fwd_reply(cl, w, NULL, 0, err);
}

void
admin_worker_up(int i)
{
	static const char	 line[] = "watch\n";
	struct admin_client	*cl;
	struct admin_chan	*ch;

	TAILQ_FOREACH(cl, &admin.clients, entry) {
		if (!cl->watching || cl->dead || cl->closing ||
		    (cl->chan != NULL && cl->chan[i] != NULL) ||
		    (ch = admin_chan_get(cl, i)) == NULL)
			continue;
		/* Its reply is skipped; its events follow the others'. */
		ch->watch = true;
		bufferevent_write(ch->bev, line, sizeof(line) - 1);
	}
}

/*
 * Master: sends a command to the workers it concerns. Returns false when
 * the master answers it itself.
 */
static bool
admin_relay(struct admin_client *cl, const struct admin_cmd *k,
    const struct admin_req *r, const char *line, size_t len)
{
	enum admin_route	 route = admin_route_of(k, r);
	struct admin_fwd	*f;
	struct admin_chan	*ch;
	char			 err[96];
	int			 i, n = workers_count(), only = -1;

	if (route == ROUTE_LOCAL)
		return false;
	if (route == ROUTE_OWNER)
		only = admin_owner(r->argv[0]);
	f = xcalloc(1, sizeof(*f));
	f->route = route;
	f->json = r->json;
	f->listen = strcmp(k->name, "start") == 0 ? 1 :
	    strcmp(k->name, "stop") == 0 || strcmp(k->name, "drain") == 0 ?
	    0 : -1;
	if (strcmp(k->name, "config") == 0)
		f->set = xstrdup(r->tail[0]);
	cl->fwd = f;
	for (i = 0; i < n; i++) {
		if (only != -1 && i != only)
			continue;
		f->pending++;
	}
	for (i = 0; i < n && cl->fwd == f; i++) {
		if (only != -1 && i != only)
			continue;
		if ((ch = admin_chan_get(cl, i)) == NULL) {
			snprintf(err, sizeof(err), "ERR %d worker %d is not "
			    "serving (restarting)\n\n", ADMIN_ERR_UNAVAILABLE, i);
			admin_fwd_reply(cl, i, NULL, 0, err);
			continue;
		}
		ch->watch = route == ROUTE_WATCH;
		bufferevent_write(ch->bev, line, len);
	}
	return true;
}

/* Runs the complete lines buffered, unless a command is waiting. */
static void
admin_client_process(struct admin_client *cl)
{
	struct evbuffer		*in = bufferevent_get_input(cl->bev);
	struct evbuffer_ptr	 eol;
	char			 line[ADMIN_LINE_MAX + 1];
	size_t			 len;

	cl->in_cb++;
	while (!cl->dead && !cl->closing && cl->wait == NULL &&
	    cl->fwd == NULL) {
		if (cl->watching) {
			/* A watcher only listens: its input is ignored. */
			evbuffer_drain(in, evbuffer_get_length(in));
			break;
		}
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1 ? evbuffer_get_length(in) >= ADMIN_LINE_MAX :
		    (size_t)eol.pos + 1 > ADMIN_LINE_MAX) {
			log_info("admin: client %llu sent a line over %d bytes",
			    cl->id, ADMIN_LINE_MAX);
			admin_err(cl, ADMIN_ERR_LINE, "line too long (at most "
			    "%d bytes)", ADMIN_LINE_MAX);
			admin_client_close_later(cl);
			break;
		}
		if (eol.pos == -1)
			break;
		if (evbuffer_get_length(admin_out(cl)) > ADMIN_OUT_MAX) {
			log_warn("admin: client %llu does not read its replies "
			    "(%zu bytes queued): dropped", cl->id,
			    evbuffer_get_length(admin_out(cl)));
			admin_client_drop(cl);
			break;
		}
		len = (size_t)eol.pos + 1;
		evbuffer_remove(in, line, len);
		admin_dispatch(cl, line, len);
	}
	cl->in_cb--;
	if (cl->dead && cl->in_cb == 0)
		admin_client_free(cl);
}

/* bufferevent read callback. */
static void
admin_read_cb(struct bufferevent *bev, void *arg)
{
	admin_client_process(arg);
}

/* Deferred: a wait ended, go on with the lines that came meanwhile. */
static void
admin_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	admin_client_process(arg);
}

/* bufferevent write callback: the output drained to its low-water mark. */
static void
admin_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_client	*cl = arg;

	if (cl->closing) {
		if (evbuffer_get_length(admin_out(cl)) == 0)
			admin_client_drop(cl);
		return;
	}
	if (cl->watching && cl->dropped > 0) {
		evbuffer_add_printf(admin_out(cl), "Dropped %llu event(s)\n",
		    (unsigned long long)cl->dropped);
		cl->dropped = 0;
	}
}

/* bufferevent event callback: the client left, or its socket failed. */
static void
admin_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_client	*cl = arg;

	log_debug("admin: client %llu left", cl->id);
	admin_client_drop(cl);
}

/* Records the peer's uid and pid (SO_PEERCRED). */
static void
admin_peercred(struct admin_client *cl, int fd)
{
	struct ucred	 uc;
	socklen_t	 len = sizeof(uc);

	cl->uid = cl->pid = -1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) == 0 &&
	    len == sizeof(uc)) {
		cl->uid = (long)uc.uid;
		cl->pid = (long)uc.pid;
	}
}

/* A new client on fd: reads commands, writes replies. */
static struct admin_client *
admin_client_new(int fd)
{
	struct admin_client	*cl;

	evutil_make_socket_nonblocking(fd);
	cl = xcalloc(1, sizeof(*cl));
	cl->id = ++admin.next_client;
	admin_peercred(cl, fd);
	cl->bev = bufferevent_socket_new(admin.base, fd, BEV_OPT_CLOSE_ON_FREE);
	cl->kick = event_new(admin.base, -1, 0, admin_kick_cb, cl);
	bufferevent_setcb(cl->bev, admin_read_cb, admin_write_cb,
	    admin_event_cb, cl);
	bufferevent_setwatermark(cl->bev, EV_READ, 0, ADMIN_READ_MAX);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	TAILQ_INSERT_TAIL(&admin.clients, cl, entry);
	admin.nclients++;
	return cl;
}

/* evconnlistener callback: a new admin client. */
static void
admin_accept_cb(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	static const char	 busy[] = "ERR 503 too many admin clients\n\n";
	struct admin_client	*cl;
	ssize_t			 n;

	if (admin.nclients >= ADMIN_MAX_CLIENTS) {
		log_warn("admin: refused a client: %d already connected",
		    ADMIN_MAX_CLIENTS);
		n = send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT |
		    MSG_NOSIGNAL);
		(void)n;
		close(fd);
		return;
	}
	cl = admin_client_new(fd);
	log_debug("admin: client %llu connected (uid %ld pid %ld)", cl->id,
	    cl->uid, cl->pid);
}

/* ---------------------------------------------------------------- events */

/* Sends one event line to every watcher that keeps up; counts the others. */
static void
admin_broadcast_event(const char *line, size_t len)
{
	struct admin_client	*cl;

	TAILQ_FOREACH(cl, &admin.clients, entry) {
		if (!cl->watching || cl->dead || cl->closing)
			continue;
		if (evbuffer_get_length(admin_out(cl)) + len >
		    ADMIN_WATCH_MAX) {
			cl->dropped++;
			continue;
		}
		evbuffer_add(admin_out(cl), line, len);
	}
}

/* Formats an event (control characters replaced) and sends it to watchers. */
static void __attribute__((format(printf, 1, 2)))
admin_event(const char *fmt, ...)
{
	char	 buf[ADMIN_EVENT_MAX];
	va_list	 ap;
	size_t	 i, len;
	int	 r;

	if (admin.nwatchers == 0)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	len = (size_t)r < sizeof(buf) - 1 ? (size_t)r : sizeof(buf) - 2;
	for (i = 0; i < len; i++) {
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	}
	buf[len++] = '\n';
	admin_broadcast_event(buf, len);
}

/* Log hook: every line the daemon logs, at its LogLevel. */
static void
admin_log_hook(const char *sev, const char *msg, size_t len)
{
	if (admin.nwatchers == 0)
		return;
	admin_event("Log %s %.*s", sev, (int)(len > 2048 ? 2048 : len), msg);
}

/* Conn hook: the verdict on an upgrade request. */
static void
admin_hook_verdict(struct conn *c, int status, const char *cause)
{
	const struct ws_request	*req;

	/* Nobody watches: not even the request is looked at. */
	if (admin.nwatchers == 0)
		return;
	req = conn_request(c);

	admin_event("WebSocketOpenRequest %s %s:%d %.1024s %d %s", conn_id(c),
	    conn_remote_addr(c), conn_remote_port(c),
	    req->uri != NULL ? req->uri : "-", status, cause);
}

/* Conn hook: a WebSocket is open. */
static void
admin_hook_connected(struct conn *c)
{
	const struct ws_request	*req;
	struct conn_info	 ci;

	if (admin.nwatchers == 0)
		return;
	req = conn_request(c);

	conn_get_info(c, &ci);
	admin_event("Connected %s %s:%d %.1024s route=%s", conn_id(c),
	    conn_remote_addr(c), conn_remote_port(c),
	    req->uri != NULL ? req->uri : "-", ci.route);
}

/* Ends a wait: replies (if its client is still there) and frees it. */
static void
admin_wait_done(struct admin_wait *w)
{
	struct admin_client	*cl = w->cl;

	TAILQ_REMOVE(&admin.waits, w, entry);
	if (w->timer != NULL)
		event_free(w->timer);
	free(w);
	if (cl != NULL) {
		cl->wait = NULL;
		/* Not from here: we may be inside a connection's callback. */
		event_active(cl->kick, EV_TIMEOUT, 0);
	}
}

/* Conn hook: an opened WebSocket is gone; pings waiting for it fail. */
static void
admin_hook_disconnected(struct conn *c, int code, const char *by,
    const char *reason)
{
	struct admin_wait	*w, *next;

	admin_event("Disconnected %s code=%d by=%s reason=\"%.512s\"",
	    conn_id(c), code, by, reason);
	for (w = TAILQ_FIRST(&admin.waits); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		if (w->kind != WAIT_PING || strcmp(w->conn, conn_id(c)) != 0)
			continue;
		if (w->cl != NULL)
			admin_err(w->cl, 4202, "error sending: connection %s "
			    "closed before the pong", w->conn);
		admin_wait_done(w);
	}
}

/* Conn hook: a pong; the one an admin ping waits for ends the wait. */
static void
admin_hook_pong(struct conn *c, const uint8_t *data, size_t len)
{
	struct admin_wait	*w;
	struct timespec		 now;
	double			 ms;

	TAILQ_FOREACH(w, &admin.waits, entry) {
		if (w->kind == WAIT_PING && w->plen == len &&
		    memcmp(w->payload, data, len) == 0 &&
		    strcmp(w->conn, conn_id(c)) == 0)
			break;
	}
	if (w == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - w->t0.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - w->t0.tv_nsec) / 1e6;
	if (w->cl != NULL)
		admin_ok(w->cl, "pong from %s in %.3f ms", w->conn, ms);
	if (w->cl != NULL)
		admin_end(w->cl);
	admin_wait_done(w);
}

/* Conn hook: a protocol error or send timeout. */
static void
admin_hook_error(struct conn *c, int code, const char *what)
{
	admin_event("Error %s %d %s", conn_id(c), code, what);
}

static const struct conn_hooks admin_conn_hooks = {
	.verdict = admin_hook_verdict,
	.connected = admin_hook_connected,
	.disconnected = admin_hook_disconnected,
	.pong = admin_hook_pong,
	.error = admin_hook_error,
};

/* ---------------------------------------------------------------- commands */

/* Finds the connection named by argv[0], or replies 126 and returns NULL. */
static struct conn *
admin_conn_arg(struct admin_client *cl, const struct admin_req *r)
{
	struct conn	*c;

	if ((c = conn_find(r->argv[0])) == NULL)
		admin_err(cl, 126, "Invalid ConnectionId \"%.32s\"",
		    r->argv[0]);
	return c;
}

/* help [COMMAND] */
static void
admin_help(struct admin_client *cl, const struct admin_req *r)
{
	const struct admin_cmd	*k;
	size_t			 i;
	int			 idx = -3;

	if (r->argc == 1 && (idx = admin_cmd_lookup(r->argv[0],
	    strlen(r->argv[0]))) < 0) {
		admin_err(cl, idx == -2 ? ADMIN_ERR_AMBIGUOUS :
		    ADMIN_ERR_UNKNOWN, "%s command \"%.32s\"", idx == -2 ?
		    "ambiguous" : "unknown", r->argv[0]);
		return;
	}
	admin_ok(cl, NULL);
	for (i = 0; i < ADMIN_NCMDS; i++) {
		k = &admin_cmds[i];
		if (idx >= 0 && (size_t)idx != i)
			continue;
		admin_line(cl, "%-11s %-20s %s", k->name, k->usage, k->help);
	}
	admin_end(cl);
}

/* The build: our version and the libraries we run with. */
static void
admin_build_info(char *buf, size_t len)
{
	snprintf(buf, len, "wsserverd %s; libevent %s; %s; zlib %s; "
#ifdef __VERSION__
	    "cc " __VERSION__ "; "
#endif
	    "built " __DATE__, PACKAGE_VERSION, event_get_version(),
	    OpenSSL_version(OPENSSL_VERSION), zlibVersion());
}

/* status [json] */
static void
admin_status(struct admin_client *cl, const struct admin_req *r)
{
	const struct config	*cfg = server_config(admin.srv);
	struct evbuffer		*b;
	char			 build[512];
	unsigned long long	 up = server_uptime_ms(admin.srv);
	bool			 first = true;

	admin_build_info(build, sizeof(build));
	if (r->json) {
		b = admin_json_begin(cl);
		evbuffer_add(b, "{", 1);
		admin_json_kb(b, &first, "Listening",
		    server_listening(admin.srv));
		admin_json_kv(b, &first, "LocalHost", cfg->local_host);
		admin_json_kv(b, &first, "LocalAddress",
		    server_local_address(admin.srv));
		admin_json_kn(b, &first, "LocalPort",
		    (unsigned long long)server_local_port(admin.srv));
		admin_json_kn(b, &first, "Connections", admin_nconns());
		admin_json_kn(b, &first, "MaxConnections",
		    (unsigned long long)cfg->max_connections);
		evbuffer_add_printf(b, ",\"Uptime\":%llu.%03llu", up / 1000,
		    up % 1000);
		admin_json_kv(b, &first, "Version", PACKAGE_VERSION);
		admin_json_kv(b, &first, "BuildInfo", build);
		admin_json_kn(b, &first, "Pid", (unsigned long long)getpid());
		admin_json_kb(b, &first, "ShuttingDown",
		    server_stopping(admin.srv));
		admin_json_kn(b, &first, "Workers",
		    (unsigned long long)workers_count());
		evbuffer_add(b, "}", 1);
		admin_json_end(cl);
		return;
	}
	admin_ok(cl, NULL);
	admin_line(cl, "Listening: %s", server_listening(admin.srv) ? "yes" :
	    "no");
	admin_line(cl, "LocalHost: %s", *cfg->local_host != '\0' ?
	    cfg->local_host : "(any)");
	if (server_listening(admin.srv))
		admin_line(cl, "LocalAddress: %s",
		    server_local_address(admin.srv));
	admin_line(cl, "LocalPort: %d", server_local_port(admin.srv));
	admin_line(cl, "Connections: %u of %d", admin_nconns(),
	    cfg->max_connections);
	admin_line(cl, "Uptime: %llu.%03llu s", up / 1000, up % 1000);
	admin_line(cl, "Version: %s", PACKAGE_VERSION);
	admin_line(cl, "BuildInfo: %s", build);
	admin_line(cl, "Pid: %ld", (long)getpid());
	admin_line(cl, "Workers: %d", workers_count());
	if (server_stopping(admin.srv))
		admin_line(cl, "ShuttingDown: yes");
	admin_end(cl);
}

/* stats [json] */
static void
admin_stats(struct admin_client *cl, const struct admin_req *r)
{
	const struct server_stats	*st = server_stats(admin.srv);
	struct evbuffer			*b;
	size_t				 i, queued;
	bool				 first, over;

	queued = workers_master() ? workers_mem(&over) : conn_memory(&over);
	if (r->json) {
		b = admin_json_begin(cl);
		evbuffer_add_printf(b, "{\"accepted\":%llu,\"rejected\":{"
		    "\"acl\":%llu,\"full\":%llu,\"memory\":%llu,"
		    "\"handshake\":%llu,\"http\":{",
		    (unsigned long long)st->accepted,
		    (unsigned long long)st->rejected_acl,
		    (unsigned long long)st->rejected_full,
		    (unsigned long long)st->rejected_memory,
		    (unsigned long long)st->rejected_handshake);
		first = true;
		for (i = 0; i < SERVER_STATS_HTTP; i++) {
			if (st->rejected_http[i] == 0)
				continue;
			evbuffer_add_printf(b, "%s\"%zu\":%llu", first ? "" :
			    ",", 400 + i,
			    (unsigned long long)st->rejected_http[i]);
			first = false;
		}
		evbuffer_add_printf(b, "}},\"opened\":%llu,\"closed\":{"
		    "\"total\":%llu,\"codes\":{",
		    (unsigned long long)st->opened,
		    (unsigned long long)st->closed);
		first = true;
		for (i = 0; i < SERVER_STATS_CODES; i++) {
			if (st->closed_code[i] == 0)
				continue;
			if (i == SERVER_STATS_CODES - 1)
				evbuffer_add_printf(b, "%s\"other\":%llu",
				    first ? "" : ",",
				    (unsigned long long)st->closed_code[i]);
			else
				evbuffer_add_printf(b, "%s\"%zu\":%llu",
				    first ? "" : ",", 1000 + i,
				    (unsigned long long)st->closed_code[i]);
			first = false;
		}
		evbuffer_add_printf(b, "}},\"messages\":{\"in\":%llu,"
		    "\"out\":%llu},\"bytes\":{\"in\":%llu,\"out\":%llu},"
		    "\"backend\":{\"spawns\":%llu,\"failures\":%llu},"
		    "\"connections\":%u,\"memory\":{\"queued\":%zu,"
		    "\"over\":%s}}",
		    (unsigned long long)st->msgs_in,
		    (unsigned long long)st->msgs_out,
		    (unsigned long long)st->bytes_in,
		    (unsigned long long)st->bytes_out,
		    (unsigned long long)st->backend_spawns,
		    (unsigned long long)st->backend_failures, admin_nconns(),
		    queued, over ? "true" : "false");
		admin_json_end(cl);
		return;
	}
	admin_ok(cl, NULL);
	admin_line(cl, "accepted %llu", (unsigned long long)st->accepted);
	admin_line(cl, "rejected.acl %llu",
	    (unsigned long long)st->rejected_acl);
	admin_line(cl, "rejected.full %llu",
	    (unsigned long long)st->rejected_full);
	admin_line(cl, "rejected.memory %llu",
	    (unsigned long long)st->rejected_memory);
	admin_line(cl, "rejected.handshake %llu",
	    (unsigned long long)st->rejected_handshake);
	for (i = 0; i < SERVER_STATS_HTTP; i++) {
		if (st->rejected_http[i] != 0)
			admin_line(cl, "rejected.http.%zu %llu", 400 + i,
			    (unsigned long long)st->rejected_http[i]);
	}
	admin_line(cl, "opened %llu", (unsigned long long)st->opened);
	admin_line(cl, "closed %llu", (unsigned long long)st->closed);
	for (i = 0; i < SERVER_STATS_CODES; i++) {
		if (st->closed_code[i] == 0)
			continue;
		if (i == SERVER_STATS_CODES - 1)
			admin_line(cl, "closed.code.other %llu",
			    (unsigned long long)st->closed_code[i]);
		else
			admin_line(cl, "closed.code.%zu %llu", 1000 + i,
			    (unsigned long long)st->closed_code[i]);
	}
	admin_line(cl, "messages.in %llu", (unsigned long long)st->msgs_in);
	admin_line(cl, "messages.out %llu", (unsigned long long)st->msgs_out);
	admin_line(cl, "bytes.in %llu", (unsigned long long)st->bytes_in);
	admin_line(cl, "bytes.out %llu", (unsigned long long)st->bytes_out);
	admin_line(cl, "backend.spawns %llu",
	    (unsigned long long)st->backend_spawns);
	admin_line(cl, "backend.failures %llu",
	    (unsigned long long)st->backend_failures);
	admin_line(cl, "connections %u", admin_nconns());
	admin_line(cl, "memory.queued %zu", queued);
	admin_line(cl, "memory.over %s", over ? "yes" : "no");
	admin_end(cl);
}

/*
 * A request URI as shown: with MaskSensitiveData, the SensitiveQueryParams
 * values masked as in the log (into buf). NULL stays NULL.
 */
static const char *
admin_masked(const char *s, char *buf, size_t len)
{
	size_t	 n;

	if (s == NULL || !log_mask_on())
		return s;
	n = log_mask(s, strlen(s), buf, len - 1);
	buf[n] = '\0';
	return buf;
}

/* A request header's value as shown: "***" for sensitive ones when masking. */
static const char *
admin_header_value(const struct ws_header *h)
{
	return log_mask_on() && log_mask_header(h->name) ? "***" : h->value;
}

/* A string for a table cell or a text field: "-" when empty. */
static const char *
admin_cell(const char *s)
{
	return s != NULL && *s != '\0' ? s : "-";
}

/*
 * The TLS session of a connection, or false for a plain one and for one
 * still in its TLS handshake (no session to show yet).
 */
static bool
admin_conn_tls(struct conn *c, struct tls_info *ti)
{
	if (!conn_is_tls(c) || conn_ssl(c) == NULL)
		return false;
	tls_get_info(conn_ssl(c), ti);
	return true;
}

/* Appends a TLS session's fields, named as the reference's settings. */
static void
admin_tls_json(struct evbuffer *b, bool *first, const struct tls_info *ti)
{
	admin_json_kv(b, first, "SSLNegotiatedVersion", ti->version);
	admin_json_kv(b, first, "SSLNegotiatedCipher", ti->cipher);
	admin_json_kv(b, first, "SSLNegotiatedCipherSuite", ti->cipher_suite);
	admin_json_kn(b, first, "SSLNegotiatedCipherStrength",
	    (unsigned long long)(ti->cipher_strength > 0 ?
	    ti->cipher_strength : 0));
	admin_json_kv(b, first, "SSLNegotiatedKeyExchange", ti->key_exchange);
	admin_json_kn(b, first, "SSLNegotiatedKeyExchangeStrength",
	    (unsigned long long)(ti->key_exchange_strength > 0 ?
	    ti->key_exchange_strength : 0));
	admin_json_kv(b, first, "SNI", ti->sni);
	admin_json_kv(b, first, "ClientCertStatus", ti->client_verify);
	admin_json_kv(b, first, "ClientCertSubject", ti->client_subject);
	admin_json_kv(b, first, "ClientCertIssuer", ti->client_issuer);
}

/* Writes a TLS session's fields as "Name: value" lines ("-" when empty). */
static void
admin_tls_lines(struct admin_client *cl, const struct tls_info *ti)
{
	admin_line(cl, "SSLNegotiatedVersion: %s", admin_cell(ti->version));
	admin_line(cl, "SSLNegotiatedCipher: %s", admin_cell(ti->cipher));
	admin_line(cl, "SSLNegotiatedCipherSuite: %s",
	    admin_cell(ti->cipher_suite));
	admin_line(cl, "SSLNegotiatedCipherStrength: %d",
	    ti->cipher_strength > 0 ? ti->cipher_strength : 0);
	admin_line(cl, "SSLNegotiatedKeyExchange: %s",
	    admin_cell(ti->key_exchange));
	admin_line(cl, "SSLNegotiatedKeyExchangeStrength: %d",
	    ti->key_exchange_strength > 0 ? ti->key_exchange_strength : 0);
	admin_line(cl, "SNI: %s", admin_cell(ti->sni));
	admin_line(cl, "ClientCertStatus: %s", admin_cell(ti->client_verify));
	admin_line(cl, "ClientCertSubject: %s",
	    admin_cell(ti->client_subject));
	admin_line(cl, "ClientCertIssuer: %s", admin_cell(ti->client_issuer));
}

/*
 * Appends one connection as a JSON object; full adds the TLS session and
 * the request headers.
 */
static void
admin_conn_json(struct evbuffer *b, struct conn *c, bool full)
{
	const struct ws_request	*req = conn_request(c);
	const char		*sp = conn_subprotocol(c);
	const char		*v;
	struct conn_info	 ci;
	struct tls_info		 ti;
	bool			 first = true;
	size_t			 i;
	char			 mbuf[2048];

	conn_get_info(c, &ci);
	evbuffer_add(b, "{", 1);
	admin_json_kv(b, &first, "ConnectionId", ci.id);
	admin_json_kv(b, &first, "RemoteHost", conn_remote_addr(c));
	admin_json_kn(b, &first, "RemotePort",
	    (unsigned long long)conn_remote_port(c));
	admin_json_kv(b, &first, "LocalAddress", conn_local_addr(c));
	admin_json_kn(b, &first, "LocalPort",
	    (unsigned long long)conn_local_port(c));
	admin_json_kv(b, &first, "Host", req->host);
	admin_json_kv(b, &first, "Origin", req->origin);
	admin_json_kv(b, &first, "RequestURI", admin_masked(req->uri, mbuf,
	    sizeof(mbuf)));
	admin_json_kv(b, &first, "SubProtocols", req->protocols);
	admin_json_kv(b, &first, "SubProtocol", sp);
	admin_json_kb(b, &first, "Connected", ci.connected);
	admin_json_kb(b, &first, "AcceptData", ci.accept_data);
	admin_json_kn(b, &first, "BytesSent", ci.bytes_out);
	admin_json_kb(b, &first, "LineMode", ci.line_mode);
	admin_json_kb(b, &first, "ReadyToSend", ci.ready_to_send);
	admin_json_kn(b, &first, "Timeout", (unsigned long long)ci.timeout);
	admin_json_kv(b, &first, "State", ci.state);
	admin_json_kv(b, &first, "Route", ci.route);
	evbuffer_add_printf(b, ",\"Age\":%llu.%03llu", ci.age_ms / 1000,
	    ci.age_ms % 1000);
	admin_json_kn(b, &first, "BytesIn", ci.bytes_in);
	admin_json_kn(b, &first, "BytesOut", ci.bytes_out);
	admin_json_kn(b, &first, "MessagesIn", ci.msgs_in);
	admin_json_kn(b, &first, "MessagesOut", ci.msgs_out);
	admin_json_kb(b, &first, "SendingFile", ci.sending_file);
	if (full) {
		admin_json_kb(b, &first, "tls", conn_is_tls(c));
		if (admin_conn_tls(c, &ti))
			admin_tls_json(b, &first, &ti);
		evbuffer_add(b, ",\"RequestHeaders\":[", 19);
		for (i = 0; i < req->nheaders; i++) {
			evbuffer_add(b, i > 0 ? ",[" : "[", i > 0 ? 2 : 1);
			admin_json_string(b, req->headers[i].name,
			    strlen(req->headers[i].name));
			evbuffer_add(b, ",", 1);
			v = admin_header_value(&req->headers[i]);
			admin_json_string(b, v, strlen(v));
			evbuffer_add(b, "]", 1);
		}
		evbuffer_add(b, "]", 1);
	}
	evbuffer_add(b, "}", 1);
}

/* connections [json] */
static void
admin_connections(struct admin_client *cl, const struct admin_req *r)
{
	const struct ws_request	*req;
	struct evbuffer		*b;
	struct conn		*c;
	struct conn_info	 ci;
	char			 remote[80], mbuf[2048];

	if (r->json) {
		b = admin_json_begin(cl);
		evbuffer_add(b, "[", 1);
		for (c = conn_first(); c != NULL; c = conn_next(c)) {
			if (c != conn_first())
				evbuffer_add(b, ",", 1);
			admin_conn_json(b, c, false);
		}
		evbuffer_add(b, "]", 1);
		admin_json_end(cl);
		return;
	}
	admin_ok(cl, "%u connection(s)", admin_nconns());
	admin_line(cl, "%-8s %-21s %-9s %-10s %8s %8s %8s %10s %10s %-5s %s",
	    "ID", "REMOTE", "STATE", "ROUTE", "AGE", "MSGS_IN", "MSGS_OUT",
	    "BYTES_IN", "BYTES_OUT", "FLAGS", "URI");
	for (c = conn_first(); c != NULL; c = conn_next(c)) {
		conn_get_info(c, &ci);
		req = conn_request(c);
		snprintf(remote, sizeof(remote), "%s:%d", conn_remote_addr(c),
		    conn_remote_port(c));
		admin_line(cl, "%-8s %-21s %-9s %-10.10s %6llu.%01llu %8llu "
		    "%8llu %10llu %10llu %c%c%c%c  %.512s", ci.id, remote,
		    ci.state, admin_cell(ci.route), ci.age_ms / 1000,
		    ci.age_ms % 1000 / 100, (unsigned long long)ci.msgs_in,
		    (unsigned long long)ci.msgs_out,
		    (unsigned long long)ci.bytes_in,
		    (unsigned long long)ci.bytes_out,
		    ci.accept_data ? 'A' : '-', ci.line_mode ? 'L' : '-',
		    ci.ready_to_send ? 'R' : '-', ci.sending_file ? 'F' : '-',
		    admin_cell(admin_masked(req->uri, mbuf, sizeof(mbuf))));
	}
	admin_end(cl);
}

/* connection ID [json] */
static void
admin_connection(struct admin_client *cl, const struct admin_req *r)
{
	const struct ws_request	*req;
	struct conn		*c;
	struct conn_info	 ci;
	struct tls_info		 ti;
	size_t			 i;
	char			 mbuf[2048];

	if ((c = admin_conn_arg(cl, r)) == NULL)
		return;
	if (r->json) {
		admin_conn_json(admin_json_begin(cl), c, true);
		admin_json_end(cl);
		return;
	}
	conn_get_info(c, &ci);
	req = conn_request(c);
	admin_ok(cl, NULL);
	admin_line(cl, "ConnectionId: %s", ci.id);
	admin_line(cl, "RemoteHost: %s", conn_remote_addr(c));
	admin_line(cl, "RemotePort: %d", conn_remote_port(c));
	admin_line(cl, "LocalAddress: %s", conn_local_addr(c));
	admin_line(cl, "LocalPort: %d", conn_local_port(c));
	admin_line(cl, "Host: %.1024s", admin_cell(req->host));
	admin_line(cl, "Origin: %.1024s", admin_cell(req->origin));
	admin_line(cl, "RequestURI: %.1024s", admin_cell(admin_masked(req->uri,
	    mbuf, sizeof(mbuf))));
	admin_line(cl, "SubProtocols: %.1024s", admin_cell(req->protocols));
	admin_line(cl, "SubProtocol: %s", admin_cell(conn_subprotocol(c)));
	admin_line(cl, "Connected: %s", ci.connected ? "True" : "False");
	admin_line(cl, "AcceptData: %s", ci.accept_data ? "True" : "False");
	admin_line(cl, "BytesSent: %llu", (unsigned long long)ci.bytes_out);
	admin_line(cl, "LineMode: %s", ci.line_mode ? "True" : "False");
	admin_line(cl, "ReadyToSend: %s", ci.ready_to_send ? "True" :
	    "False");
	admin_line(cl, "Timeout: %d", ci.timeout);
	admin_line(cl, "State: %s", ci.state);
	admin_line(cl, "Route: %s", admin_cell(ci.route));
	admin_line(cl, "Age: %llu.%03llu s", ci.age_ms / 1000,
	    ci.age_ms % 1000);
	admin_line(cl, "BytesIn: %llu", (unsigned long long)ci.bytes_in);
	admin_line(cl, "BytesOut: %llu", (unsigned long long)ci.bytes_out);
	admin_line(cl, "MessagesIn: %llu", (unsigned long long)ci.msgs_in);
	admin_line(cl, "MessagesOut: %llu", (unsigned long long)ci.msgs_out);
	admin_line(cl, "SendingFile: %s", ci.sending_file ? "True" : "False");
	admin_line(cl, "TLS: %s", conn_is_tls(c) ? "yes" : "no");
	if (admin_conn_tls(c, &ti))
		admin_tls_lines(cl, &ti);
	admin_line(cl, "RequestHeaders:");
	for (i = 0; i < req->nheaders; i++)
		admin_line(cl, "  %.256s: %.1500s", req->headers[i].name,
		    admin_header_value(&req->headers[i]));
	admin_end(cl);
}

/* Fields of the Certificate type that are numbers in JSON. */
static bool
admin_cert_numeric(const char *name)
{
	return strcmp(name, "PublicKeyLength") == 0 ||
	    strcmp(name, "UsageFlags") == 0;
}

/* What admin_cert_field writes into. */
struct admin_cert_out {
	struct admin_client	*cl;
	struct evbuffer		*b;		/* JSON, or NULL for text */
	bool			 first;
};

/* tls_field_fn: one certificate field, as a JSON member or a text line. */
static void
admin_cert_field(void *arg, const char *name, const char *value)
{
	struct admin_cert_out	*o = arg;
	char			*end;
	unsigned long long	 n;

	if (o->b == NULL) {
		admin_line(o->cl, "  %s: %.1900s", name, value);
		return;
	}
	if (admin_cert_numeric(name)) {
		errno = 0;
		n = strtoull(value, &end, 10);
		if (*value != '\0' && *end == '\0' && errno == 0) {
			admin_json_kn(o->b, &o->first, name, n);
			return;
		}
	}
	admin_json_kv(o->b, &o->first, name, value);
}

/* tls_field_fn that ignores the fields: counts certificates. */
static void
admin_cert_skip(void *arg, const char *name, const char *value)
{
}

/* cert [json] */
static void
admin_cert(struct admin_client *cl, const struct admin_req *r)
{
	const struct config	*cfg = server_config(admin.srv);
	struct admin_cert_out	 o;
	size_t			 i, n;

	for (n = 0; cfg->use_ssl && cfg->tls != NULL &&
	    tls_ctx_cert_fields(cfg->tls, n, admin_cert_skip, NULL) == 0; n++)
		;
	if (n == 0) {
		admin_err(cl, ADMIN_ERR_NOTLS, "no certificate: UseSSL is off");
		return;
	}
	memset(&o, 0, sizeof(o));
	o.cl = cl;
	if (r->json) {
		o.b = admin_json_begin(cl);
		evbuffer_add(o.b, "[", 1);
		for (i = 0; i < n; i++) {
			evbuffer_add(o.b, i > 0 ? ",{" : "{", i > 0 ? 2 : 1);
			o.first = true;
			tls_ctx_cert_fields(cfg->tls, i, admin_cert_field, &o);
			evbuffer_add(o.b, "}", 1);
		}
		evbuffer_add(o.b, "]", 1);
		admin_json_end(cl);
		return;
	}
	admin_ok(cl, "%zu certificate(s)", n);
	for (i = 0; i < n; i++) {
		admin_line(cl, "certificate %zu:", i + 1);
		tls_ctx_cert_fields(cfg->tls, i, admin_cert_field, &o);
	}
	admin_end(cl);
}

/* disconnect ID [CODE [REASON]] */
static void
admin_disconnect(struct admin_client *cl, const struct admin_req *r)
{
	struct conn	*c;
	struct conn_info ci;
	const char	*reason = NULL;
	char		*end;
	long		 code = 0;

	if (r->argc >= 2) {
		errno = 0;
		code = strtol(r->argv[1], &end, 10);
		/* Range first: a long past int must not wrap into a code. */
		if (*r->argv[1] == '\0' || *end != '\0' || errno != 0 ||
		    code < 1000 || code > 4999 ||
		    !ws_close_code_valid((int)code)) {
			admin_err(cl, ADMIN_ERR_VALUE, "invalid close code "
			    "\"%.16s\" (use 1000-1003, 1007-1014 or 3000-4999)",
			    r->argv[1]);
			return;
		}
	}
	if (r->argc == 3) {
		reason = r->argv[2];
		if (strlen(reason) > 123 || !ws_utf8_valid(
		    (const uint8_t *)reason, strlen(reason))) {
			admin_err(cl, ADMIN_ERR_VALUE, "the reason must be "
			    "UTF-8 of at most 123 bytes");
			return;
		}
	}
	if ((c = admin_conn_arg(cl, r)) == NULL)
		return;
	conn_get_info(c, &ci);
	if (strcmp(ci.state, "closing") == 0 ||
	    strcmp(ci.state, "draining") == 0) {
		admin_ok(cl, "%s is already closing", r->argv[0]);
		admin_end(cl);
		return;
	}
	conn_close(c, (int)code, reason);
	admin_ok(cl, "closing %s", r->argv[0]);
	admin_end(cl);
}

/* Ping timer: no pong in time. */
static void
admin_ping_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_wait	*w = arg;

	if (w->cl != NULL)
		admin_err(w->cl, ADMIN_ERR_TIMEOUT, "no pong from %s within %d "
		    "s", w->conn, w->timeout);
	admin_wait_done(w);
}

/* Checks that c is an open WebSocket, or replies 4202. */
static bool
admin_conn_open(struct admin_client *cl, struct conn *c)
{
	struct conn_info	ci;

	conn_get_info(c, &ci);
	if (!ci.connected) {
		admin_err(cl, 4202, "error sending: connection %s is not an "
		    "open WebSocket (%s)", ci.id, ci.state);
		return false;
	}
	return true;
}

/* ping ID */
static void
admin_ping(struct admin_client *cl, const struct admin_req *r)
{
	struct admin_wait	*w;
	struct conn		*c;
	struct timeval		 tv;
	int			 t;

	if ((c = admin_conn_arg(cl, r)) == NULL || !admin_conn_open(cl, c))
		return;
	w = xcalloc(1, sizeof(*w));
	w->kind = WAIT_PING;
	snprintf(w->conn, sizeof(w->conn), "%s", conn_id(c));
	w->plen = (size_t)snprintf(w->payload, sizeof(w->payload),
	    "wsserverd-admin-ping-%llu", ++admin.ping_seq);
	t = server_config(admin.srv)->default_timeout;
	w->timeout = t > 0 ? t : ADMIN_PING_TIMEOUT;
	if (conn_ping(c, w->payload, w->plen) == -1) {
		free(w);
		admin_err(cl, 4202, "error sending the ping to %s", r->argv[0]);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &w->t0);
	w->timer = evtimer_new(admin.base, admin_ping_timeout_cb, w);
	tv.tv_sec = w->timeout;
	tv.tv_usec = 0;
	evtimer_add(w->timer, &tv);
	w->cl = cl;
	cl->wait = w;
	TAILQ_INSERT_TAIL(&admin.waits, w, entry);
}

/* Queues a whole message from the admin; replies the outcome. */
static void
admin_send_message(struct admin_client *cl, struct conn *c,
    enum ws_msg_type type, const void *data, size_t len)
{
	switch (conn_send_admin(c, type, data, len)) {
	case 0:
		admin_ok(cl, "queued %zu bytes to %s", len, conn_id(c));
		admin_end(cl);
		break;
	case -2:
		admin_err(cl, ADMIN_ERR_BUSY, "connection %s is sending "
		    "another message (a sendfile, or a fragmented backend "
		    "message)", conn_id(c));
		break;
	case -3:
		admin_err(cl, 4202, "error sending: the output queue of %s is "
		    "full", conn_id(c));
		break;
	default:
		admin_err(cl, 4202, "error sending: connection %s is not an "
		    "open WebSocket", conn_id(c));
		break;
	}
}

/* send ID BASE64 */
static void
admin_send(struct admin_client *cl, const struct admin_req *r)
{
	uint8_t		 data[ADMIN_SEND_MAX];
	struct conn	*c;
	ssize_t		 n;

	if ((c = admin_conn_arg(cl, r)) == NULL)
		return;
	if ((n = admin_base64_decode(r->argv[1], strlen(r->argv[1]), data,
	    sizeof(data))) == -1) {
		admin_err(cl, ADMIN_ERR_VALUE, "invalid base64");
		return;
	}
	admin_send_message(cl, c, WS_MSG_BINARY, data, (size_t)n);
}

/* sendtext ID TEXT */
static void
admin_sendtext(struct admin_client *cl, const struct admin_req *r)
{
	struct conn	*c;
	size_t		 len = strlen(r->argv[1]);

	if ((c = admin_conn_arg(cl, r)) == NULL)
		return;
	if (!ws_utf8_valid((const uint8_t *)r->argv[1], len)) {
		admin_err(cl, ADMIN_ERR_VALUE, "TEXT is not valid UTF-8");
		return;
	}
	admin_send_message(cl, c, WS_MSG_TEXT, r->argv[1], len);
}

/* Conn callback: a sendfile ended; reply to the client that started it. */
static void
admin_file_done(void *arg, enum conn_file_status st, uint64_t bytes, int err)
{
	struct admin_wait	*w = arg;
	struct admin_client	*cl = w->cl;

	if (cl != NULL) {
		switch (st) {
		case CONN_FILE_DONE:
			admin_ok(cl, "sent %llu bytes to %s",
			    (unsigned long long)bytes, w->conn);
			admin_end(cl);
			break;
		case CONN_FILE_INTERRUPTED:
			admin_err(cl, ADMIN_ERR_INTERRUPTED, "interrupted "
			    "after %llu bytes", (unsigned long long)bytes);
			break;
		case CONN_FILE_ERROR:
			admin_err(cl, ADMIN_ERR_FILE, "read error after %llu "
			    "bytes: %s", (unsigned long long)bytes,
			    strerror(err));
			break;
		case CONN_FILE_CLOSED:
			admin_err(cl, 4202, "error sending: connection %s "
			    "closed after %llu bytes", w->conn,
			    (unsigned long long)bytes);
			break;
		}
	}
	log_info("admin: sendfile to %s ended after %llu bytes (%s)", w->conn,
	    (unsigned long long)bytes, st == CONN_FILE_DONE ? "done" :
	    st == CONN_FILE_INTERRUPTED ? "interrupted" :
	    st == CONN_FILE_ERROR ? "read error" : "connection closed");
	admin_wait_done(w);
}

/* sendfile ID PATH */
static void
admin_sendfile(struct admin_client *cl, const struct admin_req *r)
{
	struct admin_wait	*w;
	struct conn		*c;
	struct stat		 sb;
	int			 fd, rc;

	if ((c = admin_conn_arg(cl, r)) == NULL || !admin_conn_open(cl, c))
		return;
	if ((fd = open(r->argv[1], O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		admin_err(cl, ADMIN_ERR_FILE, "%.1024s: %s", r->argv[1],
		    strerror(errno));
		return;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		close(fd);
		admin_err(cl, ADMIN_ERR_FILE, "%.1024s: not a regular file",
		    r->argv[1]);
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->kind = WAIT_FILE;
	snprintf(w->conn, sizeof(w->conn), "%s", conn_id(c));
	w->cl = cl;
	cl->wait = w;
	TAILQ_INSERT_TAIL(&admin.waits, w, entry);
	/* done may run before this returns (a small file): w is gone then. */
	if ((rc = conn_sendfile(c, fd, admin_file_done, w)) != 0) {
		close(fd);
		TAILQ_REMOVE(&admin.waits, w, entry);
		cl->wait = NULL;
		free(w);
		if (rc == -2)
			admin_err(cl, ADMIN_ERR_BUSY, "connection %s is "
			    "sending another message", r->argv[0]);
		else
			admin_err(cl, 4202, "error sending: connection %s is "
			    "not open", r->argv[0]);
	}
}

/* interrupt ID */
static void
admin_interrupt(struct admin_client *cl, const struct admin_req *r)
{
	struct conn	*c;

	if ((c = admin_conn_arg(cl, r)) == NULL)
		return;
	if (conn_interrupt(c) == -1) {
		admin_err(cl, ADMIN_ERR_NOFILE, "no sendfile in progress on %s",
		    r->argv[0]);
		return;
	}
	admin_ok(cl, "interrupted the sendfile to %s", r->argv[0]);
	admin_end(cl);
}

/* True if name is "*", or the name or Path of a route of the running config. */
static bool
admin_is_route(const char *name)
{
	const struct config	*cfg = server_config(admin.srv);
	size_t			 i;

	if (strcmp(name, "*") == 0)
		return true;
	for (i = 0; i < cfg->nroutes; i++) {
		if (strcmp(cfg->routes[i].name, name) == 0 ||
		    (cfg->routes[i].path != NULL &&
		    strcmp(cfg->routes[i].path, name) == 0))
			return true;
	}
	return false;
}

/* True if a connection's route is the one named (by name or path). */
static bool
admin_route_matches(struct conn *c, const char *route)
{
	const struct config	*cfg = server_config(admin.srv);
	struct conn_info	 ci;
	size_t			 i;

	if (strcmp(route, "*") == 0)
		return true;
	conn_get_info(c, &ci);
	if (strcmp(ci.route, route) == 0)
		return true;
	for (i = 0; i < cfg->nroutes; i++) {
		if (cfg->routes[i].path != NULL &&
		    strcmp(cfg->routes[i].path, route) == 0 &&
		    strcmp(cfg->routes[i].name, ci.route) == 0)
			return true;
	}
	return false;
}

/* broadcast [ROUTE|*] TEXT */
static void
admin_broadcast(struct admin_client *cl, const struct admin_req *r)
{
	struct conn		*c;
	struct conn_info	 ci;
	const char		*route = "*", *text;
	unsigned int		 sent = 0, busy = 0, full = 0;

	if (r->argc == 2 && admin_is_route(r->argv[0])) {
		route = r->argv[0];
		text = r->argv[1];
	} else
		text = r->tail[0];
	if (!ws_utf8_valid((const uint8_t *)text, strlen(text))) {
		admin_err(cl, ADMIN_ERR_VALUE, "TEXT is not valid UTF-8");
		return;
	}
	for (c = conn_first(); c != NULL; c = conn_next(c)) {
		conn_get_info(c, &ci);
		if (!ci.connected || !admin_route_matches(c, route))
			continue;
		switch (conn_send_admin(c, WS_MSG_TEXT, text, strlen(text))) {
		case 0:
			sent++;
			break;
		case -2:
			busy++;
			break;
		default:
			full++;
			break;
		}
	}
	admin_ok(cl, "sent to %u connection(s)", sent);
	if (busy > 0 || full > 0)
		admin_line(cl, "skipped %u busy and %u with a full queue", busy,
		    full);
	admin_end(cl);
}

/* linemode ID on|off */
static void
admin_linemode(struct admin_client *cl, const struct admin_req *r)
{
	struct conn	*c;
	bool		 on;

	if (config_parse_bool(r->argv[1], &on) == -1) {
		admin_err(cl, ADMIN_ERR_VALUE, "use on or off, not \"%.16s\"",
		    r->argv[1]);
		return;
	}
	if ((c = admin_conn_arg(cl, r)) == NULL)
		return;
	conn_set_line_mode(c, on);
	admin_ok(cl, "LineMode of %s is %s", r->argv[0], on ? "True" :
	    "False");
	admin_end(cl);
}

/* timeout ID SECONDS: the connection's Timeout (send timeout). */
static void
admin_timeout(struct admin_client *cl, const struct admin_req *r)
{
	struct conn	*c;
	char		*end;
	long		 t;

	errno = 0;
	t = strtol(r->argv[1], &end, 10);
	if (*r->argv[1] == '\0' || *end != '\0' || errno != 0 || t < 0 ||
	    t > 86400) {
		admin_err(cl, ADMIN_ERR_VALUE, "timeout must be 0-86400 seconds, "
		    "not \"%.16s\"", r->argv[1]);
		return;
	}
	if ((c = admin_conn_arg(cl, r)) == NULL)
		return;
	conn_set_timeout(c, (int)t);
	admin_ok(cl, "Timeout of %s is %ld", r->argv[0], t);
	admin_end(cl);
}

/* pause ID and resume ID: AcceptData off and on. */
static void
admin_accept_data(struct admin_client *cl, const struct admin_req *r,
    bool on)
{
	struct conn	*c;

	if ((c = admin_conn_arg(cl, r)) == NULL)
		return;
	conn_set_accept_data(c, on);
	admin_ok(cl, "AcceptData of %s is %s", r->argv[0], on ? "True" :
	    "False");
	admin_end(cl);
}

/* pause ID */
static void
admin_pause(struct admin_client *cl, const struct admin_req *r)
{
	admin_accept_data(cl, r, false);
}

/* resume ID */
static void
admin_resume(struct admin_client *cl, const struct admin_req *r)
{
	admin_accept_data(cl, r, true);
}

/* The table's spelling of a global key, or NULL. */
static const char *
admin_key_name(const char *key)
{
	const char	*name, *sect;
	size_t		 i;

	for (i = 0; (name = config_key_name(i)) != NULL; i++) {
		sect = config_key_section(i);
		if (strncmp(sect, "route:", 6) != 0 &&
		    strcasecmp(name, key) == 0)
			return name;
	}
	return NULL;
}

/* Removes spaces and tabs at both ends of s, in place. */
static char *
admin_trim(char *s)
{
	size_t	 n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* config [KEY[=VALUE]] */
static void
admin_config(struct admin_client *cl, const struct admin_req *r)
{
	const struct config	*cfg = server_config(admin.srv);
	const char		*name, *sect;
	char			 arg[ADMIN_LINE_MAX], value[ADMIN_LINE_MAX];
	char			*cause = NULL, *key, *eq, *v;
	size_t			 i;
	enum wsd_error		 rc;

	if (r->argc == 0) {
		admin_ok(cl, NULL);
		for (i = 0; (name = config_key_name(i)) != NULL; i++) {
			sect = config_key_section(i);
			if (strncmp(sect, "route:", 6) == 0 ||
			    config_get(cfg, name, value, sizeof(value)) == -1)
				continue;
			admin_line(cl, "%s = %.1500s", name, value);
		}
		admin_end(cl);
		return;
	}
	snprintf(arg, sizeof(arg), "%s", r->argv[0]);
	if ((eq = strchr(arg, '=')) != NULL)
		*eq = '\0';
	key = admin_trim(arg);
	if ((name = admin_key_name(key)) == NULL) {
		admin_err(cl, ADMIN_ERR_NOKEY, "unknown configuration key "
		    "\"%.64s\" (route keys change with a reload)", key);
		return;
	}
	if (eq != NULL) {
		v = admin_trim(eq + 1);
		rc = server_config_set(admin.srv, name, v, &cause);
		switch (rc) {
		case WSD_OK:
			break;
		case WSD_ERR_VALUE:
			admin_err(cl, ADMIN_ERR_VALUE, "%s: %s", name, cause);
			free(cause);
			return;
		default:
			/* NOKEY, FIXED and 106-108: the code is the reply's. */
			admin_err(cl, rc, "%s", cause);
			free(cause);
			return;
		}
		log_info("admin: %s set to \"%.200s\"", name, v);
	}
	config_get(server_config(admin.srv), name, value, sizeof(value));
	admin_ok(cl, NULL);
	admin_line(cl, "%s = %.1500s", name, value);
	admin_end(cl);
}

/* start */
static void
admin_start_cmd(struct admin_client *cl, const struct admin_req *r)
{
	const char	*cause;

	if (server_stopping(admin.srv)) {
		admin_err(cl, ADMIN_ERR_UNAVAILABLE, "the server is shutting "
		    "down");
		return;
	}
	if (server_listening(admin.srv)) {
		admin_err(cl, 104, "already listening on %s",
		    server_local_address(admin.srv));
		return;
	}
	if (server_listen(admin.srv, &cause) == -1) {
		admin_err(cl, ADMIN_ERR_LISTEN, "cannot listen: %s", cause);
		return;
	}
	admin_ok(cl, "listening on %s", server_local_address(admin.srv));
	admin_end(cl);
}

/* drain: stop listening, let connections leave, then 1001. */
static void
admin_drain(struct admin_client *cl, const struct admin_req *r)
{
	long	 secs = -1;
	char	*end;

	if (r->argc == 1) {
		errno = 0;
		secs = strtol(r->argv[0], &end, 10);
		if (*r->argv[0] < '0' || *r->argv[0] > '9' || *end != '\0' ||
		    errno != 0 || secs > 86400) {
			admin_err(cl, ADMIN_ERR_VALUE, "SECONDS must be 0-86400");
			return;
		}
	}
	if (server_drain(admin.srv, (int)secs) == -1) {
		admin_err(cl, ADMIN_ERR_UNAVAILABLE, "the server is shutting "
		    "down");
		return;
	}
	admin_ok(cl, "draining: %u connection(s) have %ld second(s) to leave",
	    admin_nconns(), secs >= 0 ? secs :
	    (long)server_config(admin.srv)->shutdown_timeout);
	admin_end(cl);
}

/* reopen: LogFile again, for logrotate. */
static void
admin_reopen(struct admin_client *cl, const struct admin_req *r)
{
	(void)r;
	if (log_reopen() == -1) {
		admin_err(cl, ADMIN_ERR_FILE, "cannot reopen the log file: %s",
		    strerror(errno));
		return;
	}
	log_info("log file reopened (admin)");
	if (workers_master())
		workers_signal(SIGUSR1);
	admin_ok(cl, "log reopened");
	admin_end(cl);
}

/* stop */
static void
admin_stop_cmd(struct admin_client *cl, const struct admin_req *r)
{
	if (!server_listening(admin.srv)) {
		admin_ok(cl, "not listening");
		admin_end(cl);
		return;
	}
	server_unlisten(admin.srv);
	admin_ok(cl, "stopped listening; %u connection(s) stay", admin_nconns());
	admin_end(cl);
}

/* Writes what is queued for a client now, as far as the socket takes it. */
static void
admin_flush(struct admin_client *cl)
{
	struct evbuffer	*out = admin_out(cl);
	int		 fd = (int)bufferevent_getfd(cl->bev);

	while (evbuffer_get_length(out) > 0 && evbuffer_write(out, fd) > 0)
		;
}

/* shutdown */
static void
admin_shutdown(struct admin_client *cl, const struct admin_req *r)
{
	admin_ok(cl, "shutting down: %u connection(s)", admin_nconns());
	admin_end(cl);
	/* The loop may end before the next write event: send it now. */
	admin_flush(cl);
	server_shutdown(admin.srv);
}

/* Writes multi-line text as data lines. */
static void
admin_lines(struct admin_client *cl, const char *text)
{
	const char	*p, *e;

	for (p = text; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		if (e > p)
			admin_line(cl, "%.*s", (int)(e - p), p);
	}
}

/* reload */
static void
admin_reload(struct admin_client *cl, const struct admin_req *r)
{
	char	*errors = NULL, *notes = NULL;
	size_t	 n = 0;
	char	*p;

	if (server_reload(admin.srv, &errors, &notes) == -1) {
		for (p = errors; *p != '\0'; p++)
			n += *p == '\n';
		evbuffer_add_printf(admin_out(cl), "ERR %d configuration has "
		    "%zu error line(s); the running configuration is "
		    "unchanged\n", ADMIN_ERR_RELOAD, n);
		admin_lines(cl, errors);
		admin_end(cl);
		free(errors);
		return;
	}
	admin_ok(cl, "reloaded %s", server_config(admin.srv)->file);
	admin_lines(cl, notes);
	admin_end(cl);
	free(notes);
}

/* watch */
static void
admin_watch(struct admin_client *cl, const struct admin_req *r)
{
	admin_ok(cl, "watching (LogLevel %d)", log_get_level());
	admin_end(cl);
	cl->watching = true;
	admin.nwatchers++;
	bufferevent_setwatermark(cl->bev, EV_WRITE, ADMIN_WATCH_MAX / 2, 0);
}

/* ---------------------------------------------------------------- socket */

/* True if something accepts connections on the UNIX socket at path. */
static bool
admin_socket_alive(const struct sockaddr_un *sun, int *err)
{
	int	 fd, r;

	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		*err = errno;
		return true;
	}
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	*err = r == -1 ? errno : 0;
	close(fd);
	/* EAGAIN: a full backlog, so a live listener. */
	return r == 0 || *err == EAGAIN;
}

/* Binds fd to path with the mode; replaces a stale socket file. */
static int
admin_bind(int fd, const struct sockaddr_un *sun, int mode, char *cause,
    size_t causelen)
{
	struct stat	 sb;
	mode_t		 old;
	int		 r, err;

	/* The socket never exists with more permissions than asked for. */
	old = umask((mode_t)(~mode & 0777));
	r = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	if (r == -1 && errno == EADDRINUSE) {
		if (lstat(sun->sun_path, &sb) == 0 && !S_ISSOCK(sb.st_mode)) {
			umask(old);
			snprintf(cause, causelen, "admin socket %s: the file "
			    "exists and is not a socket", sun->sun_path);
			return -1;
		}
		if (admin_socket_alive(sun, &err)) {
			umask(old);
			snprintf(cause, causelen, "admin socket %s is in use: "
			    "another wsserverd is running there%s%s (stop it, "
			    "or set another [admin] Socket)", sun->sun_path,
			    err != 0 ? ": " : "", err != 0 ? strerror(err) :
			    "");
			return -1;
		}
		log_info("admin socket %s: replacing a stale socket file",
		    sun->sun_path);
		unlink(sun->sun_path);
		r = bind(fd, (const struct sockaddr *)sun, sizeof(*sun));
	}
	err = errno;
	umask(old);
	if (r == -1) {
		snprintf(cause, causelen, "admin socket %s: bind: %s%s",
		    sun->sun_path, strerror(err), err == ENOENT ? " (does its "
		    "directory exist? set [admin] Socket, or leave it empty "
		    "to turn the admin socket off)" : "");
		return -1;
	}
	return 0;
}

/* Gives the socket file its mode and group. */
static int
admin_socket_perms(const char *path, int mode, const char *group,
    char *cause, size_t causelen)
{
	struct group	*gr;
	char		*end;
	long		 gid;

	if (chmod(path, (mode_t)mode) == -1) {
		snprintf(cause, causelen, "admin socket %s: chmod: %s", path,
		    strerror(errno));
		return -1;
	}
	if (*group == '\0')
		return 0;
	errno = 0;
	gid = strtol(group, &end, 10);
	if (*end != '\0' || errno != 0 || gid < 0) {
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(cause, causelen, "admin socket: unknown "
			    "SocketGroup \"%s\"", group);
			return -1;
		}
		gid = (long)gr->gr_gid;
	}
	if (chown(path, (uid_t)-1, (gid_t)gid) == -1) {
		snprintf(cause, causelen, "admin socket %s: chown to group %s: "
		    "%s", path, group, strerror(errno));
		return -1;
	}
	return 0;
}

/* Opens the admin socket and hooks into connections and the log. */
int
admin_start(struct server *srv, char *cause, size_t causelen)
{
	const struct config	*cfg = server_config(srv);

	if (admin_open(srv, cause, causelen) == 0)
		return 0;
	/*
	 * The default path is best effort: a daemon started with a minimal
	 * config (no [admin] section) on a machine without /run/wsserverd, or
	 * a second instance, still serves WebSockets. A Socket that was set
	 * on purpose is required.
	 */
	if (strcmp(cfg->admin_socket, CONFIG_ADMIN_SOCKET) == 0) {
		log_warn("%s; the admin socket is off (set [admin] Socket to "
		    "require one)", cause);
		return 0;
	}
	return -1;
}

/* Makes the default socket's directory (RuntimeDirectory does under systemd). */
static void
admin_default_dir(const char *path)
{
	char		 dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char		*slash;
	struct stat	 sb;

	snprintf(dir, sizeof(dir), "%s", path);
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return;
	*slash = '\0';
	if (stat(dir, &sb) == -1 && errno == ENOENT && mkdir(dir, 0755) == 0)
		log_info("made %s for the admin socket", dir);
}

/* Creates and listens on the admin socket; -1 with cause on failure. */
static int
admin_open(struct server *srv, char *cause, size_t causelen)
{
	const struct config	*cfg = server_config(srv);
	struct sockaddr_un	 sun;
	struct stat		 sb;
	int			 fd;

	memset(&admin, 0, sizeof(admin));
	TAILQ_INIT(&admin.clients);
	TAILQ_INIT(&admin.waits);
	admin.srv = srv;
	admin.base = server_base(srv);
	if (*cfg->admin_socket == '\0') {
		log_info("admin socket off ([admin] Socket is empty)");
		return 0;
	}
	if (strcmp(cfg->admin_socket, CONFIG_ADMIN_SOCKET) == 0)
		admin_default_dir(cfg->admin_socket);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->admin_socket) >= sizeof(sun.sun_path)) {
		snprintf(cause, causelen, "admin socket %s: path longer than "
		    "%zu bytes", cfg->admin_socket, sizeof(sun.sun_path) - 1);
		return -1;
	}
	memcpy(sun.sun_path, cfg->admin_socket, strlen(cfg->admin_socket));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(cause, causelen, "admin socket: %s", strerror(errno));
		return -1;
	}
	if (admin_bind(fd, &sun, cfg->admin_socket_mode, cause,
	    causelen) == -1) {
		close(fd);
		return -1;
	}
	if (stat(sun.sun_path, &sb) == 0) {
		admin.dev = sb.st_dev;
		admin.ino = sb.st_ino;
	}
	snprintf(admin.path, sizeof(admin.path), "%s", sun.sun_path);
	if (admin_socket_perms(admin.path, cfg->admin_socket_mode,
	    cfg->admin_socket_group, cause, causelen) == -1) {
		close(fd);
		unlink(admin.path);
		return -1;
	}
	admin.evl = evconnlistener_new(admin.base, admin_accept_cb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, ADMIN_MAX_CLIENTS,
	    fd);
	if (admin.evl == NULL) {
		snprintf(cause, causelen, "admin socket %s: listen: %s",
		    admin.path, strerror(errno));
		close(fd);
		unlink(admin.path);
		return -1;
	}
	admin.on = true;
	conn_set_hooks(&admin_conn_hooks);
	log_set_hook(admin_log_hook);
	log_info("admin socket %s (mode %04o)", admin.path,
	    (unsigned int)cfg->admin_socket_mode);
	return 0;
}

/*
 * A new worker: the admin socket and its clients are the master's. Drops
 * this process's copies (the socket file stays) and serves only the
 * channels the master hands over (admin_adopt).
 */
void
admin_worker_start(struct server *srv)
{
	struct admin_client	*cl;

	log_set_hook(NULL);
	conn_set_hooks(NULL);
	while ((cl = TAILQ_FIRST(&admin.clients)) != NULL)
		admin_client_free(cl);
	if (admin.evl != NULL)
		evconnlistener_free(admin.evl);
	memset(&admin, 0, sizeof(admin));
	TAILQ_INIT(&admin.clients);
	TAILQ_INIT(&admin.waits);
	admin.srv = srv;
	admin.base = server_base(srv);
	admin.on = true;
	conn_set_hooks(&admin_conn_hooks);
	log_set_hook(admin_log_hook);
}

/* A worker: the master's channel for one of its admin clients. */
void
admin_adopt(int fd)
{
	struct admin_client	*cl;

	if (!admin.on) {
		close(fd);
		return;
	}
	cl = admin_client_new(fd);
	cl->relay = true;
}

/* Ends pending commands, drops the clients, removes the socket file. */
void
admin_stop(void)
{
	struct admin_client	*cl;
	struct admin_wait	*w;
	struct conn		*c;
	struct stat		 sb;

	if (!admin.on)
		return;
	admin.on = false;
	log_set_hook(NULL);
	/* A file still being sent ends now, so its callback finds its wait. */
	while ((w = TAILQ_FIRST(&admin.waits)) != NULL) {
		if (w->kind == WAIT_FILE && (c = conn_find(w->conn)) != NULL &&
		    conn_interrupt(c) == 0)
			continue;
		admin_wait_done(w);
	}
	conn_set_hooks(NULL);
	while ((cl = TAILQ_FIRST(&admin.clients)) != NULL) {
		admin_flush(cl);
		admin_client_free(cl);
	}
	if (admin.evl != NULL)
		evconnlistener_free(admin.evl);
	admin.evl = NULL;
	/* Only our own socket: another daemon may have taken the path. */
	if (stat(admin.path, &sb) == 0 && sb.st_dev == admin.dev &&
	    sb.st_ino == admin.ino)
		unlink(admin.path);
}
