/*
 * tls-names.c - the reference's names of cipher suites, key exchange
 * groups and signature algorithms mapped to OpenSSL's, and the check of
 * SSLEnabledProtocols; see tls-names.h. Calls no other file of src/conf.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "conf/config-int.h"
#include "conf/tls-names.h"
#include "base/util.h"

/* The cipher suites that exist only in TLS 1.3 (OpenSSL uses IANA names). */
static const char *const tls13_suites[] = {
	"TLS_AES_128_GCM_SHA256",
	"TLS_AES_256_GCM_SHA384",
	"TLS_CHACHA20_POLY1305_SHA256",
	"TLS_AES_128_CCM_SHA256",
	"TLS_AES_128_CCM_8_SHA256",
};

/* A name of the reference's and OpenSSL's for it. */
struct tls_name {
	const char	*ref;
	const char	*ossl;
};

/* The reference's group names and OpenSSL's. */
static const struct tls_name tls_group_names[] = {
	{ "ecdhe_x25519", "X25519" },
	{ "ecdhe_x448", "X448" },
	{ "ecdhe_secp256r1", "P-256" },
	{ "ecdhe_secp384r1", "P-384" },
	{ "ecdhe_secp521r1", "P-521" },
	{ "ffdhe_2048", "ffdhe2048" },
	{ "ffdhe_3072", "ffdhe3072" },
	{ "ffdhe_4096", "ffdhe4096" },
	{ "ffdhe_6144", "ffdhe6144" },
	{ "ffdhe_8192", "ffdhe8192" },
};

/* TLS 1.3 signature algorithm names that OpenSSL spells otherwise. */
static const struct tls_name tls_sigalg_names[] = {
	{ "rsa_pss_sha256", "rsa_pss_rsae_sha256:rsa_pss_pss_sha256" },
	{ "rsa_pss_sha384", "rsa_pss_rsae_sha384:rsa_pss_pss_sha384" },
	{ "rsa_pss_sha512", "rsa_pss_rsae_sha512:rsa_pss_pss_sha512" },
};

/* Appends s to a malloc'd ":"-separated list. */
static void
tls_list_add(char **list, const char *s)
{
	char	*n;

	if (*list == NULL || **list == '\0') {
		free(*list);
		*list = xstrdup(s);
		return;
	}
	xasprintf(&n, "%s:%s", *list, s);
	free(*list);
	*list = n;
}

/* Calls fn on each word of spec (split at ";,:" and spaces) until it fails. */
static int
tls_words(const char *spec, int (*fn)(void *, const char *), void *arg)
{
	char	 word[128];
	size_t	 n, len;

	while (*spec != '\0') {
		while (*spec != '\0' && (strchr(";,:", *spec) != NULL ||
		    isspace((unsigned char)*spec)))
			spec++;
		if (*spec == '\0')
			break;
		for (len = 0; spec[len] != '\0' &&
		    strchr(";,:", spec[len]) == NULL &&
		    !isspace((unsigned char)spec[len]); len++)
			;
		/* A longer name is cut, and then unknown. */
		n = len < sizeof(word) ? len : sizeof(word) - 1;
		memcpy(word, spec, n);
		word[n] = '\0';
		spec += len;
		if (fn(arg, word) == -1)
			return -1;
	}
	return 0;
}

/* Checks SSLEnabledProtocols; see tls.h. */
int
tls_protocols_check(int bits, char **cause)
{
	if (bits & (TLS_PROTO_SSL2 | TLS_PROTO_SSL3)) {
		config_cause(cause, "%d enables %s, which OpenSSL 3 does not "
		    "offer and which are broken (use TLS1.2 3072 and TLS1.3 "
		    "12288)", bits, (bits & TLS_PROTO_SSL2) && (bits &
		    TLS_PROTO_SSL3) ? "SSL2 and SSL3" : (bits & TLS_PROTO_SSL2) ?
		    "SSL2" : "SSL3");
		return -1;
	}
	if (bits & ~(TLS_PROTO_TLS13 | TLS_PROTO_TLS12 | TLS_PROTO_TLS11 |
	    TLS_PROTO_TLS1 | TLS_PROTO_SSL3 | TLS_PROTO_SSL2)) {
		config_cause(cause, "%d has unknown bits (TLS1.3 12288, TLS1.2 "
		    "3072, TLS1.1 768, TLS1 192)", bits);
		return -1;
	}
	if (bits == 0) {
		config_cause(cause, "0 enables no protocol");
		return -1;
	}
	return 0;
}

/* True if name is a TLS 1.3 cipher suite. */
static bool
tls_is_tls13_suite(const char *name)
{
	size_t	i;

	for (i = 0; i < sizeof(tls13_suites) / sizeof(tls13_suites[0]); i++) {
		if (strcasecmp(name, tls13_suites[i]) == 0)
			return true;
	}
	return false;
}

/* State of tls_cipher_lists while it walks the names. */
struct tls_cipher_walk {
	char		*l12, *l13;
	SSL_CTX		*all;		/* every cipher OpenSSL has */
	char		**cause;
};

/* Maps one cipher suite name. */
static int
tls_cipher_one(void *arg, const char *name)
{
	struct tls_cipher_walk	*w = arg;
	STACK_OF(SSL_CIPHER)	*sk;
	const char		*o;
	char			 up[64];
	int			 i;

	if (tls_is_tls13_suite(name)) {
		for (i = 0; name[i] != '\0' && i < (int)sizeof(up) - 1; i++)
			up[i] = (char)toupper((unsigned char)name[i]);
		up[i] = '\0';
		tls_list_add(&w->l13, up);
		return 0;
	}
	o = OPENSSL_cipher_name(name);
	if (o != NULL && strcmp(o, "(NONE)") != 0) {
		tls_list_add(&w->l12, o);
		return 0;
	}
	/* Not an IANA name: maybe OpenSSL's own. */
	sk = SSL_CTX_get_ciphers(w->all);
	for (i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++) {
		o = SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i));
		if (strcmp(o, name) == 0) {
			tls_list_add(&w->l12, o);
			return 0;
		}
	}
	config_cause(w->cause, "unknown cipher suite \"%.64s\"", name);
	return -1;
}

/* Maps SSLEnabledCipherSuites to OpenSSL's two lists; see tls.h. */
int
tls_cipher_lists(const char *spec, char **tls12, char **tls13, char **cause)
{
	struct tls_cipher_walk	w;
	const char		*s;
	int			r;

	*tls12 = *tls13 = NULL;
	for (s = spec; isspace((unsigned char)*s); s++)
		;
	if (*s == '\0' || (*s == '*' && s[1 + strspn(s + 1, " \t")] == '\0'))
		return 0;
	memset(&w, 0, sizeof(w));
	w.cause = cause;
	if ((w.all = SSL_CTX_new(TLS_server_method())) == NULL) {
		config_cause(cause, "out of memory");
		return -1;
	}
	SSL_CTX_set_security_level(w.all, 0);
	SSL_CTX_set_cipher_list(w.all, "ALL:COMPLEMENTOFALL");
	r = tls_words(s, tls_cipher_one, &w);
	SSL_CTX_free(w.all);
	ERR_clear_error();
	if (r == -1) {
		free(w.l12);
		free(w.l13);
		return -1;
	}
	*tls12 = w.l12 != NULL ? w.l12 : xstrdup("");
	*tls13 = w.l13 != NULL ? w.l13 : xstrdup("");
	return 0;
}

/* OpenSSL's name for the reference's name (any case) in t, or NULL. */
static const char *
tls_name_find(const struct tls_name *t, size_t n, const char *name)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strcasecmp(name, t[i].ref) == 0)
			return t[i].ossl;
	}
	return NULL;
}

/* tls_words callback: one group name into an OpenSSL list. */
static int
tls_group_one(void *arg, const char *name)
{
	const char	*ossl;

	ossl = tls_name_find(tls_group_names, sizeof(tls_group_names) /
	    sizeof(tls_group_names[0]), name);
	tls_list_add(arg, ossl != NULL ? ossl : name);
	return 0;
}

/* Maps the reference's group names to an OpenSSL groups list. */
char *
tls_groups_list(const char *spec)
{
	char	*list = NULL;

	tls_words(spec, tls_group_one, &list);
	return list != NULL ? list : xstrdup("");
}

/* tls_words callback: one signature algorithm name into an OpenSSL list. */
static int
tls_sigalg_one(void *arg, const char *name)
{
	char		**list = arg;
	const char	*dash, *ossl;
	char		 buf[128];
	size_t		 i;

	if ((ossl = tls_name_find(tls_sigalg_names, sizeof(tls_sigalg_names) /
	    sizeof(tls_sigalg_names[0]), name)) != NULL) {
		tls_list_add(list, ossl);
		return 0;
	}
	/* TLS 1.2 "hash-signature" (sha256-rsa) is OpenSSL's RSA+SHA256. */
	if ((dash = strchr(name, '-')) != NULL && strncasecmp(name, "sha", 3) ==
	    0 && strchr(dash + 1, '-') == NULL) {
		snprintf(buf, sizeof(buf), "%s+%.*s", dash + 1,
		    (int)(dash - name), name);
		for (i = 0; buf[i] != '\0'; i++)
			buf[i] = (char)toupper((unsigned char)buf[i]);
		tls_list_add(list, buf);
		return 0;
	}
	tls_list_add(list, name);
	return 0;
}

/* Maps the reference's signature algorithm names to an OpenSSL list. */
char *
tls_sigalgs_list(const char *spec)
{
	char	*list = NULL;

	tls_words(spec, tls_sigalg_one, &list);
	return list != NULL ? list : xstrdup("");
}
