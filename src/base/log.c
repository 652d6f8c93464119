/* log.c - the daemon's log: one write(2) per line to stderr. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* log.h's LogLevel names are syslog.h's priorities: keep those apart. */
enum {
	LOG_SYSLOG_INFO = LOG_INFO,
	LOG_SYSLOG_DEBUG = LOG_DEBUG,
};
#undef LOG_INFO
#undef LOG_DEBUG

#include "base/log.h"
#include "core/ws-handshake.h"

/* What masked values are replaced with. */
#define LOG_MASKED	"***"
/* Longest SensitiveQueryParams kept. */
#define LOG_PARAMS_MAX	1024

/* Longest line written, line end included; longer ones end in "...". */
#define LOG_LINE_MAX	2048

enum log_severity {
	SEV_ERROR,
	SEV_WARN,
	SEV_INFO,
	SEV_VERBOSE,
	SEV_DEBUG,
};

static const struct {
	const char	*journal;	/* sd-daemon(3) priority prefix */
	const char	*word;
	int		 level;		/* lowest LogLevel that shows it */
	int		 syslog;	/* syslog(3) priority */
} log_severities[] = {
	[SEV_ERROR] = { "<3>", "ERROR", LOG_NONE, LOG_ERR },
	[SEV_WARN] = { "<4>", "WARN", LOG_NONE, LOG_WARNING },
	[SEV_INFO] = { "<6>", "INFO", LOG_INFO, LOG_SYSLOG_INFO },
	[SEV_VERBOSE] = { "<6>", "VERBOSE", LOG_VERBOSE, LOG_SYSLOG_INFO },
	[SEV_DEBUG] = { "<7>", "DEBUG", LOG_DEBUG, LOG_SYSLOG_DEBUG },
};

static int		log_level = LOG_INFO;
static bool		log_journal;
static log_hook_fn	log_hook;
static bool		log_in_hook;	/* the hook's own lines do not loop */
static bool		log_syslog;	/* LogTarget = syslog */
static int		log_fd = -1;	/* LogFile, when set */
static char		*log_path;
static bool		log_masking = true;	/* MaskSensitiveData */
static char		log_params[LOG_PARAMS_MAX + 1] =
			    "token,access_token,password,key";

static void	log_write(enum log_severity, const char *, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* True if JOURNAL_STREAM names the file stderr is open on. */
static bool
log_stderr_is_journal(void)
{
	struct stat		 sb;
	const char		*env;
	unsigned long long	 dev, ino;
	char			*end;

	if ((env = getenv("JOURNAL_STREAM")) == NULL)
		return false;
	errno = 0;
	dev = strtoull(env, &end, 10);
	if (end == env || *end != ':' || errno != 0)
		return false;
	env = end + 1;
	ino = strtoull(env, &end, 10);
	if (end == env || *end != '\0' || errno != 0)
		return false;
	if (fstat(STDERR_FILENO, &sb) == -1)
		return false;
	return (unsigned long long)sb.st_dev == dev &&
	    (unsigned long long)sb.st_ino == ino;
}

/* Formats one line and writes it with a single write(2). */
static void
log_vwrite(enum log_severity sev, const char *prefix, const char *fmt,
    va_list ap)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 buf[LOG_LINE_MAX], esc[LOG_LINE_MAX];
	size_t		 len, start, avail, taken;
	ssize_t		 n;
	int		 saved_errno, r;

	if (log_level < log_severities[sev].level)
		return;
	saved_errno = errno;
	if (prefix == NULL)
		prefix = "";
	if (log_journal && log_fd == -1)
		r = snprintf(buf, sizeof buf, "%s%s",
		    log_severities[sev].journal, prefix);
	else {
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		r = snprintf(buf, sizeof buf,
		    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s",
		    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
		    log_severities[sev].word, prefix);
	}
	/* The prefixes are short constants: the head always fits. */
	start = len = r > 0 ? (size_t)r : 0;
	avail = sizeof buf - 1 - len;		/* one byte kept for '\n' */
	r = vsnprintf(buf + len, avail + 1, fmt, ap);
	if (r < 0)
		r = 0;
	if ((size_t)r > avail) {
		len = sizeof buf - 1 - 3;
		memcpy(buf + len, "...", 3);
		len += 3;
	} else
		len += (size_t)r;
	/*
	 * A line end, a terminal's escape sequence (C0 or C1) or a bidi
	 * control from a peer must neither forge lines nor act on whoever
	 * reads them: every such byte is written as \xHH.
	 */
	avail = sizeof(esc) - start - 1;
	n = (ssize_t)log_escape(buf + start, len - start, esc, avail, &taken);
	if (taken < len - start) {
		/* Too long once escaped: cut at a whole character, "...". */
		n = (ssize_t)log_escape(buf + start, len - start, esc,
		    avail - 3, NULL);
		memcpy(esc + n, "...", 3);
		n += 3;
	}
	memcpy(buf + start, esc, (size_t)n);
	len = start + (size_t)n;
	buf[len++] = '\n';
	if (log_syslog && log_fd == -1)
		syslog(log_severities[sev].syslog, "%.*s", (int)(len - 1 - start),
		    buf + start);
	else {
		do {
			n = write(log_fd != -1 ? log_fd : STDERR_FILENO, buf,
			    len);
		} while (n == -1 && errno == EINTR);
	}
	if (log_hook != NULL && !log_in_hook) {
		log_in_hook = true;
		log_hook(log_severities[sev].word, buf + start, len - 1 - start);
		log_in_hook = false;
	}
	errno = saved_errno;
}

/* log_vwrite with a variable argument list. */
static void
log_write(enum log_severity sev, const char *prefix, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	log_vwrite(sev, prefix, fmt, ap);
	va_end(ap);
}

/* libevent's own messages, at the matching level. */
static void
log_event_cb(int severity, const char *msg)
{
	switch (severity) {
	case EVENT_LOG_DEBUG:
		log_write(SEV_DEBUG, "libevent: ", "%s", msg);
		break;
	case EVENT_LOG_MSG:
		log_write(SEV_INFO, "libevent: ", "%s", msg);
		break;
	case EVENT_LOG_WARN:
		log_write(SEV_WARN, "libevent: ", "%s", msg);
		break;
	default:
		log_write(SEV_ERROR, "libevent: ", "%s", msg);
		break;
	}
}

void
log_init(int level)
{
	log_set_level(level);
	log_journal = log_stderr_is_journal();
	event_set_log_callback(log_event_cb);
}

void
log_set_level(int level)
{
	if (level < LOG_NONE)
		level = LOG_NONE;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

void
log_set_hook(log_hook_fn fn)
{
	log_hook = fn;
}

/* Opens path for appending, close-on-exec. Returns the fd or -1. */
static int
log_open_file(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int
log_open(bool use_syslog, const char *path)
{
	int	 fd = -1;

	if (path != NULL && *path != '\0' && (fd = log_open_file(path)) == -1)
		return -1;
	if (log_fd != -1)
		close(log_fd);
	free(log_path);
	log_path = fd != -1 ? strdup(path) : NULL;
	if (log_path == NULL && fd != -1) {
		close(fd);
		fd = -1;
	}
	log_fd = fd;
	if (use_syslog && !log_syslog)
		openlog("wsserverd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!use_syslog && log_syslog)
		closelog();
	log_syslog = use_syslog;
	return 0;
}

int
log_reopen(void)
{
	int	 fd;

	if (log_path == NULL)
		return 0;
	/* The old file stays in use until the new one is open. */
	if ((fd = log_open_file(log_path)) == -1)
		return -1;
	dup2(fd, log_fd);
	close(fd);
	return 0;
}

void
log_set_mask(bool on, const char *params)
{
	log_masking = on;
	snprintf(log_params, sizeof log_params, "%s", params != NULL ?
	    params : "");
}

bool
log_mask_on(void)
{
	return log_masking;
}

/* Whether s[0..n) is one of the comma-separated names in list, any case. */
static bool
log_in_list(const char *list, const char *s, size_t n)
{
	const char	*p, *e;
	size_t		 len;

	for (p = list; *p != '\0'; p = *e == ',' ? e + 1 : e) {
		while (*p == ' ' || *p == '\t')
			p++;
		e = p + strcspn(p, ",");
		len = (size_t)(e - p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && len > 0 && strncasecmp(p, s, n) == 0)
			return true;
	}
	return false;
}

bool
log_mask_header(const char *name)
{
	return strcasecmp(name, "Authorization") == 0 ||
	    strcasecmp(name, "Proxy-Authorization") == 0 ||
	    strcasecmp(name, "Cookie") == 0 ||
	    strcasecmp(name, "Set-Cookie") == 0;
}

size_t
log_utf8_char(const char *s, size_t len, unsigned int *cp)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, i;
	unsigned int	v, min;

	if (p[0] < 0xc2 || p[0] > 0xf4)
		return 0;
	n = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : 2;
	min = n == 4 ? 0x10000 : n == 3 ? 0x800 : 0x80;
	if (len < n)
		return 0;
	v = p[0] & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/*
 * Whether a code point is shown as it is: not a C0 or C1 control, DEL, a
 * line or paragraph separator (some viewers break lines there) or a bidi
 * embedding, override or isolate (they reorder what a terminal shows).
 */
bool
log_printable(unsigned int cp)
{
	return !(cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069));
}

size_t
log_printable_len(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned int		 cp;
	size_t			 n;

	if (len == 0)
		return 0;
	if (p[0] < 0x80)
		return log_printable(p[0]) ? 1 : 0;
	if ((n = log_utf8_char(s, len, &cp)) == 0 || !log_printable(cp))
		return 0;
	return n;
}

size_t
log_escape(const char *in, size_t len, char *out, size_t outlen,
    size_t *taken)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 i = 0, o = 0, n, end;
	unsigned int		 cp;

	while (i < len) {
		if ((n = log_printable_len(in + i, len - i)) > 0) {
			if (outlen - o < n)
				break;
			memcpy(out + o, in + i, n);
			o += n;
			i += n;
			continue;
		}
		/* A whole unprintable character goes, every byte escaped. */
		n = (unsigned char)in[i] >= 0x80 ? log_utf8_char(in + i,
		    len - i, &cp) : 0;
		end = i + (n > 0 ? n : 1);
		if (outlen - o < (end - i) * 4)
			break;
		for (; i < end; i++) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[(unsigned char)in[i] >> 4];
			out[o++] = hex[(unsigned char)in[i] & 0x0f];
		}
	}
	if (taken != NULL)
		*taken = i;
	return o;
}

/* Whether s[0..n), percent-decoded, is a sensitive query parameter name. */
static bool
log_param_sensitive(const char *s, size_t n)
{
	char	 name[256];
	size_t	 i, o = 0;
	int	 hi, lo;

	for (i = 0; i < n && o < sizeof(name); i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (hi = ws_hexdigit(s[i + 1])) != -1 &&
		    (lo = ws_hexdigit(s[i + 2])) != -1) {
			name[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else
			name[o++] = s[i] == '+' ? ' ' : s[i];
	}
	if (i < n)
		return false;
	/* PHP and Rails spell arrays "token[]" and "token[x]": the name. */
	for (i = 0; i < o && name[i] != '['; i++)
		;
	return log_in_list(log_params, name, i);
}

size_t
log_mask_uri(const char *uri, char *out, size_t outlen)
{
	size_t	 i = 0, o = 0, len, nend, vend;
	bool	 query = false, sens;

	if (outlen == 0)
		return 0;
	len = strlen(uri);
	while (i < len && o + 1 < outlen) {
		/*
		 * A parameter starts after "?" or "&" in the query, after ";"
		 * in the query or in a path segment ("/a;jsessionid=x").
		 */
		if (uri[i] == '?' && !query)
			query = true;
		if (!(uri[i] == ';' || (uri[i] == '?' && query) ||
		    (uri[i] == '&' && query)) || !log_masking) {
			out[o++] = uri[i++];
			continue;
		}
		out[o++] = uri[i++];
		nend = i + strcspn(uri + i, query ? "=&;#" : "=;/?#");
		if (nend >= len || uri[nend] != '=')
			continue;
		sens = log_param_sensitive(uri + i, nend - i);
		vend = nend + 1 + strcspn(uri + nend + 1, query ? "&;#" :
		    ";/?#");
		if (!sens)
			continue;
		/* The name as sent, then the mask for the value. */
		while (i <= nend && o + 1 < outlen)
			out[o++] = uri[i++];
		if (outlen - o - 1 >= sizeof(LOG_MASKED) - 1) {
			memcpy(out + o, LOG_MASKED, sizeof(LOG_MASKED) - 1);
			o += sizeof(LOG_MASKED) - 1;
		}
		i = vend;
	}
	out[o] = '\0';
	return o;
}

const char *
log_uri(const char *uri)
{
	static char	buf[LOG_LINE_MAX];

	if (uri == NULL)
		return "-";
	if (!log_masking)
		return uri;
	log_mask_uri(uri, buf, sizeof(buf));
	return buf;
}

/* The public entry points of log.h, one per severity. */
#define LOG_FUNCTION(fn, sev)						\
void									\
fn(const char *fmt, ...)						\
{									\
	va_list	 ap;							\
									\
	va_start(ap, fmt);						\
	log_vwrite(sev, NULL, fmt, ap);					\
	va_end(ap);							\
}

LOG_FUNCTION(log_error, SEV_ERROR)
LOG_FUNCTION(log_warn, SEV_WARN)
LOG_FUNCTION(log_info, SEV_INFO)
LOG_FUNCTION(log_verbose, SEV_VERBOSE)
LOG_FUNCTION(log_debug, SEV_DEBUG)
