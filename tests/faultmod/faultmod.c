/* SPDX-License-Identifier: MIT */
/*
 * faultmod.c - a PKCS#11 module that forwards to a real one and injects
 * faults, for tests that a healthy SoftHSM token cannot give (a device that
 * disappears, a session that closes under the agent, a login that is lost).
 *
 * Load it like any module (module-path=.../libtbafault.so). It dlopen()s the
 * real module named by $TBA_FAULT_MODULE (default SoftHSM) and forwards every
 * call. Wrapped calls are logged, one line each ("C_Sign 0x0" or
 * "C_Sign 0x32 injected"), to $TBA_FAULT_LOG when set, so a test can count
 * e.g. C_Login attempts. Never logs arguments: a PIN passes through here.
 *
 * $TBA_FAULT_FILE holds rules, one a line, read again on every wrapped call:
 *
 *     FUNCTION CODE COUNT [sticky]
 *
 * FUNCTION is a wrapped call (C_Sign, C_SignInit, C_Login, ...) or "*" for
 * any; CODE a CKR_ name from the table below or a number (0x32); COUNT how
 * many matching calls fail (-1: all of them); CODE "hang=N" blocks the
 * call N seconds (other threads' calls go on), then fails it with
 * CKR_DEVICE_REMOVED, like a device that dies mid-call. Each injection decrements
 * COUNT in the file. "sticky" models a device that is gone: once the rule
 * fires, every wrapped call except C_Initialize/C_Finalize fails with CODE
 * until the application finalizes and initializes the module again - so a
 * test can tell real recovery from a plain retry.
 *
 * Test code only: not installed, not linked into tba.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define FAULT_DEFAULT_MODULE "/usr/lib/softhsm/libsofthsm2.so"
#define FAULT_RULES_MAX 16
#define FAULT_FILE_MAX 4096

struct fault_rule {
	char func[40];
	CK_RV rv;
	long count;
	int sticky;
	unsigned hang; /* seconds to block before failing (CODE "hang=N") */
};

static const struct {
	const char *name;
	CK_RV rv;
} fault_codes[] = {
    {"CKR_OK", CKR_OK},
    {"CKR_GENERAL_ERROR", CKR_GENERAL_ERROR},
    {"CKR_DEVICE_ERROR", CKR_DEVICE_ERROR},
    {"CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED},
    {"CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID},
    {"CKR_SESSION_CLOSED", CKR_SESSION_CLOSED},
    {"CKR_USER_NOT_LOGGED_IN", CKR_USER_NOT_LOGGED_IN},
    {"CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT},
    {"CKR_CRYPTOKI_NOT_INITIALIZED", CKR_CRYPTOKI_NOT_INITIALIZED},
    {"CKR_PIN_INCORRECT", CKR_PIN_INCORRECT},
    {"CKR_PIN_LOCKED", CKR_PIN_LOCKED},
    {"CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED},
};

static pthread_mutex_t fault_lock = PTHREAD_MUTEX_INITIALIZER;
static CK_FUNCTION_LIST_PTR real;   /* the wrapped module's list */
static CK_FUNCTION_LIST fault_list; /* ours: real's, with wrappers put in */
static CK_RV gone_rv;               /* non-zero: a sticky fault is active */

static int
fault_code_parse(const char *s, CK_RV *out)
{
	size_t i;
	char *end;
	unsigned long v;

	for (i = 0; i < sizeof(fault_codes) / sizeof(fault_codes[0]); i++) {
		if (strcmp(s, fault_codes[i].name) == 0) {
			*out = fault_codes[i].rv;
			return 0;
		}
	}
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Splits line in place at blanks into at most max words; returns how many. */
static size_t
fault_split(char *line, char **tok, size_t max)
{
	size_t n = 0;

	while (n < max) {
		while (*line == ' ' || *line == '\t' || *line == '\r')
			*line++ = '\0';
		if (*line == '\0')
			break;
		tok[n++] = line;
		while (*line != '\0' && *line != ' ' && *line != '\t' && *line != '\r')
			line++;
	}
	return n;
}

/* Reads the rules; returns how many (0 when there is no file). */
static size_t
fault_rules_read(const char *path, struct fault_rule *rules)
{
	char buf[FAULT_FILE_MAX + 1], *line, *next, *tok[4];
	ssize_t n;
	size_t nr = 0, nt;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, FAULT_FILE_MAX);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (line = buf; line != NULL && nr < FAULT_RULES_MAX; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		nt = fault_split(line, tok, 4);
		if (nt < 3 || tok[0][0] == '#' || strlen(tok[0]) >= sizeof(rules[nr].func))
			continue;
		rules[nr].hang = 0;
		if (strncmp(tok[1], "hang=", 5) == 0) {
			/* A call that hangs, then fails as if the device went away. */
			rules[nr].hang = (unsigned)strtoul(tok[1] + 5, NULL, 10);
			rules[nr].rv = CKR_DEVICE_REMOVED;
		} else if (fault_code_parse(tok[1], &rules[nr].rv) != 0)
			continue;
		snprintf(rules[nr].func, sizeof(rules[nr].func), "%s", tok[0]);
		rules[nr].count = strtol(tok[2], NULL, 10);
		rules[nr].sticky = nt == 4 && strcmp(tok[3], "sticky") == 0;
		nr++;
	}
	return nr;
}

static void
fault_rules_write(const char *path, const struct fault_rule *rules, size_t nr)
{
	char tmp[4096];
	FILE *f;
	size_t i;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return;
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	for (i = 0; i < nr; i++)
		if (rules[i].hang > 0)
			fprintf(
			    f, "%s hang=%u %ld\n", rules[i].func, rules[i].hang, rules[i].count);
		else
			fprintf(f, "%s 0x%lx %ld%s\n", rules[i].func, (unsigned long)rules[i].rv,
			    rules[i].count, rules[i].sticky ? " sticky" : "");
	if (fclose(f) == 0)
		rename(tmp, path);
}

static void
fault_log(const char *func, CK_RV rv, int injected)
{
	const char *path = getenv("TBA_FAULT_LOG");
	char line[128];
	int fd, n;

	if (path == NULL)
		return;
	n = snprintf(line, sizeof(line), "%s 0x%lx%s\n", func, (unsigned long)rv,
	    injected == 2  ? " hanging"
		: injected ? " injected"
			   : "");
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) == -1)
		return;
	/* O_APPEND and one write() per line: lines from threads never interleave. */
	if (write(fd, line, (size_t)n) != n)
		n = 0;
	close(fd);
}

/* 1 and *rv set when this call to func must fail. */
static int
fault_check(const char *func, CK_RV *rv)
{
	struct fault_rule rules[FAULT_RULES_MAX];
	const char *path = getenv("TBA_FAULT_FILE");
	size_t nr, i;
	unsigned hang = 0;
	int hit = 0;

	pthread_mutex_lock(&fault_lock);
	if (gone_rv != CKR_OK && strcmp(func, "C_Initialize") != 0 &&
	    strcmp(func, "C_Finalize") != 0) {
		*rv = gone_rv;
		hit = 1;
		goto out;
	}
	if (path == NULL || (nr = fault_rules_read(path, rules)) == 0)
		goto out;
	for (i = 0; i < nr; i++) {
		if (rules[i].count == 0)
			continue;
		if (strcmp(rules[i].func, func) != 0 && strcmp(rules[i].func, "*") != 0)
			continue;
		*rv = rules[i].rv;
		hit = 1;
		hang = rules[i].hang;
		if (rules[i].sticky)
			gone_rv = rules[i].rv;
		if (rules[i].count > 0) {
			rules[i].count--;
			fault_rules_write(path, rules, nr);
		}
		break;
	}
out:
	pthread_mutex_unlock(&fault_lock);
	if (hang > 0) {
		fault_log(func, 0, 2);
		sleep(hang); /* outside the lock: other threads' calls go on */
	}
	return hit;
}

/*
 * One wrapper per call the agent makes: check for a fault, else forward.
 * PARAMS is the parameter list, ARGS the same names as call arguments.
 */
#define FAULT_WRAP(name, params, args) \
	static CK_RV fault_##name params \
	{ \
		CK_RV rv; \
		if (fault_check(#name, &rv)) { \
			fault_log(#name, rv, 1); \
			return rv; \
		} \
		rv = real->name args; \
		fault_log(#name, rv, 0); \
		return rv; \
	}

FAULT_WRAP(C_Finalize, (CK_VOID_PTR r), (r))
FAULT_WRAP(C_GetInfo, (CK_INFO_PTR i), (i))
FAULT_WRAP(C_GetSlotList, (CK_BBOOL p, CK_SLOT_ID_PTR l, CK_ULONG_PTR c), (p, l, c))
FAULT_WRAP(C_GetSlotInfo, (CK_SLOT_ID s, CK_SLOT_INFO_PTR i), (s, i))
FAULT_WRAP(C_GetTokenInfo, (CK_SLOT_ID s, CK_TOKEN_INFO_PTR i), (s, i))
FAULT_WRAP(
    C_GetMechanismInfo, (CK_SLOT_ID s, CK_MECHANISM_TYPE t, CK_MECHANISM_INFO_PTR i), (s, t, i))
FAULT_WRAP(C_OpenSession,
    (CK_SLOT_ID s, CK_FLAGS f, CK_VOID_PTR a, CK_NOTIFY n, CK_SESSION_HANDLE_PTR h),
    (s, f, a, n, h))
FAULT_WRAP(C_CloseSession, (CK_SESSION_HANDLE h), (h))
FAULT_WRAP(C_CloseAllSessions, (CK_SLOT_ID s), (s))
FAULT_WRAP(C_GetSessionInfo, (CK_SESSION_HANDLE h, CK_SESSION_INFO_PTR i), (h, i))
FAULT_WRAP(
    C_Login, (CK_SESSION_HANDLE h, CK_USER_TYPE u, CK_UTF8CHAR_PTR p, CK_ULONG n), (h, u, p, n))
FAULT_WRAP(C_Logout, (CK_SESSION_HANDLE h), (h))
FAULT_WRAP(C_GetAttributeValue,
    (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_PTR t, CK_ULONG n), (h, o, t, n))
FAULT_WRAP(C_FindObjectsInit, (CK_SESSION_HANDLE h, CK_ATTRIBUTE_PTR t, CK_ULONG n), (h, t, n))
FAULT_WRAP(C_FindObjects, (CK_SESSION_HANDLE h, CK_OBJECT_HANDLE_PTR o, CK_ULONG m, CK_ULONG_PTR n),
    (h, o, m, n))
FAULT_WRAP(C_FindObjectsFinal, (CK_SESSION_HANDLE h), (h))
FAULT_WRAP(C_SignInit, (CK_SESSION_HANDLE h, CK_MECHANISM_PTR m, CK_OBJECT_HANDLE k), (h, m, k))
FAULT_WRAP(C_SignUpdate, (CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n), (h, d, n))
FAULT_WRAP(C_SignFinal, (CK_SESSION_HANDLE h, CK_BYTE_PTR s, CK_ULONG_PTR n), (h, s, n))

/*
 * C_Sign is written out: a failed C_Sign ends the signing operation
 * (PKCS#11 §5.2), so before reporting an injected fault the real operation
 * is finished into a scratch buffer - else the module would answer the next
 * C_SignInit with CKR_OPERATION_ACTIVE, which no real token does. A length
 * query (no output buffer) is never faulted, so one faulted call is one
 * failed signature.
 */
static CK_RV
fault_C_Sign(CK_SESSION_HANDLE h, CK_BYTE_PTR d, CK_ULONG n, CK_BYTE_PTR s, CK_ULONG_PTR sn)
{
	CK_BYTE scratch[512];
	CK_ULONG scratchlen = sizeof(scratch);
	CK_RV rv;

	if (s != NULL && fault_check("C_Sign", &rv)) {
		real->C_Sign(h, d, n, scratch, &scratchlen);
		memset(scratch, 0, sizeof(scratch));
		fault_log("C_Sign", rv, 1);
		return rv;
	}
	rv = real->C_Sign(h, d, n, s, sn);
	fault_log("C_Sign", rv, 0);
	return rv;
}

static CK_RV
fault_C_Initialize(CK_VOID_PTR args)
{
	CK_RV rv;

	if (fault_check("C_Initialize", &rv)) {
		fault_log("C_Initialize", rv, 1);
		return rv;
	}
	rv = real->C_Initialize(args);
	if (rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		/* A fresh start: the device is back. */
		pthread_mutex_lock(&fault_lock);
		gone_rv = CKR_OK;
		pthread_mutex_unlock(&fault_lock);
	}
	fault_log("C_Initialize", rv, 0);
	return rv;
}

static CK_RV
fault_load(void)
{
	CK_C_GetFunctionList getlist;
	const char *path = getenv("TBA_FAULT_MODULE");
	void *dl;

	if (path == NULL || *path == '\0')
		path = FAULT_DEFAULT_MODULE;
	/* Never dlclose()d: the real module lives as long as the process. */
	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "faultmod: cannot load %s: %s\n", path, dlerror());
		return CKR_GENERAL_ERROR;
	}
	getlist = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
	if (getlist == NULL || getlist(&real) != CKR_OK || real == NULL)
		return CKR_GENERAL_ERROR;

	fault_list = *real;
	fault_list.C_Initialize = fault_C_Initialize;
	fault_list.C_Finalize = fault_C_Finalize;
	fault_list.C_GetInfo = fault_C_GetInfo;
	fault_list.C_GetSlotList = fault_C_GetSlotList;
	fault_list.C_GetSlotInfo = fault_C_GetSlotInfo;
	fault_list.C_GetTokenInfo = fault_C_GetTokenInfo;
	fault_list.C_GetMechanismInfo = fault_C_GetMechanismInfo;
	fault_list.C_OpenSession = fault_C_OpenSession;
	fault_list.C_CloseSession = fault_C_CloseSession;
	fault_list.C_CloseAllSessions = fault_C_CloseAllSessions;
	fault_list.C_GetSessionInfo = fault_C_GetSessionInfo;
	fault_list.C_Login = fault_C_Login;
	fault_list.C_Logout = fault_C_Logout;
	fault_list.C_GetAttributeValue = fault_C_GetAttributeValue;
	fault_list.C_FindObjectsInit = fault_C_FindObjectsInit;
	fault_list.C_FindObjects = fault_C_FindObjects;
	fault_list.C_FindObjectsFinal = fault_C_FindObjectsFinal;
	fault_list.C_SignInit = fault_C_SignInit;
	fault_list.C_Sign = fault_C_Sign;
	fault_list.C_SignUpdate = fault_C_SignUpdate;
	fault_list.C_SignFinal = fault_C_SignFinal;
	return CKR_OK;
}

static pthread_once_t fault_once = PTHREAD_ONCE_INIT;
static CK_RV fault_load_rv;

static void
fault_load_once(void)
{
	fault_load_rv = fault_load();
}

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_once(&fault_once, fault_load_once);
	if (fault_load_rv != CKR_OK)
		return fault_load_rv;
	*list = &fault_list;
	return CKR_OK;
}
