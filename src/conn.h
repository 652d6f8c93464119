/* conn.h - one client connection: bufferevent glue around the protocol core. */
#ifndef CONN_H
#define CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ws-session.h"

struct conn;
struct ws_request;
struct config;
struct event_base;

/* The daemon state a connection needs; see server.c. */
struct event_base	*conn_base(const struct conn *);
const struct config	*conn_config(const struct conn *);

/* ConnectionId: unique for the life of the process, never reused. */
const char		*conn_id(const struct conn *);

/* The upgrade request (valid from the backend's open to its close). */
const struct ws_request	*conn_request(const struct conn *);
/* The subprotocol agreed on, or NULL. */
const char		*conn_subprotocol(const struct conn *);
/* Numeric peer and local addresses and ports. */
const char		*conn_remote_addr(const struct conn *);
int			 conn_remote_port(const struct conn *);
const char		*conn_local_addr(const struct conn *);
int			 conn_local_port(const struct conn *);
bool			 conn_is_tls(const struct conn *);

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
 * The backend has ended: start the closing handshake with code and reason
 * (reason may be NULL for the code's default text). The backend's close op
 * is called as part of this.
 */
void	conn_close(struct conn *, int code, const char *reason);

#endif
