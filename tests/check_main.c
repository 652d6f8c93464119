/* check_main.c - runs every unit test suite. */
#include <stdlib.h>

#include "check_suites.h"

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(make_utf8_suite());
	srunner_add_suite(sr, make_frame_suite());
	srunner_add_suite(sr, make_session_suite());
	srunner_add_suite(sr, make_handshake_suite());
	srunner_add_suite(sr, make_config_suite());
	srunner_add_suite(sr, make_deflate_suite());
	srunner_add_suite(sr, make_admin_suite());
	srunner_add_suite(sr, make_tls_suite());
	srunner_add_suite(sr, make_sdnotify_suite());
	srunner_add_suite(sr, make_proxy_suite());
	srunner_add_suite(sr, make_framed_suite());
	srunner_add_suite(sr, make_muxproto_suite());
	srunner_add_suite(sr, make_admit_suite());
	srunner_add_suite(sr, make_spawn_suite());
	srunner_add_suite(sr, make_log_suite());
	srunner_add_suite(sr, make_clients_suite());
	srunner_add_suite(sr, make_fleet_suite());
	srunner_add_suite(sr, make_nametab_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
