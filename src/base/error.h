/*
 * error.h - the daemon's one error convention and its error codes.
 *
 * Convention (tmux's): a fallible function returns -1 (or NULL, or the
 * status it refuses with) and, when its caller passed a non-NULL "char
 * **cause", sets *cause to a malloc'd sentence saying why (xasprintf,
 * xstrdup); the caller frees it. Nothing below the level that decides
 * what to do logs the failure: the function returns the cause, the
 * decider logs it once (or answers it, or both). Functions that find many
 * problems at once (a configuration file) put every one in the same
 * *cause, one per line. Where a cause reaches a client (a refused
 * upgrade's body, a backend that cannot start), it is a short text fit
 * for the client and the detail (errno, paths) is logged where it is
 * known. The protocol core (src/core) has no allocator of ours: its pure
 * functions return static reasons through "const char **".
 *
 * Codes: where a failure has a number of its own (an admin reply's ERR
 * code, the reference's error codes), it is one of these. The reference's
 * codes keep its numbers; ours are HTTP-like, 400 and up.
 */
#ifndef ERROR_H
#define ERROR_H

enum wsd_error {
	WSD_OK			= 0,
	/* The reference's error codes. */
	WSD_ERR_LISTENING	= 104,	/* already listening */
	WSD_ERR_FIXED_PORT	= 106,	/* LocalPort cannot change while listening */
	WSD_ERR_FIXED_HOST	= 107,	/* LocalHost: the same */
	WSD_ERR_FIXED_MAXCONN	= 108,	/* MaxConnections: the same */
	WSD_ERR_CONNID		= 126,	/* invalid ConnectionId */
	WSD_ERR_SEND		= 4202,	/* error sending data */
	/* Ours. */
	WSD_ERR_LINE		= 400,	/* admin line too long (then the socket closes) */
	WSD_ERR_UNKNOWN		= 401,	/* unknown command */
	WSD_ERR_AMBIGUOUS	= 402,	/* ambiguous command prefix */
	WSD_ERR_USAGE		= 403,	/* wrong arguments */
	WSD_ERR_NOKEY		= 404,	/* unknown configuration key */
	WSD_ERR_VALUE		= 405,	/* invalid value */
	WSD_ERR_FILE		= 406,	/* sendfile: cannot open or read the file */
	WSD_ERR_DENIED		= 407,	/* not in AdminAllowedUsers */
	WSD_ERR_TIMEOUT		= 408,	/* ping: no pong in time */
	WSD_ERR_BUSY		= 409,	/* a message is already being sent */
	WSD_ERR_INTERRUPTED	= 410,	/* sendfile stopped by interrupt */
	WSD_ERR_NOFILE		= 411,	/* interrupt: no sendfile running */
	WSD_ERR_NOTLS		= 412,	/* cert: UseSSL is off */
	WSD_ERR_RELOAD		= 422,	/* reload: the file has errors */
	WSD_ERR_FIXED		= 423,	/* key fixed at run time or while listening */
	WSD_ERR_LISTEN		= 500,	/* start: cannot listen */
	WSD_ERR_UNAVAILABLE	= 503,	/* shutting down, or too many admin clients */
};

#endif
