/* agentpool.c: the names of an agent pool (see agentpool.h). */
#include "agentpool.h"

#include <errno.h>
#include <stdio.h>

int agentpool_id(const char *prefix, unsigned number, unsigned count, char *out, size_t out_len)
{
	int width = 3;

	if (count == 0 || count > AGENTPOOL_MAX || number == 0 || number > count)
		return -EINVAL;
	for (unsigned c = count / 1000; c > 0; c /= 10)
		width++;
	int n = snprintf(out, out_len, "%s%0*u", prefix, width, number);
	if (n < 0 || (size_t)n >= out_len)
		return -ENAMETOOLONG;
	return 0;
}
