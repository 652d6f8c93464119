/*
 * conn.h - one client connection, from accept to the last byte: the
 * upgrade (admission, the OpenRequestHook and verdicts), the WebSocket
 * session of the protocol core, the backend instance it feeds, flow
 * control, and one close path. conn.c owns the registry of every
 * connection (ConnectionIds). Callers: server.c creates connections and
 * ends them all at shutdown; backends send, pause and close; the admin
 * socket reads and sets their fields.
 */
#ifndef CONN_H
#define CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ws-session.h"

struct conn;
struct ws_request;
struct route;
struct config;
struct event_base;
struct ssl_st;

/* The daemon state a connection needs; see server.c. */
struct event_base	*conn_base(const struct conn *);
const struct config	*conn_config(const struct conn *);

/*
 * ConnectionId: unique for the life of the process, never reused; in a
 * fleet NodeName ":" number, unique across the fleet. CONN_ID_MAX is its
 * room, the NUL included.
 */
#define CONN_ID_MAX	54
const char		*conn_id(const struct conn *);

/*
 * The upgrade request; all fields NULL before it is parsed. Use it at
 * once: it is valid until the next conn_request call or the return to the
 * event loop (an open connection keeps only the request's bytes and
 * parses them again here, into one shared copy).
 */
const struct ws_request	*conn_request(const struct conn *);
/* The route the request is on; NULL before routing. */
const struct route	*conn_route(const struct conn *);
/* The subprotocol agreed on, or NULL. */
const char		*conn_subprotocol(const struct conn *);
/* Numeric peer and local addresses and ports. */
const char		*conn_remote_addr(const struct conn *);
int			 conn_remote_port(const struct conn *);
const char		*conn_local_addr(const struct conn *);
int			 conn_local_port(const struct conn *);
bool			 conn_is_tls(const struct conn *);
/*
 * The connection's OpenSSL session once its TLS handshake is done, else
 * NULL; tls.h reads it (tls_get_info: SSLNegotiated*, tls_env: SSL_*).
 */
struct ssl_st		*conn_ssl(const struct conn *);

/*
 * Queues a piece of a message for the client (see ws_session_send). Never
 * blocks; returns 0, or -1 when the WebSocket is no longer open. Callers
 * producing data check conn_output_full() after each call and stop until
 * their writable callback.
 */
int	conn_send(struct conn *, enum ws_msg_type, const void *data, size_t len,
	    bool first, bool last);

/* Returns true while the client's output queue is above its high-water mark. */
bool	conn_output_full(const struct conn *);

/* Stop / restart reading from the client (the backend's input is full). */
void	conn_pause_input(struct conn *);
void	conn_resume_input(struct conn *);

/*
 * Starts the closing handshake with code and reason (the backend ended, the
 * server stops...). code 0 means DisconnectStatusCode; reason NULL means
 * DisconnectStatusDescription or the code's default text. The backend's
 * close op is called synchronously as part of this, before it returns.
 * With WaitForCloseResponse off, TCP closes once the close frame is sent.
 */
void	conn_close(struct conn *, int code, const char *reason);

/*
 * The upgrade request is decided step by step (conn.c, conn_decide): the
 * route's OpenRequestHook, then a backend with the verdict flag (mux).
 * The one waiting answers here: 101 accepts (the next step decides, or
 * the upgrade response is sent and the WebSocket opens), any other
 * status is the HTTP error (cause: its body and log text, NULL for a
 * default). hdrs: hlen bytes of CGI-style response header lines ("Name:
 * value\n"; Status lines are ignored, the caller reads them), at most
 * CONN_VERDICT_HEADERS_MAX; they go into the response (the 101 or the
 * error), Sec-WebSocket-Protocol picking the subprotocol, which must be
 * one the client offered. A bad line or subprotocol turns the answer into
 * a 500 (logged). Returns 0 when the WebSocket is open now, else -1 (not
 * waiting for an answer; refused; or the next step waits). The backend's
 * close op has been called when the request is refused.
 */
#define CONN_VERDICT_HEADERS_MAX	8192
int	conn_decided(struct conn *, int status, const char *cause,
	    const char *hdrs, size_t hlen);

/*
 * State a backend keeps for a connection before its instance is opened,
 * from its admit op on (a dir: route's chosen program): set replaces (and
 * frees) what was there; freed with fn when the connection goes.
 */
void	conn_set_backend_state(struct conn *, void *, void (*fn)(void *));
void	*conn_backend_state(const struct conn *);

/*
 * Why the WebSocket ends, once known (from the backend's close op on):
 * returns the close code (the client's, 1005 when it sent none; or the
 * server's) and sets *reason (sanitized for the log); 0 and "" before.
 */
int	conn_close_status(const struct conn *, const char **reason);

/*
 * What the admin socket needs. A connection as the reference's
 * WSConnection shows it, plus our own counters. Strings point into the
 * connection: valid until it is freed or the next event.
 */
struct conn_info {
	const char		*id;
	/* handshake, verdict, open, closing, draining */
	const char		*state;
	bool			 connected;	/* WebSocket open */
	bool			 accept_data;	/* not paused by the admin */
	bool			 line_mode;
	bool			 ready_to_send;	/* open, output queue not full */
	bool			 sending_file;
	int			 timeout;	/* DefaultTimeout it got, seconds */
	const char		*route;		/* "" before routing */
	unsigned long long	 age_ms;
	uint64_t		 bytes_in, bytes_out, msgs_in, msgs_out;
};
void		 conn_get_info(const struct conn *, struct conn_info *);

/* Looks a connection up by ConnectionId; NULL when there is none. */
struct conn	*conn_find(const char *id);
/* Iterates over every connection, oldest first. */
struct conn	*conn_first(void);
struct conn	*conn_next(const struct conn *);

/*
 * AcceptData: false stops reading from the client (the admin "pause"),
 * true starts again. Independent of the backend's own flow control.
 */
void	conn_set_accept_data(struct conn *, bool);
/*
 * Sets the connection's send timeout (the WSConnection Timeout field),
 * seconds, 0 for none; new connections start with DefaultTimeout.
 */
void	conn_set_timeout(struct conn *, int seconds);
/*
 * LineMode (ChangeLineMode): on, the backend gets the client's messages
 * cut into lines (at LF, at MaxLineLength, at the message's end).
 */
void	conn_set_line_mode(struct conn *, bool);

/* Sends a ping with data (<= 125 bytes). Returns 0, or -1 when not open. */
int	conn_ping(struct conn *, const void *data, size_t len);

/*
 * Queues data from the admin socket, or a topic's message (whole or not
 * at all): a whole message; or, with parts and a MessageLength set
 * (conn_setting_set), the next part of that message, its last once
 * MessageLength bytes are in (the backend's output waits meanwhile, as
 * during a sendfile). Returns 0; -1 when the WebSocket is not open; -2
 * when another message is being sent (a backend's fragmented one, a
 * sendfile, the admin's in parts); -3 when the output queue is full (a
 * slow client misses a topic's message); -4 when len is more than is left
 * of MessageLength; -5 when type is not that of the message in parts.
 */
int	conn_send_admin(struct conn *, enum ws_msg_type, const void *data,
	    size_t len, bool parts);
/* Bytes still to come of the admin's message in parts; 0 for none. */
uint64_t conn_admin_left(const struct conn *);
/* Whether the admin may queue a part now (the client's queue has room). */
bool	conn_admin_room(const struct conn *);

/*
 * The connection's settings, as "config ID" and a mux backend's config
 * name them (any case): Timeout, LineMode, AcceptData, ReadyToSend
 * (read-only), MaxLineLength, PingInterval, PingTimeout, IdleTimeout
 * (the connection's own, over its route's and the global), MessageLength
 * (the admin's next message in parts). Values are decimal numbers (0 or 1
 * for flags). conn_setting_name lists them (NULL past the end);
 * conn_setting_get writes one's value into buf and returns its name as
 * the table spells it, or NULL when there is none; conn_setting_set
 * returns 0, or WSD_ERR_NOKEY, WSD_ERR_VALUE (not a number, out of
 * range), WSD_ERR_FIXED (read-only) or WSD_ERR_BUSY (MessageLength while
 * a message in parts goes on) with *cause (malloc'd).
 */
const char *conn_setting_name(size_t);
const char *conn_setting_get(const struct conn *, const char *key, char *buf,
	    size_t len);
int	conn_setting_set(struct conn *, const char *key, const char *value,
	    char **cause);

/*
 * LineMode: while a backend's message op runs with last set, whether the
 * line was cut at MaxLineLength (the reference's DataIn EOL false) rather
 * than ended by a line end or the client's message. False otherwise.
 */
bool	conn_line_cut(const struct conn *);

/* How a sendfile ended (the done callback's status). */
enum conn_file_status {
	CONN_FILE_DONE,		/* every byte queued */
	CONN_FILE_INTERRUPTED,	/* conn_interrupt: the message is ended early */
	CONN_FILE_ERROR,	/* read error: the message is ended early */
	CONN_FILE_CLOSED,	/* the WebSocket closed first */
};
typedef void	(*conn_file_cb)(void *arg, enum conn_file_status,
		    uint64_t bytes, int err);

/*
 * SendFile: sends fd (a regular file, from its current offset, size taken
 * now) as one binary message in MaxFrameSize fragments, read as the
 * client's queue drains, never more than a frame ahead. The connection
 * takes fd over. While it runs, the backend's output waits. done is called
 * exactly once (maybe from inside conn_interrupt, conn_close or the
 * teardown). Returns 0; -1 when not open; -2 when a message is already
 * being sent.
 */
int	conn_sendfile(struct conn *, int fd, conn_file_cb done, void *arg);
/*
 * Stops a sendfile (returns 0), or ends the admin's message in parts with
 * an empty last fragment (returns 1); -1 when neither is going on.
 */
int	conn_interrupt(struct conn *);

/*
 * Observers of every connection (the admin socket's watch and ping);
 * any member may be NULL. Strings are only valid during the call.
 */
struct conn_hooks {
	/* WebSocketOpenRequest verdict: 101 accepted, else the HTTP status. */
	void	(*verdict)(struct conn *, int status, const char *cause);
	void	(*connected)(struct conn *);
	/* An opened WebSocket is gone. */
	void	(*disconnected)(struct conn *, int code, const char *by,
		    const char *reason);
	/*
	 * The reference's Ping event: a ping from the client (response
	 * false), or a pong (true) with the round trip of our last ping in
	 * microseconds (-1 when none waited for it).
	 */
	void	(*ping)(struct conn *, const uint8_t *data, size_t len,
		    bool response, long long rtt_us);
	/* A protocol error or a send timeout. */
	void	(*error)(struct conn *, int code, const char *what);
	/*
	 * A client refused before any HTTP (the reference's ConnectionRequest
	 * with Accept false): AllowedClients/BlockedClients, MaxConnections,
	 * MaxMemory, a PROXY header. No connection exists (addr is the
	 * socket's peer, or the PROXY header's).
	 */
	void	(*refused)(const char *addr, int port, const char *why);
};
void	conn_set_hooks(const struct conn_hooks *);
/* Tells the observers that a client was refused before any HTTP. */
void	conn_refused(const char *addr, int port, const char *why);

/*
 * Topics (event/topics.c): the list of a WebSocket's subscriptions is
 * kept here (NULL: none); gone is called when a connection that has one
 * is freed, which unsubscribes it.
 */
void	*conn_topics(const struct conn *);
void	 conn_set_topics(struct conn *, void *);
void	 conn_set_topics_gone(void (*gone)(struct conn *));
/*
 * The topics of the deciders' answers (the OpenRequestHook's and a mux
 * backend's Subscribe header lines), comma-separated, "" for none. Valid
 * from the acceptance until the backend table's opened op returns.
 */
const char *conn_verdict_topics(const struct conn *);

/* Registry (conn.c owns it): creation by the server, counting, shutdown. */
struct sockaddr;
/*
 * A new connection on an accepted socket (taken over; closed on failure:
 * NULL). counted: it holds a place of the per-client limits
 * (client_limits_admit), given back when it ends.
 */
struct conn	*conn_new(int fd, const struct sockaddr *, int, bool counted);
unsigned int	conn_count(void);
/* Bytes queued over all connections; *over: above MaxMemory (see there). */
size_t		conn_memory(bool *over);
/* Closes every WebSocket with code (1001 at shutdown); drops half-open ones. */
void		conn_close_all(int code, const char *reason);
/* Drops every connection at once, without a closing handshake. */
void		conn_abort_all(void);

#endif
