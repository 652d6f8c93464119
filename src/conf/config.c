/*
 * config.c - a configuration as a whole: config_load reads the file
 * (config-parse.c), then builds the TLS context from [ssl] (tls.c) so a
 * bad certificate is a configuration error, and makes the remaining paths
 * absolute; config_free frees both. Also the defaults, the route lookup
 * for a request path, User/Group ids, the root check and the admin's
 * config get/set. Called by main, wsserverctl, the server (reload) and the
 * admin socket. The top of src/conf: nothing in src/conf calls it.
 */
#include <sys/types.h>

#include <errno.h>
#include <stddef.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf/config.h"
#include "conf/config-int.h"
#include "conf/tls.h"
#include "base/util.h"
#include "core/fleet-proto.h"

/* tls.c's report of a problem with an [ssl] key: at that key's line. */
static void
config_tls_error(void *arg, const char *key, const char *msg)
{
	config_parse_error_key(arg, SECTION_SSL, key, "%s%s%s",
	    key != NULL ? key : "", key != NULL ? ": " : "", msg);
}

/* Makes *path absolute against dir, unless it is empty or absolute already. */
static void
config_absolute(char **path, const char *dir)
{
	char	*abs;

	if (**path == '\0' || **path == '/')
		return;
	abs = config_join(dir, *path, strlen(*path));
	free(*path);
	*path = abs;
}

/*
 * What the routes and [cluster] need once the whole file is read: the
 * TLS client contexts of tcp: routes with BackendUseSSL, and with Redis
 * set a NodeName (the host name's first label when it is empty).
 */
static void
config_finish_fleet(struct config_parse *p, struct config *cfg)
{
	struct route	*r;
	char		 host[256], *cause = NULL;
	size_t		 i, n;

	for (i = 0; i < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		if (!r->ssl_use)
			continue;
		if (r->kind != BACKEND_TCP)
			config_parse_error_key(p, SECTION_ROUTE, NULL,
			    "[route:%s]: BackendUseSSL needs a tcp: Backend",
			    r->name);
		else if ((r->tls_client = tls_client_ctx_new(r,
		    &cause)) == NULL) {
			config_parse_error_key(p, SECTION_ROUTE, NULL,
			    "[route:%s]: %s", r->name, cause);
			free(cause);
			cause = NULL;
		}
	}
	if (*cfg->cluster_redis == '\0' || *cfg->cluster_node != '\0')
		return;
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	n = strcspn(host, ".");
	if (!fleet_node_valid(host, n)) {
		config_parse_error_key(p, SECTION_CLUSTER, "Redis", "NodeName: "
		    "the host name \"%.64s\" is no NodeName: set one", host);
		return;
	}
	free(cfg->cluster_node);
	cfg->cluster_node = config_strndup(host, n);
}

/* Loads and checks a file; see config.h. */
struct config *
config_load(const char *path, char **errors)
{
	struct config_parse	*p;
	struct config		*cfg;
	const char		*dir;

	cfg = config_defaults();
	cfg->file = xstrdup(path);
	p = config_parse_file(path, cfg);
	if ((dir = config_parse_dir(p)) != NULL) {
		/* Certificates load now: a bad one is a configuration error. */
		cfg->tls = tls_ctx_new(cfg, dir, config_tls_error, p);
		config_absolute(&cfg->admin_socket, dir);
		config_absolute(&cfg->log_file, dir);
		config_absolute(&cfg->pid_file, dir);
		config_absolute(&cfg->sendfile_dir, dir);
		config_finish_fleet(p, cfg);
	}
	if ((*errors = config_parse_end(p)) != NULL) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* A config holding every default of the table. */
struct config *
config_defaults(void)
{
	const struct config_key	*k;
	struct config		*cfg;
	size_t			 i;

	cfg = xcalloc(1, sizeof *cfg);
	for (i = 0; i < config_nkeys; i++) {
		k = &config_keys[i];
		if (k->section == SECTION_ROUTE)
			continue;
		/* A default the parser rejects is a bug in the table. */
		if (config_apply(NULL, k, cfg, k->def, NULL) == -1)
			abort();
	}
	return cfg;
}

/* Frees a config and everything it owns. */
void
config_free(struct config *cfg)
{
	size_t		 i;

	if (cfg == NULL)
		return;
	for (i = 0; i < config_nkeys; i++) {
		if (config_keys[i].section != SECTION_ROUTE &&
		    config_keys[i].type == TYPE_STRING)
			free(*(char **)((char *)cfg + config_keys[i].offset));
	}
	for (i = 0; i < cfg->nroutes; i++) {
		tls_client_ctx_free(cfg->routes[i].tls_client);
		config_route_clear(&cfg->routes[i]);
	}
	free(cfg->routes);
	free(cfg->admin_uids);
	free(cfg->file);
	tls_ctx_free(cfg->tls);
	free(cfg);
}

/* The route serving a request path: exact first, then the longest prefix. */
const struct route *
config_route_for(const struct config *cfg, const char *path)
{
	const struct route	*r, *best = NULL;
	size_t			 i, n, bestlen = 0;

	for (i = 0; i < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		if (r->path == NULL)
			continue;
		if (!r->prefix) {
			if (strcmp(r->path, path) == 0)
				return r;
			continue;
		}
		n = strlen(r->path) - 1;	/* without the "*" */
		if (strncmp(r->path, path, n) == 0 &&
		    (best == NULL || n > bestlen)) {
			best = r;
			bestlen = n;
		}
	}
	return best;
}

/* User and Group as ids; see config.h. */
int
config_ids(const struct config *cfg, uid_t *uid, gid_t *gid)
{
	unsigned int	 u, g, pg = (unsigned int)-1;

	*uid = (uid_t)-1;
	*gid = (gid_t)-1;
	if (*cfg->user == '\0' && *cfg->group == '\0')
		return 0;
	if (*cfg->user != '\0') {
		if (config_lookup_id(cfg->user, false, &u, &pg) == -1)
			return -1;
		*uid = (uid_t)u;
		*gid = (gid_t)pg;
	}
	if (*cfg->group != '\0') {
		if (config_lookup_id(cfg->group, true, &g, &pg) == -1)
			return -1;
		*gid = (gid_t)g;
	}
	return 1;
}

/* Refuses root handlers; see config.h. */
int
config_check_root(const struct config *cfg, uid_t euid, char **cause)
{
	unsigned int	 uid = 0, gid;
	size_t		 i;

	if (euid != 0 || cfg->allow_root_handlers)
		return 0;
	if (*cfg->user != '\0' &&
	    config_lookup_id(cfg->user, false, &uid, &gid) == 0 && uid != 0)
		return 0;
	for (i = 0; i < cfg->nroutes; i++) {
		if (cfg->routes[i].kind != BACKEND_SCRIPT &&
		    cfg->routes[i].kind != BACKEND_DIR)
			continue;
		if (cause != NULL)
			xasprintf(cause, "[route:%s]: script handlers would "
			    "run as root: set User in [server] to drop "
			    "privileges, or AllowRootHandlers = true in "
			    "[backend]", cfg->routes[i].name);
		return -1;
	}
	return 0;
}

/* The first line of RedisPasswordFile; see config.h. */
int
config_read_password(const struct config *cfg, char **password, char **cause)
{
	FILE	*f;
	char	 line[1024];
	size_t	 n;

	*password = NULL;
	if (*cfg->cluster_password_file == '\0')
		return 0;
	if ((f = fopen(cfg->cluster_password_file, "r")) == NULL)
		return config_cause(cause, "RedisPasswordFile: %.200s: %s",
		    cfg->cluster_password_file, strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	if (n == 0) {
		explicit_bzero(line, sizeof(line));
		return config_cause(cause, "RedisPasswordFile: %.200s: the "
		    "first line is empty", cfg->cluster_password_file);
	}
	*password = xstrdup(line);
	explicit_bzero(line, sizeof(line));
	return 0;
}

/* Writes the choice numbered i of a TYPE_CHOICE key into buf. */
static void
config_choice_name(const struct config_key *k, int i, char *buf, size_t len)
{
	const char	*c = k->choices;
	size_t		 n;

	while (i-- > 0 && strchr(c, '|') != NULL)
		c = strchr(c, '|') + 1;
	n = strcspn(c, "|");
	snprintf(buf, len, "%.*s", (int)n, c);
}

/* Formats a global key's value as a file would spell it; see config.h. */
int
config_get(const struct config *cfg, const char *key, char *buf, size_t len)
{
	const struct config_key	*k;
	const char		*field;

	if ((k = config_global_key(key)) == NULL)
		return -1;
	field = (const char *)cfg + k->offset;
	switch (k->type) {
	case TYPE_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "True" :
		    "False");
		break;
	case TYPE_INT:
	case TYPE_CLOSE_CODE:
		snprintf(buf, len, "%d", *(const int *)field);
		break;
	case TYPE_UINT64:
		snprintf(buf, len, "%llu",
		    (unsigned long long)*(const uint64_t *)field);
		break;
	case TYPE_MODE:
		snprintf(buf, len, "%04o", (unsigned int)*(const int *)field);
		break;
	case TYPE_CHOICE:
		config_choice_name(k, *(const int *)field, buf, len);
		break;
	case TYPE_STRING:
	default:
		snprintf(buf, len, "%s", *(char *const *)field != NULL ?
		    *(char *const *)field : "");
		break;
	}
	if (k->offset == CFG(ssl_cert_password) && *buf != '\0')
		snprintf(buf, len, "********");
	return 0;
}

/* Sets a global key of a running config; see config.h for the results. */
enum wsd_error
config_set(struct config *cfg, const char *key, const char *value,
    bool listening, char **cause)
{
	const struct config_key	*k;

	if ((k = config_global_key(key)) == NULL) {
		if (cause != NULL && (*cause = config_unmapped(key)) != NULL)
			return WSD_ERR_NOKEY;
		config_cause(cause, "unknown key " CONFIG_QUOTE, key);
		return WSD_ERR_NOKEY;
	}
	if (k->section == SECTION_ADMIN) {
		config_cause(cause, "cannot change %s at run time (it takes "
		    "effect at a restart)", k->name);
		return WSD_ERR_FIXED;
	}
	if (k->section == SECTION_SSL || k->section == SECTION_CLUSTER) {
		/* The SSL_CTX is built at load: only a reload rebuilds it. */
		config_cause(cause, "cannot change %s at run time (edit the "
		    "file and reload)", k->name);
		return WSD_ERR_FIXED;
	}
	if (!k->runtime && listening) {
		config_cause(cause, "cannot change %s while listening",
		    k->name);
		if (strcmp(k->name, "LocalPort") == 0)
			return WSD_ERR_FIXED_PORT;
		if (strcmp(k->name, "LocalHost") == 0)
			return WSD_ERR_FIXED_HOST;
		if (strcmp(k->name, "MaxConnections") == 0)
			return WSD_ERR_FIXED_MAXCONN;
		return WSD_ERR_FIXED;
	}
	if (config_apply(NULL, k, cfg, value, cause) == -1)
		return WSD_ERR_VALUE;
	return WSD_OK;
}
