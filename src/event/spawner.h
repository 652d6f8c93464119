/*
 * spawner.h - the spawner: a small process of its own that forks and
 * execs handlers and hooks for the daemon and reaps them.
 *
 * The daemon starts it early, while its own address space is still small
 * (spawn.c, spawn_init); the spawner starts each child in its own memory
 * until the exec (CLONE_VM | CLONE_VFORK, as posix_spawn does), so no page
 * tables are copied, and the event loop never waits for a child: it sends
 * a request over a socket pair and goes on; the spawner answers with the
 * child's pid and its three pipe ends (SCM_RIGHTS), or why it could not
 * start it, and later with its wait status. Only spawn.c talks to it.
 * It has two children per CPU at most in the middle of their start (forked,
 * exec not confirmed, for under a second); further requests wait in the
 * socket, in order.
 *
 * The protocol, one SOCK_SEQPACKET message each way:
 *   daemon -> spawner: struct spawner_req, then argv (argc strings), envp
 *                      (envc strings) and the directory, each NUL-ended;
 *   spawner -> daemon: struct spawner_msg: SPAWNER_STARTED (pid, with the
 *                      child's stdin, stdout and stderr ends as rights),
 *                      SPAWNER_FAILED (the step that failed and errno),
 *                      SPAWNER_EXITED (pid and wait status).
 */
#ifndef SPAWNER_H
#define SPAWNER_H

#include <sys/types.h>

#include <stdint.h>

/* The spawner's process name (comm), as ps and /proc show it. */
#define SPAWNER_NAME		"wsserverd-spawn"

/* Largest request: argv, the whole environment and the directory. */
#define SPAWNER_REQ_MAX		(256 * 1024)

/* Where a child failed before exec (SPAWNER_FAILED). */
enum spawner_step {
	SPAWNER_STEP_FDS,	/* pipes or descriptors */
	SPAWNER_STEP_PDEATHSIG,
	SPAWNER_STEP_NO_NEW_PRIVS,
	SPAWNER_STEP_CHDIR,
	SPAWNER_STEP_EXEC,
	SPAWNER_STEP_PIPE,	/* the spawner's pipe2 */
	SPAWNER_STEP_FORK,	/* the spawner's fork */
	SPAWNER_STEP_REQUEST,	/* a malformed request */
};

struct spawner_req {
	uint64_t	id;
	uint32_t	argc;
	uint32_t	envc;
	uint32_t	dir;		/* a directory follows (else none) */
	uint32_t	len;		/* bytes of strings after this */
};

enum spawner_type {
	SPAWNER_STARTED = 'R',
	SPAWNER_FAILED = 'F',
	SPAWNER_EXITED = 'X',
};

struct spawner_msg {
	uint32_t	type;		/* enum spawner_type */
	int32_t		pid;
	uint64_t	id;		/* STARTED, FAILED: the request's */
	int32_t		step;		/* FAILED: enum spawner_step */
	int32_t		err;		/* FAILED: errno */
	int32_t		status;		/* EXITED: wait status */
};

/*
 * The spawner's body, in the process forked for it: serves requests on fd
 * until the daemon's end closes (it exited or died), then ends the
 * programs still running (SIGTERM to each group, SIGKILL a second later)
 * and exits. Never returns.
 */
/*
 * The one-byte message the spawner sends first, once it has closed every
 * descriptor of the daemon's but its socket and stdio.
 */
#define SPAWNER_READY	"R"
/* How long spawn_init waits for it, in milliseconds. */
#define SPAWNER_READY_MS	5000

void	spawner_main(int fd) __attribute__((noreturn));

#endif
