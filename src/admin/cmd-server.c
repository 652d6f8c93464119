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

/*
 * One figure of stats: its name in the text form, its path in the JSON
 * form (each dot opens an object), and its value. A row of kind
 * STAT_OBJECT only opens its object, so that it is there when empty.
 */
struct stat_row {
	char			 text[40];
	char			 json[40];
	enum { STAT_NUM, STAT_BOOL, STAT_STR, STAT_OBJECT } kind;
	unsigned long long	 n;
	const char		*s;
};

/* Every row stats can have: the fixed ones and one per HTTP and close code. */
#define STAT_ROWS_MAX	(48 + SERVER_STATS_HTTP + SERVER_STATS_CODES)

/* Appends a row; text NULL: the same as json. */
static struct stat_row *
stat_add(struct stat_row *rows, size_t *n, const char *text, const char *json,
    unsigned long long v)
{
	struct stat_row	*r = &rows[(*n)++];

	snprintf(r->json, sizeof(r->json), "%s", json);
	snprintf(r->text, sizeof(r->text), "%s", text != NULL ? text : json);
	r->kind = STAT_NUM;
	r->n = v;
	r->s = NULL;
	return r;
}

/* The figures of stats, in the order both forms show them. */
static size_t
stat_rows(struct stat_row *rows)
{
	const struct server_stats	*st = server_stats(admin.srv);
	struct fleet_stats		 fs;
	unsigned int			 tracked, capacity;
	char				 text[40], json[40];
	size_t				 n = 0, i;
	bool				 over;
	size_t				 queued;

	queued = admin.role->memory(&over);
	client_limits_tracked(&tracked, &capacity);
	fleet_get_stats(&fs);
	stat_add(rows, &n, NULL, "accepted", st->accepted);
	stat_add(rows, &n, NULL, "rejected.acl", st->rejected_acl);
	stat_add(rows, &n, NULL, "rejected.full", st->rejected_full);
	stat_add(rows, &n, NULL, "rejected.memory", st->rejected_memory);
	stat_add(rows, &n, NULL, "rejected.handshake", st->rejected_handshake);
	stat_add(rows, &n, NULL, "rejected.handlers", st->rejected_handlers);
	stat_add(rows, &n, NULL, "rejected.client.connections",
	    st->rejected_client_conns);
	stat_add(rows, &n, NULL, "rejected.client.rate",
	    st->rejected_client_rate);
	stat_add(rows, &n, NULL, "rejected.client.table",
	    st->rejected_client_table);
	stat_add(rows, &n, NULL, "rejected.http", 0)->kind = STAT_OBJECT;
	for (i = 0; i < SERVER_STATS_HTTP; i++) {
		if (st->rejected_http[i] == 0)
			continue;
		snprintf(json, sizeof(json), "rejected.http.%zu", 400 + i);
		stat_add(rows, &n, NULL, json, st->rejected_http[i]);
	}
	stat_add(rows, &n, NULL, "opened", st->opened);
	stat_add(rows, &n, "closed", "closed.total", st->closed);
	stat_add(rows, &n, NULL, "closed.codes", 0)->kind = STAT_OBJECT;
	for (i = 0; i < SERVER_STATS_CODES; i++) {
		if (st->closed_code[i] == 0)
			continue;
		if (i == SERVER_STATS_CODES - 1) {
			snprintf(text, sizeof(text), "closed.code.other");
			snprintf(json, sizeof(json), "closed.codes.other");
		} else {
			snprintf(text, sizeof(text), "closed.code.%zu",
			    1000 + i);
			snprintf(json, sizeof(json), "closed.codes.%zu",
			    1000 + i);
		}
		stat_add(rows, &n, text, json, st->closed_code[i]);
	}
	stat_add(rows, &n, NULL, "messages.in", st->msgs_in);
	stat_add(rows, &n, NULL, "messages.out", st->msgs_out);
	stat_add(rows, &n, NULL, "bytes.in", st->bytes_in);
	stat_add(rows, &n, NULL, "bytes.out", st->bytes_out);
	stat_add(rows, &n, NULL, "backend.spawns", st->backend_spawns);
	stat_add(rows, &n, NULL, "backend.failures", st->backend_failures);
	stat_add(rows, &n, NULL, "spawn.waited", st->backend_waits);
	stat_add(rows, &n, NULL, "connections", admin_nconns());
	stat_add(rows, &n, NULL, "memory.queued", queued);
	stat_add(rows, &n, NULL, "memory.over", over)->kind = STAT_BOOL;
	stat_add(rows, &n, NULL, "clients.tracked", tracked);
	stat_add(rows, &n, NULL, "clients.capacity", capacity);
	stat_add(rows, &n, NULL, "topics.published", fs.published);
	stat_add(rows, &n, NULL, "topics.dropped",
	    fs.dropped + st->topic_dropped);
	stat_add(rows, &n, NULL, "topics.received", fs.received);
	stat_add(rows, &n, NULL, "topics.invalid", fs.invalid);
	stat_add(rows, &n, NULL, "topics.delivered", st->topic_delivered);
	stat_add(rows, &n, NULL, "topics.skipped", st->topic_skipped);
	stat_add(rows, &n, NULL, "topics.bus_dropped", fs.bus_dropped);
	stat_add(rows, &n, NULL, "topics.count", fs.topics);
	stat_add(rows, &n, NULL, "topics.redis", fs.redis_topics);
	stat_add(rows, &n, NULL, "cluster.state", 0)->kind = STAT_STR;
	rows[n - 1].s = fleet_state();
	stat_add(rows, &n, NULL, "cluster.reconnects", fs.reconnects);
	stat_add(rows, &n, NULL, "cluster.requests", fs.requests);
	stat_add(rows, &n, NULL, "cluster.requests_failed",
	    fs.requests_failed);
	stat_add(rows, &n, NULL, "cluster.served", fs.served);
	stat_add(rows, &n, NULL, "cluster.pending", fs.pending);
	return n;
}

/* Most objects a stats path nests in. */
#define STAT_DEPTH	4

/*
 * Writes rows as one JSON object, nesting by the dots of their paths:
 * consecutive rows that share a prefix share its objects.
 */
static void
stat_json(struct evbuffer *b, const struct stat_row *rows, size_t n)
{
	const char	*seg[STAT_DEPTH], *part[STAT_DEPTH + 1], *p, *dot;
	size_t		 seglen[STAT_DEPTH], partlen[STAT_DEPTH + 1], i;
	int		 depth = 0, nparts, c;
	bool		 first = true;	/* nothing yet in the innermost object */

	evbuffer_add(b, "{", 1);
	for (i = 0; i < n; i++) {
		/* The row's path in names: objects, then its leaf. */
		nparts = 0;
		for (p = rows[i].json; nparts <= STAT_DEPTH; p = dot + 1) {
			dot = strchr(p, '.');
			part[nparts] = p;
			partlen[nparts++] = dot != NULL ? (size_t)(dot - p) :
			    strlen(p);
			if (dot == NULL)
				break;
		}
		if (rows[i].kind != STAT_OBJECT)
			nparts--;	/* the leaf is a member, not an object */
		/* Close what this row is not in, open what it is. */
		for (c = 0; c < depth && c < nparts && seglen[c] == partlen[c] &&
		    memcmp(seg[c], part[c], partlen[c]) == 0; c++)
			;
		for (; depth > c; depth--) {
			evbuffer_add(b, "}", 1);
			first = false;
		}
		for (; depth < nparts && depth < STAT_DEPTH; depth++) {
			evbuffer_add_printf(b, "%s\"%.*s\":{", first ? "" : ",",
			    (int)partlen[depth], part[depth]);
			seg[depth] = part[depth];
			seglen[depth] = partlen[depth];
			first = true;
		}
		p = part[nparts];
		switch (rows[i].kind) {
		case STAT_NUM:
			admin_json_kn(b, &first, p, rows[i].n);
			break;
		case STAT_BOOL:
			admin_json_kb(b, &first, p, rows[i].n != 0);
			break;
		case STAT_STR:
			admin_json_kv(b, &first, p, rows[i].s);
			break;
		case STAT_OBJECT:
			break;
		}
	}
	for (; depth > 0; depth--)
		evbuffer_add(b, "}", 1);
	evbuffer_add(b, "}", 1);
}

/* stats [json] */
void
admin_exec_stats(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct stat_row	 rows[STAT_ROWS_MAX];
	size_t		 n, i;

	n = stat_rows(rows);
	if (r->json) {
		stat_json(admin_json_begin(cl), rows, n);
		admin_json_end(cl);
		return;
	}
	admin_ok(cl, NULL);
	for (i = 0; i < n; i++) {
		switch (rows[i].kind) {
		case STAT_NUM:
			admin_line(cl, "%s %llu", rows[i].text, rows[i].n);
			break;
		case STAT_BOOL:
			admin_line(cl, "%s %s", rows[i].text,
			    rows[i].n != 0 ? "yes" : "no");
			break;
		case STAT_STR:
			admin_line(cl, "%s %s", rows[i].text, rows[i].s);
			break;
		case STAT_OBJECT:
			break;
		}
	}
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

