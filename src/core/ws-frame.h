/* ws-frame.h - RFC 6455 frame codec on byte buffers; no I/O. */
#ifndef WS_FRAME_H
#define WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

#define WS_RSV1		0x4	/* bit values of ws_frame_header.rsv */
#define WS_RSV2		0x2
#define WS_RSV3		0x1
#define WS_CONTROL_MAX	125	/* largest control frame payload */
#define WS_HEADER_MAX	14	/* largest frame header, with mask */

/* Error codes of the codec and session, grouped by the close code they map to. */
enum ws_error {
	WS_OK = 0,
	WS_ERR_PROTOCOL = -1,	/* close 1002 */
	WS_ERR_UTF8 = -2,	/* close 1007 */
	WS_ERR_TOO_BIG = -3,	/* close 1009 */
	WS_ERR_DATA_TYPE = -4,	/* close 1003 */
	WS_ERR_INTERNAL = -5,	/* close 1011 */
};

struct ws_frame_header {
	bool		fin;
	uint8_t		rsv;		/* WS_RSV1|WS_RSV2|WS_RSV3 as received */
	uint8_t		opcode;
	bool		masked;
	uint8_t		mask[4];
	uint64_t	length;
};

/* What one ws_frame_decode call produced. */
enum ws_frame_event {
	WS_FRAME_NEED_MORE,	/* all input consumed, nothing to report */
	WS_FRAME_HEADER,	/* ev->header is complete; payload follows */
	WS_FRAME_PAYLOAD,	/* ev->data/ev->len: unmasked payload bytes */
	WS_FRAME_END,		/* the current frame's payload is complete */
};

struct ws_frame_ev {
	enum ws_frame_event	 type;
	struct ws_frame_header	 header;	/* valid from HEADER to END */
	uint8_t			*data;		/* PAYLOAD only; points into the input */
	size_t			 len;
};

/* Decoder state: explicit, no allocation, embeddable. */
struct ws_frame_decoder {
	int			state;
	uint8_t			hbuf[WS_HEADER_MAX];
	size_t			hlen;		/* header bytes gathered */
	size_t			hneed;		/* header bytes needed in all */
	uint64_t		remaining;	/* payload bytes still to come */
	uint64_t		offset;		/* payload bytes seen (mask phase) */
	bool			require_mask;	/* server side: client frames must be masked */
	uint8_t			rsv_allowed;	/* RSV bits an extension negotiated */
	struct ws_frame_header	hdr;
};

/* Initialises a decoder. require_mask: reject unmasked frames (server side). */
void	ws_frame_decoder_init(struct ws_frame_decoder *, bool require_mask);

/*
 * Decodes from buf[0..len). Payload bytes are unmasked in place, which is
 * why buf is not const. Returns the number of bytes consumed (>= 0) and
 * fills *ev; call again with the rest of the input until ev->type is
 * WS_FRAME_NEED_MORE and everything is consumed. A zero-length frame yields
 * HEADER then END. Returns a negative enum ws_error for a frame that breaks
 * RFC 6455 section 5 (all WS_ERR_PROTOCOL): unmasked when a mask is
 * required, RSV bits not in rsv_allowed, reserved opcodes 3-7 and 11-15, a
 * control frame longer than 125 bytes or without FIN, a 64-bit length with
 * the top bit set. Non-minimal length encodings are accepted. Fragment
 * sequencing (continuation without a start...) is the session's business.
 * After an error the decoder must not be used again.
 */
ssize_t	ws_frame_decode(struct ws_frame_decoder *, uint8_t *buf, size_t len,
	    struct ws_frame_ev *ev);

/*
 * Writes a frame header into out (at least WS_HEADER_MAX bytes) and returns
 * its length. mask is NULL for server frames (unmasked); with a mask, the
 * caller masks the payload itself (ws_frame_mask).
 */
size_t	ws_frame_header_encode(uint8_t *out, bool fin, uint8_t rsv,
	    uint8_t opcode, uint64_t length, const uint8_t *mask);

/* XORs buf with mask, starting at payload offset off (for chunked masking). */
void	ws_frame_mask(uint8_t *buf, size_t len, const uint8_t mask[4],
	    uint64_t off);

/* Returns 1 for a data opcode (0-2) or a control opcode (8-10), else 0. */
int	ws_opcode_known(uint8_t);

/* Returns 1 when a close code may appear in a received close frame, else 0. */
int	ws_close_code_valid(int code);

#endif
