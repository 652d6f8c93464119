/*
 * subscribe.h - the topics a WebSocket joins as it opens (wsserverd(8),
 * TOPICS): its route's Subscribe, with {NAME} replaced by the request's
 * CGI variable NAME, and the topics of the Subscribe lines in the
 * OpenRequestHook's or a mux backend's answer. The backend table's opened
 * op (backends.c); topics.c keeps the subscriptions.
 */
#ifndef SUBSCRIBE_H
#define SUBSCRIBE_H

struct conn;

/* Subscribes a WebSocket that has just opened; refusals are logged. */
void	subscribe_opened(struct conn *);

#endif
