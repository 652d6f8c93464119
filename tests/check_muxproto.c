/* check_muxproto.c - tests of the mux backend's command parser (mux-proto.c). */
#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "core/mux-proto.h"

enum chunking {
	CHUNK_WHOLE,
	CHUNK_ONE,
	CHUNK_RANDOM,
	CHUNK_COUNT,
};

static const char *const cmd_names[] = {
	[MUX_CMD_ACCEPT] = "accept",
	[MUX_CMD_REJECT] = "reject",
	[MUX_CMD_SEND] = "send",
	[MUX_CMD_CLOSE] = "close",
	[MUX_CMD_PING] = "ping",
	[MUX_CMD_LINEMODE] = "linemode",
	[MUX_CMD_CONFIG] = "config",
	[MUX_CMD_BROADCAST] = "broadcast",
	[MUX_CMD_SUBSCRIBE] = "subscribe",
	[MUX_CMD_UNSUBSCRIBE] = "unsubscribe",
	[MUX_CMD_PUBLISH] = "publish",
};

/* A small deterministic generator so random splits repeat run to run. */
static uint32_t
rng_next(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/*
 * Appends a record as text to out: "cmd id type/code/mode/word [payload]|",
 * every field the command has, so a test compares all of them at once.
 */
static void
describe(const struct mux_rec *r, char *out, size_t outlen)
{
	size_t	n = strlen(out);

	snprintf(out + n, outlen - n, "%s <%s>", cmd_names[r->cmd], r->id);
	n = strlen(out);
	switch (r->cmd) {
	case MUX_CMD_SEND:
	case MUX_CMD_BROADCAST:
		snprintf(out + n, outlen - n, " %c%c",
		    r->type == WS_MSG_TEXT ? 'T' : 'B', r->last ? '.' : '+');
		break;
	case MUX_CMD_REJECT:
	case MUX_CMD_CLOSE:
		snprintf(out + n, outlen - n, " %d", r->code);
		break;
	case MUX_CMD_LINEMODE:
		snprintf(out + n, outlen - n, " %d", r->line_mode);
		break;
	case MUX_CMD_CONFIG:
	case MUX_CMD_SUBSCRIBE:
	case MUX_CMD_UNSUBSCRIBE:
		snprintf(out + n, outlen - n, " %s", r->word);
		break;
	case MUX_CMD_PUBLISH:
		snprintf(out + n, outlen - n, " %c%c %s",
		    r->type == WS_MSG_TEXT ? 'T' : 'B', r->last ? '.' : '+',
		    r->word);
		break;
	default:
		break;
	}
	n = strlen(out);
	snprintf(out + n, outlen - n, " [%.*s]|", (int)r->len,
	    r->payload != NULL ? (const char *)r->payload : "");
}

/*
 * Feeds script[0..len) as a socket would deliver it, in the given
 * chunking: each chunk is appended to a buffer, and every complete record
 * at its front is parsed and removed, as backend-mux.c does. Returns 0
 * with every record described in out, or -1 on the first error (*cause
 * set; out holds the records before it).
 */
static int
feed(const uint8_t *script, size_t len, enum chunking how, uint32_t seed,
    char *out, size_t outlen, const char **cause)
{
	struct mux_rec	 rec;
	uint8_t		*buf;
	size_t		 have = 0, off = 0, step;
	ssize_t		 r;

	out[0] = '\0';
	buf = malloc(len + 1);
	ck_assert_ptr_nonnull(buf);
	while (off < len) {
		if (how == CHUNK_WHOLE)
			step = len;
		else if (how == CHUNK_ONE)
			step = 1;
		else
			step = 1 + rng_next(&seed) % 29;
		if (step > len - off)
			step = len - off;
		memcpy(buf + have, script + off, step);
		have += step;
		off += step;
		while ((r = mux_proto_parse(buf, have, &rec, cause)) > 0) {
			ck_assert_uint_le((size_t)r, have);
			describe(&rec, out, outlen);
			memmove(buf, buf + r, have - (size_t)r);
			have -= (size_t)r;
		}
		if (r == -1) {
			ck_assert_ptr_nonnull(*cause);
			free(buf);
			return -1;
		}
	}
	free(buf);
	/* What is left is an incomplete record: nothing was dropped. */
	ck_assert_uint_eq(have, 0);
	return 0;
}

/* Runs a script in every chunking, expecting the same result each time. */
static void
check_script(const char *script, size_t len, int want_rc, const char *want,
    const char *want_cause)
{
	char		 out[8192];
	const char	*cause;
	int		 how, seed, rc;

	for (how = 0; how < CHUNK_COUNT; how++) {
		for (seed = 1; seed <= (how == CHUNK_RANDOM ? 20 : 1); seed++) {
			cause = NULL;
			rc = feed((const uint8_t *)script, len, how,
			    (uint32_t)seed, out, sizeof(out), &cause);
			ck_assert_int_eq(rc, want_rc);
			ck_assert_str_eq(out, want);
			if (want_cause != NULL)
				ck_assert_str_eq(cause, want_cause);
		}
	}
}

/* One line alone: the result of mux_proto_line on a whole line. */
static ssize_t
one_line(const char *line, struct mux_rec *rec, const char **cause)
{
	*cause = NULL;
	return mux_proto_line((const uint8_t *)line, strlen(line), rec, cause);
}

/* A line that must be refused, with this cause. */
static void
check_bad(const char *line, const char *want_cause)
{
	struct mux_rec	 rec;
	const char	*cause;

	ck_assert_msg(one_line(line, &rec, &cause) == -1, "accepted: %s",
	    line);
	ck_assert_str_eq(cause, want_cause);
}

START_TEST(test_commands)
{
	static const char script[] =
	    "accept c1\n"
	    "accept c2 29\nSec-WebSocket-Protocol: chat\n"
	    "reject c3 403\n"
	    "reject c4 401 34\nWWW-Authenticate: Basic realm=\"x\"\n"
	    "send c1 T 5\nhello"
	    "send c1 b 3\nab\n"
	    "send c1 B 0\n"
	    "send c1 t 1\n\xff"
	    "close c1 1000 3\nbye"
	    "close c2 4999 0\n"
	    "ping c1 4\nabcd"
	    "linemode c1 1\n"
	    "linemode c1 0\n"
	    "config c1 Timeout\n"
	    "config c1 Timeout=30\n"
	    "broadcast T 2\nhi"
	    "broadcast B 0\n";
	const char *want =
	    "accept <c1> []|"
	    "accept <c2> [Sec-WebSocket-Protocol: chat\n]|"
	    "reject <c3> 403 []|"
	    "reject <c4> 401 [WWW-Authenticate: Basic realm=\"x\"\n]|"
	    "send <c1> T. [hello]|"
	    "send <c1> B+ [ab\n]|"
	    "send <c1> B. []|"
	    "send <c1> T+ [\xff]|"
	    "close <c1> 1000 [bye]|"
	    "close <c2> 4999 []|"
	    "ping <c1> [abcd]|"
	    "linemode <c1> 1 []|"
	    "linemode <c1> 0 []|"
	    "config <c1> Timeout []|"
	    "config <c1> Timeout=30 []|"
	    "broadcast <> T. [hi]|"
	    "broadcast <> B. []|";

	check_script(script, sizeof(script) - 1, 0, want, NULL);
}
END_TEST

START_TEST(test_crlf_spaces_zeros)
{
	/* CRLF, runs of spaces, leading zeros: all as the parser reads them. */
	static const char script[] =
	    "send c1 T 2\r\nok"
	    "  send   c9  B   0003 \nxyz"
	    "close c1 01000 0\r\n";
	const char *want =
	    "send <c1> T. [ok]|"
	    "send <c9> B. [xyz]|"
	    "close <c1> 1000 []|";

	check_script(script, sizeof(script) - 1, 0, want, NULL);
}
END_TEST

START_TEST(test_binary_payload)
{
	/* Payload bytes are never looked at: NUL, LF and CR included. */
	static const char script[] =
	    "send c1 B 6\n\0\n\r\nx\0"
	    "ping c1 1\n\n";
	char		 out[256];
	const char	*cause;
	struct mux_rec	 rec;
	ssize_t		 r;

	r = mux_proto_parse((const uint8_t *)script, sizeof(script) - 1, &rec,
	    &cause);
	ck_assert_int_eq(r, 18);
	ck_assert_int_eq(rec.cmd, MUX_CMD_SEND);
	ck_assert_uint_eq(rec.len, 6);
	ck_assert_mem_eq(rec.payload, "\0\n\r\nx\0", 6);
	r = mux_proto_parse((const uint8_t *)script + 18,
	    sizeof(script) - 1 - 18, &rec, &cause);
	ck_assert_int_eq(r, 11);
	ck_assert_int_eq(rec.cmd, MUX_CMD_PING);
	ck_assert_mem_eq(rec.payload, "\n", 1);
	ck_assert_int_eq(feed((const uint8_t *)script, sizeof(script) - 1,
	    CHUNK_ONE, 1, out, sizeof(out), &cause), 0);
}
END_TEST

START_TEST(test_incomplete)
{
	struct mux_rec	 rec;
	const char	*cause;
	const char	*s = "send c1 T 5\nhello";
	size_t		 i;

	/* Every proper prefix asks for more; the whole record is 17 bytes. */
	for (i = 0; i < strlen(s); i++) {
		cause = NULL;
		ck_assert_int_eq(mux_proto_parse((const uint8_t *)s, i, &rec,
		    &cause), 0);
		ck_assert_ptr_null(cause);
	}
	ck_assert_int_eq(mux_proto_parse((const uint8_t *)s, strlen(s), &rec,
	    &cause), 17);
	/* The line alone is known before its payload. */
	ck_assert_int_eq(mux_proto_line((const uint8_t *)s, 12, &rec, &cause),
	    12);
	ck_assert_uint_eq(rec.len, 5);
	ck_assert_ptr_null(rec.payload);
}
END_TEST

START_TEST(test_error_after_records)
{
	/* The records before an error are delivered; the error stops it. */
	static const char script[] =
	    "send c1 T 1\na"
	    "frobnicate c1\n"
	    "send c1 T 1\nb";

	check_script(script, sizeof(script) - 1, -1, "send <c1> T. [a]|",
	    "bad command");
}
END_TEST

START_TEST(test_bad_lines)
{
	check_bad("\n", "bad command line");
	check_bad("\r\n", "bad command line");
	check_bad("   \n", "bad command line");
	check_bad("send c1 T 1 x y\n", "bad command line");
	check_bad("send c1 T\n", "bad command line");
	check_bad("send c1 T 1 2\n", "bad command line");
	check_bad("close c1 1000\n", "bad command line");
	check_bad("ping c1\n", "bad command line");
	check_bad("ping c1 1 2\n", "bad command line");
	check_bad("broadcast T\n", "bad command line");
	check_bad("broadcast\n", "bad command line");
	check_bad("send c1 T 1a\n", "bad command line");
	check_bad("send c1 T +1\n", "bad command line");
	check_bad("send c1 T -1\n", "bad command line");
	check_bad("send c1 T 0x10\n", "bad command line");
	check_bad("accept c1 x\n", "bad command line");
	check_bad("reject c1 400 ?\n", "bad command line");
	check_bad("a b c d e f\n", "bad command line");
	/* A tab is not a separator: "1\t" is not a length. */
	check_bad("ping c1 1\t\n", "bad command line");
}
END_TEST

START_TEST(test_bad_commands)
{
	check_bad("frobnicate c1\n", "bad command");
	check_bad("accept\n", "bad command");
	check_bad("accept c1 0 x\n", "bad command");
	check_bad("accept c1 0 x y\n", "bad command");
	check_bad("reject c1\n", "bad command");
	check_bad("reject c1 399\n", "bad command");
	check_bad("reject c1 600 0\n", "bad command");
	check_bad("reject c1 4x0\n", "bad command");
	check_bad("send c1 X 0\n", "bad command");
	check_bad("send c1 TT 0\n", "bad command");
	check_bad("close c1 999 0\n", "bad command");
	check_bad("close c1 5000 0\n", "bad command");
	check_bad("close c1 abc 0\n", "bad command");
	check_bad("linemode c1 2\n", "bad command");
	check_bad("linemode c1 01\n", "bad command");
	check_bad("linemode c1\n", "bad command");
	check_bad("config c1\n", "bad command");
	check_bad("config c1 a b\n", "bad command");
	check_bad("broadcast t 0\n", "bad command");
	check_bad("broadcast b 0\n", "bad command");
	check_bad("broadcast x 0\n", "bad command");
	check_bad("Send c1 T 0\n", "bad command");
}
END_TEST

START_TEST(test_nul)
{
	static const char line[] = "ping c1 0\0junk\n";
	struct mux_rec	 rec;
	const char	*cause = NULL;

	/* A NUL in the line would hide what follows it: refused. */
	ck_assert_int_eq(mux_proto_line((const uint8_t *)line,
	    sizeof(line) - 1, &rec, &cause), -1);
	ck_assert_str_eq(cause, "bad command line");
}
END_TEST

START_TEST(test_line_length)
{
	char		 line[MUX_LINE_MAX + 8];
	struct mux_rec	 rec;
	const char	*cause;
	size_t		 n;

	/* "config c1 " and a word up to the longest line. */
	memset(line, 'k', sizeof(line));
	memcpy(line, "config c1 ", 10);
	line[MUX_LINE_MAX] = '\n';
	ck_assert_int_eq(mux_proto_line((const uint8_t *)line,
	    MUX_LINE_MAX + 1, &rec, &cause), MUX_LINE_MAX + 1);
	ck_assert_uint_eq(strlen(rec.word), MUX_LINE_MAX - 10);
	/* Its "\r" counts toward the limit. */
	line[MUX_LINE_MAX - 1] = '\r';
	ck_assert_int_eq(mux_proto_line((const uint8_t *)line,
	    MUX_LINE_MAX + 1, &rec, &cause), MUX_LINE_MAX + 1);
	ck_assert_uint_eq(strlen(rec.word), MUX_LINE_MAX - 11);

	/* No "\n" yet: waits while it could still fit, then refuses. */
	memset(line, 'k', sizeof(line));
	for (n = 0; n <= MUX_LINE_MAX; n++)
		ck_assert_int_eq(mux_proto_line((const uint8_t *)line, n, &rec,
		    &cause), 0);
	cause = NULL;
	ck_assert_int_eq(mux_proto_line((const uint8_t *)line,
	    MUX_LINE_MAX + 1, &rec, &cause), -1);
	ck_assert_str_eq(cause, "command line too long");
	/* One byte over, "\n" and all. */
	memcpy(line, "config c1 ", 10);
	line[MUX_LINE_MAX + 1] = '\n';
	ck_assert_int_eq(mux_proto_line((const uint8_t *)line,
	    MUX_LINE_MAX + 2, &rec, &cause), -1);
	ck_assert_str_eq(cause, "command line too long");
}
END_TEST

START_TEST(test_payload_max)
{
	struct mux_rec	 rec;
	const char	*cause;
	char		 line[64];

	snprintf(line, sizeof(line), "send c1 B %d\n", MUX_PAYLOAD_MAX);
	ck_assert_int_eq(one_line(line, &rec, &cause),
	    (ssize_t)strlen(line));
	ck_assert_uint_eq(rec.len, MUX_PAYLOAD_MAX);
	snprintf(line, sizeof(line), "send c1 B %d\n", MUX_PAYLOAD_MAX + 1);
	check_bad(line, "bad command line");
	check_bad("send c1 B 99999999999999999999999999\n", "bad command line");
	ck_assert_int_eq(one_line("send c1 B 000000000000000000000001\n",
	    &rec, &cause), 35);
	ck_assert_uint_eq(rec.len, 1);
}
END_TEST

START_TEST(test_id_length)
{
	char		 line[MUX_ID_MAX + 32], id[MUX_ID_MAX + 1];
	struct mux_rec	 rec;
	const char	*cause;

	/* The longest id kept, and one that cannot be ours: "". */
	memset(id, 'i', MUX_ID_MAX - 1);
	id[MUX_ID_MAX - 1] = '\0';
	snprintf(line, sizeof(line), "linemode %s 1\n", id);
	ck_assert_int_gt(one_line(line, &rec, &cause), 0);
	ck_assert_str_eq(rec.id, id);
	id[MUX_ID_MAX - 1] = 'i';
	id[MUX_ID_MAX] = '\0';
	snprintf(line, sizeof(line), "linemode %s 1\n", id);
	ck_assert_int_gt(one_line(line, &rec, &cause), 0);
	ck_assert_str_eq(rec.id, "");
	ck_assert_int_eq(rec.cmd, MUX_CMD_LINEMODE);
	ck_assert(rec.line_mode);
}
END_TEST

START_TEST(test_random_bytes)
{
	uint8_t		 buf[300];
	struct mux_rec	 rec;
	const char	*cause;
	uint32_t	 seed = 7;
	size_t		 len, i;
	ssize_t		 r;
	int		 round;

	/* Garbage never reads past its length nor yields a bad record. */
	for (round = 0; round < 5000; round++) {
		len = rng_next(&seed) % sizeof(buf);
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)" \nsendT0123c"[rng_next(&seed) % 12];
		cause = NULL;
		r = mux_proto_parse(buf, len, &rec, &cause);
		ck_assert_int_le(r, (ssize_t)len);
		if (r == -1)
			ck_assert_ptr_nonnull(cause);
		if (r > 0) {
			ck_assert_uint_le(rec.len, MUX_PAYLOAD_MAX);
			ck_assert_ptr_eq(rec.payload, buf + r - rec.len);
		}
	}
}
END_TEST

/* Topics: subscribe and unsubscribe a WebSocket, publish on a topic. */
START_TEST(test_topic_commands)
{
	static const char script[] =
	    "subscribe c1 room:7\n"
	    "unsubscribe c1 room:7\r\n"
	    "publish T room:7 5\nhello"
	    "publish B news 3\n\x00\x01\x02"
	    "publish T all 0\n";
	char		 out[1024];
	const char	*cause;

	/* The binary payload holds a NUL: compare it as far as describe
	 * writes it, in every chunking. */
	ck_assert_int_eq(feed((const uint8_t *)script, sizeof(script) - 1,
	    CHUNK_ONE, 1, out, sizeof(out), &cause), 0);
	ck_assert_str_eq(out, "subscribe <c1> room:7 []|"
	    "unsubscribe <c1> room:7 []|"
	    "publish <> T. room:7 [hello]|"
	    "publish <> B. news []|"
	    "publish <> T. all []|");
	check_script("subscribe c1 room:7\nunsubscribe c1 room:7\r\n"
	    "publish T room:7 5\nhello", 67, 0,
	    "subscribe <c1> room:7 []|unsubscribe <c1> room:7 []|"
	    "publish <> T. room:7 [hello]|", NULL);
	/* Word counts and types that make no command. */
	check_bad("subscribe c1\n", "bad command");
	check_bad("subscribe c1 a b\n", "bad command");
	check_bad("unsubscribe c1\n", "bad command");
	check_bad("publish T room 5 6\n", "bad command line");
	check_bad("publish T 5\n", "bad command line");
	check_bad("publish t room 5\n", "bad command");
	check_bad("publish X room 5\n", "bad command");
	check_bad("publish T room 1048577\n", "bad command line");
}
END_TEST

Suite *
make_muxproto_suite(void)
{
	Suite	*s = suite_create("muxproto");
	TCase	*core = tcase_create("Core");
	TCase	*limits = tcase_create("Limits");

	tcase_add_test(core, test_commands);
	tcase_add_test(core, test_crlf_spaces_zeros);
	tcase_add_test(core, test_binary_payload);
	tcase_add_test(core, test_incomplete);
	tcase_add_test(core, test_error_after_records);
	tcase_add_test(core, test_topic_commands);
	suite_add_tcase(s, core);

	tcase_add_test(limits, test_bad_lines);
	tcase_add_test(limits, test_bad_commands);
	tcase_add_test(limits, test_nul);
	tcase_add_test(limits, test_line_length);
	tcase_add_test(limits, test_payload_max);
	tcase_add_test(limits, test_id_length);
	tcase_add_test(limits, test_random_bytes);
	suite_add_tcase(s, limits);
	return s;
}
