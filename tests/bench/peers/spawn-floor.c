/*
 * spawn-floor.c - the spawn floor of workload 1: one process per WebSocket
 * at the least it can cost, a peer for wsbench against script handlers.
 *
 * It accepts, reads the upgrade request, posix_spawns the handler (cat
 * unless told otherwise) with a pipe on its stdin and one on its stdout,
 * answers the 101, and relays: every message (text or binary) goes to the
 * handler as one line, every line the handler prints comes back as one
 * text message. The client's close or end, or the handler's end, closes
 * the connection; the handler sees its stdin end and exits, and is reaped
 * from a signalfd. No validation, no limits beyond fixed buffers: the
 * physical limit of "one process per WebSocket" on this machine. Listens
 * on 127.0.0.1.
 *
 *	spawn-floor [-p port] [program [arg...]]
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "peer-ws.h"

#define SF_BUF		(64 * 1024)
#define SF_LINE_MAX	(1024 * 1024)	/* a handler's line, at most */
#define SF_EVENTS	1024

/* Which descriptor of a connection an event is for. */
enum sf_kind {
	SF_SOCK,	/* the client */
	SF_TO,		/* the handler's stdin, our end */
	SF_FROM		/* the handler's stdout, our end */
};

struct sf_conn;

struct sf_end {
	struct sf_conn	*c;
	enum sf_kind	 kind;
	int		 fd;
	uint32_t	 events;	/* what epoll waits for now */
};

/* Bytes a descriptor did not take yet. */
struct sf_out {
	uint8_t		*p;
	size_t		 len;
	size_t		 off;
};

struct sf_conn {
	struct sf_end	 end[3];
	bool		 open;		/* upgraded, handler running */
	bool		 dead;		/* closed: freed after this batch */
	bool		 closing;	/* drop once the client's bytes are out */
	struct pw_rx	 rx;
	uint8_t		 ctl[125];	/* a control frame's payload */
	uint8_t		 ctl_have;
	char		*head;		/* request head while upgrading */
	size_t		 head_len;
	uint8_t		*line;		/* the handler's unfinished line */
	size_t		 line_len;
	struct sf_out	 tosock;
	struct sf_out	 tochild;
	struct sf_conn	*next_dead;
};

static volatile sig_atomic_t sf_stop;
static int sf_ep;
static char **sf_argv;
static struct sf_conn *sf_dead;
static uint8_t sf_in[SF_BUF];
static uint8_t sf_stage[2 * SF_BUF + PW_RESP_MAX];

/* Asks the loop to end. */
static void
sf_on_signal(int sig)
{
	(void)sig;
	sf_stop = 1;
}

/* Sets what epoll waits for on one descriptor of a connection. */
static void
sf_events(struct sf_end *e, uint32_t events)
{
	struct epoll_event ev;

	if (e->fd == -1 || e->events == events)
		return;
	ev.events = events;
	ev.data.ptr = e;
	epoll_ctl(sf_ep, EPOLL_CTL_MOD, e->fd, &ev);
	e->events = events;
}

/*
 * Closes one descriptor. Removed from epoll first: a handler just spawned
 * may still hold a copy of it (the parent runs again before exec closes
 * the copies), and epoll forgets only the last close.
 */
static void
sf_end_close(struct sf_end *e)
{
	if (e->fd == -1)
		return;
	epoll_ctl(sf_ep, EPOLL_CTL_DEL, e->fd, NULL);
	close(e->fd);
	e->fd = -1;
}

/* Drops a connection: the handler gets its end of input and exits. */
static void
sf_close(struct sf_conn *c)
{
	int i;

	if (c->dead)
		return;
	for (i = 0; i < 3; i++)
		sf_end_close(&c->end[i]);
	c->dead = true;
	c->next_dead = sf_dead;
	sf_dead = c;
}

/* Frees the connections closed during a batch of events. */
static void
sf_reap_conns(void)
{
	struct sf_conn *c;

	while ((c = sf_dead) != NULL) {
		sf_dead = c->next_dead;
		free(c->head);
		free(c->line);
		free(c->tosock.p);
		free(c->tochild.p);
		free(c);
	}
}

/*
 * Writes to a descriptor and keeps what it did not take (then waits for
 * EPOLLOUT there). Returns -1 when the descriptor failed.
 */
static int
sf_write(struct sf_end *e, struct sf_out *o, const uint8_t *p, size_t len)
{
	ssize_t n = 0;

	if (len > 0 && o->p == NULL) {
		n = e->kind == SF_SOCK ?
		    send(e->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT) :
		    write(e->fd, p, len);
		if (n < 0) {
			if (errno != EAGAIN)
				return -1;
			n = 0;
		}
	}
	if ((size_t)n < len) {
		uint8_t *q = realloc(o->p, o->len + len - (size_t)n);

		if (q == NULL)
			return -1;
		memcpy(q + o->len, p + n, len - (size_t)n);
		o->p = q;
		o->len += len - (size_t)n;
		sf_events(e, EPOLLOUT);
	}
	return 0;
}

/* Writes kept bytes; -1 when the descriptor failed, 1 once all are out. */
static int
sf_flush(struct sf_end *e, struct sf_out *o)
{
	ssize_t n;

	n = e->kind == SF_SOCK ?
	    send(e->fd, o->p + o->off, o->len - o->off,
	    MSG_NOSIGNAL | MSG_DONTWAIT) :
	    write(e->fd, o->p + o->off, o->len - o->off);
	if (n < 0)
		return errno == EAGAIN ? 0 : -1;
	o->off += (size_t)n;
	if (o->off < o->len)
		return 0;
	free(o->p);
	o->p = NULL;
	o->len = o->off = 0;
	return 1;
}

/* Starts the handler with a pipe on its stdin and one on its stdout. */
static pid_t
sf_spawn(int *to, int *from)
{
	static char *env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	int in[2], out[2], rc;
	pid_t pid = -1;

	if (pipe2(in, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(out, O_CLOEXEC) == -1) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawnattr_init(&at);
	/* SIGCHLD is blocked here for the signalfd; SIGPIPE is ignored. */
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&pid, sf_argv[0], &fa, &at, sf_argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(in[0]);
	close(out[1]);
	if (rc != 0) {
		close(in[1]);
		close(out[0]);
		errno = rc;
		return -1;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	*to = in[1];
	*from = out[0];
	return pid;
}

/* Registers one of a connection's descriptors; the caller closes it if
 * that fails. */
static int
sf_add(struct sf_conn *c, enum sf_kind kind, int fd, uint32_t events)
{
	struct sf_end *e = &c->end[kind];
	struct epoll_event ev;

	e->c = c;
	e->kind = kind;
	e->events = events;
	ev.events = events;
	ev.data.ptr = e;
	if (epoll_ctl(sf_ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		return -1;
	e->fd = fd;
	return 0;
}

/*
 * Walks client bytes: message payloads go to sf_stage (each message ends
 * with a newline), pings are answered, a close is echoed. Returns the
 * bytes staged for the handler.
 */
static size_t
sf_frames(struct sf_conn *c, const uint8_t *p, size_t len)
{
	struct sf_end *s = &c->end[SF_SOCK];
	uint8_t reply[2 + sizeof(c->ctl)];
	size_t w = 0, n;
	bool ctl, done;

	while (!c->closing) {
		ctl = (c->rx.op & 0x8) != 0;
		switch (pw_next(&c->rx, &p, &len, ctl ? c->ctl + c->ctl_have :
		    sf_stage + w, &n)) {
		case PW_NEED:
			return w;
		case PW_HEADER:
			c->ctl_have = 0;
			if ((c->rx.op & 0x8) && c->rx.left > sizeof(c->ctl)) {
				sf_close(c);
				return 0;
			}
			done = c->rx.left == 0;
			break;
		case PW_DATA:
			if (ctl)
				c->ctl_have += (uint8_t)n;
			else
				w += n;
			done = c->rx.left == 0;
			break;
		default:
			return w;
		}
		if (!done)
			continue;
		if ((c->rx.op & 0x8) == 0) {
			if (c->rx.fin)
				sf_stage[w++] = '\n';
			continue;
		}
		if (c->rx.op != 0x8 && c->rx.op != 0x9)
			continue;
		/* A ping's pong, or the close echoed: then the end. */
		n = pw_header(reply, c->rx.op == 0x9 ? 0x8a : 0x88,
		    c->ctl_have);
		memcpy(reply + n, c->ctl, c->ctl_have);
		if (sf_write(s, &c->tosock, reply, n + c->ctl_have) == -1) {
			sf_close(c);
			return 0;
		}
		if (c->rx.op == 0x8)
			c->closing = true;
	}
	return w;
}

/* Client bytes after the upgrade: messages to the handler. */
static void
sf_from_client(struct sf_conn *c, const uint8_t *p, size_t len)
{
	size_t w = sf_frames(c, p, len);

	if (c->dead)
		return;
	if (w > 0 && sf_write(&c->end[SF_TO], &c->tochild, sf_stage, w) ==
	    -1) {
		sf_close(c);
		return;
	}
	/* While the handler's input waits, read no more from the client. */
	if (c->tochild.p != NULL)
		sf_events(&c->end[SF_SOCK], c->tosock.p != NULL ? EPOLLOUT : 0);
	if (c->closing && c->tosock.p == NULL)
		sf_close(c);
}

/* Reads the upgrade request, starts the handler and answers. */
static void
sf_upgrade(struct sf_conn *c)
{
	static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n";
	char resp[PW_RESP_MAX], *end;
	size_t hl, rest;
	ssize_t n;
	int rl, to, from;

	if (c->head == NULL && (c->head = malloc(PW_HEAD_MAX + 1)) == NULL)
		goto fail;
	n = recv(c->end[SF_SOCK].fd, c->head + c->head_len,
	    PW_HEAD_MAX - c->head_len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0)
		goto fail;
	c->head_len += (size_t)n;
	c->head[c->head_len] = '\0';
	if ((end = strstr(c->head, "\r\n\r\n")) == NULL) {
		if (c->head_len < PW_HEAD_MAX)
			return;
		goto fail;
	}
	if ((rl = pw_upgrade(c->head, end, resp)) < 0)
		goto fail;
	if (sf_spawn(&to, &from) == -1) {
		fprintf(stderr, "spawn-floor: %s: %m\n", sf_argv[0]);
		send(c->end[SF_SOCK].fd, busy, sizeof(busy) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		goto fail;
	}
	if (sf_add(c, SF_TO, to, 0) == -1) {
		close(to);
		close(from);
		goto fail;
	}
	if (sf_add(c, SF_FROM, from, EPOLLIN) == -1) {
		close(from);
		goto fail;
	}
	c->open = true;
	hl = (size_t)(end + 4 - c->head);
	rest = c->head_len - hl;
	memcpy(sf_in, c->head + hl, rest);
	free(c->head);
	c->head = NULL;
	if (sf_write(&c->end[SF_SOCK], &c->tosock, (uint8_t *)resp,
	    (size_t)rl) == -1)
		goto fail;
	if (rest > 0)
		sf_from_client(c, sf_in, rest);
	return;
fail:
	sf_close(c);
}

/* The handler printed: each whole line goes out as one text message. */
static void
sf_from_handler(struct sf_conn *c)
{
	struct sf_end *s = &c->end[SF_SOCK];
	size_t w = 0, i, start = 0, have, len;
	uint8_t *buf;
	ssize_t n;

	n = read(c->end[SF_FROM].fd, sf_in, sizeof(sf_in));
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		/* The handler ended: say so, then drop the connection. */
		static const uint8_t bye[] = { 0x88, 0x02, 0x03, 0xe8 };

		sf_write(s, &c->tosock, bye, sizeof(bye));
		goto fail;
	}
	buf = sf_in;
	have = (size_t)n;
	if (c->line_len > 0) {
		uint8_t *q = realloc(c->line, c->line_len + have);

		if (q == NULL)
			goto fail;
		memcpy(q + c->line_len, sf_in, have);
		c->line = q;
		buf = q;
		have += c->line_len;
	}
	for (i = 0; i < have; i++) {
		if (buf[i] != '\n')
			continue;
		len = i - start;
		if (w + 10 + len > sizeof(sf_stage)) {
			if (sf_write(s, &c->tosock, sf_stage, w) == -1)
				goto fail;
			w = 0;
		}
		if (10 + len > sizeof(sf_stage)) {
			/* A long line goes out from where it is. */
			w = pw_header(sf_stage, 0x81, len);
			if (sf_write(s, &c->tosock, sf_stage, w) == -1 ||
			    sf_write(s, &c->tosock, buf + start, len) == -1)
				goto fail;
			w = 0;
		} else {
			w += pw_header(sf_stage + w, 0x81, len);
			memcpy(sf_stage + w, buf + start, len);
			w += len;
		}
		start = i + 1;
	}
	if (w > 0 && sf_write(s, &c->tosock, sf_stage, w) == -1)
		goto fail;
	/* Keep the unfinished line. */
	if (start < have) {
		if (have - start > SF_LINE_MAX)
			goto fail;
		if (buf != c->line) {
			uint8_t *q = malloc(have - start);

			if (q == NULL)
				goto fail;
			memcpy(q, buf + start, have - start);
			free(c->line);
			c->line = q;
		} else
			memmove(c->line, c->line + start, have - start);
	}
	c->line_len = have - start;
	/* While the client's output waits, read no more from the handler. */
	if (c->tosock.p != NULL)
		sf_events(&c->end[SF_FROM], 0);
	return;
fail:
	sf_close(c);
}

/* One event on one of a connection's descriptors. */
static void
sf_event(struct sf_end *e, uint32_t events)
{
	struct sf_conn *c = e->c;
	ssize_t n;
	int r;

	if (c->dead || e->fd == -1)
		return;
	switch (e->kind) {
	case SF_SOCK:
		if ((events & EPOLLOUT) && c->tosock.p != NULL) {
			if ((r = sf_flush(e, &c->tosock)) == -1) {
				sf_close(c);
				return;
			}
			if (r == 1) {
				if (c->closing) {
					sf_close(c);
					return;
				}
				sf_events(e, c->tochild.p != NULL ? 0 :
				    EPOLLIN);
				sf_events(&c->end[SF_FROM], EPOLLIN);
			}
			return;
		}
		if (!c->open) {
			sf_upgrade(c);
			return;
		}
		n = recv(e->fd, sf_in, sizeof(sf_in), MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			sf_close(c);
			return;
		}
		sf_from_client(c, sf_in, (size_t)n);
		return;
	case SF_TO:
		if ((events & (EPOLLERR | EPOLLHUP)) ||
		    (r = sf_flush(e, &c->tochild)) == -1) {
			sf_close(c);
			return;
		}
		if (r == 1) {
			sf_events(e, 0);
			sf_events(&c->end[SF_SOCK], c->tosock.p != NULL ?
			    EPOLLOUT : EPOLLIN);
		}
		return;
	case SF_FROM:
		sf_from_handler(c);
		return;
	}
}

/* Takes every pending connection. */
static void
sf_accept(int lfd)
{
	struct sf_conn *c;
	int fd, i;

	while ((fd = pw_accept(lfd)) != -1) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		for (i = 0; i < 3; i++)
			c->end[i].fd = -1;
		if (sf_add(c, SF_SOCK, fd, EPOLLIN) == -1) {
			close(fd);
			free(c);
		}
	}
}

/* Reaps every handler that ended. */
static void
sf_reap_children(int sfd)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int
main(int argc, char *argv[])
{
	static char *cat[] = { "cat", NULL };
	static struct epoll_event evs[SF_EVENTS];
	static struct sf_end sigend, lend;
	struct epoll_event ev;
	sigset_t chld;
	int lfd, sfd, port = 8080, ch, n, i;

	while ((ch = getopt(argc, argv, "+p:")) != -1) {
		if (ch != 'p' || (port = atoi(optarg)) <= 0 || port > 65535) {
			fprintf(stderr, "usage: spawn-floor [-p port] "
			    "[program [arg...]]\n");
			return 1;
		}
	}
	sf_argv = optind < argc ? argv + optind : cat;
	pw_signals(sf_on_signal);
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	if ((sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    (lfd = pw_listen(port, "spawn-floor")) == -1 ||
	    (sf_ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		return 1;
	ev.events = EPOLLIN;
	ev.data.ptr = &lend;
	epoll_ctl(sf_ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &sigend;
	epoll_ctl(sf_ep, EPOLL_CTL_ADD, sfd, &ev);
	while (!sf_stop) {
		n = epoll_wait(sf_ep, evs, SF_EVENTS, 1000);
		for (i = 0; i < n; i++) {
			struct sf_end *e = evs[i].data.ptr;

			if (e == &lend)
				sf_accept(lfd);
			else if (e == &sigend)
				sf_reap_children(sfd);
			else
				sf_event(e, evs[i].events);
		}
		sf_reap_conns();
	}
	close(lfd);
	return 0;
}
