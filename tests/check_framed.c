/* check_framed.c - msgstream: the lines, binary and framed backend formats. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "backend/cgi.h"
#include "check_suites.h"
#include "backend/msgstream.h"
#include "core/ws-utf8.h"

/* What a decode produced, as text: one entry per message or control. */
struct rec {
	char		 out[4096];
	size_t		 len;
	char		 msg[2048];	/* the message being assembled */
	size_t		 mlen;
	bool		 open;
	int		 stop_every;	/* piece returns 1 every Nth call */
	int		 calls;
};

/* Appends raw bytes to the record. */
static void
rec_put(struct rec *r, const void *p, size_t n)
{
	ck_assert_uint_lt(r->len + n, sizeof(r->out));
	memcpy(r->out + r->len, p, n);
	r->len += n;
	r->out[r->len] = '\0';
}

/* Sink: assembles pieces, checking first/last against the open message. */
static int
rec_piece(void *arg, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool first, bool last)
{
	struct rec	*r = arg;

	ck_assert_int_eq(first, !r->open);
	ck_assert_uint_lt(r->mlen + len, sizeof(r->msg));
	memcpy(r->msg + r->mlen, data, len);
	r->mlen += len;
	r->open = !last;
	if (last) {
		rec_put(r, type == WS_MSG_TEXT ? "MT:" : "MB:", 3);
		rec_put(r, r->msg, r->mlen);
		rec_put(r, "|", 1);
		r->mlen = 0;
	}
	r->calls++;
	return r->stop_every > 0 && r->calls % r->stop_every == 0 ? 1 : 0;
}

/* Sink: a close frame. */
static void
rec_close(void *arg, int code, const char *reason, size_t len)
{
	struct rec	*r = arg;
	char		 buf[32];

	snprintf(buf, sizeof(buf), "C%d:", code);
	rec_put(r, buf, strlen(buf));
	rec_put(r, reason, len);
	rec_put(r, "|", 1);
}

/* Sink: a ping. */
static int
rec_ping(void *arg, const uint8_t *data, size_t len)
{
	struct rec	*r = arg;

	rec_put(r, "P:", 2);
	rec_put(r, data, len);
	rec_put(r, "|", 1);
	return 0;
}

static const struct msgstream_sink rec_sink = {
	.piece = rec_piece,
	.close = rec_close,
	.ping = rec_ping,
};

/* DataFormat that run() gives its decoder (binary format only). */
static enum data_format	run_data = DATA_BINARY;

/* A deterministic generator for the random splits. */
static uint32_t
lcg(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 16;
}

/*
 * Feeds in[0..len) in chunks (mode 0 whole, 1 one byte at a time, 2 random
 * splits with seed), then EOF; decodes after each chunk, again while a
 * stopping sink makes progress. Returns the record, "E:<error>" appended
 * on an error.
 */
static void
run(enum msg_format fmt, const char *in, size_t len, int mode, uint32_t seed,
    int stop_every, struct rec *r)
{
	struct msgstream	 m;
	struct evbuffer		*buf = evbuffer_new();
	const char		*err = NULL;
	size_t			 off = 0, n, before;
	int			 rc = 0, rounds;
	bool			 eof;

	memset(r, 0, sizeof(*r));
	r->stop_every = stop_every;
	msgstream_init(&m, fmt);
	msgstream_set_data(&m, run_data);
	for (;;) {
		eof = off == len;
		if (!eof) {
			n = mode == 0 ? len : mode == 1 ? 1 :
			    1 + lcg(&seed) % 7;
			if (n > len - off)
				n = len - off;
			evbuffer_add(buf, in + off, n);
			off += n;
		}
		/* Bounded: each round consumes input or the loop ends. */
		for (rounds = 0; rounds < 100000; rounds++) {
			before = evbuffer_get_length(buf);
			rc = msgstream_decode(&m, buf, eof, &rec_sink, r, &err);
			if (rc == -1 || evbuffer_get_length(buf) == before)
				break;
		}
		if (rc == -1) {
			rec_put(r, "E:", 2);
			rec_put(r, err, strlen(err));
			break;
		}
		if (eof)
			break;
	}
	evbuffer_free(buf);
}

/* Decodes in every chunking and with stopping sinks; all must give want. */
static void
expect(enum msg_format fmt, const char *in, size_t len, const char *want,
    size_t wlen)
{
	struct rec	r;
	int		mode, stop;
	uint32_t	seed;

	for (mode = 0; mode < 3; mode++) {
		for (seed = 1; seed <= (mode == 2 ? 20u : 1u); seed++) {
			for (stop = 0; stop <= 2; stop++) {
				run(fmt, in, len, mode, seed, stop, &r);
				ck_assert_msg(r.len == wlen &&
				    memcmp(r.out, want, wlen) == 0,
				    "mode %d seed %u stop %d: got \"%s\", "
				    "want \"%s\"", mode, seed, stop, r.out,
				    want);
			}
		}
	}
}

#define EXPECT(fmt, in, want) \
	expect((fmt), (in), sizeof(in) - 1, (want), sizeof(want) - 1)

START_TEST(test_framed_messages)
{
	EXPECT(FORMAT_FRAMED, "T 5\nhelloB 3\n\x00\x01\n",
	    "MT:hello|MB:\x00\x01\n|");
	EXPECT(FORMAT_FRAMED, "T 11\nline1\nline2", "MT:line1\nline2|");
	EXPECT(FORMAT_FRAMED, "T 0\nB 0\n", "MT:|MB:|");
	EXPECT(FORMAT_FRAMED, "", "");
	EXPECT(FORMAT_FRAMED, "T 2\n\xc3\xa9", "MT:\xc3\xa9|");
}
END_TEST

/* A message in parts: lower-case letters are non-final parts. */
START_TEST(test_framed_parts)
{
	EXPECT(FORMAT_FRAMED, "t 3\nabct 0\nT 3\ndef", "MT:abcdef|");
	EXPECT(FORMAT_FRAMED, "b 1\nxb 1\nyB 0\nT 1\nz", "MB:xy|MT:z|");
	EXPECT(FORMAT_FRAMED, "t 0\nT 2\nab", "MT:ab|");
	EXPECT(FORMAT_FRAMED, "t 1\naB 1\nb",
	    "E:message type changes inside a message");
	EXPECT(FORMAT_FRAMED, "t 1\naP 0\n",
	    "E:control frame inside a message");
}
END_TEST

START_TEST(test_framed_control)
{
	EXPECT(FORMAT_FRAMED, "C 1000 3\nbyeT 1\nx", "C1000:bye|");
	EXPECT(FORMAT_FRAMED, "T 1\naC 4000 0\n", "MT:a|C4000:|");
	EXPECT(FORMAT_FRAMED, "C 0 0\n", "C0:|");
	EXPECT(FORMAT_FRAMED, "P 2\nhiT 1\nx", "P:hi|MT:x|");
	EXPECT(FORMAT_FRAMED, "P 0\n", "P:|");
	EXPECT(FORMAT_FRAMED, "C 999 0\n", "E:bad close frame");
	EXPECT(FORMAT_FRAMED, "C 1005 0\n", "E:bad close frame");
	EXPECT(FORMAT_FRAMED, "C 0 1\nx", "E:bad close frame");
	EXPECT(FORMAT_FRAMED, "C 1000 2\n\xff\xfe",
	    "E:close reason is not UTF-8");
	EXPECT(FORMAT_FRAMED, "C 1000 124\n", "E:bad close frame");
	EXPECT(FORMAT_FRAMED, "P 126\n", "E:ping payload over 125 bytes");
	EXPECT(FORMAT_FRAMED, "C 1000 5\nab", "E:stream ends inside a frame");
}
END_TEST

START_TEST(test_framed_errors)
{
	EXPECT(FORMAT_FRAMED, "X 1\na", "E:bad frame header");
	EXPECT(FORMAT_FRAMED, "T 1x\na", "E:bad frame header");
	EXPECT(FORMAT_FRAMED, "T  1\na", "E:bad frame header");
	EXPECT(FORMAT_FRAMED, "T -1\n", "E:bad frame header");
	EXPECT(FORMAT_FRAMED, "T 1 \na", "E:bad frame header");
	EXPECT(FORMAT_FRAMED, "T\n", "E:bad frame header");
	EXPECT(FORMAT_FRAMED, "T 1\r\na", "E:bad frame header");
	EXPECT(FORMAT_FRAMED, "T 12345678901234567890\n", "E:bad frame header");
	EXPECT(FORMAT_FRAMED, "T 111111111111111111111111111111111111111111"
	    "1111111111", "E:frame header too long");
	EXPECT(FORMAT_FRAMED, "T 5", "E:stream ends inside a frame header");
	EXPECT(FORMAT_FRAMED, "T 5\nabc", "E:stream ends inside a message");
	EXPECT(FORMAT_FRAMED, "t 1\na", "E:stream ends inside a message");
	EXPECT(FORMAT_FRAMED, "T 1\naT 9", "MT:a|E:stream ends inside a frame "
	    "header");
}
END_TEST

START_TEST(test_lines_and_binary)
{
	EXPECT(FORMAT_LINES, "a\r\nb\n\nc", "MT:a|MT:b|MT:|MT:c|");
	EXPECT(FORMAT_LINES, "one\ntwo\n", "MT:one|MT:two|");
	EXPECT(FORMAT_LINES, "x\r", "MT:x|");
	EXPECT(FORMAT_LINES, "", "");
}
END_TEST

/* Binary keeps bytes, not boundaries: check the concatenation. */
START_TEST(test_binary_bytes)
{
	static const char	 in[] = "\x00\x01\nT 3\nabc\xff";
	struct rec		 r;
	char			 got[64];
	size_t			 i, o, len = sizeof(in) - 1;
	int			 mode;

	for (mode = 0; mode < 3; mode++) {
		run(FORMAT_BINARY, in, len, mode, 7, 0, &r);
		/* Strip the "MB:" and "|" around each message ('|' is not in in). */
		for (i = 0, o = 0; i < r.len; i++) {
			ck_assert(memcmp(r.out + i, "MB:", 3) == 0);
			for (i += 3; r.out[i] != '|'; i++)
				got[o++] = r.out[i];
		}
		ck_assert_uint_eq(o, len);
		ck_assert(memcmp(got, in, len) == 0);
	}
}
END_TEST

/*
 * Binary format with DataFormat data, in every chunking and with stopping
 * sinks: every message is of type want ('T' or 'B'; 'A' any), text ones
 * are whole UTF-8, the messages joined are in, and the run ends with the
 * error err ("" none) after the first sent bytes of in.
 */
static void
expect_typed(enum data_format data, const char *in, size_t len, char want,
    size_t sent, const char *err)
{
	struct rec	 r;
	char		 got[256];
	size_t		 i, o, mlen;
	int		 mode, stop;
	uint32_t	 seed;
	char		 type;

	run_data = data;
	for (mode = 0; mode < 3; mode++) {
		for (seed = 1; seed <= (mode == 2 ? 20u : 1u); seed++) {
			for (stop = 0; stop <= 2; stop++) {
				run(FORMAT_BINARY, in, len, mode, seed, stop,
				    &r);
				for (i = 0, o = 0; i < r.len && r.out[i] ==
				    'M'; i++) {
					type = r.out[i + 1];
					ck_assert(want == 'A' || type == want);
					i += 3;
					for (mlen = 0; r.out[i + mlen] != '|';
					    mlen++)
						got[o + mlen] = r.out[i + mlen];
					ck_assert_uint_gt(mlen, 0);
					if (type == 'T')
						ck_assert(ws_utf8_valid(
						    (const uint8_t *)got + o,
						    mlen));
					o += mlen;
					i += mlen;
				}
				ck_assert_msg(o == sent &&
				    memcmp(got, in, sent) == 0,
				    "data %d mode %d seed %u: %zu bytes sent",
				    data, mode, seed, o);
				if (*err == '\0')
					ck_assert_uint_eq(i, r.len);
				else
					ck_assert_str_eq(r.out + i, err);
			}
		}
	}
	run_data = DATA_BINARY;
}

/* DataFormat text: text messages cut on code point boundaries. */
START_TEST(test_data_text)
{
	static const char	 utf8[] = "a\xc3\xa9z\xe2\x82\xac\xf0\x9f\x98"
	    "\x80.";

	expect_typed(DATA_TEXT, utf8, sizeof(utf8) - 1, 'T', sizeof(utf8) - 1,
	    "");
	expect_typed(DATA_TEXT, "\xc3\xa9", 2, 'T', 2, "");
	expect_typed(DATA_TEXT, "\x00\x01\n", 3, 'T', 3, "");
	expect_typed(DATA_TEXT, "\xff", 1, 'T', 0, "E:output is not UTF-8");
	expect_typed(DATA_TEXT, "\xed\xa0\x80", 3, 'T', 0,
	    "E:output is not UTF-8");
	expect_typed(DATA_TEXT, "\xc3", 1, 'T', 0,
	    "E:output ends inside a UTF-8 character");
	expect_typed(DATA_TEXT, "\xe2\x82", 2, 'T', 0,
	    "E:output ends inside a UTF-8 character");
}
END_TEST

/* DataFormat text: an invalid byte refuses the chunk it arrives in. */
START_TEST(test_data_text_errors)
{
	struct rec	r;

	run_data = DATA_TEXT;
	run(FORMAT_BINARY, "ab\xc3\xa9\xc3", 5, 0, 1, 0, &r);
	ck_assert_str_eq(r.out, "MT:ab\xc3\xa9|E:output ends inside a UTF-8 "
	    "character");
	run(FORMAT_BINARY, "ab\xff", 3, 0, 1, 0, &r);
	ck_assert_str_eq(r.out, "E:output is not UTF-8");
	run(FORMAT_BINARY, "ab\xff", 3, 1, 1, 0, &r);
	ck_assert_str_eq(r.out, "MT:a|MT:b|E:output is not UTF-8");
	run_data = DATA_BINARY;
}
END_TEST

/* DataFormat auto: UTF-8 chunks as text, others as binary. */
START_TEST(test_data_auto)
{
	static const char	 utf8[] = "h\xc3\xa9llo \xe2\x82\xac\xf0\x9f"
	    "\x98\x80";
	struct rec		 r;

	expect_typed(DATA_AUTO, utf8, sizeof(utf8) - 1, 'T', sizeof(utf8) - 1,
	    "");
	expect_typed(DATA_AUTO, "\xff\xfe\x80", 3, 'B', 3, "");
	expect_typed(DATA_AUTO, "a\xff\xc3\xa9", 4, 'A', 4, "");
	run_data = DATA_AUTO;
	run(FORMAT_BINARY, "ab\xff", 3, 0, 1, 0, &r);
	ck_assert_str_eq(r.out, "MB:ab\xff|");
	run(FORMAT_BINARY, "ab\xc3\xa9", 4, 0, 1, 0, &r);
	ck_assert_str_eq(r.out, "MT:ab\xc3\xa9|");
	/* A character cut by eof goes out as it is, as binary. */
	run(FORMAT_BINARY, "ab\xe2\x82", 4, 0, 1, 0, &r);
	ck_assert_str_eq(r.out, "MT:ab|MB:\xe2\x82|");
	run(FORMAT_BINARY, "ab\xe2\x82", 4, 1, 1, 0, &r);
	ck_assert_str_eq(r.out, "MT:a|MT:b|MB:\xe2\x82|");
	/* Binary, the default, does not look at the bytes. */
	run_data = DATA_BINARY;
	run(FORMAT_BINARY, "ab\xc3\xa9", 4, 0, 1, 0, &r);
	ck_assert_str_eq(r.out, "MB:ab\xc3\xa9|");
}
END_TEST

/* Sink: every piece is one whole text message of valid UTF-8. */
static int
utf8_piece(void *arg, enum ws_msg_type type, const uint8_t *data,
    size_t len, bool first, bool last)
{
	size_t	*bytes = arg;

	ck_assert_int_eq(type, WS_MSG_TEXT);
	ck_assert(first && last);
	ck_assert(ws_utf8_valid(data, len));
	*bytes += len;
	return 0;
}

static const struct msgstream_sink utf8_sink = {
	.piece = utf8_piece,
	.close = rec_close,
	.ping = rec_ping,
};

/* Text output longer than MSGSTREAM_CHUNK is cut between characters. */
START_TEST(test_data_text_long)
{
	struct msgstream	 m;
	struct evbuffer		*buf = evbuffer_new();
	const char		*err = NULL;
	size_t			 i, bytes = 0, total = MSGSTREAM_CHUNK * 2 + 1;

	/* "\xe2\x82\xac" after one "x": no chunk edge falls on a boundary. */
	evbuffer_add(buf, "x", 1);
	for (i = 1; i < total; i += 3)
		evbuffer_add(buf, "\xe2\x82\xac", 3);
	total = evbuffer_get_length(buf);
	ck_assert_uint_eq(total % 3, 1);
	msgstream_init(&m, FORMAT_BINARY);
	msgstream_set_data(&m, DATA_TEXT);
	ck_assert_int_eq(msgstream_decode(&m, buf, false, &utf8_sink, &bytes,
	    &err), 0);
	ck_assert_uint_eq(bytes, total);
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
	evbuffer_free(buf);
}
END_TEST

/* ReadyToSend: "R 0\n" in framed format, nothing in the others. */
START_TEST(test_encode_ready)
{
	struct evbuffer	*b = evbuffer_new();

	msgstream_encode_ready(FORMAT_LINES, b);
	msgstream_encode_ready(FORMAT_BINARY, b);
	ck_assert_uint_eq(evbuffer_get_length(b), 0);
	msgstream_encode_ready(FORMAT_FRAMED, b);
	ck_assert_uint_eq(evbuffer_get_length(b), 4);
	ck_assert(memcmp(evbuffer_pullup(b, 4), "R 0\n", 4) == 0);
	evbuffer_free(b);
}
END_TEST

/* Counts pieces and bytes, for messages too big to record. */
struct counter {
	size_t	pieces, bytes, firsts, lasts;
};

/* Sink: counts. */
static int
count_piece(void *arg, enum ws_msg_type type, const uint8_t *data,
    size_t len, bool first, bool last)
{
	struct counter	*c = arg;

	ck_assert_int_eq(type, WS_MSG_TEXT);
	(void)data;
	c->pieces++;
	c->bytes += len;
	c->firsts += first;
	c->lasts += last;
	return 0;
}

static const struct msgstream_sink count_sink = {
	.piece = count_piece,
	.close = rec_close,
	.ping = rec_ping,
};

/* A line longer than MSGSTREAM_CHUNK goes out in pieces of one message. */
START_TEST(test_lines_long)
{
	struct msgstream	 m;
	struct evbuffer		*buf = evbuffer_new();
	struct counter		 c;
	char			*line;
	const char		*err = NULL;

	memset(&c, 0, sizeof(c));
	line = malloc(MSGSTREAM_CHUNK);
	ck_assert_ptr_nonnull(line);
	memset(line, 'a', MSGSTREAM_CHUNK);
	msgstream_init(&m, FORMAT_LINES);
	evbuffer_add(buf, line, MSGSTREAM_CHUNK);
	ck_assert_int_eq(msgstream_decode(&m, buf, false, &count_sink, &c,
	    &err), 0);
	ck_assert(msgstream_pending(&m));
	ck_assert_uint_eq(evbuffer_get_length(buf), 0);
	ck_assert_uint_eq(c.pieces, 1);
	ck_assert_uint_eq(c.firsts, 1);
	ck_assert_uint_eq(c.lasts, 0);
	evbuffer_add(buf, "bc\n", 3);
	ck_assert_int_eq(msgstream_decode(&m, buf, false, &count_sink, &c,
	    &err), 0);
	ck_assert(!msgstream_pending(&m));
	ck_assert_uint_eq(c.pieces, 2);
	ck_assert_uint_eq(c.firsts, 1);
	ck_assert_uint_eq(c.lasts, 1);
	ck_assert_uint_eq(c.bytes, MSGSTREAM_CHUNK + 2);
	free(line);
	evbuffer_free(buf);
}
END_TEST

/* Returns what an encoder call appended, as a NUL-terminated string. */
static char *
encoded(struct evbuffer *b, char *out, size_t cap)
{
	size_t	n = evbuffer_get_length(b);

	ck_assert_uint_lt(n, cap);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	return out;
}

START_TEST(test_encode)
{
	struct evbuffer	*b = evbuffer_new();
	char		 s[64];

	ck_assert_int_eq(msgstream_encode(FORMAT_FRAMED, b, WS_MSG_TEXT,
	    (const uint8_t *)"abc", 3, true), 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "T 3\nabc");
	ck_assert_int_eq(msgstream_encode(FORMAT_FRAMED, b, WS_MSG_TEXT,
	    (const uint8_t *)"ab", 2, false), 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "t 2\nab");
	ck_assert_int_eq(msgstream_encode(FORMAT_FRAMED, b, WS_MSG_BINARY,
	    (const uint8_t *)"a\n", 2, true), 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "B 2\na\n");
	ck_assert_int_eq(msgstream_encode(FORMAT_FRAMED, b, WS_MSG_BINARY,
	    (const uint8_t *)"", 0, false), 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "b 0\n");
	ck_assert_int_eq(msgstream_encode(FORMAT_LINES, b, WS_MSG_TEXT,
	    (const uint8_t *)"ab", 2, false), 0);
	ck_assert_int_eq(msgstream_encode(FORMAT_LINES, b, WS_MSG_TEXT,
	    (const uint8_t *)"c", 1, true), 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "abc\n");
	ck_assert_int_eq(msgstream_encode(FORMAT_LINES, b, WS_MSG_BINARY,
	    (const uint8_t *)"c", 1, true), -1);
	ck_assert_uint_eq(evbuffer_get_length(b), 0);
	ck_assert_int_eq(msgstream_encode(FORMAT_BINARY, b, WS_MSG_BINARY,
	    (const uint8_t *)"xy", 2, true), 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "xy");
	msgstream_encode_close(FORMAT_FRAMED, b, 1001, "bye!", 4);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "C 1001 4\nbye!");
	msgstream_encode_close(FORMAT_LINES, b, 1001, "bye!", 4);
	msgstream_encode_close(FORMAT_BINARY, b, 1001, "bye!", 4);
	ck_assert_uint_eq(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}
END_TEST

/*
 * The daemon's own records: a line cut at MaxLineLength (U, V; the
 * others as a line's end) and the Ping event (I, O; framed only).
 */
START_TEST(test_encode_cut_and_ping)
{
	struct evbuffer	*b = evbuffer_new();
	char		 s[64];

	ck_assert_int_eq(msgstream_encode_cut(FORMAT_FRAMED, b, WS_MSG_TEXT,
	    (const uint8_t *)"abcd", 4), 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "U 4\nabcd");
	ck_assert_int_eq(msgstream_encode_cut(FORMAT_FRAMED, b, WS_MSG_BINARY,
	    (const uint8_t *)"\0\1", 2), 0);
	ck_assert_uint_eq(evbuffer_get_length(b), 6);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "V 2\n");
	ck_assert_int_eq(msgstream_encode_cut(FORMAT_LINES, b, WS_MSG_TEXT,
	    (const uint8_t *)"ab", 2), 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "ab\n");
	ck_assert_int_eq(msgstream_encode_cut(FORMAT_LINES, b, WS_MSG_BINARY,
	    (const uint8_t *)"ab", 2), -1);
	ck_assert_int_eq(msgstream_encode_cut(FORMAT_BINARY, b, WS_MSG_BINARY,
	    (const uint8_t *)"ab", 2), 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "ab");
	msgstream_encode_ping(FORMAT_FRAMED, b, false, (const uint8_t *)"hi",
	    2);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "I 2\nhi");
	msgstream_encode_ping(FORMAT_FRAMED, b, true, NULL, 0);
	ck_assert_str_eq(encoded(b, s, sizeof(s)), "O 0\n");
	msgstream_encode_ping(FORMAT_LINES, b, true, (const uint8_t *)"x", 1);
	msgstream_encode_ping(FORMAT_BINARY, b, false, (const uint8_t *)"x",
	    1);
	ck_assert_uint_eq(evbuffer_get_length(b), 0);
	evbuffer_free(b);
}
END_TEST

/* The daemon's records are not the handler's: U, V, I, O from it break. */
START_TEST(test_daemon_letters_from_handler)
{
	static const char *const bad[] = { "U 1\na", "V 0\n", "I 0\n",
	    "O 2\nhi" };
	struct evbuffer	*b;
	struct msgstream m;
	struct rec	 r;
	const char	*err;
	size_t		 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = evbuffer_new();
		memset(&r, 0, sizeof(r));
		err = NULL;
		evbuffer_add(b, bad[i], strlen(bad[i]));
		msgstream_init(&m, FORMAT_FRAMED);
		ck_assert_int_eq(msgstream_decode(&m, b, true, &rec_sink, &r,
		    &err), -1);
		ck_assert_str_eq(err, "bad frame header");
		evbuffer_free(b);
	}
}
END_TEST

/* What the encoder writes, the decoder reads back. */
START_TEST(test_round_trip)
{
	struct evbuffer	*b = evbuffer_new();
	struct msgstream m;
	struct rec	 r;
	const char	*err = NULL;

	memset(&r, 0, sizeof(r));
	msgstream_encode(FORMAT_FRAMED, b, WS_MSG_TEXT,
	    (const uint8_t *)"T 1\n", 4, false);
	msgstream_encode(FORMAT_FRAMED, b, WS_MSG_TEXT,
	    (const uint8_t *)"x\n", 2, true);
	msgstream_encode(FORMAT_FRAMED, b, WS_MSG_BINARY,
	    (const uint8_t *)"\0\r\n", 3, true);
	msgstream_encode_close(FORMAT_FRAMED, b, 1000, "ok", 2);
	msgstream_init(&m, FORMAT_FRAMED);
	ck_assert_int_eq(msgstream_decode(&m, b, true, &rec_sink, &r, &err), 0);
	ck_assert_uint_eq(r.len, 26);
	ck_assert(memcmp(r.out, "MT:T 1\nx\n|MB:\0\r\n|C1000:ok|", 26) == 0);
	evbuffer_free(b);
}
END_TEST

/* unix: backends get the CGI variables as an SCGI netstring header. */
START_TEST(test_scgi_header)
{
	static const char	 want[] = "48:CONTENT_LENGTH\0" "0\0" "SCGI\0"
	    "1\0" "A\0" "1\0" "QUERY_STRING\0\0" "X\0" "a=b\0" ",";
	char			*envp[] = { "A=1", "QUERY_STRING=", "X=a=b", NULL };
	char			*empty[] = { NULL };
	struct evbuffer		*b = evbuffer_new();
	char			 got[128];
	size_t			 n;

	cgi_scgi_header(envp, b);
	n = evbuffer_get_length(b);
	ck_assert_uint_eq(n, sizeof(want) - 1);
	evbuffer_remove(b, got, n);
	ck_assert(memcmp(got, want, n) == 0);
	cgi_scgi_header(empty, b);
	n = evbuffer_get_length(b);
	ck_assert_uint_eq(n, 28);
	evbuffer_remove(b, got, n);
	ck_assert(memcmp(got, "24:CONTENT_LENGTH\0" "0\0" "SCGI\0" "1\0" ",",
	    28) == 0);
	evbuffer_free(b);
}
END_TEST

Suite *
make_framed_suite(void)
{
	Suite	*s = suite_create("framed");
	TCase	*tc = tcase_create("Core");
	TCase	*lim = tcase_create("Limits");

	tcase_add_test(tc, test_framed_messages);
	tcase_add_test(tc, test_framed_parts);
	tcase_add_test(tc, test_framed_control);
	tcase_add_test(tc, test_lines_and_binary);
	tcase_add_test(tc, test_binary_bytes);
	tcase_add_test(tc, test_data_text);
	tcase_add_test(tc, test_data_auto);
	tcase_add_test(tc, test_encode_ready);
	tcase_add_test(tc, test_encode);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_encode_cut_and_ping);
	tcase_add_test(tc, test_daemon_letters_from_handler);
	tcase_add_test(tc, test_scgi_header);
	suite_add_tcase(s, tc);
	tcase_add_test(lim, test_framed_errors);
	tcase_add_test(lim, test_lines_long);
	tcase_add_test(lim, test_data_text_errors);
	tcase_add_test(lim, test_data_text_long);
	suite_add_tcase(s, lim);
	return s;
}
