/*
 * admin.h - the admin socket (admin.c and the other files of src/admin/):
 * one command per line over a UNIX socket, wsserverctl's peer. main.c
 * starts and stops it; workers.c reaches it only through the hooks main.c
 * registers (workers_set_hooks). The command table and the parser that
 * wsserverctl shares are in cmd.h.
 */
#ifndef ADMIN_H
#define ADMIN_H

#include <stdbool.h>

struct server;

/*
 * Opens the admin socket of the server's configuration ([admin] Socket,
 * SocketMode, SocketGroup) on the server's event base; an empty Socket
 * leaves it off, and so does a failure on the default path (logged). A
 * stale socket file (nobody accepts on it) is replaced; a live one means
 * another daemon runs, and that is an error. admin_start serves commands
 * in this process; admin_master_start (Workers > 1) relays them to the
 * workers. Returns 0, or -1 with *cause (malloc'd) if cause is not NULL.
 */
int	admin_start(struct server *, char **cause);
int	admin_master_start(struct server *, char **cause);
/* Closes every admin client and the socket, and removes the socket file. */
void	admin_stop(void);
/* A new worker: drops the master's socket and clients, serves channels. */
void	admin_worker_start(struct server *);
/*
 * A worker: serves fd, a channel from the master, as a trusted client;
 * watching: a watcher from the start (a restarted worker's).
 */
void	admin_adopt(int fd, bool watching);
/* Master: worker i was restarted; watchers get its events again. */
void	admin_worker_up(int i);

#endif
