/* msgstream.h - a backend's byte stream <-> WebSocket messages: lines, binary or framed. */
#ifndef MSGSTREAM_H
#define MSGSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config.h"
#include "core/ws-session.h"

struct evbuffer;

/* Largest piece handed to the sink, and the longest line read ahead. */
#define MSGSTREAM_CHUNK		(64 * 1024)
/* A framed header line may not be longer than this, its "\n" included. */
#define MSGSTREAM_HEADER_MAX	48

/*
 * Where decoded output goes. piece: a piece of a message for the client
 * (first: it starts a message; last: it ends it); returns 0 to go on, 1
 * to stop decoding with the piece consumed (the client's queue is full),
 * or -1 when the input buffer may be gone (the instance detached): the
 * decoder returns at once without touching it. close: the backend sent
 * "C" (code 0 means the default code); decoding stops for good and in is
 * not touched again. ping: the backend sent "P" (payload already
 * consumed); returns 0, 1 or -1 as piece does.
 */
struct msgstream_sink {
	int	(*piece)(void *arg, enum ws_msg_type, const uint8_t *, size_t,
		    bool first, bool last);
	void	(*close)(void *arg, int code, const char *reason, size_t len);
	int	(*ping)(void *arg, const uint8_t *, size_t);
	/*
	 * Framed "S" and "L" (topic consumed already): subscribe (on) or
	 * unsubscribe the WebSocket; returns 0, 1 or -1 as piece does.
	 */
	int	(*subscribe)(void *arg, const char *topic, size_t tlen, bool on);
	/* Framed "M" (text) and "N" (binary): publish on topic; the same. */
	int	(*publish)(void *arg, const char *topic, size_t tlen,
		    enum ws_msg_type, const uint8_t *, size_t);
};

/*
 * Largest framed publish: its whole frame (header, topic, message) must
 * fit in what the backend's reader holds at once, MSGSTREAM_CHUNK.
 */
#define MSGSTREAM_PUBLISH_MAX	(MSGSTREAM_CHUNK - MSGSTREAM_HEADER_MAX - 128)

/* Decoder state; embed it and set it up with msgstream_init. */
struct msgstream {
	enum msg_format		 format;
	int			 state;		/* header, payload, done */
	size_t			 scanned;	/* lines: bytes known to hold no LF */
	uint64_t		 remain;	/* framed: payload bytes to come */
	enum ws_msg_type	 type;		/* of the message being sent */
	bool			 final;		/* this frame ends its message */
	bool			 open;		/* a message is half sent */
	enum data_format	 data;		/* binary: type of each chunk */
};

/* Sets up a decoder for format; binary chunks go out as binary messages. */
void	msgstream_init(struct msgstream *, enum msg_format);

/*
 * Binary format only: the message type of each chunk (DataFormat). Text
 * and auto cut chunks on UTF-8 code point boundaries, holding an
 * incomplete last character back until more input (or eof) arrives; text
 * makes output that is not UTF-8 a decoding error, auto sends such a
 * chunk as binary.
 */
void	msgstream_set_data(struct msgstream *, enum data_format);

/*
 * Turns what in holds into pieces, draining what it uses, until input runs
 * short or the sink says stop. eof: nothing more will arrive (lines: an
 * unterminated last line is a message; framed: a cut frame is an error).
 * Returns 0, or -1 on a framing error with *err set (a static string);
 * the stream is unusable after an error.
 */
int	msgstream_decode(struct msgstream *, struct evbuffer *in, bool eof,
	    const struct msgstream_sink *, void *arg, const char **err);

/* True while a message (or a framed frame) is only partly decoded. */
bool	msgstream_pending(const struct msgstream *);

/*
 * Appends a piece of a client message to out in format. Returns 0, or -1
 * when the format cannot carry it (a binary message in lines format).
 */
int	msgstream_encode(enum msg_format, struct evbuffer *out,
	    enum ws_msg_type, const uint8_t *, size_t, bool last);

/*
 * The last piece of a line that LineMode cut at MaxLineLength (the
 * reference's DataIn EOL false): framed writes "U len" (text) or "V len"
 * (binary), the others as msgstream_encode with last set. Returns 0, or
 * -1 as msgstream_encode.
 */
int	msgstream_encode_cut(enum msg_format, struct evbuffer *out,
	    enum ws_msg_type, const uint8_t *, size_t);

/*
 * Framed only: appends "I len\n" (the client pinged; the daemon answered
 * it) or, with pong, "O len\n" (a pong came from the client), and the
 * payload: the reference's Ping event. Nothing in the other formats.
 */
void	msgstream_encode_ping(enum msg_format, struct evbuffer *out, bool pong,
	    const uint8_t *, size_t);

/* Framed only: appends "C code len\n" and the reason (nothing otherwise). */
void	msgstream_encode_close(enum msg_format, struct evbuffer *out, int code,
	    const char *reason, size_t len);

/*
 * Framed only: appends "R 0\n", telling the backend that the client's
 * queue, which had filled, has drained (ReadyToSend).
 */
void	msgstream_encode_ready(enum msg_format, struct evbuffer *out);

#endif
