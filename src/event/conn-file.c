/* conn-file.c - SendFile: a file as one binary message, read as the client drains, backend output held meanwhile; whether the output is full, and why the connection closed. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "event/backend.h"
#include "base/log.h"
#include "conf/config.h"
#include "event/conn-int.h"
#include "event/runtime.h"

/* Header of a backend piece held back while a sendfile runs. */
struct conn_piece {
	size_t		 len;
	enum ws_msg_type type;
	bool		 first;
	bool		 last;
};

/* Queues a piece of a message for the client; see conn-int.h. */
int
conn_queue(struct conn *c, enum ws_msg_type type, const void *data,
    size_t len, bool first, bool last)
{
	if (ws_session_send(c->ws, type, data, len, first, last) == -1)
		return -1;
	c->out_s = conn_clock;
	if (last) {
		c->msgs_out++;
		runtime_stats()->msgs_out++;
	}
	return 0;
}

/*
 * After queueing: over the high mark the producers pause. The memory is
 * recounted by the flush this round posted (once for all it queued), or
 * now when a write waits for the socket and none is posted.
 */
void
conn_queued(struct conn *c)
{
	if (conn_out_len(c) > CONN_OUT_HIGH)
		c->paused_output = true;
	if (!(c->posted & CONN_POST_FLUSH))
		conn_account(c);
}

/* Starts a sendfile of fd; see conn_sendfile in conn.h. */
void
conn_file_start(struct conn *c, int fd, conn_file_cb done, void *arg)
{
	struct conn_file	*f;
	struct stat		 sb;
	off_t			 off;

	f = xcalloc(1, sizeof(*f));
	f->fd = fd;
	if (fstat(fd, &sb) == 0 && sb.st_size > 0) {
		off = lseek(fd, 0, SEEK_CUR);
		f->size = (uint64_t)sb.st_size - (off > 0 &&
		    off < sb.st_size ? (uint64_t)off : 0);
	}
	f->bufsize = (size_t)c->cfg->max_frame_size < CONN_FILE_CHUNK ?
	    (size_t)c->cfg->max_frame_size : CONN_FILE_CHUNK;
	f->buf = xmalloc(f->bufsize);
	f->done = done;
	f->arg = arg;
	conn_extra(c)->file = f;
	/* The backend and the client wait until the file is out. */
	c->paused_output = true;
	conn_update_read(c);
	conn_file_pump(c);
	if (conn_file_get(c) == NULL)
		conn_output_resume(c);
}

/* Holds a backend piece back while a sendfile owns the message stream. */
void
conn_hold(struct conn *c, enum ws_msg_type type, const void *data,
    size_t len, bool first, bool last)
{
	struct conn_piece	 h;
	struct conn_extra	*x = conn_extra(c);

	memset(&h, 0, sizeof(h));
	h.len = len;
	h.type = type;
	h.first = first;
	h.last = last;
	if (x->held == NULL)
		x->held = xevbuffer_new();
	evbuffer_add(x->held, &h, sizeof(h));
	evbuffer_add(x->held, data, len);
	c->paused_output = true;
	conn_account(c);
}


/*
 * Ends a sendfile and reports it. Unless the WebSocket is closing, an
 * unfinished message gets an empty final fragment so that the stream
 * stays valid for what comes next.
 */
void
conn_file_end(struct conn *c, enum conn_file_status st, int err)
{
	struct conn_file	*f = conn_file_get(c);

	if (f == NULL)
		return;
	c->x->file = NULL;
	if (st != CONN_FILE_DONE && st != CONN_FILE_CLOSED &&
	    c->state == CONN_OPEN)
		(void)conn_queue(c, WS_MSG_BINARY, NULL, 0, !f->started, true);
	close(f->fd);
	free(f->buf);
	f->done(f->arg, st, f->sent, err);
	free(f);
}

/* Queues file fragments until the client's queue is full or the file ends. */
void
conn_file_pump(struct conn *c)
{
	struct conn_file	*f;
	size_t			 want;
	ssize_t			 n;
	bool			 last;

	/* c->out is read each time: a plain queue is taken on first write. */
	while ((f = conn_file_get(c)) != NULL && c->state == CONN_OPEN &&
	    conn_out_len(c) <= CONN_OUT_HIGH) {
		want = f->bufsize;
		if (f->size - f->sent < want)
			want = (size_t)(f->size - f->sent);
		n = want > 0 ? read(f->fd, f->buf, want) : 0;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_error("%s sendfile: read: %s", c->id, strerror(errno));
			conn_file_end(c, CONN_FILE_ERROR, errno);
			return;
		}
		/* A file that shrank ends early; one that grows is cut. */
		last = n == 0 || f->sent + (uint64_t)n >= f->size;
		if (conn_queue(c, WS_MSG_BINARY, f->buf, (size_t)n,
		    !f->started, last) == -1) {
			conn_file_end(c, CONN_FILE_CLOSED, 0);
			return;
		}
		f->started = true;
		f->sent += (uint64_t)n;
		if (last) {
			conn_file_end(c, CONN_FILE_DONE, 0);
			return;
		}
	}
	if (conn_file_get(c) != NULL && c->state != CONN_OPEN)
		conn_file_end(c, CONN_FILE_CLOSED, 0);
}

/* Sends the backend pieces held back during a sendfile, in order. */
void
conn_flush_held(struct conn *c)
{
	struct conn_piece	 h;
	uint8_t			*p;

	while (conn_held_len(c) >= sizeof(h)) {
		evbuffer_copyout(c->x->held, &h, sizeof(h));
		p = evbuffer_pullup(c->x->held, (ev_ssize_t)(sizeof(h) + h.len));
		if (c->state == CONN_OPEN && p != NULL &&
		    conn_queue(c, h.type, p + sizeof(h), h.len, h.first,
		    h.last) == 0)
			c->backend_msg_open = !h.last;
		evbuffer_drain(c->x->held, sizeof(h) + h.len);
	}
}

/*
 * After a sendfile ended outside the write callback: flush what the
 * backend sent meanwhile and, if the queue is low, let it and the client
 * go on (otherwise the write callback does that when it drains).
 */
void
conn_output_resume(struct conn *c)
{
	if (conn_file_get(c) != NULL || c->state == CONN_DRAINING ||
	    (c->x != NULL && c->x->admin_open))
		return;
	conn_flush_held(c);
	if (!c->paused_output || conn_out_len(c) > CONN_OUT_LOW)
		return;
	c->paused_output = false;
	if (c->b != NULL && c->bops->writable != NULL)
		c->bops->writable(c->b);
	if (c->dead)
		return;
	if (evbuffer_get_length(c->in) > 0)
		conn_post(c, CONN_POST_KICK);
	conn_update_read(c);
}

/* The recorded close code and reason; see conn.h. */
int
conn_close_status(const struct conn *c, const char **reason)
{
	*reason = c->cl != NULL ? c->cl->reason : "";
	return c->cl != NULL ? c->cl->code : 0;
}

bool
conn_output_full(const struct conn *c)
{
	return conn_mem_is_over() || conn_file_get(c) != NULL ||
	    conn_held_len(c) > 0 || (c->x != NULL && c->x->admin_open) ||
	    conn_out_len(c) > CONN_OUT_HIGH;
}
