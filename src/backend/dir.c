/* dir.c - dir: routes: the program of a directory that the request's path names. */
#include <sys/types.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/dir.h"
#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "core/ws-handshake.h"
#include "event/conn.h"

/* A dir: route's choice for one request (the connection keeps it). */
struct dir_choice {
	char	*prog;			/* absolute, real path */
	char	*script;		/* its SCRIPT_NAME */
	char	*info;			/* PATH_INFO */
};

/* Frees a dir: route's choice. */
static void
dir_free(void *arg)
{
	struct dir_choice	*d = arg;

	free(d->prog);
	free(d->script);
	free(d->info);
	free(d);
}

/*
 * dir: routes: the first path segment after the route's prefix names a
 * program of the directory; the rest is PATH_INFO. Hidden names (which
 * covers ".." too), symlinks that resolve outside the directory and
 * anything but an executable regular file are refused (404), a
 * set-user-ID or set-group-ID program too (403). Other routes: nothing to
 * choose.
 */
int
dir_admit(struct conn *conn, const struct route *r, char **cause)
{
	struct dir_choice	*d;
	const char		*rest, *slash;
	char			*cand, *real;
	size_t			 n, dlen, plen;
	struct stat		 sb;

	if (r->kind != BACKEND_DIR || conn_backend_state(conn) != NULL)
		return 0;
	plen = strlen(r->path) - 1;		/* without the "*" */
	if (plen > 0 && r->path[plen - 1] == '/')
		plen--;
	rest = conn_request(conn)->path + plen;
	while (*rest == '/')
		rest++;
	slash = strchr(rest, '/');
	n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
	if (n == 0 || n > 255 || rest[0] == '.' || memchr(rest, '\\', n)) {
		*cause = xstrdup("no such program");
		return 404;
	}
	xasprintf(&cand, "%s/%.*s", r->dir, (int)n, rest);
	real = realpath(cand, NULL);
	free(cand);
	dlen = strlen(r->dir);
	if (real == NULL || strncmp(real, r->dir, dlen) != 0 ||
	    (real[dlen] != '/' && dlen > 1) || stat(real, &sb) == -1 ||
	    !S_ISREG(sb.st_mode) || access(real, X_OK) == -1) {
		free(real);
		*cause = xstrdup("no such program");
		return 404;
	}
	/* As suEXEC does: a client may not start a privileged program. */
	if ((sb.st_mode & (S_ISUID | S_ISGID)) != 0) {
		log_warn("%s refusing to run %s: a set-user-ID or set-group-ID "
		    "program (mode %04o)", conn_id(conn), real,
		    (unsigned int)(sb.st_mode & 07777));
		free(real);
		*cause = xstrdup("program not allowed");
		return 403;
	}
	d = xcalloc(1, sizeof(*d));
	d->prog = real;
	xasprintf(&d->script, "%.*s/%.*s", (int)plen, r->path, (int)n, rest);
	d->info = xstrdup(rest + n);
	conn_set_backend_state(conn, d, dir_free);
	return 0;
}

/* The program a dir: route chose for conn; see dir.h. */
const char *
dir_program(const struct conn *conn, const char **script_name,
    const char **path_info)
{
	const struct route	*r = conn_route(conn);
	const struct dir_choice	*d;

	d = r != NULL && r->kind == BACKEND_DIR ? conn_backend_state(conn) :
	    NULL;
	if (script_name != NULL)
		*script_name = d != NULL ? d->script : NULL;
	if (path_info != NULL)
		*path_info = d != NULL ? d->info : NULL;
	return d != NULL ? d->prog : NULL;
}
