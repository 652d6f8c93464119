/*
 * cmd-fleet.c - the admin commands of topics and of the fleet: publish,
 * publishbin and topics; a command for a connection of another node, sent
 * there (admin_remote); connections --all over every node; and the
 * commands other nodes send to this one, run here as if a trusted client
 * had typed them (fleet_set_exec).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "admin/admin-int.h"
#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "core/fleet-proto.h"
#include "core/ws-utf8.h"
#include "event/fleet.h"
#include "event/server.h"
#include "event/topics.h"

/* Largest publishbin payload: a line's worth of base64. */
#define ADMIN_PUB_MAX		(ADMIN_LINE_MAX / 4 * 3)
/* How long a command run for another node may take, at most. */
#define ADMIN_EXEC_MAX_MS	60000

/* ---------------------------------------------------------------- topics */

/* Publishes a checked message and replies the outcome. */
static void
admin_publish(struct admin_client *cl, const char *topic,
    enum ws_msg_type type, const uint8_t *data, size_t len)
{
	const struct config	*cfg = server_config(admin.srv);
	size_t			 tlen = strlen(topic);

	if (!fleet_topic_valid(topic, tlen)) {
		admin_err(cl, WSD_ERR_VALUE, "invalid topic \"%.64s\" (1-%d "
		    "bytes, no spaces or control characters)", topic,
		    FLEET_TOPIC_MAX);
		return;
	}
	if ((uint64_t)len > cfg->max_message_size) {
		admin_err(cl, WSD_ERR_VALUE, "the message is over "
		    "MaxMessageSize");
		return;
	}
	switch (fleet_publish(topic, tlen, type, data, len)) {
	case 0:
		admin_ok(cl, "published %zu bytes on %s", len, topic);
		break;
	case 1:
		admin_ok(cl, "published %zu bytes on %s on this node only "
		    "(the fleet is unreachable: counted as dropped)", len,
		    topic);
		break;
	default:
		admin_err(cl, WSD_ERR_UNAVAILABLE, "not published: "
		    "RedisMaxPending bytes already wait for Redis");
		return;
	}
	admin_end(cl);
}

/* publish TOPIC TEXT */
void
admin_exec_publish(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	const char	*text = r->argv[1];

	if (!ws_utf8_valid((const uint8_t *)text, strlen(text))) {
		admin_err(cl, WSD_ERR_VALUE, "TEXT is not valid UTF-8");
		return;
	}
	admin_publish(cl, r->argv[0], WS_MSG_TEXT, (const uint8_t *)text,
	    strlen(text));
}

/* publishbin TOPIC BASE64 */
void
admin_exec_publishbin(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	uint8_t		 data[ADMIN_PUB_MAX];
	ssize_t		 n;

	if ((n = admin_base64_decode(r->argv[1], strlen(r->argv[1]), data,
	    sizeof(data))) == -1) {
		admin_err(cl, WSD_ERR_VALUE, "invalid base64");
		return;
	}
	admin_publish(cl, r->argv[0], WS_MSG_BINARY, data, (size_t)n);
}

/* What a topics listing writes into. */
struct admin_topics_out {
	struct admin_client	*cl;
	struct evbuffer		*b;		/* JSON, or NULL for text */
	bool			 first;
};

/* One topic here, as a row or a JSON object. */
static void
admin_topic_row(void *arg, const char *topic, size_t len, unsigned int n)
{
	struct admin_topics_out	*o = arg;

	if (o->b == NULL) {
		admin_line(o->cl, "%-40.*s %11u", (int)len, topic, n);
		return;
	}
	evbuffer_add_printf(o->b, "%s{\"Topic\":", o->first ? "" : ",");
	admin_json_string(o->b, topic, len);
	evbuffer_add_printf(o->b, ",\"Subscribers\":%u}", n);
	o->first = false;
}

/* topics [json]: this process's (the master merges the workers'). */
void
admin_exec_topics(struct admin_client *cl, const struct admin_req *r,
    const struct admin_target *t)
{
	struct admin_topics_out	 o;

	memset(&o, 0, sizeof(o));
	o.cl = cl;
	o.first = true;
	if (r->json) {
		o.b = admin_json_begin(cl);
		evbuffer_add(o.b, "[", 1);
		topics_each(admin_topic_row, &o);
		evbuffer_add(o.b, "]", 1);
		admin_json_end(cl);
		return;
	}
	admin_ok(cl, "%zu topic(s)", topics_count());
	admin_line(cl, "%-40s %11s", "TOPIC", "SUBSCRIBERS");
	topics_each(admin_topic_row, &o);
	admin_end(cl);
}

/* ---------------------------------------------------------------- remote */

/* A command sent to another node for one of its connections. */
struct admin_rq {
	struct admin_client	*cl;
	struct admin_wait	*w;
	void			*req;
};

/* Whether a reply from another node has the shape of one. */
static bool
admin_reply_ok(const char *reply, size_t len)
{
	return len >= 4 && (strncmp(reply, "OK", 2) == 0 ||
	    strncmp(reply, "ERR ", 4) == 0) && reply[len - 1] == '\n' &&
	    reply[len - 2] == '\n' && memchr(reply, '\0', len) == NULL;
}

/* The node answered (or did not): its reply is the client's. */
static void
admin_remote_reply(void *arg, const char *reply, size_t len, int err,
    const char *why)
{
	struct admin_rq	*rq = arg;

	if (reply != NULL && admin_reply_ok(reply, len))
		evbuffer_add(admin_out(rq->cl), reply, len);
	else if (reply != NULL)
		admin_err(rq->cl, WSD_ERR_UNAVAILABLE, "a bad reply came "
		    "back");
	else
		admin_err(rq->cl, err, "%s", why);
	admin_wait_end(rq->w);
	free(rq);
}

/* The client left: the reply, when it comes, goes nowhere. */
static void
admin_remote_cancel(void *ctx)
{
	struct admin_rq	*rq = ctx;

	fleet_request_cancel(rq->req);
	free(rq);
}

/*
 * Whether a command about one connection may go to the node that has it
 * (sendbytes may not: its raw bytes would have to follow).
 */
static bool
admin_remote_allowed(int cmd)
{
	switch (cmd) {
	case ADMIN_CMD_CONNECTION:
	case ADMIN_CMD_DISCONNECT:
	case ADMIN_CMD_PING:
	case ADMIN_CMD_SEND:
	case ADMIN_CMD_SENDTEXT:
	case ADMIN_CMD_INTERRUPT:
	case ADMIN_CMD_LINEMODE:
	case ADMIN_CMD_TIMEOUT:
	case ADMIN_CMD_PAUSE:
	case ADMIN_CMD_RESUME:
	case ADMIN_CMD_CONNECTIONS:
	case ADMIN_CMD_CONFIG:
		return true;
	default:
		return false;
	}
}

/* A ConnectionId of another node: the command goes there; see admin-int.h. */
void
admin_remote(struct admin_client *cl, const struct admin_req *r,
    const char *node)
{
	struct admin_rq	*rq;
	const char	*cause;

	if (!admin_remote_allowed(r->cmd)) {
		admin_err(cl, WSD_ERR_CONNID, "%s works on this node's "
		    "connections only (%.32s is on node %s)",
		    admin_cmd_name((size_t)r->cmd), r->argv[0], node);
		return;
	}
	rq = xcalloc(1, sizeof(*rq));
	rq->cl = cl;
	if ((rq->req = fleet_request(node, r->orig, strlen(r->orig),
	    admin_remote_reply, rq, &cause)) == NULL) {
		free(rq);
		admin_err(cl, WSD_ERR_UNAVAILABLE, "node %s: %s", node, cause);
		return;
	}
	rq->w = admin_wait_ext(cl, admin_remote_cancel, rq);
}

/* ---------------------------------------------------------------- --all */

struct admin_all;

/* One node's part of connections --all. */
struct admin_all_slot {
	struct admin_all	*all;		/* NULL: given up on */
	int			 i;
	void			*req;		/* another node's request */
	char			 node[FLEET_NODE_MAX + 1];
};

/* connections --all, waiting for every node. */
struct admin_all {
	struct admin_client	*cl;
	struct admin_wait	*w;
	bool			 json;
	int			 n, pending;
	char			**replies;
	struct admin_all_slot	**slots;
	struct evbuffer		*note;		/* the nodes that failed */
};

static void	admin_exec_line(const char *, size_t, fleet_done_fn *, void *);

/* Frees a connections --all and the replies it gathered. */
static void
admin_all_free(struct admin_all *a)
{
	int	i;

	for (i = 0; i < a->n; i++)
		free(a->replies[i]);
	free(a->replies);
	free(a->slots);
	evbuffer_free(a->note);
	free(a);
}

/* Every node answered: the merged table. */
static void
admin_all_finish(struct admin_all *a)
{
	char	*note = NULL;
	size_t	 len;

	if ((len = evbuffer_get_length(a->note)) > 0) {
		note = xmalloc(len + 1);
		evbuffer_remove(a->note, note, len);
		note[len] = '\0';
	}
	admin_merge_rows(a->cl, (const char *const *)a->replies, a->n,
	    a->json, "connection(s)", note);
	free(note);
	admin_wait_end(a->w);
	admin_all_free(a);
}

/* One node's reply (or failure) is in. */
static void
admin_all_reply(struct admin_all_slot *s, const char *reply, size_t len,
    const char *why)
{
	struct admin_all	*a = s->all;

	a->slots[s->i] = NULL;
	if (reply != NULL && admin_reply_ok(reply, len)) {
		a->replies[s->i] = xmalloc(len + 1);
		memcpy(a->replies[s->i], reply, len);
		a->replies[s->i][len] = '\0';
	} else
		evbuffer_add_printf(a->note, "%s%s: %s",
		    evbuffer_get_length(a->note) > 0 ? "; " : "", s->node,
		    why != NULL ? why : "a bad reply");
	free(s);
	if (--a->pending == 0)
		admin_all_finish(a);
}

/* Another node's reply. */
static void
admin_all_remote_cb(void *arg, const char *reply, size_t len, int err,
    const char *why)
{
	admin_all_reply(arg, reply, len, why);
}

/* This node's reply (run as another node's would be). */
static void
admin_all_self_cb(void *ctx, const char *reply, size_t len)
{
	struct admin_all_slot	*s = ctx;

	if (s->all == NULL) {
		free(s);
		return;
	}
	admin_all_reply(s, reply, len, NULL);
}

/* The client left: every node's reply goes nowhere. */
static void
admin_all_cancel(void *ctx)
{
	struct admin_all	*a = ctx;
	struct admin_all_slot	*s;
	int			 i;

	for (i = 0; i < a->n; i++) {
		if ((s = a->slots[i]) == NULL)
			continue;
		if (s->req != NULL) {
			fleet_request_cancel(s->req);
			free(s);
		} else
			s->all = NULL;	/* freed when its reply comes */
	}
	admin_all_free(a);
}

/* Counts the nodes of the fleet. */
static void
admin_all_count(void *arg, const struct fleet_node_info *ni)
{
	(*(int *)arg)++;
}

/* Sends the command to one node (this one: run here). */
static void
admin_all_send(void *arg, const struct fleet_node_info *ni)
{
	struct admin_all	*a = arg;
	struct admin_all_slot	*s;
	const char		*line = a->json ? "connections json" :
				    "connections";
	const char		*cause;
	int			 i = a->pending++;

	if (i >= a->n) {
		a->pending--;
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->all = a;
	s->i = i;
	snprintf(s->node, sizeof(s->node), "%s", ni->name);
	a->slots[i] = s;
	if (ni->self) {
		admin_exec_line(line, strlen(line), admin_all_self_cb, s);
		return;
	}
	if ((s->req = fleet_request(ni->name, line, strlen(line),
	    admin_all_remote_cb, s, &cause)) == NULL) {
		/* Counted as answered: with a note, after the loop. */
		a->slots[i] = NULL;
		evbuffer_add_printf(a->note, "%s%s: %s",
		    evbuffer_get_length(a->note) > 0 ? "; " : "", s->node,
		    cause);
		free(s);
		a->pending--;
	}
}

/* connections --all: every node's table, merged. */
static void
admin_conns_all(struct admin_client *cl, const struct admin_req *r)
{
	struct admin_all	*a;
	int			 n = 0;

	fleet_nodes(admin_all_count, &n);
	if (n == 0)
		n = 1;
	a = xcalloc(1, sizeof(*a));
	a->cl = cl;
	a->json = r->json;
	a->n = n;
	a->replies = xcalloc((size_t)n, sizeof(*a->replies));
	a->slots = xcalloc((size_t)n, sizeof(*a->slots));
	a->note = xevbuffer_new();
	a->w = admin_wait_ext(cl, admin_all_cancel, a);
	if (!fleet_hub()) {
		struct fleet_node_info	 self = { .name = "", .self = true };

		admin_all_send(a, &self);
	} else
		fleet_nodes(admin_all_send, a);
	if (a->pending == 0)
		admin_all_finish(a);
}

/* ---------------------------------------------------------------- exec */

/* A command run for another node (or for --all here). */
struct admin_exec_run {
	LIST_ENTRY(admin_exec_run) entry;
	struct bufferevent	*bev;		/* our end of the client's socket */
	struct event		*timer;
	fleet_done_fn		*done;
	void			*ctx;
};

static LIST_HEAD(, admin_exec_run) admin_runs =
    LIST_HEAD_INITIALIZER(admin_runs);

/* Ends a run with its reply (and frees it). */
static void
admin_run_end(struct admin_exec_run *x, const char *reply, size_t len)
{
	LIST_REMOVE(x, entry);
	if (x->bev != NULL)
		bufferevent_free(x->bev);	/* its client sees EOF */
	if (x->timer != NULL)
		event_free(x->timer);
	x->done(x->ctx, reply, len);
	free(x);
}

/* The client wrote: the reply is whole at its empty line. */
static void
admin_run_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_exec_run	*x = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 end;
	const char		*p;
	size_t			 n;

	end = evbuffer_search(in, "\n\n", 2, NULL);
	if (end.pos == -1)
		return;
	n = (size_t)end.pos + 2;
	p = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
	admin_run_end(x, p, n);
}

/* The client went away, or took too long: an error is the reply. */
static void
admin_run_fail(struct admin_exec_run *x, const char *why)
{
	char	buf[160];
	int	n;

	n = snprintf(buf, sizeof(buf), "ERR %d %s\n\n", WSD_ERR_UNAVAILABLE,
	    why);
	admin_run_end(x, buf, (size_t)n);
}

/* Our end of the socket closed or failed before the reply. */
static void
admin_run_event_cb(struct bufferevent *bev, short what, void *arg)
{
	admin_run_fail(arg, "the command ended without a reply");
}

/* The run took longer than ADMIN_EXEC_MAX_MS. */
static void
admin_run_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	admin_run_fail(arg, "the command took too long");
}

/*
 * Runs an admin command line as a trusted client on a socket pair would:
 * the line goes through this process's role (the master relays it), and
 * done gets the whole reply, always later. See fleet.h.
 */
static void
admin_exec_line(const char *line, size_t len, fleet_done_fn *done, void *ctx)
{
	struct admin_exec_run	*x;
	struct admin_client	*cl;
	struct timeval		 tv = { ADMIN_EXEC_MAX_MS / 1000, 0 };
	int			 sv[2];

	x = xcalloc(1, sizeof(*x));
	x->done = done;
	x->ctx = ctx;
	LIST_INSERT_HEAD(&admin_runs, x, entry);
	x->timer = evtimer_new(admin.base, admin_run_timer_cb, x);
	if (x->timer == NULL)
		util_oom(sizeof(void *));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		log_warn("admin: socketpair: %s", strerror(errno));
		tv.tv_sec = 0;
		evtimer_add(x->timer, &tv);
		return;
	}
	cl = admin.client_new(sv[0]);
	cl->trusted = true;
	/* Not an admin client of anyone: ADMIN_MAX_CLIENTS is theirs. */
	cl->internal = true;
	admin.nclients--;
	x->bev = bufferevent_socket_new(admin.base, sv[1],
	    BEV_OPT_CLOSE_ON_FREE);
	if (x->bev == NULL)
		util_oom(sizeof(void *));
	bufferevent_setcb(x->bev, admin_run_read_cb, NULL, admin_run_event_cb,
	    x);
	bufferevent_enable(x->bev, EV_READ | EV_WRITE);
	bufferevent_write(x->bev, line, len);
	bufferevent_write(x->bev, "\n", 1);
	evtimer_add(x->timer, &tv);
}

/* A ready-made reply, given later (exec never answers from within). */
struct admin_canned {
	fleet_done_fn	*done;
	void		*ctx;
	char		 reply[256];
};

/* Gives a ready-made reply, from the loop. */
static void
admin_canned_cb(evutil_socket_t fd, short what, void *arg)
{
	struct admin_canned	*k = arg;

	k->done(k->ctx, k->reply, strlen(k->reply));
	free(k);
}

/*
 * A command from another node: only those about connections (and the
 * listing --all asks for) run; state changes are logged, as a client's.
 */
static void
admin_fleet_exec(const char *line, size_t len, fleet_done_fn *done,
    void *ctx)
{
	static struct admin_req	 req;
	struct admin_canned	*k;
	struct timeval		 tv = { 0, 0 };
	char			*cause = NULL;

	/* connections --all from another node would go round the fleet. */
	if (admin_parse(line, len, &req, &cause) != 0 ||
	    !admin_remote_allowed(req.cmd) ||
	    (req.cmd == ADMIN_CMD_CONNECTIONS && req.argc > 0)) {
		k = xcalloc(1, sizeof(*k));
		k->done = done;
		k->ctx = ctx;
		snprintf(k->reply, sizeof(k->reply), "ERR %d not a command "
		    "another node may send: %.100s\n\n", WSD_ERR_DENIED,
		    cause != NULL ? cause : admin_cmd_name((size_t)req.cmd));
		free(cause);
		event_base_once(admin.base, -1, EV_TIMEOUT, admin_canned_cb, k,
		    &tv);
		return;
	}
	if (admin_req_changes(&req))
		log_info("admin: from another node: %.200s", line);
	admin_exec_line(line, len, done, ctx);
}

/* Commands from other nodes run here from now on. */
void
admin_fleet_start(void)
{
	fleet_set_exec(admin_fleet_exec);
}

/* The admin socket closes: runs still going end with an error reply. */
void
admin_fleet_stop(void)
{
	struct admin_exec_run	*x;

	while ((x = LIST_FIRST(&admin_runs)) != NULL)
		admin_run_fail(x, "the node is shutting down");
}

/* connections [--all] [json]: this node's (cmd-conn.c), or the fleet's. */
void
admin_exec_connections_any(struct admin_client *cl,
    const struct admin_req *r, const struct admin_target *t)
{
	if (r->argc == 0)
		admin_exec_connections(cl, r, t);
	else if (strcmp(r->argv[0], "--all") != 0)
		admin_err(cl, WSD_ERR_USAGE, "usage: connections [--all] "
		    "[json]");
	else
		admin_conns_all(cl, r);
}
