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

/* printf-like; the line end is added. */
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_verbose(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
