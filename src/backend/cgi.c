/* cgi.c - the CGI/1.1 variables of a WebSocket request, for scripts and unix: backends. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "backend/dir.h"
#include "event/backend.h"
#include "event/runtime.h"
#include "event/spawn.h"
#include "backend/cgi.h"
#include "conf/config.h"
#include "event/conn.h"
#include "base/log.h"
#include "conf/tls.h"
#include "base/util.h"
#include "core/ws-handshake.h"

#ifdef PACKAGE_VERSION
#define CGI_SOFTWARE		"wsserverd/" PACKAGE_VERSION
#else
#define CGI_SOFTWARE		"wsserverd/0.1.0"
#endif
/* Request headers copied into the environment, in bytes. */
#define CGI_HEADER_ENV_MAX	(64 * 1024)
#define CGI_DEFAULT_PATH	"/usr/local/bin:/usr/bin:/bin"

/* A growing "NAME=value\0" block with offsets, turned into envp at the end. */
struct cgi_env {
	char		*buf;
	size_t		 len;
	size_t		 cap;
	size_t		*off;
	size_t		 n;
	size_t		 ncap;
	size_t		 start;		/* offset of the entry being written */
};

/* Appends bytes to the environment block being built. */
static void
cgi_env_put(struct cgi_env *e, const void *data, size_t len)
{
	size_t	cap;

	if (e->cap - e->len < len) {
		cap = e->cap == 0 ? 4096 : e->cap;
		while (cap - e->len < len)
			cap *= 2;
		e->buf = xrealloc(e->buf, cap);
		e->cap = cap;
	}
	memcpy(e->buf + e->len, data, len);
	e->len += len;
}

/* Starts a new NAME=value entry. */
static void
cgi_env_begin(struct cgi_env *e)
{
	e->start = e->len;
}

/* Ends the entry started by cgi_env_begin. */
static void
cgi_env_end(struct cgi_env *e)
{
	cgi_env_put(e, "", 1);
	if (e->n == e->ncap) {
		e->ncap = e->ncap == 0 ? 64 : e->ncap * 2;
		e->off = xrealloc(e->off, e->ncap * sizeof(*e->off));
	}
	e->off[e->n++] = e->start;
}

/* Adds name=value. */
static void
cgi_env_add(struct cgi_env *e, const char *name, const char *value)
{
	cgi_env_begin(e);
	cgi_env_put(e, name, strlen(name));
	cgi_env_put(e, "=", 1);
	cgi_env_put(e, value, strlen(value));
	cgi_env_end(e);
}

/* tls_env callback: one mod_ssl-style SSL_* variable. */
static void
cgi_env_tls(void *arg, const char *name, const char *value)
{
	cgi_env_add(arg, name, value);
}

/* Returns true when name is already set. */
static bool
cgi_env_has(const struct cgi_env *e, const char *name)
{
	size_t	i, len = strlen(name);

	for (i = 0; i < e->n; i++) {
		if (strncmp(e->buf + e->off[i], name, len) == 0 &&
		    e->buf[e->off[i] + len] == '=')
			return true;
	}
	return false;
}

/* Returns true for header names that map cleanly onto HTTP_* variables. */
static bool
cgi_header_name_ok(const char *name)
{
	const char	*p;

	if (*name == '\0')
		return false;
	for (p = name; *p != '\0'; p++) {
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	}
	return true;
}

/*
 * Whether a request header stays out of the environment: Proxy
 * (HTTP_PROXY would steer the handler's HTTP clients: httpoxy),
 * Proxy-Authorization (the proxy's credentials) always, Authorization
 * unless the route passes it (PassAuthorization, Apache's CGIPassAuth).
 */
static bool
cgi_header_withheld(const char *name, const struct route *route)
{
	return strcasecmp(name, "Proxy") == 0 ||
	    strcasecmp(name, "Proxy-Authorization") == 0 ||
	    (!route->pass_auth && strcasecmp(name, "Authorization") == 0);
}

/*
 * Adds one HTTP_<NAME> per distinct request header, repeated headers joined
 * with ", ". Names with other characters than [A-Za-z0-9-] are skipped (so
 * "X_Foo" cannot pose as "X-Foo"), and so are the withheld ones
 * (cgi_header_withheld). Returns how many headers were left out because
 * the block would pass CGI_HEADER_ENV_MAX.
 */
static size_t
cgi_env_headers(struct cgi_env *e, const struct ws_request *req,
    const struct route *route)
{
	const struct ws_header	*h, *o;
	size_t			 i, j, need, used = 0, dropped = 0;
	const char		*p;
	char			 c;
	bool			 seen;

	for (i = 0; i < req->nheaders; i++) {
		h = &req->headers[i];
		if (!cgi_header_name_ok(h->name) ||
		    cgi_header_withheld(h->name, route))
			continue;
		seen = false;
		for (j = 0; j < i && !seen; j++)
			seen = strcasecmp(req->headers[j].name, h->name) == 0;
		if (seen)
			continue;
		need = 5 + strlen(h->name) + 1 + strlen(h->value) + 1;
		for (j = i + 1; j < req->nheaders; j++) {
			o = &req->headers[j];
			if (strcasecmp(o->name, h->name) == 0)
				need += 2 + strlen(o->value);
		}
		if (used + need > CGI_HEADER_ENV_MAX) {
			dropped++;
			continue;
		}
		used += need;
		cgi_env_begin(e);
		cgi_env_put(e, "HTTP_", 5);
		for (p = h->name; *p != '\0'; p++) {
			c = *p;
			if (c >= 'a' && c <= 'z')
				c = (char)(c - 'a' + 'A');
			else if (c == '-')
				c = '_';
			cgi_env_put(e, &c, 1);
		}
		cgi_env_put(e, "=", 1);
		cgi_env_put(e, h->value, strlen(h->value));
		for (j = i + 1; j < req->nheaders; j++) {
			o = &req->headers[j];
			if (strcasecmp(o->name, h->name) != 0)
				continue;
			cgi_env_put(e, ", ", 2);
			cgi_env_put(e, o->value, strlen(o->value));
		}
		cgi_env_end(e);
	}
	return dropped;
}

/*
 * SCRIPT_NAME and PATH_INFO. An exact route is all SCRIPT_NAME. A prefix
 * route is SCRIPT_NAME without its "*" and a trailing "/" (Path "/app/"
 * plus "*" gives "/app"), and the rest of the request path is PATH_INFO
 * ("/x/y" for "/app/x/y").
 */
static void
cgi_env_script_name(struct cgi_env *e, struct conn *conn,
    const struct route *route, const struct ws_request *req)
{
	const char	*path = route->path != NULL ? route->path : "";
	const char	*script, *info;
	size_t		 n = strlen(path);

	/* dir: the program's own name is part of SCRIPT_NAME. */
	if (dir_program(conn, &script, &info) != NULL) {
		cgi_env_add(e, "SCRIPT_NAME", script);
		cgi_env_add(e, "PATH_INFO", info);
		return;
	}

	if (!route->prefix || req == NULL || req->path == NULL) {
		cgi_env_add(e, "SCRIPT_NAME", path);
		cgi_env_add(e, "PATH_INFO", "");
		return;
	}
	n--;				/* the "*" */
	if (n > 0 && path[n - 1] == '/')
		n--;
	cgi_env_begin(e);
	cgi_env_put(e, "SCRIPT_NAME=", 12);
	cgi_env_put(e, path, n);
	cgi_env_end(e);
	/* config_route_for matched the prefix: req->path is at least n long. */
	cgi_env_add(e, "PATH_INFO", req->path + n);
}

/* Builds the request's CGI environment; see cgi.h. */
char **
cgi_env_build(struct conn *conn, const struct route *route, bool process)
{
	struct cgi_env	 e;
	const struct ws_request	*req = conn_request(conn);
	const char		*v, *proto, *end;
	char			 num[16], **envp, **pp;
	size_t			 i, dropped, ptrs;

	memset(&e, 0, sizeof(e));
	cgi_env_add(&e, "GATEWAY_INTERFACE", "CGI/1.1");
	cgi_env_add(&e, "SERVER_SOFTWARE", CGI_SOFTWARE);
	v = conn_local_addr(conn);
	if (req != NULL && req->host != NULL && req->host[0] != '\0') {
		/* Host without its port; an IPv6 literal keeps its brackets. */
		v = req->host;
		if (v[0] == '[' && (end = strchr(v, ']')) != NULL)
			end++;
		else if ((end = strchr(v, ':')) == NULL)
			end = v + strlen(v);
		cgi_env_begin(&e);
		cgi_env_put(&e, "SERVER_NAME=", 12);
		cgi_env_put(&e, v, (size_t)(end - v));
		cgi_env_end(&e);
	} else
		cgi_env_add(&e, "SERVER_NAME", v != NULL ? v : "");
	snprintf(num, sizeof(num), "%d", conn_local_port(conn));
	cgi_env_add(&e, "SERVER_PORT", num);
	if (req != NULL) {
		cgi_env_add(&e, "SERVER_PROTOCOL",
		    req->version != NULL ? req->version : "HTTP/1.1");
		cgi_env_add(&e, "REQUEST_METHOD",
		    req->method != NULL ? req->method : "GET");
		cgi_env_add(&e, "REQUEST_URI",
		    req->uri != NULL ? req->uri : "");
		cgi_env_add(&e, "QUERY_STRING",
		    req->query != NULL ? req->query : "");
	}
	cgi_env_script_name(&e, conn, route, req);
	v = conn_remote_addr(conn);
	cgi_env_add(&e, "REMOTE_ADDR", v != NULL ? v : "");
	cgi_env_add(&e, "REMOTE_HOST", v != NULL ? v : "");
	snprintf(num, sizeof(num), "%d", conn_remote_port(conn));
	cgi_env_add(&e, "REMOTE_PORT", num);
	if (conn_is_tls(conn)) {
		cgi_env_add(&e, "HTTPS", "on");
		tls_env(conn_ssl(conn), cgi_env_tls, &e);
	}
	if ((proto = conn_subprotocol(conn)) != NULL)
		cgi_env_add(&e, "WEBSOCKET_SUBPROTOCOL", proto);
	cgi_env_add(&e, "WSSERVERD_CONNECTION_ID", conn_id(conn));
	if (req != NULL && (dropped = cgi_env_headers(&e, req, route)) > 0)
		log_warn("%s %zu request header(s) left out of the handler "
		    "environment (over %d bytes)", conn_id(conn), dropped,
		    CGI_HEADER_ENV_MAX);
	for (i = 0; process && route->passenv != NULL &&
	    route->passenv[i] != NULL; i++) {
		if ((v = getenv(route->passenv[i])) != NULL &&
		    !cgi_env_has(&e, route->passenv[i]))
			cgi_env_add(&e, route->passenv[i], v);
	}
	if (process && !cgi_env_has(&e, "PATH"))
		cgi_env_add(&e, "PATH", CGI_DEFAULT_PATH);

	ptrs = (e.n + 1) * sizeof(char *);
	envp = xmalloc(ptrs + e.len);
	memcpy((char *)envp + ptrs, e.buf, e.len);
	pp = envp;
	for (i = 0; i < e.n; i++)
		*pp++ = (char *)envp + ptrs + e.off[i];
	*pp = NULL;
	free(e.buf);
	free(e.off);
	return envp;
}

/*
 * The mode of the file exec would run for argv0: argv0 itself when it has
 * a "/" (spawn.c runs a relative one from its own directory, the same
 * file), else the first executable regular file of that name in envp's
 * PATH, as execvp looks. Returns 0 with *st, or -1 when there is none
 * (exec then fails on its own).
 */
static int
cgi_program_stat(const char *argv0, char *const *envp, struct stat *st)
{
	const char	*path = CGI_DEFAULT_PATH, *p, *e;
	char		 cand[PATH_MAX];
	char *const	*ep;

	if (strchr(argv0, '/') != NULL)
		return stat(argv0, st);
	for (ep = envp; *ep != NULL; ep++) {
		if (strncmp(*ep, "PATH=", 5) == 0)
			path = *ep + 5;
	}
	for (p = path; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, ":");
		if (snprintf(cand, sizeof(cand), "%.*s/%s", e > p ?
		    (int)(e - p) : 1, e > p ? p : ".", argv0) >=
		    (int)sizeof(cand))
			continue;
		if (stat(cand, st) == 0 && S_ISREG(st->st_mode) &&
		    access(cand, X_OK) == 0)
			return 0;
	}
	return -1;
}

/*
 * MaxSpawnRate: a token bucket per process, refilled at the rate and
 * holding one second's worth, and the starts waiting for a token, in
 * order; one timer serves them as tokens come.
 */
static TAILQ_HEAD(, cgi_turn)	 cgi_turns = TAILQ_HEAD_INITIALIZER(cgi_turns);
static struct event		*cgi_turn_ev;
static double			 cgi_tokens = -1;
static unsigned long long	 cgi_tokens_at;
static int			 cgi_rate;
static unsigned long long	 cgi_waits_logged, cgi_waits_unlogged;

static void	cgi_turn_cb(evutil_socket_t, short, void *);

/* Refills the bucket; takes a token when one is there. */
static bool
cgi_token_take(void)
{
	unsigned long long	now = util_now_ms();

	if (cgi_tokens < 0 || now < cgi_tokens_at)
		cgi_tokens = cgi_rate;
	else
		cgi_tokens += (double)(now - cgi_tokens_at) * cgi_rate / 1000.0;
	if (cgi_tokens > cgi_rate)
		cgi_tokens = cgi_rate;
	cgi_tokens_at = now;
	if (cgi_tokens < 1)
		return false;
	cgi_tokens -= 1;
	return true;
}

/* Arms the timer for when the next token is due, while starts wait. */
static void
cgi_turn_arm(void)
{
	struct timeval	tv;
	double		ms;

	if (TAILQ_EMPTY(&cgi_turns))
		return;
	if (cgi_turn_ev == NULL &&
	    (cgi_turn_ev = evtimer_new(runtime_base(), cgi_turn_cb,
	    NULL)) == NULL)
		util_oom(event_get_struct_event_size());
	ms = cgi_rate > 0 ? (1 - cgi_tokens) * 1000.0 / cgi_rate : 0;
	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)((ms - (double)tv.tv_sec * 1000) * 1000);
	evtimer_add(cgi_turn_ev, &tv);
}

/* Tokens came: the starts that waited longest go, as many as there are. */
static void
cgi_turn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cgi_turn	*t;

	(void)fd;
	(void)what;
	(void)arg;
	while ((t = TAILQ_FIRST(&cgi_turns)) != NULL &&
	    (cgi_rate <= 0 || cgi_token_take())) {
		TAILQ_REMOVE(&cgi_turns, t, entry);
		t->queued = false;
		t->go(t);
	}
	cgi_turn_arm();
}

/* A start's turn under MaxSpawnRate; see cgi.h. */
int
cgi_spawn_turn(const struct config *cfg, struct cgi_turn *t,
    void (*go)(struct cgi_turn *))
{
	unsigned long long	now;

	cgi_rate = cfg->max_spawn_rate;
	t->go = go;
	t->queued = false;
	/* First come, first served: nobody overtakes a waiting start. */
	if (cgi_rate <= 0 || (TAILQ_EMPTY(&cgi_turns) && cgi_token_take()))
		return 1;
	TAILQ_INSERT_TAIL(&cgi_turns, t, entry);
	t->queued = true;
	runtime_stats()->backend_waits++;
	cgi_waits_unlogged++;
	now = util_now_ms();
	if (cgi_waits_logged == 0 || now - cgi_waits_logged >= 1000) {
		log_info("%llu process start(s) wait for their turn: "
		    "MaxSpawnRate (%d per second) reached", cgi_waits_unlogged,
		    cgi_rate);
		cgi_waits_logged = now;
		cgi_waits_unlogged = 0;
	}
	cgi_turn_arm();
	return 0;
}

/* The start no longer waits; see cgi.h. */
void
cgi_spawn_turn_cancel(struct cgi_turn *t)
{
	if (!t->queued)
		return;
	TAILQ_REMOVE(&cgi_turns, t, entry);
	t->queued = false;
}

/* Runs a program for a connection, CGI environment and all; see cgi.h. */
uint64_t
cgi_spawn(struct conn *conn, const struct route *route, char *const *argv,
    const struct spawn_ops *ops, void *arg, char **cause)
{
	struct spawn_cmd	 cmd;
	uint64_t		 job;
	struct stat		 st;

	/* The start refused this already; a late config change must too. */
	if (geteuid() == 0 && !conn_config(conn)->allow_root_handlers) {
		*cause = xstrdup("refusing to run a handler as root (set "
		    "User, or AllowRootHandlers)");
		log_error("%s %s", conn_id(conn), *cause);
		return 0;
	}
	memset(&cmd, 0, sizeof(cmd));
	cmd.id = conn_id(conn);
	cmd.what = "handler";
	cmd.argv = argv;
	cmd.envp = cgi_env_build(conn, route, true);
	cmd.workdir = route->workdir;
	/*
	 * A set-user-ID or set-group-ID program is refused, as suEXEC does
	 * (under PR_SET_NO_NEW_PRIVS the bits would do nothing anyway).
	 */
	if (cgi_program_stat(argv[0], cmd.envp, &st) == 0 &&
	    (st.st_mode & (S_ISUID | S_ISGID)) != 0) {
		log_error("%s refusing to run %s: a set-user-ID or set-group-ID "
		    "program (mode %04o)", conn_id(conn), argv[0],
		    (unsigned int)(st.st_mode & 07777));
		*cause = xstrdup("refusing to run a set-user-ID or "
		    "set-group-ID program");
		free(cmd.envp);
		return 0;
	}
	job = spawn_start(&cmd, ops, arg, cause);
	free(cmd.envp);
	return job;
}

/* Writes envp as an SCGI header; see cgi.h. */
void
cgi_scgi_header(char *const *envp, struct evbuffer *out)
{
	static const char	 lead[] = "CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0";
	char *const		*pp;
	const char		*eq;
	size_t			 len = sizeof(lead) - 1;

	for (pp = envp; *pp != NULL; pp++)
		len += strlen(*pp) + 1;
	evbuffer_add_printf(out, "%zu:", len);
	evbuffer_add(out, lead, sizeof(lead) - 1);
	for (pp = envp; *pp != NULL; pp++) {
		/* Every entry was built as NAME=value. */
		eq = strchr(*pp, '=');
		evbuffer_add(out, *pp, (size_t)(eq - *pp));
		evbuffer_add(out, "", 1);
		evbuffer_add(out, eq + 1, strlen(eq + 1) + 1);
	}
	evbuffer_add(out, ",", 1);
}

/* A running OpenRequestHook: its answer is complete once all three end. */
struct cgi_hook {
	char			 id[CONN_ID_MAX];	/* the connection's, for logs */
	struct conn		*conn;
	uint64_t		 job;		/* its spawn request */
	const struct route	*route;
	struct cgi_turn		 turn;		/* MaxSpawnRate */
	bool			 waiting;	/* for its turn: not started */
	pid_t			 pid;
	struct bufferevent	*out;		/* NULL: stdout at EOF */
	struct bufferevent	*err;		/* NULL: stderr at EOF */
	struct evbuffer		*answer;	/* stdout, bounded */
	bool			 reaped;
	bool			 too_long;	/* stdout passed the limit */
	int			 st;		/* wait status once reaped */
};

static void	cgi_hook_check(struct cgi_hook *);

/* Frees a hook's pipes and memory (the child is reaped or forgotten). */
static void
cgi_hook_free(struct cgi_hook *h)
{
	if (h->out != NULL)
		bufferevent_free(h->out);
	if (h->err != NULL)
		bufferevent_free(h->err);
	evbuffer_free(h->answer);
	free(h);
}

/* The hook's stdout: kept up to CONN_VERDICT_HEADERS_MAX bytes. */
static void
cgi_hook_out_cb(struct bufferevent *bev, void *arg)
{
	struct cgi_hook	*h = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);

	if (evbuffer_get_length(h->answer) + evbuffer_get_length(in) >
	    CONN_VERDICT_HEADERS_MAX)
		h->too_long = true;
	if (h->too_long)
		evbuffer_drain(in, evbuffer_get_length(in));
	else
		evbuffer_add_buffer(h->answer, in);
}

/* The hook's stderr: logged line by line, long lines cut. */
static void
cgi_hook_err_cb(struct bufferevent *bev, void *arg)
{
	struct cgi_hook	*h = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 n;

	while ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF)) != NULL) {
		log_info("%s OpenRequestHook: %.200s", h->id, line);
		free(line);
	}
	if (evbuffer_get_length(in) > 1024)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* End of file (or an error) on stdout or stderr. */
static void
cgi_hook_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cgi_hook	*h = arg;

	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (bev == h->out) {
		cgi_hook_out_cb(bev, h);
		bufferevent_free(h->out);
		h->out = NULL;
	} else {
		cgi_hook_err_cb(bev, h);
		bufferevent_free(h->err);
		h->err = NULL;
	}
	cgi_hook_check(h);
}

/* The hook's process was reaped. */
static void
cgi_hook_reaped(void *arg, int st)
{
	struct cgi_hook	*h = arg;

	h->reaped = true;
	h->st = st;
	cgi_hook_check(h);
}

/* The hook runs: its stdout is the answer, its stderr the log's. */
static void
cgi_hook_started(void *arg, pid_t pid, int fds[3])
{
	struct cgi_hook	*h = arg;

	h->pid = pid;
	close(fds[0]);		/* stdin: at EOF from the start */
	h->out = bufferevent_socket_new(conn_base(h->conn), fds[1],
	    BEV_OPT_CLOSE_ON_FREE);
	h->err = bufferevent_socket_new(conn_base(h->conn), fds[2],
	    BEV_OPT_CLOSE_ON_FREE);
	if (h->out == NULL || h->err == NULL)
		util_oom(sizeof(void *));
	bufferevent_setcb(h->out, cgi_hook_out_cb, NULL, cgi_hook_event_cb, h);
	bufferevent_setcb(h->err, cgi_hook_err_cb, NULL, cgi_hook_event_cb, h);
	bufferevent_enable(h->out, EV_READ);
	bufferevent_enable(h->err, EV_READ);
}

/* The hook could not be started: the request is refused (503). */
static void
cgi_hook_failed(void *arg, const char *cause)
{
	struct cgi_hook	*h = arg;
	struct conn	*conn = h->conn;

	h->reaped = true;
	cgi_hook_free(h);
	(void)conn_decided(conn, 503, cause, NULL, 0);
}

static const struct spawn_ops cgi_hook_spawn_ops = {
	.started = cgi_hook_started,
	.failed = cgi_hook_failed,
	.reaped = cgi_hook_reaped,
};

/* The Status header's code in the hook's answer, or 0. */
static int
cgi_hook_status(const char *a, size_t len)
{
	const char	*line, *nl, *v;
	int		 code = 0;

	for (line = a; line < a + len; line = nl + 1) {
		if ((nl = memchr(line, '\n', a + len - line)) == NULL)
			nl = a + len;
		if (nl - line < 10 || strncasecmp(line, "Status:", 7) != 0)
			continue;
		for (v = line + 7; v < nl && (*v == ' ' || *v == '\t'); v++)
			continue;
		if (nl - v >= 3 && v[0] >= '1' && v[0] <= '5' &&
		    v[1] >= '0' && v[1] <= '9' && v[2] >= '0' && v[2] <= '9' &&
		    (nl - v == 3 || v[3] == ' ' || v[3] == '\r'))
			code = (v[0] - '0') * 100 + (v[1] - '0') * 10 +
			    (v[2] - '0');
	}
	return code;
}

/*
 * Once the hook has exited and closed both pipes, turns its exit status
 * and answer into the connection's verdict and frees the hook.
 */
static void
cgi_hook_check(struct cgi_hook *h)
{
	struct conn	*conn = h->conn;
	char		*a;
	size_t		 len;
	int		 status, code, ex;

	if (!h->reaped || h->out != NULL || h->err != NULL)
		return;
	len = evbuffer_get_length(h->answer);
	a = xmalloc(len + 1);
	evbuffer_remove(h->answer, a, len);
	a[len] = '\0';
	ex = WIFEXITED(h->st) ? WEXITSTATUS(h->st) : -1;
	code = cgi_hook_status(a, len);
	if (h->too_long)
		status = 500;
	else if (!WIFEXITED(h->st))
		status = 500;
	else if (code >= 400 && code <= 599)
		status = code;
	else if (ex != 0)
		status = 403;
	else
		status = 101;
	log_info("%s OpenRequestHook exited %d: %d%s", h->id, ex,
	    status, h->too_long ? " (answer too long)" : "");
	cgi_hook_free(h);
	(void)conn_decided(conn, status, status == 101 ? NULL :
	    "refused by the OpenRequestHook", a, status == 500 ? 0 : len);
	free(a);
}

/*
 * Asks for the hook's program to be started: cgi_hook_started reads its
 * stdout and stderr once it runs (stdin at EOF), cgi_hook_failed refuses.
 */
static int
cgi_hook_run(struct cgi_hook *h, char **cause)
{
	char	*argv[2];

	argv[0] = h->route->open_hook;
	argv[1] = NULL;
	h->job = cgi_spawn(h->conn, h->route, argv, &cgi_hook_spawn_ops, h,
	    cause);
	return h->job == 0 ? -1 : 0;
}

/*
 * The hook's turn came (MaxSpawnRate): it starts now, or the connection is
 * refused with 503.
 */
static void
cgi_hook_turn(struct cgi_turn *t)
{
	struct cgi_hook	*h = (struct cgi_hook *)(void *)((char *)t -
			    offsetof(struct cgi_hook, turn));
	struct conn	*conn = h->conn;
	char		*cause = NULL;

	h->waiting = false;
	if (cgi_hook_run(h, &cause) == 0)
		return;
	cgi_hook_free(h);
	(void)conn_decided(conn, 503, cause, NULL, 0);
	free(cause);
}

/*
 * Starts a route's OpenRequestHook for a connection waiting for its
 * decision (the hook decider; see backend.h): a program run like a
 * handler, CGI environment and all, with stdin at end of file; its exit
 * status and stdout are the answer (conn_decided, never from within this
 * call). Over MaxSpawnRate it waits for its turn first (HandshakeTimeout
 * bounds the wait). Returns the hook, or NULL with *cause set (logged).
 */
static void *
cgi_hook_start(struct conn *conn, const struct route *route,
    char **cause)
{
	struct cgi_hook		*h;

	h = xcalloc(1, sizeof(*h));
	h->conn = conn;
	h->route = route;
	snprintf(h->id, sizeof(h->id), "%s", conn_id(conn));
	h->answer = xevbuffer_new();
	if (cgi_spawn_turn(conn_config(conn), &h->turn, cgi_hook_turn) == 0) {
		h->waiting = true;
		return h;
	}
	if (cgi_hook_run(h, cause) == -1) {
		cgi_hook_free(h);
		return NULL;
	}
	return h;
}

/* The connection no longer waits: kills the hook (if running), frees it. */
static void
cgi_hook_cancel(void *arg)
{
	struct cgi_hook	*h = arg;

	if (h->waiting)
		cgi_spawn_turn_cancel(&h->turn);
	else if (!h->reaped)
		spawn_cancel(h->job);
	cgi_hook_free(h);
}

/* The OpenRequestHook as a step of the upgrade's decision. */
const struct backend_hook_ops cgi_hook_ops = {
	.start = cgi_hook_start,
	.cancel = cgi_hook_cancel,
};
