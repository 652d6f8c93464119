/* check_utf8.c - tests for the incremental UTF-8 validator. */
#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "check_suites.h"
#include "core/ws-utf8.h"

/*
 * One byte script and what the validator must say about it. fail_at is
 * the index of the first byte that makes the stream invalid, or -1 when no
 * byte does; complete says whether a stream that never failed ends on a
 * code point boundary.
 */
struct utf8_case {
	const char	*name;
	const char	*bytes;
	size_t		 len;
	int		 fail_at;
	int		 complete;
};

#define U8(name, lit, fail, comp) \
	{ name, lit, sizeof(lit) - 1, fail, comp }
#define VALID(name, lit)	U8(name, lit, -1, 1)
#define PARTIAL(name, lit)	U8(name, lit, -1, 0)
#define BAD(name, lit, at)	U8(name, lit, at, 0)

static const struct utf8_case utf8_cases[] = {
	/* Plain text and the Autobahn 6.1-6.2 samples. */
	VALID("empty", ""),
	VALID("ascii", "Hello, world"),
	VALID("kosme", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
	VALID("mixed", "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc"
	    "\xc3\xa0\xc3\xa1-UTF-8!!"),
	/* First code point of each length (6.6-6.8). */
	VALID("U+0000", "\x00"),
	VALID("U+0080", "\xc2\x80"),
	VALID("U+0800", "\xe0\xa0\x80"),
	VALID("U+10000", "\xf0\x90\x80\x80"),
	/* Last code point of each length. */
	VALID("U+007F", "\x7f"),
	VALID("U+07FF", "\xdf\xbf"),
	VALID("U+FFFF", "\xef\xbf\xbf"),
	VALID("U+10FFFF", "\xf4\x8f\xbf\xbf"),
	/* Other boundaries (6.9-6.11). */
	VALID("U+0FFF", "\xe0\xbf\xbf"),
	VALID("U+1000", "\xe1\x80\x80"),
	VALID("U+CFFF", "\xec\xbf\xbf"),
	VALID("U+D000", "\xed\x80\x80"),
	VALID("U+D7FF", "\xed\x9f\xbf"),
	VALID("U+E000", "\xee\x80\x80"),
	VALID("U+FFFD", "\xef\xbf\xbd"),
	VALID("U+3FFFF", "\xf0\xbf\xbf\xbf"),
	VALID("U+40000", "\xf1\x80\x80\x80"),
	VALID("U+FFFFF", "\xf3\xbf\xbf\xbf"),
	VALID("U+100000", "\xf4\x80\x80\x80"),
	/* Non-characters are valid UTF-8 (6.23). */
	VALID("U+FFFE", "\xef\xbf\xbe"),
	VALID("U+FDD0", "\xef\xb7\x90"),
	VALID("U+1FFFE", "\xf0\x9f\xbf\xbe"),
	VALID("U+1FFFF", "\xf0\x9f\xbf\xbf"),
	VALID("U+10FFFE", "\xf4\x8f\xbf\xbe"),
	VALID("long ascii then 4-byte",
	    "0123456789abcdef0123456789abcdef0123456\xf0\x9f\x98\x80xyz"),
	VALID("ascii after each", "a\xc2\x80" "b\xe0\xa0\x80"
	    "c\xf0\x90\x80\x80" "d"),

	/* Truncated at the end: not invalid, only incomplete (6.4, 6.14). */
	PARTIAL("C2", "\xc2"),
	PARTIAL("DF", "\xdf"),
	PARTIAL("E0", "\xe0"),
	PARTIAL("E0 A0", "\xe0\xa0"),
	PARTIAL("E1 80", "\xe1\x80"),
	PARTIAL("ED 9F", "\xed\x9f"),
	PARTIAL("EF BF", "\xef\xbf"),
	PARTIAL("F0 90", "\xf0\x90"),
	PARTIAL("F0 90 80", "\xf0\x90\x80"),
	PARTIAL("F1", "\xf1"),
	PARTIAL("F3 BF BF", "\xf3\xbf\xbf"),
	PARTIAL("F4 8F BF", "\xf4\x8f\xbf"),
	PARTIAL("kosme then E1 BD", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc"
	    "\xce\xb5\xe1\xbd"),
	PARTIAL("ascii run then F4", "0123456789abcdef0123\xf4"),

	/* Stray continuation bytes (6.13). */
	BAD("lone 80", "\x80", 0),
	BAD("lone BF", "\xbf", 0),
	BAD("80 BF", "\x80\xbf", 0),
	BAD("ascii then 80", "a\x80", 1),
	BAD("C2 80 80", "\xc2\x80\x80", 2),
	BAD("E1 80 80 80", "\xe1\x80\x80\x80", 3),
	BAD("F1 80 80 80 80", "\xf1\x80\x80\x80\x80", 4),
	/* Bytes that never appear (6.15-6.17). */
	BAD("C0", "\xc0", 0),
	BAD("C1", "\xc1", 0),
	BAD("F5", "\xf5", 0),
	BAD("F7", "\xf7", 0),
	BAD("F8", "\xf8", 0),
	BAD("FC", "\xfc", 0),
	BAD("FE", "\xfe", 0),
	BAD("FF", "\xff", 0),
	BAD("FE FE FF FF", "\xfe\xfe\xff\xff", 0),
	BAD("ascii then FE", "abcdefghij\xfe", 10),
	/* Five- and six-byte forms (6.3, 6.8). */
	BAD("5-byte U+200000", "\xf8\x88\x80\x80\x80", 0),
	BAD("5-byte max", "\xfb\xbf\xbf\xbf\xbf", 0),
	BAD("6-byte U+4000000", "\xfc\x84\x80\x80\x80\x80", 0),
	BAD("6-byte max", "\xfd\xbf\xbf\xbf\xbf\xbf", 0),
	/* Overlong '/' in each length (6.18). */
	BAD("overlong / 2", "\xc0\xaf", 0),
	BAD("overlong / 3", "\xe0\x80\xaf", 1),
	BAD("overlong / 4", "\xf0\x80\x80\xaf", 1),
	BAD("overlong / 5", "\xf8\x80\x80\x80\xaf", 0),
	BAD("overlong / 6", "\xfc\x80\x80\x80\x80\xaf", 0),
	/* Largest overlongs (6.19). */
	BAD("overlong max 2", "\xc1\xbf", 0),
	BAD("overlong max 3", "\xe0\x9f\xbf", 1),
	BAD("overlong max 4", "\xf0\x8f\xbf\xbf", 1),
	/* Overlong NUL (6.20). */
	BAD("overlong NUL 2", "\xc0\x80", 0),
	BAD("overlong NUL 3", "\xe0\x80\x80", 1),
	BAD("overlong NUL 4", "\xf0\x80\x80\x80", 1),
	/* Single surrogates at each edge (6.21). */
	BAD("U+D800", "\xed\xa0\x80", 1),
	BAD("U+DB7F", "\xed\xad\xbf", 1),
	BAD("U+DB80", "\xed\xae\x80", 1),
	BAD("U+DBFF", "\xed\xaf\xbf", 1),
	BAD("U+DC00", "\xed\xb0\x80", 1),
	BAD("U+DF80", "\xed\xbe\x80", 1),
	BAD("U+DFFF", "\xed\xbf\xbf", 1),
	BAD("ED A0 truncated", "\xed\xa0", 1),
	/* Paired surrogates (6.22): the first one already fails. */
	BAD("U+D800 U+DC00", "\xed\xa0\x80\xed\xb0\x80", 1),
	BAD("U+DBFF U+DFFF", "\xed\xaf\xbf\xed\xbf\xbf", 1),
	/* Beyond U+10FFFF. */
	BAD("U+110000", "\xf4\x90\x80\x80", 1),
	BAD("F4 BF BF BF", "\xf4\xbf\xbf\xbf", 1),
	BAD("F4 90 truncated", "\xf4\x90", 1),
	BAD("F5 80 80 80", "\xf5\x80\x80\x80", 0),
	BAD("F7 BF BF BF", "\xf7\xbf\xbf\xbf", 0),
	/* A lead byte cut short by something else (6.14, 6.15). */
	BAD("C2 space", "\xc2 ", 1),
	BAD("E0 space", "\xe0 ", 1),
	BAD("E1 80 space", "\xe1\x80 ", 2),
	BAD("F0 space", "\xf0 ", 1),
	BAD("F1 80 80 space", "\xf1\x80\x80 ", 3),
	BAD("C2 C2", "\xc2\xc2", 1),
	BAD("E1 C2 80", "\xe1\xc2\x80", 1),
	BAD("concatenated truncated", "\xc2\xe0\x80\xf0\x80\x80", 1),
	/* Valid text, then a bad byte (6.3.2 and friends). */
	BAD("kosme then surrogate", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc"
	    "\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 12),
	BAD("kosme then F4 90", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc"
	    "\xce\xb5\xf4\x90\x80\x80\x65", 12),
	BAD("long ascii then C0", "0123456789abcdef0123456789abcdef\xc0\x80",
	    32),
	BAD("ascii then 80 at word end", "0123456\x80", 7),
	BAD("ascii then 80 at word start", "01234567\x80", 8),
};

#define NCASES	(sizeof(utf8_cases) / sizeof(utf8_cases[0]))

/* A small deterministic PRNG (xorshift32) for the random chunkings. */
static uint32_t
utf8_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Feeds a case byte by byte and returns the index of the first failure. */
static int
utf8_first_fail(const uint8_t *p, size_t len, int *complete)
{
	struct ws_utf8	u;
	size_t		i;

	ws_utf8_init(&u);
	for (i = 0; i < len; i++) {
		if (ws_utf8_feed(&u, p + i, 1) != 0) {
			/*
			 * Once failed, the validator stays failed. (Plain
			 * ifs: ck_assert costs a pipe write in fork mode,
			 * and this runs millions of times.)
			 */
			if (ws_utf8_feed(&u, (const uint8_t *)"a", 1) != -1 ||
			    ws_utf8_complete(&u) != 0)
				ck_abort_msg("failure not sticky");
			return (int)i;
		}
	}
	*complete = ws_utf8_complete(&u);
	return -1;
}

/* A case fed whole: result and ws_utf8_valid agree with the table. */
START_TEST(test_utf8_whole)
{
	const struct utf8_case	*c = &utf8_cases[_i];
	const uint8_t		*p = (const uint8_t *)c->bytes;
	struct ws_utf8		 u;
	int			 rc;

	ws_utf8_init(&u);
	rc = ws_utf8_feed(&u, p, c->len);
	ck_assert_msg(rc == (c->fail_at >= 0 ? -1 : 0), "%s: rc %d",
	    c->name, rc);
	if (rc == 0)
		ck_assert_int_eq(ws_utf8_complete(&u), c->complete);
	else
		ck_assert_int_eq(ws_utf8_complete(&u), 0);
	ck_assert_int_eq(ws_utf8_valid(p, c->len),
	    c->fail_at < 0 && c->complete);
}
END_TEST

/* A case fed one byte at a time fails exactly at fail_at. */
START_TEST(test_utf8_bytewise)
{
	const struct utf8_case	*c = &utf8_cases[_i];
	int			 at, complete = -1;

	at = utf8_first_fail((const uint8_t *)c->bytes, c->len, &complete);
	ck_assert_msg(at == c->fail_at, "%s: failed at %d, want %d",
	    c->name, at, c->fail_at);
	if (at < 0)
		ck_assert_int_eq(complete, c->complete);
}
END_TEST

/*
 * A case wrapped in ASCII so the word-at-a-time path runs before and
 * after it, fed in seeded random chunks: the failing chunk must be the
 * one that holds the bad byte.
 */
START_TEST(test_utf8_random_splits)
{
	static const char	 pre[] = "The quick brown fox jumps over ";
	const struct utf8_case	*c = &utf8_cases[_i];
	uint8_t			 buf[256];
	struct ws_utf8		 u;
	size_t			 plen = sizeof(pre) - 1, len, off, n;
	uint32_t		 seed = 0x9e3779b9u + (uint32_t)_i;
	int			 round, rc, fail_at;

	ck_assert_uint_le(plen + c->len, sizeof(buf));
	memcpy(buf, pre, plen);
	memcpy(buf + plen, c->bytes, c->len);
	len = plen + c->len;
	fail_at = c->fail_at < 0 ? -1 : (int)plen + c->fail_at;
	for (round = 0; round < 50; round++) {
		ws_utf8_init(&u);
		rc = 0;
		for (off = 0; off < len; off += n) {
			n = 1 + utf8_rand(&seed) % 12;
			if (n > len - off)
				n = len - off;
			rc = ws_utf8_feed(&u, buf + off, n);
			if (rc != 0)
				break;
		}
		if (fail_at < 0) {
			ck_assert_int_eq(rc, 0);
			ck_assert_int_eq(ws_utf8_complete(&u), c->complete);
		} else {
			ck_assert_msg(rc == -1, "%s: round %d passed",
			    c->name, round);
			ck_assert_msg((size_t)fail_at >= off &&
			    (size_t)fail_at < off + n,
			    "%s: failed in chunk [%zu,%zu), bad byte %d",
			    c->name, off, off + n, fail_at);
		}
	}
}
END_TEST

/* Failure is sticky until ws_utf8_init; empty feeds change nothing. */
START_TEST(test_utf8_sticky_and_reset)
{
	struct ws_utf8	u;

	ws_utf8_init(&u);
	ck_assert_int_eq(ws_utf8_complete(&u), 1);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"", 0), 0);
	ck_assert_int_eq(ws_utf8_complete(&u), 1);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"\xe2", 1), 0);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"", 0), 0);
	ck_assert_int_eq(ws_utf8_complete(&u), 0);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"\x82", 1), 0);
	ck_assert_int_eq(ws_utf8_complete(&u), 0);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"\xac", 1), 0);
	ck_assert_int_eq(ws_utf8_complete(&u), 1);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"\xff", 1), -1);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"", 0), -1);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"abcdefghij", 10),
	    -1);
	ck_assert_int_eq(ws_utf8_complete(&u), 0);
	ws_utf8_init(&u);
	ck_assert_int_eq(ws_utf8_complete(&u), 1);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"ok", 2), 0);
	ck_assert_int_eq(ws_utf8_complete(&u), 1);

	/* A zeroed struct is a fresh validator too. */
	memset(&u, 0, sizeof(u));
	ck_assert_int_eq(ws_utf8_complete(&u), 1);
	ck_assert_int_eq(ws_utf8_feed(&u, (const uint8_t *)"\xc3\xa9", 2), 0);
	ck_assert_int_eq(ws_utf8_complete(&u), 1);
}
END_TEST

/* Long runs: the ASCII fast path must not skip a bad byte anywhere. */
START_TEST(test_utf8_long_runs)
{
	uint8_t		buf[1024];
	size_t		pos;
	int		complete;

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(ws_utf8_valid(buf, sizeof(buf)), 1);
	for (pos = 0; pos < 80; pos++) {
		buf[pos] = 0x80;
		ck_assert_int_eq(ws_utf8_valid(buf, 80), 0);
		ck_assert_int_eq(utf8_first_fail(buf, 80, &complete),
		    (int)pos);
		/* A 2-byte sequence at every alignment is fine. */
		buf[pos] = 0xc3;
		buf[pos + 1] = 0xa9;
		ck_assert_int_eq(ws_utf8_valid(buf, 81), 1);
		buf[pos] = 'x';
		buf[pos + 1] = 'x';
	}
	/* A lead byte as the very last byte of a long run: incomplete. */
	buf[sizeof(buf) - 1] = 0xe2;
	ck_assert_int_eq(ws_utf8_valid(buf, sizeof(buf)), 0);
	ck_assert_int_eq(utf8_first_fail(buf, sizeof(buf), &complete), -1);
	ck_assert_int_eq(complete, 0);
}
END_TEST

/* Encodes a code point the textbook way; returns its length. */
static size_t
utf8_encode(uint32_t cp, uint8_t *out)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = 0xc0 | (uint8_t)(cp >> 6);
		out[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = 0xe0 | (uint8_t)(cp >> 12);
		out[1] = 0x80 | ((cp >> 6) & 0x3f);
		out[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | (uint8_t)(cp >> 18);
	out[1] = 0x80 | ((cp >> 12) & 0x3f);
	out[2] = 0x80 | ((cp >> 6) & 0x3f);
	out[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* Every code point: valid unless a surrogate, which fails at byte 1. */
START_TEST(test_utf8_every_code_point)
{
	struct ws_utf8	u;
	uint8_t		b[4];
	uint32_t	cp;
	size_t		n, i;
	int		rc, fail;

	for (cp = 0; cp <= 0x10ffff; cp++) {
		n = utf8_encode(cp, b);
		ws_utf8_init(&u);
		fail = -1;
		for (i = 0; i < n; i++) {
			rc = ws_utf8_feed(&u, b + i, 1);
			if (rc != 0) {
				fail = (int)i;
				break;
			}
			if (ws_utf8_complete(&u) != (i + 1 == n))
				ck_abort_msg("U+%04X: complete after %zu",
				    cp, i + 1);
		}
		if (fail != (cp >= 0xd800 && cp <= 0xdfff ? 1 : -1))
			ck_abort_msg("U+%04X failed at %d", cp, fail);
	}
}
END_TEST

/*
 * An independent oracle: a prefix of one code point is viable when some
 * valid code point of the length its lead byte announces starts with it.
 * The code points sharing a prefix form one contiguous range, found by
 * completing it with 80s and with BFs.
 */
static int
utf8_prefix_viable(const uint8_t *p, size_t n)
{
	static const uint32_t	 lowest[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t			 need, i;
	uint32_t		 lo, hi;

	if (p[0] < 0x80)
		return n == 1;
	if ((p[0] & 0xe0) == 0xc0) {
		need = 2;
		lo = hi = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		need = 3;
		lo = hi = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		need = 4;
		lo = hi = p[0] & 0x07;
	} else
		return 0;
	if (n > need)
		return 0;
	for (i = 1; i < need; i++) {
		if (i < n) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			lo = lo << 6 | (p[i] & 0x3f);
			hi = hi << 6 | (p[i] & 0x3f);
		} else {
			lo = lo << 6;
			hi = hi << 6 | 0x3f;
		}
	}
	if (lo < lowest[need])
		lo = lowest[need];
	if (hi > 0x10ffff)
		hi = 0x10ffff;
	if (lo > hi)
		return 0;
	/* The only hole in the range is the surrogate block. */
	if (lo >= 0xd800 && hi <= 0xdfff)
		return 0;
	return 1;
}

/* The length a lead byte announces (0 for a byte that leads nothing). */
static size_t
utf8_need(uint8_t b)
{
	if (b < 0x80)
		return 1;
	if ((b & 0xe0) == 0xc0)
		return 2;
	if ((b & 0xf0) == 0xe0)
		return 3;
	if ((b & 0xf8) == 0xf0)
		return 4;
	return 0;
}

/* The first failing index of a whole script according to the oracle. */
static int
utf8_oracle(const uint8_t *p, size_t len, int *complete)
{
	size_t	start = 0, need = 0, i;

	for (i = 0; i < len; i++) {
		if (i == start)
			need = utf8_need(p[i]);
		if (!utf8_prefix_viable(p + start, i - start + 1))
			return (int)i;
		if (i - start + 1 == need)
			start = i + 1;
	}
	*complete = start == len;
	return -1;
}

/*
 * Every script of up to three bytes whose first byte is not ASCII (an
 * ASCII first byte only shifts the problem), plus four-byte scripts over
 * each lead byte with interesting tails, against the oracle, fed one byte
 * at a time.
 */
START_TEST(test_utf8_exhaustive_short)
{
	static const uint8_t	 tails[] = { 0x00, 0x41, 0x7f, 0x80, 0x8f,
	    0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xff };
	uint8_t			 b[4];
	unsigned int		 x, y, z, w;
	int			 got, want, gc, wc;
	size_t			 n;

	for (x = 0x80; x <= 0xff; x++) {
		b[0] = (uint8_t)x;
		for (y = 0; y <= 0xff; y++) {
			b[1] = (uint8_t)y;
			for (z = 0; z <= 0xff; z++) {
				b[2] = (uint8_t)z;
				gc = wc = -1;
				got = utf8_first_fail(b, 3, &gc);
				want = utf8_oracle(b, 3, &wc);
				if (got != want || gc != wc)
					ck_abort_msg("%02X %02X %02X: failed "
					    "at %d complete %d, oracle %d %d",
					    x, y, z, got, gc, want, wc);
				if (ws_utf8_valid(b, 3) !=
				    (want < 0 && wc == 1))
					ck_abort_msg("%02X %02X %02X: "
					    "ws_utf8_valid disagrees", x, y, z);
			}
		}
	}
	for (x = 0xf0; x <= 0xf7; x++)
		for (y = 0; y < sizeof(tails); y++)
			for (z = 0; z < sizeof(tails); z++)
				for (w = 0; w < sizeof(tails); w++) {
					b[0] = (uint8_t)x;
					b[1] = tails[y];
					b[2] = tails[z];
					b[3] = tails[w];
					for (n = 1; n <= 4; n++) {
						gc = wc = -1;
						got = utf8_first_fail(b, n,
						    &gc);
						want = utf8_oracle(b, n, &wc);
						if (got != want || gc != wc)
							ck_abort_msg("%02X "
							    "%02X %02X %02X/%zu"
							    ": %d, oracle %d",
							    x, tails[y],
							    tails[z], tails[w],
							    n, got, want);
					}
				}
}
END_TEST

/* The oracle itself agrees with the hand-written table. */
START_TEST(test_utf8_oracle_agrees)
{
	const struct utf8_case	*c = &utf8_cases[_i];
	int			 complete = -1, at;

	at = utf8_oracle((const uint8_t *)c->bytes, c->len, &complete);
	ck_assert_msg(at == c->fail_at, "%s: oracle %d", c->name, at);
	if (at < 0)
		ck_assert_int_eq(complete, c->complete);
}
END_TEST

/* The UTF-8 suite: table cases, chunkings, exhaustive checks. */
/* The incomplete character a buffer ends with: what a writer holds back. */
START_TEST(test_utf8_tail)
{
	static const struct {
		const char	*s;
		size_t		 tail;
	} t[] = {
		{ "", 0 }, { "abc", 0 }, { "ab\xc3", 1 }, { "ab\xc3\xa9", 0 },
		{ "\xe2\x82", 2 }, { "\xe2\x82\xac", 0 }, { "x\xf0", 1 },
		{ "x\xf0\x9f", 2 }, { "x\xf0\x9f\x98", 3 },
		{ "x\xf0\x9f\x98\x80", 0 }, { "\x80\x80\x80\x80", 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(ws_utf8_tail((const uint8_t *)t[i].s,
		    strlen(t[i].s)) == t[i].tail, "case %zu", i);
}
END_TEST

Suite *
make_utf8_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("utf8");

	tc = tcase_create("Core");
	tcase_add_loop_test(tc, test_utf8_whole, 0, NCASES);
	tcase_add_loop_test(tc, test_utf8_bytewise, 0, NCASES);
	tcase_add_test(tc, test_utf8_sticky_and_reset);
	tcase_add_test(tc, test_utf8_tail);
	suite_add_tcase(s, tc);

	tc = tcase_create("Chunking");
	tcase_add_loop_test(tc, test_utf8_random_splits, 0, NCASES);
	tcase_add_test(tc, test_utf8_long_runs);
	suite_add_tcase(s, tc);

	tc = tcase_create("Limits");
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_utf8_oracle_agrees, 0, NCASES);
	tcase_add_test(tc, test_utf8_every_code_point);
	tcase_add_test(tc, test_utf8_exhaustive_short);
	suite_add_tcase(s, tc);

	return s;
}
