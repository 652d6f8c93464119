/* ws-deflate.c - permessage-deflate (RFC 7692) negotiation and streams; no I/O. */
#include <sys/types.h>

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "core/ws-deflate.h"

#define DEFLATE_NAME		"permessage-deflate"
#define DEFLATE_LEVEL		6
#define DEFLATE_MEM_LEVEL	8
#define DEFLATE_WBITS		15
#define DEFLATE_MIN_SIZE	32

/*
 * Longest parameter value we need to look at ("15"); anything longer is
 * invalid for every parameter we know, so it is only measured.
 */
#define DEFLATE_VALUE_MAX	8

/* Compressed output goes out in pieces of at most this size. */
#define DEFLATE_OUT_CHUNK	(16 * 1024)

/* Input is handed to zlib in slices, as its counters are 32-bit. */
#define DEFLATE_SLICE		(1U << 30)

/*
 * Bound on zlib calls in a row that neither take input nor give output.
 * One such call is normal (a buffer that was exactly full); more means
 * the stream is stuck, which must not become an endless loop.
 */
#define DEFLATE_SPIN_MAX	4

/* The end of a sync flush: an empty stored block (RFC 7692 7.2.1). */
static const uint8_t	deflate_tail[4] = { 0x00, 0x00, 0xff, 0xff };

/* The parameters of one offer, as parsed. */
struct deflate_offer {
	bool	valid;		/* permessage-deflate, every parameter fine */
	bool	snct;		/* server_no_context_takeover */
	bool	cnct;		/* client_no_context_takeover */
	bool	has_smwb;	/* server_max_window_bits=N */
	int	smwb;
	bool	has_cmwb;	/* client_max_window_bits[=N] */
	int	cmwb;		/* 0: no value */
};

struct ws_deflate {
	struct ws_deflate_params	 params;
	size_t				 min_size;
	size_t				 zmem;		/* held by zlib */
	int				 level;
	int				 mem_level;
	/*
	 * The streams and their buffers are made on first use: an idle
	 * connection that agreed to compression costs only this struct.
	 */
	bool				 inf_on;
	bool				 def_on;

	/* Receiving: the peer's messages. */
	z_stream			 inf;
	uint8_t				*inf_buf;	/* WS_DEFLATE_CHUNK */
	const uint8_t			*inf_in;	/* not yet given to zlib */
	size_t				 inf_in_len;
	bool				 inf_fin;	/* the last input is given */
	bool				 inf_tail;	/* 00 00 ff ff given too */
	bool				 inf_more;	/* zlib may hold more output */
	bool				 inf_ended;	/* a BFINAL block ended it */
	bool				 inf_any;	/* the message had bytes */
	bool				 inf_dead;

	/* Sending: our messages. */
	z_stream			 def;
	uint8_t				*def_buf;	/* DEFLATE_OUT_CHUNK */
	size_t				 def_held;	/* bytes kept at def_buf */
	size_t				 def_shift;	/* handed out, to drop */
	const uint8_t			*def_in;
	size_t				 def_in_len;
	bool				 def_active;	/* a message is open */
	bool				 def_last;	/* its last piece is given */
	bool				 def_more;	/* zlib may hold more output */
	bool				 def_dead;
};

static int	 deflate_tchar(unsigned char);
static bool	 deflate_ows(char);
static size_t	 deflate_token(const char *);
static size_t	 deflate_value(const char *, char *, size_t, size_t *);
static int	 deflate_bits(const char *, size_t);
static bool	 deflate_name_eq(const char *, size_t, const char *);
static int	 deflate_param(struct deflate_offer *, const char *, size_t,
		    bool, const char *, size_t);
static const char *deflate_skip(const char *);
static int	 deflate_accept(const struct deflate_offer *,
		    const struct ws_deflate_config *, struct ws_deflate_params *,
		    char *, size_t);
static int	 deflate_clamp(int, int, int, int);
static void	*deflate_zalloc(void *, unsigned int, unsigned int);
static void	 deflate_zfree(void *, void *);
static void	*deflate_xmalloc(size_t);
static void	 deflate_inf_done(struct ws_deflate *);
static void	 deflate_def_done(struct ws_deflate *);

/* Fills cfg with the defaults, enabled. */
void
ws_deflate_config_default(struct ws_deflate_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->enabled = true;
	cfg->level = DEFLATE_LEVEL;
	cfg->mem_level = DEFLATE_MEM_LEVEL;
	cfg->max_window_bits = DEFLATE_WBITS;
	cfg->min_size = DEFLATE_MIN_SIZE;
	cfg->no_context_takeover = false;
}

/* Returns 1 for an RFC 7230 tchar, else 0. */
static int
deflate_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Returns true for optional whitespace (SP, HTAB). */
static bool
deflate_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* Returns the length of the token at p (0 when there is none). */
static size_t
deflate_token(const char *p)
{
	size_t	n = 0;

	while (deflate_tchar((unsigned char)p[n]))
		n++;
	return n;
}

/*
 * Reads a parameter value at p: a token or a quoted-string, unescaped
 * into val (up to max bytes kept, the full length in *vlen). Returns the
 * bytes of p used, or 0 for a syntax error.
 */
static size_t
deflate_value(const char *p, char *val, size_t max, size_t *vlen)
{
	size_t		 n, i = 1;
	unsigned char	 c;

	*vlen = 0;
	if (*p != '"') {
		n = deflate_token(p);
		for (i = 0; i < n && i < max; i++)
			val[i] = p[i];
		*vlen = n;
		return n;
	}
	for (;;) {
		c = (unsigned char)p[i];
		if (c == '"')
			return i + 1;
		if (c == '\\') {
			c = (unsigned char)p[i + 1];
			/* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
			if (c != '\t' && c < 0x20)
				return 0;
			if (c == 0x7f)
				return 0;
			i++;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f)
			return 0;
		if (*vlen < max)
			val[*vlen] = (char)c;
		(*vlen)++;
		i++;
	}
}

/*
 * Parses a window size: a decimal 8-15 without leading zeros (RFC 7692
 * 7.1.2). Returns it, or -1.
 */
static int
deflate_bits(const char *v, size_t len)
{
	if (len == 1 && v[0] >= '8' && v[0] <= '9')
		return v[0] - '0';
	if (len == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5')
		return 10 + v[1] - '0';
	return -1;
}

/* Compares a span with a name, ignoring ASCII case. */
static bool
deflate_name_eq(const char *p, size_t len, const char *name)
{
	size_t	i;
	char	a, b;

	if (strlen(name) != len)
		return false;
	for (i = 0; i < len; i++) {
		a = p[i];
		b = name[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/*
 * Takes one parameter of a permessage-deflate offer. Returns 0, or -1
 * when it makes the offer unacceptable (unknown, repeated, bad value).
 */
static int
deflate_param(struct deflate_offer *o, const char *name, size_t nlen,
    bool has_value, const char *val, size_t vlen)
{
	int	bits;

	if (deflate_name_eq(name, nlen, "server_no_context_takeover")) {
		if (o->snct || has_value)
			return -1;
		o->snct = true;
	} else if (deflate_name_eq(name, nlen, "client_no_context_takeover")) {
		if (o->cnct || has_value)
			return -1;
		o->cnct = true;
	} else if (deflate_name_eq(name, nlen, "server_max_window_bits")) {
		if (o->has_smwb || !has_value ||
		    (bits = deflate_bits(val, vlen)) < 0)
			return -1;
		o->has_smwb = true;
		o->smwb = bits;
	} else if (deflate_name_eq(name, nlen, "client_max_window_bits")) {
		if (o->has_cmwb)
			return -1;
		bits = 0;
		if (has_value && (bits = deflate_bits(val, vlen)) < 0)
			return -1;
		o->has_cmwb = true;
		o->cmwb = bits;
	} else
		return -1;
	return 0;
}

/*
 * Skips past the end of a malformed list element: to the next comma that
 * is not inside a quoted-string, or to the end of the header.
 */
static const char *
deflate_skip(const char *p)
{
	bool	quoted = false;

	for (; *p != '\0'; p++) {
		if (quoted && *p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == ',')
			break;
	}
	return p;
}

/* Returns v, or def when v is outside lo..hi. */
static int
deflate_clamp(int v, int lo, int hi, int def)
{
	return v < lo || v > hi ? def : v;
}

/*
 * Turns an acceptable offer into the agreement and the response text.
 * Returns 1, 0 when the offer cannot be honoured, -1 when the response
 * does not fit.
 */
static int
deflate_accept(const struct deflate_offer *o,
    const struct ws_deflate_config *cfg, struct ws_deflate_params *agreed,
    char *response, size_t response_len)
{
	struct ws_deflate_params	 a;
	char				 buf[160];
	int				 cap, n;

	/*
	 * zlib's raw deflate cannot keep to a 256-byte window (it silently
	 * uses 512), so a client that can only take 8 gets no compression.
	 */
	if (o->has_smwb && o->smwb < 9)
		return 0;
	cap = deflate_clamp(cfg->max_window_bits, 9, 15, DEFLATE_WBITS);
	memset(&a, 0, sizeof(a));
	a.server_no_context_takeover = o->snct || cfg->no_context_takeover;
	a.client_no_context_takeover = o->cnct;
	a.server_max_window_bits = o->has_smwb && o->smwb < cap ? o->smwb : cap;
	a.client_max_window_bits = o->has_cmwb && o->cmwb != 0 ? o->cmwb : 15;
	/*
	 * server_max_window_bits is only answered when asked: a smaller
	 * window than the client allows needs no announcement, and some
	 * clients refuse the parameter when they did not send it.
	 */
	n = snprintf(buf, sizeof(buf), "%s%s%s", DEFLATE_NAME,
	    a.server_no_context_takeover ? "; server_no_context_takeover" : "",
	    a.client_no_context_takeover ? "; client_no_context_takeover" : "");
	if (n > 0 && (size_t)n < sizeof(buf) && o->has_smwb)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "; server_max_window_bits=%d", a.server_max_window_bits);
	if (n > 0 && (size_t)n < sizeof(buf) && o->has_cmwb)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n,
		    "; client_max_window_bits=%d", a.client_max_window_bits);
	if (n <= 0 || (size_t)n >= sizeof(buf) || (size_t)n >= response_len)
		return -1;
	memcpy(response, buf, (size_t)n + 1);
	*agreed = a;
	return 1;
}

/*
 * Walks the comma-separated extension list (RFC 6455 9.1), taking the
 * first acceptable permessage-deflate offer. A malformed element spoils
 * only itself: the walk goes on after the next comma.
 */
int
ws_deflate_negotiate(const char *hdr, const struct ws_deflate_config *cfg,
    struct ws_deflate_params *agreed, char *response, size_t response_len)
{
	struct deflate_offer	 o;
	const char		*p = hdr, *name;
	char			 val[DEFLATE_VALUE_MAX];
	size_t			 n, nlen, vlen;
	bool			 has_value;
	int			 rc;

	if (hdr == NULL || cfg == NULL || !cfg->enabled)
		return 0;
	while (*p != '\0') {
		while (deflate_ows(*p) || *p == ',')
			p++;
		if (*p == '\0')
			break;
		memset(&o, 0, sizeof(o));
		if ((n = deflate_token(p)) == 0) {
			p = deflate_skip(p);
			continue;
		}
		o.valid = deflate_name_eq(p, n, DEFLATE_NAME);
		p += n;
		for (;;) {
			while (deflate_ows(*p))
				p++;
			if (*p == '\0' || *p == ',')
				break;
			if (*p != ';')
				goto bad;
			p++;
			while (deflate_ows(*p))
				p++;
			name = p;
			if ((nlen = deflate_token(p)) == 0)
				goto bad;
			p += nlen;
			while (deflate_ows(*p))
				p++;
			has_value = *p == '=';
			vlen = 0;
			if (has_value) {
				p++;
				while (deflate_ows(*p))
					p++;
				if ((n = deflate_value(p, val, sizeof(val),
				    &vlen)) == 0)
					goto bad;
				p += n;
			}
			if (o.valid && deflate_param(&o, name, nlen, has_value,
			    val, vlen) != 0)
				o.valid = false;
		}
		if (o.valid) {
			rc = deflate_accept(&o, cfg, agreed, response,
			    response_len);
			if (rc != 0)
				return rc;
		}
		continue;
 bad:
		p = deflate_skip(p);
	}
	return 0;
}

/*
 * zlib's allocator: plain malloc, with the size kept in front so that
 * ws_deflate_memory can tell what the stream holds.
 */
static void *
deflate_zalloc(void *opaque, unsigned int items, unsigned int size)
{
	struct ws_deflate	*d = opaque;
	max_align_t		*p;
	size_t			 n;

	if (size != 0 && items > (SIZE_MAX - sizeof(*p)) / size)
		return NULL;
	n = (size_t)items * size;
	if ((p = malloc(sizeof(*p) + n)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	d->zmem += n;
	return p + 1;
}

/* zlib's deallocator, the counterpart of deflate_zalloc. */
static void
deflate_zfree(void *opaque, void *q)
{
	struct ws_deflate	*d = opaque;
	max_align_t		*p = q;
	size_t			 n;

	if (p == NULL)
		return;
	p--;
	memcpy(&n, p, sizeof(n));
	d->zmem -= n;
	free(p);
}

/* Allocates; the protocol core has no way to go on without memory. */
static void *
deflate_xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n)) == NULL)
		abort();
	return p;
}

/* Creates a connection's two streams with all their buffers. */
struct ws_deflate *
ws_deflate_new(const struct ws_deflate_params *params,
    const struct ws_deflate_config *cfg)
{
	struct ws_deflate_config	 def;
	struct ws_deflate		*d;
	int				 level, mem, sbits, cbits;

	if (cfg == NULL) {
		ws_deflate_config_default(&def);
		cfg = &def;
	}
	d = deflate_xmalloc(sizeof(*d));
	memset(d, 0, sizeof(*d));
	d->params = *params;
	d->min_size = cfg->min_size;
	level = deflate_clamp(cfg->level, 0, 9, DEFLATE_LEVEL);
	mem = deflate_clamp(cfg->mem_level, 1, 9, DEFLATE_MEM_LEVEL);
	/* Negotiation never agrees on 8, which zlib cannot keep to. */
	sbits = deflate_clamp(params->server_max_window_bits, 9, 15,
	    DEFLATE_WBITS);
	/*
	 * A zlib-based peer asked for 8 really uses 9, so the inflater
	 * takes 9 at least; it costs 256 bytes.
	 */
	cbits = deflate_clamp(params->client_max_window_bits, 8, 15,
	    DEFLATE_WBITS);
	if (cbits < 9)
		cbits = 9;
	d->params.server_max_window_bits = sbits;
	d->params.client_max_window_bits = cbits;
	d->level = level;
	d->mem_level = mem;
	return d;
}

/* Makes the inflater and its buffer, the first time a message needs them. */
static void
deflate_inf_start(struct ws_deflate *d)
{
	if (d->inf_on)
		return;
	d->inf.zalloc = deflate_zalloc;
	d->inf.zfree = deflate_zfree;
	d->inf.opaque = d;
	if (inflateInit2(&d->inf, -d->params.client_max_window_bits) != Z_OK)
		abort();
	d->inf_buf = deflate_xmalloc(WS_DEFLATE_CHUNK);
	d->inf_on = true;
}

/* Makes the compressor and its buffer, the first time a message needs them. */
static void
deflate_def_start(struct ws_deflate *d)
{
	if (d->def_on)
		return;
	d->def.zalloc = deflate_zalloc;
	d->def.zfree = deflate_zfree;
	d->def.opaque = d;
	if (deflateInit2(&d->def, d->level, Z_DEFLATED,
	    -d->params.server_max_window_bits, d->mem_level,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	d->def_buf = deflate_xmalloc(DEFLATE_OUT_CHUNK);
	d->def_on = true;
}

/* Frees both streams and their buffers. */
void
ws_deflate_free(struct ws_deflate *d)
{
	if (d == NULL)
		return;
	if (d->inf_on)
		inflateEnd(&d->inf);
	if (d->def_on)
		deflateEnd(&d->def);
	free(d->inf_buf);
	free(d->def_buf);
	free(d);
}

/* Returns the configured min_size. */
size_t
ws_deflate_min_size(const struct ws_deflate *d)
{
	return d->min_size;
}

/* Returns the bytes this stream holds. */
size_t
ws_deflate_memory(const struct ws_deflate *d)
{
	return sizeof(*d) + (d->inf_on ? WS_DEFLATE_CHUNK : 0) +
	    (d->def_on ? DEFLATE_OUT_CHUNK : 0) + d->zmem;
}

/* Hands over the next compressed bytes of the message being received. */
void
ws_deflate_inflate_input(struct ws_deflate *d, const uint8_t *in, size_t len,
    bool fin)
{
	deflate_inf_start(d);
	/* Input given before the last was used up would be lost. */
	if (d->inf.avail_in != 0 || d->inf_in_len != 0 || d->inf_fin)
		d->inf_dead = true;
	/* After a final deflate block the rest of the message is ignored. */
	if (d->inf_ended || in == NULL)
		len = 0;
	if (len > 0)
		d->inf_any = true;
	d->inf_in = in;
	d->inf_in_len = len;
	d->inf_fin = fin;
}

/*
 * Ends a received message: without context takeover (or after a final
 * block) the next message starts with an empty window.
 */
static void
deflate_inf_done(struct ws_deflate *d)
{
	if (d->params.client_no_context_takeover || d->inf_ended)
		if (inflateReset(&d->inf) != Z_OK)
			d->inf_dead = true;
	d->inf.avail_in = 0;
	d->inf_in_len = 0;
	d->inf_fin = false;
	d->inf_tail = false;
	d->inf_more = false;
	d->inf_ended = false;
	d->inf_any = false;
}

/*
 * Inflates into the fixed buffer and hands out the next piece: as much as
 * the buffer takes, so that the end of a message (the output of the tail)
 * usually rides on the piece before it instead of an empty one.
 */
int
ws_deflate_inflate_next(struct ws_deflate *d, const uint8_t **out,
    size_t *len, bool *final)
{
	z_stream	*z = &d->inf;
	uInt		 before;
	size_t		 n, fill = 0;
	int		 rc, spins = 0;

	*out = d->inf_buf;
	*len = 0;
	*final = false;
	while (!d->inf_dead) {
		if (z->avail_in == 0 && d->inf_in_len > 0) {
			n = d->inf_in_len < DEFLATE_SLICE ? d->inf_in_len :
			    DEFLATE_SLICE;
			z->next_in = d->inf_in;
			z->avail_in = (uInt)n;
			d->inf_in += n;
			d->inf_in_len -= n;
		}
		if (z->avail_in == 0 && !d->inf_more) {
			if (!d->inf_fin) {
				*len = fill;
				return fill > 0;
			}
			/*
			 * An empty payload is an empty message; feeding the
			 * tail alone would leave zlib inside a block header.
			 */
			if (d->inf_tail || d->inf_ended || !d->inf_any) {
				/*
				 * The tail is an empty stored block: after it
				 * zlib must wait for a block header (data_type
				 * bit 128). Anything else means the message
				 * stopped inside a block: truncated data.
				 */
				if (d->inf_tail && !d->inf_ended &&
				    (z->data_type & 128) == 0) {
					d->inf_dead = true;
					break;
				}
				deflate_inf_done(d);
				if (d->inf_dead)
					break;
				*len = fill;
				*final = true;
				return 1;
			}
			z->next_in = deflate_tail;
			z->avail_in = sizeof(deflate_tail);
			d->inf_tail = true;
		}
		z->next_out = d->inf_buf + fill;
		z->avail_out = (uInt)(WS_DEFLATE_CHUNK - fill);
		before = z->avail_in;
		rc = inflate(z, Z_SYNC_FLUSH);
		n = WS_DEFLATE_CHUNK - fill - z->avail_out;
		fill += n;
		if (rc == Z_STREAM_END) {
			d->inf_ended = true;
			d->inf_more = false;
			z->avail_in = 0;
			d->inf_in_len = 0;
		} else if (rc == Z_OK || rc == Z_BUF_ERROR) {
			d->inf_more = z->avail_out == 0;
			if (n == 0 && z->avail_in == before) {
				/* No progress: only fine with nothing to take. */
				d->inf_more = false;
				if (z->avail_in != 0 || ++spins > DEFLATE_SPIN_MAX)
					d->inf_dead = true;
			}
		} else
			d->inf_dead = true;
		if (!d->inf_dead && fill == WS_DEFLATE_CHUNK) {
			*len = fill;
			return 1;
		}
	}
	return -1;
}

/* Hands over the next piece of the message being sent. */
void
ws_deflate_compress_input(struct ws_deflate *d, const uint8_t *in, size_t len,
    bool last)
{
	deflate_def_start(d);
	if (d->def.avail_in != 0 || d->def_in_len != 0 || d->def_last)
		d->def_dead = true;
	if (in == NULL)
		len = 0;
	d->def_active = true;
	d->def_in = in;
	d->def_in_len = len;
	d->def_last = last;
}

/* Ends a sent message; without context takeover the window is dropped. */
static void
deflate_def_done(struct ws_deflate *d)
{
	d->def_active = false;
	d->def_last = false;
	d->def_more = false;
	d->def_held = 0;
	if (d->params.server_no_context_takeover &&
	    deflateReset(&d->def) != Z_OK)
		d->def_dead = true;
}

/*
 * Compresses into the fixed buffer. The last 4 bytes are always held
 * back until more follows, so that the sync flush's 00 00 ff ff can be
 * cut off even when it straddles two pieces.
 */
int
ws_deflate_compress_next(struct ws_deflate *d, const uint8_t **out,
    size_t *len, bool *final)
{
	z_stream	*z = &d->def;
	uInt		 before;
	size_t		 n, total;
	int		 rc, flush, spins = 0;

	*out = d->def_buf;
	*len = 0;
	*final = false;
	if (d->def_shift > 0) {
		memmove(d->def_buf, d->def_buf + d->def_shift, d->def_held);
		d->def_shift = 0;
	}
	while (!d->def_dead) {
		if (z->avail_in == 0 && d->def_in_len > 0) {
			n = d->def_in_len < DEFLATE_SLICE ? d->def_in_len :
			    DEFLATE_SLICE;
			z->next_in = d->def_in;
			z->avail_in = (uInt)n;
			d->def_in += n;
			d->def_in_len -= n;
		}
		if (!d->def_active ||
		    (z->avail_in == 0 && !d->def_last && !d->def_more))
			return 0;
		flush = d->def_last && d->def_in_len == 0 ? Z_SYNC_FLUSH :
		    Z_NO_FLUSH;
		z->next_out = d->def_buf + d->def_held;
		z->avail_out = (uInt)(DEFLATE_OUT_CHUNK - d->def_held);
		before = z->avail_in;
		rc = deflate(z, flush);
		total = DEFLATE_OUT_CHUNK - z->avail_out;
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			d->def_dead = true;
			break;
		}
		d->def_more = z->avail_out == 0;
		if (flush == Z_SYNC_FLUSH && !d->def_more && z->avail_in == 0) {
			/*
			 * zlib refuses a second flush in a row, so an empty
			 * message right after another one gives nothing.
			 */
			if (total == 0)
				n = 0;
			else if (total < sizeof(deflate_tail) ||
			    memcmp(d->def_buf + total - sizeof(deflate_tail),
			    deflate_tail, sizeof(deflate_tail)) != 0) {
				d->def_dead = true;
				break;
			} else
				n = total - sizeof(deflate_tail);
			if (n == 0) {
				/*
				 * At a flushed boundary: the start of an empty
				 * stored block, which the peer's 00 00 ff ff
				 * completes (RFC 7692 7.2.3.6).
				 */
				d->def_buf[0] = 0x00;
				n = 1;
			}
			deflate_def_done(d);
			if (d->def_dead)
				break;
			*len = n;
			*final = true;
			return 1;
		}
		if (d->def_more) {
			d->def_held = sizeof(deflate_tail);
			d->def_shift = total - d->def_held;
			*len = d->def_shift;
			return 1;
		}
		if (total == d->def_held && z->avail_in == before &&
		    ++spins > DEFLATE_SPIN_MAX)
			d->def_dead = true;
		d->def_held = total;
	}
	return -1;
}
