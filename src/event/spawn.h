/*
 * spawn.h - child processes: handler programs and hooks started with
 * fork and exec, and the daemon's one SIGCHLD reaper.
 *
 * A child runs in its own session and process group (so the whole group
 * can be signalled), dies with the daemon (PR_SET_PDEATHSIG), can gain no
 * privilege by exec (PR_SET_NO_NEW_PRIVS: set-user-ID bits, set-group-ID
 * bits and file capabilities are ignored, for its children too), starts with
 * every signal at its default and none blocked, gets its pipes on 0-2 and
 * no other descriptor, and the environment it is given and nothing else.
 * The script backend (one process per WebSocket, dir: routes too) and the
 * OpenRequestHook use it; whoever started a child says what happens when
 * it is reaped.
 */
#ifndef SPAWN_H
#define SPAWN_H

#include <sys/types.h>

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

/*
 * Starts cmd with fresh pipes. fds receives the parent's ends (its stdin
 * to write, its stdout and stderr to read), non-blocking and
 * close-on-exec. done(arg, wait status) is called once the child is
 * reaped, unless spawn_forget came first. Returns the pid, or -1 with
 * *cause (malloc'd) set to a short text fit for the client ("fork
 * failed", "exec failed"...); the detail (errno) is logged here, and a
 * child that failed before exec has been reaped.
 */
pid_t	spawn_start(const struct spawn_cmd *, int fds[3],
	    void (*done)(void *, int), void *arg, char **cause);

/* Its starter no longer waits: the child's group is killed, reaped silently. */
void	spawn_forget(pid_t);

#endif
