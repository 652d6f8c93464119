/* fuzz_proxy.c - libFuzzer target for the PROXY protocol header parser. */
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/proxy.h"

/*
 * Input layout: one byte choosing the mode (v1, v2, any) and a chunk size
 * (0 means whole), then the client's bytes. Invariants, any violation
 * aborts: the result never exceeds the input or the size caps; the verdict
 * on the whole input equals the first non-zero verdict over growing
 * prefixes; a parsed header reports the same fields either way.
 */
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_header	 h1, h2;
	const char		*cause;
	enum proxy_mode		 mode;
	size_t			 step, have;
	ssize_t			 whole, r = 0;

	if (size < 1)
		return 0;
	mode = (enum proxy_mode)(1 + data[0] % 3);
	step = data[0] / 3;
	data++;
	size--;

	memset(&h1, 0, sizeof(h1));
	whole = proxy_parse(data, size, mode, &h1, &cause);
	if (whole > (ssize_t)size || whole > PROXY_HEADER_MAX)
		abort();
	if (whole < 0 && cause == NULL)
		abort();
	if (whole > 0 && h1.version == 1 && whole > PROXY_V1_MAX)
		abort();
	if (whole > 0 && !h1.local && h1.family != AF_INET &&
	    h1.family != AF_INET6)
		abort();

	memset(&h2, 0, sizeof(h2));
	for (have = 0; have < size && r == 0;) {
		have += step == 0 ? size : step;
		if (have > size)
			have = size;
		r = proxy_parse(data, have, mode, &h2, &cause);
	}
	if (r != whole)
		abort();
	if (r > 0 && memcmp(&h1, &h2, sizeof(h1)) != 0)
		abort();
	(void)proxy_detect(data, size);
	return 0;
}
