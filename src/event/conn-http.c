/* conn-http.c - the bytes before a WebSocket request: a PROXY header, a health check, the dev console page. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "base/log.h"
#include "base/util.h"
#include "conf/config.h"
#include "core/proxy.h"
#include "core/ws-handshake.h"
#include "event/acl.h"
#include "event/client-limits.h"
#include "event/conn-int.h"
#include "event/devconsole.h"
#include "event/runtime.h"

/*
 * The real client behind a PROXY header under the per-client limits (the
 * balancer's own address is not limited). Returns 0 (counted, or no limit
 * applies), or -1 with the answer queued.
 */
static int
conn_client_admit(struct conn *c, const struct sockaddr *sa)
{
	char		 buf[256];
	const char	*text;
	bool		 counted;
	int		 status, retry;
	size_t		 n;

	if ((status = client_limits_admit(c->cfg, sa, &counted, &retry,
	    &text)) == 0) {
		c->client_counted = counted;
		return 0;
	}
	if ((n = client_limits_response(buf, sizeof(buf), status, text,
	    retry)) > 0)
		conn_out_add(c, buf, n);
	return -1;
}

/* ProxyProtocol: takes the PROXY header; see conn-int.h. */
int
conn_proxy_take(struct conn *c, char **cause)
{
	struct proxy_header	 h;
	const char		*why;
	size_t			 n = evbuffer_get_length(c->in);
	ssize_t			 r;
	uint8_t			*p;

	if (n > PROXY_HEADER_MAX)
		n = PROXY_HEADER_MAX;
	if ((p = evbuffer_pullup(c->in, n)) == NULL)
		return 0;
	if (!c->proxy_trusted) {
		if ((r = proxy_detect(p, n)) == -1)
			return 0;
		if (r == 1) {
			*cause = xstrdup("PROXY header from a client not in "
			    "ProxyTrustedClients");
			return -1;
		}
		c->proxy_done = true;
		return 1;
	}
	if ((r = proxy_parse(p, n, (enum proxy_mode)c->cfg->proxy_protocol,
	    &h, &why)) == 0)
		return 0;
	if (r < 0) {
		*cause = xstrdup(why);
		return -1;
	}
	if (!h.local) {
		log_verbose("%s PROXY v%d: client %s:%d via %s:%d", c->id,
		    h.version, h.src_addr, h.src_port, c->raddr, c->rport);
		/* The real client must pass the filters the proxy passed. */
		if (!acl_allows(c->cfg->allowed_clients,
		    c->cfg->blocked_clients, (struct sockaddr *)&h.src)) {
			runtime_stats()->rejected_acl++;
			snprintf(c->raddr, INET6_ADDRSTRLEN, "%s", h.src_addr);
			c->rport = (uint16_t)h.src_port;
			*cause = xstrdup("not allowed by "
			    "AllowedClients/BlockedClients");
			return -1;
		}
		snprintf(c->raddr, INET6_ADDRSTRLEN, "%s", h.src_addr);
		c->rport = (uint16_t)h.src_port;
		snprintf(c->raddr + c->laddr_off, INET6_ADDRSTRLEN, "%s",
		    h.dst_addr);
		c->lport = (uint16_t)h.dst_port;
		if (conn_client_admit(c, (struct sockaddr *)&h.src) == -1) {
			*cause = NULL;
			return -1;
		}
	}
	evbuffer_drain(c->in, (size_t)r);
	c->proxy_done = true;
	return 1;
}

/* Plain HTTP on the WebSocket port; see conn-int.h. */
int
conn_plain_http(struct conn *c, const char *head, size_t len, bool parsed)
{
	char		 buf[1024];
	const char	*page;
	size_t		 n, plen;
	bool		 up;

	if (!parsed && *c->cfg->health_path != '\0' &&
	    devconsole_is_get(head, len, c->cfg->health_path)) {
		up = runtime_listening() && !runtime_stopping() &&
		    !runtime_draining();
		n = devconsole_health(buf, sizeof(buf), up);
		conn_out_add(c, buf, n);
		log_debug("%s health check from %s:%d: %d", c->id, c->raddr,
		    c->rport, up ? 200 : 503);
		return up ? 200 : 503;
	}
	if (parsed && c->cfg->dev_console && c->hs->req.method != NULL &&
	    strcmp(c->hs->req.method, "GET") == 0 && c->hs->req.path != NULL &&
	    ws_request_header(&c->hs->req, "Upgrade") == NULL &&
	    config_route_for(c->cfg, c->hs->req.path) != NULL) {
		page = devconsole_page(&plen);
		n = devconsole_head(buf, sizeof(buf));
		conn_out_add(c, buf, n);
		evbuffer_add_reference(conn_out(c), page, plen, NULL, NULL);
		log_info("%s dev console %s:%d %s", c->id, c->raddr, c->rport,
		    log_uri(c->hs->req.uri));
		return 200;
	}
	return 0;
}

/* WebSockets open on a route; see conn-int.h. */
unsigned int
conn_route_count(const struct route *r)
{
	const struct conn	*o;
	unsigned int		 n = 0;

	TAILQ_FOREACH(o, &conns, entry) {
		if (o->route != NULL && o->opened &&
		    (o->state == CONN_OPEN || o->state == CONN_CLOSING) &&
		    strcmp(o->route->name, r->name) == 0)
			n++;
	}
	return n;
}
