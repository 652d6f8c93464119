/* check_fleet.c - tests of the fleet's formats (fleet-proto.c) and of its configuration ([cluster], tcp: backends, Subscribe). */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "conf/config.h"
#include "core/fleet-proto.h"

START_TEST(test_topic_names)
{
	char	long_ok[FLEET_TOPIC_MAX + 2];

	ck_assert(fleet_topic_valid("room:7", 6));
	ck_assert(fleet_topic_valid("a", 1));
	ck_assert(fleet_topic_valid("salle-\xc3\xa9t\xc3\xa9", 11));
	ck_assert(!fleet_topic_valid("", 0));
	ck_assert(!fleet_topic_valid("a b", 3));
	ck_assert(!fleet_topic_valid("a\tb", 3));
	ck_assert(!fleet_topic_valid("a\nb", 3));
	ck_assert(!fleet_topic_valid("a\x7f", 2));
	ck_assert(!fleet_topic_valid("a\0b", 3));
	ck_assert(!fleet_topic_valid("\xc3(", 2));	/* not UTF-8 */
	memset(long_ok, 'x', sizeof(long_ok));
	ck_assert(fleet_topic_valid(long_ok, FLEET_TOPIC_MAX));
	ck_assert(!fleet_topic_valid(long_ok, FLEET_TOPIC_MAX + 1));
}
END_TEST

START_TEST(test_node_names_and_ids)
{
	char		node[FLEET_NODE_MAX + 1];
	uint64_t	num;

	ck_assert(fleet_node_valid("web-1.eu_a", 10));
	ck_assert(!fleet_node_valid("web 1", 5));
	ck_assert(!fleet_node_valid("web:1", 5));
	ck_assert(!fleet_node_valid("", 0));
	ck_assert(!fleet_node_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 33));

	ck_assert_int_eq(fleet_id_split("42", node, &num), 0);
	ck_assert_str_eq(node, "");
	ck_assert_uint_eq(num, 42);
	ck_assert_int_eq(fleet_id_split("web-1:18446744073709551615", node,
	    &num), 0);
	ck_assert_str_eq(node, "web-1");
	ck_assert_uint_eq(num, UINT64_MAX);
	ck_assert_int_eq(fleet_id_split("web-1:18446744073709551616", node,
	    &num), -1);
	ck_assert_int_eq(fleet_id_split("web 1:4", node, &num), -1);
	ck_assert_int_eq(fleet_id_split(":4", node, &num), -1);
	ck_assert_int_eq(fleet_id_split("web1:", node, &num), -1);
	ck_assert_int_eq(fleet_id_split("web1:4x", node, &num), -1);
	ck_assert_int_eq(fleet_id_split("", node, &num), -1);
	ck_assert_int_eq(fleet_id_split("a:b:4", node, &num), -1);
}
END_TEST

START_TEST(test_payload)
{
	enum ws_msg_type	 type;
	const char		*cause;
	uint8_t			 head[2];
	size_t			 off;

	/* Plain text needs no envelope; NUL-led text and binary do. */
	ck_assert_uint_eq(fleet_payload_head(WS_MSG_TEXT,
	    (const uint8_t *)"hi", 2, head), 0);
	ck_assert_uint_eq(fleet_payload_head(WS_MSG_TEXT,
	    (const uint8_t *)"", 0, head), 0);
	ck_assert_uint_eq(fleet_payload_head(WS_MSG_TEXT,
	    (const uint8_t *)"\0x", 2, head), 2);
	ck_assert(head[0] == 0 && head[1] == 'T');
	ck_assert_uint_eq(fleet_payload_head(WS_MSG_BINARY,
	    (const uint8_t *)"hi", 2, head), 2);
	ck_assert(head[0] == 0 && head[1] == 'B');

	ck_assert_int_eq(fleet_payload_parse((const uint8_t *)"hello", 5,
	    &type, &off, &cause), 0);
	ck_assert(type == WS_MSG_TEXT && off == 0);
	ck_assert_int_eq(fleet_payload_parse((const uint8_t *)"", 0, &type,
	    &off, &cause), 0);
	ck_assert(type == WS_MSG_TEXT && off == 0);
	ck_assert_int_eq(fleet_payload_parse((const uint8_t *)"\0B\xff\x00",
	    4, &type, &off, &cause), 0);
	ck_assert(type == WS_MSG_BINARY && off == 2);
	ck_assert_int_eq(fleet_payload_parse((const uint8_t *)"\0T\0x", 4,
	    &type, &off, &cause), 0);
	ck_assert(type == WS_MSG_TEXT && off == 2);
	ck_assert_int_eq(fleet_payload_parse((const uint8_t *)"\0", 1, &type,
	    &off, &cause), -1);
	ck_assert_int_eq(fleet_payload_parse((const uint8_t *)"\0X", 2, &type,
	    &off, &cause), -1);
	ck_assert_int_eq(fleet_payload_parse((const uint8_t *)"\xc3(", 2,
	    &type, &off, &cause), -1);
	ck_assert_str_eq(cause, "text message is not UTF-8");
	ck_assert_int_eq(fleet_payload_parse((const uint8_t *)"\0T\xc3(", 4,
	    &type, &off, &cause), -1);
}
END_TEST

/* Writes a frame into buf; returns its length. */
static size_t
frame(uint8_t *buf, enum fleet_frame_kind kind, enum ws_msg_type type,
    const char *topic, const char *data, size_t len)
{
	size_t	n;

	n = fleet_frame_head(buf, kind, type, topic, strlen(topic), len);
	memcpy(buf + n, data, len);
	return n + len;
}

START_TEST(test_frames)
{
	struct fleet_frame	 f;
	uint8_t			 buf[512];
	const char		*cause;
	size_t			 n, i;

	n = frame(buf, FLEET_FRAME_PUB, WS_MSG_BINARY, "room:7", "a\0b", 3);
	ck_assert_uint_eq(n, FLEET_FRAME_HEAD + 6 + 3);
	/* Every prefix is "not yet"; the whole is one frame. */
	for (i = 0; i < n; i++)
		ck_assert_int_eq(fleet_frame_parse(buf, i, &f, &cause), 0);
	ck_assert_int_eq(fleet_frame_parse(buf, n, &f, &cause), (ssize_t)n);
	ck_assert(f.kind == FLEET_FRAME_PUB && f.type == WS_MSG_BINARY);
	ck_assert_uint_eq(f.tlen, 6);
	ck_assert(memcmp(f.topic, "room:7", 6) == 0);
	ck_assert_uint_eq(f.len, 3);
	ck_assert(memcmp(f.data, "a\0b", 3) == 0);

	n = frame(buf, FLEET_FRAME_SUB, WS_MSG_TEXT, "x", "", 0);
	ck_assert_int_eq(fleet_frame_parse(buf, n + 5, &f, &cause), (ssize_t)n);
	ck_assert(f.kind == FLEET_FRAME_SUB && f.len == 0);

	/* A subscription with a message, an unknown kind, a bad topic. */
	n = frame(buf, FLEET_FRAME_SUB, WS_MSG_TEXT, "x", "y", 1);
	ck_assert_int_eq(fleet_frame_parse(buf, n, &f, &cause), -1);
	n = frame(buf, FLEET_FRAME_MSG, WS_MSG_TEXT, "x", "y", 1);
	buf[4] = 'Z';
	ck_assert_int_eq(fleet_frame_parse(buf, n, &f, &cause), -1);
	ck_assert_str_eq(cause, "unknown frame kind");
	n = frame(buf, FLEET_FRAME_MSG, WS_MSG_TEXT, "a b", "y", 1);
	ck_assert_int_eq(fleet_frame_parse(buf, n, &f, &cause), -1);
	ck_assert_str_eq(cause, "bad topic");
	n = frame(buf, FLEET_FRAME_MSG, WS_MSG_TEXT, "x", "y", 1);
	buf[5] = 7;
	ck_assert_int_eq(fleet_frame_parse(buf, n, &f, &cause), -1);
	/* A length past FLEET_MSG_MAX is refused from its head alone. */
	n = frame(buf, FLEET_FRAME_MSG, WS_MSG_TEXT, "x", "y", 1);
	buf[0] = 0x7f;
	ck_assert_int_eq(fleet_frame_parse(buf, FLEET_FRAME_HEAD, &f, &cause),
	    -1);
	ck_assert_str_eq(cause, "bad frame length");
	/* A length shorter than the topic it claims. */
	n = frame(buf, FLEET_FRAME_MSG, WS_MSG_TEXT, "xyz", "", 0);
	buf[3] = 4;
	ck_assert_int_eq(fleet_frame_parse(buf, n, &f, &cause), -1);
}
END_TEST

START_TEST(test_node_messages)
{
	struct fleet_nodemsg	 m;
	static const char	 q[] = "Q 17 web-1 sendtext web-2:4 hi there";
	static const char	 a[] = "A 17 OK queued\n\n";

	ck_assert_int_eq(fleet_nodemsg_parse((const uint8_t *)q, strlen(q),
	    &m), 0);
	ck_assert_int_eq(m.kind, 'Q');
	ck_assert_uint_eq(m.id, 17);
	ck_assert_str_eq(m.from, "web-1");
	ck_assert_uint_eq(m.len, strlen("sendtext web-2:4 hi there"));
	ck_assert(memcmp(m.text, "sendtext web-2:4 hi there", m.len) == 0);
	ck_assert_int_eq(fleet_nodemsg_parse((const uint8_t *)a, strlen(a),
	    &m), 0);
	ck_assert_int_eq(m.kind, 'A');
	ck_assert_uint_eq(m.len, 11);
	/* Broken ones. */
	ck_assert_int_eq(fleet_nodemsg_parse((const uint8_t *)"Q 1 web-1 ",
	    10, &m), -1);
	ck_assert_int_eq(fleet_nodemsg_parse((const uint8_t *)"Q x web-1 a",
	    11, &m), -1);
	ck_assert_int_eq(fleet_nodemsg_parse((const uint8_t *)"Q 1 w:1 a",
	    9, &m), -1);
	ck_assert_int_eq(fleet_nodemsg_parse((const uint8_t *)"Q 1 w a\nb",
	    9, &m), -1);
	ck_assert_int_eq(fleet_nodemsg_parse((const uint8_t *)"Z 1 w a", 7,
	    &m), -1);
	ck_assert_int_eq(fleet_nodemsg_parse((const uint8_t *)"A 1", 3, &m),
	    -1);
}
END_TEST

/* ---------------------------------------------------------------- config */

static char	fl_ini[64];
static char	fl_secret[64];

static void
fl_teardown(void)
{
	if (fl_ini[0] != '\0')
		unlink(fl_ini);
	if (fl_secret[0] != '\0')
		unlink(fl_secret);
	fl_ini[0] = fl_secret[0] = '\0';
}

/* Loads body from a temporary file; returns the config or NULL (errors). */
static struct config *
fl_load(const char *body, char **errors)
{
	FILE	*f;
	int	 fd;

	if (fl_ini[0] != '\0')
		unlink(fl_ini);
	strcpy(fl_ini, "/tmp/check_fleet_XXXXXX");
	fd = mkstemp(fl_ini);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(body, f);
	fclose(f);
	*errors = NULL;
	return config_load(fl_ini, errors);
}

#define ROUTE	"[route:e]\nPath = /e\nBackend = echo\n"

START_TEST(test_cluster_keys)
{
	struct config	*cfg;
	char		*errors, body[512], *pw;
	FILE		*f;
	int		 fd;

	cfg = fl_load(ROUTE, &errors);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->cluster_redis, "");
	ck_assert_int_eq(cfg->max_subscriptions, 64);
	ck_assert_int_eq(cfg->cluster_node_ttl, 10000);
	config_free(cfg);

	strcpy(fl_secret, "/tmp/check_fleet_pw_XXXXXX");
	fd = mkstemp(fl_secret);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	fputs("s3cret pass\nignored\n", f);
	fclose(f);
	snprintf(body, sizeof(body), "[cluster]\nRedis = redis://127.0.0.1:"
	    "6390/2\nNodeName = web-1\nRedisPasswordFile = %s\nNodeTTL = 3000"
	    "\nChannelPrefix = app1:\n" ROUTE, fl_secret);
	cfg = fl_load(body, &errors);
	ck_assert_msg(cfg != NULL, "%s", errors);
	ck_assert_str_eq(cfg->cluster_node, "web-1");
	/* The password is read when asked for, its first line alone. */
	ck_assert_int_eq(config_read_password(cfg, &pw, &errors), 0);
	ck_assert_str_eq(pw, "s3cret pass");
	free(pw);
	ck_assert_str_eq(cfg->cluster_prefix, "app1:");
	/* [cluster] keys change with a reload, never with config set. */
	ck_assert_int_eq(config_set(cfg, "NodeTTL", "5000", false, NULL),
	    WSD_ERR_FIXED);
	config_free(cfg);

	/* Redis set, NodeName empty: the host name stands in. */
	cfg = fl_load("[cluster]\nRedis = unix:/run/redis.sock\n" ROUTE,
	    &errors);
	ck_assert_msg(cfg != NULL, "%s", errors);
	ck_assert_int_eq(config_read_password(cfg, &pw, &errors), 0);
	ck_assert_ptr_null(pw);
	ck_assert(fleet_node_valid(cfg->cluster_node,
	    strlen(cfg->cluster_node)));
	config_free(cfg);

	/* Every mistake at its line. */
	cfg = fl_load("[cluster]\nRedis = http://x\nNodeName = a:b\n"
	    "ChannelPrefix = a b\nRedisPasswordFile = /nonexistent/pw\n"
	    "NodeTTL = 10\n" ROUTE, &errors);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(errors, ":2: Redis: use redis://"));
	ck_assert_ptr_nonnull(strstr(errors, ":3: NodeName:"));
	ck_assert_ptr_nonnull(strstr(errors, ":4: ChannelPrefix:"));
	ck_assert_ptr_nonnull(strstr(errors, ":6: NodeTTL:"));
	free(errors);
	/* An unreadable password file is an error when it is read. */
	cfg = fl_load("[cluster]\nRedis = redis://h\nNodeName = a\n"
	    "RedisPasswordFile = /nonexistent/pw\n" ROUTE, &errors);
	ck_assert_msg(cfg != NULL, "%s", errors);
	ck_assert_int_eq(config_read_password(cfg, &pw, &errors), -1);
	ck_assert_str_eq(errors, "RedisPasswordFile: /nonexistent/pw: No such "
	    "file or directory");
	free(errors);
	config_free(cfg);
}
END_TEST

START_TEST(test_redis_addresses)
{
	struct config_redis	r;

	ck_assert_int_eq(config_parse_redis("redis://h", &r), 0);
	ck_assert_str_eq(r.host, "h");
	ck_assert_int_eq(r.port, 6379);
	ck_assert_int_eq(r.db, 0);
	ck_assert_int_eq(config_parse_redis("redis://10.0.0.1:7000/3", &r), 0);
	ck_assert_str_eq(r.host, "10.0.0.1");
	ck_assert_int_eq(r.port, 7000);
	ck_assert_int_eq(r.db, 3);
	ck_assert_int_eq(config_parse_redis("redis://[::1]:7000/", &r), 0);
	ck_assert_str_eq(r.host, "::1");
	ck_assert_int_eq(config_parse_redis("unix:/tmp/r.sock", &r), 0);
	ck_assert_str_eq(r.path, "/tmp/r.sock");
	ck_assert_int_eq(config_parse_redis("unix:relative", &r), -1);
	ck_assert_int_eq(config_parse_redis("redis://", &r), -1);
	ck_assert_int_eq(config_parse_redis("redis://h:0", &r), -1);
	ck_assert_int_eq(config_parse_redis("redis://h:70000", &r), -1);
	ck_assert_int_eq(config_parse_redis("redis://u:p@h", &r), -1);
	ck_assert_int_eq(config_parse_redis("redis://h/x", &r), -1);
	ck_assert_int_eq(config_parse_redis("rediss://h", &r), -1);
}
END_TEST

START_TEST(test_tcp_backends)
{
	struct config		*cfg;
	const struct route	*r;
	char			*errors;

	cfg = fl_load("[route:a]\nPath = /a\nBackend = tcp:127.0.0.1:9000\n"
	    "[route:b]\nPath = /b\nBackend = tcp+mux:[::1]:9001\n"
	    "ConnectTimeout = 500\nTcpKeepAlive = 0\n"
	    "[route:c]\nPath = /c\nBackend = tcp:localhost:9002 mux\n"
	    "Subscribe = room:{PATH_INFO}, all\n", &errors);
	ck_assert_msg(cfg != NULL, "%s", errors);
	r = config_route_for(cfg, "/a");
	ck_assert_int_eq(r->kind, BACKEND_TCP);
	ck_assert(!r->mux);
	ck_assert_str_eq(r->tcp_host, "127.0.0.1");
	ck_assert_int_eq(r->tcp_port, 9000);
	ck_assert_int_eq(r->tcp_addr.ss_family, AF_INET);
	ck_assert_int_eq(r->connect_timeout, 3000);
	ck_assert_int_eq(r->tcp_keepalive, 60);
	r = config_route_for(cfg, "/b");
	ck_assert(r->mux);
	ck_assert_str_eq(r->tcp_host, "::1");
	ck_assert_int_eq(r->tcp_addr.ss_family, AF_INET6);
	ck_assert_int_eq(r->connect_timeout, 500);
	ck_assert_int_eq(r->tcp_keepalive, 0);
	r = config_route_for(cfg, "/c");
	ck_assert(r->mux);
	ck_assert_str_eq(r->subscribe, "room:{PATH_INFO}, all");
	config_free(cfg);

	cfg = fl_load("[route:a]\nPath = /a\nBackend = tcp:127.0.0.1\n"
	    "[route:b]\nPath = /b\nBackend = tcp:h:0\n"
	    "[route:c]\nPath = /c\nBackend = tcp:[::1:80\n"
	    "[route:d]\nPath = /d\nBackend = echo\nSubscribe = a{b\n"
	    "[route:e]\nPath = /e\nBackend = echo\nSubscribe = {a-b}\n"
	    "[route:f]\nPath = /f\nBackend = echo\nBackendUseSSL = true\n",
	    &errors);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(errors, ":3: Backend: tcp: needs "
	    "HOST:PORT"));
	ck_assert_ptr_nonnull(strstr(errors, ":6: Backend: tcp: invalid "
	    "port"));
	ck_assert_ptr_nonnull(strstr(errors, ":9: Backend: tcp: needs "
	    "[ADDRESS]:PORT"));
	ck_assert_ptr_nonnull(strstr(errors, ":13: Subscribe:"));
	ck_assert_ptr_nonnull(strstr(errors, ":17: Subscribe:"));
	ck_assert_ptr_nonnull(strstr(errors, "[route:f]: BackendUseSSL needs "
	    "a tcp: Backend"));
	free(errors);
}
END_TEST

Suite *
make_fleet_suite(void)
{
	Suite	*s = suite_create("fleet");
	TCase	*core = tcase_create("Core");
	TCase	*conf = tcase_create("Config");

	tcase_add_test(core, test_topic_names);
	tcase_add_test(core, test_node_names_and_ids);
	tcase_add_test(core, test_payload);
	tcase_add_test(core, test_frames);
	tcase_add_test(core, test_node_messages);
	tcase_add_checked_fixture(conf, NULL, fl_teardown);
	tcase_add_test(conf, test_cluster_keys);
	tcase_add_test(conf, test_redis_addresses);
	tcase_add_test(conf, test_tcp_backends);
	suite_add_tcase(s, core);
	suite_add_tcase(s, conf);
	return s;
}
