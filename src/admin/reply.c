/* reply.c - the admin socket's state and how replies are written: OK and ERR lines, data lines, JSON. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "admin/admin-int.h"
#include "admin/cmd.h"
#include "base/log.h"

struct admin_state	admin;

/* The client's output buffer. */
struct evbuffer *
admin_out(struct admin_client *cl)
{
	return bufferevent_get_output(cl->bev);
}

/*
 * Appends s with every character that is not printable escaped as \xHH
 * (log_escape): one reply line stays one, stays text for any client, and
 * sends no terminal a control sequence.
 */
static void
admin_add_clean(struct evbuffer *b, const char *s)
{
	char	 esc[1024];
	size_t	 len = strlen(s), taken, n;

	while (len > 0) {
		n = log_escape(s, len, esc, sizeof(esc), &taken);
		evbuffer_add(b, esc, n);
		s += taken;
		len -= taken;
	}
}

/* Writes a data line (printf-like, then cleaned); never an empty one. */
void
admin_line(struct admin_client *cl, const char *fmt, ...)
{
	char	 buf[2048];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	admin_add_clean(admin_out(cl), *buf != '\0' ? buf : " ");
	evbuffer_add(admin_out(cl), "\n", 1);
}

/* Starts a success reply: "OK" and an optional text. */
void
admin_ok(struct admin_client *cl, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	*buf = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
	}
	evbuffer_add(admin_out(cl), "OK", 2);
	if (*buf != '\0') {
		evbuffer_add(admin_out(cl), " ", 1);
		admin_add_clean(admin_out(cl), buf);
	}
	evbuffer_add(admin_out(cl), "\n", 1);
}

/* Ends a reply with the empty line. */
void
admin_end(struct admin_client *cl)
{
	evbuffer_add(admin_out(cl), "\n", 1);
}

/* A whole error reply: "ERR <code> <text>" and the empty line. */
void
admin_err(struct admin_client *cl, int code, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	evbuffer_add_printf(admin_out(cl), "ERR %d ", code);
	admin_add_clean(admin_out(cl), buf);
	evbuffer_add(admin_out(cl), "\n\n", 2);
}

/* Starts an "OK" reply whose data is one JSON line, left open for the value. */
struct evbuffer *
admin_json_begin(struct admin_client *cl)
{
	evbuffer_add(admin_out(cl), "OK\n", 3);
	return admin_out(cl);
}

/* Ends the JSON line and the reply. */
void
admin_json_end(struct admin_client *cl)
{
	evbuffer_add(admin_out(cl), "\n\n", 2);
}

/* Appends "name": "value", with a comma unless first. */
void
admin_json_kv(struct evbuffer *b, bool *first, const char *name,
    const char *value)
{
	evbuffer_add_printf(b, "%s\"%s\":", *first ? "" : ",", name);
	admin_json_string(b, value != NULL ? value : "",
	    value != NULL ? strlen(value) : 0);
	*first = false;
}

/* Appends "name": number. */
void
admin_json_kn(struct evbuffer *b, bool *first, const char *name,
    unsigned long long v)
{
	evbuffer_add_printf(b, "%s\"%s\":%llu", *first ? "" : ",", name, v);
	*first = false;
}

/* Appends "name": true|false. */
void
admin_json_kb(struct evbuffer *b, bool *first, const char *name, bool v)
{
	evbuffer_add_printf(b, "%s\"%s\":%s", *first ? "" : ",", name,
	    v ? "true" : "false");
	*first = false;
}

/* Open connections: this process's, or with workers all of theirs. */
unsigned int
admin_nconns(void)
{
	return admin.role->nconns();
}

/* Writes multi-line text as data lines. */
void
admin_lines(struct admin_client *cl, const char *text)
{
	const char	*p, *e;

	for (p = text; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, "\n");
		if (e > p)
			admin_line(cl, "%.*s", (int)(e - p), p);
	}
}

/* Writes what is queued for a client now, as far as the socket takes it. */
void
admin_flush(struct admin_client *cl)
{
	struct evbuffer	*out = admin_out(cl);
	int		 fd = (int)bufferevent_getfd(cl->bev);

	while (evbuffer_get_length(out) > 0 && evbuffer_write(out, fd) > 0)
		;
}

/* Removes spaces and tabs at both ends of s, in place. */
char *
admin_trim(char *s)
{
	size_t	 n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}
