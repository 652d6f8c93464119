/* fuzz_fleet.c - libFuzzer target for the fleet's formats (fleet-proto.c): what Redis and the buses bring in. */
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fleet-proto.h"
#include "core/ws-utf8.h"

/*
 * Input layout: byte 0 chooses what the rest is (mod 4): master-worker
 * frames (byte 1: the chunk size, 0 whole), a message of a node's
 * channel, a topic payload, or a ConnectionId and names. Invariants, any
 * violation aborts: a frame never claims more than the buffer holds, its
 * fields are in range and its head written again is the bytes it came
 * from; the frames and the error do not depend on the chunking; a node
 * message points inside its input and its request line is one line; a
 * payload's message is UTF-8 when text and encodes back to the same type
 * and bytes; an id's node is a NodeName.
 */
#define FZ_MAX_FRAMES	1024

/* Checks one parsed frame against the bytes it came from. */
static void
fz_frame_check(const struct fleet_frame *f, const uint8_t *buf, ssize_t n)
{
	uint8_t	head[FLEET_FRAME_HEAD + FLEET_TOPIC_MAX];
	size_t	hl;

	if (n < FLEET_FRAME_HEAD || f->tlen == 0 ||
	    f->tlen > FLEET_TOPIC_MAX || f->len > FLEET_MSG_MAX ||
	    (size_t)n != FLEET_FRAME_HEAD + f->tlen + f->len)
		abort();
	if (!fleet_topic_valid(f->topic, f->tlen))
		abort();
	if ((const uint8_t *)f->topic != buf + FLEET_FRAME_HEAD ||
	    f->data != buf + FLEET_FRAME_HEAD + f->tlen)
		abort();
	switch (f->kind) {
	case FLEET_FRAME_SUB:
	case FLEET_FRAME_UNSUB:
		if (f->len != 0)
			abort();
		break;
	case FLEET_FRAME_PUB:
	case FLEET_FRAME_MSG:
		break;
	default:
		abort();
	}
	hl = fleet_frame_head(head, f->kind, f->type, f->topic, f->tlen,
	    f->len);
	if (hl != FLEET_FRAME_HEAD + f->tlen || memcmp(head, buf, hl) != 0)
		abort();
}

/* Parses frames in chunks of step (0: whole); returns how many. */
static size_t
fz_frames(const uint8_t *data, size_t size, size_t step, size_t *took,
    const char **cause, bool check)
{
	struct fleet_frame	 f;
	size_t			 off = 0, have = 0, start = 0, n, nf = 0;
	ssize_t			 r;

	*cause = NULL;
	while (off < size) {
		n = step == 0 ? size - off : step;
		if (n > size - off)
			n = size - off;
		off += n;
		have += n;
		for (;;) {
			r = fleet_frame_parse(data + start, have, &f, cause);
			if (r == -1) {
				if (*cause == NULL)
					abort();
				return nf;
			}
			if (r == 0)
				break;
			if ((size_t)r > have)
				abort();
			if (check)
				fz_frame_check(&f, data + start, r);
			if (nf < FZ_MAX_FRAMES)
				took[nf] = (size_t)r;
			nf++;
			start += (size_t)r;
			have -= (size_t)r;
		}
	}
	return nf;
}

/* A message of a node's channel. */
static void
fz_nodemsg(const uint8_t *p, size_t len)
{
	struct fleet_nodemsg	 m;

	if (fleet_nodemsg_parse(p, len, &m) == -1)
		return;
	if ((m.kind != 'Q' && m.kind != 'A') || (const uint8_t *)m.text < p ||
	    (const uint8_t *)m.text + m.len != p + len)
		abort();
	if (m.kind == 'Q' && (!fleet_node_valid(m.from, strlen(m.from)) ||
	    m.len == 0 || m.len >= FLEET_LINE_MAX ||
	    memchr(m.text, '\n', m.len) != NULL ||
	    memchr(m.text, '\0', m.len) != NULL))
		abort();
}

/* A topic payload: parsed, then written again and parsed the same. */
static void
fz_payload(const uint8_t *p, size_t len)
{
	enum ws_msg_type	 type, again;
	const char		*cause = NULL;
	uint8_t			*buf, head[2];
	size_t			 off, off2, hl;

	if (fleet_payload_parse(p, len, &type, &off, &cause) == -1) {
		if (cause == NULL)
			abort();
		return;
	}
	if ((off != 0 && off != 2) || off > len)
		abort();
	if (type == WS_MSG_TEXT && !ws_utf8_valid(p + off, len - off))
		abort();
	hl = fleet_payload_head(type, p + off, len - off, head);
	if ((buf = malloc(hl + len - off + 1)) == NULL)
		abort();
	memcpy(buf, head, hl);
	memcpy(buf + hl, p + off, len - off);
	if (fleet_payload_parse(buf, hl + len - off, &again, &off2,
	    &cause) == -1 || again != type || off2 != hl)
		abort();
	free(buf);
}

/* A ConnectionId, topic and node names. */
static void
fz_names(const uint8_t *p, size_t len)
{
	char		 id[FLEET_ID_MAX + 8], node[FLEET_NODE_MAX + 1];
	uint64_t	 num;
	size_t		 n = len < sizeof(id) - 1 ? len : sizeof(id) - 1;

	(void)fleet_topic_valid((const char *)p, len);
	(void)fleet_node_valid((const char *)p, len);
	memcpy(id, p, n);
	id[n] = '\0';
	if (fleet_id_split(id, node, &num) == 0 && node[0] != '\0' &&
	    !fleet_node_valid(node, strlen(node)))
		abort();
}

/* libFuzzer entry point. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t	 took1[FZ_MAX_FRAMES], took2[FZ_MAX_FRAMES];
	const char	*cause1, *cause2;
	size_t		 n1, n2, i;

	if (size < 2)
		return 0;
	switch (data[0] % 4) {
	case 0:
		n1 = fz_frames(data + 2, size - 2, 0, took1, &cause1, true);
		n2 = fz_frames(data + 2, size - 2, data[1], took2, &cause2,
		    false);
		if (n1 != n2 || (cause1 == NULL) != (cause2 == NULL) ||
		    (cause1 != NULL && strcmp(cause1, cause2) != 0))
			abort();
		for (i = 0; i < n1 && i < FZ_MAX_FRAMES; i++)
			if (took1[i] != took2[i])
				abort();
		break;
	case 1:
		fz_nodemsg(data + 1, size - 1);
		break;
	case 2:
		fz_payload(data + 1, size - 1);
		break;
	default:
		fz_names(data + 1, size - 1);
		break;
	}
	return 0;
}
