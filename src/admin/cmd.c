/*
 * cmd.c - the admin command table and the line parser: every command's
 * name, arguments, help, target and relay in one table; lookup by prefix;
 * one line into a request; the JSON string and base64 codecs that
 * commands and wsserverctl share. No I/O: see cmd.h.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include <event2/buffer.h>

#include "admin/cmd.h"
#include "core/fleet-proto.h"
#include "base/log.h"
#include "base/util.h"

/*
 * One command. usage: its arguments, for help and errors; rest: the last
 * argument is the rest of the line; json: a trailing "json" is taken;
 * changes: it changes state (AdminAllowedUsers applies, and a log line
 * with the peer's uid shows log_args of its arguments), but an assign
 * command only as KEY=VALUE; all: a first argument "--all" makes it the
 * node's (the master's) to run over the fleet; target: resolved before
 * its handler runs; relay: where the master sends it; data_arg: the
 * argument (1-based) that says how many raw bytes follow the line.
 */
struct admin_cmd {
	const char		*name;
	const char		*usage;
	int			 min_args;
	int			 max_args;
	bool			 rest;
	bool			 json;
	bool			 changes;
	bool			 assign;
	bool			 all;
	int			 log_args;
	int			 data_arg;
	enum admin_target_kind	 target;
	enum admin_relay	 relay;
	const char		*help;
};

/*
 * Every command: help, wsserverctl, the parser and the man pages follow
 * it; the dispatcher resolves each one's target, the master relays it as
 * it says. Whatever names a ConnectionId goes to the worker that owns it.
 */
static const struct admin_cmd admin_cmds[] = {
	[ADMIN_CMD_HELP] = { .name = "help", .usage = "[COMMAND]",
	  .min_args = 0, .max_args = 1,
	  .help = "List the commands, or describe one" },
	[ADMIN_CMD_STATUS] = { .name = "status", .usage = "[json]",
	  .json = true,
	  .help = "Listening, address and port, connections, uptime, "
	  "version, pid" },
	[ADMIN_CMD_STATS] = { .name = "stats", .usage = "[json]", .json = true,
	  .help = "Counters since start: accepted, rejected, closed by code, "
	  "messages and bytes, backends" },
	[ADMIN_CMD_CONNECTIONS] = { .name = "connections",
	  .usage = "[--all] [json]", .min_args = 0, .max_args = 1,
	  .json = true, .all = true, .relay = ADMIN_RELAY_ROWS,
	  .help = "One row per connection (--all: of every node of the "
	  "fleet)" },
	[ADMIN_CMD_CONNECTION] = { .name = "connection", .usage = "ID [json]",
	  .min_args = 1, .max_args = 1, .json = true,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "One connection in full, request headers and TLS session "
	  "included" },
	[ADMIN_CMD_CERT] = { .name = "cert", .usage = "[json]", .json = true,
	  .help = "The server certificates served with (UseSSL on)" },
	[ADMIN_CMD_DISCONNECT] = { .name = "disconnect",
	  .usage = "ID [CODE [REASON]]", .min_args = 1, .max_args = 3,
	  .rest = true, .changes = true, .log_args = 3,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Close a WebSocket with CODE (default "
	  "DisconnectStatusCode)" },
	[ADMIN_CMD_PING] = { .name = "ping", .usage = "ID", .min_args = 1,
	  .max_args = 1,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Ping a client and print the round-trip time" },
	[ADMIN_CMD_SEND] = { .name = "send", .usage = "ID BASE64",
	  .min_args = 2, .max_args = 2, .changes = true, .log_args = 1,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Send a binary message (the data in base64)" },
	[ADMIN_CMD_SENDTEXT] = { .name = "sendtext", .usage = "ID TEXT",
	  .min_args = 2, .max_args = 2, .rest = true, .changes = true,
	  .log_args = 1,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Send a text message (the rest of the line)" },
	[ADMIN_CMD_SENDFILE] = { .name = "sendfile", .usage = "ID PATH",
	  .min_args = 2, .max_args = 2, .rest = true, .changes = true,
	  .log_args = 2,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Send a file as one binary message, in MaxFrameSize "
	  "fragments" },
	[ADMIN_CMD_INTERRUPT] = { .name = "interrupt", .usage = "ID",
	  .min_args = 1, .max_args = 1, .changes = true, .log_args = 1,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Stop a sendfile in progress" },
	[ADMIN_CMD_BROADCAST] = { .name = "broadcast",
	  .usage = "[ROUTE|*] TEXT",
	  .min_args = 1, .max_args = 2, .rest = true, .changes = true,
	  .log_args = 0,
	  .target = ADMIN_TARGET_ROUTE, .relay = ADMIN_RELAY_SUM,
	  .help = "Send a text message to every open WebSocket (of ROUTE)" },
	[ADMIN_CMD_LINEMODE] = { .name = "linemode", .usage = "ID on|off",
	  .min_args = 2, .max_args = 2, .changes = true, .log_args = 2,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Set a connection's LineMode flag" },
	[ADMIN_CMD_TIMEOUT] = { .name = "timeout", .usage = "ID SECONDS",
	  .min_args = 2, .max_args = 2, .changes = true, .log_args = 2,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Set a connection's send timeout (Timeout; 0 = none)" },
	[ADMIN_CMD_PAUSE] = { .name = "pause", .usage = "ID", .min_args = 1,
	  .max_args = 1, .changes = true, .log_args = 1,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Stop reading from a client (AcceptData off)" },
	[ADMIN_CMD_RESUME] = { .name = "resume", .usage = "ID", .min_args = 1,
	  .max_args = 1, .changes = true, .log_args = 1,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Read from a client again (AcceptData on)" },
	/*
	 * Every worker applies a change, then the master's copy follows; a
	 * connection's settings are its worker's.
	 */
	[ADMIN_CMD_CONFIG] = { .name = "config", .usage = "[ID] [KEY[=VALUE]]",
	  .min_args = 0, .max_args = 1, .rest = true, .changes = true,
	  .assign = true, .log_args = 1, .target = ADMIN_TARGET_CONN_OPT,
	  .relay = ADMIN_RELAY_FIRST,
	  .help = "Show every setting, show one, or change one; with ID, "
	  "those of a connection" },
	[ADMIN_CMD_START] = { .name = "start", .usage = "", .changes = true,
	  .relay = ADMIN_RELAY_FIRST,
	  .help = "Start listening (StartListening)" },
	[ADMIN_CMD_STOP] = { .name = "stop", .usage = "", .changes = true,
	  .relay = ADMIN_RELAY_SUM,
	  .help = "Stop listening; connections stay (StopListening)" },
	[ADMIN_CMD_DRAIN] = { .name = "drain", .usage = "[SECONDS]",
	  .min_args = 0, .max_args = 1, .changes = true, .log_args = 1,
	  .relay = ADMIN_RELAY_SUM,
	  .help = "Stop listening, give connections SECONDS (default "
	  "ShutdownTimeout) to leave, then close the rest with 1001; the "
	  "daemon keeps running (start listens again)" },
	/* The master reopens its own and signals the workers (SIGUSR1). */
	[ADMIN_CMD_REOPEN] = { .name = "reopen", .usage = "", .changes = true,
	  .help = "Reopen LogFile (after logrotate moved it), as SIGUSR1 "
	  "does" },
	[ADMIN_CMD_RELOAD] = { .name = "reload", .usage = "", .changes = true,
	  .help = "Re-read the configuration file; swap it only if it is "
	  "valid" },
	[ADMIN_CMD_SHUTDOWN] = { .name = "shutdown", .usage = "",
	  .changes = true,
	  .help = "Stop listening, close every WebSocket with 1001, exit" },
	[ADMIN_CMD_WATCH] = { .name = "watch", .usage = "",
	  .relay = ADMIN_RELAY_STREAM,
	  .help = "Stream events and log lines until the client leaves" },
	[ADMIN_CMD_SENDBYTES] = { .name = "sendbytes", .usage = "ID LEN [text]",
	  .min_args = 2, .max_args = 3, .changes = true, .log_args = 3,
	  .data_arg = 2,
	  .target = ADMIN_TARGET_CONN, .relay = ADMIN_RELAY_OWNER,
	  .help = "Send the LEN bytes that follow the line as a binary (or "
	  "text) message, or as the next part of MessageLength" },
	/* The node's hub (the master) publishes: to its workers, the fleet. */
	[ADMIN_CMD_PUBLISH] = { .name = "publish", .usage = "TOPIC TEXT",
	  .min_args = 2, .max_args = 2, .rest = true, .changes = true,
	  .log_args = 1,
	  .help = "Publish a text message on a topic: every WebSocket "
	  "subscribed to it gets it, on every node of the fleet" },
	[ADMIN_CMD_PUBLISHBIN] = { .name = "publishbin",
	  .usage = "TOPIC BASE64", .min_args = 2, .max_args = 2,
	  .changes = true, .log_args = 1,
	  .help = "Publish a binary message (the data in base64) on a topic" },
	[ADMIN_CMD_TOPICS] = { .name = "topics", .usage = "[json]",
	  .json = true, .relay = ADMIN_RELAY_ROWS,
	  .help = "The topics this node's WebSockets are subscribed to, with "
	  "their numbers of subscribers" },
};

#define ADMIN_NCMDS	(sizeof(admin_cmds) / sizeof(admin_cmds[0]))

_Static_assert(ADMIN_NCMDS == ADMIN_CMD_COUNT,
    "one admin_cmds[] entry per enum admin_cmd_id");

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

/* How many of a command's arguments its log line shows. */
int
admin_cmd_log_args(size_t i)
{
	return i < ADMIN_NCMDS ? admin_cmds[i].log_args : 0;
}

/* What a command acts on. */
enum admin_target_kind
admin_cmd_target(size_t i)
{
	return i < ADMIN_NCMDS ? admin_cmds[i].target : ADMIN_TARGET_NONE;
}

/* Where the master sends a command. */
enum admin_relay
admin_cmd_relay(size_t i)
{
	return i < ADMIN_NCMDS ? admin_cmds[i].relay : ADMIN_RELAY_SELF;
}

/* The argument that says how many bytes follow the line, or 0. */
int
admin_cmd_data_arg(size_t i)
{
	return i < ADMIN_NCMDS ? admin_cmds[i].data_arg : 0;
}

/* The length of the ConnectionId s starts with (digits, then a blank or the end), or 0. */
size_t
admin_connid_len(const char *s)
{
	size_t	n = strspn(s, "0123456789"), m;
	const char *colon;

	/* NodeName:N, another node's (or this node's) in a fleet. */
	if ((n == 0 || s[n] == ':') && (colon = strchr(s, ':')) != NULL &&
	    fleet_node_valid(s, (size_t)(colon - s)) &&
	    (m = strspn(colon + 1, "0123456789")) > 0)
		n = (size_t)(colon - s) + 1 + m;
	return n > 0 && (s[n] == '\0' || s[n] == ' ' || s[n] == '\t') ? n : 0;
}

/* Whether this request changes state: "config KEY" (no value) only reads. */
bool
admin_req_changes(const struct admin_req *r)
{
	const struct admin_cmd	*k;

	if (r->cmd < 0 || (size_t)r->cmd >= ADMIN_NCMDS)
		return false;
	k = &admin_cmds[r->cmd];
	if (!k->changes)
		return false;
	return !k->assign || (r->argc > 0 && strchr(r->tail[0], '=') != NULL);
}

/* Where the master sends this request: reading a setting is its own. */
enum admin_relay
admin_req_relay(const struct admin_req *r)
{
	if (r->cmd < 0 || (size_t)r->cmd >= ADMIN_NCMDS)
		return ADMIN_RELAY_SELF;
	if (admin_cmds[r->cmd].target == ADMIN_TARGET_CONN_OPT &&
	    r->argc > 0 && admin_connid_len(r->argv[0]) > 0)
		return ADMIN_RELAY_OWNER;
	if (admin_cmds[r->cmd].assign && !admin_req_changes(r))
		return ADMIN_RELAY_SELF;
	if (admin_cmds[r->cmd].all && r->argc > 0 &&
	    strcmp(r->argv[0], "--all") == 0)
		return ADMIN_RELAY_SELF;
	return admin_cmds[r->cmd].relay;
}

/* Finds a command by name or unambiguous prefix; see cmd.h. */
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

/* The commands that begin with name[0..len), after a head (malloc'd). */
static char *
admin_choices(const char *head, const char *name, size_t len)
{
	char	*s, *t;
	size_t	 i;
	bool	 first = true;

	s = xstrdup(head);
	for (i = 0; i < ADMIN_NCMDS; i++) {
		if (len > 0 && strncasecmp(admin_cmds[i].name, name, len) != 0)
			continue;
		xasprintf(&t, "%s%s%s", s, first ? "" : ", ",
		    admin_cmds[i].name);
		free(s);
		s = t;
		first = false;
	}
	return s;
}

/* Splits a command line into the command and its arguments; see cmd.h. */
int
admin_parse(const char *line, size_t len, struct admin_req *r, char **cause)
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
		xasprintf(cause, "line too long (at most %d bytes)",
		    ADMIN_LINE_MAX);
		return WSD_ERR_LINE;
	}
	if (memchr(line, '\0', len) != NULL || memchr(line, '\n', len) !=
	    NULL || memchr(line, '\r', len) != NULL) {
		*cause = xstrdup("NUL, CR or LF inside the command line");
		return WSD_ERR_USAGE;
	}
	memcpy(r->buf, line, len);
	r->buf[len] = '\0';
	memcpy(r->orig, line, len);
	r->orig[len] = '\0';

	p = r->buf + strspn(r->buf, " \t");
	wlen = strcspn(p, " \t");
	if (wlen == 0) {
		*cause = admin_choices("empty command line; commands: ", "",
		    0);
		return WSD_ERR_UNKNOWN;
	}
	if ((idx = admin_cmd_lookup(p, wlen)) < 0) {
		snprintf(head, sizeof(head), "%s command \"%.*s\"; %s",
		    idx == -2 ? "ambiguous" : "unknown", (int)(wlen > 32 ? 32 :
		    wlen), p, idx == -2 ? "it could be: " : "commands: ");
		*cause = admin_choices(head, p, idx == -2 ? wlen : 0);
		return idx == -2 ? WSD_ERR_AMBIGUOUS : WSD_ERR_UNKNOWN;
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
		xasprintf(cause, "usage: %s%s%s", k->name,
		    *k->usage != '\0' ? " " : "", k->usage);
		return WSD_ERR_USAGE;
	}
	return 0;
}

/* ---------------------------------------------------------------- encodings */

/* Writes a JSON string that always parses, whatever the bytes; see cmd.h. */
void
admin_json_string(struct evbuffer *b, const char *str, size_t len)
{
	const unsigned char	*s = (const unsigned char *)str;
	size_t			 i, n, run;
	unsigned int		 cp;

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
			/*
			 * UTF-8 as is, but what log_printable refuses (C1,
			 * separators, bidi controls: all in the BMP) as
			 * \uXXXX, and a byte that is not UTF-8 as \u00XX.
			 */
			n = s[i] >= 0x80 ? log_utf8_char(str + i, len - i,
			    &cp) : 0;
			if (n > 0 && log_printable(cp))
				evbuffer_add(b, s + i, n);
			else if (n > 0)
				evbuffer_add_printf(b, "\\u%04x", cp);
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
 * Decodes the base64 of "send"; see cmd.h. OpenSSL does the decoding;
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
