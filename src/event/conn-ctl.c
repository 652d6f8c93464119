/* conn-ctl.c - what the admin socket and the backends read and set on a connection: fields, lookup, its settings (config ID), pings, the admin's messages, SendFile. */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "conf/config.h"
#include "event/backend.h"
#include "base/error.h"
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
	if (c->state != CONN_OPEN || ws_session_ping(c->ws, data, len) == -1)
		return -1;
	/* The next pong's round trip, and PingTimeout, count from here. */
	c->ping_us = util_now_us();
	c->ping_out = true;
	return 0;
}

/* Whether the admin may queue more now: the client's queue has room. */
bool
conn_admin_room(const struct conn *c)
{
	return c->state == CONN_OPEN && !conn_mem_is_over() &&
	    conn_out_len(c) <= CONN_OUT_HIGH;
}

uint64_t
conn_admin_left(const struct conn *c)
{
	return c->x != NULL ? c->x->admin_left : 0;
}

/*
 * The admin's message in parts is over (its last part is queued, or it
 * was cut short): what the backend sent meanwhile goes out, and it and
 * the client go on as after a sendfile.
 */
static void
conn_admin_end(struct conn *c)
{
	c->x->admin_open = false;
	c->x->admin_left = 0;
	c->paused_output = true;
	conn_output_resume(c);
}

/* Queues data from the admin socket; see conn.h. */
int
conn_send_admin(struct conn *c, enum ws_msg_type type, const void *data,
    size_t len, bool parts)
{
	struct conn_extra	*x = c->x;
	bool			 first, last;

	if (c->state != CONN_OPEN)
		return -1;
	if (!parts || x == NULL || x->admin_left == 0) {
		/* A whole message. */
		if (conn_file_get(c) != NULL || c->backend_msg_open ||
		    conn_held_len(c) > 0 || (x != NULL && x->admin_open))
			return -2;
		if (conn_output_full(c))
			return -3;
		if (conn_queue(c, type, data, len, true, true) == -1)
			return -1;
		conn_queued(c);
		return 0;
	}
	/* The next part of the MessageLength message. */
	first = !x->admin_open;
	if (first && (conn_file_get(c) != NULL || c->backend_msg_open ||
	    conn_held_len(c) > 0))
		return -2;
	if (!conn_admin_room(c))
		return -3;
	if (len > x->admin_left)
		return -4;
	if (!first && type != x->admin_type)
		return -5;
	last = len == x->admin_left;
	if (conn_queue(c, type, data, len, first, last) == -1)
		return -1;
	x->admin_type = type;
	x->admin_open = true;
	x->admin_left -= len;
	conn_enter(c);
	conn_queued(c);
	if (last)
		conn_admin_end(c);
	conn_leave(c);
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
	if (conn_file_get(c) == NULL) {
		if (c->x == NULL || (!c->x->admin_open && c->x->admin_left == 0))
			return -1;
		/* The admin's message in parts: an empty last part ends it. */
		conn_enter(c);
		if (c->x->admin_open && c->state == CONN_OPEN)
			(void)conn_queue(c, c->x->admin_type, NULL, 0, false,
			    true);
		conn_admin_end(c);
		conn_leave(c);
		return 1;
	}
	conn_enter(c);
	conn_file_end(c, CONN_FILE_INTERRUPTED, 0);
	conn_output_resume(c);
	conn_leave(c);
	return 0;
}

/* LineMode: whether the line passed on now was cut; see conn.h. */
bool
conn_line_cut(const struct conn *c)
{
	return c->line_cut;
}

/*
 * The settings of one connection (config ID, a mux backend's config):
 * name, range, read-only, and the own setting it is (enum conn_own, or -1
 * for those kept elsewhere).
 */
static const struct conn_setting {
	const char	*name;
	long long	 min, max;
	bool		 readonly;
	int		 own;
} conn_settings[] = {
	{ "Timeout", 0, 86400, false, -1 },
	{ "LineMode", 0, 1, false, -1 },
	{ "AcceptData", 0, 1, false, -1 },
	{ "ReadyToSend", 0, 1, true, -1 },
	{ "MaxLineLength", 0, INT32_MAX, false, CONN_OWN_MAX_LINE },
	{ "PingInterval", 0, 86400, false, CONN_OWN_PING_INTERVAL },
	{ "PingTimeout", 0, 86400, false, CONN_OWN_PING_TIMEOUT },
	{ "IdleTimeout", 0, 86400, false, CONN_OWN_IDLE_TIMEOUT },
	{ "MessageLength", 0, (long long)1 << 40, false, -1 },
};
#define CONN_NSETTINGS	(sizeof(conn_settings) / sizeof(conn_settings[0]))

/* A setting's name by index (NULL past the end), for a listing. */
const char *
conn_setting_name(size_t i)
{
	return i < CONN_NSETTINGS ? conn_settings[i].name : NULL;
}

/* The setting called key (any case), or NULL. */
static const struct conn_setting *
conn_setting_find(const char *key)
{
	size_t	i;

	for (i = 0; i < CONN_NSETTINGS; i++) {
		if (strcasecmp(conn_settings[i].name, key) == 0)
			return &conn_settings[i];
	}
	return NULL;
}

/* The value in force of a setting of c. */
static long long
conn_setting_value(const struct conn *c, const struct conn_setting *k)
{
	const struct route	*r = c->route;

	switch (k->own) {
	case CONN_OWN_MAX_LINE:
		return conn_own(c, CONN_OWN_MAX_LINE, -1,
		    c->cfg->max_line_length);
	case CONN_OWN_PING_INTERVAL:
		return conn_own(c, CONN_OWN_PING_INTERVAL, r != NULL ?
		    r->ping_interval : -1, c->cfg->ping_interval);
	case CONN_OWN_PING_TIMEOUT:
		return conn_own(c, CONN_OWN_PING_TIMEOUT, r != NULL ?
		    r->ping_timeout : -1, c->cfg->ping_timeout);
	case CONN_OWN_IDLE_TIMEOUT:
		return conn_own(c, CONN_OWN_IDLE_TIMEOUT, r != NULL ?
		    r->idle_timeout : -1, c->cfg->idle_timeout);
	}
	if (strcmp(k->name, "Timeout") == 0)
		return c->timeout;
	if (strcmp(k->name, "LineMode") == 0)
		return c->line_mode;
	if (strcmp(k->name, "AcceptData") == 0)
		return !c->paused_admin;
	if (strcmp(k->name, "ReadyToSend") == 0)
		return c->state == CONN_OPEN && !conn_output_full(c);
	return (long long)conn_admin_left(c);		/* MessageLength */
}

/* A setting's value as text; see conn.h. */
const char *
conn_setting_get(const struct conn *c, const char *key, char *buf,
    size_t len)
{
	const struct conn_setting	*k;

	if ((k = conn_setting_find(key)) == NULL)
		return NULL;
	snprintf(buf, len, "%lld", conn_setting_value(c, k));
	return k->name;
}

/* Sets a setting of c from text; see conn.h. */
int
conn_setting_set(struct conn *c, const char *key, const char *value,
    char **cause)
{
	const struct conn_setting	*k;
	struct conn_extra		*x;
	long long			 v;
	char				*end;

	if ((k = conn_setting_find(key)) == NULL) {
		xasprintf(cause, "unknown setting \"%.64s\"", key);
		return WSD_ERR_NOKEY;
	}
	if (k->readonly) {
		xasprintf(cause, "%s is read-only", k->name);
		return WSD_ERR_FIXED;
	}
	errno = 0;
	v = strtoll(value, &end, 10);
	if (*value < '0' || *value > '9' || *end != '\0' || errno != 0 ||
	    v < k->min || v > k->max) {
		xasprintf(cause, "%s must be %lld-%lld, not \"%.32s\"", k->name,
		    k->min, k->max, value);
		return WSD_ERR_VALUE;
	}
	if (k->own >= 0) {
		x = conn_extra(c);
		x->own[k->own] = (int32_t)v;
		x->own_set |= 1u << k->own;
	} else if (strcmp(k->name, "Timeout") == 0)
		conn_set_timeout(c, (int)v);
	else if (strcmp(k->name, "LineMode") == 0)
		conn_set_line_mode(c, v == 1);
	else if (strcmp(k->name, "AcceptData") == 0)
		conn_set_accept_data(c, v == 1);
	else {
		/* MessageLength: the next v bytes the admin sends are one. */
		if ((uint64_t)v > c->cfg->max_message_size) {
			xasprintf(cause, "MessageLength is at most MaxMessageSize "
			    "(%llu)", (unsigned long long)
			    c->cfg->max_message_size);
			return WSD_ERR_VALUE;
		}
		x = conn_extra(c);
		if (x->admin_open) {
			xasprintf(cause, "a message in parts is being sent "
			    "(%llu bytes to come)", (unsigned long long)
			    x->admin_left);
			return WSD_ERR_BUSY;
		}
		x->admin_left = (uint64_t)v;
	}
	return 0;
}

size_t
conn_memory(bool *over)
{
	*over = conn_mem_is_over();
	return conn_mem_total();
}

void
conn_close_all(int code, const char *reason)
{
	struct conn	*c, *next;

	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c->state == CONN_OPEN)
			conn_close(c, code, reason);
		else if ((c->state == CONN_HANDSHAKE ||
		    c->state == CONN_VERDICT) && c->busy == 0)
			conn_drop(c, 0, "server", "shutdown", false);
	}
}

void
conn_abort_all(void)
{
	struct conn	*c, *next;

	/* From the shutdown's timer: no frame of a connection is open. */
	for (c = TAILQ_FIRST(&conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		conn_drop(c, 1006, "server", "shutdown timeout", false);
	}
}
