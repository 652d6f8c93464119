/* fuzz_handshake.c - libFuzzer target for the opening handshake parser. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ws-handshake.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Checks what a successful parse promises its callers. */
static void
fuzz_check_request(const struct ws_request *req)
{
	char	out[1024], proto[64], accept[WS_ACCEPT_LEN + 1];
	size_t	i, n;

	assert(strcmp(req->method, "GET") == 0);
	assert(req->path != NULL && req->path[0] == '/');
	assert(req->query != NULL && req->uri != NULL);
	assert(strncmp(req->version, "HTTP/1.", 7) == 0);
	assert(req->nheaders <= WS_MAX_HEADERS);
	assert(req->host != NULL && req->host[0] != '\0');
	assert(req->key != NULL && strlen(req->key) == 24);
	for (i = 0; i < req->nheaders; i++) {
		assert(req->headers[i].name[0] != '\0');
		assert(strpbrk(req->headers[i].value, "\r\n") == NULL);
	}
	/* An absolute-form target's host stands for Host (still valid). */
	if (req->target_host != NULL)
		assert(req->host == req->target_host);
	else
		assert(ws_request_header(req, "host") == req->host);
	assert(ws_host_valid(req->host, strlen(req->host)));
	assert(ws_host_valid(ws_request_header(req, "host"),
	    strlen(ws_request_header(req, "host"))));
	assert(strcmp(req->version, "HTTP/1.1") == 0);
	assert(ws_request_header(req, "content-length") == NULL);
	assert(ws_request_header(req, "transfer-encoding") == NULL);
	/* The path is normalized: no dot segment, no encoded NUL. */
	n = strlen(req->path);
	assert(strstr(req->path, "/./") == NULL &&
	    strstr(req->path, "/../") == NULL && strstr(req->path, "%00") ==
	    NULL);
	assert(!(n >= 2 && strcmp(req->path + n - 2, "/.") == 0));
	assert(!(n >= 3 && strcmp(req->path + n - 3, "/..") == 0));
	ws_handshake_accept(req->key, accept);
	assert(strlen(accept) == WS_ACCEPT_LEN);
	if (ws_handshake_select_protocol(req, "chat, superchat, a", proto,
	    sizeof proto) == 1)
		assert(strcmp(proto, "chat") == 0 ||
		    strcmp(proto, "superchat") == 0 || strcmp(proto, "a") == 0);
	n = ws_handshake_response(out, sizeof out, req->key, NULL, NULL);
	assert(n > 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_request	 req;
	const char		*buf, *cause;
	char			 out[512];
	size_t			 scanned = 0, have = 0, head = 0, whole;
	size_t			 step;
	int			 status, rc;

	if (size < 1)
		return 0;
	/* The first byte picks the chunk size the bytes arrive in. */
	step = 1 + data[0] % 64;
	buf = (const char *)data + 1;
	size--;
	while (have < size && head == 0) {
		have = have + step > size ? size : have + step;
		head = ws_handshake_head_end(buf, have, &scanned);
	}
	scanned = 0;
	whole = ws_handshake_head_end(buf, size, &scanned);
	assert(head == whole);
	if (head == 0)
		return 0;
	assert(head <= size && head <= have);
	assert(buf[head - 1] == '\n');

	status = 0;
	cause = NULL;
	rc = ws_handshake_parse(buf, head, &req, &status, &cause);
	if (rc == 0)
		fuzz_check_request(&req);
	else {
		assert(rc == -1 && cause != NULL);
		assert(status == 400 || status == 405 || status == 426 ||
		    status == 431 || status == 505);
		assert(ws_handshake_error(out, sizeof out, status, cause) > 0);
	}
	ws_request_free(&req);
	assert(req.method == NULL && req.nheaders == 0);
	return 0;
}
