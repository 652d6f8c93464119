/* check_admin.c - the admin command table, line parser, JSON strings and base64. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <event2/buffer.h>

#include "admin/cmd.h"
#include "check_suites.h"

/*
 * Parses len bytes of line and returns the code; the request goes to
 * *req, the cause (if any) into err.
 */
static int
parse_n(const char *line, size_t len, struct admin_req *req, char *err,
    size_t errlen)
{
	char	*cause = NULL;
	int	 rc;

	rc = admin_parse(line, len, req, &cause);
	ck_assert((rc == 0) == (cause == NULL));
	snprintf(err, errlen, "%s", cause != NULL ? cause : "");
	free(cause);
	return rc;
}

/* Parses a line and returns the code; see parse_n. */
static int
parse(const char *line, struct admin_req *req, char *err, size_t errlen)
{
	return parse_n(line, strlen(line), req, err, errlen);
}

/* The JSON string admin_json_string makes of s[0..len). */
static char *
json_of(const char *s, size_t len)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 n;
	char		*out;

	admin_json_string(b, s, len);
	n = evbuffer_get_length(b);
	out = calloc(1, n + 1);
	evbuffer_remove(b, out, n);
	evbuffer_free(b);
	return out;
}

START_TEST(test_table_unique_and_lookup)
{
	size_t	 i, j, n = admin_cmd_count();
	int	 idx;

	ck_assert_uint_ge(n, 22);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(admin_cmd_name(i));
		ck_assert_ptr_nonnull(admin_cmd_usage(i));
		ck_assert_ptr_nonnull(admin_cmd_help(i));
		ck_assert_uint_gt(strlen(admin_cmd_help(i)), 0);
		/* Every exact name finds itself. */
		idx = admin_cmd_lookup(admin_cmd_name(i),
		    strlen(admin_cmd_name(i)));
		ck_assert_int_eq(idx, (int)i);
		for (j = i + 1; j < n; j++)
			ck_assert_str_ne(admin_cmd_name(i), admin_cmd_name(j));
	}
	ck_assert_ptr_null(admin_cmd_name(n));
	ck_assert(!admin_cmd_json(n));
}
END_TEST

START_TEST(test_lookup_prefixes)
{
	int	 i;

	i = admin_cmd_lookup("disc", 4);
	ck_assert_int_ge(i, 0);
	ck_assert_str_eq(admin_cmd_name((size_t)i), "disconnect");
	i = admin_cmd_lookup("SHUT", 4);
	ck_assert_int_ge(i, 0);
	ck_assert_str_eq(admin_cmd_name((size_t)i), "shutdown");
	/* An exact name wins over longer names that begin with it. */
	i = admin_cmd_lookup("send", 4);
	ck_assert_str_eq(admin_cmd_name((size_t)i), "send");
	i = admin_cmd_lookup("connection", 10);
	ck_assert_str_eq(admin_cmd_name((size_t)i), "connection");
	i = admin_cmd_lookup("connections", 11);
	ck_assert_str_eq(admin_cmd_name((size_t)i), "connections");
	ck_assert_int_eq(admin_cmd_lookup("s", 1), -2);
	ck_assert_int_eq(admin_cmd_lookup("st", 2), -2);
	ck_assert_int_eq(admin_cmd_lookup("sta", 3), -2);
	ck_assert_int_eq(admin_cmd_lookup("conn", 4), -2);
	ck_assert_int_eq(admin_cmd_lookup("sendt", 5),
	    admin_cmd_lookup("sendtext", 8));
	ck_assert_int_eq(admin_cmd_lookup("frobnicate", 10), -1);
	ck_assert_int_eq(admin_cmd_lookup("", 0), -1);
	ck_assert_int_eq(admin_cmd_lookup("helpx", 5), -1);
}
END_TEST

START_TEST(test_parse_args)
{
	static struct admin_req	 req;
	char			 err[512];

	ck_assert_int_eq(parse("disconnect 12 4000 going  away\r\n", &req, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(admin_cmd_name((size_t)req.cmd), "disconnect");
	ck_assert_int_eq(req.argc, 3);
	ck_assert_str_eq(req.argv[0], "12");
	ck_assert_str_eq(req.argv[1], "4000");
	/* The rest of the line, inner spaces kept. */
	ck_assert_str_eq(req.argv[2], "going  away");

	ck_assert_int_eq(parse("  sendt\t7   two  spaces \n", &req, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(admin_cmd_name((size_t)req.cmd), "sendtext");
	ck_assert_int_eq(req.argc, 2);
	ck_assert_str_eq(req.argv[0], "7");
	ck_assert_str_eq(req.argv[1], "  two  spaces ");
	ck_assert_str_eq(req.tail[0], "7   two  spaces ");

	ck_assert_int_eq(parse("broadcast hello world", &req, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(req.argc, 2);
	ck_assert_str_eq(req.argv[0], "hello");
	ck_assert_str_eq(req.argv[1], "world");
	ck_assert_str_eq(req.tail[0], "hello world");

	ck_assert_int_eq(parse("connection 5 json", &req, err, sizeof(err)),
	    0);
	ck_assert(req.json);
	ck_assert_int_eq(req.argc, 1);
	ck_assert_str_eq(req.argv[0], "5");
	ck_assert_int_eq(parse("connections", &req, err, sizeof(err)), 0);
	ck_assert(!req.json);
	ck_assert_int_eq(req.argc, 0);
	ck_assert_int_eq(parse("config LocalPort = 8080", &req, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(req.argc, 1);
	ck_assert_str_eq(req.argv[0], "LocalPort = 8080");
}
END_TEST

START_TEST(test_parse_errors)
{
	static struct admin_req	 req;
	char			 err[512];

	ck_assert_int_eq(parse("frob 1", &req, err, sizeof(err)),
	    WSD_ERR_UNKNOWN);
	ck_assert_ptr_nonnull(strstr(err, "unknown command \"frob\""));
	ck_assert_ptr_nonnull(strstr(err, "watch"));
	ck_assert_int_eq(parse("st", &req, err, sizeof(err)),
	    WSD_ERR_AMBIGUOUS);
	ck_assert_str_eq(err, "ambiguous command \"st\"; it could be: "
	    "status, stats, start, stop");
	ck_assert_int_eq(parse("", &req, err, sizeof(err)), WSD_ERR_UNKNOWN);
	ck_assert_int_eq(parse(" \t\n", &req, err, sizeof(err)),
	    WSD_ERR_UNKNOWN);
	ck_assert_int_eq(parse("connection", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	ck_assert_str_eq(err, "usage: connection ID [json]");
	ck_assert_int_eq(parse("connection json", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	ck_assert_int_eq(parse("status now", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	ck_assert_int_eq(parse("ping 1 2", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	ck_assert_int_eq(parse("status json json", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	ck_assert_int_eq(parse("sendtext 5", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	ck_assert_int_eq(parse("sendtext 5 a\rb", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	ck_assert_int_eq(parse_n("help\0x", 6, &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
}
END_TEST

START_TEST(test_parse_line_cap)
{
	static struct admin_req	 req;
	static char		 line[ADMIN_LINE_MAX + 2];
	char			 err[512];
	size_t			 n;

	/* Exactly ADMIN_LINE_MAX bytes with the LF: accepted. */
	memset(line, 'x', sizeof(line));
	memcpy(line, "sendtext 1 ", 11);
	n = ADMIN_LINE_MAX;
	line[n - 1] = '\n';
	ck_assert_int_eq(parse_n(line, n, &req, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(req.argv[1]), ADMIN_LINE_MAX - 12);
	/* One more byte: too long. */
	line[n - 1] = 'x';
	line[n] = '\n';
	ck_assert_int_eq(parse_n(line, n + 1, &req, err, sizeof(err)),
	    WSD_ERR_LINE);
}
END_TEST

START_TEST(test_json_string)
{
	char	*s;

	s = json_of("plain", 5);
	ck_assert_str_eq(s, "\"plain\"");
	free(s);
	s = json_of("q\"b\\n\nr\rt\t", 10);
	ck_assert_str_eq(s, "\"q\\\"b\\\\n\\nr\\rt\\t\"");
	free(s);
	s = json_of("\x01\x1f\x7f", 3);
	ck_assert_str_eq(s, "\"\\u0001\\u001f\\u007f\"");
	free(s);
	s = json_of("a\0b", 3);
	ck_assert_str_eq(s, "\"a\\u0000b\"");
	free(s);
	/* Valid UTF-8 is kept: é, €, U+1F600. */
	s = json_of("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
	ck_assert_str_eq(s, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
	free(s);
	/* Invalid: stray continuation, overlong, surrogate, truncated. */
	s = json_of("\x80", 1);
	ck_assert_str_eq(s, "\"\\u0080\"");
	free(s);
	s = json_of("\xc0\xaf", 2);
	ck_assert_str_eq(s, "\"\\u00c0\\u00af\"");
	free(s);
	s = json_of("\xed\xa0\x80", 3);
	ck_assert_str_eq(s, "\"\\u00ed\\u00a0\\u0080\"");
	free(s);
	s = json_of("\xe2\x82", 2);
	ck_assert_str_eq(s, "\"\\u00e2\\u0082\"");
	free(s);
	s = json_of("\xf4\x90\x80\x80", 4);
	ck_assert_str_eq(s, "\"\\u00f4\\u0090\\u0080\\u0080\"");
	free(s);
	/* Valid but not printable: C1, separators, bidi controls. */
	s = json_of("a\xc2\x9b" "b\xc2\x80\xe2\x80\xa8\xe2\x80\xae", 12);
	ck_assert_str_eq(s, "\"a\\u009bb\\u0080\\u2028\\u202e\"");
	free(s);
	s = json_of("\xc2\xa0", 2);
	ck_assert_str_eq(s, "\"\xc2\xa0\"");
	free(s);
	s = json_of("", 0);
	ck_assert_str_eq(s, "\"\"");
	free(s);
}
END_TEST

START_TEST(test_base64)
{
	uint8_t	 out[64];

	ck_assert_int_eq(admin_base64_decode("", 0, out, sizeof(out)), 0);
	ck_assert_int_eq(admin_base64_decode("Zg==", 4, out, sizeof(out)), 1);
	ck_assert_int_eq(out[0], 'f');
	ck_assert_int_eq(admin_base64_decode("Zm8=", 4, out, sizeof(out)), 2);
	ck_assert_int_eq(memcmp(out, "fo", 2), 0);
	ck_assert_int_eq(admin_base64_decode("Zm9v", 4, out, sizeof(out)), 3);
	ck_assert_int_eq(memcmp(out, "foo", 3), 0);
	/* Unpadded. */
	ck_assert_int_eq(admin_base64_decode("Zm9vYg", 6, out, sizeof(out)),
	    4);
	ck_assert_int_eq(memcmp(out, "foob", 4), 0);
	ck_assert_int_eq(admin_base64_decode("AP8A/w+/", 8, out, sizeof(out)),
	    6);
	ck_assert_int_eq(memcmp(out, "\x00\xff\x00\xff\x0f\xbf", 6), 0);
	/* Errors: bad digit, whitespace, lone digit, bad padding, trailing bits. */
	ck_assert_int_eq(admin_base64_decode("Zm9*", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(admin_base64_decode("Zm 9", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(admin_base64_decode("Z", 1, out, sizeof(out)), -1);
	ck_assert_int_eq(admin_base64_decode("Zg=", 3, out, sizeof(out)), -1);
	ck_assert_int_eq(admin_base64_decode("Zh==", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(admin_base64_decode("=", 1, out, sizeof(out)), -1);
	/* Output too small. */
	ck_assert_int_eq(admin_base64_decode("Zm9v", 4, out, 2), -1);
}
END_TEST

START_TEST(test_cert_command)
{
	static struct admin_req	 req;
	char			 err[512];
	int			 i;

	i = admin_cmd_lookup("cert", 4);
	ck_assert_int_ge(i, 0);
	ck_assert_str_eq(admin_cmd_name((size_t)i), "cert");
	ck_assert_str_eq(admin_cmd_usage((size_t)i), "[json]");
	ck_assert(admin_cmd_json((size_t)i));
	/* It only reads: no uid log line. */
	ck_assert(!admin_cmd_changes((size_t)i));
	/* It sits right after "connection" in help and the man pages. */
	ck_assert_str_eq(admin_cmd_name((size_t)i - 1), "connection");
	ck_assert_int_eq(admin_cmd_lookup("ce", 2), i);
	ck_assert_int_eq(admin_cmd_lookup("c", 1), -2);
	ck_assert_int_eq(parse("c", &req, err, sizeof(err)),
	    WSD_ERR_AMBIGUOUS);
	ck_assert_str_eq(err, "ambiguous command \"c\"; it could be: "
	    "connections, connection, cert, config");

	ck_assert_int_eq(parse("cert", &req, err, sizeof(err)), 0);
	ck_assert_int_eq(req.cmd, i);
	ck_assert_int_eq(req.argc, 0);
	ck_assert(!req.json);
	ck_assert_int_eq(parse("CERT json\r\n", &req, err, sizeof(err)), 0);
	ck_assert_int_eq(req.cmd, i);
	ck_assert_int_eq(req.argc, 0);
	ck_assert(req.json);
	ck_assert_int_eq(parse("cert 1", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	ck_assert_str_eq(err, "usage: cert [json]");
	ck_assert_int_eq(parse("cert json json", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	/* Its error code is one of our own, apart from the others. */
	ck_assert_int_eq(WSD_ERR_NOTLS, 412);
}
END_TEST

START_TEST(test_table_targets)
{
	size_t			 i, n = admin_cmd_count();
	const char		*usage;
	enum admin_target_kind	 t;
	enum admin_relay	 rl;

	for (i = 0; i < n; i++) {
		usage = admin_cmd_usage(i);
		t = admin_cmd_target(i);
		rl = admin_cmd_relay(i);
		/* A command names a ConnectionId exactly when its first
		 * argument is ID, and it then goes to the ID's owner. */
		ck_assert_msg((t == ADMIN_TARGET_CONN) ==
		    (strncmp(usage, "ID", 2) == 0), "%s", admin_cmd_name(i));
		/* ...or may, as config does ("[ID] ..."). */
		ck_assert_msg((t == ADMIN_TARGET_CONN_OPT) ==
		    (strncmp(usage, "[ID]", 4) == 0), "%s", admin_cmd_name(i));
		/* Raw data follows only a command that names its length. */
		if (admin_cmd_data_arg(i) > 0)
			ck_assert_msg(strstr(usage, "LEN") != NULL, "%s",
			    admin_cmd_name(i));
		ck_assert_msg((t == ADMIN_TARGET_CONN) ==
		    (rl == ADMIN_RELAY_OWNER), "%s", admin_cmd_name(i));
		/* Its log line (if it changes state) names the connection. */
		if (t == ADMIN_TARGET_CONN && admin_cmd_changes(i))
			ck_assert_msg(admin_cmd_log_args(i) >= 1, "%s",
			    admin_cmd_name(i));
		/* A route target is optional and reaches every worker. */
		if (t == ADMIN_TARGET_ROUTE) {
			ck_assert_str_eq(usage, "[ROUTE|*] TEXT");
			ck_assert(rl != ADMIN_RELAY_SELF);
		}
		ck_assert_int_le(admin_cmd_log_args(i), ADMIN_MAX_ARGS);
	}
	ck_assert_int_eq(admin_cmd_target(n), ADMIN_TARGET_NONE);
	ck_assert_int_eq(admin_cmd_relay(n), ADMIN_RELAY_SELF);
	ck_assert_int_eq(admin_cmd_log_args(n), 0);
	ck_assert_uint_eq(n, ADMIN_CMD_COUNT);
	ck_assert_str_eq(admin_cmd_name(ADMIN_CMD_HELP), "help");
	ck_assert_str_eq(admin_cmd_name(ADMIN_CMD_WATCH), "watch");
}
END_TEST

/* The relay and the state change of one line. */
static void
check_req(const char *line, enum admin_relay rl, bool changes)
{
	static struct admin_req	 req;
	char			 err[512];

	ck_assert_msg(parse(line, &req, err, sizeof(err)) == 0, "%s: %s",
	    line, err);
	ck_assert_msg(admin_req_relay(&req) == rl, "%s", line);
	ck_assert_msg(admin_req_changes(&req) == changes, "%s", line);
}

START_TEST(test_req_relay)
{
	check_req("help", ADMIN_RELAY_SELF, false);
	check_req("status json", ADMIN_RELAY_SELF, false);
	check_req("stats", ADMIN_RELAY_SELF, false);
	check_req("cert", ADMIN_RELAY_SELF, false);
	check_req("connections", ADMIN_RELAY_ROWS, false);
	check_req("connections json", ADMIN_RELAY_ROWS, false);
	check_req("connection 7", ADMIN_RELAY_OWNER, false);
	check_req("ping 7", ADMIN_RELAY_OWNER, false);
	check_req("disconnect 7 4000 bye", ADMIN_RELAY_OWNER, true);
	check_req("sendtext 7 hi", ADMIN_RELAY_OWNER, true);
	check_req("broadcast hi", ADMIN_RELAY_SUM, true);
	check_req("broadcast chat hi", ADMIN_RELAY_SUM, true);
	check_req("stop", ADMIN_RELAY_SUM, true);
	check_req("drain 5", ADMIN_RELAY_SUM, true);
	check_req("start", ADMIN_RELAY_FIRST, true);
	/* Reading a setting is the master's; changing one is everyone's. */
	check_req("config", ADMIN_RELAY_SELF, false);
	check_req("config LocalPort", ADMIN_RELAY_SELF, false);
	check_req("config DefaultTimeout = 5", ADMIN_RELAY_FIRST, true);
	check_req("reopen", ADMIN_RELAY_SELF, true);
	check_req("reload", ADMIN_RELAY_SELF, true);
	check_req("shutdown", ADMIN_RELAY_SELF, true);
	check_req("watch", ADMIN_RELAY_STREAM, false);
	/* A connection's settings are its worker's, read or changed. */
	check_req("config 7", ADMIN_RELAY_OWNER, false);
	check_req("config 7 PingInterval", ADMIN_RELAY_OWNER, false);
	check_req("config 7 PingInterval = 5", ADMIN_RELAY_OWNER, true);
	check_req("config 7x=1", ADMIN_RELAY_FIRST, true);
	check_req("sendbytes 7 100", ADMIN_RELAY_OWNER, true);
	check_req("sendbytes 7 100 text", ADMIN_RELAY_OWNER, true);
}
END_TEST

/* A ConnectionId at the start of an argument; sendbytes's length. */
START_TEST(test_connid_and_data)
{
	static struct admin_req	 req;
	char			 err[512];
	int			 i;

	ck_assert_uint_eq(admin_connid_len("12"), 2);
	ck_assert_uint_eq(admin_connid_len("12 Timeout=3"), 2);
	ck_assert_uint_eq(admin_connid_len("12\tx"), 2);
	ck_assert_uint_eq(admin_connid_len("12x"), 0);
	ck_assert_uint_eq(admin_connid_len("Timeout"), 0);
	ck_assert_uint_eq(admin_connid_len(""), 0);
	ck_assert_int_eq(parse("sendbytes 3 1048576 text", &req, err,
	    sizeof(err)), 0);
	i = admin_cmd_data_arg((size_t)req.cmd);
	ck_assert_int_eq(i, 2);
	ck_assert_str_eq(req.argv[i - 1], "1048576");
	ck_assert_int_eq(admin_cmd_data_arg(ADMIN_CMD_SEND), 0);
	ck_assert_int_eq(admin_cmd_data_arg(admin_cmd_count()), 0);
	ck_assert_int_eq(parse("sendbytes 3", &req, err, sizeof(err)),
	    WSD_ERR_USAGE);
	ck_assert_int_eq(parse("config 3 MaxLineLength=80", &req, err,
	    sizeof(err)), 0);
	ck_assert_int_eq(req.argc, 1);
	ck_assert_str_eq(req.tail[0], "3 MaxLineLength=80");
}
END_TEST

Suite *
make_admin_suite(void)
{
	Suite	*s = suite_create("admin");
	TCase	*core = tcase_create("Core");
	TCase	*limits = tcase_create("Limits");

	tcase_add_test(core, test_table_unique_and_lookup);
	tcase_add_test(core, test_lookup_prefixes);
	tcase_add_test(core, test_parse_args);
	tcase_add_test(core, test_parse_errors);
	tcase_add_test(core, test_json_string);
	tcase_add_test(core, test_base64);
	tcase_add_test(core, test_cert_command);
	tcase_add_test(core, test_table_targets);
	tcase_add_test(core, test_req_relay);
	tcase_add_test(core, test_connid_and_data);
	tcase_add_test(limits, test_parse_line_cap);
	suite_add_tcase(s, core);
	suite_add_tcase(s, limits);
	return s;
}
