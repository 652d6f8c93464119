/* conn-lines.c - LineMode (ChangeLineMode): a client message passed to the backend line by line. */
#include <string.h>

#include "event/backend.h"
#include "conf/config.h"
#include "event/conn-int.h"

/*
 * LineMode (ChangeLineMode): the backend gets one message per line instead
 * of one per WebSocket message. A line ends at "\n" (a "\r" right before
 * it in the same piece is dropped too), when it reaches MaxLineLength
 * (the connection's own, else the global one; EOL false, which the
 * backend learns from conn_line_cut while its message op runs; text is
 * cut on a code point boundary), or at the end of the message (EOM).
 * Lines are passed on in pieces as they arrive: nothing is buffered.
 */
void
conn_lines(struct conn *c, enum ws_msg_type type, const uint8_t *data,
    size_t len, bool first, bool last)
{
	const uint8_t	*p = data, *end = data + len, *nl;
	size_t		 max, n, take;

	/* The connection's own MaxLineLength (config ID), else the global. */
	max = (size_t)conn_own(c, CONN_OWN_MAX_LINE, -1,
	    c->cfg->max_line_length);
	if (first) {
		c->line_open = false;
		c->line_len = 0;
	}
	while (p < end && c->b != NULL) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (max > 0 && c->line_len + n >= max &&
		    (nl == NULL || c->line_len + n > max)) {
			take = max - c->line_len;
			while (type == WS_MSG_TEXT && take > 0 && take < n &&
			    (p[take] & 0xc0) == 0x80)
				take--;
			if (take == 0 && c->line_len == 0)
				take = n;	/* one code point longer than max */
			/* EOL false: the backend may ask (conn_line_cut). */
			c->line_cut = true;
			c->bops->message(c->b, type, p, take, !c->line_open,
			    true);
			c->line_cut = false;
			c->line_open = false;
			c->line_len = 0;
			p += take;
			continue;
		}
		if (nl != NULL) {
			take = n > 0 && p[n - 1] == '\r' ? n - 1 : n;
			c->bops->message(c->b, type, p, take, !c->line_open,
			    true);
			c->line_open = false;
			c->line_len = 0;
			p = nl + 1;
			continue;
		}
		c->bops->message(c->b, type, p, n, !c->line_open, false);
		c->line_open = true;
		/* Counted only against a limit, which keeps it below max. */
		if (max > 0)
			c->line_len += (uint32_t)n;
		p = end;
	}
	if (last && c->line_open && c->b != NULL) {
		c->bops->message(c->b, type, NULL, 0, false, true);
		c->line_open = false;
	}
}
