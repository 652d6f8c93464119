/* fuzz_admin.c - libFuzzer target for the admin socket's command parser and encoders. */
#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <openssl/evp.h>

#include "admin/cmd.h"
#include "core/ws-utf8.h"

/*
 * Input layout: byte 0 chooses what is fuzzed (bits 0-1: the command
 * parser, base64, JSON strings) and a size (bits 2-7: the output room
 * for base64); the rest is the line
 * or the text. Invariants, any violation aborts: the parser's answer is
 * one of its codes, its arguments lie in the request's copy of the line,
 * hold no separator (but a rest-of-line text), and a second parse agrees;
 * base64 output fits and encodes back to the input; a JSON string is
 * valid UTF-8, has no raw control character and decodes back to the
 * input bytes.
 */
enum {
	FZ_PARSE,
	FZ_BASE64,
	FZ_JSON,
};

/* Whether p lies inside buf[0..len]. */
static bool
fz_inside(const char *p, const char *buf, size_t len)
{
	return p >= buf && p <= buf + len;
}

/* The command parser. */
static void
fz_parse(const uint8_t *data, size_t size)
{
	static struct admin_req	 r1, r2;
	char			*err1 = NULL, *err2 = NULL;
	size_t			 blen;
	int			 rc1, rc2, i;

	rc1 = admin_parse((const char *)data, size, &r1, &err1);
	rc2 = admin_parse((const char *)data, size, &r2, &err2);
	if (rc1 != rc2)
		abort();
	if (rc1 != 0) {
		if (rc1 != WSD_ERR_LINE && rc1 != WSD_ERR_UNKNOWN &&
		    rc1 != WSD_ERR_AMBIGUOUS && rc1 != WSD_ERR_USAGE)
			abort();
		/* A cause every time, the same twice. */
		if (err1 == NULL || err2 == NULL || strcmp(err1, err2) != 0)
			abort();
		free(err1);
		free(err2);
		return;
	}
	/* No cause without a failure. */
	if (err1 != NULL || err2 != NULL)
		abort();
	if (r1.cmd < 0 || (size_t)r1.cmd >= admin_cmd_count() ||
	    r1.cmd != r2.cmd || r1.argc != r2.argc || r1.json != r2.json)
		abort();
	if (r1.json && !admin_cmd_json((size_t)r1.cmd))
		abort();
	if (r1.argc < 0 || r1.argc > ADMIN_MAX_ARGS)
		abort();
	/* buf is orig with NULs put after the arguments. */
	blen = strlen(r1.orig);
	if (blen > size || memcmp(r1.buf, r1.orig, strlen(r1.buf)) != 0)
		abort();
	for (i = 0; i < ADMIN_MAX_ARGS; i++) {
		if (i >= r1.argc) {
			if (r1.argv[i] != NULL)
				abort();
			continue;
		}
		if (r1.argv[i] == NULL || r1.tail[i] == NULL ||
		    !fz_inside(r1.argv[i], r1.buf, blen) ||
		    !fz_inside(r1.tail[i], r1.orig, blen))
			abort();
		/* An argument sits where its tail begins in the original. */
		if (r1.argv[i] - r1.buf != r1.tail[i] - r1.orig ||
		    strncmp(r1.argv[i], r1.tail[i], strlen(r1.argv[i])) != 0)
			abort();
		if (strcmp(r1.argv[i], r2.argv[i]) != 0)
			abort();
		/* Only a command's last (rest-of-line) text holds blanks. */
		if (i < r1.argc - 1 && strpbrk(r1.argv[i], " \t") != NULL)
			abort();
		if (i < r1.argc - 1 && r1.argv[i][0] == '\0')
			abort();
	}
}

/* Base64: the decoded bytes encode back to the input, padding aside. */
static void
fz_base64(const uint8_t *data, size_t size, size_t outlen)
{
	uint8_t		 out[ADMIN_LINE_MAX];
	unsigned char	*again;
	size_t		 in = size, n;
	ssize_t		 r;

	if (outlen > sizeof(out))
		outlen = sizeof(out);
	r = admin_base64_decode((const char *)data, size, out, outlen);
	if (r < -1 || r > (ssize_t)outlen)
		abort();
	if (r == -1)
		return;
	while (in > 0 && data[in - 1] == '=')
		in--;
	n = (size_t)r;
	if ((again = malloc(4 * (n / 3 + 1) + 1)) == NULL)
		abort();
	EVP_EncodeBlock(again, out, (int)n);
	n = strlen((char *)again);
	while (n > 0 && again[n - 1] == '=')
		n--;
	if (n != in || memcmp(again, data, n) != 0)
		abort();
	free(again);
}

/* Value of a hex digit, or abort. */
static unsigned int
fz_hex(char c)
{
	if (c >= '0' && c <= '9')
		return (unsigned int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (unsigned int)(c - 'a' + 10);
	abort();
}

/* Appends code point cp as UTF-8. */
static size_t
fz_utf8(uint8_t *out, unsigned int cp)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	out[0] = (uint8_t)(0xe0 | cp >> 12);
	out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	out[2] = (uint8_t)(0x80 | (cp & 0x3f));
	return 3;
}

/*
 * What a JSON parser must read back: the bytes given, with every byte that
 * is not part of valid UTF-8 taken as its Latin-1 reading (U+0080-U+00FF).
 * Judged by the protocol core's validator, not the code under test.
 */
static size_t
fz_canonical(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t	i = 0, o = 0, n;

	while (i < len) {
		n = in[i] < 0x80 ? 1 : in[i] >= 0xf0 ? 4 : in[i] >= 0xe0 ? 3 :
		    in[i] >= 0xc0 ? 2 : 0;
		if (n > 0 && i + n <= len && ws_utf8_valid(in + i, n)) {
			memcpy(out + o, in + i, n);
			o += n;
			i += n;
		} else
			o += fz_utf8(out + o, in[i++]);
	}
	return o;
}

/* Whether the UTF-8 at p is a code point that must not appear raw. */
static int
fz_unprintable(const uint8_t *p, size_t left)
{
	if (left >= 2 && p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 1;
	if (left >= 3 && p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xa8 &&
	    p[2] <= 0xae) || (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
		return 1;
	return 0;
}

/*
 * JSON strings: valid UTF-8 without raw controls (C0, DEL, C1, line
 * separators, bidi controls), and they decode back to the bytes given
 * (fz_canonical).
 */
static void
fz_json(const uint8_t *data, size_t size)
{
	struct evbuffer	*b;
	const char	*s;
	uint8_t		*dec, *want;
	size_t		 len, i, n = 0, wn;
	unsigned int	 cp;

	if ((b = evbuffer_new()) == NULL)
		abort();
	admin_json_string(b, (const char *)data, size);
	len = evbuffer_get_length(b);
	s = (const char *)evbuffer_pullup(b, -1);
	if (len < 2 || s[0] != '"' || s[len - 1] != '"' ||
	    !ws_utf8_valid((const uint8_t *)s, len))
		abort();
	if ((dec = malloc(len * 3)) == NULL ||
	    (want = malloc(size * 2 + 1)) == NULL)
		abort();
	for (i = 1; i < len - 1; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"' ||
		    fz_unprintable((const uint8_t *)s + i, len - 1 - i))
			abort();
		if (s[i] != '\\') {
			dec[n++] = (uint8_t)s[i];
			continue;
		}
		if (++i >= len - 1)
			abort();
		switch (s[i]) {
		case '"':
		case '\\':
			dec[n++] = (uint8_t)s[i];
			break;
		case 'n':
			dec[n++] = '\n';
			break;
		case 'r':
			dec[n++] = '\r';
			break;
		case 't':
			dec[n++] = '\t';
			break;
		case 'u':
			/* Lowercase hex, a code point of the BMP. */
			if (i + 4 >= len - 1)
				abort();
			cp = fz_hex(s[i + 1]) << 12 | fz_hex(s[i + 2]) << 8 |
			    fz_hex(s[i + 3]) << 4 | fz_hex(s[i + 4]);
			n += fz_utf8(dec + n, cp);
			i += 4;
			break;
		default:
			abort();
		}
	}
	wn = fz_canonical(data, size, want);
	if (n != wn || memcmp(dec, want, wn) != 0)
		abort();
	free(dec);
	free(want);
	evbuffer_free(b);
}

/* libFuzzer entry point. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t	room;

	if (size < 1)
		return 0;
	room = (size_t)(data[0] >> 2);
	switch ((data[0] & 3) % 3) {
	case FZ_PARSE:
		/* Error buffers of 1 to 64 bytes, and the usual 255. */
		fz_parse(data + 1, size - 1);
		break;
	case FZ_BASE64:
		fz_base64(data + 1, size - 1, room == 63 ? SIZE_MAX :
		    room * 48);
		break;
	case FZ_JSON:
		fz_json(data + 1, size - 1);
		break;
	}
	return 0;
}
