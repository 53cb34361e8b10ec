/* cmd_token.c - placeholder until its issue lands; replaced by the real commands. */
#include <stdio.h>
#include "cli.h"
int
cmd_import(int argc, char **argv)
{
	fprintf(stderr, "tba import: not built yet\n");
	return TBA_EXIT_FAIL;
}
int
cmd_keys(int argc, char **argv)
{
	fprintf(stderr, "tba keys: not built yet\n");
	return TBA_EXIT_FAIL;
}
int
cmd_delete(int argc, char **argv)
{
	fprintf(stderr, "tba delete: not built yet\n");
	return TBA_EXIT_FAIL;
}
