/*
 * config-parse.c - reading wsserverd.ini: lines handed to inih, sections
 * entered, each "Key = value" applied (config-value.c) to the key of the
 * table (config-keys.c), then the checks that need the whole file. Every
 * problem is kept with its line and reported at the end, sorted, as
 * "file:line: message". Called by config_load (config.c).
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf/config-int.h"
#include "conf/config-keys.h"
#include "base/util.h"

/* Errors kept per load; the rest are counted, not stored. */
#define CONFIG_MAX_ERRORS	100
#define CONFIG_MAX_ROUTES	1024
/* inih keeps 49 bytes of a section name; stay well inside that. */
#define CONFIG_ROUTE_NAME_MAX	40
/* Most of a value's cause that its error line quotes. */
#define CONFIG_CAUSE_MAX	383

/* One problem found, before it is sorted and joined. */
struct config_error {
	int		 line;		/* 0: about the whole file */
	unsigned int	 seq;		/* keeps sorting stable */
	char		*msg;
};

/* Where the reader is: parse state shared by the reader and the handler. */
enum config_where {
	WHERE_NONE,		/* before any section */
	WHERE_GLOBAL,		/* [server], [websocket], [backend], [log] */
	WHERE_ROUTE,		/* [route:NAME] */
	WHERE_BAD,		/* a section already reported as wrong */
};

/* What the reader knows of a route beyond struct route. */
struct config_route_meta {
	int		 line;			/* of its first [route:NAME] */
	int		*seen;			/* line each key was set on */
};

/* One reading of a file: the reader's state and the problems found. */
struct config_parse {
	struct config		*cfg;
	const char		*file;
	char			*dir;		/* for relative script paths */
	FILE			*fp;
	int			 lineno;
	char			 line[CONFIG_LINE_MAX + 2];
	size_t			 linelen;
	size_t			 lineoff;	/* how much inih has been given */

	enum config_where	 where;
	enum config_section	 section;
	size_t			 route;
	int			*seen;		/* per key, as in meta */
	struct config_route_meta *meta;		/* parallel to cfg->routes */
	size_t			 nmeta;
	size_t			 routes_alloc;
	struct config_src	 src;		/* for config_apply */

	struct config_error	 errs[CONFIG_MAX_ERRORS];
	size_t			 nerrs;
	size_t			 dropped;
	unsigned int		 seq;
};

/* Records one error at line (0 = the whole file). */
static void __attribute__((format(printf, 3, 4)))
config_error(struct config_parse *p, int line, const char *fmt, ...)
{
	struct config_error	*e;
	va_list			 ap;
	char			 buf[512];

	if (p->nerrs == CONFIG_MAX_ERRORS) {
		p->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	e = &p->errs[p->nerrs++];
	e->line = line;
	e->seq = p->seq++;
	e->msg = xstrdup(buf);
}

/* qsort order of errors: by line, then in the order they were found. */
static int
config_error_cmp(const void *a, const void *b)
{
	const struct config_error	*ea = a, *eb = b;

	if (ea->line != eb->line)
		return ea->line < eb->line ? -1 : 1;
	return ea->seq < eb->seq ? -1 : (ea->seq > eb->seq);
}

/* Joins the errors, sorted by line, into one "file:line: msg\n" string. */
static char *
config_error_text(struct config_parse *p)
{
	char	*out;
	size_t	 i, len, size;
	int	 n;

	qsort(p->errs, p->nerrs, sizeof p->errs[0], config_error_cmp);
	size = 64 + strlen(p->file);
	for (i = 0; i < p->nerrs; i++)
		size += strlen(p->file) + strlen(p->errs[i].msg) + 16;
	out = xcalloc(1, size);
	len = 0;
	for (i = 0; i < p->nerrs; i++) {
		if (p->errs[i].line > 0)
			n = snprintf(out + len, size - len, "%s:%d: %s\n",
			    p->file, p->errs[i].line, p->errs[i].msg);
		else
			n = snprintf(out + len, size - len, "%s: %s\n",
			    p->file, p->errs[i].msg);
		len += (size_t)n;
	}
	if (p->dropped > 0)
		snprintf(out + len, size - len, "%s: %zu more errors not shown\n",
		    p->file, p->dropped);
	return out;
}

/* Enters the section named by a "[...]" line. */
static void
config_enter_section(struct config_parse *p, const char *name)
{
	struct config	*cfg = p->cfg;
	const char	*rname, *c;
	size_t		 i;
	int		 s;

	p->where = WHERE_BAD;
	if (strncasecmp(name, "route:", 6) == 0) {
		rname = name + 6;
		for (c = rname; *c != '\0'; c++) {
			if (!isalnum((unsigned char)*c) && *c != '_' &&
			    *c != '.' && *c != '-')
				break;
		}
		if (*rname == '\0' || *c != '\0' ||
		    strlen(rname) > CONFIG_ROUTE_NAME_MAX) {
			config_error(p, p->lineno, "invalid route name \""
			    CONFIG_QUOTE "\" (1-%d of A-Z a-z 0-9 _ . -)",
			    rname, CONFIG_ROUTE_NAME_MAX);
			return;
		}
		for (i = 0; i < cfg->nroutes; i++) {
			if (strcmp(cfg->routes[i].name, rname) == 0) {
				config_error(p, p->lineno, "duplicate section "
				    "[route:%s] (first at line %d)", rname,
				    p->meta[i].line);
				return;
			}
		}
		if (cfg->nroutes == CONFIG_MAX_ROUTES) {
			config_error(p, p->lineno, "too many routes (at most "
			    "%d)", CONFIG_MAX_ROUTES);
			return;
		}
		if (cfg->nroutes == p->routes_alloc) {
			p->routes_alloc = p->routes_alloc == 0 ? 4 :
			    p->routes_alloc * 2;
			/* At most CONFIG_MAX_ROUTES: no overflow. */
			cfg->routes = xrealloc(cfg->routes,
			    p->routes_alloc * sizeof *cfg->routes);
			p->meta = xrealloc(p->meta,
			    p->routes_alloc * sizeof *p->meta);
		}
		config_route_init(&cfg->routes[cfg->nroutes], rname);
		memset(&p->meta[cfg->nroutes], 0, sizeof p->meta[0]);
		p->meta[cfg->nroutes].line = p->lineno;
		p->meta[cfg->nroutes].seen = xcalloc(config_nkeys,
		    sizeof(int));
		p->nmeta++;
		p->route = cfg->nroutes++;
		p->where = WHERE_ROUTE;
		p->section = SECTION_ROUTE;
		return;
	}
	for (s = 0; s < SECTION_ROUTE; s++) {
		if (strcasecmp(name, config_section_names[s]) == 0) {
			p->where = WHERE_GLOBAL;
			p->section = s;
			return;
		}
	}
	config_error(p, p->lineno, "unknown section [" CONFIG_QUOTE "]", name);
}

/*
 * Looks at one whole line as inih will: sections are entered here (inih
 * gives its handler neither section lines nor line numbers), and lines
 * inih would reject are reported here, so every one of them is. Returns
 * false if the line must not reach inih.
 */
static bool
config_scan_line(struct config_parse *p)
{
	char	*s, *e, *close;
	size_t	 len;

	s = p->line;
	if (p->lineno == 1 && strncmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;
	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (len == 0 || *s == ';' || *s == '#')
		return true;
	if (*s == '[') {
		if ((close = memchr(s, ']', len)) == NULL) {
			config_error(p, p->lineno, "syntax error: missing \"]\"");
			p->where = WHERE_BAD;
			return false;
		}
		for (e = close + 1; e < s + len && isspace((unsigned char)*e);
		    e++)
			;
		if (e < s + len && *e != ';' && *e != '#') {
			config_error(p, p->lineno, "syntax error: text after "
			    "\"]\"");
			p->where = WHERE_BAD;
			return false;
		}
		*close = '\0';
		config_enter_section(p, s + 1);
		*close = ']';
		return true;
	}
	/* A ';' after whitespace starts a comment, as inih sees it. */
	for (e = s; e < s + len && *e != '=' && *e != ':'; e++) {
		if (*e == ';' && e > s && isspace((unsigned char)e[-1]))
			break;
	}
	if (e == s + len || *e == ';') {
		config_error(p, p->lineno, "syntax error: expected "
		    "\"Key = value\" or \"[section]\"");
		return false;
	}
	if (e == s) {
		config_error(p, p->lineno, "syntax error: no key before \"%c\"",
		    *e);
		return false;
	}
	return true;
}

/* Reads the next whole line into p->line; returns -1 at end of file. */
static int
config_next_line(struct config_parse *p)
{
	size_t	 len;
	int	 c;

	for (;;) {
		if (fgets(p->line, sizeof p->line, p->fp) == NULL)
			return -1;
		p->lineno++;
		p->lineoff = 0;
		len = strlen(p->line);
		if (len > 0 && p->line[len - 1] == '\n') {
			p->linelen = len;
		} else if (len <= CONFIG_LINE_MAX && feof(p->fp)) {
			p->line[len++] = '\n';
			p->line[len] = '\0';
			p->linelen = len;
		} else {
			if (len <= CONFIG_LINE_MAX)
				config_error(p, p->lineno, "line contains a "
				    "NUL byte");
			else
				config_error(p, p->lineno, "line longer than "
				    "%d bytes", CONFIG_LINE_MAX);
			while ((c = getc(p->fp)) != EOF && c != '\n')
				;
			/* inih gets an empty line, so the count stays right. */
			strcpy(p->line, "\n");
			p->linelen = 1;
			return 0;
		}
		if (!config_scan_line(p)) {
			strcpy(p->line, "\n");
			p->linelen = 1;
		}
		return 0;
	}
}

/*
 * inih's reader, fgets-like: hands out p->line, in pieces if inih's buffer
 * is smaller, and counts lines for the handler's messages.
 */
static char *
config_reader(char *str, int num, void *arg)
{
	struct config_parse	*p = arg;
	size_t			 n;

	if (num < 2)
		return NULL;
	if (p->lineoff == p->linelen && config_next_line(p) == -1)
		return NULL;
	n = p->linelen - p->lineoff;
	if (n > (size_t)num - 1)
		n = (size_t)num - 1;
	memcpy(str, p->line + p->lineoff, n);
	str[n] = '\0';
	p->lineoff += n;
	return str;
}

/* inih's handler: one "Key = value" line of the current section. */
static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct config_parse	*p = arg;
	const struct config_key	*k;
	void			*base;
	int			*seen;
	size_t			 i;
	int			 idx;
	char			*cause = NULL;

	(void)section;
	if (p->where == WHERE_BAD)
		return 1;
	if ((cause = config_unmapped(name)) != NULL) {
		config_error(p, p->lineno, "%s", cause);
		free(cause);
		return 1;
	}
	if (p->where == WHERE_NONE) {
		config_error(p, p->lineno, "%s: key outside any section", name);
		return 1;
	}
	if ((idx = config_find_key(p->section, name)) == -1) {
		for (i = 0; i < config_nkeys; i++) {
			if (strcasecmp(config_keys[i].name, name) == 0)
				break;
		}
		config_error(p, p->lineno, "unknown key %s in [%s%s]%s%s%s",
		    name, p->where == WHERE_ROUTE ? "route:" : "",
		    p->where == WHERE_ROUTE ? p->cfg->routes[p->route].name :
		    config_section_names[p->section],
		    i < config_nkeys ? " (it belongs in [" : "",
		    i < config_nkeys ?
		    config_section_names[config_keys[i].section] : "",
		    i < config_nkeys ? "])" : "");
		return 1;
	}
	k = &config_keys[idx];
	if (p->where == WHERE_ROUTE) {
		seen = p->meta[p->route].seen;
		base = &p->cfg->routes[p->route];
	} else {
		seen = p->seen;
		base = p->cfg;
	}
	if (seen[idx] != 0) {
		config_error(p, p->lineno, "duplicate key %s (first set at "
		    "line %d)", k->name, seen[idx]);
		return 1;
	}
	seen[idx] = p->lineno;
	if (config_apply(&p->src, k, base, value, &cause) == -1) {
		config_error(p, p->lineno, "%s: %.*s", k->name,
		    CONFIG_CAUSE_MAX, cause);
		free(cause);
	}
	return 1;
}

/* Sets p->dir to the absolute directory that holds the file. */
static int
config_set_dir(struct config_parse *p, const char *path)
{
	const char	*slash;
	char		 cwd[PATH_MAX];

	slash = strrchr(path, '/');
	if (path[0] == '/') {
		p->dir = config_strndup(path, slash == path ? 1 :
		    (size_t)(slash - path));
		return 0;
	}
	if (getcwd(cwd, sizeof cwd) == NULL)
		return -1;
	if (slash == NULL)
		p->dir = xstrdup(cwd);
	else
		p->dir = config_join(cwd, path, (size_t)(slash - path));
	return 0;
}

/* User and Group must exist (numbers always do) for the start to work. */
static void
config_check_ids(struct config_parse *p)
{
	unsigned int	 id, gid;
	int		 idx;

	if (*p->cfg->user != '\0' &&
	    config_lookup_id(p->cfg->user, false, &id, &gid) == -1) {
		idx = config_find_key(SECTION_SERVER, "User");
		config_error(p, idx >= 0 ? p->seen[idx] : 0, "User: no such "
		    "user \"" CONFIG_QUOTE "\"", p->cfg->user);
	}
	if (*p->cfg->group != '\0' &&
	    config_lookup_id(p->cfg->group, true, &id, &gid) == -1) {
		idx = config_find_key(SECTION_SERVER, "Group");
		config_error(p, idx >= 0 ? p->seen[idx] : 0, "Group: no such "
		    "group \"" CONFIG_QUOTE "\"", p->cfg->group);
	}
}

/* AdminAllowedUsers: every entry must name a user; kept as uids. */
static void
config_check_admin_users(struct config_parse *p)
{
	struct config	*cfg = p->cfg;
	char		*copy, *w, *save = NULL;
	unsigned int	 id, gid;
	int		 idx;

	if (*cfg->admin_allowed_users == '\0')
		return;
	idx = config_find_key(SECTION_ADMIN, "AdminAllowedUsers");
	copy = xstrdup(cfg->admin_allowed_users);
	/* At most one entry per two bytes ("a,b"), plus one. */
	cfg->admin_uids = xcalloc(strlen(copy) / 2 + 1, sizeof(uid_t));
	for (w = strtok_r(copy, ", \t", &save); w != NULL;
	    w = strtok_r(NULL, ", \t", &save)) {
		if (config_lookup_id(w, false, &id, &gid) == -1) {
			config_error(p, p->seen[idx], "AdminAllowedUsers: no "
			    "such user \"" CONFIG_QUOTE "\"", w);
			continue;
		}
		cfg->admin_uids[cfg->admin_nuids++] = (uid_t)id;
	}
	if (cfg->admin_nuids == 0 && strspn(cfg->admin_allowed_users,
	    ", \t") == strlen(cfg->admin_allowed_users))
		config_error(p, p->seen[idx], "AdminAllowedUsers: no user "
		    "named");
	free(copy);
}

/* The load balancer keys that only make sense together. */
static void
config_check_lb(struct config_parse *p)
{
	struct config	*cfg = p->cfg;
	int		 idx;

	idx = config_find_key(SECTION_SERVER, "ProxyProtocol");
	if (cfg->proxy_protocol != 0 && *cfg->proxy_trusted_clients == '\0')
		config_error(p, p->seen[idx], "ProxyProtocol needs "
		    "ProxyTrustedClients (the load balancers' addresses)");
	if (cfg->proxy_protocol != 0 && cfg->use_ssl)
		config_error(p, p->seen[idx], "ProxyProtocol cannot be used "
		    "with UseSSL (terminate TLS at the load balancer)");
	idx = config_find_key(SECTION_SERVER, "HealthPath");
	if (*cfg->health_path != '\0' && *cfg->health_path != '/')
		config_error(p, p->seen[idx], "HealthPath must start with "
		    "\"/\"");
}

/* The checks that need the whole file: required keys, at least one route. */
static void
config_finish(struct config_parse *p)
{
	const struct config_key	*k;
	size_t			 i, j;

	config_check_ids(p);
	config_check_admin_users(p);

	for (i = 0; i < p->cfg->nroutes; i++) {
		for (j = 0; j < config_nkeys; j++) {
			k = &config_keys[j];
			if (k->section == SECTION_ROUTE && k->def == NULL &&
			    p->meta[i].seen[j] == 0)
				config_error(p, p->meta[i].line, "[route:%s]: "
				    "missing %s", p->cfg->routes[i].name,
				    k->name);
		}
		if (p->cfg->routes[i].kind == BACKEND_DIR &&
		    p->cfg->routes[i].path != NULL && !p->cfg->routes[i].prefix)
			config_error(p, p->meta[i].line, "[route:%s]: a dir: "
			    "backend needs a prefix Path (ending in \"*\")",
			    p->cfg->routes[i].name);
	}
	if (p->cfg->nroutes == 0)
		config_error(p, 0, "no [route:...] section");
	config_check_lb(p);
}

/* Reads and checks path into cfg; see config-int.h. */
struct config_parse *
config_parse_file(const char *path, struct config *cfg)
{
	struct config_parse	*p;
	int			 r;

	p = xcalloc(1, sizeof *p);
	p->file = path;
	p->cfg = cfg;
	p->seen = xcalloc(config_nkeys, sizeof(int));

	if ((p->fp = fopen(path, "r")) == NULL)
		config_error(p, 0, "%s", strerror(errno));
	else if (config_set_dir(p, path) == -1)
		config_error(p, 0, "getcwd: %s", strerror(errno));
	else {
		p->src.dir = p->dir;
		p->src.cfg = cfg;
		/* Debian's inih would cut lines at 200 bytes otherwise. */
		ini_use_stack = false;
		ini_max_line = CONFIG_LINE_MAX + 3;
		ini_initial_alloc = ini_max_line;
		ini_allow_realloc = true;
		ini_allow_multiline = false;
		ini_allow_no_value = false;
		ini_stop_on_first_error = false;
		r = ini_parse_stream(config_reader, p, config_handler, p);
		if (ferror(p->fp))
			config_error(p, 0, "read error");
		else if (r == -2)
			config_error(p, 0, "out of memory");
		else if (r > 0 && p->nerrs == 0)
			config_error(p, r, "syntax error");
		else
			config_finish(p);
	}
	if (p->fp != NULL)
		fclose(p->fp);
	p->fp = NULL;
	return p;
}

/* The file's absolute directory; NULL when it could not be read. */
const char *
config_parse_dir(const struct config_parse *p)
{
	return p->dir;
}

/* Adds a problem at the line where key was set (0 when it was not). */
void
config_parse_error_key(struct config_parse *p, enum config_section section,
    const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];
	int	 idx = -1;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (key != NULL)
		idx = config_find_key(section, key);
	config_error(p, idx >= 0 ? p->seen[idx] : 0, "%s", msg);
}

/* Frees the reading; returns its errors (malloc'd) or NULL. */
char *
config_parse_end(struct config_parse *p)
{
	char	*errors = NULL;
	size_t	 i;

	if (p->nerrs > 0)
		errors = config_error_text(p);
	for (i = 0; i < p->nerrs; i++)
		free(p->errs[i].msg);
	for (i = 0; i < p->nmeta; i++)
		free(p->meta[i].seen);
	free(p->meta);
	free(p->seen);
	free(p->dir);
	free(p);
	return errors;
}
