/* ws-deflate.h - permessage-deflate (RFC 7692) negotiation and streams; no I/O. */
#ifndef WS_DEFLATE_H
#define WS_DEFLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Inflated bytes are handed out in pieces of at most this size, from one
 * buffer allocated with the stream; a message never grows it.
 */
#define WS_DEFLATE_CHUNK	(16 * 1024)

/* What the server is willing to do; ws_deflate_config_default fills it. */
struct ws_deflate_config {
	bool	enabled;		/* negotiate the extension at all */
	int	level;			/* zlib level 0-9; default 6 */
	int	mem_level;		/* zlib memLevel 1-9; default 8 */
	int	max_window_bits;	/* our compressor's window, 9-15; default 15 */
	size_t	min_size;		/* whole messages shorter go out plain; 32 */
	bool	no_context_takeover;	/* reset our compressor per message */
};

/* What one connection agreed on (the response's parameters, applied). */
struct ws_deflate_params {
	bool	server_no_context_takeover;
	bool	client_no_context_takeover;
	int	server_max_window_bits;		/* 9-15: our compressor */
	int	client_max_window_bits;		/* 8-15: the peer's */
};

struct ws_deflate;

/* Fills cfg with the defaults above, enabled. */
void	ws_deflate_config_default(struct ws_deflate_config *cfg);

/*
 * Chooses among the client's Sec-WebSocket-Extensions offers (NULL: none):
 * the first permessage-deflate offer whose parameters are all known, not
 * repeated, valid and satisfiable. Other extensions and declined offers
 * are skipped, never a reason to fail the handshake. Writes the response
 * extension ("permessage-deflate; ...", naming only what was agreed) into
 * response. Returns 1 with agreed and response filled; 0 when the server
 * has deflate disabled or no offer was acceptable (nothing is written);
 * -1 when response_len is too small for the answer.
 */
int	ws_deflate_negotiate(const char *extensions_header,
	    const struct ws_deflate_config *server,
	    struct ws_deflate_params *agreed, char *response,
	    size_t response_len);

/*
 * Creates the deflate state of one connection. Each direction's zlib
 * stream and its buffer are made on that direction's first use (an idle
 * connection holds none) and then kept, so a message never allocates
 * after the first one. cfg NULL means the defaults; values
 * out of range are taken as the default. Never returns NULL (aborts on
 * out of memory, as the rest of the protocol core does).
 */
struct ws_deflate	*ws_deflate_new(const struct ws_deflate_params *,
			    const struct ws_deflate_config *cfg);
void			 ws_deflate_free(struct ws_deflate *);

/*
 * Receiving. ws_deflate_inflate_input hands over the next compressed
 * bytes of a message (they are not copied: keep them until
 * ws_deflate_inflate_next returned 0); fin says they are the message's
 * last, after which the stream appends 00 00 ff ff (RFC 7692 7.2.2).
 * Then call ws_deflate_inflate_next until it returns 0 or -1:
 *  1: *out and *len give the next inflated piece (1..WS_DEFLATE_CHUNK bytes,
 *     or 0 bytes only when *final is set), valid until the next call;
 *     *final is set on the message's last piece, after which the stream
 *     is ready for the next message.
 *  0: the input is used up; feed more.
 * -1: the data is not valid deflate (close 1007); the stream is dead.
 */
void	ws_deflate_inflate_input(struct ws_deflate *, const uint8_t *in,
	    size_t len, bool fin);
int	ws_deflate_inflate_next(struct ws_deflate *, const uint8_t **out,
	    size_t *len, bool *final);

/*
 * Sending. ws_deflate_compress_input hands over the next piece of a
 * message (not copied, as above); last completes the message. Then call
 * ws_deflate_compress_next until it returns 0 or -1:
 *  1: *out and *len give the next compressed piece, valid until
 *     the next call; *final is set on the message's last piece, which
 *     is never empty (an empty message compresses to the byte 00).
 *  0: everything so far is taken; more input is needed.
 * -1: zlib failed (a broken stream, not bad input); the stream is dead.
 * The trailing 00 00 ff ff of the sync flush is removed.
 */
void	ws_deflate_compress_input(struct ws_deflate *, const uint8_t *in,
	    size_t len, bool last);
int	ws_deflate_compress_next(struct ws_deflate *, const uint8_t **out,
	    size_t *len, bool *final);

/* Returns the configured min_size: whole messages shorter go out plain. */
size_t	ws_deflate_min_size(const struct ws_deflate *);

/* Returns the bytes this stream holds (zlib's state and our buffers). */
size_t	ws_deflate_memory(const struct ws_deflate *);

#endif
