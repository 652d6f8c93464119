/*
 * check_pump.c - unit tests for backend/pump.c, the message pump of the
 * script and unix-stream backends, with msgstream.c under it. A program
 * of its own: the connection and topic functions the pump calls are fakes
 * here that record what they were asked (the real ones live in
 * libwsevent, which the main unit test runner links).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "backend/pump.h"
#include "conf/config.h"
#include "event/conn.h"
#include "event/topics.h"

/* The fake connection: what the pump did to it, and what it answers. */
struct conn {
	struct evbuffer	*sent;		/* messages as "T<text>", "B<bytes>" */
	int		 sends;
	int		 paused, resumed;
	bool		 full;		/* conn_output_full's answer */
	bool		 full_after_send;
	bool		 line_cut;	/* conn_line_cut's answer */
	int		 close_code;	/* conn_close_status's answer */
	const char	*close_reason;
	int		 pings;
	char		 ping[16];
	int		 subs, unsubs, pubs;
	char		 topic[32];
	struct pump	*detach_on_send; /* conn_send closes: the owner detaches */
};

/* The fake owner: what the pump asked of it. */
struct owner {
	struct pump	*pump;
	int		 reads_on, reads_off;
	int		 ends, end_code;
	char		 end_reason[64];
};

static struct conn	 fc;
static struct owner	 fo;
static struct pump	 pp;
static struct route	 rt;
static struct evbuffer	*to, *in;

int
conn_send(struct conn *c, enum ws_msg_type type, const void *data, size_t len,
    bool first, bool last)
{
	if (first)
		evbuffer_add_printf(c->sent, "%c<", type == WS_MSG_TEXT ?
		    'T' : 'B');
	evbuffer_add(c->sent, data, len);
	if (last)
		evbuffer_add(c->sent, ">", 1);
	c->sends++;
	if (c->full_after_send)
		c->full = true;
	if (c->detach_on_send != NULL) {
		pump_detach(c->detach_on_send);
		return -1;
	}
	return 0;
}

bool
conn_output_full(const struct conn *c)
{
	return c->full;
}

void
conn_pause_input(struct conn *c)
{
	c->paused++;
}

void
conn_resume_input(struct conn *c)
{
	c->resumed++;
}

bool
conn_line_cut(const struct conn *c)
{
	return c->line_cut;
}

int
conn_close_status(const struct conn *c, const char **reason)
{
	*reason = c->close_reason;
	return c->close_code;
}

int
conn_ping(struct conn *c, const void *data, size_t len)
{
	c->pings++;
	snprintf(c->ping, sizeof(c->ping), "%.*s", (int)len,
	    (const char *)data);
	return 0;
}

int
topics_subscribe(struct conn *c, const char *topic, size_t tlen,
    const char **cause)
{
	(void)cause;
	c->subs++;
	snprintf(c->topic, sizeof(c->topic), "%.*s", (int)tlen, topic);
	return 0;
}

int
topics_unsubscribe(struct conn *c, const char *topic, size_t tlen)
{
	c->unsubs++;
	snprintf(c->topic, sizeof(c->topic), "%.*s", (int)tlen, topic);
	return 0;
}

int
topics_publish(const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len, const char **cause)
{
	(void)cause;
	fc.pubs++;
	snprintf(fc.topic, sizeof(fc.topic), "%c %.*s %.*s",
	    type == WS_MSG_TEXT ? 'M' : 'N', (int)tlen, topic, (int)len,
	    (const char *)data);
	return 0;
}

static void
owner_read(void *arg, bool on)
{
	struct owner	*o = arg;

	if (on)
		o->reads_on++;
	else
		o->reads_off++;
}

/* As pump.h asks: the owner detaches, then (really) closes. */
static void
owner_end(void *arg, int code, const char *reason)
{
	struct owner	*o = arg;

	o->ends++;
	o->end_code = code;
	snprintf(o->end_reason, sizeof(o->end_reason), "%s",
	    reason != NULL ? reason : "");
	pump_detach(o->pump);
}

static const struct pump_ops owner_ops = {
	.read = owner_read,
	.end = owner_end,
};

/* A pump on a route of format, over fresh fakes. */
static void
setup_format(enum msg_format format)
{
	memset(&fc, 0, sizeof(fc));
	memset(&fo, 0, sizeof(fo));
	memset(&rt, 0, sizeof(rt));
	fc.sent = evbuffer_new();
	to = evbuffer_new();
	in = evbuffer_new();
	rt.format = format;
	rt.data_format = DATA_AUTO;
	fo.pump = &pp;
	pump_init(&pp, &fc, &rt, "7", "handler", "handler output", &owner_ops,
	    &fo);
}

static void
teardown(void)
{
	evbuffer_free(fc.sent);
	evbuffer_free(to);
	evbuffer_free(in);
}

/* What a buffer holds, as a NUL-terminated string (static, one at a time). */
static const char *
str(struct evbuffer *b)
{
	static char	s[4096];
	size_t		n = evbuffer_get_length(b);

	if (n >= sizeof(s))
		n = sizeof(s) - 1;
	evbuffer_copyout(b, s, n);
	s[n] = '\0';
	return s;
}

/* Feeds bytes to the pump in pieces of chunk bytes (0: all at once). */
static void
feed(const char *bytes, size_t len, size_t chunk, bool eof)
{
	size_t	off, n;

	if (chunk == 0)
		chunk = len;
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		evbuffer_add(in, bytes + off, n);
		pump_process(&pp, in, false);
	}
	if (eof)
		pump_process(&pp, in, true);
}

START_TEST(test_lines_client_to_backend)
{
	setup_format(FORMAT_LINES);
	pump_message(&pp, to, WS_MSG_TEXT, (const uint8_t *)"hello", 5, true);
	pump_message(&pp, to, WS_MSG_TEXT, (const uint8_t *)"wor", 3, false);
	pump_message(&pp, to, WS_MSG_TEXT, (const uint8_t *)"ld", 2, true);
	ck_assert_str_eq(str(to), "hello\nworld\n");
	ck_assert_int_eq(fo.ends, 0);
	/* A binary message cannot be a line: 1003, and the pump lets go. */
	pump_message(&pp, to, WS_MSG_BINARY, (const uint8_t *)"x", 1, true);
	ck_assert_int_eq(fo.ends, 1);
	ck_assert_int_eq(fo.end_code, 1003);
	ck_assert_ptr_null(pp.conn);
	ck_assert_str_eq(str(to), "hello\nworld\n");
	/* Detached: nothing more is encoded. */
	pump_message(&pp, to, WS_MSG_TEXT, (const uint8_t *)"late", 4, true);
	ck_assert_str_eq(str(to), "hello\nworld\n");
	teardown();
}
END_TEST

START_TEST(test_backend_gone_drops_client_input)
{
	setup_format(FORMAT_LINES);
	pump_message(&pp, NULL, WS_MSG_TEXT, (const uint8_t *)"lost", 4, true);
	ck_assert_int_eq(fo.ends, 0);
	ck_assert_int_eq(fc.paused, 0);
	teardown();
}
END_TEST

START_TEST(test_client_paused_above_high_resumed_at_low)
{
	static uint8_t	big[PUMP_TO_HIGH / 4];
	int		i;

	setup_format(FORMAT_BINARY);
	memset(big, 'a', sizeof(big));
	for (i = 0; i < 4; i++)
		pump_message(&pp, to, WS_MSG_BINARY, big, sizeof(big), true);
	ck_assert_uint_eq(evbuffer_get_length(to), PUMP_TO_HIGH);
	ck_assert_int_eq(fc.paused, 0);		/* at the mark, not above */
	pump_message(&pp, to, WS_MSG_BINARY, big, 1, true);
	ck_assert_int_eq(fc.paused, 1);
	pump_message(&pp, to, WS_MSG_BINARY, big, 1, true);
	ck_assert_int_eq(fc.paused, 1);		/* once */
	pump_to_drained(&pp, PUMP_TO_LOW + 1);
	ck_assert_int_eq(fc.resumed, 0);
	pump_to_drained(&pp, PUMP_TO_LOW);
	ck_assert_int_eq(fc.resumed, 1);
	pump_to_drained(&pp, 0);
	ck_assert_int_eq(fc.resumed, 1);	/* once */
	teardown();
}
END_TEST

/* Lines from the backend, in every chunking, are the same messages. */
START_TEST(test_lines_backend_to_client_any_chunking)
{
	static const char	out[] = "one\n\ntwo three\nh\xc3\xa9llo\nlast";
	size_t			chunk;

	for (chunk = 0; chunk <= sizeof(out) - 1; chunk++) {
		setup_format(FORMAT_LINES);
		feed(out, sizeof(out) - 1, chunk, true);
		ck_assert_str_eq(str(fc.sent), "T<one>T<>T<two three>"
		    "T<h\xc3\xa9llo>T<last>");
		ck_assert_int_eq(fo.ends, 0);
		ck_assert(pump_drained(&pp, in));
		teardown();
	}
}
END_TEST

START_TEST(test_lines_invalid_utf8_ends_1011)
{
	setup_format(FORMAT_LINES);
	feed("ok\n\xff\xfe\nnever\n", 12, 0, false);
	ck_assert_str_eq(str(fc.sent), "T<ok>");
	ck_assert_int_eq(fo.ends, 1);
	ck_assert_int_eq(fo.end_code, 1011);
	ck_assert_str_eq(fo.end_reason, "handler wrote invalid UTF-8");
	/* Detached: later output is thrown away, nothing is sent. */
	feed("more\n", 5, 0, true);
	ck_assert_int_eq(fc.sends, 1);
	ck_assert_uint_eq(evbuffer_get_length(in), 0);
	teardown();
}
END_TEST

/*
 * The client's queue fills: decoding stops with the rest kept, the owner
 * stops reading; once writable the owner reads again and the rest goes.
 */
START_TEST(test_client_full_stops_then_writable_resumes)
{
	setup_format(FORMAT_FRAMED);
	fc.full_after_send = true;
	feed("T 1\naT 1\nbT 1\nc", 15, 0, false);
	ck_assert_str_eq(str(fc.sent), "T<a>");
	ck_assert_int_eq(fo.reads_off, 1);
	ck_assert(pp.out_blocked);
	ck_assert(!pump_drained(&pp, in));
	/* More input while blocked waits; nothing is decoded. */
	pump_process(&pp, in, false);
	ck_assert_int_eq(fc.sends, 1);
	/* Room again: ReadyToSend to the framed backend, reading on. */
	fc.full = false;
	fc.full_after_send = false;
	ck_assert(pump_writable(&pp, to, in, false));
	ck_assert_str_eq(str(to), "R 0\n");
	ck_assert_int_eq(fo.reads_on, 1);
	ck_assert_str_eq(str(fc.sent), "T<a>T<b>T<c>");
	ck_assert(pump_drained(&pp, in));
	/* Nothing was blocked: nothing to do. */
	ck_assert(!pump_writable(&pp, to, in, false));
	ck_assert_int_eq(fo.reads_on, 1);
	teardown();
}
END_TEST

/* At eof the owner is not asked to read again. */
START_TEST(test_writable_at_eof_does_not_read)
{
	setup_format(FORMAT_LINES);
	fc.full_after_send = true;
	feed("a\nb\n", 4, 0, false);
	ck_assert_int_eq(fo.reads_off, 1);
	fc.full = false;
	fc.full_after_send = false;
	ck_assert(pump_writable(&pp, to, in, true));
	ck_assert_int_eq(fo.reads_on, 0);
	ck_assert_uint_eq(evbuffer_get_length(to), 0);	/* lines: no R */
	ck_assert_str_eq(str(fc.sent), "T<a>T<b>");
	teardown();
}
END_TEST

/* Every framed command of a backend, fed in every chunking. */
START_TEST(test_framed_commands_any_chunking)
{
	static const char	out[] =
	    "t 3\nhelt 0\nT 2\nlo"		/* "hello" in three parts */
	    "B 0\n"				/* an empty binary message */
	    "P 2\nhi"				/* ping the client */
	    "S 4\nroomL 4\nroom"		/* join, leave */
	    "M 4 2\nroomyo"			/* publish text */
	    "C 4000 3\nbye"			/* close */
	    "T 5\nafter";			/* never read */
	size_t			chunk;

	for (chunk = 0; chunk <= sizeof(out) - 1; chunk++) {
		setup_format(FORMAT_FRAMED);
		feed(out, sizeof(out) - 1, chunk, false);
		ck_assert_str_eq(str(fc.sent),
		    "T<hello>B<>");
		ck_assert_int_eq(fc.pings, 1);
		ck_assert_str_eq(fc.ping, "hi");
		ck_assert_int_eq(fc.subs, 1);
		ck_assert_int_eq(fc.unsubs, 1);
		ck_assert_int_eq(fc.pubs, 1);
		ck_assert_str_eq(fc.topic, "M room yo");
		ck_assert_int_eq(fo.ends, 1);
		ck_assert_int_eq(fo.end_code, 4000);
		ck_assert_str_eq(fo.end_reason, "bye");
		ck_assert_ptr_null(pp.conn);
		teardown();
	}
}
END_TEST

START_TEST(test_framed_broken_ends_1011)
{
	setup_format(FORMAT_FRAMED);
	feed("T 1\nxX 1\ny", 10, 0, false);
	ck_assert_str_eq(str(fc.sent), "T<x>");
	ck_assert_int_eq(fo.ends, 1);
	ck_assert_int_eq(fo.end_code, 1011);
	ck_assert_str_eq(fo.end_reason, "handler broke the framed format");
	teardown();

	/* A frame cut by the backend's end is broken too. */
	setup_format(FORMAT_FRAMED);
	feed("T 10\nshort", 10, 0, true);
	ck_assert_int_eq(fo.ends, 1);
	ck_assert_int_eq(fo.end_code, 1011);
	teardown();
}
END_TEST

/* Text split over framed parts is checked as one message. */
START_TEST(test_framed_utf8_across_parts)
{
	setup_format(FORMAT_FRAMED);
	feed("t 1\n\xc3T 1\n\xa9", 10, 0, false);
	ck_assert_str_eq(str(fc.sent), "T<\xc3\xa9>");
	ck_assert_int_eq(fo.ends, 0);
	teardown();

	/* A message that ends inside a character is invalid. */
	setup_format(FORMAT_FRAMED);
	feed("T 1\n\xc3", 5, 0, false);
	ck_assert_int_eq(fo.ends, 1);
	ck_assert_int_eq(fo.end_code, 1011);
	ck_assert_str_eq(fo.end_reason, "handler wrote invalid UTF-8");
	ck_assert_int_eq(fc.sends, 0);
	teardown();
}
END_TEST

/* The connection closes while a piece is sent: decoding stops at once. */
START_TEST(test_detached_during_send)
{
	setup_format(FORMAT_LINES);
	fc.detach_on_send = &pp;
	feed("a\nb\nc\n", 6, 0, false);
	ck_assert_int_eq(fc.sends, 1);
	ck_assert_ptr_null(pp.conn);
	/* Not touched after the detach: its owner may have freed it. */
	ck_assert_uint_eq(evbuffer_get_length(in), 6);
	ck_assert(pump_drained(&pp, in));
	teardown();
}
END_TEST

/* What a framed backend is told of the client: cut lines, pings, the close. */
START_TEST(test_framed_events_to_backend)
{
	setup_format(FORMAT_FRAMED);
	pump_message(&pp, to, WS_MSG_TEXT, (const uint8_t *)"ab", 2, false);
	fc.line_cut = true;
	pump_message(&pp, to, WS_MSG_TEXT, (const uint8_t *)"cd", 2, true);
	pump_ping_event(&pp, to, false, (const uint8_t *)"p", 1);
	pump_ping_event(&pp, to, true, (const uint8_t *)"q", 1);
	fc.close_code = 1001;
	fc.close_reason = "away";
	pump_closed(&pp, to);
	ck_assert_str_eq(str(to), "t 2\nabU 2\ncdI 1\npO 1\nqC 1001 4\naway");
	teardown();

	/* No close frame came: the backend hears 1006. */
	setup_format(FORMAT_FRAMED);
	fc.close_code = 0;
	fc.close_reason = "";
	pump_closed(&pp, to);
	ck_assert_str_eq(str(to), "C 1006 0\n");
	teardown();

	/* Lines: a cut line is a line; pings and the close are not told. */
	setup_format(FORMAT_LINES);
	fc.line_cut = true;
	pump_message(&pp, to, WS_MSG_TEXT, (const uint8_t *)"cd", 2, true);
	pump_ping_event(&pp, to, false, (const uint8_t *)"p", 1);
	fc.close_code = 1000;
	fc.close_reason = "";
	pump_closed(&pp, to);
	ck_assert_str_eq(str(to), "cd\n");
	teardown();
}
END_TEST

/* Binary format, DataFormat auto: UTF-8 goes as text, the rest as binary. */
START_TEST(test_binary_auto)
{
	setup_format(FORMAT_BINARY);
	feed("text", 4, 0, false);
	feed("\xff\x01", 2, 0, false);
	ck_assert_str_eq(str(fc.sent), "T<text>B<\xff\x01>");
	teardown();
}
END_TEST

static Suite *
make_pump_suite(void)
{
	Suite	*s = suite_create("pump");
	TCase	*tc = tcase_create("pump");

	tcase_add_test(tc, test_lines_client_to_backend);
	tcase_add_test(tc, test_backend_gone_drops_client_input);
	tcase_add_test(tc, test_client_paused_above_high_resumed_at_low);
	tcase_add_test(tc, test_lines_backend_to_client_any_chunking);
	tcase_add_test(tc, test_lines_invalid_utf8_ends_1011);
	tcase_add_test(tc, test_client_full_stops_then_writable_resumes);
	tcase_add_test(tc, test_writable_at_eof_does_not_read);
	tcase_add_test(tc, test_framed_commands_any_chunking);
	tcase_add_test(tc, test_framed_broken_ends_1011);
	tcase_add_test(tc, test_framed_utf8_across_parts);
	tcase_add_test(tc, test_detached_during_send);
	tcase_add_test(tc, test_framed_events_to_backend);
	tcase_add_test(tc, test_binary_auto);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(make_pump_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
