/* log.c - the daemon's log: one write(2) per line to stderr. */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

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
} log_severities[] = {
	[SEV_ERROR] = { "<3>", "ERROR", LOG_NONE },
	[SEV_WARN] = { "<4>", "WARN", LOG_NONE },
	[SEV_INFO] = { "<6>", "INFO", LOG_INFO },
	[SEV_VERBOSE] = { "<6>", "VERBOSE", LOG_VERBOSE },
	[SEV_DEBUG] = { "<7>", "DEBUG", LOG_DEBUG },
};

static int		log_level = LOG_INFO;
static bool		log_journal;
static log_hook_fn	log_hook;
static bool		log_in_hook;	/* the hook's own lines do not loop */

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
	if (log_journal)
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
	buf[len++] = '\n';
	do {
		n = write(STDERR_FILENO, buf, len);
	} while (n == -1 && errno == EINTR);
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
