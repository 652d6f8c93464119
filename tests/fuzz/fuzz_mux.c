/* fuzz_mux.c - libFuzzer target for the mux backend's command parser (mux-proto.c). */
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mux-proto.h"

/*
 * Input layout: byte 0 chooses the chunk size (0: whole), the rest is what
 * the backend sends. The bytes are parsed as backend-mux.c does: appended
 * to a buffer chunk by chunk, complete commands taken off its front.
 * Invariants, any violation aborts: a record never claims more than the
 * buffer holds; every field is in its command's range; the command list
 * (and the error) does not depend on the chunking; a record written out
 * again in canonical form parses to the same record.
 */
#define FZ_MAX_RECS	4096

/* Aborts unless rec is a record mux-proto.h allows. */
static void
fz_check(const struct mux_rec *r, ssize_t took, size_t have)
{
	if (took <= 0 || (size_t)took > have || r->len > MUX_PAYLOAD_MAX ||
	    (size_t)took < r->len + 2 || (size_t)took - r->len >
	    MUX_LINE_MAX + 1)
		abort();
	if (memchr(r->id, '\0', sizeof(r->id)) == NULL ||
	    memchr(r->word, '\0', sizeof(r->word)) == NULL)
		abort();
	if (strchr(r->id, ' ') != NULL || strchr(r->word, ' ') != NULL)
		abort();
	switch (r->cmd) {
	case MUX_CMD_REJECT:
		if (r->code < 400 || r->code > 599)
			abort();
		break;
	case MUX_CMD_CLOSE:
		if (r->code < 1000 || r->code > 4999)
			abort();
		break;
	case MUX_CMD_BROADCAST:
		if (!r->last || r->id[0] != '\0')
			abort();
		/* FALLTHROUGH */
	case MUX_CMD_SEND:
		if (r->type != WS_MSG_TEXT && r->type != WS_MSG_BINARY)
			abort();
		break;
	case MUX_CMD_CONFIG:
	case MUX_CMD_SUBSCRIBE:
	case MUX_CMD_UNSUBSCRIBE:
		if (r->word[0] == '\0')
			abort();
		break;
	case MUX_CMD_PUBLISH:
		if (r->word[0] == '\0' || r->id[0] != '\0' || !r->last ||
		    (r->type != WS_MSG_TEXT && r->type != WS_MSG_BINARY))
			abort();
		break;
	case MUX_CMD_ACCEPT:
	case MUX_CMD_PING:
	case MUX_CMD_LINEMODE:
		break;
	default:
		abort();
	}
}

/* Writes rec as a canonical command line into buf. Returns its length. */
static int
fz_format(const struct mux_rec *r, char *buf, size_t len)
{
	char	t = r->type == WS_MSG_TEXT ? (r->last ? 'T' : 't') :
		    (r->last ? 'B' : 'b');

	switch (r->cmd) {
	case MUX_CMD_ACCEPT:
		return snprintf(buf, len, "accept %s %zu\n", r->id, r->len);
	case MUX_CMD_REJECT:
		return snprintf(buf, len, "reject %s %d %zu\n", r->id, r->code,
		    r->len);
	case MUX_CMD_SEND:
		return snprintf(buf, len, "send %s %c %zu\n", r->id, t, r->len);
	case MUX_CMD_CLOSE:
		return snprintf(buf, len, "close %s %d %zu\n", r->id, r->code,
		    r->len);
	case MUX_CMD_PING:
		return snprintf(buf, len, "ping %s %zu\n", r->id, r->len);
	case MUX_CMD_LINEMODE:
		return snprintf(buf, len, "linemode %s %d\n", r->id,
		    r->line_mode ? 1 : 0);
	case MUX_CMD_CONFIG:
		/* A space keeps a last "\r" of the word from being stripped. */
		return snprintf(buf, len, "config %s %s \n", r->id, r->word);
	case MUX_CMD_BROADCAST:
		return snprintf(buf, len, "broadcast %c %zu\n", t, r->len);
	case MUX_CMD_SUBSCRIBE:
		return snprintf(buf, len, "subscribe %s %s \n", r->id, r->word);
	case MUX_CMD_UNSUBSCRIBE:
		return snprintf(buf, len, "unsubscribe %s %s \n", r->id,
		    r->word);
	case MUX_CMD_PUBLISH:
		return snprintf(buf, len, "publish %c %s %zu\n", t, r->word,
		    r->len);
	}
	abort();
}

/* Parses the canonical form of rec again and compares. */
static void
fz_roundtrip(const struct mux_rec *r)
{
	struct mux_rec	 again;
	char		 line[2 * MUX_LINE_MAX];
	const char	*cause;
	int		 n;

	/* An id too long to keep has no canonical form. */
	if (r->id[0] == '\0' && r->cmd != MUX_CMD_BROADCAST &&
	    r->cmd != MUX_CMD_PUBLISH)
		return;
	n = fz_format(r, line, sizeof(line));
	if (n <= 0 || (size_t)n >= sizeof(line) || n > MUX_LINE_MAX + 1)
		return;
	if (mux_proto_line((const uint8_t *)line, (size_t)n, &again,
	    &cause) != n)
		abort();
	if (again.cmd != r->cmd || strcmp(again.id, r->id) != 0 ||
	    again.len != r->len || strcmp(again.word, r->word) != 0 ||
	    again.code != r->code || again.line_mode != r->line_mode ||
	    ((r->cmd == MUX_CMD_SEND || r->cmd == MUX_CMD_BROADCAST ||
	    r->cmd == MUX_CMD_PUBLISH) &&
	    (again.type != r->type || again.last != r->last)))
		abort();
}

/*
 * Parses data in chunks of step (0: whole). Returns the number of records
 * (their lengths in took[]), and the error (or NULL) in *cause.
 */
static size_t
fz_run(const uint8_t *data, size_t size, size_t step, size_t *took,
    const char **cause, bool check)
{
	struct mux_rec	 rec;
	size_t		 off = 0, have = 0, start = 0, n, nrec = 0;
	ssize_t		 r;

	*cause = NULL;
	while (off < size) {
		n = step == 0 ? size - off : step;
		if (n > size - off)
			n = size - off;
		off += n;
		have += n;
		for (;;) {
			r = mux_proto_parse(data + start, have, &rec, cause);
			if (r == -1) {
				if (*cause == NULL)
					abort();
				return nrec;
			}
			if (r == 0)
				break;
			if (check) {
				fz_check(&rec, r, have);
				if (rec.payload != data + start + r - rec.len)
					abort();
				fz_roundtrip(&rec);
			}
			if (nrec < FZ_MAX_RECS)
				took[nrec] = (size_t)r;
			nrec++;
			start += (size_t)r;
			have -= (size_t)r;
		}
	}
	return nrec;
}

/* libFuzzer entry point. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static size_t	 took1[FZ_MAX_RECS], took2[FZ_MAX_RECS];
	const char	*cause1, *cause2;
	size_t		 n1, n2, step, i;

	if (size < 1)
		return 0;
	step = data[0];
	data++;
	size--;
	n1 = fz_run(data, size, 0, took1, &cause1, true);
	n2 = fz_run(data, size, step, took2, &cause2, false);
	if (n1 != n2 || (cause1 == NULL) != (cause2 == NULL) ||
	    (cause1 != NULL && strcmp(cause1, cause2) != 0))
		abort();
	for (i = 0; i < n1 && i < FZ_MAX_RECS; i++)
		if (took1[i] != took2[i])
			abort();
	return 0;
}
