/* SPDX-License-Identifier: MIT */
/*
 * main.c - tba-agent: options, the PIN, daemonizing, signals.
 *
 * PKCS#11 modules do not survive fork(), so the agent forks first and the
 * child loads the module and logs in, telling the parent over a pipe whether
 * that worked; only then does the parent print the shell lines and exit.
 * A PIN that needs the terminal is read before the fork and handed to the
 * child in (secure, copied-on-fork) memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <p11-kit/uri.h>

#include "agent.h"
#include "tba/getopt.h"
#include "tba/log.h"
#include "tba/mem.h"
#include "tba/tty.h"

#define EXIT_USAGE 64
#define KILL_WAIT_MS 10000

struct opts {
	const char *token;
	char sock[108];
	int foreground;
	long max_skew;
	const char *audit_log;
	uid_t allow[AGENT_ALLOW_MAX];
	size_t nallow;
	int csh; /* -1: guess from $SHELL */
	int kill;
	unsigned sessions;
	int default_sock;
	long lock_after;     /* seconds without a request before the agent locks; 0: never */
	struct m2m_opts m2m; /* --connect-to, --cacert: the M2M token exchange */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: tba-agent [--token URI] [--socket PATH] [-f|--foreground] [--max-skew SECONDS]\n"
	    "                 [--audit-log FILE] [--allow-uid UID]... [--lock-after SECONDS]\n"
	    "                 [--sessions N] [--connect-to H1:P1:H2:P2]... [--cacert FILE]\n"
	    "                 [-s|-c] [-k]\n\n"
	    "Holds a logged-in session to a PKCS#11 token and signs NetSuite (OAuth 1.0a TBA)\n"
	    "requests inside it for clients on a Unix socket. Start it with\n"
	    "    eval \"$(tba-agent)\"\n"
	    "which sets TBA_AGENT_SOCK and TBA_AGENT_PID; 'eval \"$(tba-agent -k)\"' stops it.\n\n"
	    "  --token URI        the token (RFC 7512), else $TBA_TOKEN, e.g.\n"
	    "                     pkcs11:token=tba?module-name=softhsm2&pin-source=file:/run/tba/pin\n"
	    "                     (without pin-source/pin-value the PIN is asked on the terminal)\n"
	    "  --socket PATH      listen here (default $XDG_RUNTIME_DIR/tba/agent.sock,\n"
	    "                     else /tmp/tba-UID/agent.sock)\n"
	    "  -f, --foreground   stay in the foreground and log to stderr (for systemd)\n"
	    "  --max-skew SECONDS refuse client timestamps further off than this (default 300,\n"
	    "                     at most %d; never more than %d s ahead of the agent's clock)\n"
	    "  --audit-log FILE   also append one JSON line per signature to FILE\n"
	    "  --allow-uid UID    let this user (uid or name) use the agent too (repeatable)\n"
	    "  --lock-after SECONDS  lock after this long without a request (Ping aside);\n"
	    "                     'tba unlock' unlocks\n"
	    "  --sessions N       signing sessions to keep open (1-%d, default %d)\n"
	    "  --connect-to H1:P1:H2:P2  for the agent's own HTTPS calls (the M2M token\n"
	    "                     exchange): connect to H2:P2 for H1:P1, as curl (repeatable)\n"
	    "  --cacert FILE      trust these CAs for the token exchange, as curl\n"
	    "  -s, -c             print sh or csh commands (default: guessed from $SHELL)\n"
	    "  -k                 stop the agent in $TBA_AGENT_PID and wait until it exited\n",
	    AGENT_SKEW_MAX, AGENT_AHEAD_MAX, AGENT_SESSIONS_MAX, AGENT_SESSIONS_DEFAULT);
}

static int __attribute__((format(printf, 1, 2))) bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "tba-agent: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ". Try 'tba-agent --help'.\n");
	return EXIT_USAGE;
}

/* A bad option, named as given: "--frob" (without any =VALUE) or "-z". */
static int
bad_option(const char *arg)
{
	if (strncmp(arg, "--", 2) == 0 && strchr(arg, '=') != NULL && optopt != 0)
		return bad_usage("option %.*s takes no value", (int)strcspn(arg, "="), arg);
	if (strncmp(arg, "--", 2) == 0)
		return bad_usage("unknown option %.*s", (int)strcspn(arg, "="), arg);
	if (optopt > 0 && optopt < 128)
		return bad_usage("unknown option -%c", optopt);
	return bad_usage("unknown option %s", arg);
}

static int
parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
	    {"token", required_argument, NULL, 'T'},
	    {"socket", required_argument, NULL, 'S'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"max-skew", required_argument, NULL, 'M'},
	    {"audit-log", required_argument, NULL, 'A'},
	    {"allow-uid", required_argument, NULL, 'U'},
	    {"sessions", required_argument, NULL, 'N'},
	    {"lock-after", required_argument, NULL, 'L'},
	    {"connect-to", required_argument, NULL, 'C'},
	    {"cacert", required_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct passwd *pw;
	const char *rt, *sh;
	long v;
	int c;

	memset(o, 0, sizeof(*o));
	o->max_skew = 300;
	o->csh = -1;
	o->sessions = AGENT_SESSIONS_DEFAULT;
	opterr = 0;
	while ((c = tba_getopt(argc, argv, ":fsckh", lo)) != -1) {
		switch (c) {
		case 'T':
			o->token = optarg;
			break;
		case 'S':
			if (optarg[0] == '\0' || strlen(optarg) >= sizeof(o->sock))
				return bad_usage("--socket needs a path shorter than 108 bytes");
			memcpy(o->sock, optarg, strlen(optarg) + 1);
			break;
		case 'f':
			o->foreground = 1;
			break;
		case 'M':
			if (parse_long(optarg, 0, AGENT_SKEW_MAX, &v) != 0)
				return bad_usage("--max-skew wants seconds, 0 to %d, not '%s'",
				    AGENT_SKEW_MAX, optarg);
			o->max_skew = v;
			break;
		case 'A':
			o->audit_log = optarg;
			break;
		case 'U':
			if (o->nallow >= AGENT_ALLOW_MAX)
				return bad_usage("at most 16 --allow-uid");
			if (parse_long(optarg, 0, 0x7fffffffL, &v) == 0)
				o->allow[o->nallow++] = (uid_t)v;
			else if ((pw = getpwnam(optarg)) != NULL)
				o->allow[o->nallow++] = pw->pw_uid;
			else
				return bad_usage("--allow-uid: no user '%s'", optarg);
			break;
		case 'N':
			if (parse_long(optarg, 1, AGENT_SESSIONS_MAX, &v) != 0)
				return bad_usage("--sessions wants 1 to 16, not '%s'", optarg);
			o->sessions = (unsigned)v;
			break;
		case 'L':
			if (parse_long(optarg, 1, AGENT_LOCK_AFTER_MAX, &v) != 0)
				return bad_usage("--lock-after wants 1 to %ld seconds, not '%s'",
				    (long)AGENT_LOCK_AFTER_MAX, optarg);
			o->lock_after = v;
			break;
		case 'C':
			if (o->m2m.nconnect_to >= M2M_CONNECT_TO_MAX)
				return bad_usage("at most %d --connect-to", M2M_CONNECT_TO_MAX);
			if (strchr(optarg, ':') == NULL || strlen(optarg) > 600)
				return bad_usage(
				    "--connect-to wants HOST1:PORT1:HOST2:PORT2, not '%.80s'",
				    optarg);
			o->m2m.connect_to[o->m2m.nconnect_to++] = optarg;
			break;
		case 'K':
			if (access(optarg, R_OK) != 0)
				return bad_usage("--cacert: cannot read '%s'", optarg);
			o->m2m.cacert = optarg;
			break;
		case 's':
			o->csh = 0;
			break;
		case 'c':
			o->csh = 1;
			break;
		case 'k':
			o->kill = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("tba-agent %s\n", TBA_VERSION);
			exit(0);
		case ':':
			return bad_usage("option %s needs a value", argv[optind - 1]);
		default:
			return bad_option(argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (o->csh < 0) {
		sh = getenv("SHELL");
		o->csh = sh != NULL && strlen(sh) >= 3 && strcmp(sh + strlen(sh) - 3, "csh") == 0;
	}
	if (o->sock[0] == '\0') {
		rt = getenv("XDG_RUNTIME_DIR");
		if (rt != NULL && rt[0] == '/')
			v = snprintf(o->sock, sizeof(o->sock), "%s/tba/agent.sock", rt);
		else
			v = snprintf(
			    o->sock, sizeof(o->sock), "/tmp/tba-%ld/agent.sock", (long)getuid());
		if (v < 0 || (size_t)v >= sizeof(o->sock))
			return bad_usage("default socket path too long; use --socket");
		o->default_sock = 1;
	}
	if (o->token == NULL && !o->kill) {
		o->token = getenv("TBA_TOKEN");
		if (o->token == NULL || o->token[0] == '\0')
			return bad_usage("name the token with --token URI or TBA_TOKEN");
	}
	return 0;
}

/* 1 when pid is gone (or a zombie nobody reaps). */
static int
pid_gone(pid_t pid)
{
	char path[64], buf[256], *p;
	ssize_t n;
	int fd;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

static int
agent_kill(const struct opts *o)
{
	const char *s = getenv("TBA_AGENT_PID");
	struct timespec ts = {0, 20 * 1000 * 1000};
	long pid;
	int waited;

	if (s == NULL || parse_long(s, 2, 0x7fffffffL, &pid) != 0) {
		fprintf(stderr, "tba-agent: TBA_AGENT_PID is not set to a pid: no agent to stop\n");
		return 1;
	}
	if (kill((pid_t)pid, SIGTERM) != 0) {
		fprintf(stderr, "tba-agent: cannot stop agent pid %ld: %s\n", pid, strerror(errno));
		return 1;
	}
	for (waited = 0; !pid_gone((pid_t)pid); waited += 20) {
		if (waited >= KILL_WAIT_MS) {
			fprintf(stderr, "tba-agent: agent pid %ld did not exit within %d s\n", pid,
			    KILL_WAIT_MS / 1000);
			return 1;
		}
		nanosleep(&ts, NULL);
	}
	if (o->csh)
		printf("unsetenv TBA_AGENT_SOCK;\nunsetenv TBA_AGENT_PID;\n");
	else
		printf("unset TBA_AGENT_SOCK;\nunset TBA_AGENT_PID;\n");
	printf("echo Agent pid %ld killed;\n", pid);
	return 0;
}

/* 1 when the URI names no PIN, so it must come from the terminal. */
static int
uri_needs_prompt(const char *uri)
{
	P11KitUri *u = p11_kit_uri_new();
	int need = 0;

	if (u == NULL)
		return 0;
	if (p11_kit_uri_parse(uri, P11_KIT_URI_FOR_ANY, u) == P11_KIT_URI_OK)
		need =
		    p11_kit_uri_get_pin_value(u) == NULL && p11_kit_uri_get_pin_source(u) == NULL;
	p11_kit_uri_free(u);
	return need;
}

static void
harden(void)
{
	struct rlimit rl = {0, 0};

	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)setrlimit(RLIMIT_CORE, &rl);
	/* Thousands of idle connections are cheap now; let the descriptor limit allow them. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	umask(0177);
	signal(SIGPIPE, SIG_IGN);
}

/* Tells the waiting parent (or stderr in the foreground) how start-up went. */
static void
report(int fd, tba_err r)
{
	char line[600];
	int n;

	if (fd < 0) {
		if (r != TBA_OK)
			fprintf(stderr, "tba-agent: %s\n", tba_errmsg(r));
		return;
	}
	if (r == TBA_OK)
		n = snprintf(line, sizeof(line), "OK\n");
	else
		n = snprintf(line, sizeof(line), "E%s\n", tba_errmsg(r));
	if (n > 0)
		(void)!write(fd, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
	close(fd);
}

/* Runs the agent in this process until a signal stops it; returns the exit code. */
static int
agent_run(const struct opts *o, char **pin, size_t pinlen, size_t pincap, int report_fd)
{
	struct agent_ctx ctx;
	struct m2m_opts m2mo;
	struct server_opts so;
	struct watch *watch = NULL;
	struct stat st;
	sigset_t set;
	ino_t ino = 0;
	int sigfd = -1, lfd = -1, activated = 0, rc = 1, started = 0;
	tba_err r;

	memset(&ctx, 0, sizeof(ctx));
	ctx.max_skew = o->max_skew;
	/* Before any thread: libcurl's global state is not thread-safe to set up. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		r = tba_seterr(TBA_ERR_NETWORK, "libcurl failed to initialise");
		goto out;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread exists, so only the signalfd sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if ((sigfd = signalfd(-1, &set, SFD_CLOEXEC)) < 0) {
		r = tba_seterr(TBA_ERR_IO, "signalfd: %s", strerror(errno));
		goto out;
	}
	if ((r = pool_open(o->token, pin, pinlen, pincap, o->sessions, &ctx.pool)) != TBA_OK)
		goto out;
	if ((r = profiles_new(ctx.pool, &ctx.profiles)) != TBA_OK)
		goto out;
	/*
	 * Requests waiting on token exchanges hold a worker each: keep half the
	 * sessions' worth of workers (and the spare ones) for everything else.
	 */
	m2mo = o->m2m;
	m2mo.max_blocked = o->sessions / 2 + 1;
	if ((r = m2m_new(ctx.pool, ctx.profiles, &m2mo, &ctx.m2m)) != TBA_OK ||
	    (r = watch_start(&ctx, o->lock_after, &watch)) != TBA_OK)
		goto out;
	if ((r = server_listen(o->sock, &lfd, &activated)) != TBA_OK)
		goto out;
	if (!activated && stat(o->sock, &st) == 0)
		ino = st.st_ino;
	report(report_fd, TBA_OK);
	started = 1;
	tba_info("listening on %s for token '%s'", activated ? "the socket from systemd" : o->sock,
	    pool_label(ctx.pool));
	so.allow = o->allow;
	so.nallow = o->nallow;
	so.workers = o->sessions + AGENT_WORKERS_EXTRA;
	r = server_run(&ctx, &so, lfd, sigfd);
	rc = r == TBA_OK ? 0 : 1;
out:
	if (!started)
		report(report_fd, r);
	else if (r != TBA_OK)
		tba_error("%s", tba_errmsg(r));
	/* Remove the socket only if it is still the one we bound. */
	if (lfd >= 0 && !activated && ino != 0 && stat(o->sock, &st) == 0 && st.st_ino == ino)
		(void)unlink(o->sock);
	if (lfd >= 0)
		close(lfd);
	watch_stop(watch);
	m2m_free(ctx.m2m);
	pool_close(ctx.pool);
	profiles_free(ctx.profiles);
	audit_close();
	if (sigfd >= 0)
		close(sigfd);
	if (pin != NULL && *pin != NULL) {
		tba_secfree(*pin, pincap);
		*pin = NULL;
	}
	return rc;
}

static void
print_env(const struct opts *o, pid_t pid)
{
	if (o->csh)
		printf(
		    "setenv TBA_AGENT_SOCK %s;\nsetenv TBA_AGENT_PID %ld;\n", o->sock, (long)pid);
	else
		printf("TBA_AGENT_SOCK=%s; export TBA_AGENT_SOCK;\n"
		       "TBA_AGENT_PID=%ld; export TBA_AGENT_PID;\n",
		    o->sock, (long)pid);
	printf("echo Agent pid %ld;\n", (long)pid);
	fflush(stdout);
}

/* The parent's side of the start-up pipe. */
static int
await_child(const struct opts *o, pid_t pid, int fd)
{
	char line[600];
	size_t len = 0;
	ssize_t n;
	int st;

	while (len < sizeof(line) - 1) {
		n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	line[len] = '\0';
	if (len >= 3 && memcmp(line, "OK\n", 3) == 0) {
		print_env(o, pid);
		return 0;
	}
	line[strcspn(line, "\n")] = '\0';
	fprintf(stderr, "tba-agent: %s\n", len > 1 ? line + 1 : "the agent exited during start-up");
	(void)waitpid(pid, &st, 0);
	return 1;
}

int
main(int argc, char **argv)
{
	struct opts o;
	char *pin = NULL;
	size_t pinlen = 0, pincap = 0;
	int pfd[2], devnull, rc;
	pid_t pid;
	tba_err r;

	tba_log_init("tba-agent", TBA_LOG_INFO);
	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc;
	if (o.kill)
		return agent_kill(&o);
	harden();
	if (getenv("LISTEN_FDS") != NULL && getenv("LISTEN_PID") != NULL)
		o.foreground = 1; /* systemd holds the socket: no fork, no folder to make */
	else if ((r = server_prepare_dir(o.sock, o.default_sock)) != TBA_OK) {
		fprintf(stderr, "tba-agent: %s\n", tba_errmsg(r));
		return 1;
	}
	if ((r = audit_open(o.audit_log)) != TBA_OK) {
		fprintf(stderr, "tba-agent: %s\n", tba_errmsg(r));
		return 1;
	}
	if (uri_needs_prompt(o.token)) {
		r = tba_tty_read_secret("Token PIN: ", &pin, &pinlen, &pincap);
		if (r != TBA_OK) {
			fprintf(stderr,
			    "tba-agent: no PIN: add pin-source=file:PATH to the token URI, "
			    "or start tba-agent on a terminal (%s)\n",
			    tba_errmsg(r));
			return 1;
		}
	}
	if (o.foreground)
		return agent_run(&o, &pin, pinlen, pincap, -1);

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		fprintf(stderr, "tba-agent: pipe: %s\n", strerror(errno));
		tba_secfree(pin, pincap);
		return 1;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "tba-agent: fork: %s\n", strerror(errno));
		tba_secfree(pin, pincap);
		return 1;
	}
	if (pid == 0) {
		close(pfd[0]);
		(void)setsid();
		(void)!chdir("/");
		/*
		 * Let eval "$(tba-agent)" see end-of-file at once. Logs and audit
		 * lines go to syslog, as ssh-agent's, unless stderr is the journal.
		 */
		if (!tba_log_journal())
			tba_log_to_syslog();
		if ((devnull = open("/dev/null", O_RDWR)) >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			if (!tba_log_journal())
				dup2(devnull, STDERR_FILENO);
			if (devnull > STDERR_FILENO)
				close(devnull);
		}
		_exit(agent_run(&o, &pin, pinlen, pincap, pfd[1]));
	}
	tba_secfree(pin, pincap);
	close(pfd[1]);
	return await_child(&o, pid, pfd[0]);
}
