/*
 * tls-names.h - the [ssl] values that name protocols, cipher suites,
 * groups and signature algorithms, mapped from the reference's names to
 * OpenSSL's. Used by tls.c when it builds the context, and by the tests.
 */
#ifndef TLS_NAMES_H
#define TLS_NAMES_H

#include <stddef.h>

/* SSLEnabledProtocols bits, as the reference numbers them. */
#define TLS_PROTO_TLS13		12288
#define TLS_PROTO_TLS12		3072
#define TLS_PROTO_TLS11		768
#define TLS_PROTO_TLS1		192
#define TLS_PROTO_SSL3		48
#define TLS_PROTO_SSL2		12
/* Our default: TLS 1.2 and 1.3 (the reference's server default is 3072). */
#define TLS_PROTO_DEFAULT	(TLS_PROTO_TLS13 | TLS_PROTO_TLS12)

/*
 * SSLEnabledCipherSuites "*" (the default) for TLS 1.2: Mozilla's
 * "intermediate" configuration (v5.7), ECDHE and DHE with AES-GCM and
 * ChaCha20-Poly1305 only. TLS 1.3 keeps OpenSSL's defaults.
 */
#define TLS_DEFAULT_CIPHERS						\
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"	\
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"	\
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"	\
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:"		\
	"DHE-RSA-CHACHA20-POLY1305"

/*
 * Causes follow base/error.h: malloc'd, set when cause is not NULL.
 * tls_protocols_check: 0 if bits (SSLEnabledProtocols) is usable, else -1
 * with *cause (SSL2/SSL3, unknown bits, nothing enabled).
 * tls_cipher_lists: maps SSLEnabledCipherSuites ("*", or names separated
 * by ";", "," or ":": the reference's TLS_ECDHE_RSA_WITH_... names, or
 * OpenSSL's) to OpenSSL's TLS 1.2 cipher list and TLS 1.3 suite list
 * (malloc'd, "" when none of that kind was named, NULL for "*"). Returns
 * 0, or -1 with *cause naming the first unknown suite.
 * tls_groups_list / tls_sigalgs_list: map the reference's group names
 * (ecdhe_secp256r1, ffdhe_2048...) and signature algorithm names
 * (rsa_pss_sha256, sha256-rsa...) to an OpenSSL list; names they do not
 * know pass through as OpenSSL names. Malloc'd.
 */
int		 tls_protocols_check(int bits, char **cause);
int		 tls_cipher_lists(const char *spec, char **tls12, char **tls13,
		    char **cause);
char		*tls_groups_list(const char *spec);
char		*tls_sigalgs_list(const char *spec);

#endif
