/*
 * config-value.c - one value of wsserverd.ini, parsed for its key and
 * stored: numbers in range, booleans, close codes, modes, choices, token
 * and name lists, client lists (host names resolved here, at load), route
 * Paths and Backends, and paths taken relative to the file's directory.
 * Called by the file reader (config-parse.c), by config_defaults and the
 * admin's config_set (config.c), and for config_parse_bool by tls.c and
 * admin.c. Calls only the key table (config-keys.c) in src/conf.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/config-value.h"
#include "conf/config-int.h"
#include "base/util.h"
#include "core/fleet-proto.h"
#include "core/ws-frame.h"

/* strndup that never returns NULL. */
char *
config_strndup(const char *s, size_t n)
{
	char	*p;

	n = strnlen(s, n);
	p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Returns "dir/" followed by the first len bytes of name (malloc'd). */
char *
config_join(const char *dir, const char *name, size_t len)
{
	char	*out;

	xasprintf(&out, "%s/%.*s", dir, (int)len, name);
	return out;
}

/* Sets *cause, when cause is not NULL, to a sentence; see config-int.h. */
int
config_cause(char **cause, const char *fmt, ...)
{
	va_list	 ap;

	if (cause == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(cause, fmt, ap) == -1)
		util_oom(0);
	va_end(ap);
	return -1;
}

/*
 * Parses a boolean as the reference spells them: True/False, 1/0, Yes/No,
 * On/Off, in any case. Returns 0, or -1 if s is none of them.
 */
int
config_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "1", "yes", "on" };
	static const char *const no[] = { "false", "0", "no", "off" };
	size_t	 i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

/*
 * Parses a whole string as a decimal integer in [min, max]. Negative
 * numbers parse so that "-1" is reported as out of range, not as garbage.
 */
static int
config_parse_number(const char *s, int64_t min, int64_t max, int64_t *out,
    char **cause)
{
	const char		*d;
	unsigned long long	 u;
	char			*end;
	int64_t			 v;
	bool			 neg;

	neg = s[0] == '-';
	d = neg ? s + 1 : s;
	if (!isdigit((unsigned char)d[0]))
		goto invalid;
	errno = 0;
	u = strtoull(d, &end, 10);
	if (*end != '\0')
		goto invalid;
	if (errno == ERANGE || u > (unsigned long long)INT64_MAX)
		goto range;
	v = neg ? -(int64_t)u : (int64_t)u;
	if (v < min || v > max)
		goto range;
	*out = v;
	return 0;
invalid:
	config_cause(cause, "invalid integer \"" CONFIG_QUOTE "\"", s);
	return -1;
range:
	config_cause(cause, CONFIG_QUOTE " out of range (%lld..%lld)",
	    s, (long long)min, (long long)max);
	return -1;
}

/* True if c may appear in an RFC 7230 token (a subprotocol name). */
static bool
config_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* True if name is a portable environment variable name. */
static bool
config_env_name(const char *name, size_t len)
{
	size_t	 i;

	if (len == 0 || isdigit((unsigned char)name[0]))
		return false;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return false;
	}
	return true;
}

/* Frees a NULL-terminated array of strings. */
static void
config_free_vector(char **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/*
 * Splits s into words at whitespace; double quotes group words and are
 * removed. Returns a NULL-terminated vector, or NULL on an unterminated
 * quote.
 */
static char **
config_split_words(const char *s, size_t *count)
{
	char	**v, *word;
	size_t	 n, w;
	bool	 quoted;

	/* A word needs at least one byte and a separator: a safe bound. */
	v = xcalloc(strlen(s) / 2 + 2, sizeof *v);
	word = xcalloc(strlen(s) + 1, 1);
	n = 0;
	quoted = false;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		w = 0;
		while (*s != '\0' && (quoted || !isspace((unsigned char)*s))) {
			if (*s == '"')
				quoted = !quoted;
			else
				word[w++] = *s;
			s++;
		}
		if (quoted) {
			free(word);
			config_free_vector(v);
			return NULL;
		}
		v[n++] = config_strndup(word, w);
	}
	free(word);
	*count = n;
	return v;
}

static int	config_set_unix_path(const struct config_src *, struct route *,
		    const char *, const char *, char **);

/*
 * Parses "unix:SOCKET", "unix:SOCKET mux" and its other spelling
 * "unix+mux:SOCKET": a relative path is taken
 * relative to the file's directory. The socket need not exist yet (its
 * server may start later).
 */
static int
config_set_unix(const struct config_src *src, struct route *r,
    const char *value, char **cause)
{
	char		*path;
	size_t		 n;
	bool		 mux = false;
	int		 rv;

	if (strncasecmp(value, "unix+mux:", 9) == 0) {
		mux = true;
		path = xstrdup(value + 9);
	} else
		path = xstrdup(value + 5);
	n = strlen(path);
	if (n >= 4 && strcasecmp(path + n - 4, " mux") == 0) {
		mux = true;
		n -= 4;
		while (n > 0 && (path[n - 1] == ' ' || path[n - 1] == '\t'))
			n--;
		path[n] = '\0';
	}
	rv = config_set_unix_path(src, r, value, path, cause);
	free(path);
	r->mux = rv == 0 && mux;
	return rv;
}

/* The socket path part of config_set_unix. */
static int
config_set_unix_path(const struct config_src *src, struct route *r,
    const char *value, const char *path, char **cause)
{
	char		*abs;

	if (*path == '\0') {
		config_cause(cause, "unix: needs a socket path");
		return -1;
	}
	if (path[0] != '/') {
		if (src == NULL || src->dir == NULL) {
			config_cause(cause, "unix: socket must be an "
			    "absolute path");
			return -1;
		}
		abs = config_join(src->dir, path, strlen(path));
	} else
		abs = xstrdup(path);
	/* sun_path holds 108 bytes with its NUL. */
	if (strlen(abs) > 107) {
		config_cause(cause, "unix: socket path longer than 107 "
		    "bytes: %.64s...", abs);
		free(abs);
		return -1;
	}
	free(r->backend);
	r->backend = xstrdup(value);
	r->kind = BACKEND_UNIX;
	config_free_vector(r->argv);
	r->argv = NULL;
	free(r->socket);
	r->socket = abs;
	return 0;
}

/*
 * Parses "tcp:HOST:PORT", "tcp:HOST:PORT mux" and "tcp+mux:HOST:PORT":
 * HOST is an address ("[::1]" for IPv6) or a name, resolved now (at load)
 * so that a connect never waits for the resolver; the first address is
 * kept.
 */
static int
config_set_tcp(struct route *r, const char *value, char **cause)
{
	struct addrinfo	 hints, *res;
	char		*spec, *host, *port, *end;
	size_t		 n;
	long		 pn;
	bool		 mux = false;
	int		 rv;

	if (strncasecmp(value, "tcp+mux:", 8) == 0) {
		mux = true;
		spec = xstrdup(value + 8);
	} else
		spec = xstrdup(value + 4);
	n = strlen(spec);
	if (n >= 4 && strcasecmp(spec + n - 4, " mux") == 0) {
		mux = true;
		n -= 4;
		while (n > 0 && (spec[n - 1] == ' ' || spec[n - 1] == '\t'))
			n--;
		spec[n] = '\0';
	}
	host = spec;
	if (*host == '[') {
		host++;
		if ((port = strchr(host, ']')) == NULL || port[1] != ':') {
			free(spec);
			return config_cause(cause, "tcp: needs [ADDRESS]:PORT "
			    "for IPv6");
		}
		*port = '\0';
		port += 2;
	} else if ((port = strrchr(host, ':')) != NULL)
		*port++ = '\0';
	if (port == NULL || *host == '\0' || strchr(host, ' ') != NULL) {
		free(spec);
		return config_cause(cause, "tcp: needs HOST:PORT");
	}
	errno = 0;
	pn = strtol(port, &end, 10);
	if (*port < '0' || *port > '9' || *end != '\0' || errno != 0 ||
	    pn < 1 || pn > 65535) {
		config_cause(cause, "tcp: invalid port \"" CONFIG_QUOTE "\"",
		    port);
		free(spec);
		return -1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rv = getaddrinfo(host, port, &hints, &res)) != 0) {
		config_cause(cause, "tcp: host \"" CONFIG_QUOTE "\" does not "
		    "resolve (%s)", host, gai_strerror(rv));
		free(spec);
		return -1;
	}
	if (res->ai_addrlen > sizeof(r->tcp_addr)) {
		freeaddrinfo(res);
		free(spec);
		return config_cause(cause, "tcp: unusable address");
	}
	memcpy(&r->tcp_addr, res->ai_addr, res->ai_addrlen);
	r->tcp_addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	free(r->backend);
	r->backend = xstrdup(value);
	r->kind = BACKEND_TCP;
	r->mux = mux;
	config_free_vector(r->argv);
	r->argv = NULL;
	free(r->socket);
	r->socket = NULL;
	free(r->tcp_host);
	r->tcp_host = xstrdup(host);
	r->tcp_port = (int)pn;
	free(spec);
	return 0;
}

/*
 * Parses "dir:DIRECTORY": a relative path is taken relative to the file's
 * directory. The directory must exist; its real path is kept so requests
 * can be checked against it (no symlink escapes).
 */
static int
config_set_dirbackend(const struct config_src *src, struct route *r,
    const char *value, char **cause)
{
	const char	*path = value + 4;
	struct stat	 sb;
	char		*abs, *real;

	if (*path == '\0') {
		config_cause(cause, "dir: needs a directory");
		return -1;
	}
	if (path[0] != '/') {
		if (src == NULL || src->dir == NULL) {
			config_cause(cause, "dir: directory must be an "
			    "absolute path");
			return -1;
		}
		abs = config_join(src->dir, path, strlen(path));
	} else
		abs = xstrdup(path);
	if ((real = realpath(abs, NULL)) == NULL ||
	    stat(real, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		config_cause(cause, "%.200s: not a directory", abs);
		free(real);
		free(abs);
		return -1;
	}
	free(abs);
	free(r->backend);
	r->backend = xstrdup(value);
	r->kind = BACKEND_DIR;
	config_free_vector(r->argv);
	r->argv = NULL;
	free(r->dir);
	r->dir = real;
	return 0;
}

/*
 * Parses a path key, WorkingDirectory (a directory) or OpenRequestHook
 * (program: an executable file): empty, absolute, or relative to the
 * file's directory.
 */
static int
config_set_file(const struct config_src *src, const struct config_key *k,
    char **target, const char *value, bool program, char **cause)
{
	struct stat	 sb;
	char		*abs;
	bool		 ok;

	if (*value == '\0') {
		free(*target);
		*target = xstrdup("");
		return 0;
	}
	if (strlen(value) > (size_t)k->max) {
		config_cause(cause, "longer than %lld bytes",
		    (long long)k->max);
		return -1;
	}
	if (value[0] != '/') {
		if (src == NULL || src->dir == NULL) {
			config_cause(cause, "must be an absolute path");
			return -1;
		}
		abs = config_join(src->dir, value, strlen(value));
	} else
		abs = xstrdup(value);
	if (program)
		ok = stat(abs, &sb) == 0 && S_ISREG(sb.st_mode) &&
		    access(abs, X_OK) == 0;
	else
		ok = stat(abs, &sb) == 0 && S_ISDIR(sb.st_mode);
	if (!ok) {
		config_cause(cause, "%.200s: %s", abs, program ?
		    "not an executable file" : "not a directory");
		free(abs);
		return -1;
	}
	free(*target);
	*target = abs;
	return 0;
}

/* Parses one of k->choices (any case) into its index. */
static int
config_set_choice(const struct config_key *k, int *target, const char *value,
    char **cause)
{
	const char	*c, *e;
	int		 i;

	for (c = k->choices, i = 0; *c != '\0'; c = *e == '|' ? e + 1 : e,
	    i++) {
		e = c + strcspn(c, "|");
		if (strlen(value) == (size_t)(e - c) &&
		    strncasecmp(value, c, e - c) == 0) {
			*target = i;
			return 0;
		}
	}
	config_cause(cause, "invalid value \"" CONFIG_QUOTE "\" (use "
	    "%s)", value, k->choices);
	return -1;
}

/* Parses Backend into the route: kind, argv, and the value as written. */
static int
config_set_backend(const struct config_src *src, struct route *r,
    const char *value, char **cause)
{
	struct stat	 sb;
	char		**argv, *prog;
	size_t		 argc;

	if (strcasecmp(value, "echo") == 0) {
		free(r->backend);
		r->backend = xstrdup(value);
		r->kind = BACKEND_ECHO;
		config_free_vector(r->argv);
		r->argv = NULL;
		return 0;
	}
	if (strncasecmp(value, "unix:", 5) == 0 ||
	    strncasecmp(value, "unix+mux:", 9) == 0)
		return config_set_unix(src, r, value, cause);
	if (strncasecmp(value, "dir:", 4) == 0)
		return config_set_dirbackend(src, r, value, cause);
	if (strncasecmp(value, "tcp:", 4) == 0 ||
	    strncasecmp(value, "tcp+mux:", 8) == 0)
		return config_set_tcp(r, value, cause);
	if (strncasecmp(value, "script:", 7) != 0) {
		config_cause(cause, "unknown backend \"" CONFIG_QUOTE "\" "
		    "(use echo, script:PROGRAM [ARGS...], dir:DIRECTORY, "
		    "unix:SOCKET [mux], unix+mux:SOCKET, tcp:HOST:PORT [mux] "
		    "or tcp+mux:HOST:PORT)", value);
		return -1;
	}
	if ((argv = config_split_words(value + 7, &argc)) == NULL) {
		config_cause(cause, "unterminated quote");
		return -1;
	}
	if (argc == 0) {
		config_free_vector(argv);
		config_cause(cause, "script: needs a program");
		return -1;
	}
	if (argv[0][0] != '/') {
		/* Relative to the file, so a source tree's config works. */
		if (src == NULL || src->dir == NULL) {
			config_free_vector(argv);
			config_cause(cause, "script program must be an "
			    "absolute path");
			return -1;
		}
		prog = config_join(src->dir, argv[0], strlen(argv[0]));
		free(argv[0]);
		argv[0] = prog;
	}
	if (stat(argv[0], &sb) == -1) {
		config_cause(cause, "%s: %s", argv[0], strerror(errno));
		config_free_vector(argv);
		return -1;
	}
	if (!S_ISREG(sb.st_mode) || access(argv[0], X_OK) == -1) {
		config_cause(cause, "%s: not an executable file",
		    argv[0]);
		config_free_vector(argv);
		return -1;
	}
	free(r->backend);
	r->backend = xstrdup(value);
	r->kind = BACKEND_SCRIPT;
	config_free_vector(r->argv);
	r->argv = argv;
	return 0;
}

/* Checks a route Path: a plain absolute path, unique among routes. */
static int
config_set_path(const struct config_src *src, const struct config_key *k,
    struct route *r, const char *value, char **cause)
{
	const unsigned char	*c;
	size_t			 i;

	if (value[0] != '/') {
		config_cause(cause, "must start with \"/\"");
		return -1;
	}
	if (strlen(value) > (size_t)k->max) {
		config_cause(cause, "longer than %lld bytes",
		    (long long)k->max);
		return -1;
	}
	for (c = (const unsigned char *)value; *c != '\0'; c++) {
		if (*c <= ' ' || *c >= 0x7f || *c == '?' || *c == '#') {
			config_cause(cause, "may not contain spaces, "
			    "control characters, \"?\" or \"#\"");
			return -1;
		}
		if (*c == '*' && c[1] != '\0') {
			config_cause(cause, "\"*\" may only end a path "
			    "(a prefix)");
			return -1;
		}
	}
	for (i = 0; src != NULL && i < src->cfg->nroutes; i++) {
		if (&src->cfg->routes[i] == r || src->cfg->routes[i].path == NULL)
			continue;
		if (strcmp(src->cfg->routes[i].path, value) == 0) {
			config_cause(cause, "%s is already the path of "
			    "[route:%s]", value, src->cfg->routes[i].name);
			return -1;
		}
	}
	free(r->path);
	r->path = xstrdup(value);
	r->prefix = value[strlen(value) - 1] == '*';
	return 0;
}

/* Normalises a comma-separated token list to "a,b,c". */
static int
config_set_tokens(const struct config_key *k, char **target, const char *value,
    char **cause)
{
	const char	*s, *start;
	char		*out;
	size_t		 len, n;

	if (strlen(value) > (size_t)k->max) {
		config_cause(cause, "longer than %lld bytes",
		    (long long)k->max);
		return -1;
	}
	out = xcalloc(strlen(value) + 1, 1);
	n = 0;
	s = value;
	while (*s != '\0') {
		while (*s == ' ' || *s == '\t')
			s++;
		start = s;
		while (config_tchar((unsigned char)*s))
			s++;
		len = s - start;
		while (*s == ' ' || *s == '\t')
			s++;
		if (len == 0 || (*s != ',' && *s != '\0') ||
		    (*s == ',' && s[1] == '\0')) {
			config_cause(cause, "invalid token list \""
			    CONFIG_QUOTE "\"", value);
			free(out);
			return -1;
		}
		if (n > 0)
			out[n++] = ',';
		memcpy(out + n, start, len);
		n += len;
		if (*s == ',')
			s++;
	}
	free(*target);
	*target = out;
	return 0;
}

/* Parses a list of environment variable names into a NULL-terminated vector. */
static int
config_set_envlist(char ***target, const char *value, char **cause)
{
	char		**v;
	const char	*s, *start;
	size_t		 len, n;

	v = xcalloc(strlen(value) / 2 + 2, sizeof *v);
	n = 0;
	s = value;
	for (;;) {
		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		start = s;
		while (*s != '\0' && *s != ',' && !isspace((unsigned char)*s))
			s++;
		len = s - start;
		if (!config_env_name(start, len)) {
			config_cause(cause, "invalid variable name \"%.*s\"",
			    (int)(len > 64 ? 64 : len), start);
			config_free_vector(v);
			return -1;
		}
		if (len == 10 && strncmp(start, "HTTP_PROXY", len) == 0) {
			/* httpoxy: handlers take it for the Proxy: header. */
			config_cause(cause, "HTTP_PROXY may not be passed "
			    "(CVE-2016-5385, \"httpoxy\")");
			config_free_vector(v);
			return -1;
		}
		v[n++] = config_strndup(start, len);
	}
	config_free_vector(*target);
	*target = v;
	return 0;
}

/* Parses an octal file mode ("0660") within the key's range. */
static int
config_set_mode(const struct config_key *k, int *target, const char *value,
    char **cause)
{
	const char	*c;
	long		 n;

	for (c = value; *c >= '0' && *c <= '7'; c++)
		;
	if (*value == '\0' || *c != '\0' || c - value > 4) {
		config_cause(cause, "invalid mode \"" CONFIG_QUOTE "\" "
		    "(use octal digits, e.g. 0660)", value);
		return -1;
	}
	n = strtol(value, NULL, 8);
	if (n < k->min || n > k->max) {
		config_cause(cause, "mode %s out of range (0..0777)",
		    value);
		return -1;
	}
	*target = (int)n;
	return 0;
}

/* Most addresses one host name of a client list stands for. */
#define CONFIG_NAME_ADDRS	32

/*
 * Whether a client list entry is a host name: letters, digits, '-' and
 * '.' with at least one letter, and not a numeric address. Digits and dots
 * alone stay patterns, as before, rather than inet_aton forms.
 */
static bool
config_is_host_name(const char *e)
{
	unsigned char	buf[sizeof(struct in6_addr)];
	bool		letter = false;
	const char	*q;

	for (q = e; *q != '\0'; q++) {
		if (isalpha((unsigned char)*q))
			letter = true;
		else if (!isdigit((unsigned char)*q) && *q != '-' && *q != '.')
			return false;
	}
	return letter && inet_pton(AF_INET6, e, buf) != 1;
}

/* Appends one entry to a growing comma-separated list. */
static void
config_list_add(char **out, size_t *len, const char *e, size_t n)
{
	*out = xrealloc(*out, *len + n + 2);
	if (*len > 0)
		(*out)[(*len)++] = ',';
	memcpy(*out + *len, e, n);
	*len += n;
	(*out)[*len] = '\0';
}

/*
 * AllowedClients, BlockedClients, ProxyTrustedClients: stores the list
 * with each host name replaced by the addresses it resolves to now, so
 * that the resolver runs when the configuration is loaded (startup,
 * reload, an admin set), never per connection. Returns 0, or -1 with
 * cause set when a name does not resolve.
 */
static int
config_set_clients(char **target, const char *v, size_t vlen, char **cause)
{
	struct addrinfo	 hints, *res, *ai;
	char		*out = NULL, name[256], addr[INET6_ADDRSTRLEN];
	const char	*p, *e, *end = v + vlen;
	size_t		 n, len = 0;
	int		 rv, count, names = 0;

	for (p = v; p < end; p = e < end ? e + 1 : e) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		e = p;
		while (e < end && *e != ',')
			e++;
		n = (size_t)(e - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0)
			continue;
		if (n >= sizeof(name)) {
			config_list_add(&out, &len, p, n);
			continue;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		if (!config_is_host_name(name)) {
			config_list_add(&out, &len, p, n);
			continue;
		}
		names++;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		if ((rv = getaddrinfo(name, NULL, &hints, &res)) != 0) {
			config_cause(cause, "host name \"" CONFIG_QUOTE
			    "\" does not resolve (%s)", name,
			    gai_strerror(rv));
			free(out);
			return -1;
		}
		count = 0;
		for (ai = res; ai != NULL && count < CONFIG_NAME_ADDRS;
		    ai = ai->ai_next) {
			if (ai->ai_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)
				    ai->ai_addr)->sin_addr, addr, sizeof(addr));
			else if (ai->ai_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)
				    ai->ai_addr)->sin6_addr, addr,
				    sizeof(addr));
			else
				continue;
			config_list_add(&out, &len, addr, strlen(addr));
			count++;
		}
		freeaddrinfo(res);
	}
	free(*target);
	/* Without names the list stays as written (shown by the admin). */
	if (names == 0) {
		free(out);
		out = config_strndup(v, vlen);
	}
	*target = out;
	return 0;
}

/* Parses a [cluster] Redis address; see config-value.h. */
int
config_parse_redis(const char *url, struct config_redis *out)
{
	const char	*h, *e, *p;
	char		*end;
	size_t		 n;
	long		 v;

	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "unix:", 5) == 0) {
		n = strlen(url + 5);
		if (url[5] != '/' || n >= sizeof(out->path))
			return -1;
		memcpy(out->path, url + 5, n + 1);
		return 0;
	}
	if (strncmp(url, "redis://", 8) != 0)
		return -1;
	h = url + 8;
	if (*h == '[') {
		if ((e = strchr(++h, ']')) == NULL)
			return -1;
		p = e + 1;
	} else {
		e = h + strcspn(h, ":/");
		p = e;
	}
	n = (size_t)(e - h);
	if (n == 0 || n >= sizeof(out->host) || memchr(h, '@', n) != NULL)
		return -1;
	memcpy(out->host, h, n);
	out->host[n] = '\0';
	if (*p == ':') {
		errno = 0;
		v = strtol(p + 1, &end, 10);
		if (p[1] < '0' || p[1] > '9' || errno != 0 || v < 1 ||
		    v > 65535)
			return -1;
		out->port = (int)v;
		p = end;
	}
	if (*p == '/' && p[1] != '\0') {
		errno = 0;
		v = strtol(p + 1, &end, 10);
		if (p[1] < '0' || p[1] > '9' || errno != 0 || v < 0 ||
		    v > 1000000 || *end != '\0')
			return -1;
		out->db = (int)v;
		p = end;
	} else if (*p == '/')
		p++;
	return *p == '\0' ? 0 : -1;
}

/*
 * A route's Subscribe: comma-separated topics in which {NAME} stands for a
 * CGI variable (letters, digits and "_"). Returns 0, or -1 with cause.
 */
static int
config_check_subscribe(const char *v, size_t len, char **cause)
{
	size_t	i, j;

	for (i = 0; i < len; i++) {
		if (v[i] == '}')
			return config_cause(cause, "\"}\" without \"{\"");
		if (v[i] != '{')
			continue;
		for (j = i + 1; j < len && v[j] != '}'; j++) {
			if (!isalnum((unsigned char)v[j]) && v[j] != '_')
				return config_cause(cause, "a {NAME} holds "
				    "letters, digits and \"_\" only");
		}
		if (j == len || j == i + 1)
			return config_cause(cause, "\"{\" without a NAME "
			    "and \"}\"");
		i = j;
	}
	return 0;
}

/*
 * The string keys whose value means more than its bytes: checked (and a
 * path made absolute against the file's directory) before it is stored.
 * *abs is set to the value to store instead (malloc'd) when it changes.
 * Returns 0, or -1 with cause.
 */
static int
config_string_check(const struct config_src *src, const struct config_key *k,
    void *base, const char *v, size_t len, char **abs, char **cause)
{
	struct config_redis	 rd;
	char			*s;
	int			 rv = 0;

	*abs = NULL;
	if (len == 0)
		return 0;
	s = config_strndup(v, len);
	if (k->section == SECTION_ROUTE && k->offset == RT(subscribe))
		rv = config_check_subscribe(v, len, cause);
	else if (k->section == SECTION_CLUSTER &&
	    k->offset == CFG(cluster_redis) &&
	    config_parse_redis(s, &rd) == -1)
		rv = config_cause(cause, "use redis://HOST[:PORT][/DB] or "
		    "unix:/PATH, not \"" CONFIG_QUOTE "\"", s);
	else if (k->section == SECTION_CLUSTER &&
	    k->offset == CFG(cluster_node) && !fleet_node_valid(v, len))
		rv = config_cause(cause, "1-%d of A-Z a-z 0-9 _ . - only",
		    FLEET_NODE_MAX);
	else if (k->section == SECTION_CLUSTER &&
	    k->offset == CFG(cluster_prefix) && !fleet_topic_valid(v, len))
		rv = config_cause(cause, "no spaces or control characters");
	else if ((k->section == SECTION_CLUSTER &&
	    k->offset == CFG(cluster_password_file)) ||
	    (k->section == SECTION_ROUTE && (k->offset == RT(ssl_ca) ||
	    k->offset == RT(ssl_cert)))) {
		if (s[0] != '/' && (src == NULL || src->dir == NULL))
			rv = config_cause(cause, "must be an absolute path");
		else if (s[0] != '/') {
			*abs = config_join(src->dir, s, len);
			free(s);
			s = xstrdup(*abs);
		}
		/* The password file is read later (config_read_password). */
		if (rv == 0 && k->section == SECTION_ROUTE &&
		    access(s, R_OK) == -1)
			rv = config_cause(cause, "%.200s: %s", s,
			    strerror(errno));
		if (rv == -1) {
			free(*abs);
			*abs = NULL;
		}
	}
	free(s);
	return rv;
}

/*
 * Parses value for key k and stores it in base (a struct config, or a
 * struct route for route keys). Returns 0, or -1 with cause set and base
 * unchanged.
 */
int
config_apply(const struct config_src *src, const struct config_key *k,
    void *base, const char *value, char **cause)
{
	char		*field = (char *)base + k->offset;
	const char	*v;
	char		*abs;
	int64_t		 n;
	size_t		 len;
	bool		 b;

	switch (k->type) {
	case TYPE_BOOL:
		if (config_parse_bool(value, &b) == -1) {
			config_cause(cause, "invalid boolean \""
			    CONFIG_QUOTE "\" (use True/False, Yes/No, On/Off "
			    "or 1/0)", value);
			return -1;
		}
		*(bool *)field = b;
		return 0;
	case TYPE_INT:
	case TYPE_CLOSE_CODE:
		if (config_parse_number(value, k->min, k->max, &n, cause) == -1)
			return -1;
		/*
		 * n is within the key's range, an int's. Which codes a close
		 * frame may carry is the protocol core's rule, not ours.
		 */
		if (k->type == TYPE_CLOSE_CODE && !ws_close_code_valid((int)n)) {
			config_cause(cause, "%lld may not be sent in a "
			    "close frame (use 1000-1003, 1007-1014 or "
			    "3000-4999)", (long long)n);
			return -1;
		}
		*(int *)field = (int)n;
		return 0;
	case TYPE_UINT64:
		if (value[0] == '-') {
			config_cause(cause, CONFIG_QUOTE " out of range "
			    "(%lld..%lld)", value, (long long)k->min,
			    (long long)k->max);
			return -1;
		}
		if (config_parse_number(value, k->min, k->max, &n, cause) == -1)
			return -1;
		*(uint64_t *)field = (uint64_t)n;
		return 0;
	case TYPE_STRING:
		/* Quotes allow a value with leading or trailing spaces. */
		v = value;
		len = strlen(v);
		if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
			v++;
			len -= 2;
		}
		if (len > (size_t)k->max) {
			config_cause(cause, "longer than %lld bytes",
			    (long long)k->max);
			return -1;
		}
		if (k->section == SECTION_SERVER &&
		    (k->offset == CFG(allowed_clients) ||
		    k->offset == CFG(blocked_clients) ||
		    k->offset == CFG(proxy_trusted_clients)))
			return config_set_clients((char **)field, v, len,
			    cause);
		if (config_string_check(src, k, base, v, len, &abs,
		    cause) == -1)
			return -1;
		free(*(char **)field);
		*(char **)field = abs != NULL ? abs : config_strndup(v, len);
		return 0;
	case TYPE_FORMAT:
		if (strcasecmp(value, "lines") == 0)
			*(enum msg_format *)field = FORMAT_LINES;
		else if (strcasecmp(value, "binary") == 0)
			*(enum msg_format *)field = FORMAT_BINARY;
		else if (strcasecmp(value, "framed") == 0)
			*(enum msg_format *)field = FORMAT_FRAMED;
		else {
			config_cause(cause, "invalid format \""
			    CONFIG_QUOTE "\" (use lines, binary or framed)",
			    value);
			return -1;
		}
		return 0;
	case TYPE_PATH:
		return config_set_path(src, k, base, value, cause);
	case TYPE_BACKEND:
		return config_set_backend(src, base, value, cause);
	case TYPE_TOKENS:
		return config_set_tokens(k, (char **)field, value, cause);
	case TYPE_ENVLIST:
		return config_set_envlist((char ***)field, value, cause);
	case TYPE_MODE:
		return config_set_mode(k, (int *)field, value, cause);
	case TYPE_DIR:
	case TYPE_PROGRAM:
		return config_set_file(src, k, (char **)field, value,
		    k->type == TYPE_PROGRAM, cause);
	case TYPE_CHOICE:
		return config_set_choice(k, (int *)field, value, cause);
	}
	/* Not reached: every type returns above. */
	abort();
}

/* Fills in a new route's defaults. */
void
config_route_init(struct route *r, const char *name)
{
	const struct config_key	*k;
	size_t			 i;

	memset(r, 0, sizeof *r);
	r->name = xstrdup(name);
	for (i = 0; i < config_nkeys; i++) {
		k = &config_keys[i];
		if (k->section != SECTION_ROUTE || k->def == NULL)
			continue;
		/* A default the parser rejects is a bug in the table. */
		if (config_apply(NULL, k, r, k->def, NULL) == -1)
			abort();
	}
}

/* Frees what a route owns (not the route itself). */
void
config_route_clear(struct route *r)
{
	free(r->name);
	free(r->path);
	free(r->backend);
	config_free_vector(r->argv);
	free(r->subprotocols);
	config_free_vector(r->passenv);
	free(r->socket);
	free(r->origins);
	free(r->workdir);
	free(r->open_hook);
	free(r->dir);
	free(r->subscribe);
	free(r->tcp_host);
	free(r->ssl_ca);
	free(r->ssl_cert);
	free(r->ssl_name);
}

/*
 * Looks up a user or group, by name or number, as User and Group spell
 * them. Returns 0 with *id (and, for a user, *gid: the primary group), or
 * -1 when there is none.
 */
int
config_lookup_id(const char *name, bool group, unsigned int *id,
    unsigned int *gid)
{
	struct passwd	*pw;
	struct group	*gr;
	int64_t		 n;

	if (group) {
		if ((gr = getgrnam(name)) != NULL) {
			*id = gr->gr_gid;
			return 0;
		}
	} else if ((pw = getpwnam(name)) != NULL) {
		*id = pw->pw_uid;
		*gid = pw->pw_gid;
		return 0;
	}
	if (config_parse_number(name, 0, UINT32_MAX - 1, &n, NULL) == -1)
		return -1;
	*id = (unsigned int)n;
	if (!group)
		*gid = (pw = getpwuid((uid_t)n)) != NULL ? pw->pw_gid :
		    (unsigned int)n;
	return 0;
}
