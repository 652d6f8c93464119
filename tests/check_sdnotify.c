/* check_sdnotify.c - sd_notify messages, NOTIFY_SOCKET addresses, watchdog and LISTEN_FDS parsing. */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "check_suites.h"
#include "event/sdnotify.h"

START_TEST(test_address_path)
{
	struct sockaddr_un	 sun;
	socklen_t		 len = 0;
	char			*cause = NULL;

	ck_assert_int_eq(sdnotify_parse_address("/run/systemd/notify", &sun,
	    &len, &cause), 0);
	ck_assert_int_eq(sun.sun_family, AF_UNIX);
	ck_assert_str_eq(sun.sun_path, "/run/systemd/notify");
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 20);
}
END_TEST

START_TEST(test_address_abstract)
{
	struct sockaddr_un	 sun;
	socklen_t		 len = 0;
	char			*cause = NULL;

	ck_assert_int_eq(sdnotify_parse_address("@sd/notify", &sun, &len,
	    &cause), 0);
	ck_assert_int_eq(sun.sun_path[0], '\0');
	ck_assert_mem_eq(sun.sun_path + 1, "sd/notify", 9);
	/* Exactly the name's bytes: a trailing NUL would be another name. */
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 10);
}
END_TEST

START_TEST(test_address_bad)
{
	struct sockaddr_un	 sun;
	socklen_t		 len = 0;
	char			*cause = NULL;
	char			 lng[200];

	ck_assert_int_eq(sdnotify_parse_address("", &sun, &len, &cause), -1);
	ck_assert_str_eq(cause, "empty address");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(sdnotify_parse_address(NULL, &sun, &len, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(sdnotify_parse_address("run/notify", &sun, &len,
	    &cause), -1);
	ck_assert_str_eq(cause, "not an absolute path or an abstract (@) name");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(sdnotify_parse_address("vsock:2:1234", &sun, &len,
	    &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(sdnotify_parse_address("@", &sun, &len, &cause), -1);
	ck_assert_str_eq(cause, "empty abstract name");
	free(cause);
	cause = NULL;

	/* sun_path holds 107 bytes of path and the NUL; 108 is too many. */
	memset(lng, 'a', sizeof(lng));
	lng[0] = '/';
	lng[107] = '\0';
	ck_assert_int_eq(sdnotify_parse_address(lng, &sun, &len, &cause), 0);
	ck_assert_uint_eq(len, sizeof(struct sockaddr_un));
	lng[107] = 'a';
	lng[108] = '\0';
	ck_assert_int_eq(sdnotify_parse_address(lng, &sun, &len, &cause), -1);
	ck_assert_str_eq(cause, "address too long");
	free(cause);
	cause = NULL;
	lng[0] = '@';
	lng[107] = '\0';
	ck_assert_int_eq(sdnotify_parse_address(lng, &sun, &len, &cause), 0);
	ck_assert_uint_eq(len, offsetof(struct sockaddr_un, sun_path) + 107);
}
END_TEST

START_TEST(test_format)
{
	char	 buf[64];

	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "READY=1", NULL), 7);
	ck_assert_str_eq(buf, "READY=1");
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "READY=1",
	    "listening on 127.0.0.1:80"), 40);
	ck_assert_str_eq(buf, "READY=1\nSTATUS=listening on 127.0.0.1:80");
	/* A status is one line: control characters become spaces. */
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "STOPPING=1",
	    "a\nREADY=1\tb"), 29);
	ck_assert_str_eq(buf, "STOPPING=1\nSTATUS=a READY=1 b");
	/* No state: STATUS= alone, no leading newline. */
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "", "x"), 8);
	ck_assert_str_eq(buf, "STATUS=x");
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf),
	    "RELOADING=1\nMONOTONIC_USEC=123", NULL), 30);
	ck_assert_str_eq(buf, "RELOADING=1\nMONOTONIC_USEC=123");
}
END_TEST

START_TEST(test_format_limits)
{
	char	 buf[16];

	/* 15 bytes fit with the NUL; 16 do not. */
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "READY=1",
	    "1234567"), -1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "READY=1",
	    "123456"), -1);
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "READY=1\nA=123",
	    NULL), 13);
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "READY=1\nA=1234567",
	    NULL), -1);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(sdnotify_format(buf, 0, "READY=1", NULL), -1);
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "", "12345678"),
	    15);
	ck_assert_int_eq(sdnotify_format(buf, sizeof(buf), "", "123456789"),
	    -1);
}
END_TEST

START_TEST(test_watchdog)
{
	ck_assert_uint_eq(sdnotify_watchdog_interval(NULL, NULL, 100), 0);
	ck_assert_uint_eq(sdnotify_watchdog_interval("", NULL, 100), 0);
	ck_assert_uint_eq(sdnotify_watchdog_interval("0", NULL, 100), 0);
	ck_assert_uint_eq(sdnotify_watchdog_interval("-5", NULL, 100), 0);
	ck_assert_uint_eq(sdnotify_watchdog_interval("30s", NULL, 100), 0);
	ck_assert_uint_eq(sdnotify_watchdog_interval("30000000", NULL, 100),
	    15000000);
	ck_assert_uint_eq(sdnotify_watchdog_interval("30000000", "", 100),
	    15000000);
	ck_assert_uint_eq(sdnotify_watchdog_interval("30000000", "100", 100),
	    15000000);
	/* Another process's watchdog is not ours to feed. */
	ck_assert_uint_eq(sdnotify_watchdog_interval("30000000", "101", 100),
	    0);
	ck_assert_uint_eq(sdnotify_watchdog_interval("30000000", "x", 100), 0);
	/* Never faster than once a millisecond. */
	ck_assert_uint_eq(sdnotify_watchdog_interval("10", NULL, 100), 1000);
	ck_assert_uint_eq(sdnotify_watchdog_interval(
	    "99999999999999999999999", NULL, 100), 0);
}
END_TEST

START_TEST(test_listen_count)
{
	char		*cause = NULL;

	ck_assert_int_eq(sdnotify_listen_count(NULL, NULL, 7, &cause), 0);
	ck_assert_int_eq(sdnotify_listen_count("7", NULL, 7, &cause), 0);
	ck_assert_int_eq(sdnotify_listen_count("7", "1", 7, &cause), 1);
	ck_assert_int_eq(sdnotify_listen_count("7", "16", 7, &cause), 16);
	/* For another process (a parent that did not unset them). */
	ck_assert_int_eq(sdnotify_listen_count("8", "1", 7, &cause), 0);
	ck_assert_int_eq(sdnotify_listen_count(NULL, "1", 7, &cause), 0);
	ck_assert_int_eq(sdnotify_listen_count("7x", "1", 7, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_int_eq(sdnotify_listen_count("7", "0", 7, &cause), -1);
	ck_assert_str_eq(cause, "LISTEN_FDS is not a number of sockets in "
	    "1..16");
	free(cause);
	cause = NULL;
	ck_assert_int_eq(sdnotify_listen_count("7", "17", 7, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(sdnotify_listen_count("7", "two", 7, &cause), -1);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(sdnotify_listen_count("7", "-1", 7, &cause), -1);
	free(cause);
	cause = NULL;
}
END_TEST

START_TEST(test_listen_name)
{
	char	 buf[8];

	sdnotify_listen_name("web:admin::last", 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "web");
	sdnotify_listen_name("web:admin::last", 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "admin");
	sdnotify_listen_name("web:admin::last", 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	sdnotify_listen_name("web:admin::last", 3, buf, sizeof(buf));
	ck_assert_str_eq(buf, "last");
	sdnotify_listen_name("web:admin::last", 4, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	sdnotify_listen_name(NULL, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "");
	/* Cut to the buffer, always terminated. */
	sdnotify_listen_name("wsserverd.socket", 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "wsserve");
}
END_TEST

/* Binds a datagram socket at addr (abstract when it starts with '@'). */
static int
bind_notify(const char *addr)
{
	struct sockaddr_un	 sun;
	socklen_t		 len;
	char			*cause = NULL;
	int			 fd;

	ck_assert_int_eq(sdnotify_parse_address(addr, &sun, &len, &cause), 0);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, len), 0);
	return fd;
}

/* Receives one datagram (waiting at most a second) as a string. */
static void
recv_notify(int fd, char *buf, size_t len)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	ssize_t		 n;

	ck_assert_int_eq(poll(&pfd, 1, 1000), 1);
	n = recv(fd, buf, len - 1, MSG_DONTWAIT);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
}

/* The whole path through init and send, to a path and an abstract socket. */
START_TEST(test_send)
{
	char	 path[64], abst[64], *cause = NULL, buf[SDNOTIFY_MSG_MAX];
	int	 fd, i;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/tmp/check-sdnotify-%ld.sock",
		    (long)getpid());
		snprintf(abst, sizeof(abst), "@check-sdnotify-%ld",
		    (long)getpid());
		unlink(path);
		fd = bind_notify(i == 0 ? path : abst);
		ck_assert_int_eq(setenv("NOTIFY_SOCKET", i == 0 ? path : abst,
		    1), 0);
		ck_assert_int_eq(setenv("WATCHDOG_USEC", "4000000", 1), 0);
		ck_assert_int_eq(sdnotify_init(&cause), 0);
		/* Unset, so that no handler or child sees them. */
		ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
		ck_assert_ptr_null(getenv("WATCHDOG_USEC"));
		ck_assert_int_eq(sdnotify_send("READY=1", "listening on x"), 1);
		recv_notify(fd, buf, sizeof(buf));
		ck_assert_str_eq(buf, "READY=1\nSTATUS=listening on x");
		ck_assert_int_eq(sdnotify_extend_timeout(15000000), 1);
		recv_notify(fd, buf, sizeof(buf));
		ck_assert_str_eq(buf, "EXTEND_TIMEOUT_USEC=15000000");
		ck_assert_int_eq(sdnotify_reloading(), 1);
		recv_notify(fd, buf, sizeof(buf));
		ck_assert_msg(strncmp(buf, "RELOADING=1\nMONOTONIC_USEC=", 27) ==
		    0 && strstr(buf, "\nSTATUS=reloading the configuration") !=
		    NULL, "%s", buf);
		sdnotify_close();
		/* Closed: nothing is sent, and that is not an error. */
		ck_assert_int_eq(sdnotify_send("READY=1", NULL), 0);
		close(fd);
		unlink(path);
	}
}
END_TEST

/*
 * Socket activation: our pid takes the sockets, close-on-exec, unset. Fd 3
 * is Check's own pipe here: it is swapped for a socket and back, and
 * nothing is asserted in between (every assertion writes to that pipe).
 */
START_TEST(test_listen_init)
{
	char		 pid[32], *cause = NULL, *cause2 = NULL, name[16];
	const char	*n = NULL;
	int		 fds[2], saved, flags, r1, r2, fd0, fd1;
	bool		 unset1, unset2;

	unsetenv("NOTIFY_SOCKET");
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	saved = dup(3);
	ck_assert_int_ne(saved, -1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());

	/* Put a socket at fd 3, where systemd's first one would be. */
	dup2(fds[0], 3);
	fcntl(3, F_SETFD, 0);
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	setenv("LISTEN_FDNAMES", "web", 1);
	r1 = sdnotify_init(&cause);
	unset1 = getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL &&
	    getenv("LISTEN_FDNAMES") == NULL;
	fd0 = sdnotify_listen_fd(0, &n);
	snprintf(name, sizeof(name), "%s", n != NULL ? n : "(null)");
	fd1 = sdnotify_listen_fd(1, NULL);
	flags = fcntl(3, F_GETFD);
	/* A bad count for us is an error, and the variables still go. */
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "99", 1);
	r2 = sdnotify_init(&cause2);
	unset2 = getenv("LISTEN_PID") == NULL && getenv("LISTEN_FDS") == NULL;
	dup2(saved, 3);
	close(saved);

	ck_assert_int_eq(r1, 0);
	ck_assert(unset1);
	ck_assert_int_eq(fd0, 3);
	ck_assert_str_eq(name, "web");
	ck_assert_int_eq(fd1, -1);
	ck_assert_int_eq(flags & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(r2, -1);
	ck_assert_str_eq(cause2, "socket activation: LISTEN_FDS is not a "
	    "number of sockets in 1..16");
	free(cause2);
	ck_assert(unset2);
	sdnotify_close();
	close(fds[0]);
	close(fds[1]);
}
END_TEST

Suite *
make_sdnotify_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("sdnotify");
	tc = tcase_create("Core");
	tcase_add_test(tc, test_address_path);
	tcase_add_test(tc, test_address_abstract);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_watchdog);
	tcase_add_test(tc, test_listen_count);
	tcase_add_test(tc, test_listen_name);
	tcase_add_test(tc, test_send);
	tcase_add_test(tc, test_listen_init);
	suite_add_tcase(s, tc);
	tc = tcase_create("Limits");
	tcase_add_test(tc, test_address_bad);
	tcase_add_test(tc, test_format_limits);
	suite_add_tcase(s, tc);
	return s;
}
