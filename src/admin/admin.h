/* admin.h - the admin socket: one command per line over a UNIX socket (wsserverctl's peer). */
#ifndef ADMIN_H
#define ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"

struct server;
struct evbuffer;

/* Longest command line, its LF included; a longer one is ERR 400 and close. */
#define ADMIN_LINE_MAX		4096
/* Most arguments a command takes (after the name, "json" not counted). */
#define ADMIN_MAX_ARGS		4

/*
 * Opens the admin socket of the server's configuration ([admin] Socket,
 * SocketMode, SocketGroup) on the server's event base; an empty Socket
 * leaves it off. A stale socket file (nobody accepts on it) is replaced;
 * a live one means another daemon runs, and that is an error. Returns 0,
 * or -1 with cause filled in.
 */
int	admin_start(struct server *, char *cause, size_t causelen);
/* Closes every admin client and the socket, and removes the socket file. */
void	admin_stop(void);
/* A new worker: drops the master's socket and clients, serves channels. */
void	admin_worker_start(struct server *);
/* A worker: serves fd, a channel from the master, as a trusted client. */
void	admin_adopt(int fd);
/* Master: worker i was restarted; watchers get its events again. */
void	admin_worker_up(int i);

/*
 * The command table, for wsserverctl and the tests: how many commands; a
 * command's name, argument synopsis, one-line help, whether it takes a
 * trailing "json" and whether it changes state. Out of range: NULL/false.
 */
size_t		 admin_cmd_count(void);
const char	*admin_cmd_name(size_t);
const char	*admin_cmd_usage(size_t);
const char	*admin_cmd_help(size_t);
bool		 admin_cmd_json(size_t);
bool		 admin_cmd_changes(size_t);

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
 * or WSD_ERR_LINE, WSD_ERR_UNKNOWN, WSD_ERR_AMBIGUOUS (err lists the
 * choices) or WSD_ERR_USAGE with err set.
 */
int	admin_parse(const char *line, size_t len, struct admin_req *req,
	    char *err, size_t errlen);

/*
 * Appends s[0..len) to b as a quoted JSON string: quotes, backslashes and
 * control characters escaped, valid UTF-8 kept, every byte of an invalid
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
