/*
 * config-int.h - what the files of the configuration share; nothing outside
 * src/conf includes it.
 *
 * The files, each calling only those listed before it:
 *   config-keys.c   the key table, its accessors and the man page text
 *   config-value.c  one value: parsed for its key and stored
 *   config-parse.c  the ini file: read, checked, every error at file:line
 *   tls-*.c, tls.c  the TLS context from [ssl] (tls-int.h)
 *   config.c        config_load (the file, then the TLS context), defaults,
 *                   free, route lookup, the admin's get and set
 */
#ifndef CONFIG_INT_H
#define CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/config-types.h"

/* Longest line, without its line end; longer lines are an error. */
#define CONFIG_LINE_MAX		8192
/* How much of a bad value is quoted back in an error message. */
#define CONFIG_QUOTE		"%.64s"

enum config_section {
	SECTION_SERVER,
	SECTION_WEBSOCKET,
	SECTION_BACKEND,
	SECTION_LOG,
	SECTION_ADMIN,
	SECTION_SSL,
	SECTION_CLUSTER,
	SECTION_ROUTE,
	SECTION_COUNT,
};

enum config_type {
	TYPE_BOOL,		/* bool */
	TYPE_INT,		/* int, range-checked */
	TYPE_UINT64,		/* uint64_t, range-checked */
	TYPE_STRING,		/* char *, max = longest value in bytes */
	TYPE_CLOSE_CODE,	/* int: a status code a server may send */
	TYPE_FORMAT,		/* enum msg_format */
	TYPE_PATH,		/* route Path */
	TYPE_BACKEND,		/* route Backend: backend, kind, argv */
	TYPE_TOKENS,		/* char *: comma-separated RFC 7230 tokens */
	TYPE_ENVLIST,		/* char **: environment variable names */
	TYPE_MODE,		/* int: octal file mode */
	TYPE_CHOICE,		/* int: index of the value in choices */
	TYPE_DIR,		/* char *: a directory, relative to the file's */
	TYPE_PROGRAM,		/* char *: an executable, relative to the file's */
};

struct config_key {
	const char		*name;
	enum config_section	 section;
	enum config_type	 type;
	const char		*def;		/* as written in the file; NULL = required */
	int64_t			 min;
	int64_t			 max;
	const char		*unit;
	const char		*choices;	/* TYPE_CHOICE: "a|b|c" */
	bool			 runtime;	/* may change while listening */
	size_t			 offset;	/* into struct config, or struct route */
	const char		*help;
};

#define CFG(f)	offsetof(struct config, f)
#define RT(f)	offsetof(struct route, f)

/*
 * A name of the reference that is no key of wsserverd.ini, and why: a
 * setting a Linux daemon has no use for, or (elsewhere) a read-only or
 * per-connection value that the admin socket shows or sets instead.
 */
struct config_linux_key {
	const char	*name;
	const char	*why;
	bool		 elsewhere;
};

/* config-keys.c: the tables. */
extern const struct config_key		 config_keys[];
extern const size_t			 config_nkeys;
extern const char *const		 config_section_names[SECTION_COUNT];
extern const struct config_linux_key	 config_linux_keys[];
extern const size_t			 config_nlinux;

/* Finds key name in section, ignoring case; returns its index or -1. */
int		 config_find_key(enum config_section, const char *name);
/* Finds a key of a global section by name, ignoring case; NULL if none. */
const struct config_key *config_global_key(const char *name);

/*
 * config-value.c. Where a value comes from: the file's directory (for
 * relative paths) and the config being read (a route Path must differ
 * from the others'). A NULL source is a default or an admin set: relative
 * paths are refused and Paths are not compared.
 */
struct config_src {
	const char		*dir;
	const struct config	*cfg;
};

/*
 * Parses value for key k and stores it in base (a struct config, or a
 * struct route for route keys). Returns 0, or -1 with *cause set (when
 * cause is not NULL) and base unchanged.
 */
int		 config_apply(const struct config_src *, const struct config_key *,
		    void *base, const char *value, char **cause);
/* Fills in a new route: its name and the table's defaults. */
void		 config_route_init(struct route *, const char *name);
/* Frees what a route owns (not the route itself). */
void		 config_route_clear(struct route *);
/*
 * Looks up a user or group, by name or number, as User and Group spell
 * them. Returns 0 with *id (and, for a user, *gid: the primary group), or
 * -1 when there is none.
 */
int		 config_lookup_id(const char *name, bool group, unsigned int *id,
		    unsigned int *gid);
/*
 * Sets *cause, when cause is not NULL, to the formatted sentence
 * (malloc'd; the caller frees it) and returns -1: the error convention of
 * base/error.h in one call, for every file of src/conf.
 */
int		 config_cause(char **cause, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* strndup that never returns NULL. */
char		*config_strndup(const char *, size_t);
/* Returns "dir/" followed by the first len bytes of name (malloc'd). */
char		*config_join(const char *dir, const char *name, size_t len);

/*
 * config-parse.c: one reading of a file. config_parse_file reads and
 * checks path into cfg (which holds the defaults) and collects every
 * problem; config_parse_dir is the file's absolute directory, or NULL when
 * the file could not be opened. config_parse_error_key adds a problem at
 * the line where key (of section; NULL: none) was set. config_parse_end
 * frees the reading and returns its errors, one "file:line: message" per
 * line (malloc'd), or NULL when there are none.
 */
struct config_parse;
struct config_parse *config_parse_file(const char *path, struct config *cfg);
const char	*config_parse_dir(const struct config_parse *);
void		 config_parse_error_key(struct config_parse *,
		    enum config_section, const char *key, const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
char		*config_parse_end(struct config_parse *);

#endif
