/* backend.c - the table of backend kinds, as the backend layer installed it. */
#include <stddef.h>

#include "conf/config.h"
#include "event/backend.h"

static const struct backend_table	*backend_table;

/* Installs the backend layer's table. */
void
backend_install(const struct backend_table *t)
{
	backend_table = t;
}

/* The ops for a route's kind: the first row that matches it. */
const struct backend_ops *
backend_for(const struct route *r)
{
	const struct backend_kind_ops	*k;
	size_t				 i;

	for (i = 0; i < backend_table->nkinds; i++) {
		k = &backend_table->kinds[i];
		if (k->kind == r->kind && ((r->kind != BACKEND_UNIX &&
		    r->kind != BACKEND_TCP) || k->mux == r->mux))
			return k->ops;
	}
	return backend_table->kinds[0].ops;
}

/* The OpenRequestHook's ops. */
const struct backend_hook_ops *
backend_hook(void)
{
	return backend_table != NULL ? backend_table->hook : NULL;
}

/* Whether row i's ops came earlier in the table (counted once). */
static bool
backend_seen(size_t i)
{
	size_t	j;

	for (j = 0; j < i; j++)
		if (backend_table->kinds[j].ops == backend_table->kinds[i].ops)
			return true;
	return false;
}

/* Instances still alive over every kind. */
int
backend_live(void)
{
	const struct backend_ops	*o;
	size_t				 i;
	int				 n = 0;

	for (i = 0; backend_table != NULL && i < backend_table->nkinds; i++) {
		o = backend_table->kinds[i].ops;
		if (o->live != NULL && !backend_seen(i))
			n += o->live();
	}
	return n;
}

/* Ends every instance still alive. */
void
backend_kill_all(void)
{
	const struct backend_ops	*o;
	size_t				 i;

	for (i = 0; backend_table != NULL && i < backend_table->nkinds; i++) {
		o = backend_table->kinds[i].ops;
		if (o->kill_all != NULL && !backend_seen(i))
			o->kill_all();
	}
}

/* A WebSocket has opened: its topics. */
void
backend_opened(struct conn *c)
{
	if (backend_table != NULL && backend_table->opened != NULL)
		backend_table->opened(c);
}
