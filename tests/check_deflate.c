/* check_deflate.c - unit tests for permessage-deflate negotiation and streams. */
#include <sys/types.h>

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/ws-deflate.h"

Suite	*make_deflate_suite(void);

#define RESP_LEN	256

/* A growable byte buffer. */
struct dbuf {
	uint8_t	*p;
	size_t	 len;
	size_t	 cap;
};

/* Appends bytes, growing the buffer. */
static void
dbuf_add(struct dbuf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = b->cap == 0 ? 256 : b->cap;
		while (b->cap < b->len + len)
			b->cap *= 2;
		b->p = realloc(b->p, b->cap);
		ck_assert_ptr_nonnull(b->p);
	}
	if (len > 0)
		memcpy(b->p + b->len, p, len);
	b->len += len;
}

/* Releases a buffer. */
static void
dbuf_free(struct dbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Returns the next number of a small deterministic generator. */
static uint32_t
rng_next(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Fills p with bytes that do not compress. */
static void
fill_random(uint8_t *p, size_t len, uint32_t seed)
{
	uint32_t	x = seed * 2654435761u + 7;
	size_t		i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(rng_next(&x) >> 11);
}

/* Fills p with text that compresses somewhat: words from a small set. */
static void
fill_text(uint8_t *p, size_t len, uint32_t seed)
{
	static const char	*words[] = { "alpha ", "beta ", "gamma ",
	    "delta ", "epsilon ", "zeta ", "eta ", "theta ", "\xc3\xa9t\xc3\xa9 ",
	    "\xe2\x82\xac ", "{\"k\": 1}, " };
	uint32_t		 x = seed * 2654435761u + 3;
	size_t			 i = 0, n;
	const char		*w;

	while (i < len) {
		w = words[rng_next(&x) % (sizeof(words) / sizeof(words[0]))];
		n = strlen(w);
		if (n > len - i) {
			memset(p + i, 'x', len - i);
			break;
		}
		memcpy(p + i, w, n);
		i += n;
	}
}

/* Sets up a raw deflater as a client would, window bits wbits. */
static void
zc_init(z_stream *z, int level, int wbits)
{
	memset(z, 0, sizeof(*z));
	ck_assert_int_eq(deflateInit2(z, level, Z_DEFLATED, -wbits, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
}

/*
 * Compresses one message the RFC 7692 way: sync flush, then the trailing
 * 00 00 ff ff cut off. flush Z_FINISH makes a BFINAL block instead.
 */
static void
zc_msg(z_stream *z, struct dbuf *out, const void *p, size_t len, int flush)
{
	uint8_t	buf[4096];
	int	rc;

	out->len = 0;
	z->next_in = (Bytef *)(uintptr_t)p;
	z->avail_in = (uInt)len;
	do {
		z->next_out = buf;
		z->avail_out = sizeof(buf);
		rc = deflate(z, flush);
		ck_assert(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
		dbuf_add(out, buf, sizeof(buf) - z->avail_out);
	} while (z->avail_out == 0);
	ck_assert_uint_eq(z->avail_in, 0);
	/* zlib does not flush twice in a row: an empty message is 00. */
	if (flush == Z_SYNC_FLUSH && out->len == 0)
		dbuf_add(out, "\x00\x00\x00\xff\xff", 5);
	if (flush == Z_SYNC_FLUSH) {
		ck_assert_uint_ge(out->len, 4);
		ck_assert_mem_eq(out->p + out->len - 4, "\x00\x00\xff\xff", 4);
		out->len -= 4;
	}
}

/*
 * Inflates a whole compressed message with the test's own inflater, in
 * small output steps so that back references go through zlib's window
 * and a too-small window shows. Returns 0, or -1 when zlib refuses it.
 */
static int
zi_msg(z_stream *z, const uint8_t *p, size_t len, struct dbuf *out)
{
	static const uint8_t	tail[4] = { 0, 0, 0xff, 0xff };
	uint8_t			buf[256];
	int			rc, pass;

	out->len = 0;
	for (pass = 0; pass < 2; pass++) {
		z->next_in = (Bytef *)(uintptr_t)(pass == 0 ? p : tail);
		z->avail_in = pass == 0 ? (uInt)len : 4;
		do {
			z->next_out = buf;
			z->avail_out = sizeof(buf);
			rc = inflate(z, Z_SYNC_FLUSH);
			if (rc != Z_OK && rc != Z_BUF_ERROR &&
			    rc != Z_STREAM_END)
				return -1;
			dbuf_add(out, buf, sizeof(buf) - z->avail_out);
		} while (z->avail_out == 0 || (z->avail_in > 0 &&
		    rc != Z_STREAM_END));
	}
	return 0;
}

/*
 * Feeds a compressed message to a stream in pieces (step 0: whole) and
 * collects what it inflates. Checks the piece contract on the way.
 * Returns 0, or -1 when the stream reported bad data.
 */
static int
inflate_all(struct ws_deflate *d, const uint8_t *p, size_t len, size_t step,
    struct dbuf *out, size_t *npieces)
{
	const uint8_t	*q;
	size_t		 off = 0, n, qlen;
	bool		 fin, final, done = false;
	int		 rc;

	out->len = 0;
	*npieces = 0;
	do {
		n = step == 0 || step > len - off ? len - off : step;
		fin = off + n == len;
		ws_deflate_inflate_input(d, p + off, n, fin);
		off += n;
		while ((rc = ws_deflate_inflate_next(d, &q, &qlen,
		    &final)) == 1) {
			ck_assert(!done);
			ck_assert_uint_le(qlen, WS_DEFLATE_CHUNK);
			ck_assert(qlen > 0 || final);
			dbuf_add(out, q, qlen);
			(*npieces)++;
			if (final) {
				ck_assert(fin);
				done = true;
				break;
			}
		}
		if (rc < 0)
			return -1;
	} while (off < len);
	ck_assert(done);
	return 0;
}

/* Compresses a message through a stream in pieces; checks the contract. */
static void
compress_all(struct ws_deflate *d, const uint8_t *p, size_t len, size_t step,
    struct dbuf *out)
{
	const uint8_t	*q;
	size_t		 off = 0, n, qlen;
	bool		 last, final, done = false;
	int		 rc;

	out->len = 0;
	do {
		n = step == 0 || step > len - off ? len - off : step;
		last = off + n == len;
		ws_deflate_compress_input(d, p + off, n, last);
		off += n;
		while ((rc = ws_deflate_compress_next(d, &q, &qlen,
		    &final)) == 1) {
			ck_assert(!done);
			ck_assert_uint_gt(qlen, 0);
			dbuf_add(out, q, qlen);
			if (final) {
				ck_assert(last);
				done = true;
				break;
			}
		}
		ck_assert_int_ge(rc, 0);
	} while (off < len);
	ck_assert(done);
}

/* Runs a negotiation and checks result, response text and agreement. */
static void
neg(const char *hdr, const struct ws_deflate_config *cfg, int want,
    const char *resp, int snct, int cnct, int sbits, int cbits)
{
	struct ws_deflate_params	a;
	struct ws_deflate_config	def;
	char				out[RESP_LEN];
	int				rc;

	if (cfg == NULL) {
		ws_deflate_config_default(&def);
		cfg = &def;
	}
	memset(&a, 0xa5, sizeof(a));
	memset(out, 'Z', sizeof(out));
	out[sizeof(out) - 1] = '\0';
	rc = ws_deflate_negotiate(hdr, cfg, &a, out, sizeof(out));
	ck_assert_msg(rc == want, "'%s': returned %d, expected %d",
	    hdr != NULL ? hdr : "(null)", rc, want);
	if (want != 1) {
		/* Nothing is written on a decline. */
		ck_assert_int_eq(out[0], 'Z');
		return;
	}
	ck_assert_msg(strcmp(out, resp) == 0, "'%s': answered '%s', expected "
	    "'%s'", hdr, out, resp);
	ck_assert_int_eq(a.server_no_context_takeover, snct);
	ck_assert_int_eq(a.client_no_context_takeover, cnct);
	ck_assert_int_eq(a.server_max_window_bits, sbits);
	ck_assert_int_eq(a.client_max_window_bits, cbits);
}

/* The plainest offer gets the plainest answer. */
/* Streams are made on first use: an idle connection costs only the struct. */
START_TEST(test_lazy_streams)
{
	struct ws_deflate_params	 p;
	struct ws_deflate		*d;
	const uint8_t			*out;
	size_t				 len, idle;
	bool				 final;

	memset(&p, 0, sizeof(p));
	p.server_max_window_bits = 15;
	p.client_max_window_bits = 15;
	d = ws_deflate_new(&p, NULL);
	idle = ws_deflate_memory(d);
	ck_assert_uint_lt(idle, 1024);
	ws_deflate_compress_input(d, (const uint8_t *)"Hello", 5, true);
	while (ws_deflate_compress_next(d, &out, &len, &final) == 1 && !final)
		;
	/* The compressor's window and hash (2^17 + 2^17) are there now. */
	ck_assert_uint_gt(ws_deflate_memory(d), idle + (1 << 18));
	ws_deflate_free(d);
}
END_TEST

/* A message whose compressed data stops inside a block is refused. */
START_TEST(test_truncated_message)
{
	struct ws_deflate_params	 p;
	struct ws_deflate		*d;
	z_stream			 z;
	uint8_t				 plain[5000], packed[8192];
	const uint8_t			*out;
	size_t				 i, n, len;
	bool				 final;
	int				 rc;

	for (i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)((i * 7919) % 251);
	memset(&z, 0, sizeof(z));
	ck_assert_int_eq(deflateInit2(&z, 6, Z_DEFLATED, -15, 8,
	    Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = plain;
	z.avail_in = sizeof(plain);
	z.next_out = packed;
	z.avail_out = sizeof(packed);
	ck_assert_int_eq(deflate(&z, Z_SYNC_FLUSH), Z_OK);
	n = sizeof(packed) - z.avail_out;
	deflateEnd(&z);
	ck_assert_uint_gt(n, 100);

	memset(&p, 0, sizeof(p));
	p.server_max_window_bits = 15;
	p.client_max_window_bits = 15;
	d = ws_deflate_new(&p, NULL);
	/* Half of the data, flagged as the whole message. */
	ws_deflate_inflate_input(d, packed, n / 2, true);
	for (i = 0; i < 100; i++) {
		rc = ws_deflate_inflate_next(d, &out, &len, &final);
		if (rc != 1 || final)
			break;
	}
	ck_assert_int_eq(rc, -1);
	ws_deflate_free(d);
}
END_TEST

START_TEST(test_neg_plain)
{
	neg("permessage-deflate", NULL, 1, "permessage-deflate", 0, 0, 15, 15);
	neg("x-webkit-deflate-frame, permessage-deflate", NULL, 1,
	    "permessage-deflate", 0, 0, 15, 15);
	/* Extension names and parameter names are not case-sensitive. */
	neg("PerMessage-Deflate; Server_No_Context_Takeover", NULL, 1,
	    "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15);
}
END_TEST

/* Disabled, absent or foreign: no extension, never an error. */
START_TEST(test_neg_disabled)
{
	struct ws_deflate_config	cfg;

	ws_deflate_config_default(&cfg);
	cfg.enabled = false;
	neg("permessage-deflate", &cfg, 0, NULL, 0, 0, 0, 0);
	neg(NULL, NULL, 0, NULL, 0, 0, 0, 0);
	neg("", NULL, 0, NULL, 0, 0, 0, 0);
	neg("x-webkit-deflate-frame; no_context_takeover", NULL, 0, NULL, 0,
	    0, 0, 0);
	neg("permessage-deflatex", NULL, 0, NULL, 0, 0, 0, 0);
	ck_assert_int_eq(ws_deflate_negotiate("permessage-deflate", NULL,
	    NULL, NULL, 0), 0);
}
END_TEST

/* Several offers: the first acceptable one wins, in the client's order. */
START_TEST(test_neg_several)
{
	neg("permessage-deflate; server_max_window_bits=10, "
	    "permessage-deflate", NULL, 1,
	    "permessage-deflate; server_max_window_bits=10", 0, 0, 10, 15);
	neg("permessage-deflate, permessage-deflate; server_max_window_bits=10",
	    NULL, 1, "permessage-deflate", 0, 0, 15, 15);
	/* The three offers of Autobahn case 13.7. */
	neg("permessage-deflate; client_no_context_takeover; "
	    "client_max_window_bits; server_no_context_takeover; "
	    "server_max_window_bits=8, "
	    "permessage-deflate; client_no_context_takeover; "
	    "client_max_window_bits; server_no_context_takeover, "
	    "permessage-deflate; client_no_context_takeover; "
	    "client_max_window_bits", NULL, 1,
	    "permessage-deflate; server_no_context_takeover; "
	    "client_no_context_takeover; client_max_window_bits=15",
	    1, 1, 15, 15);
}
END_TEST

/* An offer with an unknown parameter is declined; the next is taken. */
START_TEST(test_neg_unknown_param)
{
	neg("permessage-deflate; foo, permessage-deflate; "
	    "client_no_context_takeover", NULL, 1,
	    "permessage-deflate; client_no_context_takeover", 0, 1, 15, 15);
	neg("permessage-deflate; mux=1", NULL, 0, NULL, 0, 0, 0, 0);
	/* Another extension's parameters are none of our business. */
	neg("foo; server_max_window_bits=99, permessage-deflate", NULL, 1,
	    "permessage-deflate", 0, 0, 15, 15);
}
END_TEST

/* A repeated parameter declines the offer. */
START_TEST(test_neg_duplicate)
{
	neg("permessage-deflate; server_no_context_takeover; "
	    "server_no_context_takeover", NULL, 0, NULL, 0, 0, 0, 0);
	neg("permessage-deflate; client_no_context_takeover; "
	    "client_no_context_takeover", NULL, 0, NULL, 0, 0, 0, 0);
	neg("permessage-deflate; server_max_window_bits=10; "
	    "server_max_window_bits=10", NULL, 0, NULL, 0, 0, 0, 0);
	neg("permessage-deflate; client_max_window_bits; "
	    "client_max_window_bits=10, permessage-deflate; "
	    "client_max_window_bits=11", NULL, 1,
	    "permessage-deflate; client_max_window_bits=11", 0, 0, 15, 11);
}
END_TEST

/* Quoted-string values are unescaped and then judged like tokens. */
START_TEST(test_neg_quoted)
{
	neg("permessage-deflate; client_max_window_bits=\"10\"", NULL, 1,
	    "permessage-deflate; client_max_window_bits=10", 0, 0, 15, 10);
	neg("permessage-deflate; server_max_window_bits=\"1\\2\"", NULL, 1,
	    "permessage-deflate; server_max_window_bits=12", 0, 0, 12, 15);
	/* A comma inside quotes does not end the element. */
	neg("foo; bar=\"a, permessage-deflate\", permessage-deflate; "
	    "server_no_context_takeover", NULL, 1,
	    "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15);
	neg("permessage-deflate; client_max_window_bits=\"\"", NULL, 0, NULL,
	    0, 0, 0, 0);
	neg("permessage-deflate; client_max_window_bits=\"10", NULL, 0, NULL,
	    0, 0, 0, 0);
	neg("permessage-deflate; client_max_window_bits=\" 10\"", NULL, 0,
	    NULL, 0, 0, 0, 0);
}
END_TEST

/* Window bits: 8-15 without leading zeros; a value where one belongs. */
START_TEST(test_neg_window_bits)
{
	static const char	*bad[] = { "7", "16", "0", "08", "010", "+9",
	    "9.0", "1e1", "-9", "99999999999999999999" };
	char			 hdr[128];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(hdr, sizeof(hdr),
		    "permessage-deflate; client_max_window_bits=%s", bad[i]);
		neg(hdr, NULL, 0, NULL, 0, 0, 0, 0);
		snprintf(hdr, sizeof(hdr),
		    "permessage-deflate; server_max_window_bits=%s", bad[i]);
		neg(hdr, NULL, 0, NULL, 0, 0, 0, 0);
	}
	/* client_max_window_bits may come bare; we answer with a value. */
	neg("permessage-deflate; client_max_window_bits", NULL, 1,
	    "permessage-deflate; client_max_window_bits=15", 0, 0, 15, 15);
	neg("permessage-deflate; client_max_window_bits=8", NULL, 1,
	    "permessage-deflate; client_max_window_bits=8", 0, 0, 15, 8);
	neg("permessage-deflate; client_max_window_bits=15", NULL, 1,
	    "permessage-deflate; client_max_window_bits=15", 0, 0, 15, 15);
	/* server_max_window_bits needs a value. */
	neg("permessage-deflate; server_max_window_bits", NULL, 0, NULL, 0, 0,
	    0, 0);
	neg("permessage-deflate; server_max_window_bits=9", NULL, 1,
	    "permessage-deflate; server_max_window_bits=9", 0, 0, 9, 15);
	neg("permessage-deflate; server_max_window_bits=15", NULL, 1,
	    "permessage-deflate; server_max_window_bits=15", 0, 0, 15, 15);
	/* Not offered: not answered, never client_max_window_bits. */
	neg("permessage-deflate; server_no_context_takeover", NULL, 1,
	    "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15);
}
END_TEST

/* zlib cannot keep to a 256-byte window: 8 is declined, the next taken. */
START_TEST(test_neg_server_bits_8)
{
	neg("permessage-deflate; server_max_window_bits=8", NULL, 0, NULL, 0,
	    0, 0, 0);
	neg("permessage-deflate; server_max_window_bits=8, "
	    "permessage-deflate; server_max_window_bits=9", NULL, 1,
	    "permessage-deflate; server_max_window_bits=9", 0, 0, 9, 15);
}
END_TEST

/* The no_context_takeover parameters take no value. */
START_TEST(test_neg_flag_values)
{
	neg("permessage-deflate; server_no_context_takeover=1", NULL, 0, NULL,
	    0, 0, 0, 0);
	neg("permessage-deflate; client_no_context_takeover=\"\"", NULL, 0,
	    NULL, 0, 0, 0, 0);
	neg("permessage-deflate; client_no_context_takeover=true, "
	    "permessage-deflate; client_no_context_takeover", NULL, 1,
	    "permessage-deflate; client_no_context_takeover", 0, 1, 15, 15);
}
END_TEST

/* The server's own settings shape the agreement. */
START_TEST(test_neg_server_config)
{
	struct ws_deflate_config	cfg;

	ws_deflate_config_default(&cfg);
	cfg.no_context_takeover = true;
	neg("permessage-deflate", &cfg, 1,
	    "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15);
	ws_deflate_config_default(&cfg);
	cfg.max_window_bits = 10;
	/* Asked for more than we use: answered with ours. */
	neg("permessage-deflate; server_max_window_bits=12", &cfg, 1,
	    "permessage-deflate; server_max_window_bits=10", 0, 0, 10, 15);
	neg("permessage-deflate; server_max_window_bits=9", &cfg, 1,
	    "permessage-deflate; server_max_window_bits=9", 0, 0, 9, 15);
	/* Not asked: used, not announced. */
	neg("permessage-deflate", &cfg, 1, "permessage-deflate", 0, 0, 10,
	    15);
	/* Out of range: the default. */
	cfg.max_window_bits = 3;
	neg("permessage-deflate; server_max_window_bits=12", &cfg, 1,
	    "permessage-deflate; server_max_window_bits=12", 0, 0, 12, 15);
}
END_TEST

/* Whitespace is allowed around separators; broken elements are skipped. */
START_TEST(test_neg_syntax)
{
	neg("  permessage-deflate ;\tclient_max_window_bits = 12 ,", NULL, 1,
	    "permessage-deflate; client_max_window_bits=12", 0, 0, 15, 12);
	neg(",, ;x, permessage-deflate", NULL, 1, "permessage-deflate", 0, 0,
	    15, 15);
	neg("permessage-deflate x", NULL, 0, NULL, 0, 0, 0, 0);
	neg("permessage-deflate;", NULL, 0, NULL, 0, 0, 0, 0);
	neg("permessage-deflate; =9", NULL, 0, NULL, 0, 0, 0, 0);
	neg("permessage-deflate; client_max_window_bits=", NULL, 0, NULL, 0, 0,
	    0, 0);
	neg("permessage-deflate x, permessage-deflate; "
	    "server_no_context_takeover", NULL, 1,
	    "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15);
	neg("\"permessage-deflate\"", NULL, 0, NULL, 0, 0, 0, 0);
}
END_TEST

/* The response must fit: -1 when it does not, nothing half-written. */
START_TEST(test_neg_response_len)
{
	struct ws_deflate_config	cfg;
	struct ws_deflate_params	a;
	const char			*hdr = "permessage-deflate; "
	    "server_no_context_takeover";
	const char			*want = "permessage-deflate; "
	    "server_no_context_takeover";
	char				out[64];

	ws_deflate_config_default(&cfg);
	memset(out, 'Z', sizeof(out));
	ck_assert_int_eq(ws_deflate_negotiate(hdr, &cfg, &a, out,
	    strlen(want)), -1);
	ck_assert_int_eq(out[0], 'Z');
	ck_assert_int_eq(ws_deflate_negotiate(hdr, &cfg, &a, out,
	    strlen(want) + 1), 1);
	ck_assert_str_eq(out, want);
}
END_TEST

/* Defaults as documented; out-of-range settings fall back to them. */
START_TEST(test_config_default)
{
	struct ws_deflate_config	cfg;
	struct ws_deflate_params	p = { false, false, 15, 15 };
	struct ws_deflate		*d;

	ws_deflate_config_default(&cfg);
	ck_assert(cfg.enabled);
	ck_assert_int_eq(cfg.level, 6);
	ck_assert_int_eq(cfg.mem_level, 8);
	ck_assert_int_eq(cfg.max_window_bits, 15);
	ck_assert_uint_eq(cfg.min_size, 32);
	ck_assert(!cfg.no_context_takeover);
	d = ws_deflate_new(&p, NULL);
	ck_assert_uint_eq(ws_deflate_min_size(d), 32);
	ws_deflate_free(d);
	cfg.level = 42;
	cfg.mem_level = 0;
	cfg.min_size = 7;
	p.server_max_window_bits = 99;
	p.client_max_window_bits = 0;
	d = ws_deflate_new(&p, &cfg);
	ck_assert_uint_eq(ws_deflate_min_size(d), 7);
	ws_deflate_free(d);
	ws_deflate_free(NULL);
}
END_TEST

/* RFC 7692 7.2.3.1-7.2.3.3: "Hello", whole, split, and in a stored block. */
START_TEST(test_inflate_rfc_examples)
{
	static const uint8_t		 hello[] = { 0xf2, 0x48, 0xcd, 0xc9,
	    0xc9, 0x07, 0x00 };
	static const uint8_t		 stored[] = { 0x00, 0x05, 0x00, 0xfa,
	    0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00 };
	struct ws_deflate_params	 p = { false, false, 15, 15 };
	struct ws_deflate		*d;
	struct dbuf			 out = { 0 };
	size_t				 step, np;

	d = ws_deflate_new(&p, NULL);
	for (step = 0; step <= sizeof(hello); step++) {
		ck_assert_int_eq(inflate_all(d, hello, sizeof(hello), step,
		    &out, &np), 0);
		ck_assert_uint_eq(out.len, 5);
		ck_assert_mem_eq(out.p, "Hello", 5);
		/* Whole: the tail's output rides on the one piece. */
		if (step == 0)
			ck_assert_uint_eq(np, 1);
		ck_assert_int_eq(inflate_all(d, stored, sizeof(stored), step,
		    &out, &np), 0);
		ck_assert_uint_eq(out.len, 5);
		ck_assert_mem_eq(out.p, "Hello", 5);
	}
	ws_deflate_free(d);
	dbuf_free(&out);
}
END_TEST

/* A BFINAL block ends the deflate stream; the next message starts anew. */
START_TEST(test_inflate_bfinal)
{
	struct ws_deflate_params	 p = { false, false, 15, 15 };
	struct ws_deflate		*d;
	struct dbuf			 c = { 0 }, out = { 0 };
	z_stream			 z;
	size_t				 np;

	zc_init(&z, 6, 15);
	d = ws_deflate_new(&p, NULL);
	zc_msg(&z, &c, "Hello, Hello", 12, Z_FINISH);
	ck_assert_int_eq(inflate_all(d, c.p, c.len, 0, &out, &np), 0);
	ck_assert_uint_eq(out.len, 12);
	ck_assert_mem_eq(out.p, "Hello, Hello", 12);
	ck_assert_int_eq(deflateReset(&z), Z_OK);
	zc_msg(&z, &c, "world", 5, Z_SYNC_FLUSH);
	ck_assert_int_eq(inflate_all(d, c.p, c.len, 1, &out, &np), 0);
	ck_assert_uint_eq(out.len, 5);
	ck_assert_mem_eq(out.p, "world", 5);
	deflateEnd(&z);
	ws_deflate_free(d);
	dbuf_free(&c);
	dbuf_free(&out);
}
END_TEST

/* An empty payload is an empty message and leaves the stream usable. */
START_TEST(test_inflate_empty)
{
	struct ws_deflate_params	 p = { false, false, 15, 15 };
	struct ws_deflate		*d;
	struct dbuf			 c = { 0 }, out = { 0 };
	const uint8_t			*q;
	size_t				 len, np;
	bool				 final;
	z_stream			 z;

	zc_init(&z, 6, 15);
	d = ws_deflate_new(&p, NULL);
	ws_deflate_inflate_input(d, NULL, 0, true);
	ck_assert_int_eq(ws_deflate_inflate_next(d, &q, &len, &final), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert(final);
	ck_assert_int_eq(ws_deflate_inflate_next(d, &q, &len, &final), 0);
	/* The single byte 00 (RFC 7692 7.2.3.6) is empty too. */
	ck_assert_int_eq(inflate_all(d, (const uint8_t *)"", 1, 0, &out, &np),
	    0);
	ck_assert_uint_eq(out.len, 0);
	zc_msg(&z, &c, "", 0, Z_SYNC_FLUSH);
	ck_assert_uint_eq(c.len, 1);
	ck_assert_int_eq(c.p[0], 0);
	zc_msg(&z, &c, "abc", 3, Z_SYNC_FLUSH);
	ck_assert_int_eq(inflate_all(d, c.p, c.len, 0, &out, &np), 0);
	ck_assert_uint_eq(out.len, 3);
	ck_assert_mem_eq(out.p, "abc", 3);
	deflateEnd(&z);
	ws_deflate_free(d);
	dbuf_free(&c);
	dbuf_free(&out);
}
END_TEST

/* Data that is not deflate is refused, and stays refused. */
START_TEST(test_inflate_invalid)
{
	static const uint8_t		 bad[] = { 0xff, 0xff, 0xff };
	static const uint8_t		 badlen[] = { 0x00, 0x05, 0x00, 0x00,
	    0x00, 'a' };
	struct ws_deflate_params	 p = { false, false, 15, 15 };
	struct ws_deflate		*d;
	struct dbuf			 out = { 0 };
	const uint8_t			*q;
	size_t				 len, np;
	bool				 final;

	d = ws_deflate_new(&p, NULL);
	ck_assert_int_eq(inflate_all(d, bad, sizeof(bad), 1, &out, &np), -1);
	ck_assert_int_eq(ws_deflate_inflate_next(d, &q, &len, &final), -1);
	ws_deflate_free(d);
	/* A stored block whose length check does not match. */
	d = ws_deflate_new(&p, NULL);
	ck_assert_int_eq(inflate_all(d, badlen, sizeof(badlen), 0, &out, &np),
	    -1);
	ws_deflate_free(d);
	dbuf_free(&out);
}
END_TEST

/*
 * 10 MB of zeros in about 10 KB: the stream hands it out in pieces of at
 * most WS_DEFLATE_CHUNK from one buffer, and holds no more memory after
 * it than after a 1-byte message.
 */
START_TEST(test_inflate_bomb)
{
	struct ws_deflate_params	 p = { false, false, 15, 15 };
	struct ws_deflate		*d;
	struct dbuf			 c = { 0 };
	const uint8_t			*q, *first = NULL;
	uint8_t				*zeros;
	size_t				 len, total = 0, mem, pieces = 0;
	size_t				 big = 10 * 1000 * 1000;
	bool				 final = false;
	z_stream			 z;
	int				 rc;

	zeros = calloc(1, big);
	ck_assert_ptr_nonnull(zeros);
	zc_init(&z, 9, 15);
	d = ws_deflate_new(&p, NULL);
	zc_msg(&z, &c, "x", 1, Z_SYNC_FLUSH);
	ws_deflate_inflate_input(d, c.p, c.len, true);
	ck_assert_int_eq(ws_deflate_inflate_next(d, &q, &len, &final), 1);
	ck_assert(final);
	mem = ws_deflate_memory(d);
	/* Both directions' zlib state and buffers, with 15-bit windows. */
	ck_assert_uint_lt(mem, 340 * 1024);

	zc_msg(&z, &c, zeros, big, Z_SYNC_FLUSH);
	ck_assert_uint_lt(c.len, 12 * 1024);
	ws_deflate_inflate_input(d, c.p, c.len, true);
	while ((rc = ws_deflate_inflate_next(d, &q, &len, &final)) == 1) {
		if (first == NULL)
			first = q;
		ck_assert_ptr_eq(q, first);
		ck_assert_uint_le(len, WS_DEFLATE_CHUNK);
		ck_assert_uint_eq(ws_deflate_memory(d), mem);
		ck_assert(memcmp(q, zeros, len) == 0);
		total += len;
		ck_assert_uint_lt(pieces++, big / 1024);
		if (final)
			break;
	}
	ck_assert_int_eq(rc, 1);
	ck_assert_uint_eq(total, big);
	ck_assert_uint_eq(ws_deflate_memory(d), mem);
	deflateEnd(&z);
	ws_deflate_free(d);
	dbuf_free(&c);
	free(zeros);
}
END_TEST

/*
 * Context takeover: a message that refers back into the previous one
 * inflates; with client_no_context_takeover the window is gone.
 */
START_TEST(test_inflate_context)
{
	struct ws_deflate_params	 p = { false, false, 15, 15 };
	struct ws_deflate		*d;
	struct dbuf			 c1 = { 0 }, c2 = { 0 }, out = { 0 };
	uint8_t				 msg[300];
	size_t				 np;
	z_stream			 z;

	fill_random(msg, sizeof(msg), 1);
	zc_init(&z, 6, 15);
	zc_msg(&z, &c1, msg, sizeof(msg), Z_SYNC_FLUSH);
	zc_msg(&z, &c2, msg, sizeof(msg), Z_SYNC_FLUSH);
	/* The second is a back reference, a few bytes long. */
	ck_assert_uint_lt(c2.len, 16);

	d = ws_deflate_new(&p, NULL);
	ck_assert_int_eq(inflate_all(d, c1.p, c1.len, 7, &out, &np), 0);
	ck_assert_int_eq(inflate_all(d, c2.p, c2.len, 1, &out, &np), 0);
	ck_assert_uint_eq(out.len, sizeof(msg));
	ck_assert_mem_eq(out.p, msg, sizeof(msg));
	ws_deflate_free(d);

	p.client_no_context_takeover = true;
	d = ws_deflate_new(&p, NULL);
	ck_assert_int_eq(inflate_all(d, c1.p, c1.len, 0, &out, &np), 0);
	ck_assert_int_eq(inflate_all(d, c2.p, c2.len, 0, &out, &np), -1);
	ws_deflate_free(d);

	/* A client that keeps to it resets; that inflates. */
	d = ws_deflate_new(&p, NULL);
	ck_assert_int_eq(deflateReset(&z), Z_OK);
	zc_msg(&z, &c1, msg, sizeof(msg), Z_SYNC_FLUSH);
	ck_assert_int_eq(deflateReset(&z), Z_OK);
	zc_msg(&z, &c2, msg, sizeof(msg), Z_SYNC_FLUSH);
	ck_assert_int_eq(inflate_all(d, c1.p, c1.len, 0, &out, &np), 0);
	ck_assert_int_eq(inflate_all(d, c2.p, c2.len, 3, &out, &np), 0);
	ck_assert_uint_eq(out.len, sizeof(msg));
	ck_assert_mem_eq(out.p, msg, sizeof(msg));
	ws_deflate_free(d);
	deflateEnd(&z);
	dbuf_free(&c1);
	dbuf_free(&c2);
	dbuf_free(&out);
}
END_TEST

/* client_max_window_bits sizes the inflater: a farther reference fails. */
START_TEST(test_inflate_window_bits)
{
	struct ws_deflate_params	 p = { false, false, 15, 10 };
	struct ws_deflate		*d;
	struct dbuf			 c = { 0 }, out = { 0 };
	uint8_t				 msg[4000];
	size_t				 np;
	z_stream			 z;

	/*
	 * 2000 random bytes twice: one reference 2000 bytes back. Fed in
	 * small steps it must come out of the inflater's window (zlib does
	 * not check references into output of the same call).
	 */
	fill_random(msg, 2000, 5);
	memcpy(msg + 2000, msg, 2000);
	d = ws_deflate_new(&p, NULL);
	zc_init(&z, 6, 15);
	zc_msg(&z, &c, msg, sizeof(msg), Z_SYNC_FLUSH);
	ck_assert_uint_lt(c.len, 2100);
	ck_assert_int_eq(inflate_all(d, c.p, c.len, 1, &out, &np), -1);
	ws_deflate_free(d);
	deflateEnd(&z);

	/* The same from a client that keeps to 10 bits. */
	d = ws_deflate_new(&p, NULL);
	zc_init(&z, 6, 10);
	zc_msg(&z, &c, msg, sizeof(msg), Z_SYNC_FLUSH);
	ck_assert_int_eq(inflate_all(d, c.p, c.len, 1, &out, &np), 0);
	ck_assert_uint_eq(out.len, sizeof(msg));
	ck_assert_mem_eq(out.p, msg, sizeof(msg));
	ws_deflate_free(d);
	deflateEnd(&z);

	/*
	 * 8 is taken as 9, what zlib really uses when asked for 8 (its
	 * farthest reference is then 250 bytes back).
	 */
	p.client_max_window_bits = 8;
	d = ws_deflate_new(&p, NULL);
	zc_init(&z, 6, 9);
	fill_random(msg, 200, 6);
	memcpy(msg + 200, msg, 200);
	zc_msg(&z, &c, msg, 400, Z_SYNC_FLUSH);
	ck_assert_uint_lt(c.len, 300);
	ck_assert_int_eq(inflate_all(d, c.p, c.len, 1, &out, &np), 0);
	ck_assert_uint_eq(out.len, 400);
	ck_assert_mem_eq(out.p, msg, 400);
	ws_deflate_free(d);
	deflateEnd(&z);
	dbuf_free(&c);
	dbuf_free(&out);
}
END_TEST

/* RFC 7692 7.2.3.1/7.2.3.2: our "Hello", alone and with takeover. */
START_TEST(test_compress_hello)
{
	struct ws_deflate_params	 p = { false, false, 15, 15 };
	struct ws_deflate		*d;
	struct dbuf			 out = { 0 };

	d = ws_deflate_new(&p, NULL);
	compress_all(d, (const uint8_t *)"Hello", 5, 0, &out);
	ck_assert_uint_eq(out.len, 7);
	ck_assert_mem_eq(out.p, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
	/* With the window kept: a back reference (7.2.3.2). */
	compress_all(d, (const uint8_t *)"Hello", 5, 0, &out);
	ck_assert_uint_eq(out.len, 5);
	ck_assert_mem_eq(out.p, "\xf2\x00\x11\x00\x00", 5);
	ws_deflate_free(d);

	p.server_no_context_takeover = true;
	d = ws_deflate_new(&p, NULL);
	compress_all(d, (const uint8_t *)"Hello", 5, 0, &out);
	ck_assert_mem_eq(out.p, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
	compress_all(d, (const uint8_t *)"Hello", 5, 1, &out);
	ck_assert_uint_eq(out.len, 7);
	ck_assert_mem_eq(out.p, "\xf2\x48\xcd\xc9\xc9\x07\x00", 7);
	/* An empty message is the single byte 00 (7.2.3.6). */
	compress_all(d, (const uint8_t *)"", 0, 0, &out);
	ck_assert_uint_eq(out.len, 1);
	ck_assert_int_eq(out.p[0], 0);
	ws_deflate_free(d);
	dbuf_free(&out);
}
END_TEST

/*
 * Messages of every size, given whole and in pieces, compress to data
 * that zlib inflates back, with or without our window kept.
 */
START_TEST(test_compress_roundtrip)
{
	static const size_t		 sizes[] = { 0, 1, 125, 16380, 16381,
	    65536, 1 << 20 };
	static const size_t		 steps[] = { 0, 1000, 7, 16384 };
	struct ws_deflate_params	 p = { false, false, 15, 15 };
	struct ws_deflate		*d;
	struct dbuf			 out = { 0 }, back = { 0 };
	uint8_t				*msg;
	size_t				 i, j, nct;
	z_stream			 zi;

	msg = malloc(1 << 20);
	ck_assert_ptr_nonnull(msg);
	for (nct = 0; nct < 2; nct++) {
		p.server_no_context_takeover = nct;
		d = ws_deflate_new(&p, NULL);
		memset(&zi, 0, sizeof(zi));
		ck_assert_int_eq(inflateInit2(&zi, -15), Z_OK);
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			for (j = 0; j < sizeof(steps) / sizeof(steps[0]); j++) {
				if (steps[j] == 7 && sizes[i] > 65536)
					continue;
				if (i % 2)
					fill_random(msg, sizes[i], (uint32_t)j);
				else
					fill_text(msg, sizes[i], (uint32_t)j);
				compress_all(d, msg, sizes[i], steps[j], &out);
				/* Without takeover a fresh inflater must do. */
				if (nct)
					ck_assert_int_eq(inflateReset(&zi),
					    Z_OK);
				ck_assert_int_eq(zi_msg(&zi, out.p, out.len,
				    &back), 0);
				ck_assert_uint_eq(back.len, sizes[i]);
				ck_assert(sizes[i] == 0 ||
				    memcmp(back.p, msg, sizes[i]) == 0);
			}
		}
		inflateEnd(&zi);
		ws_deflate_free(d);
	}
	free(msg);
	dbuf_free(&out);
	dbuf_free(&back);
}
END_TEST

/* server_max_window_bits bounds our references: 9 bits inflate with 9. */
START_TEST(test_compress_window_bits)
{
	struct ws_deflate_params	 p = { false, false, 9, 15 };
	struct ws_deflate		*d;
	struct dbuf			 out = { 0 }, back = { 0 };
	uint8_t				 msg[4000];
	z_stream			 zi;

	fill_random(msg, 2000, 9);
	memcpy(msg + 2000, msg, 2000);
	memset(&zi, 0, sizeof(zi));
	ck_assert_int_eq(inflateInit2(&zi, -9), Z_OK);
	d = ws_deflate_new(&p, NULL);
	compress_all(d, msg, sizeof(msg), 0, &out);
	ck_assert_int_eq(zi_msg(&zi, out.p, out.len, &back), 0);
	ck_assert_uint_eq(back.len, sizeof(msg));
	ck_assert_mem_eq(back.p, msg, sizeof(msg));
	ws_deflate_free(d);

	/* With 15 bits the 2000-byte reference is used: 9 bits fail. */
	p.server_max_window_bits = 15;
	d = ws_deflate_new(&p, NULL);
	compress_all(d, msg, sizeof(msg), 0, &out);
	ck_assert_uint_lt(out.len, 2100);
	ck_assert_int_eq(inflateReset(&zi), Z_OK);
	ck_assert_int_eq(zi_msg(&zi, out.p, out.len, &back), -1);
	ws_deflate_free(d);
	inflateEnd(&zi);
	dbuf_free(&out);
	dbuf_free(&back);
}
END_TEST

/* Returns the deflate suite. */
Suite *
make_deflate_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("deflate");

	tc = tcase_create("Core");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_neg_plain);
	tcase_add_test(tc, test_truncated_message);
	tcase_add_test(tc, test_lazy_streams);
	tcase_add_test(tc, test_neg_disabled);
	tcase_add_test(tc, test_neg_several);
	tcase_add_test(tc, test_neg_unknown_param);
	tcase_add_test(tc, test_neg_duplicate);
	tcase_add_test(tc, test_neg_quoted);
	tcase_add_test(tc, test_neg_window_bits);
	tcase_add_test(tc, test_neg_server_bits_8);
	tcase_add_test(tc, test_neg_flag_values);
	tcase_add_test(tc, test_neg_server_config);
	tcase_add_test(tc, test_neg_syntax);
	tcase_add_test(tc, test_config_default);
	tcase_add_test(tc, test_inflate_rfc_examples);
	tcase_add_test(tc, test_inflate_bfinal);
	tcase_add_test(tc, test_inflate_empty);
	tcase_add_test(tc, test_inflate_invalid);
	tcase_add_test(tc, test_inflate_context);
	tcase_add_test(tc, test_inflate_window_bits);
	tcase_add_test(tc, test_compress_hello);
	tcase_add_test(tc, test_compress_roundtrip);
	tcase_add_test(tc, test_compress_window_bits);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_neg_response_len);
	tcase_add_test(tc, test_inflate_bomb);
	suite_add_tcase(s, tc);

	return s;
}
