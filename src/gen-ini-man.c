/* gen-ini-man.c - writes wsserverd.ini(5): the template with @KEYS@ replaced by the key table. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"

/*
 * Copies the template named by argv[1] to stdout; the line that is
 * exactly "@KEYS@" becomes config_write_man()'s output. Exits 0, or 1 if
 * the template cannot be read, has no (or more than one) @KEYS@ line, or
 * stdout fails.
 */
int
main(int argc, char **argv)
{
	FILE	*in;
	char	 buf[4096];
	size_t	 len;
	bool	 bol;
	int	 keys;

	if (argc != 2) {
		fprintf(stderr, "usage: gen-ini-man template\n");
		return 1;
	}
	if ((in = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "gen-ini-man: %s: %s\n", argv[1],
		    strerror(errno));
		return 1;
	}
	keys = 0;
	bol = true;
	/* Long lines arrive in pieces; only a whole line can be @KEYS@. */
	while (fgets(buf, sizeof buf, in) != NULL) {
		len = strlen(buf);
		if (bol && strcmp(buf, "@KEYS@\n") == 0) {
			config_write_man(stdout);
			keys++;
		} else
			fputs(buf, stdout);
		bol = len > 0 && buf[len - 1] == '\n';
	}
	if (ferror(in)) {
		fprintf(stderr, "gen-ini-man: %s: read error\n", argv[1]);
		fclose(in);
		return 1;
	}
	fclose(in);
	if (keys != 1) {
		fprintf(stderr, "gen-ini-man: %s: %d @KEYS@ lines, want 1\n",
		    argv[1], keys);
		return 1;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, "gen-ini-man: write error\n");
		return 1;
	}
	return 0;
}
