/* server.c - the daemon's lifecycle: listen, accept, reload, drain, graceful shutdown. */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "event/acl.h"
#include "event/backend.h"
#include "event/client-limits.h"
#include "conf/config.h"
#include "core/proxy.h"
#include "event/conn.h"
#include "event/conn-live.h"
#include "event/listener.h"
#include "base/log.h"
#include "event/sdnotify.h"
#include "event/runtime.h"
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

struct server {
	struct listener		*listener;
	bool			 killed;
	unsigned long long	 stop_deadline;
	unsigned long long	 extended;	/* last EXTEND_TIMEOUT_USEC sent */
	struct event		*tick;
	unsigned long long	 full_logged_at;	/* last MaxConnections line */
	unsigned long long	 full_unlogged;	/* refusals since then */
	struct event		*drain_ev;	/* end of the drain period */
};

/* The one server of the process (its tick is registered in the runtime). */
static struct server	*server_the;

static void	server_conn_gone(void);
static void	server_accept(int, const struct sockaddr *, int);

struct server *
server_new(struct event_base *base, struct config *cfg)
{
	struct server	*srv;

	srv = xcalloc(1, sizeof(*srv));
	runtime_init(base, cfg);
	runtime_on_conn_gone(server_conn_gone);
	server_the = srv;
	return srv;
}

void
server_free(struct server *srv)
{
	if (srv == NULL)
		return;
	listener_free(srv->listener);
	conn_live_stop();
	if (srv->tick != NULL)
		event_free(srv->tick);
	if (srv->drain_ev != NULL)
		event_free(srv->drain_ev);
	runtime_free();
	server_the = NULL;
	free(srv);
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
	const char		*name, *sect;
	const struct config	*cfg = runtime_config();
	const struct runtime_role *role = runtime_role();
	unsigned int		 kept;
	char			 a[512], b[512], *line, *p, *e;
	size_t			 i;

	*notes = NULL;
	(void)sdnotify_reloading();
	if ((ncfg = config_load(cfg->file, errors)) != NULL &&
	    config_check_root(ncfg, geteuid(), &line) == -1) {
		config_free(ncfg);
		ncfg = NULL;
		xasprintf(errors, "%s: %s\n", cfg->file, line);
		free(line);
	}
	if (ncfg == NULL) {
		log_error("reload of %s failed; the running configuration is "
		    "unchanged:", cfg->file);
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
		if (config_get(cfg, name, a, sizeof(a)) == -1 ||
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
	if ((kept = runtime_config_swap(ncfg)) > 0) {
		xasprintf(&line, "%u connection(s) keep the previous "
		    "configuration until they close", kept);
		server_addline(notes, line);
		free(line);
	} else if (role->conns != NULL && (kept = role->conns()) > 0) {
		/* The master's workers hold their own copies: say it for them. */
		xasprintf(&line, "%u connection(s) keep the previous "
		    "configuration until they close", kept);
		server_addline(notes, line);
		free(line);
	}
	log_set_level(ncfg->log_level);
	log_set_mask(ncfg->mask_sensitive_data, ncfg->sensitive_query_params);
	log_info("configuration reloaded from %s (%zu route(s))", ncfg->file,
	    ncfg->nroutes);
	tls_ctx_log(ncfg->tls);
	if (*notes == NULL)
		*notes = xstrdup("");
	(void)sdnotify_send("READY=1", "configuration reloaded");
	/* The master's workers read the file again (it was valid just now). */
	if (role->reloaded != NULL)
		role->reloaded();
	return 0;
}

enum wsd_error
server_config_set(struct server *srv, const char *key, const char *value,
    char **cause)
{
	enum wsd_error	 r;

	struct config	*cfg = runtime_config_mut();

	r = config_set(cfg, key, value, server_listening(srv), cause);
	if (r == WSD_OK) {
		log_set_level(cfg->log_level);
		log_set_mask(cfg->mask_sensitive_data,
		    cfg->sensitive_query_params);
	}
	return r;
}

bool
server_listening(const struct server *srv)
{
	const char	*addr;
	int		 port;

	if (runtime_role()->listening != NULL)
		return runtime_role()->listening(&addr, &port);
	return srv->listener != NULL;
}

const char *
server_local_address(const struct server *srv)
{
	const char	*addr = "";
	int		 port;

	if (runtime_role()->listening != NULL) {
		(void)runtime_role()->listening(&addr, &port);
		return addr;
	}
	return srv->listener != NULL ? listener_address(srv->listener) : "";
}

int
server_local_port(const struct server *srv)
{
	const char	*addr;
	int		 port;

	if (runtime_role()->listening != NULL &&
	    runtime_role()->listening(&addr, &port))
		return port;
	return srv->listener != NULL ? listener_port(srv->listener) :
	    runtime_config()->local_port;
}

unsigned long long
server_uptime_ms(const struct server *srv)
{
	return runtime_uptime_ms();
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
server_listen(struct server *srv, char **cause)
{
	if (srv->listener != NULL) {
		*cause = xstrdup("already listening");
		return -1;
	}
	if ((srv->listener = listener_new(server_accept, cause)) == NULL)
		return -1;
	/* PingInterval, PingTimeout, IdleTimeout: one sweep a second. */
	conn_live_start();
	runtime_set_listening(true);
	if (runtime_draining()) {
		/* Listening again ends a drain; its connections stay. */
		runtime_set_draining(false);
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
	runtime_set_listening(false);
	if (!runtime_stopping())
		server_notify_status(srv);
}

/* Shutdown tick: leave the loop once connections and handlers are gone. */
static void
server_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server		*srv = arg;
	struct timeval		 tv = { 0, SERVER_TICK_MS * 1000 };
	unsigned long long	 now = util_now_ms();

	if (conn_count() == 0 && backend_live() == 0) {
		log_info("shutdown complete");
		event_base_loopexit(runtime_base(), NULL);
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
			    backend_live());
			event_base_loopexit(runtime_base(), NULL);
			return;
		}
		log_warn("shutdown timeout: dropping %u connection(s), killing "
		    "%d handler(s)", conn_count(), backend_live());
		conn_abort_all();
		backend_kill_all();
		srv->killed = true;
		srv->stop_deadline = now + SERVER_REAP_MS;
	}
	evtimer_add(srv->tick, &tv);
}

void
server_shutdown(struct server *srv)
{
	struct timeval	tv = { 0, 0 };

	if (runtime_role()->shutdown != NULL) {
		/* The workers shut down; the master ends after them. */
		runtime_set_stopping();
		runtime_role()->shutdown();
		return;
	}
	if (runtime_stopping())
		return;
	runtime_set_stopping();
	log_info("shutting down: %u connection(s), %d handler(s)", conn_count(),
	    backend_live());
	(void)sdnotify_send("STOPPING=1", "shutting down");
	server_unlisten(srv);
	srv->stop_deadline = util_now_ms() +
	    (unsigned long long)runtime_config()->shutdown_timeout * 1000;
	conn_close_all(1001, NULL);
	srv->tick = evtimer_new(runtime_base(), server_tick_cb, srv);
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

	if (runtime_stopping())
		return -1;
	if (seconds < 0)
		seconds = runtime_config()->shutdown_timeout;
	server_unlisten(srv);
	runtime_set_draining(true);
	if (srv->drain_ev == NULL)
		srv->drain_ev = evtimer_new(runtime_base(), server_drain_cb,
		    srv);
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
	return runtime_draining();
}

/* A connection went away: lets a shutdown finish early. */
static void
server_conn_gone(void)
{
	struct server	*srv = server_the;
	struct timeval	 tv = { 0, 0 };

	/* Let a pending shutdown notice at once rather than at the next tick. */
	if (runtime_stopping() && srv != NULL && srv->tick != NULL &&
	    conn_count() == 0)
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
	    srv->full_unlogged, runtime_config()->max_connections);
	srv->full_logged_at = now;
	srv->full_unlogged = 0;
}

/*
 * Answers a client refused at accept (503: MaxConnections, MaxMemory;
 * 429: a per-client limit) with a one-line text, without keeping it;
 * watchers hear of it.
 */
static void
server_refuse(int fd, const struct sockaddr *sa, int status,
    const char *text, int retry)
{
	char	resp[256], addr[INET6_ADDRSTRLEN];
	size_t	len;
	ssize_t	n;

	acl_ntop(sa, addr, sizeof(addr));
	conn_refused(addr, acl_port(sa), text);
	len = client_limits_response(resp, sizeof(resp), status, text, retry);
	/* Best effort: a fresh socket's send buffer always has room. */
	n = send(fd, resp, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	(void)n;
	shutdown(fd, SHUT_WR);
	close(fd);
}

/*
 * Takes an accepted socket that passed the ACL (the listener's accept).
 * The per-client limits come first: a client over them takes no place of
 * MaxConnections. A load balancer's connection (ProxyTrustedClients) is
 * checked once its PROXY header names the real client (conn-http.c).
 */
static void
server_accept(int fd, const struct sockaddr *sa, int salen)
{
	const struct config	*cfg = runtime_config();
	struct server		*srv = server_the;
	const char		*text;
	bool			 over, counted = false;
	int			 status, retry;

	if (runtime_stopping()) {
		close(fd);
		return;
	}
	if ((cfg->proxy_protocol == PROXY_OFF ||
	    !acl_allows(cfg->proxy_trusted_clients, NULL, sa)) &&
	    (status = client_limits_admit(cfg, sa, &counted, &retry,
	    &text)) != 0) {
		server_refuse(fd, sa, status, text, retry);
		return;
	}
	if (conn_count() >= (unsigned int)cfg->max_connections ||
	    workers_conn_reserve((unsigned int)cfg->max_connections) == -1) {
		server_stats(srv)->rejected_full++;
		server_log_full(srv);
		server_refuse(fd, sa, 503, "too many connections", 1);
		goto refused;
	}
	(void)conn_memory(&over);
	if (over) {
		/* Logged when crossing the mark, counted here. */
		workers_conn_release();
		server_stats(srv)->rejected_memory++;
		server_refuse(fd, sa, 503, "server memory limit reached", 1);
		goto refused;
	}
	/* A connection that could not be made gives its places back. */
	if (conn_new(fd, sa, salen, counted) == NULL) {
		workers_conn_release();
		goto refused;
	}
	return;
refused:
	if (counted)
		client_limits_release_sa(cfg, sa);
}

struct event_base *
server_base(const struct server *srv)
{
	return runtime_base();
}

const struct config *
server_config(const struct server *srv)
{
	return runtime_config();
}

struct server_stats *
server_stats(struct server *srv)
{
	return runtime_stats();
}

bool
server_stopping(const struct server *srv)
{
	return runtime_stopping();
}
