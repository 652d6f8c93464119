/* check_nametab.c - unit tests for base/nametab.c: named entries found, walked and removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "base/nametab.h"

/* A container as topics.c and fleet.c make them. */
struct item {
	int			 seen;
	struct name_entry	 ent;
	char			 name[16];
};

#define N	1000

static struct item *
items_make(struct nametab *nt)
{
	struct item	*it = calloc(N, sizeof(*it));
	int		 i;

	ck_assert_ptr_nonnull(it);
	for (i = 0; i < N; i++) {
		snprintf(it[i].name, sizeof(it[i].name), "room:%d", i);
		it[i].ent.name = it[i].name;
		it[i].ent.len = strlen(it[i].name);
		nametab_add(nt, &it[i].ent);
	}
	return it;
}

START_TEST(test_find_after_growing)
{
	struct nametab		 nt = { 0 };
	struct item		*it = items_make(&nt);
	struct name_entry	*e;
	int			 i;

	ck_assert_uint_eq(nt.n, N);
	/* Doubled as it filled: two entries a bucket at most. */
	ck_assert_uint_ge(2 * nt.nbuckets, N);
	ck_assert_uint_eq(nt.nbuckets & (nt.nbuckets - 1), 0);
	for (i = 0; i < N; i++) {
		e = nametab_find(&nt, it[i].name, strlen(it[i].name));
		ck_assert_ptr_eq(e, &it[i].ent);
		ck_assert_ptr_eq(NAMETAB_ITEM(e, struct item, ent), &it[i]);
	}
	/* A prefix, a longer name, another name: not found. */
	ck_assert_ptr_null(nametab_find(&nt, "room:1", 5));
	ck_assert_ptr_null(nametab_find(&nt, "room:1000", 9));
	ck_assert_ptr_null(nametab_find(&nt, "hall:1", 6));
	for (i = 0; i < N; i++)
		nametab_remove(&nt, &it[i].ent);
	ck_assert_uint_eq(nt.n, 0);
	ck_assert_ptr_null(nt.buckets);
	ck_assert_uint_eq(nt.nbuckets, 0);
	ck_assert_ptr_null(nametab_find(&nt, "room:1", 6));
	ck_assert_ptr_null(nametab_first(&nt));
	free(it);
}
END_TEST

/* A walk sees every entry once, removing the one it stands on or not. */
START_TEST(test_walk_and_remove)
{
	struct nametab		 nt = { 0 };
	struct item		*it = items_make(&nt), *t;
	struct name_entry	*e, *next;
	int			 i, walked = 0;

	for (e = nametab_first(&nt); e != NULL; e = nametab_next(&nt, e)) {
		NAMETAB_ITEM(e, struct item, ent)->seen++;
		walked++;
	}
	ck_assert_int_eq(walked, N);
	for (i = 0; i < N; i++)
		ck_assert_int_eq(it[i].seen, 1);
	/* Remove the even ones while walking. */
	walked = 0;
	for (e = nametab_first(&nt); e != NULL; e = next) {
		next = nametab_next(&nt, e);
		t = NAMETAB_ITEM(e, struct item, ent);
		t->seen++;
		walked++;
		if ((t - it) % 2 == 0)
			nametab_remove(&nt, e);
	}
	ck_assert_int_eq(walked, N);
	ck_assert_uint_eq(nt.n, N / 2);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(it[i].seen, 2);
		ck_assert_ptr_eq(nametab_find(&nt, it[i].name,
		    strlen(it[i].name)), i % 2 ? &it[i].ent : NULL);
	}
	/* Remove the rest while walking: the last one frees the buckets. */
	for (e = nametab_first(&nt); e != NULL; e = next) {
		next = nametab_next(&nt, e);
		nametab_remove(&nt, e);
	}
	ck_assert_uint_eq(nt.n, 0);
	ck_assert_ptr_null(nt.buckets);
	free(it);
}
END_TEST

Suite *
make_nametab_suite(void)
{
	Suite	*s = suite_create("nametab");
	TCase	*tc = tcase_create("nametab");

	tcase_add_test(tc, test_find_after_growing);
	tcase_add_test(tc, test_walk_and_remove);
	suite_add_tcase(s, tc);
	return s;
}
