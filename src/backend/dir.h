/*
 * dir.h - dir: routes (websocketd's --dir): the first path segment after
 * the route's prefix names a program of the directory, the rest is
 * PATH_INFO. The script backend chooses at admission (dir_admit, its
 * admit op) and runs the choice; cgi.c puts it in SCRIPT_NAME/PATH_INFO.
 */
#ifndef DIR_H
#define DIR_H

struct conn;
struct route;

/*
 * Chooses the program for conn's request on a dir: route and keeps the
 * choice with the connection. Hidden names (which covers ".." too),
 * symlinks that resolve outside the directory and anything but an
 * executable regular file are refused (404), and so is a set-user-ID or
 * set-group-ID one (403, logged). Returns 0 (other routes: nothing to
 * choose), or the status with *cause set (malloc'd).
 */
int		 dir_admit(struct conn *, const struct route *,
		    char **cause);

/*
 * The program chosen for conn (absolute, real path), with its
 * SCRIPT_NAME and PATH_INFO; NULL on other routes.
 */
const char	*dir_program(const struct conn *, const char **script_name,
		    const char **path_info);

#endif
