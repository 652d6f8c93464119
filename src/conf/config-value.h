/*
 * config-value.h - the values of wsserverd.ini as the other layers may
 * parse them too: booleans, spelt as in the file (admin commands, the
 * [ssl] SSLAuthenticateClients policy).
 */
#ifndef CONFIG_VALUE_H
#define CONFIG_VALUE_H

#include <stdbool.h>

/*
 * Parses True/False, 1/0, Yes/No, On/Off (any case), as every boolean of
 * the file and of admin commands is spelt. Returns 0 and sets *out, or -1
 * if s is none of them.
 */
int		 config_parse_bool(const char *s, bool *out);

#endif
