/* backend-echo.c - the built-in echo backend: every message back as it came. */
#include <stdlib.h>

#include "backend/backends.h"
#include "event/backend.h"
#include "conf/config.h"
#include "event/conn.h"
#include "base/util.h"

struct echo {
	struct conn	*conn;
};

/* Opens an echo instance; never fails. */
static void *
echo_open(struct conn *c, const struct route *r, char **cause)
{
	struct echo	*e;

	e = xmalloc(sizeof(*e));
	e->conn = c;
	return e;
}

/*
 * Sends each piece straight back. The connection stops reading the client
 * while its output queue is full, so echo needs no queue of its own.
 */
static void
echo_message(void *b, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool first, bool last)
{
	struct echo	*e = b;

	conn_send(e->conn, type, data, len, first, last);
}

/* Frees the instance. */
static void
echo_close(void *b)
{
	free(b);
}

const struct backend_ops backend_echo_ops = {
	.name = "echo",
	.open = echo_open,
	.message = echo_message,
	.writable = NULL,
	.close = echo_close,
};
