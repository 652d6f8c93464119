/* server.c - the daemon's state and lifecycle: listen, accept, graceful shutdown. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "backend/backend.h"
#include "conf/config.h"
#include "event/conn.h"
#include "event/listener.h"
#include "base/log.h"
#include "event/sdnotify.h"
#include "event/server.h"
#include "conf/tls.h"
#include "base/util.h"
#include "event/workers.h"

/* How often a shutdown checks whether everything is gone. */
#define SERVER_TICK_MS	50
/* After SIGKILL, how long to wait for the kernel to hand back the children. */
#define SERVER_REAP_MS	2000
/* EXTEND_TIMEOUT_USEC asks for this much more than the drain needs. */
#define SERVER_EXTEND_MARGIN_MS	5000

/* A configuration replaced by a reload, kept while connections use it. */
struct server_oldcfg {
	TAILQ_ENTRY(server_oldcfg) entry;
	struct config		*cfg;
	unsigned int		 refs;
};

struct server {
	struct event_base	*base;
	struct config		*cfg;
	unsigned int		 cfg_refs;	/* connections holding cfg */
	TAILQ_HEAD(, server_oldcfg) oldcfgs;
	struct listener		*listener;
	uint64_t		 next_id;
	bool			 stopping;
	bool			 killed;
	unsigned long long	 stop_deadline;
	unsigned long long	 extended;	/* last EXTEND_TIMEOUT_USEC sent */
	unsigned long long	 t_start;
	struct event		*tick;
	struct server_stats	 stats;
	struct server_stats	*statsp;	/* where counting goes; NULL: sum */
	unsigned long long	 full_logged_at;	/* last MaxConnections line */
	unsigned long long	 full_unlogged;	/* refusals since then */
	bool			 draining;	/* wsserverctl drain, until start */
	struct event		*drain_ev;	/* end of the drain period */
};

struct server *
server_new(struct event_base *base, struct config *cfg)
{
	struct server	*srv;

	srv = xcalloc(1, sizeof(*srv));
	srv->base = base;
	srv->cfg = cfg;
	TAILQ_INIT(&srv->oldcfgs);
	srv->next_id = 1;
	srv->statsp = &srv->stats;
	srv->t_start = util_now_ms();
	return srv;
}

void
server_free(struct server *srv)
{
	struct server_oldcfg	*o;

	if (srv == NULL)
		return;
	listener_free(srv->listener);
	if (srv->tick != NULL)
		event_free(srv->tick);
	if (srv->drain_ev != NULL)
		event_free(srv->drain_ev);
	while ((o = TAILQ_FIRST(&srv->oldcfgs)) != NULL) {
		TAILQ_REMOVE(&srv->oldcfgs, o, entry);
		config_free(o->cfg);
		free(o);
	}
	config_free(srv->cfg);
	free(srv);
}

const struct config *
server_config_hold(struct server *srv)
{
	srv->cfg_refs++;
	return srv->cfg;
}

void
server_config_release(struct server *srv, const struct config *cfg)
{
	struct server_oldcfg	*o;

	if (cfg == srv->cfg) {
		srv->cfg_refs--;
		return;
	}
	TAILQ_FOREACH(o, &srv->oldcfgs, entry) {
		if (o->cfg != cfg)
			continue;
		if (--o->refs == 0) {
			TAILQ_REMOVE(&srv->oldcfgs, o, entry);
			config_free(o->cfg);
			free(o);
		}
		return;
	}
}

/* Appends one line to a malloc'd string. */
static void
server_addline(char **s, const char *line)
{
	char	*n;

	xasprintf(&n, "%s%s\n", *s != NULL ? *s : "", line);
	free(*s);
	*s = n;
}

int
server_reload(struct server *srv, char **errors, char **notes)
{
	struct config		*ncfg;
	struct server_oldcfg	*o;
	const char		*name, *sect;
	char			 a[512], b[512], *line, *p, *e;
	size_t			 i;

	*notes = NULL;
	(void)sdnotify_reloading();
	if ((ncfg = config_load(srv->cfg->file, errors)) != NULL &&
	    config_check_root(ncfg, geteuid(), &line) == -1) {
		config_free(ncfg);
		ncfg = NULL;
		xasprintf(errors, "%s: %s\n", srv->cfg->file, line);
		free(line);
	}
	if (ncfg == NULL) {
		log_error("reload of %s failed; the running configuration is "
		    "unchanged:", srv->cfg->file);
		for (p = *errors; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
			e = p + strcspn(p, "\n");
			log_error("  %.*s", (int)(e - p), p);
		}
		(void)sdnotify_send("READY=1", "reload failed: running the "
		    "previous configuration");
		return -1;
	}
	/* Keys fixed while listening keep working with the bound socket. */
	for (i = 0; (name = config_key_name(i)) != NULL; i++) {
		sect = config_key_section(i);
		/* [ssl]: the new TLS context serves new connections at once. */
		if (config_key_runtime(i) || strncmp(sect, "route:", 6) == 0 ||
		    strcmp(sect, "ssl") == 0)
			continue;
		if (config_get(srv->cfg, name, a, sizeof(a)) == -1 ||
		    config_get(ncfg, name, b, sizeof(b)) == -1 ||
		    strcmp(a, b) == 0)
			continue;
		if (strcmp(sect, "admin") == 0 || strcmp(name, "Workers") == 0)
			xasprintf(&line, "%s changed from \"%s\" to \"%s\": "
			    "takes effect at a restart", name, a, b);
		else if (server_listening(srv))
			xasprintf(&line, "%s changed from \"%s\" to \"%s\": "
			    "needs a restart (or stop and start)", name, a, b);
		else
			xasprintf(&line, "%s changed from \"%s\" to \"%s\": "
			    "takes effect at the next start", name, a, b);
		server_addline(notes, line);
		log_warn("reload: %s", line);
		free(line);
	}
	if (srv->cfg_refs > 0) {
		o = xcalloc(1, sizeof(*o));
		o->cfg = srv->cfg;
		o->refs = srv->cfg_refs;
		TAILQ_INSERT_TAIL(&srv->oldcfgs, o, entry);
		xasprintf(&line, "%u connection(s) keep the previous "
		    "configuration until they close", srv->cfg_refs);
		server_addline(notes, line);
		free(line);
	} else {
		/* The master's workers hold their own copies: say it for them. */
		if (workers_master() && workers_conn_total() > 0) {
			xasprintf(&line, "%u connection(s) keep the previous "
			    "configuration until they close",
			    workers_conn_total());
			server_addline(notes, line);
			free(line);
		}
		config_free(srv->cfg);
	}
	srv->cfg = ncfg;
	srv->cfg_refs = 0;
	log_set_level(ncfg->log_level);
	log_set_mask(ncfg->mask_sensitive_data, ncfg->sensitive_query_params);
	log_info("configuration reloaded from %s (%zu route(s))", ncfg->file,
	    ncfg->nroutes);
	tls_ctx_log(ncfg->tls);
	if (*notes == NULL)
		*notes = xstrdup("");
	(void)sdnotify_send("READY=1", "configuration reloaded");
	/* Each worker reads the file again (it was valid just now). */
	if (workers_master())
		workers_signal(SIGHUP);
	return 0;
}

enum wsd_error
server_config_set(struct server *srv, const char *key, const char *value,
    char **cause)
{
	enum wsd_error	 r;

	r = config_set(srv->cfg, key, value, server_listening(srv), cause);
	if (r == WSD_OK) {
		log_set_level(srv->cfg->log_level);
		log_set_mask(srv->cfg->mask_sensitive_data,
		    srv->cfg->sensitive_query_params);
	}
	return r;
}

bool
server_listening(const struct server *srv)
{
	const char	*addr;
	int		 port;

	if (workers_master())
		return workers_listening(&addr, &port);
	return srv->listener != NULL;
}

const char *
server_local_address(const struct server *srv)
{
	const char	*addr = "";
	int		 port;

	if (workers_master()) {
		(void)workers_listening(&addr, &port);
		return addr;
	}
	return srv->listener != NULL ? listener_address(srv->listener) : "";
}

int
server_local_port(const struct server *srv)
{
	const char	*addr;
	int		 port;

	if (workers_master() && workers_listening(&addr, &port))
		return port;
	return srv->listener != NULL ? listener_port(srv->listener) :
	    srv->cfg->local_port;
}

unsigned long long
server_uptime_ms(const struct server *srv)
{
	return util_now_ms() - srv->t_start;
}

/* Tells the service manager (STATUS=) whether and where we listen. */
static void
server_notify_status(struct server *srv)
{
	char	 status[128];

	if (srv->listener != NULL)
		snprintf(status, sizeof(status), "listening on %s",
		    listener_address(srv->listener));
	else
		snprintf(status, sizeof(status), "not listening");
	(void)sdnotify_send("", status);
}

int
server_listen(struct server *srv, const char **cause)
{
	if (srv->listener != NULL) {
		*cause = "already listening";
		return -1;
	}
	if ((srv->listener = listener_new(srv, cause)) == NULL)
		return -1;
	if (srv->draining) {
		/* Listening again ends a drain; its connections stay. */
		srv->draining = false;
		evtimer_del(srv->drain_ev);
	}
	log_info("listening on %s", listener_address(srv->listener));
	workers_set_listening(true, listener_address(srv->listener),
	    listener_port(srv->listener));
	server_notify_status(srv);
	return 0;
}

void
server_unlisten(struct server *srv)
{
	if (srv->listener == NULL)
		return;
	log_info("stopped listening on %s", listener_address(srv->listener));
	listener_free(srv->listener);
	srv->listener = NULL;
	workers_set_listening(false, NULL, 0);
	if (!srv->stopping)
		server_notify_status(srv);
}

/* Shutdown tick: leave the loop once connections and handlers are gone. */
static void
server_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server		*srv = arg;
	struct timeval		 tv = { 0, SERVER_TICK_MS * 1000 };
	unsigned long long	 now = util_now_ms();

	if (conn_count() == 0 && backend_script_live() == 0) {
		log_info("shutdown complete");
		event_base_loopexit(srv->base, NULL);
		return;
	}
	/* Keep systemd's stop timeout ahead of ours while draining. */
	if (now >= srv->extended + 1000) {
		srv->extended = now;
		(void)sdnotify_extend_timeout(((srv->stop_deadline > now ?
		    srv->stop_deadline - now : 0) + (srv->killed ? 0 :
		    SERVER_REAP_MS) + SERVER_EXTEND_MARGIN_MS) * 1000);
	}
	if (now >= srv->stop_deadline) {
		if (srv->killed) {
			log_error("shutdown: %d handler process(es) not reaped",
			    backend_script_live());
			event_base_loopexit(srv->base, NULL);
			return;
		}
		log_warn("shutdown timeout: dropping %u connection(s), killing "
		    "%d handler(s)", conn_count(), backend_script_live());
		conn_abort_all();
		backend_script_kill_all();
		srv->killed = true;
		srv->stop_deadline = now + SERVER_REAP_MS;
	}
	evtimer_add(srv->tick, &tv);
}

void
server_shutdown(struct server *srv)
{
	struct timeval	tv = { 0, 0 };

	if (workers_master()) {
		/* The workers shut down; the master ends after them. */
		srv->stopping = true;
		workers_stop();
		return;
	}
	if (srv->stopping)
		return;
	srv->stopping = true;
	log_info("shutting down: %u connection(s), %d handler(s)", conn_count(),
	    backend_script_live());
	(void)sdnotify_send("STOPPING=1", "shutting down");
	server_unlisten(srv);
	srv->stop_deadline = util_now_ms() +
	    (unsigned long long)srv->cfg->shutdown_timeout * 1000;
	conn_close_all(1001, NULL);
	srv->tick = evtimer_new(srv->base, server_tick_cb, srv);
	evtimer_add(srv->tick, &tv);
}

/* End of a drain period: whoever did not leave is closed with 1001. */
static void
server_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	log_info("drain period over: closing %u connection(s) with 1001",
	    conn_count());
	conn_close_all(1001, "server draining");
}

int
server_drain(struct server *srv, int seconds)
{
	struct timeval	tv;

	if (srv->stopping)
		return -1;
	if (seconds < 0)
		seconds = srv->cfg->shutdown_timeout;
	server_unlisten(srv);
	srv->draining = true;
	if (srv->drain_ev == NULL)
		srv->drain_ev = evtimer_new(srv->base, server_drain_cb, srv);
	tv.tv_sec = seconds;
	tv.tv_usec = 0;
	evtimer_add(srv->drain_ev, &tv);
	log_info("draining: %u connection(s) have %d second(s) to leave",
	    conn_count(), seconds);
	return 0;
}

bool
server_draining(const struct server *srv)
{
	return srv->draining;
}

void
server_conn_gone(struct server *srv)
{
	struct timeval	tv = { 0, 0 };

	/* Let a pending shutdown notice at once rather than at the next tick. */
	if (srv->stopping && srv->tick != NULL && conn_count() == 0)
		evtimer_add(srv->tick, &tv);
}

/*
 * Logs refusals at MaxConnections at most once a second, with how many
 * were refused since the last line: a flood of clients must not become a
 * flood of log lines.
 */
static void
server_log_full(struct server *srv)
{
	unsigned long long	now = util_now_ms();

	srv->full_unlogged++;
	if (srv->full_logged_at != 0 && now - srv->full_logged_at < 1000)
		return;
	log_info("refused %llu connection(s): MaxConnections (%d) reached",
	    srv->full_unlogged, srv->cfg->max_connections);
	srv->full_logged_at = now;
	srv->full_unlogged = 0;
}

/*
 * Answers 503 with a one-line text to a client refused at accept
 * (MaxConnections, MaxMemory) without keeping it.
 */
static void
server_refuse(int fd, const char *text)
{
	char	resp[256];
	int	len;
	ssize_t	n;

	len = snprintf(resp, sizeof(resp), "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Retry-After: 1\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "%s\r\n", strlen(text) + 2, text);
	/* Best effort: a fresh socket's send buffer always has room. */
	n = send(fd, resp, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)n;
	shutdown(fd, SHUT_WR);
	close(fd);
}

void
server_accept(struct server *srv, int fd, const struct sockaddr *sa,
    int salen)
{
	unsigned int	before;
	bool		over;

	if (srv->stopping) {
		close(fd);
		return;
	}
	if (conn_count() >= (unsigned int)srv->cfg->max_connections ||
	    workers_conn_reserve((unsigned int)srv->cfg->max_connections) ==
	    -1) {
		server_stats(srv)->rejected_full++;
		server_log_full(srv);
		server_refuse(fd, "too many connections");
		return;
	}
	(void)conn_memory(&over);
	if (over) {
		/* Logged when crossing the mark, counted here. */
		workers_conn_release();
		server_stats(srv)->rejected_memory++;
		server_refuse(fd, "server memory limit reached");
		return;
	}
	before = conn_count();
	conn_new(srv, fd, sa, salen);
	/* A connection that could not be made gives its place back. */
	if (conn_count() == before)
		workers_conn_release();
}

struct event_base *
server_base(const struct server *srv)
{
	return srv->base;
}

const struct config *
server_config(const struct server *srv)
{
	return srv->cfg;
}

struct server_stats *
server_stats(struct server *srv)
{
	/* A worker counts into shared memory; the master adds them up. */
	if (srv->statsp == NULL) {
		workers_stats_sum(&srv->stats);
		return &srv->stats;
	}
	return srv->statsp;
}

void
server_set_stats(struct server *srv, struct server_stats *st)
{
	srv->statsp = st;
}

uint64_t
server_next_id(struct server *srv)
{
	if (workers_child())
		return workers_next_id();
	return srv->next_id++;
}

bool
server_stopping(const struct server *srv)
{
	return srv->stopping;
}
