/* check_spawn.c - unit tests for spawn.c and the spawner: handlers started asynchronously, reaped, reported. */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "check_suites.h"
#include "conf/config.h"
#include "event/runtime.h"
#include "event/spawn.h"

/* What a test hears from the spawner. */
struct heard {
	pid_t	pid;
	int	fds[3];
	int	started;
	int	failed;
	char	cause[64];
	int	reaped;
	int	status;
};

static void
heard_started(void *arg, pid_t pid, int fds[3])
{
	struct heard	*h = arg;

	h->pid = pid;
	memcpy(h->fds, fds, sizeof(h->fds));
	h->started++;
}

static void
heard_failed(void *arg, const char *cause)
{
	struct heard	*h = arg;

	snprintf(h->cause, sizeof(h->cause), "%s", cause);
	h->failed++;
}

static void
heard_reaped(void *arg, int st)
{
	struct heard	*h = arg;

	h->status = st;
	h->reaped++;
}

static const struct spawn_ops heard_ops = {
	.started = heard_started,
	.failed = heard_failed,
	.reaped = heard_reaped,
};

/* Runs the loop until *flag is set (bounded: 10 s). */
static void
wait_for(const int *flag)
{
	int	i;

	for (i = 0; i < 1000 && *flag == 0; i++) {
		struct timeval	tv = { 0, 10000 };

		event_base_loopexit(runtime_base(), &tv);
		event_base_dispatch(runtime_base());
	}
	ck_assert_int_ne(*flag, 0);
}

/* Reads fd (non-blocking) to its end into buf (bounded). */
static size_t
read_all(int fd, char *buf, size_t len)
{
	size_t	have = 0;
	ssize_t	n;
	int	i;

	for (i = 0; i < 1000 && have < len; i++) {
		n = read(fd, buf + have, len - have);
		if (n == 0)
			break;
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		ck_assert(errno == EAGAIN || errno == EINTR);
		usleep(10000);
	}
	return have;
}

/* Starts argv (environment envp), returns what was heard once it started. */
static void
start(char *const *argv, char **envp, struct heard *h)
{
	struct spawn_cmd cmd = { .id = "1", .what = "handler", .argv = argv,
	    .envp = envp };
	char		*cause = NULL;

	memset(h, 0, sizeof(*h));
	ck_assert(spawn_start(&cmd, &heard_ops, h, &cause) != 0);
	ck_assert_ptr_null(cause);
	/* Never from within spawn_start. */
	ck_assert_int_eq(h->started + h->failed, 0);
}

static void
setup(void)
{
	char	*cause = NULL;

	runtime_init(event_base_new(), config_defaults());
	ck_assert_int_eq(spawn_init(&cause), 0);
}

static void
teardown(void)
{
	struct event_base	*base = runtime_base();

	spawn_fini();
	runtime_free();
	event_base_free(base);
}

START_TEST(test_spawn_runs_and_reaps)
{
	char *const	 argv[] = { "/bin/sh", "-c",
	    "read x; echo \"out:$x:$FOO:$HOME\"; echo err >&2; exit 3", NULL };
	char		*envp[] = { "FOO=bar", NULL };
	struct heard	 h;
	char		 buf[256];
	size_t		 n;

	start(argv, envp, &h);
	wait_for(&h.started);
	ck_assert_int_gt(h.pid, 0);
	ck_assert_int_eq(write(h.fds[0], "in\n", 3), 3);
	close(h.fds[0]);
	n = read_all(h.fds[1], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	/* Only the environment it was given: no HOME of ours. */
	ck_assert_str_eq(buf, "out:in:bar:\n");
	n = read_all(h.fds[2], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "err\n");
	wait_for(&h.reaped);
	ck_assert(WIFEXITED(h.status));
	ck_assert_int_eq(WEXITSTATUS(h.status), 3);
	ck_assert_int_eq(h.started, 1);
	ck_assert_int_eq(h.failed, 0);
	/* Not ours to reap: the spawner did (and is not a zombie maker). */
	ck_assert_int_eq(waitpid(h.pid, NULL, WNOHANG), -1);
	close(h.fds[1]);
	close(h.fds[2]);
}
END_TEST

/* Runs argv and returns its stdout (static buffer). */
static const char *
spawn_output(char *const argv[])
{
	static char	 buf[2048];
	char		*envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct heard	 h;
	size_t		 n;

	start(argv, envp, &h);
	wait_for(&h.started);
	close(h.fds[0]);
	n = read_all(h.fds[1], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	wait_for(&h.reaped);
	close(h.fds[1]);
	close(h.fds[2]);
	return buf;
}

START_TEST(test_spawn_clean_start)
{
	/*
	 * Own process group, default signals, nothing blocked, no new
	 * privileges, fds 0-2 only.
	 */
	char *const	 st[] = { "/bin/grep", "-E",
	    "^(Pid|NSpgid|SigBlk|SigIgn|NoNewPrivs):", "/proc/self/status",
	    NULL };
	char *const	 fd[] = { "/bin/ls", "/proc/self/fd", NULL };
	const char	*out, *p;
	char		*cause = NULL;
	char		 pid[32];
	sigset_t	 set, old;

	/*
	 * Blocked and ignored in the daemon must not be so in the child: a
	 * spawner started with them (as the daemon's) resets them.
	 */
	spawn_fini();
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	ck_assert_int_eq(spawn_init(&cause), 0);
	out = spawn_output(st);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);
	ck_assert_msg(strstr(out, "SigBlk:\t0000000000000000\n") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, "SigIgn:\t0000000000000000\n") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, "NoNewPrivs:\t1\n") != NULL, "%s", out);
	ck_assert((p = strstr(out, "Pid:\t")) != NULL);
	snprintf(pid, sizeof(pid), "NSpgid:\t%d\n", atoi(p + 5));
	ck_assert_msg(strstr(out, pid) != NULL, "%s", out);
	/* ls's own: 0, 1, 2 and the directory it reads. */
	out = spawn_output(fd);
	ck_assert_str_eq(out, "0\n1\n2\n3\n");
}
END_TEST

START_TEST(test_spawn_many_at_once)
{
	/* More than the spawner starts at once: the rest wait, none is lost. */
	char *const	 argv[] = { "/bin/true", NULL };
	char		*envp[] = { NULL };
	struct spawn_cmd cmd = { .id = "5", .what = "handler", .argv = argv,
	    .envp = envp };
	static struct heard h[40];
	char		*cause = NULL;
	int		 i, j, done;

	memset(h, 0, sizeof(h));
	for (i = 0; i < 40; i++)
		ck_assert(spawn_start(&cmd, &heard_ops, &h[i], &cause) != 0);
	for (j = 0, done = 0; j < 2000 && done < 40; j++) {
		struct timeval	tv = { 0, 10000 };

		event_base_loopexit(runtime_base(), &tv);
		event_base_dispatch(runtime_base());
		for (i = 0, done = 0; i < 40; i++)
			done += h[i].reaped;
	}
	for (i = 0; i < 40; i++) {
		ck_assert_int_eq(h[i].started, 1);
		ck_assert_int_eq(h[i].failed, 0);
		ck_assert_int_eq(h[i].reaped, 1);
		ck_assert(WIFEXITED(h[i].status));
		ck_assert_int_eq(WEXITSTATUS(h[i].status), 0);
		for (j = 0; j < 3; j++)
			close(h[i].fds[j]);
	}
}
END_TEST

START_TEST(test_spawn_exec_fails)
{
	char		*argv[] = { "/nonexistent/handler", NULL };
	char		*envp[] = { NULL };
	struct heard	 h;

	/* The program's own directory does not exist: chdir fails first. */
	start(argv, envp, &h);
	wait_for(&h.failed);
	ck_assert_str_eq(h.cause, "chdir failed");
	argv[0] = "/bin/no-such-program";
	start(argv, envp, &h);
	wait_for(&h.failed);
	ck_assert_str_eq(h.cause, "exec failed");
	ck_assert_int_eq(h.started + h.reaped, 0);
}
END_TEST

START_TEST(test_spawn_cancel_kills_group)
{
	char *const	 argv[] = { "/bin/sh", "-c", "sleep 30 & sleep 30",
	    NULL };
	char		*envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct spawn_cmd cmd = { .id = "4", .what = "handler", .argv = argv,
	    .envp = envp };
	struct heard	 h, g;
	char		*cause = NULL;
	uint64_t	 job;
	int		 i;

	/* Cancelled once it runs: the whole group goes, nobody is told. */
	start(argv, envp, &h);
	wait_for(&h.started);
	spawn_cancel(UINT64_MAX);	/* not a live handle: nothing happens */
	memset(&g, 0, sizeof(g));
	job = spawn_start(&cmd, &heard_ops, &g, &cause);
	ck_assert(job != 0);
	wait_for(&g.started);
	spawn_cancel(job);
	for (i = 0; i < 500 && kill(-g.pid, 0) == 0; i++) {
		struct timeval	tv = { 0, 10000 };

		event_base_loopexit(runtime_base(), &tv);
		event_base_dispatch(runtime_base());
	}
	ck_assert_int_eq(kill(-g.pid, 0), -1);
	ck_assert_int_eq(g.reaped, 0);
	for (i = 0; i < 3; i++)
		close(g.fds[i]);
	/* Cancelled before the spawner answered: it never runs for long. */
	memset(&g, 0, sizeof(g));
	job = spawn_start(&cmd, &heard_ops, &g, &cause);
	ck_assert(job != 0);
	spawn_cancel(job);
	for (i = 0; i < 50; i++) {
		struct timeval	tv = { 0, 10000 };

		event_base_loopexit(runtime_base(), &tv);
		event_base_dispatch(runtime_base());
	}
	ck_assert_int_eq(g.started + g.failed + g.reaped, 0);
	(void)kill(-h.pid, SIGKILL);
	wait_for(&h.reaped);
	for (i = 0; i < 3; i++)
		close(h.fds[i]);
}
END_TEST

START_TEST(test_spawn_spawner_restarts)
{
	char *const	 argv[] = { "/bin/true", NULL };
	char		*envp[] = { NULL };
	struct heard	 h;
	int		 i;

	/* The spawner killed: the next start gets a new one. */
	start(argv, envp, &h);
	wait_for(&h.reaped);
	ck_assert_int_eq(system("pkill -KILL -x wsserverd-spawn -P "
	    "$PPID 2>/dev/null; true"), 0);
	for (i = 0; i < 50; i++) {
		struct timeval	tv = { 0, 10000 };

		event_base_loopexit(runtime_base(), &tv);
		event_base_dispatch(runtime_base());
	}
	start(argv, envp, &h);
	wait_for(&h.reaped);
	ck_assert(WIFEXITED(h.status));
	for (i = 0; i < 3; i++)
		close(h.fds[i]);
}
END_TEST

Suite *
make_spawn_suite(void)
{
	Suite	*s = suite_create("spawn");
	TCase	*tc = tcase_create("Core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_spawn_runs_and_reaps);
	tcase_add_test(tc, test_spawn_clean_start);
	tcase_add_test(tc, test_spawn_exec_fails);
	tcase_add_test(tc, test_spawn_many_at_once);
	tcase_add_test(tc, test_spawn_cancel_kills_group);
	tcase_add_test(tc, test_spawn_spawner_restarts);
	suite_add_tcase(s, tc);
	return s;
}
