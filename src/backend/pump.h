/*
 * pump.h - the message stream between a WebSocket and a backend that
 * speaks bytes: a script's stdin and stdout, a unix: socket in stream
 * mode. Client messages are encoded in the route's MessageFormat for the
 * backend, pausing the client while the backend reads slowly; the
 * backend's output is decoded into messages (text checked as UTF-8) and
 * sent while the client's queue has room. The owner (backend-script.c,
 * backend-unix.c) owns the descriptors and tells the pump when they have
 * room or data; the pump tells the owner, through its ops, to stop or
 * start reading and when the WebSocket must end.
 */
#ifndef PUMP_H
#define PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backend/msgstream.h"
#include "core/ws-session.h"
#include "core/ws-utf8.h"

struct conn;
struct evbuffer;
struct route;

/* What the pump asks of its owner. */
struct pump_ops {
	/* Stop (false) or start (true) reading the backend's output. */
	void	(*read)(void *owner, bool on);
	/*
	 * End the WebSocket with code and reason: the owner detaches (the
	 * pump's conn is NULL after) and calls conn_close.
	 */
	void	(*end)(void *owner, int code, const char *reason);
};

struct pump {
	struct conn		*conn;		/* NULL once detached */
	const char		*id;		/* ConnectionId, for logs */
	/* Log and close texts: "handler" and "handler output", or "backend" and "backend PATH". */
	const char		*noun;
	const char		*label;
	enum msg_format		 format;
	struct msgstream	 dec;		/* the backend's output */
	struct ws_utf8		 utf8;		/* outgoing text message */
	const struct pump_ops	*ops;
	void			*owner;
	bool			 in_paused;	/* we paused the client's input */
	bool			 out_blocked;	/* the client's queue is full */
};

/* Client -> backend: pause the client above HIGH queued bytes, resume below LOW. */
#define PUMP_TO_HIGH	(256 * 1024)
#define PUMP_TO_LOW	(64 * 1024)

void	pump_init(struct pump *, struct conn *, const struct route *,
	    const char *id, const char *noun, const char *label,
	    const struct pump_ops *, void *owner);

/*
 * A piece of a client message: encoded into to (the backend's queue;
 * NULL: it no longer reads, the piece is dropped); the last piece of a
 * line LineMode cut at MaxLineLength is marked so (framed U, V). A binary
 * message in lines format ends the WebSocket (1003). The client is paused
 * when to holds more than PUMP_TO_HIGH.
 */
void	pump_message(struct pump *, struct evbuffer *to, enum ws_msg_type,
	    const uint8_t *, size_t, bool last);
/*
 * The reference's Ping event, a ping (pong false) or a pong from the
 * client: told to a framed backend (into to; NULL: dropped).
 */
void	pump_ping_event(struct pump *, struct evbuffer *to, bool pong,
	    const uint8_t *, size_t);
/*
 * to drained to len bytes: the client is resumed at PUMP_TO_LOW (0: the
 * backend's queue is gone; the client's input is dropped, not held).
 */
void	pump_to_drained(struct pump *, size_t len);
/* Detaching (the backend is going away): conn is NULL from now on. */
void	pump_detach(struct pump *);

/*
 * Decodes what in holds into messages for the client until its queue is
 * full (out_blocked; the owner's reading is stopped). eof: the backend
 * sent all it will. Detached: the data is thrown away.
 */
void	pump_process(struct pump *, struct evbuffer *in, bool eof);
/*
 * The client's queue has room again: a framed backend is told (ready
 * into to, unless NULL), reading starts again unless at eof, and what
 * was read is processed. Returns false when nothing was blocked.
 */
bool	pump_writable(struct pump *, struct evbuffer *to, struct evbuffer *in,
	    bool eof);
/* Whether everything read has been sent (the owner may finish at eof). */
bool	pump_drained(const struct pump *, struct evbuffer *in);
/* The WebSocket is over: tell a framed backend how (into to). */
void	pump_closed(struct pump *, struct evbuffer *to);

#endif
