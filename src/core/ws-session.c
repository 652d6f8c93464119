/* ws-session.c - one WebSocket connection's protocol state after the handshake. */
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ws-deflate.h"
#include "core/ws-frame.h"
#include "core/ws-session.h"
#include "core/ws-utf8.h"

/*
 * A buffered message (buffer_message) is kept in one per-session buffer
 * that is reused across messages. It starts at SESSION_BUF_MIN and doubles;
 * once a large message is done it is cut back to SESSION_BUF_KEEP so that
 * an idle connection does not hold on to its largest message ever.
 */
#define SESSION_BUF_MIN		1024
#define SESSION_BUF_KEEP	(64 * 1024)

/* The close reason must fit a control frame together with the 2-byte code. */
#define SESSION_REASON_MAX	(WS_CONTROL_MAX - 2)

/*
 * Bound on decoder calls in a row that consume nothing. The decoder needs
 * at most two such calls (HEADER then END of an empty frame); more means
 * it is stuck, which must not become an endless loop.
 */
#define SESSION_IDLE_MAX	4

/* A buffered message: one block, header and bytes. */
struct session_buf {
	size_t		len;
	size_t		cap;
	uint8_t		data[];
};

/*
 * Laid out for size: an idle server holds one per connection, so flags are
 * bits, small enums are bytes, and what is shared or rare lives elsewhere
 * (the callbacks table is the caller's; a control payload is read where it
 * arrived, and copied only when it came in pieces).
 */
struct ws_session {
	const struct ws_session_callbacks *cb;
	void				*arg;
	uint64_t			 max_message_size;
	size_t				 max_frame_size;
	struct ws_frame_decoder		 dec;
	uint64_t			 fremaining;	/* payload still to come */
	uint64_t			 msg_len;	/* announced so far */
	struct ws_utf8			 utf8;

	uint8_t				 state;		/* ws_session_state */
	uint8_t				 fop;		/* frame's opcode */
	uint8_t				 msg_type;	/* ws_msg_type received */
	uint8_t				 out_type;	/* ws_msg_type sent */
	uint8_t				 ctl_len;
	bool				 buffer_message:1;
	bool				 ffin:1;	/* the frame has FIN */
	bool				 in_msg:1;	/* a message is coming in */
	bool				 msg_started:1;	/* its first piece is out */
	bool				 msg_deflated:1;	/* it is compressed */
	bool				 out_open:1;	/* a message is going out */
	bool				 out_deflated:1;	/* it is compressed */
	bool				 out_started:1;	/* its first frame is out */
	bool				 ctl_owned:1;	/* ctl is ours (malloc'd) */

	/*
	 * A control frame's payload: the caller's bytes while it is whole in
	 * one feed call (it then ends in that call), else a WS_CONTROL_MAX
	 * copy that lives until the frame ends.
	 */
	const uint8_t			*ctl;

	/* buffer_message: the message gathered so far; NULL until one. */
	struct session_buf		*buf;

	/* permessage-deflate; NULL when not negotiated. */
	struct ws_deflate		*deflate;
};

static void	*session_realloc(void *, size_t);
static void	 session_write_frame(struct ws_session *, bool, uint8_t,
		    uint8_t, const void *, size_t);
static void	 session_write_close(struct ws_session *, int, const char *,
		    size_t);
static int	 session_fail(struct ws_session *, int, const char *);
static void	 session_closed(struct ws_session *, enum ws_close_how, int,
		    const char *, size_t);
static int	 session_header(struct ws_session *,
		    const struct ws_frame_header *);
static int	 session_payload(struct ws_session *, const uint8_t *, size_t);
static int	 session_end(struct ws_session *);
static int	 session_control(struct ws_session *);
static int	 session_peer_close(struct ws_session *);
static int	 session_deliver(struct ws_session *, const uint8_t *, size_t,
		    bool);
static int	 session_inflate(struct ws_session *, const uint8_t *, size_t,
		    bool);
static int	 session_send_deflated(struct ws_session *, enum ws_msg_type,
		    const void *, size_t, bool);
static void	 session_buf_append(struct ws_session *, const uint8_t *,
		    size_t);
static void	 session_buf_done(struct ws_session *);
static void	 session_ctl_drop(struct ws_session *);

/* Resizes memory; the protocol core has no way to go on without it. */
static void *
session_realloc(void *p, size_t size)
{
	void	*q;

	if ((q = realloc(p, size)) == NULL)
		abort();
	return q;
}

/* Creates a session in WS_STATE_OPEN. */
struct ws_session *
ws_session_new(const struct ws_session_config *cfg,
    const struct ws_session_callbacks *cb, void *arg)
{
	struct ws_session	*s;

	s = session_realloc(NULL, sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->cb = cb;
	s->arg = arg;
	s->max_message_size = cfg->max_message_size;
	s->max_frame_size = cfg->max_frame_size;
	s->buffer_message = cfg->buffer_message;
	s->state = WS_STATE_OPEN;
	ws_frame_decoder_init(&s->dec, true);
	ws_utf8_init(&s->utf8);
	if (cfg->deflate != NULL) {
		s->deflate = ws_deflate_new(cfg->deflate, cfg->deflate_cfg);
		s->dec.rsv_allowed = WS_RSV1;
	}
	return s;
}

/* Frees a session, its message buffer and its deflate streams. */
void
ws_session_free(struct ws_session *s)
{
	if (s == NULL)
		return;
	ws_deflate_free(s->deflate);
	session_ctl_drop(s);
	free(s->buf);
	free(s);
}

/* Returns the session's state. */
enum ws_session_state
ws_session_state(const struct ws_session *s)
{
	return (enum ws_session_state)s->state;
}

/* Lets an extension (permessage-deflate) use RSV bits in received frames. */
void
ws_session_set_rsv_allowed(struct ws_session *s, uint8_t rsv)
{
	s->dec.rsv_allowed = rsv | (s->deflate != NULL ? WS_RSV1 : 0);
}

/* Returns the bytes the session holds now, deflate streams included. */
size_t
ws_session_memory(const struct ws_session *s)
{
	return sizeof(*s) + (s->buf != NULL ? sizeof(*s->buf) + s->buf->cap :
	    0) + (s->ctl_owned ? WS_CONTROL_MAX : 0) +
	    (s->deflate != NULL ? ws_deflate_memory(s->deflate) : 0);
}

/* The message buffer's size and fill; see ws-session.h. */
size_t
ws_session_buffered(const struct ws_session *s, size_t *pending)
{
	if (s->buf == NULL) {
		*pending = 0;
		return 0;
	}
	*pending = s->buf->len;
	return s->buf->cap;
}

/* Returns the default reason text for a close code ("" when none). */
const char *
ws_close_reason_text(int code)
{
	switch (code) {
	case 1000:
		return "Normal closure";
	case 1001:
		return "Going away";
	case 1002:
		return "Protocol error";
	case 1003:
		return "Unsupported data";
	case 1007:
		return "Invalid payload data";
	case 1008:
		return "Policy violation";
	case 1009:
		return "Message too big";
	case 1010:
		return "Mandatory extension";
	case 1011:
		return "Internal error";
	default:
		return "";
	}
}

/*
 * Writes one unmasked frame: the header, then the payload straight from
 * the caller's memory, so that large messages are never copied here.
 */
static void
session_write_frame(struct ws_session *s, bool fin, uint8_t rsv,
    uint8_t opcode, const void *data, size_t len)
{
	uint8_t	hdr[WS_HEADER_MAX];
	size_t	hlen;

	hlen = ws_frame_header_encode(hdr, fin, rsv, opcode, len, NULL);
	s->cb->write(s->arg, hdr, hlen);
	if (len > 0)
		s->cb->write(s->arg, data, len);
}

/* Writes a close frame; code 0 means one without a code (and reason). */
static void
session_write_close(struct ws_session *s, int code, const char *reason,
    size_t reason_len)
{
	uint8_t	p[WS_CONTROL_MAX];
	size_t	n = 0;

	if (code != 0) {
		if (reason_len > SESSION_REASON_MAX)
			reason_len = SESSION_REASON_MAX;
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		if (reason_len > 0)
			memcpy(p + 2, reason, reason_len);
		n = 2 + reason_len;
	}
	session_write_frame(s, true, 0, WS_OP_CLOSE, p, n);
}

/* Ends the session and reports how; the only place that enters CLOSED. */
static void
session_closed(struct ws_session *s, enum ws_close_how how, int code,
    const char *reason, size_t reason_len)
{
	s->state = WS_STATE_CLOSED;
	s->in_msg = false;
	if (s->buf != NULL)
		s->buf->len = 0;
	s->cb->closed(s->arg, how, code, reason, reason_len);
}

/*
 * Fails the connection (RFC 6455 7.1.7): the close frame goes out unless
 * ours already did, since nothing may follow our close frame. Returns err.
 */
static int
session_fail(struct ws_session *s, int err, const char *reason)
{
	int	code;

	switch (err) {
	case WS_ERR_PROTOCOL:
		code = 1002;
		break;
	case WS_ERR_UTF8:
		code = 1007;
		break;
	case WS_ERR_TOO_BIG:
		code = 1009;
		break;
	case WS_ERR_DATA_TYPE:
		code = 1003;
		break;
	default:
		err = WS_ERR_INTERNAL;
		code = 1011;
		break;
	}
	if (s->state == WS_STATE_OPEN)
		session_write_close(s, code, reason, strlen(reason));
	session_closed(s, WS_CLOSED_FAILED, code, reason, strlen(reason));
	return err;
}

/*
 * Feeds received bytes through the frame decoder. Returns 0, 1 once
 * closed, or the negative ws_error with which this call failed.
 */
int
ws_session_feed(struct ws_session *s, uint8_t *data, size_t len)
{
	struct ws_frame_ev	ev;
	ssize_t			n;
	int			rc, idle = 0;

	if (s->state == WS_STATE_CLOSED)
		return 1;
	for (;;) {
		n = ws_frame_decode(&s->dec, data, len, &ev);
		if (n < 0)
			return session_fail(s, (int)n, "Invalid frame");
		if ((size_t)n > len)
			return session_fail(s, WS_ERR_INTERNAL,
			    "Frame decoder overrun");
		data += n;
		len -= (size_t)n;
		idle = n > 0 ? 0 : idle + 1;
		switch (ev.type) {
		case WS_FRAME_NEED_MORE:
			if (len == 0)
				return 0;
			rc = 0;
			break;
		case WS_FRAME_HEADER:
			rc = session_header(s, &ev.header);
			break;
		case WS_FRAME_PAYLOAD:
			rc = session_payload(s, ev.data, ev.len);
			break;
		case WS_FRAME_END:
			rc = session_end(s);
			break;
		default:
			rc = session_fail(s, WS_ERR_INTERNAL,
			    "Unknown decoder event");
			break;
		}
		if (rc != 0)
			return rc;
		if (s->state == WS_STATE_CLOSED)
			return 1;
		if (idle > SESSION_IDLE_MAX)
			return session_fail(s, WS_ERR_INTERNAL,
			    "Frame decoder stuck");
	}
}

/*
 * Starts a frame: fragment sequencing and the message size limit are
 * checked here, so that a bad or huge frame fails before its payload.
 * Returns 0 or a negative ws_error.
 */
static int
session_header(struct ws_session *s, const struct ws_frame_header *h)
{
	uint64_t	max = s->max_message_size;

	s->fop = h->opcode;
	s->ffin = h->fin;
	s->fremaining = h->length;
	/* RFC 7692 6.1: RSV1 marks a compressed message on its first frame. */
	if (s->deflate != NULL && (h->rsv & WS_RSV1) &&
	    (h->opcode >= WS_OP_CLOSE || h->opcode == WS_OP_CONT))
		return session_fail(s, WS_ERR_PROTOCOL, "Unexpected RSV1 bit");
	if (h->opcode >= WS_OP_CLOSE) {
		session_ctl_drop(s);
		return 0;
	}
	if (h->opcode == WS_OP_CONT) {
		if (!s->in_msg)
			return session_fail(s, WS_ERR_PROTOCOL,
			    "Continuation frame without a message");
	} else {
		if (s->in_msg)
			return session_fail(s, WS_ERR_PROTOCOL,
			    "New message inside a fragmented message");
		s->in_msg = true;
		s->msg_type = h->opcode == WS_OP_TEXT ? WS_MSG_TEXT :
		    WS_MSG_BINARY;
		s->msg_started = false;
		s->msg_len = 0;
		if (s->buf != NULL)
			s->buf->len = 0;
		s->msg_deflated = s->deflate != NULL && (h->rsv & WS_RSV1);
		ws_utf8_init(&s->utf8);
	}
	/* The wire size of compressed data says nothing; inflating counts. */
	if (s->msg_deflated)
		return 0;
	/* Nothing is kept once we sent close, so there is nothing to bound. */
	if (max != 0 && s->state == WS_STATE_OPEN &&
	    (h->length > max || s->msg_len > max - h->length))
		return session_fail(s, WS_ERR_TOO_BIG, "Message too big");
	s->msg_len += h->length;
	return 0;
}

/*
 * Takes payload bytes: control payloads are gathered, text is validated
 * before anything of it is passed on. Returns 0 or a negative ws_error.
 */
static int
session_payload(struct ws_session *s, const uint8_t *data, size_t len)
{
	bool	last;

	if (len > s->fremaining)
		return session_fail(s, WS_ERR_INTERNAL, "Frame length mismatch");
	s->fremaining -= len;
	if (s->fop >= WS_OP_CLOSE) {
		if (len > (size_t)(WS_CONTROL_MAX - s->ctl_len))
			return session_fail(s, WS_ERR_INTERNAL,
			    "Control frame overrun");
		if (s->ctl_len == 0 && s->fremaining == 0) {
			/* Whole: its END comes in this same feed call. */
			s->ctl = data;
			s->ctl_len = (uint8_t)len;
			return 0;
		}
		if (!s->ctl_owned) {
			s->ctl = session_realloc(NULL, WS_CONTROL_MAX);
			s->ctl_owned = true;
		}
		memcpy((uint8_t *)s->ctl + s->ctl_len, data, len);
		s->ctl_len += (uint8_t)len;
		return 0;
	}
	if (len == 0)
		return 0;
	last = s->ffin && s->fremaining == 0;
	if (s->msg_deflated)
		return session_inflate(s, data, len, last);
	return session_deliver(s, data, len, last);
}

/*
 * Finishes a frame. Data frames have been delivered by now except for an
 * empty final frame, which still has to close its message.
 */
static int
session_end(struct ws_session *s)
{
	int	rc;

	if (s->fop >= WS_OP_CLOSE) {
		/* Once closed, the copy (if any) goes with the session. */
		if ((rc = session_control(s)) == 0)
			session_ctl_drop(s);
		return rc;
	}
	if (s->fremaining != 0)
		return session_fail(s, WS_ERR_INTERNAL, "Frame length mismatch");
	if (s->ffin && s->in_msg)
		return s->msg_deflated ? session_inflate(s, NULL, 0, true) :
		    session_deliver(s, NULL, 0, true);
	return 0;
}

/*
 * Inflates compressed payload bytes (fin: the message's last) and passes
 * the pieces on as they come out. The size limit is checked on each piece
 * before it is passed on or kept, so a small frame that inflates to
 * gigabytes fails after at most max_message_size + WS_DEFLATE_CHUNK bytes
 * of work and no memory growth. Returns 0 or a negative ws_error.
 */
static int
session_inflate(struct ws_session *s, const uint8_t *data, size_t len,
    bool fin)
{
	const uint8_t	*p;
	uint64_t	 max = s->max_message_size;
	size_t		 n;
	bool		 final;
	int		 rc;

	ws_deflate_inflate_input(s->deflate, data, len, fin);
	for (;;) {
		rc = ws_deflate_inflate_next(s->deflate, &p, &n, &final);
		if (rc == 0)
			return 0;
		if (rc < 0)
			return session_fail(s, WS_ERR_UTF8,
			    "Invalid compressed data");
		/* As for plain messages, nothing is bounded once we closed. */
		if (max != 0 && s->state == WS_STATE_OPEN &&
		    (n > max || s->msg_len > max - n))
			return session_fail(s, WS_ERR_TOO_BIG, "Message too big");
		s->msg_len += n;
		if ((rc = session_deliver(s, p, n, final)) != 0)
			return rc;
		if (final)
			return 0;
	}
}

/*
 * Validates and passes on one piece of the current data message; last
 * completes the message. Returns 0 or a negative ws_error.
 */
static int
session_deliver(struct ws_session *s, const uint8_t *data, size_t len,
    bool last)
{
	bool	first;

	if (s->msg_type == WS_MSG_TEXT) {
		/* Fail fast: the piece with the bad byte is never passed on. */
		if (len > 0 && ws_utf8_feed(&s->utf8, data, len) != 0)
			return session_fail(s, WS_ERR_UTF8,
			    "Invalid UTF-8 in text message");
		if (last && !ws_utf8_complete(&s->utf8))
			return session_fail(s, WS_ERR_UTF8,
			    "Truncated UTF-8 in text message");
	}
	if (last)
		s->in_msg = false;
	if (s->state != WS_STATE_OPEN) {
		/* We sent close: the rest is only checked, then dropped. */
		if (s->buf != NULL)
			s->buf->len = 0;
		return 0;
	}
	if (s->buffer_message) {
		if (len > 0)
			session_buf_append(s, data, len);
		if (!last)
			return 0;
		s->cb->message(s->arg, (enum ws_msg_type)s->msg_type,
		    s->buf != NULL ? s->buf->data : (const uint8_t *)"",
		    s->buf != NULL ? s->buf->len : 0, true, true);
		session_buf_done(s);
		return 0;
	}
	first = !s->msg_started;
	s->msg_started = true;
	s->cb->message(s->arg, (enum ws_msg_type)s->msg_type,
	    data != NULL ? data : (const uint8_t *)"", len, first, last);
	return 0;
}

/*
 * Appends to the message buffer, doubling it as needed. The header check
 * keeps the total within max_message_size, so the growth is bounded too.
 */
static void
session_buf_append(struct ws_session *s, const uint8_t *data, size_t len)
{
	struct session_buf	*b = s->buf;
	size_t			 have = b != NULL ? b->len : 0, need, cap;

	if (len > SIZE_MAX - have)
		abort();
	need = have + len;
	if (b == NULL || need > b->cap) {
		cap = b != NULL ? b->cap : SESSION_BUF_MIN;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
		if (s->max_message_size != 0 &&
		    cap > s->max_message_size && need <=
		    s->max_message_size)
			cap = (size_t)s->max_message_size;
		if (cap > SIZE_MAX - sizeof(*b))
			abort();
		b = session_realloc(b, sizeof(*b) + cap);
		b->len = have;
		b->cap = cap;
		s->buf = b;
	}
	memcpy(b->data + b->len, data, len);
	b->len = need;
}

/* Empties the message buffer and gives back what a big message took. */
static void
session_buf_done(struct ws_session *s)
{
	if (s->buf == NULL)
		return;
	s->buf->len = 0;
	if (s->buf->cap > SESSION_BUF_KEEP) {
		s->buf = session_realloc(s->buf, sizeof(*s->buf) +
		    SESSION_BUF_KEEP);
		s->buf->cap = SESSION_BUF_KEEP;
	}
}

/* Forgets the control payload, freeing it if it was a copy. */
static void
session_ctl_drop(struct ws_session *s)
{
	if (s->ctl_owned)
		free((void *)s->ctl);
	s->ctl = NULL;
	s->ctl_len = 0;
	s->ctl_owned = false;
}

/* Acts on a complete control frame. Returns 0, 1 or a negative ws_error. */
static int
session_control(struct ws_session *s)
{
	switch (s->fop) {
	case WS_OP_CLOSE:
		return session_peer_close(s);
	case WS_OP_PING:
		/* After our close frame nothing may be written, pongs included. */
		if (s->state != WS_STATE_OPEN)
			return 0;
		session_write_frame(s, true, 0, WS_OP_PONG, s->ctl, s->ctl_len);
		if (s->cb->ping != NULL)
			s->cb->ping(s->arg, s->ctl, s->ctl_len);
		return 0;
	case WS_OP_PONG:
		if (s->cb->pong != NULL)
			s->cb->pong(s->arg, s->ctl, s->ctl_len);
		return 0;
	default:
		return session_fail(s, WS_ERR_PROTOCOL, "Unknown control frame");
	}
}

/*
 * Handles the peer's close frame (RFC 6455 5.5.1, 7.4): checks code and
 * reason, echoes the code unless we started the close. Returns 1, or a
 * negative ws_error for a malformed close frame.
 */
static int
session_peer_close(struct ws_session *s)
{
	const char	*reason = "";
	size_t		 reason_len = 0;
	int		 code = 1005, echo = 0;

	if (s->ctl_len == 1)
		return session_fail(s, WS_ERR_PROTOCOL, "Truncated close code");
	if (s->ctl_len >= 2) {
		code = (s->ctl[0] << 8) | s->ctl[1];
		if (!ws_close_code_valid(code))
			return session_fail(s, WS_ERR_PROTOCOL,
			    "Invalid close code");
		reason = (const char *)s->ctl + 2;
		reason_len = s->ctl_len - 2;
		if (!ws_utf8_valid(s->ctl + 2, reason_len))
			return session_fail(s, WS_ERR_UTF8,
			    "Invalid UTF-8 in close reason");
		echo = code;
	}
	if (s->state == WS_STATE_OPEN) {
		session_write_close(s, echo, NULL, 0);
		session_closed(s, WS_CLOSED_BY_PEER, code, reason, reason_len);
	} else
		session_closed(s, WS_CLOSED_REPLY, code, reason, reason_len);
	return 1;
}

/* Sends a piece of a data message, fragmented at max_frame_size. */
int
ws_session_send(struct ws_session *s, enum ws_msg_type type,
    const void *data, size_t len, bool first, bool last)
{
	const uint8_t	*p = data;
	size_t		 max = s->max_frame_size, n;
	uint8_t		 opcode;

	if (s->state != WS_STATE_OPEN)
		return -1;
	if (type != WS_MSG_TEXT && type != WS_MSG_BINARY)
		return -1;
	if (first == s->out_open)
		return -1;
	if (!first && type != s->out_type)
		return -1;
	if (data == NULL && len > 0)
		return -1;
	if (first) {
		s->out_deflated = s->deflate != NULL && !(last &&
		    len < ws_deflate_min_size(s->deflate));
		s->out_started = false;
	}
	s->out_open = !last;
	s->out_type = (uint8_t)type;
	/* A middle piece without bytes needs no frame at all. */
	if (len == 0 && !first && !last)
		return 0;
	if (s->out_deflated)
		return session_send_deflated(s, type, data, len, last);
	opcode = first ? (uint8_t)type : WS_OP_CONT;
	do {
		n = len;
		if (max != 0 && n > max)
			n = max;
		session_write_frame(s, last && n == len, 0, opcode, p, n);
		opcode = WS_OP_CONT;
		p += n;
		len -= n;
	} while (len > 0);
	return 0;
}

/*
 * Compresses a piece of the message being sent and writes what comes out
 * as frames of at most max_frame_size; RSV1 and the opcode go on the
 * message's first frame only. Returns 0, or -1 when zlib failed: the
 * message cannot be finished, so the closing handshake starts with 1011.
 */
static int
session_send_deflated(struct ws_session *s, enum ws_msg_type type,
    const void *data, size_t len, bool last)
{
	const uint8_t	*p;
	size_t		 max = s->max_frame_size, n, m;
	bool		 final;
	int		 rc;

	ws_deflate_compress_input(s->deflate, data, len, last);
	for (;;) {
		rc = ws_deflate_compress_next(s->deflate, &p, &n, &final);
		if (rc == 0)
			return 0;
		if (rc < 0) {
			s->out_open = false;
			ws_session_close(s, 1011, "Compression failed");
			return -1;
		}
		do {
			m = max != 0 && n > max ? max : n;
			session_write_frame(s, final && m == n,
			    s->out_started ? 0 : WS_RSV1,
			    s->out_started ? WS_OP_CONT : (uint8_t)type, p, m);
			s->out_started = true;
			p += m;
			n -= m;
		} while (n > 0);
		if (final)
			return 0;
	}
}

/* Sends a ping with up to 125 bytes of payload. */
int
ws_session_ping(struct ws_session *s, const void *data, size_t len)
{
	if (s->state != WS_STATE_OPEN || len > WS_CONTROL_MAX ||
	    (data == NULL && len > 0))
		return -1;
	session_write_frame(s, true, 0, WS_OP_PING, data, len);
	return 0;
}

/* Sends an unsolicited pong (a heartbeat) with up to 125 bytes. */
int
ws_session_pong(struct ws_session *s, const void *data, size_t len)
{
	if (s->state != WS_STATE_OPEN || len > WS_CONTROL_MAX ||
	    (data == NULL && len > 0))
		return -1;
	session_write_frame(s, true, 0, WS_OP_PONG, data, len);
	return 0;
}

/*
 * Starts the closing handshake. A code the peer would have to reject
 * (ws_close_code_valid: the one rule, RFC 6455 7.4 and IANA's registry)
 * is refused with -1 rather than sent. The reason is cut on a code point
 * boundary so that the peer does not fail us with 1007; if it is not
 * UTF-8 at all it is left out.
 */
int
ws_session_close(struct ws_session *s, int code, const char *reason)
{
	size_t	n = 0;

	if (s->state != WS_STATE_OPEN)
		return -1;
	if (code != 0 && !ws_close_code_valid(code))
		return -1;
	if (code != 0 && reason != NULL) {
		n = strlen(reason);
		if (n > SESSION_REASON_MAX) {
			n = SESSION_REASON_MAX;
			while (n > 0 && ((uint8_t)reason[n] & 0xc0) == 0x80)
				n--;
		}
		if (!ws_utf8_valid((const uint8_t *)reason, n))
			n = 0;
	}
	session_write_close(s, code, reason, n);
	s->state = WS_STATE_CLOSING;
	return 0;
}
