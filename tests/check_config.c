/* check_config.c - wsserverd.ini: defaults, every key, every error, the man page. */
#include <sys/stat.h>
#include <sys/types.h>

#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
/* Plain "config.h" would find autoconf's: automake puts -I. first. */
#include "conf/config.h"
#include "base/log.h"
#include "core/ws-frame.h"

#ifndef TOP_SRCDIR
#error "compile with -DTOP_SRCDIR='\"/path/of/the/source\"'"
#endif

/* A valid route, appended where a test is about something else. */
#define ROUTE_E		"[route:e]\nPath = /e\nBackend = echo\n"

static char	 ini_path[64];
static char	 tmp_dir[64];

/* Removes the files a test made. */
static void
config_teardown(void)
{
	char	 cmd[128];

	if (ini_path[0] != '\0')
		unlink(ini_path);
	if (tmp_dir[0] != '\0') {
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
		ck_assert_int_eq(system(cmd), 0);
	}
	ini_path[0] = tmp_dir[0] = '\0';
}

/* Writes len bytes to path, failing the test on error. */
static void
write_file(const char *path, const char *body, size_t len, mode_t mode)
{
	FILE	*f;

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(body, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* Writes body to a fresh mkstemp file; returns its path. */
static const char *
write_ini(const char *body)
{
	int	 fd;
	size_t	 len = strlen(body);

	if (ini_path[0] != '\0')
		unlink(ini_path);
	strcpy(ini_path, "/tmp/check_config_XXXXXX");
	fd = mkstemp(ini_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, body, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
	return ini_path;
}

/* Makes a private directory for files that must sit side by side. */
static const char *
make_dir(void)
{
	strcpy(tmp_dir, "/tmp/check_config_d_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
	return tmp_dir;
}

/* Loads body; the load must succeed. */
static struct config *
load_ok(const char *body)
{
	struct config	*cfg;
	char		*errors;

	cfg = config_load(write_ini(body), &errors);
	ck_assert_msg(cfg != NULL, "unexpected errors: %s", errors);
	ck_assert_ptr_null(errors);
	return cfg;
}

/* Returns want with every "@" replaced by the file's path (malloc'd). */
static char *
expand(const char *want, const char *path)
{
	char	*out, *o;
	size_t	 n = 1;
	const char *c;

	for (c = want; *c != '\0'; c++)
		n += *c == '@' ? strlen(path) : 1;
	out = o = malloc(n);
	ck_assert_ptr_nonnull(out);
	for (c = want; *c != '\0'; c++) {
		if (*c == '@') {
			strcpy(o, path);
			o += strlen(path);
		} else
			*o++ = *c;
	}
	*o = '\0';
	return out;
}

/* Loads path; it must fail with exactly want ("@" stands for path). */
static void
expect_errors_at(const char *path, const char *want)
{
	struct config	*cfg;
	char		*errors, *w;

	cfg = config_load(path, &errors);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(errors);
	w = expand(want, path);
	ck_assert_str_eq(errors, w);
	free(w);
	free(errors);
}

/* Writes body and expects exactly want from loading it. */
static void
expect_errors(const char *body, const char *want)
{
	expect_errors_at(write_ini(body), want);
}

START_TEST(test_defaults)
{
	struct config	*cfg;

	cfg = config_defaults();
	ck_assert_str_eq(cfg->local_host, "");
	ck_assert_int_eq(cfg->local_port, 0);
	/* Not the reference's 5: see the key's help. */
	ck_assert_int_eq(cfg->connection_backlog, 511);
	ck_assert_int_eq(cfg->default_timeout, 0);
	ck_assert_int_eq(cfg->max_connections, 1000);
	ck_assert(cfg->tcp_nodelay);	/* on purpose: see TcpNoDelay */
	ck_assert_int_eq(cfg->keepalive_time, 0);
	ck_assert_int_eq(cfg->keepalive_interval, 0);
	ck_assert_int_eq(cfg->in_buffer_size, 0);
	ck_assert_int_eq(cfg->out_buffer_size, 0);
	ck_assert_int_eq(cfg->use_ipv6, 0);
	ck_assert_str_eq(cfg->allowed_clients, "*");
	ck_assert_str_eq(cfg->blocked_clients, "");
	ck_assert(cfg->bind_exclusively);
	ck_assert_int_eq(cfg->shutdown_timeout, 10);
	ck_assert(!cfg->buffer_message);
	ck_assert_int_eq(cfg->disconnect_status_code, 1000);
	ck_assert_str_eq(cfg->disconnect_status_description, "");
	ck_assert_int_eq(cfg->max_frame_size, 131072);
	ck_assert(cfg->wait_for_close_response);
	ck_assert_uint_eq(cfg->max_message_size, 1048576);
	ck_assert_int_eq(cfg->handshake_timeout, 10);
	ck_assert_int_eq(cfg->close_timeout, 5);
	ck_assert_int_eq(cfg->max_header_size, 8192);
	ck_assert_int_eq(cfg->kill_timeout, 5);
	ck_assert_int_eq(cfg->log_level, 1);
	ck_assert(cfg->enable_permessage_deflate);
	ck_assert_int_eq(cfg->deflate_level, 1);
	ck_assert_int_eq(cfg->deflate_mem_level, 8);
	ck_assert_int_eq(cfg->deflate_max_window_bits, 15);
	ck_assert_int_eq(cfg->deflate_min_size, 64);
	ck_assert(!cfg->deflate_no_context_takeover);
	ck_assert_str_eq(cfg->admin_socket, "/run/wsserverd/admin.sock");
	ck_assert_int_eq(cfg->admin_socket_mode, 0660);
	ck_assert_str_eq(cfg->admin_socket_group, "");
	ck_assert_uint_eq(cfg->nroutes, 0);
	ck_assert_ptr_null(cfg->routes);
	config_free(cfg);
	config_free(NULL);
}
END_TEST

/* A file that sets nothing but a route gets the same defaults. */
START_TEST(test_defaults_loaded)
{
	struct config	*cfg;

	cfg = load_ok(ROUTE_E);
	ck_assert_int_eq(cfg->connection_backlog, 511);
	ck_assert_int_eq(cfg->max_frame_size, 131072);
	ck_assert_uint_eq(cfg->max_message_size, 1048576);
	ck_assert(cfg->bind_exclusively);
	ck_assert_str_eq(cfg->allowed_clients, "*");
	ck_assert_str_eq(cfg->file, ini_path);
	ck_assert_uint_eq(cfg->nroutes, 1);
	ck_assert_str_eq(cfg->routes[0].name, "e");
	ck_assert_str_eq(cfg->routes[0].path, "/e");
	ck_assert_str_eq(cfg->routes[0].backend, "echo");
	ck_assert_int_eq(cfg->routes[0].kind, BACKEND_ECHO);
	ck_assert_ptr_null(cfg->routes[0].argv);
	ck_assert_int_eq(cfg->routes[0].format, FORMAT_LINES);
	ck_assert_str_eq(cfg->routes[0].subprotocols, "");
	ck_assert_ptr_nonnull(cfg->routes[0].passenv);
	ck_assert_ptr_null(cfg->routes[0].passenv[0]);
	config_free(cfg);
}
END_TEST

START_TEST(test_every_key)
{
	struct config		*cfg;
	const struct route	*r;

	cfg = load_ok(
	    "[server]\n"
	    "LocalHost = 127.0.0.2\n"
	    "LocalPort = 8081\n"
	    "ConnectionBacklog = 128\n"
	    "DefaultTimeout = 30\n"
	    "MaxConnections = 5000\n"
	    "TcpNoDelay = False\n"
	    "KeepAliveTime = 60000\n"
	    "KeepAliveInterval = 5000\n"
	    "InBufferSize = 65536\n"
	    "OutBufferSize = 131072\n"
	    "UseIPv6 = 2\n"
	    "AllowedClients = 10.*, 127.0.0.1\n"
	    "BlockedClients = 10.0.0.66\n"
	    "BindExclusively = False\n"
	    "ShutdownTimeout = 20\n"
	    "[websocket]\n"
	    "BufferMessage = Yes\n"
	    "DisconnectStatusCode = 4000\n"
	    "DisconnectStatusDescription = see you\n"
	    "MaxFrameSize = 4096\n"
	    "WaitForCloseResponse = Off\n"
	    "MaxMessageSize = 4294967296\n"
	    "HandshakeTimeout = 3\n"
	    "CloseTimeout = 2\n"
	    "MaxHeaderSize = 16384\n"
	    "[backend]\n"
	    "KillTimeout = 7\n"
	    "[log]\n"
	    "LogLevel = 3\n"
	    "[route:bin]\n"
	    "Path = /bin\n"
	    "Backend = script:/bin/cat -u\n"
	    "MessageFormat = binary\n"
	    "SubProtocols =  chat.v2 , chat.v1,x\n"
	    "PassEnv = LANG, TZ  HOME,\n");
	ck_assert_str_eq(cfg->local_host, "127.0.0.2");
	ck_assert_int_eq(cfg->local_port, 8081);
	ck_assert_int_eq(cfg->connection_backlog, 128);
	ck_assert_int_eq(cfg->default_timeout, 30);
	ck_assert_int_eq(cfg->max_connections, 5000);
	ck_assert(!cfg->tcp_nodelay);
	ck_assert_int_eq(cfg->keepalive_time, 60000);
	ck_assert_int_eq(cfg->keepalive_interval, 5000);
	ck_assert_int_eq(cfg->in_buffer_size, 65536);
	ck_assert_int_eq(cfg->out_buffer_size, 131072);
	ck_assert_int_eq(cfg->use_ipv6, 2);
	ck_assert_str_eq(cfg->allowed_clients, "10.*, 127.0.0.1");
	ck_assert_str_eq(cfg->blocked_clients, "10.0.0.66");
	ck_assert(!cfg->bind_exclusively);
	ck_assert_int_eq(cfg->shutdown_timeout, 20);
	ck_assert(cfg->buffer_message);
	ck_assert_int_eq(cfg->disconnect_status_code, 4000);
	ck_assert_str_eq(cfg->disconnect_status_description, "see you");
	ck_assert_int_eq(cfg->max_frame_size, 4096);
	ck_assert(!cfg->wait_for_close_response);
	ck_assert_uint_eq(cfg->max_message_size, UINT64_C(4294967296));
	ck_assert_int_eq(cfg->handshake_timeout, 3);
	ck_assert_int_eq(cfg->close_timeout, 2);
	ck_assert_int_eq(cfg->max_header_size, 16384);
	ck_assert_int_eq(cfg->kill_timeout, 7);
	ck_assert_int_eq(cfg->log_level, 3);
	ck_assert_uint_eq(cfg->nroutes, 1);
	r = config_route_for(cfg, "/bin");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->name, "bin");
	ck_assert_str_eq(r->backend, "script:/bin/cat -u");
	ck_assert_int_eq(r->kind, BACKEND_SCRIPT);
	ck_assert_str_eq(r->argv[0], "/bin/cat");
	ck_assert_str_eq(r->argv[1], "-u");
	ck_assert_ptr_null(r->argv[2]);
	ck_assert_int_eq(r->format, FORMAT_BINARY);
	ck_assert_str_eq(r->subprotocols, "chat.v2,chat.v1,x");
	ck_assert_str_eq(r->passenv[0], "LANG");
	ck_assert_str_eq(r->passenv[1], "TZ");
	ck_assert_str_eq(r->passenv[2], "HOME");
	ck_assert_ptr_null(r->passenv[3]);
	config_free(cfg);
}
END_TEST

/* Comments, case, quotes, a BOM, CRLF and indented lines. */
START_TEST(test_syntax_forms)
{
	struct config	*cfg;

	cfg = load_ok("\xef\xbb\xbf# comment\r\n"
	    "[SERVER]\r\n"
	    "localport = 7 ; seven\r\n"
	    "  TcpNoDelay = off\r\n"
	    "LocalHost: ::1\r\n"
	    "[websocket] ; trailing comment\n"
	    "DisconnectStatusDescription = \"  bye  \"\n"
	    "[server]\n"
	    "UseIPv6 = 1\n"
	    "[Route:e]\nPATH = /e\nbackend = ECHO\n"
	    "messageformat = BINARY\n");
	ck_assert_int_eq(cfg->local_port, 7);
	ck_assert(!cfg->tcp_nodelay);
	ck_assert_str_eq(cfg->local_host, "::1");
	ck_assert_str_eq(cfg->disconnect_status_description, "  bye  ");
	ck_assert_int_eq(cfg->use_ipv6, 1);
	ck_assert_int_eq(cfg->routes[0].kind, BACKEND_ECHO);
	ck_assert_int_eq(cfg->routes[0].format, FORMAT_BINARY);
	config_free(cfg);
}
END_TEST

/* DataFormat: binary by default, any case, one value per route. */
START_TEST(test_data_format)
{
	struct config	*cfg;

	cfg = load_ok("[route:a]\nPath = /a\nBackend = echo\n"
	    "[route:t]\nPath = /t\nBackend = echo\nMessageFormat = binary\n"
	    "DataFormat = Text\n"
	    "[route:u]\nPath = /u\nBackend = echo\nMessageFormat = binary\n"
	    "dataformat = AUTO\n"
	    "[route:b]\nPath = /b\nBackend = echo\nDataFormat = binary\n");
	ck_assert_uint_eq(cfg->nroutes, 4);
	ck_assert_int_eq(config_route_for(cfg, "/a")->data_format, DATA_BINARY);
	ck_assert_int_eq(config_route_for(cfg, "/t")->data_format, DATA_TEXT);
	ck_assert_int_eq(config_route_for(cfg, "/u")->data_format, DATA_AUTO);
	ck_assert_int_eq(config_route_for(cfg, "/b")->data_format, DATA_BINARY);
	config_free(cfg);
}
END_TEST

static const char *const bool_true[] = {
	"True", "true", "TRUE", "tRuE", "1", "Yes", "yes", "YES", "On", "on",
	"ON",
};
static const char *const bool_false[] = {
	"False", "false", "FALSE", "fAlSe", "0", "No", "no", "NO", "Off", "off",
	"OFF",
};

START_TEST(test_bool_spellings)
{
	struct config	*cfg;
	char		 body[256];
	size_t		 i;
	bool		 b;

	for (i = 0; i < sizeof bool_true / sizeof bool_true[0]; i++) {
		b = false;
		ck_assert_int_eq(config_parse_bool(bool_true[i], &b), 0);
		ck_assert(b);
		snprintf(body, sizeof body, "[server]\nTcpNoDelay = %s\n"
		    "[websocket]\nBufferMessage = %s\n" ROUTE_E, bool_true[i],
		    bool_true[i]);
		cfg = load_ok(body);
		ck_assert(cfg->tcp_nodelay);
		ck_assert(cfg->buffer_message);
		config_free(cfg);
	}
	for (i = 0; i < sizeof bool_false / sizeof bool_false[0]; i++) {
		b = true;
		ck_assert_int_eq(config_parse_bool(bool_false[i], &b), 0);
		ck_assert(!b);
		snprintf(body, sizeof body, "[server]\nBindExclusively = %s\n"
		    "TcpNoDelay = %s\n"
		    "[websocket]\nWaitForCloseResponse = %s\n" ROUTE_E,
		    bool_false[i], bool_false[i], bool_false[i]);
		cfg = load_ok(body);
		ck_assert(!cfg->bind_exclusively);
		ck_assert(!cfg->tcp_nodelay);
		ck_assert(!cfg->wait_for_close_response);
		config_free(cfg);
	}
	b = true;
	ck_assert_int_eq(config_parse_bool("2", &b), -1);
	ck_assert_int_eq(config_parse_bool("yess", &b), -1);
	ck_assert_int_eq(config_parse_bool("t", &b), -1);
	ck_assert_int_eq(config_parse_bool("", &b), -1);
	ck_assert_int_eq(config_parse_bool("01", &b), -1);
	ck_assert(b);
}
END_TEST

START_TEST(test_bool_errors)
{
	expect_errors("[server]\nTcpNoDelay = maybe\n" ROUTE_E,
	    "@:2: TcpNoDelay: invalid boolean \"maybe\" (use True/False, "
	    "Yes/No, On/Off or 1/0)\n");
	expect_errors("[server]\nTcpNoDelay =\n" ROUTE_E,
	    "@:2: TcpNoDelay: invalid boolean \"\" (use True/False, "
	    "Yes/No, On/Off or 1/0)\n");
}
END_TEST

/* Each error class, with its exact text. */
static const struct {
	const char	*body;
	const char	*want;
} error_cases[] = {
	{ "[nope]\nA = 1\n" ROUTE_E, "@:1: unknown section [nope]\n" },
	{ "[tls]\nUseSSL = true\n" ROUTE_E, "@:1: unknown section [tls]\n" },
	{ "[server]\nFoo = 1\n" ROUTE_E, "@:2: unknown key Foo in [server]\n" },
	{ "[server]\nMaxFrameSize = 200\n" ROUTE_E,
	  "@:2: unknown key MaxFrameSize in [server] (it belongs in "
	  "[websocket])\n" },
	{ ROUTE_E "Foo = 1\n", "@:4: unknown key Foo in [route:e]\n" },
	{ ROUTE_E "LogLevel = 1\n",
	  "@:4: unknown key LogLevel in [route:e] (it belongs in [log])\n" },
	{ "[server]\nLocalPort = 1\nlocalport = 2\n" ROUTE_E,
	  "@:3: duplicate key LocalPort (first set at line 2)\n" },
	{ "[server]\nLocalPort = 1\n[log]\nLogLevel = 1\n[server]\n"
	  "LocalPort = 2\n" ROUTE_E,
	  "@:6: duplicate key LocalPort (first set at line 2)\n" },
	{ ROUTE_E "Path = /f\n",
	  "@:4: duplicate key Path (first set at line 2)\n" },
	{ "[server]\nLocalPort = 80x\n" ROUTE_E,
	  "@:2: LocalPort: invalid integer \"80x\"\n" },
	{ "[server]\nLocalPort = 0x50\n" ROUTE_E,
	  "@:2: LocalPort: invalid integer \"0x50\"\n" },
	{ "[server]\nLocalPort = +80\n" ROUTE_E,
	  "@:2: LocalPort: invalid integer \"+80\"\n" },
	{ "[server]\nLocalPort = 8 0\n" ROUTE_E,
	  "@:2: LocalPort: invalid integer \"8 0\"\n" },
	{ "[server]\nLocalPort =\n" ROUTE_E,
	  "@:2: LocalPort: invalid integer \"\"\n" },
	{ "[server]\nLocalPort = 65536\n" ROUTE_E,
	  "@:2: LocalPort: 65536 out of range (0..65535)\n" },
	{ "[server]\nLocalPort = -1\n" ROUTE_E,
	  "@:2: LocalPort: -1 out of range (0..65535)\n" },
	{ "[server]\nLocalPort = 99999999999999999999999\n" ROUTE_E,
	  "@:2: LocalPort: 99999999999999999999999 out of range "
	  "(0..65535)\n" },
	{ "[websocket]\nMaxMessageSize = 18446744073709551616\n" ROUTE_E,
	  "@:2: MaxMessageSize: 18446744073709551616 out of range "
	  "(125..1099511627776)\n" },
	{ "[websocket]\nMaxMessageSize = 0\n" ROUTE_E,
	  "@:2: MaxMessageSize: 0 out of range (125..1099511627776)\n" },
	{ "[websocket]\nMaxMessageSize = -5\n" ROUTE_E,
	  "@:2: MaxMessageSize: -5 out of range (125..1099511627776)\n" },
	{ "[websocket]\nDisconnectStatusCode = 1005\n" ROUTE_E,
	  "@:2: DisconnectStatusCode: 1005 may not be sent in a close frame "
	  "(use 1000-1003, 1007-1014 or 3000-4999)\n" },
	{ "[websocket]\nDisconnectStatusCode = 2999\n" ROUTE_E,
	  "@:2: DisconnectStatusCode: 2999 may not be sent in a close frame "
	  "(use 1000-1003, 1007-1014 or 3000-4999)\n" },
	{ "[websocket]\nDisconnectStatusCode = 5000\n" ROUTE_E,
	  "@:2: DisconnectStatusCode: 5000 out of range (1000..4999)\n" },
	{ "[websocket]\nDisconnectStatusDescription = "
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "012345678901234567890123456789012345678901234567890123\n" ROUTE_E,
	  "@:2: DisconnectStatusDescription: longer than 123 bytes\n" },
	{ "LocalPort = 1\n[server]\n" ROUTE_E,
	  "@:1: LocalPort: key outside any section\n" },
	{ "[server]\njunk\n" ROUTE_E,
	  "@:2: syntax error: expected \"Key = value\" or \"[section]\"\n" },
	{ "[server]\njunk ; = 1\n" ROUTE_E,
	  "@:2: syntax error: expected \"Key = value\" or \"[section]\"\n" },
	{ "[server\nLocalPort = 1\n" ROUTE_E,
	  "@:1: syntax error: missing \"]\"\n" },
	{ "[server] x\nLocalPort = 1\n" ROUTE_E,
	  "@:1: syntax error: text after \"]\"\n" },
	{ "[server]\n= 5\n" ROUTE_E, "@:2: syntax error: no key before \"=\"\n" },
	{ "[route:a]\nBackend = echo\n", "@:1: [route:a]: missing Path\n" },
	{ "[route:a]\nPath = /a\n", "@:1: [route:a]: missing Backend\n" },
	{ "[route:a]\n",
	  "@:1: [route:a]: missing Path\n@:1: [route:a]: missing Backend\n" },
	{ "[route:a b]\nPath = /x\n" ROUTE_E,
	  "@:1: invalid route name \"a b\" (1-40 of A-Z a-z 0-9 _ . -)\n" },
	{ "[route:]\n" ROUTE_E,
	  "@:1: invalid route name \"\" (1-40 of A-Z a-z 0-9 _ . -)\n" },
	{ "[route:a23456789012345678901234567890123456789012]\n" ROUTE_E,
	  "@:1: invalid route name \"a23456789012345678901234567890123456789012\" "
	  "(1-40 of A-Z a-z 0-9 _ . -)\n" },
	{ ROUTE_E "[route:e]\n",
	  "@:4: duplicate section [route:e] (first at line 1)\n" },
	{ "[route:a]\nPath = x\nBackend = echo\n" ROUTE_E,
	  "@:2: Path: must start with \"/\"\n" },
	{ "[route:a]\nPath = /a?b\nBackend = echo\n" ROUTE_E,
	  "@:2: Path: may not contain spaces, control characters, \"?\" or "
	  "\"#\"\n" },
	{ ROUTE_E "[route:b]\nPath = /e\nBackend = echo\n",
	  "@:5: Path: /e is already the path of [route:e]\n" },
	{ "[route:a]\nPath = /a\nBackend = cgi:/x\n" ROUTE_E,
	  "@:3: Backend: unknown backend \"cgi:/x\" (use echo, "
	  "script:PROGRAM [ARGS...], dir:DIRECTORY, unix:SOCKET [mux], "
	  "unix+mux:SOCKET, tcp:HOST:PORT [mux] or tcp+mux:HOST:PORT)\n" },
	{ "[route:a]\nPath = /a\nBackend = dir:\n" ROUTE_E,
	  "@:3: Backend: dir: needs a directory\n" },
	{ "[route:a]\nPath = /a\nBackend = dir:/nonexistent/d\n" ROUTE_E,
	  "@:3: Backend: /nonexistent/d: not a directory\n" },
	{ "[route:a]\nPath = /a\nBackend = dir:/tmp\n" ROUTE_E,
	  "@:1: [route:a]: a dir: backend needs a prefix Path (ending in "
	  "\"*\")\n" },
	{ "[route:a]\nPath = /a\nBackend = unix: mux\n" ROUTE_E,
	  "@:3: Backend: unix: needs a socket path\n" },
	{ "[route:a]\nPath = /a\nBackend = unix:\n" ROUTE_E,
	  "@:3: Backend: unix: needs a socket path\n" },
	{ "[route:a]\nPath = /a\nBackend = unix+mux:\n" ROUTE_E,
	  "@:3: Backend: unix: needs a socket path\n" },
	{ "[route:a]\nPath = /a\nBackend = unix:/"
	  "0123456789012345678901234567890123456789012345678901234567890123456789"
	  "0123456789012345678901234567890123456789\n" ROUTE_E,
	  "@:3: Backend: unix: socket path longer than 107 bytes: /"
	  "012345678901234567890123456789012345678901234567890123456789012..."
	  "\n" },
	{ "[route:a]\nPath = /a*b\nBackend = echo\n" ROUTE_E,
	  "@:2: Path: \"*\" may only end a path (a prefix)\n" },
	{ ROUTE_E "[route:b]\nPath = /e*\nBackend = echo\n"
	  "[route:c]\nPath = /e*\nBackend = echo\n",
	  "@:8: Path: /e* is already the path of [route:b]\n" },
	{ ROUTE_E "MaxConnections = -1\n",
	  "@:4: MaxConnections: -1 out of range (0..100000)\n" },
	{ ROUTE_E "WorkingDirectory = /nonexistent-wsit\n",
	  "@:4: WorkingDirectory: /nonexistent-wsit: not a directory\n" },
	{ "[route:a]\nPath = /a\nBackend = script:/bin/sh \"abc\n" ROUTE_E,
	  "@:3: Backend: unterminated quote\n" },
	{ "[route:a]\nPath = /a\nBackend = script:\n" ROUTE_E,
	  "@:3: Backend: script: needs a program\n" },
	{ "[route:a]\nPath = /a\nBackend = script:/nonexistent/x.sh\n" ROUTE_E,
	  "@:3: Backend: /nonexistent/x.sh: No such file or directory\n" },
	{ "[route:a]\nPath = /a\nBackend = script:/tmp\n" ROUTE_E,
	  "@:3: Backend: /tmp: not an executable file\n" },
	{ ROUTE_E "PassEnv = LANG HTTP_PROXY\n",
	  "@:4: PassEnv: HTTP_PROXY may not be passed (CVE-2016-5385, "
	  "\"httpoxy\")\n" },
	{ ROUTE_E "PassEnv = 1ABC\n",
	  "@:4: PassEnv: invalid variable name \"1ABC\"\n" },
	{ ROUTE_E "PassEnv = A-B\n",
	  "@:4: PassEnv: invalid variable name \"A-B\"\n" },
	{ ROUTE_E "SubProtocols = a b\n",
	  "@:4: SubProtocols: invalid token list \"a b\"\n" },
	{ ROUTE_E "SubProtocols = a,,b\n",
	  "@:4: SubProtocols: invalid token list \"a,,b\"\n" },
	{ ROUTE_E "SubProtocols = a,\n",
	  "@:4: SubProtocols: invalid token list \"a,\"\n" },
	{ ROUTE_E "MessageFormat = frames\n",
	  "@:4: MessageFormat: invalid format \"frames\" (use lines, binary "
	  "or framed)\n" },
	{ "[server]\nUseBackgroundThread = true\n" ROUTE_E,
	  "@:2: UseBackgroundThread: has no meaning on Linux (a .NET thread "
	  "property; wsserverd runs one event loop)\n" },
	{ "GUIAvailable = false\n" ROUTE_E,
	  "@:1: GUIAvailable: has no meaning on Linux (there is no GUI "
	  "message loop; libevent runs events)\n" },
	{ "[websocket]\ncacertfilepaths = /etc/ssl\n" ROUTE_E,
	  "@:2: CACertFilePaths: has no meaning on Linux (for Mono on Unix "
	  "only; OpenSSL finds its CA certificates itself)\n" },
	{ "[log]\nUseInternalSecurityAPI = 0\n" ROUTE_E,
	  "@:2: UseInternalSecurityAPI: has no meaning on Linux (TLS is "
	  "always OpenSSL)\n" },
	{ ROUTE_E "SSLProvider = 0\n",
	  "@:4: SSLProvider: has no meaning on Linux (TLS is always "
	  "OpenSSL)\n" },
	{ ROUTE_E "DataFormat = utf8\n",
	  "@:4: DataFormat: invalid value \"utf8\" (use auto|text|binary)\n" },
	{ ROUTE_E "DataFormat =\n",
	  "@:4: DataFormat: invalid value \"\" (use auto|text|binary)\n" },
	{ "[websocket]\nCloseStreamAfterTransfer = false\n" ROUTE_E,
	  "@:2: CloseStreamAfterTransfer: has no meaning on Linux (it is "
	  "about .NET streams handed to SendFile or SetUploadStream; sendfile "
	  "opens and closes its file itself)\n" },
	{ "[server]\nLocalPort = 1\n", "@: no [route:...] section\n" },
	{ "", "@: no [route:...] section\n" },
};

START_TEST(test_error_class)
{
	expect_errors(error_cases[_i].body, error_cases[_i].want);
}
END_TEST

START_TEST(test_missing_file)
{
	expect_errors_at("/nonexistent/wsserverd.ini",
	    "@: No such file or directory\n");
}
END_TEST

/* Every error of a file comes out of one load, sorted by line. */
START_TEST(test_all_errors)
{
	expect_errors(
	    "[server]\n"			/* 1 */
	    "LocalPort = abc\n"			/* 2 */
	    "TcpNoDelay = 2\n"			/* 3 */
	    "; fine\n"				/* 4 */
	    "[websocket]\n"			/* 5 */
	    "MaxFrameSize = 1\n"		/* 6 */
	    ROUTE_E,
	    "@:2: LocalPort: invalid integer \"abc\"\n"
	    "@:3: TcpNoDelay: invalid boolean \"2\" (use True/False, Yes/No, "
	    "On/Off or 1/0)\n"
	    "@:6: MaxFrameSize: 1 out of range (125..2147483647)\n");
	/* Errors found at the end are sorted in with the others. */
	expect_errors(
	    "[route:a]\n"			/* 1 */
	    "Backend = echo\n"			/* 2 */
	    "[server]\n"			/* 3 */
	    "LocalPort = 70000\n"		/* 4 */
	    "bad line\n"			/* 5 */
	    "[route:b]\n"			/* 6 */
	    "Path = /b\n",			/* 7 */
	    "@:1: [route:a]: missing Path\n"
	    "@:4: LocalPort: 70000 out of range (0..65535)\n"
	    "@:5: syntax error: expected \"Key = value\" or \"[section]\"\n"
	    "@:6: [route:b]: missing Backend\n");
}
END_TEST

/* inih's 200-byte line limit must not cut values. */
START_TEST(test_long_value)
{
	struct config	*cfg;
	char		*body, value[501];

	memset(value, 'a', 500);
	value[500] = '\0';
	value[0] = 'b';
	value[499] = 'z';
	body = malloc(2048);
	ck_assert_ptr_nonnull(body);
	snprintf(body, 2048, "[server]\nAllowedClients = %s\nLocalPort = 9\n"
	    "[route:e]\nPath = /e\nBackend = script:/bin/echo %s\n", value,
	    value);
	cfg = load_ok(body);
	ck_assert_uint_eq(strlen(cfg->allowed_clients), 500);
	ck_assert_str_eq(cfg->allowed_clients, value);
	ck_assert_int_eq(cfg->local_port, 9);
	ck_assert_str_eq(cfg->routes[0].argv[1], value);
	ck_assert_ptr_null(cfg->routes[0].argv[2]);
	config_free(cfg);
	free(body);
}
END_TEST

/*
 * Host names in client lists are resolved at load: "localhost" becomes its
 * addresses (127.0.0.1 among them), other entries stay; a name that does
 * not resolve is an error of its line.
 */
START_TEST(test_client_host_names)
{
	struct config	*cfg;

	cfg = load_ok("[server]\nAllowedClients = 10.*, localhost , ::1\n"
	    "BlockedClients = localhost\n" ROUTE_E);
	ck_assert_ptr_nonnull(strstr(cfg->blocked_clients, "127.0.0.1"));
	ck_assert_int_eq(strncmp(cfg->allowed_clients, "10.*,127.0.0.1,",
	    15), 0);
	ck_assert_str_eq(strrchr(cfg->allowed_clients, ','), ",::1");
	config_free(cfg);
	/* Without names the list is kept as written. */
	cfg = load_ok("[server]\nAllowedClients = 10.*,  192.168.0.0/16\n"
	    ROUTE_E);
	ck_assert_str_eq(cfg->allowed_clients, "10.*,  192.168.0.0/16");
	config_free(cfg);
	expect_errors("[server]\n"
	    "AllowedClients = 127.0.0.1, no-such-host.invalid\n" ROUTE_E,
	    "@:2: AllowedClients: host name \"no-such-host.invalid\" does "
	    "not resolve (Name or service not known)\n");
}
END_TEST

START_TEST(test_route_for)
{
	struct config	*cfg;

	cfg = load_ok("[route:a]\nPath = /\nBackend = echo\n"
	    "[route:b]\nPath = /b/c\nBackend = echo\n");
	ck_assert_str_eq(config_route_for(cfg, "/")->name, "a");
	ck_assert_str_eq(config_route_for(cfg, "/b/c")->name, "b");
	ck_assert_ptr_null(config_route_for(cfg, "/b/c/"));
	ck_assert_ptr_null(config_route_for(cfg, "/B/c"));
	ck_assert_ptr_null(config_route_for(cfg, "/b"));
	ck_assert_ptr_null(config_route_for(cfg, ""));
	config_free(cfg);
}
END_TEST

/* Prefix routes: exact Path first, then the longest prefix. */
START_TEST(test_route_prefix)
{
	struct config		*cfg;
	const struct route	*r;

	cfg = load_ok("[route:all]\nPath = /*\nBackend = echo\n"
	    "[route:app]\nPath = /app/*\nBackend = echo\n"
	    "[route:deep]\nPath = /app/deep/*\nBackend = echo\n"
	    "[route:exact]\nPath = /app/deep/x\nBackend = echo\n"
	    "[route:chat]\nPath = /chat*\nBackend = echo\n");
	ck_assert_str_eq(config_route_for(cfg, "/")->name, "all");
	ck_assert_str_eq(config_route_for(cfg, "/other")->name, "all");
	ck_assert_str_eq(config_route_for(cfg, "/app")->name, "all");
	ck_assert_str_eq(config_route_for(cfg, "/app/")->name, "app");
	ck_assert_str_eq(config_route_for(cfg, "/app/x/y")->name, "app");
	ck_assert_str_eq(config_route_for(cfg, "/app/deep/")->name, "deep");
	ck_assert_str_eq(config_route_for(cfg, "/app/deep/y")->name, "deep");
	ck_assert_str_eq(config_route_for(cfg, "/app/deep/x")->name, "exact");
	ck_assert_str_eq(config_route_for(cfg, "/app/deep/xy")->name, "deep");
	ck_assert_str_eq(config_route_for(cfg, "/chatroom")->name, "chat");
	ck_assert_str_eq(config_route_for(cfg, "/chat")->name, "chat");
	r = config_route_for(cfg, "/app/q");
	ck_assert(r->prefix);
	ck_assert_str_eq(r->path, "/app/*");
	ck_assert(!config_route_for(cfg, "/app/deep/x")->prefix);
	config_free(cfg);

	/* Without a catch-all, unmatched paths have no route. */
	cfg = load_ok("[route:app]\nPath = /app/*\nBackend = echo\n");
	ck_assert_ptr_null(config_route_for(cfg, "/app"));
	ck_assert_ptr_null(config_route_for(cfg, "/ap"));
	ck_assert_ptr_null(config_route_for(cfg, "/"));
	config_free(cfg);
}
END_TEST

/* The route keys of issue #6: defaults and parsed values. */
START_TEST(test_route_policy_keys)
{
	struct config	*cfg;

	cfg = load_ok("[route:a]\nPath = /a\nBackend = echo\n");
	ck_assert_str_eq(cfg->routes[0].origins, "*");
	ck_assert_int_eq(cfg->routes[0].max_connections, 0);
	ck_assert_str_eq(cfg->routes[0].workdir, "");
	ck_assert_ptr_null(cfg->routes[0].socket);
	ck_assert(!cfg->routes[0].prefix);
	config_free(cfg);

	cfg = load_ok("[route:a]\nPath = /a\nBackend = unix:/run/x.sock\n"
	    "MessageFormat = Framed\nAllowedOrigins = same, https://a.example\n"
	    "MaxConnections = 7\nWorkingDirectory = /tmp\n");
	ck_assert_int_eq(cfg->routes[0].kind, BACKEND_UNIX);
	ck_assert_str_eq(cfg->routes[0].socket, "/run/x.sock");
	ck_assert_str_eq(cfg->routes[0].backend, "unix:/run/x.sock");
	ck_assert_int_eq(cfg->routes[0].format, FORMAT_FRAMED);
	ck_assert_str_eq(cfg->routes[0].origins, "same, https://a.example");
	ck_assert_int_eq(cfg->routes[0].max_connections, 7);
	ck_assert_str_eq(cfg->routes[0].workdir, "/tmp");
	ck_assert(!cfg->routes[0].mux);
	config_free(cfg);

	cfg = load_ok("[route:a]\nPath = /a\nBackend = unix:/run/x.sock  MUX\n");
	ck_assert_int_eq(cfg->routes[0].kind, BACKEND_UNIX);
	ck_assert(cfg->routes[0].mux);
	ck_assert_str_eq(cfg->routes[0].socket, "/run/x.sock");
	ck_assert_str_eq(cfg->routes[0].backend, "unix:/run/x.sock  MUX");
	config_free(cfg);

	cfg = load_ok("[route:a]\nPath = /a\nBackend = Unix+Mux:/run/y.sock\n");
	ck_assert_int_eq(cfg->routes[0].kind, BACKEND_UNIX);
	ck_assert(cfg->routes[0].mux);
	ck_assert_str_eq(cfg->routes[0].socket, "/run/y.sock");
	ck_assert_str_eq(cfg->routes[0].backend, "Unix+Mux:/run/y.sock");
	config_free(cfg);

	cfg = load_ok("[route:a]\nPath = /a/*\nBackend = dir:/tmp/\n"
	    "[backend]\nAllowRootHandlers = true\n");
	ck_assert_int_eq(cfg->routes[0].kind, BACKEND_DIR);
	ck_assert_str_eq(cfg->routes[0].dir, "/tmp");
	ck_assert_ptr_null(cfg->routes[0].argv);
	config_free(cfg);
}
END_TEST

/* unix: sockets and WorkingDirectory are taken relative to the file too. */
START_TEST(test_relative_unix_and_workdir)
{
	struct config	*cfg;
	const char	*dir;
	char		 path[PATH_MAX], want[PATH_MAX], *errors;
	static const char body[] =
	    "[route:u]\nPath = /u\nBackend = unix:run/app.sock\n"
	    "WorkingDirectory = wd\n";

	dir = make_dir();
	snprintf(path, sizeof path, "%s/wd", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/w.ini", dir);
	write_file(path, body, strlen(body), 0644);
	cfg = config_load(path, &errors);
	ck_assert_msg(cfg != NULL, "unexpected errors: %s", errors);
	snprintf(want, sizeof want, "%s/run/app.sock", dir);
	ck_assert_str_eq(cfg->routes[0].socket, want);
	ck_assert_str_eq(cfg->routes[0].backend, "unix:run/app.sock");
	snprintf(want, sizeof want, "%s/wd", dir);
	ck_assert_str_eq(cfg->routes[0].workdir, want);
	ck_assert_ptr_null(cfg->routes[0].argv);
	config_free(cfg);
}
END_TEST

/* OpenRequestHook: relative to the file, an executable file, "" is none. */
START_TEST(test_open_request_hook)
{
	struct config	*cfg;
	const char	*dir;
	char		 path[PATH_MAX], want[PATH_MAX], *errors;
	static const char body[] =
	    "[route:h]\nPath = /h\nBackend = echo\n"
	    "OpenRequestHook = hooks/auth\n"
	    "[route:n]\nPath = /n\nBackend = echo\n";
	static const char bad[] =
	    "[route:h]\nPath = /h\nBackend = echo\n"
	    "OpenRequestHook = hooks/plain\n";

	dir = make_dir();
	snprintf(path, sizeof path, "%s/hooks", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/hooks/auth", dir);
	write_file(path, "#!/bin/sh\n", 10, 0755);
	snprintf(path, sizeof path, "%s/hooks/plain", dir);
	write_file(path, "#!/bin/sh\n", 10, 0644);
	snprintf(path, sizeof path, "%s/h.ini", dir);
	write_file(path, body, strlen(body), 0644);
	cfg = config_load(path, &errors);
	ck_assert_msg(cfg != NULL, "unexpected errors: %s", errors);
	snprintf(want, sizeof want, "%s/hooks/auth", dir);
	ck_assert_str_eq(cfg->routes[0].open_hook, want);
	ck_assert_str_eq(cfg->routes[1].open_hook, "");
	config_free(cfg);

	snprintf(path, sizeof path, "%s/b.ini", dir);
	write_file(path, bad, strlen(bad), 0644);
	cfg = config_load(path, &errors);
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(errors, "/hooks/plain: not an executable "
	    "file"));
	free(errors);
}
END_TEST

/* A relative script path is taken from the directory of the file. */
START_TEST(test_relative_script)
{
	struct config	*cfg;
	const char	*dir;
	char		 path[PATH_MAX], want[PATH_MAX], cwd[PATH_MAX], *errors;
	static const char body[] =
	    "[route:h]\nPath = /\n"
	    "Backend = script:handlers/h.sh one \"two words\" \"\" t\"h\"ree\n";

	dir = make_dir();
	snprintf(path, sizeof path, "%s/handlers", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof path, "%s/handlers/h.sh", dir);
	write_file(path, "#!/bin/sh\n", 10, 0755);
	snprintf(path, sizeof path, "%s/w.ini", dir);
	write_file(path, body, strlen(body), 0644);
	snprintf(want, sizeof want, "%s/handlers/h.sh", dir);

	cfg = config_load(path, &errors);
	ck_assert_msg(cfg != NULL, "unexpected errors: %s", errors);
	ck_assert_str_eq(cfg->routes[0].argv[0], want);
	ck_assert_str_eq(cfg->routes[0].argv[1], "one");
	ck_assert_str_eq(cfg->routes[0].argv[2], "two words");
	ck_assert_str_eq(cfg->routes[0].argv[3], "");
	ck_assert_str_eq(cfg->routes[0].argv[4], "three");
	ck_assert_ptr_null(cfg->routes[0].argv[5]);
	ck_assert_str_eq(cfg->routes[0].backend, "script:handlers/h.sh one "
	    "\"two words\" \"\" t\"h\"ree");
	config_free(cfg);

	/* A relative file name: still an absolute program path. */
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
	ck_assert_int_eq(chdir(dir), 0);
	cfg = config_load("w.ini", &errors);
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_msg(cfg != NULL, "unexpected errors: %s", errors);
	ck_assert_str_eq(cfg->routes[0].argv[0], want);
	config_free(cfg);
}
END_TEST

START_TEST(test_script_not_executable)
{
	const char	*dir;
	char		 path[PATH_MAX], want[PATH_MAX * 2];
	static const char body[] =
	    "[route:h]\nPath = /\nBackend = script:noexec.sh\n";
	static const char gone[] =
	    "[route:h]\nPath = /\nBackend = script:gone.sh\n";

	dir = make_dir();
	snprintf(path, sizeof path, "%s/noexec.sh", dir);
	write_file(path, "#!/bin/sh\n", 10, 0644);
	snprintf(path, sizeof path, "%s/w.ini", dir);
	write_file(path, body, strlen(body), 0644);
	snprintf(want, sizeof want, "@:3: Backend: %s/noexec.sh: not an "
	    "executable file\n", dir);
	expect_errors_at(path, want);

	/* Relative but missing: the message names the resolved path. */
	write_file(path, gone, strlen(gone), 0644);
	snprintf(want, sizeof want, "@:3: Backend: %s/gone.sh: No such file "
	    "or directory\n", dir);
	expect_errors_at(path, want);
}
END_TEST

/* [admin]: octal SocketMode, relative Socket resolved against the file. */
START_TEST(test_ssl_keys)
{
	struct config	*cfg;
	char		 buf[64], *cause = NULL;

	cfg = config_defaults();
	ck_assert(!cfg->use_ssl);
	ck_assert_str_eq(cfg->ssl_cert_store_type, "PEMKeyFile");
	ck_assert_str_eq(cfg->ssl_cert_subject, "*");
	ck_assert_int_eq(cfg->ssl_enabled_protocols, 15360);
	ck_assert_str_eq(cfg->ssl_cipher_suites, "*");
	ck_assert_int_eq(cfg->dh_group_bits, 2048);
	ck_assert(!cfg->ssl_renegotiation);
	ck_assert(cfg->ssl_reuse_session);
	ck_assert_int_eq(cfg->ssl_handshake_timeout, 0);
	ck_assert_str_eq(cfg->ssl_authenticate_clients, "False");
	ck_assert_int_eq(cfg->ssl_check_crl, 0);
	ck_assert_ptr_null(cfg->tls);
	config_free(cfg);

	/* Settings are checked with UseSSL off too, at their lines. */
	cfg = load_ok("[ssl]\nSSLEnabledProtocols = 3072\nSSLCertPassword = "
	    "pw\nSSLEnabledCipherSuites = TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
	    "\n" ROUTE_E);
	ck_assert_ptr_null(cfg->tls);
	ck_assert_int_eq(config_get(cfg, "SSLCertPassword", buf, sizeof(buf)),
	    0);
	ck_assert_str_eq(buf, "********");
	ck_assert_int_eq(config_get(cfg, "sslenabledprotocols", buf,
	    sizeof(buf)), 0);
	ck_assert_str_eq(buf, "3072");
	ck_assert_int_eq(config_set(cfg, "UseSSL", "True", false, &cause),
	    WSD_ERR_FIXED);
	ck_assert_str_eq(cause, "cannot change UseSSL at run time (edit the "
	    "file and reload)");
	free(cause);
	ck_assert(!cfg->use_ssl);
	config_free(cfg);

	expect_errors("[ssl]\nSSLEnabledProtocols = 3120\n" ROUTE_E,
	    "@:2: SSLEnabledProtocols: 3120 enables SSL3, which OpenSSL 3 does "
	    "not offer and which are broken (use TLS1.2 3072 and TLS1.3 "
	    "12288)\n");
	expect_errors("[ssl]\nUseSSL = yes\nSSLCert = nope.pem\n"
	    "SSLCheckCRL = 3\n" ROUTE_E,
	    "@:3: SSLCert: /tmp/nope.pem: No such file or directory\n"
	    "@:4: SSLCheckCRL: 3 out of range (0..2)\n");
	expect_errors("[ssl]\nSSLAuthenticateClients = maybe\n"
	    "SSLCipherStrength = 128\n" ROUTE_E,
	    "@:2: SSLAuthenticateClients: invalid value \"maybe\" (use False, "
	    "True, required, optional or request)\n"
	    "@:3: SSLCipherStrength: has no meaning on Linux (not supported "
	    "with OpenSSL; name the suites in SSLEnabledCipherSuites)\n");
	expect_errors("[server]\nUseSSL = true\n" ROUTE_E,
	    "@:2: unknown key UseSSL in [server] (it belongs in [ssl])\n");
}
END_TEST

START_TEST(test_admin_keys)
{
	struct config	*cfg;

	cfg = load_ok("[admin]\nSocket = run/admin.sock\nSocketMode = 0600\n"
	    "SocketGroup = adm\n" ROUTE_E);
	ck_assert_str_eq(cfg->admin_socket, "/tmp/run/admin.sock");
	ck_assert_int_eq(cfg->admin_socket_mode, 0600);
	ck_assert_str_eq(cfg->admin_socket_group, "adm");
	config_free(cfg);
	cfg = load_ok("[admin]\nSocket =\n" ROUTE_E);
	ck_assert_str_eq(cfg->admin_socket, "");
	config_free(cfg);
	expect_errors("[admin]\nSocketMode = 0999\n" ROUTE_E,
	    "@:2: SocketMode: invalid mode \"0999\" (use octal digits, "
	    "e.g. 0660)\n");
	expect_errors("[admin]\nSocketMode = rw\n" ROUTE_E,
	    "@:2: SocketMode: invalid mode \"rw\" (use octal digits, "
	    "e.g. 0660)\n");
	expect_errors("[websocket]\nPermessageDeflateLevel = 0\n" ROUTE_E,
	    "@:2: PermessageDeflateLevel: 0 out of range (1..9)\n");
}
END_TEST

START_TEST(test_lb_log_keys)
{
	struct config	*cfg;
	char		 buf[64], *cause = NULL;

	cfg = config_defaults();
	ck_assert_int_eq(cfg->proxy_protocol, 0);
	ck_assert_str_eq(cfg->proxy_trusted_clients, "");
	ck_assert_str_eq(cfg->health_path, "/healthz");
	ck_assert(!cfg->dev_console);
	ck_assert_int_eq(cfg->log_target, 0);
	ck_assert_str_eq(cfg->log_file, "");
	ck_assert(cfg->mask_sensitive_data);
	ck_assert_str_eq(cfg->sensitive_query_params,
	    "token,access_token,password,key");
	ck_assert_int_eq(config_get(cfg, "ProxyProtocol", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "off");
	ck_assert_int_eq(config_get(cfg, "logtarget", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "stderr");
	/* Fixed while listening; the trusted list and masking are not. */
	ck_assert_int_eq(config_set(cfg, "ProxyProtocol", "v2", true, &cause),
	    WSD_ERR_FIXED);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(config_set(cfg, "ProxyProtocol", "V2", false, &cause),
	    WSD_OK);
	ck_assert_int_eq(cfg->proxy_protocol, 2);
	ck_assert_int_eq(config_set(cfg, "ProxyProtocol", "v3", false, &cause),
	    WSD_ERR_VALUE);
	ck_assert_str_eq(cause, "invalid value \"v3\" (use off|v1|v2|any)");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(config_set(cfg, "ProxyTrustedClients", "10.0.0.0/8",
	    true, &cause), WSD_OK);
	ck_assert_int_eq(config_set(cfg, "MaskSensitiveData", "off", true,
	    &cause), WSD_OK);
	ck_assert_ptr_null(cause);
	ck_assert(!cfg->mask_sensitive_data);
	config_free(cfg);

	cfg = load_ok("[server]\nProxyProtocol = any\nProxyTrustedClients = "
	    "127.0.0.1, ::1\nHealthPath =\nDevConsole = yes\n[log]\n"
	    "LogTarget = syslog\nLogFile = wss.log\nMaskSensitiveData = no\n"
	    "SensitiveQueryParams = sid\n" ROUTE_E);
	ck_assert_int_eq(cfg->proxy_protocol, 3);
	ck_assert_str_eq(cfg->proxy_trusted_clients, "127.0.0.1, ::1");
	ck_assert_str_eq(cfg->health_path, "");
	ck_assert(cfg->dev_console);
	ck_assert_int_eq(cfg->log_target, 1);
	ck_assert_str_eq(cfg->log_file, "/tmp/wss.log");
	ck_assert(!cfg->mask_sensitive_data);
	ck_assert_str_eq(cfg->sensitive_query_params, "sid");
	ck_assert_int_eq(config_get(cfg, "ProxyProtocol", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "any");
	config_free(cfg);

	expect_errors("[server]\nProxyProtocol = v2\n" ROUTE_E,
	    "@:2: ProxyProtocol needs ProxyTrustedClients (the load "
	    "balancers' addresses)\n");
	expect_errors("[server]\nProxyProtocol = yes\n" ROUTE_E,
	    "@:2: ProxyProtocol: invalid value \"yes\" (use off|v1|v2|any)\n");
	expect_errors("[server]\nHealthPath = healthz\n" ROUTE_E,
	    "@:2: HealthPath must start with \"/\"\n");
	expect_errors("[log]\nLogTarget = file\n" ROUTE_E,
	    "@:2: LogTarget: invalid value \"file\" (use stderr|syslog)\n");
}
END_TEST

START_TEST(test_key_names_unique)
{
	/*
	 * "config KEY" on the admin socket names a key without its section:
	 * outside the routes' (which may repeat a global key to override
	 * it) no two sections may use one name.
	 */
	size_t	i, j, n = config_key_count();

	for (i = 0; i < n; i++) {
		if (strcmp(config_key_section(i), "route:NAME") == 0)
			continue;
		for (j = i + 1; j < n; j++) {
			if (strcmp(config_key_section(j), "route:NAME") == 0)
				continue;
			ck_assert_msg(strcasecmp(config_key_name(i),
			    config_key_name(j)) != 0, "%s in [%s] and [%s]",
			    config_key_name(i), config_key_section(i),
			    config_key_section(j));
		}
	}
}
END_TEST

START_TEST(test_runtime_flags)
{
	static const char *const fixed[] = {
		"LocalHost", "LocalPort", "UseIPv6", "ConnectionBacklog",
		"BindExclusively", "MaxConnections", "Workers", "Socket",
		"SocketMode",
		"SocketGroup", "AdminAllowedUsers", "User", "Group", "PidFile",
		/* [ssl]: the TLS context changes only with a reload */
		"UseSSL", "SSLCert", "SSLCertStoreType", "SSLCertPassword",
		"SSLCertSubject", "SSLCACerts", "SSLEnabledProtocols",
		"SSLEnabledCipherSuites", "TLS13SupportedGroups",
		"TLS12SupportedGroups", "TLS13SignatureAlgorithms",
		"TLS12SignatureAlgorithms", "PreferredDHGroupBits",
		"SSLEnableRenegotiation", "ReuseSSLSession", "SSLKeyLogFile",
		"LogSSLPackets", "DefaultConnectionTimeout",
		"SSLAuthenticateClients", "SSLClientCACerts", "SSLCheckCRL",
		/* load balancers and logging (ops-lb) */
		"ProxyProtocol", "HealthPath", "LogTarget", "LogFile",
		/* hardening (#19): admin keys take effect at a restart */
		"SendFileDirectory", "AdminIdleTimeout", "ClientIPv6Prefix",
		"ClientTableSize",
		/* [cluster]: changed by a reload (#15) */
		"Redis", "RedisUser", "RedisPasswordFile", "NodeName",
		"ChannelPrefix", "NodeTTL", "CommandTimeout", "RedisTimeout",
		"RedisReconnectMax", "RedisMaxPending", "MaxSubscriptions",
		"MaxTopics",
	};
	size_t		 i, j, n;
	bool		 is_fixed;

	n = config_key_count();
	ck_assert_uint_eq(n, 119);
	for (i = 0; i < n; i++) {
		ck_assert_ptr_nonnull(config_key_name(i));
		ck_assert_ptr_nonnull(config_key_section(i));
		if (strcmp(config_key_section(i), "route:NAME") == 0)
			continue;
		is_fixed = false;
		for (j = 0; j < sizeof fixed / sizeof fixed[0]; j++)
			is_fixed |= strcmp(config_key_name(i), fixed[j]) == 0;
		ck_assert_msg(config_key_runtime(i) == !is_fixed,
		    "%s: runtime flag wrong", config_key_name(i));
	}
	ck_assert_ptr_null(config_key_name(n));
	ck_assert_ptr_null(config_key_section(n));
	ck_assert(!config_key_runtime(n));
}
END_TEST

/* Reads a whole small file into a malloc'd string. */
static char *
slurp(const char *path)
{
	FILE	*f;
	char	*buf;
	size_t	 n;

	f = fopen(path, "r");
	ck_assert_msg(f != NULL, "%s", path);
	buf = calloc(1, 1 << 20);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	ck_assert_uint_lt(n, (1 << 20) - 1);
	fclose(f);
	return buf;
}

/* User, Group, PidFile and AllowRootHandlers: the service keys. */
START_TEST(test_service_keys)
{
	struct config	*cfg;
	uid_t		 uid;
	gid_t		 gid;
	char		 cause[256], want[PATH_MAX + 32], *e, *why = NULL;

	cfg = config_defaults();
	ck_assert_str_eq(cfg->user, "");
	ck_assert_str_eq(cfg->group, "");
	ck_assert_str_eq(cfg->pid_file, "");
	ck_assert(!cfg->allow_root_handlers);
	ck_assert_int_eq(config_ids(cfg, &uid, &gid), 0);
	config_free(cfg);

	cfg = load_ok("[server]\nUser = nobody\nPidFile = run/w.pid\n"
	    "[backend]\nAllowRootHandlers = yes\n" ROUTE_E);
	ck_assert_str_eq(cfg->user, "nobody");
	ck_assert(cfg->allow_root_handlers);
	/* A relative PidFile is taken from the ini file's directory. */
	snprintf(want, sizeof want, "%s", cfg->file);
	e = strrchr(want, '/');
	ck_assert_ptr_nonnull(e);
	strcpy(e, "/run/w.pid");
	ck_assert_str_eq(cfg->pid_file, want);
	/* nobody: uid 65534 and its primary group. */
	ck_assert_int_eq(config_ids(cfg, &uid, &gid), 1);
	ck_assert_uint_eq(uid, 65534);
	ck_assert_uint_eq(gid, 65534);
	ck_assert_int_eq(config_get(cfg, "User", cause, sizeof cause), 0);
	ck_assert_str_eq(cause, "nobody");
	/* Fixed while listening, unlike AllowRootHandlers. */
	ck_assert_int_eq(config_set(cfg, "User", "root", true, &why),
	    WSD_ERR_FIXED);
	ck_assert_str_eq(why, "cannot change User while listening");
	free(why);
	why = NULL;
	ck_assert_int_eq(config_set(cfg, "AllowRootHandlers", "off", true,
	    &why), WSD_OK);
	ck_assert_ptr_null(why);
	ck_assert(!cfg->allow_root_handlers);
	config_free(cfg);

	/* Numbers need no passwd entry; Group alone leaves the user. */
	cfg = load_ok("[server]\nUser = 4000\nGroup = 4001\n" ROUTE_E);
	ck_assert_int_eq(config_ids(cfg, &uid, &gid), 1);
	ck_assert_uint_eq(uid, 4000);
	ck_assert_uint_eq(gid, 4001);
	config_free(cfg);
	cfg = load_ok("[server]\nGroup = nogroup\n" ROUTE_E);
	ck_assert_int_eq(config_ids(cfg, &uid, &gid), 1);
	ck_assert_uint_eq(uid, (uid_t)-1);
	ck_assert_uint_eq(gid, 65534);
	config_free(cfg);

	expect_errors("[server]\nUser = no-such-user-x\n" ROUTE_E,
	    "@:2: User: no such user \"no-such-user-x\"\n");
	expect_errors("[server]\n\nGroup = no-such-group-x\n" ROUTE_E,
	    "@:3: Group: no such group \"no-such-group-x\"\n");
	expect_errors("[server]\nUser = -1\n" ROUTE_E,
	    "@:2: User: no such user \"-1\"\n");
	/* AdminAllowedUsers: names and numbers, commas and blanks. */
	cfg = load_ok("[admin]\nAdminAllowedUsers = nobody, 4000,root\n"
	    ROUTE_E);
	ck_assert_uint_eq(cfg->admin_nuids, 3);
	ck_assert_uint_eq(cfg->admin_uids[0], 65534);
	ck_assert_uint_eq(cfg->admin_uids[1], 4000);
	ck_assert_uint_eq(cfg->admin_uids[2], 0);
	config_free(cfg);
	cfg = load_ok("[admin]\nAdminAllowedUsers =\n" ROUTE_E);
	ck_assert_uint_eq(cfg->admin_nuids, 0);
	ck_assert_ptr_null(cfg->admin_uids);
	config_free(cfg);
	expect_errors("[admin]\nAdminAllowedUsers = nobody,no-such-user-x\n"
	    ROUTE_E, "@:2: AdminAllowedUsers: no such user "
	    "\"no-such-user-x\"\n");
	expect_errors("[admin]\nAdminAllowedUsers = , ,\n" ROUTE_E,
	    "@:2: AdminAllowedUsers: no user named\n");
	expect_errors("[backend]\nAllowRootHandlers = maybe\n" ROUTE_E,
	    "@:2: AllowRootHandlers: invalid boolean \"maybe\" (use "
	    "True/False, Yes/No, On/Off or 1/0)\n");
}
END_TEST

/* Takes the cause config_set gave and checks it; NULL want: none given. */
static void
expect_cause(char **cause, const char *want)
{
	if (want == NULL) {
		ck_assert_ptr_null(*cause);
		return;
	}
	ck_assert_ptr_nonnull(*cause);
	ck_assert_str_eq(*cause, want);
	free(*cause);
	*cause = NULL;
}

/* config_set: one result per kind of refusal; a refusal changes nothing. */
START_TEST(test_config_set_results)
{
	struct config	*cfg = config_defaults();
	char		*cause = NULL, buf[64];

	/* The reference's numbers are the codes' values. */
	ck_assert_int_eq(WSD_ERR_FIXED_PORT, 106);
	ck_assert_int_eq(WSD_ERR_FIXED_HOST, 107);
	ck_assert_int_eq(WSD_ERR_FIXED_MAXCONN, 108);

	ck_assert_int_eq(config_set(cfg, "NoSuchKey", "1", false, &cause),
	    WSD_ERR_NOKEY);
	expect_cause(&cause, "unknown key NoSuchKey");
	/* Route keys change with a reload only. */
	ck_assert_int_eq(config_set(cfg, "Path", "/x", false, &cause),
	    WSD_ERR_NOKEY);
	expect_cause(&cause, "unknown key Path");

	/* Fixed while listening. */
	ck_assert_int_eq(config_set(cfg, "LocalPort", "8080", true, &cause),
	    WSD_ERR_FIXED_PORT);
	expect_cause(&cause, "cannot change LocalPort while listening");
	ck_assert_int_eq(cfg->local_port, 0);
	ck_assert_int_eq(config_set(cfg, "localhost", "::1", true, &cause),
	    WSD_ERR_FIXED_HOST);
	expect_cause(&cause, "cannot change LocalHost while listening");
	ck_assert_str_eq(cfg->local_host, "");
	ck_assert_int_eq(config_set(cfg, "MaxConnections", "5", true, &cause),
	    WSD_ERR_FIXED_MAXCONN);
	expect_cause(&cause, "cannot change MaxConnections while listening");
	ck_assert_int_eq(cfg->max_connections, 1000);
	ck_assert_int_eq(config_set(cfg, "Workers", "2", true, &cause),
	    WSD_ERR_FIXED);
	expect_cause(&cause, "cannot change Workers while listening");
	ck_assert_int_eq(cfg->workers, 0);
	/* ... and not otherwise. */
	ck_assert_int_eq(config_set(cfg, "LocalPort", "8080", false, &cause),
	    WSD_OK);
	expect_cause(&cause, NULL);
	ck_assert_int_eq(cfg->local_port, 8080);
	ck_assert_int_eq(config_get(cfg, "LocalPort", buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "8080");
	ck_assert_int_eq(config_set(cfg, "maxconnections", "5", false, &cause),
	    WSD_OK);
	ck_assert_int_eq(cfg->max_connections, 5);

	/* [admin] and [ssl]: never at run time. */
	ck_assert_int_eq(config_set(cfg, "Socket", "/tmp/a.sock", false,
	    &cause), WSD_ERR_FIXED);
	expect_cause(&cause, "cannot change Socket at run time (it takes "
	    "effect at a restart)");
	ck_assert_int_eq(config_set(cfg, "SSLCert", "x.pem", false, &cause),
	    WSD_ERR_FIXED);
	expect_cause(&cause, "cannot change SSLCert at run time (edit the file "
	    "and reload)");
	ck_assert_str_eq(cfg->ssl_cert, "");

	/* Bad values, checked as in a file; run-time keys while listening. */
	ck_assert_int_eq(config_set(cfg, "LogLevel", "9", true, &cause),
	    WSD_ERR_VALUE);
	expect_cause(&cause, "9 out of range (0..3)");
	ck_assert_int_eq(cfg->log_level, 1);
	ck_assert_int_eq(config_set(cfg, "DisconnectStatusCode", "1016", true,
	    &cause), WSD_ERR_VALUE);
	expect_cause(&cause, "1016 may not be sent in a close frame (use "
	    "1000-1003, 1007-1014 or 3000-4999)");
	ck_assert_int_eq(config_set(cfg, "DisconnectStatusCode", "999", true,
	    &cause), WSD_ERR_VALUE);
	expect_cause(&cause, "999 out of range (1000..4999)");
	ck_assert_int_eq(cfg->disconnect_status_code, 1000);
	ck_assert_int_eq(config_set(cfg, "DisconnectStatusCode", "3000", true,
	    &cause), WSD_OK);
	ck_assert_int_eq(cfg->disconnect_status_code, 3000);
	ck_assert_int_eq(config_set(cfg, "LogLevel", "3", true, &cause),
	    WSD_OK);
	ck_assert_int_eq(cfg->log_level, 3);
	expect_cause(&cause, NULL);

	/* The caller may not want the cause. */
	ck_assert_int_eq(config_set(cfg, "NoSuchKey", "1", false, NULL),
	    WSD_ERR_NOKEY);
	ck_assert_int_eq(config_set(cfg, "LogLevel", "x", false, NULL),
	    WSD_ERR_VALUE);
	ck_assert_int_eq(config_set(cfg, "LocalPort", "1", true, NULL),
	    WSD_ERR_FIXED_PORT);
	config_free(cfg);
}
END_TEST

/* DisconnectStatusCode takes exactly the codes the protocol core sends. */
START_TEST(test_close_code_rule)
{
	struct config	*cfg = config_defaults();
	char		 v[32];
	int		 code;
	enum wsd_error	 want;

	for (code = 900; code <= 5100; code++) {
		snprintf(v, sizeof v, "%d", code);
		want = ws_close_code_valid(code) ? WSD_OK : WSD_ERR_VALUE;
		ck_assert_msg(config_set(cfg, "DisconnectStatusCode", v, true,
		    NULL) == want, "%d", code);
	}
	/* Past an int: out of range, never wrapped into a code. */
	ck_assert_int_eq(config_set(cfg, "DisconnectStatusCode", "4294968296",
	    true, NULL), WSD_ERR_VALUE);
	ck_assert_int_eq(cfg->disconnect_status_code, 4999);
	config_free(cfg);
}
END_TEST

/* Script handlers as root: refused unless User or AllowRootHandlers. */
START_TEST(test_check_root)
{
	struct config	*cfg;
	char		*cause = NULL;
	static const char script[] =
	    "[route:s]\nPath = /s\nBackend = script:/bin/cat\n" ROUTE_E;

	cfg = load_ok(script);
	ck_assert_int_eq(config_check_root(cfg, 0, &cause), -1);
	ck_assert_str_eq(cause, "[route:s]: script handlers would run as root: "
	    "set User in [server] to drop privileges, or AllowRootHandlers = "
	    "true in [backend]");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(config_check_root(cfg, 0, NULL), -1);
	ck_assert_int_eq(config_check_root(cfg, 1000, &cause), 0);
	cfg->allow_root_handlers = true;
	ck_assert_int_eq(config_check_root(cfg, 0, &cause), 0);
	config_free(cfg);

	cfg = load_ok("[server]\nUser = nobody\n[route:s]\nPath = /s\n"
	    "Backend = script:/bin/cat\n");
	ck_assert_int_eq(config_check_root(cfg, 0, &cause), 0);
	config_free(cfg);
	/* User = root (by name or number) drops nothing. */
	cfg = load_ok("[server]\nUser = 0\n[route:s]\nPath = /s\n"
	    "Backend = script:/bin/cat\n");
	ck_assert_int_eq(config_check_root(cfg, 0, &cause), -1);
	free(cause);
	cause = NULL;
	config_free(cfg);
	/* The echo backend runs nothing. */
	cfg = load_ok(ROUTE_E);
	ck_assert_int_eq(config_check_root(cfg, 0, &cause), 0);
	config_free(cfg);
	/* Success leaves the cause alone. */
	ck_assert_ptr_null(cause);
}
END_TEST

/* Liveness keys: their defaults, per route (-1: the global), their range. */
START_TEST(test_liveness_keys)
{
	struct config	*cfg;
	char		 v[32], *cause = NULL;

	cfg = load_ok(ROUTE_E "[route:q]\nPath = /q\nBackend = echo\n"
	    "PingInterval = 0\nPingTimeout = 5\nIdleTimeout = 600\n");
	ck_assert_int_eq(cfg->ping_interval, 30);
	ck_assert_int_eq(cfg->ping_timeout, 30);
	ck_assert_int_eq(cfg->idle_timeout, 0);
	ck_assert_int_eq(cfg->routes[0].ping_interval, -1);
	ck_assert_int_eq(cfg->routes[0].ping_timeout, -1);
	ck_assert_int_eq(cfg->routes[0].idle_timeout, -1);
	ck_assert_int_eq(cfg->routes[1].ping_interval, 0);
	ck_assert_int_eq(cfg->routes[1].ping_timeout, 5);
	ck_assert_int_eq(cfg->routes[1].idle_timeout, 600);
	/* At run time, globally. */
	ck_assert_int_eq(config_set(cfg, "pinginterval", "1", true, &cause),
	    WSD_OK);
	ck_assert_int_eq(config_get(cfg, "PingInterval", v, sizeof(v)), 0);
	ck_assert_str_eq(v, "1");
	ck_assert_int_eq(config_set(cfg, "IdleTimeout", "-1", true, &cause),
	    WSD_ERR_VALUE);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(config_set(cfg, "PingTimeout", "86401", true,
	    &cause), WSD_ERR_VALUE);
	free(cause);
	config_free(cfg);
}
END_TEST

/*
 * The reference's names that are no key here: one reason, the same in a
 * file and at the admin socket (config_set, which "config" calls).
 */
START_TEST(test_unmapped_names)
{
	static const char *const names[] = { "SSLCheckOCSP", "LicenseInfo",
	    "BuildInfo", "MessageLength", "sslnegotiatedcipher",
	    "GUIAvailable" };
	struct config	*cfg;
	char		*why, *cause = NULL, *errors = NULL, ini[256], path[64];
	size_t		 i;
	FILE		*f;

	snprintf(path, sizeof(path), "/tmp/wsserverd-check-unmapped-%ld.ini",
	    (long)getpid());
	ck_assert_ptr_null(config_unmapped("LocalPort"));
	ck_assert_ptr_null(config_unmapped("NoSuchThing"));
	why = config_unmapped("SSLCheckOCSP");
	ck_assert_str_eq(why, "SSLCheckOCSP: has no meaning on Linux (it "
	    "checks a server's certificate; for client certificates use "
	    "SSLCheckCRL)");
	free(why);
	why = config_unmapped("licenseinfo");
	ck_assert_str_eq(why, "LicenseInfo: has no meaning on Linux (it "
	    "describes the reference's licence; wsserverd needs none)");
	free(why);
	cfg = config_defaults();
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		why = config_unmapped(names[i]);
		ck_assert_ptr_nonnull(why);
		ck_assert_int_eq(config_set(cfg, names[i], "1", false, &cause),
		    WSD_ERR_NOKEY);
		ck_assert_str_eq(cause, why);
		free(cause);
		cause = NULL;
		ck_assert_int_eq(config_get(cfg, names[i], ini, sizeof(ini)),
		    -1);
		/* The same sentence in a file's error, at its line. */
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fprintf(f, "[server]\n%s = 1\n[route:e]\nPath = /\n"
		    "Backend = echo\n", names[i]);
		fclose(f);
		ck_assert_ptr_null(config_load(path, &errors));
		snprintf(ini, sizeof(ini), "%s:2: %s\n", path, why);
		ck_assert_msg(strstr(errors, ini) != NULL, "%s", errors);
		free(errors);
		errors = NULL;
		free(why);
	}
	unlink(path);
	config_free(cfg);
}
END_TEST

START_TEST(test_man_page)
{
	static const char *const sections[] = {
		".SS [server]\n", ".SS [websocket]\n", ".SS [backend]\n",
		".SS [log]\n", ".SS [route:NAME]\n",
	};
	static const char *const linux_keys[] = {
		"UseBackgroundThread", "GUIAvailable", "CACertFilePaths",
		"UseInternalSecurityAPI", "SSLProvider", "SSLServerCACerts",
		"SSLSecurityFlags", "SSLIncludeCertChain", "SSLCheckOCSP",
		"SSLCipherStrength", "TLS13KeyShareGroups",
		"CloseStreamAfterTransfer", "LicenseInfo", "BuildInfo",
		"Listening", "Connections", "MessageLength",
		"SSLNegotiatedVersion", "SSLNegotiatedCipher",
		"SSLNegotiatedCipherSuite", "SSLNegotiatedCipherStrength",
		"SSLNegotiatedKeyExchange", "SSLNegotiatedKeyExchangeStrength",
	};
	char	*tmpl, *out, want[128];
	const char *c;
	size_t	 len, i, tp;
	FILE	*f;

	tmpl = slurp(TOP_SRCDIR "/man/wsserverd.ini.5.in");
	c = strstr(tmpl, "\n@KEYS@\n");
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_null(strstr(c + 2, "@KEYS@"));
	free(tmpl);

	out = NULL;
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	config_write_man(f);
	ck_assert_int_eq(fclose(f), 0);
	for (i = 0; i < config_key_count(); i++) {
		snprintf(want, sizeof want, ".TP\n\\fB%s\\fR = \\fI",
		    config_key_name(i));
		ck_assert_msg(strstr(out, want) != NULL, "no %s in the man page",
		    config_key_name(i));
	}
	for (i = 0; i < sizeof sections / sizeof sections[0]; i++)
		ck_assert_ptr_nonnull(strstr(out, sections[i]));
	for (i = 0; i < sizeof linux_keys / sizeof linux_keys[0]; i++) {
		snprintf(want, sizeof want, ".TP\n.B %s\n", linux_keys[i]);
		ck_assert_ptr_nonnull(strstr(out, want));
	}
	for (tp = 0, c = out; (c = strstr(c, ".TP\n")) != NULL; c++)
		tp++;
	ck_assert_uint_eq(tp, config_key_count() + 23);
	ck_assert_ptr_nonnull(strstr(out, "\\fBLocalPort\\fR = \\fIinteger\\fR\n"
	    "TCP port to listen on; 0 lets the kernel pick a free port (see "
	    "wsserverctl status).\n.br\nDefault: 0. Range: 0\\(en65535. "
	    "Fixed while listening: changed by a restart.\n"));
	/* Roff must see hyphens as \- and no line may start with a dot of ours. */
	ck_assert_ptr_null(strstr(out, "Comma-separated"));
	ck_assert_ptr_nonnull(strstr(out, "Comma\\-separated"));
	free(out);
}
END_TEST

/* The quick start's file loads as it is. */
START_TEST(test_etc_ini)
{
	struct config		*cfg;
	const struct route	*r;
	char			*errors;
	struct stat		 sb;

	cfg = config_load(TOP_SRCDIR "/etc/wsserverd.ini", &errors);
	ck_assert_msg(cfg != NULL, "etc/wsserverd.ini: %s", errors);
	ck_assert_str_eq(cfg->local_host, "127.0.0.1");
	ck_assert_int_eq(cfg->local_port, 8080);
	ck_assert_int_eq(cfg->log_level, 1);
	ck_assert_uint_eq(cfg->nroutes, 2);
	r = config_route_for(cfg, "/");
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->name, "demo");
	ck_assert_int_eq(r->kind, BACKEND_SCRIPT);
	ck_assert_int_eq(r->format, FORMAT_LINES);
	ck_assert_str_eq(r->argv[0], TOP_SRCDIR "/etc/handlers/greeter.sh");
	ck_assert_int_eq(stat(r->argv[0], &sb), 0);
	r = config_route_for(cfg, "/echo");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(r->kind, BACKEND_ECHO);
	config_free(cfg);
}
END_TEST

/* Range ends of every number: accepted at the ends, refused past them. */
static const struct {
	const char	*section;
	const char	*key;
	long long	 min;
	long long	 max;
} ranges[] = {
	{ "server", "LocalPort", 0, 65535 },
	{ "server", "ConnectionBacklog", 1, 65535 },
	{ "server", "DefaultTimeout", 0, 86400 },
	{ "server", "MaxConnections", 1, 100000 },
	{ "server", "KeepAliveTime", 0, 32767000 },
	{ "server", "KeepAliveInterval", 0, 32767000 },
	{ "server", "InBufferSize", 0, 1073741824 },
	{ "server", "OutBufferSize", 0, 1073741824 },
	{ "server", "UseIPv6", 0, 2 },
	{ "server", "ShutdownTimeout", 0, 3600 },
	{ "websocket", "MaxFrameSize", 125, 2147483647 },
	{ "websocket", "MaxMessageSize", 125, 1099511627776LL },
	{ "websocket", "HandshakeTimeout", 1, 3600 },
	{ "websocket", "CloseTimeout", 1, 3600 },
	{ "websocket", "MaxHeaderSize", 1024, 1048576 },
	{ "backend", "KillTimeout", 0, 3600 },
	{ "log", "LogLevel", 0, 3 },
};

START_TEST(test_range)
{
	struct config	*cfg;
	char		 body[256], want[256];

	snprintf(body, sizeof body, "[%s]\n%s = %lld\n" ROUTE_E,
	    ranges[_i].section, ranges[_i].key, ranges[_i].min);
	cfg = load_ok(body);
	config_free(cfg);
	snprintf(body, sizeof body, "[%s]\n%s = %lld\n" ROUTE_E,
	    ranges[_i].section, ranges[_i].key, ranges[_i].max);
	cfg = load_ok(body);
	config_free(cfg);

	snprintf(body, sizeof body, "[%s]\n%s = %lld\n" ROUTE_E,
	    ranges[_i].section, ranges[_i].key, ranges[_i].min - 1);
	snprintf(want, sizeof want, "@:2: %s: %lld out of range (%lld..%lld)\n",
	    ranges[_i].key, ranges[_i].min - 1, ranges[_i].min, ranges[_i].max);
	expect_errors(body, want);
	snprintf(body, sizeof body, "[%s]\n%s = %lld\n" ROUTE_E,
	    ranges[_i].section, ranges[_i].key, ranges[_i].max + 1);
	snprintf(want, sizeof want, "@:2: %s: %lld out of range (%lld..%lld)\n",
	    ranges[_i].key, ranges[_i].max + 1, ranges[_i].min, ranges[_i].max);
	expect_errors(body, want);
}
END_TEST

START_TEST(test_range_values)
{
	struct config	*cfg;

	cfg = load_ok("[websocket]\nMaxMessageSize = 1099511627776\n"
	    "MaxFrameSize = 2147483647\nDisconnectStatusCode = 4999\n"
	    "DisconnectStatusDescription = "
	    "0123456789012345678901234567890123456789012345678901234567890123456789"
	    "01234567890123456789012345678901234567890123456789012\n" ROUTE_E);
	ck_assert_uint_eq(cfg->max_message_size, UINT64_C(1) << 40);
	ck_assert_int_eq(cfg->max_frame_size, 2147483647);
	ck_assert_int_eq(cfg->disconnect_status_code, 4999);
	ck_assert_uint_eq(strlen(cfg->disconnect_status_description), 123);
	config_free(cfg);
}
END_TEST

/* The longest line is 8192 bytes; longer ones are one error, not two lines. */
START_TEST(test_line_limit)
{
	struct config	*cfg;
	char		*body;
	size_t		 n;

	body = malloc(20000);
	ck_assert_ptr_nonnull(body);
	n = (size_t)snprintf(body, 20000, "[server]\nAllowedClients = ");
	memset(body + n, 'x', 8192 - 17);
	n += 8192 - 17;
	strcpy(body + n, "\n" ROUTE_E);
	cfg = load_ok(body);
	ck_assert_uint_eq(strlen(cfg->allowed_clients), 8192 - 17);
	config_free(cfg);

	n = (size_t)snprintf(body, 20000, "[server]\nAllowedClients = ");
	memset(body + n, 'x', 8192 - 16);
	n += 8192 - 16;
	strcpy(body + n, "\nLocalPort = z\n" ROUTE_E);
	expect_errors(body, "@:2: line longer than 8192 bytes\n"
	    "@:3: LocalPort: invalid integer \"z\"\n");

	/* Far longer, and at the end of a file without a line end. */
	n = (size_t)snprintf(body, 20000, ROUTE_E "LogLevel = ");
	memset(body + n, '1', 19000 - n);
	body[19000] = '\0';
	expect_errors(body, "@:4: line longer than 8192 bytes\n");
	free(body);
}
END_TEST

/* Past CONFIG_MAX_ERRORS errors, the rest are counted. */
START_TEST(test_many_errors)
{
	char	*body, *errors, *p;
	size_t	 i, n, lines;

	body = malloc(4096);
	ck_assert_ptr_nonnull(body);
	n = (size_t)snprintf(body, 4096, "[server]\n");
	for (i = 0; i < 150; i++)
		n += (size_t)snprintf(body + n, 4096 - n, "Foo%zu = 1\n", i);
	snprintf(body + n, 4096 - n, ROUTE_E);
	ck_assert_ptr_null(config_load(write_ini(body), &errors));
	for (lines = 0, p = errors; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	ck_assert_uint_eq(lines, 101);
	p = expand("@:2: unknown key Foo0 in [server]\n", ini_path);
	ck_assert_int_eq(strncmp(errors, p, strlen(p)), 0);
	free(p);
	p = expand("@:101: unknown key Foo99 in [server]\n"
	    "@: 50 more errors not shown\n", ini_path);
	ck_assert_str_eq(errors + strlen(errors) - strlen(p), p);
	free(p);
	free(errors);
	free(body);
}
END_TEST

Suite *
make_config_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("config");

	tc = tcase_create("Core");
	tcase_add_checked_fixture(tc, NULL, config_teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_defaults_loaded);
	tcase_add_test(tc, test_every_key);
	tcase_add_test(tc, test_syntax_forms);
	tcase_add_test(tc, test_data_format);
	tcase_add_test(tc, test_bool_spellings);
	tcase_add_test(tc, test_bool_errors);
	tcase_add_loop_test(tc, test_error_class, 0,
	    sizeof error_cases / sizeof error_cases[0]);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_all_errors);
	tcase_add_test(tc, test_long_value);
	tcase_add_test(tc, test_client_host_names);
	tcase_add_test(tc, test_route_for);
	tcase_add_test(tc, test_route_prefix);
	tcase_add_test(tc, test_route_policy_keys);
	tcase_add_test(tc, test_relative_script);
	tcase_add_test(tc, test_relative_unix_and_workdir);
	tcase_add_test(tc, test_open_request_hook);
	tcase_add_test(tc, test_script_not_executable);
	tcase_add_test(tc, test_runtime_flags);
	tcase_add_test(tc, test_key_names_unique);
	tcase_add_test(tc, test_admin_keys);
	tcase_add_test(tc, test_lb_log_keys);
	tcase_add_test(tc, test_ssl_keys);
	tcase_add_test(tc, test_service_keys);
	tcase_add_test(tc, test_check_root);
	tcase_add_test(tc, test_config_set_results);
	tcase_add_test(tc, test_close_code_rule);
	tcase_add_test(tc, test_man_page);
	tcase_add_test(tc, test_unmapped_names);
	tcase_add_test(tc, test_liveness_keys);
	tcase_add_test(tc, test_etc_ini);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_add_checked_fixture(tc, NULL, config_teardown);
	tcase_add_loop_test(tc, test_range, 0, sizeof ranges / sizeof ranges[0]);
	tcase_add_test(tc, test_range_values);
	tcase_add_test(tc, test_line_limit);
	tcase_add_test(tc, test_many_errors);
	suite_add_tcase(s, tc);
	return s;
}
