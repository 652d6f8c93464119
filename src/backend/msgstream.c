/* msgstream.c - a backend's byte stream <-> WebSocket messages: lines, binary or framed. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sys/types.h>

#include <event2/buffer.h>

#include "backend/msgstream.h"
#include "core/ws-frame.h"
#include "core/ws-utf8.h"

enum {
	MS_HEADER,
	MS_PAYLOAD,
	MS_DONE,		/* after "C": nothing more is decoded */
};

/* Close reasons and ping payloads fit a control frame. */
#define MS_REASON_MAX		123
#define MS_PING_MAX		125

/* Starts a decoder for format. */
void
msgstream_init(struct msgstream *m, enum msg_format format)
{
	memset(m, 0, sizeof(*m));
	m->format = format;
	m->state = MS_HEADER;
	m->data = DATA_BINARY;
}

/* Chooses the type of binary-format chunks; see msgstream.h. */
void
msgstream_set_data(struct msgstream *m, enum data_format data)
{
	m->data = data;
}

/* True while a message or a frame is half decoded; see msgstream.h. */
bool
msgstream_pending(const struct msgstream *m)
{
	return m->open || m->state == MS_PAYLOAD;
}

/*
 * Parses an unsigned decimal number of 1 to maxdigits digits ending at a
 * space or the end of the string. Returns the position after it, or NULL.
 */
static const char *
msgstream_number(const char *s, int maxdigits, uint64_t *out)
{
	uint64_t	v = 0;
	int		n = 0;

	while (*s >= '0' && *s <= '9') {
		if (++n > maxdigits)
			return NULL;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	if (n == 0 || (*s != ' ' && *s != '\0'))
		return NULL;
	*out = v;
	return s;
}

/* Hands one piece to the sink, keeping track of the open message. */
static int
msgstream_piece(struct msgstream *m, const struct msgstream_sink *sink,
    void *arg, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool last)
{
	bool	first = !m->open;

	m->open = !last;
	m->type = type;
	return sink->piece(arg, type, data, len, first, last);
}

/* Lines: one text message per LF-terminated line ("\r\n" too). */
static int
msgstream_lines(struct msgstream *m, struct evbuffer *in, bool eof,
    const struct msgstream_sink *sink, void *arg)
{
	struct evbuffer_ptr	 start, eol;
	const uint8_t		*data;
	size_t			 len, n, skip, eol_len;
	bool			 last;
	int			 rc;

	for (;;) {
		len = evbuffer_get_length(in);
		if (len == 0 && !(eof && m->open))
			return 0;
		if (m->scanned > len)
			m->scanned = 0;
		evbuffer_ptr_set(in, &start, m->scanned, EVBUFFER_PTR_SET);
		eol = evbuffer_search_eol(in, &start, &eol_len,
		    EVBUFFER_EOL_LF);
		if (eol.pos >= 0) {
			n = (size_t)eol.pos;
			skip = 1;
			last = true;
		} else if (len >= MSGSTREAM_CHUNK) {
			n = len;
			skip = 0;
			last = false;
		} else if (eof) {
			n = len;
			skip = 0;
			last = true;
		} else {
			m->scanned = len;
			return 0;
		}
		data = n > 0 ? evbuffer_pullup(in, (ev_ssize_t)n) :
		    (const uint8_t *)"";
		if (n > 0 && data[n - 1] == '\r') {
			/* A '\r' ending a piece may yet be part of "\r\n". */
			n--;
			if (last)
				skip++;
		}
		m->scanned = 0;
		rc = msgstream_piece(m, sink, arg, WS_MSG_TEXT, data, n, last);
		if (rc == -1)
			return 0;	/* in may be gone */
		evbuffer_drain(in, n + skip);
		if (rc == 1)
			return 0;
	}
}

/*
 * Binary, DataFormat text or auto: how much of data[0..n) goes out now
 * and as what. Returns the length (0: wait for more input), or -1 on an
 * error with *err set.
 */
static ssize_t
msgstream_binary_cut(const struct msgstream *m, const uint8_t *data,
    size_t n, bool more, bool eof, enum ws_msg_type *type, const char **err)
{
	struct ws_utf8	u;
	size_t		tail;

	*type = WS_MSG_TEXT;
	ws_utf8_init(&u);
	if (ws_utf8_feed(&u, data, n) == -1) {
		if (m->data == DATA_AUTO) {
			*type = WS_MSG_BINARY;
			return (ssize_t)n;
		}
		*err = "output is not UTF-8";
		return -1;
	}
	if (ws_utf8_complete(&u))
		return (ssize_t)n;
	tail = ws_utf8_tail(data, n);
	if (n > tail)
		return (ssize_t)(n - tail);
	/* Only a cut character is left: more input may complete it. */
	if (more || !eof)
		return 0;
	if (m->data == DATA_AUTO) {
		*type = WS_MSG_BINARY;
		return (ssize_t)n;
	}
	*err = "output ends inside a UTF-8 character";
	return -1;
}

/*
 * Binary: whatever arrived, one message per chunk, typed as DataFormat
 * says. Returns 0, or -1 on an error with *err set.
 */
static int
msgstream_binary(struct msgstream *m, struct evbuffer *in, bool eof,
    const struct msgstream_sink *sink, void *arg, const char **err)
{
	const uint8_t		*data;
	size_t			 len, n;
	ssize_t			 cut;
	enum ws_msg_type	 type;
	int			 rc;

	while ((len = evbuffer_get_length(in)) > 0) {
		n = len < MSGSTREAM_CHUNK ? len : MSGSTREAM_CHUNK;
		data = evbuffer_pullup(in, (ev_ssize_t)n);
		type = WS_MSG_BINARY;
		if (m->data != DATA_BINARY) {
			cut = msgstream_binary_cut(m, data, n, len > n, eof,
			    &type, err);
			if (cut <= 0)
				return (int)cut;
			n = (size_t)cut;
		}
		rc = msgstream_piece(m, sink, arg, type, data, n, true);
		if (rc == -1)
			break;
		evbuffer_drain(in, n);
		if (rc == 1)
			break;
	}
	return 0;
}

/*
 * Framed "S len" and "L len" (the topic: subscribe, leave), "M tlen len" and "N tlen len"
 * (the topic, then a message to publish on it), their header of hl bytes
 * at the front of in: waits for the whole frame, consumes it and hands it
 * to the sink. Returns 1 to go on, 0 to stop, -1 on error.
 */
static int
msgstream_topic(struct msgstream *m, struct evbuffer *in, bool eof,
    const struct msgstream_sink *sink, void *arg, const char **err, char c,
    size_t hl, size_t tlen, uint64_t plen)
{
	const uint8_t	*p;
	size_t		 need;
	int		 rc;

	if (c == 'S' || c == 'L') {
		tlen = (size_t)plen;
		plen = 0;
	}
	if (tlen == 0 || tlen > 128) {
		*err = "topic of 1-128 bytes expected";
		return -1;
	}
	if (plen > MSGSTREAM_PUBLISH_MAX) {
		*err = "publish over 65360 bytes";
		return -1;
	}
	need = hl + tlen + (size_t)plen;
	if (evbuffer_get_length(in) < need) {
		if (eof) {
			*err = "stream ends inside a frame";
			return -1;
		}
		return 0;
	}
	p = evbuffer_pullup(in, (ev_ssize_t)need);
	if (c == 'S' || c == 'L')
		rc = sink->subscribe != NULL ? sink->subscribe(arg,
		    (const char *)p + hl, tlen, c == 'S') : 0;
	else
		rc = sink->publish != NULL ? sink->publish(arg,
		    (const char *)p + hl, tlen, c == 'M' ? WS_MSG_TEXT :
		    WS_MSG_BINARY, p + hl + tlen, (size_t)plen) : 0;
	if (rc == -1)
		return 0;	/* in may be gone */
	evbuffer_drain(in, need);
	return rc == 0 ? 1 : 0;
}

/*
 * Framed, a header line at the front of in: parses it and, for "C" and
 * "P", waits for and consumes the whole payload. Returns 1 to go on, 0 to
 * stop (input short, or the sink said stop), -1 on error.
 */
static int
msgstream_header(struct msgstream *m, struct evbuffer *in, bool eof,
    const struct msgstream_sink *sink, void *arg, const char **err)
{
	char		 line[MSGSTREAM_HEADER_MAX + 1], reason[MS_REASON_MAX];
	uint8_t		 ping[MS_PING_MAX];
	struct ws_utf8	 u;
	const char	*p, *nl;
	size_t		 len, n, hl;
	uint64_t	 code = 0, plen;
	enum ws_msg_type type;
	char		 c;

	len = evbuffer_get_length(in);
	n = len < MSGSTREAM_HEADER_MAX ? len : MSGSTREAM_HEADER_MAX;
	evbuffer_copyout(in, line, n);
	line[n] = '\0';
	if ((nl = memchr(line, '\n', n)) == NULL) {
		if (n == MSGSTREAM_HEADER_MAX) {
			*err = "frame header too long";
			return -1;
		}
		if (eof) {
			*err = "stream ends inside a frame header";
			return -1;
		}
		return 0;
	}
	hl = (size_t)(nl - line) + 1;
	line[hl - 1] = '\0';
	c = line[0];
	if (line[1] != ' ')
		goto bad;
	p = line + 2;
	if ((c == 'C' || c == 'M' || c == 'N') &&
	    (p = msgstream_number(p, 4, &code)) != NULL && *p == ' ')
		p++;
	if (p == NULL || (p = msgstream_number(p, 19, &plen)) == NULL ||
	    *p != '\0')
		goto bad;
	if (c == 'S' || c == 'L' || c == 'M' || c == 'N')
		return msgstream_topic(m, in, eof, sink, arg, err, c, hl,
		    (size_t)code, plen);

	switch (c) {
	case 'T':
	case 't':
	case 'B':
	case 'b':
		type = c == 'T' || c == 't' ? WS_MSG_TEXT : WS_MSG_BINARY;
		if (m->open && m->type != type) {
			*err = "message type changes inside a message";
			return -1;
		}
		evbuffer_drain(in, hl);
		m->type = type;
		m->final = c == 'T' || c == 'B';
		m->remain = plen;
		m->state = MS_PAYLOAD;
		if (plen == 0) {
			m->state = MS_HEADER;
			/* An empty part only matters when it ends a message. */
			if (!m->final && m->open)
				return 1;
			return msgstream_piece(m, sink, arg, type,
			    (const uint8_t *)"", 0, m->final) == 0 ? 1 : 0;
		}
		return 1;
	case 'C':
	case 'P':
		if (m->open) {
			*err = "control frame inside a message";
			return -1;
		}
		if (c == 'C' && (plen > MS_REASON_MAX ||
		    (code != 0 && !ws_close_code_valid((int)code)) ||
		    (code == 0 && plen > 0))) {
			*err = "bad close frame";
			return -1;
		}
		if (c == 'P' && plen > MS_PING_MAX) {
			*err = "ping payload over 125 bytes";
			return -1;
		}
		if (len < hl + plen) {
			if (eof) {
				*err = "stream ends inside a frame";
				return -1;
			}
			return 0;
		}
		evbuffer_drain(in, hl);
		if (c == 'P') {
			evbuffer_remove(in, ping, (size_t)plen);
			return sink->ping(arg, ping, (size_t)plen) == 0 ? 1 : 0;
		}
		evbuffer_remove(in, reason, (size_t)plen);
		ws_utf8_init(&u);
		if (ws_utf8_feed(&u, (const uint8_t *)reason, (size_t)plen) ==
		    -1 || !ws_utf8_complete(&u)) {
			*err = "close reason is not UTF-8";
			return -1;
		}
		m->state = MS_DONE;
		sink->close(arg, (int)code, reason, (size_t)plen);
		return 0;
	}
bad:
	*err = "bad frame header";
	return -1;
}

/* Framed: header lines, each followed by its byte-counted payload. */
static int
msgstream_framed(struct msgstream *m, struct evbuffer *in, bool eof,
    const struct msgstream_sink *sink, void *arg, const char **err)
{
	const uint8_t	*data;
	size_t		 len, n;
	bool		 last;
	int		 rc;

	for (;;) {
		len = evbuffer_get_length(in);
		if (m->state == MS_DONE) {
			evbuffer_drain(in, len);
			return 0;
		}
		if (len == 0) {
			if (eof && msgstream_pending(m)) {
				*err = "stream ends inside a message";
				return -1;
			}
			return 0;
		}
		if (m->state == MS_HEADER) {
			if ((rc = msgstream_header(m, in, eof, sink, arg,
			    err)) != 1)
				return rc;
			continue;
		}
		n = len < MSGSTREAM_CHUNK ? len : MSGSTREAM_CHUNK;
		if (n > m->remain)
			n = (size_t)m->remain;
		last = m->final && n == m->remain;
		data = evbuffer_pullup(in, (ev_ssize_t)n);
		m->remain -= n;
		if (m->remain == 0)
			m->state = MS_HEADER;
		rc = msgstream_piece(m, sink, arg, m->type, data, n, last);
		if (rc == -1)
			return 0;	/* in may be gone */
		evbuffer_drain(in, n);
		if (rc == 1)
			return 0;
	}
}

/* Decodes what in holds in the stream's format; see msgstream.h. */
int
msgstream_decode(struct msgstream *m, struct evbuffer *in, bool eof,
    const struct msgstream_sink *sink, void *arg, const char **err)
{
	switch (m->format) {
	case FORMAT_BINARY:
		return msgstream_binary(m, in, eof, sink, arg, err);
	case FORMAT_FRAMED:
		return msgstream_framed(m, in, eof, sink, arg, err);
	case FORMAT_LINES:
	default:
		return msgstream_lines(m, in, eof, sink, arg);
	}
}

/* Appends a piece of a client message in format; see msgstream.h. */
int
msgstream_encode(enum msg_format format, struct evbuffer *out,
    enum ws_msg_type type, const uint8_t *data, size_t len, bool last)
{
	char	c;

	switch (format) {
	case FORMAT_LINES:
		if (type == WS_MSG_BINARY)
			return -1;
		if (len > 0)
			evbuffer_add(out, data, len);
		if (last)
			evbuffer_add(out, "\n", 1);
		return 0;
	case FORMAT_FRAMED:
		if (type == WS_MSG_TEXT)
			c = last ? 'T' : 't';
		else
			c = last ? 'B' : 'b';
		evbuffer_add_printf(out, "%c %zu\n", c, len);
		/* FALLTHROUGH */
	case FORMAT_BINARY:
		if (len > 0)
			evbuffer_add(out, data, len);
		return 0;
	}
	return -1;
}

/* Appends the last piece of a line cut at MaxLineLength; see msgstream.h. */
int
msgstream_encode_cut(enum msg_format format, struct evbuffer *out,
    enum ws_msg_type type, const uint8_t *data, size_t len)
{
	if (format != FORMAT_FRAMED)
		return msgstream_encode(format, out, type, data, len, true);
	evbuffer_add_printf(out, "%c %zu\n", type == WS_MSG_TEXT ? 'U' : 'V',
	    len);
	if (len > 0)
		evbuffer_add(out, data, len);
	return 0;
}

/* Appends a framed Ping event; see msgstream.h. */
void
msgstream_encode_ping(enum msg_format format, struct evbuffer *out,
    bool pong, const uint8_t *data, size_t len)
{
	if (format != FORMAT_FRAMED)
		return;
	evbuffer_add_printf(out, "%c %zu\n", pong ? 'O' : 'I', len);
	if (len > 0)
		evbuffer_add(out, data, len);
}

/* Appends a framed close notice; see msgstream.h. */
void
msgstream_encode_close(enum msg_format format, struct evbuffer *out, int code,
    const char *reason, size_t len)
{
	if (format != FORMAT_FRAMED)
		return;
	if (len > MS_REASON_MAX)
		len = MS_REASON_MAX;
	evbuffer_add_printf(out, "C %d %zu\n", code, len);
	if (len > 0)
		evbuffer_add(out, reason, len);
}

/* Appends a framed ReadyToSend notice; see msgstream.h. */
void
msgstream_encode_ready(enum msg_format format, struct evbuffer *out)
{
	if (format == FORMAT_FRAMED)
		evbuffer_add(out, "R 0\n", 4);
}
