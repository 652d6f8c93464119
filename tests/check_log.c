/* check_log.c - tests of the log's escaping and field masking (base/log.c). */
#include <stdio.h>
#include <string.h>

#include "check_suites.h"
#include "base/log.h"

/* Escapes s and compares with want. */
static void
expect_escape(const char *s, size_t len, const char *want)
{
	char	 out[256];
	size_t	 n, taken;

	n = log_escape(s, len, out, sizeof out - 1, &taken);
	out[n] = '\0';
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(taken, len);
}

START_TEST(test_escape)
{
	expect_escape("plain text 123", 14, "plain text 123");
	/* C0, DEL, the tab and line ends. */
	expect_escape("a\nb\r\tc\x1b[2J\x7f", 11,
	    "a\\x0ab\\x0d\\x09c\\x1b[2J\\x7f");
	expect_escape("nul\0x", 5, "nul\\x00x");
	/* 8-bit C1 bytes (not UTF-8) and C1 code points (U+0080-U+009F). */
	expect_escape("\x9b" "31m", 4, "\\x9b31m");
	expect_escape("\xc2\x9b" "31m", 5, "\\xc2\\x9b31m");
	expect_escape("\xc2\x80\xc2\x9f", 4, "\\xc2\\x80\\xc2\\x9f");
	/* Printable UTF-8 stays: U+00A0, e acute, the euro, an emoji. */
	expect_escape("\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 11,
	    "\xc2\xa0\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* Line separators and bidi controls. */
	expect_escape("a\xe2\x80\xa8" "b\xe2\x80\xae" "c\xe2\x81\xa6", 12,
	    "a\\xe2\\x80\\xa8b\\xe2\\x80\\xaec\\xe2\\x81\\xa6");
	/* Not UTF-8: overlong, surrogate, cut short, lone continuation. */
	expect_escape("\xc0\xaf", 2, "\\xc0\\xaf");
	expect_escape("\xed\xa0\x80", 3, "\\xed\\xa0\\x80");
	expect_escape("\xe2\x82", 2, "\\xe2\\x82");
	expect_escape("\xbf", 1, "\\xbf");
	expect_escape("\xf4\x90\x80\x80", 4, "\\xf4\\x90\\x80\\x80");
	/* A backslash is printable. */
	expect_escape("a\\x41", 5, "a\\x41");
	expect_escape("", 0, "");
}
END_TEST

START_TEST(test_escape_bounded)
{
	char	 out[16];
	size_t	 n, taken;

	/* Escapes and characters are never cut. */
	n = log_escape("ab\x1b" "cd", 5, out, 5, &taken);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(taken, 2);
	n = log_escape("ab\x1b" "cd", 5, out, 6, &taken);
	ck_assert_uint_eq(n, 6);
	ck_assert_uint_eq(taken, 3);
	ck_assert_int_eq(memcmp(out, "ab\\x1b", 6), 0);
	n = log_escape("a\xc3\xa9", 3, out, 2, &taken);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(taken, 1);
	n = log_escape("\xc2\x9b", 2, out, 7, &taken);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(taken, 0);
	ck_assert_uint_eq(log_escape("x", 1, out, 0, NULL), 0);
}
END_TEST

START_TEST(test_printable)
{
	unsigned int	cp = 0;

	ck_assert(log_printable(' '));
	ck_assert(log_printable(0xa0));
	ck_assert(!log_printable(0x9b));
	ck_assert(!log_printable(0x7f));
	ck_assert(!log_printable(0x2029));
	ck_assert(!log_printable(0x202e));
	ck_assert(!log_printable(0x2069));
	ck_assert(log_printable(0x206a));
	ck_assert_uint_eq(log_printable_len("\\", 1), 1);
	ck_assert_uint_eq(log_printable_len("\x1b", 1), 0);
	ck_assert_uint_eq(log_printable_len("\xc3\xa9x", 3), 2);
	ck_assert_uint_eq(log_utf8_char("\xe2\x80\xae", 3, &cp), 3);
	ck_assert_uint_eq(cp, 0x202e);
	ck_assert_uint_eq(log_utf8_char("\xe0\x80\x80", 3, &cp), 0);
}
END_TEST

/* Masks uri and compares with want. */
static void
expect_mask(const char *uri, const char *want)
{
	char	 out[256];
	size_t	 n;

	n = log_mask_uri(uri, out, sizeof out);
	ck_assert_str_eq(out, want);
	ck_assert_uint_eq(n, strlen(want));
}

START_TEST(test_mask_uri)
{
	char	 out[16];

	log_set_mask(true, "token,access_token, password ,key");
	expect_mask("/chat?token=abc&x=1", "/chat?token=***&x=1");
	expect_mask("/a?x=1&Access_Token=s3cr3t#frag",
	    "/a?x=1&Access_Token=***#frag");
	expect_mask("/a?password=&key=k", "/a?password=***&key=***");
	expect_mask("/a?tokens=1&mytoken=2&token",
	    "/a?tokens=1&mytoken=2&token");
	expect_mask("/a?x=token=1", "/a?x=token=1");
	/* Spellings a search of the text missed: decoded names, ";", "[]". */
	expect_mask("/a?%74oken=s3cret&x=1", "/a?%74oken=***&x=1");
	expect_mask("/a?%54%4F%4B%45%4E=s3cret", "/a?%54%4F%4B%45%4E=***");
	expect_mask("/a?x=1;token=s3cret;y=2", "/a?x=1;token=***;y=2");
	expect_mask("/a?token[]=s3cret&token[x]=s4", "/a?token[]=***&token[x]=***");
	expect_mask("/a?access%5Ftoken=s3", "/a?access%5Ftoken=***");
	expect_mask("/a?pass+word=s3", "/a?pass+word=s3");
	/* Path parameters (";jsessionid=" style). */
	expect_mask("/app;token=s3cret/x?y=1", "/app;token=***/x?y=1");
	expect_mask("/app;v=2/x", "/app;v=2/x");
	/* Nothing else moves: a header name in a path is just text. */
	expect_mask("/nope/Cookie:x", "/nope/Cookie:x");
	expect_mask("/a/Authorization: b", "/a/Authorization: b");
	expect_mask("", "");
	/* Bounded by the output size, never a partial value. */
	ck_assert_uint_eq(log_mask_uri("/a?token=abcdef", out, 9), 8);
	ck_assert_str_eq(out, "/a?token");
	ck_assert_uint_eq(log_mask_uri("/a?token=abcdef", out, 12), 9);
	ck_assert_str_eq(out, "/a?token=");
	ck_assert_uint_eq(log_mask_uri("/a?token=abcdef", out, sizeof out),
	    12);
	ck_assert_str_eq(out, "/a?token=***");
	ck_assert(log_mask_header("AUTHORIZATION"));
	ck_assert(log_mask_header("proxy-authorization"));
	ck_assert(log_mask_header("set-cookie"));
	ck_assert(log_mask_header("Cookie"));
	ck_assert(!log_mask_header("X-Cookie"));
	ck_assert(!log_mask_header("Host"));
	log_set_mask(true, "sid");
	expect_mask("/a?token=1&sid=2", "/a?token=1&sid=***");
	ck_assert_str_eq(log_uri("/b?sid=9"), "/b?sid=***");
	ck_assert_str_eq(log_uri(NULL), "-");
	log_set_mask(false, "");
	ck_assert(!log_mask_on());
	expect_mask("/a?token=visible", "/a?token=visible");
	ck_assert_str_eq(log_uri("/a?sid=1"), "/a?sid=1");
	log_set_mask(true, "token,access_token,password,key");
	ck_assert(log_mask_on());
}
END_TEST

Suite *
make_log_suite(void)
{
	Suite	*s = suite_create("log");
	TCase	*tc;

	tc = tcase_create("Core");
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_escape_bounded);
	tcase_add_test(tc, test_printable);
	tcase_add_test(tc, test_mask_uri);
	suite_add_tcase(s, tc);
	return s;
}
