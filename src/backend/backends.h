/*
 * backends.h - the backend layer's table: every kind a route can name
 * (echo, script:, dir:, unix: and tcp:, stream and mux), the
 * OpenRequestHook, and the topics a WebSocket joins as it opens.
 * main() installs it once (backends_install); the connections find their
 * backend through event/backend.h.
 */
#ifndef BACKENDS_H
#define BACKENDS_H

struct conn;

extern const struct backend_ops backend_echo_ops;
extern const struct backend_ops backend_script_ops;
extern const struct backend_ops backend_unix_ops;
extern const struct backend_ops backend_mux_ops;
extern const struct backend_ops backend_tcp_ops;

/* Installs the table of kinds (event/backend.h). */
void	 backends_install(void);

#endif
