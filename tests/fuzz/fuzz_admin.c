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

/* JSON strings: valid, and they decode back to the bytes given. */
static void
fz_json(const uint8_t *data, size_t size)
{
	struct evbuffer	*b;
	const char	*s;
	uint8_t		*dec;
	size_t		 len, i, n = 0;

	if ((b = evbuffer_new()) == NULL)
		abort();
	admin_json_string(b, (const char *)data, size);
	len = evbuffer_get_length(b);
	s = (const char *)evbuffer_pullup(b, -1);
	if (len < 2 || s[0] != '"' || s[len - 1] != '"' ||
	    !ws_utf8_valid((const uint8_t *)s, len))
		abort();
	if ((dec = malloc(len)) == NULL)
		abort();
	for (i = 1; i < len - 1; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == '"')
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
			/* Only \u00XX: one byte, read as Latin-1. */
			if (i + 4 >= len - 1 || s[i + 1] != '0' ||
			    s[i + 2] != '0')
				abort();
			dec[n++] = (uint8_t)(fz_hex(s[i + 3]) << 4 |
			    fz_hex(s[i + 4]));
			i += 4;
			break;
		default:
			abort();
		}
	}
	if (n != size || memcmp(dec, data, size) != 0)
		abort();
	free(dec);
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
