/* fleet-node.c - between the nodes of a fleet: commands for another node's connections and their replies, the commands run here for others, each node's entry and the list of them. */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <hiredis/hiredis.h>

#include "base/error.h"
#include "base/log.h"
#include "base/util.h"
#include "core/fleet-proto.h"
#include "event/conn.h"
#include "event/fleet-int.h"
#include "event/fleet-redis.h"
#include "event/fleet.h"
#include "event/runtime.h"
#include "event/workers.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION	"unknown"
#endif

/* Most commands waiting for another node's answer, and run for others. */
#define FL_REQUESTS_MAX	1024
#define FL_EXECS_MAX	64

/* A command sent to another node (or this one), waiting for its reply. */
struct fl_req {
	LIST_ENTRY(fl_req)	 entry;
	uint64_t		 id;
	char			 node[FLEET_NODE_MAX + 1];
	fleet_reply_fn		*cb;		/* NULL: cancelled */
	void			*arg;
	struct event		*timer;
};

/* A command another node sent us, running. */
struct fl_exec {
	uint64_t		 id;
	char			 from[FLEET_NODE_MAX + 1];
	bool			 local;		/* a request of our own */
};

/* A node of the fleet as last read from Redis. */
struct fl_node {
	char			*name;
	char			*info;
};

/* The hub's state that the two files share (fleet-int.h). */
struct fleet_hubstate	fh;

static struct {
	LIST_HEAD(, fl_req)	 reqs;
	unsigned int		 nreqs;
	unsigned int		 nexecs;
	uint64_t		 next_req;
	struct fl_node		*nodes;
	size_t			 nnodes;
} fnd = { .reqs = LIST_HEAD_INITIALIZER(fnd.reqs) };

/* ---------------------------------------------------------------- requests */

/* Finds a waiting request by its id. */
static struct fl_req *
fl_req_find(uint64_t id)
{
	struct fl_req	*q;

	LIST_FOREACH(q, &fnd.reqs, entry) {
		if (q->id == id)
			return q;
	}
	return NULL;
}

/*
 * Ends a request: off the list, then its callback (unless cancelled);
 * why set: it failed (the node is gone when gone).
 */
static void
fl_req_end2(struct fl_req *q, const char *reply, size_t len, bool gone,
    const char *why)
{
	LIST_REMOVE(q, entry);
	fnd.nreqs--;
	event_free(q->timer);
	if (why != NULL)
		fh.st.requests_failed++;
	if (q->cb != NULL)
		q->cb(q->arg, reply, len, why == NULL ? 0 : gone ?
		    WSD_ERR_CONNID : WSD_ERR_UNAVAILABLE, why);
	free(q);
}

/* Ends a request with a reply, or a failure that is not a gone node. */
static void
fl_req_end(struct fl_req *q, const char *reply, size_t len, const char *why)
{
	fl_req_end2(q, reply, len, false, why);
}

/* Fails the request of an id, if it still waits. */
static void
fl_req_fail(uint64_t id, const char *why)
{
	struct fl_req	*q;

	if ((q = fl_req_find(id)) != NULL)
		fl_req_end(q, NULL, 0, why);
}

/* CommandTimeout passed. */
static void
fl_req_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct fl_req	*q = arg;
	char		 why[128];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "node %s did not answer within %d ms",
	    q->node, fh.command_timeout);
	fl_req_end(q, NULL, 0, why);
}

/* The request's PUBLISH answered: nobody on that channel means no node. */
static void
fl_req_published_cb(void *arg, redisReply *r)
{
	uint64_t	 id = (uint64_t)(uintptr_t)arg;
	struct fl_req	*q;
	char		 why[128];

	if ((q = fl_req_find(id)) == NULL)
		return;
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		fl_req_end(q, NULL, 0, "the request did not reach Redis");
	else if (r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
		snprintf(why, sizeof(why), "node %s is not in the fleet "
		    "(nobody listens on its channel)", q->node);
		fl_req_end2(q, NULL, 0, true, why);
	}
}

/* A request of our own to this node, answered by the executor. */
static void
fl_local_done(void *ctx, const char *reply, size_t len)
{
	struct fl_exec	*x = ctx;
	struct fl_req	*q;

	if ((q = fl_req_find(x->id)) != NULL)
		fl_req_end(q, reply, len, NULL);
	free(x);
}

/* Sends a command to a node; see fleet.h. */
void *
fleet_request(const char *node, const char *line, size_t len,
    fleet_reply_fn *cb, void *arg, const char **cause)
{
	struct fl_req	*q;
	struct fl_exec	*x;
	struct timeval	 tv;
	char		 chan[FL_CHAN_MAX], *msg;
	const char	*argv[3];
	size_t		 lens[3];
	bool		 self = strcmp(node, fh.node) == 0;
	int		 n;

	if (!fh.hub || !fh.cluster || fh.exec == NULL) {
		*cause = "this node is not in a fleet";
		return NULL;
	}
	if (!self && !fh.in_fleet) {
		*cause = "the fleet is unreachable (no connection to Redis)";
		return NULL;
	}
	if (fnd.nreqs >= FL_REQUESTS_MAX || len >= FLEET_LINE_MAX) {
		*cause = "too many commands wait for other nodes";
		return NULL;
	}
	q = xcalloc(1, sizeof(*q));
	q->id = ++fnd.next_req;
	snprintf(q->node, sizeof(q->node), "%s", node);
	q->cb = cb;
	q->arg = arg;
	q->timer = evtimer_new(fh.base, fl_req_timeout_cb, q);
	LIST_INSERT_HEAD(&fnd.reqs, q, entry);
	fnd.nreqs++;
	fh.st.requests++;
	tv.tv_sec = fh.command_timeout / 1000;
	tv.tv_usec = (fh.command_timeout % 1000) * 1000;
	evtimer_add(q->timer, &tv);
	if (self) {
		x = xcalloc(1, sizeof(*x));
		x->id = q->id;
		x->local = true;
		fh.exec(line, len, fl_local_done, x);
		return q;
	}
	n = xasprintf(&msg, "Q %llu %s %.*s", (unsigned long long)q->id,
	    fh.node, (int)len, line);
	argv[0] = "PUBLISH";
	lens[0] = 7;
	lens[1] = (size_t)snprintf(chan, sizeof(chan), "%snode:%s", fh.prefix,
	    node);
	argv[1] = chan;
	argv[2] = msg;
	lens[2] = (size_t)n;
	if (fleet_redis_cmd(fl_req_published_cb, (void *)(uintptr_t)q->id, 3,
	    argv, lens) == -1) {
		free(msg);
		q->cb = NULL;
		fl_req_end(q, NULL, 0, "dropped");
		*cause = "the fleet is unreachable (Redis does not take more)";
		return NULL;
	}
	free(msg);
	return q;
}

/* The caller no longer waits; see fleet.h. */
void
fleet_request_cancel(void *h)
{
	struct fl_req	*q = h;

	if (q != NULL)
		q->cb = NULL;
}

/* A command we ran for another node is done: its reply goes back. */
static void
fl_exec_done(void *ctx, const char *reply, size_t len)
{
	struct fl_exec	*x = ctx;
	char		 chan[FL_CHAN_MAX], head[64], *msg;
	const char	*argv[3];
	size_t		 lens[3], hl;

	fnd.nexecs--;
	hl = (size_t)snprintf(head, sizeof(head), "A %llu ",
	    (unsigned long long)x->id);
	msg = xmalloc(hl + len);
	memcpy(msg, head, hl);
	memcpy(msg + hl, reply, len);
	argv[0] = "PUBLISH";
	lens[0] = 7;
	lens[1] = (size_t)snprintf(chan, sizeof(chan), "%snode:%s", fh.prefix,
	    x->from);
	argv[1] = chan;
	argv[2] = msg;
	lens[2] = hl + len;
	(void)fleet_redis_cmd(NULL, NULL, 3, argv, lens);
	free(msg);
	free(x);
}

/* A message on our node's channel: a request to run, or a reply. */
void
fleet_node_message(const char *p, size_t len)
{
	static const char	 busy[] = "ERR 503 too many commands from "
				     "other nodes run here\n\n";
	struct fleet_nodemsg	 m;
	struct fl_exec		*x;
	struct fl_req		*q;
	char			*line;

	if (len == 1 && *p == 'P')
		return;		/* the subscriber's own ping (fleet-redis.c) */
	if (fleet_nodemsg_parse((const uint8_t *)p, len, &m) == -1) {
		log_verbose("fleet: a bad message on %s was ignored",
		    fh.nodechan);
		return;
	}
	if (m.kind == 'A') {
		if ((q = fl_req_find(m.id)) != NULL)
			fl_req_end(q, m.text, m.len, NULL);
		return;
	}
	fh.st.served++;
	x = xcalloc(1, sizeof(*x));
	x->id = m.id;
	memcpy(x->from, m.from, sizeof(x->from));
	fnd.nexecs++;
	if (fh.exec == NULL || fnd.nexecs > FL_EXECS_MAX) {
		fl_exec_done(x, busy, sizeof(busy) - 1);
		return;
	}
	line = xmalloc(m.len + 1);
	memcpy(line, m.text, m.len);
	line[m.len] = '\0';
	log_debug("fleet: node %s asks: %.64s", m.from, line);
	fh.exec(line, m.len, fl_exec_done, x);
	free(line);
}

/* Registers how the requests of other nodes run; see fleet.h. */
void
fleet_set_exec(fleet_exec_fn *fn)
{
	fh.exec = fn;
}

/* ---------------------------------------------------------------- nodes */

/* Forgets the fleet's node list. */
static void
fn_nodes_clear(void)
{
	size_t	i;

	for (i = 0; i < fnd.nnodes; i++) {
		free(fnd.nodes[i].name);
		free(fnd.nodes[i].info);
	}
	free(fnd.nodes);
	fnd.nodes = NULL;
	fnd.nnodes = 0;
}

/* This node's entry: what status and connections --all show of it. */
static void
fl_self_info(char *buf, size_t len)
{
	const struct runtime_role	*role = runtime_role();
	unsigned int			 conns;

	conns = role->conns != NULL ? role->conns() : conn_count();
	snprintf(buf, len, "node=%s state=%s connections=%u topics=%zu "
	    "workers=%d pid=%ld uptime=%llu version=%s", fh.node,
	    fleet_state(), conns, fh.ntopics, workers_count(), (long)getpid(),
	    runtime_uptime_ms() / 1000, PACKAGE_VERSION);
}

/* MGET of the entries answered: the list is what it says. */
static void
fl_mget_cb(void *arg, redisReply *r)
{
	struct fl_node	*names = arg, *e;
	const char	*argv[3];
	size_t		 lens[3], i, n;
	char		 key[FL_CHAN_MAX];

	for (n = 0; names[n].name != NULL; n++)
		;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != n) {
		for (i = 0; i < n; i++)
			free(names[i].name);
		free(names);
		return;
	}
	fn_nodes_clear();
	fnd.nodes = xcalloc(n, sizeof(*fnd.nodes));
	for (i = 0; i < n; i++) {
		if (r->element[i]->type != REDIS_REPLY_STRING) {
			/* Its entry expired: the node is gone. */
			argv[0] = "SREM";
			lens[0] = 4;
			argv[1] = key;
			lens[1] = (size_t)snprintf(key, sizeof(key),
			    "%snodes", fh.prefix);
			argv[2] = names[i].name;
			lens[2] = strlen(names[i].name);
			(void)fleet_redis_cmd(NULL, NULL, 3, argv, lens);
			free(names[i].name);
			continue;
		}
		e = &fnd.nodes[fnd.nnodes++];
		e->name = names[i].name;
		e->info = xstrdup(r->element[i]->str);
	}
	free(names);
}

/* SMEMBERS answered: the entries of those names are read. */
static void
fl_members_cb(void *arg, redisReply *r)
{
	struct fl_node	*names;
	const char	**argv;
	size_t		 *lens, i, n;
	char		 *keys;

	(void)arg;
	if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements == 0 ||
	    r->elements > 4096)
		return;
	n = r->elements;
	names = xcalloc(n + 1, sizeof(*names));
	argv = xcalloc(n + 1, sizeof(*argv));
	lens = xcalloc(n + 1, sizeof(*lens));
	keys = xmalloc(n * FL_CHAN_MAX);
	argv[0] = "MGET";
	lens[0] = 4;
	for (i = 0; i < n; i++) {
		names[i].name = xstrdup(r->element[i]->type ==
		    REDIS_REPLY_STRING ? r->element[i]->str : "");
		argv[i + 1] = keys + i * FL_CHAN_MAX;
		lens[i + 1] = (size_t)snprintf(keys + i * FL_CHAN_MAX,
		    FL_CHAN_MAX, "%snode:%.32s", fh.prefix, names[i].name);
	}
	if (fleet_redis_cmd(fl_mget_cb, names, (int)n + 1, argv, lens) == -1) {
		for (i = 0; i < n; i++)
			free(names[i].name);
		free(names);
	}
	free(argv);
	free(lens);
	free(keys);
}

/*
 * This node's entry (every quarter of NodeTTL, expiring after three
 * quarters), and the fleet's list read again.
 */
void
fleet_node_beat(void)
{
	char		 key[FL_CHAN_MAX], set[FL_CHAN_MAX], info[512];
	char		 px[24];
	const char	*argv[5];
	size_t		 lens[5];

	if (!fh.cluster)
		return;
	if (!fh.in_fleet) {
		fn_nodes_clear();
		return;
	}
	fl_self_info(info, sizeof(info));
	argv[0] = "SET";
	lens[0] = 3;
	argv[1] = key;
	lens[1] = (size_t)snprintf(key, sizeof(key), "%snode:%s", fh.prefix,
	    fh.node);
	argv[2] = info;
	lens[2] = strlen(info);
	argv[3] = "PX";
	lens[3] = 2;
	argv[4] = px;
	lens[4] = (size_t)snprintf(px, sizeof(px), "%d", fh.ttl / 4 * 3);
	(void)fleet_redis_cmd(NULL, NULL, 5, argv, lens);
	argv[0] = "SADD";
	lens[0] = 4;
	argv[1] = set;
	lens[1] = (size_t)snprintf(set, sizeof(set), "%snodes", fh.prefix);
	argv[2] = fh.node;
	lens[2] = strlen(fh.node);
	(void)fleet_redis_cmd(NULL, NULL, 3, argv, lens);
	argv[0] = "SMEMBERS";
	lens[0] = 8;
	(void)fleet_redis_cmd(fl_members_cb, NULL, 2, argv, lens);
}

/* Calls fn for each node as last read; see fleet.h. */
void
fleet_nodes(void (*fn)(void *, const struct fleet_node_info *), void *arg)
{
	struct fleet_node_info	 ni;
	char			 info[512];
	size_t			 i;

	if (!fh.hub)
		return;
	fl_self_info(info, sizeof(info));
	ni.name = fh.node;
	ni.info = info;
	ni.self = true;
	fn(arg, &ni);
	for (i = 0; i < fnd.nnodes; i++) {
		if (strcmp(fnd.nodes[i].name, fh.node) == 0)
			continue;
		ni.name = fnd.nodes[i].name;
		ni.info = fnd.nodes[i].info;
		ni.self = false;
		fn(arg, &ni);
	}
}


/* Redis was lost: what waits for another node fails now. */
void
fleet_node_down(void)
{
	struct fl_req	*q, *qn;

	for (q = LIST_FIRST(&fnd.reqs); q != NULL; q = qn) {
		qn = LIST_NEXT(q, entry);
		if (strcmp(q->node, fh.node) != 0)
			fl_req_fail(q->id, "the connection to Redis was lost");
	}
	fn_nodes_clear();
}

/* The fleet stops (or its settings change): every request ends. */
void
fleet_node_stop(void)
{
	struct fl_req	*q;

	while ((q = LIST_FIRST(&fnd.reqs)) != NULL)
		fl_req_end(q, NULL, 0, "the fleet's settings changed");
	fn_nodes_clear();
}

/* A new worker: what waits here is the master's; no callbacks run. */
void
fleet_node_forget(void)
{
	struct fl_req	*q;

	LIST_FOREACH(q, &fnd.reqs, entry)
		q->cb = NULL;
	fh.exec = NULL;
	fleet_node_stop();
}

/* The fleet's state as status shows it; see fleet.h. */
const char *
fleet_state(void)
{
	if (!fh.cluster)
		return "off";
	if (fh.in_fleet)
		return "connected";
	return !fh.ever_in ? "connecting" : "down";
}
