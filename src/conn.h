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
 * Starts the closing handshake with code and reason (the backend ended, the
 * server stops...). code 0 means DisconnectStatusCode; reason NULL means
 * DisconnectStatusDescription or the code's default text. The backend's
 * close op is called synchronously as part of this, before it returns.
 * With WaitForCloseResponse off, TCP closes once the close frame is sent.
 */
void	conn_close(struct conn *, int code, const char *reason);

/* Registry (conn.c owns it): creation by the server, counting, shutdown. */
struct server;
struct sockaddr;
void		conn_new(struct server *, int fd, const struct sockaddr *, int);
unsigned int	conn_count(void);
/* Closes every WebSocket with code (1001 at shutdown); drops half-open ones. */
void		conn_close_all(int code, const char *reason);
/* Drops every connection at once, without a closing handshake. */
void		conn_abort_all(void);

#endif
