/* check_frame.c - tests for the RFC 6455 frame codec. */
#include <sys/types.h>

#include <check.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "core/ws-frame.h"

#define BIGLEN		65536
#define ERRLEN		256

/* How a script is cut into chunks before it is fed to the decoder. */
enum chunking {
	CHUNK_WHOLE,
	CHUNK_BYTES,
	CHUNK_RANDOM,		/* seeded random sizes */
	CHUNK_SPLIT,		/* two chunks, cut at seed */
};

/* One frame a script holds, as the decoder must report it. */
struct tframe {
	bool		 fin;
	uint8_t		 rsv;
	uint8_t		 opcode;
	bool		 masked;
	uint8_t		 mask[4];
	const uint8_t	*payload;
	uint64_t	 len;
	int		 lenform;	/* 0 minimal, else force 7, 16 or 64 */
};

/*
 * Follows the events of one decode run and checks them against the
 * frames the script holds, without asserting per event: ck_assert costs a
 * pipe write in fork mode and a 64 KiB payload fed bytewise gives 64 Ki
 * events.
 */
struct checker {
	const struct tframe	*frames;
	size_t			 nframes;
	size_t			 idx;
	bool			 in_frame;
	uint64_t		 got;
	char			 err[ERRLEN / 2];
};

static uint8_t	pattern[BIGLEN + 1024];

/* A small deterministic PRNG (xorshift32). */
static uint32_t
frame_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Fills the shared payload pattern once; it is never all one byte. */
static void
frame_setup(void)
{
	uint32_t	s = 12345;
	size_t		i;

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)frame_rand(&s);
}

/* Records the first mismatch of a run; later ones are consequences. */
static int
checker_fail(struct checker *c, const char *fmt, ...)
{
	va_list	ap;

	if (c->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(c->err, sizeof(c->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Compares a reported header with the expected frame. */
static int
checker_header(struct checker *c, const struct ws_frame_header *h,
    const struct tframe *f)
{
	if (h->fin != f->fin || h->rsv != f->rsv || h->opcode != f->opcode ||
	    h->masked != f->masked || h->length != f->len)
		return checker_fail(c, "frame %zu: header fin %d rsv %u op %u "
		    "masked %d len %llu", c->idx, h->fin, h->rsv, h->opcode,
		    h->masked, (unsigned long long)h->length);
	if (f->masked && memcmp(h->mask, f->mask, 4) != 0)
		return checker_fail(c, "frame %zu: mask key", c->idx);
	return 0;
}

/*
 * Checks one event. chunk/clen is the chunk being fed, pos where this
 * call started in it, used what it consumed.
 */
static int
checker_event(struct checker *c, const struct ws_frame_ev *ev,
    const uint8_t *chunk, size_t clen, size_t pos, size_t used)
{
	const struct tframe	*f = c->idx < c->nframes ?
	    &c->frames[c->idx] : NULL;

	switch (ev->type) {
	case WS_FRAME_NEED_MORE:
		if (pos + used != clen)
			return checker_fail(c, "NEED_MORE with %zu bytes left",
			    clen - pos - used);
		return 0;
	case WS_FRAME_HEADER:
		if (f == NULL || c->in_frame)
			return checker_fail(c, "unexpected HEADER, frame %zu",
			    c->idx);
		if (checker_header(c, &ev->header, f) != 0)
			return -1;
		c->in_frame = true;
		c->got = 0;
		return 0;
	case WS_FRAME_PAYLOAD:
		if (f == NULL || !c->in_frame)
			return checker_fail(c, "unexpected PAYLOAD");
		if (checker_header(c, &ev->header, f) != 0)
			return -1;
		if (ev->len == 0 || ev->len > f->len - c->got)
			return checker_fail(c, "frame %zu: PAYLOAD of %zu at "
			    "%llu", c->idx, ev->len,
			    (unsigned long long)c->got);
		if (ev->data < chunk + pos ||
		    ev->data + ev->len > chunk + pos + used)
			return checker_fail(c, "frame %zu: data outside the "
			    "bytes consumed", c->idx);
		if (memcmp(ev->data, f->payload + c->got, ev->len) != 0)
			return checker_fail(c, "frame %zu: payload differs "
			    "at %llu", c->idx, (unsigned long long)c->got);
		c->got += ev->len;
		return 0;
	case WS_FRAME_END:
		if (f == NULL || !c->in_frame)
			return checker_fail(c, "unexpected END");
		if (checker_header(c, &ev->header, f) != 0)
			return -1;
		if (c->got != f->len)
			return checker_fail(c, "frame %zu: END after %llu of "
			    "%llu", c->idx, (unsigned long long)c->got,
			    (unsigned long long)f->len);
		c->in_frame = false;
		c->idx++;
		return 0;
	}
	return checker_fail(c, "event type %d", (int)ev->type);
}

/* Picks the next chunk size for a chunking. */
static size_t
frame_chunk(enum chunking how, uint32_t *seed, size_t off, size_t len,
    size_t cut)
{
	uint32_t	r;

	switch (how) {
	case CHUNK_WHOLE:
		return len - off;
	case CHUNK_BYTES:
		return 1;
	case CHUNK_SPLIT:
		return off < cut ? cut - off : len - off;
	case CHUNK_RANDOM:
		r = frame_rand(seed);
		if (r % 4 == 0)
			return 1 + (r >> 2) % (len - off);
		return 1 + (r >> 2) % 16;
	}
	return 1;
}

/* Appends a frame to out the way a conforming peer writes it. */
static size_t
frame_build(uint8_t *out, const struct tframe *f)
{
	size_t		n = 0;
	uint64_t	i;
	int		form = f->lenform, b;

	if (form == 0)
		form = f->len < 126 ? 7 : f->len <= 0xffff ? 16 : 64;
	out[n++] = (f->fin ? 0x80 : 0) | f->rsv << 4 | f->opcode;
	out[n] = f->masked ? 0x80 : 0;
	if (form == 7) {
		out[n++] |= (uint8_t)f->len;
	} else if (form == 16) {
		out[n++] |= 126;
		out[n++] = (uint8_t)(f->len >> 8);
		out[n++] = (uint8_t)f->len;
	} else {
		out[n++] |= 127;
		for (b = 56; b >= 0; b -= 8)
			out[n++] = (uint8_t)(f->len >> b);
	}
	if (f->masked) {
		memcpy(out + n, f->mask, 4);
		n += 4;
	}
	for (i = 0; i < f->len; i++)
		out[n + i] = f->payload[i] ^ (f->masked ? f->mask[i % 4] : 0);
	return n + f->len;
}

/* Builds a script of frames into a fresh allocation. */
static uint8_t *
frame_script(const struct tframe *frames, size_t n, size_t *len)
{
	uint8_t		*buf;
	size_t		 i, total = 0;

	for (i = 0; i < n; i++)
		total += WS_HEADER_MAX + frames[i].len;
	buf = malloc(total + 1);
	ck_assert_ptr_nonnull(buf);
	*len = 0;
	for (i = 0; i < n; i++)
		*len += frame_build(buf + *len, &frames[i]);
	return buf;
}

/*
 * Feeds script in the given chunking, checking every event against
 * frames. Returns 0, or -1 with the reason in err.
 */
static int
frame_run(const uint8_t *script, size_t len, bool require_mask,
    uint8_t rsv_allowed, const struct tframe *frames, size_t nframes,
    enum chunking how, uint32_t seed, char *err)
{
	struct ws_frame_decoder	 d;
	struct ws_frame_ev	 ev;
	struct checker		 c;
	uint8_t			*buf;
	size_t			 off, clen, pos, calls;
	ssize_t			 rc;
	int			 ret = -1;

	memset(&c, 0, sizeof(c));
	c.frames = frames;
	c.nframes = nframes;
	/* A private copy: the decoder unmasks in place. */
	buf = malloc(len + 1);
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, script, len);
	ws_frame_decoder_init(&d, require_mask);
	d.rsv_allowed = rsv_allowed;
	for (off = 0; off < len || off == 0; off += clen) {
		clen = len == 0 ? 0 : frame_chunk(how, &seed, off, len,
		    (size_t)seed % len);
		if (clen > len - off)
			clen = len - off;
		pos = 0;
		/* Each call consumes a byte or reports HEADER/END. */
		for (calls = 0; ; calls++) {
			if (calls > clen + 3 * nframes + 2) {
				checker_fail(&c, "no progress at %zu", off +
				    pos);
				goto out;
			}
			rc = ws_frame_decode(&d, buf + off + pos, clen - pos,
			    &ev);
			if (rc < 0 || (size_t)rc > clen - pos) {
				checker_fail(&c, "decode returned %zd at %zu",
				    rc, off + pos);
				goto out;
			}
			if (checker_event(&c, &ev, buf + off, clen, pos,
			    (size_t)rc) != 0)
				goto out;
			pos += (size_t)rc;
			if (ev.type == WS_FRAME_NEED_MORE)
				break;
		}
		if (len == 0)
			break;
	}
	if (c.idx != nframes || c.in_frame)
		checker_fail(&c, "ended in frame %zu of %zu", c.idx, nframes);
	else
		ret = 0;
out:
	free(buf);
	if (ret != 0)
		snprintf(err, ERRLEN, "chunking %d seed %u: %s", (int)how,
		    seed, c.err);
	return ret;
}

/*
 * Feeds a script in every chunking: whole, bytewise, twenty seeded random
 * splittings and (for short scripts) a two-way cut at every position.
 */
static void
frame_run_all(const struct tframe *frames, size_t nframes, bool require_mask,
    uint8_t rsv_allowed)
{
	uint8_t		*script;
	size_t		 len, cut;
	uint32_t	 seed;
	char		 err[ERRLEN];

	script = frame_script(frames, nframes, &len);
	if (frame_run(script, len, require_mask, rsv_allowed, frames,
	    nframes, CHUNK_WHOLE, 0, err) != 0)
		ck_abort_msg("%s", err);
	if (frame_run(script, len, require_mask, rsv_allowed, frames,
	    nframes, CHUNK_BYTES, 0, err) != 0)
		ck_abort_msg("%s", err);
	for (seed = 1; seed <= 20; seed++)
		if (frame_run(script, len, require_mask, rsv_allowed, frames,
		    nframes, CHUNK_RANDOM, seed * 2654435761u, err) != 0)
			ck_abort_msg("%s", err);
	if (len <= 600)
		for (cut = 1; cut < len; cut++)
			if (frame_run(script, len, require_mask, rsv_allowed,
			    frames, nframes, CHUNK_SPLIT, (uint32_t)cut,
			    err) != 0)
				ck_abort_msg("%s", err);
	free(script);
}

static const size_t	sizes[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 125, 126, 127,
    128, 1000, 65535, 65536 };
#define NSIZES	(sizeof(sizes) / sizeof(sizes[0]))

/* A single masked binary frame of each interesting size. */
START_TEST(test_frame_sizes_masked)
{
	struct tframe	f = { true, 0, WS_OP_BINARY, true,
	    { 0x37, 0xfa, 0x21, 0x3d }, pattern, 0, 0 };

	f.len = sizes[_i];
	frame_run_all(&f, 1, true, 0);
}
END_TEST

/* A single unmasked text frame of each size, as a client decodes it. */
START_TEST(test_frame_sizes_unmasked)
{
	struct tframe	f = { true, 0, WS_OP_TEXT, false, { 0 }, pattern, 0,
	    0 };

	f.len = sizes[_i];
	frame_run_all(&f, 1, false, 0);
}
END_TEST

/* Fragmented text with control frames injected between the pieces. */
START_TEST(test_frame_fragmented)
{
	struct tframe	f[] = {
		{ false, 0, WS_OP_TEXT, true, { 1, 2, 3, 4 },
		    (const uint8_t *)"Hel", 3, 0 },
		{ true, 0, WS_OP_PING, true, { 0xff, 0, 0xff, 0 },
		    (const uint8_t *)"ping", 4, 0 },
		{ false, 0, WS_OP_CONT, true, { 9, 8, 7, 6 },
		    (const uint8_t *)"", 0, 0 },
		{ false, 0, WS_OP_CONT, true, { 0xa5, 0x5a, 0x11, 0x22 },
		    (const uint8_t *)"lo", 2, 0 },
		{ true, 0, WS_OP_PONG, true, { 0, 0, 0, 0 },
		    (const uint8_t *)"", 0, 0 },
		{ true, 0, WS_OP_CONT, true, { 0x80, 0x81, 0x82, 0x83 },
		    (const uint8_t *)", world", 7, 0 },
		{ false, 0, WS_OP_BINARY, true, { 5, 6, 7, 8 }, pattern, 300,
		    0 },
		{ true, 0, WS_OP_CONT, true, { 5, 6, 7, 8 }, pattern + 300,
		    60000, 0 },
	};

	frame_run_all(f, sizeof(f) / sizeof(f[0]), true, 0);
}
END_TEST

/* Control frames: empty, full-size, close with a code and reason. */
START_TEST(test_frame_control)
{
	struct tframe	f[] = {
		{ true, 0, WS_OP_PING, true, { 1, 1, 1, 1 }, pattern, 0, 0 },
		{ true, 0, WS_OP_PING, true, { 2, 3, 4, 5 }, pattern, 125, 0 },
		{ true, 0, WS_OP_PONG, true, { 6, 7, 8, 9 }, pattern + 1, 125,
		    0 },
		{ true, 0, WS_OP_CLOSE, true, { 0xde, 0xad, 0xbe, 0xef },
		    (const uint8_t *)"\x03\xe8" "bye", 5, 0 },
		{ true, 0, WS_OP_CLOSE, true, { 0xde, 0xad, 0xbe, 0xef },
		    pattern, 0, 0 },
	};

	frame_run_all(f, sizeof(f) / sizeof(f[0]), true, 0);
}
END_TEST

/* Non-minimal length encodings are legal, also for control frames. */
START_TEST(test_frame_nonminimal)
{
	struct tframe	f[] = {
		{ true, 0, WS_OP_TEXT, true, { 1, 2, 3, 4 }, pattern, 5, 16 },
		{ true, 0, WS_OP_TEXT, true, { 1, 2, 3, 4 }, pattern, 5, 64 },
		{ true, 0, WS_OP_BINARY, true, { 1, 2, 3, 4 }, pattern, 0,
		    64 },
		{ true, 0, WS_OP_BINARY, true, { 1, 2, 3, 4 }, pattern, 300,
		    64 },
		{ true, 0, WS_OP_PING, true, { 1, 2, 3, 4 }, pattern, 125,
		    16 },
		{ true, 0, WS_OP_CLOSE, true, { 1, 2, 3, 4 }, pattern, 2,
		    64 },
	};

	frame_run_all(f, sizeof(f) / sizeof(f[0]), true, 0);
}
END_TEST

/* Negotiated RSV bits pass through and are reported as received. */
START_TEST(test_frame_rsv_allowed)
{
	struct tframe	f[] = {
		{ false, WS_RSV1, WS_OP_TEXT, true, { 1, 2, 3, 4 }, pattern,
		    10, 0 },
		{ true, 0, WS_OP_CONT, true, { 1, 2, 3, 4 }, pattern, 10, 0 },
		{ true, WS_RSV1 | WS_RSV3, WS_OP_BINARY, true, { 1, 2, 3, 4 },
		    pattern, 10, 0 },
		{ true, WS_RSV1 | WS_RSV2 | WS_RSV3, WS_OP_BINARY, true,
		    { 1, 2, 3, 4 }, pattern, 10, 0 },
	};

	frame_run_all(f, 2, true, WS_RSV1);
	frame_run_all(f, 3, true, WS_RSV1 | WS_RSV3);
	frame_run_all(f, 4, true, WS_RSV1 | WS_RSV2 | WS_RSV3);
}
END_TEST

/* Masked frames are still unmasked when masks are not required. */
START_TEST(test_frame_masked_optional)
{
	struct tframe	f[] = {
		{ true, 0, WS_OP_TEXT, true, { 9, 9, 9, 9 }, pattern, 33, 0 },
		{ true, 0, WS_OP_TEXT, false, { 0 }, pattern, 33, 0 },
	};

	frame_run_all(f, 2, false, 0);
}
END_TEST

/* Many frames back to back, random sizes and masks. */
START_TEST(test_frame_many)
{
	struct tframe	f[64];
	uint32_t	s = 777;
	size_t		i;
	static const uint8_t ops[] = { WS_OP_TEXT, WS_OP_BINARY, WS_OP_CONT,
	    WS_OP_PING, WS_OP_PONG, WS_OP_CLOSE };

	for (i = 0; i < 64; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].opcode = ops[frame_rand(&s) % sizeof(ops)];
		f[i].fin = f[i].opcode >= WS_OP_CLOSE || frame_rand(&s) % 2;
		f[i].masked = true;
		f[i].mask[0] = (uint8_t)frame_rand(&s);
		f[i].mask[1] = (uint8_t)frame_rand(&s);
		f[i].mask[2] = (uint8_t)frame_rand(&s);
		f[i].mask[3] = (uint8_t)frame_rand(&s);
		f[i].payload = pattern + frame_rand(&s) % 16;
		f[i].len = frame_rand(&s) % (f[i].opcode >= WS_OP_CLOSE ?
		    126 : 400);
	}
	frame_run_all(f, 64, true, 0);
}
END_TEST

/* Decodes a whole buffer and asserts one call's exact result. */
static void
frame_expect(struct ws_frame_decoder *d, uint8_t *buf, size_t len,
    ssize_t want_rc, enum ws_frame_event want_type)
{
	struct ws_frame_ev	ev;
	ssize_t			rc;

	rc = ws_frame_decode(d, buf, len, &ev);
	ck_assert_int_eq(rc, want_rc);
	ck_assert_int_eq(ev.type, want_type);
}

/* The RFC 6455 section 5.7 examples, call by call. */
START_TEST(test_frame_rfc_examples)
{
	uint8_t			 unmasked[] = { 0x81, 0x05, 0x48, 0x65, 0x6c,
	    0x6c, 0x6f };
	uint8_t			 masked[] = { 0x81, 0x85, 0x37, 0xfa, 0x21,
	    0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	uint8_t			 frag[] = { 0x01, 0x03, 0x48, 0x65, 0x6c,
	    0x80, 0x02, 0x6c, 0x6f };
	uint8_t			 pong[] = { 0x8a, 0x85, 0x37, 0xfa, 0x21,
	    0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58 };
	uint8_t			 big[10 + 256];
	struct ws_frame_decoder	 d;
	struct ws_frame_ev	 ev;
	static const uint8_t	 key[4] = { 0x37, 0xfa, 0x21, 0x3d };

	ws_frame_decoder_init(&d, false);
	ck_assert_int_eq(ws_frame_decode(&d, unmasked, sizeof(unmasked), &ev),
	    2);
	ck_assert_int_eq(ev.type, WS_FRAME_HEADER);
	ck_assert(ev.header.fin);
	ck_assert_uint_eq(ev.header.rsv, 0);
	ck_assert_uint_eq(ev.header.opcode, WS_OP_TEXT);
	ck_assert(!ev.header.masked);
	ck_assert_uint_eq(ev.header.length, 5);
	ck_assert_int_eq(ws_frame_decode(&d, unmasked + 2, 5, &ev), 5);
	ck_assert_int_eq(ev.type, WS_FRAME_PAYLOAD);
	ck_assert_ptr_eq(ev.data, unmasked + 2);
	ck_assert_uint_eq(ev.len, 5);
	ck_assert_mem_eq(ev.data, "Hello", 5);
	frame_expect(&d, unmasked + 7, 0, 0, WS_FRAME_END);
	frame_expect(&d, unmasked + 7, 0, 0, WS_FRAME_NEED_MORE);

	ws_frame_decoder_init(&d, true);
	ck_assert_int_eq(ws_frame_decode(&d, masked, sizeof(masked), &ev), 6);
	ck_assert_int_eq(ev.type, WS_FRAME_HEADER);
	ck_assert(ev.header.masked);
	ck_assert_mem_eq(ev.header.mask, key, 4);
	ck_assert_int_eq(ws_frame_decode(&d, masked + 6, 5, &ev), 5);
	ck_assert_int_eq(ev.type, WS_FRAME_PAYLOAD);
	ck_assert_ptr_eq(ev.data, masked + 6);
	ck_assert_mem_eq(masked + 6, "Hello", 5);
	frame_expect(&d, masked + 11, 0, 0, WS_FRAME_END);

	ws_frame_decoder_init(&d, false);
	frame_expect(&d, frag, sizeof(frag), 2, WS_FRAME_HEADER);
	ck_assert_int_eq(ws_frame_decode(&d, frag + 2, 7, &ev), 3);
	ck_assert_int_eq(ev.type, WS_FRAME_PAYLOAD);
	ck_assert_mem_eq(ev.data, "Hel", 3);
	ck_assert(!ev.header.fin);
	frame_expect(&d, frag + 5, 4, 0, WS_FRAME_END);
	ck_assert_int_eq(ws_frame_decode(&d, frag + 5, 4, &ev), 2);
	ck_assert_int_eq(ev.type, WS_FRAME_HEADER);
	ck_assert(ev.header.fin);
	ck_assert_uint_eq(ev.header.opcode, WS_OP_CONT);
	ck_assert_int_eq(ws_frame_decode(&d, frag + 7, 2, &ev), 2);
	ck_assert_mem_eq(ev.data, "lo", 2);

	ws_frame_decoder_init(&d, true);
	frame_expect(&d, pong, sizeof(pong), 6, WS_FRAME_HEADER);
	ck_assert_int_eq(ws_frame_decode(&d, pong + 6, 5, &ev), 5);
	ck_assert_uint_eq(ev.header.opcode, WS_OP_PONG);
	ck_assert_mem_eq(ev.data, "Hello", 5);

	/* 256 bytes of binary data in one unmasked frame. */
	memset(big, 0, sizeof(big));
	big[0] = 0x82;
	big[1] = 0x7e;
	big[2] = 0x01;
	big[3] = 0x00;
	ws_frame_decoder_init(&d, false);
	ck_assert_int_eq(ws_frame_decode(&d, big, 4 + 256, &ev), 4);
	ck_assert_uint_eq(ev.header.length, 256);
	ck_assert_int_eq(ws_frame_decode(&d, big + 4, 256, &ev), 256);
	ck_assert_int_eq(ev.type, WS_FRAME_PAYLOAD);
	frame_expect(&d, big + 260, 0, 0, WS_FRAME_END);

	/* 64 KiB: only the header. */
	memset(big, 0, 10);
	big[0] = 0x82;
	big[1] = 0x7f;
	big[7] = 0x01;
	ws_frame_decoder_init(&d, false);
	ck_assert_int_eq(ws_frame_decode(&d, big, 10, &ev), 10);
	ck_assert_int_eq(ev.type, WS_FRAME_HEADER);
	ck_assert_uint_eq(ev.header.length, 65536);
	frame_expect(&d, big, 0, 0, WS_FRAME_NEED_MORE);
}
END_TEST

/* An empty frame is HEADER then END, with no PAYLOAD in between. */
START_TEST(test_frame_empty_events)
{
	uint8_t			 buf[] = { 0x82, 0x80, 1, 2, 3, 4, 0x81, 0x80,
	    5, 6, 7, 8 };
	struct ws_frame_decoder	 d;
	struct ws_frame_ev	 ev;

	ws_frame_decoder_init(&d, true);
	ck_assert_int_eq(ws_frame_decode(&d, buf, sizeof(buf), &ev), 6);
	ck_assert_int_eq(ev.type, WS_FRAME_HEADER);
	ck_assert_uint_eq(ev.header.length, 0);
	ck_assert_int_eq(ws_frame_decode(&d, buf + 6, 6, &ev), 0);
	ck_assert_int_eq(ev.type, WS_FRAME_END);
	ck_assert_uint_eq(ev.header.opcode, WS_OP_BINARY);
	ck_assert_int_eq(ws_frame_decode(&d, buf + 6, 6, &ev), 6);
	ck_assert_int_eq(ev.type, WS_FRAME_HEADER);
	ck_assert_uint_eq(ev.header.opcode, WS_OP_TEXT);
	ck_assert_mem_eq(ev.header.mask, "\x05\x06\x07\x08", 4);
	ck_assert_int_eq(ws_frame_decode(&d, buf + 12, 0, &ev), 0);
	ck_assert_int_eq(ev.type, WS_FRAME_END);
	ck_assert_int_eq(ws_frame_decode(&d, buf + 12, 0, &ev), 0);
	ck_assert_int_eq(ev.type, WS_FRAME_NEED_MORE);
	/* An empty input at a frame boundary is not an event either. */
	ck_assert_int_eq(ws_frame_decode(&d, buf, 0, &ev), 0);
	ck_assert_int_eq(ev.type, WS_FRAME_NEED_MORE);
}
END_TEST

/*
 * Feeds a bad script one byte at a time. The decoder must report
 * WS_ERR_PROTOCOL on the byte at index at, with no HEADER event before.
 */
static void
frame_expect_error(const uint8_t *script, size_t len, bool require_mask,
    uint8_t rsv_allowed, size_t at)
{
	struct ws_frame_decoder	 d;
	struct ws_frame_ev	 ev;
	uint8_t			 buf[WS_HEADER_MAX + 8];
	size_t			 i;
	ssize_t			 rc;

	ck_assert_uint_le(len, sizeof(buf));
	ck_assert_uint_lt(at, len);

	memcpy(buf, script, len);
	ws_frame_decoder_init(&d, require_mask);
	d.rsv_allowed = rsv_allowed;
	rc = ws_frame_decode(&d, buf, len, &ev);
	ck_assert_int_eq(rc, WS_ERR_PROTOCOL);

	memcpy(buf, script, len);
	ws_frame_decoder_init(&d, require_mask);
	d.rsv_allowed = rsv_allowed;
	for (i = 0; i < len; i++) {
		rc = ws_frame_decode(&d, buf + i, 1, &ev);
		if (rc < 0)
			break;
		ck_assert_int_eq(rc, 1);
		ck_assert_int_eq(ev.type, WS_FRAME_NEED_MORE);
	}
	ck_assert_int_eq(rc, WS_ERR_PROTOCOL);
	ck_assert_uint_eq(i, at);
}

/* An unmasked frame where masks are required. */
START_TEST(test_frame_err_unmasked)
{
	frame_expect_error((const uint8_t *)"\x81\x05Hello", 7, true, 0, 1);
	frame_expect_error((const uint8_t *)"\x89\x00", 2, true, 0, 1);
	frame_expect_error((const uint8_t *)"\x82\x7e\x01\x00", 4, true, 0,
	    1);
}
END_TEST

/* Each RSV bit that no extension negotiated. */
START_TEST(test_frame_err_rsv)
{
	frame_expect_error((const uint8_t *)"\xc1\x80\0\0\0\0", 6, true, 0,
	    1);
	frame_expect_error((const uint8_t *)"\xa1\x80\0\0\0\0", 6, true, 0,
	    1);
	frame_expect_error((const uint8_t *)"\x91\x80\0\0\0\0", 6, true, 0,
	    1);
	frame_expect_error((const uint8_t *)"\xf1\x80\0\0\0\0", 6, true, 0,
	    1);
	/* Allowing RSV1 does not allow the others. */
	frame_expect_error((const uint8_t *)"\xa1\x80\0\0\0\0", 6, true,
	    WS_RSV1, 1);
	frame_expect_error((const uint8_t *)"\xd1\x80\0\0\0\0", 6, true,
	    WS_RSV1, 1);
	frame_expect_error((const uint8_t *)"\x99\x80\0\0\0\0", 6, true,
	    WS_RSV1 | WS_RSV2, 1);
}
END_TEST

static const uint8_t	reserved_ops[] = { 3, 4, 5, 6, 7, 11, 12, 13, 14, 15 };

/* Each reserved opcode, with FIN set and clear. */
START_TEST(test_frame_err_opcode)
{
	uint8_t	s[6] = { 0, 0x80, 1, 2, 3, 4 };

	s[0] = 0x80 | reserved_ops[_i];
	frame_expect_error(s, 6, true, 0, 1);
	s[0] = reserved_ops[_i];
	frame_expect_error(s, 6, false, 0, 1);
}
END_TEST

/* A control frame without FIN. */
START_TEST(test_frame_err_control_fragmented)
{
	frame_expect_error((const uint8_t *)"\x08\x80\0\0\0\0", 6, true, 0,
	    1);
	frame_expect_error((const uint8_t *)"\x09\x80\0\0\0\0", 6, true, 0,
	    1);
	frame_expect_error((const uint8_t *)"\x0a\x00", 2, false, 0, 1);
}
END_TEST

/* A control frame longer than 125 bytes, in either extended form. */
START_TEST(test_frame_err_control_long)
{
	frame_expect_error((const uint8_t *)"\x89\xfe\x00\x7e\0\0\0\0", 8,
	    true, 0, 7);
	frame_expect_error((const uint8_t *)"\x8a\x7e\xff\xff", 4, false, 0,
	    3);
	frame_expect_error((const uint8_t *)"\x88\xff\0\0\0\0\0\0\0\x7e"
	    "\0\0\0\0", 14, true, 0, 13);
	frame_expect_error((const uint8_t *)"\x88\x7f\0\0\0\0\0\x01\0\0", 10,
	    false, 0, 9);
}
END_TEST

/* A 64-bit length with the most significant bit set. */
START_TEST(test_frame_err_length_msb)
{
	frame_expect_error((const uint8_t *)"\x82\xff\x80\0\0\0\0\0\0\0"
	    "\1\2\3\4", 14, true, 0, 13);
	frame_expect_error((const uint8_t *)"\x82\x7f\xff\xff\xff\xff\xff"
	    "\xff\xff\xff", 10, false, 0, 9);
	frame_expect_error((const uint8_t *)"\x00\x7f\x80\0\0\0\0\0\0\x01",
	    10, false, 0, 9);
}
END_TEST

/* The largest legal 64-bit length is still accepted. */
START_TEST(test_frame_length_max)
{
	uint8_t			 s[] = { 0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff, 'a', 'b' };
	struct ws_frame_decoder	 d;
	struct ws_frame_ev	 ev;

	ws_frame_decoder_init(&d, false);
	ck_assert_int_eq(ws_frame_decode(&d, s, sizeof(s), &ev), 10);
	ck_assert_int_eq(ev.type, WS_FRAME_HEADER);
	ck_assert_uint_eq(ev.header.length, UINT64_C(0x7fffffffffffffff));
	ck_assert_int_eq(ws_frame_decode(&d, s + 10, 2, &ev), 2);
	ck_assert_int_eq(ev.type, WS_FRAME_PAYLOAD);
	ck_assert_uint_eq(ev.len, 2);
	ck_assert_int_eq(ws_frame_decode(&d, s + 12, 0, &ev), 0);
	ck_assert_int_eq(ev.type, WS_FRAME_NEED_MORE);
	ck_assert_uint_eq(ev.header.length, UINT64_C(0x7fffffffffffffff));
}
END_TEST

/* An error in the second frame comes after the first frame's events. */
START_TEST(test_frame_err_after_good_frame)
{
	uint8_t			 s[] = { 0x81, 0x81, 1, 2, 3, 4, 'a' ^ 1,
	    0x83, 0x80, 0, 0, 0, 0 };
	struct ws_frame_decoder	 d;
	struct ws_frame_ev	 ev;

	ws_frame_decoder_init(&d, true);
	frame_expect(&d, s, sizeof(s), 6, WS_FRAME_HEADER);
	ck_assert_int_eq(ws_frame_decode(&d, s + 6, 7, &ev), 1);
	ck_assert_int_eq(ev.type, WS_FRAME_PAYLOAD);
	ck_assert_uint_eq(ev.data[0], 'a');
	frame_expect(&d, s + 7, 6, 0, WS_FRAME_END);
	ck_assert_int_eq(ws_frame_decode(&d, s + 7, 6, &ev), WS_ERR_PROTOCOL);
}
END_TEST

/* Encodes a header and compares the exact bytes. */
static void
frame_expect_header(bool fin, uint8_t rsv, uint8_t op, uint64_t len,
    const uint8_t *mask, const char *want, size_t wantlen)
{
	uint8_t	out[WS_HEADER_MAX + 4];

	memset(out, 0xaa, sizeof(out));
	ck_assert_uint_eq(ws_frame_header_encode(out, fin, rsv, op, len, mask),
	    wantlen);
	ck_assert_mem_eq(out, want, wantlen);
	/* Nothing written past the header. */
	ck_assert_uint_eq(out[wantlen], 0xaa);
}

/* Every length form, unmasked and masked, with flag bits. */
START_TEST(test_frame_encode)
{
	static const uint8_t	m[4] = { 0x37, 0xfa, 0x21, 0x3d };

	frame_expect_header(true, 0, WS_OP_TEXT, 0, NULL, "\x81\x00", 2);
	frame_expect_header(true, 0, WS_OP_TEXT, 5, NULL, "\x81\x05", 2);
	frame_expect_header(true, 0, WS_OP_BINARY, 125, NULL, "\x82\x7d", 2);
	frame_expect_header(true, 0, WS_OP_BINARY, 126, NULL,
	    "\x82\x7e\x00\x7e", 4);
	frame_expect_header(true, 0, WS_OP_BINARY, 127, NULL,
	    "\x82\x7e\x00\x7f", 4);
	frame_expect_header(true, 0, WS_OP_BINARY, 256, NULL,
	    "\x82\x7e\x01\x00", 4);
	frame_expect_header(true, 0, WS_OP_BINARY, 65535, NULL,
	    "\x82\x7e\xff\xff", 4);
	frame_expect_header(true, 0, WS_OP_BINARY, 65536, NULL,
	    "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
	frame_expect_header(true, 0, WS_OP_BINARY,
	    UINT64_C(0x0123456789abcdef), NULL,
	    "\x82\x7f\x01\x23\x45\x67\x89\xab\xcd\xef", 10);
	frame_expect_header(false, 0, WS_OP_TEXT, 3, NULL, "\x01\x03", 2);
	frame_expect_header(true, 0, WS_OP_CONT, 2, NULL, "\x80\x02", 2);
	frame_expect_header(true, 0, WS_OP_CLOSE, 2, NULL, "\x88\x02", 2);
	frame_expect_header(true, 0, WS_OP_PING, 0, NULL, "\x89\x00", 2);
	frame_expect_header(true, 0, WS_OP_PONG, 125, NULL, "\x8a\x7d", 2);
	frame_expect_header(true, WS_RSV1, WS_OP_TEXT, 1, NULL, "\xc1\x01", 2);
	frame_expect_header(false, WS_RSV1, WS_OP_BINARY, 1, NULL, "\x42\x01",
	    2);
	frame_expect_header(true, WS_RSV1 | WS_RSV2 | WS_RSV3, WS_OP_TEXT, 1,
	    NULL, "\xf1\x01", 2);
	frame_expect_header(true, 0, WS_OP_TEXT, 5, m,
	    "\x81\x85\x37\xfa\x21\x3d", 6);
	frame_expect_header(true, 0, WS_OP_TEXT, 0, m,
	    "\x81\x80\x37\xfa\x21\x3d", 6);
	frame_expect_header(true, 0, WS_OP_BINARY, 126, m,
	    "\x82\xfe\x00\x7e\x37\xfa\x21\x3d", 8);
	frame_expect_header(true, 0, WS_OP_BINARY, 65536, m,
	    "\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00\x37\xfa\x21\x3d", 14);
}
END_TEST

/* Masking matches the bytewise definition at every offset and alignment. */
START_TEST(test_frame_mask)
{
	static const uint8_t	 m[4] = { 0x01, 0x80, 0x5a, 0xff };
	uint8_t			 buf[80], want[80];
	size_t			 start, len, i, cut;
	uint64_t		 off;

	for (start = 0; start < 8; start++)
		for (len = 0; len <= 64; len++)
			for (off = 0; off < 8; off++) {
				memcpy(buf, pattern, sizeof(buf));
				memcpy(want, pattern, sizeof(want));
				for (i = 0; i < len; i++)
					want[start + i] ^= m[(off + i) % 4];
				ws_frame_mask(buf + start, len, m, off);
				if (memcmp(buf, want, sizeof(buf)) != 0)
					ck_abort_msg("start %zu len %zu off "
					    "%llu", start, len,
					    (unsigned long long)off);
			}
	/* Masking in two pieces equals masking at once. */
	for (cut = 0; cut <= 70; cut++) {
		memcpy(buf, pattern, 70);
		memcpy(want, pattern, 70);
		ws_frame_mask(want, 70, m, 0);
		ws_frame_mask(buf, cut, m, 0);
		ws_frame_mask(buf + cut, 70 - cut, m, cut);
		ck_assert_mem_eq(buf, want, 70);
	}
	/* The RFC example, and masking twice is the identity. */
	memcpy(buf, "Hello", 5);
	ws_frame_mask(buf, 5, (const uint8_t *)"\x37\xfa\x21\x3d", 0);
	ck_assert_mem_eq(buf, "\x7f\x9f\x4d\x51\x58", 5);
	ws_frame_mask(buf, 5, (const uint8_t *)"\x37\xfa\x21\x3d", 0);
	ck_assert_mem_eq(buf, "Hello", 5);
	/* Only the phase of a large offset matters. */
	memcpy(buf, "abcd", 4);
	ws_frame_mask(buf, 4, m, UINT64_C(0x100000002));
	ck_assert_mem_eq(buf, "\x3b\x9d\x62\xe4", 4);
}
END_TEST

/* Known opcodes are exactly 0-2 and 8-10. */
START_TEST(test_frame_opcode_known)
{
	unsigned int	op;
	int		want;

	for (op = 0; op <= 255; op++) {
		want = op <= 2 || (op >= 8 && op <= 10);
		ck_assert_msg(ws_opcode_known((uint8_t)op) == want,
		    "opcode %u", op);
	}
}
END_TEST

/* Close codes, by named code and over the whole range. */
START_TEST(test_frame_close_codes)
{
	static const int	good[] = { 1000, 1001, 1002, 1003, 1007, 1008,
	    1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999 };
	static const int	bad[] = { -1, 0, 1, 999, 1004, 1005, 1006, 1015,
	    1016, 1100, 2000, 2999, 5000, 65535, 65536 };
	size_t			i;
	int			code, want;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(ws_close_code_valid(good[i]) == 1, "%d",
		    good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(ws_close_code_valid(bad[i]) == 0, "%d", bad[i]);
	for (code = -10; code <= 70000; code++) {
		want = (code >= 1000 && code <= 1003) ||
		    (code >= 1007 && code <= 1014) ||
		    (code >= 3000 && code <= 4999);
		if (ws_close_code_valid(code) != want)
			ck_abort_msg("close code %d", code);
	}
}
END_TEST

/*
 * Encode a header with a mask, mask the payload in random pieces, decode
 * in random chunks: the frame comes back as it went in.
 */
START_TEST(test_frame_round_trip)
{
	struct tframe	 f;
	uint8_t		*buf;
	size_t		 hlen, off, n, len;
	uint32_t	 s = 4242 + (uint32_t)_i;
	char		 err[ERRLEN];
	int		 round;

	buf = malloc(WS_HEADER_MAX + BIGLEN + 8);
	ck_assert_ptr_nonnull(buf);
	for (round = 0; round < 30; round++) {
		memset(&f, 0, sizeof(f));
		f.opcode = round % 2 ? WS_OP_BINARY : WS_OP_TEXT;
		f.fin = round % 3 != 0;
		f.rsv = round % 5 == 0 ? WS_RSV1 : 0;
		f.len = sizes[frame_rand(&s) % NSIZES];
		f.payload = pattern + round;
		f.masked = _i == 0;
		f.mask[0] = (uint8_t)frame_rand(&s);
		f.mask[1] = (uint8_t)frame_rand(&s);
		f.mask[2] = (uint8_t)frame_rand(&s);
		f.mask[3] = (uint8_t)frame_rand(&s);
		hlen = ws_frame_header_encode(buf, f.fin, f.rsv, f.opcode,
		    f.len, f.masked ? f.mask : NULL);
		memcpy(buf + hlen, f.payload, f.len);
		if (f.masked)
			for (off = 0; off < f.len; off += n) {
				n = 1 + frame_rand(&s) % 300;
				if (n > f.len - off)
					n = f.len - off;
				ws_frame_mask(buf + hlen + off, n, f.mask, off);
			}
		len = hlen + f.len;
		if (frame_run(buf, len, f.masked, WS_RSV1, &f, 1, CHUNK_RANDOM,
		    frame_rand(&s), err) != 0)
			ck_abort_msg("round %d: %s", round, err);
		if (frame_run(buf, len, f.masked, WS_RSV1, &f, 1, CHUNK_WHOLE,
		    0, err) != 0)
			ck_abort_msg("round %d: %s", round, err);
	}
	free(buf);
}
END_TEST

/* The frame suite: decoding, errors, encoding, helpers. */
Suite *
make_frame_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("frame");

	tc = tcase_create("Core");
	tcase_add_unchecked_fixture(tc, frame_setup, NULL);
	tcase_add_test(tc, test_frame_rfc_examples);
	tcase_add_test(tc, test_frame_empty_events);
	tcase_add_test(tc, test_frame_fragmented);
	tcase_add_test(tc, test_frame_control);
	tcase_add_test(tc, test_frame_nonminimal);
	tcase_add_test(tc, test_frame_rsv_allowed);
	tcase_add_test(tc, test_frame_masked_optional);
	tcase_add_test(tc, test_frame_many);
	tcase_add_test(tc, test_frame_encode);
	tcase_add_test(tc, test_frame_mask);
	tcase_add_test(tc, test_frame_opcode_known);
	tcase_add_test(tc, test_frame_close_codes);
	tcase_add_loop_test(tc, test_frame_round_trip, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("Errors");
	tcase_add_test(tc, test_frame_err_unmasked);
	tcase_add_test(tc, test_frame_err_rsv);
	tcase_add_loop_test(tc, test_frame_err_opcode, 0,
	    sizeof(reserved_ops));
	tcase_add_test(tc, test_frame_err_control_fragmented);
	tcase_add_test(tc, test_frame_err_control_long);
	tcase_add_test(tc, test_frame_err_length_msb);
	tcase_add_test(tc, test_frame_err_after_good_frame);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_set_timeout(tc, 60);
	tcase_add_unchecked_fixture(tc, frame_setup, NULL);
	tcase_add_loop_test(tc, test_frame_sizes_masked, 0, NSIZES);
	tcase_add_loop_test(tc, test_frame_sizes_unmasked, 0, NSIZES);
	tcase_add_test(tc, test_frame_length_max);
	suite_add_tcase(s, tc);

	return s;
}
