/* conn-ctl.c - what the admin socket and the backends read and set on a connection: fields, lookup, AcceptData, Timeout, LineMode, pings, whole messages, SendFile. */
#include <sys/types.h>

#include <string.h>

#include <event2/buffer.h>

#include "conf/config.h"
#include "event/backend.h"
#include "event/conn-int.h"
#include "event/runtime.h"

struct event_base *
conn_base(const struct conn *c)
{
	return runtime_base();
}

const struct config *
conn_config(const struct conn *c)
{
	return c->cfg;
}

const char *
conn_id(const struct conn *c)
{
	return c->id;
}

const struct route *
conn_route(const struct conn *c)
{
	return c->route;
}

const char *
conn_subprotocol(const struct conn *c)
{
	return c->x != NULL ? c->x->subprotocol : NULL;
}

/* State a backend keeps for a connection before it is open; see conn.h. */
void
conn_set_backend_state(struct conn *c, void *st, void (*fn)(void *))
{
	struct conn_extra	*x = conn_extra(c);

	if (x->bstate_free != NULL)
		x->bstate_free(x->bstate);
	x->bstate = st;
	x->bstate_free = fn;
}

void *
conn_backend_state(const struct conn *c)
{
	return c->x != NULL ? c->x->bstate : NULL;
}

const char *
conn_remote_addr(const struct conn *c)
{
	return c->raddr;
}

int
conn_remote_port(const struct conn *c)
{
	return c->rport;
}

const char *
conn_local_addr(const struct conn *c)
{
	return c->raddr + c->laddr_off;
}

int
conn_local_port(const struct conn *c)
{
	return c->lport;
}

bool
conn_is_tls(const struct conn *c)
{
	return c->tls;
}

struct ssl_st *
conn_ssl(const struct conn *c)
{
	return conn_io_ssl(c);
}

void
conn_get_info(const struct conn *c, struct conn_info *ci)
{
	static const char *const states[] = {
		[CONN_HANDSHAKE] = "handshake",
		[CONN_VERDICT] = "verdict",
		[CONN_OPEN] = "open",
		[CONN_CLOSING] = "closing",
		[CONN_DRAINING] = "draining",
	};

	memset(ci, 0, sizeof(*ci));
	ci->id = c->id;
	ci->state = states[c->state];
	ci->connected = c->state == CONN_OPEN;
	ci->accept_data = !c->paused_admin;
	ci->line_mode = c->line_mode;
	ci->ready_to_send = c->state == CONN_OPEN && !conn_output_full(c);
	ci->sending_file = conn_file_get(c) != NULL;
	ci->timeout = c->timeout;
	ci->route = c->route != NULL ? c->route->name : "";
	ci->age_ms = util_now_ms() - c->t_start;
	ci->bytes_in = c->bytes_in;
	ci->bytes_out = c->bytes_out;
	ci->msgs_in = c->msgs_in;
	ci->msgs_out = c->msgs_out;
}

struct conn *
conn_find(const char *id)
{
	struct conn	*c;

	TAILQ_FOREACH(c, &conns, entry) {
		if (strcmp(c->id, id) == 0)
			return c;
	}
	return NULL;
}

struct conn *
conn_first(void)
{
	return TAILQ_FIRST(&conns);
}

struct conn *
conn_next(const struct conn *c)
{
	return TAILQ_NEXT(c, entry);
}

void
conn_set_accept_data(struct conn *c, bool on)
{
	c->paused_admin = !on;
	conn_update_read(c);
	if (on && (c->state == CONN_OPEN || c->state == CONN_CLOSING) &&
	    evbuffer_get_length(c->in) > 0)
		conn_post(c, CONN_POST_KICK);
}

void
conn_set_timeout(struct conn *c, int seconds)
{
	c->timeout = seconds;
	c->timeout_set = true;
	conn_io_set_timeout(c, seconds);
}

void
conn_set_line_mode(struct conn *c, bool on)
{
	c->line_mode = on;
}

int
conn_ping(struct conn *c, const void *data, size_t len)
{
	if (c->state != CONN_OPEN)
		return -1;
	return ws_session_ping(c->ws, data, len);
}

int
conn_send_admin(struct conn *c, enum ws_msg_type type, const void *data,
    size_t len)
{
	if (c->state != CONN_OPEN)
		return -1;
	if (conn_file_get(c) != NULL || c->backend_msg_open ||
	    conn_held_len(c) > 0)
		return -2;
	if (conn_output_full(c))
		return -3;
	if (conn_queue(c, type, data, len, true, true) == -1)
		return -1;
	conn_queued(c);
	return 0;
}

int
conn_sendfile(struct conn *c, int fd, conn_file_cb done, void *arg)
{
	if (c->state != CONN_OPEN)
		return -1;
	if (conn_file_get(c) != NULL || c->backend_msg_open ||
	    conn_held_len(c) > 0)
		return -2;
	conn_enter(c);
	conn_file_start(c, fd, done, arg);
	conn_leave(c);
	return 0;
}

int
conn_interrupt(struct conn *c)
{
	if (conn_file_get(c) == NULL)
		return -1;
	conn_enter(c);
	conn_file_end(c, CONN_FILE_INTERRUPTED, 0);
	conn_output_resume(c);
	conn_leave(c);
	return 0;
}
