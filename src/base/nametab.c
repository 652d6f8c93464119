/* nametab.c - a hash table of named entries; see nametab.h. */
#include <stdlib.h>
#include <string.h>

#include "base/nametab.h"
#include "base/util.h"

/* The bucket a name falls in (the table has buckets). */
static struct name_bucket *
nametab_bucket(const struct nametab *nt, const char *name, size_t len)
{
	return &nt->buckets[util_hash(name, len) & (nt->nbuckets - 1)];
}

/* The entry of a name, or NULL. */
struct name_entry *
nametab_find(const struct nametab *nt, const char *name, size_t len)
{
	struct name_entry	*e;

	if (nt->nbuckets == 0)
		return NULL;
	LIST_FOREACH(e, nametab_bucket(nt, name, len), link) {
		if (e->len == len && memcmp(e->name, name, len) == 0)
			return e;
	}
	return NULL;
}

/* Doubles the buckets (64 at first), moving every entry. */
static void
nametab_grow(struct nametab *nt)
{
	struct nametab		 bigger;
	struct name_entry	*e;
	size_t			 i;

	bigger.nbuckets = nt->nbuckets == 0 ? 64 : nt->nbuckets * 2;
	bigger.buckets = xcalloc(bigger.nbuckets, sizeof(*bigger.buckets));
	for (i = 0; i < bigger.nbuckets; i++)
		LIST_INIT(&bigger.buckets[i]);
	for (i = 0; i < nt->nbuckets; i++) {
		while ((e = LIST_FIRST(&nt->buckets[i])) != NULL) {
			LIST_REMOVE(e, link);
			LIST_INSERT_HEAD(nametab_bucket(&bigger, e->name,
			    e->len), e, link);
		}
	}
	free(nt->buckets);
	nt->buckets = bigger.buckets;
	nt->nbuckets = bigger.nbuckets;
}

/* Adds an entry; the table doubles when it averages two a bucket. */
void
nametab_add(struct nametab *nt, struct name_entry *e)
{
	if (nt->n + 1 > 2 * nt->nbuckets)
		nametab_grow(nt);
	LIST_INSERT_HEAD(nametab_bucket(nt, e->name, e->len), e, link);
	nt->n++;
}

/* Takes an entry out; the last one out frees the buckets. */
void
nametab_remove(struct nametab *nt, struct name_entry *e)
{
	LIST_REMOVE(e, link);
	if (--nt->n == 0) {
		free(nt->buckets);
		nt->buckets = NULL;
		nt->nbuckets = 0;
	}
}

/* The first entry of bucket i or a later one, or NULL. */
static struct name_entry *
nametab_from(const struct nametab *nt, size_t i)
{
	for (; i < nt->nbuckets; i++) {
		if (!LIST_EMPTY(&nt->buckets[i]))
			return LIST_FIRST(&nt->buckets[i]);
	}
	return NULL;
}

/* The first entry, or NULL. */
struct name_entry *
nametab_first(const struct nametab *nt)
{
	return nametab_from(nt, 0);
}

/* The entry after e, or NULL. */
struct name_entry *
nametab_next(const struct nametab *nt, const struct name_entry *e)
{
	if (LIST_NEXT(e, link) != NULL)
		return LIST_NEXT(e, link);
	return nametab_from(nt, (util_hash(e->name, e->len) &
	    (nt->nbuckets - 1)) + 1);
}
