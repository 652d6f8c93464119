/* client-limits.c - MaxConnectionsPerClient and HandshakeRatePerClient: the per-client table as the daemon uses it. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "conf/config-types.h"
#include "core/ws-handshake.h"
#include "event/client-limits.h"
#include "event/clients.h"
#include "event/runtime.h"
#include "event/workers-shm.h"

/* CLOCK_MONOTONIC in microseconds: the same clock in every worker. */
static unsigned long long
client_limits_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000;
}

/* The limits of cfg; false when none is on (the table is not looked at). */
static bool
client_limits_of(const struct config *cfg, struct clients_limits *lim)
{
	lim->max_conns = (unsigned int)cfg->max_conns_per_client;
	lim->rate = (unsigned int)cfg->handshake_rate_per_client;
	lim->burst = (unsigned int)cfg->handshake_burst_per_client;
	return lim->max_conns > 0 || lim->rate > 0;
}

/* The worker's index in the table (0 for a single process). */
static int
client_limits_worker(void)
{
	return workers_index() >= 0 ? workers_index() : 0;
}

/* An address as the table groups it: "a.b.c.d", or "2001:db8::/64". */
static void
client_limits_name(const struct config *cfg, const struct sockaddr *sa,
    char *buf, size_t len)
{
	struct clients_key	 k;
	struct in6_addr		 a6;
	char			 txt[INET6_ADDRSTRLEN];

	if (clients_key_sa(sa, cfg->client_ipv6_prefix, &k) == -1) {
		snprintf(buf, len, "?");
		return;
	}
	memcpy(&a6, k.b, sizeof(a6));
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		inet_ntop(AF_INET, k.b + 12, txt, sizeof(txt));
		snprintf(buf, len, "%s", txt);
	} else {
		inet_ntop(AF_INET6, k.b, txt, sizeof(txt));
		snprintf(buf, len, "%s/%d", txt, cfg->client_ipv6_prefix);
	}
}

/* Logs and counts a refusal the table decided. */
static void
client_limits_refused(const struct config *cfg, const struct sockaddr *sa,
    const struct clients_limits *lim, enum clients_verdict v,
    const struct clients_refusal *r)
{
	struct server_stats	*st = runtime_stats();
	char			 who[INET6_ADDRSTRLEN + 8];

	switch (v) {
	case CLIENTS_TOO_MANY:
		st->rejected_client_conns++;
		break;
	case CLIENTS_TOO_FAST:
		st->rejected_client_rate++;
		break;
	default:
		st->rejected_client_table++;
		break;
	}
	if (!r->log)
		return;
	client_limits_name(cfg, sa, who, sizeof(who));
	if (v == CLIENTS_TOO_MANY)
		log_warn("refused %u connection(s) from %s: "
		    "MaxConnectionsPerClient (%u) reached", r->count, who,
		    lim->max_conns);
	else if (v == CLIENTS_TOO_FAST)
		log_warn("refused %u connection(s) from %s: "
		    "HandshakeRatePerClient (%u per second, burst %u) "
		    "exceeded (%u open)", r->count, who, lim->rate,
		    lim->burst > 0 ? lim->burst : lim->rate, r->conns);
	else
		log_warn("refused %u connection(s) from new client addresses "
		    "(%s the latest): the per-client table is full "
		    "(ClientTableSize %d)", r->count, who,
		    cfg->client_table_size);
}

int
client_limits_admit(const struct config *cfg, const struct sockaddr *sa,
    bool *counted, int *retry, const char **text)
{
	struct clients_limits	 lim;
	struct clients_refusal	 r;
	struct clients_key	 k;
	struct clients		*t;
	enum clients_verdict	 v;

	*counted = false;
	*retry = 0;
	*text = NULL;
	if (!client_limits_of(cfg, &lim) ||
	    clients_key_sa(sa, cfg->client_ipv6_prefix, &k) == -1 ||
	    (t = workers_clients()) == NULL)
		return 0;
	v = clients_admit(t, &k, client_limits_worker(), &lim,
	    client_limits_now(), &r);
	if (v == CLIENTS_OK) {
		*counted = true;
		return 0;
	}
	client_limits_refused(cfg, sa, &lim, v, &r);
	switch (v) {
	case CLIENTS_TOO_MANY:
		*text = "too many connections from this client";
		return 429;
	case CLIENTS_TOO_FAST:
		*text = "too many new connections from this client";
		*retry = (int)((r.retry_ms + 999) / 1000);
		if (*retry < 1)
			*retry = 1;
		return 429;
	default:
		*text = "too many clients";
		*retry = 1;
		return 503;
	}
}

void
client_limits_release_sa(const struct config *cfg, const struct sockaddr *sa)
{
	struct clients_key	 k;
	struct clients		*t;

	if (clients_key_sa(sa, cfg->client_ipv6_prefix, &k) == 0 &&
	    (t = workers_clients()) != NULL)
		clients_release(t, &k, client_limits_worker(),
		    client_limits_now());
}

void
client_limits_release(const struct config *cfg, const char *addr)
{
	struct clients_key	 k;
	struct clients		*t;

	/* The connection's own configuration: the prefix it was keyed by. */
	if (clients_key_str(addr, cfg->client_ipv6_prefix, &k) == 0 &&
	    (t = workers_clients()) != NULL)
		clients_release(t, &k, client_limits_worker(),
		    client_limits_now());
}

size_t
client_limits_response(char *buf, size_t len, int status, const char *text,
    int retry)
{
	char	ra[32] = "";
	int	n;

	if (retry > 0)
		snprintf(ra, sizeof(ra), "Retry-After: %d\r\n", retry);
	n = snprintf(buf, len, "HTTP/1.1 %d %s\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "%s"
	    "Connection: close\r\n"
	    "\r\n"
	    "%s\r\n", status, ws_http_reason(status), strlen(text) + 2, ra,
	    text);
	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

void
client_limits_tracked(unsigned int *tracked, unsigned int *capacity)
{
	struct clients	*t = workers_clients();

	*tracked = t != NULL ? clients_tracked(t) : 0;
	*capacity = t != NULL ? clients_capacity(t) : 0;
}
