/* wsserverctl.c - command-line client of wsserverd's admin socket. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "admin/cmd.h"
#include "conf/config.h"

#define CTL_DEFAULT_SOCKET	"/run/wsserverd/admin.sock"

/* unbound-control's convention. */
#define CTL_EXIT_OK		0
#define CTL_EXIT_ERROR		1	/* the daemon answered ERR */
#define CTL_EXIT_USAGE		2
#define CTL_EXIT_DOWN		3	/* the daemon is not running */

static volatile sig_atomic_t	ctl_interrupted;

/* Prints the usage and the command table. */
static void
ctl_usage(FILE *f)
{
	size_t	 i;

	fprintf(f, "Usage: wsserverctl [OPTION]... COMMAND [ARGUMENT]...\n"
	    "Sends one command to wsserverd's admin socket and prints the "
	    "reply.\n\n"
	    "  -s, --socket=PATH  admin socket (default %s)\n"
	    "  -c, --config=FILE  take the socket from this wsserverd.ini\n"
	    "  -f, --file=DATA    send, sendtext: the message is this file's "
	    "content\n"
	    "                     (- for stdin), of any size up to "
	    "MaxMessageSize\n"
	    "  -j, --json         JSON output (watch: one object per event)\n"
	    "  -h, --help         print this help and exit\n"
	    "  -V, --version      print the version and exit\n\n"
	    "Commands (any unambiguous prefix):\n", CTL_DEFAULT_SOCKET);
	for (i = 0; i < admin_cmd_count(); i++)
		fprintf(f, "  %-11s %-20s %s\n", admin_cmd_name(i),
		    admin_cmd_usage(i), admin_cmd_help(i));
}

/* The long forms of the options (getopt_long). */
static const struct option ctl_options[] = {
	{ "socket",	required_argument,	NULL,	's' },
	{ "config",	required_argument,	NULL,	'c' },
	{ "file",	required_argument,	NULL,	'f' },
	{ "json",	no_argument,		NULL,	'j' },
	{ "help",	no_argument,		NULL,	'h' },
	{ "version",	no_argument,		NULL,	'V' },
	{ NULL,		0,			NULL,	0 }
};

/* SIGINT/SIGTERM: end a watch (reads return EINTR). */
static void
ctl_sigint(int sig)
{
	ctl_interrupted = 1;
}

/* Joins the command and its arguments with single spaces into line. */
static int
ctl_join(char *line, size_t size, int argc, char **argv)
{
	size_t	 n = 0, len;
	int	 i;

	*line = '\0';
	for (i = 0; i < argc; i++) {
		len = strlen(argv[i]);
		if (n + len + 2 > size)
			return -1;
		if (i > 0)
			line[n++] = ' ';
		memcpy(line + n, argv[i], len);
		n += len;
		line[n] = '\0';
	}
	return 0;
}

/* Prints error lines on stderr, each prefixed with the program's name. */
static void
ctl_errors(const char *text)
{
	const char	*nl;

	while (*text != '\0') {
		nl = strchr(text, '\n');
		fprintf(stderr, "wsserverctl: %.*s\n", nl != NULL ?
		    (int)(nl - text) : (int)strlen(text), text);
		if (nl == NULL)
			break;
		text = nl + 1;
	}
}

/* The socket path: -s, else -c's [admin] Socket, else the default. */
static int
ctl_socket_path(const char *sock, const char *ini, char *out, size_t outlen)
{
	struct config	*cfg;
	char		*errors = NULL;

	if (sock != NULL) {
		snprintf(out, outlen, "%s", sock);
		return 0;
	}
	if (ini == NULL) {
		snprintf(out, outlen, "%s", CTL_DEFAULT_SOCKET);
		return 0;
	}
	if ((cfg = config_load(ini, &errors)) == NULL) {
		fprintf(stderr, "wsserverctl: cannot read the socket path from "
		    "%s:\n", ini);
		ctl_errors(errors);
		free(errors);
		return CTL_EXIT_USAGE;
	}
	if (*cfg->admin_socket == '\0') {
		fprintf(stderr, "wsserverctl: the admin socket is turned off "
		    "in %s ([admin] Socket is empty)\n", ini);
		config_free(cfg);
		return CTL_EXIT_DOWN;
	}
	snprintf(out, outlen, "%s", cfg->admin_socket);
	config_free(cfg);
	return 0;
}

/* Connects to the admin socket; returns the fd, or -1 with *code set. */
static int
ctl_connect(const char *path, int *code)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "wsserverctl: socket path too long: %s\n",
		    path);
		*code = CTL_EXIT_USAGE;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "wsserverctl: socket: %s\n", strerror(errno));
		*code = CTL_EXIT_ERROR;
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		if (errno == ENOENT || errno == ECONNREFUSED ||
		    errno == ENOTDIR) {
			fprintf(stderr, "wsserverctl: cannot connect to %s: %s "
			    "(is wsserverd running?)\n", path, strerror(errno));
			*code = CTL_EXIT_DOWN;
		} else {
			fprintf(stderr, "wsserverctl: cannot connect to %s: "
			    "%s\n", path, strerror(errno));
			*code = CTL_EXIT_ERROR;
		}
		close(fd);
		return -1;
	}
	return fd;
}

/* Writes all of buf; returns 0 or -1. */
static int
ctl_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Prints an evbuffer to stdout and empties it. */
static void
ctl_print(struct evbuffer *b)
{
	size_t	 len = evbuffer_get_length(b);

	fwrite(evbuffer_pullup(b, (ev_ssize_t)len), 1, len, stdout);
	evbuffer_drain(b, len);
}

/* Prints a reply that has no JSON of its own as one JSON object. */
static void
ctl_print_json(bool ok, int code, const char *text, char **lines,
    size_t nlines)
{
	struct evbuffer	*b = evbuffer_new();
	size_t		 i;

	if (ok)
		evbuffer_add_printf(b, "{\"ok\":true,\"message\":");
	else
		evbuffer_add_printf(b, "{\"ok\":false,\"code\":%d,\"error\":",
		    code);
	admin_json_string(b, text, strlen(text));
	evbuffer_add(b, ",\"lines\":[", 10);
	for (i = 0; i < nlines; i++) {
		if (i > 0)
			evbuffer_add(b, ",", 1);
		admin_json_string(b, lines[i], strlen(lines[i]));
	}
	evbuffer_add(b, "]}\n", 3);
	ctl_print(b);
	evbuffer_free(b);
}

/* A piece of an event line: start and length. */
struct ctl_span {
	const char	*p;
	size_t		 len;
};

/* Splits off the next space-separated word of *s; 0, or -1 if none. */
static int
ctl_word(const char **s, struct ctl_span *w)
{
	const char	*sp;

	if (**s == '\0')
		return -1;
	w->p = *s;
	sp = strchr(*s, ' ');
	w->len = sp != NULL ? (size_t)(sp - *s) : strlen(*s);
	*s += w->len + (sp != NULL ? 1 : 0);
	return w->len > 0 ? 0 : -1;
}

/* True if the span is a non-empty run of decimal digits (a JSON number). */
static bool
ctl_number(const struct ctl_span *w)
{
	size_t	 i;

	if (w->len == 0 || w->len > 19)
		return false;
	for (i = 0; i < w->len; i++)
		if (w->p[i] < '0' || w->p[i] > '9')
			return false;
	return true;
}

/* Adds ,"name":"text" to b. */
static void
ctl_json_str(struct evbuffer *b, const char *name, const char *p, size_t len)
{
	evbuffer_add_printf(b, ",\"%s\":", name);
	admin_json_string(b, p, len);
}

/* Splits "ADDR:PORT" (the address may be IPv6) into address and port. */
static int
ctl_addr_port(const struct ctl_span *w, struct ctl_span *addr,
    struct ctl_span *port)
{
	const char	*colon = NULL, *q;

	for (q = w->p; q < w->p + w->len; q++)
		if (*q == ':')
			colon = q;
	if (colon == NULL)
		return -1;
	addr->p = w->p;
	addr->len = (size_t)(colon - w->p);
	port->p = colon + 1;
	port->len = w->len - addr->len - 1;
	return ctl_number(port) ? 0 : -1;
}

/*
 * Writes the fields of one watch event line (formats in wsserverd(8),
 * watch) after "event" into b; -1 if the line is not of its event's form.
 */
static int
ctl_event_fields(struct evbuffer *b, const struct ctl_span *ev, const char *s)
{
	struct ctl_span	 id, ap, addr, port, uri, num, who;
	size_t		 n;

#define CTL_IS(name)	(ev->len == strlen(name) && \
			    memcmp(ev->p, name, ev->len) == 0)
	if (CTL_IS("Log")) {
		if (ctl_word(&s, &who) == -1)
			return -1;
		ctl_json_str(b, "severity", who.p, who.len);
		ctl_json_str(b, "message", s, strlen(s));
		return 0;
	}
	if (CTL_IS("Dropped")) {
		if (ctl_word(&s, &num) == -1 || !ctl_number(&num) ||
		    strcmp(s, "event(s)") != 0)
			return -1;
		evbuffer_add_printf(b, ",\"count\":%.*s", (int)num.len, num.p);
		return 0;
	}
	if (ctl_word(&s, &id) == -1)
		return -1;
	if (CTL_IS("WebSocketOpenRequest") || CTL_IS("Connected")) {
		if (ctl_word(&s, &ap) == -1 ||
		    ctl_addr_port(&ap, &addr, &port) == -1 ||
		    ctl_word(&s, &uri) == -1)
			return -1;
		ctl_json_str(b, "id", id.p, id.len);
		ctl_json_str(b, "address", addr.p, addr.len);
		evbuffer_add_printf(b, ",\"port\":%.*s", (int)port.len, port.p);
		ctl_json_str(b, "uri", uri.p, uri.len);
		if (CTL_IS("Connected")) {
			if (strncmp(s, "route=", 6) != 0)
				return -1;
			ctl_json_str(b, "route", s + 6, strlen(s + 6));
			return 0;
		}
		if (ctl_word(&s, &num) == -1 || !ctl_number(&num))
			return -1;
		evbuffer_add_printf(b, ",\"status\":%.*s", (int)num.len,
		    num.p);
		ctl_json_str(b, "cause", s, strlen(s));
		return 0;
	}
	if (CTL_IS("Disconnected")) {
		if (ctl_word(&s, &num) == -1 || num.len < 6 ||
		    memcmp(num.p, "code=", 5) != 0 || ctl_word(&s, &who) == -1 ||
		    who.len < 3 || memcmp(who.p, "by=", 3) != 0 ||
		    strncmp(s, "reason=\"", 8) != 0 ||
		    (n = strlen(s)) < 9 || s[n - 1] != '"')
			return -1;
		num.p += 5;
		num.len -= 5;
		if (!ctl_number(&num))
			return -1;
		ctl_json_str(b, "id", id.p, id.len);
		evbuffer_add_printf(b, ",\"code\":%.*s", (int)num.len, num.p);
		ctl_json_str(b, "by", who.p + 3, who.len - 3);
		ctl_json_str(b, "reason", s + 8, n - 9);
		return 0;
	}
	if (CTL_IS("Error")) {
		if (ctl_word(&s, &num) == -1 || !ctl_number(&num))
			return -1;
		ctl_json_str(b, "id", id.p, id.len);
		evbuffer_add_printf(b, ",\"code\":%.*s", (int)num.len, num.p);
		ctl_json_str(b, "text", s, strlen(s));
		return 0;
	}
#undef CTL_IS
	return -1;
}

/*
 * Prints one watch event line as one JSON object: "event" (the line's
 * first word) and the fields wsserverd(8) names for it; a line of
 * another form (a newer daemon's event) gives "event" and "line".
 */
static void
ctl_print_event_json(const char *line)
{
	struct evbuffer	*b = evbuffer_new();
	struct ctl_span	 ev;
	const char	*s = line;

	if (b == NULL) {
		perror("wsserverctl");
		exit(CTL_EXIT_ERROR);
	}
	if (ctl_word(&s, &ev) == -1) {
		ev.p = line;
		ev.len = 0;
	}
	evbuffer_add(b, "{\"event\":", 9);
	admin_json_string(b, ev.p, ev.len);
	if (ev.len == 0 || ctl_event_fields(b, &ev, s) == -1) {
		evbuffer_drain(b, evbuffer_get_length(b));
		evbuffer_add(b, "{\"event\":", 9);
		admin_json_string(b, ev.p, ev.len);
		ctl_json_str(b, "line", line, strlen(line));
	}
	evbuffer_add(b, "}\n", 2);
	ctl_print(b);
	evbuffer_free(b);
}

/* Reads one line without its LF; returns its length, or -1 at EOF/error. */
static ssize_t
ctl_getline(FILE *f, char **line, size_t *cap)
{
	ssize_t	 n;

	errno = 0;
	if ((n = getline(line, cap, f)) == -1)
		return -1;
	if (n > 0 && (*line)[n - 1] == '\n')
		(*line)[--n] = '\0';
	return n;
}

/*
 * -f: the data of a send or sendtext, from a file or stdin ("-"). A file
 * (stdin redirected from one too) is read as it is sent; a pipe is
 * spooled to an unlinked temporary file first, since sendbytes says its
 * length before the data. Returns the stream with *len set, or NULL.
 */
static FILE *
ctl_data_open(const char *path, uint64_t *len)
{
	struct stat	 sb;
	FILE		*f, *tmp;
	char		 buf[65536];
	size_t		 n;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "wsserverctl: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode)) {
		*len = (uint64_t)sb.st_size;
		return f;
	}
	if ((tmp = tmpfile()) == NULL) {
		perror("wsserverctl: tmpfile");
		return NULL;
	}
	*len = 0;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (fwrite(buf, 1, n, tmp) != n) {
			perror("wsserverctl: tmpfile");
			fclose(tmp);
			return NULL;
		}
		*len += n;
	}
	if (ferror(f)) {
		fprintf(stderr, "wsserverctl: %s: read error\n", path);
		fclose(tmp);
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	rewind(tmp);
	return tmp;
}

/* Sends len bytes of f after the command line. Returns 0, or -1. */
static int
ctl_data_send(int fd, FILE *f, uint64_t len)
{
	char	buf[65536];
	size_t	n, want;

	while (len > 0) {
		want = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		if ((n = fread(buf, 1, want, f)) == 0) {
			fprintf(stderr, "wsserverctl: the data ended %llu bytes "
			    "early\n", (unsigned long long)len);
			return -1;
		}
		if (ctl_write_all(fd, buf, n) == -1) {
			fprintf(stderr, "wsserverctl: write: %s\n",
			    strerror(errno));
			return -1;
		}
		len -= n;
	}
	return 0;
}

/*
 * -f: send ID / sendtext ID / sendbytes ID [text] become "sendbytes ID LEN
 * [text]" with the data's length, in line (the data follows it). Returns
 * 0, or an exit code.
 */
static int
ctl_data_line(char *line, size_t size, int argc, char **argv, uint64_t len)
{
	const char	*name;
	int		 i;
	bool		 text;

	if ((i = admin_cmd_lookup(argv[0], strlen(argv[0]))) < 0 ||
	    (strcmp((name = admin_cmd_name((size_t)i)), "send") != 0 &&
	    strcmp(name, "sendtext") != 0 && strcmp(name, "sendbytes") != 0)) {
		fprintf(stderr, "wsserverctl: -f goes with send, sendtext or "
		    "sendbytes\n");
		return CTL_EXIT_USAGE;
	}
	text = strcmp(name, "sendtext") == 0 ||
	    (argc == 3 && strcmp(argv[2], "text") == 0);
	if (argc != 2 && !(argc == 3 && strcmp(name, "sendbytes") == 0 &&
	    text)) {
		fprintf(stderr, "wsserverctl: usage: wsserverctl -f FILE "
		    "%s ID%s\n", name, strcmp(name, "sendbytes") == 0 ?
		    " [text]" : "");
		return CTL_EXIT_USAGE;
	}
	snprintf(line, size, "sendbytes %.64s %llu%s", argv[1],
	    (unsigned long long)len, text ? " text" : "");
	return 0;
}

/* Sends one command line, prints the reply (and a watch's events). */
int
main(int argc, char **argv)
{
	struct admin_req	*req;
	struct sigaction	 sa;
	FILE			*f;
	const char		*sock = NULL, *ini = NULL, *text, *datapath = NULL;
	FILE			*data = NULL;
	uint64_t		 datalen = 0;
	char			 line[ADMIN_LINE_MAX + 8], path[4096];
	char			*cause = NULL;
	char			*buf = NULL, **lines = NULL, *abspath = NULL;
	size_t			 cap = 0, nlines = 0, i;
	ssize_t			 n;
	bool			 json = false, ok, native_json;
	int			 ch, fd, code = 0, rc, exitcode;

	while ((ch = getopt_long(argc, argv, "+s:c:f:jhV", ctl_options,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			datapath = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 'c':
			ini = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'V':
			printf("wsserverctl %s\n", PACKAGE_VERSION);
			return CTL_EXIT_OK;
		case 'h':
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		default:
			fprintf(stderr, "Try 'wsserverctl --help' for more "
			    "information.\n");
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		fprintf(stderr, "wsserverctl: no command given\n");
		ctl_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	/* The daemon opens the file: a relative path means ours, not its. */
	if (argc == 3 && *argv[2] != '/' && *argv[2] != '\0' &&
	    (rc = admin_cmd_lookup(argv[0], strlen(argv[0]))) >= 0 &&
	    strcmp(admin_cmd_name((size_t)rc), "sendfile") == 0) {
		if (getcwd(path, sizeof(path)) == NULL ||
		    asprintf(&abspath, "%s/%s", path, argv[2]) == -1) {
			perror("wsserverctl");
			return CTL_EXIT_ERROR;
		}
		argv[2] = abspath;
	}
	if (datapath != NULL) {
		if ((data = ctl_data_open(datapath, &datalen)) == NULL)
			return CTL_EXIT_ERROR;
		rc = ctl_data_line(line, ADMIN_LINE_MAX, argc, argv, datalen);
		if (rc != 0) {
			fclose(data);
			return rc;
		}
	} else
		rc = ctl_join(line, ADMIN_LINE_MAX, argc, argv);
	free(abspath);
	if (rc == -1) {
		fprintf(stderr, "wsserverctl: command line too long (at most "
		    "%d bytes)\n", ADMIN_LINE_MAX - 1);
		return CTL_EXIT_USAGE;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		perror("wsserverctl");
		return CTL_EXIT_ERROR;
	}
	if ((rc = admin_parse(line, strlen(line), req, &cause)) != 0) {
		fprintf(stderr, "wsserverctl: %.1023s\n", cause);
		free(cause);
		free(req);
		return CTL_EXIT_USAGE;
	}
	/* Send the full name: the daemon's table may have grown meanwhile. */
	native_json = json && admin_cmd_json((size_t)req->cmd);
	snprintf(line, sizeof(line), "%s%s%s%s\n",
	    admin_cmd_name((size_t)req->cmd), argc > 1 ? " " : "",
	    argc > 1 ? req->tail[0] : "",
	    native_json && !req->json ? " json" : "");
	if (req->json)
		native_json = true;
	if (argc > 1 && req->argc == 0 && !req->json)
		snprintf(line, sizeof(line), "%s\n",
		    admin_cmd_name((size_t)req->cmd));
	if (strlen(line) > ADMIN_LINE_MAX) {
		fprintf(stderr, "wsserverctl: command line too long (at most "
		    "%d bytes)\n", ADMIN_LINE_MAX - 1);
		free(req);
		return CTL_EXIT_USAGE;
	}
	if ((rc = ctl_socket_path(sock, ini, path, sizeof(path))) != 0) {
		free(req);
		return rc;
	}
	if ((fd = ctl_connect(path, &code)) == -1) {
		free(req);
		return code;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (ctl_write_all(fd, line, strlen(line)) == -1) {
		fprintf(stderr, "wsserverctl: write to %s: %s\n", path,
		    strerror(errno));
		close(fd);
		free(req);
		return CTL_EXIT_ERROR;
	}
	if (data != NULL) {
		rc = ctl_data_send(fd, data, datalen);
		fclose(data);
		if (rc == -1) {
			close(fd);
			free(req);
			return CTL_EXIT_ERROR;
		}
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		perror("wsserverctl: fdopen");
		close(fd);
		free(req);
		return CTL_EXIT_ERROR;
	}

	/* The reply: a status line, data lines, an empty line. */
	if (ctl_getline(f, &buf, &cap) == -1) {
		fprintf(stderr, "wsserverctl: %s closed the connection without "
		    "a reply\n", path);
		exitcode = ctl_interrupted ? CTL_EXIT_OK : CTL_EXIT_ERROR;
		goto out;
	}
	ok = strncmp(buf, "OK", 2) == 0 && (buf[2] == '\0' || buf[2] == ' ');
	if (ok)
		text = buf[2] == ' ' ? buf + 3 : "";
	else if (sscanf(buf, "ERR %d", &code) == 1) {
		text = strchr(buf + 4, ' ') != NULL ? strchr(buf + 4, ' ') + 1 :
		    "";
	} else {
		fprintf(stderr, "wsserverctl: unexpected reply: %s\n", buf);
		exitcode = CTL_EXIT_ERROR;
		goto out;
	}
	text = strdup(text);
	for (;;) {
		if ((n = ctl_getline(f, &buf, &cap)) == -1) {
			fprintf(stderr, "wsserverctl: the reply ended early\n");
			free((char *)text);
			exitcode = CTL_EXIT_ERROR;
			goto out;
		}
		if (n == 0)
			break;
		lines = realloc(lines, (nlines + 1) * sizeof(*lines));
		if (lines == NULL || (lines[nlines] = strdup(buf)) == NULL) {
			perror("wsserverctl");
			exit(CTL_EXIT_ERROR);
		}
		nlines++;
	}
	if (json && !(ok && native_json))
		ctl_print_json(ok, code, text, lines, nlines);
	else if (ok) {
		if (*text != '\0')
			printf("%s\n", text);
		for (i = 0; i < nlines; i++)
			printf("%s\n", lines[i]);
	} else {
		fprintf(stderr, "wsserverctl: error %d: %s\n", code, text);
		for (i = 0; i < nlines; i++)
			fprintf(stderr, "%s\n", lines[i]);
	}
	free((char *)text);
	if (!ok)
		exitcode = code == WSD_ERR_UNKNOWN ||
		    code == WSD_ERR_AMBIGUOUS || code == WSD_ERR_USAGE ?
		    CTL_EXIT_USAGE : CTL_EXIT_ERROR;
	else
		exitcode = CTL_EXIT_OK;

	/* watch: events until the daemon goes or we are interrupted. */
	if (ok && strcmp(admin_cmd_name((size_t)req->cmd), "watch") == 0) {
		fflush(stdout);
		while (!ctl_interrupted && ctl_getline(f, &buf, &cap) != -1) {
			if (json)
				ctl_print_event_json(buf);
			else
				printf("%s\n", buf);
			fflush(stdout);
		}
	}
out:
	fclose(f);
	for (i = 0; i < nlines; i++)
		free(lines[i]);
	free(lines);
	free(buf);
	free(req);
	return exitcode;
}
