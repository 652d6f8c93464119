/*
 * cmd.h - the admin command table and the line parser (cmd.c).
 *
 * The table holds every command: its name, arguments, help, what it acts
 * on (its target) and, with workers, where the master sends it. The
 * parser turns one line into a request. Nothing here touches a socket or
 * the daemon: wsserverctl, fuzz_admin and the unit tests link this part
 * alone (libwsadmincmd.a); the admin socket (admin.c) runs what it parses.
 */
#ifndef ADMIN_CMD_H
#define ADMIN_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

struct evbuffer;

/* Longest command line, its LF included; a longer one is ERR 400 and close. */
#define ADMIN_LINE_MAX		4096
/* Most arguments a command takes (after the name, "json" not counted). */
#define ADMIN_MAX_ARGS		4

/* Every command, in the table's order (help and the man pages follow it). */
enum admin_cmd_id {
	ADMIN_CMD_HELP,
	ADMIN_CMD_STATUS,
	ADMIN_CMD_STATS,
	ADMIN_CMD_CONNECTIONS,
	ADMIN_CMD_CONNECTION,
	ADMIN_CMD_CERT,
	ADMIN_CMD_DISCONNECT,
	ADMIN_CMD_PING,
	ADMIN_CMD_SEND,
	ADMIN_CMD_SENDTEXT,
	ADMIN_CMD_SENDFILE,
	ADMIN_CMD_INTERRUPT,
	ADMIN_CMD_BROADCAST,
	ADMIN_CMD_LINEMODE,
	ADMIN_CMD_TIMEOUT,
	ADMIN_CMD_PAUSE,
	ADMIN_CMD_RESUME,
	ADMIN_CMD_CONFIG,
	ADMIN_CMD_START,
	ADMIN_CMD_STOP,
	ADMIN_CMD_DRAIN,
	ADMIN_CMD_REOPEN,
	ADMIN_CMD_RELOAD,
	ADMIN_CMD_SHUTDOWN,
	ADMIN_CMD_WATCH,
	ADMIN_CMD_SENDBYTES,
	ADMIN_CMD_PUBLISH,
	ADMIN_CMD_PUBLISHBIN,
	ADMIN_CMD_TOPICS,
	ADMIN_CMD_COUNT
};

/* What a command acts on: the admin socket resolves it before the handler. */
enum admin_target_kind {
	ADMIN_TARGET_NONE,	/* the server */
	ADMIN_TARGET_CONN,	/* the ConnectionId in argument 0 (else 126) */
	ADMIN_TARGET_ROUTE,	/* argument 0 if it names a route, else "*" */
	ADMIN_TARGET_CONN_OPT,	/* the ConnectionId argument 0 starts with
				   (digits, then a blank or its end; else
				   126), or none */
};

/* With workers: where the master sends a command, and how replies merge. */
enum admin_relay {
	ADMIN_RELAY_SELF,	/* nowhere: the master answers itself */
	ADMIN_RELAY_OWNER,	/* the worker that owns the ConnectionId */
	ADMIN_RELAY_FIRST,	/* every worker; the first OK answers */
	ADMIN_RELAY_SUM,	/* every worker; the first OK, its first
				   number the sum over the OKs */
	ADMIN_RELAY_ROWS,	/* every worker; one count, one header, every
				   worker's rows (a JSON array: the elements) */
	ADMIN_RELAY_STREAM,	/* every worker; their events follow ours */
};

/*
 * The command table: how many commands; a command's name, argument
 * synopsis, one-line help, whether it takes a trailing "json", whether it
 * changes state (such a request is logged with the peer's uid, and needs
 * AdminAllowedUsers), how many arguments that log line shows, its target
 * and its relay. Out of range: NULL, false, 0, ADMIN_TARGET_NONE,
 * ADMIN_RELAY_SELF.
 */
size_t			 admin_cmd_count(void);
const char		*admin_cmd_name(size_t);
const char		*admin_cmd_usage(size_t);
const char		*admin_cmd_help(size_t);
bool			 admin_cmd_json(size_t);
bool			 admin_cmd_changes(size_t);
int			 admin_cmd_log_args(size_t);
enum admin_target_kind	 admin_cmd_target(size_t);
enum admin_relay	 admin_cmd_relay(size_t);
/*
 * A command followed by raw data (sendbytes): the position (1-based) of
 * the argument that says how many bytes follow the line; 0 for the others.
 */
int			 admin_cmd_data_arg(size_t);
/*
 * The length of the ConnectionId an argument starts with (decimal digits,
 * or NodeName:digits in a fleet, followed by a blank or its end), or 0
 * when it does not start with one.
 */
size_t			 admin_connid_len(const char *);
/* Largest data a command may announce (the largest MaxMessageSize). */
#define ADMIN_DATA_MAX		((uint64_t)1 << 40)

/*
 * Finds a command by name or unambiguous prefix (any case; an exact name
 * wins over longer names it begins). Returns its index, -1 when nothing
 * matches, -2 when several do.
 */
int		 admin_cmd_lookup(const char *name, size_t len);

/* A parsed command line. argv and tail point into the request itself. */
struct admin_req {
	int		 cmd;			/* index in the table */
	int		 argc;
	char		*argv[ADMIN_MAX_ARGS];
	const char	*tail[ADMIN_MAX_ARGS];	/* argument i to the line end, as sent */
	bool		 json;			/* a trailing "json" was given */
	char		 buf[ADMIN_LINE_MAX + 1];
	char		 orig[ADMIN_LINE_MAX + 1];
};

/*
 * Parses one command line (its LF and a CR before it are ignored).
 * Arguments are separated by spaces or tabs; a command's last text
 * argument (sendtext, broadcast, disconnect's reason, config) is the rest
 * of the line after one separator, spaces kept. Returns 0 with req filled,
 * or WSD_ERR_LINE, WSD_ERR_UNKNOWN, WSD_ERR_AMBIGUOUS (*cause lists the
 * choices) or WSD_ERR_USAGE with *cause (malloc'd) set.
 */
int	admin_parse(const char *line, size_t len, struct admin_req *req,
	    char **cause);

/*
 * Whether a parsed request changes state: its command's, except that
 * "config KEY" (no "=VALUE") only reads.
 */
bool			 admin_req_changes(const struct admin_req *);
/* Where the master sends a parsed request: its command's relay, except
 * that a request that only reads a setting, and connections --all, are
 * the master's own, and one that names a ConnectionId
 * (ADMIN_TARGET_CONN_OPT) goes to its owner. */
enum admin_relay	 admin_req_relay(const struct admin_req *);

/*
 * Appends s[0..len) to b as a quoted JSON string: quotes, backslashes and
 * control characters escaped, valid UTF-8 kept but what log_printable
 * refuses (C1, separators, bidi controls) as \uXXXX, every byte of an invalid
 * sequence written as \u00XX (its Latin-1 reading), so the output always
 * parses.
 */
void	admin_json_string(struct evbuffer *b, const char *s, size_t len);

/*
 * Decodes standard base64 (padding optional, no whitespace) into out.
 * Returns the length, or -1 when in is not base64 or out is too small.
 */
ssize_t	admin_base64_decode(const char *in, size_t len, uint8_t *out,
	    size_t outlen);

#endif
