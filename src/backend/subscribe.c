/* subscribe.c - the topics a WebSocket joins when it opens: its route's Subscribe (CGI variables in {NAME}) and the deciders' Subscribe lines. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "backend/cgi.h"
#include "backend/subscribe.h"
#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "event/conn.h"
#include "event/topics.h"

/* The value of a CGI variable in envp, or "" when it has none. */
static const char *
subscribe_var(char *const *envp, const char *name, size_t len)
{
	char *const	*pp;

	for (pp = envp; *pp != NULL; pp++) {
		if (strncmp(*pp, name, len) == 0 && (*pp)[len] == '=')
			return *pp + len + 1;
	}
	return "";
}

/* Subscribes c to one topic (spaces around it cut), logging a refusal. */
static void
subscribe_one(struct conn *c, const char *t, size_t len)
{
	const char	*cause;

	while (len > 0 && (*t == ' ' || *t == '\t')) {
		t++;
		len--;
	}
	while (len > 0 && (t[len - 1] == ' ' || t[len - 1] == '\t'))
		len--;
	if (len == 0)
		return;
	if (topics_subscribe(c, t, len, &cause) == -1)
		log_info("%s not subscribed to \"%.*s\": %s", conn_id(c),
		    (int)(len > 140 ? 140 : len), t, cause);
}

/*
 * Subscribes c to each topic of a comma-separated list; with envp, {NAME}
 * stands for the CGI variable NAME (Subscribe was checked at load).
 */
static void
subscribe_list(struct conn *c, const char *list, char *const *envp)
{
	struct evbuffer	*b = xevbuffer_new();
	const char	*p, *close;
	size_t		 len;

	for (p = list; ; p++) {
		if (*p == '\0' || *p == ',') {
			len = evbuffer_get_length(b);
			subscribe_one(c, (const char *)evbuffer_pullup(b, -1),
			    len);
			evbuffer_drain(b, len);
			if (*p == '\0')
				break;
			continue;
		}
		if (*p == '{' && envp != NULL &&
		    (close = strchr(p, '}')) != NULL) {
			evbuffer_add_printf(b, "%s", subscribe_var(envp, p + 1,
			    (size_t)(close - p - 1)));
			p = close;
			continue;
		}
		evbuffer_add(b, p, 1);
	}
	evbuffer_free(b);
}

/* A WebSocket opened: its route's topics, then the deciders'. */
void
subscribe_opened(struct conn *c)
{
	const struct route	*r = conn_route(c);
	const char		*v = conn_verdict_topics(c);
	char			**envp = NULL;

	if (r != NULL && r->subscribe != NULL && *r->subscribe != '\0') {
		if (strchr(r->subscribe, '{') != NULL)
			envp = cgi_env_build(c, r, false);
		subscribe_list(c, r->subscribe, envp);
		free(envp);
	}
	if (*v != '\0')
		subscribe_list(c, v, NULL);
}
