/* mux-proto.c - the mux backend's commands parsed from bytes; no I/O, no globals. */
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/mux-proto.h"

/*
 * Most words a line may have: send ID TYPE LEN has four, a fifth makes a
 * bad command (no command takes one), a sixth a bad line.
 */
#define MUX_WORDS	5

/* A word of a command line: where it starts and how long it is. */
struct mux_word {
	const char	*p;
	size_t		 len;
};

/* Whether a word is the string s. */
static bool
mux_proto_is(const struct mux_word *w, const char *s)
{
	return w->len == strlen(s) && memcmp(w->p, s, w->len) == 0;
}

/*
 * Parses a word of decimal digits (leading zeros allowed) as a number in
 * [min, max]; max stays far below LLONG_MAX, so v never overflows. Returns
 * 0, or -1.
 */
static int
mux_proto_number(const struct mux_word *w, long long min, long long max,
    long long *out)
{
	long long	v = 0;
	size_t		i;

	if (w->len == 0)
		return -1;
	for (i = 0; i < w->len; i++) {
		if (w->p[i] < '0' || w->p[i] > '9')
			return -1;
		v = v * 10 + (w->p[i] - '0');
		if (v > max)
			return -1;
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

/* The message type and end of a T|B|t|b word. Returns 0, or -1. */
static int
mux_proto_type(const struct mux_word *w, enum ws_msg_type *type, bool *last)
{
	if (w->len != 1)
		return -1;
	switch (w->p[0]) {
	case 'T':
	case 't':
		*type = WS_MSG_TEXT;
		break;
	case 'B':
	case 'b':
		*type = WS_MSG_BINARY;
		break;
	default:
		return -1;
	}
	*last = w->p[0] == 'T' || w->p[0] == 'B';
	return 0;
}

/*
 * Splits line[0..n) at runs of spaces. Returns the number of words, or -1
 * when there are more than MUX_WORDS.
 */
static int
mux_proto_split(const char *line, size_t n, struct mux_word *w)
{
	size_t	i = 0, start;
	int	nw = 0;

	while (i < n) {
		if (line[i] == ' ') {
			i++;
			continue;
		}
		if (nw == MUX_WORDS)
			return -1;
		start = i;
		while (i < n && line[i] != ' ')
			i++;
		w[nw].p = line + start;
		w[nw++].len = i - start;
	}
	return nw;
}

/*
 * Which word holds the payload length of a command with nw words: -1 when
 * it has no payload; -2 when a command that always has one has the wrong
 * number of words (the line cannot be framed, so it is a line error).
 */
static int
mux_proto_len_word(const struct mux_word *w, int nw)
{
	if (mux_proto_is(&w[0], "send") || mux_proto_is(&w[0], "close"))
		return nw == 4 ? 3 : -2;
	if (mux_proto_is(&w[0], "ping") || mux_proto_is(&w[0], "broadcast"))
		return nw == 3 ? 2 : -2;
	if (mux_proto_is(&w[0], "publish"))
		return nw == 4 ? 3 : -2;
	if (mux_proto_is(&w[0], "accept") && nw == 3)
		return 2;
	if (mux_proto_is(&w[0], "reject") && nw == 4)
		return 3;
	return -1;
}

/*
 * Checks the arguments of a framed command and fills rec. Returns 0, or
 * -1 (a bad command).
 */
static int
mux_proto_args(const struct mux_word *w, int nw, struct mux_rec *rec)
{
	long long	v;

	if (mux_proto_is(&w[0], "broadcast")) {
		rec->cmd = MUX_CMD_BROADCAST;
		return mux_proto_type(&w[1], &rec->type, &rec->last) == -1 ||
		    !rec->last ? -1 : 0;
	}
	if (mux_proto_is(&w[0], "publish")) {
		rec->cmd = MUX_CMD_PUBLISH;
		memcpy(rec->word, w[2].p, w[2].len);
		rec->word[w[2].len] = '\0';
		return mux_proto_type(&w[1], &rec->type, &rec->last) == -1 ||
		    !rec->last ? -1 : 0;
	}
	if (nw < 2)
		return -1;
	if (w[1].len < sizeof(rec->id)) {
		memcpy(rec->id, w[1].p, w[1].len);
		rec->id[w[1].len] = '\0';
	}
	if (mux_proto_is(&w[0], "accept") && (nw == 2 || nw == 3))
		rec->cmd = MUX_CMD_ACCEPT;
	else if (mux_proto_is(&w[0], "reject") && (nw == 3 || nw == 4)) {
		rec->cmd = MUX_CMD_REJECT;
		if (mux_proto_number(&w[2], 400, 599, &v) == -1)
			return -1;
		rec->code = (int)v;
	} else if (mux_proto_is(&w[0], "send")) {
		rec->cmd = MUX_CMD_SEND;
		return mux_proto_type(&w[2], &rec->type, &rec->last);
	} else if (mux_proto_is(&w[0], "close")) {
		rec->cmd = MUX_CMD_CLOSE;
		if (mux_proto_number(&w[2], 1000, 4999, &v) == -1)
			return -1;
		rec->code = (int)v;
	} else if (mux_proto_is(&w[0], "ping"))
		rec->cmd = MUX_CMD_PING;
	else if (mux_proto_is(&w[0], "linemode") && nw == 3) {
		rec->cmd = MUX_CMD_LINEMODE;
		if (!mux_proto_is(&w[2], "0") && !mux_proto_is(&w[2], "1"))
			return -1;
		rec->line_mode = w[2].p[0] == '1';
	} else if (mux_proto_is(&w[0], "config") && nw == 3) {
		rec->cmd = MUX_CMD_CONFIG;
		memcpy(rec->word, w[2].p, w[2].len);
		rec->word[w[2].len] = '\0';
	} else if ((mux_proto_is(&w[0], "subscribe") ||
	    mux_proto_is(&w[0], "unsubscribe")) && nw == 3) {
		rec->cmd = w[0].p[0] == 's' ? MUX_CMD_SUBSCRIBE :
		    MUX_CMD_UNSUBSCRIBE;
		memcpy(rec->word, w[2].p, w[2].len);
		rec->word[w[2].len] = '\0';
	} else
		return -1;
	return 0;
}

/* Parses the command line at the front of buf; see mux-proto.h. */
ssize_t
mux_proto_line(const uint8_t *buf, size_t len, struct mux_rec *rec,
    const char **cause)
{
	struct mux_word	 w[MUX_WORDS];
	const uint8_t	*nl;
	long long	 plen = 0;
	size_t		 n;
	int		 nw, lw;

	memset(rec, 0, sizeof(*rec));
	nl = memchr(buf, '\n', len < MUX_LINE_MAX + 1 ? len : MUX_LINE_MAX + 1);
	if (nl == NULL) {
		if (len > MUX_LINE_MAX) {
			*cause = "command line too long";
			return -1;
		}
		return 0;
	}
	n = (size_t)(nl - buf);
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	/* A NUL would cut the line short for anyone reading it as a string. */
	if (memchr(buf, '\0', n) != NULL ||
	    (nw = mux_proto_split((const char *)buf, n, w)) <= 0 ||
	    (lw = mux_proto_len_word(w, nw)) == -2 ||
	    (lw >= 0 && mux_proto_number(&w[lw], 0, MUX_PAYLOAD_MAX,
	    &plen) == -1)) {
		*cause = "bad command line";
		return -1;
	}
	if (mux_proto_args(w, nw, rec) == -1) {
		*cause = "bad command";
		return -1;
	}
	rec->len = (size_t)plen;
	return (ssize_t)(nl - buf) + 1;
}

/* Parses one whole command, line and payload; see mux-proto.h. */
ssize_t
mux_proto_parse(const uint8_t *buf, size_t len, struct mux_rec *rec,
    const char **cause)
{
	ssize_t	hl;

	if ((hl = mux_proto_line(buf, len, rec, cause)) <= 0)
		return hl;
	if (len - (size_t)hl < rec->len)
		return 0;
	rec->payload = buf + hl;
	return hl + (ssize_t)rec->len;
}
