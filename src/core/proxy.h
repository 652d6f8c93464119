/* proxy.h - HAProxy PROXY protocol v1 and v2 headers, receiver side; no I/O. */
#ifndef PROXY_H
#define PROXY_H

#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest v1 header, "PROXY" to CRLF included (the spec's own limit). */
#define PROXY_V1_MAX		107
/* Fixed part of a v2 header: signature, version/command, family, length. */
#define PROXY_V2_FIXED		16
/*
 * Largest v2 header we take, TLVs included. The format allows 16+65535
 * bytes; load balancers send addresses and a few short TLVs, so a header
 * above this is refused rather than buffered.
 */
#define PROXY_HEADER_MAX	2048

/* ProxyProtocol: which headers a trusted client must send (config order). */
enum proxy_mode {
	PROXY_OFF = 0,
	PROXY_V1 = 1,
	PROXY_V2 = 2,
	PROXY_ANY = 3,
};

/* What a complete header says. */
struct proxy_header {
	int			 version;	/* 1 or 2 */
	/*
	 * True for v2 LOCAL, v1 UNKNOWN and v2 PROXY over AF_UNSPEC or
	 * AF_UNIX: the connection's own addresses stay, the rest is unset.
	 */
	bool			 local;
	int			 family;	/* AF_INET or AF_INET6 */
	struct sockaddr_storage	 src;		/* the real client */
	struct sockaddr_storage	 dst;		/* the address it connected to */
	char			 src_addr[INET6_ADDRSTRLEN];
	int			 src_port;
	char			 dst_addr[INET6_ADDRSTRLEN];
	int			 dst_port;
	size_t			 ntlv;		/* v2 TLVs seen (skipped) */
};

/*
 * Parses the PROXY header at the start of buf[0..len), the bytes a client
 * has sent so far; call again with more bytes when it returns 0 (the
 * parse starts over, so the caller just keeps the bytes). mode is the
 * version(s) accepted (not PROXY_OFF). Returns the header's length (the
 * bytes to drop before the client's own data) with *h filled; 0 when the
 * header is not complete yet and nothing seen so far is wrong; -1 when it
 * is malformed, of a version mode refuses, or larger than PROXY_V1_MAX or
 * PROXY_HEADER_MAX, with *cause (static text) saying why. A result never
 * depends on how the bytes were split.
 */
ssize_t	proxy_parse(const void *buf, size_t len, enum proxy_mode mode,
	    struct proxy_header *h, const char **cause);

/*
 * Whether buf[0..len) starts with what could be a PROXY header (of either
 * version), for refusing one from a client that is not trusted. Returns 1
 * when it does (the whole v1 "PROXY " or v2 signature is there), 0 when it
 * cannot, -1 when more bytes are needed to tell.
 */
int	proxy_detect(const void *buf, size_t len);

/* "off", "v1", "v2" or "any". */
const char	*proxy_mode_name(enum proxy_mode);

#endif
