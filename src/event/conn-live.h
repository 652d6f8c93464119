/*
 * conn-live.h - liveness of the WebSockets: PingInterval, PingTimeout and
 * IdleTimeout (global, per route, per connection), applied by one sweep a
 * second over every connection of the process. server.c starts it when
 * the process first listens and stops it at the end.
 */
#ifndef CONN_LIVE_H
#define CONN_LIVE_H

/* Starts the sweep; again is harmless. */
void	conn_live_start(void);
/* Stops the sweep and frees it. */
void	conn_live_stop(void);

#endif
