/* ws-frame.c - RFC 6455 frame codec on byte buffers; no I/O. */
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/ws-frame.h"

/*
 * Decoder states. The header is gathered into hbuf in two steps: the first
 * two bytes tell how long the rest (extended length, mask key) is, and are
 * checked at once so that a bad frame is refused before its tail arrives.
 */
enum frame_state {
	FRAME_HEAD = 0,		/* gathering the first two header bytes */
	FRAME_HEAD_REST,	/* gathering extended length and mask key */
	FRAME_PAYLOAD,		/* passing payload bytes through */
	FRAME_END,		/* payload complete; END not reported yet */
	FRAME_ERROR,		/* a protocol error was reported; dead */
};

#define FRAME_B0_FIN	0x80
#define FRAME_B0_RSV	0x70
#define FRAME_B0_OPCODE	0x0f
#define FRAME_B1_MASK	0x80
#define FRAME_B1_LEN	0x7f
#define FRAME_LEN16	126	/* 7-bit length value: 16-bit length follows */
#define FRAME_LEN64	127	/* 7-bit length value: 64-bit length follows */

static void	frame_reset(struct ws_frame_decoder *);
static int	frame_check_start(struct ws_frame_decoder *);
static int	frame_check_rest(struct ws_frame_decoder *);
static void	frame_event(const struct ws_frame_decoder *,
		    struct ws_frame_ev *, enum ws_frame_event);

/* Initialises a decoder. require_mask: reject unmasked frames (server side). */
void
ws_frame_decoder_init(struct ws_frame_decoder *d, bool require_mask)
{
	memset(d, 0, sizeof(*d));
	d->require_mask = require_mask;
	d->rsv_allowed = 0;
	frame_reset(d);
}

/* Prepares the decoder for the next frame header. */
static void
frame_reset(struct ws_frame_decoder *d)
{
	d->state = FRAME_HEAD;
	d->hlen = 0;
	d->hneed = 2;
	d->remaining = 0;
	d->offset = 0;
	memset(&d->hdr, 0, sizeof(d->hdr));
}

/*
 * Checks the first two header bytes and works out the full header size.
 * Returns 0, or WS_ERR_PROTOCOL.
 */
static int
frame_check_start(struct ws_frame_decoder *d)
{
	uint8_t	b0 = d->hbuf[0], b1 = d->hbuf[1];
	uint8_t	len7;

	d->hdr.fin = (b0 & FRAME_B0_FIN) != 0;
	d->hdr.rsv = (b0 & FRAME_B0_RSV) >> 4;
	d->hdr.opcode = b0 & FRAME_B0_OPCODE;
	d->hdr.masked = (b1 & FRAME_B1_MASK) != 0;
	len7 = b1 & FRAME_B1_LEN;

	if ((d->hdr.rsv & ~d->rsv_allowed) != 0)
		return WS_ERR_PROTOCOL;
	if (!ws_opcode_known(d->hdr.opcode))
		return WS_ERR_PROTOCOL;
	/* Control frames may be injected between fragments, never split. */
	if (d->hdr.opcode >= WS_OP_CLOSE && !d->hdr.fin)
		return WS_ERR_PROTOCOL;
	if (d->require_mask && !d->hdr.masked)
		return WS_ERR_PROTOCOL;

	d->hneed = 2;
	if (len7 == FRAME_LEN16)
		d->hneed += 2;
	else if (len7 == FRAME_LEN64)
		d->hneed += 8;
	else
		d->hdr.length = len7;
	if (d->hdr.masked)
		d->hneed += 4;
	return 0;
}

/*
 * Reads the extended length and mask key once the whole header is in.
 * Returns 0, or WS_ERR_PROTOCOL.
 */
static int
frame_check_rest(struct ws_frame_decoder *d)
{
	const uint8_t	*p = d->hbuf + 2;
	uint8_t		 len7 = d->hbuf[1] & FRAME_B1_LEN;
	size_t		 i;

	if (len7 == FRAME_LEN16) {
		d->hdr.length = ((uint64_t)p[0] << 8) | p[1];
		p += 2;
	} else if (len7 == FRAME_LEN64) {
		d->hdr.length = 0;
		for (i = 0; i < 8; i++)
			d->hdr.length = (d->hdr.length << 8) | p[i];
		p += 8;
		if (d->hdr.length >> 63)
			return WS_ERR_PROTOCOL;
	}
	/*
	 * Checked on the value, not the encoding, since non-minimal length
	 * encodings are legal.
	 */
	if (d->hdr.opcode >= WS_OP_CLOSE && d->hdr.length > WS_CONTROL_MAX)
		return WS_ERR_PROTOCOL;
	if (d->hdr.masked)
		memcpy(d->hdr.mask, p, 4);
	d->remaining = d->hdr.length;
	d->offset = 0;
	return 0;
}

/* Fills an event with the current frame header. */
static void
frame_event(const struct ws_frame_decoder *d, struct ws_frame_ev *ev,
    enum ws_frame_event type)
{
	ev->type = type;
	ev->header = d->hdr;
	ev->data = NULL;
	ev->len = 0;
}

/*
 * Decodes from buf[0..len), unmasking payload in place. Returns the number
 * of bytes consumed with *ev filled in, or WS_ERR_PROTOCOL.
 */
ssize_t
ws_frame_decode(struct ws_frame_decoder *d, uint8_t *buf, size_t len,
    struct ws_frame_ev *ev)
{
	size_t	used = 0, n;
	int	rc;

	for (;;) {
		switch (d->state) {
		case FRAME_HEAD:
		case FRAME_HEAD_REST:
			n = d->hneed - d->hlen;
			if (n > len - used)
				n = len - used;
			memcpy(d->hbuf + d->hlen, buf + used, n);
			d->hlen += n;
			used += n;
			if (d->hlen < d->hneed) {
				frame_event(d, ev, WS_FRAME_NEED_MORE);
				return used;
			}
			if (d->state == FRAME_HEAD) {
				if ((rc = frame_check_start(d)) != 0)
					goto fail;
				d->state = FRAME_HEAD_REST;
				if (d->hlen < d->hneed)
					continue;
			}
			if ((rc = frame_check_rest(d)) != 0)
				goto fail;
			d->state = d->remaining > 0 ? FRAME_PAYLOAD : FRAME_END;
			frame_event(d, ev, WS_FRAME_HEADER);
			return used;
		case FRAME_PAYLOAD:
			n = len - used;
			if (n == 0) {
				frame_event(d, ev, WS_FRAME_NEED_MORE);
				return used;
			}
			if (n > d->remaining)
				n = d->remaining;
			if (d->hdr.masked)
				ws_frame_mask(buf + used, n, d->hdr.mask,
				    d->offset);
			frame_event(d, ev, WS_FRAME_PAYLOAD);
			ev->data = buf + used;
			ev->len = n;
			d->offset += n;
			d->remaining -= n;
			if (d->remaining == 0)
				d->state = FRAME_END;
			return used + n;
		case FRAME_END:
			frame_event(d, ev, WS_FRAME_END);
			frame_reset(d);
			return used;
		default:
			rc = WS_ERR_PROTOCOL;
			goto fail;
		}
	}
fail:
	d->state = FRAME_ERROR;
	frame_event(d, ev, WS_FRAME_NEED_MORE);
	return rc;
}

/*
 * Writes a frame header into out (WS_HEADER_MAX bytes) and returns its
 * length: 2, 4 or 10 bytes, plus 4 with a mask key.
 */
size_t
ws_frame_header_encode(uint8_t *out, bool fin, uint8_t rsv, uint8_t opcode,
    uint64_t length, const uint8_t *mask)
{
	size_t	n = 0;
	int	i;

	out[n++] = (fin ? FRAME_B0_FIN : 0) | ((rsv & 0x7) << 4) |
	    (opcode & FRAME_B0_OPCODE);
	if (length < FRAME_LEN16) {
		out[n++] = (uint8_t)length;
	} else if (length <= 0xffff) {
		out[n++] = FRAME_LEN16;
		out[n++] = (uint8_t)(length >> 8);
		out[n++] = (uint8_t)length;
	} else {
		out[n++] = FRAME_LEN64;
		for (i = 7; i >= 0; i--)
			out[n++] = (uint8_t)(length >> (i * 8));
	}
	if (mask != NULL) {
		out[1] |= FRAME_B1_MASK;
		memcpy(out + n, mask, 4);
		n += 4;
	}
	return n;
}

/*
 * XORs buf with mask from payload offset off. Whole 8-byte words are done
 * at once; since 8 is a multiple of 4 the mask phase stays fixed for them.
 */
void
ws_frame_mask(uint8_t *buf, size_t len, const uint8_t mask[4], uint64_t off)
{
	uint8_t		 key[8];
	uint64_t	 k, w;
	size_t		 i = 0, j;

	/* Byte-wise until buf is word aligned, so word access is cheap. */
	while (i < len && ((uintptr_t)(buf + i) & (sizeof(w) - 1)) != 0) {
		buf[i] ^= mask[(off + i) & 3];
		i++;
	}
	if (len - i >= sizeof(w)) {
		for (j = 0; j < sizeof(key); j++)
			key[j] = mask[(off + i + j) & 3];
		memcpy(&k, key, sizeof(k));
		for (; len - i >= sizeof(w); i += sizeof(w)) {
			memcpy(&w, buf + i, sizeof(w));
			w ^= k;
			memcpy(buf + i, &w, sizeof(w));
		}
	}
	for (; i < len; i++)
		buf[i] ^= mask[(off + i) & 3];
}

/* Returns 1 for a data opcode (0-2) or a control opcode (8-10), else 0. */
int
ws_opcode_known(uint8_t opcode)
{
	switch (opcode) {
	case WS_OP_CONT:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG:
		return 1;
	default:
		return 0;
	}
}

/*
 * Returns 1 when a close code may appear in a received close frame, else 0.
 * 1005, 1006 and 1015 are reserved for local reporting and must never be
 * sent; 1016-2999 are reserved for future protocol use; 3000-4999 belong to
 * libraries and applications.
 */
int
ws_close_code_valid(int code)
{
	if (code >= 1000 && code <= 1003)
		return 1;
	if (code >= 1007 && code <= 1014)
		return 1;
	if (code >= 3000 && code <= 4999)
		return 1;
	return 0;
}
