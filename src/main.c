/* main.c - wsserverd: options, config, event loop, signals. */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "admin.h"
#include "config.h"
#include "log.h"
#include "server.h"
#include "tls.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define DEFAULT_CONFIG SYSCONFDIR "/wsserverd/wsserverd.ini"

/* Prints the usage line. */
static void
usage(FILE *f)
{
	fprintf(f, "usage: wsserverd [-ftVh] [-c file]\n"
	    "  -c file  configuration file (default %s)\n"
	    "  -f       stay in the foreground\n"
	    "  -t       check the configuration and exit\n"
	    "  -V       print the version and exit\n"
	    "  -h       this help\n", DEFAULT_CONFIG);
}

/* SIGTERM/SIGINT: graceful shutdown; a second one exits at once. */
static void
main_sigterm_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server	*srv = arg;

	if (server_stopping(srv)) {
		log_warn("signal %d during shutdown: exiting now", (int)sig);
		event_base_loopexit(server_base(srv), NULL);
		return;
	}
	log_info("signal %d: shutting down", (int)sig);
	server_shutdown(srv);
}

/* SIGHUP: reload the configuration, as "wsserverctl reload" does. */
static void
main_sighup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server	*srv = arg;
	char		*errors = NULL, *notes = NULL;

	log_info("signal %d: reloading the configuration", (int)sig);
	/* server_reload logs the outcome, errors and notes included. */
	(void)server_reload(srv, &errors, &notes);
	free(errors);
	free(notes);
}

/* Detaches from the terminal: fork, new session, stdin/stdout to /dev/null. */
static int
main_daemonize(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() == -1)
		return -1;
	if ((fd = open("/dev/null", O_RDWR)) != -1) {
		dup2(fd, STDIN_FILENO);
		dup2(fd, STDOUT_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char		*file = DEFAULT_CONFIG, *cause;
	struct config		*cfg;
	struct event_base	*base;
	struct server		*srv;
	struct event		*ev_term, *ev_int, *ev_hup;
	char			*errors = NULL, acause[512];
	int			 ch, foreground = 0, check = 0, rc = 0;

	while ((ch = getopt(argc, argv, "c:ftVh")) != -1) {
		switch (ch) {
		case 'c':
			file = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 't':
			check = 1;
			break;
		case 'V':
			printf("wsserverd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	if ((cfg = config_load(file, &errors)) == NULL) {
		fputs(errors, stderr);
		if (*errors != '\0' && errors[strlen(errors) - 1] != '\n')
			fputc('\n', stderr);
		free(errors);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK\n", file);
		tls_ctx_print(cfg->tls, stdout);
		config_free(cfg);
		return 0;
	}

	log_init(cfg->log_level);
	tls_ctx_log(cfg->tls);
	signal(SIGPIPE, SIG_IGN);
	if (!foreground && main_daemonize() == -1) {
		log_error("daemonize: %s", strerror(errno));
		config_free(cfg);
		return 1;
	}
	if ((base = event_base_new()) == NULL) {
		log_error("event_base_new failed");
		config_free(cfg);
		return 1;
	}
	srv = server_new(base, cfg);
	/*
	 * Signals first: once "listening on" is logged, a SIGTERM must stop
	 * the daemon gracefully, never kill it with the default action.
	 */
	ev_term = evsignal_new(base, SIGTERM, main_sigterm_cb, srv);
	ev_int = evsignal_new(base, SIGINT, main_sigterm_cb, srv);
	ev_hup = evsignal_new(base, SIGHUP, main_sighup_cb, srv);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_hup, NULL);
	if (admin_start(srv, acause, sizeof(acause)) == -1) {
		log_error("%s", acause);
		rc = 1;
	} else if (server_listen(srv, &cause) == -1) {
		log_error("cannot listen: %s", cause);
		admin_stop();
		rc = 1;
	} else {
		event_base_dispatch(base);
		admin_stop();
	}

	event_free(ev_term);
	event_free(ev_int);
	event_free(ev_hup);
	server_free(srv);
	event_base_free(base);
	libevent_global_shutdown();
	return rc;
}
