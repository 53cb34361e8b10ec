/* SPDX-License-Identifier: MIT */
/* test_mem.c - secure memory: zeroed, locked, kept out of core dumps, wiped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "tba/mem.h"

/* The VmFlags line of the mapping that holds p, from /proc/self/smaps. */
static int
mem_flags(const void *p, char *out, size_t outsz)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	unsigned long lo, hi;
	int inside = 0, found = 0;

	out[0] = '\0';
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *dash = strchr(line, '-'), *end;

		if (dash != NULL && strchr(line, ' ') > dash) {
			lo = strtoul(line, &end, 16);
			if (end == dash) {
				hi = strtoul(dash + 1, &end, 16);
				if (*end == ' ') {
					inside = (unsigned long)p >= lo && (unsigned long)p < hi;
					continue;
				}
			}
		}
		if (inside && strncmp(line, "VmFlags:", 8) == 0) {
			snprintf(out, outsz, "%.*s", (int)strcspn(line + 8, "\n"), line + 8);
			found = 1;
			break;
		}
	}
	fclose(f);
	return found;
}

static void
test_secalloc(void)
{
	unsigned char *p;
	char flags[512];
	size_t i, zero = 1;

	ok(tba_secalloc(0) == NULL, "zero bytes: NULL");
	p = tba_secalloc(100);
	ok(p != NULL, "allocated");
	for (i = 0; i < 100; i++)
		zero &= p[i] == 0;
	ok(zero, "zeroed");
	memset(p, 0xAB, 100);
	ok(mem_flags(p, flags, sizeof(flags)), "mapping found in smaps");
	ok(strstr(flags, " dd") != NULL, "excluded from core dumps (VmFlags:%s)", flags);
#ifndef __SANITIZE_ADDRESS__ /* AddressSanitizer turns mlock into a no-op */
	{
		struct rlimit rl;

		if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur >= 65536)
			ok(strstr(flags, " lo") != NULL, "locked in memory (VmFlags:%s)", flags);
	}
#endif
	tba_secfree(p, 100);
	tba_secfree(NULL, 100);
	ok(1, "tba_secfree(NULL) is a no-op");
	/* Its own pages: two allocations never share one. */
	{
		unsigned char *a = tba_secalloc(10), *b = tba_secalloc(10);
		long pg = sysconf(_SC_PAGESIZE);

		ok(a != NULL && b != NULL && (unsigned long)a % (unsigned long)pg == 0 &&
			(unsigned long)b % (unsigned long)pg == 0,
		    "page-aligned, one page each");
		tba_secfree(a, 10);
		tba_secfree(b, 10);
	}
}

static void
test_wipe_cmp(void)
{
	unsigned char a[32], b[32];
	size_t i, zero = 1;

	memset(a, 0x5A, sizeof(a));
	tba_wipe(a, sizeof(a));
	for (i = 0; i < sizeof(a); i++)
		zero &= a[i] == 0;
	ok(zero, "tba_wipe zeroes");
	tba_wipe(NULL, 10);
	ok(1, "tba_wipe(NULL) is a no-op");
	memset(a, 1, sizeof(a));
	memset(b, 1, sizeof(b));
	is_int(tba_memeq_ct(a, b, sizeof(a)), 0, "equal");
	b[31] = 2;
	ok(tba_memeq_ct(a, b, sizeof(a)) != 0, "last byte differs");
	is_int(tba_memeq_ct(a, b, 31), 0, "equal up to n");
}

static void
test_harden(void)
{
	pid_t pid;
	int st = 0;

	/* In a child: the test itself should stay debuggable. */
	if ((pid = fork()) == 0) {
		struct rlimit rl;

		tba_mem_harden();
		_exit(prctl(PR_GET_DUMPABLE) == 0 && getrlimit(RLIMIT_CORE, &rl) == 0 &&
			    rl.rlim_cur == 0 && rl.rlim_max == 0
			? 0
			: 1);
	}
	ok(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "harden: not dumpable, no core files");
}

int
main(void)
{
	test_secalloc();
	test_wipe_cmp();
	test_harden();
	return tap_done();
}
