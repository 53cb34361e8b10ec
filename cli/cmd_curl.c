/* cmd_curl.c - placeholder until its issue lands; replaced by the real commands. */
#include <stdio.h>
#include "cli.h"
int
cmd_curl(int argc, char **argv)
{
	fprintf(stderr, "tba curl: not built yet\n");
	return TBA_EXIT_FAIL;
}
