/*
 * conn-int.h - inside one client connection: the struct and what the
 * conn*.c files share. Not for anyone else: the connection's public
 * contract is conn.h.
 *
 * The files, lowest first; each calls only files below it, and reaches
 * up through the handlers it is given (struct conn_io_handlers,
 * struct conn_mem_handlers):
 *   conn-admit.c  the upgrade's admission rules (pure: no struct conn)
 *   conn-mem.c    MaxMemory: what is queued over all connections
 *   conn-lines.c  LineMode: client messages cut into lines
 *   conn-tls.c    TLS records: OpenSSL over the socket and the wire queue
 *   conn-io.c     the bytes: plain sockets and TLS behind one interface
 *   conn-http.c   before the request: PROXY header, health, dev console
 *   conn-file.c   SendFile, and backend output held back meanwhile
 *   conn-topic.c  topics: the deciders' Subscribe lines, the slot of
 *                 the subscriptions
 *   conn.c        states, handshake and decision, the close path, the
 *                 registry, the glue between session and backend
 *   conn-ctl.c    the fields and setters the admin socket and backends
 *                 use, lookup by ConnectionId, SendFile's entry points
 */
#ifndef CONN_INT_H
#define CONN_INT_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/buffer.h>

#include "base/util.h"
#include "core/ws-deflate.h"
#include "core/ws-handshake.h"
#include "core/ws-session.h"
#include "event/conn.h"
#include "event/conn-admit.h"

struct event;
struct backend_ops;
struct route;

/*
 * Output queue marks. Above the high mark the backend is told to stop
 * producing and we stop reading the client (so pongs and echoes cannot
 * grow the queue either); below the low mark both resume.
 */
#define CONN_OUT_HIGH	(1024 * 1024)
#define CONN_OUT_LOW	(256 * 1024)
/* Most bytes read from the client per read callback once open (fairness). */
#define CONN_READ_HIGH	(256 * 1024)
/* How long a closed connection waits for the client's FIN. */
#define CONN_LINGER_MS	1000
/* Most bytes one read(2) of a plain connection takes. */
#define CONN_READ_CHUNK	(64 * 1024)
/* How often a paused plain client is looked at for a hang-up. */
#define CONN_HUP_CHECK_MS	1000
/* Longest close reason kept (a close frame carries at most 123 bytes). */
#define CONN_REASON_MAX		127
/* Largest read (and fragment) of a sendfile when MaxFrameSize is larger. */
#define CONN_FILE_CHUNK	(256 * 1024)

enum conn_state {
	CONN_HANDSHAKE,		/* reading the upgrade request */
	CONN_VERDICT,		/* waiting for the backend's verdict on it */
	CONN_OPEN,		/* WebSocket open */
	CONN_CLOSING,		/* we sent close, waiting for the reply */
	CONN_DRAINING,		/* flushing our last bytes, then FIN, then EOF */
};

/* What only the handshake and the verdict need; freed once open. */
struct conn_hs {
	struct ws_request	 req;		/* the upgrade request, parsed */
	size_t			 scanned;	/* request head bytes looked at */
	size_t			 head;		/* the request's length */
	struct conn_admission	 adm;		/* what admission decided */
	uint8_t			 step;		/* the next decision step */
	void			*hook;		/* OpenRequestHook running */
	char			*hook_hdrs;	/* its accept's header lines */
	size_t			 hook_hlen;
	char			*topics;	/* the answers' Subscribe lines */
};

/* A sendfile in progress: read as the client's queue drains. */
struct conn_file {
	int		 fd;
	uint64_t	 size;
	uint64_t	 sent;
	bool		 started;	/* the message's first fragment is out */
	uint8_t		*buf;
	size_t		 bufsize;
	conn_file_cb	 done;
	void		*arg;
};

/*
 * Settings a connection may have of its own (config ID, a mux backend's
 * config), over its route's and the global ones: bits of own_set.
 */
enum conn_own {
	CONN_OWN_PING_INTERVAL,
	CONN_OWN_PING_TIMEOUT,
	CONN_OWN_IDLE_TIMEOUT,
	CONN_OWN_MAX_LINE,
	CONN_OWN_COUNT
};

/* What few connections use: made on first use, kept to the end. */
struct conn_extra {
	char			*subprotocol;
	void			*bstate;	/* the backend's, before open */
	void			 (*bstate_free)(void *);
	struct conn_file	*file;		/* admin sendfile in progress */
	struct evbuffer		*held;		/* backend pieces waiting for it */
	unsigned long long	 hup_at;	/* hang-up seen behind unread data */
	int32_t			 own[CONN_OWN_COUNT];
	uint8_t			 own_set;	/* 1 << enum conn_own */
	/*
	 * A message from the admin socket in parts (MessageLength,
	 * sendbytes): bytes of it still to come, whether its first part is
	 * out (the backend's output is held meanwhile), its type.
	 */
	bool			 admin_open;
	enum ws_msg_type	 admin_type;
	uint64_t		 admin_left;
	void			*topics;	/* topics.c's subscriptions */
};

/* Why the connection ends (conn_set_close), with its log-safe reason. */
struct conn_close {
	int			 code;
	const char		*by;
	char			 reason[];
};

/*
 * Laid out for size: an idle server holds one per connection. What only
 * the handshake, rare features or the end need is in side blocks; flags
 * are bits; the numeric addresses and (plain connections) the read event
 * live in the same allocation, after the struct.
 */
struct conn {
	TAILQ_ENTRY(conn)	 entry;
	TAILQ_ENTRY(conn)	 post;		/* in the posted or running list */
	const struct config	*cfg;
	/*
	 * I/O (conn-io.c). Every connection does its own reads and writes on
	 * fd (rev, wev): reads of up to CONN_READ_CHUNK per call where
	 * libevent 2.1's evbuffer_read stops at 4096 bytes, and each batch of
	 * output written at once from the loop instead of arming a write
	 * event per batch. in and out hold the client's bytes as the session
	 * sees them (plaintext); shared empty ones stand in while nothing is
	 * queued. TLS (conn-tls.c): ssl reads records from fd itself and
	 * writes them into wire, which is sent as out is for plain ones.
	 */
	struct ssl_st		*ssl;		/* TLS: NULL for plain */
	struct evbuffer		*wire;		/* TLS: records to send */
	struct evbuffer		*in;
	struct evbuffer		*out;
	struct event		*rev;		/* in this allocation */
	struct event		*wev;
	struct event		*timer;
	struct ws_session	*ws;
	const struct route	*route;
	const struct backend_ops *bops;
	void			*b;
	struct conn_hs		*hs;		/* until open */
	struct conn_extra	*x;		/* NULL: none of it used */
	struct conn_close	*cl;		/* NULL: no close recorded */
	char			*head;		/* the request's bytes, once open */

	unsigned long long	 t_start;
	uint64_t		 msgs_in, msgs_out, bytes_in, bytes_out;
	/*
	 * Liveness (conn-live.c): conn_clock when a piece of a data message
	 * last came from the client and last went to it (a store per piece:
	 * nothing more on the hot path; pings and pongs do not count), and
	 * when our last ping went (util_now_us).
	 */
	uint32_t		 in_s, out_s;
	unsigned long long	 ping_us;
	size_t			 mem;		/* counted in conn-mem.c */
	int			 fd;
	int			 timeout;	/* send timeout, s (Timeout field) */
	uint32_t		 open_ms;	/* opened, ms after t_start */
	uint32_t		 read_high;	/* 0: unlimited */
	uint32_t		 write_low;
	uint32_t		 line_len;	/* a half-passed line's bytes */
	uint32_t		 head_len;
	uint16_t		 busy;		/* inside callbacks: defer the free */
	uint16_t		 rport;
	uint16_t		 lport;
	uint8_t			 state;		/* enum conn_state */
	uint8_t			 posted;	/* CONN_POST_* */
	uint8_t			 laddr_off;	/* laddr: raddr + laddr_off */
	bool			 reading:1;	/* rev is added */
	bool			 writing:1;	/* wev is added */
	bool			 opened:1;	/* 101 was sent */
	bool			 tls:1;		/* UseSSL */
	bool			 tls_bye:1;	/* close_notify queued */
	bool			 tls_ready:1;	/* its handshake is done */
	bool			 half_closed:1;	/* our FIN is out */
	bool			 proxy_trusted:1;	/* in ProxyTrustedClients */
	bool			 proxy_done:1;	/* PROXY header taken (or none due) */
	bool			 paused_backend:1;
	bool			 paused_output:1;
	bool			 dead:1;
	bool			 paused_admin:1;	/* AcceptData off (admin pause) */
	bool			 line_mode:1;	/* LineMode (admin linemode) */
	bool			 line_open:1;	/* a line is half passed on */
	bool			 announced:1;	/* open hooks and counters done */
	bool			 backend_msg_open:1;	/* a backend message is half sent */
	bool			 timeout_set:1;	/* Timeout set (admin, backend) */
	bool			 ping_out:1;	/* a ping of ours awaits its pong */
	bool			 line_cut:1;	/* LineMode: this line hit MaxLineLength */
	bool			 client_counted:1;	/* holds a per-client place */
	char			 id[CONN_ID_MAX];	/* [NODE:]number */
	/* Remote, then local address; INET6_ADDRSTRLEN each with PROXY. */
	char			 raddr[];
};

/*
 * A setting in force for c: its own (conn_extra.own), else its route's
 * (route >= 0), else the global one.
 */
static inline int
conn_own(const struct conn *c, enum conn_own which, int route, int global)
{
	if (c->x != NULL && (c->x->own_set & (1u << which)))
		return c->x->own[which];
	return route >= 0 ? route : global;
}

/* The connection's rarely used parts, made on first use. */
static inline struct conn_extra *
conn_extra(struct conn *c)
{
	if (c->x == NULL)
		c->x = xcalloc(1, sizeof(*c->x));
	return c->x;
}

/* --------------------------------------------------------------- conn.c */

/* Every connection, oldest first (the registry). */
TAILQ_HEAD(conn_list, conn);
extern struct conn_list	conns;
/*
 * A coarse monotonic clock in seconds (util_now_ms() / 1000), set at each
 * accept and each liveness sweep: what the hot path stamps connections
 * with, without reading a clock.
 */
extern uint32_t		conn_clock;
/* A frame of ours on the stack: c is not freed before conn_leave. */
void	 conn_enter(struct conn *);
/* Leaves a frame; frees c if it died meanwhile (c may be gone after). */
void	 conn_leave(struct conn *);
/*
 * Ends c without a closing handshake, now or once its frames are left:
 * recorded (log, stats, the backend) as code by who with reason; reset:
 * with a TCP reset instead of a FIN.
 */
void	 conn_drop(struct conn *, int code, const char *by, const char *reason,
	    bool reset);


/* ------------------------------------------------------------ conn-mem.c */

/* What conn-mem.c asks of the connections above it. */
struct conn_mem_handlers {
	/*
	 * Over MaxMemory and no progress: end the biggest holder, with a
	 * close frame (conn_close) or at once (conn_drop).
	 */
	void	(*close)(struct conn *, int code, const char *reason);
	void	(*drop)(struct conn *, int code, const char *by,
		    const char *reason, bool reset);
	/* Back under three quarters of it: c reads and refills again. */
	void	(*resume)(struct conn *);
};
void	 conn_mem_set_handlers(const struct conn_mem_handlers *);
/* Recounts what c holds queued (input, output, held, assembling). */
void	 conn_account(struct conn *);
/* c is gone: its bytes leave the count. */
void	 conn_mem_forget(struct conn *);
/* Over MaxMemory now (new connections refused, reading paused). */
bool	 conn_mem_is_over(void);
/* Bytes queued over all connections (the registry's conn_memory). */
size_t	 conn_mem_total(void);

/* ---------------------------------------------------------- conn-lines.c */

/* LineMode: passes a client message's piece on as lines (see there). */
void	 conn_lines(struct conn *, enum ws_msg_type, const uint8_t *,
	    size_t, bool first, bool last);

/* ------------------------------------------------------------- conn-io.c */

/* What conn-io.c tells the connection above it. */
struct conn_io_handlers {
	/* Input is queued in c->in (or a kick was posted): process it. */
	void	(*process)(struct conn *);
	/* Plain, open, nothing queued: n bytes read into a shared buffer. */
	void	(*feed)(struct conn *, uint8_t *, size_t);
	/* The output queue fell to the write low mark. */
	void	(*writable)(struct conn *);
	/*
	 * End of input, an error or the send timeout (BEV_EVENT_* bits); why
	 * is a failed TLS handshake's cause (then already logged), else NULL.
	 */
	void	(*event)(struct conn *, short what, int err, const char *why);
	/* The timer expired. */
	void	(*timer)(struct conn *);
	/* A frame of io's own ends: frees c if it died meanwhile. */
	void	(*leave)(struct conn *);
};
void	 conn_io_set_handlers(const struct conn_io_handlers *);
/*
 * The numeric addresses (INET6_ADDRSTRLEN bytes each) and ports of an
 * accepted socket: the peer's (sa) and ours (an IPv4-mapped IPv6 address
 * as IPv4).
 */
struct sockaddr;
void	 conn_io_addresses(int fd, const struct sockaddr *sa, char *raddr,
	    int *rport, char *laddr, int *lport);
/*
 * The size of the I/O part of a connection's allocation and where it
 * starts, for conn_new: the read event of a plain connection lives there.
 */
size_t	 conn_io_extra_size(bool tls, size_t base, size_t *off);
/* Starts I/O on fd (non-blocking now); ssl: TLS. Returns 0, or -1. */
int	 conn_io_start(struct conn *, int fd, struct ssl_st *ssl, size_t off);
/* Frees the I/O part and closes the socket. */
void	 conn_io_free(struct conn *);
/* The output queue to add to, and the note that bytes were added. */
struct evbuffer	*conn_out(struct conn *);
void	 conn_out_added(struct conn *);
void	 conn_out_add(struct conn *, const void *, size_t);
/* Gives an empty input queue back (a plain connection's). */
void	 conn_in_release(struct conn *);
/* Read or not, as the state and pause flags say. */
void	 conn_update_read(struct conn *);
void	 conn_set_read_high(struct conn *, size_t);
void	 conn_set_write_low(struct conn *, size_t);
/* Send timeout (DefaultTimeout, the Timeout field) of the queue. */
void	 conn_io_set_timeout(struct conn *, int seconds);
/* All sent while draining: TLS close_notify, FIN, linger. */
void	 conn_io_half_close(struct conn *);
/* Work for after this round's callbacks: flush output, process input. */
#define CONN_POST_FLUSH	0x01
#define CONN_POST_KICK	0x02
#define CONN_POST_READ	0x04		/* TLS: records OpenSSL read ahead */
#define CONN_POST_RUN	0x80		/* in the running list */
void	 conn_post(struct conn *, uint8_t);
/* The connection's one timer. */
void	 conn_timer(struct conn *, unsigned long long ms);
void	 conn_timer_stop(struct conn *);
/* Open, plain, paused: look for a hang-up (CONN_HUP_CHECK_MS). */
void	 conn_check_hangup(struct conn *);
/* The OpenSSL session once its handshake is done, else NULL. */
struct ssl_st	*conn_io_ssl(const struct conn *);

/* ------------------------------------------------------------ conn-tls.c */

/*
 * TLS for a connection on fd: OpenSSL reads records from the socket and
 * writes its output into c->wire (conn-io.c sends it). Returns 0, or -1
 * (out of memory: the caller frees ssl).
 */
int	 conn_tls_attach(struct conn *, struct ssl_st *, int fd);
/* Frees the session and the wire queue. */
void	 conn_tls_free(struct conn *);
/*
 * One step of the handshake: 1 done, 0 it waits for the client, -1 it
 * failed: buf says why ("" at a clean EOF), *http when the client spoke
 * plain HTTP.
 */
int	 conn_tls_handshake(struct conn *, char *buf, size_t len, bool *http);
/*
 * Reads up to len bytes of plaintext: their count; 0 when it waits for
 * the client; -1 at the end (close_notify, or EOF); -2 on an error, buf
 * saying which.
 */
ssize_t	 conn_tls_read(struct conn *, void *, size_t, char *buf, size_t);
/* Whether OpenSSL holds read data the socket no longer signals. */
bool	 conn_tls_pending(const struct conn *);
/*
 * Encrypts c->out into c->wire, a record (16 KiB) at a time, while wire
 * holds less than limit. Returns 0, or -1 with buf saying why.
 */
int	 conn_tls_encrypt(struct conn *, size_t limit, char *buf, size_t);
/* Queues close_notify in c->wire (before our FIN). */
void	 conn_tls_shutdown(struct conn *);

/* Bytes waiting for the client: plaintext, and TLS records not sent. */
static inline size_t
conn_out_len(const struct conn *c)
{
	return evbuffer_get_length(c->out) +
	    (c->wire != NULL ? evbuffer_get_length(c->wire) : 0);
}

/* ----------------------------------------------------------- conn-http.c */

/*
 * ProxyProtocol: takes the PROXY header a trusted client must send first
 * (the addresses become the real client's, checked against the
 * per-client limits then), and refuses one from anybody else. Returns 1
 * when done (the client's own bytes follow), 0 to wait for more, -1 to
 * drop the connection, *cause (malloc'd) saying why; a NULL *cause: a
 * per-client limit refused it, and its answer is queued, logged and
 * counted.
 */
int	 conn_proxy_take(struct conn *, char **cause);
/*
 * Plain HTTP on the WebSocket port: HealthPath (before parsing), and the
 * dev console for a GET of a route's path without Upgrade (parsed).
 * Returns the status of the answer it queued, or 0 when it is not one.
 */
int	 conn_plain_http(struct conn *, const char *head, size_t len,
	    bool parsed);
/*
 * WebSockets open on a route of this name (any config generation): a
 * linear walk, made only for routes with a MaxConnections of their own.
 */
unsigned int	 conn_route_count(const struct route *);

/* ---------------------------------------------------------- conn-topic.c */

/* The WebSocket is accepted: the deciders' Subscribe lines are kept. */
void	 conn_hs_topics(struct conn *, const char *hdrs, size_t hlen);
/* It is freed: its topics (if any) are let go. */
void	 conn_topics_free(struct conn *);

/* ----------------------------------------------------------- conn-file.c */

/*
 * Queues a piece of a message for the client through the session and
 * counts a whole message. Returns 0, or -1 when the session refuses it
 * (not open). conn_queued then pauses the producers over the high mark
 * and recounts the memory held.
 */
int	 conn_queue(struct conn *, enum ws_msg_type, const void *, size_t,
	    bool first, bool last);
void	 conn_queued(struct conn *);

/* The admin sendfile in progress, or NULL. */
static inline struct conn_file *
conn_file_get(const struct conn *c)
{
	return c->x != NULL ? c->x->file : NULL;
}

/* Bytes of backend pieces held back (made on first use: most have none). */
static inline size_t
conn_held_len(const struct conn *c)
{
	return c->x != NULL && c->x->held != NULL ?
	    evbuffer_get_length(c->x->held) : 0;
}
void	 conn_file_start(struct conn *, int fd, conn_file_cb, void *);
/* Ends a sendfile and reports it (done callback). */
void	 conn_file_end(struct conn *, enum conn_file_status, int err);
/* Queues file fragments until the client's queue is full or it ends. */
void	 conn_file_pump(struct conn *);
/* Holds a backend piece back while a sendfile runs. */
void	 conn_hold(struct conn *, enum ws_msg_type, const void *, size_t,
	    bool, bool);
/* Sends the held pieces, in order. */
void	 conn_flush_held(struct conn *);
/* After a sendfile ended outside the write callback: go on. */
void	 conn_output_resume(struct conn *);

#endif
