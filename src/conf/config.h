/*
 * config.h - wsserverd.ini: the configuration module's interface. It owns
 * struct config and struct route (what a loaded file says, read-only once
 * loaded except through config_set), the key table that drives loading,
 * validation, wsserverd -t, the admin "config" command and the man page,
 * and the TLS context a load builds (cfg->tls, see tls.h).
 *
 * Callers: main (load, -t, root check, User/Group), wsserverctl (the admin
 * socket's path), the server (reload, the admin's get and set), the admin
 * socket (get, the key table, booleans), connections and backends (the
 * route of a request, its fields), gen-ini-man (the man page). Callers
 * include this file alone: it declares config.c's functions and includes
 * the layout (config-types.h), the key table (config-keys.h) and the
 * booleans (config-value.h). config-int.h lists the files.
 */
#ifndef WSS_CONFIG_H
#define WSS_CONFIG_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "conf/config-types.h"
#include "conf/config-keys.h"
#include "conf/config-value.h"

/*
 * Loads and validates path. Returns the config, or NULL with *cause set to
 * every problem found, one "file:line: message" per line (malloc'd; the
 * caller frees). A missing file is one error. Unknown sections and keys,
 * bad values, out-of-range numbers, duplicate route paths and routes
 * without Path or Backend are all errors; settings that have no meaning on
 * Linux are errors that say so. Relative paths (script: programs, dir:,
 * unix: sockets, WorkingDirectory, OpenRequestHook, the admin Socket,
 * LogFile, PidFile, the [ssl] files) are taken relative to the directory
 * of path; a script: program must be an executable file, route argv[0] is
 * always absolute. With UseSSL the certificates are loaded now (tls.h), a
 * bad one being an error at its key's line; the [ssl] keys are checked
 * with UseSSL off too.
 */
struct config	*config_load(const char *path, char **cause);

/*
 * Refuses script handlers that would run as root: when euid is 0, User is
 * empty (or names root) and AllowRootHandlers is false, a script: route is
 * an error. Returns 0, or -1 with *cause (malloc'd) saying which route and
 * what to set.
 */
int		 config_check_root(const struct config *, uid_t euid,
		    char **cause);

/*
 * User and Group as ids. Returns 0 when both are empty; 1 with *uid
 * ((uid_t)-1 when User is empty) and *gid (User's primary group when
 * Group is empty, (gid_t)-1 when both are); -1 when one cannot be found.
 */
int		 config_ids(const struct config *, uid_t *uid, gid_t *gid);

/*
 * The Redis password: the first line of [cluster] RedisPasswordFile, read
 * now (never at load: the daemon reads it before it drops privileges, and
 * keeps it over a reload that cannot read it any more; wsserverctl -c
 * needs no access to it). Returns 0 with *password (malloc'd; NULL
 * without a file), or -1 with *cause (malloc'd): unreadable, or an empty
 * first line.
 */
int		 config_read_password(const struct config *, char **password,
		    char **cause);

/* A config with every default, no routes and no TLS context (for tests). */
struct config	*config_defaults(void);

/* Frees a config and all it owns, its TLS context too; NULL is fine. */
void		 config_free(struct config *);

/*
 * Finds the route for a request path: the route whose Path equals it, else
 * the prefix route (Path ending in "*") with the longest prefix of it;
 * NULL if none.
 */
const struct route *config_route_for(const struct config *, const char *path);

/*
 * The admin "config" command. Keys are those of [server], [websocket],
 * [backend], [log], [admin] and [ssl], by name, in any case.
 * config_get writes key's current value into buf as the file would spell
 * it (booleans True/False, modes in octal, SSLCertPassword masked) and
 * returns 0, or -1 when there is no such key.
 * config_set parses value for key into cfg, checked as in a file, and
 * returns one of:
 *   WSD_OK                 set;
 *   WSD_ERR_NOKEY          no such key;
 *   WSD_ERR_VALUE          value is not valid for key;
 *   WSD_ERR_FIXED_PORT     LocalPort while listening (the reference's 106),
 *   WSD_ERR_FIXED_HOST     LocalHost while listening (107),
 *   WSD_ERR_FIXED_MAXCONN  MaxConnections while listening (108);
 *   WSD_ERR_FIXED          any other key that cannot change while
 *                          listening, and always an [admin] key (it needs
 *                          a restart) or an [ssl] key (a reload rebuilds
 *                          the TLS context).
 * On any error cfg is unchanged and *cause (malloc'd) says why, when cause
 * is not NULL. The caller applies side effects (LogLevel).
 */
int		 config_get(const struct config *, const char *key, char *buf,
		    size_t len);
enum wsd_error	 config_set(struct config *, const char *key, const char *value,
		    bool listening, char **cause);

#endif
