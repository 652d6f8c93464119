/* fuzz_deflate.c - libFuzzer target driving ws-deflate directly: negotiation, round trips, raw inflate. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ws-deflate.h"

/*
 * fuzz_session reaches compression and inflation through the session;
 * this target adds the Sec-WebSocket-Extensions negotiation and checks
 * the streams' own promises. Input layout: byte 0 chooses the mode (bits
 * 0-1: negotiate, round trip, raw inflate) and the chunk size (bits 2-7,
 * 0: whole); byte 1 the parameters (bits 0-2: window bits 9-15, bit 3:
 * no context takeover, bits 4-7: level and response room). Invariants,
 * any violation aborts: negotiation answers within its room, with
 * parameters in range; what is compressed inflates back to the same
 * messages; inflation never hands out more than WS_DEFLATE_CHUNK at once;
 * a connection's streams stay under FZ_MEM_MAX whatever they carry (zlib
 * makes its state and window on first use, so they grow only up to it).
 */
#define FZ_MEM_MAX	(1024 * 1024)		/* one connection's streams */
#define FZ_OUT_MAX	(4 * 1024 * 1024)	/* inflated bytes, at most */

enum {
	FZ_NEGOTIATE,
	FZ_ROUNDTRIP,
	FZ_INFLATE,
};

/* Negotiation: the rest of the input is the client's header. */
static void
fz_negotiate(const uint8_t *data, size_t size, uint8_t p)
{
	struct ws_deflate_config	 cfg;
	struct ws_deflate_params	 agreed;
	struct ws_deflate		*d;
	char				*hdr, resp[256];
	size_t				 room;
	int				 r;

	ws_deflate_config_default(&cfg);
	cfg.max_window_bits = 9 + (p & 7) % 7;
	cfg.no_context_takeover = (p & 8) != 0;
	room = (p >> 4) == 0 ? sizeof(resp) : (size_t)(p >> 4) * 4;
	if ((hdr = malloc(size + 1)) == NULL)
		abort();
	memcpy(hdr, data, size);
	hdr[size] = '\0';
	memset(resp, 'x', sizeof(resp));
	r = ws_deflate_negotiate(hdr, &cfg, &agreed, resp, room);
	if (r < -1 || r > 1)
		abort();
	if (r == 1) {
		if (memchr(resp, '\0', room) == NULL ||
		    strncmp(resp, "permessage-deflate", 18) != 0)
			abort();
		if (agreed.server_max_window_bits < 9 ||
		    agreed.server_max_window_bits > cfg.max_window_bits ||
		    agreed.client_max_window_bits < 8 ||
		    agreed.client_max_window_bits > 15)
			abort();
		if (cfg.no_context_takeover &&
		    !agreed.server_no_context_takeover)
			abort();
		d = ws_deflate_new(&agreed, &cfg);
		ws_deflate_free(d);
	}
	if (room < sizeof(resp) && resp[room] != 'x')
		abort();
	free(hdr);
}

/*
 * Inflates in[0..len) as one message into out (at most outmax bytes, the
 * rest counted in *total only). Returns 0, or -1 on bad deflate data.
 */
static int
fz_inflate(struct ws_deflate *d, const uint8_t *in, size_t len, size_t step,
    uint8_t *out, size_t outmax, size_t *total)
{
	const uint8_t	*piece;
	size_t		 off = 0, n, plen;
	bool		 final = false;
	int		 r;

	*total = 0;
	do {
		n = step == 0 ? len - off : step;
		if (n > len - off)
			n = len - off;
		ws_deflate_inflate_input(d, in + off, n, off + n == len);
		off += n;
		while ((r = ws_deflate_inflate_next(d, &piece, &plen,
		    &final)) == 1) {
			if (plen > WS_DEFLATE_CHUNK || (plen == 0 && !final))
				abort();
			if (out != NULL && *total + plen <= outmax)
				memcpy(out + *total, piece, plen);
			*total += plen;
			if (final)
				break;
			/* A bomb is the caller's to stop (MaxMessageSize). */
			if (*total > FZ_OUT_MAX)
				return 0;
		}
		if (r == -1)
			return -1;
		if (final && off < len)
			abort();
	} while (off < len);
	if (!final)
		abort();
	return 0;
}

/*
 * Round trip: the rest of the input is messages, each a length byte and
 * that many bytes. The server compresses them in chunks; a peer stream
 * whose inflater matches the server's compressor inflates them back.
 */
static void
fz_roundtrip(const uint8_t *data, size_t size, size_t step, uint8_t p)
{
	struct ws_deflate_config	 cfg;
	struct ws_deflate_params	 sp, cp;
	struct ws_deflate		*srv, *peer;
	const uint8_t			*piece, *msg;
	uint8_t				*comp, *back;
	size_t				 mlen, off, n, clen, cap, total;
	bool				 final;
	int				 r;

	ws_deflate_config_default(&cfg);
	cfg.level = (p >> 4) % 10;
	cfg.min_size = 0;
	memset(&sp, 0, sizeof(sp));
	sp.server_max_window_bits = 9 + (p & 7) % 7;
	sp.client_max_window_bits = 15;
	sp.server_no_context_takeover = (p & 8) != 0;
	cp = sp;
	cp.client_max_window_bits = sp.server_max_window_bits;
	cp.client_no_context_takeover = sp.server_no_context_takeover;
	srv = ws_deflate_new(&sp, &cfg);
	peer = ws_deflate_new(&cp, &cfg);
	/* Deflate may grow incompressible data a little. */
	cap = 2 * size + 64;
	if ((comp = malloc(cap)) == NULL || (back = malloc(256)) == NULL)
		abort();
	while (size > 0) {
		mlen = data[0];
		if (mlen > size - 1)
			mlen = size - 1;
		msg = data + 1;
		data += 1 + mlen;
		size -= 1 + mlen;
		clen = 0;
		off = 0;
		final = false;
		do {
			n = step == 0 ? mlen - off : step;
			if (n > mlen - off)
				n = mlen - off;
			ws_deflate_compress_input(srv, msg + off, n,
			    off + n == mlen);
			off += n;
			while ((r = ws_deflate_compress_next(srv, &piece, &n,
			    &final)) == 1) {
				if (clen + n > cap)
					abort();
				memcpy(comp + clen, piece, n);
				clen += n;
				if (final)
					break;
			}
			if (r == -1)
				abort();
		} while (off < mlen);
		if (!final || clen == 0)
			abort();
		if (fz_inflate(peer, comp, clen, step, back, 256,
		    &total) != 0 || total != mlen ||
		    memcmp(back, msg, mlen) != 0)
			abort();
		if (ws_deflate_memory(srv) > FZ_MEM_MAX ||
		    ws_deflate_memory(peer) > FZ_MEM_MAX)
			abort();
	}
	free(comp);
	free(back);
	ws_deflate_free(srv);
	ws_deflate_free(peer);
}

/* Raw inflate: the rest of the input is one compressed message. */
static void
fz_raw(const uint8_t *data, size_t size, size_t step, uint8_t p)
{
	struct ws_deflate_params	 dp;
	struct ws_deflate		*d;
	size_t				 total;

	memset(&dp, 0, sizeof(dp));
	dp.server_max_window_bits = 15;
	dp.client_max_window_bits = 8 + (p & 7);
	dp.client_no_context_takeover = (p & 8) != 0;
	d = ws_deflate_new(&dp, NULL);
	/* Twice: the second message sees the first one's window. */
	if (fz_inflate(d, data, size, step, NULL, 0, &total) == 0 &&
	    total <= FZ_OUT_MAX)
		(void)fz_inflate(d, data, size, step, NULL, 0, &total);
	if (ws_deflate_memory(d) > FZ_MEM_MAX)
		abort();
	ws_deflate_free(d);
}

/* libFuzzer entry point. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	step;
	uint8_t	p;

	if (size < 2)
		return 0;
	step = data[0] >> 2;
	p = data[1];
	switch ((data[0] & 3) % 3) {
	case FZ_NEGOTIATE:
		fz_negotiate(data + 2, size - 2, p);
		break;
	case FZ_ROUNDTRIP:
		fz_roundtrip(data + 2, size - 2, step, p);
		break;
	case FZ_INFLATE:
		fz_raw(data + 2, size - 2, step, p);
		break;
	}
	return 0;
}
