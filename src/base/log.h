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
 * message, without timestamp or line end, already escaped (log_escape).
 * Lines logged from inside the hook are written but not passed to it
 * again. NULL removes it. (The admin socket's watch uses it.)
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
 * MaskSensitiveData and SensitiveQueryParams. Masking works on fields,
 * never on a formatted line: a request header's value by its name
 * (log_mask_header), a request-target's parameters by their decoded name
 * (log_mask_uri). Whoever prints such a field masks it.
 */
void	log_set_mask(bool on, const char *params);
bool	log_mask_on(void);
/* Whether a header's value is sensitive (Authorization, Cookie...). */
bool	log_mask_header(const char *name);
/*
 * Copies the request-target uri into out (at most outlen bytes, NUL
 * included; never a partial value) with the value of every parameter
 * named in SensitiveQueryParams replaced by "***": query parameters after
 * "?", "&" or ";", and path parameters (";name=value" in a segment). A
 * name is compared after percent-decoding, without regard to case and
 * without a trailing "[...]" ("%74oken", "TOKEN", "token[]" are token).
 * With masking off the copy is exact. Returns the length written.
 */
size_t	log_mask_uri(const char *uri, char *out, size_t outlen);
/*
 * uri masked as log_mask_uri does, for one log line: a static buffer
 * valid until the next call (so one per line), uri itself when masking is
 * off, "-" for NULL.
 */
const char	*log_uri(const char *uri);

/*
 * Escaping for every human-readable output (log lines, the admin socket's
 * replies and watch events). A character is printable unless it is a C0
 * or C1 control (U+0000-U+001F, U+007F-U+009F), a line or paragraph
 * separator (U+2028, U+2029), or a bidi control (U+202A-U+202E,
 * U+2066-U+2069).
 */
bool	log_printable(unsigned int codepoint);
/*
 * Decodes the UTF-8 character at s (at most len bytes): returns its length
 * with its code point in *cp, or 0 when it is not valid UTF-8 (overlong,
 * a surrogate, past U+10FFFF, cut short, a lone continuation byte).
 */
size_t	log_utf8_char(const char *s, size_t len, unsigned int *cp);
/*
 * The length of the character at s[0..len) when it is shown as is:
 * printable ASCII, or valid UTF-8 of a printable code point; 0 when it
 * must be escaped.
 */
size_t	log_printable_len(const char *s, size_t len);
/*
 * Copies in[0..len) into out (at most outlen bytes, no NUL added) with
 * every byte of a character log_printable_len refuses (and every byte
 * that is not UTF-8) written as \xHH, lowercase: "\x1b", "\xc2\x9b".
 * A backslash is printable and stays as it is. Escapes are never cut.
 * Returns the bytes written; *taken (unless NULL) gets how many bytes of
 * in they stand for (less than len when out was too small).
 */
size_t	log_escape(const char *in, size_t len, char *out, size_t outlen,
	    size_t *taken);

/* printf-like; the line end is added. */
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_verbose(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
