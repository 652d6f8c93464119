/*
 * fanout.c - the subscribers of the fan-out benchmark (tests/bench/fanout).
 *
 *   fanout -p PORT -c CONNS -u PREFIX [-t TOPICS] [-d SECONDS] [-h HOST]
 *
 * Opens CONNS WebSockets to ws://HOST:PORT/PREFIX<k>, k = i % TOPICS (the
 * route's Subscribe turns the path into the topic), prints "ready N" once
 * they are open (or refused), then reads messages until SIGTERM or
 * SECONDS (setup has two minutes). A text
 * message "S SEQ NS ..." (NS: the publisher's CLOCK_REALTIME in ns) is
 * counted for SEQ, with the time of its first and last arrival. At the
 * end it prints "total N" and, for every SEQ seen, "SEQ COUNT FIRST LAST"
 * (ns). One epoll loop; only 127.0.0.0/8 targets.
 */
#include <sys/types.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXSEQ		(1 << 21)
#define BUFSZ		4096		/* messages here are small */

struct fc {
	int		 fd;
	int		 state;		/* 0 connecting/handshake, 1 open */
	uint8_t		*buf;
	size_t		 len;
};

static volatile sig_atomic_t	 stop;
static uint32_t			*seq_count;
static uint64_t			*seq_first, *seq_last;
static uint64_t			 total;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One message's payload: counted by its sequence number. */
static void
fc_message(const uint8_t *p, size_t n, uint64_t t)
{
	char		 head[64];
	unsigned long	 seq;
	size_t		 k = n < sizeof(head) - 1 ? n : sizeof(head) - 1;

	total++;
	memcpy(head, p, k);
	head[k] = '\0';
	if (head[0] != 'S' || sscanf(head + 1, "%lu", &seq) != 1 ||
	    seq >= MAXSEQ)
		return;
	if (seq_count[seq]++ == 0)
		seq_first[seq] = t;
	seq_last[seq] = t;
}

/* Frames in c's buffer: whole unmasked server frames, taken off. */
static int
fc_frames(struct fc *c, uint64_t t)
{
	size_t		 off = 0, h, n;
	uint8_t		*b = c->buf;

	for (;;) {
		if (c->len - off < 2)
			break;
		n = b[off + 1] & 0x7f;
		h = 2;
		if (n == 126) {
			if (c->len - off < 4)
				break;
			n = (size_t)b[off + 2] << 8 | b[off + 3];
			h = 4;
		} else if (n == 127) {
			if (c->len - off < 10)
				break;
			n = 0;
			for (int i = 0; i < 8; i++)
				n = n << 8 | b[off + 2 + i];
			h = 10;
		}
		if (n + h > BUFSZ)
			return -1;
		if (c->len - off < h + n)
			break;
		if ((b[off] & 0x0f) == 8)
			return -1;		/* close */
		if ((b[off] & 0x0f) == 1)
			fc_message(b + off + h, n, t);
		off += h + n;
	}
	memmove(b, b + off, c->len - off);
	c->len -= off;
	return 0;
}

int
main(int argc, char **argv)
{
	const char		*host = "127.0.0.1", *prefix = "/b/";
	struct sockaddr_in	 sin;
	struct epoll_event	 ev, evs[256];
	struct rlimit		 rl;
	struct fc		*cs;
	char			 req[512];
	uint64_t		 t;
	time_t			 until;
	int			 port = 0, conns = 0, topics = 1, secs = 600;
	int			 ep, i, n, ch, open = 0, failed = 0, ready = 0;
	ssize_t			 r;
	char			*e;

	while ((ch = getopt(argc, argv, "p:c:u:t:d:h:")) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'c': conns = atoi(optarg); break;
		case 'u': prefix = optarg; break;
		case 't': topics = atoi(optarg); break;
		case 'd': secs = atoi(optarg); break;
		case 'h': host = optarg; break;
		default:
			fprintf(stderr, "usage: fanout -p PORT -c CONNS -u "
			    "PREFIX [-t TOPICS] [-d SECONDS] [-h HOST]\n");
			return 2;
		}
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (port == 0 || conns <= 0 || topics <= 0 ||
	    inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    (ntohl(sin.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "fanout: a 127.0.0.0/8 host, a port and "
		    "conns are needed\n");
		return 2;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	seq_count = calloc(MAXSEQ, sizeof(*seq_count));
	seq_first = calloc(MAXSEQ, sizeof(*seq_first));
	seq_last = calloc(MAXSEQ, sizeof(*seq_last));
	cs = calloc((size_t)conns, sizeof(*cs));
	if (seq_count == NULL || seq_first == NULL || seq_last == NULL ||
	    cs == NULL)
		return 1;
	ep = epoll_create1(0);
	until = time(NULL) + 120;
	for (i = 0; i < conns; i++) {
		struct fc	*c = &cs[i];

		c->buf = malloc(BUFSZ);
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		if (c->buf == NULL || c->fd == -1 || connect(c->fd,
		    (struct sockaddr *)&sin, sizeof(sin)) == -1) {
			fprintf(stderr, "fanout: connect %d: %s\n", i,
			    strerror(errno));
			return 1;
		}
		n = snprintf(req, sizeof(req), "GET %s%d HTTP/1.1\r\nHost: "
		    "%s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
		    "Sec-WebSocket-Version: 13\r\n\r\n", prefix, i % topics,
		    host, port);
		if (write(c->fd, req, (size_t)n) != n)
			return 1;
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
	}
	while (!stop) {
		if (!ready && open + failed == conns) {
			printf("ready %d %d\n", open, failed);
			fflush(stdout);
			ready = 1;
			until = time(NULL) + secs;
		}
		if (time(NULL) > until)
			break;
		n = epoll_wait(ep, evs, 256, 200);
		t = now_ns();
		for (i = 0; i < n; i++) {
			struct fc	*c = evs[i].data.ptr;

			r = read(c->fd, c->buf + c->len, BUFSZ - c->len);
			if (r <= 0) {
				if (r == -1 && errno == EAGAIN)
					continue;
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				if (c->state == 0)
					failed++;
				continue;
			}
			c->len += (size_t)r;
			if (c->state == 0) {
				c->buf[c->len < BUFSZ ? c->len : BUFSZ - 1] =
				    '\0';
				if ((e = strstr((char *)c->buf, "\r\n\r\n")) ==
				    NULL)
					continue;
				if (strncmp((char *)c->buf, "HTTP/1.1 101", 12)
				    != 0) {
					failed++;
					epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
					close(c->fd);
					continue;
				}
				c->state = 1;
				open++;
				e += 4;
				c->len -= (size_t)(e - (char *)c->buf);
				memmove(c->buf, e, c->len);
			}
			if (fc_frames(c, t) == -1) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
			}
		}
	}
	printf("total %llu\n", (unsigned long long)total);
	for (i = 0; i < MAXSEQ; i++) {
		if (seq_count[i] > 0)
			printf("%d %u %llu %llu\n", i, seq_count[i],
			    (unsigned long long)seq_first[i],
			    (unsigned long long)seq_last[i]);
	}
	return 0;
}
