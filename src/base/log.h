/* log.h - the daemon's log: stderr, journald priority prefixes or timestamps. */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

/* The reference's LogLevel values. Errors and warnings are printed at every level. */
enum log_level {
	LOG_NONE = 0,
	LOG_INFO = 1,
	LOG_VERBOSE = 2,
	LOG_DEBUG = 3,
};

/*
 * Sets up logging to stderr. Under journald (JOURNAL_STREAM names stderr)
 * lines carry "<N>" priority prefixes and no timestamp; otherwise an ISO
 * 8601 timestamp. Routes libevent's own log here too.
 */
void	log_init(int level);
void	log_set_level(int level);
int	log_get_level(void);

/*
 * A function that sees every line written (after the LogLevel filter): its
 * severity word ("ERROR", "WARN", "INFO", "VERBOSE", "DEBUG") and the
 * message, without timestamp or line end, control characters already
 * replaced. Lines logged from inside the hook are written but not passed
 * to it again. NULL removes it. (The admin socket's watch uses it.)
 */
typedef void	(*log_hook_fn)(const char *severity, const char *msg,
		    size_t len);
void	log_set_hook(log_hook_fn);

/*
 * Where lines go: syslog(3) (facility LOG_DAEMON, priorities LOG_ERR,
 * LOG_WARNING, LOG_INFO, LOG_DEBUG) when use_syslog, and a file appended to
 * when path is not empty (then that file instead). Returns 0, or -1 with
 * errno when path cannot be opened (nothing changes then).
 */
int	log_open(bool use_syslog, const char *path);
/* Reopens the log file (SIGUSR1, wsserverctl reopen). Returns 0 or -1 with errno. */
int	log_reopen(void);

/*
 * MaskSensitiveData and SensitiveQueryParams: when on, every line has the
 * values of sensitive headers and query parameters replaced by "***".
 */
void	log_set_mask(bool on, const char *params);
bool	log_mask_on(void);
/* Whether a header's value is sensitive (Authorization, Cookie...). */
bool	log_mask_header(const char *name);
/*
 * Copies in[0..len) into out (at most outlen bytes) with the values masked:
 * "Authorization: ...", "Proxy-Authorization:", "Cookie:" and "Set-Cookie:"
 * to the end, and "?name=value" or "&name=value" up to the next "&", "#",
 * space or quote for the names of SensitiveQueryParams. Returns the length
 * written (no NUL added).
 */
size_t	log_mask(const char *in, size_t len, char *out, size_t outlen);

/* printf-like; the line end is added. */
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_verbose(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
