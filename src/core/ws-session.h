/* ws-session.h - one WebSocket connection's protocol state after the handshake. */
#ifndef WS_SESSION_H
#define WS_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ws-deflate.h"
#include "core/ws-frame.h"

/*
 * The session turns received bytes into messages and control events, and
 * messages into frames. It does no I/O: everything to be sent goes through
 * the write callback, in order. It enforces RFC 6455 sections 5-7: fragment
 * sequencing, control frames between fragments, ping -> pong, incremental
 * UTF-8 validation of text (fail fast, also across fragments), close code
 * and reason validation, MaxMessageSize, outgoing fragmentation at
 * MaxFrameSize, and permessage-deflate (RFC 7692) when negotiated.
 */
struct ws_session;

enum ws_msg_type {
	WS_MSG_TEXT = WS_OP_TEXT,
	WS_MSG_BINARY = WS_OP_BINARY,
};

enum ws_close_how {
	WS_CLOSED_BY_PEER,	/* the peer sent close; our echo is written */
	WS_CLOSED_REPLY,	/* we sent close; the peer answered */
	WS_CLOSED_FAILED,	/* we failed the connection; close frame written */
};

enum ws_session_state {
	WS_STATE_OPEN,
	WS_STATE_CLOSING,	/* we sent close and wait for the peer's */
	WS_STATE_CLOSED,	/* closed callback done; only TCP close is left */
};

struct ws_session_callbacks {
	/* Bytes for the peer, in order. Must not call back into the session. */
	void	(*write)(void *arg, const void *data, size_t len);
	/*
	 * A piece of a data message. first: the piece opens a message; last:
	 * it completes it. With buffer_message every call has first && last.
	 * Text pieces have passed UTF-8 validation so far (a piece may end
	 * inside a code point; the message as a whole is valid once last is
	 * set). Empty messages arrive as one call with len 0.
	 */
	void	(*message)(void *arg, enum ws_msg_type type, const uint8_t *data,
		    size_t len, bool first, bool last);
	/* A ping arrived; the pong is already written. May be NULL. */
	void	(*ping)(void *arg, const uint8_t *data, size_t len);
	/* A pong arrived. May be NULL. */
	void	(*pong)(void *arg, const uint8_t *data, size_t len);
	/*
	 * The closing handshake is over, or the connection failed. The caller
	 * flushes what was written and closes TCP. code/reason: the peer's
	 * (BY_PEER, REPLY; 1005 when its close frame had no code) or ours
	 * (FAILED: 1002, 1003, 1007, 1009 or 1011). Called exactly once.
	 */
	void	(*closed)(void *arg, enum ws_close_how how, int code,
		    const char *reason, size_t reason_len);
};

struct ws_session_config {
	uint64_t	max_message_size;	/* 0: unlimited; else 1009 past it */
	size_t		max_frame_size;		/* outgoing fragmentation; 0: none */
	bool		buffer_message;		/* deliver whole messages only */
	/*
	 * permessage-deflate as ws_deflate_negotiate agreed it; NULL (the
	 * zero value): off. deflate_cfg: the server's settings (level,
	 * memory, min_size), NULL for the defaults. Both are read by
	 * ws_session_new only. With deflate on:
	 * - received: RSV1 is allowed on the first frame of a data message
	 *   and marks it compressed; RSV1 anywhere else fails with 1002. A
	 *   compressed message is inflated as it arrives, through a fixed
	 *   WS_DEFLATE_CHUNK buffer; max_message_size and UTF-8 apply to the
	 *   inflated bytes (1009, 1007 as soon as they are seen), data that
	 *   does not inflate fails with 1007. Pieces reach the message
	 *   callback exactly as for plain messages.
	 * - sent: every message is compressed (RSV1 on its first frame),
	 *   except one given whole (first && last) shorter than min_size.
	 *   Compressed output goes out as it is produced, in frames of at
	 *   most max_frame_size and at most 16 KiB payload; a piece may
	 *   produce no frame at all until later pieces or the last one.
	 *   Control frames are never compressed.
	 */
	const struct ws_deflate_params	*deflate;
	const struct ws_deflate_config	*deflate_cfg;
};

/*
 * Creates a session in WS_STATE_OPEN. The config is copied (deflate and
 * deflate_cfg are read here only); the callbacks table is not: it is
 * shared, typically a static const, and must outlive the session. Never
 * returns NULL (aborts on OOM).
 */
struct ws_session	*ws_session_new(const struct ws_session_config *,
			    const struct ws_session_callbacks *, void *arg);
void			 ws_session_free(struct ws_session *);

/*
 * Feeds bytes received from the peer; they are unmasked in place. Returns
 * 0 while the session is open or closing, 1 once it is closed (the closed
 * callback has run, the rest of the input is ignored), or a negative enum
 * ws_error when this call failed the connection (the close frame with the
 * matching code is written and the closed callback has run). Data frames
 * that arrive after we sent close are discarded; bytes after the peer's
 * close frame are ignored.
 */
int	ws_session_feed(struct ws_session *, uint8_t *data, size_t len);

/*
 * Sends a piece of a data message (first: opens it, last: completes it),
 * split into frames of at most max_frame_size payload bytes. Control frames
 * may be sent between pieces. Returns 0, or -1 when the session is not
 * open (the data is dropped) or the piece breaks message sequencing. With
 * deflate, -1 also when compression failed; the session then starts the
 * closing handshake with 1011 itself.
 */
int	ws_session_send(struct ws_session *, enum ws_msg_type type,
	    const void *data, size_t len, bool first, bool last);

/* Sends a ping (len <= 125). Returns 0, or -1 when not open or too long. */
int	ws_session_ping(struct ws_session *, const void *data, size_t len);

/* Sends an unsolicited pong (len <= 125). Returns 0 or -1. */
int	ws_session_pong(struct ws_session *, const void *data, size_t len);

/*
 * Starts the closing handshake with code (one ws_close_code_valid accepts:
 * 1000-1003, 1007-1014 or 3000-4999; or 0 for a close frame without a
 * code) and an optional UTF-8 reason (cut to fit 123 bytes on a code point
 * boundary). Returns 0, or -1 when already closing or closed, or for any
 * other code.
 * State becomes WS_STATE_CLOSING; the closed callback runs when the peer
 * answers.
 */
int	ws_session_close(struct ws_session *, int code, const char *reason);

enum ws_session_state	ws_session_state(const struct ws_session *);

/*
 * Low-level hook: lets received frames carry these RSV bits, passed
 * through untouched. permessage-deflate does not need it (see
 * ws_session_config.deflate).
 */
void	ws_session_set_rsv_allowed(struct ws_session *, uint8_t rsv);

/* Returns the bytes the session holds now, deflate streams included. */
size_t	ws_session_memory(const struct ws_session *);

/*
 * Returns the size of the incoming message buffer (its capacity: what it
 * holds in memory) and, in *pending, the bytes of an incomplete message in
 * it (0 between messages).
 */
size_t	ws_session_buffered(const struct ws_session *, size_t *pending);

/* Returns the default reason text for a close code ("" when none). */
const char	*ws_close_reason_text(int code);

#endif
