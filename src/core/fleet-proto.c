/* fleet-proto.c - the fleet's formats as bytes: names, ids, topic payloads, master-worker frames, node requests; no I/O. */
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/fleet-proto.h"
#include "core/ws-utf8.h"

/* Whether a topic name is valid; see fleet-proto.h. */
bool
fleet_topic_valid(const char *t, size_t len)
{
	const uint8_t	*p = (const uint8_t *)t;
	size_t		 i;
	bool		 high = false;

	if (len == 0 || len > FLEET_TOPIC_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (p[i] >= 0x80)
			high = true;
		else if (p[i] < 0x21 || p[i] > 0x7e)
			return false;
	}
	return !high || ws_utf8_valid(p, len);
}

/* Whether a NodeName is valid; see fleet-proto.h. */
bool
fleet_node_valid(const char *n, size_t len)
{
	size_t	i;

	if (len == 0 || len > FLEET_NODE_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!((n[i] >= 'A' && n[i] <= 'Z') ||
		    (n[i] >= 'a' && n[i] <= 'z') ||
		    (n[i] >= '0' && n[i] <= '9') ||
		    n[i] == '_' || n[i] == '.' || n[i] == '-'))
			return false;
	}
	return true;
}

/* Parses 1-20 decimal digits into *out; -1 on anything else or overflow. */
static int
fleet_number(const char *s, size_t len, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i;

	if (len == 0 || len > 20)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Splits a ConnectionId into its node and number; see fleet-proto.h. */
int
fleet_id_split(const char *id, char *node, uint64_t *num)
{
	const char	*colon = strrchr(id, ':');
	size_t		 nlen;

	node[0] = '\0';
	if (colon == NULL)
		return fleet_number(id, strlen(id), num);
	nlen = (size_t)(colon - id);
	if (!fleet_node_valid(id, nlen) ||
	    fleet_number(colon + 1, strlen(colon + 1), num) == -1)
		return -1;
	memcpy(node, id, nlen);
	node[nlen] = '\0';
	return 0;
}

/* The envelope bytes a message needs before it; see fleet-proto.h. */
size_t
fleet_payload_head(enum ws_msg_type type, const uint8_t *data, size_t len,
    uint8_t head[2])
{
	if (type == WS_MSG_TEXT && (len == 0 || data[0] != 0))
		return 0;
	head[0] = 0;
	head[1] = type == WS_MSG_TEXT ? 'T' : 'B';
	return 2;
}

/* Reads a topic payload's envelope; see fleet-proto.h. */
int
fleet_payload_parse(const uint8_t *p, size_t len, enum ws_msg_type *type,
    size_t *off, const char **cause)
{
	*type = WS_MSG_TEXT;
	*off = 0;
	if (len > 0 && p[0] == 0) {
		if (len < 2 || (p[1] != 'T' && p[1] != 'B')) {
			*cause = "a payload that starts with NUL must go on "
			    "with T or B";
			return -1;
		}
		*type = p[1] == 'T' ? WS_MSG_TEXT : WS_MSG_BINARY;
		*off = 2;
	}
	if (len - *off > FLEET_MSG_MAX) {
		*cause = "message too large";
		return -1;
	}
	if (*type == WS_MSG_TEXT && !ws_utf8_valid(p + *off, len - *off)) {
		*cause = "text message is not UTF-8";
		return -1;
	}
	return 0;
}

/* Writes a frame's head; see fleet-proto.h. */
size_t
fleet_frame_head(uint8_t *h, enum fleet_frame_kind kind,
    enum ws_msg_type type, const char *topic, size_t tlen, size_t len)
{
	uint32_t	n = (uint32_t)(3 + tlen + len);

	h[0] = (uint8_t)(n >> 24);
	h[1] = (uint8_t)(n >> 16);
	h[2] = (uint8_t)(n >> 8);
	h[3] = (uint8_t)n;
	h[4] = (uint8_t)kind;
	h[5] = type == WS_MSG_BINARY ? 1 : 0;
	h[6] = (uint8_t)tlen;
	memcpy(h + FLEET_FRAME_HEAD, topic, tlen);
	return FLEET_FRAME_HEAD + tlen;
}

/* Parses the frame at the front of buf; see fleet-proto.h. */
ssize_t
fleet_frame_parse(const uint8_t *buf, size_t len, struct fleet_frame *f,
    const char **cause)
{
	uint32_t	n;

	if (len < FLEET_FRAME_HEAD)
		return 0;
	n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
	    (uint32_t)buf[2] << 8 | buf[3];
	if (n < 3 || n - 3 < buf[6] || n - 3 - buf[6] > FLEET_MSG_MAX) {
		*cause = "bad frame length";
		return -1;
	}
	switch (buf[4]) {
	case FLEET_FRAME_SUB:
	case FLEET_FRAME_UNSUB:
	case FLEET_FRAME_PUB:
	case FLEET_FRAME_MSG:
		break;
	default:
		*cause = "unknown frame kind";
		return -1;
	}
	if (buf[5] > 1) {
		*cause = "bad message type";
		return -1;
	}
	if (len - 4 < n)
		return 0;
	f->kind = (enum fleet_frame_kind)buf[4];
	f->type = buf[5] == 1 ? WS_MSG_BINARY : WS_MSG_TEXT;
	f->tlen = buf[6];
	f->topic = (const char *)buf + FLEET_FRAME_HEAD;
	f->data = buf + FLEET_FRAME_HEAD + f->tlen;
	f->len = n - 3 - f->tlen;
	if (!fleet_topic_valid(f->topic, f->tlen)) {
		*cause = "bad topic";
		return -1;
	}
	if ((f->kind == FLEET_FRAME_SUB || f->kind == FLEET_FRAME_UNSUB) &&
	    f->len != 0) {
		*cause = "a subscription frame carries no message";
		return -1;
	}
	return (ssize_t)n + 4;
}

/* The length of the word at p (up to a space or end), at most max. */
static size_t
fleet_word(const char *p, size_t len)
{
	const char	*sp = memchr(p, ' ', len);

	return sp != NULL ? (size_t)(sp - p) : len;
}

/* Parses a message of a node's channel; see fleet-proto.h. */
int
fleet_nodemsg_parse(const uint8_t *buf, size_t len, struct fleet_nodemsg *m)
{
	const char	*p = (const char *)buf;
	size_t		 n;

	memset(m, 0, sizeof(*m));
	if (len < 4 || (p[0] != 'Q' && p[0] != 'A') || p[1] != ' ')
		return -1;
	m->kind = p[0];
	p += 2;
	len -= 2;
	n = fleet_word(p, len);
	if (n == len || fleet_number(p, n, &m->id) == -1)
		return -1;
	p += n + 1;
	len -= n + 1;
	if (m->kind == 'Q') {
		n = fleet_word(p, len);
		if (n == len || !fleet_node_valid(p, n))
			return -1;
		memcpy(m->from, p, n);
		m->from[n] = '\0';
		p += n + 1;
		len -= n + 1;
		if (len == 0 || len >= FLEET_LINE_MAX ||
		    memchr(p, '\n', len) != NULL ||
		    memchr(p, '\r', len) != NULL ||
		    memchr(p, '\0', len) != NULL)
			return -1;
	}
	m->text = p;
	m->len = len;
	return 0;
}
