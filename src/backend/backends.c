/* backends.c - the table of backend kinds and the OpenRequestHook, installed at start. */
#include <stddef.h>

#include "backend/backends.h"
#include "backend/cgi.h"
#include "backend/subscribe.h"
#include "conf/config.h"
#include "event/backend.h"

/* Every kind a route can name; the first row is the fallback. */
static const struct backend_kind_ops backends_kinds[] = {
	{ .kind = BACKEND_ECHO, .ops = &backend_echo_ops },
	{ .kind = BACKEND_SCRIPT, .ops = &backend_script_ops },
	{ .kind = BACKEND_DIR, .ops = &backend_script_ops },
	{ .kind = BACKEND_UNIX, .mux = false, .ops = &backend_unix_ops },
	{ .kind = BACKEND_UNIX, .mux = true, .ops = &backend_mux_ops },
	{ .kind = BACKEND_TCP, .mux = false, .ops = &backend_tcp_ops },
	{ .kind = BACKEND_TCP, .mux = true, .ops = &backend_mux_ops },
};

static const struct backend_table backends_table = {
	.kinds = backends_kinds,
	.nkinds = sizeof(backends_kinds) / sizeof(backends_kinds[0]),
	.hook = &cgi_hook_ops,
	.opened = subscribe_opened,
};

/* Installs the table. */
void
backends_install(void)
{
	backend_install(&backends_table);
}
