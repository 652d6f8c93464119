/*
 * fleet-proto.h - the fleet's formats as bytes (wsserverd(8), THE FLEET):
 * topic and node names, fleet-wide ConnectionIds, the payload of a message
 * published on a topic's Redis channel, the frames between a node's master
 * and its workers, and the requests and replies between nodes. No I/O, no
 * libevent, no globals: the event layer (topics.c, fleet*.c) reads and
 * writes the bytes, the tests and fuzz_fleet feed them.
 */
#ifndef FLEET_PROTO_H
#define FLEET_PROTO_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ws-session.h"

/* Longest topic name, in bytes. */
#define FLEET_TOPIC_MAX		128
/* Longest NodeName. */
#define FLEET_NODE_MAX		32
/* Room for a ConnectionId, its NUL included: NODE ":" and 20 digits. */
#define FLEET_ID_MAX		(FLEET_NODE_MAX + 1 + 20 + 1)
/* Largest message a topic carries (MaxMessageSize may lower it). */
#define FLEET_MSG_MAX		(16 * 1024 * 1024)

/*
 * A topic name: 1 to FLEET_TOPIC_MAX bytes of printable ASCII but space
 * (0x21-0x7e) or UTF-8 beyond ASCII, so a topic is one word of the admin
 * and mux protocols and a log line stays one line.
 */
bool	fleet_topic_valid(const char *, size_t);

/* A NodeName: 1 to FLEET_NODE_MAX bytes of A-Z a-z 0-9 "_" "." "-". */
bool	fleet_node_valid(const char *, size_t);

/*
 * A ConnectionId, "NODE:N" in a fleet or "N" alone: the node (empty for
 * the second form, at most FLEET_NODE_MAX bytes, NUL-terminated into
 * node[FLEET_NODE_MAX + 1]) and the number. Returns 0, or -1 when id is
 * neither form.
 */
int	fleet_id_split(const char *id, char *node, uint64_t *num);

/*
 * The payload of a message on a topic's Redis channel: the message
 * itself, which is text (UTF-8); or, when its first byte is NUL, a second
 * byte T (text) or B (binary) and then the message. A text message that
 * starts with NUL, and every binary one, is sent with the two bytes.
 *
 * fleet_payload_head writes the bytes to put before data (0 or 2) into
 * head and returns how many. fleet_payload_parse reads a payload: returns
 * 0 with the type and the offset of the message, or -1 with *cause (a
 * static string) when the envelope is bad or a text message is not UTF-8.
 */
size_t	fleet_payload_head(enum ws_msg_type, const uint8_t *data, size_t len,
	    uint8_t head[2]);
int	fleet_payload_parse(const uint8_t *p, size_t len,
	    enum ws_msg_type *type, size_t *off, const char **cause);

/*
 * Frames between a node's master and each worker (a socket pair of
 * theirs): a 4-byte big-endian length of what follows, then the kind, the
 * message type (0 text, 1 binary; 0 for what carries no message), the
 * topic's length (one byte), the topic, and the message.
 */
enum fleet_frame_kind {
	FLEET_FRAME_SUB = 'S',		/* worker: its first subscriber */
	FLEET_FRAME_UNSUB = 'U',	/* worker: its last one left */
	FLEET_FRAME_PUB = 'P',		/* worker: a publish */
	FLEET_FRAME_MSG = 'M',		/* master: a message to deliver */
};

/* Bytes of a frame's fixed head, before the topic. */
#define FLEET_FRAME_HEAD	7

struct fleet_frame {
	enum fleet_frame_kind	 kind;
	enum ws_msg_type	 type;
	const char		*topic;		/* not NUL-terminated */
	size_t			 tlen;
	const uint8_t		*data;
	size_t			 len;
};

/*
 * Writes the head of a frame, up to and with the topic, into head (room
 * for FLEET_FRAME_HEAD + FLEET_TOPIC_MAX bytes); len bytes of message
 * follow it. Returns the head's length.
 */
size_t	fleet_frame_head(uint8_t *head, enum fleet_frame_kind,
	    enum ws_msg_type, const char *topic, size_t tlen, size_t len);

/*
 * Parses the frame at the front of buf (len bytes so far). Returns its
 * length with f pointing into buf; 0 when it is not complete yet; -1 on a
 * bad frame with *cause (static): an unknown kind or type, a bad topic,
 * a length past FLEET_MSG_MAX.
 */
ssize_t	fleet_frame_parse(const uint8_t *buf, size_t len,
	    struct fleet_frame *f, const char **cause);

/*
 * Messages on a node's own Redis channel: a request, "Q ID FROM LINE", an
 * admin command line for that node from node FROM, and the reply, "A ID
 * TEXT", the admin reply (its status line, data lines and the empty line)
 * sent to the requester's channel. ID is a decimal number the requester
 * chose.
 */
struct fleet_nodemsg {
	char		 kind;			/* 'Q' or 'A' */
	uint64_t	 id;
	char		 from[FLEET_NODE_MAX + 1];	/* Q only */
	const char	*text;			/* not NUL-terminated */
	size_t		 len;
};

/*
 * Parses a message of a node's channel. Returns 0, or -1 when it is not
 * one (a request's line must hold no CR, LF or NUL and fit an admin
 * line, FLEET_LINE_MAX).
 */
#define FLEET_LINE_MAX		4096
int	fleet_nodemsg_parse(const uint8_t *p, size_t len,
	    struct fleet_nodemsg *m);

#endif
