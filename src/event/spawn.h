/*
 * spawn.h - child processes: handler programs and hooks, started by the
 * spawner (spawner.h) and never by the event loop's own fork.
 *
 * A child runs in its own session and process group (so the whole group
 * can be signalled), dies with the daemon (PR_SET_PDEATHSIG, through the
 * spawner), can gain no privilege by exec (PR_SET_NO_NEW_PRIVS: set-user-ID
 * bits, set-group-ID bits and file capabilities are ignored, for its
 * children too), starts with every signal at its default and none blocked,
 * gets its pipes on 0-2 and no other descriptor, and the environment it
 * is given and nothing else. Starting is asynchronous: spawn_start sends
 * the request and returns; the starter hears from the spawner through its
 * ops, from the event loop. The script backend (one process per WebSocket,
 * dir: routes too) and the OpenRequestHook use it, through cgi_spawn.
 */
#ifndef SPAWN_H
#define SPAWN_H

#include <sys/types.h>

#include <stdint.h>

/* What to run. */
struct spawn_cmd {
	const char	*id;		/* ConnectionId, for log lines */
	const char	*what;		/* "handler", "program": log lines */
	char *const	*argv;		/* argv[0]: path, or a name in PATH */
	char		**envp;		/* its whole environment */
	/*
	 * Where it runs: NULL or "" is the program's own directory (a
	 * relative argv[0] is taken relative to it; a bare name found in
	 * PATH runs in the daemon's directory).
	 */
	const char	*workdir;
};

/* What the starter of a child hears, from the event loop, in this order. */
struct spawn_ops {
	/*
	 * It runs (its exec worked): its pid (also its process group) and
	 * the daemon's ends of its stdin, stdout and stderr (non-blocking,
	 * close-on-exec), the starter's from now on.
	 */
	void	(*started)(void *arg, pid_t pid, int fds[3]);
	/*
	 * It could not be started: cause is a short text fit for the client
	 * ("fork failed", "exec failed"...); the detail (errno) is logged.
	 * Nothing else is called after this.
	 */
	void	(*failed)(void *arg, const char *cause);
	/* It was reaped with this wait status (after started). */
	void	(*reaped)(void *arg, int status);
};

/*
 * Starts the spawner: early, while the daemon is small, as the user the
 * handlers run as, and returns once the spawner has closed its copies of
 * the daemon's descriptors (at most SPAWNER_READY_MS). Returns 0, or -1
 * with *cause (malloc'd). spawn_start starts it too if need be (after it
 * died, say).
 */
int		 spawn_init(char **cause);
/* Closes the spawner (it exits when it sees the daemon's end close). */
void		 spawn_fini(void);

/*
 * Asks for cmd to be started. Returns its handle (never 0), or 0 with
 * *cause (malloc'd; no spawner, too many requests waiting). The ops are
 * called later, never from within this call.
 */
uint64_t	 spawn_start(const struct spawn_cmd *, const struct spawn_ops *,
		    void *arg, char **cause);

/*
 * The starter no longer waits: a child started or about to be is killed
 * with its group and reaped silently; no op of it is called again.
 */
void		 spawn_cancel(uint64_t);

#endif
