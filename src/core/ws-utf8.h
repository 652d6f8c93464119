/* ws-utf8.h - incremental UTF-8 validator (RFC 3629) for WebSocket text. */
#ifndef WS_UTF8_H
#define WS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Validation state. Zero-initialised (or ws_utf8_init) means "at a code
 * point boundary". The state survives across calls, so a message may be fed
 * in any chunking, split anywhere, even inside a code point.
 */
struct ws_utf8 {
	uint32_t	state;
};

/* Resets the validator to a code point boundary. */
void	ws_utf8_init(struct ws_utf8 *);

/*
 * Feeds len bytes. Returns 0 when every byte so far can still be part of a
 * valid UTF-8 stream (possibly ending inside a code point), -1 as soon as a
 * byte makes the stream invalid (overlong forms, surrogates, > U+10FFFF,
 * stray continuation bytes, 0xC0/0xC1/0xF5-0xFF). After -1 the state stays
 * invalid until ws_utf8_init.
 */
int	ws_utf8_feed(struct ws_utf8 *, const uint8_t *, size_t);

/* Returns 1 when the bytes fed so far end on a code point boundary, else 0. */
int	ws_utf8_complete(const struct ws_utf8 *);

/* Convenience: returns 1 when buf[0..len) is complete valid UTF-8, else 0. */
int	ws_utf8_valid(const uint8_t *, size_t);

/*
 * Length of the incomplete character that data[0..n) ends with, which a
 * validator has accepted so far (0 when it ends on a boundary): what a
 * writer holds back until the rest of it comes.
 */
size_t	ws_utf8_tail(const uint8_t *data, size_t n);

#endif
