/* fuzz_ini.c - libFuzzer target for the ini loader (config_load) and config get/set. */
#include <sys/types.h>
#include <sys/mman.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"

/*
 * Input: the whole ini file. It is written to a memfd and loaded by its
 * /proc/self/fd path, as the daemon loads its file. Invariants, any
 * violation aborts: exactly one of config and errors comes back; every
 * error line names the file; a loaded config has routes, each one found
 * by its own Path; every run-time key's value, as config_get spells it,
 * is taken back by config_set and reads back the same.
 */
#define FZ_VALUE_MAX	(3 * 8192)

static int	fz_fd = -1;
static char	fz_path[64];

/* Every error line is "FILE:LINE: msg" or "FILE: msg". */
static void
fz_errors(const char *errors)
{
	const char	*p = errors, *nl;
	size_t		 plen = strlen(fz_path);

	if (*p == '\0')
		abort();
	while (*p != '\0') {
		if ((nl = strchr(p, '\n')) == NULL)
			abort();
		if (strncmp(p, fz_path, plen) != 0 || p[plen] != ':')
			abort();
		p = nl + 1;
	}
}

/* Keys that config_get and config_set serve at run time. */
static bool
fz_runtime_section(const char *section)
{
	return strcmp(section, "server") == 0 ||
	    strcmp(section, "websocket") == 0 ||
	    strcmp(section, "backend") == 0 || strcmp(section, "log") == 0;
}

/* A loaded config: its routes and the get/set round trip. */
static void
fz_config(struct config *cfg)
{
	static char		 v1[FZ_VALUE_MAX], v2[FZ_VALUE_MAX];
	const struct route	*r;
	const char		*name, *section;
	char			*cause = NULL;
	size_t			 i;
	enum wsd_error		 rc;

	if (cfg->nroutes == 0 || cfg->routes == NULL)
		abort();
	for (i = 0; i < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		if (r->name == NULL || r->path == NULL || r->backend == NULL)
			abort();
		if (r->kind == BACKEND_SCRIPT && (r->argv == NULL ||
		    r->argv[0] == NULL || r->argv[0][0] != '/'))
			abort();
		if (!r->prefix && config_route_for(cfg, r->path) != r)
			abort();
	}
	for (i = 0; i < config_key_count(); i++) {
		name = config_key_name(i);
		section = config_key_section(i);
		if (name == NULL || section == NULL)
			abort();
		if (!fz_runtime_section(section))
			continue;
		if (config_get(cfg, name, v1, sizeof(v1)) != 0)
			abort();
		rc = config_set(cfg, name, v1, false, &cause);
		if (rc != WSD_OK || cause != NULL) {
			fprintf(stderr, "config_set %s = \"%s\": %d %s\n", name,
			    v1, (int)rc, cause != NULL ? cause : "");
			abort();
		}
		if (config_get(cfg, name, v2, sizeof(v2)) != 0 ||
		    strcmp(v1, v2) != 0)
			abort();
	}
}

/* libFuzzer entry point. */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*cfg;
	char		*errors = NULL;

	if (fz_fd == -1) {
		if ((fz_fd = memfd_create("fuzz_ini", MFD_CLOEXEC)) == -1)
			abort();
		snprintf(fz_path, sizeof(fz_path), "/proc/self/fd/%d", fz_fd);
	}
	if (ftruncate(fz_fd, 0) == -1 ||
	    pwrite(fz_fd, data, size, 0) != (ssize_t)size)
		abort();
	cfg = config_load(fz_path, &errors);
	if ((cfg == NULL) == (errors == NULL))
		abort();
	if (cfg != NULL)
		fz_config(cfg);
	else
		fz_errors(errors);
	free(errors);
	config_free(cfg);
	return 0;
}
