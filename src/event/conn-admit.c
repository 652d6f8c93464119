/* conn-admit.c - admitting a WebSocket upgrade: origins, limits, subprotocol, deflate, verdict headers. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "base/util.h"
#include "conf/config.h"
#include "core/ws-deflate.h"
#include "core/ws-handshake.h"
#include "event/conn-admit.h"

/* The server's permessage-deflate settings, from the [websocket] keys. */
void
conn_deflate_config(const struct config *cfg, struct ws_deflate_config *d)
{
	ws_deflate_config_default(d);
	d->enabled = cfg->enable_permessage_deflate;
	d->level = cfg->deflate_level;
	d->mem_level = cfg->deflate_mem_level;
	d->max_window_bits = cfg->deflate_max_window_bits;
	d->min_size = (size_t)cfg->deflate_min_size;
	d->no_context_takeover = cfg->deflate_no_context_takeover;
}

/*
 * Case-insensitive comparison of the authority of an Origin ("scheme://
 * host[:port]") with a Host header, a default port on either side ignored.
 */
static bool
conn_origin_same(const char *origin, const char *host, bool tls)
{
	const char	*auth, *dport;
	size_t		 alen, hlen, dlen;

	if ((auth = strstr(origin, "://")) == NULL)
		return false;
	dport = strncasecmp(origin, "https://", 8) == 0 ? ":443" : ":80";
	auth += 3;
	alen = strlen(auth);
	hlen = strlen(host);
	dlen = strlen(dport);
	if (alen > dlen && strcasecmp(auth + alen - dlen, dport) == 0)
		alen -= dlen;
	dport = tls ? ":443" : ":80";
	dlen = strlen(dport);
	if (hlen > dlen && strcasecmp(host + hlen - dlen, dport) == 0)
		hlen -= dlen;
	return alen == hlen && strncasecmp(auth, host, alen) == 0;
}

/* AllowedOrigins; see conn-admit.h. */
bool
conn_origin_allowed(const char *list, const char *origin, const char *host,
    bool tls)
{
	const char	*w;
	size_t		 n;

	if (list == NULL || origin == NULL)
		return true;
	for (w = list; *w != '\0'; w += n) {
		w += strspn(w, ", \t");
		n = strcspn(w, ", \t");
		if (n == 0)
			break;
		if ((n == 1 && *w == '*') ||
		    (n == strlen(origin) && strncasecmp(w, origin, n) == 0))
			return true;
		if (n == 4 && strncasecmp(w, "same", 4) == 0 &&
		    host != NULL && conn_origin_same(origin, host, tls))
			return true;
	}
	return false;
}

/* Whether a verdict may set header name (len bytes): not the daemon's own. */
static bool
conn_verdict_name_ok(const char *name, size_t len)
{
	static const char *const owned[] = { "Upgrade", "Connection",
	    "Sec-WebSocket-Accept", "Sec-WebSocket-Extensions",
	    "Content-Length", "Content-Type", "Transfer-Encoding" };
	size_t	i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' &&
		    name[i] != '_')
			return false;
	for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++)
		if (strlen(owned[i]) == len &&
		    strncasecmp(owned[i], name, len) == 0)
			return false;
	return true;
}

/* A verdict's header lines as HTTP header lines; see conn-admit.h. */
int
conn_verdict_lines(const char *h, size_t hlen, struct evbuffer *out,
    char *proto, size_t protolen, const char **why)
{
	const char	*line, *nl, *colon, *v;
	size_t		 len, nlen, vlen, i;

	for (line = h; line < h + hlen; line = nl + 1) {
		if ((nl = memchr(line, '\n', h + hlen - line)) == NULL)
			nl = h + hlen;
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		if ((colon = memchr(line, ':', len)) == NULL) {
			*why = "header line without a colon";
			return -1;
		}
		nlen = (size_t)(colon - line);
		v = colon + 1;
		vlen = len - nlen - 1;
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
			vlen--;
		for (i = 0; i < vlen; i++)
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
				*why = "control character in a header value";
				return -1;
			}
		if ((nlen == 6 && strncasecmp(line, "Status", 6) == 0) ||
		    (nlen == 9 && strncasecmp(line, "Subscribe", 9) == 0))
			continue;
		if (nlen == 22 &&
		    strncasecmp(line, "Sec-WebSocket-Protocol", 22) == 0) {
			if (vlen == 0 || vlen >= protolen ||
			    memchr(v, ',', vlen) != NULL) {
				*why = "bad Sec-WebSocket-Protocol";
				return -1;
			}
			memcpy(proto, v, vlen);
			proto[vlen] = '\0';
			continue;
		}
		if (!conn_verdict_name_ok(line, nlen)) {
			*why = "header the daemon sets itself, or a bad name";
			return -1;
		}
		evbuffer_add_printf(out, "%.*s: %.*s\r\n", (int)nlen, line,
		    (int)vlen, v);
	}
	return 0;
}

/* Appends the values of a verdict's Subscribe lines; see conn-admit.h. */
void
conn_verdict_topics_take(const char *h, size_t hlen, struct evbuffer *out)
{
	const char	*line, *nl, *v;
	size_t		 len, vlen;

	for (line = h; line < h + hlen; line = nl + 1) {
		if ((nl = memchr(line, '\n', h + hlen - line)) == NULL)
			nl = h + hlen;
		len = (size_t)(nl - line);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len < 10 || strncasecmp(line, "Subscribe:", 10) != 0)
			continue;
		v = line + 10;
		vlen = len - 10;
		while (vlen > 0 && (*v == ' ' || *v == '\t')) {
			v++;
			vlen--;
		}
		if (vlen == 0)
			continue;
		evbuffer_add(out, v, vlen);
		evbuffer_add(out, ",", 1);
	}
}

/* The 101 of a verdict; see conn-admit.h. */
char *
conn_verdict_resp(const char *r, size_t n, const char *proto,
    struct evbuffer *extra, size_t *lenp)
{
	struct evbuffer	*b;
	const char	*p, *e;
	size_t		 len;
	char		*out;

	b = xevbuffer_new();
	/* Everything but the final empty line, less any old subprotocol. */
	for (p = r; p < r + n - 2; p = e + 2) {
		e = memmem(p, (size_t)(r + n - p), "\r\n", 2);
		if (e == NULL || e >= r + n - 2)
			break;
		if (*proto != '\0' && (size_t)(e - p) >= 23 &&
		    strncasecmp(p, "Sec-WebSocket-Protocol:", 23) == 0)
			continue;
		evbuffer_add(b, p, (size_t)(e - p) + 2);
	}
	if (*proto != '\0')
		evbuffer_add_printf(b, "Sec-WebSocket-Protocol: %s\r\n", proto);
	evbuffer_add_buffer(b, extra);
	evbuffer_add(b, "\r\n", 2);
	len = evbuffer_get_length(b);
	out = xmalloc(len);
	evbuffer_remove(b, out, len);
	evbuffer_free(b);
	*lenp = len;
	return out;
}

/* Admits an upgrade request; see conn-admit.h. */
int
conn_admit(const struct config *cfg, const struct route *r,
    const struct ws_request *req, bool tls, unsigned int route_open,
    struct conn_admission *a, char **cause)
{
	struct ws_deflate_config	 dcfg;
	char				 ext[256];

	memset(a, 0, sizeof(*a));
	if (!conn_origin_allowed(r->origins, req->origin, req->host, tls)) {
		*cause = xstrdup("origin not allowed");
		return 403;
	}
	if (r->max_connections > 0 &&
	    route_open >= (unsigned int)r->max_connections) {
		*cause = xstrdup("route MaxConnections reached");
		return 429;
	}
	if (*r->subprotocols != '\0' &&
	    ws_handshake_select_protocol(req, r->subprotocols, a->proto,
	    sizeof(a->proto)) == 0)
		a->proto[0] = '\0';
	conn_deflate_config(cfg, &dcfg);
	if (dcfg.enabled && req->extensions != NULL)
		a->deflate = ws_deflate_negotiate(req->extensions, &dcfg,
		    &a->agreed, ext, sizeof(ext)) == 1;
	a->resp_len = ws_handshake_response(a->resp, sizeof(a->resp), req->key,
	    a->proto[0] != '\0' ? a->proto : NULL, a->deflate ? ext : NULL);
	if (a->resp_len == 0) {
		*cause = xstrdup("response too large");
		return 500;
	}
	return 101;
}
