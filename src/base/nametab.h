/*
 * nametab.h - a hash table of entries named by a byte string (the topics
 * of topics.c and fleet.c). Intrusive: a container embeds a struct
 * name_entry, points its name at bytes it owns and gets itself back with
 * NAMETAB_ITEM. The table doubles when it holds two entries a bucket and
 * lets its buckets go when it is empty. Owns nothing but the buckets.
 */
#ifndef NAMETAB_H
#define NAMETAB_H

#include <sys/queue.h>

#include <stddef.h>

struct name_entry {
	LIST_ENTRY(name_entry)	 link;
	const char		*name;	/* the container's bytes */
	size_t			 len;
};
LIST_HEAD(name_bucket, name_entry);

struct nametab {
	struct name_bucket	*buckets;
	size_t			 nbuckets;	/* 0 or a power of two */
	size_t			 n;
};

/* The container of type holding the name_entry e at member (e not NULL). */
#define NAMETAB_ITEM(e, type, member) \
	((type *)(void *)((char *)(e) - offsetof(type, member)))

/* The entry of a name, or NULL. */
struct name_entry	*nametab_find(const struct nametab *, const char *,
			    size_t);
/* Adds e, whose name is set and not in the table yet. */
void			 nametab_add(struct nametab *, struct name_entry *);
/* Takes e out; an empty table frees its buckets. */
void			 nametab_remove(struct nametab *, struct name_entry *);
/*
 * The first entry, and the one after e, in no particular order. A loop
 * may remove the entry it stands on once it has asked for the next one.
 */
struct name_entry	*nametab_first(const struct nametab *);
struct name_entry	*nametab_next(const struct nametab *,
			    const struct name_entry *);

#endif
