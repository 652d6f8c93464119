/*
 * cmd-server.c - the admin commands on the server as a whole: help,
 * status, stats, cert, config, start, stop, drain, reopen, reload and
 * shutdown. They run where the dispatcher sends them: in the master (or
 * the single process) for what it answers itself, in every worker for
 * what the table relays to all (relay.c merges the replies).
 */
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "admin/admin-int.h"
#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "conf/tls.h"
#include "event/client-limits.h"
#include "event/fleet.h"
#include "event/server.h"
#include "event/workers.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

/* help [COMMAND] */
void
admin_exec_help(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	size_t	 i;
	int	 idx = -3;

	if (r->argc == 1 && (idx = admin_cmd_lookup(r->argv[0],
	    strlen(r->argv[0]))) < 0) {
		admin_err(cl, idx == -2 ? WSD_ERR_AMBIGUOUS :
		    WSD_ERR_UNKNOWN, "%s command \"%.32s\"", idx == -2 ?
		    "ambiguous" : "unknown", r->argv[0]);
		return;
	}
	admin_ok(cl, NULL);
	for (i = 0; i < admin_cmd_count(); i++) {
		if (idx >= 0 && (size_t)idx != i)
			continue;
		admin_line(cl, "%-11s %-20s %s", admin_cmd_name(i),
		    admin_cmd_usage(i), admin_cmd_help(i));
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

/* A node's entry ("key=value ...") as a JSON object; digits as numbers. */
static void
admin_node_json(void *arg, const struct fleet_node_info *ni)
{
	struct evbuffer	*b = arg;
	const char	*p, *eq, *e;
	bool		 first = true;

	if (evbuffer_get_length(b) > 0)
		evbuffer_add(b, ",", 1);
	evbuffer_add(b, "{", 1);
	admin_json_kv(b, &first, "Name", ni->name);
	admin_json_kb(b, &first, "Self", ni->self);
	for (p = ni->info; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, " ");
		if ((eq = memchr(p, '=', (size_t)(e - p))) == NULL || eq == p)
			continue;
		evbuffer_add(b, ",", 1);
		admin_json_string(b, p, (size_t)(eq - p));
		evbuffer_add(b, ":", 1);
		if (eq + 1 < e && strspn(eq + 1, "0123456789") ==
		    (size_t)(e - eq - 1))
			evbuffer_add(b, eq + 1, (size_t)(e - eq - 1));
		else
			admin_json_string(b, eq + 1, (size_t)(e - eq - 1));
	}
	evbuffer_add(b, "}", 1);
}

/* A node's entry as a status line. */
static void
admin_node_line(void *arg, const struct fleet_node_info *ni)
{
	admin_line(arg, "  %s%s", ni->info, ni->self ? " (this node)" : "");
}

/* Counts the nodes of the fleet. */
static void
admin_node_count(void *arg, const struct fleet_node_info *ni)
{
	(*(int *)arg)++;
}

/* status [json] */
/* MaxHandlers as it applies: 0 means MaxConnections. */
static int
admin_max_handlers(const struct config *cfg)
{
	return cfg->max_handlers > 0 ? cfg->max_handlers : cfg->max_connections;
}

void
admin_exec_status(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct evbuffer		*nodes;
	int			 nnodes = 0;
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
		admin_json_kn(b, &first, "Handlers", workers_handler_total());
		admin_json_kn(b, &first, "MaxHandlers", (unsigned long long)
		    admin_max_handlers(cfg));
		evbuffer_add_printf(b, ",\"Uptime\":%llu.%03llu", up / 1000,
		    up % 1000);
		admin_json_kv(b, &first, "Version", PACKAGE_VERSION);
		admin_json_kv(b, &first, "BuildInfo", build);
		admin_json_kn(b, &first, "Pid", (unsigned long long)getpid());
		admin_json_kb(b, &first, "ShuttingDown",
		    server_stopping(admin.srv));
		admin_json_kn(b, &first, "Workers",
		    (unsigned long long)workers_count());
		admin_json_kv(b, &first, "Fleet", fleet_state());
		if (fleet_cluster()) {
			admin_json_kv(b, &first, "Node", fleet_node());
			nodes = xevbuffer_new();
			fleet_nodes(admin_node_json, nodes);
			evbuffer_add(b, ",\"Nodes\":[", 10);
			evbuffer_add_buffer(b, nodes);
			evbuffer_add(b, "]", 1);
			evbuffer_free(nodes);
		}
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
	admin_line(cl, "Handlers: %u of %d", workers_handler_total(),
	    admin_max_handlers(cfg));
	admin_line(cl, "Uptime: %llu.%03llu s", up / 1000, up % 1000);
	admin_line(cl, "Version: %s", PACKAGE_VERSION);
	admin_line(cl, "BuildInfo: %s", build);
	admin_line(cl, "Pid: %ld", (long)getpid());
	admin_line(cl, "Workers: %d", workers_count());
	if (server_stopping(admin.srv))
		admin_line(cl, "ShuttingDown: yes");
	admin_line(cl, "Fleet: %s", fleet_state());
	if (fleet_cluster()) {
		fleet_nodes(admin_node_count, &nnodes);
		admin_line(cl, "Node: %s", fleet_node());
		admin_line(cl, "Nodes: %d", nnodes);
		fleet_nodes(admin_node_line, cl);
	}
	admin_end(cl);
}

/* stats [json] */
void
admin_exec_stats(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	const struct server_stats	*st = server_stats(admin.srv);
	struct fleet_stats		 fs;
	struct evbuffer			*b;
	size_t				 i, queued;
	unsigned int			 tracked, capacity;
	bool				 first, over;

	queued = admin.role->memory(&over);
	client_limits_tracked(&tracked, &capacity);
	fleet_get_stats(&fs);
	if (r->json) {
		b = admin_json_begin(cl);
		evbuffer_add_printf(b, "{\"accepted\":%llu,\"rejected\":{"
		    "\"acl\":%llu,\"full\":%llu,\"memory\":%llu,"
		    "\"handshake\":%llu,\"handlers\":%llu,"
		    "\"client\":{\"connections\":%llu,"
		    "\"rate\":%llu,\"table\":%llu},\"http\":{",
		    (unsigned long long)st->accepted,
		    (unsigned long long)st->rejected_acl,
		    (unsigned long long)st->rejected_full,
		    (unsigned long long)st->rejected_memory,
		    (unsigned long long)st->rejected_handshake,
		    (unsigned long long)st->rejected_handlers,
		    (unsigned long long)st->rejected_client_conns,
		    (unsigned long long)st->rejected_client_rate,
		    (unsigned long long)st->rejected_client_table);
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
		    "\"spawn\":{\"waited\":%llu},"
		    "\"connections\":%u,\"memory\":{\"queued\":%zu,"
		    "\"over\":%s},\"clients\":{\"tracked\":%u,"
		    "\"capacity\":%u}",
		    (unsigned long long)st->msgs_in,
		    (unsigned long long)st->msgs_out,
		    (unsigned long long)st->bytes_in,
		    (unsigned long long)st->bytes_out,
		    (unsigned long long)st->backend_spawns,
		    (unsigned long long)st->backend_failures,
		    (unsigned long long)st->backend_waits, admin_nconns(),
		    queued, over ? "true" : "false", tracked, capacity);
		evbuffer_add_printf(b, ",\"topics\":{\"published\":%llu,"
		    "\"dropped\":%llu,\"received\":%llu,\"invalid\":%llu,"
		    "\"delivered\":%llu,\"skipped\":%llu,"
		    "\"bus_dropped\":%llu,\"count\":%llu,\"redis\":%llu},"
		    "\"cluster\":{\"state\":\"%s\",\"reconnects\":%llu,"
		    "\"requests\":%llu,\"requests_failed\":%llu,"
		    "\"served\":%llu,\"pending\":%llu}}",
		    (unsigned long long)fs.published,
		    (unsigned long long)(fs.dropped + st->topic_dropped),
		    (unsigned long long)fs.received,
		    (unsigned long long)fs.invalid,
		    (unsigned long long)st->topic_delivered,
		    (unsigned long long)st->topic_skipped,
		    (unsigned long long)fs.bus_dropped,
		    (unsigned long long)fs.topics,
		    (unsigned long long)fs.redis_topics, fleet_state(),
		    (unsigned long long)fs.reconnects,
		    (unsigned long long)fs.requests,
		    (unsigned long long)fs.requests_failed,
		    (unsigned long long)fs.served,
		    (unsigned long long)fs.pending);
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
	admin_line(cl, "rejected.handlers %llu",
	    (unsigned long long)st->rejected_handlers);
	admin_line(cl, "rejected.client.connections %llu",
	    (unsigned long long)st->rejected_client_conns);
	admin_line(cl, "rejected.client.rate %llu",
	    (unsigned long long)st->rejected_client_rate);
	admin_line(cl, "rejected.client.table %llu",
	    (unsigned long long)st->rejected_client_table);
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
	admin_line(cl, "spawn.waited %llu",
	    (unsigned long long)st->backend_waits);
	admin_line(cl, "connections %u", admin_nconns());
	admin_line(cl, "memory.queued %zu", queued);
	admin_line(cl, "memory.over %s", over ? "yes" : "no");
	admin_line(cl, "clients.tracked %u", tracked);
	admin_line(cl, "clients.capacity %u", capacity);
	admin_line(cl, "topics.published %llu",
	    (unsigned long long)fs.published);
	admin_line(cl, "topics.dropped %llu",
	    (unsigned long long)(fs.dropped + st->topic_dropped));
	admin_line(cl, "topics.received %llu", (unsigned long long)fs.received);
	admin_line(cl, "topics.invalid %llu", (unsigned long long)fs.invalid);
	admin_line(cl, "topics.delivered %llu",
	    (unsigned long long)st->topic_delivered);
	admin_line(cl, "topics.skipped %llu",
	    (unsigned long long)st->topic_skipped);
	admin_line(cl, "topics.bus_dropped %llu",
	    (unsigned long long)fs.bus_dropped);
	admin_line(cl, "topics.count %llu", (unsigned long long)fs.topics);
	admin_line(cl, "topics.redis %llu",
	    (unsigned long long)fs.redis_topics);
	admin_line(cl, "cluster.state %s", fleet_state());
	admin_line(cl, "cluster.reconnects %llu",
	    (unsigned long long)fs.reconnects);
	admin_line(cl, "cluster.requests %llu",
	    (unsigned long long)fs.requests);
	admin_line(cl, "cluster.requests_failed %llu",
	    (unsigned long long)fs.requests_failed);
	admin_line(cl, "cluster.served %llu", (unsigned long long)fs.served);
	admin_line(cl, "cluster.pending %llu", (unsigned long long)fs.pending);
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
void
admin_exec_cert(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	const struct config	*cfg = server_config(admin.srv);
	struct admin_cert_out	 o;
	size_t			 i, n;

	for (n = 0; cfg->use_ssl && cfg->tls != NULL &&
	    tls_ctx_cert_fields(cfg->tls, n, admin_cert_skip, NULL) == 0; n++)
		;
	if (n == 0) {
		admin_err(cl, WSD_ERR_NOTLS, "no certificate: UseSSL is off");
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

/* config [ID] [KEY[=VALUE]] */
void
admin_exec_config(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	const struct config	*cfg = server_config(admin.srv);
	const char		*name, *sect;
	char			 arg[ADMIN_LINE_MAX], value[ADMIN_LINE_MAX];
	char			*cause = NULL, *key, *eq, *v;
	size_t			 i;
	enum wsd_error		 rc;

	if (t->conn != NULL) {
		admin_config_conn(cl, r, t->conn);
		return;
	}
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
	snprintf(arg, sizeof(arg), "%s", r->tail[0]);
	if ((eq = strchr(arg, '=')) != NULL)
		*eq = '\0';
	key = admin_trim(arg);
	if ((name = admin_key_name(key)) == NULL) {
		/* A name of the reference: the ini file's reason. */
		if ((cause = config_unmapped(key)) != NULL) {
			admin_err(cl, WSD_ERR_NOKEY, "%.1000s", cause);
			free(cause);
			return;
		}
		admin_err(cl, WSD_ERR_NOKEY, "unknown configuration key "
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
			admin_err(cl, WSD_ERR_VALUE, "%s: %s", name, cause);
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
void
admin_exec_start(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	char	*cause = NULL;

	if (server_stopping(admin.srv)) {
		admin_err(cl, WSD_ERR_UNAVAILABLE, "the server is shutting "
		    "down");
		return;
	}
	if (server_listening(admin.srv)) {
		admin_err(cl, WSD_ERR_LISTENING, "already listening on %s",
		    server_local_address(admin.srv));
		return;
	}
	if (server_listen(admin.srv, &cause) == -1) {
		admin_err(cl, WSD_ERR_LISTEN, "cannot listen: %s", cause);
		free(cause);
		return;
	}
	admin_ok(cl, "listening on %s", server_local_address(admin.srv));
	admin_end(cl);
}

/* drain: stop listening, let connections leave, then 1001. */
void
admin_exec_drain(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	long	 secs = -1;
	char	*end;

	if (r->argc == 1) {
		errno = 0;
		secs = strtol(r->argv[0], &end, 10);
		if (*r->argv[0] < '0' || *r->argv[0] > '9' || *end != '\0' ||
		    errno != 0 || secs > 86400) {
			admin_err(cl, WSD_ERR_VALUE, "SECONDS must be 0-86400");
			return;
		}
	}
	if (server_drain(admin.srv, (int)secs) == -1) {
		admin_err(cl, WSD_ERR_UNAVAILABLE, "the server is shutting "
		    "down");
		return;
	}
	admin_ok(cl, "draining: %u connection(s) have %ld second(s) to leave",
	    admin_nconns(), secs >= 0 ? secs :
	    (long)server_config(admin.srv)->shutdown_timeout);
	admin_end(cl);
}

/* reopen: LogFile again, for logrotate. */
void
admin_exec_reopen(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	(void)r;
	if (log_reopen() == -1) {
		admin_err(cl, WSD_ERR_FILE, "cannot reopen the log file: %s",
		    strerror(errno));
		return;
	}
	log_info("log file reopened (admin)");
	if (admin.role->reopened != NULL)
		admin.role->reopened();
	admin_ok(cl, "log reopened");
	admin_end(cl);
}

/* stop */
void
admin_exec_stop(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
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

/* shutdown */
void
admin_exec_shutdown(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	admin_ok(cl, "shutting down: %u connection(s)", admin_nconns());
	admin_end(cl);
	/* The loop may end before the next write event: send it now. */
	admin_flush(cl);
	server_shutdown(admin.srv);
}

/* reload */
void
admin_exec_reload(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	char	*errors = NULL, *notes = NULL;
	size_t	 n = 0;
	char	*p;

	if (server_reload(admin.srv, &errors, &notes) == -1) {
		for (p = errors; *p != '\0'; p++)
			n += *p == '\n';
		evbuffer_add_printf(admin_out(cl), "ERR %d configuration has "
		    "%zu error line(s); the running configuration is "
		    "unchanged\n", WSD_ERR_RELOAD, n);
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

