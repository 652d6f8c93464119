/* runtime.c - the running daemon's shared state: base, configuration generations, counters, ids, flags. */
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>

#include "base/util.h"
#include "conf/config.h"
#include "event/runtime.h"

/* A configuration replaced by a reload, kept while connections use it. */
struct runtime_oldcfg {
	TAILQ_ENTRY(runtime_oldcfg) entry;
	struct config		*cfg;
	unsigned int		 refs;
};

static struct {
	struct event_base	*base;
	struct config		*cfg;
	unsigned int		 cfg_refs;	/* connections holding cfg */
	TAILQ_HEAD(, runtime_oldcfg) oldcfgs;
	const struct runtime_role *role;
	struct server_stats	 stats;
	uint64_t		 next_id;
	unsigned long long	 t_start;
	bool			 listening;
	bool			 stopping;
	bool			 draining;
	void			 (*conn_gone)(void);
	void			 (*swapped)(const struct config *);
	char			 id_prefix[40];
} rt = { .oldcfgs = TAILQ_HEAD_INITIALIZER(rt.oldcfgs) };

static const struct runtime_role runtime_single = { .name = "single" };

/* Starts the runtime; see runtime.h. */
void
runtime_init(struct event_base *base, struct config *cfg)
{
	rt.base = base;
	rt.cfg = cfg;
	rt.next_id = 1;
	rt.role = &runtime_single;
	rt.t_start = util_now_ms();
}

/* Frees every configuration generation. */
void
runtime_free(void)
{
	struct runtime_oldcfg	*o;

	while ((o = TAILQ_FIRST(&rt.oldcfgs)) != NULL) {
		TAILQ_REMOVE(&rt.oldcfgs, o, entry);
		config_free(o->cfg);
		free(o);
	}
	config_free(rt.cfg);
	rt.cfg = NULL;
}

/* Chooses what differs between single, worker and master. */
void
runtime_set_role(const struct runtime_role *role)
{
	rt.role = role != NULL ? role : &runtime_single;
}

/* The role chosen at start. */
const struct runtime_role *
runtime_role(void)
{
	return rt.role;
}

/* The process's event base. */
struct event_base *
runtime_base(void)
{
	return rt.base;
}

/* The configuration in force. */
const struct config *
runtime_config(void)
{
	return rt.cfg;
}

/* The configuration in force, to change one key at run time. */
struct config *
runtime_config_mut(void)
{
	return rt.cfg;
}

/* A connection takes the configuration in force. */
const struct config *
runtime_config_hold(void)
{
	rt.cfg_refs++;
	return rt.cfg;
}

/* A connection gives its configuration back; the last frees an old one. */
void
runtime_config_release(const struct config *cfg)
{
	struct runtime_oldcfg	*o;

	if (cfg == rt.cfg) {
		rt.cfg_refs--;
		return;
	}
	TAILQ_FOREACH(o, &rt.oldcfgs, entry) {
		if (o->cfg != cfg)
			continue;
		if (--o->refs == 0) {
			TAILQ_REMOVE(&rt.oldcfgs, o, entry);
			config_free(o->cfg);
			free(o);
		}
		return;
	}
}

/* A reload's configuration takes over; see runtime.h. */
unsigned int
runtime_config_swap(struct config *cfg)
{
	struct runtime_oldcfg	*o;
	unsigned int		 kept = rt.cfg_refs;

	if (kept > 0) {
		o = xcalloc(1, sizeof(*o));
		o->cfg = rt.cfg;
		o->refs = kept;
		TAILQ_INSERT_TAIL(&rt.oldcfgs, o, entry);
	} else
		config_free(rt.cfg);
	rt.cfg = cfg;
	rt.cfg_refs = 0;
	if (rt.swapped != NULL)
		rt.swapped(cfg);
	return kept;
}

/* Where the counters go. */
struct server_stats *
runtime_stats(void)
{
	return rt.role->stats != NULL ? rt.role->stats() : &rt.stats;
}

/* The next ConnectionId number. */
uint64_t
runtime_next_id(void)
{
	return rt.role->next_id != NULL ? rt.role->next_id() : rt.next_id++;
}

/* Milliseconds since the start. */
unsigned long long
runtime_uptime_ms(void)
{
	return util_now_ms() - rt.t_start;
}

void
runtime_set_listening(bool on)
{
	rt.listening = on;
}

void
runtime_set_stopping(void)
{
	rt.stopping = true;
}

void
runtime_set_draining(bool on)
{
	rt.draining = on;
}

bool
runtime_listening(void)
{
	return rt.listening;
}

bool
runtime_stopping(void)
{
	return rt.stopping;
}

bool
runtime_draining(void)
{
	return rt.draining;
}

/* Registers what runs when a connection is gone (server.c's shutdown). */
void
runtime_on_conn_gone(void (*fn)(void))
{
	rt.conn_gone = fn;
}

/* A connection is gone. */
void
runtime_conn_gone(void)
{
	if (rt.conn_gone != NULL)
		rt.conn_gone();
}

/* What ConnectionIds start with; see runtime.h. */
void
runtime_set_id_prefix(const char *prefix)
{
	snprintf(rt.id_prefix, sizeof(rt.id_prefix), "%s", prefix);
}

const char *
runtime_id_prefix(void)
{
	return rt.id_prefix;
}

/* Registers what runs after a reload's swap. */
void
runtime_on_swap(void (*fn)(const struct config *))
{
	rt.swapped = fn;
}
