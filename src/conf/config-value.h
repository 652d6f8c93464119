/*
 * config-value.h - the values of wsserverd.ini as the other layers may
 * parse them too: booleans, spelt as in the file (admin commands, the
 * [ssl] SSLAuthenticateClients policy).
 */
#ifndef CONFIG_VALUE_H
#define CONFIG_VALUE_H

#include <stdbool.h>

/*
 * Parses True/False, 1/0, Yes/No, On/Off (any case), as every boolean of
 * the file and of admin commands is spelt. Returns 0 and sets *out, or -1
 * if s is none of them.
 */
int		 config_parse_bool(const char *s, bool *out);

/*
 * A [cluster] Redis address: "redis://HOST[:PORT][/DB]" ([IPV6] in
 * brackets; PORT 6379 by default, DB 0) or "unix:PATH". Returns 0 with
 * out filled (path non-empty for a UNIX socket, else host and port), or
 * -1 when it is neither.
 */
struct config_redis {
	char	host[256];
	int	port;
	int	db;
	char	path[108];
};
int		 config_parse_redis(const char *url, struct config_redis *out);

#endif
