/* fuzz_session.c - libFuzzer target: client bytes into a server session. */
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
 * Input layout: byte 0 selects the configuration (FZ_* bits), byte 1
 * selects permessage-deflate (FZ_DEFLATE* bits) and seeds the chunking
 * with the rest of its bits, the rest is what the client sends. The
 * callbacks check the session's promises and abort() when one is broken.
 */
#define FZ_BUFFER	0x01	/* buffer_message */
#define FZ_MAX_SMALL	0x02	/* max_message_size 300 */
#define FZ_MAX_BIG	0x04	/* max_message_size 70000 */
#define FZ_FRAG		0x08	/* max_frame_size 7 for the echo */
#define FZ_PRECLOSE	0x10	/* we send close before any input */
#define FZ_RSV1		0x20	/* RSV1 allowed, as with permessage-deflate */
#define FZ_MIDCLOSE	0x40	/* we send close after a few chunks */
#define FZ_ECHO		0x80	/* echo every piece back */

/* Byte 1. */
#define FZ_DEFLATE	0x80	/* permessage-deflate, context takeover */
#define FZ_DEFLATE_NCT	0x40	/* with it: no context takeover, min_size 0 */
#define FZ_SEED		0x3f	/* chunking */

/* Output parser: follows the frames we write, to see what ends them. */
struct fz_out {
	uint8_t		hbuf[WS_HEADER_MAX];
	size_t		hlen;
	size_t		hneed;
	uint64_t	remaining;	/* payload left in the current frame */
	bool		in_payload;
	bool		cur_close;	/* the current frame is a close frame */
	bool		close_done;	/* a whole close frame was written */
	bool		deflate;	/* RSV1 may open a data message */
	bool		in_data;	/* inside a fragmented data message */
};

struct fz {
	struct ws_session	*s;
	struct fz_out		 out;
	bool			 buffered;
	bool			 echo;
	int			 nclosed;
	bool			 in_msg;
	enum ws_msg_type	 type;
	struct ws_utf8		 utf8;
	uint64_t		 msg_len;
	uint64_t		 max;
};

/*
 * RSV bits of a written frame: RSV2/RSV3 never, RSV1 only with deflate
 * and only on the first frame of a data message.
 */
static void
fz_out_rsv(struct fz_out *o)
{
	uint8_t	op = o->hbuf[0] & 0x0f;

	if (o->hbuf[0] & 0x30)
		abort();
	if ((o->hbuf[0] & 0x40) && (!o->deflate ||
	    (op != WS_OP_TEXT && op != WS_OP_BINARY)))
		abort();
	if (op == WS_OP_CONT && !o->in_data)
		abort();
	if ((op == WS_OP_TEXT || op == WS_OP_BINARY) && o->in_data)
		abort();
	if (op < WS_OP_CLOSE)
		o->in_data = !(o->hbuf[0] & 0x80);
}

/* Follows written bytes through the server frame format. */
static void
fz_out_feed(struct fz_out *o, const uint8_t *p, size_t len)
{
	size_t	n;
	int	i;

	while (len > 0) {
		/* Nothing at all may follow our close frame. */
		if (o->close_done)
			abort();
		if (o->in_payload) {
			n = len < o->remaining ? len : (size_t)o->remaining;
			o->remaining -= n;
			p += n;
			len -= n;
		} else {
			if (o->hlen == 0)
				o->hneed = 2;
			o->hbuf[o->hlen++] = *p++;
			len--;
			if (o->hlen == 2) {
				/* Server frames are never masked. */
				if (o->hbuf[1] & 0x80)
					abort();
				if ((o->hbuf[1] & 0x7f) == 126)
					o->hneed = 4;
				else if ((o->hbuf[1] & 0x7f) == 127)
					o->hneed = 10;
			}
			if (o->hlen < o->hneed)
				continue;
			o->remaining = o->hbuf[1] & 0x7f;
			if (o->hneed == 4)
				o->remaining = ((uint64_t)o->hbuf[2] << 8) |
				    o->hbuf[3];
			else if (o->hneed == 10)
				for (i = 2, o->remaining = 0; i < 10; i++)
					o->remaining = (o->remaining << 8) |
					    o->hbuf[i];
			o->cur_close = (o->hbuf[0] & 0x0f) == WS_OP_CLOSE;
			fz_out_rsv(o);
			if ((o->hbuf[0] & 0x0f) >= WS_OP_CLOSE &&
			    (o->remaining > WS_CONTROL_MAX ||
			    !(o->hbuf[0] & 0x80)))
				abort();
			o->hlen = 0;
			o->in_payload = true;
		}
		if (o->in_payload && o->remaining == 0) {
			o->in_payload = false;
			if (o->cur_close)
				o->close_done = true;
		}
	}
}

/* Write callback. */
static void
fz_write(void *arg, const void *data, size_t len)
{
	struct fz	*f = arg;

	if (len == 0 || f->nclosed > 0)
		abort();
	fz_out_feed(&f->out, data, len);
}

/* Message callback: sequencing, UTF-8 and size promises. */
static void
fz_message(void *arg, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool first, bool last)
{
	struct fz	*f = arg;

	if (data == NULL || f->nclosed > 0)
		abort();
	if (ws_session_state(f->s) != WS_STATE_OPEN)
		abort();
	if (first == f->in_msg)
		abort();
	if (!first && type != f->type)
		abort();
	if (f->buffered && !(first && last))
		abort();
	if (len == 0 && !first && !last)
		abort();
	if (first) {
		f->type = type;
		f->msg_len = 0;
		ws_utf8_init(&f->utf8);
	}
	f->msg_len += len;
	if (f->max != 0 && f->msg_len > f->max)
		abort();
	if (type == WS_MSG_TEXT) {
		if (ws_utf8_feed(&f->utf8, data, len) != 0)
			abort();
		if (last && !ws_utf8_complete(&f->utf8))
			abort();
	}
	f->in_msg = !last;
	if (f->echo && ws_session_send(f->s, type, data, len, first, last) != 0)
		abort();
}

/* Ping callback: the pong is out, so the session must be open. */
static void
fz_ping(void *arg, const uint8_t *data, size_t len)
{
	struct fz	*f = arg;

	(void)data;
	if (len > WS_CONTROL_MAX || f->nclosed > 0 ||
	    ws_session_state(f->s) != WS_STATE_OPEN)
		abort();
}

/* Pong callback. */
static void
fz_pong(void *arg, const uint8_t *data, size_t len)
{
	struct fz	*f = arg;

	(void)data;
	if (len > WS_CONTROL_MAX || f->nclosed > 0)
		abort();
}

/* Closed callback: once, with a close frame written before it. */
static void
fz_closed(void *arg, enum ws_close_how how, int code, const char *reason,
    size_t len)
{
	struct fz	*f = arg;

	if (f->nclosed++ > 0)
		abort();
	if (ws_session_state(f->s) != WS_STATE_CLOSED)
		abort();
	if (!f->out.close_done)
		abort();
	if (len > WS_CONTROL_MAX || (len > 0 && reason == NULL))
		abort();
	switch (how) {
	case WS_CLOSED_BY_PEER:
	case WS_CLOSED_REPLY:
		if (code != 1005 && !ws_close_code_valid(code))
			abort();
		if (!ws_utf8_valid((const uint8_t *)reason, len))
			abort();
		break;
	case WS_CLOSED_FAILED:
		if (code != 1002 && code != 1003 && code != 1007 &&
		    code != 1009 && code != 1011)
			abort();
		break;
	default:
		abort();
	}
}

static const struct ws_session_callbacks fz_cb = {
	.write = fz_write,
	.message = fz_message,
	.ping = fz_ping,
	.pong = fz_pong,
	.closed = fz_closed,
};

/* libFuzzer entry point. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_session_config	 cfg = { 0 };
	struct ws_deflate_params	 dp = { false, false, 15, 15 };
	struct ws_deflate_config	 dc;
	struct fz			 f;
	uint8_t				*buf;
	uint8_t				 flags, seed;
	size_t				 off = 0, n, len, chunks = 0;
	int				 rc, ret = 0;

	if (size < 2)
		return 0;
	flags = data[0];
	seed = data[1];
	data += 2;
	len = size - 2;

	memset(&f, 0, sizeof(f));
	cfg.buffer_message = (flags & FZ_BUFFER) != 0;
	if (flags & FZ_MAX_SMALL)
		cfg.max_message_size = 300;
	else if (flags & FZ_MAX_BIG)
		cfg.max_message_size = 70000;
	cfg.max_frame_size = (flags & FZ_FRAG) ? 7 : 0;
	f.buffered = cfg.buffer_message;
	f.echo = (flags & FZ_ECHO) != 0;
	f.max = cfg.max_message_size;
	if (seed & FZ_DEFLATE) {
		ws_deflate_config_default(&dc);
		if (seed & FZ_DEFLATE_NCT) {
			dp.server_no_context_takeover = true;
			dp.client_no_context_takeover = true;
			dc.min_size = 0;
		}
		cfg.deflate = &dp;
		cfg.deflate_cfg = &dc;
		f.out.deflate = true;
	}
	seed &= FZ_SEED;
	f.s = ws_session_new(&cfg, &fz_cb, &f);
	if (flags & FZ_RSV1)
		ws_session_set_rsv_allowed(f.s, WS_RSV1);
	if ((flags & FZ_PRECLOSE) && ws_session_close(f.s, 1001, "bye") != 0)
		abort();

	/* The session unmasks in place, so it gets a writable copy. */
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL)
		abort();
	memcpy(buf, data, len);
	while (off < len) {
		n = 1 + (seed + chunks * 7) % 23;
		if (seed & 1)
			n = len - off;
		if (n > len - off)
			n = len - off;
		rc = ws_session_feed(f.s, buf + off, n);
		off += n;
		if (ret != 0 && rc != 1)
			abort();
		if (ret == 0)
			ret = rc;
		if (rc < 0 && f.nclosed != 1)
			abort();
		chunks++;
		if ((flags & FZ_MIDCLOSE) && chunks == 3 &&
		    ws_session_state(f.s) == WS_STATE_OPEN &&
		    ws_session_close(f.s, 1000, NULL) != 0)
			abort();
		if (ws_session_state(f.s) == WS_STATE_CLOSING &&
		    ws_session_send(f.s, WS_MSG_TEXT, "x", 1, true, true) != -1)
			abort();
	}
	if (ret != 0 && (f.nclosed != 1 ||
	    ws_session_state(f.s) != WS_STATE_CLOSED ||
	    ws_session_feed(f.s, buf, 0) != 1))
		abort();
	if (ret == 0 && f.nclosed != 0)
		abort();
	free(buf);
	ws_session_free(f.s);
	return 0;
}
