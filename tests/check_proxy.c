/* check_proxy.c - tests of the PROXY protocol v1/v2 header parser. */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "core/proxy.h"

/* What the client sends after its header: must never be taken as header. */
#define AFTER		"GET / HTTP/1.1\r\n"

enum chunking {
	CHUNK_WHOLE,
	CHUNK_ONE,
	CHUNK_RANDOM,
	CHUNK_COUNT,
};

/* A small deterministic generator so random splits repeat run to run. */
static uint32_t
rng_next(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/*
 * Feeds buf as a client would deliver it, in the given chunking: the
 * parser sees each growing prefix, as a connection's input buffer holds
 * it. Returns the first non-zero result (or 0 when every prefix needed
 * more), with *at the prefix length that gave it.
 */
static ssize_t
feed(const uint8_t *buf, size_t len, enum proxy_mode mode,
    enum chunking how, uint32_t seed, struct proxy_header *h,
    const char **cause, size_t *at)
{
	size_t	 have = 0, step;
	ssize_t	 r;

	*at = 0;
	while (have < len) {
		if (how == CHUNK_WHOLE)
			step = len;
		else if (how == CHUNK_ONE)
			step = 1;
		else
			step = 1 + rng_next(&seed) % 23;
		have = have + step > len ? len : have + step;
		r = proxy_parse(buf, have, mode, h, cause);
		if (r != 0) {
			*at = have;
			if (r < 0)
				ck_assert_ptr_nonnull(*cause);
			return r;
		}
	}
	return 0;
}

/* Checks that a header of hdrlen bytes (followed by AFTER) parses the same in every chunking. */
static void
expect_ok(const uint8_t *hdr, size_t hdrlen, enum proxy_mode mode,
    struct proxy_header *out)
{
	uint8_t			 buf[PROXY_HEADER_MAX + 64];
	struct proxy_header	 h;
	const char		*cause;
	size_t			 len, at;
	ssize_t			 r;
	int			 how;
	uint32_t		 seed;

	ck_assert_uint_le(hdrlen + strlen(AFTER), sizeof(buf));
	memcpy(buf, hdr, hdrlen);
	memcpy(buf + hdrlen, AFTER, strlen(AFTER));
	len = hdrlen + strlen(AFTER);
	for (how = 0; how < CHUNK_COUNT; how++) {
		for (seed = 1; seed <= (how == CHUNK_RANDOM ? 20u : 1u); seed++) {
			memset(&h, 0xa5, sizeof(h));
			r = feed(buf, len, mode, how, seed, &h, &cause, &at);
			ck_assert_msg(r == (ssize_t)hdrlen, "chunking %d seed %u: "
			    "got %zd (%s), want %zu", how, seed, r,
			    r < 0 ? cause : "", hdrlen);
			/* Never before the header's last byte is in. */
			ck_assert_uint_ge(at, hdrlen);
			if (how == 0)
				*out = h;
			else
				ck_assert_int_eq(memcmp(&h, out, sizeof(h)), 0);
		}
	}
	/* Every proper prefix alone needs more. */
	for (len = 0; len < hdrlen; len++)
		ck_assert_int_eq(proxy_parse(buf, len, mode, &h, &cause), 0);
}

/* Checks that bytes are refused in every chunking, with a cause containing why. */
static void
expect_fail(const void *buf, size_t len, enum proxy_mode mode,
    const char *why)
{
	struct proxy_header	 h;
	const char		*cause = NULL;
	size_t			 at, first = 0;
	ssize_t			 r;
	int			 how;
	uint32_t		 seed;

	for (how = 0; how < CHUNK_COUNT; how++) {
		for (seed = 1; seed <= (how == CHUNK_RANDOM ? 20u : 1u); seed++) {
			r = feed(buf, len, mode, how, seed, &h, &cause, &at);
			ck_assert_msg(r == -1, "chunking %d: got %zd, want -1",
			    how, r);
			ck_assert_msg(strstr(cause, why) != NULL, "cause \"%s\" "
			    "lacks \"%s\"", cause, why);
			/* One byte at a time finds the earliest refusal. */
			if (how == CHUNK_ONE)
				first = at;
			else if (how == CHUNK_RANDOM)
				ck_assert_uint_ge(at, first);
		}
	}
}

/* Checks that every prefix of buf needs more bytes. */
static void
expect_more(const void *buf, size_t len, enum proxy_mode mode)
{
	struct proxy_header	 h;
	const char		*cause;
	size_t			 i;

	for (i = 0; i <= len; i++)
		ck_assert_int_eq(proxy_parse(buf, i, mode, &h, &cause), 0);
}

#define S(x)	(const uint8_t *)(x), sizeof(x) - 1

/* The v2 signature followed by version/command, family and length. */
#define V2SIG	"\r\n\r\n\0\r\nQUIT\n"
#define V2(cmd, fam, hi, lo)	V2SIG cmd fam hi lo

START_TEST(test_v1_tcp4)
{
	struct proxy_header	h;

	expect_ok(S("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n"),
	    PROXY_V1, &h);
	ck_assert_int_eq(h.version, 1);
	ck_assert(!h.local);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_str_eq(h.src_addr, "192.168.0.1");
	ck_assert_int_eq(h.src_port, 56324);
	ck_assert_str_eq(h.dst_addr, "192.168.0.11");
	ck_assert_int_eq(h.dst_port, 443);
	ck_assert_int_eq(((struct sockaddr_in *)&h.src)->sin_family, AF_INET);
	ck_assert_int_eq(ntohs(((struct sockaddr_in *)&h.src)->sin_port),
	    56324);
	ck_assert_uint_eq(ntohl(((struct sockaddr_in *)&h.src)->sin_addr.s_addr),
	    0xc0a80001u);
	/* ANY takes it too. */
	expect_ok(S("PROXY TCP4 10.0.0.1 10.0.0.2 0 65535\r\n"), PROXY_ANY, &h);
	ck_assert_int_eq(h.src_port, 0);
	ck_assert_int_eq(h.dst_port, 65535);
}
END_TEST

START_TEST(test_v1_tcp6)
{
	struct proxy_header	h;
	uint8_t			want[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	want[15] = 1;
	expect_ok(S("PROXY TCP6 2001:db8::1 ::1 1234 80\r\n"), PROXY_V1, &h);
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_str_eq(h.src_addr, "2001:db8::1");
	ck_assert_str_eq(h.dst_addr, "::1");
	ck_assert_int_eq(h.src_port, 1234);
	ck_assert_int_eq(h.dst_port, 80);
	ck_assert_int_eq(memcmp(&((struct sockaddr_in6 *)&h.src)->sin6_addr,
	    want, 16), 0);
}
END_TEST

START_TEST(test_v1_unknown)
{
	struct proxy_header	h;

	expect_ok(S("PROXY UNKNOWN\r\n"), PROXY_V1, &h);
	ck_assert(h.local);
	ck_assert_int_eq(h.version, 1);
	ck_assert_str_eq(h.src_addr, "");
	/* The spec's worst case: UNKNOWN with full IPv6 text, 107 bytes. */
	expect_ok(S("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535 "
	    "and whatever else fits\r\n"), PROXY_ANY, &h);
	ck_assert(h.local);
}
END_TEST

START_TEST(test_v2_inet)
{
	struct proxy_header	h;

	expect_ok(S(V2("\x21", "\x11", "\x00", "\x0c")
	    "\x7f\x00\x00\x01" "\x0a\x00\x00\x02" "\xd4\x31" "\x1f\x90"),
	    PROXY_V2, &h);
	ck_assert_int_eq(h.version, 2);
	ck_assert(!h.local);
	ck_assert_int_eq(h.family, AF_INET);
	ck_assert_str_eq(h.src_addr, "127.0.0.1");
	ck_assert_int_eq(h.src_port, 54321);
	ck_assert_str_eq(h.dst_addr, "10.0.0.2");
	ck_assert_int_eq(h.dst_port, 8080);
	ck_assert_uint_eq(h.ntlv, 0);
}
END_TEST

START_TEST(test_v2_inet_tlvs)
{
	struct proxy_header	h;

	/* ALPN "h2", AUTHORITY "example.com", NOOP of length 0. */
	expect_ok(S(V2("\x21", "\x11", "\x00", "\x22")
	    "\xc0\x00\x02\x01" "\xc0\x00\x02\x02" "\x00\x50" "\x01\xbb"
	    "\x01\x00\x02" "h2"
	    "\x02\x00\x0b" "example.com"
	    "\x04\x00\x00"), PROXY_ANY, &h);
	ck_assert_str_eq(h.src_addr, "192.0.2.1");
	ck_assert_int_eq(h.src_port, 80);
	ck_assert_int_eq(h.dst_port, 443);
	ck_assert_uint_eq(h.ntlv, 3);
}
END_TEST

START_TEST(test_v2_inet6)
{
	struct proxy_header	h;

	expect_ok(S(V2("\x21", "\x21", "\x00", "\x29")
	    "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07"
	    "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"
	    "\x30\x39" "\x00\x50"
	    "\x03\x00\x02" "ab"), PROXY_V2, &h);
	ck_assert_int_eq(h.family, AF_INET6);
	ck_assert_str_eq(h.src_addr, "2001:db8::7");
	ck_assert_int_eq(h.src_port, 12345);
	ck_assert_str_eq(h.dst_addr, "::1");
	ck_assert_int_eq(h.dst_port, 80);
	ck_assert_uint_eq(h.ntlv, 1);
	ck_assert_int_eq(((struct sockaddr_in6 *)&h.dst)->sin6_family,
	    AF_INET6);
}
END_TEST

START_TEST(test_v2_local)
{
	struct proxy_header	h;

	/* LOCAL: a health check of the proxy's own; addresses are ignored. */
	expect_ok(S(V2("\x20", "\x00", "\x00", "\x00")), PROXY_V2, &h);
	ck_assert(h.local);
	ck_assert_int_eq(h.version, 2);
	expect_ok(S(V2("\x20", "\x11", "\x00", "\x0c")
	    "\x01\x02\x03\x04\x05\x06\x07\x08\x00\x01\x00\x02"), PROXY_ANY,
	    &h);
	ck_assert(h.local);
	ck_assert_str_eq(h.src_addr, "");
	/* PROXY over UNSPEC: keep the socket's addresses too. */
	expect_ok(S(V2("\x21", "\x00", "\x00", "\x03") "xyz"), PROXY_V2, &h);
	ck_assert(h.local);
}
END_TEST

START_TEST(test_v2_unix)
{
	uint8_t			buf[16 + 216 + 5];
	struct proxy_header	h;

	memcpy(buf, V2("\x21", "\x31", "\x00", "\xdd"), 16);
	memset(buf + 16, 'u', 216);
	memcpy(buf + 16 + 216, "\x04\x00\x02zz", 5);
	expect_ok(buf, sizeof(buf), PROXY_V2, &h);
	ck_assert(h.local);
	ck_assert_uint_eq(h.ntlv, 1);
}
END_TEST

START_TEST(test_detect)
{
	ck_assert_int_eq(proxy_detect("", 0), -1);
	ck_assert_int_eq(proxy_detect("PROX", 4), -1);
	ck_assert_int_eq(proxy_detect("PROXY ", 6), 1);
	ck_assert_int_eq(proxy_detect("PROXY TCP4", 10), 1);
	ck_assert_int_eq(proxy_detect("PROXX", 5), 0);
	ck_assert_int_eq(proxy_detect("GET / HTTP/1.1", 14), 0);
	ck_assert_int_eq(proxy_detect("\r\n\r\n\0\r\nQUI", 10), -1);
	ck_assert_int_eq(proxy_detect(V2SIG, 12), 1);
	ck_assert_int_eq(proxy_detect("\r\n\r\n\0\r\nQUIX", 12), 0);
	ck_assert_str_eq(proxy_mode_name(PROXY_OFF), "off");
	ck_assert_str_eq(proxy_mode_name(PROXY_V1), "v1");
	ck_assert_str_eq(proxy_mode_name(PROXY_V2), "v2");
	ck_assert_str_eq(proxy_mode_name(PROXY_ANY), "any");
}
END_TEST

START_TEST(test_truncated)
{
	expect_more(S("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r"),
	    PROXY_V1);
	expect_more(S("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r"),
	    PROXY_ANY);
	expect_more(S(V2("\x21", "\x11", "\x00", "\x0c")
	    "\x7f\x00\x00\x01" "\x0a\x00\x00\x02" "\xd4\x31" "\x1f"), PROXY_V2);
	expect_more(S(V2("\x21", "\x21", "\x00", "\x24") "\x20\x01"),
	    PROXY_ANY);
}
END_TEST

START_TEST(test_oversized)
{
	char	buf[200];
	uint8_t	v2[16];

	/* 107 bytes is the most; 108 with the CR as byte 107 is too long. */
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	memcpy(buf + 105, "\r\n", 2);
	{
		struct proxy_header	h;

		expect_ok((uint8_t *)buf, 107, PROXY_V1, &h);
		ck_assert(h.local);
	}
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	memcpy(buf + 106, "\r\n", 2);
	expect_fail(buf, 108, PROXY_V1, "too long");
	memset(buf, 'x', sizeof(buf));
	memcpy(buf, "PROXY UNKNOWN ", 14);
	expect_fail(buf, sizeof(buf), PROXY_ANY, "too long");
	/* v2 length field beyond PROXY_HEADER_MAX: refused at byte 16. */
	memcpy(v2, V2("\x21", "\x11", "\xff", "\xff"), 16);
	expect_fail(v2, 16, PROXY_V2, "too large");
	memcpy(v2, V2("\x21", "\x11", "\x07", "\xf1"), 16);
	expect_fail(v2, 16, PROXY_ANY, "too large");
}
END_TEST

START_TEST(test_v1_garbage)
{
	expect_fail(S(AFTER), PROXY_V1, "not a PROXY v1");
	expect_fail(S(AFTER), PROXY_ANY, "no PROXY header");
	expect_fail(S("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"), PROXY_V1,
	    "unknown protocol");
	expect_fail(S("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"), PROXY_V1,
	    "bad address");
	expect_fail(S("PROXY TCP4 ::1 5.6.7.8 1 2\r\n"), PROXY_V1,
	    "bad address");
	expect_fail(S("PROXY TCP6 1.2.3.4 ::1 1 2\r\n"), PROXY_V1,
	    "bad address");
	expect_fail(S("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"), PROXY_V1,
	    "bad port");
	expect_fail(S("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"), PROXY_V1,
	    "bad port");
	expect_fail(S("PROXY TCP4 1.2.3.4 5.6.7.8 1 -2\r\n"), PROXY_V1,
	    "bad port");
	expect_fail(S("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n"), PROXY_V1,
	    "empty field");
	expect_fail(S("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), PROXY_V1,
	    "too many fields");
	expect_fail(S("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), PROXY_V1,
	    "missing fields");
	expect_fail(S("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"), PROXY_V1,
	    "CR without LF");
	expect_fail(S("PROXY TCP4 1.2.3.4\n5.6.7.8 1 2\r\n"), PROXY_V1,
	    "control character");
	expect_fail(S("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"), PROXY_V1,
	    "empty field");
	/* A v2 header where v1 is configured, and the other way round. */
	expect_fail(S(V2("\x21", "\x00", "\x00", "\x00")), PROXY_V1,
	    "not a PROXY v1");
	expect_fail(S("PROXY UNKNOWN\r\n"), PROXY_V2, "not a PROXY v2");
	expect_fail(S("PROXY UNKNOWN\r\n"), PROXY_OFF, "off");
}
END_TEST

START_TEST(test_v2_garbage)
{
	expect_fail(S(V2("\x11", "\x11", "\x00", "\x0c")), PROXY_V2,
	    "unknown version");
	expect_fail(S(V2("\x22", "\x11", "\x00", "\x0c")), PROXY_V2,
	    "unknown command");
	expect_fail(S(V2("\x21", "\x41", "\x00", "\x0c")), PROXY_V2,
	    "unknown family");
	expect_fail(S(V2("\x21", "\x13", "\x00", "\x0c")), PROXY_V2,
	    "unknown family");
	expect_fail(S(V2("\x21", "\x12", "\x00", "\x0c")), PROXY_V2,
	    "datagram");
	expect_fail(S(V2("\x21", "\x11", "\x00", "\x08") "12345678"), PROXY_V2,
	    "too short");
	expect_fail(S(V2("\x21", "\x21", "\x00", "\x0c") "123456789012"),
	    PROXY_ANY, "too short");
	/* TLVs that do not fill the block exactly. */
	expect_fail(S(V2("\x21", "\x11", "\x00", "\x0e")
	    "\x7f\x00\x00\x01\x7f\x00\x00\x01\x00\x01\x00\x02" "\x01\x00"),
	    PROXY_V2, "truncated TLV");
	expect_fail(S(V2("\x21", "\x11", "\x00", "\x10")
	    "\x7f\x00\x00\x01\x7f\x00\x00\x01\x00\x01\x00\x02"
	    "\x01\x00\x05" "a"), PROXY_V2, "past the end");
	expect_fail(S("\r\n\r\n\0\r\nQUIT\r"), PROXY_V2, "not a PROXY v2");
	expect_fail(S("\r\nGET"), PROXY_ANY, "not a PROXY v2");
}
END_TEST

/* Random bytes, and random damage to good headers: same verdict in any chunking. */
START_TEST(test_random)
{
	static const char *const good[] = {
		"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
		"PROXY TCP6 2001:db8::1 ::1 1234 80\r\n",
		V2("\x21", "\x11", "\x00", "\x0c")
		    "\x7f\x00\x00\x01\x0a\x00\x00\x02\xd4\x31\x1f\x90",
	};
	static const size_t goodlen[] = { 47, 36, 28 };
	uint8_t			 buf[160];
	struct proxy_header	 h1, h2;
	const char		*cause;
	uint32_t		 s = 7, seed;
	size_t			 len, i, at;
	ssize_t			 whole, r;
	int			 iter, how;

	for (iter = 0; iter < 3000; iter++) {
		i = (size_t)iter % 3;
		len = goodlen[i];
		memcpy(buf, good[i], len);
		memcpy(buf + len, AFTER, strlen(AFTER));
		len += strlen(AFTER);
		if (iter % 4 == 3) {
			len = 1 + rng_next(&s) % sizeof(buf);
			for (i = 0; i < len; i++)
				buf[i] = (uint8_t)rng_next(&s);
		} else
			buf[rng_next(&s) % len] = (uint8_t)rng_next(&s);
		memset(&h1, 0, sizeof(h1));
		whole = proxy_parse(buf, len, (enum proxy_mode)(1 + iter % 3),
		    &h1, &cause);
		ck_assert_int_le(whole, (ssize_t)len);
		for (how = 1; how < CHUNK_COUNT; how++) {
			seed = (uint32_t)iter;
			memset(&h2, 0, sizeof(h2));
			r = feed(buf, len, (enum proxy_mode)(1 + iter % 3), how,
			    seed, &h2, &cause, &at);
			ck_assert_int_eq(r, whole);
			if (r > 0)
				ck_assert_int_eq(memcmp(&h1, &h2, sizeof(h1)),
				    0);
		}
	}
}
END_TEST

Suite *
make_proxy_suite(void)
{
	Suite	*s = suite_create("proxy");
	TCase	*core = tcase_create("Core");
	TCase	*limits = tcase_create("Limits");

	tcase_add_test(core, test_v1_tcp4);
	tcase_add_test(core, test_v1_tcp6);
	tcase_add_test(core, test_v1_unknown);
	tcase_add_test(core, test_v2_inet);
	tcase_add_test(core, test_v2_inet_tlvs);
	tcase_add_test(core, test_v2_inet6);
	tcase_add_test(core, test_v2_local);
	tcase_add_test(core, test_v2_unix);
	tcase_add_test(core, test_detect);
	suite_add_tcase(s, core);

	tcase_add_test(limits, test_truncated);
	tcase_add_test(limits, test_oversized);
	tcase_add_test(limits, test_v1_garbage);
	tcase_add_test(limits, test_v2_garbage);
	tcase_add_test(limits, test_random);
	suite_add_tcase(s, limits);
	return s;
}
