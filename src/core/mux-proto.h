/* mux-proto.h - the mux backend's commands (wsserverd(8), MUX PROTOCOL) parsed from bytes; no I/O. */
#ifndef MUX_PROTO_H
#define MUX_PROTO_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ws-session.h"

/* Longest command line, its "\n" not counted (a "\r" before it is). */
#define MUX_LINE_MAX	256
/* Largest payload of one command. */
#define MUX_PAYLOAD_MAX	(1024 * 1024)
/* Room for a WebSocket's id, its NUL included. */
#define MUX_ID_MAX	64

/* The commands a backend sends. */
enum mux_cmd {
	MUX_CMD_ACCEPT,		/* accept ID [LEN]: payload = header lines */
	MUX_CMD_REJECT,		/* reject ID STATUS [LEN]: the same */
	MUX_CMD_SEND,		/* send ID TYPE LEN */
	MUX_CMD_CLOSE,		/* close ID CODE LEN: payload = reason */
	MUX_CMD_PING,		/* ping ID LEN */
	MUX_CMD_LINEMODE,	/* linemode ID 0|1 */
	MUX_CMD_CONFIG,		/* config ID KEY[=VALUE] */
	MUX_CMD_BROADCAST,	/* broadcast T|B LEN */
	MUX_CMD_SUBSCRIBE,	/* subscribe ID TOPIC */
	MUX_CMD_UNSUBSCRIBE,	/* unsubscribe ID TOPIC */
	MUX_CMD_PUBLISH,	/* publish T|B TOPIC LEN */
};

/* One command, checked: every field is in range for its command. */
struct mux_rec {
	enum mux_cmd	 cmd;
	/*
	 * The WebSocket's id; "" for broadcast and publish, and for an id too long to
	 * be one of ours (it matches no WebSocket, like an id that left).
	 */
	char		 id[MUX_ID_MAX];
	enum ws_msg_type type;		/* send, broadcast */
	bool		 last;		/* send: T or B (broadcast: true) */
	int		 code;		/* reject: 400-599; close: 1000-4999 */
	bool		 line_mode;	/* linemode */
	char		 word[MUX_LINE_MAX + 1];	/* config: KEY[=VALUE];
							   (un)subscribe, publish:
							   the topic */
	size_t		 len;		/* payload bytes after the line */
	const uint8_t	*payload;	/* mux_proto_parse: into its buf */
};

/*
 * Parses the command line at the front of buf (len bytes so far; only the
 * first MUX_LINE_MAX + 1 are looked at). Words are separated by spaces; a
 * "\r" before the "\n" is ignored. Returns the length of the line, its
 * "\n" included, with rec filled but for payload (rec->len bytes of
 * payload follow the line); 0 when the line is not complete yet; -1 on a
 * protocol error with *cause set: "command line too long", "bad command
 * line" (the words or the length cannot be read), "bad command" (an
 * unknown command, or an argument out of range).
 */
ssize_t	mux_proto_line(const uint8_t *buf, size_t len, struct mux_rec *rec,
	    const char **cause);

/*
 * Parses one whole command, its line and its payload, at the front of
 * buf. Returns the bytes it takes, with rec filled and rec->payload
 * pointing into buf; 0 when more bytes are needed; -1 on a protocol error
 * with *cause set, as mux_proto_line.
 */
ssize_t	mux_proto_parse(const uint8_t *buf, size_t len, struct mux_rec *rec,
	    const char **cause);

#endif
