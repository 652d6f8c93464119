/*
 * admin-int.h - what the admin socket's files share, and nothing outside
 * src/admin/ may include: the client, the process's admin state, the
 * role (master relay or local), the reply helpers and every handler.
 *
 * admin.c	the socket, clients, lines, replies, the dispatcher
 * relay.c	the master's dispatcher: channels to workers, merged replies
 * watch.c	the watch stream, the log and connection hooks
 * cmd-conn.c	commands on connections (a ConnectionId, a route, all)
 * cmd-server.c	commands on the server
 * cmd-fleet.c	topics, and the fleet: commands for other nodes'
 *		connections, connections --all, requests from other nodes
 */
#ifndef ADMIN_INT_H
#define ADMIN_INT_H

#include <sys/types.h>
#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "admin/cmd.h"

struct bufferevent;
struct conn;
struct event;
struct event_base;
struct evbuffer;
struct evconnlistener;
struct server;
struct admin_wait;
struct admin_chan;
struct admin_fwd;

/* Admin clients connected at once; one more is told ERR 503 and closed. */
#define ADMIN_MAX_CLIENTS	64
/*
 * Of those, the last ones are kept for admins (root, the daemon's user,
 * AdminAllowedUsers): whoever may merely connect cannot lock them out.
 */
#define ADMIN_RESERVED_CLIENTS	8
/* Queued watch events past which new ones are dropped and counted. */
#define ADMIN_WATCH_MAX		(64 * 1024)
/* Longest watch event line, LF included. */
#define ADMIN_EVENT_MAX		2400

/* A client of the admin socket, or (in a worker) a channel from the master. */
struct admin_client {
	TAILQ_ENTRY(admin_client) entry;
	struct bufferevent	*bev;
	struct event		*kick;		/* resumes after a wait */
	struct event		*idle;		/* AdminIdleTimeout; NULL: none */
	unsigned long long	 id;
	long			 uid;		/* SO_PEERCRED; -1 unknown */
	long			 pid;
	struct admin_wait	*wait;		/* ping/sendfile pending */
	bool			 watching;
	bool			 closing;	/* close once output is sent */
	int			 in_cb;		/* in callbacks: defer free */
	bool			 dead;
	bool			 trusted;	/* the master's channel */
	uint64_t		 dropped;	/* watch events not sent */
	struct admin_chan	**chan;		/* master: one per worker */
	struct admin_fwd	*fwd;		/* master: command at workers */
	uint64_t		 data_left;	/* raw bytes of a command to come */
	int			 data_to;	/* master: the worker they go to */
	bool			 internal;	/* runs another node's command */
};

/*
 * How this process runs commands, installed once when the socket starts:
 * the master's relay (relay.c) with workers, the local one (admin.c) in a
 * single process and in a worker.
 */
struct admin_role {
	/* Runs a parsed, permitted request; line is as it was read. */
	void		 (*dispatch)(struct admin_client *,
			    const struct admin_req *, const char *line,
			    size_t len);
	/* Open connections, and bytes queued: here, or in all workers. */
	unsigned int	 (*nconns)(void);
	size_t		 (*memory)(bool *over);
	/* LogFile was reopened here (the master tells the workers); or NULL. */
	void		 (*reopened)(void);
	/* A client goes: what the role keeps for it; or NULL. */
	void		 (*client_free)(struct admin_client *);
	/*
	 * Raw bytes that follow a command line (sendbytes), len of them at
	 * p, end: they are the last. Returns how many it took; fewer than
	 * len (0: none) to wait, after which it kicks the client.
	 */
	size_t		 (*data)(struct admin_client *, const uint8_t *p,
			    size_t len, bool end);
};

extern const struct admin_role	admin_local_role;	/* admin.c */
extern const struct admin_role	admin_master_role;	/* relay.c */

/* The admin state of this process (admin.c). */
struct admin_state {
	struct server		*srv;
	struct event_base	*base;
	const struct admin_role	*role;
	struct evconnlistener	*evl;
	char			 path[108];	/* sun_path */
	dev_t			 dev;		/* of our socket file */
	ino_t			 ino;
	TAILQ_HEAD(, admin_client) clients;
	unsigned int		 nclients;
	unsigned int		 nwatchers;
	TAILQ_HEAD(, admin_wait) waits;		/* cmd-conn.c's */
	unsigned long long	 next_client;
	/* A client on fd (a socket end), as accepted ones are (admin.c). */
	struct admin_client	*(*client_new)(int fd);
	unsigned long long	 ping_seq;
	bool			 on;
};
extern struct admin_state	admin;

/* What a handler acts on, resolved by the dispatcher from the table. */
struct admin_target {
	struct conn	*conn;		/* ADMIN_TARGET_CONN */
	const char	*route;		/* ADMIN_TARGET_ROUTE, or "*" */
	int		 first;		/* argument after the target */
};

/*
 * A command's handler; it replies. A check runs before the target is
 * resolved, for arguments whose errors come first: -1 when it replied.
 */
typedef void	admin_exec_fn(struct admin_client *, const struct admin_req *,
		    const struct admin_target *);
typedef int	admin_check_fn(struct admin_client *,
		    const struct admin_req *);

/* admin.c: the local dispatcher (check, target, handler). */
void		 admin_run(struct admin_client *, const struct admin_req *);

/* admin.c: replies. "OK [text]", data lines, the empty line, errors. */
struct evbuffer	*admin_out(struct admin_client *);
void		 admin_ok(struct admin_client *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 admin_line(struct admin_client *, const char *, ...)
		    __attribute__((format(printf, 2, 3)));
void		 admin_lines(struct admin_client *, const char *);
void		 admin_end(struct admin_client *);
void		 admin_err(struct admin_client *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
void		 admin_flush(struct admin_client *);
/* An "OK" reply whose data is one JSON line, and its members. */
struct evbuffer	*admin_json_begin(struct admin_client *);
void		 admin_json_end(struct admin_client *);
void		 admin_json_kv(struct evbuffer *, bool *, const char *,
		    const char *);
void		 admin_json_kn(struct evbuffer *, bool *, const char *,
		    unsigned long long);
void		 admin_json_kb(struct evbuffer *, bool *, const char *, bool);
unsigned int	 admin_nconns(void);

/* watch.c: the stream and the hooks that feed it. */
void		 admin_watch_start(struct admin_client *);
void		 admin_watch_drained(struct admin_client *);
void		 admin_watch_hook_log(bool);
void		 admin_watch_hook_conns(bool);

/* cmd-conn.c: pending pings, sendfiles and sendbytes (admin.waits). */
void		 admin_wait_forget(struct admin_wait *);
size_t		 admin_data_take(struct admin_client *, const uint8_t *, size_t,
		    bool);
void		 admin_wait_pong(struct conn *, const uint8_t *, size_t);
void		 admin_wait_gone(struct conn *);
void		 admin_waits_stop(void);

/*
 * cmd-conn.c: a wait of another file (cmd-fleet.c: replies from other
 * nodes). The client reads no more lines until admin_wait_end; cancel
 * (ctx) is called instead when the client leaves or the socket closes,
 * and the wait is gone then.
 */
struct admin_wait *admin_wait_ext(struct admin_client *,
		    void (*cancel)(void *), void *ctx);
void		 admin_wait_end(struct admin_wait *);

/* reply.c: table replies merged (workers', or nodes'). */
void		 admin_merge_rows(struct admin_client *,
		    const char *const *replies, int n, bool json,
		    const char *noun, const char *note);
/* cmd-fleet.c: the exec clients at admin_stop. */
void		 admin_fleet_stop(void);


/* cmd-fleet.c: a ConnectionId of another node: the command goes there. */
void		 admin_remote(struct admin_client *, const struct admin_req *,
		    const char *node);
/* cmd-fleet.c: runs commands other nodes send (fleet_set_exec). */
void		 admin_fleet_start(void);

/* reply.c: spaces and tabs off both ends of s, in place. */
char		*admin_trim(char *);
/* cmd-conn.c: "config ID ...", a connection's settings. */
void		 admin_config_conn(struct admin_client *,
		    const struct admin_req *, struct conn *);

/* The handlers: cmd-server.c, cmd-conn.c, watch.c. */
admin_exec_fn	 admin_exec_help, admin_exec_status, admin_exec_stats,
		 admin_exec_cert, admin_exec_config, admin_exec_start,
		 admin_exec_stop, admin_exec_drain, admin_exec_reopen,
		 admin_exec_reload, admin_exec_shutdown;
admin_exec_fn	 admin_exec_connections, admin_exec_connection,
		 admin_exec_disconnect, admin_exec_ping, admin_exec_send,
		 admin_exec_sendtext, admin_exec_sendfile,
		 admin_exec_interrupt, admin_exec_broadcast,
		 admin_exec_linemode, admin_exec_timeout, admin_exec_pause,
		 admin_exec_resume, admin_exec_sendbytes;
admin_exec_fn	 admin_exec_watch;
admin_exec_fn	 admin_exec_publish, admin_exec_publishbin, admin_exec_topics,
		 admin_exec_connections_any;
admin_check_fn	 admin_check_disconnect, admin_check_linemode,
		 admin_check_timeout;

#endif
