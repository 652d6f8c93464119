/*
 * runtime.h - the running daemon's shared state, read by every module of
 * the event layer: the event base, the configuration in force and the
 * generations a reload left behind, the counters, the ConnectionId
 * sequence and the lifecycle flags.
 *
 * server.c owns the lifecycle and sets what changes (a reload's new
 * configuration, listening, stopping, draining); conn*.c and listener.c
 * read it here instead of calling up into server.c. There is one runtime
 * per process (a worker has its own).
 */
#ifndef RUNTIME_H
#define RUNTIME_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct config;

/* Close codes counted one by one: 1000-1015; the rest share the last slot. */
#define SERVER_STATS_CODES	17
/* HTTP statuses of refused upgrades counted one by one: 400-599. */
#define SERVER_STATS_HTTP	200

/* Counters since start (the admin socket's stats prints them). */
struct server_stats {
	uint64_t	accepted;
	uint64_t	rejected_acl;
	uint64_t	rejected_full;
	uint64_t	rejected_memory;	/* over MaxMemory */
	uint64_t	rejected_handshake;
	uint64_t	rejected_http[SERVER_STATS_HTTP];	/* status - 400 */
	uint64_t	opened;
	uint64_t	closed;
	uint64_t	closed_code[SERVER_STATS_CODES];	/* code - 1000 */
	uint64_t	msgs_in, msgs_out;	/* whole messages */
	uint64_t	bytes_in, bytes_out;	/* on the wire, after the upgrade */
	uint64_t	backend_spawns;		/* backend instances started */
	uint64_t	backend_failures;	/* backends that could not start */
	uint64_t	rejected_handlers;	/* at MaxHandlers */
	uint64_t	backend_waits;		/* starts that waited: MaxSpawnRate */
	uint64_t	rejected_client_conns;	/* MaxConnectionsPerClient */
	uint64_t	rejected_client_rate;	/* HandshakeRatePerClient */
	uint64_t	rejected_client_table;	/* ClientTableSize full */
	uint64_t	topic_delivered;	/* topic messages queued to WebSockets */
	uint64_t	topic_skipped;		/* ... not: queue full, or mid-message */
	uint64_t	topic_dropped;		/* publishes lost on the way up */
};

/*
 * What differs between a single process, a worker and the master
 * (Workers): chosen once, at start. Any member may be NULL: the single
 * process's behaviour then.
 */
struct runtime_role {
	const char	*name;			/* "single", "worker", "master" */
	/* The next ConnectionId (a worker's share of the sequence). */
	uint64_t	 (*next_id)(void);
	/* The counters: a worker's shared slot; the master sums them. */
	struct server_stats *(*stats)(void);
	/* Master: whether a worker listens, and where. */
	bool		 (*listening)(const char **address, int *port);
	/* Master: connections open in the workers. */
	unsigned int	 (*conns)(void);
	/* Master: the configuration was reloaded (tell the workers). */
	void		 (*reloaded)(void);
	/* Master: a shutdown (the workers stop, the master after them). */
	void		 (*shutdown)(void);
};

/* Starts the runtime on base with cfg (taken over). */
void			 runtime_init(struct event_base *, struct config *);
/* Frees every configuration generation. */
void			 runtime_free(void);
void			 runtime_set_role(const struct runtime_role *);
const struct runtime_role *runtime_role(void);

struct event_base	*runtime_base(void);

/* The configuration in force: new connections get it. */
const struct config	*runtime_config(void);
/* The same, writable: a runtime "config KEY=VALUE" (server.c). */
struct config		*runtime_config_mut(void);
/*
 * A connection takes the configuration in force with hold and gives it
 * back with release when it ends: a reload swaps the current one, and the
 * old one lives on until its last connection is gone (its routes too).
 */
const struct config	*runtime_config_hold(void);
void			 runtime_config_release(const struct config *);
/*
 * A reload: cfg (taken over) is in force from now on. Returns how many
 * connections keep the previous one (freed with the last of them).
 */
unsigned int		 runtime_config_swap(struct config *);

/* Where the counters go (a worker's shared slot; see runtime_role). */
struct server_stats	*runtime_stats(void);
/* The next ConnectionId number: never reused in the life of the process. */
uint64_t		 runtime_next_id(void);
/* Milliseconds since runtime_init. */
unsigned long long	 runtime_uptime_ms(void);

/* Lifecycle flags, set by server.c. */
void			 runtime_set_listening(bool);
void			 runtime_set_stopping(void);
void			 runtime_set_draining(bool);
bool			 runtime_listening(void);
bool			 runtime_stopping(void);
bool			 runtime_draining(void);

/*
 * What ConnectionIds start with: "" for a node alone, "NODE:" in a fleet
 * (set by fleet.c from [cluster], at start and after a reload).
 */
void			 runtime_set_id_prefix(const char *);
const char		*runtime_id_prefix(void);
/*
 * Registers what runs once a reload's configuration is in force
 * (fleet.c: the [cluster] keys); NULL: nothing.
 */
void			 runtime_on_swap(void (*)(const struct config *));

/*
 * Called (by server.c) each time a connection is gone, so that a shutdown
 * waiting for the last one notices at once.
 */
void			 runtime_on_conn_gone(void (*)(void));
void			 runtime_conn_gone(void);

#endif
