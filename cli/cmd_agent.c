/* cmd_agent.c - placeholder until its issue lands; replaced by the real commands. */
#include <stdio.h>
#include "cli.h"
int
cmd_list(int argc, char **argv)
{
	fprintf(stderr, "tba list: not built yet\n");
	return TBA_EXIT_FAIL;
}
int
cmd_header(int argc, char **argv)
{
	fprintf(stderr, "tba header: not built yet\n");
	return TBA_EXIT_FAIL;
}
int
cmd_passport(int argc, char **argv)
{
	fprintf(stderr, "tba passport: not built yet\n");
	return TBA_EXIT_FAIL;
}
int
cmd_lock(int argc, char **argv)
{
	fprintf(stderr, "tba lock: not built yet\n");
	return TBA_EXIT_FAIL;
}
int
cmd_unlock(int argc, char **argv)
{
	fprintf(stderr, "tba unlock: not built yet\n");
	return TBA_EXIT_FAIL;
}
