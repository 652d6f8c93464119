/* reply.c - the admin socket's state and how replies are written: OK and ERR lines, data lines, JSON. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/*
 * Table replies ("connections", "topics") merged (each worker's, or each
 * node's): one count of noun, one header, every row; a JSON array: every
 * element. NULL replies are skipped; when none is an OK, the first reply
 * (or a 503) answers. note: text after the count (NULL: none).
 */
void
admin_merge_rows(struct admin_client *cl, const char *const *replies, int n,
    bool json, const char *noun, const char *note)
{
	struct evbuffer	*out = admin_out(cl);
	const char	*s, *p, *e, *hdr = NULL;
	unsigned long	 total = 0;
	bool		 any = false;
	int		 i;

	for (i = 0; i < n; i++) {
		s = replies[i];
		if (s == NULL || strncmp(s, "OK", 2) != 0)
			continue;
		any = true;
		if (!json)
			total += strtoul(s + 3, NULL, 10);
	}
	if (!any) {
		for (i = 0; i < n && replies[i] == NULL; i++)
			;
		evbuffer_add_printf(out, "%s", i < n ? replies[i] :
		    "ERR 503 no worker answered\n\n");
		return;
	}
	if (json)
		evbuffer_add(out, "OK\n[", 4);
	else
		evbuffer_add_printf(out, "OK %lu %s%s%s\n", total, noun,
		    note != NULL ? "; " : "", note != NULL ? note : "");
	any = false;
	for (i = 0; i < n; i++) {
		s = replies[i];
		if (s == NULL || strncmp(s, "OK", 2) != 0 ||
		    (p = strchr(s, '\n')) == NULL)
			continue;
		p++;
		if (json) {
			/* "[a,b]\n\n": the elements between the brackets. */
			if (*p != '[' || (e = strchr(p, '\n')) == NULL ||
			    e - p < 2 || e[-1] != ']' || e - p == 2)
				continue;
			evbuffer_add_printf(out, "%s%.*s", any ? "," : "",
			    (int)(e - p - 2), p + 1);
			any = true;
			continue;
		}
		/* The table header is the first data line. */
		if ((e = strchr(p, '\n')) == NULL)
			continue;
		if (hdr == NULL) {
			hdr = p;
			evbuffer_add(out, p, (size_t)(e - p + 1));
		}
		p = e + 1;
		/* The rows, up to the empty line. */
		if ((e = strstr(p, "\n\n")) != NULL && e >= p)
			evbuffer_add(out, p, (size_t)(e - p + 1));
	}
	evbuffer_add(out, json ? "]\n\n" : "\n", json ? 3 : 1);
}
