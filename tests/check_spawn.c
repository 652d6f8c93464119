/* check_spawn.c - unit tests for spawn.c: fork and exec of handlers, and the reaper. */
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

/* What a test waits for: the child's wait status. */
struct reaped {
	int	status;
	int	calls;
};

static void
spawn_done(void *arg, int st)
{
	struct reaped	*r = arg;

	r->status = st;
	r->calls++;
}

/* Runs the loop until r is reaped (bounded: 10 s). */
static void
wait_reaped(struct reaped *r)
{
	int	i;

	for (i = 0; i < 1000 && r->calls == 0; i++) {
		struct timeval	tv = { 0, 10000 };

		event_base_loopexit(runtime_base(), &tv);
		event_base_dispatch(runtime_base());
	}
	ck_assert_int_eq(r->calls, 1);
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

static void
setup(void)
{
	runtime_init(event_base_new(), config_defaults());
}

static void
teardown(void)
{
	struct event_base	*base = runtime_base();

	runtime_free();
	event_base_free(base);
}

START_TEST(test_spawn_runs_and_reaps)
{
	char *const	 argv[] = { "/bin/sh", "-c",
	    "read x; echo \"out:$x:$FOO:$HOME\"; echo err >&2; exit 3", NULL };
	char		*envp[] = { "FOO=bar", NULL };
	struct spawn_cmd cmd = { .id = "1", .what = "handler", .argv = argv,
	    .envp = envp };
	struct reaped	 r = { 0, 0 };
	char		*cause = NULL;
	char		 buf[256];
	int		 fds[3];
	size_t		 n;
	pid_t		 pid;

	pid = spawn_start(&cmd, fds, spawn_done, &r, &cause);
	ck_assert_int_gt(pid, 0);
	ck_assert_int_eq(write(fds[0], "in\n", 3), 3);
	close(fds[0]);
	n = read_all(fds[1], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	/* Only the environment it was given: no HOME of ours. */
	ck_assert_str_eq(buf, "out:in:bar:\n");
	n = read_all(fds[2], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "err\n");
	wait_reaped(&r);
	ck_assert(WIFEXITED(r.status));
	ck_assert_int_eq(WEXITSTATUS(r.status), 3);
	/* Reaped by us: nothing is left to wait for. */
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
	close(fds[1]);
	close(fds[2]);
}
END_TEST

/* Runs argv and returns its stdout (static buffer). */
static const char *
spawn_output(char *const argv[])
{
	static char	 buf[2048];
	char		*envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct spawn_cmd cmd = { .id = "2", .what = "handler", .argv = argv,
	    .envp = envp };
	struct reaped	 r = { 0, 0 };
	char		*cause = NULL;
	int		 fds[3];
	size_t		 n;

	ck_assert_int_gt(spawn_start(&cmd, fds, spawn_done, &r, &cause), 0);
	close(fds[0]);
	n = read_all(fds[1], buf, sizeof(buf) - 1);
	buf[n] = '\0';
	wait_reaped(&r);
	close(fds[1]);
	close(fds[2]);
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
	char		 pid[32];
	sigset_t	 set, old;

	/* Blocked and ignored here must not be so in the child. */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	out = spawn_output(st);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);
	ck_assert(strstr(out, "SigBlk:\t0000000000000000\n") != NULL);
	ck_assert(strstr(out, "SigIgn:\t0000000000000000\n") != NULL);
	ck_assert_msg(strstr(out, "NoNewPrivs:\t1\n") != NULL, "%s", out);
	ck_assert((p = strstr(out, "Pid:\t")) != NULL);
	snprintf(pid, sizeof(pid), "NSpgid:\t%d\n", atoi(p + 5));
	ck_assert_msg(strstr(out, pid) != NULL, "%s", out);
	/* ls's own: 0, 1, 2 and the directory it reads. */
	out = spawn_output(fd);
	ck_assert_str_eq(out, "0\n1\n2\n3\n");
}
END_TEST

START_TEST(test_spawn_exec_fails)
{
	char		*argv[] = { "/nonexistent/handler", NULL };
	char		*envp[] = { NULL };
	struct spawn_cmd cmd = { .id = "3", .what = "handler", .argv = argv,
	    .envp = envp };
	struct reaped	 r = { 0, 0 };
	char		*cause = NULL;
	int		 fds[3];

	/* The program's own directory does not exist: chdir fails first. */
	ck_assert_int_eq(spawn_start(&cmd, fds, spawn_done, &r, &cause), -1);
	ck_assert_str_eq(cause, "chdir failed");
	free(cause);
	argv[0] = "/bin/no-such-program";
	ck_assert_int_eq(spawn_start(&cmd, fds, spawn_done, &r, &cause), -1);
	ck_assert_str_eq(cause, "exec failed");
	free(cause);
	/* The failed child was reaped at once, and done is not called. */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(r.calls, 0);
}
END_TEST

START_TEST(test_spawn_forget_kills_group)
{
	char *const	 argv[] = { "/bin/sh", "-c", "sleep 30 & sleep 30",
	    NULL };
	char		*envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct spawn_cmd cmd = { .id = "4", .what = "handler", .argv = argv,
	    .envp = envp };
	struct reaped	 r = { 0, 0 };
	char		*cause = NULL;
	int		 fds[3], i;
	pid_t		 pid;

	pid = spawn_start(&cmd, fds, spawn_done, &r, &cause);
	ck_assert_int_gt(pid, 0);
	spawn_forget(pid);
	/* The whole group goes; nobody is told (forgotten). */
	for (i = 0; i < 500 && kill(-pid, 0) == 0; i++) {
		struct timeval	tv = { 0, 10000 };

		event_base_loopexit(runtime_base(), &tv);
		event_base_dispatch(runtime_base());
	}
	ck_assert_int_eq(kill(-pid, 0), -1);
	ck_assert_int_eq(r.calls, 0);
	close(fds[0]);
	close(fds[1]);
	close(fds[2]);
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
	tcase_add_test(tc, test_spawn_forget_kills_group);
	suite_add_tcase(s, tc);
	return s;
}
