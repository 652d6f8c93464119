/*
 * wsbench.c - a WebSocket load generator for wsserverd and its peers.
 *
 * Built to cost the server, not itself: one epoll loop, frames built and
 * masked once at start-up, every frame a connection owes sent with one
 * write, replies parsed by their header only (payloads are skipped, large
 * ones with MSG_TRUNC so they are never copied), and one clock read per
 * batch of events. It reports its own CPU time and, given the server's
 * pid, the server's (its whole process tree, handlers included).
 *
 * With --tls every connection speaks TLS (OpenSSL, TLS 1.3 unless --tls12)
 * first: non-blocking handshakes in the same loop, then SSL_write of the
 * same pre-built frames and SSL_read into the same parser. In conn mode
 * --resume offers each slot's first session again (tickets), and the
 * report counts the handshakes the server resumed.
 *
 * Modes:
 *	echo	closed loop, -k messages in flight on each of -c connections
 *	rate	-r messages per second over -c connections, latency measured
 *		from each message's scheduled time
 *	conn	-c concurrent cycles of connect, upgrade, one echo, reset
 *	idle	hold -c connections open for -d seconds, answering pings
 *
 * Only 127.0.0.0/8 targets are accepted, and every run ends on its own.
 */

#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT	24
#endif

#define BENCH_MAX_CONNS		100000
#define BENCH_MAX_INFLIGHT	4096
#define BENCH_MAX_SIZE		(256u << 20)
#define BENCH_MAX_SECONDS	3600
#define BENCH_MAX_RATE		10000000
#define BENCH_RATE_RING		64
#define BENCH_SETUP_PARALLEL	256	/* connects + upgrades under way */
#define BENCH_SETUP_SECONDS	60
#define BENCH_RESUME_WAIT	10	/* warm-up's extra time for sessions */
#define BENCH_RESP_MAX		4096
#define BENCH_RECV_BUF		(256 * 1024)
#define BENCH_FBUF_MAX		(4u << 20)
#define BENCH_TRUNC_MIN		(64 * 1024)
#define BENCH_EVENTS		1024
#define BENCH_READS_PER_EVENT	4
#define BENCH_WRITES_PER_FLUSH	64
#define BENCH_PROC_MAX		65536	/* /proc entries read per sample */
#define BENCH_TREE_DEPTH	8
#define BENCH_TLS_READS		64	/* records read per event */
#define BENCH_TLS_READ_BUF	(64 * 1024)
#define BENCH_TLS_WRITE_MAX	(1 << 30)
#define BENCH_KEY		"dGhlIHNhbXBsZSBub25jZQ=="

#define NS			1000000000ULL

/* Log-linear histogram: 16 linear steps per power of two, ~6% wide. */
#define HIST_SUB_BITS		4
#define HIST_SUB		(1u << HIST_SUB_BITS)
#define HIST_BUCKETS		((64 - HIST_SUB_BITS + 1) * HIST_SUB)

enum bench_mode {
	MODE_ECHO,
	MODE_RATE,
	MODE_CONN,
	MODE_IDLE
};

enum conn_state {
	CS_FREE,
	CS_CONNECTING,
	CS_TLS,		/* TLS handshake under way */
	CS_REQUEST,	/* sending the upgrade request */
	CS_UPGRADING,
	CS_OPEN
};

enum bench_phase {
	PH_SETUP,
	PH_WARMUP,
	PH_MEASURE,
	PH_DONE
};

struct conn {
	int		 fd;
	uint8_t		 state;
	bool		 want_out;
	bool		 dirty;
	bool		 in_ctl;	/* collecting a control payload */
	uint8_t		 hlen;		/* header bytes collected */
	uint8_t		 hneed;		/* header bytes this frame has */
	uint8_t		 hdr[14];
	uint8_t		 cur_op;
	bool		 cur_fin;
	uint8_t		 ctl_have;
	uint8_t		 out_ctl_len;
	uint8_t		 out_ctl_off;
	uint8_t		 wretry;	/* TLS: what a refused write held */
	bool		 wr_wants_read;	/* TLS: SSL_write waits for input */
	bool		 rd_wants_write; /* TLS: SSL_read waits for output */
	bool		 again;		/* TLS: on the read-again list */
	uint16_t	 resp_len;
	uint16_t	 req_off;
	uint32_t	 rhead;		/* oldest send stamp in ring */
	uint32_t	 rcount;
	uint64_t	 skip;		/* payload bytes still to pass over */
	uint64_t	 pend;		/* data bytes owed to the socket */
	size_t		 pos;		/* where in fbuf the next byte is */
	uint64_t	 started;	/* conn mode: when the cycle began */
	uint64_t	*ring;		/* send stamps of messages in flight */
	char		*resp;		/* upgrade response being read */
	struct conn	*next_dirty;
	struct conn	*next_again;
	SSL		*ssl;
	SSL_SESSION	*sess;		/* --resume: this slot's first session */
	uint8_t		 ctl[125];
	uint8_t		 out_ctl[131];
};

struct cpu_sample {
	uint64_t	 wall_ns;
	uint64_t	 gen_us;	/* this process, getrusage */
	uint64_t	 srv_ticks;	/* server process tree */
	uint64_t	 sys_ticks;	/* user+nice+system, all CPUs */
	uint64_t	 srv_rss_kb;
};

struct bench {
	/* options */
	enum bench_mode	 mode;
	struct sockaddr_in dst;
	const char	*host;
	const char	*path;
	int		 port;
	unsigned	 conns;
	unsigned	 inflight;
	size_t		 size;
	double		 seconds;
	double		 warmup;
	double		 rate;
	bool		 text;
	bool		 json;
	bool		 deflate;
	pid_t		 srv_pid;
	bool		 tls;
	bool		 tls12;
	bool		 resume;
	const char	*sni;
	const char	*cafile;
	const char	*groups;
	const char	*ciphers;

	/* prepared data */
	char		*req;
	size_t		 req_len;
	uint8_t		*fbuf;		/* whole masked frames, back to back */
	size_t		 fbuf_len;
	size_t		 flen;		/* one frame */
	uint32_t	 ring_size;
	uint8_t		*rbuf;

	/* run state */
	SSL_CTX		*ctx;
	struct conn	*again;		/* TLS: data may wait inside OpenSSL */
	int		 ep;
	struct conn	*c;
	uint64_t	*rings;
	unsigned	*free_stack;
	unsigned	 nfree;
	unsigned	 setting_up;	/* connects and upgrades under way */
	unsigned	 opened;	/* upgrades that completed, ever */
	unsigned	 open_now;
	unsigned	 failed_setup;
	unsigned	 next_src;
	unsigned	 sessions;	/* --resume: slots holding a session */
	struct conn	*dirty;
	enum bench_phase phase;
	uint64_t	 now;
	uint64_t	 phase_end;
	uint64_t	 setup_end;
	uint64_t	 rate_t0;
	uint64_t	 rate_issued;
	unsigned	 rate_rr;
	bool		 measure_started;

	/* counters of the measured window */
	uint64_t	 msgs;
	uint64_t	 handshakes;
	uint64_t	 errors;
	uint64_t	 missed;
	uint64_t	 pings;
	uint64_t	 server_closes;
	uint64_t	 resumed;	/* TLS handshakes the server resumed */
	uint64_t	 hist[HIST_BUCKETS];
	uint64_t	 lat_max;
	uint64_t	 lat_sum;
	struct cpu_sample s0, s1;

	/* what the first TLS handshake negotiated */
	bool		 tls_noted;
	char		 tls_version[16];
	char		 tls_cipher[64];
	char		 tls_group[32];
	char		 tls_key[32];
	char		 tls_sig[32];
};

static volatile sig_atomic_t bench_stop;

static void	bench_conn_fail(struct bench *, struct conn *);
static void	bench_on_readable(struct bench *, struct conn *);
static void	bench_send_request(struct bench *, struct conn *);

/* What a TLS write that had to wait held: it is repeated with the same. */
enum { WR_NONE, WR_CTL, WR_DATA };

/* Records a signal asking the run to end early. */
static void
bench_on_signal(int sig)
{
	(void)sig;
	bench_stop = 1;
}

/* Monotonic time in nanoseconds. */
static uint64_t
bench_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* Histogram bucket of a latency in nanoseconds. */
static unsigned
hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_SUB)
		return (unsigned)v;
	e = 63 - (unsigned)__builtin_clzll(v);
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	    (unsigned)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* Middle of a histogram bucket, in nanoseconds. */
static double
hist_value(unsigned idx)
{
	unsigned e, sub;
	double lo, width;

	if (idx < HIST_SUB)
		return idx;
	e = idx / HIST_SUB + HIST_SUB_BITS - 1;
	sub = idx % HIST_SUB;
	lo = (double)((uint64_t)(HIST_SUB + sub) << (e - HIST_SUB_BITS));
	width = (double)(1ULL << (e - HIST_SUB_BITS));
	return lo + width / 2;
}

/* Latency at quantile q (0..1) in microseconds; 0 with no samples. */
static double
hist_quantile(const struct bench *b, double q)
{
	uint64_t total = 0, want, run = 0;
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		total += b->hist[i];
	if (total == 0)
		return 0;
	want = (uint64_t)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		run += b->hist[i];
		if (run > want)
			return hist_value(i) / 1000.0;
	}
	return (double)b->lat_max / 1000.0;
}

/* Counts one latency sample if the measured window is open. */
static void
bench_record(struct bench *b, uint64_t stamp)
{
	uint64_t lat;

	if (b->phase != PH_MEASURE)
		return;
	lat = b->now > stamp ? b->now - stamp : 0;
	b->hist[hist_index(lat)]++;
	b->lat_sum += lat;
	if (lat > b->lat_max)
		b->lat_max = lat;
	b->msgs++;
}

/* Reads utime+stime+cutime+cstime of one /proc stat file, and its parent. */
static int
proc_stat_ticks(const char *file, uint64_t *ticks, pid_t *ppid, uint64_t *rss)
{
	char buf[1024], *p;
	unsigned long long v[24];
	ssize_t n;
	FILE *f;
	int i;

	if ((f = fopen(file, "re")) == NULL)
		return -1;
	n = (ssize_t)fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold spaces and parentheses: skip to the last. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	/* Fields from 3 (state) on; v[0] is field 4 (ppid). */
	while (*p == ' ')
		p++;
	while (*p != ' ' && *p != '\0')
		p++;
	for (i = 0; i < 21; i++) {
		char *end;

		v[i] = strtoull(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	/* field 14 utime = v[10], 15 stime, 16 cutime, 17 cstime, 24 rss */
	*ticks = v[10] + v[11] + v[12] + v[13];
	if (ppid != NULL)
		*ppid = (pid_t)v[0];
	if (rss != NULL)
		*rss = v[20];
	return 0;
}

/*
 * CPU ticks of a process and every live descendant. Children it has reaped
 * are in its cutime/cstime already, so the sum moves only by CPU spent.
 */
static uint64_t
proc_tree_ticks(pid_t root, uint64_t *rss_pages)
{
	static pid_t pids[BENCH_PROC_MAX], parents[BENCH_PROC_MAX];
	static uint64_t ticks[BENCH_PROC_MAX];
	static bool in_tree[BENCH_PROC_MAX];
	char file[64];
	struct dirent *de;
	uint64_t sum = 0;
	size_t n = 0, i;
	bool grew;
	DIR *d;
	int depth;

	snprintf(file, sizeof(file), "/proc/%d/stat", (int)root);
	if (proc_stat_ticks(file, &sum, NULL, rss_pages) == -1)
		return 0;
	if ((d = opendir("/proc")) == NULL)
		return sum;
	while ((de = readdir(d)) != NULL && n < BENCH_PROC_MAX) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pids[n] = (pid_t)atoi(de->d_name);
		snprintf(file, sizeof(file), "/proc/%d/stat", (int)pids[n]);
		if (proc_stat_ticks(file, &ticks[n], &parents[n], NULL) == -1)
			continue;
		in_tree[n] = pids[n] == root;
		n++;
	}
	closedir(d);
	for (depth = 0; depth < BENCH_TREE_DEPTH; depth++) {
		grew = false;
		for (i = 0; i < n; i++) {
			size_t j;

			if (in_tree[i])
				continue;
			for (j = 0; j < n; j++)
				if (in_tree[j] && pids[j] == parents[i])
					break;
			if (j < n) {
				in_tree[i] = true;
				grew = true;
				sum += ticks[i];
			}
		}
		if (!grew)
			break;
	}
	return sum;
}

/*
 * Busy ticks of every CPU, from /proc/stat: user, nice, system, irq,
 * softirq and steal. Interrupt time counts because a process's own stime
 * includes the softirq work done in its context (loopback TCP), which
 * /proc/stat files under softirq.
 */
static uint64_t
proc_sys_ticks(void)
{
	unsigned long long v[8];
	FILE *f;
	int n;

	if ((f = fopen("/proc/stat", "re")) == NULL)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n != 8)
		return 0;
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

/* Takes the CPU figures that bracket the measured window. */
static void
bench_sample(struct bench *b, struct cpu_sample *s)
{
	struct rusage ru;
	uint64_t rss = 0;

	getrusage(RUSAGE_SELF, &ru);
	s->gen_us = (uint64_t)ru.ru_utime.tv_sec * 1000000 +
	    (uint64_t)ru.ru_utime.tv_usec +
	    (uint64_t)ru.ru_stime.tv_sec * 1000000 +
	    (uint64_t)ru.ru_stime.tv_usec;
	s->srv_ticks = b->srv_pid > 0 ? proc_tree_ticks(b->srv_pid, &rss) : 0;
	s->srv_rss_kb = rss * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
	s->sys_ticks = proc_sys_ticks();
	s->wall_ns = bench_clock();
}

/* Builds the upgrade request and the masked frames every send copies. */
static int
bench_prepare(struct bench *b)
{
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
	uint8_t hdr[14];
	size_t hl = 0, nframes, i;
	int n;

	b->req_len = 512 + strlen(b->path) + strlen(b->host);
	if ((b->req = malloc(b->req_len)) == NULL)
		return -1;
	n = snprintf(b->req, b->req_len,
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s:%d\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: " BENCH_KEY "\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "%s"
	    "\r\n", b->path, b->host, b->port,
	    b->deflate ? "Sec-WebSocket-Extensions: permessage-deflate; "
	    "client_max_window_bits\r\n" : "");
	if (n < 0 || (size_t)n >= b->req_len)
		return -1;
	b->req_len = (size_t)n;

	hdr[hl++] = 0x80 | (b->text ? 0x1 : 0x2);
	if (b->size < 126)
		hdr[hl++] = 0x80 | (uint8_t)b->size;
	else if (b->size <= 0xffff) {
		hdr[hl++] = 0x80 | 126;
		hdr[hl++] = (uint8_t)(b->size >> 8);
		hdr[hl++] = (uint8_t)b->size;
	} else {
		hdr[hl++] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			hdr[hl++] = (uint8_t)((uint64_t)b->size >> (56 - 8 * i));
	}
	memcpy(hdr + hl, mask, 4);
	hl += 4;
	b->flen = hl + b->size;

	switch (b->mode) {
	case MODE_ECHO:
		nframes = b->inflight;
		break;
	case MODE_RATE:
		nframes = b->ring_size;
		break;
	default:
		nframes = 1;
		break;
	}
	if (nframes * b->flen > BENCH_FBUF_MAX)
		nframes = BENCH_FBUF_MAX / b->flen;
	if (nframes == 0)
		nframes = 1;
	b->fbuf_len = nframes * b->flen;
	if ((b->fbuf = malloc(b->fbuf_len)) == NULL)
		return -1;
	memcpy(b->fbuf, hdr, hl);
	/* Printable, no newline: line-oriented script handlers echo it too. */
	for (i = 0; i < b->size; i++)
		b->fbuf[hl + i] = (uint8_t)('a' + i % 26) ^ mask[i % 4];
	for (i = 1; i < nframes; i++)
		memcpy(b->fbuf + i * b->flen, b->fbuf, b->flen);
	return 0;
}

/* Changes which events a connection waits for. */
static void
bench_want_out(struct bench *b, struct conn *c, bool want)
{
	struct epoll_event ev;

	if (c->want_out == want)
		return;
	ev.events = EPOLLIN | (want ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(b->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = want;
}

/* Queues a connection for the end-of-batch flush. */
static void
bench_mark_dirty(struct bench *b, struct conn *c)
{
	if (c->dirty)
		return;
	c->dirty = true;
	c->next_dirty = b->dirty;
	b->dirty = c;
}

/* TLS: the client context every connection's SSL comes from. */
static int
bench_tls_init(struct bench *b)
{
	int v = b->tls12 ? TLS1_2_VERSION : TLS1_3_VERSION;

	if ((b->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_set_min_proto_version(b->ctx, v) != 1 ||
	    SSL_CTX_set_max_proto_version(b->ctx, v) != 1)
		goto fail;
	/* Partial writes: one SSL_write puts one record on the wire. */
	SSL_CTX_set_mode(b->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_options(b->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* One recv may bring many records; reads drain them all. */
	SSL_CTX_set_read_ahead(b->ctx, 1);
	SSL_CTX_set_default_read_buffer_len(b->ctx, BENCH_TLS_READ_BUF);
	/* --resume keeps one session per slot itself. */
	SSL_CTX_set_session_cache_mode(b->ctx, SSL_SESS_CACHE_OFF);
	if (b->groups != NULL &&
	    SSL_CTX_set1_groups_list(b->ctx, b->groups) != 1)
		goto fail;
	if (b->ciphers != NULL && (b->tls12 ?
	    SSL_CTX_set_cipher_list(b->ctx, b->ciphers) :
	    SSL_CTX_set_ciphersuites(b->ctx, b->ciphers)) != 1)
		goto fail;
	if (b->cafile != NULL) {
		if (SSL_CTX_load_verify_locations(b->ctx, b->cafile, NULL) != 1)
			goto fail;
		SSL_CTX_set_verify(b->ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(b->ctx, SSL_VERIFY_NONE, NULL);
	return 0;
fail:
	fprintf(stderr, "wsbench: TLS set-up failed\n");
	ERR_print_errors_fp(stderr);
	return -1;
}

/* TLS: notes what the first completed handshake negotiated. */
static void
bench_tls_note(struct bench *b, SSL *ssl)
{
	const char *group = NULL;
	EVP_PKEY *pk;
	X509 *x;
	int nid, id;

	if (b->tls_noted)
		return;
	b->tls_noted = true;
	snprintf(b->tls_version, sizeof(b->tls_version), "%s",
	    SSL_get_version(ssl));
	snprintf(b->tls_cipher, sizeof(b->tls_cipher), "%s",
	    SSL_get_cipher_name(ssl));
	if ((nid = SSL_get_negotiated_group(ssl)) > 0)
		group = SSL_group_to_name(ssl, nid);
	snprintf(b->tls_group, sizeof(b->tls_group), "%s",
	    group != NULL ? group : "");
	if ((x = SSL_get0_peer_certificate(ssl)) != NULL &&
	    (pk = X509_get0_pubkey(x)) != NULL) {
		id = EVP_PKEY_get_base_id(pk);
		snprintf(b->tls_key, sizeof(b->tls_key), "%s%d",
		    id == EVP_PKEY_EC ? "ec" : id == EVP_PKEY_RSA ? "rsa" :
		    OBJ_nid2sn(id), EVP_PKEY_get_bits(pk));
	}
	if (SSL_get_peer_signature_type_nid(ssl, &nid) == 1)
		snprintf(b->tls_sig, sizeof(b->tls_sig), "%s",
		    OBJ_nid2sn(nid));
}

/* TLS: data may wait inside OpenSSL, where epoll cannot see it. */
static void
bench_tls_again(struct bench *b, struct conn *c)
{
	if (c->again)
		return;
	c->again = true;
	c->next_again = b->again;
	b->again = c;
}

/* --resume: keeps the slot's first resumable session. */
static void
bench_tls_keep(struct bench *b, struct conn *c)
{
	SSL_SESSION *s;

	if (c->sess != NULL || c->ssl == NULL)
		return;
	s = SSL_get1_session(c->ssl);
	if (s != NULL && SSL_SESSION_is_resumable(s)) {
		c->sess = s;
		b->sessions++;
	} else
		SSL_SESSION_free(s);
}

/*
 * Writes to a connection, through TLS when it speaks it. Returns the bytes
 * taken, or -1 with errno EAGAIN when it must wait (c->wr_wants_read then
 * says it waits for input), any other errno when the connection failed.
 */
static ssize_t
bench_write(struct conn *c, const void *p, size_t len)
{
	int n;

	if (c->ssl == NULL)
		return send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (len > BENCH_TLS_WRITE_MAX)
		len = BENCH_TLS_WRITE_MAX;
	ERR_clear_error();
	if ((n = SSL_write(c->ssl, p, (int)len)) > 0)
		return n;
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_READ:
		c->wr_wants_read = true;
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	default:
		errno = ECONNRESET;
		return -1;
	}
}

/*
 * Reads from a connection, through TLS when it speaks it. Returns the
 * bytes read, 0 at the server's end, or -1 with errno (EAGAIN: nothing
 * now; a TLS read that must write first waits for EPOLLOUT).
 */
static ssize_t
bench_read(struct bench *b, struct conn *c, void *p, size_t len)
{
	int n;

	if (c->ssl == NULL)
		return recv(c->fd, p, len, MSG_DONTWAIT);
	if (len > BENCH_TLS_WRITE_MAX)
		len = BENCH_TLS_WRITE_MAX;
	ERR_clear_error();
	if ((n = SSL_read(c->ssl, p, (int)len)) > 0)
		return n;
	switch (SSL_get_error(c->ssl, n)) {
	case SSL_ERROR_WANT_WRITE:
		c->rd_wants_write = true;
		bench_want_out(b, c, true);
		/* FALLTHROUGH */
	case SSL_ERROR_WANT_READ:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		errno = ECONNRESET;
		return -1;
	}
}

/* Queues one more data message on a connection, stamped with its time. */
static bool
bench_queue_msg(struct bench *b, struct conn *c, uint64_t stamp)
{
	if (c->rcount == b->ring_size)
		return false;
	c->ring[(c->rhead + c->rcount) % b->ring_size] = stamp;
	c->rcount++;
	c->pend += b->flen;
	bench_mark_dirty(b, c);
	return true;
}

/* Closes a socket with a reset, so no TIME_WAIT is left behind. */
static void
bench_close_reset(struct bench *b, struct conn *c)
{
	struct linger lg = { 1, 0 };

	if (c->state == CS_OPEN)
		b->open_now--;
	else if (c->state != CS_FREE)
		b->setting_up--;
	if (c->ssl != NULL) {
		/* A reset sends no close_notify; the session stays resumable. */
		SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN |
		    SSL_RECEIVED_SHUTDOWN);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	c->wretry = WR_NONE;
	c->wr_wants_read = c->rd_wants_write = false;
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->fd = -1;
	c->state = CS_FREE;
	free(c->resp);
	c->resp = NULL;
	c->pend = 0;
	c->pos = 0;
	c->rcount = 0;
	c->skip = 0;
	c->hlen = 0;
	c->in_ctl = false;
	c->out_ctl_len = c->out_ctl_off = 0;
	c->want_out = false;
}

/* Gives a connection slot back so the main loop may open it again. */
static void
bench_release(struct bench *b, struct conn *c)
{
	b->free_stack[b->nfree++] = (unsigned)(c - b->c);
}

/* One whole reply arrived; what follows depends on the mode. */
static void
bench_message_done(struct bench *b, struct conn *c)
{
	uint64_t stamp = 0;

	if (c->rcount > 0) {
		stamp = c->ring[c->rhead];
		c->rhead = (c->rhead + 1) % b->ring_size;
		c->rcount--;
	}
	switch (b->mode) {
	case MODE_ECHO:
		bench_record(b, stamp);
		bench_queue_msg(b, c, b->now);
		break;
	case MODE_RATE:
		bench_record(b, stamp);
		break;
	case MODE_CONN:
		if (b->phase == PH_MEASURE) {
			b->handshakes++;
			if (c->ssl != NULL && SSL_session_reused(c->ssl))
				b->resumed++;
		}
		if (b->resume)
			bench_tls_keep(b, c);
		bench_record(b, c->started);
		bench_close_reset(b, c);
		bench_release(b, c);
		break;
	case MODE_IDLE:
		break;
	}
}

/* A control frame's payload is complete: answer pings, note closes. */
static void
bench_control_done(struct bench *b, struct conn *c)
{
	size_t i, len = c->ctl_have;

	if (c->cur_op == 0x9) {
		b->pings++;
		if (c->out_ctl_len != 0)
			return;		/* a pong is still going: skip this one */
		c->out_ctl[0] = 0x8a;
		c->out_ctl[1] = 0x80 | (uint8_t)len;
		memset(c->out_ctl + 2, 0, 4);	/* zero mask: payload as is */
		for (i = 0; i < len; i++)
			c->out_ctl[6 + i] = c->ctl[i];
		c->out_ctl_len = (uint8_t)(6 + len);
		c->out_ctl_off = 0;
		bench_mark_dirty(b, c);
	} else if (c->cur_op == 0x8) {
		b->server_closes++;
		bench_conn_fail(b, c);
	}
}

/* Walks received bytes, reading frame headers and skipping payloads. */
static void
bench_feed(struct bench *b, struct conn *c, const uint8_t *p, size_t len)
{
	while (len > 0 && c->state == CS_OPEN) {
		if (c->skip > 0) {
			size_t n = c->skip < len ? (size_t)c->skip : len;

			if (c->in_ctl) {
				memcpy(c->ctl + c->ctl_have, p, n);
				c->ctl_have += (uint8_t)n;
			}
			c->skip -= n;
			p += n;
			len -= n;
			if (c->skip > 0)
				return;
		} else {
			size_t n;

			if (c->hlen < 2) {
				c->hdr[c->hlen++] = *p++;
				len--;
				if (c->hlen < 2)
					continue;
				c->hneed = 2 + ((c->hdr[1] & 0x7f) == 126 ? 2 :
				    (c->hdr[1] & 0x7f) == 127 ? 8 : 0) +
				    ((c->hdr[1] & 0x80) ? 4 : 0);
			}
			n = (size_t)(c->hneed - c->hlen);
			if (n > len)
				n = len;
			memcpy(c->hdr + c->hlen, p, n);
			c->hlen += (uint8_t)n;
			p += n;
			len -= n;
			if (c->hlen < c->hneed)
				return;
			c->cur_fin = (c->hdr[0] & 0x80) != 0;
			c->cur_op = c->hdr[0] & 0x0f;
			c->skip = c->hdr[1] & 0x7f;
			if (c->skip == 126)
				c->skip = (uint64_t)c->hdr[2] << 8 | c->hdr[3];
			else if (c->skip == 127) {
				int i;

				c->skip = 0;
				for (i = 0; i < 8; i++)
					c->skip = c->skip << 8 | c->hdr[2 + i];
			}
			c->hlen = 0;
			c->in_ctl = (c->cur_op & 0x8) != 0;
			c->ctl_have = 0;
			if (c->in_ctl && c->skip > sizeof(c->ctl)) {
				bench_conn_fail(b, c);
				return;
			}
			if (c->skip > 0)
				continue;
		}
		/* A frame ended. */
		if (c->in_ctl) {
			c->in_ctl = false;
			bench_control_done(b, c);
		} else if (c->cur_fin)
			bench_message_done(b, c);
	}
}

/* Writes what a connection owes: a pending pong, then data frames. */
static void
bench_flush(struct bench *b, struct conn *c)
{
	int i;

	if (c->state != CS_OPEN)
		return;
	for (i = 0; i < BENCH_WRITES_PER_FLUSH; i++) {
		const uint8_t *src;
		size_t want;
		ssize_t n;
		bool ctl;

		/*
		 * A pong may go only between two data frames; a TLS write
		 * that had to wait goes again first, with the same bytes.
		 */
		ctl = c->wretry == WR_CTL || (c->wretry == WR_NONE &&
		    c->out_ctl_off < c->out_ctl_len && c->pos % b->flen == 0);
		if (ctl) {
			src = c->out_ctl + c->out_ctl_off;
			want = (size_t)(c->out_ctl_len - c->out_ctl_off);
		} else if (c->pend > 0) {
			src = b->fbuf + c->pos;
			want = b->fbuf_len - c->pos;
			if (want > c->pend)
				want = (size_t)c->pend;
		} else
			break;
		n = bench_write(c, src, want);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR) {
				if (c->ssl != NULL)
					c->wretry = ctl ? WR_CTL : WR_DATA;
				break;
			}
			bench_conn_fail(b, c);
			return;
		}
		c->wretry = WR_NONE;
		if (ctl) {
			c->out_ctl_off += (uint8_t)n;
			if (c->out_ctl_off == c->out_ctl_len)
				c->out_ctl_off = c->out_ctl_len = 0;
		} else {
			c->pend -= (uint64_t)n;
			c->pos += (size_t)n;
			if (c->pos == b->fbuf_len)
				c->pos = 0;
		}
		/* Short: the socket is full (TLS: one record went out). */
		if ((size_t)n < want && c->ssl == NULL)
			break;
	}
	bench_want_out(b, c, c->rd_wants_write || (!c->wr_wants_read &&
	    (c->pend > 0 || c->out_ctl_len > 0)));
}

/* Handles a failed or lost connection. */
static void
bench_conn_fail(struct bench *b, struct conn *c)
{
	bool setup = c->state != CS_OPEN;

	if (c->state == CS_FREE)
		return;
	if (b->phase == PH_MEASURE || (b->mode != MODE_CONN && setup))
		b->errors++;
	if (setup && b->phase == PH_SETUP)
		b->failed_setup++;
	bench_close_reset(b, c);
	if (b->mode == MODE_CONN)
		bench_release(b, c);
}

/* Starts connecting a free slot; the source address rotates over 127/8. */
static void
bench_open(struct bench *b, struct conn *c)
{
	struct sockaddr_in src;
	struct epoll_event ev;
	int one = 1, fd;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		b->errors++;
		if (b->phase == PH_SETUP)
			b->failed_setup++;
		if (b->mode == MODE_CONN)
			bench_release(b, c);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Ports are then picked per 4-tuple, so each address gets its own. */
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	src.sin_addr.s_addr = htonl(0x7f000001u + b->next_src);
	b->next_src = (b->next_src + 1) % 254;
	bind(fd, (struct sockaddr *)&src, sizeof(src));
	c->fd = fd;
	c->state = CS_CONNECTING;
	c->req_off = 0;
	c->resp_len = 0;
	c->started = b->now;
	c->want_out = true;
	b->setting_up++;
	if (connect(fd, (struct sockaddr *)&b->dst, sizeof(b->dst)) == -1 &&
	    errno != EINPROGRESS) {
		bench_conn_fail(b, c);
		return;
	}
	ev.events = EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(b->ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		bench_conn_fail(b, c);
}

/* The upgrade went through: the connection starts its workload. */
static void
bench_opened(struct bench *b, struct conn *c)
{
	unsigned i;

	c->state = CS_OPEN;
	b->setting_up--;
	b->open_now++;
	b->opened++;
	c->hlen = 0;
	c->skip = 0;
	if (b->mode == MODE_ECHO) {
		for (i = 0; i < b->inflight; i++)
			bench_queue_msg(b, c, b->now);
	} else if (b->mode == MODE_CONN)
		bench_queue_msg(b, c, b->now);
}

/* TLS: takes the handshake a step further; then the upgrade request. */
static void
bench_tls_step(struct bench *b, struct conn *c)
{
	static bool shown;
	int r;

	ERR_clear_error();
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		bench_tls_note(b, c->ssl);
		c->state = CS_REQUEST;
		bench_send_request(b, c);
		return;
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		bench_want_out(b, c, false);
		break;
	case SSL_ERROR_WANT_WRITE:
		bench_want_out(b, c, true);
		break;
	default:
		/* The first failure says why; the counters say how often. */
		if (!shown && ERR_peek_error() != 0) {
			shown = true;
			fprintf(stderr, "wsbench: TLS handshake: %s\n",
			    ERR_reason_error_string(ERR_peek_error()));
		}
		bench_conn_fail(b, c);
		break;
	}
}

/* TLS: the TCP connection is up; the handshake starts. */
static void
bench_tls_start(struct bench *b, struct conn *c)
{
	if ((c->ssl = SSL_new(b->ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		ERR_clear_error();
		bench_conn_fail(b, c);
		return;
	}
	SSL_set_connect_state(c->ssl);
	if (b->sni != NULL) {
		SSL_set_tlsext_host_name(c->ssl, b->sni);
		if (b->cafile != NULL)
			SSL_set1_host(c->ssl, b->sni);
	}
	if (c->sess != NULL)
		SSL_set_session(c->ssl, c->sess);
	c->state = CS_TLS;
	bench_tls_step(b, c);
}

/* Sends (the rest of) the upgrade request, then waits for the answer. */
static void
bench_send_request(struct bench *b, struct conn *c)
{
	struct epoll_event ev;
	ssize_t n;

	n = bench_write(c, b->req + c->req_off, b->req_len - c->req_off);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			bench_conn_fail(b, c);
		else if (c->ssl != NULL)
			bench_want_out(b, c, !c->wr_wants_read);
		return;
	}
	c->req_off += (uint16_t)n;
	if (c->req_off < b->req_len)
		return;
	if ((c->resp = malloc(BENCH_RESP_MAX)) == NULL) {
		bench_conn_fail(b, c);
		return;
	}
	c->state = CS_UPGRADING;
	ev.events = EPOLLIN;
	ev.data.ptr = c;
	if (epoll_ctl(b->ep, EPOLL_CTL_MOD, c->fd, &ev) == -1) {
		bench_conn_fail(b, c);
		return;
	}
	c->want_out = false;
	if (c->ssl != NULL && SSL_has_pending(c->ssl))
		bench_tls_again(b, c);
}

/* Connection writable: finish connecting, send the upgrade, or flush. */
static void
bench_on_writable(struct bench *b, struct conn *c)
{
	socklen_t sl;
	int err = 0;

	if (c->rd_wants_write) {
		c->rd_wants_write = false;
		bench_on_readable(b, c);
		if (c->state == CS_FREE)
			return;
	}
	switch (c->state) {
	case CS_OPEN:
		bench_flush(b, c);
		return;
	case CS_TLS:
		bench_tls_step(b, c);
		return;
	case CS_CONNECTING:
		sl = sizeof(err);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1 ||
		    err != 0) {
			bench_conn_fail(b, c);
			return;
		}
		if (b->tls) {
			bench_tls_start(b, c);
			return;
		}
		c->state = CS_REQUEST;
		break;
	case CS_REQUEST:
		break;
	default:
		return;
	}
	bench_send_request(b, c);
}

/*
 * Reads the upgrade response; bytes after it are the first frames.
 * Returns true when it read bytes and the response is not complete yet.
 */
static bool
bench_read_upgrade(struct bench *b, struct conn *c)
{
	char *end;
	size_t hl, rest;
	ssize_t n;

	n = bench_read(b, c, c->resp + c->resp_len,
	    BENCH_RESP_MAX - 1 - c->resp_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	if (n <= 0) {
		bench_conn_fail(b, c);
		return false;
	}
	c->resp_len += (uint16_t)n;
	c->resp[c->resp_len] = '\0';
	end = memmem(c->resp, c->resp_len, "\r\n\r\n", 4);
	if (end == NULL) {
		if (c->resp_len >= BENCH_RESP_MAX - 1) {
			bench_conn_fail(b, c);
			return false;
		}
		return true;
	}
	if (strncmp(c->resp, "HTTP/1.1 101", 12) != 0) {
		bench_conn_fail(b, c);
		return false;
	}
	hl = (size_t)(end + 4 - c->resp);
	rest = c->resp_len - hl;
	if (rest > 0)
		memcpy(b->rbuf, c->resp + hl, rest);
	free(c->resp);
	c->resp = NULL;
	bench_opened(b, c);
	if (rest > 0)
		bench_feed(b, c, b->rbuf, rest);
	return false;
}

/*
 * TLS: reads records until OpenSSL has no more (a bounded number); data
 * left inside OpenSSL puts the connection on the read-again list.
 */
static void
bench_tls_read(struct bench *b, struct conn *c)
{
	ssize_t n;
	int i;

	for (i = 0; i < BENCH_TLS_READS && c->state == CS_UPGRADING; i++)
		if (!bench_read_upgrade(b, c))
			break;
	for (; i < BENCH_TLS_READS && c->state == CS_OPEN; i++) {
		n = bench_read(b, c, b->rbuf, BENCH_RECV_BUF);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			if (n == 0)
				b->server_closes++;
			bench_conn_fail(b, c);
			return;
		}
		bench_feed(b, c, b->rbuf, (size_t)n);
	}
	if ((c->state == CS_OPEN || c->state == CS_UPGRADING) &&
	    SSL_has_pending(c->ssl))
		bench_tls_again(b, c);
}

/* Connection readable: replies, pings, or the server going away. */
static void
bench_on_readable(struct bench *b, struct conn *c)
{
	ssize_t n;
	int i;

	if (c->ssl != NULL) {
		if (c->wr_wants_read) {
			c->wr_wants_read = false;
			if (c->state == CS_REQUEST) {
				bench_send_request(b, c);
				return;
			}
			bench_mark_dirty(b, c);
		}
		if (c->state == CS_TLS)
			bench_tls_step(b, c);
		else
			bench_tls_read(b, c);
		return;
	}
	if (c->state == CS_UPGRADING) {
		bench_read_upgrade(b, c);
		return;
	}
	for (i = 0; i < BENCH_READS_PER_EVENT && c->state == CS_OPEN; i++) {
		if (c->skip >= BENCH_TRUNC_MIN && !c->in_ctl) {
			size_t want = c->skip > (1u << 30) ? (1u << 30) :
			    (size_t)c->skip;

			/* TCP discards the bytes without copying them. */
			n = recv(c->fd, NULL, want, MSG_TRUNC | MSG_DONTWAIT);
			if (n > 0) {
				c->skip -= (uint64_t)n;
				if (c->skip == 0 && c->cur_fin)
					bench_message_done(b, c);
				if ((size_t)n < want)
					break;
				continue;
			}
		} else
			n = recv(c->fd, b->rbuf, BENCH_RECV_BUF, MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			if (n == 0)
				b->server_closes++;
			bench_conn_fail(b, c);
			return;
		}
		bench_feed(b, c, b->rbuf, (size_t)n);
		if ((size_t)n < BENCH_RECV_BUF)
			break;
	}
}

/* Issues the messages the fixed rate says are due by now. */
static void
bench_rate_tick(struct bench *b)
{
	uint64_t due;
	unsigned tries;

	if (b->phase != PH_WARMUP && b->phase != PH_MEASURE)
		return;
	due = (uint64_t)((double)(b->now - b->rate_t0) * b->rate / 1e9);
	while (b->rate_issued < due) {
		uint64_t stamp = b->rate_t0 +
		    (uint64_t)((double)b->rate_issued * 1e9 / b->rate);
		struct conn *c = NULL;

		for (tries = 0; tries < b->conns; tries++) {
			c = &b->c[b->rate_rr];
			b->rate_rr = (b->rate_rr + 1) % b->conns;
			if (c->state == CS_OPEN)
				break;
			c = NULL;
		}
		b->rate_issued++;
		if (c == NULL || !bench_queue_msg(b, c, stamp)) {
			if (b->phase == PH_MEASURE)
				b->missed++;
		}
	}
}

/* Nanoseconds the loop may sleep before something is due. */
static uint64_t
bench_sleep_ns(struct bench *b)
{
	uint64_t until = b->phase_end, next;

	if (b->again != NULL)
		return 0;
	if (b->phase == PH_SETUP)
		until = b->setup_end;
	else if (b->phase == PH_WARMUP && b->resume && until <= b->now)
		until = b->phase_end + (uint64_t)BENCH_RESUME_WAIT * NS;
	if (b->mode == MODE_RATE &&
	    (b->phase == PH_WARMUP || b->phase == PH_MEASURE)) {
		next = b->rate_t0 +
		    (uint64_t)((double)(b->rate_issued + 1) * 1e9 / b->rate);
		if (next < until)
			until = next;
	}
	if (until <= b->now)
		return 0;
	if (until - b->now > NS / 10)
		return NS / 10;
	return until - b->now;
}

/* Moves between setup, warm-up, measurement and the end. */
static void
bench_phase_step(struct bench *b)
{
	if (b->phase == PH_SETUP) {
		bool done;

		if (b->mode == MODE_CONN)
			done = true;
		else
			done = b->opened + b->failed_setup >= b->conns ||
			    b->now >= b->setup_end;
		if (!done && !bench_stop)
			return;
		if (b->mode == MODE_IDLE) {
			printf("ready %u %u\n", b->open_now, b->failed_setup);
			fflush(stdout);
		}
		b->phase = PH_WARMUP;
		b->phase_end = b->now + (uint64_t)(b->warmup * 1e9);
		b->rate_t0 = b->now;
		b->rate_issued = 0;
	}
	/*
	 * --resume: the window opens once every slot holds a session (or
	 * after a bounded wait), so it measures resumption attempts only.
	 */
	if (b->phase == PH_WARMUP && b->resume && b->sessions < b->conns &&
	    b->now >= b->phase_end && !bench_stop &&
	    b->now < b->phase_end + (uint64_t)BENCH_RESUME_WAIT * NS)
		return;
	if (b->phase == PH_WARMUP && (b->now >= b->phase_end || bench_stop)) {
		if (bench_stop) {
			b->phase = PH_DONE;
			return;
		}
		b->phase = PH_MEASURE;
		bench_sample(b, &b->s0);
		b->measure_started = true;
		b->now = b->s0.wall_ns;
		b->phase_end = b->now + (uint64_t)(b->seconds * 1e9);
	}
	if (b->phase == PH_MEASURE && (b->now >= b->phase_end || bench_stop)) {
		bench_sample(b, &b->s1);
		b->phase = PH_DONE;
	}
}

/* Opens slots from the free stack, a bounded number at a time. */
static void
bench_fill(struct bench *b)
{
	if (b->phase == PH_DONE)
		return;
	if (b->mode != MODE_CONN && b->phase != PH_SETUP)
		return;
	while (b->nfree > 0 && b->setting_up < BENCH_SETUP_PARALLEL)
		bench_open(b, &b->c[b->free_stack[--b->nfree]]);
}

/* The event loop: one clock read per batch, flushes at the batch's end. */
static int
bench_run(struct bench *b)
{
	struct epoll_event *evs;
	struct timespec ts;
	unsigned i;
	int n, k;

	if ((evs = calloc(BENCH_EVENTS, sizeof(*evs))) == NULL)
		return -1;
	b->now = bench_clock();
	b->setup_end = b->now + (uint64_t)BENCH_SETUP_SECONDS * NS +
	    (uint64_t)b->conns * NS / 1000;
	for (i = 0; i < b->conns; i++)
		b->free_stack[b->nfree++] = b->conns - 1 - i;
	while (b->phase != PH_DONE) {
		uint64_t sleep_ns;

		bench_fill(b);
		sleep_ns = bench_sleep_ns(b);
		ts.tv_sec = (time_t)(sleep_ns / NS);
		ts.tv_nsec = (long)(sleep_ns % NS);
		n = epoll_pwait2(b->ep, evs, BENCH_EVENTS, &ts, NULL);
		if (n == -1 && errno == ENOSYS)
			n = epoll_wait(b->ep, evs, BENCH_EVENTS,
			    (int)((sleep_ns + 999999) / 1000000));
		if (n == -1 && errno != EINTR) {
			perror("wsbench: epoll_wait");
			free(evs);
			return -1;
		}
		b->now = bench_clock();
		for (k = 0; k < n; k++) {
			struct conn *c = evs[k].data.ptr;
			uint32_t e = evs[k].events;

			if (c->state == CS_FREE)
				continue;
			if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
				bench_on_readable(b, c);
			if ((e & (EPOLLOUT | EPOLLERR)) && c->state != CS_FREE)
				bench_on_writable(b, c);
		}
		/* TLS records OpenSSL read ahead: epoll will not tell. */
		if (b->again != NULL) {
			struct conn *c = b->again;

			b->again = NULL;
			while (c != NULL) {
				struct conn *next = c->next_again;

				c->again = false;
				if (c->ssl != NULL && (c->state == CS_OPEN ||
				    c->state == CS_UPGRADING))
					bench_on_readable(b, c);
				c = next;
			}
		}
		if (b->mode == MODE_RATE)
			bench_rate_tick(b);
		while (b->dirty != NULL) {
			struct conn *c = b->dirty;

			b->dirty = c->next_dirty;
			c->dirty = false;
			bench_flush(b, c);
		}
		bench_phase_step(b);
	}
	free(evs);
	return 0;
}

/* Prints the result: one JSON line, or a few lines for people. */
static void
bench_report(struct bench *b)
{
	static const char *const names[] = { "echo", "rate", "conn", "idle" };
	double secs = 0, gen = 0, srv = 0, sys = 0, other, hz;
	double per_msg = 0, per_hs = 0, mean = 0;

	hz = (double)sysconf(_SC_CLK_TCK);
	if (b->measure_started && b->s1.wall_ns > b->s0.wall_ns) {
		secs = (double)(b->s1.wall_ns - b->s0.wall_ns) / 1e9;
		gen = (double)(b->s1.gen_us - b->s0.gen_us) / 1e6;
		srv = (double)(b->s1.srv_ticks - b->s0.srv_ticks) / hz;
		sys = (double)(b->s1.sys_ticks - b->s0.sys_ticks) / hz;
	}
	other = sys - gen - srv;
	if (other < 0)
		other = 0;
	if (b->msgs > 0) {
		per_msg = srv * 1e6 / (double)b->msgs;
		mean = (double)b->lat_sum / (double)b->msgs / 1000.0;
	}
	if (b->handshakes > 0)
		per_hs = srv * 1e6 / (double)b->handshakes;
	if (b->json) {
		printf("{\"mode\":\"%s\",\"conns\":%u,\"inflight\":%u,"
		    "\"size\":%zu,\"rate\":%.0f,\"seconds\":%.3f,"
		    "\"connected\":%u,\"setup_failed\":%u,"
		    "\"msgs\":%" PRIu64 ",\"msgs_per_s\":%.1f,"
		    "\"bytes_per_s\":%.1f,\"handshakes\":%" PRIu64 ","
		    "\"handshakes_per_s\":%.1f,\"errors\":%" PRIu64 ","
		    "\"missed\":%" PRIu64 ",\"pings\":%" PRIu64 ","
		    "\"server_closes\":%" PRIu64 ","
		    "\"lat_us\":{\"mean\":%.2f,\"p50\":%.2f,\"p90\":%.2f,"
		    "\"p99\":%.2f,\"p999\":%.2f,\"max\":%.2f},"
		    "\"gen_cpu_s\":%.3f,\"server_cpu_s\":%.3f,"
		    "\"sys_cpu_s\":%.3f,\"other_cpu_s\":%.3f,"
		    "\"server_rss_kb\":%" PRIu64 ","
		    "\"server_cpu_per_msg_us\":%.4f,"
		    "\"server_cpu_per_hs_us\":%.2f,"
		    "\"tls\":%d,\"tls_resumed\":%" PRIu64 ","
		    "\"tls_version\":\"%s\",\"tls_cipher\":\"%s\","
		    "\"tls_group\":\"%s\",\"tls_key\":\"%s\","
		    "\"tls_sig\":\"%s\"}\n",
		    names[b->mode], b->conns, b->inflight, b->size, b->rate,
		    secs, b->opened, b->failed_setup, b->msgs,
		    secs > 0 ? (double)b->msgs / secs : 0,
		    secs > 0 ? (double)b->msgs * (double)b->size / secs : 0,
		    b->handshakes,
		    secs > 0 ? (double)b->handshakes / secs : 0,
		    b->errors, b->missed, b->pings, b->server_closes, mean,
		    hist_quantile(b, 0.5), hist_quantile(b, 0.9),
		    hist_quantile(b, 0.99), hist_quantile(b, 0.999),
		    (double)b->lat_max / 1000.0, gen, srv, sys, other,
		    b->s1.srv_rss_kb, per_msg, per_hs, b->tls ? 1 : 0,
		    b->resumed, b->tls_version, b->tls_cipher, b->tls_group,
		    b->tls_key, b->tls_sig);
	} else {
		printf("mode %s: %u connections, %u in flight, %zu B, "
		    "%.2f s measured\n", names[b->mode], b->conns,
		    b->inflight, b->size, secs);
		printf("  connected %u (setup failures %u), errors %" PRIu64
		    ", server closes %" PRIu64 ", missed %" PRIu64 "\n",
		    b->opened, b->failed_setup, b->errors, b->server_closes,
		    b->missed);
		if (secs > 0)
			printf("  %.0f msgs/s, %.1f MB/s, %.0f handshakes/s\n",
			    (double)b->msgs / secs,
			    (double)b->msgs * (double)b->size / secs / 1e6,
			    (double)b->handshakes / secs);
		printf("  latency us: mean %.1f p50 %.1f p99 %.1f p99.9 %.1f "
		    "max %.1f\n", mean, hist_quantile(b, 0.5),
		    hist_quantile(b, 0.99), hist_quantile(b, 0.999),
		    (double)b->lat_max / 1000.0);
		if (b->tls)
			printf("  tls: %s %s, group %s, server key %s (%s); "
			    "%" PRIu64 " of %" PRIu64 " handshakes resumed\n",
			    b->tls_version, b->tls_cipher, b->tls_group,
			    b->tls_key, b->tls_sig, b->resumed, b->handshakes);
		printf("  cpu s: generator %.3f, server %.3f, all busy %.3f "
		    "(other %.3f)\n", gen, srv, sys, other);
		if (b->srv_pid > 0)
			printf("  server cpu: %.3f us/msg, %.1f us/handshake\n",
			    per_msg, per_hs);
	}
	fflush(stdout);
}

/* Explains the command line. */
static void
bench_usage(void)
{
	fprintf(stderr,
	    "usage: wsbench [-m echo|rate|conn|idle] [-h host] [-p port] "
	    "[-u path]\n"
	    "               [-c conns] [-k inflight] [-s size] [-d seconds] "
	    "[-w warmup]\n"
	    "               [-r rate] [-P server-pid] [--text|--binary] "
	    "[--deflate] [--json]\n"
	    "               [--tls] [--tls12] [--resume] [--sni name] "
	    "[--cafile file]\n"
	    "               [--groups list] [--ciphers list]\n");
}

/* Reads a bounded number option; exits the program on a bad one. */
static double
bench_num(const char *opt, const char *arg, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "wsbench: %s wants a number from %g to %g\n",
		    opt, lo, hi);
		return -1;
	}
	return v;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "text", no_argument, NULL, 'T' },
		{ "binary", no_argument, NULL, 'B' },
		{ "json", no_argument, NULL, 'J' },
		{ "deflate", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'H' },
		{ "tls", no_argument, NULL, 'S' },
		{ "tls12", no_argument, NULL, '2' },
		{ "resume", no_argument, NULL, 'R' },
		{ "sni", required_argument, NULL, 'N' },
		{ "cafile", required_argument, NULL, 'A' },
		{ "groups", required_argument, NULL, 'G' },
		{ "ciphers", required_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench *b;
	struct sigaction sa;
	struct rlimit rl;
	double v;
	unsigned i;
	int ch, rc = 1;
	bool warm_set = false;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return 1;
	b->mode = MODE_ECHO;
	b->host = "127.0.0.1";
	b->port = 8080;
	b->path = "/";
	b->conns = 100;
	b->inflight = 1;
	b->size = 64;
	b->seconds = 10;
	b->warmup = 1;
	b->rate = 10000;
	while ((ch = getopt_long(argc, argv, "h:p:u:c:k:s:d:w:r:m:P:",
	    longopts, NULL)) != -1) {
		v = 0;
		switch (ch) {
		case 'h':
			b->host = optarg;
			break;
		case 'p':
			v = bench_num("-p", optarg, 1, 65535);
			b->port = (int)v;
			break;
		case 'u':
			b->path = optarg;
			break;
		case 'c':
			v = bench_num("-c", optarg, 1, BENCH_MAX_CONNS);
			b->conns = (unsigned)v;
			break;
		case 'k':
			v = bench_num("-k", optarg, 1, BENCH_MAX_INFLIGHT);
			b->inflight = (unsigned)v;
			break;
		case 's':
			v = bench_num("-s", optarg, 0, BENCH_MAX_SIZE);
			b->size = (size_t)v;
			break;
		case 'd':
			v = bench_num("-d", optarg, 0.01, BENCH_MAX_SECONDS);
			b->seconds = v;
			break;
		case 'w':
			v = bench_num("-w", optarg, 0, BENCH_MAX_SECONDS);
			b->warmup = v;
			warm_set = true;
			break;
		case 'r':
			v = bench_num("-r", optarg, 1, BENCH_MAX_RATE);
			b->rate = v;
			break;
		case 'P':
			v = bench_num("-P", optarg, 1, 4194304);
			b->srv_pid = (pid_t)v;
			break;
		case 'm':
			if (strcmp(optarg, "echo") == 0)
				b->mode = MODE_ECHO;
			else if (strcmp(optarg, "rate") == 0)
				b->mode = MODE_RATE;
			else if (strcmp(optarg, "conn") == 0)
				b->mode = MODE_CONN;
			else if (strcmp(optarg, "idle") == 0)
				b->mode = MODE_IDLE;
			else
				v = -1;
			break;
		case 'T':
			b->text = true;
			break;
		case 'B':
			b->text = false;
			break;
		case 'J':
			b->json = true;
			break;
		case 'D':
			b->deflate = true;
			break;
		case '2':
			b->tls12 = true;
			break;
		case 'R':
			b->resume = true;
			break;
		case 'N':
			b->sni = optarg;
			break;
		case 'A':
			b->cafile = optarg;
			break;
		case 'G':
			b->groups = optarg;
			break;
		case 'C':
			b->ciphers = optarg;
			break;
		case 'S':
			b->tls = true;
			break;
		default:
			v = -1;
			break;
		}
		if (v < 0) {
			bench_usage();
			goto out;
		}
	}
	if (optind != argc) {
		bench_usage();
		goto out;
	}
	if (b->mode == MODE_IDLE && !warm_set)
		b->warmup = 0;
	/* Every TLS option implies --tls. */
	if (b->tls12 || b->resume || b->sni != NULL || b->cafile != NULL ||
	    b->groups != NULL || b->ciphers != NULL)
		b->tls = true;
	if (b->resume && b->mode != MODE_CONN) {
		fprintf(stderr, "wsbench: --resume is for -m conn\n");
		goto out;
	}
	b->dst.sin_family = AF_INET;
	b->dst.sin_port = htons((uint16_t)b->port);
	if (strcmp(b->host, "localhost") == 0)
		b->host = "127.0.0.1";
	if (inet_pton(AF_INET, b->host, &b->dst.sin_addr) != 1 ||
	    (ntohl(b->dst.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "wsbench: -h must be an address in "
		    "127.0.0.0/8\n");
		goto out;
	}
	b->ring_size = b->mode == MODE_ECHO ? b->inflight :
	    b->mode == MODE_RATE ? (b->inflight > BENCH_RATE_RING ?
	    b->inflight : BENCH_RATE_RING) : 1;

	/* Every connection needs a descriptor; ask for what the cap allows. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)b->conns + 16) {
		fprintf(stderr, "wsbench: %u connections need %u descriptors, "
		    "the limit is %lu: run several wsbench processes\n",
		    b->conns, b->conns + 16, (unsigned long)rl.rlim_cur);
		goto out;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = bench_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);

	if (b->tls && bench_tls_init(b) == -1)
		goto out;
	if (bench_prepare(b) == -1 ||
	    (b->rbuf = malloc(BENCH_RECV_BUF)) == NULL ||
	    (b->c = calloc(b->conns, sizeof(*b->c))) == NULL ||
	    (b->rings = calloc((size_t)b->conns * b->ring_size,
	    sizeof(*b->rings))) == NULL ||
	    (b->free_stack = calloc(b->conns, sizeof(*b->free_stack))) ==
	    NULL) {
		fprintf(stderr, "wsbench: out of memory\n");
		goto out;
	}
	for (i = 0; i < b->conns; i++) {
		b->c[i].fd = -1;
		b->c[i].ring = b->rings + (size_t)i * b->ring_size;
	}
	if ((b->ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("wsbench: epoll_create1");
		goto out;
	}
	if (bench_run(b) == 0) {
		bench_report(b);
		rc = 0;
	}
	for (i = 0; i < b->conns; i++)
		if (b->c[i].state != CS_FREE)
			bench_close_reset(b, &b->c[i]);
	close(b->ep);
out:
	if (b->c != NULL)
		for (i = 0; i < b->conns; i++) {
			free(b->c[i].resp);
			SSL_SESSION_free(b->c[i].sess);
		}
	SSL_CTX_free(b->ctx);
	free(b->c);
	free(b->rings);
	free(b->free_stack);
	free(b->rbuf);
	free(b->fbuf);
	free(b->req);
	free(b);
	return rc;
}
