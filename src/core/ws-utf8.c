/* ws-utf8.c - incremental UTF-8 validator (RFC 3629) for WebSocket text. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/ws-utf8.h"

/*
 * A table-driven DFA. Each byte is first mapped to a class, then the pair
 * (state, class) gives the next state. The states that sit inside a code
 * point remember exactly which range the next byte must fall in, which is
 * what makes the validator fail on the first impossible byte: after 0xE0
 * only A0-BF can follow (anything lower is overlong), after 0xED only 80-9F
 * (anything higher is a surrogate), after 0xF0 only 90-BF (overlong), and
 * after 0xF4 only 80-8F (beyond U+10FFFF).
 */
enum utf8_state {
	U8_ACCEPT = 0,	/* at a code point boundary */
	U8_REJECT,	/* invalid; sticky until ws_utf8_init */
	U8_TAIL1,	/* one continuation byte 80-BF to go */
	U8_TAIL2,	/* two to go */
	U8_TAIL3,	/* three to go */
	U8_E0,		/* after E0: A0-BF, then one more */
	U8_ED,		/* after ED: 80-9F, then one more */
	U8_F0,		/* after F0: 90-BF, then two more */
	U8_F4,		/* after F4: 80-8F, then two more */
	U8_NSTATES
};

enum utf8_class {
	C_ASCII = 0,	/* 00-7F */
	C_CONT_LO,	/* 80-8F */
	C_CONT_MID,	/* 90-9F */
	C_CONT_HI,	/* A0-BF */
	C_BAD,		/* C0 C1 F5-FF: never valid anywhere */
	C_LEAD2,	/* C2-DF */
	C_E0,		/* E0 */
	C_LEAD3,	/* E1-EC EE EF */
	C_ED,		/* ED */
	C_F0,		/* F0 */
	C_LEAD4,	/* F1-F3 */
	C_F4,		/* F4 */
	C_NCLASSES
};

static const uint8_t utf8_class[256] = {
	[0x00 ... 0x7f] = C_ASCII,
	[0x80 ... 0x8f] = C_CONT_LO,
	[0x90 ... 0x9f] = C_CONT_MID,
	[0xa0 ... 0xbf] = C_CONT_HI,
	[0xc0 ... 0xc1] = C_BAD,
	[0xc2 ... 0xdf] = C_LEAD2,
	[0xe0] = C_E0,
	[0xe1 ... 0xec] = C_LEAD3,
	[0xed] = C_ED,
	[0xee ... 0xef] = C_LEAD3,
	[0xf0] = C_F0,
	[0xf1 ... 0xf3] = C_LEAD4,
	[0xf4] = C_F4,
	[0xf5 ... 0xff] = C_BAD,
};

/* Short names, so that each state's row fits on one line. */
#define A	U8_ACCEPT
#define R	U8_REJECT
#define T1	U8_TAIL1
#define T2	U8_TAIL2
#define T3	U8_TAIL3
static const uint8_t utf8_next[U8_NSTATES][C_NCLASSES] = {
	/* Columns in enum utf8_class order: ASCII, 80, 90, A0, BAD, C2... */
	[U8_ACCEPT] = {	A, R, R, R, R, T1, U8_E0, T2, U8_ED, U8_F0, T3, U8_F4 },
	[U8_REJECT] = {	R, R, R, R, R, R, R, R, R, R, R, R },
	[U8_TAIL1] = {	R, A, A, A, R, R, R, R, R, R, R, R },
	[U8_TAIL2] = {	R, T1, T1, T1, R, R, R, R, R, R, R, R },
	[U8_TAIL3] = {	R, T2, T2, T2, R, R, R, R, R, R, R, R },
	[U8_E0] = {	R, R, R, T1, R, R, R, R, R, R, R, R },
	[U8_ED] = {	R, T1, T1, R, R, R, R, R, R, R, R, R },
	[U8_F0] = {	R, R, T2, T2, R, R, R, R, R, R, R, R },
	[U8_F4] = {	R, T2, R, R, R, R, R, R, R, R, R, R },
};
#undef A
#undef R
#undef T1
#undef T2
#undef T3

#define UTF8_HIGHBITS	0x8080808080808080ULL

/* Resets the validator to a code point boundary. */
void
ws_utf8_init(struct ws_utf8 *u)
{
	u->state = U8_ACCEPT;
}

/*
 * Feeds len bytes; returns 0 while the stream can still be valid, -1 from
 * the first byte that makes it invalid.
 */
int
ws_utf8_feed(struct ws_utf8 *u, const uint8_t *p, size_t len)
{
	const uint8_t	*end = p + len;
	uint32_t	 s = u->state;
	uint64_t	 w;

	if (s == U8_REJECT)
		return -1;
	while (p < end) {
		/*
		 * Text is mostly ASCII; at a boundary skip whole words whose
		 * bytes all have the high bit clear, since they can neither
		 * start nor continue a multi-byte sequence.
		 */
		if (s == U8_ACCEPT) {
			while ((size_t)(end - p) >= sizeof(w)) {
				memcpy(&w, p, sizeof(w));
				if ((w & UTF8_HIGHBITS) != 0)
					break;
				p += sizeof(w);
			}
			while (p < end && *p < 0x80)
				p++;
			if (p == end)
				break;
		}
		s = utf8_next[s][utf8_class[*p++]];
		if (s == U8_REJECT) {
			u->state = s;
			return -1;
		}
	}
	u->state = s;
	return 0;
}

/* Returns 1 when the bytes fed so far end on a code point boundary. */
int
ws_utf8_complete(const struct ws_utf8 *u)
{
	return u->state == U8_ACCEPT;
}

/* Returns 1 when buf[0..len) is complete valid UTF-8, else 0. */
int
ws_utf8_valid(const uint8_t *buf, size_t len)
{
	struct ws_utf8	u;

	ws_utf8_init(&u);
	if (ws_utf8_feed(&u, buf, len) != 0)
		return 0;
	return ws_utf8_complete(&u);
}

/* Length of the incomplete character data[0..n) ends with; see ws-utf8.h. */
size_t
ws_utf8_tail(const uint8_t *data, size_t n)
{
	size_t	i, need;
	uint8_t	c;

	for (i = 1; i <= 3 && i <= n; i++) {
		c = data[n - i];
		if ((c & 0xc0) == 0x80)
			continue;
		if (c >= 0xf0)
			need = 4;
		else if (c >= 0xe0)
			need = 3;
		else if (c >= 0xc0)
			need = 2;
		else
			need = 1;
		return need > i ? i : 0;
	}
	return 0;
}
