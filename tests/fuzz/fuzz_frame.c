/* fuzz_frame.c - libFuzzer target for the frame decoder. */
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ws-frame.h"
#include "core/ws-utf8.h"

/*
 * Input layout: one config byte (bit 0 require_mask, bits 1-3
 * rsv_allowed), eight chunk sizes used in turn (0 means "all the rest"),
 * then the byte stream. Any violated invariant aborts.
 */
#define FUZZ_NSIZES	8
#define FUZZ_PREFIX	(1 + FUZZ_NSIZES)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The frame being followed, to check what the decoder reports about it. */
struct fuzz_frame {
	bool			in_frame;
	struct ws_frame_header	hdr;
	uint64_t		got;
	const uint8_t		*first;		/* first payload byte */
	size_t			start;		/* its offset in the stream */
	struct ws_utf8		utf8;
	int			utf8_rc;
};

/* Aborts unless cond holds; abort() gives libFuzzer a crash to keep. */
static void
fuzz_check(bool cond)
{
	if (!cond)
		abort();
}

/* Headers must survive an encode and decode unchanged. */
static void
fuzz_header_round_trip(const struct ws_frame_header *h)
{
	struct ws_frame_decoder	 d;
	struct ws_frame_ev	 ev;
	uint8_t			 out[WS_HEADER_MAX];
	size_t			 n;

	n = ws_frame_header_encode(out, h->fin, h->rsv, h->opcode, h->length,
	    h->masked ? h->mask : NULL);
	fuzz_check(n >= 2 && n <= WS_HEADER_MAX);
	ws_frame_decoder_init(&d, false);
	d.rsv_allowed = WS_RSV1 | WS_RSV2 | WS_RSV3;
	fuzz_check(ws_frame_decode(&d, out, n, &ev) == (ssize_t)n);
	fuzz_check(ev.type == WS_FRAME_HEADER);
	fuzz_check(ev.header.fin == h->fin && ev.header.rsv == h->rsv &&
	    ev.header.opcode == h->opcode && ev.header.masked == h->masked &&
	    ev.header.length == h->length);
	fuzz_check(!h->masked || memcmp(ev.header.mask, h->mask, 4) == 0);
}

/* Runs the decoder over one input; see the layout above. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_frame_decoder	 d;
	struct ws_frame_ev	 ev;
	struct fuzz_frame	 f;
	uint8_t			*buf;
	const uint8_t		*orig;
	size_t			 len, off, clen, pos, i, k, idle;
	ssize_t			 rc;
	unsigned int		 turn = 0;

	if (size < FUZZ_PREFIX)
		return 0;
	orig = data + FUZZ_PREFIX;
	len = size - FUZZ_PREFIX;
	/* Exact size, so any overread is caught by ASan. */
	buf = malloc(len > 0 ? len : 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, orig, len);

	ws_frame_decoder_init(&d, (data[0] & 1) != 0);
	d.rsv_allowed = (data[0] >> 1) & 0x7;
	memset(&f, 0, sizeof(f));

	for (off = 0; off < len; off += clen) {
		clen = data[1 + turn++ % FUZZ_NSIZES];
		if (clen == 0 || clen > len - off)
			clen = len - off;
		pos = 0;
		idle = 0;
		for (;;) {
			rc = ws_frame_decode(&d, buf + off + pos, clen - pos,
			    &ev);
			if (rc < 0) {
				fuzz_check(rc == WS_ERR_PROTOCOL);
				goto out;
			}
			fuzz_check((size_t)rc <= clen - pos);
			/* END then NEED_MORE is the longest idle run. */
			idle = rc == 0 ? idle + 1 : 0;
			fuzz_check(idle <= 2);
			switch (ev.type) {
			case WS_FRAME_NEED_MORE:
				fuzz_check(pos + (size_t)rc == clen);
				break;
			case WS_FRAME_HEADER:
				fuzz_check(!f.in_frame && rc > 0);
				fuzz_check(ws_opcode_known(ev.header.opcode));
				fuzz_check((ev.header.rsv & ~d.rsv_allowed) ==
				    0);
				fuzz_check(ev.header.masked || !d.require_mask);
				fuzz_check(ev.header.opcode < WS_OP_CLOSE ||
				    (ev.header.fin &&
				    ev.header.length <= WS_CONTROL_MAX));
				fuzz_check(ev.header.length >> 63 == 0);
				fuzz_header_round_trip(&ev.header);
				f.in_frame = true;
				f.hdr = ev.header;
				f.got = 0;
				f.first = NULL;
				f.start = off + pos + (size_t)rc;
				ws_utf8_init(&f.utf8);
				f.utf8_rc = 0;
				break;
			case WS_FRAME_PAYLOAD:
				fuzz_check(f.in_frame && ev.len > 0);
				fuzz_check(ev.header.length == f.hdr.length);
				fuzz_check(ev.len <= f.hdr.length - f.got);
				fuzz_check(ev.data >= buf + off + pos &&
				    ev.data + ev.len <= buf + off + pos +
				    (size_t)rc);
				/* Payload is contiguous in the stream. */
				fuzz_check((size_t)(ev.data - buf) ==
				    f.start + f.got);
				for (i = 0; i < ev.len; i++) {
					k = f.start + f.got + i;
					fuzz_check(ev.data[i] == (orig[k] ^
					    (f.hdr.masked ?
					    f.hdr.mask[(f.got + i) & 3] : 0)));
				}
				if (f.first == NULL)
					f.first = ev.data;
				if (f.utf8_rc == 0)
					f.utf8_rc = ws_utf8_feed(&f.utf8,
					    ev.data, ev.len);
				f.got += ev.len;
				break;
			case WS_FRAME_END:
				fuzz_check(f.in_frame && rc == 0);
				fuzz_check(f.got == f.hdr.length);
				/* Chunked validation equals whole. */
				fuzz_check(ws_utf8_valid(f.first == NULL ?
				    buf : f.first, f.got) ==
				    (f.utf8_rc == 0 &&
				    ws_utf8_complete(&f.utf8)));
				f.in_frame = false;
				break;
			default:
				fuzz_check(false);
			}
			pos += (size_t)rc;
			if (ev.type == WS_FRAME_NEED_MORE)
				break;
		}
	}
	/* A frame still open has seen no more than it announced. */
	fuzz_check(!f.in_frame || f.got <= f.hdr.length);
out:
	free(buf);
	return 0;
}
