/* main.c - placeholder until the agent issue lands. */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "tba-agent: not built yet\n");
	return 1;
}
