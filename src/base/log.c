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
	char		 buf[LOG_LINE_MAX], *c;
	size_t		 len, start, avail;
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
	/* A line end or escape sequence from a peer must not forge lines. */
	for (c = buf + start; c < buf + len; c++) {
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
			*c = '?';
	}
	if (log_masking) {
		char	 m[LOG_LINE_MAX];
		size_t	 ml;

		ml = log_mask(buf + start, len - start, m, sizeof m - start - 1);
		memcpy(buf + start, m, ml);
		len = start + ml;
	}
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

/* If in[i..len) starts a sensitive header ("Cookie: "), the value's offset, else 0. */
static size_t
log_mask_header_at(const char *in, size_t len, size_t i)
{
	static const char *const names[] = {
		"proxy-authorization", "authorization", "set-cookie", "cookie",
	};
	size_t	 k, n, j;

	/* Only at the start of a word: "X-Cookie" is another header. */
	if (i > 0 && (in[i - 1] == '-' || in[i - 1] == '_' ||
	    (in[i - 1] >= 'a' && in[i - 1] <= 'z') ||
	    (in[i - 1] >= 'A' && in[i - 1] <= 'Z')))
		return 0;
	for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		n = strlen(names[k]);
		if (len - i <= n || strncasecmp(in + i, names[k], n) != 0 ||
		    in[i + n] != ':')
			continue;
		for (j = i + n + 1; j < len && (in[j] == ' ' || in[j] == '\t');
		    j++)
			;
		return j;
	}
	return 0;
}

size_t
log_mask(const char *in, size_t len, char *out, size_t outlen)
{
	size_t	 i = 0, o = 0, j, v, n;

#define LOG_PUT(p, l) do {						\
	size_t	 l_ = (l);						\
	if (l_ > outlen - o)						\
		l_ = outlen - o;					\
	memcpy(out + o, (p), l_);					\
	o += l_;							\
} while (0)
	if (outlen == 0)
		return 0;
	while (i < len && o < outlen) {
		if ((v = log_mask_header_at(in, len, i)) != 0) {
			/* The value runs to the end of the line. */
			LOG_PUT(in + i, v - i);
			LOG_PUT(LOG_MASKED, sizeof(LOG_MASKED) - 1);
			i = len;
			break;
		}
		if ((in[i] == '?' || in[i] == '&') && i + 1 < len) {
			for (j = i + 1; j < len && strchr("=&# \"'", in[j]) ==
			    NULL; j++)
				;
			n = j - (i + 1);
			if (j < len && in[j] == '=' &&
			    log_in_list(log_params, in + i + 1, n)) {
				LOG_PUT(in + i, n + 2);
				LOG_PUT(LOG_MASKED, sizeof(LOG_MASKED) - 1);
				for (i = j + 1; i < len && strchr("&# \"'",
				    in[i]) == NULL; i++)
					;
				continue;
			}
		}
		LOG_PUT(in + i, 1);
		i++;
	}
#undef LOG_PUT
	return o;
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
