/* fuzz_msgstream.c - libFuzzer target: a backend's output through the lines/binary/framed decoder. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "backend/msgstream.h"
#include "core/ws-frame.h"
#include "core/ws-utf8.h"

/*
 * Input layout: byte 0 chooses the format (bits 0-1: lines, binary,
 * framed), the DataFormat (bits 2-3: auto, text, binary) and whether the
 * sink detaches mid-stream (bit 4: it frees the input buffer and returns
 * -1, as a backend instance that goes away does); byte 1 the chunk size
 * (0: whole) and byte 2 how often the sink says stop (0: never). The rest
 * is what the backend writes, fed chunk by chunk, then eof. Invariants,
 * any violation aborts: pieces follow first/last and keep one type per
 * message; DataFormat text and auto text pieces are whole UTF-8; nothing
 * comes after a close; close reasons and pings fit a control frame;
 * topics of subscriptions and publishes are 1-128 bytes and a publish is
 * whole; no more bytes come out than went in; the decoder never touches the input
 * after the sink detached it (ASan).
 */
#define FZ_DETACH	0x10
#define FZ_ROUNDS	64	/* decode calls after eof, at most */

struct fz {
	struct evbuffer		*in;
	enum msg_format		 format;
	enum data_format	 data;
	bool			 open;
	enum ws_msg_type	 type;
	bool			 closed;
	bool			 detach;
	bool			 detached;
	unsigned int		 stop_every;
	unsigned int		 calls;
	size_t			 out;		/* payload bytes delivered */
};

/* Counts a call; detaches at the 5th when asked. Returns the sink's answer. */
static int
fz_answer(struct fz *f)
{
	f->calls++;
	if (f->detach && f->calls == 5) {
		evbuffer_free(f->in);
		f->in = NULL;
		f->detached = true;
		return -1;
	}
	return f->stop_every != 0 && f->calls % f->stop_every == 0 ? 1 : 0;
}

/* Sink: a piece of a message. */
static int
fz_piece(void *arg, enum ws_msg_type type, const uint8_t *data, size_t len,
    bool first, bool last)
{
	struct fz	*f = arg;

	if (f->closed || f->detached || data == NULL || first == f->open)
		abort();
	if (type != WS_MSG_TEXT && type != WS_MSG_BINARY)
		abort();
	if (!first && type != f->type)
		abort();
	if (f->format == FORMAT_LINES && type != WS_MSG_TEXT)
		abort();
	if (f->format == FORMAT_BINARY) {
		if (!first || !last)
			abort();
		if (f->data == DATA_BINARY && type != WS_MSG_BINARY)
			abort();
		if (f->data == DATA_TEXT && type != WS_MSG_TEXT)
			abort();
		if (type == WS_MSG_TEXT && !ws_utf8_valid(data, len))
			abort();
		if (len == 0 || len > MSGSTREAM_CHUNK)
			abort();
	}
	if (len > MSGSTREAM_CHUNK)
		abort();
	f->out += len;
	f->open = !last;
	f->type = type;
	return fz_answer(f);
}

/* Sink: the backend's close. */
static void
fz_close(void *arg, int code, const char *reason, size_t len)
{
	struct fz	*f = arg;

	if (f->closed || f->detached || f->open ||
	    f->format != FORMAT_FRAMED || len > 123)
		abort();
	if (code != 0 && !ws_close_code_valid(code))
		abort();
	if (code == 0 && len != 0)
		abort();
	if (!ws_utf8_valid((const uint8_t *)reason, len))
		abort();
	f->closed = true;
}

/* Sink: the backend's ping. */
static int
fz_ping(void *arg, const uint8_t *data, size_t len)
{
	struct fz	*f = arg;

	if (f->closed || f->detached || f->open ||
	    f->format != FORMAT_FRAMED || len > 125 ||
	    (len > 0 && data == NULL))
		abort();
	return fz_answer(f);
}

/* Sink: the backend (un)subscribes (framed S, L). */
static int
fz_subscribe(void *arg, const char *topic, size_t tlen, bool on)
{
	struct fz	*f = arg;

	if (f->closed || f->detached || f->format != FORMAT_FRAMED ||
	    tlen == 0 || tlen > 128 || topic == NULL)
		abort();
	f->out += tlen;
	return fz_answer(f);
}

/* Sink: the backend publishes (framed M, N): whole, at once. */
static int
fz_publish(void *arg, const char *topic, size_t tlen, enum ws_msg_type type,
    const uint8_t *data, size_t len)
{
	struct fz	*f = arg;

	if (f->closed || f->detached || f->format != FORMAT_FRAMED ||
	    tlen == 0 || tlen > 128 || topic == NULL ||
	    len > MSGSTREAM_PUBLISH_MAX || (len > 0 && data == NULL) ||
	    (type != WS_MSG_TEXT && type != WS_MSG_BINARY))
		abort();
	/* The topic and the message sit side by side in the input. */
	if (len > 0 && (const char *)data != topic + tlen)
		abort();
	f->out += tlen + len;
	return fz_answer(f);
}

static const struct msgstream_sink fz_sink = {
	.piece = fz_piece,
	.close = fz_close,
	.ping = fz_ping,
	.subscribe = fz_subscribe,
	.publish = fz_publish,
};

/*
 * One decode call. Returns 0 to go on, 1 when the stream is over (an
 * error, a close or the sink detached).
 */
static int
fz_decode(struct fz *f, struct msgstream *m, bool eof)
{
	const char	*err = NULL;
	int		 rc;

	rc = msgstream_decode(m, f->in, eof, &fz_sink, f, &err);
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && (err == NULL || f->format == FORMAT_LINES ||
	    (f->format == FORMAT_BINARY && f->data == DATA_BINARY)))
		abort();
	return rc == -1 || f->closed || f->detached;
}

/* libFuzzer entry point. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct msgstream	 m;
	struct fz		 f;
	size_t			 step, off = 0, n, len, before;
	int			 round;

	if (size < 3)
		return 0;
	memset(&f, 0, sizeof(f));
	f.format = (enum msg_format)((data[0] & 3) % 3);
	f.data = (enum data_format)(((data[0] >> 2) & 3) % 3);
	f.detach = (data[0] & FZ_DETACH) != 0;
	step = data[1];
	f.stop_every = data[2];
	data += 3;
	size -= 3;

	msgstream_init(&m, f.format);
	if (f.format == FORMAT_BINARY)
		msgstream_set_data(&m, f.data);
	else
		f.data = DATA_BINARY;
	if ((f.in = evbuffer_new()) == NULL)
		abort();
	while (off < size) {
		n = step == 0 ? size - off : step;
		if (n > size - off)
			n = size - off;
		evbuffer_add(f.in, data + off, n);
		off += n;
		if (fz_decode(&f, &m, false))
			goto out;
	}
	/* At eof the sink's stops are waited out, as a backend would. */
	for (round = 0; round < FZ_ROUNDS; round++) {
		before = evbuffer_get_length(f.in);
		if (fz_decode(&f, &m, true))
			goto out;
		len = evbuffer_get_length(f.in);
		if (len == 0 && !msgstream_pending(&m))
			break;
		if (len == before && f.stop_every == 0)
			break;
	}
out:
	if (f.out > size)
		abort();
	if (f.in != NULL)
		evbuffer_free(f.in);
	return 0;
}
