/*
 * relay.c - the master's dispatcher, with workers. The master owns the
 * admin socket and the workers own the connections. Each admin client
 * gets, when it first needs one, a socket pair to each worker (handed
 * over by workers_send_fd; the worker serves it as a trusted admin
 * client, admin_adopt), so a slow command (ping) of one client never holds
 * up another. The command table says where a request goes (its relay):
 * the worker that owns the ConnectionId it names (ids are N apart: id % N
 * is the worker), every worker with the replies merged, or nowhere (the
 * master answers). Installed once, as admin_master_role, by
 * admin_master_start.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "admin/admin.h"
#include "admin/admin-int.h"
#include "base/log.h"
#include "base/util.h"
#include "core/fleet-proto.h"
#include "event/conn.h"
#include "event/fleet.h"
#include "event/server.h"
#include "event/workers.h"

/* Raw data (sendbytes) queued on a channel before the master stops reading. */
#define ADMIN_RELAY_DATA_MAX	(256 * 1024)
#define ADMIN_RELAY_DATA_LOW	(64 * 1024)

/* Master: an admin client's channel to one worker (a socket pair). */
struct admin_chan {
	struct admin_client	*cl;
	int			 w;
	struct bufferevent	*bev;
	bool			 watch;		/* streams events */
	bool			 answered;	/* watch: its reply skipped */
};

/* Master: a command sent to workers, until every reply is in. */
struct admin_fwd {
	enum admin_relay	 relay;
	int			 cmd;
	bool			 json;
	int			 pending;
	char			*arg;		/* argument 0 to the line end */
	struct evbuffer		*reply[WORKERS_MAX];
};

/* What the master does once the workers took a command (an OK or more). */
typedef void	admin_after_fn(char *arg);

static admin_after_fn	admin_relay_set, admin_relay_listen,
			admin_relay_unlisten;

/*
 * A restarted worker does as the others were told (start, stop, drain);
 * a setting the workers took becomes the master's too.
 */
static admin_after_fn *const admin_relay_after[ADMIN_CMD_COUNT] = {
	[ADMIN_CMD_CONFIG] = admin_relay_set,
	[ADMIN_CMD_START] = admin_relay_listen,
	[ADMIN_CMD_STOP] = admin_relay_unlisten,
	[ADMIN_CMD_DRAIN] = admin_relay_unlisten,
};

static void	admin_chan_read_cb(struct bufferevent *, void *);
static void	admin_chan_write_cb(struct bufferevent *, void *);
static void	admin_chan_stream(struct admin_chan *, struct evbuffer *);
static void	admin_chan_event_cb(struct bufferevent *, short, void *);

/*
 * The worker that owns a ConnectionId, by its number ("N", or in a fleet
 * "NODE:N"); 0 for what is not one (it says so).
 */
static int
admin_owner(const char *arg)
{
	char		node[FLEET_NODE_MAX + 1], id[CONN_ID_MAX + 1];
	size_t		n = strcspn(arg, " \t");
	uint64_t	v;

	/* "config ID KEY": the id is the first word. */
	if (n > CONN_ID_MAX)
		return 0;
	memcpy(id, arg, n);
	id[n] = '\0';
	if (fleet_id_split(id, node, &v) == -1)
		return 0;
	return (int)(v % (uint64_t)workers_count());
}

/* The client's channel to worker w, made on first use; NULL if it is down. */
static struct admin_chan *
admin_chan_get(struct admin_client *cl, int w, bool watching)
{
	struct admin_chan	*ch;
	int			 sv[2];

	if (cl->chan == NULL)
		cl->chan = xcalloc((size_t)workers_count(), sizeof(*cl->chan));
	if (cl->chan[w] != NULL)
		return cl->chan[w];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		log_warn("admin: socketpair: %s", strerror(errno));
		return NULL;
	}
	if (workers_send_fd(w, sv[1], watching) == -1) {
		close(sv[0]);
		close(sv[1]);
		return NULL;
	}
	close(sv[1]);
	ch = xcalloc(1, sizeof(*ch));
	ch->cl = cl;
	ch->w = w;
	/* A watcher from the start: its reply is skipped, events follow. */
	ch->watch = watching;
	ch->bev = bufferevent_socket_new(admin.base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(ch->bev, admin_chan_read_cb, admin_chan_write_cb,
	    admin_chan_event_cb, ch);
	bufferevent_setwatermark(ch->bev, EV_WRITE, ADMIN_RELAY_DATA_LOW, 0);
	bufferevent_enable(ch->bev, EV_READ | EV_WRITE);
	cl->chan[w] = ch;
	return ch;
}

/* Closes a channel (the worker drops its end). */
static void
admin_chan_free(struct admin_chan *ch)
{
	ch->cl->chan[ch->w] = NULL;
	bufferevent_free(ch->bev);
	free(ch);
}

/* Frees a forwarded command and the replies it gathered. */
static void
admin_fwd_free(struct admin_fwd *f)
{
	int	i;

	for (i = 0; i < WORKERS_MAX; i++) {
		if (f->reply[i] != NULL)
			evbuffer_free(f->reply[i]);
	}
	free(f->arg);
	free(f);
}

/* A client goes: its channels (the workers drop their ends) and command. */
static void
admin_relay_free(struct admin_client *cl)
{
	int	i;

	if (cl->chan != NULL) {
		for (i = 0; i < workers_count(); i++) {
			if (cl->chan[i] != NULL)
				admin_chan_free(cl->chan[i]);
		}
		free(cl->chan);
		cl->chan = NULL;
	}
	if (cl->fwd != NULL) {
		admin_fwd_free(cl->fwd);
		cl->fwd = NULL;
	}
}

/* A reply as one NUL-terminated string (in its buffer), or NULL. */
static const char *
admin_reply_str(struct evbuffer *b)
{
	const char	*s;
	size_t		 len;

	if (b == NULL)
		return NULL;
	len = evbuffer_get_length(b);
	s = (const char *)evbuffer_pullup(b, -1);
	if (len > 0 && s[len - 1] == '\0')
		return s;
	evbuffer_add(b, "", 1);
	return (const char *)evbuffer_pullup(b, -1);
}

/* The first reply that is an OK, else the first reply at all. */
static int
admin_first_ok(struct admin_fwd *f, int n, bool *ok)
{
	const char	*s;
	int		 i, first = -1;

	for (i = 0; i < n; i++) {
		if ((s = admin_reply_str(f->reply[i])) == NULL)
			continue;
		if (strncmp(s, "OK", 2) == 0) {
			*ok = true;
			return i;
		}
		if (first == -1)
			first = i;
	}
	*ok = false;
	return first;
}

/* "connections" or "topics" from every worker: one count, one header, all the rows. */
static void
admin_merge_conns(struct admin_client *cl, struct admin_fwd *f, int n)
{
	const char	*replies[WORKERS_MAX];
	int		 i;

	for (i = 0; i < n; i++)
		replies[i] = admin_reply_str(f->reply[i]);
	admin_merge_rows(cl, replies, n, f->json, f->cmd == ADMIN_CMD_TOPICS ?
	    "topic(s)" : "connection(s)", NULL);
}

/* The first OK with its first number replaced by the sum over the OKs. */
static void
admin_merge_sum(struct admin_client *cl, struct admin_fwd *f, int n)
{
	struct evbuffer		*out = admin_out(cl);
	const char		*s, *first, *d;
	unsigned long long	 sum = 0;
	bool			 ok;
	int			 i, k;

	if ((k = admin_first_ok(f, n, &ok)) == -1) {
		evbuffer_add_printf(out, "ERR 503 no worker answered\n\n");
		return;
	}
	first = admin_reply_str(f->reply[k]);
	if (!ok || (d = strpbrk(first, "0123456789")) == NULL ||
	    d > strchr(first, '\n')) {
		evbuffer_add_printf(out, "%s", first);
		return;
	}
	for (i = 0; i < n; i++) {
		s = admin_reply_str(f->reply[i]);
		if (s != NULL && strncmp(s, "OK", 2) == 0 &&
		    (s = strpbrk(s, "0123456789")) != NULL)
			sum += strtoull(s, NULL, 10);
	}
	evbuffer_add(out, first, (size_t)(d - first));
	evbuffer_add_printf(out, "%llu", sum);
	d += strspn(d, "0123456789");
	evbuffer_add_printf(out, "%s", d);
}

/* config KEY=VALUE took in the workers: the master's copy follows. */
static void
admin_relay_set(char *arg)
{
	char	*eq;

	if ((eq = strchr(arg, '=')) == NULL)
		return;
	*eq = '\0';
	(void)server_config_set(admin.srv, admin_trim(arg), admin_trim(eq + 1),
	    NULL);
}

/* start took: a restarted worker listens. */
static void
admin_relay_listen(char *arg)
{
	(void)arg;
	workers_set_listening_wanted(true);
}

/* stop or drain took: a restarted worker does not listen. */
static void
admin_relay_unlisten(char *arg)
{
	(void)arg;
	workers_set_listening_wanted(false);
}

/* Every reply is in: the merged one goes to the client. */
static void
admin_fwd_done(struct admin_client *cl)
{
	struct admin_fwd	*f = cl->fwd;
	admin_after_fn		*after = admin_relay_after[f->cmd];
	const char		*s;
	int			 i, n = workers_count();
	bool			 ok;

	switch (f->relay) {
	case ADMIN_RELAY_STREAM:
		/*
		 * Every worker watches now: our reply, then whatever they
		 * sent meanwhile, then the stream.
		 */
		admin_watch_start(cl);
		for (i = 0; i < n; i++) {
			if (cl->chan != NULL && cl->chan[i] != NULL &&
			    cl->chan[i]->answered)
				admin_chan_stream(cl->chan[i],
				    bufferevent_get_input(cl->chan[i]->bev));
		}
		break;
	case ADMIN_RELAY_ROWS:
		admin_merge_conns(cl, f, n);
		break;
	case ADMIN_RELAY_SUM:
		admin_merge_sum(cl, f, n);
		break;
	default:
		i = admin_first_ok(f, n, &ok);
		s = i >= 0 ? admin_reply_str(f->reply[i]) : NULL;
		evbuffer_add_printf(admin_out(cl), "%s", s != NULL ? s :
		    "ERR 503 no worker answered\n\n");
		break;
	}
	if (after != NULL && f->arg != NULL && admin_first_ok(f, n, &ok) != -1 &&
	    ok)
		after(f->arg);
	admin_fwd_free(f);
	cl->fwd = NULL;
	/* Go on with the lines that came meanwhile. */
	event_active(cl->kick, EV_TIMEOUT, 0);
}

/* Records worker w's reply (or an error in its place). */
static void
admin_fwd_reply(struct admin_client *cl, int w, struct evbuffer *from,
    size_t len, const char *err)
{
	struct admin_fwd	*f = cl->fwd;

	if (f == NULL || f->reply[w] != NULL)
		return;
	f->reply[w] = xevbuffer_new();
	if (err != NULL)
		evbuffer_add_printf(f->reply[w], "%s", err);
	else
		evbuffer_remove_buffer(from, f->reply[w], len);
	if (--f->pending == 0)
		admin_fwd_done(cl);
}

/* Passes a worker's event lines on to a watching client. */
static void
admin_chan_stream(struct admin_chan *ch, struct evbuffer *in)
{
	struct admin_client	*cl = ch->cl;
	struct evbuffer_ptr	 eol;
	size_t			 len;

	for (;;) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		if (eol.pos == -1)
			break;
		len = (size_t)eol.pos + 1;
		if (evbuffer_get_length(admin_out(cl)) + len > ADMIN_WATCH_MAX) {
			cl->dropped++;
			evbuffer_drain(in, len);
		} else
			evbuffer_remove_buffer(in, admin_out(cl), len);
	}
	/* A line longer than any event: not ours to keep. */
	if (evbuffer_get_length(in) > ADMIN_EVENT_MAX)
		evbuffer_drain(in, evbuffer_get_length(in));
}

/* A worker wrote on a channel: a reply to wait for, or events. */
static void
admin_chan_read_cb(struct bufferevent *bev, void *arg)
{
	struct admin_chan	*ch = arg;
	struct admin_client	*cl = ch->cl;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 end;

	end = evbuffer_search(in, "\n\n", 2, NULL);
	if (ch->watch) {
		if (!ch->answered) {
			if (end.pos == -1)
				return;
			/* Its "OK watching": the client gets ours once all are. */
			evbuffer_drain(in, (size_t)end.pos + 2);
			ch->answered = true;
			if (cl->fwd != NULL) {
				/* admin_fwd_done passes on what follows. */
				admin_fwd_reply(cl, ch->w, NULL, 0, "OK\n\n");
				return;
			}
		}
		if (cl->dead || cl->closing)
			evbuffer_drain(in, evbuffer_get_length(in));
		else if (cl->fwd == NULL)
			admin_chan_stream(ch, in);
		return;
	}
	if (end.pos == -1)
		return;
	if (cl->fwd == NULL) {
		/* Nothing asked (the reply of a command given up on). */
		evbuffer_drain(in, (size_t)end.pos + 2);
		return;
	}
	admin_fwd_reply(cl, ch->w, in, (size_t)end.pos + 2, NULL);
}

/* A channel's output drained: raw data that waited for it goes on. */
static void
admin_chan_write_cb(struct bufferevent *bev, void *arg)
{
	struct admin_chan	*ch = arg;

	(void)bev;
	if (ch->cl->data_left > 0)
		event_active(ch->cl->kick, EV_TIMEOUT, 0);
}

/*
 * Raw data after a command line (sendbytes): on to the worker the line
 * went to, as it arrives, while its channel takes it (memory stays
 * bounded by ADMIN_RELAY_DATA_MAX a client); a worker gone takes nothing
 * more, and the data is dropped.
 */
static size_t
admin_relay_data(struct admin_client *cl, const uint8_t *p, size_t len,
    bool end)
{
	struct admin_chan	*ch;

	(void)end;
	if (cl->data_to < 0 || cl->chan == NULL ||
	    (ch = cl->chan[cl->data_to]) == NULL)
		return len;
	if (evbuffer_get_length(bufferevent_get_output(ch->bev)) >
	    ADMIN_RELAY_DATA_MAX)
		return 0;
	bufferevent_write(ch->bev, p, len);
	return len;
}

/* A channel closed: its worker went away. */
static void
admin_chan_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct admin_chan	*ch = arg;
	struct admin_client	*cl = ch->cl;
	char			 err[96];
	int			 w = ch->w;

	(void)bev;
	(void)what;
	admin_chan_free(ch);
	snprintf(err, sizeof(err), "ERR %d worker %d went away\n\n",
	    WSD_ERR_UNAVAILABLE, w);
	if (cl->fwd != NULL)
		admin_fwd_reply(cl, w, NULL, 0, err);
}

/*
 * Master: worker i was restarted and waits to accept; every watcher gets
 * a channel to it that watches from the start, so no event is missed.
 */
void
admin_worker_up(int i)
{
	struct admin_client	*cl;

	TAILQ_FOREACH(cl, &admin.clients, entry) {
		if (!cl->watching || cl->dead || cl->closing ||
		    (cl->chan != NULL && cl->chan[i] != NULL))
			continue;
		(void)admin_chan_get(cl, i, true);
	}
}

/*
 * The master's dispatcher: sends a request to the workers its relay names,
 * or runs it here (ADMIN_RELAY_SELF).
 */
static void
admin_relay_dispatch(struct admin_client *cl, const struct admin_req *r,
    const char *line, size_t len)
{
	enum admin_relay	 relay = admin_req_relay(r);
	struct admin_fwd	*f;
	struct admin_chan	*ch;
	char			 err[96], node[FLEET_NODE_MAX + 1];
	int			 i, n = workers_count(), only = -1;

	/* Another node's connection: the master sends it there. */
	if (relay == ADMIN_RELAY_SELF || (relay == ADMIN_RELAY_OWNER &&
	    fleet_id_remote(r->argv[0], node) == 1)) {
		admin_run(cl, r);
		return;
	}
	if (relay == ADMIN_RELAY_OWNER)
		only = admin_owner(r->argv[0]);
	/* Raw data after the line (sendbytes) follows it to its worker. */
	cl->data_to = only;
	f = xcalloc(1, sizeof(*f));
	f->relay = relay;
	f->cmd = r->cmd;
	f->json = r->json;
	/* A setting of one connection is no setting of the master's. */
	if (admin_relay_after[r->cmd] != NULL && relay != ADMIN_RELAY_OWNER)
		f->arg = xstrdup(r->argc > 0 ? r->tail[0] : "");
	cl->fwd = f;
	for (i = 0; i < n; i++) {
		if (only != -1 && i != only)
			continue;
		f->pending++;
	}
	for (i = 0; i < n && cl->fwd == f; i++) {
		if (only != -1 && i != only)
			continue;
		if ((ch = admin_chan_get(cl, i, false)) == NULL) {
			snprintf(err, sizeof(err), "ERR %d worker %d is not "
			    "serving (restarting)\n\n", WSD_ERR_UNAVAILABLE, i);
			admin_fwd_reply(cl, i, NULL, 0, err);
			continue;
		}
		ch->watch = relay == ADMIN_RELAY_STREAM;
		bufferevent_write(ch->bev, line, len);
	}
}

/* The master's LogFile was reopened: so are the workers'. */
static void
admin_relay_reopened(void)
{
	workers_signal(SIGUSR1);
}

const struct admin_role admin_master_role = {
	.dispatch = admin_relay_dispatch,
	.nconns = workers_conn_total,
	.memory = workers_mem,
	.reopened = admin_relay_reopened,
	.client_free = admin_relay_free,
	.data = admin_relay_data,
};
