/* check_session.c - unit tests for the WebSocket session state machine. */
#include <sys/types.h>

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check_suites.h"
#include "core/ws-deflate.h"
#include "core/ws-frame.h"
#include "core/ws-session.h"

/* The session's own close reasons, as the peer (and the log) sees them. */
#define R_FRAME		"Invalid frame"
#define R_CONT		"Continuation frame without a message"
#define R_NESTED	"New message inside a fragmented message"
#define R_UTF8		"Invalid UTF-8 in text message"
#define R_UTF8_END	"Truncated UTF-8 in text message"
#define R_BIG		"Message too big"
#define R_CLOSE_LEN	"Truncated close code"
#define R_CLOSE_CODE	"Invalid close code"
#define R_CLOSE_UTF8	"Invalid UTF-8 in close reason"
#define R_RSV1		"Unexpected RSV1 bit"
#define R_INFLATE	"Invalid compressed data"

#define NSEEDS		12	/* random chunkings per script */
#define MAXWRITES	64	/* write calls remembered for pointer checks */

/* A growable byte buffer. */
struct bb {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};

/* What one run of a script did, gathered by the callbacks. */
struct rec {
	struct ws_session	*s;
	bool			 buffered;
	bool			 echo;
	struct bb		 out;		/* everything written */
	struct bb		 log;		/* events, see log_* */
	struct bb		 cur;		/* the message being delivered */
	bool			 in_msg;
	int			 type;
	int			 nclosed;
	int			 bad;
	char			 why[160];
	size_t			 cstart, cend;	/* the chunk being fed */
	size_t			 closed_start, closed_end;
	size_t			 ping_start, ping_end;
	int			 nping;
	size_t			 cur_at_ping;
	size_t			 nwrites;
	const void		*wptr[MAXWRITES];
	size_t			 wlen[MAXWRITES];
	size_t			 max_piece;	/* largest piece delivered */
	size_t			 peak_mem;	/* ws_session_memory seen */
};

/* A byte script and everything expected from it. */
struct script {
	const char		*name;
	struct bb		 in;
	struct ws_session_config cfg;
	bool			 unbuffered_only;
	bool			 buffered_only;
	bool			 echo;
	bool			 pre_close;
	int			 pre_close_code;
	const char		*pre_close_reason;
	uint8_t			 rsv_allowed;
	struct bb		 out;		/* expected output bytes */
	struct bb		 log;		/* expected events */
	int			 ret;		/* first non-zero feed result */
	long			 fail_lo;	/* closed runs in a chunk */
	long			 fail_hi;	/* overlapping [lo, hi] */
	long			 ping_at;	/* first ping cb at this byte */
	long			 cur_at_ping;	/* unbuffered: bytes delivered */
	bool			 check_partial;
	struct bb		 partial;	/* unbuffered, at close */
	bool			 deflate;	/* permessage-deflate on */
	struct ws_deflate_params dp;
	struct ws_deflate_config dc;
	size_t			 piece_max;	/* unbuffered: pieces <= this */
	size_t			 mem_grow;	/* memory growth allowed, */
	size_t			 mem_grow_buffered; /* when set */
};

enum chunking {
	CHUNK_WHOLE,
	CHUNK_BYTES,
	CHUNK_RANDOM,
};

static const uint8_t	test_mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

/* Appends bytes, growing the buffer. */
static void
bb_add(struct bb *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = b->cap == 0 ? 256 : b->cap;
		while (b->cap < b->len + len)
			b->cap *= 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

/* Appends one byte. */
static void
bb_byte(struct bb *b, uint8_t c)
{
	bb_add(b, &c, 1);
}

/* Appends a 64-bit value, big-endian, for log records. */
static void
bb_u64(struct bb *b, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--)
		bb_byte(b, (uint8_t)(v >> (i * 8)));
}

/* Releases a buffer. */
static void
bb_free(struct bb *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Appends a client frame, masked with test_mask, as a browser would send it. */
static void
cframe_rsv(struct bb *b, bool fin, uint8_t rsv, uint8_t op, const void *p,
    size_t len)
{
	uint8_t	hdr[WS_HEADER_MAX];
	size_t	hlen, at;

	hlen = ws_frame_header_encode(hdr, fin, rsv, op, len, test_mask);
	bb_add(b, hdr, hlen);
	at = b->len;
	bb_add(b, p, len);
	ws_frame_mask(b->p + at, len, test_mask, 0);
}

/* Appends a client frame without RSV bits. */
static void
cframe(struct bb *b, bool fin, uint8_t op, const void *p, size_t len)
{
	cframe_rsv(b, fin, 0, op, p, len);
}

/* Appends a client close frame with a code (0: none) and reason. */
static void
cclose(struct bb *b, int code, const void *reason, size_t rlen)
{
	uint8_t	p[256];

	ck_assert_uint_le(rlen, sizeof(p) - 2);
	if (code < 0) {
		cframe(b, true, WS_OP_CLOSE, reason, rlen);
		return;
	}
	p[0] = (uint8_t)(code >> 8);
	p[1] = (uint8_t)code;
	memcpy(p + 2, reason, rlen);
	cframe(b, true, WS_OP_CLOSE, p, 2 + rlen);
}

/* Appends a server frame (unmasked) as the session must write it. */
static void
sframe(struct bb *b, bool fin, uint8_t op, const void *p, size_t len)
{
	uint8_t	hdr[WS_HEADER_MAX];
	size_t	hlen;

	hlen = ws_frame_header_encode(hdr, fin, 0, op, len, NULL);
	bb_add(b, hdr, hlen);
	bb_add(b, p, len);
}

/* Appends a server close frame; code 0 means an empty payload. */
static void
sclose(struct bb *b, int code, const char *reason)
{
	uint8_t	p[WS_CONTROL_MAX];
	size_t	n = 0;

	if (code != 0) {
		p[0] = (uint8_t)(code >> 8);
		p[1] = (uint8_t)code;
		n = strlen(reason);
		memcpy(p + 2, reason, n);
		n += 2;
	}
	sframe(b, true, WS_OP_CLOSE, p, n);
}

/* Log record: a complete message. */
static void
log_msg(struct bb *log, int type, const void *p, size_t len)
{
	bb_byte(log, 'M');
	bb_byte(log, (uint8_t)type);
	bb_u64(log, len);
	bb_add(log, p, len);
}

/* Log record: a ping ('P') or pong ('Q') callback. */
static void
log_ctl(struct bb *log, char tag, const void *p, size_t len)
{
	bb_byte(log, (uint8_t)tag);
	bb_u64(log, len);
	bb_add(log, p, len);
}

/* Log record: the closed callback. */
static void
log_closed(struct bb *log, int how, int code, const void *reason,
    size_t len)
{
	bb_byte(log, 'C');
	bb_byte(log, (uint8_t)how);
	bb_u64(log, (uint64_t)code);
	bb_u64(log, len);
	bb_add(log, reason, len);
}

/* Expects a failure: our close frame, closed(FAILED), the error. */
static void
expect_fail(struct script *sc, int err, int code, const char *reason)
{
	sclose(&sc->out, code, reason);
	log_closed(&sc->log, WS_CLOSED_FAILED, code, reason, strlen(reason));
	sc->ret = err;
}

/* Notes a broken invariant; the first one is kept for the message. */
static void
rec_bad(struct rec *r, const char *why)
{
	if (r->bad++ == 0)
		snprintf(r->why, sizeof(r->why), "%s", why);
}

/* Write callback: collects the output and remembers the pointers. */
static void
rec_write(void *arg, const void *data, size_t len)
{
	struct rec	*r = arg;

	if (len == 0)
		rec_bad(r, "write of 0 bytes");
	if (r->nclosed > 0)
		rec_bad(r, "write after closed");
	if (r->nwrites < MAXWRITES) {
		r->wptr[r->nwrites] = data;
		r->wlen[r->nwrites] = len;
	}
	r->nwrites++;
	bb_add(&r->out, data, len);
}

/* Message callback: checks first/last sequencing and gathers messages. */
static void
rec_message(void *arg, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool first, bool last)
{
	struct rec	*r = arg;

	if (data == NULL)
		rec_bad(r, "message data NULL");
	if (type != WS_MSG_TEXT && type != WS_MSG_BINARY)
		rec_bad(r, "bad message type");
	if (first && r->in_msg)
		rec_bad(r, "first while a message is open");
	if (!first && !r->in_msg)
		rec_bad(r, "piece without a first");
	if (!first && (int)type != r->type)
		rec_bad(r, "type changed inside a message");
	if (len == 0 && !first && !last)
		rec_bad(r, "empty middle piece");
	if (r->buffered && !(first && last))
		rec_bad(r, "buffered message in pieces");
	if (r->nclosed > 0)
		rec_bad(r, "message after closed");
	if (first)
		r->cur.len = 0;
	if (len > r->max_piece)
		r->max_piece = len;
	if (ws_session_memory(r->s) > r->peak_mem)
		r->peak_mem = ws_session_memory(r->s);
	r->type = type;
	r->in_msg = !last;
	bb_add(&r->cur, data, len);
	if (r->echo && ws_session_send(r->s, type, data, len, first, last) != 0)
		rec_bad(r, "echo send failed");
	if (last) {
		log_msg(&r->log, type, r->cur.p, r->cur.len);
		r->cur.len = 0;
	}
}

/* Ping callback: the pong must already be written. */
static void
rec_ping(void *arg, const uint8_t *data, size_t len)
{
	struct rec	*r = arg;
	struct bb	 pong = { 0 };

	sframe(&pong, true, WS_OP_PONG, data, len);
	if (r->out.len < pong.len ||
	    memcmp(r->out.p + r->out.len - pong.len, pong.p, pong.len) != 0)
		rec_bad(r, "ping callback before its pong");
	bb_free(&pong);
	if (r->nping++ == 0) {
		r->ping_start = r->cstart;
		r->ping_end = r->cend;
		r->cur_at_ping = r->cur.len;
	}
	log_ctl(&r->log, 'P', data, len);
}

/* Pong callback. */
static void
rec_pong(void *arg, const uint8_t *data, size_t len)
{
	struct rec	*r = arg;

	log_ctl(&r->log, 'Q', data, len);
}

/* Closed callback: exactly once, and where it happened. */
static void
rec_closed(void *arg, enum ws_close_how how, int code, const char *reason,
    size_t len)
{
	struct rec	*r = arg;

	if (r->nclosed++ > 0)
		rec_bad(r, "closed twice");
	if (ws_session_state(r->s) != WS_STATE_CLOSED)
		rec_bad(r, "closed callback before state CLOSED");
	r->closed_start = r->cstart;
	r->closed_end = r->cend;
	log_closed(&r->log, how, code, reason, len);
}

static const struct ws_session_callbacks rec_cb = {
	.write = rec_write,
	.message = rec_message,
	.ping = rec_ping,
	.pong = rec_pong,
	.closed = rec_closed,
};

/* Returns the next number of a small deterministic generator. */
static uint32_t
rng_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * Parses server output frame by frame and checks that nothing follows a
 * close frame and that every frame is complete. Returns 0 or -1.
 */
static int
out_wellformed(const struct bb *out)
{
	size_t		off = 0, hlen;
	uint64_t	plen;
	uint8_t		op;

	while (off < out->len) {
		if (out->len - off < 2)
			return -1;
		op = out->p[off] & 0x0f;
		if (out->p[off + 1] & 0x80)
			return -1;
		plen = out->p[off + 1] & 0x7f;
		hlen = 2;
		if (plen == 126) {
			if (out->len - off < 4)
				return -1;
			plen = ((uint64_t)out->p[off + 2] << 8) | out->p[off + 3];
			hlen = 4;
		} else if (plen == 127) {
			if (out->len - off < 10)
				return -1;
			plen = 0;
			for (hlen = 2; hlen < 10; hlen++)
				plen = (plen << 8) | out->p[off + hlen];
		}
		if (out->len - off - hlen < plen)
			return -1;
		off += hlen + (size_t)plen;
		if (op == WS_OP_CLOSE && off != out->len)
			return -1;
	}
	return 0;
}

/* Returns the first offset where two buffers differ. */
static size_t
bb_diff(const struct bb *a, const struct bb *b)
{
	size_t	i;

	for (i = 0; i < a->len && i < b->len; i++)
		if (a->p[i] != b->p[i])
			break;
	return i;
}

/* Returns true when two buffers hold the same bytes. */
static bool
bb_eq(const struct bb *a, const struct bb *b)
{
	if (a->len != b->len)
		return false;
	return a->len == 0 || memcmp(a->p, b->p, a->len) == 0;
}

/* Feeds one chunk from its own allocation, so ASan sees any overread. */
static int
feed_chunk(struct rec *r, const uint8_t *in, size_t off, size_t len)
{
	uint8_t	*copy;
	int	 rc;

	copy = malloc(len > 0 ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, in + off, len);
	r->cstart = off;
	r->cend = off + len;
	rc = ws_session_feed(r->s, copy, len);
	free(copy);
	return rc;
}

/* Runs a script once in one chunking and checks every expectation. */
static void
run_script(const struct script *sc, bool buffered, enum chunking how,
    uint32_t seed)
{
	struct ws_session_config	 cfg = sc->cfg;
	struct rec			 r;
	struct bb			 junk = { 0 };
	size_t				 off = 0, n, outlen, mem0, grow;
	uint32_t			 x = seed * 2654435761u + 1;
	int				 rc, ret = 0;
	char				 where[160];

	memset(&r, 0, sizeof(r));
	cfg.buffer_message = buffered;
	if (sc->deflate) {
		cfg.deflate = &sc->dp;
		cfg.deflate_cfg = &sc->dc;
	}
	r.buffered = buffered;
	r.echo = sc->echo;
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	ck_assert_ptr_nonnull(r.s);
	ck_assert_int_eq(ws_session_state(r.s), WS_STATE_OPEN);
	snprintf(where, sizeof(where), "%s: %s chunking %d seed %u",
	    sc->name, buffered ? "buffered" : "unbuffered", (int)how, seed);
	if (sc->rsv_allowed != 0)
		ws_session_set_rsv_allowed(r.s, sc->rsv_allowed);
	mem0 = ws_session_memory(r.s);
	if (sc->pre_close)
		ck_assert_msg(ws_session_close(r.s, sc->pre_close_code,
		    sc->pre_close_reason) == 0, "%s: pre close", where);

	while (off < sc->in.len) {
		switch (how) {
		case CHUNK_WHOLE:
			n = sc->in.len;
			break;
		case CHUNK_BYTES:
			n = 1;
			break;
		default:
			/* Mostly small pieces, some large, a few empty. */
			rng_next(&x);
			if (x % 11 == 0)
				n = 0;
			else if (x & 1)
				n = 1 + (x >> 8) % 7;
			else
				n = 1 + (x >> 8) % 400;
			if (n > sc->in.len - off)
				n = sc->in.len - off;
			break;
		}
		rc = feed_chunk(&r, sc->in.p, off, n);
		off += n;
		if (ret == 0)
			ret = rc;
		else
			ck_assert_msg(rc == 1, "%s: feed after close gave %d",
			    where, rc);
	}

	/* More input after the end changes nothing once closed. */
	if (ret != 0) {
		outlen = r.out.len;
		bb_add(&junk, "\x81\x85garbage", 9);
		ck_assert_int_eq(feed_chunk(&r, junk.p, 0, junk.len), 1);
		bb_free(&junk);
		ck_assert_uint_eq(r.out.len, outlen);
		ck_assert_int_eq(ws_session_state(r.s), WS_STATE_CLOSED);
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "x", 1,
		    true, true), -1);
		ck_assert_int_eq(ws_session_ping(r.s, "x", 1), -1);
		ck_assert_int_eq(ws_session_pong(r.s, "x", 1), -1);
		ck_assert_int_eq(ws_session_close(r.s, 1000, "x"), -1);
	}

	ck_assert_msg(r.bad == 0, "%s: %s", where, r.why);
	ck_assert_msg(ret == sc->ret, "%s: feed returned %d, expected %d",
	    where, ret, sc->ret);
	ck_assert_msg(r.nclosed == (ret != 0 ? 1 : 0),
	    "%s: closed called %d times", where, r.nclosed);
	ck_assert_msg(bb_eq(&r.out, &sc->out),
	    "%s: output %zu bytes, expected %zu, first difference at %zu",
	    where, r.out.len, sc->out.len, bb_diff(&r.out, &sc->out));
	ck_assert_msg(bb_eq(&r.log, &sc->log),
	    "%s: events %zu bytes, expected %zu, first difference at %zu",
	    where, r.log.len, sc->log.len, bb_diff(&r.log, &sc->log));
	ck_assert_msg(out_wellformed(&r.out) == 0, "%s: output malformed",
	    where);
	if (sc->fail_lo >= 0)
		ck_assert_msg(r.closed_start <= (size_t)sc->fail_hi &&
		    r.closed_end > (size_t)sc->fail_lo,
		    "%s: closed in chunk [%zu, %zu), expected byte %ld-%ld",
		    where, r.closed_start, r.closed_end, sc->fail_lo,
		    sc->fail_hi);
	if (sc->ping_at >= 0)
		ck_assert_msg(r.nping > 0 &&
		    r.ping_start <= (size_t)sc->ping_at &&
		    r.ping_end > (size_t)sc->ping_at,
		    "%s: ping in chunk [%zu, %zu), expected byte %ld",
		    where, r.ping_start, r.ping_end, sc->ping_at);
	if (sc->cur_at_ping >= 0 && !buffered)
		ck_assert_msg(r.cur_at_ping == (size_t)sc->cur_at_ping,
		    "%s: %zu bytes delivered before the ping", where,
		    r.cur_at_ping);
	if (sc->piece_max != 0 && !buffered)
		ck_assert_msg(r.max_piece <= sc->piece_max,
		    "%s: a piece of %zu bytes", where, r.max_piece);
	grow = buffered ? sc->mem_grow_buffered : sc->mem_grow;
	if (grow != 0) {
		/* Taken at the end too: a buffer only grows in a message. */
		if (ws_session_memory(r.s) > r.peak_mem)
			r.peak_mem = ws_session_memory(r.s);
		ck_assert_msg(r.peak_mem <= mem0 + grow,
		    "%s: memory grew from %zu to %zu bytes", where, mem0,
		    r.peak_mem);
	}
	if (sc->check_partial && !buffered) {
		ck_assert_msg(r.cur.len <= sc->partial.len &&
		    (r.cur.len == 0 ||
		    memcmp(r.cur.p, sc->partial.p, r.cur.len) == 0),
		    "%s: delivered %zu bytes of the failed message", where,
		    r.cur.len);
		if (how == CHUNK_BYTES)
			ck_assert_msg(r.cur.len == sc->partial.len,
			    "%s: delivered %zu bytes, expected %zu", where,
			    r.cur.len, sc->partial.len);
	}

	ws_session_free(r.s);
	bb_free(&r.out);
	bb_free(&r.log);
	bb_free(&r.cur);
}

/* Runs a script in every chunking and both delivery modes, then frees it. */
static void
check_script(struct script *sc)
{
	uint32_t	seed;
	int		b;

	for (b = 0; b < 2; b++) {
		if ((b == 0 && sc->buffered_only) ||
		    (b == 1 && sc->unbuffered_only))
			continue;
		run_script(sc, b, CHUNK_WHOLE, 0);
		run_script(sc, b, CHUNK_BYTES, 0);
		for (seed = 1; seed <= NSEEDS; seed++)
			run_script(sc, b, CHUNK_RANDOM, seed);
	}
	bb_free(&sc->in);
	bb_free(&sc->out);
	bb_free(&sc->log);
	bb_free(&sc->partial);
}

/* Starts a script with no expectations beyond "nothing happens". */
static void
script_init(struct script *sc, const char *name)
{
	memset(sc, 0, sizeof(*sc));
	sc->name = name;
	sc->fail_lo = sc->fail_hi = -1;
	sc->ping_at = -1;
	sc->cur_at_ping = -1;
}

/* Expects closed to run when byte at is fed. */
static void
script_fail_at(struct script *sc, size_t at)
{
	sc->fail_lo = sc->fail_hi = (long)at;
}

/* Fills p with a deterministic pattern; text stays printable ASCII. */
static void
fill(uint8_t *p, size_t len, bool text)
{
	size_t	i;

	for (i = 0; i < len; i++)
		p[i] = text ? (uint8_t)('a' + i % 26) : (uint8_t)(i * 7 + 3);
}

static const size_t	sizes[] = { 0, 125, 126, 127, 65535, 65536 };

/* Messages of every length-encoding edge arrive intact. */
START_TEST(test_message_sizes)
{
	struct script	 sc;
	uint8_t		*p;
	size_t		 i;

	script_init(&sc, "message sizes");
	p = malloc(65536);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill(p, sizes[i], true);
		cframe(&sc.in, true, WS_OP_TEXT, p, sizes[i]);
		log_msg(&sc.log, WS_MSG_TEXT, p, sizes[i]);
		fill(p, sizes[i], false);
		cframe(&sc.in, true, WS_OP_BINARY, p, sizes[i]);
		log_msg(&sc.log, WS_MSG_BINARY, p, sizes[i]);
	}
	free(p);
	check_script(&sc);
}
END_TEST

/* Buffered messages echoed back come out as exact server frames. */
START_TEST(test_echo_sizes)
{
	struct script	 sc;
	uint8_t		*p;
	size_t		 i;

	script_init(&sc, "echo sizes");
	sc.buffered_only = true;
	sc.echo = true;
	p = malloc(65536);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		fill(p, sizes[i], false);
		cframe(&sc.in, true, WS_OP_BINARY, p, sizes[i]);
		log_msg(&sc.log, WS_MSG_BINARY, p, sizes[i]);
		sframe(&sc.out, true, WS_OP_BINARY, p, sizes[i]);
	}
	free(p);
	/* The encodings of the edges, spelled out. */
	ck_assert_mem_eq(sc.out.p, "\x82\x00\x82\x7d", 4);
	ck_assert_mem_eq(sc.out.p + 2 + 2 + 125, "\x82\x7e\x00\x7e", 4);
	check_script(&sc);
}
END_TEST

/* A text message split inside code points, with an empty fragment. */
START_TEST(test_fragmented_utf8)
{
	struct script	sc;

	script_init(&sc, "fragmented utf8");
	cframe(&sc.in, false, WS_OP_TEXT, "a\xe2\x82", 3);
	cframe(&sc.in, false, WS_OP_CONT, "", 0);
	cframe(&sc.in, false, WS_OP_CONT, "\xac" "b\xf0\x9f", 4);
	cframe(&sc.in, true, WS_OP_CONT, "\x98\x80", 2);
	log_msg(&sc.log, WS_MSG_TEXT, "a\xe2\x82\xac" "b\xf0\x9f\x98\x80", 9);
	/* A fragmented binary message ending in an empty final frame. */
	cframe(&sc.in, false, WS_OP_BINARY, "\xff\x00", 2);
	cframe(&sc.in, true, WS_OP_CONT, "", 0);
	log_msg(&sc.log, WS_MSG_BINARY, "\xff\x00", 2);
	/* An empty message in empty fragments. */
	cframe(&sc.in, false, WS_OP_TEXT, "", 0);
	cframe(&sc.in, true, WS_OP_CONT, "", 0);
	log_msg(&sc.log, WS_MSG_TEXT, "", 0);
	check_script(&sc);
}
END_TEST

/* A ping between fragments is answered at once, with the same payload. */
START_TEST(test_ping_between_fragments)
{
	struct script	sc;

	script_init(&sc, "ping between fragments");
	cframe(&sc.in, false, WS_OP_TEXT, "Hello, ", 7);
	cframe(&sc.in, true, WS_OP_PING, "ping!", 5);
	sc.ping_at = (long)sc.in.len - 1;
	sc.cur_at_ping = 7;
	cframe(&sc.in, true, WS_OP_CONT, "world", 5);
	cframe(&sc.in, true, WS_OP_PONG, "x", 1);
	cframe(&sc.in, true, WS_OP_PING, "", 0);
	bb_add(&sc.out, "\x8a\x05ping!", 7);
	bb_add(&sc.out, "\x8a\x00", 2);
	log_ctl(&sc.log, 'P', "ping!", 5);
	log_msg(&sc.log, WS_MSG_TEXT, "Hello, world", 12);
	log_ctl(&sc.log, 'Q', "x", 1);
	log_ctl(&sc.log, 'P', "", 0);
	check_script(&sc);
}
END_TEST

/* The pong goes out the moment the ping's last byte arrives. */
START_TEST(test_ping_immediate)
{
	struct ws_session_config	 cfg = { 0 };
	struct rec			 r;
	struct bb			 in = { 0 };
	size_t				 i, end;

	memset(&r, 0, sizeof(r));
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	cframe(&in, false, WS_OP_BINARY, "abc", 3);
	cframe(&in, true, WS_OP_PING, "12345", 5);
	end = in.len;
	cframe(&in, true, WS_OP_CONT, "def", 3);
	for (i = 0; i < in.len; i++) {
		ck_assert_int_eq(feed_chunk(&r, in.p, i, 1), 0);
		ck_assert_uint_eq(r.out.len, i + 1 < end ? 0 : 7);
	}
	ck_assert_mem_eq(r.out.p, "\x8a\x05" "12345", 7);
	ck_assert_int_eq(r.bad, 0);
	ws_session_free(r.s);
	bb_free(&in);
	bb_free(&r.out);
	bb_free(&r.log);
	bb_free(&r.cur);
}
END_TEST

/* The largest ping is answered; one byte more fails with 1002. */
START_TEST(test_ping_too_long)
{
	struct script	sc;
	uint8_t		p[126];

	fill(p, sizeof(p), false);
	script_init(&sc, "ping 125");
	cframe(&sc.in, true, WS_OP_PING, p, 125);
	sframe(&sc.out, true, WS_OP_PONG, p, 125);
	log_ctl(&sc.log, 'P', p, 125);
	check_script(&sc);

	script_init(&sc, "ping 126");
	cframe(&sc.in, true, WS_OP_PING, p, 126);
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_FRAME);
	/* No later than the end of the header: the payload is not awaited. */
	sc.fail_lo = 1;
	sc.fail_hi = 7;
	check_script(&sc);
}
END_TEST

/* RSV bits without an extension fail; a negotiated bit passes. */
START_TEST(test_rsv_bits)
{
	static const uint8_t	rsv[] = { WS_RSV1, WS_RSV2, WS_RSV3 };
	struct script		sc;
	size_t			i, at;

	for (i = 0; i < sizeof(rsv); i++) {
		script_init(&sc, "rsv");
		cframe(&sc.in, true, WS_OP_TEXT, "ok", 2);
		log_msg(&sc.log, WS_MSG_TEXT, "ok", 2);
		at = sc.in.len + 1;
		cframe_rsv(&sc.in, true, rsv[i], WS_OP_TEXT, "no", 2);
		expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_FRAME);
		script_fail_at(&sc, at);
		check_script(&sc);
	}

	script_init(&sc, "rsv1 allowed");
	sc.rsv_allowed = WS_RSV1;
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_BINARY, "z", 1);
	log_msg(&sc.log, WS_MSG_BINARY, "z", 1);
	at = sc.in.len + 1;
	cframe_rsv(&sc.in, true, WS_RSV2, WS_OP_BINARY, "z", 1);
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_FRAME);
	script_fail_at(&sc, at);
	check_script(&sc);
}
END_TEST

/* Reserved opcodes fail after an earlier message got through. */
START_TEST(test_reserved_opcodes)
{
	struct script	sc;
	uint8_t		op;
	size_t		at;

	for (op = 3; op <= 15; op++) {
		if (op >= 8 && op <= 10)
			continue;
		script_init(&sc, "reserved opcode");
		cframe(&sc.in, true, WS_OP_TEXT, "ok", 2);
		log_msg(&sc.log, WS_MSG_TEXT, "ok", 2);
		at = sc.in.len + 1;
		cframe(&sc.in, true, op, "x", 1);
		expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_FRAME);
		script_fail_at(&sc, at);
		check_script(&sc);
	}
}
END_TEST

/* Continuation frames need an open message. */
START_TEST(test_cont_without_start)
{
	struct script	sc;

	script_init(&sc, "cont first");
	cframe(&sc.in, true, WS_OP_CONT, "x", 1);
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_CONT);
	script_fail_at(&sc, 5);
	check_script(&sc);

	script_init(&sc, "cont after message");
	cframe(&sc.in, true, WS_OP_TEXT, "a", 1);
	log_msg(&sc.log, WS_MSG_TEXT, "a", 1);
	cframe(&sc.in, false, WS_OP_CONT, "b", 1);
	script_fail_at(&sc, sc.in.len - 2);
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_CONT);
	check_script(&sc);
}
END_TEST

/* A new data frame while a fragmented message is open fails. */
START_TEST(test_nested_message)
{
	struct script	sc;
	uint8_t		op;

	for (op = WS_OP_TEXT; op <= WS_OP_BINARY; op++) {
		script_init(&sc, "nested");
		cframe(&sc.in, false, WS_OP_TEXT, "a", 1);
		cframe(&sc.in, true, WS_OP_PING, "", 0);
		cframe(&sc.in, true, op, "b", 1);
		script_fail_at(&sc, sc.in.len - 2);
		sframe(&sc.out, true, WS_OP_PONG, "", 0);
		log_ctl(&sc.log, 'P', "", 0);
		expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_NESTED);
		sc.check_partial = true;
		bb_add(&sc.partial, "a", 1);
		check_script(&sc);
	}
}
END_TEST

/* Control frames must not be fragmented. */
START_TEST(test_fragmented_ping)
{
	struct script	sc;

	script_init(&sc, "fragmented ping");
	cframe(&sc.in, false, WS_OP_PING, "ab", 2);
	cframe(&sc.in, true, WS_OP_CONT, "cd", 2);
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_FRAME);
	script_fail_at(&sc, 1);
	check_script(&sc);
}
END_TEST

/* Client frames must be masked. */
START_TEST(test_unmasked)
{
	struct script	sc;

	script_init(&sc, "unmasked");
	bb_add(&sc.in, "\x81\x02hi", 4);
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_FRAME);
	script_fail_at(&sc, 1);
	check_script(&sc);
}
END_TEST

/* Invalid UTF-8 fails on the bad byte, before the frame is complete. */
START_TEST(test_utf8_fail_fast)
{
	struct script	sc;

	script_init(&sc, "utf8 C0");
	cframe(&sc.in, true, WS_OP_TEXT, "abc\xc0" "defgh", 9);
	script_fail_at(&sc, 6 + 3);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_UTF8);
	sc.check_partial = true;
	bb_add(&sc.partial, "abc", 3);
	check_script(&sc);

	script_init(&sc, "utf8 across fragments");
	cframe(&sc.in, false, WS_OP_TEXT, "ab\xf0\x90", 4);
	cframe(&sc.in, true, WS_OP_CONT, "\x80\x28xyz", 5);
	script_fail_at(&sc, 10 + 6 + 1);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_UTF8);
	sc.check_partial = true;
	bb_add(&sc.partial, "ab\xf0\x90\x80", 5);
	check_script(&sc);

	script_init(&sc, "utf8 surrogate");
	cframe(&sc.in, true, WS_OP_TEXT, "x\xed\xa0\x80y", 5);
	script_fail_at(&sc, 6 + 2);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_UTF8);
	sc.check_partial = true;
	bb_add(&sc.partial, "x\xed", 2);
	check_script(&sc);

	script_init(&sc, "utf8 truncated at end");
	cframe(&sc.in, true, WS_OP_TEXT, "ab\xe2\x82", 4);
	script_fail_at(&sc, 6 + 3);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_UTF8_END);
	sc.check_partial = true;
	bb_add(&sc.partial, "ab\xe2", 3);
	check_script(&sc);

	script_init(&sc, "utf8 truncated, empty final frame");
	cframe(&sc.in, false, WS_OP_TEXT, "ab\xe2", 3);
	cframe(&sc.in, true, WS_OP_CONT, "", 0);
	script_fail_at(&sc, sc.in.len - 1);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_UTF8_END);
	sc.check_partial = true;
	bb_add(&sc.partial, "ab\xe2", 3);
	check_script(&sc);

	/* Binary messages are not UTF-8 checked. */
	script_init(&sc, "binary not utf8");
	cframe(&sc.in, true, WS_OP_BINARY, "\xc0\xff", 2);
	log_msg(&sc.log, WS_MSG_BINARY, "\xc0\xff", 2);
	check_script(&sc);
}
END_TEST

/* Every valid close code is echoed; the reason is reported. */
START_TEST(test_close_valid)
{
	static const int	codes[] = { 1000, 1001, 1002, 1003, 1007, 1008,
	    1009, 1010, 1011, 3000, 3999, 4000, 4999 };
	struct script		sc;
	size_t			i;
	char			rsn[124];

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		script_init(&sc, "close valid");
		cclose(&sc.in, codes[i], "bye \xc3\xa9", 6);
		script_fail_at(&sc, sc.in.len - 1);
		sclose(&sc.out, codes[i], "");
		log_closed(&sc.log, WS_CLOSED_BY_PEER, codes[i],
		    "bye \xc3\xa9", 6);
		sc.ret = 1;
		check_script(&sc);
	}

	script_init(&sc, "close empty");
	cclose(&sc.in, -1, "", 0);
	script_fail_at(&sc, sc.in.len - 1);
	bb_add(&sc.out, "\x88\x00", 2);
	log_closed(&sc.log, WS_CLOSED_BY_PEER, 1005, "", 0);
	sc.ret = 1;
	check_script(&sc);

	script_init(&sc, "close reason 123");
	memset(rsn, 'r', sizeof(rsn));
	cclose(&sc.in, 1000, rsn, 123);
	bb_add(&sc.out, "\x88\x02\x03\xe8", 4);
	log_closed(&sc.log, WS_CLOSED_BY_PEER, 1000, rsn, 123);
	sc.ret = 1;
	check_script(&sc);
}
END_TEST

/* Invalid close codes, lengths and reasons fail the connection. */
START_TEST(test_close_invalid)
{
	static const int	codes[] = { 0, 999, 1004, 1005, 1006, 1015,
	    1016, 1100, 2000, 2999, 5000, 65535 };
	struct script		sc;
	size_t			i;
	char			rsn[124];

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		script_init(&sc, "close invalid code");
		cclose(&sc.in, codes[i], "", 0);
		script_fail_at(&sc, sc.in.len - 1);
		expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_CLOSE_CODE);
		check_script(&sc);
	}

	script_init(&sc, "close 1 byte");
	cclose(&sc.in, -1, "\x03", 1);
	script_fail_at(&sc, sc.in.len - 1);
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_CLOSE_LEN);
	check_script(&sc);

	script_init(&sc, "close reason 124");
	memset(rsn, 'r', sizeof(rsn));
	cclose(&sc.in, 1000, rsn, 124);
	sc.fail_lo = 1;
	sc.fail_hi = 7;
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_FRAME);
	check_script(&sc);

	script_init(&sc, "close reason not utf8");
	cclose(&sc.in, 1000, "ok\xff", 3);
	script_fail_at(&sc, sc.in.len - 1);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_CLOSE_UTF8);
	check_script(&sc);

	script_init(&sc, "close reason truncated utf8");
	cclose(&sc.in, 1000, "ok\xe2\x82", 4);
	script_fail_at(&sc, sc.in.len - 1);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_CLOSE_UTF8);
	check_script(&sc);
}
END_TEST

/* Nothing after the peer's close frame is looked at. */
START_TEST(test_after_close_ignored)
{
	struct script	sc;

	script_init(&sc, "after close");
	cframe(&sc.in, true, WS_OP_TEXT, "a", 1);
	log_msg(&sc.log, WS_MSG_TEXT, "a", 1);
	cclose(&sc.in, 1000, "", 0);
	script_fail_at(&sc, sc.in.len - 1);
	cframe(&sc.in, true, WS_OP_TEXT, "b", 1);
	cframe(&sc.in, true, WS_OP_PING, "p", 1);
	cframe(&sc.in, true, WS_OP_TEXT, "\xff", 1);
	bb_add(&sc.in, "\xff\xff\xff\xff", 4);
	bb_add(&sc.out, "\x88\x02\x03\xe8", 4);
	log_closed(&sc.log, WS_CLOSED_BY_PEER, 1000, "", 0);
	sc.ret = 1;
	check_script(&sc);
}
END_TEST

/* We close first: data is dropped, pings unanswered, the reply ends it. */
START_TEST(test_server_close_reply)
{
	struct script	sc;

	script_init(&sc, "server close, reply");
	sc.pre_close = true;
	sc.pre_close_code = 1001;
	sc.pre_close_reason = "going down";
	sclose(&sc.out, 1001, "going down");
	cframe(&sc.in, true, WS_OP_TEXT, "x", 1);
	cframe(&sc.in, true, WS_OP_PING, "p", 1);
	cframe(&sc.in, false, WS_OP_TEXT, "a", 1);
	cframe(&sc.in, true, WS_OP_PONG, "q", 1);
	cframe(&sc.in, true, WS_OP_CONT, "b", 1);
	log_ctl(&sc.log, 'Q', "q", 1);
	cclose(&sc.in, 1000, "ok", 2);
	script_fail_at(&sc, sc.in.len - 1);
	log_closed(&sc.log, WS_CLOSED_REPLY, 1000, "ok", 2);
	sc.ret = 1;
	check_script(&sc);

	script_init(&sc, "server close, empty reply");
	sc.pre_close = true;
	sclose(&sc.out, 0, "");
	cclose(&sc.in, -1, "", 0);
	log_closed(&sc.log, WS_CLOSED_REPLY, 1005, "", 0);
	sc.ret = 1;
	check_script(&sc);

	/* A protocol error while closing: no second close frame. */
	script_init(&sc, "server close, then error");
	sc.pre_close = true;
	sc.pre_close_code = 1000;
	sclose(&sc.out, 1000, "");
	cframe(&sc.in, true, WS_OP_CONT, "b", 1);
	script_fail_at(&sc, 5);
	log_closed(&sc.log, WS_CLOSED_FAILED, 1002, R_CONT, strlen(R_CONT));
	sc.ret = WS_ERR_PROTOCOL;
	check_script(&sc);

	/* Text is still checked while closing. */
	script_init(&sc, "server close, then bad utf8");
	sc.pre_close = true;
	sc.pre_close_code = 1000;
	sclose(&sc.out, 1000, "");
	cframe(&sc.in, true, WS_OP_TEXT, "ab\xff", 3);
	script_fail_at(&sc, 8);
	log_closed(&sc.log, WS_CLOSED_FAILED, 1007, R_UTF8, strlen(R_UTF8));
	sc.ret = WS_ERR_UTF8;
	check_script(&sc);
}
END_TEST

/* Outgoing messages are cut at max_frame_size into exact frames. */
START_TEST(test_send_fragmentation)
{
	struct ws_session_config	 cfg = { .max_frame_size = 4 };
	struct rec			 r;
	static const char		 msg[] = "abcdefghij";
	static const uint8_t		 want[] =
	    "\x01\x04" "abcd" "\x00\x04" "efgh" "\x00\x02" "ij"
	    "\x89\x01" "p"
	    "\x80\x03" "xyz"
	    "\x82\x00"
	    "\x02\x04" "1234" "\x80\x04" "5678"
	    "\x81\x01" "z";

	memset(&r, 0, sizeof(r));
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "x", 1, false,
	    true), -1);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, msg, 10, true,
	    false), 0);
	/* The payload is written from the caller's memory, not a copy. */
	ck_assert_uint_eq(r.nwrites, 6);
	ck_assert_ptr_eq(r.wptr[1], msg);
	ck_assert_ptr_eq(r.wptr[3], msg + 4);
	ck_assert_ptr_eq(r.wptr[5], msg + 8);
	ck_assert_uint_eq(r.wlen[5], 2);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "x", 1, true,
	    true), -1);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY, "x", 1, false,
	    true), -1);
	ck_assert_int_eq(ws_session_ping(r.s, "p", 1), 0);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "", 0, false,
	    false), 0);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "xyz", 3, false,
	    true), 0);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY, "", 0, true,
	    true), 0);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY, "12345678", 8,
	    true, true), 0);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "z", 1, true,
	    true), 0);
	ck_assert_uint_eq(r.out.len, sizeof(want) - 1);
	ck_assert_mem_eq(r.out.p, want, sizeof(want) - 1);
	ck_assert_int_eq(r.bad, 0);
	ws_session_free(r.s);
	bb_free(&r.out);
}
END_TEST

/* Without max_frame_size a message is one frame, whatever its size. */
START_TEST(test_send_unfragmented)
{
	struct ws_session_config	 cfg = { 0 };
	struct rec			 r;
	uint8_t				*p;

	memset(&r, 0, sizeof(r));
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	p = calloc(1, 65536);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY, p, 65536, true,
	    true), 0);
	ck_assert_uint_eq(r.out.len, 10 + 65536);
	ck_assert_mem_eq(r.out.p, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
	    10);
	ck_assert_ptr_eq(r.wptr[1], p);
	r.out.len = 0;
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, p, 200, true,
	    false), 0);
	ck_assert_mem_eq(r.out.p, "\x01\x7e\x00\xc8", 4);
	ck_assert_uint_eq(r.out.len, 204);
	free(p);
	ws_session_free(r.s);
	bb_free(&r.out);
}
END_TEST

/*
 * One close-code rule: ws_session_close sends exactly the codes
 * ws_close_code_valid accepts (1016-2999 were sent once), among them every
 * code the daemon itself closes with.
 */
START_TEST(test_close_code_rule)
{
	static const int		 ours[] = { 1000, 1001, 1002, 1003, 1007,
	    1008, 1009, 1011, 1013 };
	struct ws_session_config	 cfg = { 0 };
	struct rec			 r;
	size_t				 i;
	int				 code, rc;

	memset(&r, 0, sizeof(r));
	for (code = 990; code <= 5010; code++) {
		r.s = ws_session_new(&cfg, &rec_cb, &r);
		r.out.len = 0;
		rc = ws_session_close(r.s, code, "x");
		if (rc != (ws_close_code_valid(code) ? 0 : -1) ||
		    (rc == -1 && r.out.len != 0))
			ck_abort_msg("close code %d: %d", code, rc);
		ws_session_free(r.s);
	}
	for (i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		r.s = ws_session_new(&cfg, &rec_cb, &r);
		ck_assert_int_eq(ws_session_close(r.s, ours[i], NULL), 0);
		ws_session_free(r.s);
	}
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	ck_assert_int_eq(ws_session_close(r.s, 1016, NULL), -1);
	ck_assert_int_eq(ws_session_close(r.s, 2999, NULL), -1);
	ws_session_free(r.s);
	bb_free(&r.out);
}
END_TEST

/* ping, pong and close: limits, payloads, reason cutting, states. */
START_TEST(test_control_api)
{
	struct ws_session_config	 cfg = { 0 };
	struct rec			 r;
	char				 rsn[200];
	uint8_t				 big[126] = { 0 };

	memset(&r, 0, sizeof(r));
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	ck_assert_int_eq(ws_session_ping(r.s, "hello", 5), 0);
	ck_assert_int_eq(ws_session_ping(r.s, big, 126), -1);
	ck_assert_int_eq(ws_session_ping(r.s, big, 125), 0);
	ck_assert_int_eq(ws_session_pong(r.s, "x", 1), 0);
	ck_assert_int_eq(ws_session_pong(r.s, big, 126), -1);
	ck_assert_uint_eq(r.out.len, 7 + 127 + 3);
	ck_assert_mem_eq(r.out.p, "\x89\x05hello\x89\x7d", 9);
	ck_assert_mem_eq(r.out.p + 134, "\x8a\x01x", 3);
	r.out.len = 0;
	ck_assert_int_eq(ws_session_close(r.s, 999, NULL), -1);
	ck_assert_int_eq(ws_session_close(r.s, 1005, NULL), -1);
	ck_assert_int_eq(ws_session_close(r.s, 5000, NULL), -1);
	ck_assert_uint_eq(r.out.len, 0);
	/* 122 bytes then a 3-byte code point: cut before the code point. */
	memset(rsn, 'a', 122);
	memcpy(rsn + 122, "\xe2\x82\xac", 4);
	ck_assert_int_eq(ws_session_close(r.s, 1000, rsn), 0);
	ck_assert_int_eq(ws_session_state(r.s), WS_STATE_CLOSING);
	ck_assert_uint_eq(r.out.len, 2 + 2 + 122);
	ck_assert_mem_eq(r.out.p, "\x88\x7c\x03\xe8", 4);
	ck_assert_mem_eq(r.out.p + 4, rsn, 122);
	r.out.len = 0;
	ck_assert_int_eq(ws_session_close(r.s, 1000, NULL), -1);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "x", 1, true,
	    true), -1);
	ck_assert_int_eq(ws_session_ping(r.s, "x", 1), -1);
	ck_assert_int_eq(ws_session_pong(r.s, "x", 1), -1);
	ck_assert_uint_eq(r.out.len, 0);
	ws_session_free(r.s);

	/* Code 0: an empty close frame, whatever the reason. */
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	ck_assert_int_eq(ws_session_close(r.s, 0, "ignored"), 0);
	ck_assert_uint_eq(r.out.len, 2);
	ck_assert_mem_eq(r.out.p, "\x88\x00", 2);
	ws_session_free(r.s);

	/* A long ASCII reason is cut to exactly 123 bytes. */
	r.out.len = 0;
	memset(rsn, 'b', sizeof(rsn) - 1);
	rsn[sizeof(rsn) - 1] = '\0';
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	ck_assert_int_eq(ws_session_close(r.s, 4000, rsn), 0);
	ck_assert_uint_eq(r.out.len, 2 + 125);
	ck_assert_mem_eq(r.out.p, "\x88\x7d\x0f\xa0", 4);
	ws_session_free(r.s);
	ck_assert_int_eq(r.bad, 0);
	bb_free(&r.out);
}
END_TEST

/* NULL ping/pong callbacks are allowed; the pong is still written. */
START_TEST(test_null_callbacks)
{
	struct ws_session_config	 cfg = { 0 };
	struct ws_session_callbacks	 cb = rec_cb;
	struct rec			 r;
	struct bb			 in = { 0 };

	cb.ping = NULL;
	cb.pong = NULL;
	memset(&r, 0, sizeof(r));
	r.s = ws_session_new(&cfg, &cb, &r);
	cframe(&in, true, WS_OP_PING, "a", 1);
	cframe(&in, true, WS_OP_PONG, "b", 1);
	ck_assert_int_eq(feed_chunk(&r, in.p, 0, in.len), 0);
	ck_assert_uint_eq(r.out.len, 3);
	ck_assert_mem_eq(r.out.p, "\x8a\x01" "a", 3);
	ck_assert_uint_eq(r.log.len, 0);
	ws_session_free(r.s);
	bb_free(&in);
	bb_free(&r.out);
}
END_TEST

/* Default reason texts. */
START_TEST(test_reason_text)
{
	ck_assert_str_eq(ws_close_reason_text(1000), "Normal closure");
	ck_assert_str_eq(ws_close_reason_text(1001), "Going away");
	ck_assert_str_eq(ws_close_reason_text(1002), "Protocol error");
	ck_assert_str_eq(ws_close_reason_text(1003), "Unsupported data");
	ck_assert_str_eq(ws_close_reason_text(1007), "Invalid payload data");
	ck_assert_str_eq(ws_close_reason_text(1008), "Policy violation");
	ck_assert_str_eq(ws_close_reason_text(1009), "Message too big");
	ck_assert_str_eq(ws_close_reason_text(1010), "Mandatory extension");
	ck_assert_str_eq(ws_close_reason_text(1011), "Internal error");
	ck_assert_str_eq(ws_close_reason_text(1005), "");
	ck_assert_str_eq(ws_close_reason_text(4000), "");
	ck_assert_str_eq(ws_close_reason_text(-1), "");
}
END_TEST

/* max_message_size: one frame over it fails at its header. */
START_TEST(test_max_message_frame)
{
	struct script	sc;
	uint8_t		p[101];
	static const uint8_t huge[] = { 0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0,
	    0x37, 0xfa, 0x21, 0x3d };

	fill(p, sizeof(p), true);
	script_init(&sc, "max size exact");
	sc.cfg.max_message_size = 100;
	cframe(&sc.in, true, WS_OP_TEXT, p, 100);
	log_msg(&sc.log, WS_MSG_TEXT, p, 100);
	check_script(&sc);

	script_init(&sc, "max size + 1");
	sc.cfg.max_message_size = 100;
	cframe(&sc.in, true, WS_OP_TEXT, p, 101);
	script_fail_at(&sc, 5);
	expect_fail(&sc, WS_ERR_TOO_BIG, 1009, R_BIG);
	check_script(&sc);

	script_init(&sc, "2^62 header");
	sc.cfg.max_message_size = 1 << 20;
	bb_add(&sc.in, huge, sizeof(huge));
	script_fail_at(&sc, sizeof(huge) - 1);
	expect_fail(&sc, WS_ERR_TOO_BIG, 1009, R_BIG);
	check_script(&sc);

	/* Unlimited: the same header just waits for its payload. */
	script_init(&sc, "2^62 header unlimited");
	bb_add(&sc.in, huge, sizeof(huge));
	bb_add(&sc.in, "abc", 3);
	check_script(&sc);
}
END_TEST

/* max_message_size counts all fragments of a message, not control frames. */
START_TEST(test_max_message_fragments)
{
	struct script	sc;
	uint8_t		p[101];

	fill(p, sizeof(p), true);
	script_init(&sc, "fragments at max");
	sc.cfg.max_message_size = 100;
	cframe(&sc.in, false, WS_OP_TEXT, p, 60);
	cframe(&sc.in, true, WS_OP_PING, p, 90);
	cframe(&sc.in, true, WS_OP_CONT, p + 60, 40);
	cframe(&sc.in, true, WS_OP_BINARY, p, 100);
	sframe(&sc.out, true, WS_OP_PONG, p, 90);
	log_ctl(&sc.log, 'P', p, 90);
	log_msg(&sc.log, WS_MSG_TEXT, p, 100);
	log_msg(&sc.log, WS_MSG_BINARY, p, 100);
	check_script(&sc);

	script_init(&sc, "fragments over max");
	sc.cfg.max_message_size = 100;
	cframe(&sc.in, false, WS_OP_TEXT, p, 60);
	cframe(&sc.in, false, WS_OP_CONT, p, 0);
	cframe(&sc.in, true, WS_OP_CONT, p + 60, 40);
	cframe(&sc.in, false, WS_OP_TEXT, p, 60);
	cframe(&sc.in, true, WS_OP_CONT, p + 60, 41);
	script_fail_at(&sc, sc.in.len - 41 - 1);
	log_msg(&sc.log, WS_MSG_TEXT, p, 100);
	expect_fail(&sc, WS_ERR_TOO_BIG, 1009, R_BIG);
	sc.check_partial = true;
	bb_add(&sc.partial, p, 60);
	check_script(&sc);
}
END_TEST

/* buffer_message: whole messages only, buffer reused and shrunk. */
START_TEST(test_buffer_message)
{
	struct script	 sc;
	uint8_t		*p;
	size_t		 big = 200000, i;

	p = malloc(big);
	ck_assert_ptr_nonnull(p);
	fill(p, big, false);
	script_init(&sc, "buffer message");
	sc.buffered_only = true;
	sc.cfg.max_message_size = big;
	for (i = 0; i < 4; i++)
		cframe(&sc.in, i == 3, i == 0 ? WS_OP_BINARY : WS_OP_CONT,
		    p + i * (big / 4), big / 4);
	log_msg(&sc.log, WS_MSG_BINARY, p, big);
	cframe(&sc.in, false, WS_OP_TEXT, "small ", 6);
	cframe(&sc.in, true, WS_OP_PING, "!", 1);
	cframe(&sc.in, true, WS_OP_CONT, "one", 3);
	sframe(&sc.out, true, WS_OP_PONG, "!", 1);
	log_ctl(&sc.log, 'P', "!", 1);
	log_msg(&sc.log, WS_MSG_TEXT, "small one", 9);
	cframe(&sc.in, true, WS_OP_BINARY, p, big);
	log_msg(&sc.log, WS_MSG_BINARY, p, big);
	cframe(&sc.in, true, WS_OP_TEXT, "", 0);
	log_msg(&sc.log, WS_MSG_TEXT, "", 0);
	free(p);
	check_script(&sc);
}
END_TEST

/* Fills p with words from a small set: text that compresses moderately. */
static void
fill_words(uint8_t *p, size_t len, uint32_t seed)
{
	static const char	*words[] = { "alpha ", "beta ", "gamma ",
	    "delta ", "epsilon ", "zeta ", "eta ", "theta ",
	    "\xc3\xa9t\xc3\xa9 ", "\xe2\x82\xac ", "{\"k\": 1}, ",
	    "\xf0\x9f\x98\x80 " };
	uint32_t		 x = seed * 2654435761u + 3;
	size_t			 i = 0, n;
	const char		*w;

	while (i < len) {
		w = words[rng_next(&x) % (sizeof(words) / sizeof(words[0]))];
		n = strlen(w);
		if (n > len - i) {
			memset(p + i, 'x', len - i);
			break;
		}
		memcpy(p + i, w, n);
		i += n;
	}
}

/* Fills p with bytes that do not compress. */
static void
fill_random(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t	x = seed * 2654435761u + 7;
	size_t		i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(rng_next(&x) >> 11);
}

/* Sets up a client's compressor: raw deflate, level 6, window wbits. */
static void
zc_init(z_stream *z, int wbits)
{
	memset(z, 0, sizeof(*z));
	ck_assert_int_eq(deflateInit2(z, 6, Z_DEFLATED, -wbits, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
}

/*
 * Compresses a whole message the RFC 7692 way (sync flush, 00 00 ff ff
 * cut off) into out; Z_FINISH makes a BFINAL block instead.
 */
static void
zc_msg(z_stream *z, struct bb *out, const void *p, size_t len, int flush)
{
	uint8_t	buf[4096];
	int	rc;

	out->len = 0;
	z->next_in = (Bytef *)(uintptr_t)p;
	z->avail_in = (uInt)len;
	do {
		z->next_out = buf;
		z->avail_out = sizeof(buf);
		rc = deflate(z, flush);
		ck_assert(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
		bb_add(out, buf, sizeof(buf) - z->avail_out);
	} while (z->avail_out == 0);
	ck_assert_uint_eq(z->avail_in, 0);
	/* zlib does not flush twice in a row: an empty message is 00. */
	if (flush == Z_SYNC_FLUSH && out->len == 0)
		bb_add(out, "\x00\x00\x00\xff\xff", 5);
	if (flush == Z_SYNC_FLUSH) {
		ck_assert_uint_ge(out->len, 4);
		ck_assert_mem_eq(out->p + out->len - 4, "\x00\x00\xff\xff", 4);
		out->len -= 4;
	}
}

/*
 * Inflates a compressed message with the test's own inflater, appending
 * the 00 00 ff ff. Returns 0, or -1 when zlib refuses it.
 */
static int
zi_msg(z_stream *z, const uint8_t *p, size_t len, struct bb *out)
{
	static const uint8_t	tail[4] = { 0, 0, 0xff, 0xff };
	uint8_t			buf[4096];
	int			rc, pass;

	out->len = 0;
	for (pass = 0; pass < 2; pass++) {
		z->next_in = (Bytef *)(uintptr_t)(pass == 0 ? p : tail);
		z->avail_in = pass == 0 ? (uInt)len : 4;
		do {
			z->next_out = buf;
			z->avail_out = sizeof(buf);
			rc = inflate(z, Z_SYNC_FLUSH);
			if (rc != Z_OK && rc != Z_BUF_ERROR)
				return -1;
			bb_add(out, buf, sizeof(buf) - z->avail_out);
		} while (z->avail_out == 0 || z->avail_in > 0);
	}
	return 0;
}

/* Starts a script with permessage-deflate agreed with default settings. */
static void
script_deflate(struct script *sc, const char *name)
{
	script_init(sc, name);
	sc->deflate = true;
	sc->dp.server_max_window_bits = 15;
	sc->dp.client_max_window_bits = 15;
	ws_deflate_config_default(&sc->dc);
}

/*
 * Appends a message compressed by z as nfrags client frames (RSV1 on the
 * first only; fragments may be empty), with a ping between fragments
 * when ping is set, and expects it. Returns the compressed size.
 */
static size_t
dmsg(struct script *sc, z_stream *z, uint8_t op, const void *p, size_t len,
    size_t nfrags, const char *ping)
{
	struct bb	c = { 0 };
	size_t		i, off = 0, n, clen;

	zc_msg(z, &c, p, len, Z_SYNC_FLUSH);
	for (i = 0; i < nfrags; i++) {
		n = i + 1 == nfrags ? c.len - off : c.len / nfrags;
		cframe_rsv(&sc->in, i + 1 == nfrags, i == 0 ? WS_RSV1 : 0,
		    i == 0 ? op : WS_OP_CONT, c.p + off, n);
		off += n;
		if (ping != NULL && i + 1 < nfrags) {
			cframe(&sc->in, true, WS_OP_PING, ping, strlen(ping));
			sframe(&sc->out, true, WS_OP_PONG, ping, strlen(ping));
			log_ctl(&sc->log, 'P', ping, strlen(ping));
		}
	}
	log_msg(&sc->log, op, p, len);
	clen = c.len;
	bb_free(&c);
	return clen;
}

/* Compressed messages of every size arrive intact, plain ones between. */
START_TEST(test_deflate_sizes)
{
	static const size_t	 dsizes[] = { 0, 1, 125, 65536, 1 << 20 };
	struct script		 sc;
	uint8_t			*p;
	size_t			 i;
	z_stream		 z;

	script_deflate(&sc, "deflate sizes");
	zc_init(&z, 15);
	p = malloc(1 << 20);
	ck_assert_ptr_nonnull(p);
	for (i = 0; i < sizeof(dsizes) / sizeof(dsizes[0]); i++) {
		fill_words(p, dsizes[i], (uint32_t)i);
		dmsg(&sc, &z, WS_OP_TEXT, p, dsizes[i], 1, NULL);
		cframe(&sc.in, true, WS_OP_TEXT, "plain", 5);
		log_msg(&sc.log, WS_MSG_TEXT, "plain", 5);
		if (dsizes[i] > 65536)
			continue;
		fill_random(p, dsizes[i], (uint32_t)i);
		dmsg(&sc, &z, WS_OP_BINARY, p, dsizes[i], 1, NULL);
	}
	free(p);
	deflateEnd(&z);
	check_script(&sc);
}
END_TEST

/* Fragmented compressed messages, pings answered between fragments. */
START_TEST(test_deflate_fragmented)
{
	struct script	 sc;
	struct bb	 c = { 0 };
	uint8_t		 p[3000];
	z_stream	 z;

	script_deflate(&sc, "deflate fragmented");
	zc_init(&z, 15);
	fill_words(p, 1000, 1);
	dmsg(&sc, &z, WS_OP_TEXT, p, 1000, 3, "p!");
	fill_random(p, 3000, 2);
	dmsg(&sc, &z, WS_OP_BINARY, p, 3000, 5, "");
	dmsg(&sc, &z, WS_OP_TEXT, "Hello", 5, 2, "x");
	/* An empty message in four frames, three of them empty. */
	dmsg(&sc, &z, WS_OP_TEXT, "", 0, 4, NULL);
	/* All data in the first frame, then an empty final one. */
	fill_words(p, 500, 3);
	zc_msg(&z, &c, p, 500, Z_SYNC_FLUSH);
	cframe_rsv(&sc.in, false, WS_RSV1, WS_OP_TEXT, c.p, c.len);
	cframe(&sc.in, true, WS_OP_PING, "q", 1);
	cframe(&sc.in, true, WS_OP_CONT, "", 0);
	sframe(&sc.out, true, WS_OP_PONG, "q", 1);
	log_ctl(&sc.log, 'P', "q", 1);
	log_msg(&sc.log, WS_MSG_TEXT, p, 500);
	/* A plain fragmented message after them. */
	cframe(&sc.in, false, WS_OP_BINARY, "ab", 2);
	cframe(&sc.in, true, WS_OP_CONT, "cd", 2);
	log_msg(&sc.log, WS_MSG_BINARY, "abcd", 4);
	bb_free(&c);
	deflateEnd(&z);
	check_script(&sc);
}
END_TEST

/*
 * Context takeover: later messages refer back into earlier ones. With
 * client_no_context_takeover agreed, a client that resets works and one
 * that does not is failed with 1007.
 */
START_TEST(test_deflate_context)
{
	struct script	sc;
	uint8_t		p[300];
	size_t		at;
	z_stream	z;

	fill_random(p, sizeof(p), 4);
	script_deflate(&sc, "deflate takeover");
	zc_init(&z, 15);
	ck_assert_uint_gt(dmsg(&sc, &z, WS_OP_BINARY, p, 300, 1, NULL), 300);
	/* Only a back reference: it needs the first message's window. */
	ck_assert_uint_lt(dmsg(&sc, &z, WS_OP_BINARY, p, 300, 1, NULL), 16);
	ck_assert_uint_lt(dmsg(&sc, &z, WS_OP_BINARY, p, 300, 2, "m"), 16);
	deflateEnd(&z);
	check_script(&sc);

	script_deflate(&sc, "deflate client_no_context_takeover");
	sc.dp.client_no_context_takeover = true;
	zc_init(&z, 15);
	dmsg(&sc, &z, WS_OP_BINARY, p, 300, 1, NULL);
	ck_assert_int_eq(deflateReset(&z), Z_OK);
	ck_assert_uint_gt(dmsg(&sc, &z, WS_OP_BINARY, p, 300, 3, NULL), 300);
	deflateEnd(&z);
	check_script(&sc);

	script_deflate(&sc, "deflate takeover not agreed");
	sc.dp.client_no_context_takeover = true;
	zc_init(&z, 15);
	dmsg(&sc, &z, WS_OP_BINARY, p, 300, 1, NULL);
	at = sc.in.len;
	sc.log.len = 0;
	log_msg(&sc.log, WS_MSG_BINARY, p, 300);
	{
		struct bb	c = { 0 };

		zc_msg(&z, &c, p, 300, Z_SYNC_FLUSH);
		cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_BINARY, c.p, c.len);
		bb_free(&c);
	}
	sc.fail_lo = (long)at + 6;
	sc.fail_hi = (long)sc.in.len - 1;
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_INFLATE);
	deflateEnd(&z);
	check_script(&sc);
}
END_TEST

/* RFC 7692 7.2.3: the "Hello" examples, and a BFINAL block. */
START_TEST(test_deflate_rfc_examples)
{
	static const uint8_t	hello[] = { 0xf2, 0x48, 0xcd, 0xc9, 0xc9,
	    0x07, 0x00 };
	static const uint8_t	stored[] = { 0x00, 0x05, 0x00, 0xfa, 0xff,
	    0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00 };
	static const uint8_t	again[] = { 0xf2, 0x00, 0x11, 0x00, 0x00 };
	struct script		sc;
	struct bb		c = { 0 };
	z_stream		z;

	script_deflate(&sc, "deflate rfc examples");
	/* 7.2.3.1: one frame; the first bytes as the RFC shows them. */
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT, hello, sizeof(hello));
	ck_assert_mem_eq(sc.in.p, "\xc1\x87", 2);
	log_msg(&sc.log, WS_MSG_TEXT, "Hello", 5);
	/* 7.2.3.2: fragmented, then one sharing the window. */
	cframe_rsv(&sc.in, false, WS_RSV1, WS_OP_TEXT, hello, 3);
	cframe(&sc.in, true, WS_OP_CONT, hello + 3, 4);
	log_msg(&sc.log, WS_MSG_TEXT, "Hello", 5);
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT, again, sizeof(again));
	log_msg(&sc.log, WS_MSG_TEXT, "Hello", 5);
	/* 7.2.3.3: a stored block. */
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT, stored, sizeof(stored));
	log_msg(&sc.log, WS_MSG_TEXT, "Hello", 5);
	/* 7.2.3.4: a BFINAL block ends the stream; the next starts anew. */
	zc_init(&z, 15);
	zc_msg(&z, &c, "Hello, world", 12, Z_FINISH);
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT, c.p, c.len);
	log_msg(&sc.log, WS_MSG_TEXT, "Hello, world", 12);
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT, hello, sizeof(hello));
	log_msg(&sc.log, WS_MSG_TEXT, "Hello", 5);
	/* 7.2.3.6: the byte 00 is an empty message; so is no byte. */
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_BINARY, "", 1);
	log_msg(&sc.log, WS_MSG_BINARY, "", 0);
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_BINARY, "", 0);
	log_msg(&sc.log, WS_MSG_BINARY, "", 0);
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT, hello, sizeof(hello));
	log_msg(&sc.log, WS_MSG_TEXT, "Hello", 5);
	deflateEnd(&z);
	bb_free(&c);
	check_script(&sc);
}
END_TEST

/*
 * 10 MB of zeros in about 10 KB against MaxMessageSize 1 MiB: 1009 long
 * before the frame ends, pieces never above WS_DEFLATE_CHUNK, and memory
 * grows only by the inflate window (plus, buffered, the 1 MiB message).
 */
START_TEST(test_deflate_zip_bomb)
{
	struct script	 sc;
	struct bb	 c = { 0 };
	uint8_t		*zeros;
	size_t		 big = 10 * 1000 * 1000;
	z_stream	 z;

	zeros = calloc(1, big);
	ck_assert_ptr_nonnull(zeros);
	script_deflate(&sc, "deflate zip bomb");
	sc.cfg.max_message_size = 1 << 20;
	zc_init(&z, 15);
	zc_msg(&z, &c, zeros, big, Z_SYNC_FLUSH);
	ck_assert_uint_lt(c.len, 12 * 1024);
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_BINARY, c.p, c.len);
	expect_fail(&sc, WS_ERR_TOO_BIG, 1009, R_BIG);
	sc.fail_lo = 8;
	sc.fail_hi = (long)sc.in.len / 4;
	sc.piece_max = WS_DEFLATE_CHUNK;
	/*
	 * The inflater is made on the first compressed message: its 32 KiB
	 * window, its state (under 8 KiB) and the fixed output buffer. Past
	 * that, nothing may grow, however much the bomb inflates to.
	 */
	sc.mem_grow = (1 << 15) + (8 << 10) + WS_DEFLATE_CHUNK;
	sc.mem_grow_buffered = sc.mem_grow + (1 << 20);
	deflateEnd(&z);
	bb_free(&c);
	free(zeros);
	check_script(&sc);
}
END_TEST

/* Payload that does not inflate fails with 1007 where it breaks. */
START_TEST(test_deflate_invalid)
{
	struct script	sc;
	struct bb	c = { 0 };
	z_stream	z;

	script_deflate(&sc, "deflate invalid block type");
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_BINARY, "\xff\xff\xff", 3);
	script_fail_at(&sc, 6);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_INFLATE);
	check_script(&sc);

	/* Good first fragment, broken second: the good part got through. */
	script_deflate(&sc, "deflate invalid second fragment");
	zc_init(&z, 15);
	zc_msg(&z, &c, "abc", 3, Z_SYNC_FLUSH);
	cframe_rsv(&sc.in, false, WS_RSV1, WS_OP_BINARY, c.p, c.len);
	/* The stripped tail's LEN/NLEN come next: 0/0 do not match. */
	cframe(&sc.in, true, WS_OP_CONT, "\x00\x00\x00\x00", 4);
	script_fail_at(&sc, sc.in.len - 1);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_INFLATE);
	sc.check_partial = true;
	bb_add(&sc.partial, "abc", 3);
	deflateEnd(&z);
	bb_free(&c);
	check_script(&sc);

	/* A stored block whose length check does not match. */
	script_deflate(&sc, "deflate bad stored length");
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT,
	    "\x00\x05\x00\x00\x00" "Hello", 10);
	sc.fail_lo = 6;
	sc.fail_hi = 11;
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_INFLATE);
	check_script(&sc);
}
END_TEST

/* RSV1 only on a data message's first frame; other RSV bits never. */
START_TEST(test_deflate_rsv)
{
	static const uint8_t	ctl[] = { WS_OP_PING, WS_OP_PONG,
	    WS_OP_CLOSE };
	struct script		sc;
	struct bb		c = { 0 };
	size_t			i, at;
	z_stream		z;

	script_deflate(&sc, "deflate rsv1 on continuation");
	zc_init(&z, 15);
	zc_msg(&z, &c, "abcdef", 6, Z_SYNC_FLUSH);
	cframe_rsv(&sc.in, false, WS_RSV1, WS_OP_TEXT, c.p, 3);
	at = sc.in.len;
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_CONT, c.p + 3, c.len - 3);
	sc.fail_lo = (long)at + 1;
	sc.fail_hi = (long)at + 5;
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_RSV1);
	deflateEnd(&z);
	bb_free(&c);
	check_script(&sc);

	script_deflate(&sc, "deflate rsv1 on plain continuation");
	cframe(&sc.in, false, WS_OP_TEXT, "ab", 2);
	at = sc.in.len;
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_CONT, "cd", 2);
	sc.fail_lo = (long)at + 1;
	sc.fail_hi = (long)at + 5;
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_RSV1);
	check_script(&sc);

	for (i = 0; i < sizeof(ctl); i++) {
		script_deflate(&sc, "deflate rsv1 on control");
		cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT,
		    "\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
		log_msg(&sc.log, WS_MSG_TEXT, "Hello", 5);
		at = sc.in.len;
		cframe_rsv(&sc.in, true, WS_RSV1, ctl[i], "\x03\xe8", 2);
		sc.fail_lo = (long)at + 1;
		sc.fail_hi = (long)at + 5;
		expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_RSV1);
		check_script(&sc);
	}

	script_deflate(&sc, "deflate rsv2");
	cframe_rsv(&sc.in, true, WS_RSV2, WS_OP_TEXT, "x", 1);
	sc.fail_lo = 0;
	sc.fail_hi = 5;
	expect_fail(&sc, WS_ERR_PROTOCOL, 1002, R_FRAME);
	check_script(&sc);
}
END_TEST

/* UTF-8 is checked on the inflated text, failing as soon as it is seen. */
START_TEST(test_deflate_utf8)
{
	struct script	 sc;
	struct bb	 c = { 0 };
	uint8_t		 p[3001];
	uint32_t	 x = 99;
	size_t		 i, at;
	z_stream	 z;

	/* 1000 bytes of text, a bad byte, 2000 random letters. */
	fill_words(p, 1000, 7);
	p[1000] = 0xc0;
	for (i = 1001; i < sizeof(p); i++)
		p[i] = (uint8_t)('a' + rng_next(&x) % 26);
	script_deflate(&sc, "deflate utf8 fail fast");
	zc_init(&z, 15);
	zc_msg(&z, &c, p, sizeof(p), Z_SYNC_FLUSH);
	ck_assert_uint_gt(c.len, 1200);
	at = sc.in.len;
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT, c.p, c.len);
	/* Long before the 1000 bytes that follow are in. */
	sc.fail_lo = (long)at + 8;
	sc.fail_hi = (long)sc.in.len - 1000;
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_UTF8);
	sc.check_partial = true;
	bb_add(&sc.partial, p, 1000);
	deflateEnd(&z);
	check_script(&sc);

	script_deflate(&sc, "deflate utf8 truncated");
	zc_init(&z, 15);
	zc_msg(&z, &c, "ab\xe2\x82", 4, Z_SYNC_FLUSH);
	cframe_rsv(&sc.in, true, WS_RSV1, WS_OP_TEXT, c.p, c.len);
	script_fail_at(&sc, sc.in.len - 1);
	expect_fail(&sc, WS_ERR_UTF8, 1007, R_UTF8_END);
	deflateEnd(&z);
	bb_free(&c);
	check_script(&sc);
}
END_TEST

/* MaxMessageSize counts inflated bytes, not what came over the wire. */
START_TEST(test_deflate_max_size)
{
	struct script	sc;
	uint8_t		p[101];
	z_stream	z;

	script_deflate(&sc, "deflate max exact");
	sc.cfg.max_message_size = 100;
	zc_init(&z, 15);
	fill_words(p, 100, 1);
	dmsg(&sc, &z, WS_OP_TEXT, p, 100, 2, "z");
	/* Random bytes grow when compressed, yet fit. */
	fill_random(p, 100, 2);
	ck_assert_uint_gt(dmsg(&sc, &z, WS_OP_BINARY, p, 100, 1, NULL), 100);
	deflateEnd(&z);
	check_script(&sc);

	script_deflate(&sc, "deflate max + 1");
	sc.cfg.max_message_size = 100;
	zc_init(&z, 15);
	fill_random(p, 101, 3);
	dmsg(&sc, &z, WS_OP_BINARY, p, 101, 1, NULL);
	sc.log.len = 0;
	sc.fail_lo = 8;
	sc.fail_hi = (long)sc.in.len - 1;
	expect_fail(&sc, WS_ERR_TOO_BIG, 1009, R_BIG);
	deflateEnd(&z);
	check_script(&sc);
}
END_TEST

/* Appends a server frame with RSV bits (unmasked). */
static void
sframe_rsv(struct bb *b, bool fin, uint8_t rsv, uint8_t op, const void *p,
    size_t len)
{
	uint8_t	hdr[WS_HEADER_MAX];
	size_t	hlen;

	hlen = ws_frame_header_encode(hdr, fin, rsv, op, len, NULL);
	bb_add(b, hdr, hlen);
	bb_add(b, p, len);
}

/*
 * Echo: whole messages go back compressed, byte for byte what zlib makes
 * with our defaults; short ones go back plain.
 */
START_TEST(test_deflate_echo)
{
	static const size_t	 lens[] = { 5, 0, 31, 32, 100, 1000, 5000 };
	struct script		 sc;
	struct bb		 c = { 0 };
	uint8_t			 p[5000];
	size_t			 i, nct;
	z_stream		 zc, zs;
	uint8_t			 op;

	for (nct = 0; nct < 2; nct++) {
		script_deflate(&sc, nct ? "deflate echo, no takeover" :
		    "deflate echo");
		sc.buffered_only = true;
		sc.echo = true;
		sc.dp.server_no_context_takeover = nct;
		zc_init(&zc, 15);
		zc_init(&zs, 15);
		for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
			op = i % 2 ? WS_OP_BINARY : WS_OP_TEXT;
			if (op == WS_OP_TEXT)
				fill_words(p, lens[i], (uint32_t)i);
			else
				fill_random(p, lens[i], (uint32_t)i);
			dmsg(&sc, &zc, op, p, lens[i], 1 + i % 3, NULL);
			if (lens[i] < 32) {
				sframe(&sc.out, true, op, p, lens[i]);
				continue;
			}
			if (nct)
				ck_assert_int_eq(deflateReset(&zs), Z_OK);
			zc_msg(&zs, &c, p, lens[i], Z_SYNC_FLUSH);
			sframe_rsv(&sc.out, true, WS_RSV1, op, c.p, c.len);
		}
		deflateEnd(&zc);
		deflateEnd(&zs);
		check_script(&sc);
	}
	bb_free(&c);
}
END_TEST

/* Our "Hello" is the RFC's, with and without context takeover. */
START_TEST(test_deflate_send_hello)
{
	struct ws_session_config	cfg = { 0 };
	struct ws_deflate_params	dp = { true, false, 15, 15 };
	struct ws_deflate_config	dc;
	struct rec			r;

	ws_deflate_config_default(&dc);
	dc.min_size = 0;
	cfg.deflate = &dp;
	cfg.deflate_cfg = &dc;
	memset(&r, 0, sizeof(r));
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "Hello", 5, true,
	    true), 0);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "Hello", 5, true,
	    true), 0);
	ck_assert_uint_eq(r.out.len, 18);
	ck_assert_mem_eq(r.out.p, "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00"
	    "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00", 18);
	ws_session_free(r.s);

	dp.server_no_context_takeover = false;
	r.out.len = 0;
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "Hello", 5, true,
	    true), 0);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "Hello", 5, true,
	    true), 0);
	/* An empty message: the byte 00. */
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY, "", 0, true,
	    true), 0);
	ck_assert_uint_eq(r.out.len, 9 + 7 + 3);
	ck_assert_mem_eq(r.out.p, "\xc1\x07\xf2\x48\xcd\xc9\xc9\x07\x00"
	    "\xc1\x05\xf2\x00\x11\x00\x00" "\xc2\x01\x00", 19);
	ck_assert_int_eq(r.bad, 0);
	ws_session_free(r.s);
	bb_free(&r.out);
}
END_TEST

/* One message we expect to find in the output. */
struct sent {
	uint8_t		 op;
	const uint8_t	*p;
	size_t		 len;
	bool		 compressed;
};

/*
 * Walks server output: every frame at most max payload bytes (0: any),
 * RSV1 only on the first frame of a compressed message, pings "p" only
 * between frames; compressed messages are inflated by zlib and compared.
 */
static void
check_sent(const struct bb *out, size_t max, const struct sent *want,
    size_t nwant, bool reset)
{
	struct bb	msg = { 0 }, back = { 0 };
	size_t		off = 0, hlen, k = 0, nframes = 0;
	uint64_t	plen;
	uint8_t		b0, op;
	bool		in_msg = false, compressed = false;
	z_stream	zi;
	int		i;

	memset(&zi, 0, sizeof(zi));
	ck_assert_int_eq(inflateInit2(&zi, -15), Z_OK);
	while (off < out->len) {
		ck_assert_uint_ge(out->len - off, 2);
		b0 = out->p[off];
		op = b0 & 0x0f;
		plen = out->p[off + 1] & 0x7f;
		hlen = 2;
		if (plen == 126) {
			plen = ((uint64_t)out->p[off + 2] << 8) | out->p[off + 3];
			hlen = 4;
		} else if (plen == 127) {
			for (i = 2, plen = 0; i < 10; i++)
				plen = (plen << 8) | out->p[off + i];
			hlen = 10;
		}
		ck_assert_uint_le(hlen + plen, out->len - off);
		ck_assert(max == 0 || plen <= max);
		ck_assert_int_eq(b0 & 0x30, 0);
		nframes++;
		if (op == WS_OP_PING) {
			ck_assert_int_eq(b0 & 0xf0, 0x80);
			ck_assert_uint_eq(plen, 1);
			ck_assert_int_eq(out->p[off + 2], 'p');
			off += hlen + plen;
			continue;
		}
		if (!in_msg) {
			ck_assert_uint_lt(k, nwant);
			ck_assert_int_eq(op, want[k].op);
			compressed = (b0 & 0x40) != 0;
			ck_assert_int_eq(compressed, want[k].compressed);
			msg.len = 0;
		} else {
			ck_assert_int_eq(op, WS_OP_CONT);
			ck_assert_int_eq(b0 & 0x40, 0);
		}
		bb_add(&msg, out->p + off + hlen, (size_t)plen);
		in_msg = !(b0 & 0x80);
		off += hlen + plen;
		if (in_msg)
			continue;
		if (compressed) {
			if (reset)
				ck_assert_int_eq(inflateReset(&zi), Z_OK);
			ck_assert_int_eq(zi_msg(&zi, msg.p, msg.len, &back), 0);
		} else {
			back.len = 0;
			bb_add(&back, msg.p, msg.len);
		}
		ck_assert_uint_eq(back.len, want[k].len);
		ck_assert(back.len == 0 ||
		    memcmp(back.p, want[k].p, back.len) == 0);
		k++;
	}
	ck_assert(!in_msg);
	ck_assert_uint_eq(k, nwant);
	ck_assert_uint_gt(nframes, nwant);
	inflateEnd(&zi);
	bb_free(&msg);
	bb_free(&back);
}

/*
 * Outgoing compressed messages, whole and in pieces with pings between,
 * are cut at max_frame_size, carry RSV1 on their first frame only, and
 * inflate back to what was sent.
 */
START_TEST(test_deflate_send_fragmentation)
{
	struct ws_session_config	 cfg = { 0 };
	struct ws_deflate_params	 dp = { false, false, 15, 15 };
	struct ws_deflate_config	 dc;
	struct sent			 want[8];
	struct rec			 r;
	uint8_t				*words, *rnd;
	size_t				 n = 0, off, step, nct, maxf;

	words = malloc(1 << 20);
	rnd = malloc(65536);
	ck_assert_ptr_nonnull(words);
	ck_assert_ptr_nonnull(rnd);
	fill_words(words, 1 << 20, 11);
	fill_random(rnd, 65536, 12);
	ws_deflate_config_default(&dc);
	for (nct = 0; nct < 3; nct++) {
		/* 100-byte frames; the last round without a frame limit. */
		maxf = nct == 2 ? 0 : 100;
		dp.server_no_context_takeover = nct == 1;
		cfg.max_frame_size = maxf;
		cfg.deflate = &dp;
		cfg.deflate_cfg = &dc;
		memset(&r, 0, sizeof(r));
		r.s = ws_session_new(&cfg, &rec_cb, &r);
		n = 0;
		/* Below min_size: plain; at it: compressed. */
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, words, 31,
		    true, true), 0);
		ck_assert_mem_eq(r.out.p, "\x81\x1f", 2);
		want[n++] = (struct sent){ WS_OP_TEXT, words, 31, false };
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, words, 32,
		    true, true), 0);
		ck_assert_int_eq(r.out.p[33], 0xc1);
		want[n++] = (struct sent){ WS_OP_TEXT, words, 32, true };
		/* In pieces, pings between: compressed even when short. */
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY, "ab", 2,
		    true, false), 0);
		ck_assert_int_eq(ws_session_ping(r.s, "p", 1), 0);
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY, "", 0,
		    false, false), 0);
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY, "c", 1,
		    false, true), 0);
		want[n++] = (struct sent){ WS_OP_BINARY,
		    (const uint8_t *)"abc", 3, true };
		for (off = 0, step = 1000; off < 65536; off += step) {
			if (step > 65536 - off)
				step = 65536 - off;
			ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY,
			    rnd + off, step, off == 0, off + step == 65536), 0);
			if (off % 10000 == 0)
				ck_assert_int_eq(ws_session_ping(r.s, "p", 1),
				    0);
		}
		want[n++] = (struct sent){ WS_OP_BINARY, rnd, 65536, true };
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, words,
		    1 << 20, true, true), 0);
		want[n++] = (struct sent){ WS_OP_TEXT, words, 1 << 20, true };
		/* The same again: with takeover it refers back. */
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, words,
		    1 << 20, true, false), 0);
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, NULL, 0,
		    false, true), 0);
		want[n++] = (struct sent){ WS_OP_TEXT, words, 1 << 20, true };
		ck_assert_int_eq(ws_session_send(r.s, WS_MSG_BINARY, "", 0,
		    true, true), 0);
		want[n++] = (struct sent){ WS_OP_BINARY,
		    (const uint8_t *)"", 0, false };
		check_sent(&r.out, maxf, want, n, nct == 1);
		ck_assert_int_eq(r.bad, 0);
		ws_session_free(r.s);
		bb_free(&r.out);
	}
	free(words);
	free(rnd);
}
END_TEST

/* Without the extension nothing changes: RSV1 fails, sends are plain. */
START_TEST(test_deflate_off)
{
	struct ws_session_config	cfg = { 0 };
	struct rec			r;
	struct bb			in = { 0 };

	memset(&r, 0, sizeof(r));
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	ck_assert_uint_lt(ws_session_memory(r.s), 1024);
	ck_assert_int_eq(ws_session_send(r.s, WS_MSG_TEXT, "Hello", 5, true,
	    true), 0);
	ck_assert_mem_eq(r.out.p, "\x81\x05Hello", 7);
	cframe_rsv(&in, true, WS_RSV1, WS_OP_TEXT,
	    "\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
	ck_assert_int_eq(feed_chunk(&r, in.p, 0, in.len), WS_ERR_PROTOCOL);
	ck_assert_int_eq(r.nclosed, 1);
	ws_session_free(r.s);
	bb_free(&in);
	bb_free(&r.out);
	bb_free(&r.log);
}
END_TEST

/*
 * Memory of an idle session, and of control frames: one that arrives whole
 * is read in place; one in pieces is copied until it ends, then the copy
 * is gone. Payloads and answers are exact either way.
 */
START_TEST(test_control_memory)
{
	struct ws_session_config	 cfg = { 0 };
	struct rec			 r;
	struct bb			 in = { 0 }, want = { 0 }, log = { 0 };
	uint8_t				 p[WS_CONTROL_MAX];
	size_t				 base, split;

	fill(p, sizeof(p), true);
	memset(&r, 0, sizeof(r));
	r.s = ws_session_new(&cfg, &rec_cb, &r);
	base = ws_session_memory(r.s);
	/* What an idle connection costs here (issue #8: 1 KiB in all). */
	ck_assert_uint_le(base, 256);

	/* Whole: nothing is held. */
	cframe(&in, true, WS_OP_PING, p, sizeof(p));
	ck_assert_int_eq(feed_chunk(&r, in.p, 0, in.len), 0);
	ck_assert_uint_eq(ws_session_memory(r.s), base);
	sframe(&want, true, WS_OP_PONG, p, sizeof(p));
	log_ctl(&log, 'P', p, sizeof(p));

	/* In pieces, each from a buffer freed after its feed call. */
	bb_free(&in);
	cframe(&in, true, WS_OP_PING, p, sizeof(p));
	for (split = 1; split < in.len; split += 37) {
		ck_assert_int_eq(feed_chunk(&r, in.p, 0, split), 0);
		ck_assert_uint_eq(ws_session_memory(r.s), split > 6 ?
		    base + WS_CONTROL_MAX : base);
		ck_assert_int_eq(feed_chunk(&r, in.p, split, in.len - split),
		    0);
		ck_assert_uint_eq(ws_session_memory(r.s), base);
		sframe(&want, true, WS_OP_PONG, p, sizeof(p));
		log_ctl(&log, 'P', p, sizeof(p));
	}

	/* A close frame in pieces: its reason reaches the callback intact. */
	bb_free(&in);
	cclose(&in, 1000, p, sizeof(p) - 2);
	ck_assert_int_eq(feed_chunk(&r, in.p, 0, 50), 0);
	ck_assert_int_eq(feed_chunk(&r, in.p, 50, in.len - 50), 1);
	sclose(&want, 1000, "");
	log_closed(&log, WS_CLOSED_BY_PEER, 1000, p, sizeof(p) - 2);

	ck_assert_int_eq(r.bad, 0);
	ck_assert_uint_eq(r.out.len, want.len);
	ck_assert_mem_eq(r.out.p, want.p, want.len);
	ck_assert_uint_eq(r.log.len, log.len);
	ck_assert_mem_eq(r.log.p, log.p, log.len);
	ws_session_free(r.s);
	bb_free(&in);
	bb_free(&want);
	bb_free(&log);
	bb_free(&r.out);
	bb_free(&r.log);
}
END_TEST

/* Returns the session suite. */
Suite *
make_session_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("session");

	tc = tcase_create("Core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_message_sizes);
	tcase_add_test(tc, test_echo_sizes);
	tcase_add_test(tc, test_fragmented_utf8);
	tcase_add_test(tc, test_ping_between_fragments);
	tcase_add_test(tc, test_ping_immediate);
	tcase_add_test(tc, test_rsv_bits);
	tcase_add_test(tc, test_reserved_opcodes);
	tcase_add_test(tc, test_cont_without_start);
	tcase_add_test(tc, test_nested_message);
	tcase_add_test(tc, test_fragmented_ping);
	tcase_add_test(tc, test_unmasked);
	tcase_add_test(tc, test_utf8_fail_fast);
	tcase_add_test(tc, test_close_valid);
	tcase_add_test(tc, test_close_invalid);
	tcase_add_test(tc, test_after_close_ignored);
	tcase_add_test(tc, test_server_close_reply);
	tcase_add_test(tc, test_send_fragmentation);
	tcase_add_test(tc, test_send_unfragmented);
	tcase_add_test(tc, test_control_api);
	tcase_add_test(tc, test_close_code_rule);
	tcase_add_test(tc, test_null_callbacks);
	tcase_add_test(tc, test_reason_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("Deflate");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_deflate_sizes);
	tcase_add_test(tc, test_deflate_fragmented);
	tcase_add_test(tc, test_deflate_context);
	tcase_add_test(tc, test_deflate_rfc_examples);
	tcase_add_test(tc, test_deflate_invalid);
	tcase_add_test(tc, test_deflate_rsv);
	tcase_add_test(tc, test_deflate_utf8);
	tcase_add_test(tc, test_deflate_echo);
	tcase_add_test(tc, test_deflate_send_hello);
	tcase_add_test(tc, test_deflate_send_fragmentation);
	tcase_add_test(tc, test_deflate_off);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_ping_too_long);
	tcase_add_test(tc, test_control_memory);
	tcase_add_test(tc, test_max_message_frame);
	tcase_add_test(tc, test_max_message_fragments);
	tcase_add_test(tc, test_buffer_message);
	tcase_add_test(tc, test_deflate_zip_bomb);
	tcase_add_test(tc, test_deflate_max_size);
	suite_add_tcase(s, tc);

	return s;
}
