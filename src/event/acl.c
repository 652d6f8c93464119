/* acl.c - AllowedClients/BlockedClients (and ProxyTrustedClients): address lists. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "event/acl.h"

/* Formats a numeric address without port into buf. */
void
acl_ntop(const struct sockaddr *sa, char *buf, size_t len)
{
	if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    buf, len);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, len);
}

/* The port of an AF_INET/AF_INET6 sockaddr. */
int
acl_port(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	return ntohs(((const struct sockaddr_in *)sa)->sin_port);
}

/* Returns true when addr lies in the CIDR block spec ("10.0.0.0/8", "fd00::/8"). */
static bool
acl_cidr_match(const char *spec, const struct sockaddr *sa)
{
	char		 net[INET6_ADDRSTRLEN];
	const char	*slash;
	unsigned char	 want[16], have[16];
	size_t		 alen;
	long		 bits;
	char		*end;
	int		 family, i;

	if ((slash = strchr(spec, '/')) == NULL ||
	    (size_t)(slash - spec) >= sizeof(net))
		return false;
	memcpy(net, spec, slash - spec);
	net[slash - spec] = '\0';
	family = strchr(net, ':') != NULL ? AF_INET6 : AF_INET;
	if (family != sa->sa_family || inet_pton(family, net, want) != 1)
		return false;
	alen = family == AF_INET6 ? 16 : 4;
	errno = 0;
	bits = strtol(slash + 1, &end, 10);
	if (*end != '\0' || errno != 0 || bits < 0 || bits > (long)alen * 8)
		return false;
	if (family == AF_INET6)
		memcpy(have, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
	else
		memcpy(have, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	for (i = 0; bits > 0; i++, bits -= 8) {
		unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
		if ((want[i] & mask) != (have[i] & mask))
			return false;
	}
	return true;
}

/* Returns true when the address matches one entry of a comma-separated list. */
static bool
acl_list_match(const char *list, const struct sockaddr *sa)
{
	char		 addr[INET6_ADDRSTRLEN], entry[128];
	const char	*p, *e;
	size_t		 n;

	acl_ntop(sa, addr, sizeof(addr));
	for (p = list; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, ",");
		n = e - p;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= sizeof(entry))
			continue;
		memcpy(entry, p, n);
		entry[n] = '\0';
		if (strchr(entry, '/') != NULL) {
			if (acl_cidr_match(entry, sa))
				return true;
		} else if (fnmatch(entry, addr, 0) == 0)
			return true;
	}
	return false;
}

/* Whether AllowedClients/BlockedClients let the address in; see acl.h. */
bool
acl_allows(const char *allowed, const char *blocked,
    const struct sockaddr *sa)
{
	if (allowed != NULL && *allowed != '\0' &&
	    !acl_list_match(allowed, sa))
		return false;
	if (blocked != NULL && *blocked != '\0' &&
	    acl_list_match(blocked, sa))
		return false;
	return true;
}

