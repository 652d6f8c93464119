/*
 * config-keys.h - the key table of wsserverd.ini, read-only: its keys,
 * their sections and whether they may change while listening, and the man
 * page written from it. Callers: the admin "config" command, reload
 * (which keys wait for a restart), gen-ini-man, the tests.
 */
#ifndef CONFIG_KEYS_H
#define CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/*
 * The key table, for the admin "config" command, reload and tests: the
 * number of keys; then, for i below it, a key's name, its section
 * ("server", "websocket", "backend", "log", "admin", "ssl" or
 * "route:NAME") and whether it may change while listening. Out of range,
 * name and section are NULL, runtime false.
 */
size_t		 config_key_count(void);
const char	*config_key_name(size_t i);
const char	*config_key_section(size_t i);
bool		 config_key_runtime(size_t i);

/*
 * A name of the reference that is no key here (SSLCheckOCSP, LicenseInfo,
 * BuildInfo...): the one message that says why, for the ini file and the
 * admin socket's config command alike ("NAME: has no meaning on Linux
 * (...)" or "NAME: is not a setting here (...)"), malloc'd; NULL for any
 * other name.
 */
char		*config_unmapped(const char *name);

/* Writes the key reference of wsserverd.ini(5) as roff, from the key table. */
void		 config_write_man(FILE *);

#endif
