/* cmd_test.c - placeholder until its issue lands; replaced by the real commands. */
#include <stdio.h>
#include "cli.h"
int
cmd_test(int argc, char **argv)
{
	fprintf(stderr, "tba test: not built yet\n");
	return TBA_EXIT_FAIL;
}
