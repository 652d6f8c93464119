/* check_tls.c - the [ssl] name mappings and the checks of tls_ctx_new. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "check_suites.h"
#include "conf/config.h"
#include "conf/tls.h"
#include "conf/tls-names.h"

/* Collects tls_ctx_new's reports as "Key: message\n" lines. */
struct errs {
	char	text[4096];
	int	n;
};

/* tls_error_fn for the tests. */
static void
collect(void *arg, const char *key, const char *msg)
{
	struct errs	*e = arg;
	size_t		 len = strlen(e->text);

	snprintf(e->text + len, sizeof(e->text) - len, "%s: %s\n",
	    key != NULL ? key : "-", msg);
	e->n++;
}

/* Takes a cause a call set, for the next call; returns it for checking. */
static char *
take(char **cause)
{
	static char	 last[512];

	ck_assert_ptr_nonnull(*cause);
	snprintf(last, sizeof(last), "%s", *cause);
	free(*cause);
	*cause = NULL;
	return last;
}

START_TEST(test_protocols)
{
	char	*cause = NULL;

	ck_assert_int_eq(tls_protocols_check(TLS_PROTO_DEFAULT, &cause), 0);
	ck_assert_int_eq(TLS_PROTO_DEFAULT, 15360);
	ck_assert_int_eq(tls_protocols_check(3072, &cause), 0);
	ck_assert_int_eq(tls_protocols_check(12288, &cause), 0);
	ck_assert_int_eq(tls_protocols_check(192 | 768, &cause), 0);
	/* One bit of a pair is enough, as in the reference. */
	ck_assert_int_eq(tls_protocols_check(4096, &cause), 0);
	ck_assert_ptr_null(cause);

	ck_assert_int_eq(tls_protocols_check(48, &cause), -1);
	ck_assert_str_eq(take(&cause), "48 enables SSL3, which OpenSSL 3 does "
	    "not offer and which are broken (use TLS1.2 3072 and TLS1.3 "
	    "12288)");
	ck_assert_int_eq(tls_protocols_check(3072 | 12, &cause), -1);
	ck_assert_str_eq(take(&cause), "3084 enables SSL2, which OpenSSL 3 "
	    "does not offer and which are broken (use TLS1.2 3072 and TLS1.3 "
	    "12288)");
	ck_assert_int_eq(tls_protocols_check(60, &cause), -1);
	ck_assert_ptr_nonnull(strstr(take(&cause), "enables SSL2 and SSL3,"));
	ck_assert_int_eq(tls_protocols_check(16384, &cause), -1);
	ck_assert_str_eq(take(&cause), "16384 has unknown bits (TLS1.3 12288, "
	    "TLS1.2 3072, TLS1.1 768, TLS1 192)");
	ck_assert_int_eq(tls_protocols_check(3, &cause), -1);
	take(&cause);
	ck_assert_int_eq(tls_protocols_check(0, &cause), -1);
	ck_assert_str_eq(take(&cause), "0 enables no protocol");
	/* The caller may not want the cause. */
	ck_assert_int_eq(tls_protocols_check(0, NULL), -1);
}
END_TEST

START_TEST(test_cipher_names)
{
	char	*cause = NULL, *l12, *l13;

	ck_assert_int_eq(tls_cipher_lists("*", &l12, &l13, &cause), 0);
	ck_assert_ptr_null(l12);
	ck_assert_ptr_null(l13);
	ck_assert_int_eq(tls_cipher_lists("  * ", &l12, &l13, &cause), 0);
	ck_assert_ptr_null(l12);

	ck_assert_int_eq(tls_cipher_lists("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
	    &l12, &l13, &cause), 0);
	ck_assert_str_eq(l12, "ECDHE-RSA-AES128-GCM-SHA256");
	ck_assert_str_eq(l13, "");
	free(l12);
	free(l13);

	/* Every separator the reference and OpenSSL use; order is kept. */
	ck_assert_int_eq(tls_cipher_lists("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;"
	    "tls_aes_128_gcm_sha256, TLS_RSA_WITH_AES_128_CBC_SHA:"
	    "ECDHE-ECDSA-CHACHA20-POLY1305 TLS_CHACHA20_POLY1305_SHA256", &l12,
	    &l13, &cause), 0);
	ck_assert_str_eq(l12, "ECDHE-ECDSA-AES256-GCM-SHA384:AES128-SHA:"
	    "ECDHE-ECDSA-CHACHA20-POLY1305");
	ck_assert_str_eq(l13, "TLS_AES_128_GCM_SHA256:"
	    "TLS_CHACHA20_POLY1305_SHA256");
	free(l12);
	free(l13);

	ck_assert_int_eq(tls_cipher_lists("TLS_AES_256_GCM_SHA384", &l12, &l13,
	    &cause), 0);
	ck_assert_str_eq(l12, "");
	ck_assert_str_eq(l13, "TLS_AES_256_GCM_SHA384");
	free(l12);
	free(l13);
	ck_assert_ptr_null(cause);

	ck_assert_int_eq(tls_cipher_lists("TLS_AES_256_GCM_SHA384;"
	    "TLS_NOPE_WITH_NOTHING", &l12, &l13, &cause), -1);
	ck_assert_str_eq(take(&cause), "unknown cipher suite "
	    "\"TLS_NOPE_WITH_NOTHING\"");
	ck_assert_ptr_null(l12);
	ck_assert_ptr_null(l13);
	ck_assert_int_eq(tls_cipher_lists("TLS_NOPE", &l12, &l13, NULL), -1);
}
END_TEST

START_TEST(test_group_and_sigalg_names)
{
	char	*l;

	l = tls_groups_list("ecdhe_x25519,ecdhe_x448,ecdhe_secp256r1,"
	    "ecdhe_secp384r1,ecdhe_secp521r1,ffdhe_2048,ffdhe_8192");
	ck_assert_str_eq(l, "X25519:X448:P-256:P-384:P-521:ffdhe2048:"
	    "ffdhe8192");
	free(l);
	l = tls_groups_list(" P-256 ; x25519 ");
	ck_assert_str_eq(l, "P-256:x25519");
	free(l);
	l = tls_groups_list("");
	ck_assert_str_eq(l, "");
	free(l);

	l = tls_sigalgs_list("rsa_pss_sha256,rsa_pkcs1_sha384,"
	    "ecdsa_secp256r1_sha256,ed25519");
	ck_assert_str_eq(l, "rsa_pss_rsae_sha256:rsa_pss_pss_sha256:"
	    "rsa_pkcs1_sha384:ecdsa_secp256r1_sha256:ed25519");
	free(l);
	l = tls_sigalgs_list("sha256-rsa,sha1-ecdsa,sha512-dsa");
	ck_assert_str_eq(l, "RSA+SHA256:ECDSA+SHA1:DSA+SHA512");
	free(l);
}
END_TEST

START_TEST(test_defaults_check_clean)
{
	struct config	*cfg = config_defaults();
	struct errs	 e;

	memset(&e, 0, sizeof(e));
	/* UseSSL off: every setting is checked, nothing is built. */
	ck_assert_ptr_null(tls_ctx_new(cfg, "/", collect, &e));
	ck_assert_str_eq(e.text, "");
	ck_assert_int_eq(cfg->ssl_enabled_protocols, TLS_PROTO_DEFAULT);
	config_free(cfg);
}
END_TEST

START_TEST(test_ctx_errors)
{
	struct config	*cfg = config_defaults();
	struct errs	 e;

	memset(&e, 0, sizeof(e));
	cfg->use_ssl = true;
	ck_assert_ptr_null(tls_ctx_new(cfg, "/", collect, &e));
	ck_assert_str_eq(e.text, "UseSSL: UseSSL is on but SSLCert names no "
	    "certificate\n");

	memset(&e, 0, sizeof(e));
	cfg->use_ssl = false;
	cfg->ssl_enabled_protocols = 3072;
	free(cfg->ssl_cipher_suites);
	cfg->ssl_cipher_suites = strdup("TLS_AES_128_GCM_SHA256");
	free(cfg->tls12_groups);
	cfg->tls12_groups = strdup("ecdhe_secp256r1,bogus");
	free(cfg->ssl_authenticate_clients);
	cfg->ssl_authenticate_clients = strdup("sometimes");
	cfg->dh_group_bits = 1536;
	ck_assert_ptr_null(tls_ctx_new(cfg, "/", collect, &e));
	ck_assert_str_eq(e.text,
	    "SSLEnabledCipherSuites: no suite left for the protocols of "
	    "SSLEnabledProtocols\n"
	    "TLS12SupportedGroups: unknown name \"bogus\"\n"
	    "PreferredDHGroupBits: 1536: use 2048, 3072, 4096, 6144 or 8192 "
	    "(the RFC 7919 groups)\n"
	    "SSLAuthenticateClients: invalid value \"sometimes\" (use False, "
	    "True, required, optional or request)\n");
	ck_assert_int_eq(e.n, 4);

	memset(&e, 0, sizeof(e));
	cfg->ssl_enabled_protocols = TLS_PROTO_DEFAULT;
	free(cfg->ssl_cipher_suites);
	cfg->ssl_cipher_suites = strdup("*");
	free(cfg->tls12_groups);
	cfg->tls12_groups = strdup("");
	free(cfg->ssl_authenticate_clients);
	cfg->ssl_authenticate_clients = strdup("No");
	cfg->dh_group_bits = 4096;
	free(cfg->ssl_cert_store_type);
	cfg->ssl_cert_store_type = strdup("cstJKSFile");
	ck_assert_ptr_null(tls_ctx_new(cfg, "/", collect, &e));
	ck_assert_str_eq(e.text, "SSLCertStoreType: JKSFile: Java only; "
	    "convert it to PKCS#12 with keytool and use PFXFile\n");
	config_free(cfg);
}
END_TEST

Suite *
make_tls_suite(void)
{
	Suite	*s = suite_create("tls");
	TCase	*tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_protocols);
	tcase_add_test(tc, test_cipher_names);
	tcase_add_test(tc, test_group_and_sigalg_names);
	tcase_add_test(tc, test_defaults_check_clean);
	tcase_add_test(tc, test_ctx_errors);
	suite_add_tcase(s, tc);
	return s;
}
