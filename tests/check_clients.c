/* check_clients.c - tests of the per-client table (event/clients.c). */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "event/clients.h"

#define SEC	1000000ULL

/* A table of capacity addresses for n workers (free() it). */
static struct clients *
table(unsigned int capacity, int n)
{
	void		*mem = calloc(1, clients_size(capacity, n));
	struct clients	*t;

	ck_assert_ptr_nonnull(mem);
	t = clients_init(mem, capacity, n, 12345);
	ck_assert_ptr_eq(t, mem);
	return t;
}

/* The key of a numeric address with a /64 for IPv6. */
static struct clients_key
key(const char *addr)
{
	struct clients_key	k;

	ck_assert_int_eq(clients_key_str(addr, 64, &k), 0);
	return k;
}

static enum clients_verdict
admit(struct clients *t, const char *addr, int w,
    const struct clients_limits *lim, unsigned long long now,
    struct clients_refusal *r)
{
	struct clients_key	k = key(addr);

	return clients_admit(t, &k, w, lim, now, r);
}

START_TEST(test_keys)
{
	struct sockaddr_in	 s4;
	struct sockaddr_in6	 s6;
	struct clients_key	 a, b;

	memset(&s4, 0, sizeof(s4));
	s4.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &s4.sin_addr);
	ck_assert_int_eq(clients_key_sa((struct sockaddr *)&s4, 64, &a), 0);
	b = key("192.0.2.7");
	ck_assert_int_eq(memcmp(a.b, b.b, 16), 0);
	/* IPv4-mapped from a dual-stack socket: the same client, whole. */
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "::ffff:192.0.2.7", &s6.sin6_addr);
	ck_assert_int_eq(clients_key_sa((struct sockaddr *)&s6, 64, &a), 0);
	ck_assert_int_eq(memcmp(a.b, b.b, 16), 0);
	ck_assert_int_ne(memcmp(key("192.0.2.8").b, b.b, 16), 0);
	/* IPv6: one client per /64. */
	a = key("2001:db8:1:2::a");
	b = key("2001:db8:1:2:ffff:ffff:ffff:ffff");
	ck_assert_int_eq(memcmp(a.b, b.b, 16), 0);
	b = key("2001:db8:1:3::a");
	ck_assert_int_ne(memcmp(a.b, b.b, 16), 0);
	inet_pton(AF_INET6, "2001:db8:1:2:abcd::1", &s6.sin6_addr);
	ck_assert_int_eq(clients_key_sa((struct sockaddr *)&s6, 64, &b), 0);
	ck_assert_int_eq(memcmp(a.b, b.b, 16), 0);
	/* Other prefixes. */
	ck_assert_int_eq(clients_key_str("2001:db8:1:2::a", 128, &a), 0);
	ck_assert_int_eq(clients_key_str("2001:db8:1:2::b", 128, &b), 0);
	ck_assert_int_ne(memcmp(a.b, b.b, 16), 0);
	ck_assert_int_eq(clients_key_str("2001:db8:1:2ff::", 56, &a), 0);
	ck_assert_int_eq(clients_key_str("2001:db8:1:200::", 56, &b), 0);
	ck_assert_int_eq(memcmp(a.b, b.b, 16), 0);
	ck_assert_int_eq(clients_key_str("2001:db8:1:300::", 56, &b), 0);
	ck_assert_int_ne(memcmp(a.b, b.b, 16), 0);
	ck_assert_int_eq(clients_key_str("::1", 1, &a), 0);
	ck_assert_int_eq(clients_key_str("7fff::", 1, &b), 0);
	ck_assert_int_eq(memcmp(a.b, b.b, 16), 0);
	ck_assert_int_eq(clients_key_str("not an address", 64, &a), -1);
	s4.sin_family = AF_UNIX;
	ck_assert_int_eq(clients_key_sa((struct sockaddr *)&s4, 64, &a), -1);
}
END_TEST

START_TEST(test_max_conns)
{
	struct clients		*t = table(64, 1);
	struct clients_limits	 lim = { .max_conns = 3 };
	struct clients_refusal	 r;
	struct clients_key	 k = key("192.0.2.1");
	int			 i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, SEC, &r),
		    CLIENTS_OK);
	ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, SEC, &r),
	    CLIENTS_TOO_MANY);
	ck_assert(r.log);
	ck_assert_uint_eq(r.count, 1);
	ck_assert_uint_eq(r.conns, 3);
	/* Another address is not affected. */
	ck_assert_int_eq(admit(t, "192.0.2.2", 0, &lim, SEC, &r), CLIENTS_OK);
	ck_assert_uint_eq(clients_tracked(t), 2);
	clients_release(t, &k, 0, SEC);
	ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, SEC, &r), CLIENTS_OK);
	/* Without a rate, an address with nothing open is forgotten. */
	for (i = 0; i < 3; i++)
		clients_release(t, &k, 0, SEC);
	ck_assert_uint_eq(clients_tracked(t), 1);
	free(t);
}
END_TEST

START_TEST(test_rate)
{
	struct clients		*t = table(64, 1);
	struct clients_limits	 lim = { .rate = 10, .burst = 3 };
	struct clients_refusal	 r;
	struct clients_key	 k = key("192.0.2.1");
	unsigned long long	 now = 5 * SEC;
	int			 i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, now, &r),
		    CLIENTS_OK);
	ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, now, &r),
	    CLIENTS_TOO_FAST);
	ck_assert_uint_eq(r.retry_ms, 100);
	ck_assert_uint_eq(r.conns, 3);
	/* A token every 100 ms. */
	ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, now + 99000, &r),
	    CLIENTS_TOO_FAST);
	ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, now + 100000, &r),
	    CLIENTS_OK);
	ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, now + 100000, &r),
	    CLIENTS_TOO_FAST);
	/* After a quiet second the whole burst again. */
	now += 2 * SEC;
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, now, &r),
		    CLIENTS_OK);
	ck_assert_int_eq(admit(t, "192.0.2.1", 0, &lim, now, &r),
	    CLIENTS_TOO_FAST);
	/* burst 0 is the rate: 10 at once. */
	lim.burst = 0;
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(admit(t, "192.0.2.9", 0, &lim, now, &r),
		    CLIENTS_OK);
	ck_assert_int_eq(admit(t, "192.0.2.9", 0, &lim, now, &r),
	    CLIENTS_TOO_FAST);
	/* Released, the address stays while its bucket refills. */
	for (i = 0; i < 10; i++)
		clients_release(t, &k, 0, now);
	ck_assert_uint_eq(clients_tracked(t), 2);
	free(t);
}
END_TEST

START_TEST(test_log_once_a_second)
{
	struct clients		*t = table(64, 1);
	struct clients_limits	 lim = { .max_conns = 1 };
	struct clients_refusal	 r;
	unsigned long long	 now = 10 * SEC;
	int			 i;

	ck_assert_int_eq(admit(t, "10.0.0.1", 0, &lim, now, &r), CLIENTS_OK);
	ck_assert_int_eq(admit(t, "10.0.0.1", 0, &lim, now, &r),
	    CLIENTS_TOO_MANY);
	ck_assert(r.log && r.count == 1);
	for (i = 0; i < 5; i++) {
		ck_assert_int_eq(admit(t, "10.0.0.1", 0, &lim, now + 500000,
		    &r), CLIENTS_TOO_MANY);
		ck_assert(!r.log);
	}
	/* Another address has its own second. */
	ck_assert_int_eq(admit(t, "10.0.0.2", 0, &lim, now, &r), CLIENTS_OK);
	ck_assert_int_eq(admit(t, "10.0.0.2", 0, &lim, now, &r),
	    CLIENTS_TOO_MANY);
	ck_assert(r.log && r.count == 1);
	ck_assert_int_eq(admit(t, "10.0.0.1", 0, &lim, now + SEC, &r),
	    CLIENTS_TOO_MANY);
	ck_assert(r.log);
	ck_assert_uint_eq(r.count, 6);
	free(t);
}
END_TEST

START_TEST(test_full)
{
	struct clients		*t = table(64, 1);
	struct clients_limits	 lim = { .max_conns = 5, .rate = 1 };
	struct clients_refusal	 r;
	struct clients_key	 k;
	unsigned long long	 now = 100 * SEC;
	char			 a[32];
	int			 i;

	ck_assert_uint_eq(clients_capacity(t), 64);
	for (i = 0; i < 64; i++) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 7, i);
		ck_assert_int_eq(admit(t, a, 0, &lim, now, &r), CLIENTS_OK);
	}
	ck_assert_uint_eq(clients_tracked(t), 64);
	ck_assert_int_eq(admit(t, "10.9.9.9", 0, &lim, now, &r), CLIENTS_FULL);
	ck_assert(r.log && r.count == 1);
	ck_assert_int_eq(admit(t, "10.9.9.8", 0, &lim, now + 1000, &r),
	    CLIENTS_FULL);
	ck_assert(!r.log);
	/* Known addresses still go (and are refused on their own terms). */
	ck_assert_int_eq(admit(t, "10.1.0.0", 0, &lim, now, &r),
	    CLIENTS_TOO_FAST);
	/* Half of them leave; their buckets refill in a second. */
	for (i = 0; i < 64; i += 2) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 7, i);
		k = key(a);
		clients_release(t, &k, 0, now);
	}
	ck_assert_uint_eq(clients_tracked(t), 64);
	ck_assert_int_eq(admit(t, "10.9.9.9", 0, &lim, now + SEC / 2, &r),
	    CLIENTS_FULL);
	/* Now they are idle: a sweep makes room (at most every 100 ms). */
	ck_assert_int_eq(admit(t, "10.9.9.9", 0, &lim, now + 2 * SEC, &r),
	    CLIENTS_OK);
	ck_assert_uint_eq(clients_tracked(t), 33);
	/* The others are all still there, with their counts. */
	for (i = 1; i < 64; i += 2) {
		snprintf(a, sizeof(a), "10.1.%d.%d", i / 7, i);
		ck_assert_int_eq(admit(t, a, 0, &lim, now + 2 * SEC, &r),
		    CLIENTS_OK);
		ck_assert_int_eq(admit(t, a, 0, &lim, now + 2 * SEC, &r),
		    CLIENTS_TOO_FAST);
		ck_assert_uint_eq(r.conns, 2);
	}
	free(t);
}
END_TEST

START_TEST(test_workers)
{
	struct clients		*t = table(64, 3);
	struct clients_limits	 lim = { .max_conns = 4 };
	struct clients_refusal	 r;

	ck_assert_int_eq(admit(t, "10.0.0.1", 0, &lim, SEC, &r), CLIENTS_OK);
	ck_assert_int_eq(admit(t, "10.0.0.1", 1, &lim, SEC, &r), CLIENTS_OK);
	ck_assert_int_eq(admit(t, "10.0.0.1", 1, &lim, SEC, &r), CLIENTS_OK);
	ck_assert_int_eq(admit(t, "10.0.0.1", 2, &lim, SEC, &r), CLIENTS_OK);
	ck_assert_int_eq(admit(t, "10.0.0.1", 0, &lim, SEC, &r),
	    CLIENTS_TOO_MANY);
	ck_assert_uint_eq(r.conns, 4);
	/* Worker 1 dies: its two connections leave the count. */
	clients_worker_gone(t, 1);
	ck_assert_int_eq(admit(t, "10.0.0.1", 0, &lim, SEC, &r), CLIENTS_OK);
	ck_assert_int_eq(admit(t, "10.0.0.1", 2, &lim, SEC, &r), CLIENTS_OK);
	ck_assert_int_eq(admit(t, "10.0.0.1", 2, &lim, SEC, &r),
	    CLIENTS_TOO_MANY);
	free(t);
}
END_TEST

/* Deletions keep every address findable: random work against a model. */
START_TEST(test_random_against_model)
{
	struct clients		*t = table(200, 1);
	struct clients_limits	 lim = { .max_conns = 1000 };
	struct clients_refusal	 r;
	struct clients_key	 k;
	unsigned int		 open[300], live, i, j, n;
	unsigned long		 s = 1;
	char			 a[32];

	memset(open, 0, sizeof(open));
	for (n = 0; n < 200000; n++) {
		s = s * 6364136223846793005UL + 1442695040888963407UL;
		i = (unsigned int)((s >> 33) % 300);
		snprintf(a, sizeof(a), "172.16.%u.%u", i / 256, i % 256);
		k = key(a);
		if (((s >> 20) & 1) && open[i] > 0) {
			clients_release(t, &k, 0, SEC);
			open[i]--;
			continue;
		}
		live = 0;
		for (j = 0; j < 300; j++)
			live += open[j] > 0;
		if (open[i] == 0 && live >= 200) {
			ck_assert_int_eq(clients_admit(t, &k, 0, &lim, SEC, &r),
			    CLIENTS_FULL);
			continue;
		}
		ck_assert_int_eq(clients_admit(t, &k, 0, &lim, SEC, &r),
		    CLIENTS_OK);
		open[i]++;
		/* The table holds exactly the addresses with connections. */
		ck_assert_uint_eq(clients_tracked(t), live + (open[i] == 1));
	}
	free(t);
}
END_TEST

Suite *
make_clients_suite(void)
{
	Suite	*s = suite_create("clients");
	TCase	*tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_max_conns);
	tcase_add_test(tc, test_rate);
	tcase_add_test(tc, test_log_once_a_second);
	tcase_add_test(tc, test_workers);
	suite_add_tcase(s, tc);
	tc = tcase_create("Limits");
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_random_against_model);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}
