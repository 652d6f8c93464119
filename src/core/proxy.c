/* proxy.c - HAProxy PROXY protocol v1 (text) and v2 (binary) headers; no I/O. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/proxy.h"

/* The v2 signature: chosen by the spec so that no v1 or HTTP request starts so. */
static const uint8_t proxy_v2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};
static const char proxy_v1_sig[] = "PROXY ";
#define PROXY_V1_SIGLEN		(sizeof(proxy_v1_sig) - 1)

/* Address block sizes of the v2 families we read. */
#define PROXY_V2_INET_LEN	12
#define PROXY_V2_INET6_LEN	36
#define PROXY_V2_UNIX_LEN	216

/* Stores cause and returns -1. */
static ssize_t
proxy_fail(const char **cause, const char *why)
{
	*cause = why;
	return -1;
}

/* Whether the first min(len, n) bytes of buf equal those of sig. */
static bool
proxy_prefix(const uint8_t *buf, size_t len, const void *sig, size_t n)
{
	return memcmp(buf, sig, len < n ? len : n) == 0;
}

/*
 * A v1 port: 1 to 5 decimal digits, at most 65535. Returns it, or -1.
 * Leading zeros are refused: the spec writes ports in plain decimal and a
 * sender that pads them is not one we know.
 */
static int
proxy_v1_port(const char *s, size_t n)
{
	int	 v = 0;
	size_t	 i;

	if (n == 0 || n > 5 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v > 65535 ? -1 : v;
}

/* Fills a sockaddr (port in host order) and the text form of an address. */
static void
proxy_set_addr(struct sockaddr_storage *ss, char *text, int *tport,
    int family, const void *addr, int port)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, addr, 4);
	} else {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, addr, 16);
	}
	inet_ntop(family, addr, text, INET6_ADDRSTRLEN);
	*tport = port;
}

/* Parses "PROXY TCP4|TCP6|UNKNOWN ...\r\n"; see proxy_parse. */
static ssize_t
proxy_parse_v1(const uint8_t *buf, size_t len, struct proxy_header *h,
    const char **cause)
{
	const char	*tok[6];
	size_t		 toklen[6], ntok = 0, i, end, start;
	char		 a[INET6_ADDRSTRLEN + 1];
	uint8_t		 src[16], dst[16];
	int		 family, sport, dport;

	if (!proxy_prefix(buf, len, proxy_v1_sig, PROXY_V1_SIGLEN))
		return proxy_fail(cause, "not a PROXY v1 header");
	/* Look for CRLF; anything but printable ASCII before it is garbage. */
	for (end = 0; end < len && end < PROXY_V1_MAX; end++) {
		if (buf[end] == '\r')
			break;
		if (buf[end] < 0x20 || buf[end] > 0x7e)
			return proxy_fail(cause, "control character in PROXY "
			    "v1 header");
	}
	/* CRLF must end by byte PROXY_V1_MAX: a CR this late is too late. */
	if (end >= PROXY_V1_MAX - 1)
		return proxy_fail(cause, "PROXY v1 header too long");
	if (end == len)
		return 0;
	if (end + 1 == len)
		return 0;
	if (buf[end + 1] != '\n')
		return proxy_fail(cause, "PROXY v1 header: CR without LF");

	memset(h, 0, sizeof(*h));
	h->version = 1;
	/* UNKNOWN: whatever follows it is ignored, as the spec says. */
	if (end >= 13 && memcmp(buf + 6, "UNKNOWN", 7) == 0 &&
	    (end == 13 || buf[13] == ' ')) {
		h->local = true;
		return (ssize_t)end + 2;
	}
	/* Single spaces separate the words; empty words are malformed. */
	for (start = 0, i = 0; i <= end; i++) {
		if (i < end && buf[i] != ' ')
			continue;
		if (i == start)
			return proxy_fail(cause, "PROXY v1 header: empty field");
		if (ntok == 6)
			return proxy_fail(cause, "PROXY v1 header: too many "
			    "fields");
		tok[ntok] = (const char *)buf + start;
		toklen[ntok++] = i - start;
		start = i + 1;
	}
	if (ntok < 2 || toklen[1] != 4 || (memcmp(tok[1], "TCP4", 4) != 0 &&
	    memcmp(tok[1], "TCP6", 4) != 0))
		return proxy_fail(cause, "PROXY v1 header: unknown protocol");
	if (ntok != 6)
		return proxy_fail(cause, "PROXY v1 header: missing fields");
	family = tok[1][3] == '4' ? AF_INET : AF_INET6;
	for (i = 2; i < 4; i++) {
		if (toklen[i] >= sizeof(a))
			return proxy_fail(cause, "PROXY v1 header: bad address");
		memcpy(a, tok[i], toklen[i]);
		a[toklen[i]] = '\0';
		if (inet_pton(family, a, i == 2 ? src : dst) != 1)
			return proxy_fail(cause, "PROXY v1 header: bad address");
	}
	if ((sport = proxy_v1_port(tok[4], toklen[4])) == -1 ||
	    (dport = proxy_v1_port(tok[5], toklen[5])) == -1)
		return proxy_fail(cause, "PROXY v1 header: bad port");
	h->family = family;
	proxy_set_addr(&h->src, h->src_addr, &h->src_port, family, src, sport);
	proxy_set_addr(&h->dst, h->dst_addr, &h->dst_port, family, dst, dport);
	return (ssize_t)end + 2;
}

/* Parses a binary v2 header; see proxy_parse. */
static ssize_t
proxy_parse_v2(const uint8_t *buf, size_t len, struct proxy_header *h,
    const char **cause)
{
	size_t	 total, addrlen, off;
	uint8_t	 cmd, fam;

	if (!proxy_prefix(buf, len, proxy_v2_sig, sizeof(proxy_v2_sig)))
		return proxy_fail(cause, "not a PROXY v2 header");
	if (len > 12 && (buf[12] >> 4) != 2)
		return proxy_fail(cause, "PROXY v2 header: unknown version");
	if (len > 12 && (buf[12] & 0x0f) > 1)
		return proxy_fail(cause, "PROXY v2 header: unknown command");
	if (len > 13 && ((buf[13] >> 4) > 3 || (buf[13] & 0x0f) > 2))
		return proxy_fail(cause, "PROXY v2 header: unknown family");
	if (len < PROXY_V2_FIXED)
		return 0;
	total = PROXY_V2_FIXED + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PROXY_HEADER_MAX)
		return proxy_fail(cause, "PROXY v2 header too large");
	cmd = buf[12] & 0x0f;
	fam = buf[13];
	/* Address block sizes are known before the whole header is here. */
	addrlen = fam == 0x11 ? PROXY_V2_INET_LEN :
	    fam == 0x21 ? PROXY_V2_INET6_LEN : fam == 0x31 ? PROXY_V2_UNIX_LEN :
	    0;
	if (cmd == 1 && total - PROXY_V2_FIXED < addrlen)
		return proxy_fail(cause, "PROXY v2 header: address block too "
		    "short");
	if (cmd == 1 && (fam & 0x0f) == 2)
		return proxy_fail(cause, "PROXY v2 header: datagram transport "
		    "on a stream socket");
	if (len < total)
		return 0;

	memset(h, 0, sizeof(*h));
	h->version = 2;
	if (cmd == 0 || addrlen == 0) {
		/* LOCAL (health checks) or UNSPEC: the rest is not ours to read. */
		h->local = true;
		return (ssize_t)total;
	}
	if (fam == 0x31) {
		/* A client on a UNIX socket has no address to show: keep ours. */
		h->local = true;
	} else if (fam == 0x11) {
		h->family = AF_INET;
		proxy_set_addr(&h->src, h->src_addr, &h->src_port, AF_INET,
		    buf + 16, buf[24] << 8 | buf[25]);
		proxy_set_addr(&h->dst, h->dst_addr, &h->dst_port, AF_INET,
		    buf + 20, buf[26] << 8 | buf[27]);
	} else {
		h->family = AF_INET6;
		proxy_set_addr(&h->src, h->src_addr, &h->src_port, AF_INET6,
		    buf + 16, buf[48] << 8 | buf[49]);
		proxy_set_addr(&h->dst, h->dst_addr, &h->dst_port, AF_INET6,
		    buf + 32, buf[50] << 8 | buf[51]);
	}
	/* TLVs: type, 16-bit length, value; they must fill the rest exactly. */
	for (off = PROXY_V2_FIXED + addrlen; off < total; h->ntlv++) {
		if (total - off < 3)
			return proxy_fail(cause, "PROXY v2 header: truncated "
			    "TLV");
		off += 3 + ((size_t)buf[off + 1] << 8 | buf[off + 2]);
		if (off > total)
			return proxy_fail(cause, "PROXY v2 header: TLV past "
			    "the end");
	}
	return (ssize_t)total;
}

/* Parses a PROXY header of the versions mode allows; see proxy.h. */
ssize_t
proxy_parse(const void *buf, size_t len, enum proxy_mode mode,
    struct proxy_header *h, const char **cause)
{
	const uint8_t	*b = buf;

	*cause = NULL;
	if (len == 0)
		return 0;
	switch (mode) {
	case PROXY_V1:
		return proxy_parse_v1(b, len, h, cause);
	case PROXY_V2:
		return proxy_parse_v2(b, len, h, cause);
	case PROXY_ANY:
		/* The first bytes differ: 'P' against CR. */
		if (b[0] == proxy_v2_sig[0])
			return proxy_parse_v2(b, len, h, cause);
		if (b[0] == 'P')
			return proxy_parse_v1(b, len, h, cause);
		return proxy_fail(cause, "no PROXY header");
	case PROXY_OFF:
		break;
	}
	return proxy_fail(cause, "PROXY protocol is off");
}

/* Whether a client's first bytes are a PROXY header; see proxy.h. */
int
proxy_detect(const void *buf, size_t len)
{
	const uint8_t	*b = buf;

	if (len == 0)
		return -1;
	if (proxy_prefix(b, len, proxy_v1_sig, PROXY_V1_SIGLEN))
		return len >= PROXY_V1_SIGLEN ? 1 : -1;
	if (proxy_prefix(b, len, proxy_v2_sig, sizeof(proxy_v2_sig)))
		return len >= sizeof(proxy_v2_sig) ? 1 : -1;
	return 0;
}

/* The ProxyProtocol value naming a mode. */
const char *
proxy_mode_name(enum proxy_mode m)
{
	switch (m) {
	case PROXY_OFF:
		return "off";
	case PROXY_V1:
		return "v1";
	case PROXY_V2:
		return "v2";
	case PROXY_ANY:
		return "any";
	}
	return "?";
}
